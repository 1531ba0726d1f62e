//! Fan-out planned: which of a room's connections get an event, in which chunk, and in
//! which ordered lane.
//!
//! On AWS an appended event reaches a room's WebSocket connections through a FIFO queue
//! of chunks (README, "On AWS"). Order is what the plan must keep: a client drops an
//! event whose id is not above the last one it delivered, so every connection must get
//! its events in log order, across every room it is in. Each connection therefore
//! belongs to one lane of its organization, fixed by a hash of its id (the FIFO
//! queue's message group), and every chunk holds connections of one lane only: lanes
//! run in parallel, a lane's chunks one after another, so a connection's events arrive
//! in the order the plan emitted them, which is the log's.

use crate::event::EventId;
use crate::ids::OrganizationId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Lanes per organization: the most push invocations one organization's events run
/// on at once.
pub const LANES: u32 = 16;
/// Connections per chunk: one chunk's posts finish in about a second at 64 in flight
/// and 30 ms a post, and its message stays far under SQS's size limit.
pub const CHUNK_CONNECTIONS: usize = 1000;
/// API Gateway's limit on one WebSocket message (128 KB): nothing larger is posted.
pub const MAX_POST_BYTES: usize = 128 * 1024;

/// What a chunk asks of its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Post `data`.
    Deliver,
    /// Post `data` (the revocation notice), then close the connection and forget it.
    End,
}

/// One message of the push queue: `data` for each of `connections`, all in `lane`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chunk {
    pub organization_id: OrganizationId,
    pub event_id: EventId,
    pub lane: u32,
    /// Which chunk of this event's lane (0, 1, …), so each has its own dedup id.
    pub part: u32,
    pub action: Action,
    pub data: String,
    pub connections: Vec<String>,
}

impl Chunk {
    /// The FIFO message group: the organization's lane. At most 128 characters, as SQS
    /// allows (an organization id may be 128 long: a long one is hashed).
    pub fn group(&self) -> String {
        let org = self.organization_id.as_str();
        if org.len() <= 120 {
            format!("{org}#{:02}", self.lane)
        } else {
            format!("{}#{:02}", &digest(org)[..32], self.lane)
        }
    }

    /// The FIFO deduplication id: the same for the same chunk of the same event, so a
    /// fan-out that runs again within SQS's five-minute window queues nothing twice.
    pub fn dedup_id(&self) -> String {
        digest(&format!(
            "{}\n{}\n{}\n{}\n{:?}",
            self.organization_id, self.event_id, self.lane, self.part, self.action
        ))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a chunk serializes")
    }
}

fn digest(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The lane of a connection: FNV-1a of its id, so every process agrees without
/// coordination and a connection never changes lane.
pub fn lane(connection: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in connection.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % LANES
}

/// What a chunk's message may take of SQS's 256 KiB limit, its other fields included.
const BODY_BUDGET: usize = 250 * 1024;
/// The fields of a chunk's message other than its data and its connections, at most.
const ENVELOPE_BYTES: usize = 512;
/// The least room a chunk keeps for its connections' ids.
const MIN_ID_ROOM: usize = 16 * 1024;

/// Why an event is not planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "event {event} ({bytes} bytes) is too large to post: over API Gateway's {MAX_POST_BYTES}-byte message limit, or too large to queue once escaped"
)]
pub struct TooLarge {
    pub event: EventId,
    pub bytes: usize,
}

/// The chunks that take `data` to `connections`: per lane, in lane order, at most
/// `CHUNK_CONNECTIONS` each and each within SQS's message size. No chunk for an empty
/// room.
pub fn plan(
    org: &OrganizationId,
    event: EventId,
    action: Action,
    data: &str,
    connections: impl IntoIterator<Item = String>,
) -> Result<Vec<Chunk>, TooLarge> {
    plan_page(org, event, action, data, connections, &mut Parts::default())
}

/// The next part number of each lane of one event, across the pages of its room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts(Vec<u32>);

impl Default for Parts {
    fn default() -> Self {
        Parts(vec![0; LANES as usize])
    }
}

