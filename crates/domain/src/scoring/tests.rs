//! The Laws, a rule at a time.

use super::*;

fn setup(overs: u32) -> MatchSetup {
    MatchSetup {
        name: "Test".into(),
        teams: vec![
            Team {
                id: "t_a".into(),
                name: "A".into(),
                players: (1..=11).map(|i| format!("a{i}")).collect(),
            },
            Team {
                id: "t_b".into(),
                name: "B".into(),
                players: (1..=11).map(|i| format!("b{i}")).collect(),
            },
        ],
        overs_per_innings: overs,
        revised_target: None,
    }
}

/// A scorer's pad: numbers the deliveries and keeps the over by legal balls.
struct Pad {
    m: MatchState,
    seq: u32,
    legal: u32,
    innings: u8,
    super_over: bool,
}

impl Pad {
    fn new(overs: u32) -> Pad {
        Pad::with(setup(overs))
    }

    fn with(s: MatchSetup) -> Pad {
        Pad {
            m: MatchState::new(s),
            seq: 0,
            legal: 0,
            innings: 1,
            super_over: false,
        }
    }

    fn next_innings(&mut self, super_over: bool) {
        self.innings += 1;
        self.legal = 0;
        self.super_over = super_over;
    }

    fn delivery(
        &mut self,
        batter: &str,
        ns: &str,
        bowler: &str,
        bat: u32,
        extras: Extras,
    ) -> Delivery {
        self.seq += 1;
        Delivery {
            seq: self.seq,
            innings: self.innings,
            over: self.legal / 6,
            batter: batter.into(),
            bowler: bowler.into(),
            non_striker: ns.into(),
            runs: Runs {
                batter: bat,
                extras: extras.total(),
                total: bat + extras.total(),
                non_boundary: false,
            },
            extras,
            wickets: vec![],
            review: None,
            replacements: None,
            fielding_penalty: 0,
            super_over: self.super_over,
        }
    }

    fn play(&mut self, d: Delivery) {
        if d.is_legal() {
            self.legal += 1;
        }
        self.m.apply(&d).unwrap_or_else(|e| panic!("{e}: {d:?}"));
    }

    fn runs(&mut self, batter: &str, ns: &str, bowler: &str, bat: u32) {
        let d = self.delivery(batter, ns, bowler, bat, Extras::default());
        self.play(d);
    }

    fn extra(&mut self, batter: &str, ns: &str, bowler: &str, bat: u32, extras: Extras) {
        let d = self.delivery(batter, ns, bowler, bat, extras);
        self.play(d);
    }

    fn out(&mut self, batter: &str, ns: &str, bowler: &str, player_out: &str, kind: &str) {
        let mut d = self.delivery(batter, ns, bowler, 0, Extras::default());
        d.wickets.push(Wicket {
            player_out: player_out.into(),
            kind: kind.into(),
            fielders: vec![],
        });
        self.play(d);
    }

    fn inn(&self) -> &Innings {
        self.m.innings.last().unwrap()
    }

    fn batter(&self, p: &str) -> &innings::BatterCard {
        self.inn().batting.iter().find(|b| b.player == p).unwrap()
    }

    fn bowler(&self, p: &str) -> &innings::BowlerCard {
        self.inn().bowling.iter().find(|b| b.player == p).unwrap()
    }
}

fn wides(n: u32) -> Extras {
    Extras {
        wides: n,
        ..Default::default()
    }
}

#[test]
fn wides_and_no_balls_are_not_legal_and_are_the_bowlers() {
    let mut p = Pad::new(20);
    p.extra("a1", "a2", "b1", 0, wides(1));
    p.extra("a1", "a2", "b1", 0, wides(5)); // a wide to the boundary
    p.extra(
        "a1",
        "a2",
        "b1",
        4,
        Extras {
            noballs: 1,
            ..Default::default()
        },
    );
    let i = p.inn();
    assert_eq!(
        (i.runs, i.legal_balls, i.extras.wides, i.extras.noballs),
        (11, 0, 6, 1)
    );
    assert_eq!(overs(i.legal_balls), "0.0");
    // The batter faced the no-ball (and scored off it), not the wides.
    assert_eq!(
        (
            p.batter("a1").runs,
            p.batter("a1").balls,
            p.batter("a1").fours
        ),
        (4, 1, 1)
    );
    assert_eq!(p.bowler("b1").runs, 11);
    assert_eq!(p.bowler("b1").legal_balls, 0);
}

