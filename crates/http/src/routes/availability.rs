//! Availability: `POST /matches/{matchId}/availability-requests`,
//! `PUT /matches/{matchId}/availability/{playerId}`, `GET /matches/{matchId}/availability`.

use super::HttpError;
use crate::extract::{Ids, JsonBody, Who};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use pitchside_core::app::availability::{self, AnswerBody, RequestBody};
use pitchside_domain::ids::{MatchId, PlayerId};

type Reply = Result<Json<serde_json::Value>, HttpError>;

pub async fn request(
    State(state): State<AppState>,
    Who(who): Who,
    Ids(match_id): Ids<MatchId>,
    JsonBody(body): JsonBody<RequestBody>,
) -> Reply {
    let done = availability::request(&state.ports, &who, match_id, body).await?;
    Ok(super::ok(done))
}

pub async fn answer(
    State(state): State<AppState>,
    Who(who): Who,
    Ids((match_id, player)): Ids<(MatchId, PlayerId)>,
    JsonBody(body): JsonBody<AnswerBody>,
) -> Reply {
    let done = availability::answer(&state.ports, &who, match_id, player, body).await?;
    Ok(super::ok(done))
}

pub async fn sheet(
    State(state): State<AppState>,
    Who(who): Who,
    Ids(match_id): Ids<MatchId>,
) -> Reply {
    Ok(super::ok(
        availability::sheet(&state.ports, &who, match_id).await?,
    ))
}
