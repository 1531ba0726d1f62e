//! The WebSocket protocol's messages: what a client sends (routed on `action`, as API
//! Gateway's `$request.body.action`) and what the server answers.

use super::ids::{AuctionId, PlayerId, TeamId};
use super::rooms::Room;
use serde::Deserialize;
use serde_json::{Value, json};

/// Largest frame the transport reads at all (a larger one ends the connection).
pub const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
/// Largest message acted on: a larger one is answered `too_large` and the connection is
/// kept. (API Gateway's own limit is 128 KB per message, in 32 KB frames.)
pub const MAX_ACTION_BYTES: usize = 16 * 1024;

/// A client message, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Ping {
        request_id: Option<String>,
    },
    JoinAuction {
        auction_id: AuctionId,
        request_id: Option<String>,
    },
    LeaveAuction {
        auction_id: AuctionId,
        request_id: Option<String>,
    },
    PlaceBid {
        auction_id: AuctionId,
        player_id: PlayerId,
        team_id: TeamId,
        amount: u64,
        request_id: Option<String>,
    },
    Chat {
        room: Room,
        text: String,
        request_id: Option<String>,
    },
    JoinRoom {
        room: Room,
        request_id: Option<String>,
    },
    LeaveRoom {
        room: Room,
        request_id: Option<String>,
    },
}