/// As [`plan`], for one page of a room read page by page: the page's chunks go out
/// before the next page is read, each lane's parts numbered on from the last page's
/// (so a lane's chunks of one event keep their order and their dedup ids).
pub fn plan_page(
    org: &OrganizationId,
    event: EventId,
    action: Action,
    data: &str,
    connections: impl IntoIterator<Item = String>,
    parts: &mut Parts,
) -> Result<Vec<Chunk>, TooLarge> {
    // The data travels as a JSON string: escaped, it can grow (quotes in a JSON text),
    // and a chunk must still have room for some connections.
    let escaped = serde_json::to_string(data).map_or(usize::MAX, |s| s.len());
    if data.len() > MAX_POST_BYTES || escaped > BODY_BUDGET - ENVELOPE_BYTES - MIN_ID_ROOM {
        return Err(TooLarge {
            event,
            bytes: data.len(),
        });
    }
    let room_for_ids = BODY_BUDGET - ENVELOPE_BYTES - escaped;
    let mut lanes: Vec<Vec<String>> = vec![Vec::new(); LANES as usize];
    for c in connections {
        lanes[lane(&c) as usize].push(c);
    }
    let mut chunks = Vec::new();
    for ((l, members), part) in (0..LANES).zip(lanes).zip(parts.0.iter_mut()) {
        let mut ids: Vec<String> = Vec::new();
        let mut bytes = 0;
        for id in members {
            // Quoted, with its comma.
            let cost = id.len() + 3;
            if !ids.is_empty() && (ids.len() == CHUNK_CONNECTIONS || bytes + cost > room_for_ids) {
                chunks.push(chunk(
                    org,
                    event,
                    l,
                    *part,
                    action,
                    data,
                    std::mem::take(&mut ids),
                ));
                *part += 1;
                bytes = 0;
            }
            bytes += cost;
            ids.push(id);
        }
        if !ids.is_empty() {
            chunks.push(chunk(org, event, l, *part, action, data, ids));
            *part += 1;
        }
    }
    Ok(chunks)
}

