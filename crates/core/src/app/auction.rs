//! Auctions: the auctioneer's HTTP administration, bids over WebSocket, and the lot
//! timer. Every change is one conditional write of the auction's document.
//!
//! The document carries the events its last change produced (an outbox). Whoever writes
//! it next, in any process, first makes sure those events are in the log, so the log
//! holds an auction's events in the order its document changed even when the writer of
//! a change died before appending. Within one process, changes to one auction are also
//! serialized, so its events are pushed in that order too.

use super::ErrorKind;
use super::{ApiError, Ports, require};
use chrono::{DateTime, Utc};
use pitchside_domain::auction::{
    Auction, AuctionError, AuctionSetup, BidRequest, Bidder, LotResult, PoolPlayer,
};
use pitchside_domain::auth::{Principal, Role};
use pitchside_domain::event::{Event, EventType, NewEvent, millis_timestamp};
use pitchside_domain::ids::{AuctionId, OrganizationId, PlayerId, TeamId};
use pitchside_domain::work::{QueuedWork, WorkKind};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The largest document kept: DynamoDB items stop at 400 KB.
const MAX_DOC_BYTES: usize = 350 * 1024;
/// Conditional writes lost to another process before giving up with a 503.
const ATTEMPTS: usize = 8;

/// An event a change produced, waiting to be in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pending {
    kind: EventType,
    payload: Value,
    dedup: String,
    #[serde(with = "millis_timestamp")]
    at: DateTime<Utc>,
}

/// What the store holds for an auction.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Doc {
    auction: Auction,
    #[serde(default)]
    outbox: Vec<Pending>,
}

/// One change to an auction.
#[derive(Debug, Clone)]
pub enum Op {
    Setup(AuctionSetup),
    Player(PlayerId, PoolPlayer),
    Open(PlayerId),
    Bid(Bidder, BidRequest),
    Close,
    /// Only what time has done: closes a lot whose time ran out.
    Settle,
}

/// A change made.
#[derive(Debug, Clone)]
pub struct Changed {
    pub auction: Auction,
    pub revision: u64,
    /// The log's events of this change (a timer's close included), in order.
    pub events: Vec<Event>,
}

/// A change refused: why, and the auction as it is (so the client is not left stale).
#[derive(Debug, Clone)]
pub struct Refused {
    pub error: ApiError,
    pub auction: Option<Auction>,
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Refused {
        Refused {
            error,
            auction: None,
        }
    }
}

impl From<crate::ports::StoreError> for Refused {
    fn from(e: crate::ports::StoreError) -> Refused {
        ApiError::from(e).into()
    }
}

fn api_error(e: &AuctionError) -> ApiError {
    let kind = match e {
        AuctionError::Invalid(_) => ErrorKind::BadRequest,
        AuctionError::NotFound(_) => ErrorKind::NotFound,
        AuctionError::NotOwner(_) => ErrorKind::Forbidden,
        _ => ErrorKind::Conflict,
    };
    let mut err = ApiError::new(kind, e.code(), e.to_string());
    match e {
        AuctionError::TooLow { expected } | AuctionError::OffStep { expected } => {
            err = err.with("expected", *expected);
        }
        _ => {}
    }
    err
}

/// The last revision of each auction whose outbox this process has put in the log;
/// holding its lock serializes this process's changes to that auction.
type Flushed = Arc<tokio::sync::Mutex<u64>>;

fn locks() -> &'static Mutex<HashMap<(OrganizationId, AuctionId), Flushed>> {
    static LOCKS: OnceLock<Mutex<HashMap<(OrganizationId, AuctionId), Flushed>>> = OnceLock::new();
    LOCKS.get_or_init(Default::default)
}

fn lock_of(org: &OrganizationId, id: &AuctionId) -> Flushed {
    let mut map = locks().lock().unwrap_or_else(|p| p.into_inner());
    if map.len() > 4096 {
        // Locks nobody holds can go; a lost one only costs a redundant flush.
        map.retain(|_, l| Arc::strong_count(l) > 1);
    }
    map.entry((org.clone(), id.clone())).or_default().clone()
}

fn auction_room_payload(id: &AuctionId, auction: &Auction, mut v: Value) -> Value {
    v["auctionId"] = json!(id);
    v["lots"] = json!(auction.lots);
    v
}

