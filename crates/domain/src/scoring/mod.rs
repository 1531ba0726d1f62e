//! Live scoring by the Laws of Cricket: a match's innings, built a delivery at a time
//! from Cricsheet-shaped deliveries, and the scorecard and result they make.
//!
//! Conventions (as club scorers and Cricsheet keep them): wides and no-balls are not
//! legal deliveries and do not count toward the over; a wide's runs and a no-ball's
//! penalty are the bowler's, byes and leg byes are not; runs off the bat on a no-ball
//! are the batter's; the batter faces no ball on a wide; run-outs and other
//! non-bowler dismissals are not the bowler's wickets; a retirement hurt is not a
//! dismissal; a delivery's penalty runs (`extras.penalty`) are extras of the batting
//! side, and those awarded to the fielding side (`fielding_penalty`) go to its last
//! completed innings, moving the target against it, or to its next. Officials may
//! revise a chase (target and overs); Pitchside takes their figures, it does not
//! compute DLS. An innings is all out when fewer than two batters are left (a club side
//! of ten is all out at nine wickets). After a tie, super overs: one over an innings,
//! ended by two wickets.

pub mod delivery;
pub mod innings;

pub use delivery::{
    Delivery, DeliveryError, Extras, MAX_PENALTY_RUNS, MAX_RUNS_OF_A_KIND, Runs, Wicket,
};
pub use innings::{ApplyError, Innings, InningsEnd, Limits, PenaltyRuns, overs, rate};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub players: Vec<String>,
}

/// What officials set for a shortened chase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revised {
    pub innings: u8,
    pub runs: u32,
    pub overs: u32,
}

/// A match as `PUT /matches/{matchId}` sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MatchSetup {
    pub name: String,
    pub teams: Vec<Team>,
    pub overs_per_innings: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_target: Option<Revised>,
}

/// The most players a team may list: a club's whole squad for a match, substitutes
/// included, fits many times over. Bounding it keeps every check of a setup small.
pub const MAX_PLAYERS_PER_TEAM: usize = 50;
/// The longest team or player name or id, and the longest match name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("a match has two teams")]
    TwoTeams,
    #[error("overs per innings must be 1 to 100")]
    Overs,
    #[error("player {0} is in both teams")]
    PlayerInBoth(String),
    #[error("team {0} needs at least two players to bat")]
    TooFewPlayers(String),
    #[error("a revised target is for innings 2, with 1 to oversPerInnings overs")]
    Revised,
    #[error("team {0} lists more than {MAX_PLAYERS_PER_TEAM} players")]
    TooManyPlayers(String),
    #[error("team {team} lists {player} twice")]
    PlayerTwice { team: String, player: String },
    #[error("{0} must be 1 to {MAX_NAME_CHARS} characters")]
    Name(&'static str),
}

impl MatchSetup {
    /// Checks the setup in time linear in its size, sizes first, so no setup costs more
    /// than a few microseconds to refuse or accept.
    pub fn check(&self) -> Result<(), SetupError> {
        let named = |s: &str| !s.trim().is_empty() && s.chars().count() <= MAX_NAME_CHARS;
        if self.teams.len() != 2 {
            return Err(SetupError::TwoTeams);
        }
        if !named(&self.name) {
            return Err(SetupError::Name("the match's name"));
        }
        if !(1..=100).contains(&self.overs_per_innings) {
            return Err(SetupError::Overs);
        }
        for t in &self.teams {
            if t.players.len() > MAX_PLAYERS_PER_TEAM {
                return Err(SetupError::TooManyPlayers(
                    t.id.chars().take(MAX_NAME_CHARS).collect(),
                ));
            }
            if !named(&t.id) || !named(&t.name) {
                return Err(SetupError::Name("a team's id and name"));
            }
            if t.players.iter().any(|p| !named(p)) {
                return Err(SetupError::Name("a player's name"));
            }
        }
        if let Some(t) = self.teams.iter().find(|t| t.players.len() < 2) {
            return Err(SetupError::TooFewPlayers(t.id.clone()));
        }
        let mut seen = std::collections::HashMap::new();
        for (side, t) in self.teams.iter().enumerate() {
            for p in &t.players {
                match seen.insert(p.as_str(), side) {
                    Some(other) if other == side => {
                        return Err(SetupError::PlayerTwice {
                            team: t.id.clone(),
                            player: p.clone(),
                        });
                    }
                    Some(_) => return Err(SetupError::PlayerInBoth(p.clone())),
                    None => {}
                }
            }
        }
        if let Some(r) = self.revised_target
            && (r.innings != 2 || r.overs == 0 || r.overs > self.overs_per_innings)
        {
            return Err(SetupError::Revised);
        }
        Ok(())
    }