#[test]
fn byes_and_leg_byes_are_not_the_bowlers_but_the_ball_counts() {
    let mut p = Pad::new(20);
    p.extra(
        "a1",
        "a2",
        "b1",
        0,
        Extras {
            byes: 4,
            ..Default::default()
        },
    );
    p.extra(
        "a1",
        "a2",
        "b1",
        0,
        Extras {
            legbyes: 1,
            ..Default::default()
        },
    );
    assert_eq!(p.bowler("b1").runs, 0);
    assert_eq!(p.bowler("b1").legal_balls, 2);
    assert_eq!(p.batter("a1").balls, 2);
    assert_eq!(p.batter("a1").runs, 0);
    // One leg bye: they crossed.
    assert_eq!(p.inn().striker.as_deref(), Some("a2"));
}

#[test]
fn strike_rotates_on_odd_runs_and_at_the_end_of_the_over() {
    let mut p = Pad::new(20);
    p.runs("a1", "a2", "b1", 1);
    assert_eq!(p.inn().striker.as_deref(), Some("a2"));
    for _ in 0..4 {
        p.runs("a2", "a1", "b1", 0);
    }
    // The sixth ball: a single, then change of ends: a2 faces again.
    p.runs("a2", "a1", "b1", 1);
    assert_eq!(p.inn().striker.as_deref(), Some("a2"));
    assert_eq!(overs(p.inn().legal_balls), "1.0");
    // Two wides: one was run, so they crossed.
    p.extra("a2", "a1", "b2", 0, wides(2));
    assert_eq!(p.inn().striker.as_deref(), Some("a1"));
}

#[test]
fn maidens_need_six_legal_balls_without_the_bowlers_runs() {
    let mut p = Pad::new(20);
    for _ in 0..5 {
        p.runs("a1", "a2", "b1", 0);
    }
    p.extra(
        "a1",
        "a2",
        "b1",
        0,
        Extras {
            legbyes: 2,
            ..Default::default()
        },
    );
    assert_eq!(p.bowler("b1").maidens, 1, "leg byes do not spoil a maiden");
    for _ in 0..5 {
        p.runs("a2", "a1", "b2", 0);
    }
    p.extra("a2", "a1", "b2", 0, wides(1));
    p.runs("a2", "a1", "b2", 0);
    assert_eq!(p.bowler("b2").maidens, 0, "a wide does");
    assert_eq!(overs(p.bowler("b2").legal_balls), "1.0");
}

#[test]
fn only_the_bowlers_kinds_are_his_wickets_and_retired_hurt_is_not_out() {
    let mut p = Pad::new(20);
    p.runs("a1", "a2", "b1", 2);
    p.out("a1", "a2", "b1", "a1", "caught");
    p.out("a3", "a2", "b1", "a2", "run out");
    p.out("a3", "a4", "b1", "a3", "retired hurt");
    let i = p.inn();
    assert_eq!(i.wickets, 2);
    assert_eq!(p.bowler("b1").wickets, 1);
    assert_eq!(p.batter("a3").out.as_deref(), Some("retired hurt"));
    assert_eq!(
        i.fall_of_wickets,
        vec![
            innings::FallOfWicket {
                wicket: 1,
                runs: 2,
                overs: "0.2".into(),
                player: "a1".into()
            },
            innings::FallOfWicket {
                wicket: 2,
                runs: 2,
                overs: "0.3".into(),
                player: "a2".into()
            },
        ]
    );
    assert_eq!(i.partnerships.len(), 3);
    assert_eq!(i.partnerships[0].runs, 2);
    // A retired batter may come back.
    p.runs("a3", "a4", "b1", 1);
}

#[test]
fn penalty_runs_are_extras_of_the_batting_side() {
    let mut p = Pad::new(20);
    p.extra(
        "a1",
        "a2",
        "b1",
        1,
        Extras {
            penalty: 5,
            ..Default::default()
        },
    );
    assert_eq!((p.inn().runs, p.inn().extras.penalty), (6, 5));
    assert_eq!(p.bowler("b1").runs, 1);
    assert_eq!(p.inn().striker.as_deref(), Some("a2"), "one run was run");
}