fn closed_event(id: &AuctionId, auction: &Auction, r: &LotResult) -> Pending {
    let purse_left = r
        .sold_to
        .as_ref()
        .and_then(|b| auction.teams.get(&b.team_id))
        .map(|t| t.purse_left);
    Pending {
        kind: EventType::AuctionLotClosed,
        payload: auction_room_payload(
            id,
            auction,
            json!({
                "lot": r.lot,
                "playerId": r.player_id,
                "outcome": if r.sold_to.is_some() { "sold" } else { "unsold" },
                "teamId": r.sold_to.as_ref().map(|b| &b.team_id),
                "amount": r.sold_to.as_ref().map(|b| b.amount),
                "purseLeft": purse_left,
                "version": r.bids,
                "closedBy": r.closed_by,
            }),
        ),
        dedup: format!("auction:{id}:{}:close", r.lot),
        at: r.closed_at,
    }
}

/// Applies `op` to `auction` at `now`: the events it produces, or the refusal.
fn apply(
    id: &AuctionId,
    auction: &mut Auction,
    op: &Op,
    now: DateTime<Utc>,
) -> Result<Vec<Pending>, AuctionError> {
    let lot_event = |kind: EventType, auction: &Auction, suffix: String| {
        let lot = auction.lot_view();
        Pending {
            kind,
            dedup: format!("auction:{id}:{}:{suffix}", lot["lot"]),
            payload: auction_room_payload(id, auction, lot),
            at: now,
        }
    };
    match op {
        Op::Setup(setup) => {
            auction.set_setup(setup.clone())?;
            Ok(vec![])
        }
        Op::Player(p, player) => {
            auction.put_player(p.clone(), player.clone())?;
            Ok(vec![])
        }
        Op::Open(p) => {
            auction.open_lot(p, now)?;
            Ok(vec![lot_event(
                EventType::AuctionLotOpened,
                auction,
                "open".into(),
            )])
        }
        Op::Bid(bidder, bid) => {
            let bids = auction.place_bid(bidder, bid, now)?.bids;
            let mut e = lot_event(EventType::AuctionBidPlaced, auction, format!("bid:{bids}"));
            e.payload["teamId"] = json!(bid.team_id);
            e.payload["amount"] = json!(bid.amount);
            Ok(vec![e])
        }
        Op::Close => {
            let r = auction.close_lot(now)?;
            Ok(vec![closed_event(id, auction, &r)])
        }
        Op::Settle => Ok(vec![]),
    }
}

async fn load(
    ports: &Ports,
    org: &OrganizationId,
    id: &AuctionId,
) -> Result<Option<(Doc, u64)>, ApiError> {
    match ports.auctions.auction_doc(org, id).await? {
        None => Ok(None),
        Some((json, revision)) => {
            let doc: Doc = serde_json::from_str(&json).map_err(|e| {
                ApiError::new(
                    ErrorKind::Internal,
                    "corrupt",
                    format!("the stored auction is unreadable: {e}"),
                )
            })?;
            Ok(Some((doc, revision)))
        }
    }
}

/// Puts an outbox in the log (idempotent on each event's key) and pushes what this
/// call appended.
async fn flush(
    ports: &Ports,
    org: &OrganizationId,
    outbox: &[Pending],
) -> Result<Vec<Event>, ApiError> {
    let mut events = Vec::with_capacity(outbox.len());
    for p in outbox {
        let appended = ports
            .log
            .append(
                org,
                NewEvent {
                    kind: p.kind,
                    payload: p.payload.clone(),
                    timestamp: p.at,
                    dedup_key: Some(p.dedup.clone()),
                },
            )
            .await?;
        if appended.created {
            super::push(ports, &appended.event).await;
        }
        events.push(appended.event);
    }
    Ok(events)
}

