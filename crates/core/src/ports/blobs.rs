//! The blob port: bodies too large for a queue message.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Bodies too large for a queue message, stored aside until processed.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `key` (overwriting), removable after `expires_at`.
    async fn put_blob(&self, key: &str, bytes: &[u8], expires_at: DateTime<Utc>)
    -> StoreResult<()>;
    async fn blob(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;
}
