//! The directory port: organizations, their members, players and WhatsApp numbers.

use super::{Appended, StoreResult};
use async_trait::async_trait;
use pitchside_domain::auth::Membership;
use pitchside_domain::event::NewEvent;
use pitchside_domain::ids::{OrganizationId, PhoneNumberId, PlayerId, UserId};
use pitchside_domain::tenancy::{Organization, Player};

/// The directory of tenants: organizations, their members, players and WhatsApp numbers.
#[async_trait]
pub trait Directory: Send + Sync {
    async fn put_organization(&self, org: &Organization) -> StoreResult<()>;
    async fn organization(&self, org: &OrganizationId) -> StoreResult<Option<Organization>>;
    /// Maps a business number to an organization. A number already mapped to another
    /// organization is a `Conflict`: webhooks must never change tenant silently.
    async fn put_whatsapp_number(
        &self,
        org: &OrganizationId,
        number: &PhoneNumberId,
    ) -> StoreResult<()>;
    async fn resolve_whatsapp_number(
        &self,
        number: &PhoneNumberId,
    ) -> StoreResult<Option<OrganizationId>>;
    /// Sets a membership and, with it in one write, appends `revocation` (the event
    /// that ends the member's open connections), answering it as appended.
    async fn put_member(
        &self,
        org: &OrganizationId,
        user: &UserId,
        membership: &Membership,
        revocation: Option<NewEvent>,
    ) -> StoreResult<Option<Appended>>;
    async fn membership(
        &self,
        org: &OrganizationId,
        user: &UserId,
    ) -> StoreResult<Option<Membership>>;
    /// A `wa_id` or WhatsApp user id already held by another player of the organization
    /// is a `Conflict`.
    async fn put_player(&self, org: &OrganizationId, player: &Player) -> StoreResult<()>;
    async fn player(&self, org: &OrganizationId, id: &PlayerId) -> StoreResult<Option<Player>>;
    async fn player_by_whatsapp(
        &self,
        org: &OrganizationId,
        wa_id: &str,
    ) -> StoreResult<Option<Player>>;
    async fn player_by_whatsapp_user(
        &self,
        org: &OrganizationId,
        user_id: &str,
    ) -> StoreResult<Option<Player>>;
}
