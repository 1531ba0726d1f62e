//! Readiness: whether this process can do its work now, as opposed to whether it is
//! alive (`/healthz`). A load balancer or orchestrator stops sending traffic to a
//! process whose store or queue it cannot reach, and the answer names which.

use crate::ports::Ports;
use pitchside_domain::ids::OrganizationId;

/// What readiness depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Store,
    Queue,
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Store => "store",
            Part::Queue => "queue",
        }
    }
}

/// The parts that could not be reached, in the order checked; empty when ready. Each
/// failure is logged with its cause; the answer names the part only, since the
/// cause (a path, an endpoint) is the operator's, not the caller's.
pub async fn unready_parts(ports: &Ports) -> Vec<Part> {
    let probe = OrganizationId::new("readiness-probe").expect("a valid id");
    let (store, queue) = tokio::join!(ports.log.head(&probe), sample_queue(ports));
    let mut failing = Vec::new();
    if let Err(e) = store {
        tracing::warn!(error = %crate::ports::error_chain(&e), "readiness: the store is unreachable");
        failing.push(Part::Store);
    }
    if let Err(e) = queue {
        tracing::warn!(error = %crate::ports::error_chain(&e), "readiness: the queue is unreachable");
        failing.push(Part::Queue);
    }
    failing
}

/// Reads the queue's depth into its gauges: a scrape's view of how far behind the
/// worker is.
pub async fn sample_queue(ports: &Ports) -> crate::ports::StoreResult<()> {
    let depth = ports.queue.depth().await?;
    crate::metrics::queue_depth(&depth);
    Ok(())
}