/// A delivery with `penalty` runs awarded to the fielding side.
fn fielding_penalty(p: &mut Pad, batter: &str, ns: &str, bowler: &str, penalty: u32) {
    let mut d = p.delivery(batter, ns, bowler, 0, Extras::default());
    d.fielding_penalty = penalty;
    p.play(d);
}

#[test]
fn penalty_runs_to_a_side_yet_to_bat_start_its_innings() {
    let mut p = Pad::new(1);
    fielding_penalty(&mut p, "a1", "a2", "b1", 5);
    assert_eq!(p.inn().runs, 0, "not the batting side's runs");
    assert_eq!(p.bowler("b1").runs, 0);
    assert_eq!(p.m.penalty_runs_due.get("t_b"), Some(&5));
    assert_eq!(p.m.summary(None)["runs"], 0);
    for _ in 0..5 {
        p.runs("a1", "a2", "b1", 2);
    }
    assert_eq!(p.inn().runs, 10);
    p.next_innings(false);
    p.runs("b1", "b2", "a1", 1);
    let i = p.inn();
    assert_eq!((i.runs, i.penalty_runs.pre), (6, 5), "B starts on 5");
    assert_eq!(
        i.extras.penalty, 0,
        "not extras of this innings' deliveries"
    );
    assert!(p.m.penalty_runs_due.is_empty());
    assert_eq!(
        p.m.scorecard()["innings"][1]["penaltyRuns"],
        json!({"pre": 5, "post": 0})
    );
    // 11 to win: 5 of them already there.
    p.runs("b2", "b1", "a1", 4);
    p.runs("b2", "b1", "a1", 1);
    assert_eq!(p.inn().ended, Some(InningsEnd::TargetReached));
    assert_eq!(p.m.result().unwrap().winner.as_deref(), Some("t_b"));
}

#[test]
fn penalty_runs_to_the_side_that_batted_first_move_the_target() {
    let mut p = Pad::new(1);
    for _ in 0..6 {
        p.runs("a1", "a2", "b1", 2);
    }
    p.next_innings(false);
    p.runs("b1", "b2", "a1", 6);
    assert_eq!(p.inn().limits.target, Some(13));
    fielding_penalty(&mut p, "b1", "b2", "a1", 5);
    let first = &p.m.innings[0];
    assert_eq!((first.runs, first.penalty_runs.post), (17, 5));
    assert_eq!(p.inn().limits.target, Some(18), "the chase moves with it");
    assert_eq!(p.inn().runs, 6);
    assert_eq!(p.m.summary(None)["target"], 18);
    // Before the award, the next six would have won it.
    p.runs("b1", "b2", "a1", 6);
    assert_eq!(p.inn().ended, None);
    p.runs("b1", "b2", "a1", 4);
    p.runs("b1", "b2", "a1", 0);
    p.runs("b1", "b2", "a1", 0);
    assert_eq!(p.inn().ended, Some(InningsEnd::OversComplete));
    let r = p.m.result().unwrap();
    assert_eq!((r.winner.as_deref(), r.margin), (Some("t_a"), Some(1)));
}

#[test]
fn an_award_on_the_winning_ball_can_take_the_win_back() {
    let mut p = Pad::new(1);
    p.runs("a1", "a2", "b1", 4);
    for _ in 0..5 {
        p.runs("a1", "a2", "b1", 0);
    }
    p.next_innings(false);
    // 5 to win; the four that would win it comes with 5 penalty runs to A.
    let mut d = p.delivery("b1", "b2", "a1", 6, Extras::default());
    d.fielding_penalty = 5;
    p.play(d);
    assert_eq!(p.inn().limits.target, Some(10));
    assert_eq!(p.inn().ended, None, "6 is short of 10: the chase goes on");
    assert!(p.m.result().is_none());
}

/// A one-over match tied on 6, ready for a super over.
fn tied() -> Pad {
    let mut p = Pad::new(1);
    for _ in 0..6 {
        p.runs("a1", "a2", "b1", 1);
    }
    p.next_innings(false);
    for _ in 0..6 {
        p.runs("b1", "b2", "a1", 1);
    }
    assert!(p.m.result().unwrap().tie);
    p
}

