//! The availability port: who was asked about a match, and their answers.

use super::{Appended, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pitchside_domain::availability::Answer;
use pitchside_domain::event::NewEvent;
use pitchside_domain::ids::{MatchId, OrganizationId, PlayerId};

/// Whether a conditional write took effect.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// Written, with its event (`created: false` when the event's dedup key was in
    /// the log already: the same answer, recorded with it before).
    Yes(Appended),
    /// The store holds something newer; nothing changed.
    Stale,
}

/// Availability requests and answers, per match and player.
#[async_trait]
pub trait AvailabilityStore: Send + Sync {
    /// Records that these players were asked about this match at `at`: each becomes
    /// pending for the match (an answer already given stays), and the match becomes
    /// their latest request unless a later one is recorded.
    async fn request_availability(
        &self,
        org: &OrganizationId,
        match_id: &MatchId,
        players: &[PlayerId],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The match of the player's latest request.
    async fn latest_request(
        &self,
        org: &OrganizationId,
        player: &PlayerId,
    ) -> StoreResult<Option<MatchId>>;
    /// Sets the answer unless the one held was given later, and appends `event` (its
    /// `availability.updated`) in the same step: neither without the other.
    async fn set_availability(
        &self,
        org: &OrganizationId,
        match_id: &MatchId,
        answer: &Answer,
        event: NewEvent,
    ) -> StoreResult<Applied>;
    /// Every player asked or answering for the match: the answer, or `None` while
    /// pending. Ordered by player id.
    async fn availability(
        &self,
        org: &OrganizationId,
        match_id: &MatchId,
    ) -> StoreResult<Vec<(PlayerId, Option<Answer>)>>;
}
