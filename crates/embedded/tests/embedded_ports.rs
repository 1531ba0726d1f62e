//! The embedded adapters against the ports' shared suite.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)] // a test may panic and read the clock

use pitchside_core::live::MemoryRegistry;
use pitchside_embedded::{Db, SqliteQueue, SqliteStore};
use pitchside_port_suite as port_suite;

fn store() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    (dir, db)
}

/// An adapter with the temporary folder of its database, kept as long as it is.
struct Kept<A> {
    _dir: tempfile::TempDir,
    adapter: A,
}

impl<A> std::ops::Deref for Kept<A> {
    type Target = A;
    fn deref(&self) -> &A {
        &self.adapter
    }
}

fn sqlite_store() -> Kept<SqliteStore> {
    let (dir, db) = store();
    Kept {
        _dir: dir,
        adapter: SqliteStore::new(db),
    }
}

fn sqlite_queue() -> Kept<SqliteQueue> {
    let (dir, db) = store();
    Kept {
        _dir: dir,
        adapter: SqliteQueue::new(db, port_suite::queue::QUEUE_MAX_RECEIVES),
    }
}

pitchside_port_suite::store_tests!(sqlite_store());
pitchside_port_suite::queue_tests!(sqlite_queue());
pitchside_port_suite::registry_tests!(Box::new(MemoryRegistry::default()));

/// The handles the local worker uses (`Db::applied`: answered once committed, before the
/// disk has it) keep every promise of the ports too.
mod applied {
    use super::*;

    fn applied_store() -> Kept<SqliteStore> {
        let (dir, db) = store();
        Kept {
            _dir: dir,
            adapter: SqliteStore::new(db.applied()),
        }
    }

    fn applied_queue() -> Kept<SqliteQueue> {
        let (dir, db) = store();
        Kept {
            _dir: dir,
            adapter: SqliteQueue::new(db, port_suite::queue::QUEUE_MAX_RECEIVES).applied(),
        }
    }

    pitchside_port_suite::store_tests!(applied_store());
    pitchside_port_suite::queue_tests!(applied_queue());
}

/// What an applied handle wrote, a durable handle reads, and a flush (or any durable
/// write after it) puts it on disk: reopened, the store holds it.
#[tokio::test]
async fn applied_writes_are_read_at_once_and_kept_once_flushed() {
    use pitchside_core::ports::{EventLog, ReadFrom};
    let dir = tempfile::tempdir().unwrap();
    let org = port_suite::fresh_org("applied");
    let event = pitchside_domain::event::NewEvent {
        kind: pitchside_domain::event::EventType::PaymentConfirmed,
        payload: serde_json::json!({"amount": 7}),
        timestamp: chrono::Utc::now(),
        dedup_key: None,
    };
    let appended = {
        let db = Db::open(dir.path()).unwrap();
        let appended = SqliteStore::new(db.applied())
            .append(&org, event)
            .await
            .unwrap();
        let page = SqliteStore::new(db.clone())
            .read(&org, ReadFrom::After(Default::default()), 10)
            .await
            .unwrap();
        assert_eq!(page.events, vec![appended.event.clone()]);
        db.flushed().await.unwrap();
        appended
    };
    let page = SqliteStore::new(Db::open(dir.path()).unwrap())
        .read(&org, ReadFrom::After(Default::default()), 10)
        .await
        .unwrap();
    assert_eq!(page.events, vec![appended.event]);
}

#[tokio::test]
async fn the_store_survives_reopening() {
    use pitchside_core::ports::{EventLog, Queue, ReadFrom};
    let dir = tempfile::tempdir().unwrap();
    let org = port_suite::fresh_org("reopen");
    let appended = {
        let db = Db::open(dir.path()).unwrap();
        SqliteQueue::new(db.clone(), 3)
            .send(b"queued")
            .await
            .unwrap();
        SqliteStore::new(db)
            .append(
                &org,
                pitchside_domain::event::NewEvent {
                    kind: pitchside_domain::event::EventType::PaymentConfirmed,
                    payload: serde_json::json!({"amount": 5}),
                    timestamp: chrono::Utc::now(),
                    dedup_key: None,
                },
            )
            .await
            .unwrap()
    };
    let db = Db::open(dir.path()).unwrap();
    let page = SqliteStore::new(db.clone())
        .read(&org, ReadFrom::After(Default::default()), 10)
        .await
        .unwrap();
    assert_eq!(page.events, vec![appended.event]);
    let got = SqliteQueue::new(db, 3)
        .receive(
            10,
            std::time::Duration::from_secs(30),
            std::time::Duration::ZERO,
        )
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, b"queued");
}

#[tokio::test]
async fn retention_trims_old_events_and_resuming_before_them_resets() {
    use pitchside_core::app::catchup::catch_up;
    use pitchside_core::ports::{EventLog, ReadFrom};
    use pitchside_domain::event::{EventId, EventType, NewEvent};
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::new(Db::open(dir.path()).unwrap());
    let org = port_suite::fresh_org("trim");
    let other = port_suite::fresh_org("keep");
    let now = chrono::Utc::now();
    let at = |age_days: i64, dedup: Option<&str>| NewEvent {
        kind: EventType::ChatMessageSent,
        payload: serde_json::json!({ "age": age_days }),
        timestamp: now - chrono::Duration::days(age_days),
        dedup_key: dedup.map(str::to_string),
    };
    for age in [9, 8, 1] {
        store
            .append(&org, at(age, Some(&format!("k{age}"))))
            .await
            .unwrap();
    }
    store.append(&other, at(0, None)).await.unwrap();

    let removed = store
        .trim_before(now - chrono::Duration::days(7))
        .await
        .unwrap();
    assert_eq!(removed, 2);
    let bounds = store.bounds(&org).await.unwrap();
    assert_eq!(
        (bounds.head, bounds.trimmed_through),
        (EventId(3), EventId(2))
    );
    assert_eq!(
        store.bounds(&other).await.unwrap().trimmed_through,
        EventId(0)
    );

    // Resuming after a removed id resets and starts from what is held.
    let page = catch_up(&store, &org, None, ReadFrom::After(EventId(1)), 10)
        .await
        .unwrap();
    assert!(page.reset);
    assert_eq!(
        page.data.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![EventId(3)]
    );
    // Resuming from the trim point itself is whole.
    let page = catch_up(&store, &org, None, ReadFrom::After(EventId(2)), 10)
        .await
        .unwrap();
    assert!(!page.reset);
    // A new event continues the ids.
    assert_eq!(
        store.append(&org, at(0, None)).await.unwrap().event.id,
        EventId(4)
    );
    // Trimming again with nothing old changes nothing.
    assert_eq!(
        store
            .trim_before(now - chrono::Duration::days(7))
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_restart_releases_what_the_last_run_was_processing() {
    use pitchside_core::ports::Queue;
    use std::time::Duration;
    let (_d, db) = store();
    let queue = SqliteQueue::new(db, 3);
    queue.send(b"interrupted").await.unwrap();
    let first = queue
        .receive(1, Duration::from_secs(300), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        queue
            .receive(1, Duration::from_secs(300), Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(queue.release_in_flight().await.unwrap(), 1);
    let again = queue
        .receive(1, Duration::from_secs(300), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        (again[0].body.as_slice(), again[0].receive_count),
        (b"interrupted".as_slice(), 2)
    );
    // The old receipt no longer deletes it.
    queue.delete(&first[0].receipt).await.unwrap();
    assert_eq!(queue.release_in_flight().await.unwrap(), 1);
}
