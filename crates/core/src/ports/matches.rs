//! The match port: setups and deliveries, written conditionally on the ball count.

use super::StoreResult;
use async_trait::async_trait;
use pitchside_domain::event::{Event, NewEvent};
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

impl At {
    /// The revision a write from here gives the match: the one its event names.
    pub fn next_revision(self) -> u64 {
        self.revision + 1
    }
}

/// The outcome of a conditional write on a match's ball count.
#[derive(Debug, Clone, PartialEq)]
pub enum BallWrite {
    /// Written, with its event: the match's new revision (`at.next_revision()`) and
    /// the event as the log holds it.
    Written { revision: u64, event: Event },
    /// Another write got there first: the count the match holds now.
    Stale { balls: u32 },
}

/// Matches and their deliveries. Writes of deliveries are conditional on the ball
/// count and revision, so two scorers can never fork an innings, and each is one
/// atomic step with its event in the organization's log: no crash leaves a ball
/// without its `match.score.updated`, or an event without its ball.
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
    /// Adds delivery number `at.balls + 1`, and appends `event`, if the match is
    /// still `at`; neither otherwise.
    async fn append_ball(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
        ball: &Delivery,
        event: NewEvent,
    ) -> StoreResult<BallWrite>;
    /// Removes delivery number `at.balls`, and appends `event`, if the match is still
    /// `at`; neither otherwise.
    async fn remove_last_ball(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
        event: NewEvent,
    ) -> StoreResult<BallWrite>;
}
