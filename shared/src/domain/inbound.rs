//! What an inbound WhatsApp message becomes: the record the store keeps and the
//! `message.received` event.

use super::event::{EventType, NewEvent};
use super::whatsapp::InboundMessage;
use crate::ports::{InboundRecord, Player};
use chrono::{DateTime, TimeZone, Utc};

/// The dedup key of the event of an inbound message: Meta's message id is unique, and
/// Meta (and the queue) may deliver it more than once.
pub fn dedup_key(message_id: &str) -> String {
    format!("wa:in:{message_id}")
}

/// Meta's timestamp (seconds, a decimal string), or `fallback` when it is unreadable.
pub fn sent_at(msg: &InboundMessage, fallback: DateTime<Utc>) -> DateTime<Utc> {
    msg.timestamp
        .parse::<i64>()
        .ok()
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
        .unwrap_or(fallback)
}

pub fn record(
    msg: &InboundMessage,
    player: Option<&Player>,
    received_at: DateTime<Utc>,
) -> InboundRecord {
    InboundRecord {
        message_id: msg.id.clone(),
        from: msg.from.clone(),
        player_id: player.map(|p| p.id.clone()),
        kind: msg.kind.clone(),
        text: msg.text.as_ref().map(|t| t.body.clone()),
        received_at,
    }
}

/// The `message.received` event. Its payload:
/// `{messageId, from, playerId, name, type, text, sentAt}`; `playerId` is null for a
/// number no player has, `name` is the WhatsApp profile name, `text` is null for
/// non-text messages.
pub fn message_received(
    msg: &InboundMessage,
    player: Option<&Player>,
    profile_name: Option<&str>,
    now: DateTime<Utc>,
) -> NewEvent {
    NewEvent {
        kind: EventType::MessageReceived,
        payload: serde_json::json!({
            "messageId": msg.id,
            "from": msg.from,
            "playerId": player.map(|p| p.id.as_str()),
            "name": profile_name,
            "type": msg.kind,
            "text": msg.text.as_ref().map(|t| t.body.as_str()),
            "sentAt": super::event::format_timestamp(&sent_at(msg, now)),
        }),
        timestamp: now,
        dedup_key: Some(dedup_key(&msg.id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::PlayerId;
    use crate::domain::whatsapp::Text;

    #[test]
    fn builds_the_event_payload() {
        let msg = InboundMessage {
            id: "wamid.1".into(),
            from: "9198".into(),
            timestamp: "1700000000".into(),
            kind: "text".into(),
            text: Some(Text { body: "yes".into() }),
        };
        let p = Player {
            id: PlayerId::new("p_1").unwrap(),
            name: "Ravi".into(),
            whatsapp: Some("9198".into()),
        };
        let e = message_received(&msg, Some(&p), Some("Ravi K"), Utc::now());
        assert_eq!(e.kind, EventType::MessageReceived);
        assert_eq!(e.dedup_key.as_deref(), Some("wa:in:wamid.1"));
        assert_eq!(e.payload["playerId"], "p_1");
        assert_eq!(e.payload["text"], "yes");
        assert_eq!(e.payload["sentAt"], "2023-11-14T22:13:20.000Z");
        let anon = message_received(&msg, None, None, Utc::now());
        assert!(anon.payload["playerId"].is_null());
    }
}
