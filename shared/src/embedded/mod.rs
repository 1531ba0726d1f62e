//! The embedded backend: SQLite for the store and the queue, in-process push.

mod auctions;
pub mod db;
pub mod hub;
pub mod queue;
mod records;
pub mod store;

pub use db::Db;
pub use hub::{Frame, Hub, MemoryRegistry};
pub use queue::SqliteQueue;
pub use store::SqliteStore;
