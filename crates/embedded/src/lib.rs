//! The embedded backend: SQLite for the store and the queue. In-process push (the hub)
//! is in `pitchside_core::live`, since a Lambda holding connections uses it too.

mod auctions;
pub mod db;
pub mod queue;
mod records;
pub mod store;

pub use db::Db;
pub use queue::SqliteQueue;
pub use store::SqliteStore;
