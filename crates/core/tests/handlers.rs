//! The handlers' logic in process, over a temporary SQLite store and a test clock: what
//! the black-box tests can reach only by waiting real seconds or killing a process at
//! the right instant.

#![allow(clippy::unwrap_used)] // a test may panic

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use pitchside_core::app::ErrorKind;
use pitchside_core::app::auction::{self, OpenLot, Timer};
use pitchside_core::app::authn::{Authenticator, Credential};
use pitchside_core::app::scoring::{self, ScoreCache};
use pitchside_core::app::{admin, ws};
use pitchside_core::clock::{Clock, TestClock};
use pitchside_core::live::{Hub, MemoryRegistry};
use pitchside_core::ports::*;
use pitchside_domain::auction::{AuctionSetup, PoolPlayer};
use pitchside_domain::auth::{Principal, Role, TokenKey, TokenVerifier};
use pitchside_domain::event::{EventId, EventType, NewEvent};
use pitchside_domain::ids::{AuctionId, MatchId, OrganizationId, PlayerId, TeamId, UserId};
use pitchside_domain::scoring::{Delivery, MatchSetup};
use pitchside_embedded::{Db, SqliteQueue, SqliteStore};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// An event log that can be made to fail its appends: a process that dies after a
/// write and before the append that should follow it.
struct Breakable {
    inner: Arc<SqliteStore>,
    broken: AtomicBool,
}

#[async_trait]
impl EventLog for Breakable {
    async fn append(&self, org: &OrganizationId, event: NewEvent) -> StoreResult<Appended> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable(
                "the process died before the append",
            ));
        }
        self.inner.append(org, event).await
    }
    async fn read(
        &self,
        org: &OrganizationId,
        from: ReadFrom,
        limit: usize,
    ) -> StoreResult<LogPage> {
        self.inner.read(org, from, limit).await
    }
    async fn bounds(&self, org: &OrganizationId) -> StoreResult<LogBounds> {
        self.inner.bounds(org).await
    }
    async fn head(&self, org: &OrganizationId) -> StoreResult<EventId> {
        self.inner.head(org).await
    }
    async fn after(
        &self,
        org: &OrganizationId,
        after: EventId,
        limit: usize,
    ) -> StoreResult<Vec<pitchside_domain::event::Event>> {
        self.inner.after(org, after, limit).await
    }
}

/// A match store where another scorer's ball lands between a scorer's read of the match
/// and its write, once.
struct Raced {
    inner: Arc<SqliteStore>,
    rival: std::sync::Mutex<Option<Delivery>>,
}

#[async_trait]
impl MatchStore for Raced {
    async fn put_match(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        setup: &MatchSetup,
    ) -> StoreResult<u64> {
        self.inner.put_match(org, id, setup).await
    }
    async fn match_head(
        &self,
        org: &OrganizationId,
        id: &MatchId,
    ) -> StoreResult<Option<MatchHead>> {
        self.inner.match_head(org, id).await
    }
    async fn balls(&self, org: &OrganizationId, id: &MatchId) -> StoreResult<Vec<Delivery>> {
        self.inner.balls(org, id).await
    }
    async fn append_ball(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
        ball: &Delivery,
        event: NewEvent,
    ) -> StoreResult<BallWrite> {
        let rival = self.rival.lock().unwrap().take();
        if let Some(rival) = rival {
            let head = self.inner.match_head(org, id).await?.unwrap();
            let mut theirs = event.clone();
            theirs.dedup_key = Some(format!("score:{id}:{}", head.at().next_revision()));
            let written = self
                .inner
                .append_ball(org, id, head.at(), &rival, theirs)
                .await?;
            assert!(matches!(written, BallWrite::Written { .. }));
        }
        self.inner.append_ball(org, id, at, ball, event).await
    }
    async fn remove_last_ball(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
        event: NewEvent,
    ) -> StoreResult<BallWrite> {
        self.inner.remove_last_ball(org, id, at, event).await
    }
}

struct World {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    clock: Arc<TestClock>,
    ports: Ports,
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 14, 18, 0, 0).unwrap()
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    let store = Arc::new(SqliteStore::new(db.clone()));
    let clock = Arc::new(TestClock::at(start()));
    let ports = Ports::new(
        store.clone(),
        Arc::new(SqliteQueue::new(db, 5)),
        Arc::new(MemoryRegistry::default()),
        Arc::new(Hub::new(64)),
    )
    .with_clock(clock.clone());
    World {
        _dir: dir,
        store,
        clock,
        ports,
    }
}

