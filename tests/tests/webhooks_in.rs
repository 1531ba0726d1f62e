//! Webhooks in, complete: every kind of WhatsApp notification (from fixtures written out
//! of Meta's reference), availability answered on WhatsApp, the quarantine and its
//! replay, duplicates and redelivery, and Stripe's payment confirmations; in both modes.
//!
//! Synchronization is always an event: the test waits for what it expects on SSE, and
//! proves that nothing else was emitted by sending a marker afterwards and checking that
//! the marker is the very next event.

use pitchside_tests::*;
use serde_json::{Value, json};
use std::collections::HashMap;

const PHONE: &str = "106540352242922";
const WA: &str = "16505551234";
const ADMIN_ROLES: [&str; 2] = ["admin", "viewer"];

fn subs(match_id: &str) -> [(&'static str, &str); 3] {
    [
        ("__PHONE_NUMBER_ID__", PHONE),
        ("__WA_ID__", WA),
        ("__MATCH_ID__", match_id),
    ]
}

/// Posts a fixture, signed; it must be accepted.
async fn post_fixture(gw: &Gateway, name: &str, subs: &[(&str, &str)]) {
    let body = fixture(&format!("whatsapp/{name}.json"), subs);
    assert_eq!(gw.post_signed(&body).await.unwrap(), 200, "{name}");
}

/// Sends a text marker and returns the events up to and including it (the marker
/// last): `expected` events came first and nothing else.
async fn through_marker(gw: &Gateway, token: &str, after: &str, expected: usize) -> Vec<Value> {
    let marker = format!("wamid.marker.{}", hex::encode(rand::random::<[u8; 6]>()));
    gw.send_text(PHONE, WA, &marker, "marker").await.unwrap();
    let events = gw.events(token, after, expected + 1).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        last["payload"]["messageId"], marker,
        "exactly {expected} events came before the marker: {events:#?}"
    );
    events
}

fn by_message_id(events: &[Value]) -> HashMap<String, Value> {
    events
        .iter()
        .filter(|e| e["type"] == "message.received")
        .map(|e| {
            (
                e["payload"]["messageId"].as_str().unwrap().to_string(),
                e["payload"].clone(),
            )
        })
        .collect()
}

fn last_id(events: &[Value]) -> String {
    events.last().unwrap()["id"].as_str().unwrap().to_string()
}

