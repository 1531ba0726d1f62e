//! The WebSocket handlers shared by the local gateway and the `ws` Lambda: the
//! connection's registration, and the answer to each client message. The organization
//! of a message is the connection's (from the registry), never the message's; who the
//! sender is (roles, team) is read from the store for each message that needs it, so a
//! revoked membership stops acting at once.

use super::ApiError;
use super::ErrorKind;
use super::auction;
use super::authn::{Authenticator, Credential};
use crate::ports::{ConnectionId, ConnectionInfo, ConnectionRegistry, ORG_ROOM};
use pitchside_domain::auth::{self, Principal};
use pitchside_domain::chat::{self, ChatError, ChatMessage};
use pitchside_domain::event::{EventType, NewEvent};
use pitchside_domain::ids::AuctionId;
use pitchside_domain::rooms::Room;
use pitchside_domain::ws::{self, Action, Refusal};
use serde_json::json;
use sha2::{Digest, Sha256};

/// `$connect`: authenticates and registers the connection, in its team's room too.
pub async fn connect(
    auth: &Authenticator,
    ports: &super::Ports,
    id: ConnectionId,
    cred: &Credential,
) -> Result<(Principal, ConnectionInfo), ApiError> {
    let who = auth.authenticate(cred).await?;
    let conn = ConnectionInfo {
        id,
        org: who.org.clone(),
        user: who.user.clone(),
        roles: who.roles.clone(),
    };
    register(ports, &conn, &who).await?;
    crate::metrics::connection_opened(crate::metrics::Transport::WsManagement);
    Ok((who, conn))
}

/// Registers the connection in its organization, its user's room (where a revocation
/// finds it) and its team's room; then reads the membership again, so that a change
/// written before the connection could be found (a revocation that did not find it)
/// still refuses it: the client reconnects with what the membership grants now.
pub async fn register(
    ports: &super::Ports,
    conn: &ConnectionInfo,
    who: &Principal,
) -> Result<(), ApiError> {
    let registry = ports.registry.as_ref();
    registry.register(conn).await?;
    let mut rooms = vec![Room::User(conn.user.clone())];
    rooms.extend(who.team_id.clone().map(Room::Team));
    for room in rooms {
        registry
            .join(&conn.org, &conn.id, &room.to_string())
            .await?;
    }
    let now = match sender(ports, conn).await {
        Ok(now) => Some(now),
        Err(e) if e.kind == ErrorKind::Unauthenticated => None,
        Err(e) => {
            // The store could not say: keep no connection nobody checked.
            registry.remove(&conn.org, &conn.id).await?;
            return Err(e);
        }
    };
    let unchanged = now.is_some_and(|now| now.roles == who.roles && now.team_id == who.team_id);
    if !unchanged {
        registry.remove(&conn.org, &conn.id).await?;
        return Err(ApiError::new(
            ErrorKind::Unauthenticated,
            "unauthorized",
            "the membership changed while connecting: connect again",
        ));
    }
    Ok(())
}

/// The refusal of a message over the connection's rate.
pub fn rate_limited() -> String {
    Refusal::new(
        None,
        "rate_limited",
        "too many messages: slow down (the limit is per connection)",
    )
    .to_json()
}

/// The rooms a connection starts in.
pub fn initial_rooms(who: &Principal) -> Vec<String> {
    let mut rooms = vec![ORG_ROOM.to_string()];
    if let Some(team) = &who.team_id {
        rooms.push(Room::Team(team.clone()).to_string());
    }
    rooms
}

/// `$disconnect`: forgets the connection (best-effort on AWS; rows also expire).
pub async fn disconnect(
    registry: &dyn ConnectionRegistry,
    id: &ConnectionId,
) -> Result<(), ApiError> {
    if let Some(conn) = registry.lookup(id).await? {
        registry.remove(&conn.org, id).await?;
    }
    Ok(())
}

/// What a message did to the connection's rooms: the local gateway mirrors it to filter
/// its in-process fan-out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomChange {
    Joined(String),
    Left(String),
}

/// The answer to one client message.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub text: String,
    pub rooms: Option<RoomChange>,
}

impl Reply {
    fn text(text: String) -> Reply {
        Reply { text, rooms: None }
    }
}

fn refusal(request_id: &Option<String>, e: &ApiError) -> Reply {
    Reply::text(Refusal::new(request_id.clone(), e.code, e.message.clone()).to_json())
}

/// Answers a client message; `name` is the sender's display name when known. The
/// answer always fits in one WebSocket message.
pub async fn handle(
    ports: &super::Ports,
    conn: &ConnectionInfo,
    name: Option<&str>,
    text: &str,
) -> Reply {
    let mut reply = answer(ports, conn, name, text).await;
    reply.text = ws::fit(reply.text);
    reply
}