#[test]
fn penalty_runs_in_a_super_over_stay_in_it() {
    let mut p = tied();
    p.next_innings(true);
    // B bats first in the super over; A, fielding, is awarded 5 for its own chase.
    fielding_penalty(&mut p, "b1", "b2", "a1", 5);
    assert_eq!(p.m.innings[0].runs, 6, "the tied innings are not reopened");
    assert!(p.m.innings[1].runs == 6 && p.m.penalty_runs_due.get("t_a") == Some(&5));
    p.runs("b1", "b2", "a1", 4);
    for _ in 0..4 {
        p.runs("b1", "b2", "a1", 0);
    }
    p.next_innings(true);
    p.runs("a1", "a2", "b1", 0);
    assert_eq!((p.inn().runs, p.inn().limits.target), (5, Some(5)));
    assert_eq!(p.inn().ended, Some(InningsEnd::TargetReached));
    let r = p.m.result().unwrap();
    assert_eq!((r.winner.as_deref(), r.super_over), (Some("t_a"), true));
    // And an award to B while A bats goes to B's super over, moving A's target.
    let mut q = tied();
    q.next_innings(true);
    for _ in 0..6 {
        q.runs("b1", "b2", "a1", 1);
    }
    q.next_innings(true);
    fielding_penalty(&mut q, "a1", "a2", "b1", 5);
    assert_eq!(q.m.innings[2].runs, 11);
    assert_eq!(q.m.innings[0].runs, 6);
    assert_eq!(q.inn().limits.target, Some(12));
}

#[test]
fn a_wicket_falls_at_the_ball_of_the_over_scorers_write() {
    let mut p = Pad::new(20);
    for _ in 0..5 {
        p.runs("a1", "a2", "b1", 0);
    }
    p.out("a1", "a2", "b1", "a1", "bowled");
    p.extra("a3", "a2", "b2", 0, wides(1));
    let mut d = p.delivery("a2", "a3", "b2", 0, wides(1));
    d.wickets.push(Wicket {
        player_out: "a3".into(),
        kind: "run out".into(),
        fielders: vec![],
    });
    p.play(d);
    let at: Vec<&str> = p
        .inn()
        .fall_of_wickets
        .iter()
        .map(|f| f.overs.as_str())
        .collect();
    assert_eq!(
        at,
        ["0.6", "1.0"],
        "the sixth ball is 0.6; a wide before over 2's first legal ball is 1.0"
    );
}

#[test]
fn penalty_runs_come_in_fives() {
    let mut p = Pad::new(1);
    let mut d = p.delivery("a1", "a2", "b1", 0, Extras::default());
    d.fielding_penalty = 3;
    assert!(matches!(
        p.m.apply(&d),
        Err(ScoringError::Apply(ApplyError::Delivery(
            DeliveryError::PenaltyNotFives(3)
        )))
    ));
    assert_eq!(p.m.balls, 0, "refused, nothing changed");
}

#[test]
fn counts_beyond_what_one_delivery_can_score_are_refused_before_any_sum() {
    let mut p = Pad::new(1);
    // The attack: a sum that wraps u32 to match `total`.
    let mut d = p.delivery("a1", "a2", "b1", 0, Extras::default());
    d.runs = Runs {
        batter: u32::MAX,
        extras: 1,
        total: 0,
        non_boundary: false,
    };
    d.extras.byes = 1;
    assert_eq!(
        d.check(),
        Err(DeliveryError::OutOfRange {
            field: "runs.batter",
            value: u32::MAX,
            max: MAX_RUNS_OF_A_KIND
        })
    );
    // Extras that would wrap their own sum, and an unbounded `runs.extras`.
    let mut d = p.delivery("a1", "a2", "b1", 0, Extras::default());
    d.extras.legbyes = u32::MAX;
    assert!(matches!(
        d.check(),
        Err(DeliveryError::OutOfRange {
            field: "extras.legbyes",
            ..
        })
    ));
    let mut d = p.delivery("a1", "a2", "b1", 4, Extras::default());
    d.runs.extras = u32::MAX;
    d.runs.total = u32::MAX;
    assert!(matches!(
        d.check(),
        Err(DeliveryError::ExtrasMismatch { .. })
    ));
    let mut d = p.delivery("a1", "a2", "b1", 0, Extras::default());
    d.fielding_penalty = 15;
    assert!(matches!(
        p.m.apply(&d),
        Err(ScoringError::Apply(ApplyError::Delivery(
            DeliveryError::OutOfRange {
                field: "fielding_penalty",
                ..
            }
        )))
    ));
    assert_eq!(p.m.balls, 0, "refused, nothing changed");
    // The most a real delivery brings is still scored: four run and four overthrows.
    p.runs("a1", "a2", "b1", 8);
    assert_eq!(p.inn().runs, 8);
}