fn org() -> OrganizationId {
    OrganizationId::new("org-h").unwrap()
}

fn who(user: &str, roles: &[Role], team: Option<&str>) -> Principal {
    Principal {
        org: org(),
        user: UserId::new(user).unwrap(),
        roles: roles.to_vec(),
        team_id: team.map(|t| TeamId::new(t).unwrap()),
        name: None,
    }
}

async fn events_of(ports: &Ports, kind: EventType) -> Vec<Value> {
    let page = ports
        .log
        .read(&org(), ReadFrom::After(EventId(0)), 1000)
        .await
        .unwrap();
    page.events
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.payload)
        .collect()
}

/// An auction with one player, its lot open at `start()` for 30 s with a 10 s soft close.
async fn open_auction(ports: &Ports) -> AuctionId {
    let id = AuctionId::new("auc-1").unwrap();
    let setup: AuctionSetup = serde_json::from_value(json!({
        "name": "Season 2027", "currency": "INR",
        "teams": [{"id": "t_a", "name": "A", "purse": 1000}, {"id": "t_b", "name": "B", "purse": 1000}],
        "squad": {"min": 1, "max": 3, "overseasMax": 1},
        "increments": [{"upTo": null, "step": 10}],
        "lotSeconds": 30, "softCloseSeconds": 10
    }))
    .unwrap();
    let boss = who("u-auc", &[Role::Auctioneer], None);
    auction::put_auction(ports, &boss, id.clone(), setup)
        .await
        .unwrap();
    let player: PoolPlayer =
        serde_json::from_value(json!({"name": "P One", "basePrice": 100, "overseas": false}))
            .unwrap();
    let p1 = PlayerId::new("p_1").unwrap();
    auction::put_player(ports, &boss, id.clone(), p1.clone(), player)
        .await
        .unwrap();
    auction::open_lot(ports, &boss, id.clone(), OpenLot { player_id: p1 })
        .await
        .unwrap();
    id
}

async fn bid(ports: &Ports, id: &AuctionId, team: &str, amount: u64) -> Result<Value, ErrorKind> {
    let owner = who(&format!("u-{team}"), &[Role::TeamOwner], Some(team));
    auction::place_bid(
        ports,
        &owner,
        id,
        TeamId::new(team).unwrap(),
        PlayerId::new("p_1").unwrap(),
        amount,
    )
    .await
    .map_err(|(e, _)| e.kind)
}

/// The worker's handling of lot 1's timer, now.
async fn fire_timer(w: &World, id: &AuctionId) {
    let timer = Timer {
        organization_id: org(),
        auction_id: id.clone(),
        lot: 1,
    };
    auction::timer(&w.ports, &timer, w.clock.now())
        .await
        .unwrap();
}

#[tokio::test]
async fn an_outbox_left_by_a_writer_that_died_is_in_the_log_before_the_next_change() {
    let w = world();
    let log = Arc::new(Breakable {
        inner: w.store.clone(),
        broken: AtomicBool::new(false),
    });
    let mut ports = w.ports.clone();
    ports.log = log.clone();
    let id = open_auction(&ports).await;
    assert_eq!(
        events_of(&ports, EventType::AuctionLotOpened).await.len(),
        1
    );

    // The bid's document is written; its event never reaches the log.
    log.broken.store(true, Ordering::SeqCst);
    assert_eq!(
        bid(&ports, &id, "t_a", 100).await.unwrap_err(),
        ErrorKind::Unavailable
    );
    log.broken.store(false, Ordering::SeqCst);
    assert!(
        events_of(&ports, EventType::AuctionBidPlaced)
            .await
            .is_empty()
    );

    // The next change, whoever makes it, puts the dead writer's event first.
    w.clock.advance(Duration::seconds(1));
    bid(&ports, &id, "t_b", 110).await.unwrap();
    let bids = events_of(&ports, EventType::AuctionBidPlaced).await;
    let seen: Vec<(Value, Value)> = bids
        .iter()
        .map(|b| (b["teamId"].clone(), b["amount"].clone()))
        .collect();
    assert_eq!(
        seen,
        vec![(json!("t_a"), json!(100)), (json!("t_b"), json!(110))]
    );
}

