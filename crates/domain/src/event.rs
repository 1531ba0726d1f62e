//! The event envelope of the contract: one JSON shape on every channel (SSE, WebSocket,
//! catch-up). An event's `id` is its position in its organization's log.

use super::ids::OrganizationId;
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The envelope's `version`; bumped only on a breaking change of the envelope itself.
pub const ENVELOPE_VERSION: &str = "1.0";

/// An event's position in its organization's log. Ids start at 1 and strictly increase
/// within one organization; 0 means "before the first event".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventId(pub u64);

impl EventId {
    pub const ZERO: EventId = EventId(0);

    pub fn next(self) -> EventId {
        EventId(self.0 + 1)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a client-supplied event id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an event id is a decimal string of a non-negative integer (got {0:?})")]
pub struct InvalidEventId(pub String);

impl std::str::FromStr for EventId {
    type Err = InvalidEventId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidEventId(s.chars().take(40).collect()));
        }
        t.parse::<u64>()
            .map(EventId)
            .map_err(|_| InvalidEventId(s.chars().take(40).collect()))
    }
}

impl Serialize for EventId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Every kind of event the contract names. The wire names are the contract's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "availability.updated")]
    AvailabilityUpdated,
    #[serde(rename = "message.received")]
    MessageReceived,
    #[serde(rename = "message.status.updated")]
    MessageStatusUpdated,
    #[serde(rename = "match.score.updated")]
    MatchScoreUpdated,
    #[serde(rename = "auction.lot.opened")]
    AuctionLotOpened,
    #[serde(rename = "auction.bid.placed")]
    AuctionBidPlaced,
    #[serde(rename = "auction.lot.closed")]
    AuctionLotClosed,
    #[serde(rename = "chat.message.sent")]
    ChatMessageSent,
    #[serde(rename = "payment.confirmed")]
    PaymentConfirmed,
    #[serde(rename = "payment.failed")]
    PaymentFailed,
    /// Not stored in the log: sent first on a stream whose resume point the log no
    /// longer holds, telling the client to reload its state.
    #[serde(rename = "stream.reset")]
    StreamReset,
    /// In the log, but sent to no client: ends a member's open connections
    /// (`domain::revocation`). Not in [`EventType::ALL`], so no filter can ask for it.
    #[serde(rename = "member.revoked")]
    MemberRevoked,
}

impl EventType {
    /// The contract's event types: what clients receive and filters name.
    pub const ALL: [EventType; 11] = [
        EventType::AvailabilityUpdated,
        EventType::MessageReceived,
        EventType::MessageStatusUpdated,
        EventType::MatchScoreUpdated,
        EventType::AuctionLotOpened,
        EventType::AuctionBidPlaced,
        EventType::AuctionLotClosed,
        EventType::ChatMessageSent,
        EventType::PaymentConfirmed,
        EventType::PaymentFailed,
        EventType::StreamReset,
    ];

    /// Whether clients receive events of this type: all but a revocation, which acts on
    /// the streams instead (`domain::revocation`).
    pub fn reaches_clients(self) -> bool {
        self != EventType::MemberRevoked
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::AvailabilityUpdated => "availability.updated",
            EventType::MessageReceived => "message.received",
            EventType::MessageStatusUpdated => "message.status.updated",
            EventType::MatchScoreUpdated => "match.score.updated",
            EventType::AuctionLotOpened => "auction.lot.opened",
            EventType::AuctionBidPlaced => "auction.bid.placed",
            EventType::AuctionLotClosed => "auction.lot.closed",
            EventType::ChatMessageSent => "chat.message.sent",
            EventType::PaymentConfirmed => "payment.confirmed",
            EventType::PaymentFailed => "payment.failed",
            EventType::StreamReset => "stream.reset",
            EventType::MemberRevoked => "member.revoked",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an event type name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type {0:?}")]
pub struct UnknownEventType(pub String);

/// Every name the log may hold: the contract's, and a revocation's.
impl std::str::FromStr for EventType {
    type Err = UnknownEventType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .chain([EventType::MemberRevoked])
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownEventType(s.chars().take(64).collect()))
    }
}

/// An event as the log holds it and every channel sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: EventId,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub organization_id: OrganizationId,
    #[serde(with = "millis_timestamp")]
    pub timestamp: DateTime<Utc>,
    pub version: String,
    pub payload: serde_json::Value,
}

impl Event {
    /// The envelope as one line of JSON; rendered once per event, however many
    /// subscribers it reaches.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an event always serializes")
    }

    /// The control event that tells a resuming client its position is gone.
    pub fn stream_reset(org: OrganizationId, head: EventId, now: DateTime<Utc>) -> Event {
        Event {
            id: head,
            kind: EventType::StreamReset,
            organization_id: org,
            timestamp: now,
            version: ENVELOPE_VERSION.to_string(),
            payload: serde_json::json!({ "reason": "resume point no longer in the log", "lastEventId": head }),
        }
    }

    /// The payload's `matchId`, the key that the `matchId=` filter selects on.
    pub fn match_id(&self) -> Option<&str> {
        self.payload.get("matchId").and_then(|v| v.as_str())
    }
}

/// An event about to be appended: the log assigns its id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventType,
    pub payload: serde_json::Value,
    pub timestamp: DateTime<Utc>,
    /// Makes the append idempotent: a second append with the same key in the same
    /// organization returns the first event instead of writing another. At-least-once
    /// delivery upstream (SQS, Meta's retries) relies on it.
    pub dedup_key: Option<String>,
}

impl NewEvent {
    /// The event as stored: the timestamp keeps milliseconds, as the wire does, so an
    /// event read back equals the one appended.
    pub fn into_event(self, id: EventId, org: OrganizationId) -> Event {
        Event {
            id,
            kind: self.kind,
            organization_id: org,
            timestamp: self.timestamp.trunc_subsecs(3),
            version: ENVELOPE_VERSION.to_string(),
            payload: self.payload,
        }
    }
}

/// RFC 3339 with milliseconds and `Z`, as the contract shows.
pub mod millis_timestamp {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// Formats a timestamp the way the envelope does.
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> Event {
        Event {
            id: EventId(1842),
            kind: EventType::MatchScoreUpdated,
            organization_id: OrganizationId::new("org_42").unwrap(),
            timestamp: Utc.with_ymd_and_hms(2026, 11, 26, 7, 15, 2).unwrap()
                + chrono::Duration::milliseconds(311),
            version: ENVELOPE_VERSION.into(),
            payload: serde_json::json!({"matchId": "m_7", "runs": 145}),
        }
    }

    #[test]
    fn envelope_has_the_contract_wire_names() {
        let v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "id": "1842",
                "type": "match.score.updated",
                "organizationId": "org_42",
                "timestamp": "2026-11-26T07:15:02.311Z",
                "version": "1.0",
                "payload": {"matchId": "m_7", "runs": 145}
            })
        );
    }

    #[test]
    fn envelope_round_trips() {
        let e = sample();
        let back: Event = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.match_id(), Some("m_7"));
    }

    #[test]
    fn every_type_name_parses_back() {
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>().unwrap(), t);
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert!("message.deleted".parse::<EventType>().is_err());
    }

    #[test]
    fn event_ids_parse_strictly() {
        assert_eq!("17".parse::<EventId>().unwrap(), EventId(17));
        assert_eq!(" 0 ".parse::<EventId>().unwrap(), EventId(0));
        for bad in ["", "-1", "1e3", "abc", "99999999999999999999999"] {
            assert!(bad.parse::<EventId>().is_err(), "{bad}");
        }
    }
}
