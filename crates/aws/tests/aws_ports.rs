//! The AWS adapters against the ports' shared suite, over HTTP to a real emulator (moto
//! server, started by `make test`, which sets `AWS_ENDPOINT_URL`).

#![allow(clippy::unwrap_used, clippy::disallowed_methods)] // a test may panic and read the clock

use pitchside_aws::{DynamoRegistry, DynamoStore, SqsQueue, bootstrap};
use pitchside_port_suite as port_suite;

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

async fn table() -> (aws_sdk_dynamodb::Client, String) {
    let client = aws_sdk_dynamodb::Client::new(&sdk().await);
    let name = unique("t");
    bootstrap::create_table(&client, &name).await.unwrap();
    (client, name)
}

fn store(client: aws_sdk_dynamodb::Client, table: String) -> DynamoStore {
    DynamoStore::new(client, table, pitchside_aws::dynamo::DEFAULT_RETENTION)
}

async fn dynamo_store() -> Box<DynamoStore> {
    let (c, t) = table().await;
    Box::new(store(c, t))
}

async fn dynamo_registry() -> Box<DynamoRegistry> {
    let (c, t) = table().await;
    Box::new(DynamoRegistry::new(c, t))
}

async fn sqs_queue() -> Box<SqsQueue> {
    let client = aws_sdk_sqs::Client::new(&sdk().await);
    let max = port_suite::queue::QUEUE_MAX_RECEIVES;
    let (url, dlq) = bootstrap::create_queues(&client, &unique("q"), max)
        .await
        .unwrap();
    Box::new(SqsQueue::new(client, url, Some(dlq)))
}

pitchside_port_suite::store_tests!(dynamo_store().await);
pitchside_port_suite::queue_tests!(sqs_queue().await);
pitchside_port_suite::registry_tests!(dynamo_registry().await);

#[tokio::test]
async fn bootstrap_is_idempotent() {
    let (c, t) = table().await;
    bootstrap::create_table(&c, &t).await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    let name = unique("q");
    let first = bootstrap::create_queues(&sqs, &name, 3).await.unwrap();
    assert_eq!(
        bootstrap::create_queues(&sqs, &name, 3).await.unwrap(),
        first
    );
}
