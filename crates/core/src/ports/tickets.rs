//! The ticket port: short-lived, single-use credentials for SSE and WebSocket.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pitchside_domain::auth::Role;
use pitchside_domain::ids::{OrganizationId, UserId};
use serde::{Deserialize, Serialize};

/// Who a ticket was issued to, and the roles their token carried (a ticket never grants
/// more than the token it was exchanged for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketGrant {
    pub org: OrganizationId,
    pub user: UserId,
    pub roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Short-lived, single-use tickets for SSE and WebSocket. Only a digest of the ticket is
/// stored, so the store never holds a usable credential.
#[async_trait]
pub trait TicketStore: Send + Sync {
    async fn put_ticket(
        &self,
        digest: &[u8; 32],
        grant: &TicketGrant,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Consumes the ticket: a second redeem of the same ticket finds nothing.
    async fn redeem_ticket(
        &self,
        digest: &[u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<TicketGrant>>;
}
