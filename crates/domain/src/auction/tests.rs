use super::*;
use chrono::TimeZone;
use serde_json::json;

const LAKH: u64 = 100_000;
const CRORE: u64 = 100 * LAKH;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 19, 0, 0).unwrap()
}

fn secs(s: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(s)
}

fn team(id: &str) -> TeamId {
    TeamId::new(id).unwrap()
}

fn player(id: &str) -> PlayerId {
    PlayerId::new(id).unwrap()
}

fn owner(team_id: &str) -> Bidder {
    Bidder {
        user: UserId::new(format!("owner_{team_id}")).unwrap(),
        owns: Some(team(team_id)),
    }
}

fn setup() -> AuctionSetup {
    serde_json::from_value(json!({
        "name": "Season 2027 auction", "currency": "INR",
        "teams": [ {"id": "t_1", "name": "Strikers", "purse": 20 * CRORE},
                   {"id": "t_2", "name": "Titans", "purse": 20 * CRORE} ],
        "squad": {"min": 3, "max": 4, "overseasMax": 1},
        "lotSeconds": 30, "softCloseSeconds": 10
    }))
    .unwrap()
}

fn auction() -> Auction {
    let mut a = Auction::new(setup()).unwrap();
    for (id, base, overseas) in [
        ("p_1", 20 * LAKH, false),
        ("p_2", 50 * LAKH, true),
        ("p_3", 30 * LAKH, true),
        ("p_4", 20 * LAKH, false),
        ("p_5", 73 * LAKH / 10, false),
        ("p_6", 20 * LAKH, false),
    ] {
        a.put_player(
            player(id),
            PoolPlayer {
                name: id.to_uppercase(),
                base_price: base,
                overseas,
            },
        )
        .unwrap();
    }
    a
}

fn bid(a: &mut Auction, t: &str, p: &str, amount: u64, at: i64) -> Result<u32, AuctionError> {
    a.place_bid(
        &owner(t),
        &BidRequest {
            player_id: player(p),
            team_id: team(t),
            amount,
        },
        secs(at),
    )
    .map(|l| l.bids)
}

#[test]
fn the_ipl_slabs_step_by_price_and_off_grid_prices_step_to_the_grid() {
    let s = ipl_increments();
    assert_eq!(next_amount(&s, 20 * LAKH), 25 * LAKH);
    assert_eq!(next_amount(&s, 95 * LAKH), CRORE);
    assert_eq!(next_amount(&s, CRORE), CRORE + 10 * LAKH);
    assert_eq!(next_amount(&s, 190 * LAKH), 2 * CRORE);
    assert_eq!(next_amount(&s, 2 * CRORE), 2 * CRORE + 20 * LAKH);
    assert_eq!(next_amount(&s, 480 * LAKH), 5 * CRORE);
    assert_eq!(next_amount(&s, 5 * CRORE), 5 * CRORE + 25 * LAKH);
    assert_eq!(next_amount(&s, 73 * LAKH / 10), 10 * LAKH);
    assert_eq!(next_amount(&s, 105 * LAKH), 110 * LAKH);
}

#[test]
fn bad_setups_are_refused_with_the_field_named() {
    let mut s = setup();
    s.increments = vec![Slab {
        up_to: Some(CRORE),
        step: 5 * LAKH,
    }];
    assert!(matches!(s.check(), Err(AuctionError::Invalid(m)) if m.contains("upTo: null")));
    let mut s = setup();
    s.squad.min = 9;
    assert!(s.check().is_err());
    let mut s = setup();
    s.lot_seconds = 901;
    assert!(matches!(s.check(), Err(AuctionError::Invalid(m)) if m.contains("lotSeconds")));
    let mut s = setup();
    s.teams.push(s.teams[0].clone());
    assert!(s.check().is_err());
}

