//! A stopped gateway (SIGTERM, as a deploy, `docker stop` or systemd sends it) with
//! viewers on SSE and WebSocket ends every stream the way clients come back from, and
//! exits 0, instead of waiting for its kill timeout.

use futures_util::StreamExt;
use pitchside_tests::*;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const PHONE: &str = "444000777";
const WA: &str = "919800000777";

/// The bound: a stop ends within 5 s.
const STOP_WITHIN: Duration = Duration::from_secs(5);

both_modes!(sigterm_ends_open_streams_and_exits_cleanly);
async fn sigterm_ends_open_streams_and_exits_cleanly(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-t", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-t", "admin-org-t", &["viewer"]);
    let mut sse = SseClient::connect(&gw.url("/sse/events"), Some(&t), None)
        .await
        .unwrap();
    let mut ws = ws_connect(&gw.addr, Some(&t)).await.unwrap();
    // Both streams are live: each has seen an event.
    gw.send_text(PHONE, WA, "wamid.t1", "before the stop")
        .await
        .unwrap();
    let f = sse.next_frame().await.unwrap();
    assert_eq!(f.json()["payload"]["text"], "before the stop");
    let pushed = ws_next(&mut ws).await.unwrap();
    assert_eq!(pushed["payload"]["text"], "before the stop");
    sse.retry = None;

    let status = gw.terminate(STOP_WITHIN).await.unwrap();
    assert!(status.success(), "the gateway exited with {status}");

    // SSE: a `retry:` hint, so browsers come back to the next process soon, then the end.
    let rest = sse.until_end().await.unwrap();
    assert!(rest.is_empty(), "no event after the stop: {rest:?}");
    assert_eq!(sse.retry.as_deref(), Some("3000"));

    // WebSocket: closed with 1001 (going away), which clients reconnect after.
    let close = loop {
        match ws.next().await {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected the server's close, got {other:?}"),
        }
    };
    assert_eq!(close.map(|c| c.code), Some(CloseCode::Away));
}