both_modes!(every_notification_kind_becomes_a_typed_event);
async fn every_notification_kind_becomes_a_typed_event(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-k", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-k", "admin-org-k", &ADMIN_ROLES);
    let s = subs("m-1");
    for f in [
        "text",
        "interactive_button_reply",
        "interactive_list_reply",
        "button",
        "reaction",
        "media",
        "location",
        "contacts",
        "unsupported",
        "errors",
    ] {
        post_fixture(&gw, f, &s).await;
    }
    // 14 messages (the media fixture holds five, the unsupported one two), and the
    // three availability replies each answer m-1; `value.errors` is logged, no event.
    let events = through_marker(&gw, &t, "0", 17).await;
    let msgs = by_message_id(&events[..17]);
    assert_eq!(msgs.len(), 14);
    let get = |suffix: &str| {
        msgs.iter()
            .find(|(k, _)| k.ends_with(suffix))
            .unwrap_or_else(|| panic!("no message {suffix}"))
            .1
    };

    let text = get("UFERjg0NDEzNDdFODU3MUMxMAA=");
    assert_eq!(text["type"], "text");
    assert_eq!(
        text["text"],
        "Does it cost extra to net with the first team?"
    );
    assert_eq!(text["from"], WA);
    assert_eq!(text["playerId"], "p-org-k");
    assert_eq!(text["name"], "Sheena Nelson");
    assert_eq!(text["sentAt"], "2025-06-08T20:59:43.000Z");

    let reply = get("QTRCQ0RGNDFBQTM4RjNBNzRBRQA=");
    assert_eq!(reply["type"], "interactive");
    assert_eq!(
        reply["content"],
        json!({"kind": "button_reply", "id": "avail:m-1:no", "title": "Can't play"})
    );
    assert_eq!(reply["text"], "Can't play");
    assert_eq!(
        reply["replyTo"],
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3NjBGQUQ0MjJCQTVFMTk0NDkA"
    );
    let list = get("QUQ4NDE5M0Q2QTU5MzE5QUQ5RQA=");
    assert_eq!(list["content"]["kind"], "list_reply");
    assert_eq!(list["content"]["description"], "Depends on work");
    let button = get("QTlDNUFBNDc1RUFCNUUyRTc2NAA=");
    assert_eq!(
        button["content"],
        json!({"kind": "button", "payload": "avail:m-1:yes", "text": "I'm in"})
    );
    let reaction = get("QTM3NzBGMjg2QTg5MzlFODg1RAA=");
    assert_eq!(reaction["content"]["kind"], "reaction");
    assert_eq!(reaction["content"]["emoji"], "👍");
    assert_eq!(
        reaction["content"]["messageId"],
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA"
    );

    let image = get("UFERjg0NDEzNDdFODU3MUMxMAB=");
    assert_eq!(image["type"], "image");
    assert_eq!(image["content"]["kind"], "media");
    assert_eq!(image["content"]["id"], "1003383421387256");
    assert_eq!(image["content"]["mimeType"], "image/jpeg");
    assert_eq!(
        image["text"], "Nets at 6?",
        "a caption is the readable text"
    );
    let audio = get("UFERjg0NDEzNDdFODU3MUMxMAC=");
    assert_eq!(
        (
            audio["content"]["mediaType"].clone(),
            audio["content"]["voice"].clone()
        ),
        (json!("audio"), json!(true))
    );
    let video = get("UFERjg0NDEzNDdFODU3MUMxMAD=");
    assert_eq!(video["content"]["id"], "1200631921407394");
    let document = get("UFERjg0NDEzNDdFODU3MUMxMAE=");
    assert_eq!(document["content"]["filename"], "fixtures-2027.pdf");
    let sticker = get("UFERjg0NDEzNDdFODU3MUMxMAF=");
    assert_eq!(
        (
            sticker["type"].clone(),
            sticker["content"]["animated"].clone()
        ),
        (json!("sticker"), json!(false))
    );

    let location = get("QTRCRDU2NjFBM0QxRkFBMzE2MAA=");
    assert_eq!(location["content"]["latitude"], 51.5291);
    assert_eq!(location["content"]["name"], "Lord's Cricket Ground");
    let contacts = get("QTBGRjYwNjU0NkE4QjBBMkQ1NQA=");
    assert_eq!(
        contacts["content"]["contacts"],
        json!([{"formattedName": "Ravi Kumar", "phones": ["919876543210"]}])
    );
    let unsupported = get("QURDRjBBNDA0QTRGRjk5RjEwNAA=");
    assert_eq!(unsupported["content"]["kind"], "unsupported");
    assert_eq!(unsupported["content"]["errors"][0]["code"], 131051);
    let order = get("QUJDMTIzNDU2Nzg5MEFCQ0RFRgA=");
    assert_eq!(
        order["type"], "order",
        "an unknown type is kept, not refused"
    );
    assert_eq!(order["content"]["kind"], "other");
    assert_eq!(
        order["content"]["raw"]["order"]["catalog_id"],
        "194836987003835"
    );

    // The replies answered m-1 in the order they were given: the last word (the
    // template button, latest timestamp) stands.
    let answers: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "availability.updated")
        .collect();
    assert_eq!(answers.len(), 3);
    assert!(
        answers
            .iter()
            .all(|e| e["payload"]["updatedBy"] == "whatsapp"
                && e["payload"]["matchId"] == "m-1"
                && e["payload"]["playerId"] == "p-org-k")
    );
    let (code, sheet) = gw
        .call("GET", "/matches/m-1/availability", &t, None)
        .await
        .unwrap();
    assert_eq!(code, 200, "{sheet}");
    assert_eq!(sheet["data"]["players"][0]["response"], "yes");

    // Statuses: sent, then read, then a late delivered that must change nothing.
    let after = last_id(&events);
    post_fixture(&gw, "status_sent", &s).await;
    post_fixture(&gw, "status_read", &s).await;
    let got = gw.events(&t, &after, 2).await.unwrap();
    assert_eq!(
        got.iter()
            .map(|e| (
                e["type"].as_str().unwrap(),
                e["payload"]["status"].as_str().unwrap()
            ))
            .collect::<Vec<_>>(),
        [
            ("message.status.updated", "sent"),
            ("message.status.updated", "read")
        ]
    );
    assert_eq!(got[1]["payload"]["version"], 3);
    assert_eq!(got[1]["payload"]["recipient"], WA);
    post_fixture(&gw, "status_delivered", &s).await;
    post_fixture(&gw, "status_failed", &s).await;
    let got = through_marker(&gw, &t, &last_id(&got), 1).await;
    assert_eq!(
        got[0]["payload"]["status"], "failed",
        "the late delivered is dropped"
    );
    assert_eq!(got[0]["payload"]["errors"][0]["code"], 131049);
}

