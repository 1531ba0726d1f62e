//! The ports: what the handlers need from the outside world, as traits, one file per
//! port. Each has an embedded adapter (SQLite, in-process push) and one over the AWS SDK;
//! both are held to the same suite (`pitchside-port-suite`).

mod auctions;
mod availability;
mod blobs;
mod chat;
mod directory;
mod error;
mod leases;
mod log;
mod matches;
mod messages;
mod push;
mod pusher;
mod quarantine;
mod queue;
mod registry;
mod secrets;
mod tickets;

pub use auctions::AuctionStore;
pub use availability::{Applied, AvailabilityStore};
pub use blobs::BlobStore;
pub use chat::ChatStore;
pub use directory::Directory;
pub use error::{BoxError, StoreError, StoreResult, error_chain};
pub use leases::{StreamLeases, first_free_slot};
pub use log::{Appended, EventLog, LogPage, ReadFrom};
pub use matches::{At, BallWrite, MatchHead, MatchStore};
pub use messages::MessageStore;
pub use push::{ChunkQueue, ConnectionEndpoint, Posted};
pub use pusher::{Fanout, Pusher};
pub use quarantine::QuarantineStore;
pub use queue::{DeadLetter, Queue, QueueDepth, Received};
pub use registry::{ConnectionId, ConnectionInfo, ConnectionRegistry, ORG_ROOM};
pub use secrets::{SecretError, SecretStore};
pub use tickets::{TicketGrant, TicketStore};

// The plain records the ports carry live in the domain; named here too, since every
// adapter and handler that speaks to a port uses them.
pub use pitchside_domain::catchup::LogBounds;
pub use pitchside_domain::tenancy::{InboundRecord, Organization, Player};

use crate::clock::{Clock, SystemClock};
use std::sync::Arc;

/// Every port a handler may need, behind trait objects so that the same handler runs
/// on either backend.
#[derive(Clone)]
pub struct Ports {
    pub log: Arc<dyn EventLog>,
    pub directory: Arc<dyn Directory>,
    pub tickets: Arc<dyn TicketStore>,
    pub leases: Arc<dyn StreamLeases>,
    pub messages: Arc<dyn MessageStore>,
    pub availability: Arc<dyn AvailabilityStore>,
    pub quarantine: Arc<dyn QuarantineStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub matches: Arc<dyn MatchStore>,
    pub auctions: Arc<dyn AuctionStore>,
    pub chat: Arc<dyn ChatStore>,
    pub queue: Arc<dyn Queue>,
    pub registry: Arc<dyn ConnectionRegistry>,
    pub pusher: Arc<dyn Pusher>,
    /// Where every handler takes `now` from.
    pub clock: Arc<dyn Clock>,
}

/// Every store port at once: the embedded and the DynamoDB store each implement them all.
pub trait Store:
    EventLog
    + Directory
    + TicketStore
    + StreamLeases
    + MessageStore
    + AvailabilityStore
    + QuarantineStore
    + BlobStore
    + MatchStore
    + AuctionStore
    + ChatStore
    + 'static
{
}

impl<S> Store for S where
    S: EventLog
        + Directory
        + TicketStore
        + StreamLeases
        + MessageStore
        + AvailabilityStore
        + QuarantineStore
        + BlobStore
        + MatchStore
        + AuctionStore
        + ChatStore
        + 'static
{
}

impl Ports {
    /// The same ports on another clock (a test's).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Ports {
        self.clock = clock;
        self
    }

    /// The ports of one store, with the queue, registry and pusher beside it.
    pub fn new<S: Store>(
        store: Arc<S>,
        queue: Arc<dyn Queue>,
        registry: Arc<dyn ConnectionRegistry>,
        pusher: Arc<dyn Pusher>,
    ) -> Ports {
        Ports {
            log: store.clone(),
            directory: store.clone(),
            tickets: store.clone(),
            leases: store.clone(),
            messages: store.clone(),
            availability: store.clone(),
            quarantine: store.clone(),
            blobs: store.clone(),
            matches: store.clone(),
            auctions: store.clone(),
            chat: store,
            queue,
            registry,
            pusher,
            clock: Arc::new(SystemClock),
        }
    }
}
