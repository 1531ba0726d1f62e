//! The connection registry port: open WebSocket connections per organization and room.

use super::StoreResult;
use async_trait::async_trait;
use pitchside_domain::auth::Role;
use pitchside_domain::ids::{OrganizationId, UserId};
use serde::{Deserialize, Serialize};

/// A WebSocket connection's identity in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConnectionId(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    pub id: ConnectionId,
    pub org: OrganizationId,
    pub user: UserId,
    /// The roles the connection was opened with (its token's, as the membership then
    /// allowed): a message acts with these as the membership still allows them, so a
    /// role counts only when both the token and the store grant it, as over HTTP.
    pub roles: Vec<Role>,
}

/// The room every connection of an organization is in.
pub const ORG_ROOM: &str = "org";

/// Open WebSocket connections, per organization and room.
#[async_trait]
pub trait ConnectionRegistry: Send + Sync {
    /// Registers the connection in its organization's `org` room.
    async fn register(&self, conn: &ConnectionInfo) -> StoreResult<()>;
    async fn remove(&self, org: &OrganizationId, id: &ConnectionId) -> StoreResult<()>;
    async fn join(&self, org: &OrganizationId, id: &ConnectionId, room: &str) -> StoreResult<()>;
    async fn leave(&self, org: &OrganizationId, id: &ConnectionId, room: &str) -> StoreResult<()>;
    /// The connections in a room of one organization.
    async fn members(&self, org: &OrganizationId, room: &str) -> StoreResult<Vec<ConnectionId>>;
    /// Up to about `limit` connections of a room after `after`, in id order, and where
    /// the next page starts (`None`: this was the last): how a fan-out reads a large
    /// room, sending each page on before it reads the next. A registry in memory pages
    /// its whole list.
    async fn members_page(
        &self,
        org: &OrganizationId,
        room: &str,
        after: Option<&ConnectionId>,
        limit: usize,
    ) -> StoreResult<(Vec<ConnectionId>, Option<ConnectionId>)> {
        let mut all = self.members(org, room).await?;
        all.sort();
        let page: Vec<ConnectionId> = all
            .into_iter()
            .filter(|c| after.is_none_or(|a| c > a))
            .take(limit.max(1) + 1)
            .collect();
        Ok(split_page(page, limit.max(1)))
    }
    /// Who a connection is: on API Gateway, a WebSocket message carries only its
    /// connection id, and the organization must come from here, never from the message.
    async fn lookup(&self, id: &ConnectionId) -> StoreResult<Option<ConnectionInfo>>;
}

/// A page read one past its limit: the page, and where the next starts if there is one.
fn split_page(
    mut page: Vec<ConnectionId>,
    limit: usize,
) -> (Vec<ConnectionId>, Option<ConnectionId>) {
    if page.len() > limit {
        page.truncate(limit);
        let next = page.last().cloned();
        (page, next)
    } else {
        (page, None)
    }
}
