//! An auction's setup: teams and purses, squad rules, increment slabs and the clock of
//! a lot, and the players put into its pool; checked before anything is stored.

use super::{AuctionError, MAX_AMOUNT, MAX_LOT_SECONDS, Slab, increments, ipl_increments};
use crate::ids::TeamId;
use serde::{Deserialize, Serialize};

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
        if let Some(t) = self.teams.iter().find(|t| t.purse > MAX_AMOUNT) {
            return bad(format!("team {}'s purse is more than {MAX_AMOUNT}", t.id));
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
