//! The `sse` function (Function URL, `InvokeMode: RESPONSE_STREAM`): replays the
//! organization's log after the client's id, then polls it for new events, with
//! heartbeats, and ends the stream on purpose before the function's time limit (the
//! browser reconnects and resumes from its last id).

use lambda_http::Error;
use tower::ServiceBuilder;

#[tokio::main]
async fn main() -> Result<(), Error> {
    pitchside_lambdas::logging::init();
    let state = pitchside_lambdas::http_state().await?;
    let app = ServiceBuilder::new()
        .map_request(pitchside_lambdas::with_lambda_request_id)
        .service(pitchside_http::routes::sse_router(state));
    lambda_http::run_with_streaming_response(app).await
}
