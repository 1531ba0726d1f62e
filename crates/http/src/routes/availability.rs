//! Availability: `POST /matches/{matchId}/availability-requests`,
//! `PUT /matches/{matchId}/availability/{playerId}`, `GET /matches/{matchId}/availability`.

use super::HttpError;
use super::auth::principal;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use pitchside_core::app::admin::{parse_body, parse_id};
use pitchside_core::app::availability;
use pitchside_domain::ids::{MatchId, PlayerId};

type Reply = Result<Json<serde_json::Value>, HttpError>;

pub async fn request(
    State(state): State<AppState>,
    Path(match_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let who = principal(&state, &headers, None).await?;
    let match_id = parse_id::<MatchId>(&match_id)?;
    let done = availability::request(&state.ports, &who, match_id, parse_body(&body)?).await?;
    Ok(super::ok(done))
}

pub async fn answer(
    State(state): State<AppState>,
    Path((match_id, player)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let who = principal(&state, &headers, None).await?;
    let match_id = parse_id::<MatchId>(&match_id)?;
    let player = parse_id::<PlayerId>(&player)?;
    let done =
        availability::answer(&state.ports, &who, match_id, player, parse_body(&body)?).await?;
    Ok(super::ok(done))
}

pub async fn sheet(
    State(state): State<AppState>,
    Path(match_id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let who = principal(&state, &headers, None).await?;
    let match_id = parse_id::<MatchId>(&match_id)?;
    Ok(super::ok(
        availability::sheet(&state.ports, &who, match_id).await?,
    ))
}
