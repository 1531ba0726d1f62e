//! Hostile input: arbitrary bytes and arbitrary JSON fed to the payload parsers, the
//! signature checks and the worker itself. Nothing may panic, and every input has a
//! clear outcome: read, refused with a reason, or quarantined.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)] // a test may panic and read the clock

use pitchside_core::app::worker::{self, WorkError};
use pitchside_core::live::{Hub, MemoryRegistry};
use pitchside_core::ports::Ports;
use pitchside_domain::quarantine::Reason;
use pitchside_domain::stripe;
use pitchside_domain::whatsapp::{parse_notification, sign, verify_signature};
use pitchside_domain::work::{QueuedWork, WorkKind};
use pitchside_embedded::{Db, SqliteQueue, SqliteStore};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::Arc;

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        // The names the parser looks for, so that the interesting paths are reached.
        prop::sample::select(vec![
            "whatsapp_business_account",
            "messages",
            "text",
            "interactive",
            "button_reply",
            "list_reply",
            "button",
            "reaction",
            "image",
            "location",
            "contacts",
            "unsupported",
            "failed",
            "read",
            "delivered",
            "sent",
            "avail:m-1:yes",
            "yes",
            "👍",
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        let keys = prop::sample::select(vec![
            "object",
            "entry",
            "id",
            "changes",
            "field",
            "value",
            "metadata",
            "phone_number_id",
            "contacts",
            "wa_id",
            "user_id",
            "profile",
            "name",
            "messages",
            "from",
            "from_user_id",
            "timestamp",
            "type",
            "text",
            "body",
            "interactive",
            "button_reply",
            "list_reply",
            "title",
            "button",
            "payload",
            "reaction",
            "emoji",
            "message_id",
            "image",
            "caption",
            "location",
            "latitude",
            "longitude",
            "statuses",
            "status",
            "recipient_id",
            "errors",
            "code",
            "error_data",
            "details",
            "context",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..6).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

/// Arbitrary JSON, sometimes inside a well-formed envelope so the inner readers run.
fn any_notification() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        any_json().prop_map(|v| serde_json::to_vec(&json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": v}]}]
        }))
        .unwrap()),
        any_json().prop_map(|m| serde_json::to_vec(&json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
                "metadata": {"phone_number_id": "1"}, "messages": [m], "statuses": [m]}}]}]
        }))
        .unwrap()),
        prop::collection::vec(any::<u8>(), 0..256),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_parser_reads_or_refuses_anything(body in any_notification()) {
        if let Ok(n) = parse_notification(&body) {
            for change in n.entries.iter().flat_map(|e| &e.changes) {
                match change.read() {
                    Ok(v) => {
                        for m in &v.messages {
                            prop_assert!(!m.id.is_empty(), "a message is always keyed");
                            let _ = v.sender_of(m);
                        }
                        for s in &v.statuses {
                            prop_assert!(!s.message_id.is_empty());
                        }
                    }
                    Err(e) => prop_assert!(!e.to_string().is_empty()),
                }
            }
        }
    }

    #[test]
    fn signatures_verify_only_their_own_body(
        body in prop::collection::vec(any::<u8>(), 0..512),
        header in ".{0,80}",
        secret in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        prop_assert!(verify_signature(&secret, Some(&sign(&secret, &body)), &body).is_ok());
        if header != sign(&secret, &body) {
            prop_assert!(verify_signature(&secret, Some(&header), &body).is_err());
        }
        let now = chrono::Utc::now();
        let good = stripe::sign(&secret, &body, now.timestamp());
        prop_assert!(stripe::verify(&secret, Some(&good), &body, now).is_ok());
        if !header.contains(&good) {
            prop_assert!(stripe::verify(&secret, Some(&header), &body, now).is_err());
        }
        let _ = stripe::parse_event(&body);
    }
}

fn ports(dir: &std::path::Path) -> Ports {
    let db = Db::open(dir).unwrap();
    let store = Arc::new(SqliteStore::new(db.clone()));
    Ports::new(
        store,
        Arc::new(SqliteQueue::new(db, pitchside_domain::limits::MAX_RECEIVES)),
        Arc::new(MemoryRegistry::default()),
        Arc::new(Hub::new(16)),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Any signed body reaches a clear end in the worker: processed, or quarantined with
    /// a reason; it never fails in a way a retry would repeat forever, and never panics.
    #[test]
    fn the_worker_has_a_clear_outcome_for_any_body(
        body in any_notification(),
        stripe_kind in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ports = ports(dir.path());
        let kind = if stripe_kind { WorkKind::StripeEvent } else { WorkKind::WhatsappNotification };
        let work = QueuedWork::new(kind, chrono::Utc::now(), None, &body);
        let outcome = rt.block_on(worker::process(&ports, &work.to_bytes()));
        match outcome {
            Ok(o) => {
                // No organization exists, so nothing may be attributed to one.
                prop_assert_eq!(o.events_appended, 0);
                let listed = rt.block_on(ports.quarantine.quarantined(100)).unwrap();
                let times: u32 = listed.iter().map(|e| e.times).sum();
                prop_assert_eq!(times as usize, o.quarantined, "each quarantining is on record");
                for e in listed {
                    prop_assert!(matches!(e.reason, Reason::Malformed | Reason::UnknownNumber | Reason::UnknownOrganization));
                    prop_assert!(!e.detail.is_empty());
                }
            }
            Err(WorkError::Retry(e)) => prop_assert!(false, "a store failure on hostile input: {}", e),
            Err(WorkError::Permanent(reason)) => prop_assert!(false, "a signed body went to the dead letters: {}", reason),
        }
    }
}

#[test]
fn queue_messages_that_are_not_work_are_permanent_failures() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ports = ports(dir.path());
    for bad in [
        &b"not work"[..],
        b"{}",
        br#"{"kind":"whatsapp.notification","receivedAt":"2026-01-01T00:00:00Z","body":"%%%"}"#,
    ] {
        assert!(matches!(
            rt.block_on(worker::process(&ports, bad)),
            Err(WorkError::Permanent(_))
        ));
    }
}
