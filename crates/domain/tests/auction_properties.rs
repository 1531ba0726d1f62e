//! The auction rules' invariants over random nights: whatever teams bid, open and close,
//! money is conserved, no purse goes below what its minimum squad still needs, squads and
//! overseas places stay within their limits, every player is sold at most once, an
//! accepted bid moves the lot's version by exactly one, and a refusal changes nothing.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)] // a test may panic and read the clock

use chrono::{DateTime, Duration, TimeZone, Utc};
use pitchside_domain::auction::*;
use pitchside_domain::ids::{PlayerId, TeamId, UserId};
use proptest::prelude::*;

const TEAMS: usize = 3;
const PLAYERS: usize = 8;
const LAKH: u64 = 100_000;

fn t(s: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 19, 0, 0).unwrap() + Duration::seconds(s)
}

fn team(i: usize) -> TeamId {
    TeamId::new(format!("t_{i}")).unwrap()
}

fn player(i: usize) -> PlayerId {
    PlayerId::new(format!("p_{i}")).unwrap()
}

fn auction(purses: &[u64], jumps: bool) -> Auction {
    let mut a = Auction::new(AuctionSetup {
        name: "random".into(),
        currency: "INR".into(),
        teams: (0..TEAMS)
            .map(|i| TeamSetup {
                id: team(i),
                name: format!("T{i}"),
                purse: purses[i],
            })
            .collect(),
        squad: SquadRules {
            min: 2,
            max: 3,
            overseas_max: 1,
        },
        increments: ipl_increments(),
        lot_seconds: 30,
        soft_close_seconds: 10,
        allow_jumps: jumps,
        accelerated_lot_seconds: Some(10),
    })
    .unwrap();
    for i in 0..PLAYERS {
        a.put_player(
            player(i),
            PoolPlayer {
                name: format!("P{i}"),
                base_price: (i as u64 % 4 + 1) * 10 * LAKH + (i as u64 % 3) * 12_345,
                overseas: i % 3 == 0,
            },
        )
        .unwrap();
    }
    a
}

#[derive(Debug, Clone)]
enum Step {
    Open(usize),
    /// A team bids the next amount plus `extra` steps (0: exactly the next step).
    Bid {
        team: usize,
        extra: u8,
    },
    /// Someone bids for a team they do not own.
    Imposter(usize),
    Close,
    Wait(i64),
}

fn step() -> impl Strategy<Value = Step> {
    // Weighted towards bids and closes, so squads fill and purses run low.
    prop_oneof![
        3 => (0..PLAYERS).prop_map(Step::Open),
        6 => (0..TEAMS, 0u8..3).prop_map(|(team, extra)| Step::Bid { team, extra }),
        1 => (0..TEAMS).prop_map(Step::Imposter),
        3 => Just(Step::Close),
        1 => (1i64..40).prop_map(Step::Wait),
    ]
}

fn spent(a: &Auction) -> u64 {
    a.pool
        .values()
        .map(|e| match e.standing {
            Standing::Sold { amount, .. } => amount,
            _ => 0,
        })
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn money_squads_and_versions_hold(
        purses in proptest::collection::vec(30u64..600, TEAMS),
        jumps in any::<bool>(),
        steps in proptest::collection::vec(step(), 1..200),
    ) {
        let purses: Vec<u64> = purses.into_iter().map(|p| p * LAKH).collect();
        let mut a = auction(&purses, jumps);
        let mut now = 0i64;
        for s in steps {
            let before = a.clone();
            let result = match s {
                Step::Open(p) => a.open_lot(&player(p), t(now)).map(|_| ()),
                Step::Bid { team: i, extra } => {
                    let Some(mut amount) = a.next_bid() else { continue };
                    for _ in 0..extra {
                        amount = next_amount(&a.setup.increments, amount);
                    }
                    let lot = a.lot.clone().unwrap();
                    let bidder = Bidder { user: UserId::new(format!("own-{i}")).unwrap(), owns: Some(team(i)) };
                    let bid = BidRequest { player_id: lot.player_id.clone(), team_id: team(i), amount };
                    let r = a.place_bid(&bidder, &bid, t(now)).map(|l| l.bids);
                    if let Ok(bids) = &r {
                        prop_assert_eq!(*bids, lot.bids + 1, "an accepted bid moves the version by one");
                        prop_assert!(extra == 0 || jumps, "a jump is accepted only when allowed");
                    }
                    r.map(|_| ())
                }
                Step::Imposter(i) => {
                    let Some(amount) = a.next_bid() else { continue };
                    let lot = a.lot.clone().unwrap();
                    let other = Bidder { user: UserId::new("imposter").unwrap(), owns: Some(team((i + 1) % TEAMS)) };
                    let bid = BidRequest { player_id: lot.player_id, team_id: team(i), amount };
                    let r = a.place_bid(&other, &bid, t(now)).map(|_| ());
                    prop_assert!(r.is_err(), "only the team's owner bids for it");
                    r
                }
                Step::Close => a.close_lot(t(now)).map(|_| ()),
                Step::Wait(s) => {
                    now += s;
                    a.settle(t(now));
                    Ok(())
                }
            };
            if result.is_err() {
                prop_assert_eq!(&a, &before, "a refusal changes nothing");
            }
            // Money is conserved and no purse is overdrawn.
            let left: u64 = a.teams.values().map(|t| t.purse_left).sum();
            prop_assert_eq!(left + spent(&a), purses.iter().sum::<u64>());
            for (id, team_state) in &a.teams {
                prop_assert!(u32::try_from(team_state.squad.len()).unwrap() <= a.setup.squad.max, "{} over the squad max", id);
                prop_assert!(team_state.overseas <= a.setup.squad.overseas_max, "{} over the overseas max", id);
                let overseas = team_state.squad.iter().filter(|p| a.pool[*p].player.overseas).count();
                let overseas = u32::try_from(overseas).unwrap();
                prop_assert_eq!(overseas, team_state.overseas);
            }
            // Every sold player is in exactly one squad: the buyer's.
            for (p, e) in &a.pool {
                let holders: Vec<&TeamId> = a.teams.iter().filter(|(_, t)| t.squad.contains(p)).map(|(id, _)| id).collect();
                match &e.standing {
                    Standing::Sold { team_id, .. } => prop_assert_eq!(holders, vec![team_id]),
                    _ => prop_assert!(holders.is_empty()),
                }
            }
            // A leading bid is on the grid and affordable.
            if let Some(lot) = &a.lot && let Some(b) = &lot.leading {
                prop_assert!(b.amount >= lot.base_price);
                prop_assert!(b.amount <= a.teams[&b.team_id].purse_left);
            }
        }
    }
}
