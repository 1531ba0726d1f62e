//! The quarantine: entries, repeats, bodies and replays.

use chrono::{Duration as Age, Utc};
use pitchside_core::ports::*;

/// One test per case, for an adapter that `$make` builds afresh.
#[macro_export]
macro_rules! quarantine_tests {
    ($make:expr) => {
        $crate::cases!(quarantine, $make, [quarantine]);
    };
}

pub async fn quarantine(store: &dyn QuarantineStore) {
    use pitchside_domain::quarantine::Reason;
    use pitchside_domain::work::WorkKind;
    let tag = hex::encode(rand::random::<[u8; 6]>());
    // Larger than one DynamoDB item, so the AWS adapter must split it.
    let body: Vec<u8> = format!("{tag}:")
        .into_bytes()
        .into_iter()
        .chain((0..900_000u32).map(|i| (i % 251) as u8))
        .collect();
    let t0 = Utc::now();
    let first = store
        .quarantine(
            WorkKind::WhatsappNotification,
            Reason::UnknownNumber,
            "no org",
            &body,
            t0,
        )
        .await
        .unwrap();
    assert_eq!((first.times, first.bytes), (1, body.len()));
    let again = store
        .quarantine(
            WorkKind::WhatsappNotification,
            Reason::UnknownNumber,
            "still no org",
            &body,
            t0 + Age::seconds(1),
        )
        .await
        .unwrap();
    assert_eq!(again.id, first.id, "the same payload is one entry");
    assert_eq!((again.times, again.detail.as_str()), (2, "still no org"));
    let small = store
        .quarantine(
            WorkKind::StripeEvent,
            Reason::Malformed,
            "bad",
            tag.as_bytes(),
            t0 + Age::seconds(2),
        )
        .await
        .unwrap();
    let listed = store.quarantined(1000).await.unwrap();
    let pos = |id: &str| listed.iter().position(|e| e.id == id).unwrap();
    assert!(pos(&small.id) < pos(&first.id), "newest first");
    let (entry, got) = store.quarantined_body(&first.id).await.unwrap().unwrap();
    assert_eq!(entry, again);
    assert!(got == body, "the body comes back byte for byte");
    assert_eq!(store.quarantined_body("q_nope").await.unwrap(), None);
    store
        .mark_replayed(&small.id, t0 + Age::seconds(3))
        .await
        .unwrap();
    let (replayed, _) = store.quarantined_body(&small.id).await.unwrap().unwrap();
    assert!(replayed.replayed_at.is_some());
}