both_modes!(availability_answered_on_whatsapp_reaches_a_viewer);
async fn availability_answered_on_whatsapp_reaches_a_viewer(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-v", PHONE, WA).await.unwrap();
    let admin = token(JWT_SECRET, "org-v", "admin-org-v", &ADMIN_ROLES);
    for (path, body) in [
        (
            "/admin/organizations/org-v/players/p-asha",
            json!({"name": "Asha Rao", "whatsappUserId": "US.13491208655302741918"}),
        ),
        (
            "/admin/organizations/org-v/players/p-late",
            json!({"name": "Late Larry", "whatsapp": "16505550000"}),
        ),
        (
            "/admin/organizations/org-v/members/p-asha",
            json!({"roles": ["player"]}),
        ),
        (
            "/admin/organizations/org-v/members/viewer-v",
            json!({"roles": ["viewer"]}),
        ),
    ] {
        let (code, body) = gw.admin("PUT", path, Some(body)).await.unwrap();
        assert_eq!(code, 200, "{path}: {body}");
    }

    let ask = |players: Value| json!({"playerIds": players});
    let (code, body) = gw
        .call(
            "POST",
            "/matches/m-7/availability-requests",
            &admin,
            Some(ask(json!(["p-org-v", "p-asha"]))),
        )
        .await
        .unwrap();
    assert_eq!(code, 200, "{body}");
    let (code, body) = gw
        .call(
            "POST",
            "/matches/m-7/availability-requests",
            &admin,
            Some(ask(json!(["p-nobody"]))),
        )
        .await
        .unwrap();
    assert_eq!(
        (code, body["error"]["code"].clone()),
        (404, json!("not_found"))
    );
    let viewer = token(JWT_SECRET, "org-v", "viewer-v", &["viewer"]);
    let (code, _) = gw
        .call(
            "POST",
            "/matches/m-7/availability-requests",
            &viewer,
            Some(ask(json!(["p-asha"]))),
        )
        .await
        .unwrap();
    assert_eq!(code, 403);

    let (code, sheet) = gw
        .call("GET", "/matches/m-7/availability", &viewer, None)
        .await
        .unwrap();
    assert_eq!(code, 200);
    assert_eq!(sheet["data"]["counts"]["pending"], 2);
    let from = sheet["data"]["lastEventId"].as_str().unwrap().to_string();

    // A thumbs-up answers the player's open request; a viewer sees it live.
    gw.send_text(PHONE, WA, "wamid.v1", " 👍 ").await.unwrap();
    // Named only by the business-scoped user id, "Yes " answers for Asha.
    post_fixture(&gw, "user_id_only", &subs("m-7")).await;
    let events = gw.events(&viewer, &from, 4).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "message.received",
            "availability.updated",
            "message.received",
            "availability.updated"
        ]
    );
    assert_eq!(
        (
            &events[1]["payload"]["matchId"],
            &events[1]["payload"]["playerId"],
            &events[1]["payload"]["response"],
            &events[1]["payload"]["updatedBy"],
        ),
        (
            &json!("m-7"),
            &json!("p-org-v"),
            &json!("yes"),
            &json!("whatsapp")
        )
    );
    assert_eq!(events[2]["payload"]["from"], Value::Null);
    assert_eq!(
        events[2]["payload"]["fromUserId"],
        "US.13491208655302741918"
    );
    assert_eq!(events[2]["payload"]["name"], "Asha Rao");
    assert_eq!(events[3]["payload"]["playerId"], "p-asha");
    let (_, sheet) = gw
        .call("GET", "/matches/m-7/availability", &viewer, None)
        .await
        .unwrap();
    assert_eq!(sheet["data"]["counts"]["yes"], 2, "{sheet}");
    assert_eq!(sheet["data"]["lastEventId"], events[3]["id"]);

    // An unknown number, and a player with no open request: stored and emitted as
    // messages, nothing answered.
    gw.send_text(PHONE, "16505559999", "wamid.v2", "yes")
        .await
        .unwrap();
    gw.send_text(PHONE, "16505550000", "wamid.v3", "maybe")
        .await
        .unwrap();
    let got = through_marker(&gw, &viewer, &last_id(&events), 2).await;
    assert!(got.iter().all(|e| e["type"] == "message.received"));
    assert_eq!(got[0]["payload"]["playerId"], Value::Null);
    assert_eq!(got[1]["payload"]["playerId"], "p-late");

    // Over HTTP: an admin for anyone, a player for themself only.
    let (code, body) = gw
        .call(
            "PUT",
            "/matches/m-7/availability/p-org-v",
            &admin,
            Some(json!({"response": "no"})),
        )
        .await
        .unwrap();
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["updatedBy"], "api");
    let asha = token(JWT_SECRET, "org-v", "p-asha", &["player"]);
    let (code, _) = gw
        .call(
            "PUT",
            "/matches/m-7/availability/p-asha",
            &asha,
            Some(json!({"response": "maybe"})),
        )
        .await
        .unwrap();
    assert_eq!(code, 200);
    let (code, _) = gw
        .call(
            "PUT",
            "/matches/m-7/availability/p-org-v",
            &asha,
            Some(json!({"response": "yes"})),
        )
        .await
        .unwrap();
    assert_eq!(code, 403);
    let (code, body) = gw
        .call(
            "PUT",
            "/matches/m-7/availability/p-asha",
            &asha,
            Some(json!({"response": "perhaps"})),
        )
        .await
        .unwrap();
    assert_eq!(
        (code, body["error"]["code"].clone()),
        (400, json!("bad_request"))
    );
    let (_, sheet) = gw
        .call("GET", "/matches/m-7/availability", &viewer, None)
        .await
        .unwrap();
    let responses: Vec<(&str, &str)> = sheet["data"]["players"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["playerId"].as_str().unwrap(),
                p["response"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(responses, [("p-asha", "maybe"), ("p-org-v", "no")]);
}

both_modes!(quarantined_payloads_are_listed_and_replayed);
async fn quarantined_payloads_are_listed_and_replayed(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-q", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-q", "admin-org-q", &ADMIN_ROLES);
    const UNMAPPED: &str = "987654321098765";

    // Retrying cannot fix these, so each is answered 200 and kept aside.
    let stray = fixture(
        "whatsapp/text.json",
        &[("__PHONE_NUMBER_ID__", UNMAPPED), ("__WA_ID__", WA)],
    );
    assert_eq!(gw.post_signed(&stray).await.unwrap(), 200);
    assert_eq!(gw.post_signed(b"this is not JSON").await.unwrap(), 200);
    assert_eq!(
        gw.post_signed(br#"{"object":"page","entry":[]}"#)
            .await
            .unwrap(),
        200
    );
    // Messages that do not say which business number they are for.
    let nameless = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"id":"wamid.nameless","type":"text","text":{"body":"x"}}]}}]}]}"#;
    assert_eq!(gw.post_signed(nameless).await.unwrap(), 200);
    // One batch, two changes: the known number's is processed, the other kept.
    let mixed = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "messages", "value": {"metadata": {"phone_number_id": PHONE},
            "messages": [{"from": WA, "id": "wamid.mixed.known", "timestamp": "1764140000", "type": "text", "text": {"body": "known"}}]}},
        {"field": "messages", "value": {"metadata": {"phone_number_id": UNMAPPED},
            "messages": [{"from": WA, "id": "wamid.mixed.stray", "timestamp": "1764140000", "type": "text", "text": {"body": "stray"}}]}}
    ]}]});
    let mixed = serde_json::to_vec(&mixed).unwrap();
    assert_eq!(gw.post_signed(&mixed).await.unwrap(), 200);
    let events = through_marker(&gw, &t, "0", 1).await;
    assert_eq!(events[0]["payload"]["messageId"], "wamid.mixed.known");

    let (code, _) = gw.call("GET", "/admin/quarantine", &t, None).await.unwrap();
    assert_eq!(code, 401, "a user token is not the admin key");
    let (code, list) = gw.admin("GET", "/admin/quarantine", None).await.unwrap();
    assert_eq!(code, 200, "{list}");
    let entries = list["data"].as_array().unwrap();
    assert_eq!(entries.len(), 5, "{list:#}");
    let mut reasons: Vec<&str> = entries
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            "malformed",
            "malformed",
            "malformed",
            "unknown_number",
            "unknown_number"
        ]
    );
    let stray_entry = entries
        .iter()
        .find(|e| e["reason"] == "unknown_number" && e["bytes"] == stray.len())
        .expect("the stray payload, kept whole");
    assert!(stray_entry["detail"].as_str().unwrap().contains(UNMAPPED));
    let split_entry = entries
        .iter()
        .find(|e| e["reason"] == "unknown_number" && e["bytes"] != stray.len())
        .unwrap();
    assert!(split_entry["bytes"].as_u64().unwrap() < mixed.len() as u64);

    // The operator maps the number and replays: the messages arrive, once.
    let (code, _) = gw
        .admin(
            "PUT",
            &format!("/admin/organizations/org-q/whatsapp/{UNMAPPED}"),
            Some(json!({})),
        )
        .await
        .unwrap();
    assert_eq!(code, 200);
    for entry in [stray_entry, split_entry] {
        let path = format!("/admin/quarantine/{}/replay", entry["id"].as_str().unwrap());
        let (code, body) = gw.admin("POST", &path, None).await.unwrap();
        assert_eq!(code, 200, "{body}");
    }
    let got = gw.events(&t, &last_id(&events), 2).await.unwrap();
    let ids: Vec<&str> = got
        .iter()
        .map(|e| e["payload"]["messageId"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"wamid.mixed.stray"), "{got:#?}");
    assert!(
        ids.iter()
            .any(|i| i.ends_with("UFERjg0NDEzNDdFODU3MUMxMAA="))
    );
    // Replaying again changes nothing.
    let path = format!(
        "/admin/quarantine/{}/replay",
        stray_entry["id"].as_str().unwrap()
    );
    assert_eq!(gw.admin("POST", &path, None).await.unwrap().0, 200);
    through_marker(&gw, &t, &last_id(&got), 0).await;
    let (_, list) = gw.admin("GET", "/admin/quarantine", None).await.unwrap();
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == stray_entry["id"] && e["replayedAt"].is_string())
    );
    assert_eq!(
        gw.admin("POST", "/admin/quarantine/q_nope/replay", None)
            .await
            .unwrap()
            .0,
        404
    );
}

