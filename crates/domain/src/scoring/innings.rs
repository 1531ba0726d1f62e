//! One innings, updated a delivery at a time (never rebuilt from the first ball).

use super::delivery::{Delivery, DeliveryError, Dismissal, dismissal};
use serde::Serialize;

/// Overs as `O.B` from balls as counted (a complete over counts six, whatever it held):
/// completed overs, then the legal balls of the one in progress.
pub fn overs(balls: u32) -> String {
    format!("{}.{}", balls / 6, balls % 6)
}

/// Runs per over (six balls as counted), to two decimals; `None` before a legal ball.
pub fn rate(runs: u32, balls: u32) -> Option<f64> {
    (balls > 0).then(|| (runs as f64 * 600.0 / balls as f64).round() / 100.0)
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
    /// Legal balls as bowled.
    pub legal_balls: u32,
    /// Balls as the umpires counted them (Law 17.5): six for each complete over the
    /// bowler bowled alone, however many legal balls it held, and the legal balls of the
    /// rest. The bowler's overs and economy are taken from it.
    pub counted_balls: u32,
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
    /// Balls in the innings as counted (six an over), or `None` for no limit.
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
    /// Legal balls as bowled; the overs are as counted ([`Innings::counted_balls`]).
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
    /// Overs finished before the one in progress.
    overs_before: u32,
    /// The over in progress (or the last one, once the innings has ended).
    over: Option<OverSoFar>,
}

/// One over as it is bowled. Where it ends is the umpire's count (Law 17.5: a
/// miscounted over stands), which the scorer's `over` numbers carry: the over is
/// complete at its sixth legal ball, unless the next delivery carries the same number
/// (a seven-ball over), and it is complete, however short, when the next delivery
/// carries the next number (a five-ball over).
#[derive(Debug, Clone, PartialEq)]
struct OverSoFar {
    number: u32,
    /// The bowler who started it.
    bowler: String,
    /// The bowler's runs in it.
    runs: u32,
    legal: u32,
    /// Whether one bowler bowled all of it: only then is it a whole over of his, and
    /// can it be a maiden.
    one_bowler: bool,
    /// Each bowler's legal balls in it, and the balls it has credited to each so far.
    by_bowler: Vec<(String, u32, u32)>,
    /// Whether it has credited its bowler with a maiden.
    maiden: bool,
}

impl OverSoFar {
    fn new(number: u32, bowler: &str) -> OverSoFar {
        OverSoFar {
            number,
            bowler: bowler.to_string(),
            runs: 0,
            legal: 0,
            one_bowler: true,
            by_bowler: Vec::new(),
            maiden: false,
        }
    }
}

/// Why a delivery cannot be applied to an innings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error("innings {0} has ended")]
    Ended(u8),
    #[error("over {got}: the next delivery is of over {expected} (numbered from 0)")]
    OverOutOfOrder { got: u32, expected: String },
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
            overs_before: 0,
            over: None,
        }
    }

    /// Balls as the umpires counted them: six for every finished over, then the legal
    /// balls of the one in progress (six at most: an over carried on past its sixth
    /// legal ball is already counted whole). The innings' overs, its run rate, a chase's
    /// balls left and the over limit all follow it.
    pub fn counted_balls(&self) -> u32 {
        6 * self.overs_before + self.over.as_ref().map_or(0, |o| o.legal.min(6))
    }

    /// Whether a delivery in over `over` carries on the over that ended this innings by
    /// its limit: the umpire counted more than six balls in it, and the over as counted
    /// stands (Law 17.5).
    pub fn carries_on_last_over(&self, over: u32) -> bool {
        self.ended == Some(InningsEnd::OversComplete)
            && self.over.as_ref().is_some_and(|o| o.number == over)
    }

    /// Credits `over`'s balls and maiden to its bowlers as the umpire counted it so far:
    /// a complete over bowled by one bowler is one whole over of his (six balls, however
    /// many it held) and a maiden if he was charged no run; a shared or unfinished over
    /// credits each bowler his legal balls. Called after every delivery, because an over
    /// complete at its sixth ball can still be carried on.
    fn settle(&mut self, over: &mut OverSoFar, complete: bool) {
        let whole = complete && over.one_bowler;
        for (bowler, legal, credited) in &mut over.by_bowler {
            let credit = if whole { 6 } else { *legal };
            let card = self.bowler_card(bowler);
            card.counted_balls = card.counted_balls - *credited + credit;
            *credited = credit;
        }
        let maiden = whole && over.runs == 0;
        if maiden != over.maiden {
            let card = self.bowler_card(&over.bowler);
            if maiden {
                card.maidens += 1;
            } else {
                card.maidens -= 1;
            }
            over.maiden = maiden;
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
        let same_over = self.over.as_ref().is_some_and(|o| o.number == d.over);
        if self.ended.is_some() && !self.carries_on_last_over(d.over) {
            return Err(ApplyError::Ended(self.number));
        }
        d.check()?;
        // An over carries on or the next begins; nothing is skipped or gone back to.
        let next_over = self.over.as_ref().map_or(0, |o| o.number + 1);
        if !same_over && d.over != next_over {
            return Err(ApplyError::OverOutOfOrder {
                got: d.over,
                expected: match &self.over {
                    Some(o) => format!("{} (or {next_over})", o.number),
                    None => "0".into(),
                },
            });
        }
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

        // The over: the one in progress, or the next, which completes the last however
        // many balls it held.
        let mut over = match self.over.take() {
            Some(o) if same_over => o,
            last => {
                if let Some(mut last) = last {
                    self.settle(&mut last, true);
                    self.overs_before += 1;
                }
                OverSoFar::new(d.over, &d.bowler)
            }
        };
        over.one_bowler &= over.bowler == d.bowler;
        over.runs += d.bowler_runs();
        let i = match over.by_bowler.iter().position(|(b, ..)| *b == d.bowler) {
            Some(i) => i,
            None => {
                over.by_bowler.push((d.bowler.clone(), 0, 0));
                over.by_bowler.len() - 1
            }
        };
        if legal {
            over.legal += 1;
            over.by_bowler[i].1 += 1;
        }
        let complete = over.legal >= 6;
        self.settle(&mut over, complete);
        let over_complete = legal && complete;
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
        } else if self.limits.balls.is_some_and(|b| self.counted_balls() >= b) {
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
                .map(|b| b.saturating_sub(self.counted_balls())),
        ))
    }
}
