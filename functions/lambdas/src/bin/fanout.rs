//! The `fanout` function (the table's DynamoDB stream, filtered to the organizations'
//! LOG items): each move of a log head becomes chunks on the push queue, one per lane
//! of the room's connections. Records are taken in stream order, and the first that
//! fails stops the batch: Lambda retries from it, so no later event's chunks are queued
//! ahead of it (a chunk queued twice is deduplicated by the queue).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use pitchside_aws::SqsChunkQueue;
use pitchside_aws::stream::lambda_record;
use pitchside_core::app::fanout;
use pitchside_core::ports::Ports;
use serde_json::{Value, json};
use tracing::Instrument;

async fn handle(
    ports: &Ports,
    queue: &SqsChunkQueue,
    event: LambdaEvent<Value>,
) -> Result<Value, Error> {
    let records = event.payload["Records"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for record in &records {
        let (sequence, moved) = lambda_record(record);
        let Some(moved) = moved else { continue };
        let span = tracing::info_span!("record", request_id = %event.context.request_id,
            org = %moved.org, sequence = %sequence);
        let result = fanout::fan_out(ports, queue, &moved.org, moved.after, moved.upto)
            .instrument(span.clone())
            .await;
        match result {
            Ok(q) => tracing::info!(parent: &span, after = %moved.after, upto = %moved.upto,
                events = q.events, chunks = q.chunks, connections = q.connections, "fanned out"),
            Err(e) => {
                tracing::warn!(parent: &span, error = %e, "fan-out failed; Lambda retries from this record");
                return Ok(json!({"batchItemFailures": [{"itemIdentifier": sequence}]}));
            }
        }
    }
    Ok(json!({"batchItemFailures": []}))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    pitchside_lambdas::logging::init();
    let settings = pitchside_lambdas::settings(pitchside_lambdas::wants::FANOUT)?;
    let sdk = pitchside_aws::sdk_config().await;
    let ports = pitchside_lambdas::ports(&settings, &sdk);
    let queue = pitchside_lambdas::push_queue(&settings, &sdk)?;
    let (ports, queue) = (&ports, &queue);
    lambda_runtime::run(service_fn(move |event| async move {
        pitchside_lambdas::metered(handle(ports, queue, event)).await
    }))
    .await
}
