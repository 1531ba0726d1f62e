//! Notifications of every kind, shaped as Meta sends them, for `pitchside simulate`.
//! (The black-box tests do not use these: their payloads are written out by hand from
//! Meta's documentation, so that a mistake here cannot hide one in the parser.)

use serde_json::{Value, json};

/// Who a simulated message is from.
#[derive(Debug, Clone, Default)]
pub struct From {
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
    pub name: String,
}

/// A kind of message the simulator can send.
#[derive(Debug, Clone)]
pub enum Kind {
    Text {
        body: String,
    },
    ButtonReply {
        id: String,
        title: String,
    },
    ListReply {
        id: String,
        title: String,
    },
    Button {
        payload: String,
        text: String,
    },
    Reaction {
        message_id: String,
        emoji: String,
    },
    Media {
        media_type: String,
        caption: Option<String>,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: String,
    },
    Contacts {
        name: String,
        wa_id: String,
    },
    Unsupported,
}

/// One inbound message of `kind`, without the envelope.
pub fn message(from: &From, id: &str, unix_seconds: i64, kind: &Kind) -> Value {
    let mut m = json!({"id": id, "timestamp": unix_seconds.to_string()});
    if let Some(wa) = &from.wa_id {
        m["from"] = json!(wa);
    }
    if let Some(u) = &from.user_id {
        m["from_user_id"] = json!(u);
    }
    let (t, block): (&str, Value) = match kind {
        Kind::Text { body } => ("text", json!({"body": body})),
        Kind::ButtonReply { id, title } => (
            "interactive",
            json!({"type": "button_reply", "button_reply": {"id": id, "title": title}}),
        ),
        Kind::ListReply { id, title } => (
            "interactive",
            json!({"type": "list_reply", "list_reply": {"id": id, "title": title}}),
        ),
        Kind::Button { payload, text } => ("button", json!({"payload": payload, "text": text})),
        Kind::Reaction { message_id, emoji } => (
            "reaction",
            json!({"message_id": message_id, "emoji": emoji}),
        ),
        Kind::Media {
            media_type,
            caption,
        } => {
            let mime = match media_type.as_str() {
                "image" => "image/jpeg",
                "audio" => "audio/ogg; codecs=opus",
                "video" => "video/mp4",
                "document" => "application/pdf",
                _ => "image/webp",
            };
            let mut b =
                json!({"id": format!("{id}.media"), "mime_type": mime, "sha256": "c2ltdWxhdGVk"});
            if let Some(c) = caption {
                b["caption"] = json!(c);
            }
            if media_type == "document" {
                b["filename"] = json!("scorecard.pdf");
            }
            (media_type.as_str(), b)
        }
        Kind::Location {
            latitude,
            longitude,
            name,
        } => (
            "location",
            json!({"latitude": latitude, "longitude": longitude, "name": name}),
        ),
        Kind::Contacts { name, wa_id } => {
            m["type"] = json!("contacts");
            m["contacts"] = json!([{
                "name": {"formatted_name": name, "first_name": name},
                "phones": [{"phone": format!("+{wa_id}"), "wa_id": wa_id, "type": "MOBILE"}]
            }]);
            return m;
        }
        Kind::Unsupported => {
            m["type"] = json!("unsupported");
            m["errors"] = json!([{
                "code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."}
            }]);
            return m;
        }
    };
    m["type"] = json!(t);
    m[t] = block;
    m
}

/// A status update of an outbound message.
pub fn status(message_id: &str, status: &str, recipient: &From, unix_seconds: i64) -> Value {
    let mut s = json!({"id": message_id, "status": status, "timestamp": unix_seconds.to_string()});
    if let Some(wa) = &recipient.wa_id {
        s["recipient_id"] = json!(wa);
    }
    if let Some(u) = &recipient.user_id {
        s["recipient_user_id"] = json!(u);
    }
    if status == "failed" {
        s["errors"] = json!([{
            "code": 131026, "title": "Message undeliverable",
            "error_data": {"details": "Message could not be delivered"}
        }]);
    }
    s
}

/// The envelope around messages or statuses for one business number.
pub fn notification(
    phone_number_id: &str,
    contact: Option<&From>,
    messages: Vec<Value>,
    statuses: Vec<Value>,
) -> Value {
    let mut value = json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
    });
    if let Some(c) = contact {
        let mut entry = json!({"profile": {"name": c.name}});
        if let Some(wa) = &c.wa_id {
            entry["wa_id"] = json!(wa);
        }
        if let Some(u) = &c.user_id {
            entry["user_id"] = json!(u);
        }
        value["contacts"] = json!([entry]);
    }
    if !messages.is_empty() {
        value["messages"] = json!(messages);
    }
    if !statuses.is_empty() {
        value["statuses"] = json!(statuses);
    }
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}],
    })
}
