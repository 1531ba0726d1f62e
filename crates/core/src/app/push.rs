//! Delivering the push queue's chunks to their connections: what the `push` function
//! (and the local gateway in AWS mode) runs for each batch of messages.
//!
//! One retry policy, here: the endpoint makes one call per post (the SDK's own retries
//! are off), a throttled or failed post backs off with jitter and tries again a bounded
//! number of times, and nothing starts that could not end before the deadline. A chunk
//! not delivered to every connection is handed back (its message fails, and the queue
//! gives it again, with every later chunk of its lane after it), never dropped.

use crate::metrics::{self, Pushed};
use crate::ports::{ConnectionEndpoint, ConnectionId, ConnectionRegistry, Posted};
use futures_util::StreamExt;
use pitchside_domain::push::{Action, Chunk};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

const WS: metrics::Transport = metrics::Transport::WsManagement;

/// How an invocation pushes.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Posts in flight at once, over the whole invocation.
    pub in_flight: usize,
    /// Calls per post, the first included.
    pub attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Time kept free before the deadline: no call starts in it (a call in flight ends
    /// within the endpoint's own timeout, which is shorter).
    pub margin: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            in_flight: 64,
            attempts: 5,
            first_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
            margin: Duration::from_secs(5),
        }
    }
}

/// Counts of one batch's work.
#[derive(Debug, Default)]
pub struct Tally {
    /// Calls made (posts and closes, retries included).
    pub calls: AtomicU64,
    pub delivered: AtomicU64,
    pub gone: AtomicU64,
    pub throttled: AtomicU64,
    /// Posts refused for good (a 4xx other than 410 and 429): retrying cannot help.
    pub refused: AtomicU64,
}

impl Tally {
    fn add(&self, counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// One message of a batch: its id in the queue, and its chunk (or why it is unreadable).
pub struct Message {
    pub id: String,
    pub chunk: Result<Chunk, String>,
}

/// The ids of the messages to hand back: each one not delivered, and every message of
/// its lane after it, so that the lane's order holds.
pub async fn deliver_batch(
    endpoint: &dyn ConnectionEndpoint,
    registry: &dyn ConnectionRegistry,
    messages: Vec<Message>,
    deadline: Instant,
    policy: &Policy,
    tally: &Tally,
) -> Vec<String> {
    // Lanes in the order their first message came, each lane's messages in order.
    let mut lanes: Vec<(String, Vec<Message>)> = Vec::new();
    for m in messages {
        let group = match &m.chunk {
            Ok(c) => c.group(),
            Err(_) => format!("unreadable:{}", m.id),
        };
        match lanes.iter_mut().find(|(g, _)| *g == group) {
            Some((_, ms)) => ms.push(m),
            None => lanes.push((group, vec![m])),
        }
    }
    let permits = Arc::new(Semaphore::new(policy.in_flight.max(1)));
    let handed_back = futures_util::future::join_all(lanes.into_iter().map(|(_, ms)| {
        let permits = permits.clone();
        async move {
            let mut back = Vec::new();
            for m in ms {
                let done = back.is_empty()
                    && match &m.chunk {
                        Ok(chunk) => {
                            deliver(endpoint, registry, chunk, deadline, policy, &permits, tally)
                                .await
                        }
                        Err(why) => {
                            tracing::error!(message_id = %m.id, error = %why, "unreadable push message; the queue dead-letters it");
                            false
                        }
                    };
                if !done {
                    back.push(m.id);
                }
            }
            back
        }
    }))
    .await;
    handed_back.into_iter().flatten().collect()
}

/// Delivers one chunk; `false` when some connection could not be reached in time.
async fn deliver(
    endpoint: &dyn ConnectionEndpoint,
    registry: &dyn ConnectionRegistry,
    chunk: &Chunk,
    deadline: Instant,
    policy: &Policy,
    permits: &Semaphore,
    tally: &Tally,
) -> bool {
    let org = &chunk.organization_id;
    let data = chunk.data.as_bytes();
    // Owned ids: a stream of borrowed ones makes the future not `Send` for every
    // lifetime, which a spawned task needs.
    let results: Vec<bool> = futures_util::stream::iter(chunk.connections.clone())
        .map(|id| async move {
            let id = ConnectionId(id);
            let posted = call(deadline, policy, permits, tally, || endpoint.post(&id, data)).await;
            let forget = match (posted, chunk.action) {
                (None, _) => return false,
                (Some(Posted::Gone), _) => true,
                (Some(_), Action::Deliver) => false,
                (Some(_), Action::End) => {
                    match call(deadline, policy, permits, tally, || endpoint.close(&id)).await {
                        None => return false,
                        Some(_) => {
                            tracing::info!(connection = %id.0, "connection of a revoked member closed");
                            true
                        }
                    }
                }
            };
            if forget && let Err(e) = registry.remove(org, &id).await {
                tracing::warn!(connection = %id.0, error = %e, "cannot forget a closed connection");
            }
            true
        })
        // The semaphore bounds the calls; this bounds the tasks waiting for it.
        .buffer_unordered(policy.in_flight.max(1))
        .collect()
        .await;
    let reached = results.iter().all(|r| *r);
    if !reached {
        tracing::warn!(event_id = %chunk.event_id, lane = chunk.lane, part = chunk.part, "chunk not delivered in time; handed back to the queue");
    }
    reached
}

/// One post or close under the policy: `None` when it could not be made to succeed (or
/// be refused for good) before the deadline or within the attempts.
async fn call<F, Fut>(
    deadline: Instant,
    policy: &Policy,
    permits: &Semaphore,
    tally: &Tally,
    f: F,
) -> Option<Posted>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Posted>,
{
    let mut backoff = policy.first_backoff;
    for attempt in 1..=policy.attempts {
        let posted = {
            let Ok(_permit) = permits.acquire().await else {
                return None;
            };
            // Checked once the call may start: waiting for a permit takes time too.
            if Instant::now() + policy.margin >= deadline {
                return None;
            }
            tally.add(&tally.calls);
            metrics::push_attempt();
            f().await
        };
        match posted {
            Posted::Sent => {
                tally.add(&tally.delivered);
                metrics::pushed(WS, Pushed::Delivered, 1);
                return Some(posted);
            }
            Posted::Gone => {
                tally.add(&tally.gone);
                metrics::pushed(WS, Pushed::Gone, 1);
                return Some(posted);
            }
            Posted::Failed { retry: false } => {
                tally.add(&tally.refused);
                metrics::pushed(WS, Pushed::Failed, 1);
                return Some(posted);
            }
            Posted::Throttled | Posted::Failed { retry: true } => {
                if posted == Posted::Throttled {
                    tally.add(&tally.throttled);
                    metrics::pushed(WS, Pushed::Throttled, 1);
                }
                if attempt == policy.attempts {
                    metrics::pushed(WS, Pushed::Failed, 1);
                    break;
                }
                // Full jitter: throttled clients spread out instead of returning together.
                let wait = backoff.mul_f64(rand::random::<f64>());
                if Instant::now() + wait + policy.margin >= deadline {
                    return None;
                }
                tokio::time::sleep(wait).await;
                backoff = (backoff * 2).min(policy.max_backoff);
            }
        }
    }
    None
}

/// One reply to one connection (the `ws` function's answers), under the same policy.
pub async fn reply(
    endpoint: &dyn ConnectionEndpoint,
    id: &ConnectionId,
    data: &[u8],
    deadline: Instant,
    policy: &Policy,
) -> Option<Posted> {
    let permits = Semaphore::new(1);
    call(deadline, policy, &permits, &Tally::default(), || {
        endpoint.post(id, data)
    })
    .await
}
