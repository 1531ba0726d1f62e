//! The chat port: history per room of an organization.

use super::{Appended, StoreResult};
use async_trait::async_trait;
use pitchside_domain::chat::ChatMessage;
use pitchside_domain::event::NewEvent;
use pitchside_domain::ids::OrganizationId;

/// Chat history, per room of an organization.
#[async_trait]
pub trait ChatStore: Send + Sync {
    /// Records a message and appends `event` (its `chat.message.sent`, keyed on the
    /// message id) in one step, once: a repeat of the id answers the event recorded
    /// with it (`created: false`).
    async fn post_chat(
        &self,
        org: &OrganizationId,
        msg: &ChatMessage,
        event: NewEvent,
    ) -> StoreResult<Appended>;
    /// The room's latest `limit` messages, oldest first.
    async fn chat_history(
        &self,
        org: &OrganizationId,
        room: &str,
        limit: usize,
    ) -> StoreResult<Vec<ChatMessage>>;
}
