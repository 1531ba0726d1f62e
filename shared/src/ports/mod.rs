//! The ports: what the handlers need from the outside world, as traits. Each has an
//! embedded adapter (SQLite and in-process push) and, on AWS, one over the SDK; both are
//! held to the same test suite (`crate::port_tests`).

use crate::domain::auth::{Membership, Role};
use crate::domain::availability::Answer;
use crate::domain::chat::ChatMessage;
use crate::domain::event::{Event, EventId, NewEvent};
use crate::domain::ids::{AuctionId, MatchId, OrganizationId, PhoneNumberId, PlayerId, UserId};
use crate::domain::quarantine::{self, Reason};
use crate::domain::receipts::{StatusChange, StatusRecord};
use crate::domain::scoring::{Delivery, MatchSetup};
use crate::domain::work::WorkKind;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A failure of a store, queue or pusher. Handlers turn `Unavailable` into a 5xx (so
/// the caller retries) and `Conflict` into a 409.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Conflict(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The result of an append: the event as stored, and whether this call wrote it (false
/// when the dedup key had been seen, and the first event is returned instead).
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub event: Event,
    pub created: bool,
}

/// Where a read of the log starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReadFrom {
    After(EventId),
    Since(DateTime<Utc>),
}

/// What the log holds for one organization: the last id written, and the last id
/// removed by retention (everything after it and up to `head` is still held).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogBounds {
    pub head: EventId,
    pub trimmed_through: EventId,
}

/// A page of the log, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct LogPage {
    pub events: Vec<Event>,
    pub bounds: LogBounds,
}

/// The organization-scoped, append-only event log: the single source of SSE, catch-up
/// and replays.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Appends with the next id of the organization. Idempotent on `dedup_key`.
    async fn append(&self, org: &OrganizationId, event: NewEvent) -> StoreResult<Appended>;
    /// Up to `limit` events from `from`, oldest first.
    async fn read(
        &self,
        org: &OrganizationId,
        from: ReadFrom,
        limit: usize,
    ) -> StoreResult<LogPage>;
    async fn bounds(&self, org: &OrganizationId) -> StoreResult<LogBounds>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Player {
    pub id: PlayerId,
    pub name: String,
    /// The `wa_id` WhatsApp sends for this player (their phone number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<String>,
    /// The business-scoped user id WhatsApp sends instead of (or beside) the `wa_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_user_id: Option<String>,
}

/// The directory of tenants: organizations, their members, players and WhatsApp numbers.
#[async_trait]
pub trait Directory: Send + Sync {
    async fn put_organization(&self, org: &Organization) -> StoreResult<()>;
    async fn organization(&self, org: &OrganizationId) -> StoreResult<Option<Organization>>;
    /// Maps a business number to an organization. A number already mapped to another
    /// organization is a `Conflict`: webhooks must never change tenant silently.
    async fn put_whatsapp_number(
        &self,
        org: &OrganizationId,
        number: &PhoneNumberId,
    ) -> StoreResult<()>;
    async fn resolve_whatsapp_number(
        &self,
        number: &PhoneNumberId,
    ) -> StoreResult<Option<OrganizationId>>;
    async fn put_member(
        &self,
        org: &OrganizationId,
        user: &UserId,
        membership: &Membership,
    ) -> StoreResult<()>;
    async fn membership(
        &self,
        org: &OrganizationId,
        user: &UserId,
    ) -> StoreResult<Option<Membership>>;
    /// A `wa_id` or WhatsApp user id already held by another player of the organization
    /// is a `Conflict`.
    async fn put_player(&self, org: &OrganizationId, player: &Player) -> StoreResult<()>;
    async fn player(&self, org: &OrganizationId, id: &PlayerId) -> StoreResult<Option<Player>>;
    async fn player_by_whatsapp(
        &self,
        org: &OrganizationId,
        wa_id: &str,
    ) -> StoreResult<Option<Player>>;
    async fn player_by_whatsapp_user(
        &self,
        org: &OrganizationId,
        user_id: &str,
    ) -> StoreResult<Option<Player>>;
}

/// Who a ticket was issued to, and the roles their token carried (a ticket never grants
/// more than the token it was exchanged for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketGrant {
    pub org: OrganizationId,
    pub user: UserId,
    pub roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Short-lived, single-use tickets for SSE and WebSocket. Only a digest of the ticket is