impl Action {
    /// The client's id for this message, echoed on its answer whatever the answer is.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Action::Ping { request_id }
            | Action::JoinAuction { request_id, .. }
            | Action::LeaveAuction { request_id, .. }
            | Action::PlaceBid { request_id, .. }
            | Action::Chat { request_id, .. }
            | Action::JoinRoom { request_id, .. }
            | Action::LeaveRoom { request_id, .. } => request_id.as_deref(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head {
    action: Option<String>,
    request_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuctionBody {
    auction_id: AuctionId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BidBody {
    auction_id: AuctionId,
    player_id: PlayerId,
    team_id: TeamId,
    amount: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChatBody {
    room: String,
    text: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoomBody {
    room: String,
}

/// A refusal, sent as `{"type": "error", "requestId", "code", "message"}`, with the
/// state the refused action concerned when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub request_id: Option<String>,
    pub code: &'static str,
    pub message: String,
    pub state: Option<Value>,
}

impl Refusal {
    pub fn new(request_id: Option<String>, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            request_id,
            code,
            message: message.into(),
            state: None,
        }
    }

    pub fn to_json(&self) -> String {
        let mut v = json!({"type": "error", "requestId": self.request_id, "code": self.code, "message": self.message});
        if let Some(s) = &self.state {
            v["state"] = s.clone();
        }
        v.to_string()
    }
}

/// An acknowledgement: `{"type": "ack", "requestId", …fields}`.
pub fn ack(request_id: Option<&str>, fields: Value) -> String {
    let mut v = json!({"type": "ack", "requestId": request_id});
    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), fields) {
        obj.extend(more);
    }
    v.to_string()
}

fn fields<T: serde::de::DeserializeOwned>(
    text: &str,
    action: &str,
    request_id: &Option<String>,
) -> Result<T, Refusal> {
    serde_json::from_str(text).map_err(|e| {
        // serde's message names the field and what was wrong with it.
        let detail = e.to_string();
        let detail = detail.split(" at line ").next().unwrap_or(&detail);
        Refusal::new(
            request_id.clone(),
            "bad_request",
            format!("{action}: {detail}"),
        )
    })
}

fn room(name: &str, request_id: &Option<String>) -> Result<Room, Refusal> {
    name.parse().map_err(|e: super::rooms::InvalidRoom| {
        Refusal::new(request_id.clone(), "bad_request", e.to_string())
    })
}

pub fn parse(text: &str) -> Result<Action, Refusal> {
    if text.len() > MAX_ACTION_BYTES {
        return Err(Refusal::new(
            None,
            "too_large",
            format!("a message is at most {MAX_ACTION_BYTES} bytes"),
        ));
    }
    let head: Head = serde_json::from_str(text).map_err(|_| {
        Refusal::new(
            None,
            "bad_request",
            "a message is a JSON object with an `action`",
        )
    })?;
    let request_id = head.request_id;
    let action = match head.action.as_deref() {
        Some(a) => a,
        None => {
            return Err(Refusal::new(
                request_id,
                "bad_request",
                "the message has no `action`",
            ));
        }
    };
    Ok(match action {
        "ping" => Action::Ping { request_id },
        "join_auction" | "leave_auction" => {
            let b: AuctionBody = fields(text, action, &request_id)?;
            if action == "join_auction" {
                Action::JoinAuction {
                    auction_id: b.auction_id,
                    request_id,
                }
            } else {
                Action::LeaveAuction {
                    auction_id: b.auction_id,
                    request_id,
                }
            }
        }
        "place_bid" => {
            let b: BidBody = fields(text, action, &request_id)?;
            Action::PlaceBid {
                auction_id: b.auction_id,
                player_id: b.player_id,
                team_id: b.team_id,
                amount: b.amount,
                request_id,
            }
        }
        "chat" => {
            let b: ChatBody = fields(text, action, &request_id)?;
            Action::Chat {
                room: room(&b.room, &request_id)?,
                text: b.text,
                request_id,
            }
        }
        "join_room" | "leave_room" => {
            let b: RoomBody = fields(text, action, &request_id)?;
            let room = room(&b.room, &request_id)?;
            if action == "join_room" {
                Action::JoinRoom { room, request_id }
            } else {
                Action::LeaveRoom { room, request_id }
            }
        }
        other => {
            return Err(Refusal::new(
                request_id,
                "bad_request",
                format!(
                    "unknown action {:?}",
                    other.chars().take(40).collect::<String>()
                ),
            ));
        }
    })
}

pub fn pong(request_id: Option<&str>) -> String {
    let mut v = json!({"type": "pong"});
    if let Some(r) = request_id {
        v["requestId"] = Value::from(r);
    }
    v.to_string()
}

/// The fields of an auction's state that a reply keeps when the whole state would not
/// fit in one message.
const SUMMARY_FIELDS: [&str; 6] = [
    "auctionId",
    "lastEventId",
    "revision",
    "status",
    "lot",
    "lastResult",
];

/// A reply as it can be sent: `text` itself when it fits in one WebSocket message
/// (API Gateway's 128 KB limit, [`crate::push::MAX_POST_BYTES`]), else with its
/// `state` cut to a summary marked `"complete": false`, whose `lastEventId` the client
/// reads the whole state from (`GET /auctions/{id}`) and follows on.
pub fn fit(text: String) -> String {
    if text.len() <= crate::push::MAX_POST_BYTES {
        return text;
    }
    let Ok(Value::Object(mut reply)) = serde_json::from_str::<Value>(&text) else {
        return text;
    };
    let Some(Value::Object(state)) = reply.remove("state") else {
        return Value::Object(reply).to_string();
    };
    let mut summary: serde_json::Map<String, Value> = state
        .into_iter()
        .filter(|(k, _)| SUMMARY_FIELDS.contains(&k.as_str()))
        .collect();
    summary.insert("complete".into(), Value::Bool(false));
    reply.insert("state".into(), Value::Object(summary));
    Value::Object(reply).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_and_refusals() {
        assert_eq!(
            parse(r#"{"action":"ping"}"#),
            Ok(Action::Ping { request_id: None })
        );
        assert_eq!(pong(None), r#"{"type":"pong"}"#);
        let r = parse(r#"{"action":"dance","requestId":"r9"}"#).unwrap_err();
        assert_eq!(
            (r.code, r.request_id.as_deref()),
            ("bad_request", Some("r9"))
        );
        assert_eq!(parse("not json").unwrap_err().code, "bad_request");
        let v: Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["type"], "error");
    }

    #[test]
    fn actions_parse_with_specific_refusals() {
        assert_eq!(
            parse(
                r#"{"action":"place_bid","auctionId":"a_1","playerId":"p_3","amount":5000000,"teamId":"t_2","requestId":"r2"}"#
            ),
            Ok(Action::PlaceBid {
                auction_id: AuctionId::new("a_1").unwrap(),
                player_id: PlayerId::new("p_3").unwrap(),
                team_id: TeamId::new("t_2").unwrap(),
                amount: 5_000_000,
                request_id: Some("r2".into()),
            })
        );
        let r = parse(r#"{"action":"place_bid","auctionId":"a_1","playerId":"p_3","amount":-5,"teamId":"t_2","requestId":"r2"}"#).unwrap_err();
        assert_eq!(
            (r.code, r.request_id.as_deref()),
            ("bad_request", Some("r2"))
        );
        assert!(r.message.starts_with("place_bid: "), "{}", r.message);
        let r = parse(r#"{"action":"join_auction","requestId":"r1"}"#).unwrap_err();
        assert!(r.message.contains("auctionId"), "{}", r.message);
        let r = parse(r#"{"action":"chat","room":"squad:1","text":"hi"}"#).unwrap_err();
        assert!(r.message.contains("a room is"), "{}", r.message);
        assert!(matches!(
            parse(r#"{"action":"chat","room":"team:t_2","text":"hi"}"#),
            Ok(Action::Chat { .. })
        ));
        let big = format!(
            r#"{{"action":"chat","room":"org","text":"{}"}}"#,
            "x".repeat(MAX_ACTION_BYTES)
        );
        assert_eq!(parse(&big).unwrap_err().code, "too_large");
        let v: Value = serde_json::from_str(&ack(Some("r1"), json!({"state": {"a": 1}}))).unwrap();
        assert_eq!(
            v,
            json!({"type": "ack", "requestId": "r1", "state": {"a": 1}})
        );
    }

    #[test]
    fn a_reply_too_large_for_one_message_carries_a_summary_of_its_state() {
        let small = ack(
            Some("r"),
            json!({"state": {"auctionId": "a", "lots": [1, 2]}}),
        );
        assert_eq!(fit(small.clone()), small);
        let lots: Vec<String> = (0..20_000).map(|i| format!("player-{i:06}")).collect();
        let big = ack(
            Some("r"),
            json!({"state": {"auctionId": "a", "lastEventId": "41", "revision": 3,
                "lot": {"playerId": "p"}, "lots": lots}}),
        );
        assert!(big.len() > crate::push::MAX_POST_BYTES);
        let fitted: Value = serde_json::from_str(&fit(big)).unwrap();
        assert_eq!(
            fitted,
            json!({"type": "ack", "requestId": "r", "state": {"auctionId": "a",
                "lastEventId": "41", "revision": 3, "lot": {"playerId": "p"}, "complete": false}})
        );
    }
}
