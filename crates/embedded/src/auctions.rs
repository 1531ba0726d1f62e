//! The embedded adapters of auctions and chat.

use super::db::{Cached, corrupt, unavailable};
use super::store::{SqliteStore, append_in};
use async_trait::async_trait;
use pitchside_core::ports::*;
use pitchside_domain::chat::ChatMessage;
use pitchside_domain::event::NewEvent;
use pitchside_domain::ids::{AuctionId, OrganizationId};
use rusqlite::{OptionalExtension, params};

#[async_trait]
impl AuctionStore for SqliteStore {
    async fn auction_doc(
        &self,
        org: &OrganizationId,
        id: &AuctionId,
    ) -> StoreResult<Option<(String, u64)>> {
        let (org, id) = (org.clone(), id.clone());
        self.db
            .read(move |tx| {
                tx.row(
                    "SELECT doc, revision FROM auctions WHERE org = ?1 AND auction_id = ?2",
                    params![org.as_str(), id.as_str()],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.cast_unsigned())),
                )
                .optional()
                .map_err(unavailable)
            })
            .await
    }

    async fn put_auction_doc(
        &self,
        org: &OrganizationId,
        id: &AuctionId,
        doc: &str,
        expected: Option<u64>,
    ) -> StoreResult<Option<u64>> {
        let (org, id, doc) = (org.clone(), id.clone(), doc.to_string());
        self.db
            .write(move |tx| {
                let written = match expected {
                    None => tx.run(
                        "INSERT INTO auctions (org, auction_id, doc, revision) VALUES (?1, ?2, ?3, 1)
                         ON CONFLICT DO NOTHING",
                        params![org.as_str(), id.as_str(), doc],
                    ),
                    Some(r) => tx.run(
                        "UPDATE auctions SET doc = ?3, revision = revision + 1
                         WHERE org = ?1 AND auction_id = ?2 AND revision = ?4",
                        params![org.as_str(), id.as_str(), doc, r.cast_signed()],
                    ),
                }
                .map_err(unavailable)?;
                Ok((written == 1).then(|| expected.map_or(1, |r| r + 1)))
            })
            .await
    }
}

#[async_trait]
impl ChatStore for SqliteStore {
    async fn post_chat(
        &self,
        org: &OrganizationId,
        msg: &ChatMessage,
        event: NewEvent,
    ) -> StoreResult<Appended> {
        let org = org.clone();
        let json = serde_json::to_string(msg).map_err(unavailable)?;
        let (room, id, at) = (
            msg.room.clone(),
            msg.message_id.clone(),
            msg.sent_at.timestamp_millis(),
        );
        self.db
            .write(move |tx| {
                tx.run(
                    "INSERT INTO chat (org, room, sent_ms, message_id, message)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    params![org.as_str(), room, at, id, json],
                )
                .map_err(unavailable)?;
                // A repeat finds its event by the dedup key.
                append_in(tx, &org, event)
            })
            .await
    }

    async fn chat_history(
        &self,
        org: &OrganizationId,
        room: &str,
        limit: usize,
    ) -> StoreResult<Vec<ChatMessage>> {
        let (org, room) = (org.clone(), room.to_string());
        self.db
            .read(move |tx| {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT message FROM chat WHERE org = ?1 AND room = ?2
                         ORDER BY sent_ms DESC, message_id DESC LIMIT ?3",
                    )
                    .map_err(unavailable)?;
                let rows = stmt
                    .query_map(
                        params![org.as_str(), room, i64::try_from(limit).unwrap_or(i64::MAX)],
                        |r| r.get::<_, String>(0),
                    )
                    .map_err(unavailable)?;
                let mut out = rows
                    .map(|r| serde_json::from_str(&r.map_err(unavailable)?).map_err(corrupt))
                    .collect::<StoreResult<Vec<ChatMessage>>>()?;
                out.reverse();
                Ok(out)
            })
            .await
    }
}
