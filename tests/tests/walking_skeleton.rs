//! The walking skeleton, end to end: a signed WhatsApp webhook goes in, and exactly the
//! right organization's SSE and WebSocket clients see it, durably.

use pitchside_tests::*;
use serde_json::{Value, json};

const PHONE_A: &str = "111000111";
const PHONE_B: &str = "222000222";
const WA_A: &str = "919800000101";
const WA_B: &str = "919800000202";

fn assert_envelope(v: &Value, org: &str, text: &str) {
    assert_eq!(v["type"], "message.received", "{v}");
    assert_eq!(v["organizationId"], org, "{v}");
    assert_eq!(v["version"], "1.0", "{v}");
    let id = v["id"].as_str().expect("id is a string");
    assert!(id.parse::<u64>().is_ok(), "id {id} is a decimal string");
    let ts = v["timestamp"].as_str().expect("timestamp is a string");
    assert!(
        ts.ends_with('Z') && ts.len() == 24,
        "RFC 3339 with millis: {ts}"
    );
    assert_eq!(v["payload"]["text"], text, "{v}");
    assert_eq!(v["payload"]["type"], "text", "{v}");
}

both_modes!(a_signed_webhook_reaches_only_its_organization_and_survives_a_restart);
async fn a_signed_webhook_reaches_only_its_organization_and_survives_a_restart(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-a", PHONE_A, WA_A).await.unwrap();
    gw.seed_org("org-b", PHONE_B, WA_B).await.unwrap();
    let token_a = token(JWT_SECRET, "org-a", "admin-org-a", &["admin"]);
    let token_b = token(JWT_SECRET, "org-b", "admin-org-b", &["admin"]);

    let mut sse_a = SseClient::connect(&gw.url("/sse/events"), Some(&token_a), None)
        .await
        .unwrap();
    let mut sse_b = SseClient::connect(&gw.url("/sse/events"), Some(&token_b), None)
        .await
        .unwrap();
    assert_eq!((sse_a.status, sse_b.status), (200, 200));
    assert_eq!(sse_a.headers["content-type"], "text/event-stream");
    assert_eq!(sse_a.headers["cache-control"], "no-cache");
    let mut ws_a = ws_connect(&gw.addr, Some(&token_a)).await.unwrap();
    let mut ws_b = ws_connect(&gw.addr, Some(&token_b)).await.unwrap();
    // A round trip proves each socket is registered and live before anything is sent.
    for ws in [&mut ws_a, &mut ws_b] {
        ws_send(ws, json!({"action": "ping"})).await.unwrap();
        assert_eq!(ws_next(ws).await.unwrap(), json!({"type": "pong"}));
    }

    // A wrongly signed webhook for A is refused and leaves no trace.
    let forged = text_message(PHONE_A, WA_A, "wamid.forged", "forged");
    let resp = gw
        .post_webhook(&forged, Some(sign("not-the-app-secret", &forged)))
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = gw.post_webhook(&forged, None).await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["success"], false);

    gw.send_text(PHONE_A, WA_A, "wamid.a1", "yes, I can play")
        .await
        .unwrap();

    let frame = sse_a.next_frame().await.unwrap();
    assert_eq!(frame.event.as_deref(), Some("message.received"));
    let event = frame.json();
    assert_envelope(&event, "org-a", "yes, I can play");
    assert_eq!(event["payload"]["playerId"], "p-org-a");
    assert_eq!(frame.id.as_deref(), event["id"].as_str());
    assert!(sse_a.retry.is_some(), "the stream sends a retry: hint");
    let first_id = event["id"].as_str().unwrap().to_string();
    assert_eq!(
        ws_next(&mut ws_a).await.unwrap(),
        event,
        "WebSocket gets the same envelope"
    );

    // B must have received nothing: its first event is B's own, sent after A's.
    gw.send_text(PHONE_B, WA_B, "wamid.b1", "marker for b")
        .await
        .unwrap();
    let b_sse = sse_b.next_frame().await.unwrap().json();
    assert_envelope(&b_sse, "org-b", "marker for b");
    let b_ws = ws_next(&mut ws_b).await.unwrap();
    assert_eq!(b_ws, b_sse);
    assert_eq!(b_ws["id"], "1", "B's log is its own");

    // And A got exactly one event: the next thing on A's channels is A's next event.
    gw.send_text(PHONE_A, WA_A, "wamid.a2", "second")
        .await
        .unwrap();
    let next = sse_a.next_frame().await.unwrap().json();
    assert_envelope(&next, "org-a", "second");
    assert_eq!(ws_next(&mut ws_a).await.unwrap(), next);
    let ids: Vec<u64> = [&event, &next]
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids[1], ids[0] + 1);

    // Kill -9 and restart on the same data: the log is intact, ids unchanged.
    drop((sse_a, sse_b, ws_a, ws_b));
    gw.kill().await.unwrap();
    let gw = env.start().await;
    let page = gw.catch_up(&token_a, "after=0").await.unwrap();
    assert_eq!(page["success"], true);
    let data = page["data"].as_array().unwrap();
    assert_eq!(
        data.len(),
        2,
        "exactly A's two events, nothing forged: {page}"
    );
    assert_eq!(data[0], event);
    assert_eq!(data[0]["id"], first_id.as_str());
    assert_eq!(page["next"], next["id"]);
    let page_b = gw.catch_up(&token_b, "after=0").await.unwrap();
    assert_eq!(page_b["data"].as_array().unwrap().len(), 1);

    // Resuming SSE after the first event replays only what came after, then goes live.
    let mut resumed = SseClient::connect(&gw.url("/sse/events"), Some(&token_a), Some(&first_id))
        .await
        .unwrap();
    assert_eq!(resumed.next_frame().await.unwrap().json(), next);
    gw.send_text(PHONE_A, WA_A, "wamid.a3", "after restart")
        .await
        .unwrap();
    // On SQS a receive the killed gateway's worker still had open (a long poll the
    // emulator keeps serving) may take this message; SQS then gives it again after
    // its visibility timeout (30 s), as it would after any consumer crashed.
    let patience = match mode {
        Mode::Embedded => pitchside_tests::PATIENCE,
        Mode::Aws => std::time::Duration::from_secs(45),
    };
    let live = resumed.next_frame_within(patience).await.unwrap().json();
    assert_envelope(&live, "org-a", "after restart");
    assert_eq!(live["id"], (ids[1] + 1).to_string());
}

