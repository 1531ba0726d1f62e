//! Tickets: single use, expiry, scoped grants.

use crate::fresh_org;
use chrono::{Duration as Age, Utc};
use pitchside_core::ports::*;
use pitchside_domain::auth::Role;
use pitchside_domain::ids::UserId;

/// One test per case, for an adapter that `$make` builds afresh.
#[macro_export]
macro_rules! tickets_tests {
    ($make:expr) => {
        $crate::cases!(tickets, $make, [tickets]);
    };
}

pub async fn tickets(store: &dyn TicketStore) {
    let grant = TicketGrant {
        org: fresh_org("tix"),
        user: UserId::new("u-1").unwrap(),
        roles: vec![Role::Viewer],
        name: Some("Asha".into()),
    };
    let digest: [u8; 32] = rand::random();
    let now = Utc::now();
    store
        .put_ticket(&digest, &grant, now + Age::seconds(60))
        .await
        .unwrap();
    assert_eq!(
        store.redeem_ticket(&digest, now).await.unwrap(),
        Some(grant.clone())
    );
    assert_eq!(
        store.redeem_ticket(&digest, now).await.unwrap(),
        None,
        "single use"
    );
    let expired: [u8; 32] = rand::random();
    store
        .put_ticket(&expired, &grant, now + Age::seconds(60))
        .await
        .unwrap();
    assert_eq!(
        store
            .redeem_ticket(&expired, now + Age::seconds(61))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.redeem_ticket(&rand::random(), now).await.unwrap(),
        None
    );
}