both_modes!(duplicates_and_large_batches_are_processed_exactly_once);
async fn duplicates_and_large_batches_are_processed_exactly_once(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-d", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-d", "admin-org-d", &ADMIN_ROLES);

    // Several entries, changes, messages and statuses in one POST, delivered twice (as
    // Meta does when our 200 is lost).
    let message = |id: &str, text: &str| json!({"from": WA, "id": id, "timestamp": "1764140000", "type": "text", "text": {"body": text}});
    let value = |messages: Value, statuses: Value| {
        json!({"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE},
            "contacts": [{"profile": {"name": "Sheena"}, "wa_id": WA}],
            "messages": messages, "statuses": statuses}})
    };
    let batch = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [
        {"id": "1", "changes": [value(json!([message("wamid.d1", "one"), message("wamid.d2", "two")]), json!([]))]},
        {"id": "1", "changes": [
            value(json!([message("wamid.d3", "three")]), json!([
                {"id": "wamid.out.1", "status": "sent", "timestamp": "1764140001", "recipient_id": WA},
                {"id": "wamid.out.1", "status": "delivered", "timestamp": "1764140002", "recipient_id": WA}])),
            value(json!([]), json!([{"id": "wamid.out.2", "status": "read", "timestamp": "1764140003", "recipient_id": WA}]))
        ]}
    ]}))
    .unwrap();
    assert_eq!(gw.post_signed(&batch).await.unwrap(), 200);
    assert_eq!(gw.post_signed(&batch).await.unwrap(), 200);
    let events = through_marker(&gw, &t, "0", 6).await;
    let kinds: Vec<(&str, &str)> = events[..6]
        .iter()
        .map(|e| {
            let p = &e["payload"];
            (
                e["type"].as_str().unwrap(),
                p["messageId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("message.received", "wamid.d1"),
            ("message.received", "wamid.d2"),
            ("message.received", "wamid.d3"),
            ("message.status.updated", "wamid.out.1"),
            ("message.status.updated", "wamid.out.1"),
            ("message.status.updated", "wamid.out.2"),
        ]
    );

    // Larger than one SQS message (256 KiB): stored aside, never refused or cut.
    let n = 300;
    let messages: Vec<Value> = (0..n)
        .map(|i| {
            message(
                &format!("wamid.big.{i:03}"),
                &format!("{i:03} {}", "x".repeat(1000)),
            )
        })
        .collect();
    let big = serde_json::to_vec(&json!({"object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [value(json!(messages), json!([]))]}]}))
    .unwrap();
    assert!(big.len() > 300 * 1024);
    assert_eq!(gw.post_signed(&big).await.unwrap(), 200);
    let got = through_marker(&gw, &t, &last_id(&events), n).await;
    for (i, e) in got[..n].iter().enumerate() {
        assert_eq!(e["payload"]["messageId"], format!("wamid.big.{i:03}"));
        assert_eq!(e["payload"]["text"].as_str().unwrap().len(), 1004);
    }

    // Beyond Meta's 3 MB: 413, and nothing is queued.
    let huge = vec![b' '; 3 * 1024 * 1024 + 1];
    assert_eq!(gw.post_signed(&huge).await.unwrap(), 413);
    through_marker(&gw, &t, &last_id(&got), 0).await;
}

both_modes!(payments_are_confirmed_once_for_their_organization);
async fn payments_are_confirmed_once_for_their_organization(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-p", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-p", "admin-org-p", &ADMIN_ROLES);
    let org = [("__ORG__", "org-p")];
    let signed = |body: &[u8]| Some(stripe_sign(STRIPE_SECRET, body, unix_now()));

    let checkout = fixture("stripe/checkout_session_completed.json", &org);
    assert_eq!(
        gw.post_payment(&checkout, signed(&checkout)).await.unwrap(),
        200
    );
    let first = gw.events(&t, "0", 1).await.unwrap().remove(0);
    assert_eq!(first["type"], "payment.confirmed");
    assert_eq!(first["organizationId"], "org-p");
    let p = &first["payload"];
    assert_eq!(p["paymentId"], "pi_3QkD8uLkdIwHu7ix1oZ6Tb2K");
    assert_eq!(p["stripeEventId"], "evt_1QkD8vLkdIwHu7ix0Xh2qvBn");
    assert_eq!(
        (p["amount"].clone(), p["currency"].clone()),
        (json!(250000), json!("inr"))
    );
    assert_eq!(p["email"], "sheena@example.com");
    assert_eq!(p["metadata"]["purpose"], "season-fees-2027");

    // The same event again, the payment intent of the same payment, and an event type
    // Pitchside does not act on: accepted, and no second confirmation.
    assert_eq!(
        gw.post_payment(&checkout, signed(&checkout)).await.unwrap(),
        200
    );
    let intent = fixture("stripe/payment_intent_succeeded.json", &org);
    assert_eq!(
        gw.post_payment(&intent, signed(&intent)).await.unwrap(),
        200
    );
    let invoice = fixture("stripe/invoice_paid.json", &org);
    assert_eq!(
        gw.post_payment(&invoice, signed(&invoice)).await.unwrap(),
        200
    );
    // Refused: no signature, a wrong one, a replay outside the 5-minute tolerance.
    assert_eq!(gw.post_payment(&checkout, None).await.unwrap(), 401);
    let wrong = Some(stripe_sign("whsec_wrong", &checkout, unix_now()));
    assert_eq!(gw.post_payment(&checkout, wrong).await.unwrap(), 401);
    let stale = Some(stripe_sign(STRIPE_SECRET, &checkout, unix_now() - 301));
    assert_eq!(gw.post_payment(&checkout, stale).await.unwrap(), 401);
    // For an organization that does not exist: quarantined.
    let stray = fixture(
        "stripe/checkout_session_completed.json",
        &[("__ORG__", "org-nope"), ("evt_1QkD8v", "evt_stray")],
    );
    assert_eq!(gw.post_payment(&stray, signed(&stray)).await.unwrap(), 200);

    // A second payment is the next event: nothing came in between.
    let second = fixture(
        "stripe/checkout_session_completed.json",
        &[
            ("__ORG__", "org-p"),
            ("pi_3QkD8u", "pi_second"),
            ("evt_1QkD8v", "evt_second"),
        ],
    );
    assert_eq!(
        gw.post_payment(&second, signed(&second)).await.unwrap(),
        200
    );
    let next = gw.events(&t, &last_id(&[first]), 1).await.unwrap();
    assert_eq!(
        next[0]["payload"]["stripeEventId"],
        "evt_secondLkdIwHu7ix0Xh2qvBn"
    );
    let (_, list) = gw.admin("GET", "/admin/quarantine", None).await.unwrap();
    let entries = list["data"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{list}");
    assert_eq!(entries[0]["reason"], "unknown_organization");
    assert_eq!(entries[0]["kind"], "stripe.event");
}

both_modes!(a_bank_debit_is_confirmed_only_when_paid_and_failures_are_events);
async fn a_bank_debit_is_confirmed_only_when_paid_and_failures_are_events(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-d", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-d", "admin-org-d", &ADMIN_ROLES);
    let org = [("__ORG__", "org-d")];
    let post = |name: &'static str| {
        let body = fixture(name, &org);
        let sig = stripe_sign(STRIPE_SECRET, &body, unix_now());
        let gw = &gw;
        async move { gw.post_payment(&body, Some(sig)).await.unwrap() }
    };
    // A Bacs checkout completes unpaid: acknowledged, and nothing is confirmed. Days
    // later the debit settles: confirmed once, whichever retries Stripe sends.
    assert_eq!(
        post("stripe/checkout_session_completed_unpaid.json").await,
        200
    );
    assert_eq!(
        post("stripe/checkout_session_async_payment_succeeded.json").await,
        200
    );
    assert_eq!(
        post("stripe/checkout_session_async_payment_succeeded.json").await,
        200
    );
    // A SEPA debit that bounced, and a declined card (twice: Stripe's retry).
    assert_eq!(
        post("stripe/checkout_session_async_payment_failed.json").await,
        200
    );
    assert_eq!(post("stripe/payment_intent_payment_failed.json").await, 200);
    assert_eq!(post("stripe/payment_intent_payment_failed.json").await, 200);
    // A marker: the paid checkout of the first test is the next event after these.
    assert_eq!(post("stripe/checkout_session_completed.json").await, 200);
    let events = gw.events(&t, "0", 4).await.unwrap();
    let seen: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["payload"]["source"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "payment.confirmed",
                "checkout.session.async_payment_succeeded"
            ),
            ("payment.failed", "checkout.session.async_payment_failed"),
            ("payment.failed", "payment_intent.payment_failed"),
            ("payment.confirmed", "checkout.session.completed"),
        ],
        "the unpaid completion confirmed nothing, each retry added nothing"
    );
    let settled = &events[0]["payload"];
    assert_eq!(settled["paymentId"], "pi_3QmBacsIntent0000000001");
    assert_eq!(
        (settled["amount"].clone(), settled["currency"].clone()),
        (json!(4000), json!("gbp"))
    );
    let declined = &events[2]["payload"];
    assert_eq!(declined["paymentId"], "pi_3QmCardIntent0000000003");
    assert_eq!(declined["reason"], "Your card has insufficient funds.");
    assert_eq!(
        declined["amount"], 2500,
        "the amount asked, not the 0 received"
    );
    assert_eq!(declined["metadata"]["organizationId"], "org-d");
    let (_, list) = gw.admin("GET", "/admin/quarantine", None).await.unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "{list}");
}

