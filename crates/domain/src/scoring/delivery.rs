//! One delivery, in Cricsheet's shape (the contract's), and what it says by the Laws.

use serde::{Deserialize, Serialize};

/// A delivery as the scorer sends it; the fields of a Cricsheet delivery, plus `seq`
/// (its position in the match, from 1) and `innings` (from 1, in the order played).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    pub seq: u32,
    pub innings: u8,
    /// Cricsheet's over number, from 0.
    pub over: u32,
    pub batter: String,
    pub bowler: String,
    pub non_striker: String,
    pub runs: Runs,
    #[serde(default, skip_serializing_if = "Extras::is_empty")]
    pub extras: Extras,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wickets: Vec<Wicket>,
    /// Cricsheet's record of a review (DRS) on this delivery: kept as sent, it does
    /// not change the score (the umpire's final decision is in `wickets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<serde_json::Value>,
    /// Cricsheet's replacements (a concussion substitute, a bowler finishing another's
    /// over): kept as sent; the score follows the names on the delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacements: Option<serde_json::Value>,
    /// Penalty runs awarded to the fielding side on this delivery (Law 41.17). They are
    /// not this innings' runs: they go to the fielding side's most recently completed
    /// innings or, if it has not batted yet, to its next. Cricsheet keeps them per
    /// innings (`penalty_runs.pre`/`post`); a scorer enters them when they are awarded.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub fielding_penalty: u32,
    /// On the deliveries of a super over's innings.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub super_over: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runs {
    pub batter: u32,
    pub extras: u32,
    pub total: u32,
    /// Four (or six) runs that were run, not a boundary (Cricsheet's flag).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub non_boundary: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extras {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub wides: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub noballs: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub byes: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub legbyes: u32,
    /// Penalty runs awarded to the batting side on this delivery.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub penalty: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Extras {
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// The sum, saturating: [`Delivery::check`] bounds each part long before it could
    /// wrap, and a saturated sum never equals a bounded `runs.extras`.
    pub fn total(&self) -> u32 {
        [
            self.wides,
            self.noballs,
            self.byes,
            self.legbyes,
            self.penalty,
        ]
        .into_iter()
        .fold(0u32, u32::saturating_add)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wicket {
    pub player_out: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fielders: Vec<Fielder>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fielder {
    pub name: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub substitute: bool,
}

/// How a batter left, by the Laws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dismissal {
    /// Out, and the bowler's wicket: bowled, caught, lbw, stumped, hit wicket.
    Bowler,
    /// Out, not the bowler's: run out, obstructing the field, handled the ball,
    /// timed out, retired out.
    Other,
    /// Not out: retired hurt (or retired not out). The batter may come back.
    Retired,
}

/// The kind of a wicket, or `None` for a kind the Laws do not know.
pub fn dismissal(kind: &str) -> Option<Dismissal> {
    match kind {
        "bowled" | "caught" | "caught and bowled" | "lbw" | "stumped" | "hit wicket" => {
            Some(Dismissal::Bowler)
        }
        "run out"
        | "obstructing the field"
        | "handled the ball"
        | "timed out"
        | "retired out"
        | "hit the ball twice" => Some(Dismissal::Other),
        "retired hurt" | "retired not out" => Some(Dismissal::Retired),
        _ => None,
    }
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("runs.total ({total}) is not runs.batter + runs.extras ({sum})")]
    TotalMismatch { total: u32, sum: u32 },
    #[error("runs.extras ({extras}) is not the sum of extras ({sum})")]
    ExtrasMismatch { extras: u32, sum: u32 },
    #[error("a delivery cannot be both a wide and a no-ball")]
    WideAndNoball,
    #[error("runs off the bat cannot be scored from a wide")]
    BatRunsOnWide,
    #[error("byes or leg byes on a wide are wides")]
    ByesOnWide,
    #[error("the batter and the non-striker are the same player")]
    SameBatters,
    #[error("unknown kind of wicket {0:?}")]
    UnknownWicket(String),
    #[error("{0} is not at the crease")]
    NotAtCrease(String),
    #[error("at most two wickets (a run out of each batter) on one delivery")]
    TooManyWickets,
    #[error("penalty runs are awarded in fives (Law 41), not {0}")]
    PenaltyNotFives(u32),
    #[error("{field} ({value}) is more than one delivery can score (at most {max})")]
    OutOfRange {
        field: &'static str,
        value: u32,
        max: u32,
    },
}

