//! The notification Meta posts, read into typed values.
//!
//! Reading is two-staged on purpose: the envelope (`object`, `entry`, `changes`) first,
//! then each change's `value` on its own, so that one malformed change is quarantined
//! without holding back the rest of a batch. Inside a change, only what Pitchside
//! cannot work without is required (a message's or status's `id`); every other field
//! may be missing, and a message type Pitchside does not know is kept raw, never an
//! error. Since 2026 Meta may identify a sender only by a business-scoped user id, so no
//! sender field is required either.

use super::content::content_of;
use super::fields::{errors_of, scalar_of, seconds_of, str_of, string_of};
use serde::Serialize;
use serde_json::{Map, Value};

/// Why a signed body, or one change of it, cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is not a WhatsApp notification: {0}")]
    NotNotification(String),
    #[error("a change cannot be read: {0}")]
    BadChange(String),
}

/// The envelope: `{"object": "whatsapp_business_account", "entry": [...]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub object: String,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The WhatsApp Business Account id.
    pub id: String,
    pub changes: Vec<RawChange>,
}

/// A change as sent, its value not yet read (see [`RawChange::read`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RawChange {
    pub field: String,
    pub value: Value,
}

/// Reads the envelope. Anything that is not an object with an `entry` array of objects
/// is an error; an `object` other than a WhatsApp business account is reported by the
/// caller (it is well formed, just not for us).
pub fn parse_notification(body: &[u8]) -> Result<Notification, PayloadError> {
    let root: Value =
        serde_json::from_slice(body).map_err(|e| PayloadError::NotJson(e.to_string()))?;
    let root = root
        .as_object()
        .ok_or_else(|| PayloadError::NotNotification("the body is not a JSON object".into()))?;
    let object = str_of(root, "object")
        .ok_or_else(|| PayloadError::NotNotification("`object` is missing".into()))?
        .to_string();
    let entries = match root.get("entry") {
        Some(Value::Array(entries)) => entries,
        Some(_) => {
            return Err(PayloadError::NotNotification(
                "`entry` is not an array".into(),
            ));
        }
        None => return Err(PayloadError::NotNotification("`entry` is missing".into())),
    };
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let entry = entry
            .as_object()
            .ok_or_else(|| PayloadError::NotNotification(format!("entry {i} is not an object")))?;
        let changes = match entry.get("changes") {
            Some(Value::Array(c)) => c,
            None => &Vec::new(),
            Some(_) => {
                return Err(PayloadError::NotNotification(format!(
                    "entry {i}: `changes` is not an array"
                )));
            }
        };
        let mut raw = Vec::with_capacity(changes.len());
        for (j, change) in changes.iter().enumerate() {
            let change = change.as_object().ok_or_else(|| {
                PayloadError::NotNotification(format!("entry {i}, change {j} is not an object"))
            })?;
            raw.push(RawChange {
                field: str_of(change, "field").unwrap_or_default().to_string(),
                value: change.get("value").cloned().unwrap_or(Value::Null),
            });
        }
        out.push(Entry {
            id: scalar_of(entry, "id").unwrap_or_default(),
            changes: raw,
        });
    }
    Ok(Notification {
        object,
        entries: out,
    })
}

/// The object of the notifications Pitchside handles.
pub const WHATSAPP_OBJECT: &str = "whatsapp_business_account";

/// One change's value: the business number it is for, and what happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeValue {
    /// `metadata.phone_number_id`: which organization this is for. Absent on changes
    /// that are not about messages (account updates, template reviews).
    pub phone_number_id: Option<String>,
    pub contacts: Vec<Contact>,
    pub messages: Vec<Message>,
    pub statuses: Vec<StatusUpdate>,
    /// `value.errors`: problems Meta reports that are not about one message.
    pub errors: Vec<WaError>,
}

