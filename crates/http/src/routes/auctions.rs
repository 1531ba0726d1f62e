//! Auction administration and state over HTTP, and chat history. Bids and chat
//! messages themselves travel over WebSocket.

use super::HttpError;
use crate::extract::{Ids, JsonBody, Who};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use pitchside_core::app::ApiError;
use pitchside_core::app::admin::parse_limit;
use pitchside_core::app::auction::{self, OpenLot};
use pitchside_domain::auction::{AuctionSetup, PoolPlayer};
use pitchside_domain::ids::{AuctionId, PlayerId};
use pitchside_domain::limits::CHAT_PAGE;
use pitchside_domain::rooms::Room;
use serde::Deserialize;
use serde_json::json;

type Reply = Result<Json<serde_json::Value>, HttpError>;

pub async fn put(
    State(state): State<AppState>,
    Who(who): Who,
    Ids(id): Ids<AuctionId>,
    JsonBody(setup): JsonBody<AuctionSetup>,
) -> Reply {
    Ok(super::ok(
        auction::put_auction(&state.ports, &who, id, setup).await?,
    ))
}

pub async fn player(
    State(state): State<AppState>,
    Who(who): Who,
    Ids((id, player)): Ids<(AuctionId, PlayerId)>,
    JsonBody(body): JsonBody<PoolPlayer>,
) -> Reply {
    Ok(super::ok(
        auction::put_player(&state.ports, &who, id, player, body).await?,
    ))
}

pub async fn open(
    State(state): State<AppState>,
    Who(who): Who,
    Ids(id): Ids<AuctionId>,
    JsonBody(body): JsonBody<OpenLot>,
) -> Reply {
    Ok(super::ok(
        auction::open_lot(&state.ports, &who, id, body).await?,
    ))
}

pub async fn close(State(state): State<AppState>, Who(who): Who, Ids(id): Ids<AuctionId>) -> Reply {
    Ok(super::ok(auction::close_lot(&state.ports, &who, id).await?))
}

pub async fn get(State(state): State<AppState>, Who(who): Who, Ids(id): Ids<AuctionId>) -> Reply {
    Ok(super::ok(auction::get(&state.ports, &who, id).await?))
}

#[derive(Deserialize)]
pub struct HistoryParams {
    limit: Option<String>,
}

/// `GET /chat/{room}/messages`: a room's latest messages, oldest first (a team's room
/// to its members only).
pub async fn history(
    State(state): State<AppState>,
    Who(who): Who,
    Ids(room): Ids<String>,
    Query(q): Query<HistoryParams>,
) -> Reply {
    let room: Room = room
        .parse()
        .map_err(|e: pitchside_domain::rooms::InvalidRoom| ApiError::bad_request(e.to_string()))?;
    if !room.admits(who.team_id.as_ref()) {
        return Err(ApiError::not_found("room").into());
    }
    let limit = CHAT_PAGE.clamp(parse_limit(q.limit.as_deref())?);
    let messages = state
        .ports
        .chat
        .chat_history(&who.org, &room.to_string(), limit)
        .await
        .map_err(ApiError::from)?;
    Ok(super::ok(
        json!({"room": room.to_string(), "messages": messages}),
    ))
}
