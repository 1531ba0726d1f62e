//! The AWS push path's ports: the queue of chunks an appended event becomes, and the
//! connections' endpoint the chunks are posted to (README, "On AWS").

use super::{ConnectionId, StoreResult};
use async_trait::async_trait;
use pitchside_domain::push::Chunk;

/// The push queue: ordered per chunk's lane (its group), parallel across lanes.
#[async_trait]
pub trait ChunkQueue: Send + Sync {
    /// Queues `chunks`, each lane's in the order given; all or an error (queuing again
    /// what was queued is harmless: a chunk is deduplicated by its id).
    async fn send(&self, chunks: &[Chunk]) -> StoreResult<()>;
}

/// What became of one call to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    Sent,
    /// The connection is gone (410): forget it.
    Gone,
    /// Too many requests (429): back off and try again.
    Throttled,
    /// Any other failure; `retry` when trying again may succeed (a 5xx, a timeout),
    /// not when the request itself is refused (403, 400).
    Failed {
        retry: bool,
    },
}

/// The connections' side of API Gateway's management API (or the local gateway's
/// stand-in): one call, no retries of its own, so that the caller's policy is the only
/// one.
#[async_trait]
pub trait ConnectionEndpoint: Send + Sync {
    async fn post(&self, id: &ConnectionId, data: &[u8]) -> Posted;
    /// Closes the connection (API Gateway closes it with 1000 and calls `$disconnect`).
    async fn close(&self, id: &ConnectionId) -> Posted;
}