#[test]
fn the_first_bid_is_the_base_price_then_exactly_one_step() {
    let mut a = auction();
    a.open_lot(&player("p_1"), t0()).unwrap();
    assert_eq!(
        bid(&mut a, "t_1", "p_1", 15 * LAKH, 1),
        Err(AuctionError::TooLow {
            expected: 20 * LAKH
        })
    );
    assert_eq!(
        bid(&mut a, "t_1", "p_1", 25 * LAKH, 1),
        Err(AuctionError::OffStep {
            expected: 20 * LAKH
        })
    );
    assert_eq!(bid(&mut a, "t_1", "p_1", 20 * LAKH, 1), Ok(1));
    assert_eq!(
        bid(&mut a, "t_1", "p_1", 25 * LAKH, 2),
        Err(AuctionError::OwnBid(team("t_1")))
    );
    // The same step again, as a racing bidder would send it.
    assert_eq!(
        bid(&mut a, "t_2", "p_1", 20 * LAKH, 2),
        Err(AuctionError::TooLow {
            expected: 25 * LAKH
        })
    );
    assert_eq!(bid(&mut a, "t_2", "p_1", 25 * LAKH, 2), Ok(2));
    assert_eq!(a.next_bid(), Some(30 * LAKH));
}

#[test]
fn jumps_land_on_the_grid_only_when_allowed() {
    let mut a = auction();
    a.open_lot(&player("p_5"), t0()).unwrap();
    assert_eq!(bid(&mut a, "t_1", "p_5", 73 * LAKH / 10, 1), Ok(1));
    assert_eq!(
        a.next_bid(),
        Some(10 * LAKH),
        "off-grid base steps to the grid"
    );
    assert_eq!(
        bid(&mut a, "t_2", "p_5", 20 * LAKH, 2),
        Err(AuctionError::OffStep {
            expected: 10 * LAKH
        })
    );
    a.setup.allow_jumps = true;
    assert_eq!(
        bid(&mut a, "t_2", "p_5", 22 * LAKH, 2),
        Err(AuctionError::OffStep {
            expected: 10 * LAKH
        })
    );
    assert_eq!(bid(&mut a, "t_2", "p_5", 20 * LAKH, 2), Ok(2));
}

#[test]
fn only_the_owner_of_the_team_bids_for_it() {
    let mut a = auction();
    a.open_lot(&player("p_1"), t0()).unwrap();
    let not_owner = Bidder {
        user: UserId::new("viewer").unwrap(),
        owns: None,
    };
    let r = a.place_bid(
        &not_owner,
        &BidRequest {
            player_id: player("p_1"),
            team_id: team("t_1"),
            amount: 20 * LAKH,
        },
        secs(1),
    );
    assert_eq!(r.unwrap_err().code(), "unauthorized");
    let r = a.place_bid(
        &owner("t_2"),
        &BidRequest {
            player_id: player("p_1"),
            team_id: team("t_1"),
            amount: 20 * LAKH,
        },
        secs(1),
    );
    assert_eq!(r, Err(AuctionError::NotOwner(team("t_1"))));
    assert_eq!(a.lot.as_ref().unwrap().bids, 0, "a refusal changes nothing");
}

#[test]
fn a_bid_in_the_last_seconds_extends_the_lot_and_the_timer_closes_it() {
    let mut a = auction();
    a.open_lot(&player("p_1"), t0()).unwrap();
    assert_eq!(a.lot.as_ref().unwrap().ends_at, secs(30));
    bid(&mut a, "t_1", "p_1", 20 * LAKH, 5).unwrap();
    assert_eq!(
        a.lot.as_ref().unwrap().ends_at,
        secs(30),
        "not in the last 10 s"
    );
    bid(&mut a, "t_2", "p_1", 25 * LAKH, 25).unwrap();
    assert_eq!(
        a.lot.as_ref().unwrap().ends_at,
        secs(35),
        "extended to 10 s"
    );
    assert_eq!(a.settle(secs(34)), None);
    assert_eq!(
        bid(&mut a, "t_1", "p_1", 30 * LAKH, 35),
        Err(AuctionError::LotClosed),
        "a bid at the deadline is too late"
    );
    let r = a.settle(secs(35)).unwrap();
    assert_eq!(r.closed_by, ClosedBy::Timer);
    assert_eq!(r.sold_to.as_ref().unwrap().team_id, team("t_2"));
    assert_eq!(a.teams[&team("t_2")].purse_left, 20 * CRORE - 25 * LAKH);
    assert_eq!(a.teams[&team("t_2")].squad, vec![player("p_1")]);
    assert_eq!(a.settle(secs(40)), None);
}

