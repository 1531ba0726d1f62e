//! The push port: appended events to live subscribers.

use super::StoreResult;
use async_trait::async_trait;
use pitchside_domain::event::Event;

/// Delivers appended events to the organization's live subscribers. Delivery is
/// best-effort by design: a subscriber that misses a push catches up from the log.
#[async_trait]
pub trait Pusher: Send + Sync {
    async fn publish(&self, event: &Event) -> StoreResult<()>;
}

/// Publishes to several pushers in turn (the local gateway in AWS mode: its own SSE hub
/// and API Gateway's management API).
pub struct Fanout(pub Vec<std::sync::Arc<dyn Pusher>>);

#[async_trait]
impl Pusher for Fanout {
    async fn publish(&self, event: &Event) -> StoreResult<()> {
        for p in &self.0 {
            p.publish(event).await?;
        }
        Ok(())
    }
}
