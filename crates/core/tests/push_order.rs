//! The push path's order, over many chunks and concurrent invocations: every
//! connection gets its rooms' events in the log's order, whatever the delays of its
//! posts, the throttles, and the chunks handed back when an invocation runs out of time.
//! The queue here keeps SQS FIFO's rules (a group's messages one batch at a time, in
//! order; a message handed back is given again before anything after it in its group);
//! the AWS-mode black-box tests run the same path on the emulator's FIFO queue.

#![allow(clippy::unwrap_used)] // a test may panic

use async_trait::async_trait;
use pitchside_core::app::{fanout, push};
use pitchside_core::live::{Hub, MemoryRegistry};
use pitchside_core::ports::*;
use pitchside_domain::auth::Role;
use pitchside_domain::event::{EventId, EventType, NewEvent};
use pitchside_domain::ids::{OrganizationId, UserId};
use pitchside_domain::push::Chunk;
use pitchside_embedded::{Db, SqliteQueue, SqliteStore};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A FIFO queue by SQS's rules, in memory.
#[derive(Default)]
struct Fifo {
    state: Mutex<FifoState>,
}

#[derive(Default)]
struct FifoState {
    next: u64,
    queue: VecDeque<(String, Chunk)>,
    in_flight: HashSet<String>,
}

#[async_trait]
impl ChunkQueue for Fifo {
    async fn send(&self, chunks: &[Chunk]) -> StoreResult<()> {
        let mut s = self.state.lock().unwrap();
        for c in chunks {
            s.next += 1;
            let id = s.next.to_string();
            s.queue.push_back((id, c.clone()));
        }
        Ok(())
    }
}

impl Fifo {
    /// Up to ten messages of the groups no other consumer holds, each group's in order,
    /// as many of one group as it has first (as SQS documents for FIFO queues).
    fn receive(&self) -> Vec<push::Message> {
        let mut s = self.state.lock().unwrap();
        let held = s.in_flight.clone();
        let mut groups: Vec<String> = Vec::new();
        for (_, c) in &s.queue {
            let g = c.group();
            if !held.contains(&g) && !groups.contains(&g) {
                groups.push(g);
            }
        }
        let mut taken: Vec<(String, Chunk)> = Vec::new();
        for g in groups {
            let room = 10 - taken.len();
            taken.extend(
                s.queue
                    .iter()
                    .filter(|(_, c)| c.group() == g)
                    .take(room)
                    .cloned(),
            );
            if taken.len() == 10 {
                break;
            }
        }
        for (_, c) in &taken {
            s.in_flight.insert(c.group());
        }
        taken
            .into_iter()
            .map(|(id, c)| push::Message { id, chunk: Ok(c) })
            .collect()
    }

    /// Deletes what was delivered; what was handed back stays where it was.
    fn settle(&self, batch: &[(String, String)], back: &[String]) {
        let mut s = self.state.lock().unwrap();
        for (id, group) in batch {
            if !back.contains(id) {
                s.queue.retain(|(i, _)| i != id);
            }
            s.in_flight.remove(group);
        }
    }

    fn is_empty(&self) -> bool {
        self.state.lock().unwrap().queue.is_empty()
    }
}

/// Connections that take a random while to answer, are sometimes throttled, and note
/// the id of every event they get, in the order they get them. One of them is
/// throttled for its first posts, past the policy's attempts: its chunk is handed back
/// while the invocation still has time for the rest of its batch.
#[derive(Default)]
struct Recorder {
    got: Mutex<HashMap<String, Vec<u64>>>,
    stubborn: std::sync::atomic::AtomicU32,
}

const STUBBORN: &str = "c00007";

#[async_trait]
impl ConnectionEndpoint for Recorder {
    async fn post(&self, id: &ConnectionId, data: &[u8]) -> Posted {
        tokio::time::sleep(Duration::from_micros(rand::random_range(0..3000))).await;
        if id.0 == STUBBORN
            && self
                .stubborn
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                < 40
        {
            return Posted::Throttled;
        }
        if rand::random_range(0..10) == 0 {
            return Posted::Throttled;
        }
        let v: serde_json::Value = serde_json::from_slice(data).unwrap();
        let event: u64 = v["id"].as_str().unwrap().parse().unwrap();
        self.got
            .lock()
            .unwrap()
            .entry(id.0.clone())
            .or_default()
            .push(event);
        Posted::Sent
    }

    async fn close(&self, _: &ConnectionId) -> Posted {
        Posted::Sent
    }
}

