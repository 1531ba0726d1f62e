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

#[tokio::test]
async fn event_log() {
    let (c, t) = table().await;
    port_suite::event_log(&store(c, t)).await;
}

#[tokio::test]
async fn directory() {
    let (c, t) = table().await;
    port_suite::directory(&store(c, t)).await;
}

#[tokio::test]
async fn tickets() {
    let (c, t) = table().await;
    port_suite::tickets(&store(c, t)).await;
}

#[tokio::test]
async fn messages() {
    let (c, t) = table().await;
    port_suite::messages(&store(c, t)).await;
}

#[tokio::test]
async fn availability() {
    let (c, t) = table().await;
    port_suite::availability(&store(c, t)).await;
}

#[tokio::test]
async fn quarantine() {
    let (c, t) = table().await;
    port_suite::quarantine(&store(c, t)).await;
}

#[tokio::test]
async fn blobs() {
    let (c, t) = table().await;
    port_suite::blobs(&store(c, t)).await;
}

#[tokio::test]
async fn registry() {
    let (c, t) = table().await;
    port_suite::registry(&DynamoRegistry::new(c, t)).await;
}

#[tokio::test]
async fn matches() {
    let (c, t) = table().await;
    port_suite::matches(&store(c, t)).await;
}

#[tokio::test]
async fn auctions() {
    let (c, t) = table().await;
    port_suite::auctions(&store(c, t)).await;
}

#[tokio::test]
async fn chat() {
    let (c, t) = table().await;
    port_suite::chat(&store(c, t)).await;
}

#[tokio::test]
async fn queue() {
    let client = aws_sdk_sqs::Client::new(&sdk().await);
    let (url, dlq) = bootstrap::create_queues(&client, &unique("q"), 3)
        .await
        .unwrap();
    port_suite::queue(&SqsQueue::new(client, url, Some(dlq)), 3).await;
}

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
