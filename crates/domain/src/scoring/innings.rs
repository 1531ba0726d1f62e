//! One innings, updated a delivery at a time (never rebuilt from the first ball).

use super::delivery::{Delivery, DeliveryError, Dismissal, dismissal};
use serde::Serialize;

/// Overs as `O.B`: completed overs, then the legal balls of the one in progress.
pub fn overs(legal_balls: u32) -> String {
    format!("{}.{}", legal_balls / 6, legal_balls % 6)
}

/// Runs per six legal balls, to two decimals; `None` before a legal ball.
pub fn rate(runs: u32, legal_balls: u32) -> Option<f64> {
    (legal_balls > 0).then(|| (runs as f64 * 600.0 / legal_balls as f64).round() / 100.0)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ExtrasTotals {
    pub wides: u32,
    pub noballs: u32,
    pub byes: u32,
    pub legbyes: u32,
    pub penalty: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BatterCard {
    pub player: String,
    pub runs: u32,
    pub balls: u32,
    pub fours: u32,
    pub sixes: u32,
    /// How out (`caught`, `run out`, …), `retired hurt`, or `None`: not out.
    pub out: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BowlerCard {
    pub player: String,
    pub legal_balls: u32,
    pub maidens: u32,
    pub runs: u32,
    pub wickets: u32,
    pub wides: u32,
    pub noballs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FallOfWicket {
    pub wicket: u32,
    pub runs: u32,
    pub overs: String,
    pub player: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Partnership {
    pub batters: Vec<String>,
    pub runs: u32,
    pub balls: u32,
}

/// Penalty runs awarded to this side while it was fielding (Law 41.17): in `runs`, but
/// off no delivery of this innings. `pre`: awarded before it batted (in the other side's
/// innings); `post`: awarded after its innings ended, which moves a chase's target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PenaltyRuns {
    pub pre: u32,
    pub post: u32,
}

/// Why an innings ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InningsEnd {
    AllOut,
    OversComplete,
    TargetReached,
    /// Ended by the scorer moving to the next innings (a declaration, or officials'
    /// decision).
    Closed,
}

/// The limits an innings is played under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Legal balls in the innings, or `None` for no limit.
    pub balls: Option<u32>,
    /// Wickets that end it: 10, or 2 in a super over.
    pub wickets: u32,
    /// Runs that win it (the chase), if it is one.
    pub target: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Innings {
    pub number: u8,
    pub super_over: bool,
    pub batting_team: Option<String>,
    pub limits: Limits,
    pub runs: u32,
    pub wickets: u32,
    pub legal_balls: u32,
    pub deliveries: u32,
    pub extras: ExtrasTotals,
    pub penalty_runs: PenaltyRuns,
    pub batting: Vec<BatterCard>,
    pub bowling: Vec<BowlerCard>,
    pub fall_of_wickets: Vec<FallOfWicket>,
    pub partnerships: Vec<Partnership>,
    pub striker: Option<String>,
    pub non_striker: Option<String>,
    pub bowler: Option<String>,
    pub ended: Option<InningsEnd>,
    /// The over in progress: its number, the bowler's runs in it, its legal balls, and
    /// whether one bowler bowled all of it (a maiden needs that).
    over: Option<OverSoFar>,
}

#[derive(Debug, Clone, PartialEq)]
struct OverSoFar {
    number: u32,
    bowler: String,
    runs: u32,
    legal: u32,
    one_bowler: bool,
}

/// Why a delivery cannot be applied to an innings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error("innings {0} has ended")]
    Ended(u8),
}

impl Innings {
    pub fn new(number: u8, super_over: bool, batting_team: Option<String>, limits: Limits) -> Self {
        Innings {
            number,
            super_over,
            batting_team,
            limits,
            runs: 0,
            wickets: 0,
            legal_balls: 0,
            deliveries: 0,
            extras: ExtrasTotals::default(),
            penalty_runs: PenaltyRuns::default(),
            batting: Vec::new(),
            bowling: Vec::new(),
            fall_of_wickets: Vec::new(),
            partnerships: Vec::new(),
            striker: None,
            non_striker: None,
            bowler: None,
            ended: None,
            over: None,
        }
    }

    fn batter(&mut self, player: &str) -> &mut BatterCard {
        let i = match self.batting.iter().position(|b| b.player == player) {
            Some(i) => i,
            None => {
                self.batting.push(BatterCard {
                    player: player.to_string(),
                    ..Default::default()
                });
                self.batting.len() - 1
            }
        };
        &mut self.batting[i]
    }

    fn bowler_card(&mut self, player: &str) -> &mut BowlerCard {
        let i = match self.bowling.iter().position(|b| b.player == player) {
            Some(i) => i,
            None => {
                self.bowling.push(BowlerCard {
                    player: player.to_string(),
                    ..Default::default()
                });
                self.bowling.len() - 1
            }
        };
        &mut self.bowling[i]
    }

    /// The partnership at the crease, started when a new pair is first seen.
    fn partnership(&mut self, a: &str, b: &str) -> &mut Partnership {
        let same =
            |p: &Partnership| p.batters.iter().any(|x| x == a) && p.batters.iter().any(|x| x == b);
        if !self.partnerships.last().is_some_and(same) {
            self.partnerships.push(Partnership {
                batters: vec![a.to_string(), b.to_string()],
                runs: 0,
                balls: 0,
            });
        }
        self.partnerships.last_mut().expect("just pushed")
    }

    /// Applies one delivery by the Laws and the scorers' conventions.
    pub fn apply(&mut self, d: &Delivery) -> Result<(), ApplyError> {
        if self.ended.is_some() {
            return Err(ApplyError::Ended(self.number));
        }
        d.check()?;
        let legal = d.is_legal();
        self.deliveries += 1;

        // The batters: both appear on the card; the striker faces unless it is a wide.
        self.batter(&d.batter);
        self.batter(&d.non_striker);
        let card = self.batter(&d.batter);
        if d.extras.wides == 0 {
            card.balls += 1;
        }
        card.runs += d.runs.batter;
        if !d.runs.non_boundary {
            match d.runs.batter {
                4 => card.fours += 1,
                6 => card.sixes += 1,
                _ => {}
            }
        }

        // The bowler: charged with runs off the bat, wides and no-balls.
        let bowler = self.bowler_card(&d.bowler);
        bowler.runs += d.bowler_runs();
        bowler.wides += d.extras.wides;
        bowler.noballs += d.extras.noballs;
        if legal {
            bowler.legal_balls += 1;
        }

        // The over in progress, for maidens.
        let over = match self.over.take() {
            Some(o) if o.number == d.over => o,
            _ => OverSoFar {
                number: d.over,
                bowler: d.bowler.clone(),
                runs: 0,
                legal: 0,
                one_bowler: true,
            },
        };
        let mut over = over;
        over.one_bowler &= over.bowler == d.bowler;
        over.runs += d.bowler_runs();
        if legal {
            over.legal += 1;
        }
        if over.legal == 6 && over.runs == 0 && over.one_bowler {
            self.bowler_card(&d.bowler).maidens += 1;
        }
        let over_complete = legal && over.legal == 6;
        // Where in the innings this ball fell, as scorers write it: the last ball of
        // over 13 is 13.6 (not 14.0); a wide before over 14's first legal ball, 14.0.
        let ball_of_over = over.legal;
        self.over = Some(over);

        // The totals.
        self.runs += d.runs.total;
        self.extras.wides += d.extras.wides;
        self.extras.noballs += d.extras.noballs;
        self.extras.byes += d.extras.byes;
        self.extras.legbyes += d.extras.legbyes;
        self.extras.penalty += d.extras.penalty;
        if legal {
            self.legal_balls += 1;
        }
        let p = self.partnership(&d.batter, &d.non_striker);
        p.runs += d.runs.total;
        if legal {
            p.balls += 1;
        }

        // Strike: the batters cross on odd runs run, and change ends after the over.
        let (mut striker, mut non_striker) = (Some(d.batter.clone()), Some(d.non_striker.clone()));
        if d.runs_run() % 2 == 1 {
            std::mem::swap(&mut striker, &mut non_striker);
        }

        // Wickets: only dismissals count; the bowler's only for his kinds.
        for w in &d.wickets {
            let how = dismissal(&w.kind).expect("checked");
            self.batter(&w.player_out).out = Some(w.kind.clone());
            if striker.as_deref() == Some(&w.player_out) {
                striker = None;
            } else if non_striker.as_deref() == Some(&w.player_out) {
                non_striker = None;
            }
            if how == Dismissal::Retired {
                continue;
            }
            self.wickets += 1;
            if how == Dismissal::Bowler {
                self.bowler_card(&d.bowler).wickets += 1;
            }
            self.fall_of_wickets.push(FallOfWicket {
                wicket: self.wickets,
                runs: self.runs,
                overs: format!("{}.{ball_of_over}", d.over),
                player: w.player_out.clone(),
            });
        }
        if over_complete {
            std::mem::swap(&mut striker, &mut non_striker);
        }
        self.striker = striker;
        self.non_striker = non_striker;
        self.bowler = Some(d.bowler.clone());

        self.ended = self.end();
        Ok(())
    }

    /// Whether the innings is over by its limits, and why.
    fn end(&self) -> Option<InningsEnd> {
        if self.wickets >= self.limits.wickets {
            Some(InningsEnd::AllOut)
        } else if self.limits.target.is_some_and(|t| self.runs >= t) {
            Some(InningsEnd::TargetReached)
        } else if self.limits.balls.is_some_and(|b| self.legal_balls >= b) {
            Some(InningsEnd::OversComplete)
        } else {
            None
        }
    }

    /// Penalty runs awarded to this side before it batted: its innings starts with them.
    pub(super) fn award_before(&mut self, runs: u32) {
        self.runs += runs;
        self.penalty_runs.pre += runs;
    }

    /// Penalty runs awarded to this side after its innings ended.
    pub(super) fn award_after(&mut self, runs: u32) {
        self.runs += runs;
        self.penalty_runs.post += runs;
    }

    /// The chase's target moved (penalty runs to the side that set it): an innings that
    /// had reached the old target plays on if it falls short of the new one.
    pub(super) fn retarget(&mut self, target: u32) {
        self.limits.target = Some(target);
        if self.ended == Some(InningsEnd::TargetReached) {
            self.ended = self.end();
        }
    }

    /// In a chase: runs still needed and legal balls left.
    pub fn chase(&self) -> Option<(u32, Option<u32>)> {
        let target = self.limits.target?;
        Some((
            target.saturating_sub(self.runs),
            self.limits
                .balls
                .map(|b| b.saturating_sub(self.legal_balls)),
        ))
    }
}
