//! The push queue on SQS FIFO: one message per chunk, its lane the message group, its
//! dedup id the chunk's, so lanes run in parallel and each lane in order.

use super::SqsQueue;
use super::dynamo::unavailable;
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use pitchside_core::app::push::Message;
use pitchside_core::ports::{ChunkQueue, Queue, StoreError, StoreResult};
use pitchside_domain::push::Chunk;
use std::time::Duration;

/// SQS's limits on one batch: entries, and bytes over all of them.
const MAX_ENTRIES: usize = 10;
const MAX_BATCH_BYTES: usize = 256 * 1024;
/// Calls for a batch whose entries keep failing, before the fan-out gives up (and its
/// stream record is retried).
const ATTEMPTS: u32 = 4;

#[derive(Clone)]
pub struct SqsChunkQueue {
    client: Client,
    url: String,
    /// The same queue through the queue port's adapter: receiving and deleting are
    /// the same calls on a FIFO queue.
    inbox: SqsQueue,
}

/// A message received from the push queue.
pub struct ReceivedChunk {
    pub receipt: String,
    pub receive_count: u32,
    pub message: Message,
}

impl SqsChunkQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        let url = url.into();
        Self {
            inbox: SqsQueue::new(client.clone(), url.clone(), None),
            client,
            url,
        }
    }

    /// Sends one batch; answers the indexes (into `entries`) that SQS did not take.
    async fn send_batch(&self, chunks: &[&(&Chunk, String)]) -> StoreResult<Vec<usize>> {
        let entries = chunks
            .iter()
            .enumerate()
            .map(|(i, (c, body))| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body.as_str())
                    .message_group_id(c.group())
                    .message_deduplication_id(c.dedup_id())
                    .build()
                    .map_err(unavailable)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(unavailable)?;
        let mut failed = Vec::new();
        for f in out.failed() {
            if f.sender_fault() {
                return Err(StoreError::unavailable(format!(
                    "the push queue refused a chunk: {} {}",
                    f.code(),
                    f.message().unwrap_or_default()
                )));
            }
            if let Ok(i) = f.id().parse::<usize>() {
                failed.push(i);
            }
        }
        Ok(failed)
    }

    /// Up to ten messages, waiting up to `wait` for the first (the local gateway's
    /// stand-in for the event source mapping).
    pub async fn receive(
        &self,
        visibility: Duration,
        wait: Duration,
    ) -> StoreResult<Vec<ReceivedChunk>> {
        let got = self.inbox.receive(10, visibility, wait).await?;
        Ok(got
            .into_iter()
            .map(|r| ReceivedChunk {
                message: message(&r.message_id, &String::from_utf8_lossy(&r.body)),
                receipt: r.receipt,
                receive_count: r.receive_count,
            })
            .collect())
    }

    pub async fn delete(&self, receipt: &str) -> StoreResult<()> {
        self.inbox.delete(receipt).await
    }

    /// Makes a message handed back visible again after `delay` instead of the queue's
    /// whole visibility timeout: its lane waits on it, so the wait is a backoff, not a
    /// stall.
    pub async fn retry_in(&self, receipt: &str, delay: Duration) -> StoreResult<()> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(i32::try_from(delay.as_secs()).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

/// A push queue message as the push handler takes it.
pub fn message(id: &str, body: &str) -> Message {
    Message {
        id: id.to_string(),
        chunk: serde_json::from_str(body).map_err(|e| e.to_string()),
    }
}

/// How long a handed-back message waits before it is tried again: doubling with each
/// receive, from one second to half a minute.
pub fn retry_delay(receive_count: u32) -> Duration {
    Duration::from_secs(1u64 << receive_count.saturating_sub(1).min(5)).min(Duration::from_secs(30))
}

#[async_trait]
impl ChunkQueue for SqsChunkQueue {
    /// In rounds: each round sends the next chunk of every lane that has one, so no
    /// batch holds two chunks of one lane and a failed entry is sent again before
    /// anything after it in its lane.
    async fn send(&self, chunks: &[Chunk]) -> StoreResult<()> {
        // Each chunk with its body, serialized once (sized, then sent).
        let bodies: Vec<(&Chunk, String)> = chunks.iter().map(|c| (c, c.to_json())).collect();
        let mut lanes: Vec<std::collections::VecDeque<&(&Chunk, String)>> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        for entry in &bodies {
            let i = *index.entry(entry.0.group()).or_insert_with(|| {
                lanes.push(Default::default());
                lanes.len() - 1
            });
            lanes[i].push_back(entry);
        }
        let mut attempt = 0;
        while lanes.iter().any(|l| !l.is_empty()) {
            let heads: Vec<usize> = (0..lanes.len()).filter(|i| !lanes[*i].is_empty()).collect();
            let mut any_failed = false;
            for batch in batches(&heads, |i| {
                lanes[i].front().map_or(0, |(_, body)| body.len())
            }) {
                let entries: Vec<&(&Chunk, String)> = batch
                    .iter()
                    .filter_map(|i| lanes[*i].front().copied())
                    .collect();
                let failed = self.send_batch(&entries).await?;
                any_failed |= !failed.is_empty();
                for (n, lane) in batch.iter().enumerate() {
                    if !failed.contains(&n) {
                        lanes[*lane].pop_front();
                    }
                }
            }
            if any_failed {
                attempt += 1;
                if attempt >= ATTEMPTS {
                    return Err(StoreError::unavailable(
                        "the push queue kept failing some chunks",
                    ));
                }
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
        }
        Ok(())
    }
}

/// `lanes` split into SQS batches: at most ten entries, and their bodies within the
/// batch size limit.
fn batches(lanes: &[usize], size: impl Fn(usize) -> usize) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut bytes = 0;
    for &l in lanes {
        let s = size(l);
        match out.last_mut() {
            Some(b) if b.len() < MAX_ENTRIES && bytes + s <= MAX_BATCH_BYTES => {
                b.push(l);
                bytes += s;
            }
            _ => {
                out.push(vec![l]);
                bytes = s;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_holds_ten_entries_at_most_and_stays_within_the_size_limit() {
        let lanes: Vec<usize> = (0..25).collect();
        let sizes: Vec<usize> = batches(&lanes, |_| 10).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![10, 10, 5]);
        let sizes: Vec<usize> = batches(&lanes[..4], |_| 100 * 1024)
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, vec![2, 2]);
    }

    #[test]
    fn a_handed_back_message_waits_longer_each_time_up_to_half_a_minute() {
        let waits: Vec<u64> = (1..=8).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
