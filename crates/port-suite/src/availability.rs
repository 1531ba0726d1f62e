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

pub async fn availability<S: AvailabilityStore + EventLog + ?Sized>(store: &S) {
    use pitchside_domain::availability::{Answer, Response, Source, availability_updated};
    use pitchside_domain::event::EventId;
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
    let updated = |ans: &Answer| availability_updated(&m1, ans, t0);
    let yes = answer(Response::Yes, t0 + Age::seconds(10));
    let Applied::Yes(first) = store
        .set_availability(&a, &m1, &yes, updated(&yes))
        .await
        .unwrap()
    else {
        panic!("a first answer is applied")
    };
    assert!(first.created);
    assert_eq!(first.event.payload["response"], "yes");
    let logged = store
        .read(&a, ReadFrom::After(EventId::ZERO), 10)
        .await
        .unwrap();
    assert_eq!(
        logged.events,
        vec![first.event.clone()],
        "the answer's event is in the log"
    );
    assert_eq!(
        store
            .set_availability(&a, &m1, &yes, updated(&yes))
            .await
            .unwrap(),
        Applied::Yes(Appended {
            event: first.event.clone(),
            created: false
        }),
        "the same answer again (a redelivery) is harmless, and answers its event"
    );
    let older = answer(Response::No, t0 + Age::seconds(5));
    let mut older_event = updated(&older);
    older_event.dedup_key = Some("wa:avail:wamid.older".into());
    assert_eq!(
        store
            .set_availability(&a, &m1, &older, older_event)
            .await
            .unwrap(),
        Applied::Stale
    );
    assert_eq!(
        store.bounds(&a).await.unwrap().head,
        first.event.id,
        "a stale answer appends nothing"
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
