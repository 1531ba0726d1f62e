//! The scoring engine's invariants over random matches: totals add up, overs count
//! legal balls, wickets stop at ten, and undoing a ball restores the exact state before
//! it.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)] // a test may panic and read the clock

use pitchside_domain::scoring::*;
use proptest::prelude::*;

fn setup(overs: u32) -> MatchSetup {
    let team = |id: &str, p: &str| Team {
        id: id.into(),
        name: id.into(),
        players: (1..=11).map(|i| format!("{p}{i}")).collect(),
    };
    MatchSetup {
        name: "random".into(),
        teams: vec![team("t_a", "a"), team("t_b", "b")],
        overs_per_innings: overs,
        revised_target: None,
    }
}

/// Plays a match from outcome codes, as a scorer would record it: the names at the
/// crease follow the engine's own striker and the next batter in order.
fn play(overs: u32, codes: &[u8]) -> Vec<Delivery> {
    let mut m = MatchState::new(setup(overs));
    let mut out = Vec::new();
    let (mut innings, mut legal, mut next_batter) = (1u8, 0u32, 3usize);
    let (mut striker, mut non_striker) = ("a1".to_string(), "a2".to_string());
    for (n, &c) in codes.iter().enumerate() {
        let (bat, field) = if innings == 1 { ("a", "b") } else { ("b", "a") };
        let bowler = format!("{field}{}", 1 + (legal / 6) % 5);
        let mut extras = Extras::default();
        let mut runs = 0;
        let mut wickets = vec![];
        let mut fielding_penalty = 0;
        match c % 16 {
            0..=4 => runs = (c % 16) as u32,
            5 => runs = 4,
            6 => runs = 6,
            7 => extras.wides = 1 + (c / 16) as u32 % 5,
            8 => {
                extras.noballs = 1;
                runs = (c / 16) as u32 % 7;
            }
            9 => extras.byes = 1 + (c / 16) as u32 % 4,
            10 => extras.legbyes = 1 + (c / 16) as u32 % 4,
            11 | 12 => wickets.push((
                "striker",
                ["bowled", "caught", "lbw", "stumped"][(c / 16) as usize % 4],
            )),
            13 => {
                runs = (c / 16) as u32 % 3;
                wickets.push(("non_striker", "run out"));
            }
            14 => wickets.push(("striker", "retired hurt")),
            _ if (c / 16) % 2 == 0 => extras.penalty = 5,
            _ => fielding_penalty = 5,
        }
        let d = Delivery {
            seq: u32::try_from(n).unwrap() + 1,
            innings,
            over: legal / 6,
            batter: striker.clone(),
            bowler,
            non_striker: non_striker.clone(),
            runs: Runs {
                batter: runs,
                extras: extras.total(),
                total: runs + extras.total(),
                non_boundary: false,
            },
            extras,
            wickets: wickets
                .iter()
                .map(|(who, kind)| Wicket {
                    player_out: if *who == "striker" {
                        striker.clone()
                    } else {
                        non_striker.clone()
                    },
                    kind: kind.to_string(),
                    fielders: vec![],
                })
                .collect(),
            review: None,
            replacements: None,
            fielding_penalty,
            super_over: false,
        };
        if m.apply(&d).is_err() {
            break;
        }
        out.push(d.clone());
        if d.is_legal() {
            legal += 1;
        }
        let i = m.innings.last().unwrap();
        if i.ended.is_some() {
            if innings == 2 {
                break;
            }
            innings = 2;
            legal = 0;
            next_batter = 3;
            striker = "b1".into();
            non_striker = "b2".into();
            continue;
        }
        let mut fill = |slot: &Option<String>| {
            slot.clone().unwrap_or_else(|| {
                next_batter += 1;
                format!("{bat}{}", next_batter - 1)
            })
        };
        striker = fill(&i.striker);
        non_striker = fill(&i.non_striker);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn invariants_hold_after_every_ball(
        overs in 1u32..6,
        codes in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        let deliveries = play(overs, &codes);
        let mut m = MatchState::new(setup(overs));
        for (n, d) in deliveries.iter().enumerate() {
            let before = m.clone();
            m.apply(d).unwrap();
            prop_assert_eq!(m.balls as usize, n + 1);
            for i in &m.innings {
                let mine: Vec<&Delivery> = deliveries[..=n].iter().filter(|x| x.innings == i.number).collect();
                let total: u32 = mine.iter().map(|x| x.runs.total).sum();
                let awarded = i.penalty_runs.pre + i.penalty_runs.post;
                prop_assert_eq!(i.runs, total + awarded, "total = sum of deliveries (and awards)");
                let legal = mine.iter().filter(|x| x.is_legal()).count();
                let legal = u32::try_from(legal).unwrap();
                prop_assert_eq!(i.legal_balls, legal);
                prop_assert_eq!(overs_of(i.legal_balls), format!("{}.{}", legal / 6, legal % 6));
                prop_assert!(i.legal_balls <= overs * 6);
                prop_assert!(i.wickets <= 10);
                let bat: u32 = i.batting.iter().map(|b| b.runs).sum();
                let e = i.extras;
                prop_assert_eq!(bat + e.wides + e.noballs + e.byes + e.legbyes + e.penalty + awarded, i.runs);
                let bowled: u32 = i.bowling.iter().map(|b| b.runs).sum();
                prop_assert_eq!(bowled, i.runs - e.byes - e.legbyes - e.penalty - awarded);
                let balls: u32 = i.bowling.iter().map(|b| b.legal_balls).sum();
                prop_assert_eq!(balls, i.legal_balls);
                prop_assert!(i.bowling.iter().map(|b| b.wickets).sum::<u32>() <= i.wickets);
                prop_assert_eq!(u32::try_from(i.fall_of_wickets.len()).unwrap(), i.wickets);
            }
            // Every award to a fielding side is in exactly one place.
            let given: u32 = deliveries[..=n].iter().map(|x| x.fielding_penalty).sum();
            let held: u32 = m.innings.iter().map(|i| i.penalty_runs.pre + i.penalty_runs.post).sum::<u32>()
                + m.penalty_runs_due.values().sum::<u32>();
            prop_assert_eq!(given, held);
            // Undo: the state without the last ball is exactly the state before it.
            let undone = MatchState::replay(setup(overs), &deliveries[..n]).unwrap();
            prop_assert_eq!(&undone, &before);
        }
    }
}

fn overs_of(legal: u32) -> String {
    overs(legal)
}
