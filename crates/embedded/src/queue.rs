//! The embedded durable queue, with SQS's semantics, in the same SQLite file as the
//! store: a message is acknowledged only once committed, stays hidden for its
//! visibility timeout after a receive, and moves to the dead letters once it has been
//! received `max_receives` times without being deleted.

use super::db::{Cached, Db, unavailable};
use async_trait::async_trait;
use chrono::Utc;
use pitchside_core::ports::{DeadLetter, Queue, QueueDepth, Received, StoreResult};
use rusqlite::params;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// SQS's longest delay.
const MAX_DELAY: Duration = Duration::from_secs(900);

#[derive(Clone)]
pub struct SqliteQueue {
    db: Db,
    max_receives: u32,
    /// Wakes long-polling receivers when a message is sent.
    arrived: Arc<Notify>,
}

impl SqliteQueue {
    pub fn new(db: Db, max_receives: u32) -> Self {
        Self {
            db,
            max_receives: max_receives.max(1),
            arrived: Arc::new(Notify::new()),
        }
    }

    /// The same queue, its writes answered once committed rather than once on disk
    /// (`Db::applied`): for the worker's receives and deletes, which a lost write only
    /// repeats (a message received or delivered again).
    pub fn applied(&self) -> Self {
        Self {
            db: self.db.applied(),
            max_receives: self.max_receives,
            arrived: self.arrived.clone(),
        }
    }

    /// Makes every message that a previous process had received (and not deleted)
    /// visible again at once. The local gateway is the embedded queue's only consumer,
    /// so at its start nothing is really in flight: without this, what a crash
    /// interrupted would wait out its visibility timeout, and later messages would
    /// overtake it. Their receive counts stand, so a poison message still goes to the
    /// dead letters. Answers how many were released.
    pub async fn release_in_flight(&self) -> StoreResult<usize> {
        self.db
            .write(|tx| {
                tx.run(
                    "UPDATE queue SET visible_ms = 0, receipt = NULL WHERE receipt IS NOT NULL",
                    [],
                )
                .map_err(unavailable)
            })
            .await
    }

    /// Sends a message that becomes visible at `visible_ms`.
    async fn send_at(&self, body: &[u8], visible_ms: i64) -> StoreResult<String> {
        let body = body.to_vec();
        let id = uuid_like();
        let message_id = id.clone();
        self.db
            .write(move |tx| {
                tx.run(
                    "INSERT INTO queue (message_id, body, visible_ms) VALUES (?1, ?2, ?3)",
                    params![message_id, body, visible_ms],
                )
                .map_err(unavailable)?;
                Ok(())
            })
            .await?;
        self.arrived.notify_waiters();
        Ok(id)
    }