#[tokio::test]
async fn a_late_bid_extends_the_lot_and_the_timer_closes_it_only_at_the_new_end() {
    let w = world();
    let id = open_auction(&w.ports).await;

    // 25 s in, 5 s are left: the soft close makes it 10 from the bid.
    w.clock.advance(Duration::seconds(25));
    let ack = bid(&w.ports, &id, "t_a", 100).await.unwrap();
    assert_eq!(ack["lot"]["endsAt"], "2027-03-14T18:00:35.000Z", "{ack}");

    // The timer fires at the lot's first end: nothing closes.
    w.clock.advance(Duration::seconds(5));
    fire_timer(&w, &id).await;
    assert!(
        events_of(&w.ports, EventType::AuctionLotClosed)
            .await
            .is_empty()
    );
    // A bid a second before the new end is still taken; the lot ends 10 s after it.
    w.clock.advance(Duration::seconds(4));
    bid(&w.ports, &id, "t_b", 110).await.unwrap();

    w.clock.advance(Duration::seconds(9));
    fire_timer(&w, &id).await;
    assert!(
        events_of(&w.ports, EventType::AuctionLotClosed)
            .await
            .is_empty()
    );

    w.clock.advance(Duration::seconds(1));
    fire_timer(&w, &id).await;
    let closed = events_of(&w.ports, EventType::AuctionLotClosed).await;
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["outcome"], "sold");
    assert_eq!(closed[0]["teamId"], "t_b");
    assert_eq!(closed[0]["amount"], 110);

    // Late: refused, and the close is not repeated by another timer.
    assert_eq!(
        bid(&w.ports, &id, "t_a", 120).await.unwrap_err(),
        ErrorKind::Conflict
    );
    fire_timer(&w, &id).await;
    assert_eq!(
        events_of(&w.ports, EventType::AuctionLotClosed).await.len(),
        1
    );
}

#[tokio::test]
async fn a_ticket_is_good_once_and_only_until_it_expires() {
    let w = world();
    let key = TokenKey::hs256(b"a-test-secret-of-at-least-32-bytes!!".to_vec()).unwrap();
    let verifier = TokenVerifier::new(&key, None, None).unwrap();
    let auth = Authenticator::new(
        Some(std::sync::Arc::new(pitchside_core::secrets::Live::fixed(
            pitchside_core::config::SecretName::JwtSecret,
            pitchside_core::secrets::TokenKeys { key, verifier },
        ))),
        w.ports.directory.clone(),
        w.ports.tickets.clone(),
        w.clock.clone(),
    );
    let viewer = who("u-view", &[Role::Viewer], None);
    w.ports
        .directory
        .put_member(
            &org(),
            &viewer.user,
            &serde_json::from_value(json!({"roles": ["viewer"], "active": true})).unwrap(),
            None,
        )
        .await
        .unwrap();

    let (fresh, lifetime) = auth.issue_ticket(&viewer).await.unwrap();
    w.clock.advance(Duration::seconds(lifetime - 1));
    let got = auth
        .authenticate(&Credential::Ticket(fresh.clone()))
        .await
        .unwrap();
    assert_eq!(got.user, viewer.user);
    let again = auth
        .authenticate(&Credential::Ticket(fresh))
        .await
        .unwrap_err();
    assert_eq!(again.kind, ErrorKind::Unauthenticated);

    let (stale, _) = auth.issue_ticket(&viewer).await.unwrap();
    w.clock.advance(Duration::seconds(lifetime + 1));
    let late = auth
        .authenticate(&Credential::Ticket(stale))
        .await
        .unwrap_err();
    assert_eq!(late.kind, ErrorKind::Unauthenticated);
}

fn match_setup() -> MatchSetup {
    let team = |id: &str, p: &str| json!({"id": id, "name": id, "players": (1..=11).map(|i| format!("{p}{i}")).collect::<Vec<_>>()});
    serde_json::from_value(
        json!({"name": "Sunday league", "teams": [team("t_a", "a"), team("t_b", "b")], "oversPerInnings": 20}),
    )
    .unwrap()
}

/// A scorer, a fresh score cache and match `id`, set up with [`match_setup`].
async fn match_set_up(ports: &Ports, id: &str) -> (Principal, ScoreCache, MatchId) {
    let scorer = who("u-score", &[Role::Admin, Role::Scorer], None);
    let id = MatchId::new(id).unwrap();
    scoring::put_match(ports, &scorer, id.clone(), match_setup())
        .await
        .unwrap();
    (scorer, ScoreCache::default(), id)
}

fn delivery(seq: u32, runs: u32) -> Delivery {
    serde_json::from_value(json!({
        "seq": seq, "innings": 1, "over": 0, "batter": "a1", "bowler": "b1",
        "non_striker": "a2", "runs": {"batter": runs, "extras": 0, "total": runs}
    }))
    .unwrap()
}