/// The most runs of one kind a single delivery can bring: the runs completed plus an
/// overthrow to the boundary (Law 19.8) stays below it; Cricsheet's thousands of real
/// matches never reach it. Bounding every count a scorer sends keeps each sum far from
/// overflowing.
pub const MAX_RUNS_OF_A_KIND: u32 = 10;
/// At most two five-run awards (Law 41) on one delivery, for each side.
pub const MAX_PENALTY_RUNS: u32 = 10;

impl Delivery {
    /// Wides and no-balls are not legal deliveries: they do not count toward the over.
    pub fn is_legal(&self) -> bool {
        self.extras.wides == 0 && self.extras.noballs == 0
    }

    /// What the bowler is charged: runs off the bat, wides and no-balls; never byes, leg
    /// byes or penalties.
    pub fn bowler_runs(&self) -> u32 {
        self.runs.batter + self.extras.wides + self.extras.noballs
    }

    /// The runs the batters ran (what decides whether they crossed): all but the one
    /// run of a wide or no-ball itself and any penalty.
    pub fn runs_run(&self) -> u32 {
        self.runs.batter
            + self.extras.byes
            + self.extras.legbyes
            + self.extras.wides.saturating_sub(1)
    }

    /// Checks the delivery's own consistency, starting with every count in range.
    pub fn check(&self) -> Result<(), DeliveryError> {
        let e = &self.extras;
        for (field, value, max) in [
            ("runs.batter", self.runs.batter, MAX_RUNS_OF_A_KIND),
            ("extras.wides", e.wides, MAX_RUNS_OF_A_KIND),
            ("extras.noballs", e.noballs, MAX_RUNS_OF_A_KIND),
            ("extras.byes", e.byes, MAX_RUNS_OF_A_KIND),
            ("extras.legbyes", e.legbyes, MAX_RUNS_OF_A_KIND),
            ("extras.penalty", e.penalty, MAX_PENALTY_RUNS),
            ("fielding_penalty", self.fielding_penalty, MAX_PENALTY_RUNS),
        ] {
            if value > max {
                return Err(DeliveryError::OutOfRange { field, value, max });
            }
        }
        // Saturating: `runs.extras` is not bounded yet, and a saturated sum is refused below
        // anyway (it can match neither a bounded total nor the extras' own sum).
        let sum = self.runs.batter.saturating_add(self.runs.extras);
        if self.runs.total != sum {
            return Err(DeliveryError::TotalMismatch {
                total: self.runs.total,
                sum,
            });
        }
        if self.runs.extras != self.extras.total() {
            return Err(DeliveryError::ExtrasMismatch {
                extras: self.runs.extras,
                sum: self.extras.total(),
            });
        }
        if self.extras.wides > 0 && self.extras.noballs > 0 {
            return Err(DeliveryError::WideAndNoball);
        }
        if self.extras.wides > 0 && self.runs.batter > 0 {
            return Err(DeliveryError::BatRunsOnWide);
        }
        if self.extras.wides > 0 && (self.extras.byes > 0 || self.extras.legbyes > 0) {
            return Err(DeliveryError::ByesOnWide);
        }
        if self.batter == self.non_striker {
            return Err(DeliveryError::SameBatters);
        }
        for p in [self.extras.penalty, self.fielding_penalty] {
            if p % 5 != 0 {
                return Err(DeliveryError::PenaltyNotFives(p));
            }
        }
        if self.wickets.len() > 2 {
            return Err(DeliveryError::TooManyWickets);
        }
        for w in &self.wickets {
            if dismissal(&w.kind).is_none() {
                return Err(DeliveryError::UnknownWicket(w.kind.clone()));
            }
            if w.player_out != self.batter && w.player_out != self.non_striker {
                return Err(DeliveryError::NotAtCrease(w.player_out.clone()));
            }
        }
        Ok(())
    }
}
