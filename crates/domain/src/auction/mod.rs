//! Player auctions: the rules of a lot and its bids, pure.
//!
//! An auction is one document: its setup, the pool of players, each team's purse and
//! squad, the open lot and the results. Every operation takes the time it happens at
//! and either changes the document or refuses with an [`AuctionError`] that leaves it
//! as it was, so a store can apply an operation with one conditional write.

mod bidding;
mod increments;
mod setup;
#[cfg(test)]
mod tests;
mod views;

pub use increments::{Slab, ipl_increments, next_amount};
pub use setup::{AuctionSetup, PoolPlayer, SquadRules, TeamSetup};
pub use views::{AuctionView, LotView, PoolView, TeamView};

use super::event::millis_timestamp;
use super::ids::{PlayerId, TeamId, UserId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest a lot may run: a lot's timer is a delayed queue message, and SQS delays
/// by at most 15 minutes.
pub const MAX_LOT_SECONDS: u32 = 900;
/// The largest purse, base price or increment, in the auction's currency units: far
/// above any real league's (the IPL's purse is about 10^9 rupees), and small enough
/// that a pool's worth of base prices sums without overflowing a u64.
pub const MAX_AMOUNT: u64 = 1_000_000_000_000_000;
/// The most players an auction's pool may hold (the IPL's has about 600): each bid
/// looks at the pool, so it stays small.
pub const MAX_POOL: usize = 1_000;
/// More bids than any one lot takes in practice; bounds the walk over the grid when
/// jumps are allowed.
const MAX_STEPS_IN_ONE_JUMP: usize = 10_000;

/// Where a player of the pool stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum Standing {
    Available,
    #[serde(rename_all = "camelCase")]
    Sold {
        team_id: TeamId,
        amount: u64,
    },
    #[serde(rename_all = "camelCase")]
    Unsold {
        times: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolEntry {
    #[serde(flatten)]
    pub player: PoolPlayer,
    #[serde(flatten)]
    pub standing: Standing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamState {
    pub name: String,
    pub purse_left: u64,
    pub squad: Vec<PlayerId>,
    pub overseas: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bid {
    pub team_id: TeamId,
    pub amount: u64,
    pub user: UserId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lot {
    /// Lots are numbered from 1 in the order opened.
    pub number: u32,
    pub player_id: PlayerId,
    pub base_price: u64,
    /// 1, or more for a player presented again after going unsold.
    pub round: u32,
    /// The lot's version: how many bids it has accepted.
    pub bids: u32,
    pub leading: Option<Bid>,
    #[serde(with = "millis_timestamp")]
    pub opened_at: DateTime<Utc>,
    #[serde(with = "millis_timestamp")]
    pub ends_at: DateTime<Utc>,
}

/// Who closed a lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ClosedBy {
    Auctioneer,
    Timer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LotResult {
    pub lot: u32,
    pub player_id: PlayerId,
    pub round: u32,
    /// `None`: unsold.
    pub sold_to: Option<Bid>,
    pub bids: u32,
    pub closed_by: ClosedBy,
    #[serde(with = "millis_timestamp")]
    pub closed_at: DateTime<Utc>,
}

/// Why an operation was refused. `code()` is the contract's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuctionError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("no lot is open for this player")]
    LotClosed,
    #[error("lot {0} is still open: close it first")]
    LotOpen(u32),
    #[error("this player has been sold")]
    PlayerSold,
    #[error("the teams and purses cannot change once a lot has been opened")]
    Started,
    #[error("only an owner of team {0} can bid for it")]
    NotOwner(TeamId),
    #[error("the bid must be {expected}")]
    TooLow { expected: u64 },
    #[error("the bid must be {expected}: bids go up one step at a time")]
    OffStep { expected: u64 },
    #[error("team {0} already holds the highest bid")]
    OwnBid(TeamId),
    #[error(
        "team {team} cannot pay {amount}: it must keep {reserve} to fill its minimum squad at base prices, and has {purse_left}"
    )]
    PurseExceeded {
        team: TeamId,
        amount: u64,
        reserve: u64,
        purse_left: u64,
    },
    #[error("team {0}'s squad is full")]
    SquadFull(TeamId),
    #[error("team {0} has its full number of overseas players")]
    OverseasFull(TeamId),
}

impl AuctionError {
    pub fn code(&self) -> &'static str {
        match self {
            AuctionError::Invalid(_) => "bad_request",
            AuctionError::NotFound(_) => "not_found",
            AuctionError::LotClosed => "lot_closed",
            AuctionError::LotOpen(_) => "lot_open",
            AuctionError::PlayerSold => "player_sold",
            AuctionError::Started => "auction_started",
            AuctionError::NotOwner(_) => "unauthorized",
            AuctionError::TooLow { .. } => "bid_too_low",
            AuctionError::OffStep { .. } => "bid_off_step",
            AuctionError::OwnBid(_) => "own_bid",
            AuctionError::PurseExceeded { .. } => "purse_exceeded",
            AuctionError::SquadFull(_) => "squad_full",
            AuctionError::OverseasFull(_) => "overseas_full",
        }
    }
}

/// Who places a bid, as the store knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bidder {
    pub user: UserId,
    /// The team the bidder owns, if they hold the `team_owner` role.
    pub owns: Option<TeamId>,
}

/// A bid as a client places it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidRequest {
    pub player_id: PlayerId,
    pub team_id: TeamId,
    pub amount: u64,
}

/// The auction document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Auction {
    pub setup: AuctionSetup,
    pub pool: BTreeMap<PlayerId, PoolEntry>,
    pub teams: BTreeMap<TeamId, TeamState>,
    pub lot: Option<Lot>,
    /// How many lots have been opened.
    pub lots: u32,
    pub results: Vec<LotResult>,
}

fn teams_of(setup: &AuctionSetup) -> BTreeMap<TeamId, TeamState> {
    setup
        .teams
        .iter()
        .map(|t| {
            (
                t.id.clone(),
                TeamState {
                    name: t.name.clone(),
                    purse_left: t.purse,
                    squad: Vec::new(),
                    overseas: 0,
                },
            )
        })
        .collect()
}
