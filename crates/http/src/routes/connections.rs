//! The local `@connections` management endpoint, answering as API Gateway's does:
//! `POST /@connections/{id}` sends the body to that connection, `GET` describes it,
//! `DELETE` closes it; an unknown connection is 410 `GoneException`.

use crate::sockets::Posted;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::ws::Utf8Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pitchside_core::ports::ConnectionId;
use std::net::SocketAddr;

/// Only this machine may use the management endpoint: API Gateway's requires IAM
/// credentials, and the local one has none to check. A layer on the whole route.
pub async fn loopback_only(peer: ConnectInfo<SocketAddr>, req: Request, next: Next) -> Response {
    if peer.0.ip().is_loopback() {
        next.run(req).await
    } else {
        (
            StatusCode::FORBIDDEN,
            [("x-amzn-errortype", "ForbiddenException")],
            r#"{"message":"the management endpoint answers loopback callers only"}"#,
        )
            .into_response()
    }
}

fn gone() -> Response {
    (
        StatusCode::GONE,
        [
            ("x-amzn-errortype", "GoneException"),
            ("content-type", "application/json"),
        ],
        r#"{"message":"the connection is gone"}"#,
    )
        .into_response()
}

pub async fn post(State(state): State<AppState>, Path(id): Path<String>, body: Bytes) -> Response {
    let Ok(text) = Utf8Bytes::try_from(body) else {
        return (
            StatusCode::BAD_REQUEST,
            [("x-amzn-errortype", "BadRequestException")],
            r#"{"message":"data must be UTF-8 text"}"#,
        )
            .into_response();
    };
    match state.sockets.post(&ConnectionId(id), text) {
        Posted::Sent => StatusCode::OK.into_response(),
        Posted::Gone => gone(),
    }
}

pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    if state.sockets.contains(&ConnectionId(id)) {
        axum::Json(serde_json::json!({})).into_response()
    } else {
        gone()
    }
}

pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    if state.sockets.disconnect(&ConnectionId(id)) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        gone()
    }
}