fn chunk(
    org: &OrganizationId,
    event: EventId,
    lane: u32,
    part: u32,
    action: Action,
    data: &str,
    connections: Vec<String>,
) -> Chunk {
    Chunk {
        organization_id: org.clone(),
        event_id: event,
        lane,
        part,
        action,
        data: data.to_string(),
        connections,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> OrganizationId {
        OrganizationId::new("club").unwrap()
    }

    #[test]
    fn every_connection_is_in_exactly_one_chunk_of_its_own_lane() {
        let ids: Vec<String> = (0..5000).map(|i| format!("conn-{i}=")).collect();
        let chunks = plan(&org(), EventId(7), Action::Deliver, "{}", ids.clone()).unwrap();
        let mut seen: Vec<&String> = chunks.iter().flat_map(|c| &c.connections).collect();
        seen.sort();
        let mut want: Vec<&String> = ids.iter().collect();
        want.sort();
        assert_eq!(seen, want);
        for c in &chunks {
            assert!(c.connections.len() <= CHUNK_CONNECTIONS);
            assert!(c.connections.iter().all(|id| lane(id) == c.lane));
            assert_eq!(c.group(), format!("club#{:02}", c.lane));
        }
        // 5,000 connections over 16 lanes: every lane used, none split.
        assert_eq!(chunks.len(), LANES as usize);
    }

    #[test]
    fn a_crowded_lane_is_split_into_numbered_parts_with_their_own_dedup_ids() {
        let ids: Vec<String> = (0..100_000)
            .map(|i| format!("c{i}"))
            .filter(|c| lane(c) == 3)
            .take(2500)
            .collect();
        let chunks = plan(&org(), EventId(1), Action::Deliver, "x", ids).unwrap();
        let parts: Vec<(u32, usize)> = chunks
            .iter()
            .map(|c| (c.part, c.connections.len()))
            .collect();
        assert_eq!(parts, vec![(0, 1000), (1, 1000), (2, 500)]);
        let mut dedup: Vec<String> = chunks.iter().map(Chunk::dedup_id).collect();
        dedup.dedup();
        assert_eq!(dedup.len(), 3);
        assert!(dedup.iter().all(|d| d.len() <= 128));
    }

    #[test]
    fn the_same_chunk_planned_twice_has_the_same_dedup_id_and_another_event_another() {
        let a = plan(&org(), EventId(1), Action::Deliver, "x", ["c1".into()]).unwrap();
        let b = plan(&org(), EventId(1), Action::Deliver, "x", ["c1".into()]).unwrap();
        let c = plan(&org(), EventId(2), Action::Deliver, "x", ["c1".into()]).unwrap();
        assert_eq!(a[0].dedup_id(), b[0].dedup_id());
        assert_ne!(a[0].dedup_id(), c[0].dedup_id());
    }

    #[test]
    fn an_empty_room_needs_no_chunk_and_an_oversized_event_is_refused() {
        assert!(
            plan(&org(), EventId(1), Action::Deliver, "x", Vec::new())
                .unwrap()
                .is_empty()
        );
        let big = "x".repeat(MAX_POST_BYTES + 1);
        let err = plan(&org(), EventId(9), Action::Deliver, &big, ["c".into()]).unwrap_err();
        assert_eq!(err.bytes, MAX_POST_BYTES + 1);
        let quoted = "\"".repeat(MAX_POST_BYTES);
        assert!(plan(&org(), EventId(9), Action::Deliver, &quoted, ["c".into()]).is_err());
    }

    #[test]
    fn every_chunk_of_the_largest_event_fits_in_one_queue_message() {
        // A JSON text of quotes doubles when escaped: the largest that still fits.
        let data = "\"".repeat((BODY_BUDGET - ENVELOPE_BYTES - MIN_ID_ROOM) / 2 - 1);
        let ids: Vec<String> = (0..20_000).map(|i| format!("connection-{i:08}=")).collect();
        let chunks = plan(&org(), EventId(1), Action::Deliver, &data, ids).unwrap();
        // About 1,250 a lane: under the count limit, over what the size leaves room for.
        assert!(
            chunks.len() >= 2 * LANES as usize,
            "split by size, not count"
        );
        for c in &chunks {
            assert!(c.to_json().len() <= 256 * 1024, "{}", c.to_json().len());
        }
    }

    #[test]
    fn the_pages_of_a_room_number_each_lanes_parts_on() {
        let ids: Vec<String> = (0..400).map(|i| format!("c{i:04}")).collect();
        let mut parts = Parts::default();
        let mut chunks = Vec::new();
        for page in ids.chunks(100) {
            chunks.extend(
                plan_page(
                    &org(),
                    EventId(5),
                    Action::Deliver,
                    "x",
                    page.to_vec(),
                    &mut parts,
                )
                .unwrap(),
            );
        }
        let mut per_lane: std::collections::HashMap<u32, Vec<u32>> = Default::default();
        for c in &chunks {
            per_lane.entry(c.lane).or_default().push(c.part);
        }
        for (lane, got) in per_lane {
            let want: Vec<u32> = (0..u32::try_from(got.len()).unwrap()).collect();
            assert_eq!(got, want, "lane {lane}: parts 0, 1, … across the pages");
        }
        let mut dedup: Vec<String> = chunks.iter().map(Chunk::dedup_id).collect();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), chunks.len(), "every chunk its own dedup id");
        let mut all: Vec<&String> = chunks.iter().flat_map(|c| &c.connections).collect();
        all.sort();
        assert_eq!(all.len(), 400);
    }

    #[test]
    fn a_long_organization_id_still_makes_a_valid_group() {
        let long = OrganizationId::new("o".repeat(128)).unwrap();
        let chunks = plan(&long, EventId(1), Action::End, "x", ["c".into()]).unwrap();
        assert!(chunks[0].group().len() <= 128);
    }

    #[test]
    fn a_chunk_round_trips_through_its_message_body() {
        let c = &plan(&org(), EventId(3), Action::End, "{\"a\":1}", ["c".into()]).unwrap()[0];
        let back: Chunk = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(&back, c);
    }
}
