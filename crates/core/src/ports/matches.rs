//! The match port: setups and deliveries, written conditionally on the ball count.

use super::StoreResult;
use async_trait::async_trait;
use pitchside_domain::ids::{MatchId, OrganizationId};
use pitchside_domain::scoring::{Delivery, MatchSetup};

/// A match's head: its setup, how many deliveries it holds, and a revision that every
/// write (setup, ball, undo) increases, so a cached state can be checked in one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchHead {
    pub setup: MatchSetup,
    pub balls: u32,
    pub revision: u64,
}

impl MatchHead {
    pub fn at(&self) -> At {
        At {
            balls: self.balls,
            revision: self.revision,
        }
    }
}

/// Where a match stood when it was read: a ball write is conditional on both, so the
/// revision it answers is exactly the state the writer computed (a concurrent ball or
/// setup change makes it `Stale` instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub balls: u32,
    pub revision: u64,
}

/// The outcome of a conditional write on a match's ball count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BallWrite {
    /// Written; the match's new revision.
    Written { revision: u64 },
    /// Another write got there first: the count the match holds now.
    Stale { balls: u32 },
}

/// Matches and their deliveries. Writes of deliveries are conditional on the ball
/// count and revision, so two scorers can never fork an innings.
#[async_trait]
pub trait MatchStore: Send + Sync {
    /// Creates the match or replaces its setup (its deliveries stay).
    async fn put_match(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        setup: &MatchSetup,
    ) -> StoreResult<u64>;
    async fn match_head(
        &self,
        org: &OrganizationId,
        id: &MatchId,
    ) -> StoreResult<Option<MatchHead>>;
    /// Every delivery, in `seq` order.
    async fn balls(&self, org: &OrganizationId, id: &MatchId) -> StoreResult<Vec<Delivery>>;
    /// Adds delivery number `at.balls + 1` if the match is still `at`.
    async fn append_ball(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
        ball: &Delivery,
    ) -> StoreResult<BallWrite>;
    /// Removes delivery number `at.balls` if the match is still `at`.
    async fn remove_last_ball(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
    ) -> StoreResult<BallWrite>;
}