    fn team_of(&self, player: &str) -> Option<&Team> {
        self.teams
            .iter()
            .find(|t| t.players.iter().any(|p| p == player))
    }
}

/// Why a delivery was refused by the match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoringError {
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error("the match is over")]
    MatchOver,
    #[error("innings {got}: the next delivery is of innings {expected}")]
    WrongInnings { got: u8, expected: String },
    #[error("{0} is not a player of the batting team")]
    NotBatting(String),
    #[error("{0} is not a player of the fielding team")]
    NotFielding(String),
    #[error("a super over is played only after a tie")]
    NoSuperOver,
}

/// The match's state: the setup and every innings so far.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchState {
    pub setup: MatchSetup,
    pub innings: Vec<Innings>,
    /// Deliveries applied: the state's version.
    pub balls: u32,
    /// Penalty runs awarded to a side that has not batted yet, by team id: its next
    /// innings starts with them.
    pub penalty_runs_due: BTreeMap<String, u32>,
}

/// How a match ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchResult {
    /// The winning team, or `None` for a tie.
    pub winner: Option<String>,
    /// `runs` or `wickets`.
    pub by: Option<&'static str>,
    pub margin: Option<u32>,
    pub tie: bool,
    /// Decided in a super over.
    pub super_over: bool,
    /// `revised target` when officials revised the chase.
    pub method: Option<&'static str>,
}

impl MatchState {
    pub fn new(setup: MatchSetup) -> MatchState {
        MatchState {
            setup,
            innings: Vec::new(),
            balls: 0,
            penalty_runs_due: BTreeMap::new(),
        }
    }

