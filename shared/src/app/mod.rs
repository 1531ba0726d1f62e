//! The handlers' logic, independent of what carries the request (the local gateway or a
//! Lambda): each function takes the ports and typed input, and answers typed output or
//! an `ApiError`.

pub mod admin;
pub mod auction;
pub mod authn;
pub mod availability;
pub mod catchup;
pub mod error;
pub mod scoring;
pub mod webhook;
pub mod worker;
pub mod ws;

pub use error::ApiError;

use crate::domain::auth::{Principal, Role};
use crate::ports::*;
use std::sync::Arc;

/// Every port a handler may need, behind trait objects so that the same handler runs
/// on either backend.
#[derive(Clone)]
pub struct Ports {
    pub log: Arc<dyn EventLog>,
    pub directory: Arc<dyn Directory>,
    pub tickets: Arc<dyn TicketStore>,
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
}

/// Every store port at once: the embedded and the DynamoDB store each implement them all.
pub trait Store:
    EventLog
    + Directory
    + TicketStore
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
        }
    }
}

/// Refuses (403) a caller who holds none of `roles` for `what` they tried.
pub fn require(who: &Principal, roles: &[Role], what: &str) -> Result<(), ApiError> {
    if roles.iter().any(|r| who.has_role(*r)) {
        return Ok(());
    }
    let names: Vec<String> = roles
        .iter()
        .map(|r| {
            serde_json::to_value(r).map_or_else(
                |_| format!("{r:?}"),
                |v| v.as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    Err(ApiError::forbidden(format!(
        "{what} needs the {} role",
        names.join(" or ")
    )))
}

/// Pushes an appended event to its live subscribers. Best-effort by design (see
/// `Pusher`): a subscriber that misses it catches up from the log, so a failure is
/// logged, not returned.
pub async fn push(ports: &Ports, event: &crate::domain::event::Event) {
    if let Err(e) = ports.pusher.publish(event).await {
        tracing::warn!(error = %e, event_id = %event.id, "push failed; subscribers catch up from the log");
    }
}
