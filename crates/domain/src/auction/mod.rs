//! Player auctions: the rules of a lot and its bids, pure.
//!
//! An auction is one document: its setup, the pool of players, each team's purse and
//! squad, the open lot and the results. Every operation takes the time it happens at
//! and either changes the document or refuses with an [`AuctionError`] that leaves it
//! as it was, so a store can apply an operation with one conditional write.

mod increments;
#[cfg(test)]
mod tests;

pub use increments::{Slab, ipl_increments, next_amount};

use super::event::millis_timestamp;
use super::ids::{PlayerId, TeamId, UserId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The longest a lot may run: a lot's timer is a delayed queue message, and SQS delays
/// by at most 15 minutes.
pub const MAX_LOT_SECONDS: u32 = 900;
/// More bids than any one lot takes in practice; bounds the walk over the grid when
/// jumps are allowed.
const MAX_STEPS_IN_ONE_JUMP: usize = 10_000;

fn default_currency() -> String {
    "INR".into()
}
fn default_lot_seconds() -> u32 {
    30
}
fn default_soft_close() -> u32 {
    10
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamSetup {
    pub id: TeamId,
    pub name: String,
    pub purse: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SquadRules {
    pub min: u32,
    pub max: u32,
    pub overseas_max: u32,
}

/// `PUT /auctions/{auctionId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuctionSetup {
    pub name: String,
    #[serde(default = "default_currency")]
    pub currency: String,
    pub teams: Vec<TeamSetup>,
    pub squad: SquadRules,
    #[serde(default = "ipl_increments")]
    pub increments: Vec<Slab>,
    #[serde(default = "default_lot_seconds")]
    pub lot_seconds: u32,
    /// A bid with less than this left on the clock extends the lot to this many seconds.
    #[serde(default = "default_soft_close")]
    pub soft_close_seconds: u32,
    /// Whether a bid may skip steps (it must still land on the grid).
    #[serde(default)]
    pub allow_jumps: bool,
    /// The lot time of a player presented again after going unsold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accelerated_lot_seconds: Option<u32>,
}

impl AuctionSetup {
    pub fn check(&self) -> Result<(), AuctionError> {
        let bad = |m: String| Err(AuctionError::Invalid(m));
        if self.name.trim().is_empty() || self.name.len() > 200 {
            return bad("`name` must be 1 to 200 characters".into());
        }
        if self.teams.is_empty() || self.teams.len() > 100 {
            return bad("an auction has 1 to 100 teams".into());
        }
        let mut ids: Vec<&TeamId> = self.teams.iter().map(|t| &t.id).collect();
        ids.sort();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return bad("team ids must be unique".into());
        }
        if let Some(t) = self.teams.iter().find(|t| t.purse == 0) {
            return bad(format!("team {} has no purse", t.id));
        }
        let s = self.squad;
        if s.max == 0 || s.min > s.max || s.overseas_max > s.max {
            return bad("`squad` needs 0 < max, min <= max and overseasMax <= max".into());
        }
        increments::check(&self.increments).map_err(AuctionError::Invalid)?;
        for (name, secs) in [
            ("lotSeconds", Some(self.lot_seconds)),
            ("acceleratedLotSeconds", self.accelerated_lot_seconds),
        ] {
            if let Some(secs) = secs
                && !(1..=MAX_LOT_SECONDS).contains(&secs)
            {
                return bad(format!("`{name}` must be 1 to {MAX_LOT_SECONDS}"));
            }
        }
        if self.soft_close_seconds > self.lot_seconds {
            return bad("`softCloseSeconds` cannot exceed `lotSeconds`".into());
        }
        Ok(())
    }
}

/// `PUT /auctions/{auctionId}/players/{playerId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoolPlayer {
    pub name: String,
    pub base_price: u64,
    #[serde(default)]
    pub overseas: bool,
}

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

impl Auction {
    pub fn new(setup: AuctionSetup) -> Result<Auction, AuctionError> {
        setup.check()?;
        Ok(Auction {
            teams: teams_of(&setup),
            setup,
            pool: BTreeMap::new(),
            lot: None,
            lots: 0,
            results: Vec::new(),
        })
    }

    /// Replaces the setup. Before the first lot anything may change; after it, only
    /// what does not touch money already spent (the teams and purses stay).
    pub fn set_setup(&mut self, setup: AuctionSetup) -> Result<(), AuctionError> {
        setup.check()?;
        if self.lots > 0 {
            if setup.teams != self.setup.teams {
                return Err(AuctionError::Started);
            }
        } else {
            self.teams = teams_of(&setup);
        }
        self.setup = setup;
        Ok(())
    }

