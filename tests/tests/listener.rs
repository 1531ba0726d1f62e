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

/// Everything a server sends on a connection until it closes it.
async fn all_of(tcp: &mut TcpStream) -> String {
    String::from_utf8_lossy(&closed_by_server(tcp).await).into_owned()
}

/// A connection that opens with `GET /sse/events` is answered as any HTTP/1.1 server
/// answers: chunked to an HTTP/1.1 client, delimited by the close to an HTTP/1.0 one,
/// a refusal with its length, and a status for a head that cannot be parsed.
#[tokio::test]
async fn an_event_streams_connection_speaks_http_1() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start_with(dir.path(), &[]).await.unwrap();
    gw.seed_org("org-h", "106540352242978", "16505550178")
        .await
        .unwrap();
    let t = token(JWT_SECRET, "org-h", "admin-org-h", &["admin"]);
    let head_of = |answer: &str| answer.split("\r\n\r\n").next().unwrap().to_lowercase();

    // A malformed header line: 400, nothing served.
    let mut bad = TcpStream::connect(&gw.addr).await.unwrap();
    bad.write_all(b"GET /sse/events HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
        .await
        .unwrap();
    let answer = all_of(&mut bad).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");

    // No token: the router's refusal, with its length, then the close.
    let mut refused = TcpStream::connect(&gw.addr).await.unwrap();
    refused
        .write_all(b"GET /sse/events HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = all_of(&mut refused).await;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 401 "), "{answer}");
    assert!(
        head.to_lowercase()
            .contains(&format!("content-length: {}", body.len())),
        "{answer}"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(body).unwrap()["error"]["code"],
        "unauthorized"
    );

    // HTTP/1.1: chunked; each event is one chunk whose size line counts its bytes.
    let mut v11 = TcpStream::connect(&gw.addr).await.unwrap();
    v11.write_all(
        format!("GET /sse/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    // HTTP/1.0: no chunking (1.0 has none); the body runs to the close.
    let mut v10 = TcpStream::connect(&gw.addr).await.unwrap();
    v10.write_all(
        format!("GET /sse/events HTTP/1.0\r\nAuthorization: Bearer {t}\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    // Each answer has begun (its first byte read) before the event is sent.
    let (mut first11, mut first10) = ([0u8; 1], [0u8; 1]);
    v11.read_exact(&mut first11).await.unwrap();
    v10.read_exact(&mut first10).await.unwrap();
    gw.send_text("106540352242978", "16505550178", "wamid.h1", "over http/1")
        .await
        .unwrap();
    // The event reached both once each is read up to it; then the gateway stops, which
    // ends both streams, and what each got is read whole.
    let mut got11 = String::from(char::from(first11[0]));
    let mut got10 = String::from(char::from(first10[0]));
    for (tcp, got) in [(&mut v11, &mut got11), (&mut v10, &mut got10)] {
        let mut buf = [0u8; 4096];
        while !got.contains("wamid.h1") {
            let n = tokio::time::timeout(Duration::from_secs(30), tcp.read(&mut buf))
                .await
                .expect("the event in time")
                .unwrap();
            assert!(n > 0, "closed before the event: {got}");
            got.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }
    let status = gw.terminate(Duration::from_secs(10)).await.unwrap();
    assert!(status.success(), "{status}");
    got11.push_str(&all_of(&mut v11).await);
    got10.push_str(&all_of(&mut v10).await);

    let head = head_of(&got11);
    assert!(head.starts_with("http/1.1 200 "), "{got11}");
    assert!(head.contains("transfer-encoding: chunked"), "{got11}");
    assert!(head.contains("content-type: text/event-stream"), "{got11}");
    let mut chunks = Vec::new();
    let mut rest = got11.split_once("\r\n\r\n").unwrap().1;
    loop {
        let (size, after) = rest.split_once("\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(size, 16).expect("a hex chunk size");
        if size == 0 {
            assert_eq!(after, "\r\n", "the last chunk ends the body");
            break;
        }
        chunks.push(&after[..size]);
        assert_eq!(&after[size..size + 2], "\r\n");
        rest = &after[size + 2..];
    }
    let events: Vec<&&str> = chunks.iter().filter(|c| c.contains("wamid.h1")).collect();
    assert_eq!(events.len(), 1, "{chunks:?}");
    assert!(events[0].starts_with("id: "), "{chunks:?}");
    assert!(
        events[0].contains("\nevent: message.received\n"),
        "{chunks:?}"
    );

    let head = head_of(&got10);
    assert!(head.starts_with("http/1.1 200 "), "{got10}");
    assert!(!head.contains("transfer-encoding"), "{got10}");
    let body = got10.split_once("\r\n\r\n").unwrap().1;
    assert!(body.starts_with("retry: "), "{got10}");
    assert_eq!(body.matches("wamid.h1").count(), 1, "{got10}");
}
