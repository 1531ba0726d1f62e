//! Delivery and read receipts of the messages the business sends: the order a status
//! may move in, and the `message.status.updated` event.
//!
//! WhatsApp reports `sent`, `delivered` and `read` in that order, but webhooks may arrive
//! in any order (and more than once), so a status only ever moves forward: a late
//! `delivered` after `read` changes nothing. `failed` is final. A status Pitchside does
//! not know is recorded in the log line and changes nothing.

use super::event::{EventType, NewEvent, format_timestamp};
use super::whatsapp::StatusUpdate;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl DeliveryStatus {
    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        match s {
            "sent" => Some(Self::Sent),
            "delivered" => Some(Self::Delivered),
            "read" => Some(Self::Read),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
        }
    }

    /// The position in the only order a status may move in.
    pub fn rank(self) -> u8 {
        match self {
            Self::Sent => 1,
            Self::Delivered => 2,
            Self::Read => 3,
            Self::Failed => 4,
        }
    }
}

/// What the store does with a status: applied when it moves the message forward, the
/// same when it repeats the current one (a redelivery), stale when it is behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Advanced,
    Same,
    Stale,
}

/// Compares a status with the one recorded.
pub fn compare(current: Option<DeliveryStatus>, next: DeliveryStatus) -> StatusChange {
    match current {
        None => StatusChange::Advanced,
        Some(c) if next.rank() > c.rank() => StatusChange::Advanced,
        Some(c) if next == c => StatusChange::Same,
        Some(_) => StatusChange::Stale,
    }
}

/// The record of an outbound message's status, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRecord {
    pub message_id: String,
    pub status: DeliveryStatus,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_user_id: Option<String>,
    /// For `failed`: Meta's error codes and titles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<serde_json::Value>,
}

/// The record of a status update, or `None` for a status Pitchside does not know.
pub fn record(update: &StatusUpdate, fallback: DateTime<Utc>) -> Option<StatusRecord> {
    Some(StatusRecord {
        message_id: update.message_id.clone(),
        status: DeliveryStatus::parse(&update.status)?,
        at: update
            .timestamp
            .and_then(|s| Utc.timestamp_opt(s, 0).single())
            .unwrap_or(fallback),
        recipient: update.recipient.wa_id.clone(),
        recipient_user_id: update.recipient.user_id.clone(),
        errors: update
            .errors
            .iter()
            .map(|e| serde_json::to_value(e).unwrap_or_default())
            .collect(),
    })
}

/// Each status of a message is one event, whatever the number of deliveries.
pub fn dedup_key(message_id: &str, status: DeliveryStatus) -> String {
    format!("wa:st:{message_id}:{}", status.as_str())
}

/// `message.status.updated`: `{messageId, status, recipient, recipientUserId, at,
/// errors}`; `version` is the status's rank, so a client never shows an older status
/// over a newer one.
pub fn status_updated(rec: &StatusRecord, now: DateTime<Utc>) -> NewEvent {
    NewEvent {
        kind: EventType::MessageStatusUpdated,
        payload: serde_json::json!({
            "messageId": rec.message_id,
            "status": rec.status,
            "version": rec.status.rank(),
            "recipient": rec.recipient,
            "recipientUserId": rec.recipient_user_id,
            "at": format_timestamp(&rec.at),
            "errors": rec.errors,
        }),
        timestamp: now,
        dedup_key: Some(dedup_key(&rec.message_id, rec.status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryStatus::*;

    #[test]
    fn a_status_only_moves_forward() {
        assert_eq!(compare(None, Delivered), StatusChange::Advanced);
        assert_eq!(compare(Some(Sent), Read), StatusChange::Advanced);
        assert_eq!(compare(Some(Read), Delivered), StatusChange::Stale);
        assert_eq!(compare(Some(Read), Read), StatusChange::Same);
        assert_eq!(compare(Some(Delivered), Failed), StatusChange::Advanced);
        assert_eq!(compare(Some(Failed), Read), StatusChange::Stale);
        assert_eq!(DeliveryStatus::parse("deleted"), None);
    }
}
