//! The AWS backend: DynamoDB for the store and the connection registry, SQS for the
//! queue, API Gateway's management API for push.

// An adapter keeps time as its backend does (item TTLs): the wall clock.
#![allow(clippy::disallowed_methods)]

pub mod apigw;
mod auctions;
pub mod bootstrap;
pub mod dynamo;
pub mod keys;
mod records;
pub mod registry;
pub mod sqs;
pub mod wiring;

pub use apigw::ApiGatewayPusher;
pub use dynamo::DynamoStore;
pub use registry::DynamoRegistry;
pub use sqs::SqsQueue;

/// The SDK configuration from the environment (credentials, region, and
/// `AWS_ENDPOINT_URL` for an emulator).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
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