/// A sender as Meta names it: by phone (`wa_id`, `from`), by business-scoped user id
/// (`user_id`, `from_user_id`), or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sender {
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
}

impl Sender {
    pub fn is_known(&self) -> bool {
        self.wa_id.is_some() || self.user_id.is_some()
    }
}

/// An entry of `contacts`: who sent the messages beside it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub sender: Sender,
    pub profile_name: Option<String>,
}

/// One inbound message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// The `wamid`: unique per message, the key that makes processing idempotent.
    pub id: String,
    pub sender: Sender,
    /// Seconds since the epoch (Meta sends a decimal string).
    pub timestamp: Option<i64>,
    /// The wire `type`, as sent (`text`, `interactive`, `image`, …, or one Pitchside does
    /// not know).
    pub kind: String,
    pub content: Content,
    /// The message this one replies to, when it is a reply (`context.id`).
    pub reply_to: Option<String>,
}

/// What a message holds, by kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Content {
    Text {
        body: String,
    },
    /// A tap on a reply button of an interactive message.
    ButtonReply {
        id: String,
        title: String,
    },
    /// A choice from an interactive list.
    ListReply {
        id: String,
        title: String,
        description: Option<String>,
    },
    /// A quick-reply button of a template message.
    Button {
        payload: Option<String>,
        text: String,
    },
    /// A reaction to an earlier message; no emoji means the reaction was removed.
    Reaction {
        message_id: String,
        emoji: Option<String>,
    },
    /// Image, audio, video, document or sticker: the media id and its metadata. Nothing
    /// is downloaded.
    Media(Media),
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
    Contacts {
        contacts: Vec<SharedContact>,
    },
    /// `unsupported` (or the older `unknown`): Meta could not pass the message on, and
    /// says why in `errors`.
    Unsupported {
        errors: Vec<WaError>,
    },
    /// Any other type, or a known type whose content is not where it should be: kept
    /// as sent.
    Other {
        raw: Value,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    /// `image`, `audio`, `video`, `document` or `sticker`.
    pub media_type: String,
    /// The media id, for Meta's media endpoint.
    pub id: String,
    pub mime_type: Option<String>,
    pub sha256: Option<String>,
    pub caption: Option<String>,
    pub filename: Option<String>,
    /// A voice note (audio recorded in WhatsApp).
    pub voice: Option<bool>,
    /// An animated sticker.
    pub animated: Option<bool>,
}

/// A contact card shared in a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedContact {
    pub formatted_name: Option<String>,
    pub phones: Vec<String>,
}

/// An error Meta reports, on a status, a message or the whole change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaError {
    pub code: Option<i64>,
    pub title: Option<String>,
    pub message: Option<String>,
    /// `error_data.details`.
    pub details: Option<String>,
}

/// A delivery or read receipt for a message the business sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusUpdate {
    /// The `wamid` of the outbound message.
    pub message_id: String,
    pub status: String,
    pub timestamp: Option<i64>,
    pub recipient: Sender,
    pub errors: Vec<WaError>,
}

