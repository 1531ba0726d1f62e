//! DynamoDB blobs: bodies cut into chunks below the item limit.

use super::dynamo::{DynamoStore, corrupt, key, s};
use super::keys::{self};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pitchside_core::ports::*;
use pitchside_domain::quarantine::Entry;

impl DynamoStore {
    pub(crate) async fn put_entry(&self, e: &Entry) -> StoreResult<()> {
        let mut item = key(keys::QUARANTINE.to_string(), e.id.clone());
        item.insert(
            "entry".into(),
            s(serde_json::to_string(e).map_err(|e| corrupt(&e.to_string()))?),
        );
        self.put(item).await
    }
}

#[async_trait]
impl BlobStore for DynamoStore {
    async fn put_blob(
        &self,
        key: &str,
        bytes: &[u8],
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.put_chunks(key, bytes, Some(expires_at.timestamp()))
            .await
    }

    async fn blob(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.get_chunks(key).await
    }
}
