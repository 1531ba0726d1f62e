//! The one test suite of each port, one file a port. Every adapter (embedded, AWS
//! against the emulator) runs these same functions, so both behave alike where the
//! handlers can tell.
//!
//! Each port's module has a macro (`event_log_tests!`, `queue_tests!`, …) that writes
//! one `#[tokio::test]` per case for an adapter, and `store_tests!` writes them for every
//! store port at once: an adapter's test file names its constructor once and gets every
//! case, so no adapter can skip one. Each case works in organizations of its own (a
//! random suffix), so cases can share one emulator and one database.

#![allow(clippy::disallowed_methods)] // a test suite may read the clock

pub mod auctions;
pub mod availability;
pub mod blobs;
pub mod chat;
pub mod directory;
pub mod event_log;
pub mod leases;
pub mod matches;
pub mod messages;
pub mod quarantine;
pub mod queue;
pub mod registry;
pub mod tickets;

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

/// Tests named `$port::$case`, each building its adapter with `$make` (evaluated inside
/// the test, so it may `.await`; whatever it answers must dereference to the adapter,
/// which lets it keep a temporary folder alive beside it).
#[macro_export]
macro_rules! cases {
    ($port:ident, $make:expr, [$($case:ident),+ $(,)?]) => {
        mod $port {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    let adapter = $make;
                    $crate::$port::$case(&*adapter).await;
                }
            )+
        }
    };
}

/// Every store port's cases for one store.
#[macro_export]
macro_rules! store_tests {
    ($make:expr) => {
        $crate::event_log_tests!($make);
        $crate::directory_tests!($make);
        $crate::tickets_tests!($make);
        $crate::leases_tests!($make);
        $crate::messages_tests!($make);
        $crate::availability_tests!($make);
        $crate::quarantine_tests!($make);
        $crate::blobs_tests!($make);
        $crate::matches_tests!($make);
        $crate::auctions_tests!($make);
        $crate::chat_tests!($make);
    };
}
