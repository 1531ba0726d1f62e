//! The local gateway's routes: what API Gateway (HTTP and WebSocket) and the Function
//! URL do on AWS, over the same handlers.

mod admin;
mod auctions;
mod auth;
mod availability;
mod client;
mod connections;
mod events;
mod health;
mod matches;
mod sse;
mod webhook;
mod ws;

pub use crate::error::HttpError;
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::http::{HeaderName, Request};
use axum::routing::{delete, get, post, put};
use pitchside_core::app::ApiError;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every route: the local gateway.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// Every route and the process's own (the gateway's `/metrics`).
pub fn router_with(state: AppState, own: Router<AppState>) -> Router {
    let routes = Router::new()
        .merge(own)
        .route("/readyz", get(health::readyz))
        .merge(webhook_routes())
        .merge(api_routes())
        .merge(sse_routes())
        .route("/ws", get(ws::upgrade))
        .route("/client/", get(client::page))
        .route(
            "/@connections/{id}",
            post(connections::post)
                .get(connections::get)
                .delete(connections::delete)
                .route_layer(axum::middleware::from_fn(connections::loopback_only)),
        );
    finish(routes, state)
}

/// The `webhook` function's routes.
pub fn webhook_router(state: AppState) -> Router {
    finish(webhook_routes(), state)
}

/// The `api` function's routes.
pub fn api_router(state: AppState) -> Router {
    finish(api_routes(), state)
}

/// The `sse` function's route.
pub fn sse_router(state: AppState) -> Router {
    finish(sse_routes(), state)
}

fn webhook_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/whatsapp/webhook",
            get(webhook::verify).post(webhook::receive),
        )
        .route("/payments/webhook", post(webhook::payment))
}

fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/client/pitchside.js", get(client::script))
        .route("/auth/ticket", post(auth::ticket))
        .route("/events/catch-up", get(events::catch_up))
        .route("/admin/organizations/{org}", put(admin::organization))
        .route(
            "/admin/organizations/{org}/whatsapp/{number}",
            put(admin::whatsapp_number),
        )
        .route(
            "/admin/organizations/{org}/members/{user}",
            put(admin::member),
        )
        .route(
            "/admin/organizations/{org}/players/{player}",
            put(admin::player),
        )
        .route("/admin/quarantine", get(admin::quarantine))
        .route("/admin/quarantine/{id}/replay", post(admin::replay))
        .route(
            "/auctions/{auction_id}",
            put(auctions::put).get(auctions::get),
        )
        .route(
            "/auctions/{auction_id}/players/{player}",
            put(auctions::player),
        )
        .route("/auctions/{auction_id}/lots", post(auctions::open))
        .route(
            "/auctions/{auction_id}/lots/current/close",
            post(auctions::close),
        )
        .route("/chat/{room}/messages", get(auctions::history))
        .route("/matches/{match_id}", put(matches::put))
        .route("/matches/{match_id}/balls", post(matches::ball))
        .route("/matches/{match_id}/balls/last", delete(matches::undo))
        .route("/matches/{match_id}/score", get(matches::score))
        .route(
            "/matches/{match_id}/availability-requests",
            post(availability::request),
        )
        .route("/matches/{match_id}/availability", get(availability::sheet))
        .route(
            "/matches/{match_id}/availability/{player}",
            put(availability::answer),
        )
}

fn sse_routes() -> Router<AppState> {
    Router::new().route("/sse/events", get(sse::events))
}

/// The fallback, request ids and the request span, on any set of routes.
fn finish(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(|| async { HttpError(ApiError::not_found("route")) })
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                        let request_id = req
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        // The path only: query strings may carry tickets.
                        tracing::info_span!(
                            "request",
                            request_id,
                            method = %req.method(),
                            path = req.uri().path(),
                            org = tracing::field::Empty,
                        )
                    }),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
        .with_state(state)
}

/// The header that carries the request id (set from the Lambda request id on AWS).
pub const REQUEST_ID_HEADER: HeaderName = REQUEST_ID;

/// Puts the organization on the request's log lines.
pub fn record_org(org: &pitchside_domain::ids::OrganizationId) {
    tracing::Span::current().record("org", org.as_str());
}

/// `{"success": true, "data": …}`.
pub fn ok<T: serde::Serialize>(data: T) -> Json<serde_json::Value> {
    Json(serde_json::json!({"success": true, "data": data}))
}
