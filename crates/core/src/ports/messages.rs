//! The message port: WhatsApp messages received and the statuses of those sent.

use super::StoreResult;
use async_trait::async_trait;
use pitchside_domain::ids::OrganizationId;
use pitchside_domain::receipts::{StatusChange, StatusRecord};
use pitchside_domain::tenancy::InboundRecord;

/// Messages exchanged with players.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Records an inbound message once; false when its id was already recorded.
    async fn record_inbound(&self, org: &OrganizationId, msg: &InboundRecord) -> StoreResult<bool>;
    async fn inbound(
        &self,
        org: &OrganizationId,
        message_id: &str,
    ) -> StoreResult<Option<InboundRecord>>;
    /// Records an outbound message's status if it moves it forward
    /// (`domain::receipts::compare`), atomically: of two concurrent updates, the
    /// furthest wins.
    async fn advance_status(
        &self,
        org: &OrganizationId,
        status: &StatusRecord,
    ) -> StoreResult<StatusChange>;
    async fn status(
        &self,
        org: &OrganizationId,
        message_id: &str,
    ) -> StoreResult<Option<StatusRecord>>;
}
