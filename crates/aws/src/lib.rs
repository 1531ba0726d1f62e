//! The AWS backend: DynamoDB for the store and the connection registry, SQS for the
//! queue, API Gateway's management API for push.

// An adapter keeps time as its backend does (item TTLs): the wall clock.
#![allow(clippy::disallowed_methods)]

pub mod apigw;
mod auctions;
mod availability;
mod blobs;
pub mod bootstrap;
mod directory;
pub mod dynamo;
pub mod keys;
mod leases;
mod log;
mod matches;
mod messages;
mod quarantine;
mod records;
pub mod registry;
pub mod secrets;
pub mod sqs;
mod tickets;
pub mod wiring;

pub use apigw::ApiGatewayPusher;
pub use dynamo::DynamoStore;
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

/// A management API client for `endpoint`: API Gateway's
/// `https://{api}.execute-api.{region}.amazonaws.com/{stage}`, or the local gateway's
/// own `http://127.0.0.1:8080`.
pub fn management_client(
    sdk: &aws_config::SdkConfig,
    endpoint: &str,
) -> aws_sdk_apigatewaymanagement::Client {
    let conf = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(conf)
}