both_modes!(the_simulator_sends_every_kind_correctly_signed);
async fn the_simulator_sends_every_kind_correctly_signed(mode: Mode) {
    let env = Env::new(mode).await;
    let gw = env.start().await;
    gw.seed_org("org-s", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-s", "admin-org-s", &ADMIN_ROLES);
    let simulate = |args: &[&str]| {
        let out = std::process::Command::new(binary())
            .arg("simulate")
            .args(args)
            .args(["--url", &gw.base])
            .env("PITCHSIDE_WHATSAPP_APP_SECRET", APP_SECRET)
            .env("PITCHSIDE_STRIPE_WEBHOOK_SECRET", STRIPE_SECRET)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "simulate {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let who = ["--phone-number-id", PHONE, "--from", WA];
    simulate(
        &[
            &["whatsapp", "button-reply", "--payload", "avail:m-9:maybe"][..],
            &who,
        ]
        .concat(),
    );
    simulate(&[&["whatsapp", "location"][..], &who].concat());
    simulate(&[&["whatsapp", "image", "--text", "nets"][..], &who].concat());
    simulate(
        &[
            &[
                "whatsapp",
                "status",
                "--message-id",
                "wamid.out.s",
                "--status",
                "read",
            ][..],
            &who,
        ]
        .concat(),
    );
    simulate(&["payment", "--org", "org-s", "--amount", "1200"]);
    let events = gw.events(&t, "0", 6).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "message.received",
            "availability.updated",
            "message.received",
            "message.received",
            "message.status.updated",
            "payment.confirmed"
        ]
    );
    assert_eq!(events[1]["payload"]["response"], "maybe");
    assert_eq!(events[2]["payload"]["type"], "location");
    assert_eq!(events[3]["payload"]["text"], "nets");
    assert_eq!(events[4]["payload"]["status"], "read");
    assert_eq!(events[5]["payload"]["amount"], 1200);

    // A bad secret is reported, not swallowed.
    let out = std::process::Command::new(binary())
        .args(["simulate", "whatsapp", "text", "--url", &gw.base])
        .args(who)
        .env("PITCHSIDE_WHATSAPP_APP_SECRET", "wrong")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
}

