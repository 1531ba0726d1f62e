//! API Gateway's management API on loopback, as the push function calls it
//! (`POST /@connections/{id}` with the message as the body, `DELETE
//! /@connections/{id}`), answering as AWS documents: 200, 410 Gone for a connection
//! that is no more, 429 when it throttles; each answer after a set latency. It records
//! what every connection got, in order, and when.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the stand-in behaves.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    pub latency: Duration,
    /// The share of calls answered 429 (0.0 to 1.0).
    pub throttle: f64,
    /// Connections that answer 410.
    pub gone: HashSet<String>,
    /// Keep only the tallies, not every message (a simulation of many thousands).
    pub tally_only: bool,
}

/// What one event's posts did, over every connection.
#[derive(Debug, Clone, Copy)]
pub struct Reach {
    /// Connections that got it for the first time.
    pub connections: u64,
    /// When the last of them got it.
    pub last: Instant,
}

/// One message a connection got.
#[derive(Debug, Clone)]
pub struct Received {
    pub body: Bytes,
    pub at: Instant,
}

#[derive(Default)]
struct Shared {
    behaviour: Behaviour,
    got: Mutex<HashMap<String, Vec<Received>>>,
    /// Each connection's last event id, each event's reach, and the times a connection
    /// got an event below one it already had.
    last: Mutex<HashMap<String, u64>>,
    reach: Mutex<HashMap<u64, Reach>>,
    out_of_order: AtomicU64,
    repeats: AtomicU64,
    closed: Mutex<Vec<String>>,
    calls: AtomicU64,
    throttled: AtomicU64,
}

pub struct ManagementApi {
    shared: Arc<Shared>,
    /// The endpoint to configure (`PITCHSIDE_WS_ENDPOINT`).
    pub url: String,
}

impl ManagementApi {
    pub async fn start(behaviour: Behaviour) -> anyhow::Result<ManagementApi> {
        let shared = Arc::new(Shared {
            behaviour,
            ..Shared::default()
        });
        let app = Router::new()
            .route("/@connections/{id}", post(post_to).delete(delete))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(ManagementApi { shared, url })
    }

    /// What each connection got, in the order it got it.
    pub fn received(&self) -> HashMap<String, Vec<Received>> {
        self.shared.got.lock().unwrap().clone()
    }

    /// The connections closed (DELETE answered 200), in order.
    pub fn closed(&self) -> Vec<String> {
        self.shared.closed.lock().unwrap().clone()
    }

    /// Calls answered, and of them the 429s.
    pub fn calls(&self) -> (u64, u64) {
        (
            self.shared.calls.load(Ordering::SeqCst),
            self.shared.throttled.load(Ordering::SeqCst),
        )
    }

    /// How far event `id` has got.
    pub fn reach(&self, id: u64) -> Option<Reach> {
        self.shared.reach.lock().unwrap().get(&id).copied()
    }

    /// Events a connection got below one it already had, and events it got again.
    pub fn order(&self) -> (u64, u64) {
        (
            self.shared.out_of_order.load(Ordering::SeqCst),
            self.shared.repeats.load(Ordering::SeqCst),
        )
    }

    pub fn reset(&self) {
        self.shared.got.lock().unwrap().clear();
        self.shared.last.lock().unwrap().clear();
        self.shared.reach.lock().unwrap().clear();
        self.shared.out_of_order.store(0, Ordering::SeqCst);
        self.shared.repeats.store(0, Ordering::SeqCst);
        self.shared.closed.lock().unwrap().clear();
        self.shared.calls.store(0, Ordering::SeqCst);
        self.shared.throttled.store(0, Ordering::SeqCst);
    }
}

/// The answer every call gets before its own: the latency, then perhaps a throttle,
/// or 410 for a gone connection.
async fn refused(s: &Shared, id: &str) -> Option<StatusCode> {
    s.calls.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(s.behaviour.latency).await;
    if s.behaviour.throttle > 0.0 && rand::random::<f64>() < s.behaviour.throttle {
        s.throttled.fetch_add(1, Ordering::SeqCst);
        return Some(StatusCode::TOO_MANY_REQUESTS);
    }
    s.behaviour.gone.contains(id).then_some(StatusCode::GONE)
}

async fn post_to(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    if let Some(status) = refused(&s, &id).await {
        return status;
    }
    let at = Instant::now();
    if let Some(event) = event_id(&body) {
        let previous = s.last.lock().unwrap().insert(id.clone(), event);
        match previous {
            Some(p) if p > event => {
                s.out_of_order.fetch_add(1, Ordering::SeqCst);
            }
            Some(p) if p == event => {
                s.repeats.fetch_add(1, Ordering::SeqCst);
            }
            _ => {
                let mut reach = s.reach.lock().unwrap();
                let r = reach.entry(event).or_insert(Reach {
                    connections: 0,
                    last: at,
                });
                r.connections += 1;
                r.last = at;
            }
        }
    }
    if !s.behaviour.tally_only {
        s.got
            .lock()
            .unwrap()
            .entry(id)
            .or_default()
            .push(Received { body, at });
    }
    StatusCode::OK
}

/// The id of the event a message is, if it is one (a notice is not).
fn event_id(body: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        id: String,
    }
    serde_json::from_slice::<Envelope>(body)
        .ok()?
        .id
        .parse()
        .ok()
}

async fn delete(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> StatusCode {
    if let Some(status) = refused(&s, &id).await {
        return status;
    }
    s.closed.lock().unwrap().push(id);
    StatusCode::NO_CONTENT
}
