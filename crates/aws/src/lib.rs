//! The AWS backend: DynamoDB for the store and the connection registry, SQS for the
//! queues, the table's stream and API Gateway's management API for push.

// An adapter keeps time as its backend does (item TTLs): the wall clock.
#![allow(clippy::disallowed_methods)]

mod auctions;
mod availability;
mod blobs;
pub mod bootstrap;
mod directory;
pub mod dynamo;
pub mod keys;
mod leases;
mod log;
pub mod management;
mod matches;
mod messages;
pub mod push_queue;
mod quarantine;
mod records;
pub mod registry;
pub mod secrets;
pub mod sqs;
pub mod stream;
mod tickets;
pub mod wiring;

pub use dynamo::DynamoStore;
pub use management::{ManagementApi, management_client};
pub use push_queue::SqsChunkQueue;
pub use registry::DynamoRegistry;
pub use secrets::SecretsManager;
pub use sqs::SqsQueue;

/// The SDK configuration from the environment (credentials, region, and
/// `AWS_ENDPOINT_URL` for an emulator), over rustls with ring: the SDK's default client
/// would bring aws-lc as a second crypto library beside the one the functions already
/// link, for no gain here.
pub async fn sdk_config() -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await
}
