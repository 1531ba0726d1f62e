//! The embedded backend: SQLite for the store and the queue. In-process push (the hub)
//! is in `pitchside_core::live`, since a Lambda holding connections uses it too.

// An adapter keeps time as its backend does (queue visibility, TTLs): the wall clock.
#![allow(clippy::disallowed_methods)]

mod auctions;
pub mod db;
pub mod queue;
mod records;
pub mod store;

pub use db::Db;
pub use queue::SqliteQueue;
pub use store::SqliteStore;