    /// Rebuilds a state from its deliveries (used for undo and for loading).
    pub fn replay<'a>(
        setup: MatchSetup,
        deliveries: impl IntoIterator<Item = &'a Delivery>,
    ) -> Result<MatchState, ScoringError> {
        let mut m = MatchState::new(setup);
        for d in deliveries {
            m.apply(d)?;
        }
        Ok(m)
    }

    /// The limits of innings `number` (a super over if `super_over`) for `batting`.
    /// An innings is all out when fewer than two batters are left: at ten wickets in a
    /// side of eleven, at nine in a club side of ten, at two in a super over.
    fn limits(&self, number: u8, super_over: bool, batting: &str) -> Limits {
        let side = self
            .setup
            .teams
            .iter()
            .find(|t| t.id == batting)
            .map_or(11, |t| u32::try_from(t.players.len()).unwrap_or(u32::MAX));
        let all_out = |most: u32| most.min(side.saturating_sub(1)).max(1);
        if super_over {
            // The side batting second in a super-over pair chases the first.
            let target = number
                .is_multiple_of(2)
                .then(|| {
                    self.innings
                        .iter()
                        .find(|i| i.number == number - 1)
                        .map(|i| i.runs + 1)
                })
                .flatten();
            return Limits {
                balls: Some(6),
                wickets: all_out(2),
                target,
            };
        }
        let mut balls = self.setup.overs_per_innings * 6;
        let mut target = None;
        if number == 2 {
            target = self.innings.first().map(|i| i.runs + 1);
            if let Some(r) = self.setup.revised_target {
                target = Some(r.runs);
                balls = r.overs * 6;
            }
        }
        Limits {
            balls: Some(balls),
            wickets: all_out(10),
            target,
        }
    }

    /// Applies one delivery; an error changes nothing.
    pub fn apply(&mut self, d: &Delivery) -> Result<(), ScoringError> {
        let current = self.innings.last();
        // A ball more in the over that ended the innings: the umpire's count stands, and
        // the innings (and any result it made) is open again until that over ends.
        let miscounted =
            current.is_some_and(|i| i.number == d.innings && i.carries_on_last_over(d.over));
        if !miscounted && self.result().is_some_and(|r| !r.tie) {
            return Err(ScoringError::MatchOver);
        }
        let next_number = current.map_or(1, |i| i.number + 1);
        let opens = match current {
            Some(i) if i.number == d.innings => false,
            _ if d.innings == next_number => true,
            _ => {
                let expected = match current {
                    Some(i) if i.ended.is_none() => format!("{} (or {})", i.number, i.number + 1),
                    _ => next_number.to_string(),
                };
                return Err(ScoringError::WrongInnings {
                    got: d.innings,
                    expected,
                });
            }
        };
        if opens && d.super_over && !self.super_over_due(d.innings) {
            return Err(ScoringError::NoSuperOver);
        }
        if opens && !d.super_over && d.innings > 2 {
            return Err(ScoringError::WrongInnings {
                got: d.innings,
                expected: "a super over, or 1 and 2".into(),
            });
        }
        if !opens && !miscounted && self.result().is_some() {
            return Err(ScoringError::MatchOver);
        }
        let batting = self
            .setup
            .team_of(&d.batter)
            .map(|t| t.id.clone())
            .ok_or_else(|| ScoringError::NotBatting(d.batter.clone()))?;
        if self.setup.team_of(&d.non_striker).map(|t| &t.id) != Some(&batting) {
            return Err(ScoringError::NotBatting(d.non_striker.clone()));
        }
        if self
            .setup
            .team_of(&d.bowler)
            .is_none_or(|t| t.id == batting)
        {
            return Err(ScoringError::NotFielding(d.bowler.clone()));
        }
        // Work on a copy of the innings, so a refused delivery changes nothing.
        let mut innings = if opens {
            let limits = self.limits(d.innings, d.super_over, &batting);
            let mut i = Innings::new(d.innings, d.super_over, Some(batting.clone()), limits);
            i.award_before(self.penalty_runs_due.get(&batting).copied().unwrap_or(0));
            i
        } else {
            self.innings.last().expect("current").clone()
        };
        innings.apply(d)?;
        if opens {
            self.penalty_runs_due.remove(&batting);
            if let Some(prev) = self.innings.last_mut()
                && prev.ended.is_none()
            {
                prev.ended = Some(InningsEnd::Closed);
            }
            self.innings.push(innings);
        } else {
            *self.innings.last_mut().expect("current") = innings;
        }
        if d.fielding_penalty > 0 {
            self.award_to_fielding_side(&batting, d.fielding_penalty);
        }
        self.balls += 1;
        Ok(())
    }

    /// Law 41.17: penalty runs to the fielding side go to its most recently completed
    /// innings (moving the target of the chase against it) or, if it has not batted, to
    /// its next innings. A super over keeps its own score: an award in one goes to the
    /// other side's innings of the same super over, never back to a finished tie.
    fn award_to_fielding_side(&mut self, batting: &str, runs: u32) {
        let current = self.innings.len() - 1;
        let super_over = self.innings[current].super_over;
        let fielding = self
            .setup
            .teams
            .iter()
            .find(|t| t.id != batting)
            .map(|t| t.id.clone())
            .expect("two teams");
        let theirs = (0..current).rev().find(|&k| {
            self.innings[k].batting_team.as_deref() == Some(&fielding)
                && (!super_over || (self.innings[k].super_over && k + 1 == current))
        });
        match theirs {
            Some(k) => {
                self.innings[k].award_after(runs);
                let chase = &mut self.innings[current];
                if k + 1 == current
                    && let Some(target) = chase.limits.target
                {
                    chase.retarget(target + runs);
                }
            }
            None => *self.penalty_runs_due.entry(fielding).or_default() += runs,
        }
    }

    /// Whether innings `number` may be a super over: the innings pair before it ended
    /// level.
    fn super_over_due(&self, number: u8) -> bool {
        if number.is_multiple_of(2) {
            // The second innings of a super-over pair follows its first.
            return self
                .innings
                .iter()
                .any(|i| i.number == number - 1 && i.super_over);
        }
        self.innings.len() + 1 == number as usize && self.result().is_some_and(|r| r.tie)
    }

    /// The result, once the match is decided.
    pub fn result(&self) -> Option<MatchResult> {
        let n = self.innings.len();
        if n < 2 || n % 2 == 1 {
            return None;
        }
        let (first, second) = (&self.innings[n - 2], &self.innings[n - 1]);
        second.ended?;
        let super_over = second.super_over;
        let target = second.limits.target.unwrap_or(first.runs + 1);
        let method =
            (!super_over && self.setup.revised_target.is_some()).then_some("revised target");
        if second.runs >= target {
            return Some(MatchResult {
                winner: second.batting_team.clone(),
                by: (!super_over).then_some("wickets"),
                margin: (!super_over).then(|| second.limits.wickets - second.wickets),
                tie: false,
                super_over,
                method,
            });
        }
        if second.runs + 1 == target {
            // A tie: decided by a super over if one is played.
            return Some(MatchResult {
                winner: None,
                by: None,
                margin: None,
                tie: true,
                super_over,
                method,
            });
        }
        Some(MatchResult {
            winner: first.batting_team.clone(),
            by: (!super_over).then_some("runs"),
            margin: (!super_over).then(|| target - 1 - second.runs),
            tie: false,
            super_over,
            method,
        })
    }

    /// Whether the match is still being played: no result yet, or a tie after which a
    /// super over may follow.
    pub fn status(&self) -> &'static str {
        match self.result() {
            None if self.innings.is_empty() => "scheduled",
            None => "live",
            Some(r) if r.tie => "tied",
            Some(_) => "complete",
        }
    }

    /// The scorecard, as `GET /matches/{matchId}/score` answers it (without the
    /// `matchId` and `lastEventId` the route adds).
    pub fn scorecard(&self) -> Value {
        json!({
            "status": self.status(),
            "version": self.balls,
            "innings": self.innings.iter().map(innings_card).collect::<Vec<_>>(),
            "penaltyRunsDue": self.penalty_runs_due,
            "result": self.result(),
        })
    }

    /// The summary `match.score.updated` carries.
    pub fn summary(&self, last: Option<&Delivery>) -> Value {
        let i = self.innings.last();
        json!({
            "innings": i.map(|i| i.number),
            "superOver": i.is_some_and(|i| i.super_over),
            "battingTeam": i.and_then(|i| i.batting_team.clone()),
            "runs": i.map_or(0, |i| i.runs),
            "wickets": i.map_or(0, |i| i.wickets),
            "overs": overs(i.map_or(0, Innings::counted_balls)),
            "version": self.balls,
            "target": i.and_then(|i| i.limits.target),
            "lastBall": last.map(describe),
            "status": self.status(),
            "result": self.result(),
        })
    }
}

