//! Auction administration and state over HTTP, and chat history. Bids and chat
//! messages themselves travel over WebSocket.

use super::HttpError;
use super::auth::principal;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use pitchside_core::app::admin::{parse_body, parse_id, parse_limit};
use pitchside_core::app::{ApiError, auction};
use pitchside_domain::ids::{AuctionId, PlayerId};
use pitchside_domain::rooms::Room;
use serde::Deserialize;
use serde_json::json;

type Reply = Result<Json<serde_json::Value>, HttpError>;

pub async fn put(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let who = principal(&state, &headers, None).await?;
    let id = parse_id::<AuctionId>(&id)?;
    let done = auction::put_auction(&state.ports, &who, id, parse_body(&body)?).await?;
    Ok(super::ok(done))
}

pub async fn player(
    State(state): State<AppState>,
    Path((id, player)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let who = principal(&state, &headers, None).await?;
    let id = parse_id::<AuctionId>(&id)?;
    let player = parse_id::<PlayerId>(&player)?;
    let done = auction::put_player(&state.ports, &who, id, player, parse_body(&body)?).await?;
    Ok(super::ok(done))
}

pub async fn open(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let who = principal(&state, &headers, None).await?;
    let id = parse_id::<AuctionId>(&id)?;
    let done = auction::open_lot(&state.ports, &who, id, parse_body(&body)?).await?;
    Ok(super::ok(done))
}

pub async fn close(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let who = principal(&state, &headers, None).await?;
    let id = parse_id::<AuctionId>(&id)?;
    Ok(super::ok(auction::close_lot(&state.ports, &who, id).await?))
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let who = principal(&state, &headers, None).await?;
    let id = parse_id::<AuctionId>(&id)?;
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
    Path(room): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HistoryParams>,
) -> Reply {
    let who = principal(&state, &headers, None).await?;
    let room: Room = room
        .parse()
        .map_err(|e: pitchside_domain::rooms::InvalidRoom| ApiError::bad_request(e.to_string()))?;
    if !room.admits(who.team_id.as_ref()) {
        return Err(ApiError::not_found("room").into());
    }
    let limit = parse_limit(q.limit.as_deref())?.unwrap_or(50).clamp(1, 500);
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
