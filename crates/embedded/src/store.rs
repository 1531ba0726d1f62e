//! The embedded adapters of the store ports over SQLite: event log, directory, tickets
//! and messages. Every statement names the organization in its key.

use super::db::{Cached, Db, corrupt, unavailable};
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use pitchside_core::ports::*;
use pitchside_domain::auth::Membership;
use pitchside_domain::event::{ENVELOPE_VERSION, Event, EventId, EventType, NewEvent};
use pitchside_domain::ids::{OrganizationId, PhoneNumberId, PlayerId, UserId};
use pitchside_domain::receipts::{self, StatusChange, StatusRecord};
use rusqlite::{OptionalExtension, Transaction, params};

/// The embedded store.
#[derive(Clone)]
pub struct SqliteStore {
    pub(super) db: Db,
}

impl SqliteStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Retention: removes every organization's events older than `cutoff` (with their
    /// dedup keys), and records how far each log was trimmed, so that a client resuming
    /// from a removed id is told to reset. On AWS, DynamoDB's TTL does this. Answers how
    /// many events were removed.
    pub async fn trim_before(&self, cutoff: DateTime<Utc>) -> StoreResult<usize> {
        let cutoff = cutoff.timestamp_millis();
        self.db
            .write(move |tx| {
                // Per organization, the newest event too old to keep: everything up to it
                // goes, so what stays is always a contiguous tail of the log.
                tx.run(
                    "UPDATE log_bounds SET trimmed_through = (
                         SELECT MAX(id) FROM events WHERE events.org = log_bounds.org AND ts_ms < ?1)
                     WHERE EXISTS (SELECT 1 FROM events WHERE events.org = log_bounds.org AND ts_ms < ?1)",
                    params![cutoff],
                )
                .map_err(unavailable)?;
                let removed = tx
                    .execute(
                        "DELETE FROM events WHERE id <= (
                             SELECT trimmed_through FROM log_bounds WHERE log_bounds.org = events.org)",
                        [],
                    )
                    .map_err(unavailable)?;
                // Bodies stored aside have their own expiry.
                tx.run(
                    "DELETE FROM blobs WHERE expires_ms < ?1",
                    params![Utc::now().timestamp_millis()],
                )
                .map_err(unavailable)?;
                Ok(removed)
            })
            .await
    }
}

pub(super) fn ms_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn event_from_row(org: &OrganizationId, row: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    let id: i64 = row.get(0)?;
    let kind: String = row.get(1)?;
    let ts_ms: i64 = row.get(2)?;
    let payload: String = row.get(3)?;
    let bad = |e: String| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    };
    Ok(Event {
        id: EventId(id.cast_unsigned()),
        kind: kind.parse::<EventType>().map_err(|e| bad(e.to_string()))?,
        organization_id: org.clone(),
        timestamp: ms_to_time(ts_ms),
        version: ENVELOPE_VERSION.to_string(),
        payload: serde_json::from_str(&payload).map_err(|e| bad(e.to_string()))?,
    })
}

fn read_bounds(tx: &Transaction<'_>, org: &OrganizationId) -> Result<LogBounds, StoreError> {
    tx.row(
        "SELECT head, trimmed_through FROM log_bounds WHERE org = ?1",
        params![org.as_str()],
        |r| {
            Ok(LogBounds {
                head: EventId(r.get::<_, i64>(0)?.cast_unsigned()),
                trimmed_through: EventId(r.get::<_, i64>(1)?.cast_unsigned()),
            })
        },
    )
    .optional()
    .map(Option::unwrap_or_default)
    .map_err(unavailable)
}

/// The JSON value in the one column `sql` selects for an organization and a key.
pub(super) fn json_column<T: serde::de::DeserializeOwned>(
    tx: &Transaction<'_>,
    sql: &str,
    org: &str,
    key: &str,
) -> StoreResult<Option<T>> {
    let json: Option<String> = tx
        .query_row(sql, params![org, key], |r| r.get(0))
        .optional()
        .map_err(unavailable)?;
    json.map(|j| serde_json::from_str(&j))
        .transpose()
        .map_err(corrupt)
}

const EVENT_COLUMNS: &str = "id, type, ts_ms, payload";