#[test]
fn unsold_players_come_back_in_an_accelerated_round_and_sold_ones_never() {
    let mut a = auction();
    a.setup.accelerated_lot_seconds = Some(12);
    a.open_lot(&player("p_4"), t0()).unwrap();
    assert_eq!(
        a.open_lot(&player("p_1"), t0()).unwrap_err(),
        AuctionError::LotOpen(1)
    );
    let r = a.close_lot(secs(3)).unwrap();
    assert_eq!((r.sold_to, r.closed_by), (None, ClosedBy::Auctioneer));
    assert_eq!(
        a.pool[&player("p_4")].standing,
        Standing::Unsold { times: 1 }
    );
    let lot = a.open_lot(&player("p_4"), secs(10)).unwrap();
    assert_eq!((lot.number, lot.round, lot.ends_at), (2, 2, secs(22)));
    bid(&mut a, "t_1", "p_4", 20 * LAKH, 11).unwrap();
    a.close_lot(secs(12)).unwrap();
    assert_eq!(
        a.open_lot(&player("p_4"), secs(13)).unwrap_err(),
        AuctionError::PlayerSold
    );
    assert_eq!(a.close_lot(secs(13)).unwrap_err(), AuctionError::LotClosed);
    assert!(matches!(
        a.put_player(
            player("p_4"),
            PoolPlayer {
                name: "x".into(),
                base_price: 1,
                overseas: false
            }
        ),
        Err(AuctionError::PlayerSold)
    ));
}

fn buy(a: &mut Auction, t: &str, p: &str, amount: u64, at: i64) {
    a.open_lot(&player(p), secs(at)).unwrap();
    let expected = a.next_bid().unwrap();
    assert_eq!(amount, expected);
    bid(a, t, p, amount, at).unwrap();
    a.close_lot(secs(at)).unwrap();
}

#[test]
fn squad_and_overseas_limits_hold() {
    let mut a = auction();
    buy(&mut a, "t_1", "p_2", 50 * LAKH, 0);
    a.open_lot(&player("p_3"), secs(1)).unwrap();
    assert_eq!(
        bid(&mut a, "t_1", "p_3", 30 * LAKH, 1),
        Err(AuctionError::OverseasFull(team("t_1")))
    );
    a.close_lot(secs(2)).unwrap();
    buy(&mut a, "t_1", "p_1", 20 * LAKH, 3);
    buy(&mut a, "t_1", "p_4", 20 * LAKH, 4);
    buy(&mut a, "t_1", "p_6", 20 * LAKH, 5);
    a.open_lot(&player("p_5"), secs(6)).unwrap();
    assert_eq!(
        bid(&mut a, "t_1", "p_5", 73 * LAKH / 10, 6),
        Err(AuctionError::SquadFull(team("t_1")))
    );
}

#[test]
fn a_team_keeps_enough_to_fill_its_minimum_squad_at_base_prices() {
    let mut s = setup();
    s.teams[0].purse = CRORE;
    let mut a = Auction::new(s).unwrap();
    for (id, base) in [("p_1", 20 * LAKH), ("p_2", 30 * LAKH), ("p_3", 40 * LAKH)] {
        a.put_player(
            player(id),
            PoolPlayer {
                name: id.into(),
                base_price: base,
                overseas: false,
            },
        )
        .unwrap();
    }
    // Squad min 3: buying p_3 must leave 20 + 30 lakh for the two cheapest others.
    a.open_lot(&player("p_3"), t0()).unwrap();
    assert_eq!(bid(&mut a, "t_1", "p_3", 40 * LAKH, 1), Ok(1));
    bid(&mut a, "t_2", "p_3", 45 * LAKH, 2).unwrap();
    assert_eq!(bid(&mut a, "t_1", "p_3", 50 * LAKH, 3), Ok(3));
    bid(&mut a, "t_2", "p_3", 55 * LAKH, 4).unwrap();
    let err = bid(&mut a, "t_1", "p_3", 60 * LAKH, 5).unwrap_err();
    assert_eq!(err.code(), "purse_exceeded");
    assert_eq!(
        err,
        AuctionError::PurseExceeded {
            team: team("t_1"),
            amount: 60 * LAKH,
            reserve: 50 * LAKH,
            purse_left: CRORE
        }
    );
}