/// The embedded worker is killed (SIGKILL) in the middle of a batch and restarted on
/// the same data: every message is stored and emitted exactly once. (The AWS worker's
/// counterpart is in `lambda_functions.rs`.)
#[tokio::test]
async fn a_worker_killed_mid_batch_loses_and_doubles_nothing() {
    let env = Env::new(Mode::Embedded).await;
    let gw = env.start().await;
    gw.seed_org("org-x", PHONE, WA).await.unwrap();
    let t = token(JWT_SECRET, "org-x", "admin-org-x", &ADMIN_ROLES);
    // Long enough a batch to be killed inside, and fewer events than a subscriber's ring
    // (1,024), which the replay after the restart must not overflow.
    let n = 1000;
    let messages: Vec<Value> = (0..n)
        .map(|i| {
            json!({"from": WA, "id": format!("wamid.x.{i:03}"), "timestamp": "1764140000",
            "type": "text", "text": {"body": format!("{i}")}})
        })
        .collect();
    let batch = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1",
        "changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": PHONE}, "messages": messages}}]}]}))
    .unwrap();
    assert_eq!(gw.post_signed(&batch).await.unwrap(), 200);
    // The first event in the log proves the worker is inside the batch (it pushes the
    // batch's events only once they are all on disk); kill it there.
    loop {
        let page = gw.catch_up(&t, "after=0&limit=1").await.unwrap();
        if let Some(first) = page["data"].as_array().and_then(|d| d.first()) {
            assert_eq!(first["payload"]["messageId"], "wamid.x.000");
            break;
        }
    }
    gw.kill().await.unwrap();

    let gw = env.start().await;
    let events = through_marker(&gw, &t, "0", n).await;
    for (i, e) in events[..n].iter().enumerate() {
        assert_eq!(e["payload"]["messageId"], format!("wamid.x.{i:03}"));
        assert_eq!(e["id"], (i + 1).to_string(), "ids stay contiguous");
    }
}