fn innings_card(i: &Innings) -> Value {
    let chase = i.chase();
    json!({
        "number": i.number,
        "battingTeam": i.batting_team,
        "superOver": i.super_over,
        "runs": i.runs,
        "wickets": i.wickets,
        "overs": overs(i.counted_balls()),
        "legalBalls": i.legal_balls,
        "extras": i.extras,
        "penaltyRuns": i.penalty_runs,
        "runRate": rate(i.runs, i.counted_balls()),
        "batting": i.batting.iter().map(|b| json!({
            "player": b.player, "runs": b.runs, "balls": b.balls, "fours": b.fours,
            "sixes": b.sixes, "out": b.out,
        })).collect::<Vec<_>>(),
        "bowling": i.bowling.iter().map(|b| json!({
            "player": b.player, "overs": overs(b.counted_balls), "legalBalls": b.legal_balls,
            "maidens": b.maidens, "runs": b.runs, "wickets": b.wickets, "wides": b.wides,
            "noballs": b.noballs, "economy": rate(b.runs, b.counted_balls),
        })).collect::<Vec<_>>(),
        "fallOfWickets": i.fall_of_wickets,
        "partnerships": i.partnerships,
        "current": {"striker": i.striker, "nonStriker": i.non_striker, "bowler": i.bowler},
        "target": i.limits.target,
        "runsNeeded": chase.map(|c| c.0),
        "ballsLeft": chase.and_then(|c| c.1),
        "requiredRate": chase.and_then(|(need, left)| left.and_then(|l| rate(need, l))),
        "ended": i.ended,
    })
}

/// A delivery in words, for the live summary: `"p_9 to p_1, 1 wide"`, `"…, 4"`,
/// `"…, OUT (caught)"`.
pub fn describe(d: &Delivery) -> String {
    fn count(n: u32, what: &str) -> String {
        format!("{n} {what}{}", if n == 1 { "" } else { "s" })
    }
    let mut parts = Vec::new();
    let e = &d.extras;
    if e.wides > 0 {
        parts.push(count(e.wides, "wide"));
    }
    if e.noballs > 0 {
        parts.push("no-ball".to_string());
    }
    if d.runs.batter > 0 || (d.runs.total == 0 && d.wickets.is_empty()) {
        parts.push(match d.runs.batter {
            0 => "no run".to_string(),
            n => count(n, "run"),
        });
    }
    if e.byes > 0 {
        parts.push(count(e.byes, "bye"));
    }
    if e.legbyes > 0 {
        parts.push(count(e.legbyes, "leg bye"));
    }
    if e.penalty > 0 {
        parts.push(count(e.penalty, "penalty run"));
    }
    if d.fielding_penalty > 0 {
        parts.push(format!(
            "{} to the fielding side",
            count(d.fielding_penalty, "penalty run")
        ));
    }
    for w in &d.wickets {
        parts.push(format!("{} {}", w.player_out, w.kind.to_uppercase()));
    }
    format!("{} to {}, {}", d.bowler, d.batter, parts.join(", "))
}

#[cfg(test)]
mod tests;
