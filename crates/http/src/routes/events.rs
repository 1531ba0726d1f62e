//! `GET /events/catch-up`.

use super::HttpError;
use crate::extract::principal;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use pitchside_core::app::catchup::{CatchUp, catch_up as read, parse_from};
use pitchside_domain::limits::CATCH_UP_PAGE;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    after: Option<String>,
    since: Option<String>,
    limit: Option<String>,
    ticket: Option<String>,
}

pub async fn catch_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Json<CatchUp>, HttpError> {
    let who = principal(&state, &headers, q.ticket.as_deref()).await?;
    let from = parse_from(q.after.as_deref(), q.since.as_deref())?;
    let limit = pitchside_core::app::admin::parse_limit(q.limit.as_deref())?;
    Ok(Json(
        read(
            state.ports.log.as_ref(),
            &who.org,
            who.team_id.as_ref(),
            from,
            CATCH_UP_PAGE.clamp(limit),
        )
        .await?,
    ))
}
