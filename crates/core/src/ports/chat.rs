//! The chat port: history per room of an organization.

use super::StoreResult;
use async_trait::async_trait;
use pitchside_domain::chat::ChatMessage;
use pitchside_domain::ids::OrganizationId;

/// Chat history, per room of an organization.
#[async_trait]
pub trait ChatStore: Send + Sync {
    /// Records a message once; false when its id was already recorded.
    async fn post_chat(&self, org: &OrganizationId, msg: &ChatMessage) -> StoreResult<bool>;
    /// The room's latest `limit` messages, oldest first.
    async fn chat_history(
        &self,
        org: &OrganizationId,
        room: &str,
        limit: usize,
    ) -> StoreResult<Vec<ChatMessage>>;
}
