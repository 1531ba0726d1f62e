//! The ports of the AWS backend, built from the settings: what every Lambda and the
//! local gateway in AWS mode start from.

use super::{
    DynamoRegistry, DynamoStore, ManagementApi, SqsChunkQueue, SqsQueue, management_client,
};
use pitchside_core::clock::Clock;
use pitchside_core::config::{AwsSettings, ConfigError, Settings};
use pitchside_core::ports::Ports;
use pitchside_core::ports::Pusher;
use pitchside_core::ports::SecretStore;
use pitchside_core::secrets::Keys;
use std::sync::Arc;
use std::time::Duration;

/// The AWS ports. Nothing is pushed from here to WebSocket connections: on AWS that is
/// the push path's, from the table's stream (README, "On AWS"). `local` is the local
/// gateway's in-process hub (its own SSE streams), if any.
pub fn ports(
    sdk: &aws_config::SdkConfig,
    aws: &AwsSettings,
    retention: Duration,
    local: Option<Arc<dyn Pusher>>,
) -> Ports {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let store = Arc::new(DynamoStore::new(dynamo.clone(), &aws.table, retention));
    let registry = Arc::new(DynamoRegistry::new(dynamo, &aws.table));
    let queue = Arc::new(SqsQueue::new(
        aws_sdk_sqs::Client::new(sdk),
        &aws.queue_url,
        aws.dead_letter_queue_url.clone(),
    ));
    let pusher = Arc::new(pitchside_core::ports::Fanout(local.into_iter().collect()));
    Ports::new(store, queue, registry, pusher)
}

/// The push queue, when the settings name one.
pub fn push_queue(sdk: &aws_config::SdkConfig, aws: &AwsSettings) -> Option<SqsChunkQueue> {
    aws.push_queue_url
        .as_ref()
        .map(|url| SqsChunkQueue::new(aws_sdk_sqs::Client::new(sdk), url))
}

/// The connections' endpoint at `endpoint` (API Gateway's management API).
pub fn connections(sdk: &aws_config::SdkConfig, endpoint: &str) -> ManagementApi {
    ManagementApi::new(management_client(sdk, endpoint))
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
