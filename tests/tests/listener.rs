//! The gateway's listener against sockets that trickle or say nothing: a request's
//! headers must arrive within the header timeout, and only so many connections may be
//! waiting for their first request; the live ones are served all along.

use pitchside_tests::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Waits (with the tests' patience) for the server to close `tcp`; answers what it
/// sent first, if anything.
async fn closed_by_server(tcp: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(30), tcp.read(&mut buf)).await {
            Err(_) => panic!("the server kept the socket open"),
            Ok(Ok(0)) | Ok(Err(_)) => return got,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn slow_and_idle_sockets_are_cut_off_and_capped() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start_with(
        dir.path(),
        &[
            ("PITCHSIDE_HEADER_TIMEOUT_SECONDS", "1"),
            ("PITCHSIDE_MAX_PENDING_CONNECTIONS", "3"),
        ],
    )
    .await
    .unwrap();
    gw.seed_org("org-l", "106540352242977", "16505550177")
        .await
        .unwrap();
    let t = token(JWT_SECRET, "org-l", "admin-org-l", &["admin"]);
    // A live stream: its request is served, so it is not pending, and no timeout on
    // headers touches it however long it lasts.
    let mut live = SseClient::connect(&gw.url("/sse/events"), Some(&t), None)
        .await
        .unwrap();
    assert_eq!(live.status, 200);

    // Headers that trickle in: cut off at the timeout, whatever still comes.
    let mut slow = TcpStream::connect(&gw.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHo")
        .await
        .unwrap();
    let answer = closed_by_server(&mut slow).await;
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // Three sockets that say nothing fill the pending slots: the next connection is
    // closed at once, before it can be served.
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(&gw.addr).await.unwrap());
    }
    let mut extra = TcpStream::connect(&gw.addr).await.unwrap();
    assert!(closed_by_server(&mut extra).await.is_empty());
    // The idle ones go at the header timeout; then new connections are taken again,
    // and the stream opened before it all still delivers.
    for tcp in &mut idle {
        closed_by_server(tcp).await;
    }
    gw.send_text(
        "106540352242977",
        "16505550177",
        "wamid.after",
        "still here",
    )
    .await
    .unwrap();
    let e = live.next_frame().await.unwrap().json();
    assert_eq!(e["payload"]["messageId"], "wamid.after");
}