/// When the queue cannot take the payload, the webhook answers a 5xx so that Meta (or
/// Stripe) retries, and never a 200.
#[tokio::test]
async fn a_queue_that_cannot_take_the_payload_is_a_5xx() {
    let mut env = Env::new(Mode::Aws).await;
    for (k, v) in env.vars.iter_mut() {
        if k == "PITCHSIDE_QUEUE_URL" {
            *v = format!(
                "{}/000000000000/no-such-queue",
                v.rsplitn(3, '/').last().unwrap()
            );
        }
    }
    let gw = env.start().await;
    let body = fixture("whatsapp/text.json", &subs("m-1"));
    assert_eq!(gw.post_signed(&body).await.unwrap(), 503);
    let event = fixture(
        "stripe/checkout_session_completed.json",
        &[("__ORG__", "org-p")],
    );
    let sig = Some(stripe_sign(STRIPE_SECRET, &event, unix_now()));
    assert_eq!(gw.post_payment(&event, sig).await.unwrap(), 503);
}

/// A TLS front for the gateway on loopback, as a deployment's HTTPS endpoint is: each
/// connection is decrypted and piped to the gateway. Answers its port and the PEM of its
/// self-signed certificate (for `localhost`).
async fn tls_front(gateway: &str) -> (u16, String) {
    use tokio_rustls::rustls;
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let pem = cert.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let gateway = gateway.to_string();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, gateway) = (acceptor.clone(), gateway.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends the handshake.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut upstream = tokio::net::TcpStream::connect(&gateway).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    (port, pem)
}

