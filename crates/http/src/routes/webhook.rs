//! `GET` and `POST /whatsapp/webhook`.

use super::HttpError;
use crate::state::AppState;
use axum::body::{Body, to_bytes};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use pitchside_core::app::webhook::{
    MAX_BODY_BYTES, MAX_PAYMENT_BODY_BYTES, accept, accept_payment, verify_handshake,
};
use pitchside_core::app::{ApiError, ErrorKind};
use pitchside_core::config::SecretName;
use pitchside_core::secrets::Keys;
use std::collections::HashMap;

pub async fn verify(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<String, HttpError> {
    let token = Keys::current(
        &state.keys.whatsapp_verify_token,
        SecretName::WhatsAppVerifyToken,
    )
    .await?;
    Ok(verify_handshake(
        q.get("hub.mode").map(String::as_str),
        q.get("hub.verify_token").map(String::as_str),
        q.get("hub.challenge").map(String::as_str),
        token.expose(),
    )?)
}

pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<serde_json::Value>, HttpError> {
    let body = read_body(body, MAX_BODY_BYTES).await?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    let secret = Keys::current(
        &state.keys.whatsapp_app_secret,
        SecretName::WhatsAppAppSecret,
    )
    .await?;
    let id = accept(
        &state.ports,
        secret.expose().as_bytes(),
        signature,
        &body,
        headers.get("x-request-id").and_then(|v| v.to_str().ok()),
    )
    .await?;
    tracing::info!(queue_message_id = %id, bytes = body.len(), "webhook queued");
    Ok(axum::Json(serde_json::json!({"success": true})))
}

/// The raw body, up to `limit` bytes (413 beyond).
async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes, HttpError> {
    to_bytes(body, limit).await.map_err(|_| {
        HttpError(ApiError::new(
            ErrorKind::TooLarge,
            "too_large",
            format!("the body is larger than {limit} bytes"),
        ))
    })
}

/// `POST /payments/webhook`: Stripe's events.
pub async fn payment(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<serde_json::Value>, HttpError> {
    let body = read_body(body, MAX_PAYMENT_BODY_BYTES).await?;
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
    };
    let secret = match &state.keys.stripe_webhook_secret {
        Some(live) => Some(live.current().await),
        None => None,
    };
    let id = accept_payment(
        &state.ports,
        secret.as_ref().map(|s| s.expose()),
        header("stripe-signature"),
        &body,
        header("x-request-id"),
    )
    .await?;
    tracing::info!(queue_message_id = %id, bytes = body.len(), "payment webhook queued");
    Ok(axum::Json(serde_json::json!({"received": true})))
}
