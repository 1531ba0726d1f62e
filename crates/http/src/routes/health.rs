//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: it can reach
//! what its work needs).

use super::{HttpError, ok};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use pitchside_core::app::health::unready_parts;
use pitchside_core::app::{ApiError, ErrorKind};

pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// 200 with what was checked, or 503 `not_ready` naming every part that failed (in
/// `failing`, and in the message).
pub async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, HttpError> {
    let failing = unready_parts(&state.ports).await;
    if failing.is_empty() {
        return Ok(ok(serde_json::json!({"store": "ok", "queue": "ok"})));
    }
    let names: Vec<&str> = failing.iter().map(|p| p.as_str()).collect();
    Err(HttpError(
        ApiError::new(
            ErrorKind::Unavailable,
            "not_ready",
            format!("cannot reach the {}", names.join(" and the ")),
        )
        .with("failing", names),
    ))
}
