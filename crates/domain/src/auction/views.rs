//! The auction as clients see it: the open lot (in acks, refusals and `GET`) and the
//! whole state. Each view is a type, so its shape is written once and checked by the
//! compiler; the handlers add the ids they know (`auctionId`, `lastEventId`).

use super::{Auction, LotResult, PoolEntry, SquadRules};
use crate::event::format_timestamp;
use crate::ids::{PlayerId, TeamId};
use serde::Serialize;
use serde_json::Value;

/// The open lot.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LotView<'a> {
    pub lot: u32,
    pub player_id: &'a PlayerId,
    pub name: Option<&'a str>,
    pub overseas: bool,
    pub base_price: u64,
    pub round: u32,
    pub current_bid: Option<u64>,
    pub leading_team: Option<&'a TeamId>,
    pub bids: u32,
    /// The lot's version, for clients that drop what is older than they hold.
    pub version: u32,
    pub next_bid: Option<u64>,
    pub ends_at: String,
}

/// A team: its purse left and its squad.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamView<'a> {
    pub id: &'a TeamId,
    pub name: &'a str,
    pub purse_left: u64,
    pub squad: &'a [PlayerId],
    pub overseas: u32,
}

/// A player of the pool and where they stand.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolView<'a> {
    pub player_id: &'a PlayerId,
    #[serde(flatten)]
    pub entry: &'a PoolEntry,
}

/// The whole auction.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuctionView<'a> {
    pub name: &'a str,
    pub currency: &'a str,
    pub squad: &'a SquadRules,
    pub teams: Vec<TeamView<'a>>,
    pub lot: Option<LotView<'a>>,
    pub lots: u32,
    pub results: &'a [LotResult],
    pub pool: Vec<PoolView<'a>>,
}

impl Auction {
    pub fn lot_view_of(&self) -> Option<LotView<'_>> {
        let lot = self.lot.as_ref()?;
        let player = self.pool.get(&lot.player_id).map(|e| &e.player);
        Some(LotView {
            lot: lot.number,
            player_id: &lot.player_id,
            name: player.map(|p| p.name.as_str()),
            overseas: player.is_some_and(|p| p.overseas),
            base_price: lot.base_price,
            round: lot.round,
            current_bid: lot.leading.as_ref().map(|b| b.amount),
            leading_team: lot.leading.as_ref().map(|b| &b.team_id),
            bids: lot.bids,
            version: lot.bids,
            next_bid: self.next_bid(),
            ends_at: format_timestamp(&lot.ends_at),
        })
    }

    pub fn view_of(&self) -> AuctionView<'_> {
        AuctionView {
            name: &self.setup.name,
            currency: &self.setup.currency,
            squad: &self.setup.squad,
            teams: self
                .teams
                .iter()
                .map(|(id, t)| TeamView {
                    id,
                    name: &t.name,
                    purse_left: t.purse_left,
                    squad: &t.squad,
                    overseas: t.overseas,
                })
                .collect(),
            lot: self.lot_view_of(),
            lots: self.lots,
            results: &self.results,
            pool: self
                .pool
                .iter()
                .map(|(player_id, entry)| PoolView { player_id, entry })
                .collect(),
        }
    }

    /// The open lot as JSON (`null` when none is open), for the handlers to extend.
    pub fn lot_view(&self) -> Value {
        to_json(&self.lot_view_of())
    }

    /// The whole state as JSON, for the handlers to extend.
    pub fn view(&self) -> Value {
        to_json(&self.view_of())
    }
}

/// A view as JSON: its fields are strings, numbers and lists, which always serialize.
fn to_json(view: &impl Serialize) -> Value {
    serde_json::to_value(view).unwrap_or(Value::Null)
}
