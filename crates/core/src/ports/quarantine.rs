//! The quarantine port: payloads kept aside for operators.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pitchside_domain::quarantine::{self, Reason};
use pitchside_domain::work::WorkKind;

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
