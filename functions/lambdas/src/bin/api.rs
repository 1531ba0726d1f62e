//! The `api` function (HTTP API): tickets, catch-up and administration.

use lambda_http::Error;
use tower::ServiceBuilder;

#[tokio::main]
async fn main() -> Result<(), Error> {
    pitchside_lambdas::logging::init();
    let state = pitchside_lambdas::http_state().await?;
    let app = ServiceBuilder::new()
        .map_request(pitchside_lambdas::with_lambda_request_id)
        .service(pitchside_http::routes::api_router(state));
    lambda_http::run(app).await
}
