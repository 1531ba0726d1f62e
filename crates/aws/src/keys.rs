//! The DynamoDB key design: one table, partition key `pk` and sort key `sk` (strings),
//! one global secondary index `gsi1` (`gsi1pk`, `gsi1sk`), and TTL on `expiresAt`
//! (epoch seconds). Every access is a get or a query on a key; nothing scans.
//!
//! | item | pk | sk | other attributes |
//! | --- | --- | --- | --- |
//! | organization | `ORG#{org}` | `PROFILE` | `name` |
//! | log bounds | `ORG#{org}` | `LOG` | `head` |
//! | member | `ORG#{org}` | `MEMBER#{user}` | `membership` (JSON) |
//! | player | `ORG#{org}` | `PLAYER#{player}` | `name`, `whatsapp` |
//! | player by WhatsApp id | `ORG#{org}` | `PLAYERWA#{wa_id}` | `playerId` |
//! | player by WhatsApp user id | `ORG#{org}` | `PLAYERWAU#{user_id}` | `playerId` |
//! | latest availability request | `ORG#{org}` | `AVAILREQ#{player}` | `matchId`, `requestedMs` |
//! | availability | `AVAIL#{org}#{match}` | `P#{player}` | `answer` (JSON, absent while pending), `updatedMs` |
//! | WhatsApp number | `WANUM#{phone_number_id}` | `WANUM` | `org` |
//! | event | `EVT#{org}` | `{id:020}` | `type`, `ts` (ms), `payload`, `expiresAt`; `gsi1pk` = pk, `gsi1sk` = `{ts:015}#{id:020}` |
//! | event dedup key | `DEDUP#{org}#{key}` | `DEDUP` | `eventId`, `expiresAt` |
//! | ticket | `TICKET#{sha256 hex}` | `TICKET` | `grant` (JSON), `expiresMs`, `expiresAt` |
//! | stream lease | `LEASE#{org}#{user}` | `SLOT#{slot:03}` | `stream`, `untilMs`, `expiresAt` |
//! | inbound message | `MSG#{org}` | `IN#{message id}` | `record` (JSON) |
//! | outbound message status | `MSG#{org}` | `OUT#{message id}` | `rank`, `record` (JSON) |
//! | match head | `MATCH#{org}#{match}` | `HEAD` | `setup` (JSON), `balls`, `revision` |
//! | delivery | `MATCH#{org}#{match}` | `BALL#{seq:06}` | `delivery` (JSON) |
//! | quarantined payload | `QUARANTINE` | `{id}` | `entry` (JSON); the body is the blob `quarantine/{id}` |
//! | blob chunk | `BLOB#{key}` | `{chunk:05}` | `data` (binary); chunk 0 also `chunks`, `bytes`; `expiresAt` |
//! | auction | `AUCTION#{org}#{auction}` | `DOC` | `doc` (JSON), `revision` |
//! | chat message | `CHAT#{org}#{room}` | `{sent ms:015}#{message id}` | `message` (JSON), `expiresAt` |
//! | chat message id | `CHATID#{org}#{message id}` | `CHATID` | `expiresAt` |
//! | connection | `CONN#{connection}` | `CONN` | `org`, `user`, `rooms` (string set), `expiresAt` |
//! | room member | `ROOM#{org}#{room}` | `{connection}` | `expiresAt` |
//!
//! Identifiers cannot contain `#` (see `domain::ids`), so no key can reach into another
//! organization's.

use pitchside_domain::event::EventId;
use pitchside_domain::ids::{OrganizationId, UserId};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1PK: &str = "gsi1pk";
pub const GSI1SK: &str = "gsi1sk";
pub const TTL: &str = "expiresAt";