/// stored, so the store never holds a usable credential.
#[async_trait]
pub trait TicketStore: Send + Sync {
    async fn put_ticket(
        &self,
        digest: &[u8; 32],
        grant: &TicketGrant,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Consumes the ticket: a second redeem of the same ticket finds nothing.
    async fn redeem_ticket(
        &self,
        digest: &[u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<TicketGrant>>;
}

/// A message received inbound on WhatsApp, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundRecord {
    pub message_id: String,
    pub from: Option<String>,
    pub from_user_id: Option<String>,
    pub player_id: Option<PlayerId>,
    /// The sender's WhatsApp profile name.
    pub name: Option<String>,
    /// The wire type.
    pub kind: String,
    pub text: Option<String>,
    /// The typed content (`domain::whatsapp::Content`).
    pub content: serde_json::Value,
    pub reply_to: Option<String>,
    pub sent_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// Messages exchanged with players.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Records an inbound message once; false when its id was already recorded.
    async fn record_inbound(&self, org: &OrganizationId, msg: &InboundRecord) -> StoreResult<bool>;
    async fn inbound(
        &self,
        org: &OrganizationId,
        message_id: &str,
    ) -> StoreResult<Option<InboundRecord>>;
    /// Records an outbound message's status if it moves it forward
    /// (`domain::receipts::compare`), atomically: of two concurrent updates, the
    /// furthest wins.
    async fn advance_status(
        &self,
        org: &OrganizationId,
        status: &StatusRecord,
    ) -> StoreResult<StatusChange>;
    async fn status(
        &self,
        org: &OrganizationId,
        message_id: &str,
    ) -> StoreResult<Option<StatusRecord>>;
}

/// Whether a conditional write took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Yes,
    /// The store holds something newer; nothing changed.
    Stale,
}

/// Availability requests and answers, per match and player.
#[async_trait]
pub trait AvailabilityStore: Send + Sync {
    /// Records that these players were asked about this match at `at`: each becomes
    /// pending for the match (an answer already given stays), and the match becomes
    /// their latest request unless a later one is recorded.
    async fn request_availability(
        &self,
        org: &OrganizationId,
        match_id: &MatchId,
        players: &[PlayerId],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The match of the player's latest request.
    async fn latest_request(
        &self,
        org: &OrganizationId,
        player: &PlayerId,
    ) -> StoreResult<Option<MatchId>>;
    /// Sets the answer unless the one held was given later.
    async fn set_availability(
        &self,
        org: &OrganizationId,
        match_id: &MatchId,
        answer: &Answer,
    ) -> StoreResult<Applied>;
    /// Every player asked or answering for the match: the answer, or `None` while
    /// pending. Ordered by player id.
    async fn availability(
        &self,
        org: &OrganizationId,
        match_id: &MatchId,
    ) -> StoreResult<Vec<(PlayerId, Option<Answer>)>>;
}

/// A match's head: its setup, how many deliveries it holds, and a revision that every
/// write (setup, ball, undo) increases, so a cached state can be checked in one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchHead {
    pub setup: MatchSetup,
    pub balls: u32,
    pub revision: u64,
}

impl MatchHead {
    pub fn at(&self) -> At {
        At {
            balls: self.balls,
            revision: self.revision,
        }
    }
}

/// Where a match stood when it was read: a ball write is conditional on both, so the
/// revision it answers is exactly the state the writer computed (a concurrent ball or
/// setup change makes it `Stale` instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub balls: u32,
    pub revision: u64,
}

/// The outcome of a conditional write on a match's ball count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BallWrite {
    /// Written; the match's new revision.
    Written { revision: u64 },
    /// Another write got there first: the count the match holds now.
    Stale { balls: u32 },
}

/// Matches and their deliveries. Writes of deliveries are conditional on the ball
/// count and revision, so two scorers can never fork an innings.
#[async_trait]
pub trait MatchStore: Send + Sync {
    /// Creates the match or replaces its setup (its deliveries stay).
    async fn put_match(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        setup: &MatchSetup,
    ) -> StoreResult<u64>;
    async fn match_head(
        &self,
        org: &OrganizationId,
        id: &MatchId,
    ) -> StoreResult<Option<MatchHead>>;
    /// Every delivery, in `seq` order.
    async fn balls(&self, org: &OrganizationId, id: &MatchId) -> StoreResult<Vec<Delivery>>;
    /// Adds delivery number `at.balls + 1` if the match is still `at`.
    async fn append_ball(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
        ball: &Delivery,
    ) -> StoreResult<BallWrite>;
    /// Removes delivery number `at.balls` if the match is still `at`.
    async fn remove_last_ball(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
    ) -> StoreResult<BallWrite>;
}

/// Player auctions, each one document (`domain::auction::Auction` with what it still
/// has to emit) under a revision that every write increases. Writes are conditional on
/// the revision, so of two bids computed on the same state only one is recorded.
#[async_trait]
pub trait AuctionStore: Send + Sync {
    /// The document and its revision.
    async fn auction_doc(
        &self,
        org: &OrganizationId,
        id: &AuctionId,
    ) -> StoreResult<Option<(String, u64)>>;
    /// Writes the document if the auction is still at revision `expected` (`None`: if
    /// it does not exist yet). Answers the new revision, or `None` when another write
    /// got there first.
    async fn put_auction_doc(
        &self,
        org: &OrganizationId,
        id: &AuctionId,
        doc: &str,
        expected: Option<u64>,
    ) -> StoreResult<Option<u64>>;
}

