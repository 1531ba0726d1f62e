//! Availability: requests, answers that only move forward in time, the sheet.

use crate::fresh_org;
use chrono::{Duration as Age, Utc};
use pitchside_core::ports::*;
use pitchside_domain::ids::PlayerId;

/// One test per case, for an adapter that `$make` builds afresh.
#[macro_export]
macro_rules! availability_tests {
    ($make:expr) => {
        $crate::cases!(availability, $make, [availability]);
    };
}

pub async fn availability(store: &dyn AvailabilityStore) {
    use pitchside_domain::availability::{Answer, Response, Source};
    use pitchside_domain::ids::MatchId;
    let a = fresh_org("avail-a");
    let b = fresh_org("avail-b");
    let m1 = MatchId::new("m-1").unwrap();
    let m2 = MatchId::new("m-2").unwrap();
    let (p1, p2) = (PlayerId::new("p-1").unwrap(), PlayerId::new("p-2").unwrap());
    let t0 = Utc::now();
    assert_eq!(store.latest_request(&a, &p1).await.unwrap(), None);
    store
        .request_availability(&a, &m1, &[p1.clone(), p2.clone()], t0)
        .await
        .unwrap();
    assert_eq!(
        store.latest_request(&a, &p1).await.unwrap(),
        Some(m1.clone())
    );
    assert_eq!(store.latest_request(&b, &p1).await.unwrap(), None);
    assert_eq!(
        store.availability(&a, &m1).await.unwrap(),
        vec![(p1.clone(), None), (p2.clone(), None)]
    );
    let answer = |r, at| Answer {
        player_id: p1.clone(),
        response: r,
        updated_at: at,
        updated_by: Source::Whatsapp,
        message_id: Some("wamid.a".into()),
    };
    let yes = answer(Response::Yes, t0 + Age::seconds(10));
    assert_eq!(
        store.set_availability(&a, &m1, &yes).await.unwrap(),
        Applied::Yes
    );
    assert_eq!(
        store.set_availability(&a, &m1, &yes).await.unwrap(),
        Applied::Yes,
        "the same answer again is harmless"
    );
    let older = answer(Response::No, t0 + Age::seconds(5));
    assert_eq!(
        store.set_availability(&a, &m1, &older).await.unwrap(),
        Applied::Stale
    );
    let sheet = store.availability(&a, &m1).await.unwrap();
    assert_eq!(
        sheet,
        vec![(p1.clone(), Some(yes.clone())), (p2.clone(), None)]
    );
    assert!(store.availability(&b, &m1).await.unwrap().is_empty());
    // Asking again keeps the answer; a later request becomes the latest.
    store
        .request_availability(&a, &m1, std::slice::from_ref(&p1), t0 + Age::seconds(20))
        .await
        .unwrap();
    assert_eq!(store.availability(&a, &m1).await.unwrap()[0].1, Some(yes));
    store
        .request_availability(&a, &m2, std::slice::from_ref(&p1), t0 + Age::seconds(30))
        .await
        .unwrap();
    assert_eq!(
        store.latest_request(&a, &p1).await.unwrap(),
        Some(m2.clone())
    );
    // A request recorded late, older than the latest, does not take over.
    store
        .request_availability(&a, &m1, std::slice::from_ref(&p1), t0 + Age::seconds(25))
        .await
        .unwrap();
    assert_eq!(store.latest_request(&a, &p1).await.unwrap(), Some(m2));
}