/// Applies one change, conditionally on the revision it was computed on; retried on a
/// lost race. A change refused after a timer's close still records that close.
pub async fn change(
    ports: &Ports,
    org: &OrganizationId,
    id: &AuctionId,
    op: Op,
    now: DateTime<Utc>,
) -> Result<Changed, Refused> {
    let lock = lock_of(org, id);
    let mut flushed = lock.lock().await;
    for _ in 0..ATTEMPTS {
        let loaded = load(ports, org, id).await?;
        let (mut auction, revision) = match (loaded, &op) {
            (Some((doc, revision)), _) => {
                if *flushed != revision && !doc.outbox.is_empty() {
                    flush(ports, org, &doc.outbox).await?;
                }
                *flushed = revision;
                (doc.auction, Some(revision))
            }
            (None, Op::Setup(setup)) => (
                Auction::new(setup.clone()).map_err(|e| api_error(&e))?,
                None,
            ),
            (None, _) => return Err(ApiError::not_found("auction").into()),
        };
        let mut outbox: Vec<Pending> = auction
            .settle(now)
            .map(|r| closed_event(id, &auction, &r))
            .into_iter()
            .collect();
        let refusal = match apply(id, &mut auction, &op, now) {
            Ok(events) => {
                outbox.extend(events);
                None
            }
            Err(e) => Some(api_error(&e)),
        };
        let unchanged = outbox.is_empty() && matches!(op, Op::Settle);
        if (refusal.is_some() && outbox.is_empty()) || unchanged {
            return match refusal {
                Some(error) => Err(Refused {
                    error,
                    auction: Some(auction),
                }),
                None => Ok(Changed {
                    auction,
                    revision: revision.unwrap_or(0),
                    events: vec![],
                }),
            };
        }
        let doc = serde_json::to_string(&Doc {
            auction: auction.clone(),
            outbox: outbox.clone(),
        })
        .map_err(|e| ApiError::new(ErrorKind::Internal, "corrupt", e.to_string()))?;
        if doc.len() > MAX_DOC_BYTES {
            return Err(ApiError::new(
                ErrorKind::TooLarge,
                "too_large",
                "the auction is too large to keep (its pool, results and setup); start another",
            )
            .into());
        }
        let Some(written) = ports
            .auctions
            .put_auction_doc(org, id, &doc, revision)
            .await?
        else {
            continue;
        };
        let events = flush(ports, org, &outbox).await?;
        *flushed = written;
        drop(flushed);
        if let Some(error) = refusal {
            return Err(Refused {
                error,
                auction: Some(auction),
            });
        }
        if matches!(op, Op::Open(_)) {
            start_timer(ports, org, id, &auction, now).await;
        }
        return Ok(Changed {
            auction,
            revision: written,
            events,
        });
    }
    Err(ApiError::new(
        ErrorKind::Unavailable,
        "unavailable",
        "the auction is changing too fast; retry",
    )
    .into())
}

/// What the lot timer's queue message carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timer {
    pub organization_id: OrganizationId,
    pub auction_id: AuctionId,
    pub lot: u32,
}

/// Queues the open lot's timer, delayed until it ends. Best-effort: an expired lot is
/// also closed by the next request that touches the auction.
async fn start_timer(
    ports: &Ports,
    org: &OrganizationId,
    id: &AuctionId,
    auction: &Auction,
    now: DateTime<Utc>,
) {
    let Some(lot) = &auction.lot else { return };
    let timer = Timer {
        organization_id: org.clone(),
        auction_id: id.clone(),
        lot: lot.number,
    };
    let body = serde_json::to_vec(&timer).expect("a timer serializes");
    let work = QueuedWork::new(WorkKind::AuctionTimer, now, None, &body);
    let delay = (lot.ends_at - now).to_std().unwrap_or_default();
    if let Err(e) = ports.queue.send_delayed(&work.to_bytes(), delay).await {
        tracing::warn!(error = %e, lot = lot.number, "cannot queue the lot's timer; the next request closes it");
    }
}

/// The worker's handling of a lot timer: closes the lot if its time has run out, or
/// waits again for a lot that bids extended.
pub async fn timer(ports: &Ports, timer: &Timer, now: DateTime<Utc>) -> Result<(), ApiError> {
    let org = &timer.organization_id;
    match change(ports, org, &timer.auction_id, Op::Settle, now).await {
        Ok(changed) => {
            if let Some(lot) = &changed.auction.lot
                && lot.number == timer.lot
            {
                start_timer(ports, org, &timer.auction_id, &changed.auction, now).await;
            }
            Ok(())
        }
        Err(Refused { error, .. }) if error.kind == ErrorKind::NotFound => {
            tracing::warn!(auction = %timer.auction_id, "timer of an auction that is gone");
            Ok(())
        }
        Err(r) => Err(r.error),
    }
}

/// The auction's full state for clients, with the id of the last event it reflects.
pub fn state(id: &AuctionId, auction: &Auction, last_event_id: &str) -> Value {
    let mut v = auction.view();
    v["auctionId"] = json!(id);
    v["lastEventId"] = json!(last_event_id);
    v
}

/// The open lot and the last result: what an ack or a refusal of a bid carries.
pub fn lot_state(id: &AuctionId, auction: &Auction) -> Value {
    json!({
        "auctionId": id,
        "lot": auction.lot_view(),
        "lots": auction.lots,
        "lastResult": auction.results.last(),
    })
}