    /// Puts a player in the pool, or changes one that has not been auctioned yet.
    pub fn put_player(&mut self, id: PlayerId, player: PoolPlayer) -> Result<(), AuctionError> {
        if player.name.trim().is_empty() || player.name.len() > 200 {
            return Err(AuctionError::Invalid(
                "`name` must be 1 to 200 characters".into(),
            ));
        }
        if player.base_price == 0 {
            return Err(AuctionError::Invalid(
                "`basePrice` must be more than 0".into(),
            ));
        }
        if let Some(lot) = &self.lot
            && lot.player_id == id
        {
            return Err(AuctionError::LotOpen(lot.number));
        }
        let standing = match self.pool.get(&id) {
            Some(PoolEntry {
                standing: Standing::Sold { .. },
                ..
            }) => return Err(AuctionError::PlayerSold),
            Some(e) => e.standing.clone(),
            None => Standing::Available,
        };
        self.pool.insert(id, PoolEntry { player, standing });
        Ok(())
    }

    /// Closes the open lot if its time has run out; answers the result if it did.
    pub fn settle(&mut self, now: DateTime<Utc>) -> Option<LotResult> {
        match &self.lot {
            Some(lot) if now >= lot.ends_at => Some(self.close(now, ClosedBy::Timer)),
            _ => None,
        }
    }

    /// Opens a lot for a player of the pool. A player who went unsold is presented
    /// again in the next round, with the accelerated lot time.
    pub fn open_lot(
        &mut self,
        player: &PlayerId,
        now: DateTime<Utc>,
    ) -> Result<&Lot, AuctionError> {
        if let Some(lot) = &self.lot {
            return Err(AuctionError::LotOpen(lot.number));
        }
        let entry = self
            .pool
            .get(player)
            .ok_or(AuctionError::NotFound("player in this auction's pool"))?;
        let (round, secs) = match entry.standing {
            Standing::Sold { .. } => return Err(AuctionError::PlayerSold),
            Standing::Available => (1, self.setup.lot_seconds),
            Standing::Unsold { times } => (
                times + 1,
                self.setup
                    .accelerated_lot_seconds
                    .unwrap_or(self.setup.lot_seconds),
            ),
        };
        self.lots += 1;
        Ok(self.lot.insert(Lot {
            number: self.lots,
            player_id: player.clone(),
            base_price: entry.player.base_price,
            round,
            bids: 0,
            leading: None,
            opened_at: now,
            ends_at: now + Duration::seconds(i64::from(secs)),
        }))
    }

    /// The only amount (or, with jumps, the least) the next bid on the open lot may be.
    pub fn next_bid(&self) -> Option<u64> {
        let lot = self.lot.as_ref()?;
        Some(match &lot.leading {
            None => lot.base_price,
            Some(b) => next_amount(&self.setup.increments, b.amount),
        })
    }

    /// What a team must keep to buy the players it still needs for its minimum squad,
    /// after buying one more: the base prices of the cheapest players still to be
    /// auctioned, other than the one on the block.
    fn reserve_after_one_more(&self, team: &TeamState, on_block: &PlayerId) -> u64 {
        let needed = (self.setup.squad.min as usize).saturating_sub(team.squad.len() + 1);
        if needed == 0 {
            return 0;
        }
        let mut prices: Vec<u64> = self
            .pool
            .iter()
            .filter(|(id, e)| *id != on_block && !matches!(e.standing, Standing::Sold { .. }))
            .map(|(_, e)| e.player.base_price)
            .collect();
        prices.sort_unstable();
        prices.iter().take(needed).sum()
    }

    /// Validates a bid and, if it is valid, makes it the lot's leading bid. The checks
    /// run in a fixed order, so a refusal names the first rule broken.
    pub fn place_bid(
        &mut self,
        bidder: &Bidder,
        bid: &BidRequest,
        now: DateTime<Utc>,
    ) -> Result<&Lot, AuctionError> {
        let lot = match &self.lot {
            Some(lot) if lot.player_id == bid.player_id && now < lot.ends_at => lot,
            _ => return Err(AuctionError::LotClosed),
        };
        if bidder.owns.as_ref() != Some(&bid.team_id) {
            return Err(AuctionError::NotOwner(bid.team_id.clone()));
        }
        let team = self
            .teams
            .get(&bid.team_id)
            .ok_or(AuctionError::NotFound("team in this auction"))?;
        if lot
            .leading
            .as_ref()
            .is_some_and(|b| b.team_id == bid.team_id)
        {
            return Err(AuctionError::OwnBid(bid.team_id.clone()));
        }
        let expected = self.next_bid().expect("a lot is open");
        if bid.amount < expected {
            return Err(AuctionError::TooLow { expected });
        }
        if bid.amount > expected && !self.on_grid_above(expected, bid.amount) {
            return Err(AuctionError::OffStep { expected });
        }
        if u32::try_from(team.squad.len()).unwrap_or(u32::MAX) >= self.setup.squad.max {
            return Err(AuctionError::SquadFull(bid.team_id.clone()));
        }
        let overseas = self
            .pool
            .get(&lot.player_id)
            .is_some_and(|e| e.player.overseas);
        if overseas && team.overseas >= self.setup.squad.overseas_max {
            return Err(AuctionError::OverseasFull(bid.team_id.clone()));
        }
        let reserve = self.reserve_after_one_more(team, &lot.player_id);
        if bid.amount.saturating_add(reserve) > team.purse_left {
            return Err(AuctionError::PurseExceeded {
                team: bid.team_id.clone(),
                amount: bid.amount,
                reserve,
                purse_left: team.purse_left,
            });
        }
        let soft_close = Duration::seconds(i64::from(self.setup.soft_close_seconds));
        let lot = self.lot.as_mut().expect("a lot is open");
        lot.bids += 1;
        lot.leading = Some(Bid {
            team_id: bid.team_id.clone(),
            amount: bid.amount,
            user: bidder.user.clone(),
        });
        if lot.ends_at - now < soft_close {
            lot.ends_at = now + soft_close;
        }
        Ok(lot)
    }

