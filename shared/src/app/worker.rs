//! The worker: turns queued work into state and events. Everything here is safe to run
//! twice for the same message (the queue delivers at least once).

use super::Ports;
use crate::domain::ids::OrganizationId;
use crate::domain::ids::PhoneNumberId;
use crate::domain::inbound;
use crate::domain::whatsapp::ChangeValue;
use crate::domain::whatsapp::parse_notification;
use crate::domain::work::{QueuedWork, WorkKind};
use crate::ports::{Received, StoreError};
use chrono::Utc;
use tracing::{Instrument, info, warn};

/// Why work failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    /// A dependency failed; the message stays on the queue and is retried.
    #[error("retryable: {0}")]
    Retry(#[from] StoreError),
    /// Retrying cannot help; the message is left to the dead letters.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// What a processed message led to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub events_appended: usize,
    pub duplicates: usize,
}

/// Processes one queued message.
pub async fn process(ports: &Ports, body: &[u8]) -> Result<Outcome, WorkError> {
    let (work, raw) = QueuedWork::decode(body).map_err(|e| WorkError::Permanent(e.to_string()))?;
    let span = tracing::info_span!(
        "queued",
        request_id = work.request_id.as_deref().unwrap_or("-")
    );
    match work.kind {
        WorkKind::WhatsappNotification => whatsapp(ports, &raw).instrument(span).await,
    }
}

async fn whatsapp(ports: &Ports, raw: &[u8]) -> Result<Outcome, WorkError> {
    let note = parse_notification(raw).map_err(|e| WorkError::Permanent(e.to_string()))?;
    let mut outcome = Outcome::default();
    let mut unknown = Vec::new();
    for change in note.entry.iter().flat_map(|e| &e.changes) {
        let value = &change.value;
        let Some(meta) = &value.metadata else {
            continue;
        };
        let Ok(number) = PhoneNumberId::new(meta.phone_number_id.clone()) else {
            unknown.push(meta.phone_number_id.clone());
            continue;
        };
        let Some(org) = ports.directory.resolve_whatsapp_number(&number).await? else {
            unknown.push(meta.phone_number_id.clone());
            continue;
        };
        let span = tracing::info_span!("tenant", org = %org);
        let done = messages(ports, &org, value).instrument(span).await?;
        outcome.events_appended += done.events_appended;
        outcome.duplicates += done.duplicates;
    }
    if !unknown.is_empty() {
        return Err(WorkError::Permanent(format!(
            "no organization has WhatsApp number(s) {}",
            unknown.join(", ")
        )));
    }
    Ok(outcome)
}

async fn messages(
    ports: &Ports,
    org: &OrganizationId,
    value: &ChangeValue,
) -> Result<Outcome, WorkError> {
    let mut outcome = Outcome::default();
    for msg in &value.messages {
        let now = Utc::now();
        let player = ports.directory.player_by_whatsapp(org, &msg.from).await?;
        ports
            .messages
            .record_inbound(org, &inbound::record(msg, player.as_ref(), now))
            .await?;
        let new =
            inbound::message_received(msg, player.as_ref(), value.profile_name(&msg.from), now);
        let appended = ports.log.append(org, new).await?;
        if appended.created {
            outcome.events_appended += 1;
        } else {
            outcome.duplicates += 1;
        }
        // Published again on a redelivery too: the first attempt may have died between
        // append and push, and clients drop ids they have seen.
        if let Err(e) = ports.pusher.publish(&appended.event).await {
            warn!(error = %e, event_id = %appended.event.id, "push failed; subscribers catch up from the log");
        }
        info!(event_id = %appended.event.id, created = appended.created, "message.received");
    }
    Ok(outcome)
}

/// Handles one received message: deletes it when done; leaves it for a retry or the
/// dead letters otherwise. Never drops it silently.
pub async fn handle(ports: &Ports, msg: &Received) -> Result<Outcome, WorkError> {
    let span = tracing::info_span!("work", message_id = %msg.message_id, receive_count = msg.receive_count);
    async {
        let result = process(ports, &msg.body).await;
        match &result {
            Ok(_) => ports.queue.delete(&msg.receipt).await?,
            Err(WorkError::Retry(e)) => warn!(error = %e, "work failed; it will be retried"),
            Err(WorkError::Permanent(reason)) => warn!(
                %reason,
                "work cannot succeed; it goes to the dead letters after its last receive"
            ),
        }
        result
    }
    .instrument(span)
    .await
}