both_modes!(redelivered_webhooks_do_not_duplicate_events);
async fn redelivered_webhooks_do_not_duplicate_events(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-d", PHONE_A, WA_A).await.unwrap();
    let t = token(JWT_SECRET, "org-d", "admin-org-d", &["viewer"]);
    let mut sse = SseClient::connect(&gw.url("/sse/events"), Some(&t), None)
        .await
        .unwrap();
    for _ in 0..3 {
        gw.send_text(PHONE_A, WA_A, "wamid.same", "once")
            .await
            .unwrap();
    }
    gw.send_text(PHONE_A, WA_A, "wamid.other", "marker")
        .await
        .unwrap();
    let page = loop {
        // Wait on the stream (not a clock) for the marker, then read the log.
        let f = sse.next_frame().await.unwrap().json();
        if f["payload"]["text"] == "marker" {
            break gw.catch_up(&t, "after=0").await.unwrap();
        }
    };
    let texts: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["payload"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["once", "marker"]);
}

both_modes!(handshakes_refuse_missing_bad_and_foreign_credentials);
async fn handshakes_refuse_missing_bad_and_foreign_credentials(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-a", PHONE_A, WA_A).await.unwrap();
    gw.seed_org("org-b", PHONE_B, WA_B).await.unwrap();

    let forged = token(
        "some-other-secret-some-other-secret!",
        "org-a",
        "admin-org-a",
        &["admin"],
    );
    // A real signature, but admin-org-b is no member of org-a.
    let not_member = token(JWT_SECRET, "org-a", "admin-org-b", &["admin"]);
    let unknown_org = token(JWT_SECRET, "org-zzz", "admin-org-a", &["admin"]);
    for bad in [
        None,
        Some(forged.as_str()),
        Some(not_member.as_str()),
        Some(unknown_org.as_str()),
        Some("garbage"),
    ] {
        assert_eq!(
            ws_connect(&gw.addr, bad).await.err(),
            Some(401),
            "ws with {bad:?}"
        );
        let sse = SseClient::connect(&gw.url("/sse/events"), bad, None)
            .await
            .unwrap();
        assert_eq!(sse.status, 401, "sse with {bad:?}");
        let resp = reqwest::Client::new().get(gw.url("/events/catch-up"));
        let resp = match bad {
            Some(t) => resp.bearer_auth(t),
            None => resp,
        }
        .send()
        .await
        .unwrap();
        assert_eq!(resp.status(), 401);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }

    // Deactivating a member revokes their valid token at once.
    let good = token(JWT_SECRET, "org-a", "admin-org-a", &["admin"]);
    assert!(ws_connect(&gw.addr, Some(&good)).await.is_ok());
    let resp = gw
        .admin_put(
            "/admin/organizations/org-a/members/admin-org-a",
            json!({"roles": ["admin"], "active": false}),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(ws_connect(&gw.addr, Some(&good)).await.err(), Some(401));
}

both_modes!(tickets_are_single_use_and_scoped_to_the_token);
async fn tickets_are_single_use_and_scoped_to_the_token(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-a", PHONE_A, WA_A).await.unwrap();
    let t = token(JWT_SECRET, "org-a", "admin-org-a", &["admin"]);
    let client = reqwest::Client::new();
    let resp = client.post(gw.url("/auth/ticket")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let issued: Value = client
        .post(gw.url("/auth/ticket"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(issued["expiresIn"], 60);
    let ticket = issued["ticket"].as_str().unwrap();

    let url = gw.url(&format!("/sse/events?ticket={ticket}"));
    let mut sse = SseClient::connect(&url, None, None).await.unwrap();
    assert_eq!(sse.status, 200);
    let again = SseClient::connect(&url, None, None).await.unwrap();
    assert_eq!(again.status, 401, "a ticket is single-use");

    gw.send_text(PHONE_A, WA_A, "wamid.t1", "via ticket")
        .await
        .unwrap();
    assert_eq!(
        sse.next_frame().await.unwrap().json()["payload"]["text"],
        "via ticket"
    );
}

both_modes!(whatsapp_verification_and_admin_errors);
async fn whatsapp_verification_and_admin_errors(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    let client = reqwest::Client::new();
    let ok = client
        .get(gw.url(&format!("/whatsapp/webhook?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=8675309")))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "8675309");
    let bad = client
        .get(gw.url("/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 403);

    let no_key = client
        .put(gw.url("/admin/organizations/org-x"))
        .json(&json!({"name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), 401);
    let missing_org = gw
        .admin_put(
            "/admin/organizations/nope/members/u1",
            json!({"roles": ["admin"]}),
        )
        .await
        .unwrap();
    assert_eq!(missing_org.status(), 404);
    let bad_id = gw
        .admin_put("/admin/organizations/bad%23id", json!({"name": "X"}))
        .await
        .unwrap();
    assert_eq!(bad_id.status(), 400);
    let bad_body = gw
        .admin_put("/admin/organizations/org-x", json!({"title": "X"}))
        .await
        .unwrap();
    assert_eq!(bad_body.status(), 400);
    let body: Value = bad_body.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");

    gw.seed_org("org-a", PHONE_A, WA_A).await.unwrap();
    // A WhatsApp number belongs to one organization only.
    gw.admin_put("/admin/organizations/org-x", json!({"name": "X"}))
        .await
        .unwrap();
    let stolen = gw
        .admin_put(
            &format!("/admin/organizations/org-x/whatsapp/{PHONE_A}"),
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(stolen.status(), 409);
}

#[tokio::test]
async fn a_missing_setting_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(binary())
        .arg("serve")
        .env_clear()
        .env("PITCHSIDE_DATA_DIR", dir.path())
        .env("PITCHSIDE_JWT_SECRET", JWT_SECRET)
        .env("PITCHSIDE_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
        .env("PITCHSIDE_ADMIN_API_KEY", ADMIN_KEY)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PITCHSIDE_WHATSAPP_APP_SECRET"), "{stderr}");
    assert!(
        !stderr.contains(JWT_SECRET),
        "secrets never printed: {stderr}"
    );
}
