//! The embedded adapters against the ports' shared suite.

use pitchside::embedded::{Db, MemoryRegistry, SqliteQueue, SqliteStore};
use pitchside::port_suite;

fn store() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    (dir, db)
}

#[tokio::test]
async fn event_log() {
    let (_d, db) = store();
    port_suite::event_log(&SqliteStore::new(db)).await;
}

#[tokio::test]
async fn directory() {
    let (_d, db) = store();
    port_suite::directory(&SqliteStore::new(db)).await;
}

#[tokio::test]
async fn tickets() {
    let (_d, db) = store();
    port_suite::tickets(&SqliteStore::new(db)).await;
}

#[tokio::test]
async fn messages() {
    let (_d, db) = store();
    port_suite::messages(&SqliteStore::new(db)).await;
}

#[tokio::test]
async fn queue() {
    let (_d, db) = store();
    port_suite::queue(&SqliteQueue::new(db, 3), 3).await;
}

#[tokio::test]
async fn registry() {
    port_suite::registry(&MemoryRegistry::default()).await;
}

#[tokio::test]
async fn the_store_survives_reopening() {
    use pitchside::ports::{EventLog, Queue, ReadFrom};
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
                pitchside::domain::event::NewEvent {
                    kind: pitchside::domain::event::EventType::PaymentConfirmed,
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
