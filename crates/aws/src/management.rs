//! API Gateway's management API (`PostToConnection`, `DeleteConnection`): the
//! connections' endpoint of the push path. One call per request: the SDK's retries are
//! off on this client, so the push policy (`pitchside_core::app::push`) is the only one.

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::config::http::HttpResponse;
use aws_sdk_apigatewaymanagement::error::{DisplayErrorContext, SdkError};
use aws_sdk_apigatewaymanagement::primitives::Blob;
use pitchside_core::ports::{ConnectionEndpoint, ConnectionId, Posted};
use std::time::Duration;

/// How long one call may take, connecting included: well inside the push policy's
/// margin before an invocation's deadline.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// A management API client for `endpoint`: API Gateway's
/// `https://{api}.execute-api.{region}.amazonaws.com/{stage}`, or the local gateway's
/// own `http://127.0.0.1:8080`; without retries, and with a bounded call.
pub fn management_client(sdk: &aws_config::SdkConfig, endpoint: &str) -> Client {
    let conf = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
        .endpoint_url(endpoint)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(CALL_TIMEOUT)
                .build(),
        )
        .build();
    Client::from_conf(conf)
}

#[derive(Clone)]
pub struct ManagementApi {
    client: Client,
}

impl ManagementApi {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

/// What a failed call means for the policy: 410 is gone, 429 a throttle, a 5xx or a
/// call that never got an answer may work again, any other refusal will not.
fn outcome(status: Option<u16>) -> Posted {
    match status {
        Some(410) => Posted::Gone,
        Some(429) => Posted::Throttled,
        Some(s) if s >= 500 => Posted::Failed { retry: true },
        Some(_) => Posted::Failed { retry: false },
        None => Posted::Failed { retry: true },
    }
}

fn failed<E>(e: &SdkError<E, HttpResponse>, id: &ConnectionId, what: &str) -> Posted
where
    E: std::error::Error + 'static,
{
    let posted = outcome(e.raw_response().map(|r| r.status().as_u16()));
    if posted != Posted::Gone {
        tracing::debug!(connection = %id.0, error = %DisplayErrorContext(e), "{what} failed");
    }
    posted
}

#[async_trait]
impl ConnectionEndpoint for ManagementApi {
    async fn post(&self, id: &ConnectionId, data: &[u8]) -> Posted {
        match self
            .client
            .post_to_connection()
            .connection_id(&id.0)
            .data(Blob::new(data.to_vec()))
            .send()
            .await
        {
            Ok(_) => Posted::Sent,
            Err(e) => failed(&e, id, "post"),
        }
    }

    async fn close(&self, id: &ConnectionId) -> Posted {
        match self
            .client
            .delete_connection()
            .connection_id(&id.0)
            .send()
            .await
        {
            Ok(_) => Posted::Sent,
            Err(e) => failed(&e, id, "close"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_retried_only_when_trying_again_can_help() {
        assert_eq!(outcome(Some(410)), Posted::Gone);
        assert_eq!(outcome(Some(429)), Posted::Throttled);
        assert_eq!(outcome(Some(503)), Posted::Failed { retry: true });
        assert_eq!(outcome(None), Posted::Failed { retry: true });
        assert_eq!(outcome(Some(403)), Posted::Failed { retry: false });
        assert_eq!(outcome(Some(413)), Posted::Failed { retry: false });
    }
}