#[test]
fn an_innings_ends_all_out_at_the_over_limit_or_on_the_target() {
    let mut p = Pad::new(1);
    for i in 0..6 {
        p.runs("a1", "a2", "b1", if i == 5 { 6 } else { 0 });
    }
    assert_eq!(p.inn().ended, Some(InningsEnd::OversComplete));
    let late = p.delivery("a1", "a2", "b1", 0, Extras::default());
    assert!(
        p.m.clone().apply(&late).is_err(),
        "no ball after the innings"
    );
    p.seq -= 1;
    p.next_innings(false);
    p.runs("b1", "b2", "a1", 4);
    assert_eq!(p.inn().limits.target, Some(7));
    assert_eq!(p.m.status(), "live");
    p.runs("b1", "b2", "a1", 4);
    assert_eq!(p.inn().ended, Some(InningsEnd::TargetReached));
    let r = p.m.result().unwrap();
    assert_eq!(
        (r.winner.as_deref(), r.by, r.margin),
        (Some("t_b"), Some("wickets"), Some(10))
    );

    let mut p = Pad::new(20);
    for w in 0..10 {
        p.out(
            &format!("a{}", w + 1),
            "a11",
            "b1",
            &format!("a{}", w + 1),
            "bowled",
        );
    }
    assert_eq!(p.inn().ended, Some(InningsEnd::AllOut));
    assert_eq!(p.bowler("b1").wickets, 10);
}

#[test]
fn a_chase_that_falls_short_loses_by_runs_and_level_is_a_tie_then_a_super_over() {
    let mut p = Pad::new(1);
    for _ in 0..6 {
        p.runs("a1", "a2", "b1", 1);
    }
    p.next_innings(false);
    for _ in 0..5 {
        p.runs("b1", "b2", "a1", 1);
    }
    assert_eq!(p.inn().chase(), Some((2, Some(1))));
    p.runs("b1", "b2", "a1", 0);
    let r = p.m.result().unwrap();
    assert_eq!(
        (r.winner.as_deref(), r.by, r.margin),
        (Some("t_a"), Some("runs"), Some(1))
    );
    assert!(
        p.m.clone()
            .apply(&p.delivery("b1", "b2", "a1", 0, Extras::default()))
            .is_err()
    );

    // Level: a tie, and then (only then) a super over, ended by two wickets.
    let mut p = tied();
    assert_eq!(p.m.status(), "tied");
    p.next_innings(true);
    p.runs("b1", "b2", "a1", 6);
    p.out("b1", "b2", "a1", "b1", "bowled");
    p.out("b3", "b2", "a1", "b3", "caught");
    assert_eq!(p.inn().ended, Some(InningsEnd::AllOut));
    p.next_innings(true);
    p.runs("a1", "a2", "b1", 6);
    assert_eq!(p.inn().limits.target, Some(7));
    p.runs("a1", "a2", "b1", 1);
    let r = p.m.result().unwrap();
    assert_eq!(
        (r.winner.as_deref(), r.super_over, r.by),
        (Some("t_a"), true, None)
    );
}

#[test]
fn a_revised_target_is_taken_as_set() {
    let mut s = setup(20);
    s.revised_target = Some(Revised {
        innings: 2,
        runs: 10,
        overs: 1,
    });
    let mut p = Pad::with(s);
    for _ in 0..6 {
        p.runs("a1", "a2", "b1", 4);
    }
    p.m.innings[0].ended = None; // the first innings goes on
    p.next_innings(false);
    p.runs("b1", "b2", "a1", 1);
    assert_eq!(p.m.innings[0].ended, Some(InningsEnd::Closed));
    assert_eq!(
        p.inn().limits,
        Limits {
            balls: Some(6),
            wickets: 10,
            target: Some(10)
        }
    );
    for _ in 0..5 {
        p.runs("b1", "b2", "a1", 0);
    }
    let r = p.m.result().unwrap();
    assert_eq!(
        (r.winner.as_deref(), r.margin, r.method),
        (Some("t_a"), Some(8), Some("revised target"))
    );
}

