//! DynamoDB stream leases: one item per slot of a member. The member's slots are read
//! (one query) and the lowest free one taken by a conditional put, when absent or
//! expired (TTL deletes it later; the condition does not wait for TTL).

use super::dynamo::{DynamoStore, get_n, get_s, key, n, s, unavailable};
use super::keys::{self, SK, TTL};
use super::records::condition_failed;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pitchside_core::ports::*;
use pitchside_domain::ids::{OrganizationId, UserId};

/// How many times a lost race for a slot is retried before the open fails.
const ACQUIRE_ATTEMPTS: usize = 8;

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
        let now_ms = now.timestamp_millis();
        // One read finds the slot; the conditional put loses only to a stream that took
        // the same slot in between, and then the slots are read again.
        for _ in 0..ACQUIRE_ATTEMPTS {
            let items = self.query_partition(keys::lease(org, user)).await?;
            let held = items.iter().filter_map(|item| {
                let slot = keys::parse_lease_slot(get_s(item, SK).ok()?)?;
                Some((slot, get_n(item, "untilMs").ok()?))
            });
            let Some(slot) = first_free_slot(held, now_ms, max) else {
                return Ok(None);
            };
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
                .expression_attribute_values(":now", n(now_ms))
                .send()
                .await
            {
                Ok(_) => return Ok(Some(slot)),
                Err(e) if condition_failed(&e) => continue,
                Err(e) => return Err(unavailable(e)),
            }
        }
        Err(StoreError::unavailable(
            "the member's stream slots kept changing while one was taken",
        ))
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
