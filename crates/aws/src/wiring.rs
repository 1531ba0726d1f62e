//! The ports of the AWS backend, built from the settings: what every Lambda and the
//! local gateway in AWS mode start from.

use super::{ApiGatewayPusher, DynamoRegistry, DynamoStore, SqsQueue, management_client};
use pitchside_core::clock::Clock;
use pitchside_core::config::{AwsSettings, ConfigError, Settings};
use pitchside_core::ports::Ports;
use pitchside_core::ports::Pusher;
use pitchside_core::ports::SecretStore;
use pitchside_core::secrets::Keys;
use std::sync::Arc;
use std::time::Duration;

/// The AWS ports; `pusher` is API Gateway's management API at `ws_endpoint` when one
/// is known, and `extra_pusher` (the local gateway's SSE hub) is added in front.
pub fn ports(
    sdk: &aws_config::SdkConfig,
    aws: &AwsSettings,
    retention: Duration,
    ws_endpoint: Option<&str>,
    extra_pusher: Option<Arc<dyn Pusher>>,
) -> (Ports, Option<Arc<ApiGatewayPusher>>) {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let store = Arc::new(DynamoStore::new(dynamo.clone(), &aws.table, retention));
    let registry = Arc::new(DynamoRegistry::new(dynamo, &aws.table));
    let queue = Arc::new(SqsQueue::new(
        aws_sdk_sqs::Client::new(sdk),
        &aws.queue_url,
        aws.dead_letter_queue_url.clone(),
    ));
    let api_gateway = ws_endpoint.map(|endpoint| {
        Arc::new(ApiGatewayPusher::new(
            management_client(sdk, endpoint),
            registry.clone(),
            super::apigw::DEFAULT_CONCURRENCY,
        ))
    });
    let mut pushers: Vec<Arc<dyn Pusher>> = extra_pusher.into_iter().collect();
    if let Some(p) = &api_gateway {
        pushers.push(p.clone());
    }
    let ports = Ports::new(
        store,
        queue,
        registry,
        Arc::new(pitchside_core::ports::Fanout(pushers)),
    );
    (ports, api_gateway)
}

/// The process's secrets: the configured values, and the stored ones read from Secrets
/// Manager, whose client is built only when some secret is stored (from `sdk` when the
/// caller has loaded one already, as every Lambda has).
pub async fn keys(
    settings: &Settings,
    sdk: Option<&aws_config::SdkConfig>,
    clock: Arc<dyn Clock>,
) -> Result<Keys, ConfigError> {
    let store: Option<Arc<dyn SecretStore>> = if settings.stores_secrets() {
        let client = match sdk {
            Some(sdk) => aws_sdk_secretsmanager::Client::new(sdk),
            None => aws_sdk_secretsmanager::Client::new(&super::sdk_config().await),
        };
        Some(Arc::new(super::SecretsManager::new(client)))
    } else {
        None
    };
    Keys::load(settings, store, clock).await
}