#[test]
fn refused_deliveries_change_nothing() {
    let mut p = Pad::new(20);
    p.runs("a1", "a2", "b1", 1);
    let before = p.m.clone();
    let mut bad = p.delivery("a2", "a1", "b1", 1, Extras::default());
    bad.runs.total = 5;
    assert!(matches!(
        p.m.apply(&bad),
        Err(ScoringError::Apply(ApplyError::Delivery(
            DeliveryError::TotalMismatch { .. }
        )))
    ));
    let wrong_side = p.delivery("a2", "a1", "a3", 1, Extras::default());
    assert!(matches!(
        p.m.apply(&wrong_side),
        Err(ScoringError::NotFielding(_))
    ));
    let stranger = p.delivery("a2", "z9", "b1", 1, Extras::default());
    assert!(matches!(
        p.m.apply(&stranger),
        Err(ScoringError::NotBatting(_))
    ));
    let mut not_there = p.delivery("a2", "a1", "b1", 0, Extras::default());
    not_there.wickets.push(Wicket {
        player_out: "a5".into(),
        kind: "bowled".into(),
        fielders: vec![],
    });
    assert!(p.m.apply(&not_there).is_err());
    let super_now = Delivery {
        innings: 2,
        super_over: true,
        ..p.delivery("b1", "b2", "a1", 0, Extras::default())
    };
    assert!(matches!(
        p.m.apply(&super_now),
        Err(ScoringError::NoSuperOver)
    ));
    assert_eq!(p.m, before);
}

#[test]
fn the_scorecard_has_the_contracts_names() {
    let mut p = Pad::new(20);
    p.runs("a1", "a2", "b1", 4);
    p.extra("a1", "a2", "b1", 0, wides(1));
    let card = p.m.scorecard();
    let i = &card["innings"][0];
    assert_eq!(i["overs"], "0.1");
    assert_eq!(i["legalBalls"], 1);
    assert_eq!(
        i["extras"],
        json!({"wides": 1, "noballs": 0, "byes": 0, "legbyes": 0, "penalty": 0})
    );
    assert_eq!(
        i["batting"][0],
        json!({"player": "a1", "runs": 4, "balls": 1, "fours": 1, "sixes": 0, "out": null})
    );
    assert_eq!(i["bowling"][0]["overs"], "0.1");
    assert_eq!(i["bowling"][0]["economy"], 30.0);
    assert_eq!(card["status"], "live");
    let s = p.m.summary(None);
    assert_eq!(
        (s["runs"].clone(), s["overs"].clone(), s["version"].clone()),
        (json!(5), json!("0.1"), json!(2))
    );
    let d = p.delivery("a1", "a2", "b1", 0, wides(1));
    assert_eq!(describe(&d), "b1 to a1, 1 wide");
}

#[test]
fn a_cricsheet_delivery_with_a_review_and_replacements_is_taken_as_it_is() {
    let mut ball = json!({
        "seq": 1, "innings": 1, "over": 0, "batter": "a1", "bowler": "b1", "non_striker": "a2",
        "runs": {"batter": 0, "extras": 0, "total": 0},
        "review": {"by": "t_a", "umpire": "HDPK Dharmasena", "batter": "a1",
                   "decision": "struck down", "type": "wicket"},
        "replacements": {"role": [{"in": "b1", "out": "b2", "reason": "injury", "role": "bowler"}]}
    });
    let d: Delivery = serde_json::from_value(ball.clone()).unwrap();
    let mut m = MatchState::new(setup(20));
    m.apply(&d).unwrap();
    assert_eq!((m.innings[0].runs, m.innings[0].legal_balls), (0, 1));
    assert_eq!(serde_json::to_value(&d).unwrap(), ball, "kept as sent");
    ball["reviewed"] = json!(true);
    assert!(
        serde_json::from_value::<Delivery>(ball).is_err(),
        "a field Cricsheet does not have is still refused"
    );
}

