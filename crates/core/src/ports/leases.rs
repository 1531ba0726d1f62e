//! The stream lease port: at most so many SSE streams of one member at once, across
//! every process (on AWS each stream is its own Lambda invocation).

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pitchside_domain::ids::{OrganizationId, UserId};

/// A member's stream slots, `0..max`. A slot is free when never taken, released, or
/// held past its `until` (a holder that died without releasing frees it by expiring).
#[async_trait]
pub trait StreamLeases: Send + Sync {
    /// Takes a free slot for `stream` until `until`; `None` when all `max` are held.
    async fn acquire(
        &self,
        org: &OrganizationId,
        user: &UserId,
        stream: &str,
        max: u32,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Option<u32>>;
    /// Holds `slot` for `stream` until `until`; false if the stream no longer holds it.
    async fn renew(
        &self,
        org: &OrganizationId,
        user: &UserId,
        slot: u32,
        stream: &str,
        until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Frees `slot` if `stream` still holds it.
    async fn release(
        &self,
        org: &OrganizationId,
        user: &UserId,
        slot: u32,
        stream: &str,
    ) -> StoreResult<()>;
}
