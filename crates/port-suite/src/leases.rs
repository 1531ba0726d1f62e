//! Stream leases: at most `max` per member, freed by release or by expiry, and only by
//! their holder.

use crate::fresh_org;
use chrono::{Duration as Age, Utc};
use pitchside_core::ports::*;
use pitchside_domain::ids::UserId;

/// One test per case, for an adapter that `$make` builds afresh.
#[macro_export]
macro_rules! leases_tests {
    ($make:expr) => {
        $crate::cases!(leases, $make, [leases]);
    };
}

pub async fn leases(store: &dyn StreamLeases) {
    let (org, other_org) = (fresh_org("lease"), fresh_org("lease-b"));
    let (asha, ravi) = (
        UserId::new("u-asha").unwrap(),
        UserId::new("u-ravi").unwrap(),
    );
    let now = Utc::now();
    let until = now + Age::seconds(60);
    let take = |org, user, stream: &'static str, at| async move {
        store
            .acquire(org, user, stream, 2, at, at + Age::seconds(60))
            .await
            .unwrap()
    };
    assert_eq!(take(&org, &asha, "s1", now).await, Some(0));
    assert_eq!(take(&org, &asha, "s2", now).await, Some(1));
    assert_eq!(take(&org, &asha, "s3", now).await, None, "two at most");
    assert_eq!(take(&org, &ravi, "r1", now).await, Some(0), "per member");
    assert_eq!(
        take(&other_org, &asha, "o1", now).await,
        Some(0),
        "per organization"
    );

    // Only the holder renews or releases.
    assert!(store.renew(&org, &asha, 1, "s2", until).await.unwrap());
    assert!(!store.renew(&org, &asha, 1, "s1", until).await.unwrap());
    store.release(&org, &asha, 0, "s2").await.unwrap();
    assert_eq!(take(&org, &asha, "s3", now).await, None, "not s2's to free");
    store.release(&org, &asha, 0, "s1").await.unwrap();
    assert_eq!(take(&org, &asha, "s3", now).await, Some(0), "released");

    // A holder that died frees its slot when its time runs out.
    let later = until + Age::seconds(1);
    assert_eq!(
        take(&org, &asha, "s4", later).await,
        Some(0),
        "s3's expired"
    );
    assert!(
        !store
            .renew(&org, &asha, 0, "s3", later + Age::seconds(60))
            .await
            .unwrap()
    );
    store.release(&org, &asha, 0, "s3").await.unwrap();
    assert_eq!(
        take(&org, &asha, "s5", later).await,
        Some(1),
        "s4 still holds slot 0"
    );

    // Many streams of one member (a load test's): each takes the next slot, a released
    // one is taken again first, and the cap still holds.
    let many = UserId::new("u-many").unwrap();
    let names: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        let got = store
            .acquire(&org, &many, name, 41, now, until)
            .await
            .unwrap();
        assert_eq!(got, Some(i as u32), "slot {i}");
    }
    store.release(&org, &many, 17, "m17").await.unwrap();
    let again = store
        .acquire(&org, &many, "m40", 41, now, until)
        .await
        .unwrap();
    assert_eq!(again, Some(17), "the released slot first");
    let last = store
        .acquire(&org, &many, "m41", 41, now, until)
        .await
        .unwrap();
    assert_eq!(last, Some(40));
    let over = store
        .acquire(&org, &many, "m42", 41, now, until)
        .await
        .unwrap();
    assert_eq!(over, None, "41 at most");
}
