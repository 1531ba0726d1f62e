//! What an inbound WhatsApp message becomes: the record the store keeps and the
//! `message.received` event.

use super::event::{EventType, NewEvent};
use super::whatsapp::{Content, Message, Sender};
use crate::tenancy::{InboundRecord, Player};
use chrono::{DateTime, TimeZone, Utc};

/// The dedup key of the event of an inbound message: Meta's message id is unique, and
/// Meta (and the queue) may deliver it more than once.
pub fn dedup_key(message_id: &str) -> String {
    format!("wa:in:{message_id}")
}

/// Meta's timestamp, or `fallback` when it is missing or unreadable.
pub fn sent_at(msg: &Message, fallback: DateTime<Utc>) -> DateTime<Utc> {
    msg.timestamp
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
        .unwrap_or(fallback)
}

/// The words a person would read: the text, the title of the tapped button or list
/// row, a media caption.
pub fn readable_text(content: &Content) -> Option<&str> {
    match content {
        Content::Text { body } => Some(body),
        Content::ButtonReply { title, .. } | Content::ListReply { title, .. } => Some(title),
        Content::Button { text, .. } => Some(text),
        Content::Media(m) => m.caption.as_deref(),
        _ => None,
    }
}

pub fn record(
    msg: &Message,
    sender: &Sender,
    player: Option<&Player>,
    profile_name: Option<&str>,
    received_at: DateTime<Utc>,
) -> InboundRecord {
    InboundRecord {
        message_id: msg.id.clone(),
        from: sender.wa_id.clone(),
        from_user_id: sender.user_id.clone(),
        player_id: player.map(|p| p.id.clone()),
        name: profile_name.map(str::to_string),
        kind: msg.kind.clone(),
        text: readable_text(&msg.content).map(str::to_string),
        content: serde_json::to_value(&msg.content).unwrap_or_default(),
        reply_to: msg.reply_to.clone(),
        sent_at: sent_at(msg, received_at),
        received_at,
    }
}

/// The `message.received` event. Its payload: `{messageId, from, fromUserId, playerId,
/// name, type, text, content, replyTo, sentAt}`; `from` or `fromUserId` may be null
/// (Meta may name a sender by either), `playerId` is null when no player has the
/// sender's number, `text` is the readable text if any, `content` the typed content
/// (see the README).
pub fn message_received(rec: &InboundRecord, now: DateTime<Utc>) -> NewEvent {
    NewEvent {
        kind: EventType::MessageReceived,
        payload: serde_json::json!({
            "messageId": rec.message_id,
            "from": rec.from,
            "fromUserId": rec.from_user_id,
            "playerId": rec.player_id,
            "name": rec.name,
            "type": rec.kind,
            "text": rec.text,
            "content": rec.content,
            "replyTo": rec.reply_to,
            "sentAt": super::event::format_timestamp(&rec.sent_at),
        }),
        timestamp: now,
        dedup_key: Some(dedup_key(&rec.message_id)),
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may take any time, the real one included
mod tests {
    use super::*;
    use crate::ids::PlayerId;

    #[test]
    fn builds_the_event_payload() {
        let msg = Message {
            id: "wamid.1".into(),
            sender: Sender {
                wa_id: Some("9198".into()),
                user_id: None,
            },
            timestamp: Some(1_700_000_000),
            kind: "text".into(),
            content: Content::Text { body: "yes".into() },
            reply_to: None,
        };
        let p = Player {
            id: PlayerId::new("p_1").unwrap(),
            name: "Ravi".into(),
            whatsapp: Some("9198".into()),
            whatsapp_user_id: None,
        };
        let rec = record(&msg, &msg.sender, Some(&p), Some("Ravi K"), Utc::now());
        let e = message_received(&rec, Utc::now());
        assert_eq!(e.kind, EventType::MessageReceived);
        assert_eq!(e.dedup_key.as_deref(), Some("wa:in:wamid.1"));
        assert_eq!(e.payload["playerId"], "p_1");
        assert_eq!(e.payload["text"], "yes");
        assert_eq!(e.payload["content"]["kind"], "text");
        assert_eq!(e.payload["sentAt"], "2023-11-14T22:13:20.000Z");
        let anon = record(&msg, &msg.sender, None, None, Utc::now());
        assert!(message_received(&anon, Utc::now()).payload["playerId"].is_null());
    }
}
