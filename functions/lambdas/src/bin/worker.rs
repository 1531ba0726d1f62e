//! The `worker` function (SQS event source): each record is processed on its own; the
//! ones that fail are reported as batch item failures, so SQS retries only those (and
//! dead-letters them after the queue's maxReceiveCount).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use pitchside_core::app::worker;
use pitchside_core::ports::Ports;
use tracing::Instrument;

async fn handle(ports: &Ports, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let mut failures = Vec::new();
    for record in event.payload.records {
        let id = record.message_id.clone().unwrap_or_default();
        let span =
            tracing::info_span!("record", request_id = %event.context.request_id, message_id = %id);
        let result = async {
            worker::process(ports, record.body.as_deref().unwrap_or_default().as_bytes()).await
        }
        .instrument(span.clone())
        .await;
        if let Err(e) = result {
            tracing::warn!(parent: &span, error = %e, "record failed; SQS will retry it");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    pitchside_lambdas::logging::init();
    let settings = pitchside_lambdas::settings(pitchside_lambdas::wants::WORKER)?;
    let ports = pitchside_lambdas::ports(&settings, &pitchside_aws::sdk_config().await);
    let ports = &ports;
    lambda_runtime::run(service_fn(move |event| async move {
        pitchside_lambdas::metered(handle(ports, event)).await
    }))
    .await
}