impl RawChange {
    /// Reads the value of a change. Only a non-object value, or a message or status
    /// without its `id`, is an error.
    pub fn read(&self) -> Result<ChangeValue, PayloadError> {
        let value = match &self.value {
            Value::Object(v) => v,
            Value::Null => {
                return Err(PayloadError::BadChange("the change has no `value`".into()));
            }
            _ => {
                return Err(PayloadError::BadChange(
                    "the change's `value` is not an object".into(),
                ));
            }
        };
        let phone_number_id = value
            .get("metadata")
            .and_then(Value::as_object)
            .and_then(|m| scalar_of(m, "phone_number_id"));
        let contacts = objects(value, "contacts")?
            .map(|c| Contact {
                sender: Sender {
                    wa_id: scalar_of(c, "wa_id"),
                    user_id: scalar_of(c, "user_id"),
                },
                profile_name: c
                    .get("profile")
                    .and_then(Value::as_object)
                    .and_then(|p| string_of(p, "name")),
            })
            .collect();
        let messages = objects(value, "messages")?
            .enumerate()
            .map(|(i, m)| {
                read_message(m).map_err(|e| PayloadError::BadChange(format!("message {i}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        let statuses = objects(value, "statuses")?
            .enumerate()
            .map(|(i, s)| {
                read_status(s).map_err(|e| PayloadError::BadChange(format!("status {i}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(ChangeValue {
            phone_number_id,
            contacts,
            messages,
            statuses,
            errors: errors_of(value),
        })
    }
}

impl ChangeValue {
    /// The `contacts` entry of a sender: the one with the same `wa_id` or user id, or
    /// the only one when the message names no sender at all.
    fn contact_of(&self, sender: &Sender) -> Option<&Contact> {
        let same = |c: &&Contact| {
            (sender.wa_id.is_some() && c.sender.wa_id == sender.wa_id)
                || (sender.user_id.is_some() && c.sender.user_id == sender.user_id)
        };
        self.contacts
            .iter()
            .find(same)
            .or(match self.contacts.as_slice() {
                [only] if !sender.is_known() => Some(only),
                _ => None,
            })
    }

    /// The sender's WhatsApp profile name.
    pub fn profile_name(&self, sender: &Sender) -> Option<&str> {
        self.contact_of(sender)?.profile_name.as_deref()
    }

    /// The sender of a message, completed from its contact when the message names only
    /// one identifier (or none).
    pub fn sender_of(&self, msg: &Message) -> Sender {
        let mut sender = msg.sender.clone();
        if let Some(c) = self.contact_of(&msg.sender) {
            sender.wa_id = sender.wa_id.or_else(|| c.sender.wa_id.clone());
            sender.user_id = sender.user_id.or_else(|| c.sender.user_id.clone());
        }
        sender
    }
}

fn read_message(m: &Map<String, Value>) -> Result<Message, String> {
    let id = string_of(m, "id")
        .filter(|id| !id.is_empty())
        .ok_or("it has no `id`")?;
    let kind = string_of(m, "type").unwrap_or_else(|| "unknown".into());
    let content = content_of(&kind, m).unwrap_or_else(|| Content::Other {
        raw: Value::Object(m.clone()),
    });
    Ok(Message {
        id,
        sender: Sender {
            wa_id: scalar_of(m, "from"),
            user_id: scalar_of(m, "from_user_id"),
        },
        timestamp: seconds_of(m, "timestamp"),
        kind,
        content,
        reply_to: m
            .get("context")
            .and_then(Value::as_object)
            .and_then(|c| string_of(c, "id")),
    })
}

fn read_status(s: &Map<String, Value>) -> Result<StatusUpdate, String> {
    Ok(StatusUpdate {
        message_id: string_of(s, "id")
            .filter(|id| !id.is_empty())
            .ok_or("it has no `id`")?,
        status: string_of(s, "status").ok_or("it has no `status`")?,
        timestamp: seconds_of(s, "timestamp"),
        recipient: Sender {
            wa_id: scalar_of(s, "recipient_id"),
            user_id: scalar_of(s, "recipient_user_id"),
        },
        errors: errors_of(s),
    })
}

/// The objects of an array field; a missing field is empty, anything else an error.
fn objects<'a>(
    m: &'a Map<String, Value>,
    name: &str,
) -> Result<impl Iterator<Item = &'a Map<String, Value>>, PayloadError> {
    let items: &[Value] = match m.get(name) {
        None | Some(Value::Null) => &[],
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(PayloadError::BadChange(format!("`{name}` is not an array")));
        }
    };
    if let Some(i) = items.iter().position(|v| !v.is_object()) {
        return Err(PayloadError::BadChange(format!(
            "`{name}[{i}]` is not an object"
        )));
    }
    Ok(items.iter().filter_map(Value::as_object))
}
