//! The `webhook` function (HTTP API): Meta's handshake and signed POSTs, answered 200
//! only once the payload is on SQS.

use lambda_http::Error;
use tower::ServiceBuilder;

#[tokio::main]
async fn main() -> Result<(), Error> {
    pitchside_lambdas::logging::init();
    let state = pitchside_lambdas::http_state().await?;
    let app = ServiceBuilder::new()
        .map_request(pitchside_lambdas::with_lambda_request_id)
        .service(pitchside_http::routes::webhook_router(state));
    lambda_http::run(app).await
}
