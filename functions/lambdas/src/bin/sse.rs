//! The `sse` function (Function URL, `InvokeMode: RESPONSE_STREAM`): replays the
//! organization's log after the client's id, then polls it for new events, with
//! heartbeats, and ends the stream on purpose before the function's time limit (the
//! browser reconnects and resumes from its last id).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pitchside_lambdas::serve_http(
        pitchside_http::routes::sse_router,
        pitchside_lambdas::wants::SSE,
        true,
    )
    .await
}