fn org() -> OrganizationId {
    OrganizationId::new("club").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_gets_its_rooms_events_in_log_order_across_chunks_and_invocations() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    let registry = Arc::new(MemoryRegistry::default());
    let ports = Ports::new(
        Arc::new(SqliteStore::new(db.clone())),
        Arc::new(SqliteQueue::new(db, 5)),
        registry.clone(),
        Arc::new(Hub::new(64)),
    );
    // 1,200 connections (about 75 a lane, so chunks of every lane); a third of them in
    // the auction's room too.
    let connections: Vec<ConnectionId> = (0..1200)
        .map(|i| ConnectionId(format!("c{i:05}")))
        .collect();
    for (i, id) in connections.iter().enumerate() {
        registry
            .register(&ConnectionInfo {
                id: id.clone(),
                org: org(),
                user: UserId::new(format!("u{i}")).unwrap(),
                roles: vec![Role::Viewer],
            })
            .await
            .unwrap();
        if i % 3 == 0 {
            registry.join(&org(), id, "auction:a1").await.unwrap();
        }
    }

    // 60 events, org-wide and the auction's interleaved, fanned out a few at a time as
    // the stream would hand them over.
    let fifo = Arc::new(Fifo::default());
    let recorder = Arc::new(Recorder::default());
    let produce = |rounds: std::ops::Range<usize>| {
        let (ports, fifo) = (ports.clone(), fifo.clone());
        async move {
            for round in rounds {
                let before = ports.log.head(&org()).await.unwrap();
                let mut head = before;
                for i in 0..3 {
                    let n = round * 3 + i;
                    let (kind, payload) = if n % 2 == 0 {
                        (EventType::MessageReceived, serde_json::json!({"text": n}))
                    } else {
                        (
                            EventType::AuctionBidPlaced,
                            serde_json::json!({"auctionId": "a1", "n": n}),
                        )
                    };
                    let new = NewEvent {
                        kind,
                        payload,
                        timestamp: ports.clock.now(),
                        dedup_key: None,
                    };
                    head = ports.log.append(&org(), new).await.unwrap().event.id;
                }
                // Rooms read 400 connections a page, so each event's chunks go out in
                // three sends, lane parts numbered on across them.
                fanout::fan_out_in_pages(&ports, fifo.as_ref(), &org(), before, head, 400)
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
            }
        }
    };
    // First an invocation that runs out of time on every batch: its chunks are handed
    // back part delivered (each batch is some 750 posts, its budget a few milliseconds).
    produce(0..5).await;
    let mut handed_back = 0;
    for _ in 0..5 {
        handed_back += invoke(&fifo, &recorder, &ports, Duration::from_millis(8)).await;
    }
    assert!(
        handed_back > 0,
        "no chunk was handed back: the test did not exercise it"
    );

    // Then four invocations at once drain the queue while the rest is appended.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let (fifo, recorder, ports, done) =
                (fifo.clone(), recorder.clone(), ports.clone(), done.clone());
            tokio::spawn(async move {
                loop {
                    // A post throttled on every attempt hands its chunk back here too.
                    invoke(&fifo, &recorder, &ports, Duration::from_secs(10)).await;
                    if done.load(std::sync::atomic::Ordering::SeqCst) && fifo.is_empty() {
                        return;
                    }
                }
            })
        })
        .collect();
    produce(5..20).await;
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    for c in consumers {
        c.await.unwrap();
    }

    let mut auction_events = Vec::new();
    let mut all_events = Vec::new();
    let page = ports.log.after(&org(), EventId::ZERO, 1000).await.unwrap();
    for e in &page {
        all_events.push(e.id.0);
        if e.kind == EventType::AuctionBidPlaced {
            auction_events.push(e.id.0);
        }
    }
    assert_eq!(all_events.len(), 60);
    let got = recorder.got.lock().unwrap();
    for (i, id) in connections.iter().enumerate() {
        let expected: Vec<u64> = if i % 3 == 0 {
            all_events.clone()
        } else {
            all_events
                .iter()
                .copied()
                .filter(|e| !auction_events.contains(e))
                .collect()
        };
        let seen = got.get(&id.0).cloned().unwrap_or_default();
        // Never backwards: a chunk given again repeats an event, never reorders one.
        assert!(
            seen.windows(2).all(|w| w[0] <= w[1]),
            "{}: out of order: {seen:?}",
            id.0
        );
        // What the client keeps (ids above the last it delivered) is every event once.
        let mut kept = seen.clone();
        kept.dedup();
        assert_eq!(kept, expected, "{}", id.0);
    }
    assert!(fifo.is_empty());
}

/// One invocation of the push handler on the next batch (waiting a little for one):
/// how many of its chunks it handed back.
async fn invoke(fifo: &Fifo, recorder: &Recorder, ports: &Ports, budget: Duration) -> usize {
    // Short backoffs: this test is about order, not about waiting.
    let policy = push::Policy {
        margin: Duration::from_millis(5),
        first_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(8),
        ..push::Policy::default()
    };
    let batch = fifo.receive();
    if batch.is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
        return 0;
    }
    let settle: Vec<(String, String)> = batch
        .iter()
        .map(|m| (m.id.clone(), m.chunk.as_ref().unwrap().group()))
        .collect();
    let deadline = tokio::time::Instant::now() + budget;
    let back = push::deliver_batch(
        recorder,
        ports.registry.as_ref(),
        batch,
        deadline,
        &policy,
        &push::Tally::default(),
    )
    .await;
    fifo.settle(&settle, &back);
    back.len()
}
