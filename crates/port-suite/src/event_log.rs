//! The event log: ids per organization, dedup keys, reads by id and time, concurrent
//! appends.

use crate::{fresh_org, new_event};
use chrono::{Duration as Age, Utc};
use pitchside_core::ports::*;
use pitchside_domain::event::EventId;

/// One test per case, for an adapter that `$make` builds afresh.
#[macro_export]
macro_rules! event_log_tests {
    ($make:expr) => {
        $crate::cases!(
            event_log,
            $make,
            [
                ids_are_per_organization,
                a_dedup_key_answers_the_first_event,
                reads_follow_ids,
                reads_by_time,
                concurrent_appends_never_share_an_id,
            ]
        );
    };
}

pub async fn ids_are_per_organization(log: &dyn EventLog) {
    let a = fresh_org("log-a");
    let b = fresh_org("log-b");
    assert_eq!(log.bounds(&a).await.unwrap(), LogBounds::default());
    let first = log.append(&a, new_event("one", None)).await.unwrap();
    assert!(first.created);
    assert_eq!(first.event.id, EventId(1));
    assert_eq!(first.event.organization_id, a);
    let second = log.append(&a, new_event("two", None)).await.unwrap();
    assert_eq!(second.event.id, EventId(2));
    // Another organization has its own sequence.
    let other = log.append(&b, new_event("b-one", None)).await.unwrap();
    assert_eq!(other.event.id, EventId(1));
    assert_eq!(log.bounds(&a).await.unwrap().head, EventId(2));
}

pub async fn a_dedup_key_answers_the_first_event(log: &dyn EventLog) {
    let a = fresh_org("log-a");
    let b = fresh_org("log-b");
    let first = log.append(&a, new_event("one", Some("k1"))).await.unwrap();
    // The same dedup key returns the first event and writes nothing.
    let again = log
        .append(&a, new_event("one, redelivered", Some("k1")))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.event, first.event);
    assert_eq!(log.bounds(&a).await.unwrap().head, EventId(1));
    // A dedup key is scoped to its organization.
    assert!(
        log.append(&b, new_event("b-two", Some("k1")))
            .await
            .unwrap()
            .created
    );
}

pub async fn reads_follow_ids(log: &dyn EventLog) {
    let a = fresh_org("log-a");
    let first = log.append(&a, new_event("one", None)).await.unwrap();
    let second = log.append(&a, new_event("two", None)).await.unwrap();
    let page = log
        .read(&a, ReadFrom::After(EventId::ZERO), 10)
        .await
        .unwrap();
    assert_eq!(page.events, vec![first.event.clone(), second.event.clone()]);
    assert_eq!(page.bounds.head, EventId(2));
    let page = log.read(&a, ReadFrom::After(EventId(1)), 10).await.unwrap();
    assert_eq!(page.events, vec![second.event.clone()]);
    let page = log
        .read(&a, ReadFrom::After(EventId::ZERO), 1)
        .await
        .unwrap();
    assert_eq!(page.events, vec![first.event.clone()]);
    let page = log.read(&a, ReadFrom::After(EventId(2)), 10).await.unwrap();
    assert!(page.events.is_empty());
    // The head alone, as a poll reads it (an emulator is consistent at once; DynamoDB
    // may answer an older head, which the next poll corrects).
    assert_eq!(log.head(&a).await.unwrap(), EventId(2));
    // And the events alone, as a stream that knows where it stands reads them.
    assert_eq!(
        log.after(&a, EventId(1), 10).await.unwrap(),
        vec![second.event.clone()]
    );
    assert_eq!(
        log.after(&a, EventId::ZERO, 1).await.unwrap(),
        vec![first.event.clone()]
    );
    // Another organization's log is not this one's.
    let b = fresh_org("log-b");
    let page = log
        .read(&b, ReadFrom::After(EventId::ZERO), 10)
        .await
        .unwrap();
    assert!(page.events.is_empty());
    assert_eq!(log.head(&b).await.unwrap(), EventId::ZERO);
}

pub async fn reads_by_time(log: &dyn EventLog) {
    let a = fresh_org("log-a");
    let first = log.append(&a, new_event("one", None)).await.unwrap();
    log.append(&a, new_event("two", None)).await.unwrap();
    let since = log
        .read(
            &a,
            ReadFrom::Since(first.event.timestamp - Age::seconds(1)),
            10,
        )
        .await
        .unwrap();
    assert_eq!(since.events.len(), 2);
    let future = log
        .read(&a, ReadFrom::Since(Utc::now() + Age::hours(1)), 10)
        .await
        .unwrap();
    assert!(future.events.is_empty());
}

pub async fn concurrent_appends_never_share_an_id(log: &dyn EventLog) {
    let a = fresh_org("log-a");
    log.append(&a, new_event("one", None)).await.unwrap();
    log.append(&a, new_event("two", None)).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        tasks.push(log.append(&a, new_event(&format!("c{i}"), None)));
    }
    let mut ids: Vec<u64> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap().event.id.0)
        .collect();
    ids.sort();
    assert_eq!(ids, (3..23).collect::<Vec<_>>());
    assert_eq!(log.bounds(&a).await.unwrap().head, EventId(22));
}