async fn answer(
    ports: &super::Ports,
    conn: &ConnectionInfo,
    name: Option<&str>,
    text: &str,
) -> Reply {
    let action = match ws::parse(text) {
        Ok(a) => a,
        Err(r) => return Reply::text(r.to_json()),
    };
    if let Action::Ping { request_id } = &action {
        return Reply::text(ws::pong(request_id.as_deref()));
    }
    let who = match sender(ports, conn).await {
        Ok(who) => who,
        Err(e) => return refusal(&action.request_id().map(str::to_string), &e),
    };
    match action {
        Action::Ping { .. } => unreachable!("answered above"),
        Action::JoinAuction {
            auction_id,
            request_id,
        } => match join_auction(ports, conn, &who, &auction_id).await {
            Ok((state, room)) => Reply {
                text: ws::ack(request_id.as_deref(), json!({"state": state})),
                rooms: Some(RoomChange::Joined(room)),
            },
            Err(e) => refusal(&request_id, &e),
        },
        Action::LeaveAuction {
            auction_id,
            request_id,
        } => {
            let room = Room::Auction(auction_id).to_string();
            leave(ports, conn, room, request_id).await
        }
        Action::PlaceBid {
            auction_id,
            player_id,
            team_id,
            amount,
            request_id,
        } => match auction::place_bid(ports, &who, &auction_id, team_id, player_id, amount).await {
            Ok(state) => Reply::text(ws::ack(request_id.as_deref(), json!({"state": state}))),
            Err((e, state)) => Reply::text(
                Refusal {
                    request_id,
                    code: e.code,
                    message: e.message,
                    state,
                }
                .to_json(),
            ),
        },
        Action::Chat {
            room,
            text,
            request_id,
        } => match send_chat(ports, &who, name, &room, &text, request_id.as_deref()).await {
            Ok(fields) => Reply::text(ws::ack(request_id.as_deref(), fields)),
            Err(e) => refusal(&request_id, &e),
        },
        Action::JoinRoom { room, request_id } => {
            if !room.admits(who.team_id.as_ref()) {
                return refusal(
                    &request_id,
                    &ApiError::new(
                        ErrorKind::Forbidden,
                        "unauthorized",
                        "only the team's members may join its room",
                    ),
                );
            }
            let name = room.to_string();
            match ports.registry.join(&conn.org, &conn.id, &name).await {
                Ok(()) => Reply {
                    text: ws::ack(request_id.as_deref(), json!({"room": name})),
                    rooms: Some(RoomChange::Joined(name)),
                },
                Err(e) => refusal(&request_id, &e.into()),
            }
        }
        Action::LeaveRoom { room, request_id } => {
            if room == Room::Org {
                return refusal(
                    &request_id,
                    &ApiError::bad_request("every connection stays in the `org` room"),
                );
            }
            leave(ports, conn, room.to_string(), request_id).await
        }
    }
}

/// Who sends: the connection's roles as the store's membership still grants them.
async fn sender(ports: &super::Ports, conn: &ConnectionInfo) -> Result<Principal, ApiError> {
    let membership = ports.directory.membership(&conn.org, &conn.user).await?;
    match auth::grant(&conn.roles, membership.as_ref()) {
        Ok((roles, team_id)) => Ok(Principal {
            org: conn.org.clone(),
            user: conn.user.clone(),
            roles,
            team_id,
            name: None,
        }),
        Err(_) => Err(ApiError::new(
            ErrorKind::Unauthenticated,
            "unauthorized",
            "the membership of this connection has ended",
        )),
    }
}

async fn join_auction(
    ports: &super::Ports,
    conn: &ConnectionInfo,
    who: &Principal,
    id: &AuctionId,
) -> Result<(serde_json::Value, String), ApiError> {
    let state = auction::get(ports, who, id.clone()).await?;
    let room = Room::Auction(id.clone()).to_string();
    ports.registry.join(&conn.org, &conn.id, &room).await?;
    Ok((state, room))
}

async fn leave(
    ports: &super::Ports,
    conn: &ConnectionInfo,
    room: String,
    request_id: Option<String>,
) -> Reply {
    match ports.registry.leave(&conn.org, &conn.id, &room).await {
        Ok(()) => Reply {
            text: ws::ack(request_id.as_deref(), json!({"room": room})),
            rooms: Some(RoomChange::Left(room)),
        },
        Err(e) => refusal(&request_id, &e.into()),
    }
}

/// Records a chat message once and sends `chat.message.sent` to its room. A message
/// with a `requestId` is identified by it, so a client retrying does not post twice.
async fn send_chat(
    ports: &super::Ports,
    who: &Principal,
    name: Option<&str>,
    room: &Room,
    text: &str,
    request_id: Option<&str>,
) -> Result<serde_json::Value, ApiError> {
    let text = chat::check(room, who.team_id.as_ref(), text).map_err(|e| match e {
        ChatError::NotInTeam(_) => {
            ApiError::new(ErrorKind::Forbidden, "unauthorized", e.to_string())
        }
        ChatError::TooLong(_) => ApiError::new(ErrorKind::TooLarge, "too_large", e.to_string()),
        ChatError::Empty => ApiError::bad_request(e.to_string()),
    })?;
    let message_id = match request_id {
        Some(r) => {
            let digest = Sha256::digest(format!("{}\n{}\n{r}", who.org, who.user));
            hex::encode(&digest[..16])
        }
        None => hex::encode(rand::random::<[u8; 16]>()),
    };
    let msg = ChatMessage {
        message_id: message_id.clone(),
        room: room.to_string(),
        from: who.user.clone(),
        name: name.map(str::to_string),
        text: text.to_string(),
        sent_at: ports.clock.now(),
    }
    .with_millis();
    let mut payload = serde_json::to_value(&msg).expect("a chat message serializes");
    if let Room::Match(m) = room {
        payload["matchId"] = json!(m);
    }
    let event = NewEvent {
        kind: EventType::ChatMessageSent,
        payload,
        timestamp: msg.sent_at,
        dedup_key: Some(format!("chat:{message_id}")),
    };
    // The message and its event in one step: history never holds one the log lacks.
    let appended = ports.chat.post_chat(&who.org, &msg, event).await?;
    crate::metrics::appended(&appended);
    if appended.created {
        super::push(ports, &appended.event).await;
    }
    Ok(json!({"messageId": message_id, "eventId": appended.event.id}))
}
