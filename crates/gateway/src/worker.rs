//! The local stand-in for SQS's event source mapping: long-polls the queue and hands
//! each message to the worker handler, one at a time so that an organization's events
//! are appended in the order their webhooks were accepted.

use pitchside_core::app::worker;
use pitchside_core::ports::Ports;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{error, warn};

const BATCH: usize = 10;
const VISIBILITY: Duration = Duration::from_secs(30);
const LONG_POLL: Duration = Duration::from_secs(10);

pub async fn run(ports: Ports, mut stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let received = tokio::select! {
            r = ports.queue.receive(BATCH, VISIBILITY, LONG_POLL) => r,
            _ = stop.changed() => return,
        };
        match received {
            Ok(batch) => {
                backoff = Duration::from_millis(100);
                for msg in &batch {
                    // Failures are logged by the handler and left on the queue.
                    let _ = worker::handle(&ports, msg).await;
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
