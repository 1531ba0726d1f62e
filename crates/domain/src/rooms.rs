//! Rooms: who gets an event on WebSocket, and who may read it anywhere.
//!
//! Every connection is in its organization's `org` room. Auction events go to the
//! auction's room (`auction:<id>`, joined with `join_auction`); chat goes to the room it
//! was sent to. A team's room is private to that team's members, on every channel.

use super::event::{Event, EventType};
use super::ids::{AuctionId, MatchId, TeamId, UserId};
use std::fmt;

/// A room of an organization, parsed from its wire name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Room {
    Org,
    Team(TeamId),
    Match(MatchId),
    Auction(AuctionId),
    /// One member's connections (`user:<id>`): each connection is put in its user's room
    /// when it registers, so a revocation finds them. No client joins it or reads what
    /// goes to it (the name does not parse).
    User(UserId),
}

/// Why a room name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a room is `org`, `team:<id>`, `match:<id>` or `auction:<id>` (got {0:?})")]
pub struct InvalidRoom(pub String);

impl std::str::FromStr for Room {
    type Err = InvalidRoom;
    fn from_str(s: &str) -> Result<Room, InvalidRoom> {
        let bad = || InvalidRoom(s.chars().take(80).collect());
        if s == "org" {
            return Ok(Room::Org);
        }
        let (kind, id) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "team" => TeamId::new(id).map(Room::Team).map_err(|_| bad()),
            "match" => MatchId::new(id).map(Room::Match).map_err(|_| bad()),
            "auction" => AuctionId::new(id).map(Room::Auction).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Room::Org => f.write_str("org"),
            Room::Team(t) => write!(f, "team:{t}"),
            Room::Match(m) => write!(f, "match:{m}"),
            Room::Auction(a) => write!(f, "auction:{a}"),
            Room::User(u) => write!(f, "user:{u}"),
        }
    }
}

impl Room {
    /// Whether a member of the organization on this team (if any) may be in the room or
    /// read its events.
    pub fn admits(&self, team: Option<&TeamId>) -> bool {
        match self {
            Room::Team(t) => team == Some(t),
            Room::User(_) => false,
            _ => true,
        }
    }
}

/// The room an event is for: auction events go to their auction's room, chat to its
/// room, everything else to the whole organization.
pub fn of_event(event: &Event) -> Room {
    let field = |name: &str| event.payload.get(name).and_then(|v| v.as_str());
    match event.kind {
        EventType::AuctionLotOpened | EventType::AuctionBidPlaced | EventType::AuctionLotClosed => {
            field("auctionId")
                .and_then(|a| AuctionId::new(a).ok())
                .map_or(Room::Org, Room::Auction)
        }
        EventType::ChatMessageSent => field("room")
            .and_then(|r| r.parse().ok())
            .unwrap_or(Room::Org),
        EventType::MemberRevoked => field("userId")
            .and_then(|u| UserId::new(u).ok())
            .map_or(Room::Org, Room::User),
        _ => Room::Org,
    }
}

/// The team whose members alone may read the event, on any channel.
pub fn private_to(event: &Event) -> Option<TeamId> {
    match of_event(event) {
        Room::Team(t) => Some(t),
        _ => None,
    }
}

/// Whether a member on `team` (if any) may read the event.
pub fn visible_to(event: &Event, team: Option<&TeamId>) -> bool {
    of_event(event).admits(team)
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may take any time, the real one included
mod tests {
    use super::*;
    use crate::event::ENVELOPE_VERSION;
    use crate::ids::OrganizationId;

    fn event(kind: EventType, payload: serde_json::Value) -> Event {
        Event {
            id: crate::event::EventId(1),
            kind,
            organization_id: OrganizationId::new("o").unwrap(),
            timestamp: chrono::Utc::now(),
            version: ENVELOPE_VERSION.into(),
            payload,
        }
    }

    #[test]
    fn rooms_parse_print_and_scope() {
        for s in ["org", "team:t_2", "match:m_1", "auction:a_1"] {
            assert_eq!(s.parse::<Room>().unwrap().to_string(), s);
        }
        for s in ["", "team:", "team:a#b", "squad:x", "org:x"] {
            assert!(s.parse::<Room>().is_err(), "{s}");
        }
        let t2: Room = "team:t_2".parse().unwrap();
        assert!(t2.admits(Some(&TeamId::new("t_2").unwrap())));
        assert!(!t2.admits(Some(&TeamId::new("t_1").unwrap())));
        assert!(!t2.admits(None));
        assert!(Room::Org.admits(None));
    }

    #[test]
    fn events_find_their_room() {
        let bid = event(
            EventType::AuctionBidPlaced,
            serde_json::json!({"auctionId": "a_1"}),
        );
        assert_eq!(of_event(&bid).to_string(), "auction:a_1");
        let chat = event(
            EventType::ChatMessageSent,
            serde_json::json!({"room": "team:t_2"}),
        );
        assert_eq!(of_event(&chat).to_string(), "team:t_2");
        let score = event(
            EventType::MatchScoreUpdated,
            serde_json::json!({"matchId": "m"}),
        );
        assert_eq!(of_event(&score), Room::Org);
    }
}