#[tokio::test]
async fn the_simulator_reaches_a_deployment_over_https() {
    let env = Env::new(Mode::Embedded).await;
    let gw = env.start().await;
    gw.seed_org("org-tls", PHONE, WA).await.unwrap();
    let (port, pem) = tls_front(&gw.addr).await;
    let ca = env.dir.path().join("front.pem");
    std::fs::write(&ca, pem).unwrap();
    let url = format!("https://localhost:{port}");
    // Awaited, not blocking: the TLS front runs on this test's runtime.
    let simulate = |extra: &[&str]| {
        tokio::process::Command::new(binary())
            .args([
                "simulate", "whatsapp", "text", "--url", &url, "--text", "over tls",
            ])
            .args(["--phone-number-id", PHONE, "--from", WA])
            .args(extra)
            .env("PITCHSIDE_WHATSAPP_APP_SECRET", APP_SECRET)
            .output()
    };

    // A certificate nobody vouches for is refused, and the error says why.
    let out = simulate(&[]).await.unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("certificate"), "{err}");

    let out = simulate(&["--ca-cert", ca.to_str().unwrap()])
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = token(JWT_SECRET, "org-tls", "admin-org-tls", &ADMIN_ROLES);
    let events = gw.events(&t, "0", 1).await.unwrap();
    assert_eq!(events[0]["payload"]["text"], "over tls");
}
