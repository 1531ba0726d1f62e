//! The `push` function (the push queue, SQS FIFO): posts each chunk to its connections
//! through the management API under one bounded policy. A chunk it could not finish
//! before its deadline is handed back (a batch item failure, with every later chunk of
//! its lane), made visible again after a short backoff, and dead-lettered after the
//! queue's maxReceiveCount; nothing is dropped.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use pitchside_aws::push_queue::{message, retry_delay};
use pitchside_aws::{ManagementApi, SqsChunkQueue};
use pitchside_core::app::push::{self, Policy, Tally};
use pitchside_core::ports::Ports;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

struct Function {
    ports: Ports,
    queue: SqsChunkQueue,
    endpoint: ManagementApi,
    policy: Policy,
}

/// The invocation's deadline as a monotonic instant.
fn deadline(deadline_ms: u64) -> tokio::time::Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    tokio::time::Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

impl Function {
    async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
        let deadline = deadline(event.context.deadline);
        let records = event.payload.records;
        let messages = records
            .iter()
            .map(|r| {
                message(
                    r.message_id.as_deref().unwrap_or_default(),
                    r.body.as_deref().unwrap_or_default(),
                )
            })
            .collect();
        let tally = Tally::default();
        let back = push::deliver_batch(
            &self.endpoint,
            self.ports.registry.as_ref(),
            messages,
            deadline,
            &self.policy,
            &tally,
        )
        .await;
        for r in records
            .iter()
            .filter(|r| r.message_id.as_ref().is_some_and(|id| back.contains(id)))
        {
            let count = r
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            if let Some(receipt) = &r.receipt_handle
                && let Err(e) = self.queue.retry_in(receipt, retry_delay(count)).await
            {
                tracing::warn!(error = %e, "cannot shorten a handed-back chunk's wait; it waits the queue's visibility timeout");
            }
        }
        let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        tracing::info!(request_id = %event.context.request_id, chunks = records.len(),
            handed_back = back.len(), calls = n(&tally.calls), delivered = n(&tally.delivered),
            gone = n(&tally.gone), throttled = n(&tally.throttled), refused = n(&tally.refused),
            "batch pushed");
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = back
            .into_iter()
            .map(|id| {
                let mut f = BatchItemFailure::default();
                f.item_identifier = id;
                f
            })
            .collect();
        Ok(response)
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    pitchside_lambdas::logging::init();
    let settings = pitchside_lambdas::settings(pitchside_lambdas::wants::PUSH)?;
    let sdk = pitchside_aws::sdk_config().await;
    let ports = pitchside_lambdas::ports(&settings, &sdk);
    let queue = pitchside_lambdas::push_queue(&settings, &sdk)?;
    let Some(endpoint) = settings.aws.as_ref().and_then(|a| a.ws_endpoint.clone()) else {
        return Err(format!(
            "{}: the push function posts through the WebSocket API's management endpoint; set it",
            pitchside_core::config::WS_ENDPOINT
        )
        .into());
    };
    let function = Function {
        ports,
        queue,
        endpoint: pitchside_aws::wiring::connections(&sdk, &endpoint),
        policy: Policy::default(),
    };
    let function = &function;
    lambda_runtime::run(service_fn(move |event| async move {
        pitchside_lambdas::metered(function.handle(event)).await
    }))
    .await
}