/// Appends `new` inside the transaction `tx`: on its own, or with the write whose
/// event it is (a ball), so both commit or neither does. A dedup key already in the
/// log answers the event it names.
pub(crate) fn append_in(
    tx: &rusqlite::Transaction<'_>,
    org: &OrganizationId,
    new: NewEvent,
) -> StoreResult<Appended> {
    if let Some(key) = &new.dedup_key {
        let existing = tx
            .query_row(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE org = ?1 AND dedup_key = ?2"),
                params![org.as_str(), key],
                |r| event_from_row(org, r),
            )
            .optional()
            .map_err(unavailable)?;
        if let Some(event) = existing {
            return Ok(Appended {
                event,
                created: false,
            });
        }
    }
    let id = read_bounds(tx, org)?.head.next();
    let payload = serde_json::to_string(&new.payload).map_err(unavailable)?;
    tx.run(
        "INSERT INTO events (org, id, type, ts_ms, payload, dedup_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            org.as_str(),
            id.0.cast_signed(),
            new.kind.as_str(),
            new.timestamp.timestamp_millis(),
            payload,
            new.dedup_key
        ],
    )
    .map_err(unavailable)?;
    tx.run(
        "INSERT INTO log_bounds (org, head) VALUES (?1, ?2)
         ON CONFLICT (org) DO UPDATE SET head = excluded.head",
        params![org.as_str(), id.0.cast_signed()],
    )
    .map_err(unavailable)?;
    Ok(Appended {
        event: new.into_event(id, org.clone()),
        created: true,
    })
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn append(&self, org: &OrganizationId, new: NewEvent) -> StoreResult<Appended> {
        let org = org.clone();
        self.db.write(move |tx| append_in(tx, &org, new)).await
    }

    async fn read(
        &self,
        org: &OrganizationId,
        from: ReadFrom,
        limit: usize,
    ) -> StoreResult<LogPage> {
        let org = org.clone();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .read(move |tx| {
                let bounds = read_bounds(tx, &org)?;
                let (sql, key) = match from {
                    ReadFrom::After(id) => (
                        format!("SELECT {EVENT_COLUMNS} FROM events WHERE org = ?1 AND id > ?2 ORDER BY id LIMIT ?3"),
                        id.0.cast_signed(),
                    ),
                    ReadFrom::Since(t) => (
                        format!(
                            "SELECT {EVENT_COLUMNS} FROM events WHERE org = ?1 AND id >= \
                             (SELECT COALESCE(MIN(id), 9223372036854775807) FROM events WHERE org = ?1 AND ts_ms >= ?2) \
                             ORDER BY id LIMIT ?3"
                        ),
                        t.timestamp_millis(),
                    ),
                };
                let mut stmt = tx.prepare_cached(&sql).map_err(unavailable)?;
                let events = stmt
                    .query_map(params![org.as_str(), key, limit], |r| event_from_row(&org, r))
                    .map_err(unavailable)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unavailable)?;
                Ok(LogPage { events, bounds })
            })
            .await
    }

    async fn bounds(&self, org: &OrganizationId) -> StoreResult<LogBounds> {
        let org = org.clone();
        self.db.read(move |tx| read_bounds(tx, &org)).await
    }

    async fn head(&self, org: &OrganizationId) -> StoreResult<EventId> {
        Ok(self.bounds(org).await?.head)
    }

    async fn after(
        &self,
        org: &OrganizationId,
        after: EventId,
        limit: usize,
    ) -> StoreResult<Vec<Event>> {
        Ok(self.read(org, ReadFrom::After(after), limit).await?.events)
    }
}

