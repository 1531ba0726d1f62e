//! DynamoDB tickets: one item per digest, deleted as it is redeemed.

use super::dynamo::{DynamoStore, corrupt, get_n, get_s, key, n, s, unavailable};
use super::keys::{self, TTL};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};
use pitchside_core::ports::*;

#[async_trait]
impl TicketStore for DynamoStore {
    async fn put_ticket(
        &self,
        digest: &[u8; 32],
        grant: &TicketGrant,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut item = key(keys::ticket(digest), keys::TICKET);
        item.insert(
            "grant".into(),
            s(serde_json::to_string(grant).map_err(|e| corrupt(&e.to_string()))?),
        );
        item.insert("expiresMs".into(), n(expires_at.timestamp_millis()));
        item.insert(TTL.into(), n(expires_at.timestamp() + 60));
        self.put(item).await
    }

    async fn redeem_ticket(
        &self,
        digest: &[u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<TicketGrant>> {
        // Deleting is the redeem: of two concurrent redeems, one gets the old item.
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::ticket(digest), keys::TICKET)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.attributes else {
            return Ok(None);
        };
        if get_n(&item, "expiresMs")? < now.timestamp_millis() {
            return Ok(None);
        }
        serde_json::from_str(get_s(&item, "grant")?)
            .map(Some)
            .map_err(|_| corrupt("grant"))
    }
}
