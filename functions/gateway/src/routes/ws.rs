//! `/ws`: the local stand-in for API Gateway's WebSocket API. The handshake requires a
//! valid token (or ticket) and membership; the organization comes from it and nothing
//! the client sends can change it.

use super::HttpError;
use super::auth::principal;
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use pitchside::domain::auth::Principal;
use pitchside::domain::ws::{self, Action, MAX_CLIENT_MESSAGE};
use pitchside::ports::{ConnectionId, ConnectionInfo};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tracing::Instrument;

#[derive(Deserialize)]
pub struct Params {
    ticket: Option<String>,
}

/// Close code for a connection cut off because it fell behind ("try again later").
const CLOSE_TOO_SLOW: u16 = 1013;

pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    match principal(&state, &headers, q.ticket.as_deref()).await {
        Err(e) => HttpError(e).into_response(),
        Ok(who) => {
            let span =
                tracing::info_span!("ws", org = %who.org, connection = tracing::field::Empty);
            ws.max_message_size(MAX_CLIENT_MESSAGE)
                .on_upgrade(move |socket| session(state, who, socket).instrument(span))
        }
    }
}

async fn session(state: AppState, who: Principal, mut socket: WebSocket) {
    let conn = ConnectionInfo {
        id: ConnectionId(hex::encode(rand_bytes())),
        org: who.org.clone(),
        user: who.user.clone(),
    };
    tracing::Span::current().record("connection", conn.id.0.as_str());
    // Subscribe first, then register: the connection is live before anyone can see it.
    let mut rx = state.hub.subscribe(&who.org);
    if let Err(e) = state.ports.registry.register(&conn).await {
        tracing::warn!(error = %e, "cannot register the connection");
        return;
    }
    tracing::info!("websocket connected");
    loop {
        tokio::select! {
            r = rx.recv() => match r {
                Ok(frame) => {
                    let Ok(text) = Utf8Bytes::try_from(frame.json.clone()) else { continue };
                    if socket.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::info!(missed, "websocket subscriber fell behind; closing");
                    let _ = socket
                        .send(Message::Close(Some(CloseFrame {
                            code: CLOSE_TOO_SLOW,
                            reason: Utf8Bytes::from_static("too slow: reconnect and catch up"),
                        })))
                        .await;
                    break;
                }
                Err(RecvError::Closed) => break,
            },
            m = socket.recv() => match m {
                Some(Ok(Message::Text(text))) => {
                    let reply = match ws::parse(&text) {
                        Ok(Action::Ping { request_id }) => ws::pong(request_id.as_deref()),
                        Err(refusal) => refusal.to_json(),
                    };
                    if socket.send(Message::Text(reply.into())).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    let refusal = ws::Refusal {
                        request_id: None,
                        code: "bad_request",
                        message: "messages are JSON text frames".into(),
                    };
                    if socket.send(Message::Text(refusal.to_json().into())).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            },
        }
    }
    if let Err(e) = state.ports.registry.remove(&conn.org, &conn.id).await {
        tracing::warn!(error = %e, "cannot remove the connection from the registry");
    }
    tracing::info!("websocket disconnected");
}

fn rand_bytes() -> [u8; 16] {
    uuid::Uuid::new_v4().into_bytes()
}