#[tokio::test]
async fn a_repeated_seq_with_another_body_is_a_conflict_and_changes_nothing() {
    let w = world();
    let (scorer, cache, id) = match_set_up(&w.ports, "m-1").await;
    scoring::post_ball(&w.ports, &cache, &scorer, id.clone(), delivery(1, 4))
        .await
        .unwrap();

    // The same ball again answers as the first time.
    let repeat = scoring::post_ball(&w.ports, &cache, &scorer, id.clone(), delivery(1, 4))
        .await
        .unwrap();
    assert_eq!(repeat["innings"][0]["runs"], 4, "{repeat}");
    let e = scoring::post_ball(&w.ports, &cache, &scorer, id.clone(), delivery(1, 6))
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "seq_conflict"));
    assert_eq!(e.details.unwrap()["expectedSeq"], 2);
    assert_eq!(
        w.ports.matches.balls(&org(), &id).await.unwrap(),
        vec![delivery(1, 4)]
    );
    assert_eq!(
        events_of(&w.ports, EventType::MatchScoreUpdated)
            .await
            .len(),
        1
    );
}

/// Makes every append to the log fail inside its transaction, as a crash or a full
/// disk between a write and its event would; `false` lifts it.
fn fail_appends(w: &World, on: bool) {
    let conn = rusqlite::Connection::open(w._dir.path().join("pitchside.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn.execute_batch(if on {
        "CREATE TRIGGER no_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'the log is gone'); END;"
    } else {
        "DROP TRIGGER no_events;"
    })
    .unwrap();
}

#[tokio::test]
async fn a_ball_or_an_undo_is_never_stored_without_its_event() {
    let w = world();
    let (scorer, cache, id) = match_set_up(&w.ports, "m-1").await;
    fail_appends(&w, true);
    let e = scoring::post_ball(&w.ports, &cache, &scorer, id.clone(), delivery(1, 4))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable);
    assert!(
        w.ports.matches.balls(&org(), &id).await.unwrap().is_empty(),
        "the ball went with its event"
    );
    fail_appends(&w, false);
    // The scorer's retry of the same seq is a new write, and emits.
    scoring::post_ball(&w.ports, &cache, &scorer, id.clone(), delivery(1, 4))
        .await
        .unwrap();
    scoring::post_ball(&w.ports, &cache, &scorer, id.clone(), delivery(2, 1))
        .await
        .unwrap();
    fail_appends(&w, true);
    let e = scoring::undo(&w.ports, &cache, &scorer, id.clone())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable);
    assert_eq!(w.ports.matches.balls(&org(), &id).await.unwrap().len(), 2);
    fail_appends(&w, false);
    scoring::undo(&w.ports, &cache, &scorer, id.clone())
        .await
        .unwrap();
    let versions: Vec<(Value, Value)> = events_of(&w.ports, EventType::MatchScoreUpdated)
        .await
        .into_iter()
        .map(|p| (p["version"].clone(), p["undone"].clone()))
        .collect();
    assert_eq!(
        versions,
        [
            (json!(1), json!(false)),
            (json!(2), json!(false)),
            (json!(1), json!(true))
        ],
        "every stored change has its event, once"
    );
}

#[tokio::test]
async fn a_ball_computed_on_a_state_another_scorer_moved_is_stale() {
    let w = world();
    let raced = Arc::new(Raced {
        inner: w.store.clone(),
        rival: std::sync::Mutex::new(None),
    });
    let mut ports = w.ports.clone();
    ports.matches = raced.clone();
    let (scorer, cache, id) = match_set_up(&ports, "m-2").await;

    *raced.rival.lock().unwrap() = Some(delivery(1, 1));
    let e = scoring::post_ball(&ports, &cache, &scorer, id.clone(), delivery(1, 4))
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "stale"));
    // The rival's ball stands, and the refused one left no trace.
    assert_eq!(
        ports.matches.balls(&org(), &id).await.unwrap(),
        vec![delivery(1, 1)]
    );
    let next = scoring::post_ball(&ports, &cache, &scorer, id.clone(), delivery(2, 2))
        .await
        .unwrap();
    assert_eq!(next["innings"][0]["runs"], 3, "{next}");
}

#[tokio::test]
async fn handlers_read_the_time_from_the_clock_they_are_handed() {
    let w = world();
    let (scorer, _, id) = match_set_up(&w.ports, "m-3").await;
    for seq in 1..=3 {
        w.clock.advance(Duration::minutes(1));
        scoring::post_ball(
            &w.ports,
            &ScoreCache::default(),
            &scorer,
            id.clone(),
            delivery(seq, 0),
        )
        .await
        .unwrap();
    }
    let page = w
        .ports
        .log
        .read(&org(), ReadFrom::After(EventId(0)), 10)
        .await
        .unwrap();
    let times: Vec<DateTime<Utc>> = page.events.iter().map(|e| e.timestamp).collect();
    let expected: Vec<DateTime<Utc>> = (1..=3).map(|m| start() + Duration::minutes(m)).collect();
    assert_eq!(times, expected);
}

