//! The embedded adapters of availability, the quarantine and the blob store.

use super::db::{Cached, corrupt, unavailable};
use super::store::{SqliteStore, append_in};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pitchside_core::ports::*;
use pitchside_domain::availability::Answer;
use pitchside_domain::event::NewEvent;
use pitchside_domain::ids::{MatchId, OrganizationId, PlayerId};
use pitchside_domain::quarantine::{self, Entry, Reason};
use pitchside_domain::scoring::{Delivery, MatchSetup};
use pitchside_domain::work::WorkKind;
use rusqlite::{OptionalExtension, Transaction, params};

#[async_trait]
impl AvailabilityStore for SqliteStore {
    async fn request_availability(
        &self,
        org: &OrganizationId,
        match_id: &MatchId,
        players: &[PlayerId],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (org, match_id, players) = (org.clone(), match_id.clone(), players.to_vec());
        let at = at.timestamp_millis();
        self.db
            .write(move |tx| {
                for p in &players {
                    tx.run(
                        "INSERT INTO availability (org, match_id, player_id) VALUES (?1, ?2, ?3)
                         ON CONFLICT DO NOTHING",
                        params![org.as_str(), match_id.as_str(), p.as_str()],
                    )
                    .map_err(unavailable)?;
                    tx.run(
                        "INSERT INTO availability_requests (org, player_id, match_id, requested_ms)
                         VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (org, player_id) DO UPDATE SET match_id = excluded.match_id,
                             requested_ms = excluded.requested_ms
                         WHERE excluded.requested_ms >= availability_requests.requested_ms",
                        params![org.as_str(), p.as_str(), match_id.as_str(), at],
                    )
                    .map_err(unavailable)?;
                }
                Ok(())
            })
            .await
    }

    async fn latest_request(
        &self,
        org: &OrganizationId,
        player: &PlayerId,
    ) -> StoreResult<Option<MatchId>> {
        let (org, player) = (org.clone(), player.clone());
        self.db
            .read(move |tx| {
                let m: Option<String> = tx
                    .query_row(
                        "SELECT match_id FROM availability_requests WHERE org = ?1 AND player_id = ?2",
                        params![org.as_str(), player.as_str()],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(unavailable)?;
                m.map(MatchId::new).transpose().map_err(unavailable)
            })
            .await
    }

    async fn set_availability(
        &self,
        org: &OrganizationId,
        match_id: &MatchId,
        answer: &Answer,
        event: NewEvent,
    ) -> StoreResult<Applied> {
        let (org, match_id) = (org.clone(), match_id.clone());
        let player = answer.player_id.clone();
        let at = answer.updated_at.timestamp_millis();
        let json = serde_json::to_string(answer).map_err(unavailable)?;
        self.db
            .write(move |tx| {
                let n = tx
                    .execute(
                        "INSERT INTO availability (org, match_id, player_id, answer, updated_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (org, match_id, player_id) DO UPDATE SET
                             answer = excluded.answer, updated_ms = excluded.updated_ms
                         WHERE availability.updated_ms IS NULL
                            OR availability.updated_ms <= excluded.updated_ms",
                        params![org.as_str(), match_id.as_str(), player.as_str(), json, at],
                    )
                    .map_err(unavailable)?;
                if n == 1 {
                    Ok(Applied::Yes(append_in(tx, &org, event)?))
                } else {
                    Ok(Applied::Stale)
                }
            })
            .await
    }

    async fn availability(
        &self,
        org: &OrganizationId,
        match_id: &MatchId,
    ) -> StoreResult<Vec<(PlayerId, Option<Answer>)>> {
        let (org, match_id) = (org.clone(), match_id.clone());
        self.db
            .read(move |tx| {
                let mut stmt = tx
                    .prepare(
                        "SELECT player_id, answer FROM availability WHERE org = ?1 AND match_id = ?2
                         ORDER BY player_id",
                    )
                    .map_err(unavailable)?;
                let rows = stmt
                    .query_map(params![org.as_str(), match_id.as_str()], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                    })
                    .map_err(unavailable)?;
                let mut out = Vec::new();
                for row in rows {
                    let (player, answer) = row.map_err(unavailable)?;
                    let answer = answer
                        .map(|a| serde_json::from_str(&a))
                        .transpose()
                        .map_err(corrupt)?;
                    out.push((PlayerId::new(player).map_err(corrupt)?, answer));
                }
                Ok(out)
            })
            .await
    }
}

