//! Auctions: the auctioneer's HTTP administration, bids over WebSocket, and the lot
//! timer. Every change is one conditional write of the auction's document
//! (`outbox::change`); the lot's timer is a delayed queue message (`timer`).

mod outbox;
mod timer;

pub use outbox::{Changed, Op, Refused, change};
pub use timer::{Timer, timer};

use crate::app::{ApiError, require};
use crate::ports::Ports;
use pitchside_domain::auction::{Auction, AuctionSetup, BidRequest, Bidder, PoolPlayer};
use pitchside_domain::auth::{Principal, Role};
use pitchside_domain::ids::{AuctionId, OrganizationId, PlayerId, TeamId};
use serde::Deserialize;
use serde_json::{Value, json};

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
        Ok(c) => {
            crate::metrics::bid(Ok(()));
            Ok(lot_state(id, &c.auction))
        }
        Err(r) => {
            crate::metrics::bid(Err(r.error.code));
            Err((r.error, r.auction.map(|a| lot_state(id, &a))))
        }
    }
}
