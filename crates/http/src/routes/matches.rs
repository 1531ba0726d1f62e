//! Matches and live scoring: `PUT /matches/{matchId}`, `POST /matches/{matchId}/balls`,
//! `DELETE /matches/{matchId}/balls/last`, `GET /matches/{matchId}/score`. The scorecard
//! is answered as the contract shows it, not inside `{"success", "data"}`.

use super::HttpError;
use super::auth::principal;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use pitchside_core::app::admin::{parse_body, parse_id};
use pitchside_core::app::scoring;
use pitchside_domain::ids::MatchId;

type Reply = Result<Json<serde_json::Value>, HttpError>;

pub async fn put(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let who = principal(&state, &headers, None).await?;
    let id = parse_id::<MatchId>(&id)?;
    let done = scoring::put_match(&state.ports, &who, id, parse_body(&body)?).await?;
    Ok(super::ok(done))
}

pub async fn ball(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let who = principal(&state, &headers, None).await?;
    let id = parse_id::<MatchId>(&id)?;
    let card =
        scoring::post_ball(&state.ports, &state.scores, &who, id, parse_body(&body)?).await?;
    Ok(Json(card))
}

pub async fn undo(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let who = principal(&state, &headers, None).await?;
    let id = parse_id::<MatchId>(&id)?;
    Ok(Json(
        scoring::undo(&state.ports, &state.scores, &who, id).await?,
    ))
}

pub async fn score(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let who = principal(&state, &headers, None).await?;
    let id = parse_id::<MatchId>(&id)?;
    Ok(Json(
        scoring::score(&state.ports, &state.scores, &who, id).await?,
    ))
}