    async fn try_receive(&self, max: usize, visibility: Duration) -> StoreResult<Vec<Received>> {
        let max_receives = self.max_receives as i64;
        let visibility_ms = i64::try_from(visibility.as_millis()).unwrap_or(i64::MAX);
        self.db
            .write(move |tx| {
                let now = Utc::now().timestamp_millis();
                // Redrive: what was received max_receives times and is visible again has
                // failed for good. (Found through the receive-count index: a deep queue
                // of fresh messages costs nothing here.)
                let dead = tx.run(
                    "INSERT INTO dead_letters (message_id, body, receive_count, dead_ms)
                     SELECT message_id, body, receive_count, ?1 FROM queue
                     WHERE seq IN (SELECT seq FROM queue WHERE receive_count >= ?2 AND visible_ms <= ?1)
                     ORDER BY seq",
                    params![now, max_receives],
                )
                .map_err(unavailable)?;
                tx.run(
                    "DELETE FROM queue WHERE receive_count >= ?2 AND visible_ms <= ?1",
                    params![now, max_receives],
                )
                .map_err(unavailable)?;
                // Oldest first, walking the queue in `seq` order (`+` keeps SQLite off
                // the visibility index, which would sort every visible message).
                let mut stmt = tx
                    .prepare_cached(
                        "UPDATE queue SET visible_ms = ?1 + ?2, receive_count = receive_count + 1,
                                receipt = lower(hex(randomblob(16)))
                         WHERE seq IN (SELECT seq FROM queue WHERE +visible_ms <= ?1 ORDER BY seq LIMIT ?3)
                         RETURNING seq, message_id, receipt, body, receive_count",
                    )
                    .map_err(unavailable)?;
                let mut got = stmt
                    .query_map(params![now, visibility_ms, i64::try_from(max).unwrap_or(i64::MAX)], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            Received {
                                message_id: r.get(1)?,
                                receipt: r.get(2)?,
                                body: r.get(3)?,
                                receive_count: r.get::<_, u32>(4)?,
                            },
                        ))
                    })
                    .map_err(unavailable)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unavailable)?;
                got.sort_by_key(|(seq, _)| *seq);
                Ok((dead, got.into_iter().map(|(_, r)| r).collect()))
            })
            .await
            .map(|(dead, got)| {
                if dead > 0 {
                    pitchside_core::metrics::dead_lettered(dead as u64);
                }
                got
            })
    }
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn send(&self, body: &[u8]) -> StoreResult<String> {
        self.send_at(body, Utc::now().timestamp_millis()).await
    }

    async fn send_delayed(&self, body: &[u8], delay: Duration) -> StoreResult<String> {
        let delay = i64::try_from(delay.min(MAX_DELAY).as_millis()).unwrap_or(i64::MAX);
        self.send_at(body, Utc::now().timestamp_millis() + delay)
            .await
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> StoreResult<Vec<Received>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Register interest before looking, so a send between the look and the
            // wait is not missed.
            let arrived = self.arrived.notified();
            let got = self.try_receive(max, visibility).await?;
            if !got.is_empty() {
                return Ok(got);
            }
            // Hidden messages become visible again without a send; look at least once
            // a second for them.
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(got);
            }
            let nap = (deadline - now).min(Duration::from_secs(1));
            let _ = tokio::time::timeout(nap, arrived).await;
        }
    }

    async fn delete(&self, receipt: &str) -> StoreResult<()> {
        let receipt = receipt.to_string();
        self.db
            .write(move |tx| {
                tx.run("DELETE FROM queue WHERE receipt = ?1", params![receipt])
                    .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn depth(&self) -> StoreResult<QueueDepth> {
        self.db
            .read(|tx| {
                let now = Utc::now().timestamp_millis();
                // A visible message has waited since its `visible_ms`: since it was
                // sent, or since its last receive's visibility timeout ran out.
                let (visible, in_flight, delayed, oldest) = tx
                    .query_row(
                        "SELECT count(*) FILTER (WHERE visible_ms <= ?1),
                                count(*) FILTER (WHERE visible_ms > ?1 AND receipt IS NOT NULL),
                                count(*) FILTER (WHERE visible_ms > ?1 AND receipt IS NULL),
                                min(visible_ms) FILTER (WHERE visible_ms <= ?1)
                         FROM queue",
                        params![now],
                        |r| {
                            Ok((
                                r.get::<_, u64>(0)?,
                                r.get::<_, u64>(1)?,
                                r.get::<_, u64>(2)?,
                                r.get::<_, Option<i64>>(3)?,
                            ))
                        },
                    )
                    .map_err(unavailable)?;
                let dead = tx
                    .query_row("SELECT count(*) FROM dead_letters", [], |r| {
                        r.get::<_, u64>(0)
                    })
                    .map_err(unavailable)?;
                Ok(QueueDepth {
                    visible,
                    in_flight,
                    delayed,
                    dead,
                    oldest: oldest
                        .map(|t| Duration::from_millis(u64::try_from(now - t).unwrap_or_default())),
                })
            })
            .await
    }

    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>> {
        self.db
            .read(move |tx| {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT message_id, body, receive_count FROM dead_letters ORDER BY seq LIMIT ?1",
                    )
                    .map_err(unavailable)?;
                stmt.query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                    Ok(DeadLetter {
                        message_id: r.get(0)?,
                        body: r.get(1)?,
                        receive_count: r.get::<_, u32>(2)?,
                    })
                })
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)
            })
            .await
    }
}

/// A random 128-bit id in hex.
fn uuid_like() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}
