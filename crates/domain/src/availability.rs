//! Availability: a player's answer to "are you playing on Saturday?", given in the app or
//! on WhatsApp.
//!
//! On WhatsApp a player answers either with a button whose id names the match
//! (`avail:<matchId>:<yes|no|maybe>`) or in free text, which answers their latest
//! availability request. Answers may arrive out of order (webhooks are retried and
//! queues redeliver), so each carries the time it was given and an older answer never
//! overwrites a newer one.

use super::event::{EventType, NewEvent, format_timestamp};
use super::ids::{MatchId, PlayerId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Yes,
    No,
    Maybe,
}

impl Response {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
            Self::Maybe => "maybe",
        }
    }
}

/// Who gave an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The player, on WhatsApp.
    Whatsapp,
    /// Through the HTTP API (the player in the app, or an admin).
    Api,
}

/// A player's latest answer for one match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub player_id: PlayerId,
    pub response: Response,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Source,
    /// The WhatsApp message that gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// What free text means, if it is an answer: case, surrounding space and trailing
/// punctuation do not matter; anything longer than a word or two is a message, not an
/// answer.
pub fn parse_free_text(text: &str) -> Option<Response> {
    let t = text
        .trim()
        .trim_end_matches(['.', '!', '?'])
        .trim()
        .to_lowercase();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    // Emoji may carry a skin-tone modifier or a variation selector.
    let bare: String = t
        .chars()
        .filter(|c| !matches!(*c as u32, 0x1F3FB..=0x1F3FF | 0xFE0F))
        .collect();
    let yes = [
        "yes",
        "y",
        "yes please",
        "yeah",
        "yep",
        "yup",
        "in",
        "i'm in",
        "im in",
        "available",
        "ok",
        "okay",
        "sure",
        "👍",
        "✅",
        "✔",
    ];
    let no = [
        "no",
        "n",
        "nope",
        "nah",
        "out",
        "i'm out",
        "im out",
        "not available",
        "unavailable",
        "can't",
        "cant",
        "👎",
        "❌",
        "✖",
    ];
    let maybe = [
        "maybe", "m", "not sure", "unsure", "perhaps", "possibly", "🤔", "🤷",
    ];
    if yes.contains(&bare.as_str()) {
        Some(Response::Yes)
    } else if no.contains(&bare.as_str()) {
        Some(Response::No)
    } else if maybe.contains(&bare.as_str()) || bare.starts_with('🤷') {
        Some(Response::Maybe)
    } else {
        None
    }
}

/// The prefix of a reply id that answers a match.
pub const REPLY_PREFIX: &str = "avail:";

/// A button or list reply id `avail:<matchId>:<yes|no|maybe>`.
pub fn parse_reply_id(id: &str) -> Option<(MatchId, Response)> {
    let rest = id.trim().strip_prefix(REPLY_PREFIX)?;
    let (m, r) = rest.rsplit_once(':')?;
    let response = match r.to_ascii_lowercase().as_str() {
        "yes" => Response::Yes,
        "no" => Response::No,
        "maybe" => Response::Maybe,
        _ => return None,
    };
    Some((MatchId::new(m).ok()?, response))
}

/// The reply id of a button that answers `response` for `match_id`.
pub fn reply_id(match_id: &MatchId, response: Response) -> String {
    format!("{REPLY_PREFIX}{match_id}:{}", response.as_str())
}

/// `availability.updated`: `{matchId, playerId, response, updatedBy, updatedAt,
/// messageId}`. An answer from WhatsApp is keyed on its message, so a redelivery is
/// one event.
pub fn availability_updated(match_id: &MatchId, answer: &Answer, now: DateTime<Utc>) -> NewEvent {
    NewEvent {
        kind: EventType::AvailabilityUpdated,
        payload: serde_json::json!({
            "matchId": match_id,
            "playerId": answer.player_id,
            "response": answer.response,
            "updatedBy": answer.updated_by,
            "updatedAt": format_timestamp(&answer.updated_at),
            "messageId": answer.message_id,
        }),
        timestamp: now,
        dedup_key: answer
            .message_id
            .as_ref()
            .map(|id| format!("wa:avail:{id}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_answers() {
        for (text, want) in [
            ("yes", Some(Response::Yes)),
            ("  YES ", Some(Response::Yes)),
            ("Y", Some(Response::Yes)),
            ("in", Some(Response::Yes)),
            ("I'm in!", Some(Response::Yes)),
            ("👍", Some(Response::Yes)),
            ("👍🏽", Some(Response::Yes)),
            ("no", Some(Response::No)),
            ("N", Some(Response::No)),
            ("Out.", Some(Response::No)),
            ("👎", Some(Response::No)),
            ("maybe", Some(Response::Maybe)),
            ("Not  sure", Some(Response::Maybe)),
            ("🤷‍♂️", Some(Response::Maybe)),
            ("yes but I'll be late", None),
            ("what time is the toss?", None),
            ("", None),
        ] {
            assert_eq!(parse_free_text(text), want, "{text:?}");
        }
    }

    #[test]
    fn reply_ids() {
        let m = MatchId::new("m_7").unwrap();
        assert_eq!(
            parse_reply_id("avail:m_7:yes"),
            Some((m.clone(), Response::Yes))
        );
        assert_eq!(
            parse_reply_id(&reply_id(&m, Response::Maybe)),
            Some((m, Response::Maybe))
        );
        for bad in [
            "avail:m_7:perhaps",
            "avail::yes",
            "m_7:yes",
            "avail:m#7:no",
            "avail:m_7",
        ] {
            assert_eq!(parse_reply_id(bad), None, "{bad}");
        }
    }
}
