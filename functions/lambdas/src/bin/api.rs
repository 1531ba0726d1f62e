//! The `api` function (HTTP API): tickets, catch-up and administration.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pitchside_lambdas::serve_http(
        pitchside_http::routes::api_router,
        pitchside_lambdas::wants::API,
        false,
    )
    .await
}