fn http_error(id: &AuctionId, r: Refused) -> ApiError {
    match r.auction {
        Some(a) => r.error.with("state", lot_state(id, &a)),
        None => r.error,
    }
}

async fn answer(
    ports: &Ports,
    org: &OrganizationId,
    id: &AuctionId,
    c: Changed,
) -> Result<Value, ApiError> {
    let last = match c.events.last() {
        Some(e) => e.id,
        None => ports.log.bounds(org).await?.head,
    };
    let mut v = state(id, &c.auction, &last.to_string());
    v["revision"] = json!(c.revision);
    Ok(v)
}

/// `PUT /auctions/{auctionId}` (auctioneer, admin).
pub async fn put_auction(
    ports: &Ports,
    who: &Principal,
    id: AuctionId,
    setup: AuctionSetup,
) -> Result<Value, ApiError> {
    require(
        who,
        &[Role::Auctioneer, Role::Admin],
        "setting up an auction",
    )?;
    let c = change(ports, &who.org, &id, Op::Setup(setup), ports.clock.now())
        .await
        .map_err(|r| http_error(&id, r))?;
    answer(ports, &who.org, &id, c).await
}

/// `PUT /auctions/{auctionId}/players/{playerId}` (auctioneer, admin).
pub async fn put_player(
    ports: &Ports,
    who: &Principal,
    id: AuctionId,
    player: PlayerId,
    body: PoolPlayer,
) -> Result<Value, ApiError> {
    require(who, &[Role::Auctioneer, Role::Admin], "changing the pool")?;
    let c = change(
        ports,
        &who.org,
        &id,
        Op::Player(player, body),
        ports.clock.now(),
    )
    .await
    .map_err(|r| http_error(&id, r))?;
    answer(ports, &who.org, &id, c).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenLot {
    pub player_id: PlayerId,
}

/// `POST /auctions/{auctionId}/lots` (auctioneer).
pub async fn open_lot(
    ports: &Ports,
    who: &Principal,
    id: AuctionId,
    body: OpenLot,
) -> Result<Value, ApiError> {
    require(who, &[Role::Auctioneer], "opening a lot")?;
    let c = change(
        ports,
        &who.org,
        &id,
        Op::Open(body.player_id),
        ports.clock.now(),
    )
    .await
    .map_err(|r| http_error(&id, r))?;
    answer(ports, &who.org, &id, c).await
}

/// `POST /auctions/{auctionId}/lots/current/close` (auctioneer).
pub async fn close_lot(ports: &Ports, who: &Principal, id: AuctionId) -> Result<Value, ApiError> {
    require(who, &[Role::Auctioneer], "closing a lot")?;
    let c = change(ports, &who.org, &id, Op::Close, ports.clock.now())
        .await
        .map_err(|r| http_error(&id, r))?;
    answer(ports, &who.org, &id, c).await
}

/// `GET /auctions/{auctionId}` (any member). The `lastEventId` is read before the
/// state, so a client subscribing from it misses nothing.
pub async fn get(ports: &Ports, who: &Principal, id: AuctionId) -> Result<Value, ApiError> {
    let head = ports.log.bounds(&who.org).await?.head;
    let c = change(ports, &who.org, &id, Op::Settle, ports.clock.now())
        .await
        .map_err(|r| http_error(&id, r))?;
    let last = c.events.last().map_or(head, |e| e.id);
    let mut v = state(&id, &c.auction, &last.to_string());
    v["revision"] = json!(c.revision);
    Ok(v)
}

/// Who the store says a bidder is: the team they own, if they hold the role.
pub fn bidder(who: &Principal) -> Bidder {
    Bidder {
        user: who.user.clone(),
        owns: who
            .has_role(Role::TeamOwner)
            .then(|| who.team_id.clone())
            .flatten(),
    }
}

/// A bid placed over WebSocket: the ack's state or the refusal with the state.
pub async fn place_bid(
    ports: &Ports,
    who: &Principal,
    id: &AuctionId,
    team: TeamId,
    player: PlayerId,
    amount: u64,
) -> Result<Value, (ApiError, Option<Value>)> {
    let bid = BidRequest {
        player_id: player,
        team_id: team,
        amount,
    };
    match change(
        ports,
        &who.org,
        id,
        Op::Bid(bidder(who), bid),
        ports.clock.now(),
    )
    .await
    {
        Ok(c) => Ok(lot_state(id, &c.auction)),
        Err(r) => Err((r.error, r.auction.map(|a| lot_state(id, &a)))),
    }
}
