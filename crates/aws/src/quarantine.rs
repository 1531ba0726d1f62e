//! The DynamoDB quarantine: entries with their bodies stored as blobs.

use super::dynamo::{DynamoStore, corrupt, get_s};
use super::keys::{self};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pitchside_core::ports::*;
use pitchside_domain::quarantine::{self, Entry, Reason};
use pitchside_domain::work::WorkKind;

fn quarantine_blob(id: &str) -> String {
    format!("quarantine/{id}")
}

#[async_trait]
impl QuarantineStore for DynamoStore {
    async fn quarantine(
        &self,
        kind: WorkKind,
        reason: Reason,
        detail: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Entry> {
        let id = quarantine::entry_id(kind, body);
        let current: Option<Entry> = self
            .json_attr(keys::QUARANTINE.to_string(), id.clone(), "entry")
            .await?;
        if current.is_none() {
            // The body first: an entry is never listed without it. Kept until an
            // operator deals with it, so no expiry.
            self.put_chunks(&quarantine_blob(&id), body, None).await?;
        }
        let entry = quarantine::record(current, &id, kind, reason, detail, body.len(), now);
        self.put_entry(&entry).await?;
        Ok(entry)
    }

    async fn quarantined(&self, limit: usize) -> StoreResult<Vec<Entry>> {
        let items = self.query_partition(keys::QUARANTINE.to_string()).await?;
        let mut entries = items
            .iter()
            .map(|item| serde_json::from_str(get_s(item, "entry")?).map_err(|_| corrupt("entry")))
            .collect::<StoreResult<Vec<Entry>>>()?;
        entries.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.id.cmp(&b.id)));
        entries.truncate(limit);
        Ok(entries)
    }

    async fn quarantined_body(&self, id: &str) -> StoreResult<Option<(Entry, Vec<u8>)>> {
        let Some(entry) = self
            .json_attr::<Entry>(keys::QUARANTINE.to_string(), id, "entry")
            .await?
        else {
            return Ok(None);
        };
        let body = self
            .get_chunks(&quarantine_blob(id))
            .await?
            .ok_or_else(|| corrupt("quarantined body"))?;
        Ok(Some((entry, body)))
    }

    async fn mark_replayed(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        if let Some(mut e) = self
            .json_attr::<Entry>(keys::QUARANTINE.to_string(), id, "entry")
            .await?
        {
            e.replayed_at = Some(at);
            self.put_entry(&e).await?;
        }
        Ok(())
    }
}
