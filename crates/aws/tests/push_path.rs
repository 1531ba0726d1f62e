//! The push path's AWS adapters against the emulator (moto, started by `make test`):
//! the table's stream as the fan-out reads it, and the FIFO push queue's order and
//! deduplication.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)] // a test may panic and read the clock

use pitchside_aws::stream::LogStream;
use pitchside_aws::{DynamoStore, SqsChunkQueue, bootstrap};
use pitchside_core::ports::{ChunkQueue, EventLog};
use pitchside_domain::event::{EventId, EventType, NewEvent};
use pitchside_domain::ids::OrganizationId;
use pitchside_domain::push::{self, Action};
use std::collections::HashMap;
use std::time::Duration;

async fn sdk() -> aws_config::SdkConfig {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run these through `make test`, which starts moto"
    );
    pitchside_aws::sdk_config().await
}

fn unique(tag: &str) -> String {
    format!("pitchside-{tag}-{}", hex::encode(rand::random::<[u8; 4]>()))
}

fn new_event(n: u32) -> NewEvent {
    NewEvent {
        kind: EventType::MessageReceived,
        payload: serde_json::json!({ "n": n }),
        timestamp: chrono::Utc::now(),
        dedup_key: None,
    }
}

#[tokio::test]
async fn the_stream_gives_each_organizations_head_moves_in_order_and_nothing_else() {
    let sdk = sdk().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = unique("s");
    bootstrap::create_table(&client, &table).await.unwrap();
    let store = DynamoStore::new(client, &table, pitchside_aws::dynamo::DEFAULT_RETENTION);
    let a = OrganizationId::new("org-a").unwrap();
    let b = OrganizationId::new("org-b").unwrap();
    // Before the stream is opened: not given (it starts at its latest record).
    store.append(&a, new_event(0)).await.unwrap();

    let mut stream = LogStream::open(&sdk, &table).await.unwrap();
    for n in 1..=3 {
        store.append(&a, new_event(n)).await.unwrap();
        store.append(&b, new_event(n)).await.unwrap();
    }
    let mut moves = Vec::new();
    while moves.len() < 6 {
        moves.extend(stream.next(Duration::from_millis(20)).await.unwrap());
    }
    let of = |org: &OrganizationId| -> Vec<(u64, u64)> {
        moves
            .iter()
            .filter(|m| &m.org == org)
            .map(|m| (m.after.0, m.upto.0))
            .collect()
    };
    assert_eq!(of(&a), vec![(1, 2), (2, 3), (3, 4)]);
    assert_eq!(of(&b), vec![(0, 1), (1, 2), (2, 3)]);
    // Only head moves: the event and dedup items written beside them are not moves.
    assert_eq!(moves.len(), 6);
}

#[tokio::test]
async fn the_push_queue_keeps_each_lanes_order_and_takes_a_chunk_once() {
    let sdk = sdk().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (url, _) = bootstrap::create_push_queues(&sqs, &unique("p"), 5)
        .await
        .unwrap();
    let queue = SqsChunkQueue::new(sqs, url);
    let org = OrganizationId::new("club").unwrap();
    let connections: Vec<String> = (0..80).map(|i| format!("conn{i:03}")).collect();
    let mut chunks = Vec::new();
    for e in 1..=4 {
        chunks.extend(
            push::plan(
                &org,
                EventId(e),
                Action::Deliver,
                &format!("{{\"id\":\"{e}\"}}"),
                connections.clone(),
            )
            .unwrap(),
        );
    }
    queue.send(&chunks).await.unwrap();
    // The same chunks again (a fan-out run twice): deduplicated.
    queue.send(&chunks).await.unwrap();

    let mut seen: HashMap<String, Vec<u64>> = HashMap::new();
    let mut messages = 0;
    while messages < chunks.len() {
        let batch = queue
            .receive(Duration::from_secs(30), Duration::from_secs(1))
            .await
            .unwrap();
        assert!(
            !batch.is_empty(),
            "every chunk arrives: {messages} of {}",
            chunks.len()
        );
        for r in batch {
            let chunk = r.message.chunk.unwrap();
            seen.entry(chunk.group())
                .or_default()
                .push(chunk.event_id.0);
            queue.delete(&r.receipt).await.unwrap();
            messages += 1;
        }
    }
    let lanes: std::collections::HashSet<String> = chunks.iter().map(|c| c.group()).collect();
    assert_eq!(seen.len(), lanes.len());
    for (lane, events) in &seen {
        assert_eq!(events, &vec![1, 2, 3, 4], "lane {lane}");
    }
    let left = queue
        .receive(Duration::from_secs(30), Duration::from_secs(1))
        .await
        .unwrap();
    assert!(left.is_empty(), "the second send queued nothing");
}
