//! A message's content, one reader per kind Meta sends. Each answers `None` when its
//! block is missing or not where Meta puts it; the message is then kept as `Other`.

use super::fields::{errors_of, number_of, scalar_of, str_of, string_of};
use super::payload::{Content, Media, SharedContact};
use serde_json::{Map, Value};

type Object = Map<String, Value>;

const MEDIA_TYPES: [&str; 5] = ["image", "audio", "video", "document", "sticker"];

/// The content of a known type, or `None` when the type is unknown or its block is not
/// where Meta puts it.
pub(super) fn content_of(kind: &str, m: &Object) -> Option<Content> {
    let block = || m.get(kind).and_then(Value::as_object);
    match kind {
        "text" => text(block()?),
        "interactive" => interactive(block()?),
        "button" => Some(button(block()?)),
        "reaction" => reaction(block()?),
        k if MEDIA_TYPES.contains(&k) => media(k, block()?),
        "location" => location(block()?),
        "contacts" => contacts(m),
        "unsupported" | "unknown" => Some(Content::Unsupported {
            errors: errors_of(m),
        }),
        _ => None,
    }
}

fn text(b: &Object) -> Option<Content> {
    Some(Content::Text {
        body: string_of(b, "body")?,
    })
}

/// A reply to an interactive message: a reply button or a list row.
fn interactive(b: &Object) -> Option<Content> {
    match str_of(b, "type")? {
        "button_reply" => {
            let r = b.get("button_reply")?.as_object()?;
            Some(Content::ButtonReply {
                id: string_of(r, "id")?,
                title: string_of(r, "title").unwrap_or_default(),
            })
        }
        "list_reply" => {
            let r = b.get("list_reply")?.as_object()?;
            Some(Content::ListReply {
                id: string_of(r, "id")?,
                title: string_of(r, "title").unwrap_or_default(),
                description: string_of(r, "description"),
            })
        }
        _ => None,
    }
}

/// A template's quick-reply button.
fn button(b: &Object) -> Content {
    Content::Button {
        payload: string_of(b, "payload"),
        text: string_of(b, "text").unwrap_or_default(),
    }
}

fn reaction(b: &Object) -> Option<Content> {
    Some(Content::Reaction {
        message_id: string_of(b, "message_id")?,
        emoji: string_of(b, "emoji").filter(|e| !e.is_empty()),
    })
}

fn media(kind: &str, b: &Object) -> Option<Content> {
    Some(Content::Media(Media {
        media_type: kind.to_string(),
        id: scalar_of(b, "id")?,
        mime_type: string_of(b, "mime_type"),
        sha256: string_of(b, "sha256"),
        caption: string_of(b, "caption"),
        filename: string_of(b, "filename"),
        voice: b.get("voice").and_then(Value::as_bool),
        animated: b.get("animated").and_then(Value::as_bool),
    }))
}

fn location(b: &Object) -> Option<Content> {
    Some(Content::Location {
        latitude: number_of(b, "latitude")?,
        longitude: number_of(b, "longitude")?,
        name: string_of(b, "name"),
        address: string_of(b, "address"),
    })
}

/// Shared contact cards: their names and phone numbers (the `wa_id` where WhatsApp
/// knows one).
fn contacts(m: &Object) -> Option<Content> {
    let cards = m.get("contacts")?.as_array()?;
    Some(Content::Contacts {
        contacts: cards
            .iter()
            .filter_map(Value::as_object)
            .map(card)
            .collect(),
    })
}

fn card(c: &Object) -> SharedContact {
    SharedContact {
        formatted_name: c
            .get("name")
            .and_then(Value::as_object)
            .and_then(|n| string_of(n, "formatted_name")),
        phones: c
            .get("phones")
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .filter_map(Value::as_object)
                    .filter_map(|p| string_of(p, "wa_id").or_else(|| string_of(p, "phone")))
                    .collect()
            })
            .unwrap_or_default(),
    }
}
