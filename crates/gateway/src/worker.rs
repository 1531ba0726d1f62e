//! The local stand-in for SQS's event source mapping: long-polls the queue and hands
//! each message to the worker handler, one at a time so that an organization's events
//! are appended in the order their webhooks were accepted.
//!
//! On the embedded store the worker does not wait for the disk message by message: its
//! writes are answered once committed (`Db::applied`), its pushes are held, and once a
//! batch is done it waits for one flush and then pushes the batch's events in order. A
//! kill loses nothing committed; a power cut can lose the batch's writes, which the
//! queue then delivers again, and no push has carried their events.

use pitchside_core::app::{self, worker};
use pitchside_core::live::Held;
use pitchside_core::ports::{Ports, Pusher};
use pitchside_embedded::Db;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{error, warn};

const VISIBILITY: Duration = Duration::from_secs(30);
const LONG_POLL: Duration = Duration::from_secs(10);

/// The messages one receive takes: SQS's most on AWS; on the embedded queue, enough
/// that a burst shares one flush per hundred messages.
pub const SQS_BATCH: usize = 10;
pub const EMBEDDED_BATCH: usize = 100;

/// How the worker gets its events to subscribers.
pub enum Delivery {
    /// Each push as it happens: the ports' writes are durable when answered (AWS).
    AtOnce,
    /// The worker's ports push into `held`; once `db` has flushed a batch, the events
    /// go to `to`.
    AfterFlush {
        db: Db,
        held: Arc<Held>,
        to: Arc<dyn Pusher>,
    },
}

/// The worker: its ports, how many messages a receive takes, and how its events go out.
pub struct Worker {
    pub ports: Ports,
    pub batch: usize,
    pub delivery: Delivery,
}

impl Worker {
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let Worker {
            ports,
            batch,
            delivery,
        } = self;
        let mut backoff = Duration::from_millis(100);
        loop {
            let received = tokio::select! {
                r = ports.queue.receive(batch, VISIBILITY, LONG_POLL) => r,
                _ = stop.changed() => return,
            };
            match received {
                Ok(batch) => {
                    backoff = Duration::from_millis(100);
                    for msg in &batch {
                        // Failures are logged by the handler and left on the queue.
                        let _ = worker::handle(&ports, msg).await;
                    }
                    if let Delivery::AfterFlush { db, held, to } = &delivery {
                        release(db, held, &**to, &mut stop).await;
                    }
                }
                Err(e) => {
                    error!(error = %e, "cannot receive from the queue; backing off");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {},
                        _ = stop.changed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
            if *stop.borrow() {
                warn!("worker stopping");
                return;
            }
        }
    }
}

/// Waits until the batch's writes are on disk, then pushes its events. A flush that
/// fails is retried; if the gateway stops first, the events stay unpushed and clients
/// read them from the log when they reconnect.
async fn release(db: &Db, held: &Held, to: &dyn Pusher, stop: &mut watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(50);
    while let Err(e) = db.flushed().await {
        error!(error = %e, "cannot flush the worker's writes; retrying before pushing");
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {},
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
    for event in held.take() {
        app::push_to(to, &event).await;
        // A batch is a burst: let the subscribers each push woke take it (and the
        // webhooks waiting for answers run) before the next, so that a burst does not
        // lap a subscriber's ring that a push at a time would not.
        tokio::task::yield_now().await;
    }
}
