//! The one test suite of each port, one file a port. Every adapter (embedded, AWS
//! against the emulator) runs these same functions, so both behave alike where the
//! handlers can tell.
//!
//! Each suite works in organizations of its own (a random suffix), so suites can share
//! one emulator and one database.

#![allow(clippy::disallowed_methods)] // a test suite may read the clock

mod auctions;
mod availability;
mod blobs;
mod chat;
mod directory;
mod event_log;
mod matches;
mod messages;
mod quarantine;
mod queue;
mod registry;
mod tickets;

pub use auctions::auctions;
pub use availability::availability;
pub use blobs::blobs;
pub use chat::chat;
pub use directory::directory;
pub use event_log::event_log;
pub use matches::matches;
pub use messages::messages;
pub use quarantine::quarantine;
pub use queue::queue;
pub use registry::registry;
pub use tickets::tickets;

use chrono::Utc;
use pitchside_domain::event::{EventType, NewEvent};
use pitchside_domain::ids::OrganizationId;

/// A fresh organization id for one suite run.
pub fn fresh_org(tag: &str) -> OrganizationId {
    OrganizationId::new(format!("{tag}-{}", hex::encode(rand::random::<[u8; 6]>()))).unwrap()
}

pub(crate) fn new_event(text: &str, dedup: Option<&str>) -> NewEvent {
    NewEvent {
        kind: EventType::MessageReceived,
        payload: serde_json::json!({ "text": text }),
        timestamp: Utc::now(),
        dedup_key: dedup.map(str::to_string),
    }
}
