//! The tenancy's plain records: an organization, its players, and a WhatsApp message
//! as received from one of them. The directory and message ports store these.

use crate::ids::{OrganizationId, PlayerId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A club or league: the tenant every key, room and query is scoped to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Player {
    pub id: PlayerId,
    pub name: String,
    /// The `wa_id` WhatsApp sends for this player (their phone number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<String>,
    /// The business-scoped user id WhatsApp sends instead of (or beside) the `wa_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_user_id: Option<String>,
}

/// A message received inbound on WhatsApp, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundRecord {
    pub message_id: String,
    pub from: Option<String>,
    pub from_user_id: Option<String>,
    pub player_id: Option<PlayerId>,
    /// The sender's WhatsApp profile name.
    pub name: Option<String>,
    /// The wire type.
    pub kind: String,
    pub text: Option<String>,
    /// The typed content (`domain::whatsapp::Content`).
    pub content: serde_json::Value,
    pub reply_to: Option<String>,
    pub sent_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}
