//! The event log port: the single source of SSE, catch-up and replays.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pitchside_domain::catchup::LogBounds;
use pitchside_domain::event::{Event, EventId, NewEvent};
use pitchside_domain::ids::OrganizationId;

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
    /// Up to `limit` events after `after`, oldest first, without the bounds: what a
    /// stream that already knows where it stands reads (one query on DynamoDB).
    async fn after(
        &self,
        org: &OrganizationId,
        after: EventId,
        limit: usize,
    ) -> StoreResult<Vec<Event>>;
    /// The last id appended, in the cheapest read the store has (eventually consistent
    /// on DynamoDB): what a stream that polls reads each time, and reads the log only
    /// when it moved. A stale answer is caught up at the next poll.
    async fn head(&self, org: &OrganizationId) -> StoreResult<EventId>;
}