async fn club(ports: &Ports) {
    let club = Organization {
        id: org(),
        name: "Club".into(),
    };
    ports.directory.put_organization(&club).await.unwrap();
}

async fn put_member(ports: &Ports, user: &str, body: Value) {
    let body = serde_json::from_value(body).unwrap();
    admin::put_member(ports, org(), UserId::new(user).unwrap(), body)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_membership_change_revokes_only_when_it_takes_something_away() {
    let w = world();
    club(&w.ports).await;
    let owner = json!({"roles": ["viewer", "team_owner"], "teamId": "t1"});
    for body in [
        owner.clone(),
        owner.clone(),
        json!({"roles": ["viewer", "team_owner", "scorer"], "teamId": "t1"}),
    ] {
        put_member(&w.ports, "u-m", body).await;
    }
    assert_eq!(
        events_of(&w.ports, EventType::MemberRevoked).await,
        Vec::<Value>::new(),
        "a first membership, the same again and a role added take nothing"
    );
    let ended = json!({"roles": ["viewer", "scorer"], "teamId": "t2", "active": false});
    for body in [
        json!({"roles": ["viewer", "scorer"], "teamId": "t1"}),
        json!({"roles": ["viewer", "scorer"], "teamId": "t2"}),
        ended.clone(),
        ended,
    ] {
        put_member(&w.ports, "u-m", body).await;
    }
    assert_eq!(
        events_of(&w.ports, EventType::MemberRevoked).await,
        vec![json!({"userId": "u-m"}); 3],
        "a role removed, the team moved, the membership ended; then nothing left to take"
    );
}

#[tokio::test]
async fn a_connection_registered_after_its_membership_changed_is_refused() {
    let w = world();
    club(&w.ports).await;
    put_member(
        &w.ports,
        "u-c",
        json!({"roles": ["viewer", "team_owner"], "teamId": "t1"}),
    )
    .await;
    let then = who("u-c", &[Role::TeamOwner, Role::Viewer], Some("t1"));
    // The change lands after the connection authenticated, before it is registered
    // (where the revocation would have found it).
    put_member(
        &w.ports,
        "u-c",
        json!({"roles": ["viewer"], "teamId": "t1"}),
    )
    .await;
    let conn = ConnectionInfo {
        id: ConnectionId("c-1".into()),
        org: org(),
        user: then.user.clone(),
        roles: then.roles.clone(),
    };
    let e = ws::register(&w.ports, &conn, &then).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthenticated);
    assert_eq!(w.ports.registry.lookup(&conn.id).await.unwrap(), None);
    // Connecting again, with what the membership grants now: in the user's room.
    let now = who("u-c", &[Role::Viewer], Some("t1"));
    let conn = ConnectionInfo {
        roles: now.roles.clone(),
        ..conn
    };
    ws::register(&w.ports, &conn, &now).await.unwrap();
    assert_eq!(
        w.ports.registry.members(&org(), "user:u-c").await.unwrap(),
        vec![conn.id]
    );
}

#[tokio::test]
async fn a_message_that_races_a_revocation_is_refused_with_its_request_id() {
    let w = world();
    club(&w.ports).await;
    put_member(&w.ports, "u-r", json!({"roles": ["viewer"]})).await;
    let conn = ConnectionInfo {
        id: ConnectionId("c-r".into()),
        org: org(),
        user: UserId::new("u-r").unwrap(),
        roles: vec![Role::Viewer],
    };
    // Still open when the membership ends: its next message arrives before the close.
    put_member(
        &w.ports,
        "u-r",
        json!({"roles": ["viewer"], "active": false}),
    )
    .await;
    let reply = ws::handle(
        &w.ports,
        &conn,
        None,
        r#"{"action": "chat", "room": "org", "text": "still here?", "requestId": "late"}"#,
    )
    .await;
    let reply: Value = serde_json::from_str(&reply.text).unwrap();
    assert_eq!(
        (
            reply["type"].clone(),
            reply["requestId"].clone(),
            reply["code"].clone()
        ),
        (json!("error"), json!("late"), json!("unauthorized")),
        "{reply}"
    );
    assert_eq!(
        events_of(&w.ports, EventType::ChatMessageSent).await.len(),
        0
    );
}
