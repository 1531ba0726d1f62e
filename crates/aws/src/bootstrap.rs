//! Creates the table and queues Pitchside needs, for emulators (moto, LocalStack) and
//! tests; in AWS the SAM template creates them. Idempotent.

use super::dynamo::unavailable;
use super::keys::{GSI1, GSI1PK, GSI1SK, PK, SK, TTL};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use pitchside_core::ports::StoreError;

pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), StoreError> {
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(unavailable)
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(unavailable)
    };
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(PK)?)
        .attribute_definitions(attr(SK)?)
        .attribute_definitions(attr(GSI1PK)?)
        .attribute_definitions(attr(GSI1SK)?)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        // The push path reads the log head's moves from it (README, "On AWS").
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .map_err(unavailable)?,
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(GSI1)
                .key_schema(key(GSI1PK, KeyType::Hash)?)
                .key_schema(key(GSI1SK, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .map_err(unavailable)?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_resource_in_use_exception()) =>
        {
            return Ok(());
        }
        Err(e) => return Err(unavailable(e)),
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL)
                .enabled(true)
                .build()
                .map_err(unavailable)?,
        )
        .send()
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Creates `name` and `name-dlq` with a redrive policy; answers their URLs.
pub async fn create_queues(
    client: &aws_sdk_sqs::Client,
    name: &str,
    max_receives: u32,
) -> Result<(String, String), StoreError> {
    create(client, name, "", max_receives, &[]).await
}

/// Creates the push queue `name-push.fifo` and its dead-letter queue
/// `name-push-dlq.fifo`, as the template does; answers their URLs.
pub async fn create_push_queues(
    client: &aws_sdk_sqs::Client,
    name: &str,
    max_receives: u32,
) -> Result<(String, String), StoreError> {
    let fifo = [
        (QueueAttributeName::FifoQueue, "true"),
        (QueueAttributeName::DeduplicationScope, "messageGroup"),
        (QueueAttributeName::FifoThroughputLimit, "perMessageGroupId"),
    ];
    create(
        client,
        &format!("{name}-push"),
        ".fifo",
        max_receives,
        &fifo,
    )
    .await
}

async fn create(
    client: &aws_sdk_sqs::Client,
    name: &str,
    suffix: &str,
    max_receives: u32,
    attributes: &[(QueueAttributeName, &str)],
) -> Result<(String, String), StoreError> {
    let with =
        |mut req: aws_sdk_sqs::operation::create_queue::builders::CreateQueueFluentBuilder| {
            for (k, v) in attributes {
                req = req.attributes(k.clone(), *v);
            }
            req
        };
    let dlq_url = with(client.create_queue())
        .queue_name(format!("{name}-dlq{suffix}"))
        .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
        .send()
        .await
        .map_err(unavailable)?
        .queue_url
        .unwrap_or_default();
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(unavailable)?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or_else(|| StoreError::unavailable("the dead-letter queue has no ARN"))?;
    let redrive =
        serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})
            .to_string();
    let url = with(client.create_queue())
        .queue_name(format!("{name}{suffix}"))
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .attributes(QueueAttributeName::VisibilityTimeout, "60")
        .send()
        .await
        .map_err(unavailable)?
        .queue_url
        .unwrap_or_default();
    Ok((url, dlq_url))
}

/// Creates the secret `name` holding `value` (or puts `value` as its new current
/// version, if it exists); answers its ARN.
pub async fn put_secret(
    client: &aws_sdk_secretsmanager::Client,
    name: &str,
    value: &str,
) -> Result<String, StoreError> {
    let created = client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await;
    match created {
        Ok(out) => Ok(out.arn.unwrap_or_default()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_resource_exists_exception()) =>
        {
            let out = client
                .put_secret_value()
                .secret_id(name)
                .secret_string(value)
                .send()
                .await
                .map_err(unavailable)?;
            Ok(out.arn.unwrap_or_default())
        }
        Err(e) => Err(unavailable(e)),
    }
}
