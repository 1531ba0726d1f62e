//! Matches and live scoring: `PUT /matches/{matchId}`, `POST /matches/{matchId}/balls`,
//! `DELETE /matches/{matchId}/balls/last`, `GET /matches/{matchId}/score`. The scorecard
//! is answered as the contract shows it, not inside `{"success", "data"}`.

use super::HttpError;
use crate::extract::{Ids, JsonBody, Who};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use pitchside_core::app::scoring;
use pitchside_domain::ids::MatchId;
use pitchside_domain::scoring::{Delivery, MatchSetup};

type Reply = Result<Json<serde_json::Value>, HttpError>;

pub async fn put(
    State(state): State<AppState>,
    Who(who): Who,
    Ids(id): Ids<MatchId>,
    JsonBody(setup): JsonBody<MatchSetup>,
) -> Reply {
    let done = scoring::put_match(&state.ports, &who, id, setup).await?;
    Ok(super::ok(done))
}

pub async fn ball(
    State(state): State<AppState>,
    Who(who): Who,
    Ids(id): Ids<MatchId>,
    JsonBody(ball): JsonBody<Delivery>,
) -> Reply {
    Ok(Json(
        scoring::post_ball(&state.ports, &state.scores, &who, id, ball).await?,
    ))
}

pub async fn undo(State(state): State<AppState>, Who(who): Who, Ids(id): Ids<MatchId>) -> Reply {
    Ok(Json(
        scoring::undo(&state.ports, &state.scores, &who, id).await?,
    ))
}

pub async fn score(State(state): State<AppState>, Who(who): Who, Ids(id): Ids<MatchId>) -> Reply {
    Ok(Json(
        scoring::score(&state.ports, &state.scores, &who, id).await?,
    ))
}
