//! Matches: setups and deliveries, writes conditional on the count and revision.

use crate::fresh_org;
use pitchside_core::ports::*;

/// One test per case, for an adapter that `$make` builds afresh.
#[macro_export]
macro_rules! matches_tests {
    ($make:expr) => {
        $crate::cases!(matches, $make, [matches]);
    };
}

pub async fn matches<S: MatchStore + EventLog + ?Sized>(store: &S) {
    use pitchside_domain::event::{EventId, EventType, NewEvent};
    use pitchside_domain::ids::MatchId;
    use pitchside_domain::scoring::{Delivery, MatchSetup, Runs, Team};
    let a = fresh_org("match-a");
    let b = fresh_org("match-b");
    let id = MatchId::new("m-1").unwrap();
    let setup = MatchSetup {
        name: "Final".into(),
        teams: vec![
            Team {
                id: "t1".into(),
                name: "One".into(),
                players: vec!["a1".into(), "a2".into()],
            },
            Team {
                id: "t2".into(),
                name: "Two".into(),
                players: vec!["b1".into()],
            },
        ],
        overs_per_innings: 20,
        revised_target: None,
    };
    assert_eq!(store.match_head(&a, &id).await.unwrap(), None);
    let r1 = store.put_match(&a, &id, &setup).await.unwrap();
    let head = store.match_head(&a, &id).await.unwrap().unwrap();
    assert_eq!((head.balls, head.revision, &head.setup), (0, r1, &setup));
    assert_eq!(
        store.match_head(&b, &id).await.unwrap(),
        None,
        "per organization"
    );
    let ball = |seq: u32, runs: u32| Delivery {
        seq,
        innings: 1,
        over: 0,
        batter: "a1".into(),
        bowler: "b1".into(),
        non_striker: "a2".into(),
        runs: Runs {
            batter: runs,
            extras: 0,
            total: runs,
            non_boundary: false,
        },
        extras: Default::default(),
        wickets: vec![],
        review: None,
        replacements: None,
        fielding_penalty: 0,
        super_over: false,
    };
    // A write's event, as the scoring handler builds it: named by the new revision.
    let event = |at: At, tag: u32| NewEvent {
        kind: EventType::MatchScoreUpdated,
        payload: serde_json::json!({"revision": at.next_revision(), "tag": tag}),
        timestamp: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        dedup_key: Some(format!("score:m-1:{}", at.next_revision())),
    };
    let head_of_log = |org| async move { store.bounds(&org).await.unwrap().head };
    let at0 = head.at();
    let w1 = store
        .append_ball(&a, &id, at0, &ball(1, 4), event(at0, 1))
        .await
        .unwrap();
    let BallWrite::Written {
        revision,
        event: e1,
    } = &w1
    else {
        panic!("written: {w1:?}")
    };
    assert_eq!(*revision, r1 + 1);
    assert_eq!(e1.payload["tag"], 1);
    let page = store
        .read(&a, ReadFrom::After(EventId::ZERO), 10)
        .await
        .unwrap();
    assert_eq!(
        page.events,
        vec![e1.clone()],
        "the ball's event is in the log"
    );
    assert_eq!(
        store
            .append_ball(&a, &id, at0, &ball(1, 6), event(at0, 2))
            .await
            .unwrap(),
        BallWrite::Stale { balls: 1 },
        "the count moved on"
    );
    assert_eq!(
        head_of_log(a.clone()).await,
        e1.id,
        "a stale write appends nothing"
    );
    // Of concurrent writers at the same count, exactly one wins.
    let at1 = store.match_head(&a, &id).await.unwrap().unwrap().at();
    assert_eq!(
        at1,
        At {
            balls: 1,
            revision: r1 + 1
        }
    );
    let racing: Vec<Delivery> = (0..8).map(|i| ball(2, i % 7)).collect();
    let results = futures_util::future::join_all(
        racing
            .iter()
            .zip(10..)
            .map(|(d, tag)| store.append_ball(&a, &id, at1, d, event(at1, tag))),
    )
    .await;
    let written = results
        .iter()
        .filter(|r| matches!(r, Ok(BallWrite::Written { .. })))
        .count();
    assert_eq!(written, 1, "{results:?}");
    let page = store.read(&a, ReadFrom::After(e1.id), 10).await.unwrap();
    assert_eq!(page.events.len(), 1, "one event for the one ball written");
    let balls = store.balls(&a, &id).await.unwrap();
    assert_eq!(balls.iter().map(|b| b.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(balls[0], ball(1, 4));
    // Undo: only the last, only where the match stands.
    assert_eq!(
        store
            .remove_last_ball(&a, &id, at1, event(at1, 30))
            .await
            .unwrap(),
        BallWrite::Stale { balls: 2 }
    );
    let at2 = store.match_head(&a, &id).await.unwrap().unwrap().at();
    let before_undo = head_of_log(a.clone()).await;
    let undo = store
        .remove_last_ball(&a, &id, at2, event(at2, 31))
        .await
        .unwrap();
    let BallWrite::Written {
        revision,
        event: e3,
    } = &undo
    else {
        panic!("undone: {undo:?}")
    };
    assert_eq!(*revision, at2.revision + 1);
    assert_eq!(
        (e3.id, e3.payload["tag"].clone()),
        (before_undo.next(), serde_json::json!(31))
    );
    // A write whose event is already in the log is refused whole: the ball would
    // otherwise be recorded without an event of its own.
    let at3 = store.match_head(&a, &id).await.unwrap().unwrap().at();
    store.append(&a, event(at3, 40)).await.unwrap();
    assert!(matches!(
        store
            .append_ball(&a, &id, at3, &ball(2, 1), event(at3, 41))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.balls(&a, &id).await.unwrap(), vec![ball(1, 4)]);
    // A new setup keeps the balls and moves the revision.
    let before = store.match_head(&a, &id).await.unwrap().unwrap();
    let r2 = store
        .put_match(
            &a,
            &id,
            &MatchSetup {
                overs_per_innings: 10,
                ..setup
            },
        )
        .await
        .unwrap();
    let after = store.match_head(&a, &id).await.unwrap().unwrap();
    assert!(r2 > before.revision);
    assert_eq!(
        store
            .append_ball(&a, &id, before.at(), &ball(2, 0), event(before.at(), 50))
            .await
            .unwrap(),
        BallWrite::Stale { balls: 1 },
        "a ball computed on the old setup is not written"
    );
    assert_eq!((after.balls, after.setup.overs_per_innings), (1, 10));
    assert!(store.balls(&b, &id).await.unwrap().is_empty());
}
