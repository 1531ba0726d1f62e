//! `POST /auth/ticket`: a single-use ticket for SSE and WebSocket, for a token.

use super::{HttpError, record_org};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use pitchside_core::app::ApiError;
use pitchside_core::app::authn::credential;

pub async fn ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, HttpError> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
    };
    // A ticket is exchanged for a token, never for another ticket.
    let cred = credential(header(AUTHORIZATION), None, header(COOKIE)).map_err(ApiError::from)?;
    let who = state.auth.authenticate(&cred).await?;
    record_org(&who.org);
    let (ticket, expires_in) = state.auth.issue_ticket(&who).await?;
    Ok(Json(
        serde_json::json!({"ticket": ticket, "expiresIn": expires_in}),
    ))
}