/// Chat history, per room of an organization.
#[async_trait]
pub trait ChatStore: Send + Sync {
    /// Records a message once; false when its id was already recorded.
    async fn post_chat(&self, org: &OrganizationId, msg: &ChatMessage) -> StoreResult<bool>;
    /// The room's latest `limit` messages, oldest first.
    async fn chat_history(
        &self,
        org: &OrganizationId,
        room: &str,
        limit: usize,
    ) -> StoreResult<Vec<ChatMessage>>;
}

/// Payloads that cannot be processed and that retrying would not fix; see
/// `domain::quarantine`. Not scoped to an organization: they are exactly the ones
/// without a known one. Read by operators through the admin API.
#[async_trait]
pub trait QuarantineStore: Send + Sync {
    /// Keeps the body (of any size) with the reason; the same kind and bytes again
    /// update the entry (`lastSeen`, `times`, the newest reason).
    async fn quarantine(
        &self,
        kind: WorkKind,
        reason: Reason,
        detail: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<quarantine::Entry>;
    /// The newest first.
    async fn quarantined(&self, limit: usize) -> StoreResult<Vec<quarantine::Entry>>;
    async fn quarantined_body(&self, id: &str)
    -> StoreResult<Option<(quarantine::Entry, Vec<u8>)>>;
    async fn mark_replayed(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()>;
}

/// Bodies too large for a queue message, stored aside until processed.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `key` (overwriting), removable after `expires_at`.
    async fn put_blob(&self, key: &str, bytes: &[u8], expires_at: DateTime<Utc>)
    -> StoreResult<()>;
    async fn blob(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;
}

/// A message taken from the queue; it stays invisible to other consumers until its
/// visibility timeout, and is gone only once deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub message_id: String,
    pub receipt: String,
    pub body: Vec<u8>,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
}

/// A message that exhausted its receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub message_id: String,
    pub body: Vec<u8>,
    pub receive_count: u32,
}

/// A durable queue with SQS's semantics: at-least-once, visibility timeout, receive
/// count, and a dead-letter queue after a bounded number of receives.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Returns once the message is durable.
    async fn send(&self, body: &[u8]) -> StoreResult<String>;
    /// Sends a message that becomes visible only after `delay` (at most 15 minutes, as
    /// SQS allows): the timers of auction lots.
    async fn send_delayed(&self, body: &[u8], delay: Duration) -> StoreResult<String>;
    /// Long-polls up to `wait` for up to `max` messages.
    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> StoreResult<Vec<Received>>;
    async fn delete(&self, receipt: &str) -> StoreResult<()>;
    /// Oldest first.
    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>>;
}

/// A WebSocket connection's identity in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConnectionId(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    pub id: ConnectionId,
    pub org: OrganizationId,
    pub user: UserId,
}

/// The room every connection of an organization is in.
pub const ORG_ROOM: &str = "org";

/// Open WebSocket connections, per organization and room.
#[async_trait]
pub trait ConnectionRegistry: Send + Sync {
    /// Registers the connection in its organization's `org` room.
    async fn register(&self, conn: &ConnectionInfo) -> StoreResult<()>;
    async fn remove(&self, org: &OrganizationId, id: &ConnectionId) -> StoreResult<()>;
    async fn join(&self, org: &OrganizationId, id: &ConnectionId, room: &str) -> StoreResult<()>;
    async fn leave(&self, org: &OrganizationId, id: &ConnectionId, room: &str) -> StoreResult<()>;
    /// The connections in a room of one organization.
    async fn members(&self, org: &OrganizationId, room: &str) -> StoreResult<Vec<ConnectionId>>;
    /// Who a connection is: on API Gateway, a WebSocket message carries only its
    /// connection id, and the organization must come from here, never from the message.
    async fn lookup(&self, id: &ConnectionId) -> StoreResult<Option<ConnectionInfo>>;
}

/// Delivers appended events to the organization's live subscribers. Delivery is
/// best-effort by design: a subscriber that misses a push catches up from the log.
#[async_trait]
pub trait Pusher: Send + Sync {
    async fn publish(&self, event: &Event) -> StoreResult<()>;
}

/// Publishes to several pushers in turn (the local gateway in AWS mode: its own SSE hub
/// and API Gateway's management API).
pub struct Fanout(pub Vec<std::sync::Arc<dyn Pusher>>);

#[async_trait]
impl Pusher for Fanout {
    async fn publish(&self, event: &Event) -> StoreResult<()> {
        for p in &self.0 {
            p.publish(event).await?;
        }
        Ok(())
    }
}