#[test]
fn a_side_of_ten_is_all_out_at_nine_wickets() {
    let mut s = setup(20);
    s.teams[1].players.pop();
    let mut p = Pad::with(s);
    p.runs("a1", "a2", "b1", 4);
    p.next_innings(false);
    for i in 1..=9 {
        let next = format!("b{}", i + 2);
        let striker = if i == 1 {
            "b1".to_string()
        } else {
            format!("b{}", i + 1)
        };
        p.out(&striker, "b2", "a1", &striker, "bowled");
        if i < 9 {
            assert_eq!(p.inn().ended, None, "{} down, {next} comes in", i);
        }
    }
    assert_eq!(p.inn().wickets, 9);
    assert_eq!(
        p.inn().ended,
        Some(InningsEnd::AllOut),
        "no tenth batter to come in"
    );
    let r = p.m.result().unwrap();
    assert_eq!(
        (r.winner.as_deref(), r.by, r.margin),
        (Some("t_a"), Some("runs"), Some(4))
    );
    let mut lone = setup(20);
    lone.teams[0].players.truncate(1);
    assert_eq!(lone.check(), Err(SetupError::TooFewPlayers("t_a".into())));
}

#[test]
fn a_setup_is_bounded_and_checked_in_one_pass() {
    // The attack: two teams of 100,000 players each, compared pairwise before.
    let mut huge = setup(20);
    huge.teams[0].players = (0..100_000).map(|i| format!("a{i}")).collect();
    huge.teams[1].players = (0..100_000).map(|i| format!("b{i}")).collect();
    assert_eq!(huge.check(), Err(SetupError::TooManyPlayers("t_a".into())));
    let mut full = setup(20);
    full.teams[0].players = (0..MAX_PLAYERS_PER_TEAM).map(|i| format!("a{i}")).collect();
    assert_eq!(full.check(), Ok(()), "a squad of the limit is fine");
    let mut both = setup(20);
    both.teams[1].players[4] = "a7".into();
    assert_eq!(both.check(), Err(SetupError::PlayerInBoth("a7".into())));
    let mut twice = setup(20);
    twice.teams[0].players[2] = "a1".into();
    assert_eq!(
        twice.check(),
        Err(SetupError::PlayerTwice {
            team: "t_a".into(),
            player: "a1".into()
        })
    );
    let mut long = setup(20);
    long.teams[1].players[0] = "x".repeat(MAX_NAME_CHARS + 1);
    assert!(matches!(long.check(), Err(SetupError::Name(_))));
    let mut unnamed = setup(20);
    unnamed.name = " ".into();
    assert!(matches!(unnamed.check(), Err(SetupError::Name(_))));
}

impl Pad {
    /// A delivery in over `over`, as the scorer numbers it (not from the legal balls).
    fn in_over(&mut self, over: u32, batter: &str, bowler: &str, bat: u32) -> Delivery {
        let ns = if batter == "a1" { "a2" } else { "a1" };
        let (batter, ns, bowler) = if self.innings == 2 {
            (
                batter.replace('a', "b"),
                ns.replace('a', "b"),
                bowler.replace('b', "a"),
            )
        } else {
            (batter.to_string(), ns.to_string(), bowler.to_string())
        };
        let mut d = self.delivery(&batter, &ns, &bowler, bat, Extras::default());
        d.over = over;
        d
    }
}

#[test]
fn a_seven_ball_over_counts_as_one_and_the_next_over_goes_on_from_it() {
    let mut p = Pad::new(20);
    for _ in 0..6 {
        let d = p.in_over(0, "a1", "b1", 0);
        p.m.apply(&d).unwrap();
    }
    assert_eq!(p.bowler("b1").maidens, 1, "six dots: a maiden so far");
    // The umpire counts one more: the over as counted stands (Law 17.5).
    let d = p.in_over(0, "a1", "b1", 1);
    p.m.apply(&d).unwrap();
    let (i, b1) = (p.inn(), p.bowler("b1"));
    assert_eq!((overs(i.counted_balls()), i.legal_balls), ("1.0".into(), 7));
    assert_eq!((overs(b1.counted_balls), b1.legal_balls), ("1.0".into(), 7));
    assert_eq!(b1.maidens, 0, "the seventh ball cost a run: no maiden");
    assert_eq!(p.batter("a1").balls, 7);
    let d = p.in_over(1, "a1", "b2", 0);
    p.m.apply(&d).unwrap();
    assert_eq!(overs(p.inn().counted_balls()), "1.1");
    assert_eq!(p.inn().fall_of_wickets, vec![]);
    let card = p.m.scorecard();
    let i = &card["innings"][0];
    assert_eq!(
        (i["overs"].clone(), i["legalBalls"].clone()),
        (json!("1.1"), json!(8))
    );
    assert_eq!(
        (
            i["bowling"][0]["overs"].clone(),
            i["bowling"][0]["legalBalls"].clone()
        ),
        (json!("1.0"), json!(7))
    );
    assert_eq!(
        i["bowling"][0]["economy"], 1.0,
        "one run an over, as counted"
    );
}

