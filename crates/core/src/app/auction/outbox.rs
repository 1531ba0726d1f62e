//! The auction's document and its outbox. The document carries the events its last
//! change produced. Whoever writes it next, in any process, first makes sure those
//! events are in the log, so the log holds an auction's events in the order its document
//! changed even when the writer of a change died before appending. Within one process,
//! changes to one auction are also serialized, so its events are pushed in that order
//! too.

use super::timer::start_timer;
use crate::app::{ApiError, ErrorKind};
use crate::ports::Ports;
use chrono::{DateTime, Utc};
use pitchside_domain::auction::{
    Auction, AuctionError, AuctionSetup, BidRequest, Bidder, LotResult, PoolPlayer,
};
use pitchside_domain::event::{Event, EventType, NewEvent, millis_timestamp};
use pitchside_domain::ids::{AuctionId, OrganizationId, PlayerId};
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
        crate::metrics::appended(&appended);
        if appended.created {
            crate::app::push(ports, &appended.event).await;
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
