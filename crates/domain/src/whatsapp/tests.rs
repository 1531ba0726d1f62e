//! The parser against payloads shaped as in Meta's webhook reference.

use super::*;
use serde_json::json;

fn change(value: serde_json::Value) -> ChangeValue {
    let body = serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]
    }))
    .unwrap();
    let n = parse_notification(&body).unwrap();
    n.entries[0].changes[0].read().unwrap()
}

#[test]
fn every_message_kind_is_typed() {
    let v = change(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
        "messages": [
            {"from": "16505551234", "id": "w1", "timestamp": "1749416383", "type": "text", "text": {"body": "yes"}},
            {"context": {"from": "15550783881", "id": "w0"}, "from": "16505551234", "id": "w2", "timestamp": "1749416383",
             "type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "avail:m_1:yes", "title": "Yes"}}},
            {"from": "16505551234", "id": "w3", "timestamp": "1", "type": "interactive",
             "interactive": {"type": "list_reply", "list_reply": {"id": "r2", "title": "Maybe", "description": "not sure"}}},
            {"from": "16505551234", "id": "w4", "timestamp": "1", "type": "button", "button": {"payload": "avail:m_1:no", "text": "No"}},
            {"from": "16505551234", "id": "w5", "timestamp": "1", "type": "reaction", "reaction": {"message_id": "w0", "emoji": "👍"}},
            {"from": "16505551234", "id": "w6", "timestamp": "1", "type": "image", "image": {"caption": "nets", "mime_type": "image/jpeg", "sha256": "abc", "id": "1003383421387256"}},
            {"from": "16505551234", "id": "w7", "timestamp": "1", "type": "location", "location": {"latitude": 37.48, "longitude": -122.14, "name": "Ground"}},
            {"from": "16505551234", "id": "w8", "timestamp": "1", "type": "contacts", "contacts": [{"name": {"formatted_name": "Ravi"}, "phones": [{"phone": "+91 98", "wa_id": "9198"}]}]},
            {"from": "16505551234", "id": "w9", "timestamp": "1", "type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown", "error_data": {"details": "not supported"}}]},
            {"from": "16505551234", "id": "w10", "timestamp": "1", "type": "order", "order": {"catalog_id": "1"}}
        ]
    }));
    let kinds: Vec<&Content> = v.messages.iter().map(|m| &m.content).collect();
    assert!(matches!(kinds[0], Content::Text { body } if body == "yes"));
    assert!(matches!(kinds[1], Content::ButtonReply { id, .. } if id == "avail:m_1:yes"));
    assert_eq!(v.messages[1].reply_to.as_deref(), Some("w0"));
    assert!(matches!(kinds[2], Content::ListReply { description: Some(d), .. } if d == "not sure"));
    assert!(matches!(kinds[3], Content::Button { payload: Some(p), .. } if p == "avail:m_1:no"));
    assert!(matches!(kinds[4], Content::Reaction { emoji: Some(e), .. } if e == "👍"));
    assert!(
        matches!(kinds[5], Content::Media(m) if m.id == "1003383421387256" && m.caption.as_deref() == Some("nets"))
    );
    assert!(
        matches!(kinds[6], Content::Location { latitude, .. } if (*latitude - 37.48).abs() < 1e-9)
    );
    assert!(matches!(kinds[7], Content::Contacts { contacts } if contacts[0].phones == ["9198"]));
    assert!(matches!(kinds[8], Content::Unsupported { errors } if errors[0].code == Some(131051)));
    assert!(matches!(kinds[9], Content::Other { .. }));
    assert_eq!(v.messages[9].kind, "order");
    assert_eq!(v.profile_name(&v.messages[0].sender), Some("Sheena Nelson"));
}

#[test]
fn a_sender_may_be_named_by_user_id_only() {
    let v = change(json!({
        "metadata": {"phone_number_id": "1"},
        "contacts": [{"profile": {"name": "Asha"}, "user_id": "US.1349"}],
        "messages": [{"from_user_id": "US.1349", "id": "w1", "timestamp": "1", "type": "text", "text": {"body": "y"}}]
    }));
    let sender = v.sender_of(&v.messages[0]);
    assert_eq!(sender.wa_id, None);
    assert_eq!(sender.user_id.as_deref(), Some("US.1349"));
    assert_eq!(v.profile_name(&sender), Some("Asha"));
    // No sender field at all: the one contact is the sender.
    let v = change(json!({
        "metadata": {"phone_number_id": "1"},
        "contacts": [{"profile": {"name": "Asha"}, "wa_id": "9199", "user_id": "US.1"}],
        "messages": [{"id": "w1", "type": "text", "text": {"body": "y"}}]
    }));
    let sender = v.sender_of(&v.messages[0]);
    assert_eq!(sender.wa_id.as_deref(), Some("9199"));
    assert_eq!(sender.user_id.as_deref(), Some("US.1"));
}

#[test]
fn statuses_and_errors_are_typed() {
    let v = change(json!({
        "metadata": {"phone_number_id": "1"},
        "statuses": [
            {"id": "wamid.out", "status": "failed", "timestamp": "1750263773", "recipient_id": "16505551234",
             "errors": [{"code": 131049, "title": "This message was not delivered to maintain healthy ecosystem engagement.",
                         "message": "m", "error_data": {"details": "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."}}]}
        ],
        "errors": [{"code": 130429, "title": "Rate limit hit"}]
    }));
    assert_eq!(v.statuses[0].status, "failed");
    assert_eq!(v.statuses[0].errors[0].code, Some(131049));
    assert_eq!(v.statuses[0].timestamp, Some(1_750_263_773));
    assert_eq!(v.errors[0].title.as_deref(), Some("Rate limit hit"));
}

#[test]
fn what_is_an_error_and_what_is_not() {
    for bad in [
        &b"not json"[..],
        b"[1]",
        b"{}",
        br#"{"object":"x","entry":{}}"#,
        br#"{"object":"x","entry":[1]}"#,
    ] {
        assert!(
            parse_notification(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    // A change without messages, statuses or metadata is read (and has no number).
    let v = change(json!({"event": "APPROVED", "message_template_id": 1}));
    assert_eq!(v.phone_number_id, None);
    // A message without an id cannot be deduplicated: the change is refused.
    let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"type":"text"}]}}]}]}"#;
    let n = parse_notification(body).unwrap();
    assert!(n.entries[0].changes[0].read().is_err());
}
