//! The `webhook` function (HTTP API): Meta's handshake and signed POSTs, answered 200
//! only once the payload is on SQS.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pitchside_lambdas::serve_http(
        pitchside_http::routes::webhook_router,
        pitchside_lambdas::wants::WEBHOOK,
        false,
    )
    .await
}