pub fn org(org: &OrganizationId) -> String {
    format!("ORG#{org}")
}
pub const PROFILE: &str = "PROFILE";
pub const LOG: &str = "LOG";
pub fn member(user: &str) -> String {
    format!("MEMBER#{user}")
}
pub fn player(id: &str) -> String {
    format!("PLAYER#{id}")
}
pub fn player_wa(wa: &str) -> String {
    format!("PLAYERWA#{wa}")
}
pub fn player_wa_user(user_id: &str) -> String {
    format!("PLAYERWAU#{user_id}")
}
pub fn availability_request(player: &str) -> String {
    format!("AVAILREQ#{player}")
}
pub fn availability(org: &OrganizationId, match_id: &str) -> String {
    format!("AVAIL#{org}#{match_id}")
}
pub fn availability_player(player: &str) -> String {
    format!("P#{player}")
}
pub fn outbound(id: &str) -> String {
    format!("OUT#{id}")
}
pub const QUARANTINE: &str = "QUARANTINE";
pub fn match_pk(org: &OrganizationId, id: &str) -> String {
    format!("MATCH#{org}#{id}")
}
pub const MATCH_HEAD: &str = "HEAD";
pub fn ball(seq: u32) -> String {
    format!("BALL#{seq:06}")
}
pub fn blob(key: &str) -> String {
    format!("BLOB#{key}")
}
pub fn blob_chunk(i: usize) -> String {
    format!("{i:05}")
}
pub fn wa_number(number: &str) -> String {
    format!("WANUM#{number}")
}
pub const WANUM: &str = "WANUM";
pub fn events(org: &OrganizationId) -> String {
    format!("EVT#{org}")
}
pub fn event_sk(id: EventId) -> String {
    format!("{:020}", id.0)
}
pub fn event_time_sk(ts_ms: i64, id: EventId) -> String {
    format!("{:015}#{:020}", ts_ms.max(0), id.0)
}
pub fn time_floor(ts_ms: i64) -> String {
    format!("{:015}", ts_ms.max(0))
}
pub fn dedup(org: &OrganizationId, key: &str) -> String {
    format!("DEDUP#{org}#{key}")
}
pub const DEDUP: &str = "DEDUP";
pub fn ticket(digest: &[u8; 32]) -> String {
    format!("TICKET#{}", hex::encode(digest))
}
pub const TICKET: &str = "TICKET";

pub fn lease(org: &OrganizationId, user: &UserId) -> String {
    format!("LEASE#{org}#{user}")
}

pub fn lease_slot(slot: u32) -> String {
    format!("SLOT#{slot:03}")
}

/// The slot a lease item's sort key names.
pub fn parse_lease_slot(sk: &str) -> Option<u32> {
    sk.strip_prefix("SLOT#")?.parse().ok()
}
pub fn messages(org: &OrganizationId) -> String {
    format!("MSG#{org}")
}
pub fn inbound(id: &str) -> String {
    format!("IN#{id}")
}
pub fn auction(org: &OrganizationId, id: &str) -> String {
    format!("AUCTION#{org}#{id}")
}
pub const AUCTION_DOC: &str = "DOC";
pub fn chat(org: &OrganizationId, room: &str) -> String {
    format!("CHAT#{org}#{room}")
}
pub fn chat_sk(sent_ms: i64, id: &str) -> String {
    format!("{:015}#{id}", sent_ms.max(0))
}
pub fn chat_id(org: &OrganizationId, id: &str) -> String {
    format!("CHATID#{org}#{id}")
}
pub const CHATID: &str = "CHATID";
pub fn connection(id: &str) -> String {
    format!("CONN#{id}")
}
pub const CONN: &str = "CONN";
pub fn room(org: &OrganizationId, room: &str) -> String {
    format!("ROOM#{org}#{room}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_sort_by_id_and_time() {
        assert!(event_sk(EventId(9)) < event_sk(EventId(10)));
        assert!(event_time_sk(999, EventId(5)) < event_time_sk(1000, EventId(1)));
        assert!(time_floor(1000) <= event_time_sk(1000, EventId(1)));
    }
}