#[test]
fn the_setup_is_locked_once_lots_open_and_the_document_round_trips() {
    let mut a = auction();
    buy(&mut a, "t_1", "p_1", 20 * LAKH, 0);
    let mut s = setup();
    s.teams[0].purse += 1;
    assert_eq!(a.set_setup(s), Err(AuctionError::Started));
    let mut s = setup();
    s.lot_seconds = 45;
    a.set_setup(s).unwrap();
    assert_eq!(a.teams[&team("t_1")].squad, vec![player("p_1")], "kept");
    let doc = serde_json::to_string(&a).unwrap();
    assert_eq!(serde_json::from_str::<Auction>(&doc).unwrap(), a);
    let v = a.view();
    assert_eq!(v["teams"][0]["purseLeft"], 20 * CRORE - 20 * LAKH);
    assert_eq!(v["results"][0]["soldTo"]["teamId"], "t_1");
}

#[test]
fn the_views_keep_the_wire_names() {
    let mut a = auction();
    a.open_lot(&player("p_1"), t0()).unwrap();
    let lot = a.lot_view();
    let keys: Vec<&str> = lot
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "basePrice",
            "bids",
            "currentBid",
            "endsAt",
            "leadingTeam",
            "lot",
            "name",
            "nextBid",
            "overseas",
            "playerId",
            "round",
            "version"
        ]
    );
    assert!(lot["currentBid"].is_null() && lot["leadingTeam"].is_null());
    let v = a.view();
    let entry = &v["pool"][0];
    assert_eq!(entry["playerId"], "p_1");
    assert_eq!(entry["status"], "available");
    assert!(entry["basePrice"].is_u64() && entry["name"].is_string());
    assert_eq!(v["lot"], lot);
    a.close_lot(secs(1)).unwrap();
    assert!(a.lot_view().is_null());
}

#[test]
fn amounts_beyond_max_amount_are_refused_and_sums_cannot_wrap() {
    let mut s = setup();
    s.teams[0].purse = MAX_AMOUNT + 1;
    assert!(matches!(Auction::new(s), Err(AuctionError::Invalid(m)) if m.contains("purse")));
    let mut s = setup();
    s.increments[0].step = u64::MAX;
    assert!(matches!(Auction::new(s), Err(AuctionError::Invalid(m)) if m.contains("step")));
    let mut s = setup();
    s.increments[0].up_to = Some(u64::MAX);
    assert!(Auction::new(s).is_err());
    let mut a = auction();
    let huge = PoolPlayer {
        name: "Huge".into(),
        base_price: MAX_AMOUNT + 1,
        overseas: false,
    };
    assert!(matches!(
        a.put_player(player("p_9"), huge),
        Err(AuctionError::Invalid(m)) if m.contains("basePrice")
    ));
    // A bid of u64::MAX is refused as more than the purse, not wrapped past it.
    a.open_lot(&player("p_1"), t0()).unwrap();
    assert!(matches!(
        bid(&mut a, "t_1", "p_1", u64::MAX, 1),
        Err(AuctionError::OffStep { .. } | AuctionError::PurseExceeded { .. })
    ));
}

#[test]
fn the_pool_is_bounded() {
    let mut a = auction();
    let p = |i: usize| PoolPlayer {
        name: format!("P{i}"),
        base_price: LAKH,
        overseas: false,
    };
    for i in a.pool.len()..MAX_POOL {
        a.put_player(player(&format!("x_{i}")), p(i)).unwrap();
    }
    assert!(matches!(
        a.put_player(player("x_last"), p(0)),
        Err(AuctionError::Invalid(m)) if m.contains("at most")
    ));
    // A player already in the pool can still be changed.
    a.put_player(player("p_1"), p(1)).unwrap();
}
