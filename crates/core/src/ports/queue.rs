//! The queue port, with SQS's semantics.

use super::StoreResult;
use async_trait::async_trait;
use std::time::Duration;

/// A message taken from the queue; it stays invisible to other consumers until its
/// visibility timeout, and is gone only once deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub message_id: String,
    pub receipt: String,
    pub body: Vec<u8>,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
}

/// A message that exhausted its receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub message_id: String,
    pub body: Vec<u8>,
    pub receive_count: u32,
}

/// How many messages a queue holds, by state: what SQS's `Approximate*` attributes
/// answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Waiting to be received.
    pub visible: u64,
    /// Received and not yet deleted, within their visibility timeout.
    pub in_flight: u64,
    /// Sent with a delay that has not run out (the lots' timers).
    pub delayed: u64,
    /// In the dead letters.
    pub dead: u64,
    /// How long the oldest visible message has waited, where the queue can tell (SQS
    /// reports it to CloudWatch, as `ApproximateAgeOfOldestMessage`, not to its API).
    pub oldest: Option<Duration>,
}

/// A durable queue with SQS's semantics: at-least-once, visibility timeout, receive
/// count, and a dead-letter queue after a bounded number of receives.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Returns once the message is durable.
    async fn send(&self, body: &[u8]) -> StoreResult<String>;
    /// Sends a message that becomes visible only after `delay` (at most 15 minutes, as
    /// SQS allows): the timers of auction lots.
    async fn send_delayed(&self, body: &[u8], delay: Duration) -> StoreResult<String>;
    /// Long-polls up to `wait` for up to `max` messages.
    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> StoreResult<Vec<Received>>;
    async fn delete(&self, receipt: &str) -> StoreResult<()>;
    /// How many messages it holds, by state (approximate on SQS, as SQS says).
    async fn depth(&self) -> StoreResult<QueueDepth>;
    /// Oldest first.
    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>>;
}