#[async_trait]
impl Directory for SqliteStore {
    async fn put_organization(&self, org: &Organization) -> StoreResult<()> {
        let org = org.clone();
        self.db
            .write(move |tx| {
                tx.run(
                    "INSERT INTO organizations (id, name) VALUES (?1, ?2)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                    params![org.id.as_str(), org.name],
                )
                .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn organization(&self, org: &OrganizationId) -> StoreResult<Option<Organization>> {
        let org = org.clone();
        self.db
            .read(move |tx| {
                tx.row(
                    "SELECT name FROM organizations WHERE id = ?1",
                    params![org.as_str()],
                    |r| r.get::<_, String>(0),
                )
                .optional()
                .map(|name| name.map(|name| Organization { id: org, name }))
                .map_err(unavailable)
            })
            .await
    }

    async fn put_whatsapp_number(
        &self,
        org: &OrganizationId,
        number: &PhoneNumberId,
    ) -> StoreResult<()> {
        let (org, number) = (org.clone(), number.clone());
        self.db
            .write(move |tx| {
                let owner: Option<String> = tx
                    .query_row(
                        "SELECT org FROM whatsapp_numbers WHERE phone_number_id = ?1",
                        params![number.as_str()],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(unavailable)?;
                match owner {
                    Some(o) if o == org.as_str() => Ok(()),
                    Some(_) => Err(StoreError::Conflict(format!(
                        "WhatsApp number {number} belongs to another organization"
                    ))),
                    None => {
                        tx.run(
                            "INSERT INTO whatsapp_numbers (phone_number_id, org) VALUES (?1, ?2)",
                            params![number.as_str(), org.as_str()],
                        )
                        .map_err(unavailable)?;
                        Ok(())
                    }
                }
            })
            .await
    }

    async fn resolve_whatsapp_number(
        &self,
        number: &PhoneNumberId,
    ) -> StoreResult<Option<OrganizationId>> {
        let number = number.clone();
        self.db
            .read(move |tx| {
                let org: Option<String> = tx
                    .query_row(
                        "SELECT org FROM whatsapp_numbers WHERE phone_number_id = ?1",
                        params![number.as_str()],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(unavailable)?;
                org.map(OrganizationId::new)
                    .transpose()
                    .map_err(unavailable)
            })
            .await
    }

    async fn put_member(
        &self,
        org: &OrganizationId,
        user: &UserId,
        membership: &Membership,
        revocation: Option<NewEvent>,
    ) -> StoreResult<Option<Appended>> {
        let (org, user) = (org.clone(), user.clone());
        let json = serde_json::to_string(membership).map_err(unavailable)?;
        self.db
            .write(move |tx| {
                tx.run(
                    "INSERT INTO members (org, user_id, membership) VALUES (?1, ?2, ?3)
                     ON CONFLICT (org, user_id) DO UPDATE SET membership = excluded.membership",
                    params![org.as_str(), user.as_str(), json],
                )
                .map_err(unavailable)?;
                revocation.map(|e| append_in(tx, &org, e)).transpose()
            })
            .await
    }

    async fn membership(
        &self,
        org: &OrganizationId,
        user: &UserId,
    ) -> StoreResult<Option<Membership>> {
        let (org, user) = (org.clone(), user.clone());
        self.db
            .read(move |tx| {
                json_column(
                    tx,
                    "SELECT membership FROM members WHERE org = ?1 AND user_id = ?2",
                    org.as_str(),
                    user.as_str(),
                )
            })
            .await
    }

    async fn put_player(&self, org: &OrganizationId, player: &Player) -> StoreResult<()> {
        let (org, player) = (org.clone(), player.clone());
        self.db
            .write(move |tx| {
                for (column, value) in [
                    ("whatsapp", &player.whatsapp),
                    ("whatsapp_user_id", &player.whatsapp_user_id),
                ] {
                    let Some(value) = value else { continue };
                    let holder: Option<String> = tx
                        .query_row(
                            &format!("SELECT player_id FROM players WHERE org = ?1 AND {column} = ?2"),
                            params![org.as_str(), value],
                            |r| r.get(0),
                        )
                        .optional()
                        .map_err(unavailable)?;
                    if let Some(other) = holder.filter(|h| h != player.id.as_str()) {
                        return Err(StoreError::Conflict(format!(
                            "WhatsApp id {value} already belongs to player {other}"
                        )));
                    }
                }
                tx.run(
                    "INSERT INTO players (org, player_id, name, whatsapp, whatsapp_user_id) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (org, player_id) DO UPDATE SET name = excluded.name,
                         whatsapp = excluded.whatsapp, whatsapp_user_id = excluded.whatsapp_user_id",
                    params![org.as_str(), player.id.as_str(), player.name, player.whatsapp, player.whatsapp_user_id],
                )
                .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn player(&self, org: &OrganizationId, id: &PlayerId) -> StoreResult<Option<Player>> {
        self.player_where(org, "player_id", id.as_str()).await
    }

    async fn player_by_whatsapp(
        &self,
        org: &OrganizationId,
        wa_id: &str,
    ) -> StoreResult<Option<Player>> {
        self.player_where(org, "whatsapp", wa_id).await
    }

    async fn player_by_whatsapp_user(
        &self,
        org: &OrganizationId,
        user_id: &str,
    ) -> StoreResult<Option<Player>> {
        self.player_where(org, "whatsapp_user_id", user_id).await
    }
}

impl SqliteStore {
    /// The player of `org` whose `column` (a fixed column name, never input) is `value`.
    async fn player_where(
        &self,
        org: &OrganizationId,
        column: &'static str,
        value: &str,
    ) -> StoreResult<Option<Player>> {
        let (org, value) = (org.clone(), value.to_string());
        self.db
            .read(move |tx| {
                let row: Option<(String, String, Option<String>, Option<String>)> = tx
                    .query_row(
                        &format!(
                            "SELECT player_id, name, whatsapp, whatsapp_user_id FROM players
                             WHERE org = ?1 AND {column} = ?2"
                        ),
                        params![org.as_str(), value],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                    )
                    .optional()
                    .map_err(unavailable)?;
                row.map(|(id, name, whatsapp, whatsapp_user_id)| {
                    Ok(Player {
                        id: PlayerId::new(id).map_err(corrupt)?,
                        name,
                        whatsapp,
                        whatsapp_user_id,
                    })
                })
                .transpose()
            })
            .await
    }
}

/// A member's stream slots: the lowest slot that is free (never taken, or released) or
/// held past its time is taken, in one write. Found through the key and the expiry index
/// rather than by trying slot after slot, so a member with thousands of streams (a load
/// test) opens the next one as cheaply as the first.
#[async_trait]
impl StreamLeases for SqliteStore {
    async fn acquire(
        &self,
        org: &OrganizationId,
        user: &UserId,
        stream: &str,
        max: u32,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Option<u32>> {
        let (org, user, stream) = (org.clone(), user.clone(), stream.to_string());
        self.db
            .write(move |tx| {
                let (o, u) = (org.as_str(), user.as_str());
                let one = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> StoreResult<Option<i64>> {
                    tx.row(sql, p, |r| r.get::<_, Option<i64>>(0))
                        .map_err(unavailable)
                };
                let expired = one(
                    "SELECT MIN(slot) FROM stream_leases
                     WHERE org = ?1 AND user_id = ?2 AND until_ms < ?3",
                    &[&o, &u, &now.timestamp_millis()],
                )?;
                let (count, highest) = tx
                    .query_row(
                        "SELECT COUNT(*), MAX(slot) FROM stream_leases
                         WHERE org = ?1 AND user_id = ?2",
                        params![o, u],
                        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?)),
                    )
                    .map_err(unavailable)?;
                // Slots are dense unless one was released: then the lowest gap.
                let unused = match highest {
                    None => 0,
                    Some(h) if h + 1 == count => h + 1,
                    Some(_) => one(
                        "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM stream_leases
                                  WHERE org = ?1 AND user_id = ?2 AND slot = 0) THEN 0
                         ELSE (SELECT MIN(a.slot) + 1 FROM stream_leases a
                               WHERE a.org = ?1 AND a.user_id = ?2 AND NOT EXISTS (
                                 SELECT 1 FROM stream_leases b
                                 WHERE b.org = ?1 AND b.user_id = ?2 AND b.slot = a.slot + 1))
                         END",
                        &[&o, &u],
                    )?
                    .unwrap_or(count),
                };
                let slot = match expired {
                    Some(e) if e < unused => e,
                    _ if unused < i64::from(max) => unused,
                    Some(e) => e,
                    None => return Ok(None),
                };
                if slot >= i64::from(max) {
                    return Ok(None);
                }
                tx.run(
                    "INSERT INTO stream_leases (org, user_id, slot, stream, until_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (org, user_id, slot) DO UPDATE
                     SET stream = excluded.stream, until_ms = excluded.until_ms",
                    params![o, u, slot, stream, until.timestamp_millis()],
                )
                .map_err(unavailable)?;
                Ok(u32::try_from(slot).ok())
            })
            .await
    }

    async fn renew(
        &self,
        org: &OrganizationId,
        user: &UserId,
        slot: u32,
        stream: &str,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (org, user, stream) = (org.clone(), user.clone(), stream.to_string());
        self.db
            .write(move |tx| {
                let n = tx
                    .execute(
                        "UPDATE stream_leases SET until_ms = ?5
                         WHERE org = ?1 AND user_id = ?2 AND slot = ?3 AND stream = ?4",
                        params![
                            org.as_str(),
                            user.as_str(),
                            slot,
                            stream,
                            until.timestamp_millis()
                        ],
                    )
                    .map_err(unavailable)?;
                Ok(n == 1)
            })
            .await
    }

    async fn release(
        &self,
        org: &OrganizationId,
        user: &UserId,
        slot: u32,
        stream: &str,
    ) -> StoreResult<()> {
        let (org, user, stream) = (org.clone(), user.clone(), stream.to_string());
        self.db
            .write(move |tx| {
                tx.run(
                    "DELETE FROM stream_leases
                     WHERE org = ?1 AND user_id = ?2 AND slot = ?3 AND stream = ?4",
                    params![org.as_str(), user.as_str(), slot, stream],
                )
                .map_err(unavailable)?;
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn put_ticket(
        &self,
        digest: &[u8; 32],
        grant: &TicketGrant,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let digest = *digest;
        let grant = serde_json::to_string(grant).map_err(unavailable)?;
        self.db
            .write(move |tx| {
                // Expired tickets are swept as new ones are issued.
                tx.run(
                    "DELETE FROM tickets WHERE expires_ms < ?1",
                    params![Utc::now().timestamp_millis()],
                )
                .map_err(unavailable)?;
                tx.run(
                    "INSERT INTO tickets (digest, grant_json, expires_ms) VALUES (?1, ?2, ?3)",
                    params![&digest[..], grant, expires_at.timestamp_millis()],
                )
                .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn redeem_ticket(
        &self,
        digest: &[u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<TicketGrant>> {
        let digest = *digest;
        self.db
            .write(move |tx| {
                let row: Option<(String, i64)> = tx
                    .query_row(
                        "DELETE FROM tickets WHERE digest = ?1 RETURNING grant_json, expires_ms",
                        params![&digest[..]],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(unavailable)?;
                match row {
                    Some((grant, expires)) if expires >= now.timestamp_millis() => {
                        serde_json::from_str(&grant).map(Some).map_err(corrupt)
                    }
                    _ => Ok(None),
                }
            })
            .await
    }
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn record_inbound(&self, org: &OrganizationId, msg: &InboundRecord) -> StoreResult<bool> {
        let org = org.clone();
        let id = msg.message_id.clone();
        let json = serde_json::to_string(msg).map_err(unavailable)?;
        self.db
            .write(move |tx| {
                let n = tx
                    .execute(
                        "INSERT INTO inbound_messages (org, message_id, record) VALUES (?1, ?2, ?3)
                         ON CONFLICT DO NOTHING",
                        params![org.as_str(), id, json],
                    )
                    .map_err(unavailable)?;
                Ok(n == 1)
            })
            .await
    }

    async fn inbound(
        &self,
        org: &OrganizationId,
        message_id: &str,
    ) -> StoreResult<Option<InboundRecord>> {
        let (org, id) = (org.clone(), message_id.to_string());
        self.db
            .read(move |tx| {
                json_column(
                    tx,
                    "SELECT record FROM inbound_messages WHERE org = ?1 AND message_id = ?2",
                    org.as_str(),
                    &id,
                )
            })
            .await
    }

    async fn advance_status(
        &self,
        org: &OrganizationId,
        status: &StatusRecord,
    ) -> StoreResult<StatusChange> {
        let org = org.clone();
        let rec = status.clone();
        let json = serde_json::to_string(status).map_err(unavailable)?;
        self.db
            .write(move |tx| {
                let current: Option<StatusRecord> = json_column(
                    tx,
                    "SELECT record FROM outbound_status WHERE org = ?1 AND message_id = ?2",
                    org.as_str(),
                    &rec.message_id,
                )?;
                let change = receipts::compare(current.map(|c| c.status), rec.status);
                if change == StatusChange::Advanced {
                    tx.run(
                        "INSERT INTO outbound_status (org, message_id, rank, record) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (org, message_id) DO UPDATE SET rank = excluded.rank, record = excluded.record",
                        params![org.as_str(), rec.message_id, rec.status.rank(), json],
                    )
                    .map_err(unavailable)?;
                }
                Ok(change)
            })
            .await
    }

    async fn status(
        &self,
        org: &OrganizationId,
        message_id: &str,
    ) -> StoreResult<Option<StatusRecord>> {
        let (org, id) = (org.clone(), message_id.to_string());
        self.db
            .read(move |tx| {
                json_column(
                    tx,
                    "SELECT record FROM outbound_status WHERE org = ?1 AND message_id = ?2",
                    org.as_str(),
                    &id,
                )
            })
            .await
    }
}
