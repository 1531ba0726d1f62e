//! `/ws`: the local stand-in for API Gateway's WebSocket API. The handshake requires a
//! valid token (or ticket) and membership; the organization comes from it and nothing
//! the client sends can change it.

use super::HttpError;
use crate::extract::principal;
use crate::sockets::Outgoing;
use crate::state::{AppState, Stopping, WsDelivery};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use pitchside_core::app::{self, ErrorKind, ws::RoomChange};
use pitchside_core::live::Frame;
use pitchside_core::metrics::{self, Pushed, Transport};
use pitchside_core::ports::{ConnectionId, ConnectionInfo};
use pitchside_domain::auth::Principal;
use pitchside_domain::revocation;
use pitchside_domain::throttle::TokenBucket;
use pitchside_domain::ws::{self, MAX_CLIENT_MESSAGE};
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc;
use tracing::Instrument;

#[derive(Deserialize)]
pub struct Params {
    ticket: Option<String>,
}

/// Close code for a connection cut off because it fell behind ("try again later").
const CLOSE_TOO_SLOW: u16 = 1013;

/// Each connection's read buffer: room for any action a client sends in one read.
const READ_BUFFER: usize = 1024;

/// The close of every connection when the process stops (1001, "going away"): the
/// client reconnects, to the next process, and catches up from its last id.
const CLOSE_STOPPING: CloseFrame = CloseFrame {
    code: axum::extract::ws::close_code::AWAY,
    reason: Utf8Bytes::from_static("the server is restarting: reconnect and catch up"),
};

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
            // Taken before the answer, so a stop from here on reaches the session.
            let stopping = state.shutdown.watch();
            // Small buffers: tungstenite's defaults (128 KiB each way) made an idle
            // connection cost ~115 KiB. Its read buffer is allocated and filled up
            // front, so its size is paid by every idle connection; client frames are
            // small (one that is not grows it), and every event is written at once.
            ws.max_message_size(MAX_CLIENT_MESSAGE)
                .read_buffer_size(READ_BUFFER)
                .write_buffer_size(0)
                .on_upgrade(move |socket| session(state, who, socket, stopping).instrument(span))
        }
    }
}

async fn session(state: AppState, who: Principal, socket: WebSocket, stopping: Stopping) {
    let _counted = metrics::Connection::open(Transport::Ws);
    let conn = ConnectionInfo {
        id: ConnectionId(hex::encode(uuid::Uuid::new_v4().into_bytes())),
        org: who.org.clone(),
        user: who.user.clone(),
        roles: who.roles.clone(),
    };
    tracing::Span::current().record("connection", conn.id.0.as_str());
    // Listen first, then register: the connection can receive before anyone finds it.
    let source = match state.ws_delivery {
        WsDelivery::Hub => Source::Hub(state.hub.subscribe(&who.org)),
        WsDelivery::Management => Source::Outbox(state.sockets.open(conn.id.clone())),
    };
    // What runs once (registering here, answering an action below) is boxed: a
    // session's future is as big as its biggest await, and 10,000 idle sessions would
    // each keep room for it.
    match Box::pin(app::ws::register(&state.ports, &conn, &who)).await {
        Err(e) if e.kind == ErrorKind::Unauthenticated => {
            // Revoked while connecting.
            tracing::info!("websocket of a revoked member; closing");
            Box::pin(close_revoked(socket)).await;
        }
        Ok(()) => {
            tracing::info!("websocket connected");
            let rooms = app::ws::initial_rooms(&who).into_iter().collect();
            let bucket = TokenBucket::new(
                f64::from(state.settings.ws_rate),
                f64::from(state.settings.ws_burst),
                state.ports.clock.now().timestamp_millis(),
            );
            let mut session = Session {
                state: &state,
                conn: &conn,
                name: who.name.as_deref(),
                rooms,
                bucket,
            };
            session.pump(socket, source, stopping).await;
        }
        Err(e) => tracing::warn!(error = %e, "cannot register the connection"),
    }
    state.sockets.close(&conn.id);
    if let Err(e) = state.ports.registry.remove(&conn.org, &conn.id).await {
        tracing::warn!(error = %e, "cannot remove the connection from the registry");
    }
    tracing::info!("websocket disconnected");
}

/// The revoked connection's notice, then its close (1008).
async fn close_revoked(mut socket: WebSocket) {
    let _ = socket
        .send(Message::Text(revocation::ws_notice().into()))
        .await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: revocation::WS_CLOSE_CODE,
            reason: Utf8Bytes::from_static(revocation::WS_CLOSE_REASON),
        })))
        .await;
}

