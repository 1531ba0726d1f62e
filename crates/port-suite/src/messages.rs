//! Messages: inbound once, statuses that only move forward.

use crate::fresh_org;
use chrono::Utc;
use pitchside_core::ports::*;
use pitchside_domain::ids::PlayerId;

/// One test per case, for an adapter that `$make` builds afresh.
#[macro_export]
macro_rules! messages_tests {
    ($make:expr) => {
        $crate::cases!(messages, $make, [messages]);
    };
}

pub async fn messages(store: &dyn MessageStore) {
    let a = fresh_org("msg-a");
    let b = fresh_org("msg-b");
    let rec = InboundRecord {
        message_id: "wamid.1".into(),
        from: Some("9198".into()),
        from_user_id: None,
        player_id: Some(PlayerId::new("p-1").unwrap()),
        name: Some("Ravi".into()),
        kind: "text".into(),
        text: Some("yes".into()),
        content: serde_json::json!({"kind": "text", "body": "yes"}),
        reply_to: None,
        sent_at: Utc::now(),
        received_at: Utc::now(),
    };
    assert!(store.record_inbound(&a, &rec).await.unwrap());
    assert!(
        !store.record_inbound(&a, &rec).await.unwrap(),
        "recorded once"
    );
    assert!(
        store.record_inbound(&b, &rec).await.unwrap(),
        "ids are per organization"
    );
    let got = store.inbound(&a, "wamid.1").await.unwrap().unwrap();
    assert_eq!(got.text, rec.text);
    assert_eq!(got.player_id, rec.player_id);
    assert_eq!(store.inbound(&a, "wamid.2").await.unwrap(), None);

    // Statuses only move forward.
    use pitchside_domain::receipts::{DeliveryStatus as D, StatusChange as C, StatusRecord};
    let status = |s| StatusRecord {
        message_id: "wamid.out".into(),
        status: s,
        at: Utc::now(),
        recipient: Some("9198".into()),
        recipient_user_id: None,
        errors: vec![],
    };
    assert_eq!(
        store
            .advance_status(&a, &status(D::Delivered))
            .await
            .unwrap(),
        C::Advanced
    );
    assert_eq!(
        store.advance_status(&a, &status(D::Sent)).await.unwrap(),
        C::Stale
    );
    assert_eq!(
        store
            .advance_status(&a, &status(D::Delivered))
            .await
            .unwrap(),
        C::Same
    );
    assert_eq!(
        store.advance_status(&a, &status(D::Read)).await.unwrap(),
        C::Advanced
    );
    assert_eq!(
        store
            .advance_status(&a, &status(D::Delivered))
            .await
            .unwrap(),
        C::Stale
    );
    assert_eq!(
        store.status(&a, "wamid.out").await.unwrap().unwrap().status,
        D::Read
    );
    assert_eq!(store.status(&b, "wamid.out").await.unwrap(), None);
    assert_eq!(
        store.advance_status(&b, &status(D::Sent)).await.unwrap(),
        C::Advanced
    );
    // Of concurrent updates, the furthest wins whatever the order.
    let other = "wamid.race".to_string();
    let racing = [
        D::Sent,
        D::Read,
        D::Delivered,
        D::Sent,
        D::Delivered,
        D::Read,
    ];
    let results = futures_util::future::join_all(racing.iter().map(|d| {
        let rec = StatusRecord {
            message_id: other.clone(),
            ..status(*d)
        };
        let a = a.clone();
        async move { store.advance_status(&a, &rec).await.unwrap() }
    }))
    .await;
    assert!(results.contains(&C::Advanced));
    assert_eq!(
        store.status(&a, &other).await.unwrap().unwrap().status,
        D::Read
    );
}