fn entry_of(tx: &Transaction<'_>, id: &str) -> StoreResult<Option<Entry>> {
    let json: Option<String> = tx
        .query_row(
            "SELECT entry FROM quarantine WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()
        .map_err(unavailable)?;
    json.map(|j| serde_json::from_str(&j))
        .transpose()
        .map_err(corrupt)
}

#[async_trait]
impl QuarantineStore for SqliteStore {
    async fn quarantine(
        &self,
        kind: WorkKind,
        reason: Reason,
        detail: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Entry> {
        let id = quarantine::entry_id(kind, body);
        let (detail, body) = (detail.to_string(), body.to_vec());
        self.db
            .write(move |tx| {
                let current = entry_of(tx, &id)?;
                let entry = quarantine::record(current, &id, kind, reason, &detail, body.len(), now);
                tx.run(
                    "INSERT INTO quarantine (id, entry, last_ms, body) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO UPDATE SET entry = excluded.entry, last_ms = excluded.last_ms",
                    params![
                        id,
                        serde_json::to_string(&entry).map_err(unavailable)?,
                        now.timestamp_millis(),
                        body
                    ],
                )
                .map_err(unavailable)?;
                Ok(entry)
            })
            .await
    }

    async fn quarantined(&self, limit: usize) -> StoreResult<Vec<Entry>> {
        self.db
            .read(move |tx| {
                let mut stmt = tx
                    .prepare("SELECT entry FROM quarantine ORDER BY last_ms DESC, id LIMIT ?1")
                    .map_err(unavailable)?;
                let rows = stmt
                    .query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                        r.get::<_, String>(0)
                    })
                    .map_err(unavailable)?;
                rows.map(|r| serde_json::from_str(&r.map_err(unavailable)?).map_err(corrupt))
                    .collect()
            })
            .await
    }

    async fn quarantined_body(&self, id: &str) -> StoreResult<Option<(Entry, Vec<u8>)>> {
        let id = id.to_string();
        self.db
            .read(move |tx| {
                let row: Option<(String, Vec<u8>)> = tx
                    .query_row(
                        "SELECT entry, body FROM quarantine WHERE id = ?1",
                        params![id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(unavailable)?;
                row.map(|(e, body)| Ok((serde_json::from_str(&e).map_err(corrupt)?, body)))
                    .transpose()
            })
            .await
    }

    async fn mark_replayed(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let id = id.to_string();
        self.db
            .write(move |tx| {
                let current: Option<Entry> = entry_of(tx, &id)?;
                if let Some(mut e) = current {
                    e.replayed_at = Some(at);
                    tx.run(
                        "UPDATE quarantine SET entry = ?2 WHERE id = ?1",
                        params![id, serde_json::to_string(&e).map_err(unavailable)?],
                    )
                    .map_err(unavailable)?;
                }
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl BlobStore for SqliteStore {
    async fn put_blob(
        &self,
        key: &str,
        bytes: &[u8],
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (key, bytes) = (key.to_string(), bytes.to_vec());
        self.db
            .write(move |tx| {
                tx.run(
                    "INSERT INTO blobs (key, body, expires_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key) DO UPDATE SET body = excluded.body, expires_ms = excluded.expires_ms",
                    params![key, bytes, expires_at.timestamp_millis()],
                )
                .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn blob(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let key = key.to_string();
        self.db
            .read(move |tx| {
                tx.row("SELECT body FROM blobs WHERE key = ?1", params![key], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(unavailable)
            })
            .await
    }
}

/// The event of a ball write, in the write's transaction. Its dedup key names the new
/// revision, which no earlier write can have had: finding it already in the log means
/// the write would be applied twice, so the transaction is refused.
fn with_event(
    tx: &Transaction<'_>,
    org: &OrganizationId,
    at: At,
    event: NewEvent,
) -> StoreResult<BallWrite> {
    let appended = append_in(tx, org, event)?;
    if !appended.created {
        return Err(StoreError::Conflict(format!(
            "the event of revision {} is already in the log",
            at.next_revision()
        )));
    }
    Ok(BallWrite::Written {
        revision: at.next_revision(),
        event: appended.event,
    })
}

fn head_of(tx: &Transaction<'_>, org: &str, id: &str) -> StoreResult<Option<MatchHead>> {
    let row: Option<(String, u32, i64)> = tx
        .query_row(
            "SELECT setup, balls, revision FROM matches WHERE org = ?1 AND match_id = ?2",
            params![org, id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(unavailable)?;
    row.map(|(setup, balls, revision)| {
        Ok(MatchHead {
            setup: serde_json::from_str(&setup).map_err(corrupt)?,
            balls,
            revision: revision.cast_unsigned(),
        })
    })
    .transpose()
}

#[async_trait]
impl MatchStore for SqliteStore {
    async fn put_match(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        setup: &MatchSetup,
    ) -> StoreResult<u64> {
        let (org, id) = (org.clone(), id.clone());
        let setup = serde_json::to_string(setup).map_err(unavailable)?;
        self.db
            .write(move |tx| {
                tx.row(
                    "INSERT INTO matches (org, match_id, setup, revision) VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT (org, match_id) DO UPDATE SET setup = excluded.setup,
                         revision = matches.revision + 1
                     RETURNING revision",
                    params![org.as_str(), id.as_str(), setup],
                    |r| r.get::<_, i64>(0),
                )
                .map(|r| r.cast_unsigned())
                .map_err(unavailable)
            })
            .await
    }

    async fn match_head(
        &self,
        org: &OrganizationId,
        id: &MatchId,
    ) -> StoreResult<Option<MatchHead>> {
        let (org, id) = (org.clone(), id.clone());
        self.db
            .read(move |tx| head_of(tx, org.as_str(), id.as_str()))
            .await
    }

    async fn balls(&self, org: &OrganizationId, id: &MatchId) -> StoreResult<Vec<Delivery>> {
        let (org, id) = (org.clone(), id.clone());
        self.db
            .read(move |tx| {
                let mut stmt = tx
                    .prepare(
                        "SELECT delivery FROM balls WHERE org = ?1 AND match_id = ?2 ORDER BY seq",
                    )
                    .map_err(unavailable)?;
                let rows = stmt
                    .query_map(params![org.as_str(), id.as_str()], |r| {
                        r.get::<_, String>(0)
                    })
                    .map_err(unavailable)?;
                rows.map(|r| serde_json::from_str(&r.map_err(unavailable)?).map_err(corrupt))
                    .collect()
            })
            .await
    }

    async fn append_ball(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
        ball: &Delivery,
        event: NewEvent,
    ) -> StoreResult<BallWrite> {
        let (org, id) = (org.clone(), id.clone());
        let json = serde_json::to_string(ball).map_err(unavailable)?;
        self.db
            .write(move |tx| {
                let head = head_of(tx, org.as_str(), id.as_str())?
                    .ok_or_else(|| StoreError::Conflict(format!("match {id} does not exist")))?;
                if head.at() != at {
                    return Ok(BallWrite::Stale { balls: head.balls });
                }
                tx.run(
                    "INSERT INTO balls (org, match_id, seq, delivery) VALUES (?1, ?2, ?3, ?4)",
                    params![org.as_str(), id.as_str(), at.balls + 1, json],
                )
                .map_err(unavailable)?;
                tx.run(
                    "UPDATE matches SET balls = balls + 1, revision = revision + 1 WHERE org = ?1 AND match_id = ?2",
                    params![org.as_str(), id.as_str()],
                )
                .map_err(unavailable)?;
                with_event(tx, &org, at, event)
            })
            .await
    }

    async fn remove_last_ball(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
        event: NewEvent,
    ) -> StoreResult<BallWrite> {
        let (org, id) = (org.clone(), id.clone());
        self.db
            .write(move |tx| {
                let head = head_of(tx, org.as_str(), id.as_str())?
                    .ok_or_else(|| StoreError::Conflict(format!("match {id} does not exist")))?;
                if head.at() != at || at.balls == 0 {
                    return Ok(BallWrite::Stale { balls: head.balls });
                }
                tx.run(
                    "DELETE FROM balls WHERE org = ?1 AND match_id = ?2 AND seq = ?3",
                    params![org.as_str(), id.as_str(), at.balls],
                )
                .map_err(unavailable)?;
                tx.run(
                    "UPDATE matches SET balls = balls - 1, revision = revision + 1 WHERE org = ?1 AND match_id = ?2",
                    params![org.as_str(), id.as_str()],
                )
                .map_err(unavailable)?;
                with_event(tx, &org, at, event)
            })
            .await
    }
}
