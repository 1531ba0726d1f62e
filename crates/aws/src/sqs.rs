//! The SQS adapter of the queue port. The dead-letter queue and its `maxReceiveCount`
//! are the queue's redrive policy (the template, or `bootstrap`), not code.

use super::dynamo::unavailable;
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use pitchside_core::ports::*;
use std::time::Duration;

/// SQS's limits on one receive.
const MAX_BATCH: usize = 10;
const MAX_WAIT_SECS: u64 = 20;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
    dead_letter_url: Option<String>,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>, dead_letter_url: Option<String>) -> Self {
        Self {
            client,
            url: url.into(),
            dead_letter_url,
        }
    }

    async fn receive_from(
        &self,
        url: &str,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> StoreResult<Vec<Received>> {
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(i32::try_from(max.clamp(1, MAX_BATCH)).unwrap_or(10))
            .visibility_timeout(i32::try_from(visibility.as_secs()).unwrap_or(i32::MAX))
            .wait_time_seconds(wait.as_secs().min(MAX_WAIT_SECS) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out
            .messages()
            .iter()
            .map(|m| Received {
                message_id: m.message_id().unwrap_or_default().to_string(),
                receipt: m.receipt_handle().unwrap_or_default().to_string(),
                body: m.body().unwrap_or_default().as_bytes().to_vec(),
                receive_count: m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1),
            })
            .collect())
    }

    /// The queue's `Approximate*` counts, in the order asked.
    async fn counts<const N: usize>(
        &self,
        url: &str,
        names: [QueueAttributeName; N],
    ) -> StoreResult<[u64; N]> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .set_attribute_names(Some(names.to_vec()))
            .send()
            .await
            .map_err(unavailable)?;
        let attributes = out.attributes();
        Ok(names.map(|name| {
            attributes
                .and_then(|a| a.get(&name))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        }))
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, body: &[u8]) -> StoreResult<String> {
        let body = std::str::from_utf8(body)
            .map_err(|_| StoreError::Invalid("an SQS message body must be UTF-8".into()))?;
        let out = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }

    async fn send_delayed(&self, body: &[u8], delay: Duration) -> StoreResult<String> {
        let body = std::str::from_utf8(body)
            .map_err(|_| StoreError::Invalid("an SQS message body must be UTF-8".into()))?;
        // SQS counts whole seconds, up to 15 minutes; round up so it is never early.
        let secs = delay.as_millis().div_ceil(1000).min(900) as i32;
        let out = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(secs)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> StoreResult<Vec<Received>> {
        self.receive_from(&self.url, max, visibility, wait).await
    }

    async fn delete(&self, receipt: &str) -> StoreResult<()> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn depth(&self) -> StoreResult<QueueDepth> {
        let [visible, in_flight, delayed] = self
            .counts(
                &self.url,
                [
                    QueueAttributeName::ApproximateNumberOfMessages,
                    QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                    QueueAttributeName::ApproximateNumberOfMessagesDelayed,
                ],
            )
            .await?;
        let dead = match &self.dead_letter_url {
            Some(url) => {
                let [dead] = self
                    .counts(url, [QueueAttributeName::ApproximateNumberOfMessages])
                    .await?;
                dead
            }
            None => 0,
        };
        Ok(QueueDepth {
            visible,
            in_flight,
            delayed,
            dead,
            oldest: None,
        })
    }

    /// Peeks at the dead-letter queue (visibility 0: nothing is taken off it).
    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>> {
        let Some(url) = &self.dead_letter_url else {
            return Ok(Vec::new());
        };
        let got = self
            .receive_from(url, limit, Duration::ZERO, Duration::ZERO)
            .await?;
        Ok(got
            .into_iter()
            .map(|r| DeadLetter {
                message_id: r.message_id,
                body: r.body,
                // The peek itself counted as a receive.
                receive_count: r.receive_count.saturating_sub(1),
            })
            .collect())
    }
}
