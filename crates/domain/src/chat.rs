//! Chat messages: what a member may send to a room.

use super::ids::UserId;
use super::rooms::Room;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest message, in characters.
pub const MAX_CHAT_CHARS: usize = 1000;

/// A message as stored and sent in `chat.message.sent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub message_id: String,
    pub room: String,
    pub from: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub text: String,
    #[serde(with = "super::event::millis_timestamp")]
    pub sent_at: DateTime<Utc>,
}

impl ChatMessage {
    /// The message as stored: the time keeps milliseconds, as the wire does.
    pub fn with_millis(mut self) -> ChatMessage {
        use chrono::SubsecRound;
        self.sent_at = self.sent_at.trunc_subsecs(3);
        self
    }
}

/// Why a chat message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    #[error("the message is empty")]
    Empty,
    #[error("a message is at most {MAX_CHAT_CHARS} characters (this one has {0})")]
    TooLong(usize),
    #[error("only the members of team {0} may use its room")]
    NotInTeam(String),
}

/// Checks a message's text and the sender's right to the room; answers the text trimmed.
pub fn check<'a>(
    room: &Room,
    team: Option<&super::ids::TeamId>,
    text: &'a str,
) -> Result<&'a str, ChatError> {
    if !room.admits(team) {
        let Room::Team(t) = room else {
            unreachable!("only team rooms refuse")
        };
        return Err(ChatError::NotInTeam(t.to_string()));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(ChatError::Empty);
    }
    let n = text.chars().count();
    if n > MAX_CHAT_CHARS {
        return Err(ChatError::TooLong(n));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TeamId;

    #[test]
    fn text_and_rooms_are_checked() {
        let t2: Room = "team:t_2".parse().unwrap();
        let mine = TeamId::new("t_2").unwrap();
        let other = TeamId::new("t_1").unwrap();
        assert_eq!(check(&t2, Some(&mine), "  hi "), Ok("hi"));
        assert_eq!(
            check(&t2, Some(&other), "hi"),
            Err(ChatError::NotInTeam("t_2".into()))
        );
        assert_eq!(check(&Room::Org, None, " \n"), Err(ChatError::Empty));
        let long = "é".repeat(MAX_CHAT_CHARS + 1);
        assert_eq!(
            check(&Room::Org, None, &long),
            Err(ChatError::TooLong(MAX_CHAT_CHARS + 1))
        );
        assert!(check(&Room::Org, None, &"é".repeat(MAX_CHAT_CHARS)).is_ok());
    }
}
