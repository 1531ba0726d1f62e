//! DynamoDB stream leases: one item per slot of a member, taken by a conditional put
//! when absent or expired (TTL deletes it later; the condition does not wait for TTL).

use super::dynamo::{DynamoStore, key, n, s, unavailable};
use super::keys::{self, TTL};
use super::records::condition_failed;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pitchside_core::ports::*;
use pitchside_domain::ids::{OrganizationId, UserId};

#[async_trait]
impl StreamLeases for DynamoStore {
    async fn acquire(
        &self,
        org: &OrganizationId,
        user: &UserId,
        stream: &str,
        max: u32,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Option<u32>> {
        for slot in 0..max {
            let mut item = key(keys::lease(org, user), keys::lease_slot(slot));
            item.insert("stream".into(), s(stream));
            item.insert("untilMs".into(), n(until.timestamp_millis()));
            item.insert(TTL.into(), n(until.timestamp() + 60));
            match self
                .client()
                .put_item()
                .table_name(self.table())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk) OR untilMs < :now")
                .expression_attribute_values(":now", n(now.timestamp_millis()))
                .send()
                .await
            {
                Ok(_) => return Ok(Some(slot)),
                Err(e) if condition_failed(&e) => continue,
                Err(e) => return Err(unavailable(e)),
            }
        }
        Ok(None)
    }

    async fn renew(
        &self,
        org: &OrganizationId,
        user: &UserId,
        slot: u32,
        stream: &str,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        match self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(keys::lease(org, user), keys::lease_slot(slot))))
            .update_expression("SET untilMs = :until, #ttl = :ttl")
            .condition_expression("#stream = :stream")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_names("#stream", "stream")
            .expression_attribute_values(":until", n(until.timestamp_millis()))
            .expression_attribute_values(":ttl", n(until.timestamp() + 60))
            .expression_attribute_values(":stream", s(stream))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn release(
        &self,
        org: &OrganizationId,
        user: &UserId,
        slot: u32,
        stream: &str,
    ) -> StoreResult<()> {
        match self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(keys::lease(org, user), keys::lease_slot(slot))))
            .condition_expression("#stream = :stream")
            .expression_attribute_names("#stream", "stream")
            .expression_attribute_values(":stream", s(stream))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}
