//! Push through API Gateway's management API (`PostToConnection`) to the connections the
//! registry holds for the organization.

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::error::DisplayErrorContext;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use futures_util::StreamExt;
use pitchside_core::ports::*;
use pitchside_domain::event::Event;
use pitchside_domain::revocation;
use std::sync::Arc;
use std::time::Duration;

/// How many `PostToConnection` calls are in flight at once per broadcast.
pub const DEFAULT_CONCURRENCY: usize = 64;
/// Attempts for an error other than 410 Gone, with exponential backoff between them.
const ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

/// What became of one post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// 410: the connection is gone (and has been removed from the registry).
    Gone,
    /// Still failing after the retries.
    Failed,
}

#[derive(Clone)]
pub struct ApiGatewayPusher {
    client: Client,
    registry: Arc<dyn ConnectionRegistry>,
    concurrency: usize,
}

impl ApiGatewayPusher {
    pub fn new(client: Client, registry: Arc<dyn ConnectionRegistry>, concurrency: usize) -> Self {
        Self {
            client,
            registry,
            concurrency: concurrency.max(1),
        }
    }

    /// Posts to one connection of `org`; on 410 Gone removes that connection.
    pub async fn post(
        &self,
        org: &pitchside_domain::ids::OrganizationId,
        id: &ConnectionId,
        data: &[u8],
    ) -> Delivery {
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS {
            match self
                .client
                .post_to_connection()
                .connection_id(&id.0)
                .data(Blob::new(data.to_vec()))
                .send()
                .await
            {
                Ok(_) => return Delivery::Sent,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_gone_exception()) =>
                {
                    if let Err(err) = self.registry.remove(org, id).await {
                        tracing::warn!(connection = %id.0, error = %err, "cannot remove a gone connection");
                    }
                    return Delivery::Gone;
                }
                Err(e) => {
                    tracing::debug!(connection = %id.0, attempt, error = %DisplayErrorContext(&e), "post failed");
                    if attempt < ATTEMPTS {
                        tokio::time::sleep(backoff).await;
                        backoff *= 2;
                    } else {
                        tracing::warn!(connection = %id.0, error = %DisplayErrorContext(&e), "post failed after retries");
                    }
                }
            }
        }
        Delivery::Failed
    }

    /// Posts `data` to every connection of a room, `concurrency` at a time.
    pub async fn broadcast(
        &self,
        org: &pitchside_domain::ids::OrganizationId,
        room: &str,
        data: &[u8],
    ) -> StoreResult<Vec<(ConnectionId, Delivery)>> {
        let members = self.registry.members(org, room).await?;
        Ok(futures_util::stream::iter(members)
            .map(|id| async move {
                let d = self.post(org, &id, data).await;
                (id, d)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await)
    }
}

impl ApiGatewayPusher {
    /// Ends the open connections of a revoked member: each gets the notice, then is
    /// closed (API Gateway closes it with 1000 and calls `$disconnect`, which forgets it).
    async fn end_connections(&self, event: &Event) -> StoreResult<()> {
        let org = &event.organization_id;
        let room = pitchside_domain::rooms::of_event(event).to_string();
        let told = self
            .broadcast(org, &room, revocation::ws_notice().as_bytes())
            .await?;
        futures_util::stream::iter(told)
            // A gone connection is already forgotten.
            .filter(|(_, d)| std::future::ready(*d != Delivery::Gone))
            .for_each_concurrent(self.concurrency, |(id, _)| {
                async move {
                    match self.client.delete_connection().connection_id(&id.0).send().await {
                        Ok(_) => tracing::info!(connection = %id.0, "connection of a revoked member closed"),
                        Err(e) if e.as_service_error().is_some_and(|se| se.is_gone_exception()) => {}
                        Err(e) => tracing::warn!(connection = %id.0, error = %DisplayErrorContext(&e), "cannot close the connection of a revoked member"),
                    }
                    if let Err(e) = self.registry.remove(org, &id).await {
                        tracing::warn!(connection = %id.0, error = %e, "cannot remove a revoked connection");
                    }
                }
            })
            .await;
        Ok(())
    }
}

#[async_trait]
impl Pusher for ApiGatewayPusher {
    async fn publish(&self, event: &Event) -> StoreResult<()> {
        if revocation::revoked_user(event).is_some() {
            return self.end_connections(event).await;
        }
        if !event.kind.reaches_clients() {
            return Ok(());
        }
        let json = event.to_json();
        let room = pitchside_domain::rooms::of_event(event).to_string();
        let results = self
            .broadcast(&event.organization_id, &room, json.as_bytes())
            .await?;
        let failed = results
            .iter()
            .filter(|(_, d)| *d == Delivery::Failed)
            .count();
        if failed > 0 {
            // The subscribers' clients catch up from the log on reconnect.
            tracing::warn!(event_id = %event.id, failed, "some connections did not get the event");
        }
        Ok(())
    }
}