#[test]
fn a_five_ball_over_ends_when_the_scorer_moves_on_and_can_be_a_maiden() {
    let mut p = Pad::new(20);
    for _ in 0..5 {
        let d = p.in_over(0, "a1", "b1", 0);
        p.m.apply(&d).unwrap();
    }
    assert_eq!(overs(p.inn().counted_balls()), "0.5");
    assert_eq!(p.bowler("b1").maidens, 0);
    let d = p.in_over(1, "a2", "b2", 0);
    p.m.apply(&d).unwrap();
    assert_eq!(overs(p.inn().counted_balls()), "1.1");
    assert_eq!(overs(p.bowler("b1").counted_balls), "1.0");
    assert_eq!(p.bowler("b1").maidens, 1, "a complete over without a run");
}

#[test]
fn the_last_over_of_an_innings_can_have_a_seventh_ball_and_then_ends() {
    let mut p = Pad::new(1);
    for _ in 0..6 {
        let d = p.in_over(0, "a1", "b1", 1);
        p.m.apply(&d).unwrap();
    }
    assert_eq!(p.inn().ended, Some(InningsEnd::OversComplete));
    let d = p.in_over(0, "a1", "b1", 4);
    p.m.apply(&d).unwrap();
    assert_eq!((p.inn().runs, p.inn().legal_balls), (10, 7));
    assert_eq!(overs(p.inn().counted_balls()), "1.0");
    assert_eq!(p.inn().ended, Some(InningsEnd::OversComplete));
    let d = p.in_over(1, "a1", "b1", 4);
    assert_eq!(
        p.m.clone().apply(&d),
        Err(ScoringError::Apply(ApplyError::Ended(1))),
        "a second over of a one-over innings"
    );

    // The chase: short after six balls, which gives a result, until the seventh.
    p.next_innings(false);
    for _ in 0..6 {
        let d = p.in_over(0, "a1", "b1", 1);
        p.m.apply(&d).unwrap();
    }
    let r = p.m.result().unwrap();
    assert_eq!((r.winner.as_deref(), r.margin), (Some("t_a"), Some(4)));
    let d = p.in_over(0, "a1", "b1", 6);
    p.m.apply(&d).unwrap();
    let r = p.m.result().unwrap();
    assert_eq!((r.winner.as_deref(), r.by), (Some("t_b"), Some("wickets")));
    let d = p.in_over(0, "a1", "b1", 1);
    assert_eq!(p.m.apply(&d), Err(ScoringError::MatchOver));
}

#[test]
fn overs_come_in_order_from_zero() {
    let mut p = Pad::new(20);
    let d = p.in_over(1, "a1", "b1", 0);
    assert_eq!(
        p.m.apply(&d),
        Err(ScoringError::Apply(ApplyError::OverOutOfOrder {
            got: 1,
            expected: "0".into()
        }))
    );
    let d = p.in_over(0, "a1", "b1", 0);
    p.m.apply(&d).unwrap();
    for (over, expected) in [(2, "0 (or 1)"), (u32::MAX, "0 (or 1)")] {
        let d = p.in_over(over, "a1", "b1", 0);
        assert_eq!(
            p.m.apply(&d),
            Err(ScoringError::Apply(ApplyError::OverOutOfOrder {
                got: over,
                expected: expected.into()
            }))
        );
    }
    let d = p.in_over(1, "a1", "b2", 0);
    p.m.apply(&d).unwrap();
    let d = p.in_over(0, "a1", "b1", 0);
    assert!(
        matches!(
            p.m.apply(&d),
            Err(ScoringError::Apply(ApplyError::OverOutOfOrder { .. }))
        ),
        "an over once left is not gone back to"
    );
}
