//! DynamoDB messages: inbound once, outbound statuses that only move forward.

use super::dynamo::{DynamoStore, corrupt, key, n, s, unavailable};
use super::keys::{self};
use async_trait::async_trait;
use pitchside_core::ports::*;
use pitchside_domain::ids::OrganizationId;
use pitchside_domain::receipts::{self, StatusChange, StatusRecord};

#[async_trait]
impl MessageStore for DynamoStore {
    async fn record_inbound(&self, org: &OrganizationId, msg: &InboundRecord) -> StoreResult<bool> {
        let mut item = key(keys::messages(org), keys::inbound(&msg.message_id));
        item.insert(
            "record".into(),
            s(serde_json::to_string(msg).map_err(|e| corrupt(&e.to_string()))?),
        );
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn inbound(
        &self,
        org: &OrganizationId,
        message_id: &str,
    ) -> StoreResult<Option<InboundRecord>> {
        self.json_attr(keys::messages(org), keys::inbound(message_id), "record")
            .await
    }

    async fn advance_status(
        &self,
        org: &OrganizationId,
        status: &StatusRecord,
    ) -> StoreResult<StatusChange> {
        let mut item = key(keys::messages(org), keys::outbound(&status.message_id));
        item.insert("rank".into(), n(status.status.rank()));
        item.insert(
            "record".into(),
            s(serde_json::to_string(status).map_err(|e| corrupt(&e.to_string()))?),
        );
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #rank < :rank")
            .expression_attribute_names("#rank", "rank")
            .expression_attribute_values(":rank", n(status.status.rank()))
            .send()
            .await
        {
            Ok(_) => Ok(StatusChange::Advanced),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                let current = self.status(org, &status.message_id).await?;
                Ok(receipts::compare(current.map(|c| c.status), status.status))
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn status(
        &self,
        org: &OrganizationId,
        message_id: &str,
    ) -> StoreResult<Option<StatusRecord>> {
        self.json_attr(keys::messages(org), keys::outbound(message_id), "record")
            .await
    }
}