/// Where a connection's events come from.
enum Source {
    /// The organization's in-process ring: every event, filtered here by room.
    Hub(broadcast::Receiver<Arc<Frame>>),
    /// What `@connections` posts to this connection (already chosen by room).
    Outbox(mpsc::Receiver<Outgoing>),
}

/// What the source has for the connection next.
enum Next {
    Text(Utf8Bytes),
    /// Close with this frame.
    Close(CloseFrame),
    /// The member's membership took something away: the notice, then close.
    Revoked,
    /// The source is gone.
    End,
}

impl Source {
    /// The next frame for `conn`, in `rooms`.
    async fn next(&mut self, conn: &ConnectionInfo, rooms: &HashSet<String>) -> Next {
        let too_slow = || {
            metrics::cut_off(Transport::Ws);
            Next::Close(CloseFrame {
                code: CLOSE_TOO_SLOW,
                reason: Utf8Bytes::from_static("too slow: reconnect and catch up"),
            })
        };
        match self {
            // Subscribed before registering, so a revocation here came after the
            // connection could be found.
            Source::Hub(rx) => loop {
                match rx.recv().await {
                    Ok(frame) if frame.revoked.as_ref() == Some(&conn.user) => {
                        return Next::Revoked;
                    }
                    Ok(frame) if frame.kind.reaches_clients() && rooms.contains(&frame.room) => {
                        match Utf8Bytes::try_from(frame.json.clone()) {
                            Ok(text) => {
                                metrics::pushed(Transport::Ws, Pushed::Delivered, 1);
                                return Next::Text(text);
                            }
                            Err(_) => continue,
                        }
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => return too_slow(),
                    Err(RecvError::Closed) => return Next::End,
                }
            },
            // The outbox is dropped when the connection fell behind.
            Source::Outbox(rx) => match rx.recv().await {
                Some(Outgoing::Text(text)) => Next::Text(text),
                Some(Outgoing::Close) => Next::Close(CloseFrame {
                    code: axum::extract::ws::close_code::NORMAL,
                    reason: Utf8Bytes::from_static(""),
                }),
                None => too_slow(),
            },
        }
    }
}

/// One connection's state besides its socket.
struct Session<'a> {
    state: &'a AppState,
    conn: &'a ConnectionInfo,
    name: Option<&'a str>,
    /// The rooms joined: what the in-process fan-out lets through.
    rooms: HashSet<String>,
    bucket: TokenBucket,
}

impl Session<'_> {
    /// Moves events out and answers client messages until either side ends.
    async fn pump(&mut self, mut socket: WebSocket, mut source: Source, mut stopping: Stopping) {
        loop {
            tokio::select! {
                () = stopping.told() => {
                    tracing::info!("websocket closed: the gateway is stopping");
                    let _ = socket.send(Message::Close(Some(CLOSE_STOPPING))).await;
                    return;
                }
                next = source.next(self.conn, &self.rooms) => match next {
                    Next::Text(text) => {
                        if socket.send(Message::Text(text)).await.is_err() {
                            return;
                        }
                    }
                    Next::End => return,
                    Next::Revoked => {
                        tracing::info!("websocket of a revoked member; closing");
                        Box::pin(close_revoked(socket)).await;
                        return;
                    }
                    Next::Close(close) => {
                        tracing::info!(code = close.code, "websocket closed by the server");
                        let _ = socket.send(Message::Close(Some(close))).await;
                        return;
                    }
                },
                m = socket.recv() => {
                    let reply = match m {
                        Some(Ok(Message::Text(text))) => Box::pin(self.answer(&text)).await,
                        Some(Ok(Message::Binary(_))) => ws::Refusal::new(
                            None,
                            "bad_request",
                            "messages are JSON text frames",
                        )
                        .to_json(),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                    };
                    if socket.send(Message::Text(reply.into())).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn answer(&mut self, text: &str) -> String {
        if !self
            .bucket
            .take(self.state.ports.clock.now().timestamp_millis())
        {
            return app::ws::rate_limited();
        }
        let reply = app::ws::handle(&self.state.ports, self.conn, self.name, text).await;
        match reply.rooms {
            Some(RoomChange::Joined(room)) => {
                self.rooms.insert(room);
            }
            Some(RoomChange::Left(room)) => {
                self.rooms.remove(&room);
            }
            None => {}
        }
        reply.text
    }
}