    /// Whether `amount` is reached from `from` by whole steps, when jumps are allowed.
    fn on_grid_above(&self, from: u64, amount: u64) -> bool {
        if !self.setup.allow_jumps {
            return false;
        }
        let mut at = from;
        for _ in 0..MAX_STEPS_IN_ONE_JUMP {
            at = next_amount(&self.setup.increments, at);
            if at >= amount {
                return at == amount;
            }
        }
        false
    }

    /// Closes the open lot (the auctioneer's call): sold to the leading bid, or unsold.
    pub fn close_lot(&mut self, now: DateTime<Utc>) -> Result<LotResult, AuctionError> {
        if self.lot.is_none() {
            return Err(AuctionError::LotClosed);
        }
        Ok(self.close(now, ClosedBy::Auctioneer))
    }

    fn close(&mut self, now: DateTime<Utc>, by: ClosedBy) -> LotResult {
        let lot = self.lot.take().expect("a lot is open");
        let entry = self.pool.get_mut(&lot.player_id);
        match (&lot.leading, entry) {
            (Some(bid), Some(entry)) => {
                if let Some(team) = self.teams.get_mut(&bid.team_id) {
                    team.purse_left -= bid.amount;
                    team.squad.push(lot.player_id.clone());
                    if entry.player.overseas {
                        team.overseas += 1;
                    }
                }
                entry.standing = Standing::Sold {
                    team_id: bid.team_id.clone(),
                    amount: bid.amount,
                };
            }
            (None, Some(entry)) => {
                let times = match entry.standing {
                    Standing::Unsold { times } => times + 1,
                    _ => 1,
                };
                entry.standing = Standing::Unsold { times };
            }
            (_, None) => {}
        }
        let result = LotResult {
            lot: lot.number,
            player_id: lot.player_id,
            round: lot.round,
            sold_to: lot.leading,
            bids: lot.bids,
            closed_by: by,
            closed_at: now,
        };
        self.results.push(result.clone());
        result
    }

    /// The open lot as clients see it: in acks, refusals and `GET`.
    pub fn lot_view(&self) -> Value {
        match &self.lot {
            None => Value::Null,
            Some(lot) => {
                let name = self
                    .pool
                    .get(&lot.player_id)
                    .map(|e| e.player.name.as_str());
                let overseas = self
                    .pool
                    .get(&lot.player_id)
                    .is_some_and(|e| e.player.overseas);
                json!({
                    "lot": lot.number,
                    "playerId": lot.player_id,
                    "name": name,
                    "overseas": overseas,
                    "basePrice": lot.base_price,
                    "round": lot.round,
                    "currentBid": lot.leading.as_ref().map(|b| b.amount),
                    "leadingTeam": lot.leading.as_ref().map(|b| &b.team_id),
                    "bids": lot.bids,
                    "version": lot.bids,
                    "nextBid": self.next_bid(),
                    "endsAt": super::event::format_timestamp(&lot.ends_at),
                })
            }
        }
    }

    /// The whole state: teams, the open lot, results and the pool.
    pub fn view(&self) -> Value {
        json!({
            "name": self.setup.name,
            "currency": self.setup.currency,
            "squad": self.setup.squad,
            "teams": self.teams.iter().map(|(id, t)| json!({
                "id": id, "name": t.name, "purseLeft": t.purse_left,
                "squad": t.squad, "overseas": t.overseas,
            })).collect::<Vec<_>>(),
            "lot": self.lot_view(),
            "lots": self.lots,
            "results": self.results,
            "pool": self.pool.iter().map(|(id, e)| {
                let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                v["playerId"] = json!(id);
                v
            }).collect::<Vec<_>>(),
        })
    }
}
