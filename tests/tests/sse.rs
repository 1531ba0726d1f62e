//! Server-Sent Events and catch-up, black-box, in both modes: gapless resume across a
//! restart, the reset path, heartbeats, filters, paging, and a slow client cut off
//! without slowing anyone else.

use futures_util::StreamExt;
use pitchside_tests::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PHONE: &str = "444000444";
const WA: &str = "919800000404";

async fn seeded(mode: Mode, extra: &[(&str, &str)]) -> (Env, Gateway, String) {
    let mut env = Env::new(mode).await;
    for (k, v) in extra {
        env.vars.push((k.to_string(), v.to_string()));
    }
    let gw = env.start().await;
    gw.seed_org("org-s", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-s", "admin-org-s", &["viewer"]);
    (env, gw, t)
}

fn text_of(f: &SseFrame) -> String {
    f.json()["payload"]["text"].as_str().unwrap().to_string()
}

both_modes!(resumes_gaplessly_across_a_restart);
async fn resumes_gaplessly_across_a_restart(mode: Mode) {
    let (env, gw, t) = seeded(mode, &[]).await;
    let mut sse = SseClient::connect(&gw.url("/sse/events"), Some(&t), None)
        .await
        .unwrap();
    for i in 1..=3 {
        gw.send_text(PHONE, WA, &format!("wamid.r{i}"), &format!("m{i}"))
            .await
            .unwrap();
    }
    let mut last = None;
    for i in 1..=3 {
        let f = sse.next_frame().await.unwrap();
        assert_eq!(text_of(&f), format!("m{i}"));
        last = f.id;
    }
    let last = last.unwrap();
    drop(sse);
    gw.kill().await.unwrap();

    // Back up; three events happen before the viewer returns.
    let gw = env.start().await;
    for i in 4..=6 {
        gw.send_text(PHONE, WA, &format!("wamid.r{i}"), &format!("m{i}"))
            .await
            .unwrap();
    }
    let mut sse = SseClient::connect(&gw.url("/sse/events"), Some(&t), Some(&last))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 4..=6 {
        let f = sse.next_frame().await.unwrap();
        assert_eq!(
            text_of(&f),
            format!("m{i}"),
            "replayed in order, none twice"
        );
        ids.push(f.id.unwrap());
    }
    gw.send_text(PHONE, WA, "wamid.r7", "m7").await.unwrap();
    let live = sse.next_frame().await.unwrap();
    assert_eq!(text_of(&live), "m7");

    // The query form of the resume point works the same.
    let url = gw.url(&format!("/sse/events?lastEventId={}", ids[1]));
    let mut by_query = SseClient::connect(&url, Some(&t), None).await.unwrap();
    assert_eq!(text_of(&by_query.next_frame().await.unwrap()), "m6");
    assert_eq!(text_of(&by_query.next_frame().await.unwrap()), "m7");
}

both_modes!(a_position_the_log_does_not_hold_resets);
async fn a_position_the_log_does_not_hold_resets(mode: Mode) {
    let (_env, gw, t) = seeded(mode, &[]).await;
    let mut live = SseClient::connect(&gw.url("/sse/events"), Some(&t), None)
        .await
        .unwrap();
    gw.send_text(PHONE, WA, "wamid.x1", "only").await.unwrap();
    live.next_frame().await.unwrap();
    let page = gw.catch_up(&t, "after=0").await.unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert!(
        page.get("reset").is_none(),
        "no reset flag when whole: {page}"
    );

    // An id from a log that was reset (or another log): beyond the head.
    let mut sse = SseClient::connect(&gw.url("/sse/events"), Some(&t), Some("999"))
        .await
        .unwrap();
    let first = sse.next_frame().await.unwrap();
    assert_eq!(first.event.as_deref(), Some("reset"));
    assert_eq!(first.json()["type"], "stream.reset");
    assert_eq!(first.json()["organizationId"], "org-s");
    let page = gw.catch_up(&t, "after=999").await.unwrap();
    assert_eq!(page["reset"], true, "{page}");

    let bad = SseClient::connect(&gw.url("/sse/events"), Some(&t), Some("abc"))
        .await
        .unwrap();
    assert_eq!(bad.status, 400);
}

both_modes!(heartbeats_and_filters);
async fn heartbeats_and_filters(mode: Mode) {
    let (_env, gw, t) = seeded(mode, &[("PITCHSIDE_SSE_HEARTBEAT_SECONDS", "1")]).await;
    let url = |q: &str| gw.url(&format!("/sse/events?{q}"));
    let mut all = SseClient::connect(&url(""), Some(&t), None).await.unwrap();
    let mut messages = SseClient::connect(&url("types=message.received"), Some(&t), None)
        .await
        .unwrap();
    let mut payments = SseClient::connect(&url("types=payment.confirmed"), Some(&t), None)
        .await
        .unwrap();
    let mut one_match = SseClient::connect(&url("matchId=m_7"), Some(&t), None)
        .await
        .unwrap();
    let bogus = SseClient::connect(&url("types=score"), Some(&t), None)
        .await
        .unwrap();
    assert_eq!(bogus.status, 400);

    // An idle stream gets heartbeat comments.
    assert_eq!(
        payments.next_item().await.unwrap(),
        SseItem::Comment("heartbeat".into())
    );

    gw.send_text(PHONE, WA, "wamid.f1", "filtered")
        .await
        .unwrap();
    assert_eq!(text_of(&all.next_frame().await.unwrap()), "filtered");
    assert_eq!(text_of(&messages.next_frame().await.unwrap()), "filtered");
    // The event has been broadcast; the filtered-out streams' next item is a heartbeat.
    for stream in [&mut payments, &mut one_match] {
        assert_eq!(
            stream.next_item().await.unwrap(),
            SseItem::Comment("heartbeat".into())
        );
    }
}

both_modes!(catch_up_pages_oldest_first);
async fn catch_up_pages_oldest_first(mode: Mode) {
    let (_env, gw, t) = seeded(mode, &[]).await;
    let before = chrono_rfc3339_now();
    let mut sse = SseClient::connect(&gw.url("/sse/events"), Some(&t), None)
        .await
        .unwrap();
    for i in 1..=5 {
        gw.send_text(PHONE, WA, &format!("wamid.p{i}"), &format!("p{i}"))
            .await
            .unwrap();
    }
    for _ in 1..=5 {
        sse.next_frame().await.unwrap();
    }
    let mut seen = Vec::new();
    let mut after = "0".to_string();
    loop {
        let page = gw
            .catch_up(&t, &format!("after={after}&limit=2"))
            .await
            .unwrap();
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(
            data.iter()
                .map(|e| e["payload"]["text"].as_str().unwrap().to_string()),
        );
        let next = page["next"].as_str().unwrap().to_string();
        if data.is_empty() {
            assert_eq!(next, after, "an empty page keeps the cursor");
            break;
        }
        after = next;
    }
    assert_eq!(seen, ["p1", "p2", "p3", "p4", "p5"]);
    let since = gw.catch_up(&t, &format!("since={before}")).await.unwrap();
    assert_eq!(since["data"].as_array().unwrap().len(), 5);
    let client = reqwest::Client::new();
    for bad in [
        "after=x",
        "since=yesterday",
        "after=1&since=2026-01-01T00:00:00Z",
        "limit=-1",
    ] {
        let resp = client
            .get(gw.url(&format!("/events/catch-up?{bad}")))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
    }
}

fn chrono_rfc3339_now() -> String {
    // A second back, so a clock tick between here and the first event cannot exclude it.
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .cast_signed();
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

both_modes!(a_slow_client_is_cut_off_and_nobody_else_waits);
async fn a_slow_client_is_cut_off_and_nobody_else_waits(mode: Mode) {
    let (_env, gw, t) = seeded(mode, &[("PITCHSIDE_SUBSCRIBER_BUFFER", "16")]).await;
    // A client that reads its response head and then stops reading, with a tiny
    // receive window.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut slow = socket.connect(gw.addr.parse().unwrap()).await.unwrap();
    let request = format!(
        "GET /sse/events HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {t}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n",
        gw.addr
    );
    slow.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 256];
    let n = slow.read(&mut head).await.unwrap();
    assert!(String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"));

    let mut fast = SseClient::connect(&gw.url("/sse/events"), Some(&t), None)
        .await
        .unwrap();
    const N: usize = 120;
    // The fast client reads all along, in its own task.
    let reader = tokio::spawn(async move {
        let mut texts = Vec::new();
        for _ in 0..N {
            texts.push(text_of(&fast.next_frame().await.unwrap()));
        }
        texts
    });
    let big = "x".repeat(4000);
    let gw_ref = &gw;
    futures_util::stream::iter(0..N)
        .for_each_concurrent(8, |i| {
            let text = format!("{i} {big}");
            async move {
                gw_ref
                    .send_text(PHONE, WA, &format!("wamid.s{i}"), &text)
                    .await
                    .unwrap()
            }
        })
        .await;
    let texts = reader.await.unwrap();
    let mut seen: Vec<usize> = texts
        .iter()
        .map(|t| t.split(' ').next().unwrap().parse().unwrap())
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        (0..N).collect::<Vec<_>>(),
        "the fast client got every event once"
    );

    // The slow one was cut off: reading now drains what was buffered, then the end of
    // the response (and, asked for `Connection: close`, of the connection).
    let mut rest = Vec::new();
    tokio::time::timeout(PATIENCE, slow.read_to_end(&mut rest))
        .await
        .expect("the slow stream was ended")
        .unwrap();
    let got = String::from_utf8_lossy(&rest)
        .matches("event: message.received")
        .count();
    assert!(
        got < N,
        "the slow client got {got} of {N}: it was not cut off"
    );
}

both_modes!(a_member_holds_at_most_so_many_streams_at_once);
async fn a_member_holds_at_most_so_many_streams_at_once(mode: Mode) {
    let (_env, gw, t) = seeded(
        mode,
        &[
            ("PITCHSIDE_SSE_MAX_STREAMS_PER_USER", "2"),
            ("PITCHSIDE_SSE_HEARTBEAT_SECONDS", "1"),
        ],
    )
    .await;
    let url = gw.url("/sse/events");
    let first = SseClient::connect(&url, Some(&t), None).await.unwrap();
    let second = SseClient::connect(&url, Some(&t), None).await.unwrap();
    assert_eq!((first.status, second.status), (200, 200));
    let third = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 429);
    let body: serde_json::Value = third.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_streams", "{body}");
    // Another member is not counted against this one.
    let resp = gw
        .admin_put(
            "/admin/organizations/org-s/members/u-other",
            serde_json::json!({"roles": ["viewer"]}),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let other = token(JWT_SECRET, "org-s", "u-other", &["viewer"]);
    let theirs = SseClient::connect(&url, Some(&other), None).await.unwrap();
    assert_eq!(theirs.status, 200);

    // A stream that ends frees its slot (once the server notices, at a heartbeat).
    drop(first);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let again = SseClient::connect(&url, Some(&t), None).await.unwrap();
        if again.status == 200 {
            break;
        }
        assert_eq!(again.status, 429);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot was not freed in time"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    drop(second);
}
