//! Revoking a membership reaches the member's open connections, in both modes and both
//! ways an SSE stream follows the log (the gateway's hub, and polling as the `sse`
//! function does): the revoked member's SSE stream gets `event: closed` and ends, its
//! WebSocket gets a `membership_ended` error and is closed; everyone else's connections
//! go on and never see the revocation itself.

use futures_util::StreamExt;
use pitchside_tests::*;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const PHONE: &str = "555000555";
const WA: &str = "919800000555";
const ORG: &str = "org-rv";

async fn started(mode: Mode, vars: &[(&str, &str)]) -> (Env, Gateway) {
    let mut env = Env::new(mode).await;
    for (k, v) in vars {
        env.vars.push((k.to_string(), v.to_string()));
    }
    let gw = env.start().await;
    gw.seed_org(ORG, PHONE, WA).await.unwrap();
    (env, gw)
}

async fn set_member(gw: &Gateway, user: &str, body: Value) {
    let resp = gw
        .admin_put(&format!("/admin/organizations/{ORG}/members/{user}"), body)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

async fn sse(gw: &Gateway, token: &str) -> SseClient {
    let s = SseClient::connect(&gw.url("/sse/events"), Some(token), None)
        .await
        .unwrap();
    assert_eq!(s.status, 200);
    s
}

/// A WebSocket that the gateway has registered: it answered a ping.
async fn ws(gw: &Gateway, token: &str) -> Ws {
    let mut ws = ws_connect(&gw.addr, Some(token)).await.unwrap();
    ws_send(&mut ws, json!({"action": "ping", "requestId": "ready"}))
        .await
        .unwrap();
    assert_eq!(ws_next(&mut ws).await.unwrap()["type"], "pong");
    ws
}

/// The close frame's code, after any text frames (answered too).
async fn closed(ws: &mut Ws) -> (Vec<Value>, Option<u16>) {
    let mut texts = Vec::new();
    let code = tokio::time::timeout(PATIENCE, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => texts.push(serde_json::from_str(&t).unwrap()),
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the connection was not closed in time");
    (texts, code)
}

async fn text_on_sse(s: &mut SseClient) -> String {
    let f = s.next_frame().await.unwrap();
    assert_eq!(f.event.as_deref(), Some("message.received"), "{f:?}");
    f.json()["payload"]["text"].as_str().unwrap().to_string()
}

async fn text_on_ws(ws: &mut Ws) -> String {
    let m = ws_next(ws).await.unwrap();
    assert_eq!(m["type"], "message.received", "{m}");
    m["payload"]["text"].as_str().unwrap().to_string()
}

/// The revoked member's SSE stream: the notice, then the end.
async fn ends_with_the_notice(s: &mut SseClient) {
    let f = s.next_frame().await.unwrap();
    assert_eq!(f.event.as_deref(), Some("closed"), "{f:?}");
    assert_eq!(f.id, None, "the notice does not move the client's position");
    assert_eq!(f.json()["code"], "membership_ended");
    assert_eq!(
        s.until_end().await.unwrap(),
        vec![],
        "nothing after the notice"
    );
}

async fn a_revoked_member_stops_receiving_at_once(mode: Mode, vars: &[(&str, &str)]) {
    let (_env, gw) = started(mode, vars).await;
    for user in ["u-left", "u-stays"] {
        set_member(&gw, user, json!({"roles": ["viewer"]})).await;
    }
    set_member(
        &gw,
        "u-owner",
        json!({"roles": ["viewer", "team_owner"], "teamId": "t1"}),
    )
    .await;
    let left = token(JWT_SECRET, ORG, "u-left", &["viewer"]);
    let stays = token(JWT_SECRET, ORG, "u-stays", &["viewer"]);
    let owner = token(JWT_SECRET, ORG, "u-owner", &["viewer", "team_owner"]);
    let (mut left_sse, mut stays_sse, mut owner_sse) = (
        sse(&gw, &left).await,
        sse(&gw, &stays).await,
        sse(&gw, &owner).await,
    );
    let (mut left_ws, mut stays_ws, mut owner_ws) = (
        ws(&gw, &left).await,
        ws(&gw, &stays).await,
        ws(&gw, &owner).await,
    );

    gw.send_text(PHONE, WA, "wamid.rv1", "before")
        .await
        .unwrap();
    for s in [&mut left_sse, &mut stays_sse, &mut owner_sse] {
        assert_eq!(text_on_sse(s).await, "before");
    }
    for w in [&mut left_ws, &mut stays_ws, &mut owner_ws] {
        assert_eq!(text_on_ws(w).await, "before");
    }

    // A player leaves the club: every connection of theirs ends, now.
    set_member(&gw, "u-left", json!({"roles": ["viewer"], "active": false})).await;
    ends_with_the_notice(&mut left_sse).await;
    let (texts, code) = closed(&mut left_ws).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(
        (texts[0]["type"].clone(), texts[0]["code"].clone()),
        (json!("error"), json!("membership_ended"))
    );
    // The gateway closes with 1008 (policy); through the management endpoint, as API
    // Gateway's DeleteConnection does, with 1000.
    let expected = if mode == Mode::Aws { 1000 } else { 1008 };
    assert_eq!(code, Some(expected));

    // A team owner loses the role: closed too, and back with what is left.
    set_member(&gw, "u-owner", json!({"roles": ["viewer"], "teamId": "t1"})).await;
    ends_with_the_notice(&mut owner_sse).await;
    let (_, code) = closed(&mut owner_ws).await;
    assert_eq!(code, Some(expected));
    let mut owner_sse = sse(&gw, &owner).await;

    // Everyone else goes on, and the next thing they see is the next event.
    gw.send_text(PHONE, WA, "wamid.rv2", "after").await.unwrap();
    assert_eq!(text_on_sse(&mut stays_sse).await, "after");
    assert_eq!(text_on_ws(&mut stays_ws).await, "after");
    assert_eq!(text_on_sse(&mut owner_sse).await, "after");
    let page = gw.catch_up(&stays, "after=0").await.unwrap();
    let types: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["message.received", "message.received"], "{page}");

    // The one who left cannot come back.
    let again = SseClient::connect(&gw.url("/sse/events"), Some(&left), None)
        .await
        .unwrap();
    assert_eq!(again.status, 401);
    assert_eq!(ws_connect(&gw.addr, Some(&left)).await.err(), Some(401));
}

both_modes!(a_revoked_member_stops_receiving_at_once_from_the_hub);
async fn a_revoked_member_stops_receiving_at_once_from_the_hub(mode: Mode) {
    a_revoked_member_stops_receiving_at_once(mode, &[]).await;
}

both_modes!(a_revoked_member_stops_receiving_at_the_next_poll);
async fn a_revoked_member_stops_receiving_at_the_next_poll(mode: Mode) {
    let vars = [
        ("PITCHSIDE_SSE_FOLLOW", "poll"),
        ("PITCHSIDE_SSE_POLL_MS", "100"),
    ];
    a_revoked_member_stops_receiving_at_once(mode, &vars).await;
}

both_modes!(an_old_revocation_does_not_cut_a_member_let_back_in);
async fn an_old_revocation_does_not_cut_a_member_let_back_in(mode: Mode) {
    let (_env, gw) = started(mode, &[]).await;
    set_member(&gw, "u-back", json!({"roles": ["viewer"]})).await;
    set_member(&gw, "u-back", json!({"roles": ["viewer"], "active": false})).await;
    set_member(&gw, "u-back", json!({"roles": ["viewer"]})).await;
    let t = token(JWT_SECRET, ORG, "u-back", &["viewer"]);
    // From the start of the log: the replay passes the old revocation.
    let mut s = SseClient::connect(&gw.url("/sse/events"), Some(&t), Some("0"))
        .await
        .unwrap();
    assert_eq!(s.status, 200);
    gw.send_text(PHONE, WA, "wamid.rv3", "welcome back")
        .await
        .unwrap();
    assert_eq!(text_on_sse(&mut s).await, "welcome back");
}
