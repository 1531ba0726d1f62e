//! The worker: turns queued work into state and events. Everything here is safe to run
//! twice for the same message (the queue delivers at least once): every record is
//! keyed on the sender's id (the `wamid`, the Stripe event) and every event carries a
//! dedup key, so a redelivery writes nothing new and appends nothing new.

use super::ErrorKind;
use crate::metrics::{self, WorkOutcome};
use crate::ports::Ports;
use crate::ports::{Appended, Applied, Player, Received, StoreError, error_chain};
use pitchside_domain::availability::{self, Answer, Source};
use pitchside_domain::event::NewEvent;
use pitchside_domain::ids::{OrganizationId, PhoneNumberId};
use pitchside_domain::inbound;
use pitchside_domain::quarantine::Reason;
use pitchside_domain::receipts::{self, StatusChange};
use pitchside_domain::stripe::{self, StripeEvent};
use pitchside_domain::whatsapp::{
    ChangeValue, Content, Entry, Message, Notification, RawChange, Sender, WHATSAPP_OBJECT,
    parse_notification,
};
use pitchside_domain::work::{Body, QueuedWork, WorkKind};
use tracing::{Instrument, info, warn};

/// Why work failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    /// A dependency failed; the message stays on the queue and is retried.
    #[error("retryable")]
    Retry(#[from] StoreError),
    /// Retrying cannot help; the message is left to the dead letters.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// What a processed message led to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Events appended by this run.
    pub events_appended: usize,
    /// Events a previous run had appended already.
    pub duplicates: usize,
    /// Payloads (or changes of one) put in the quarantine.
    pub quarantined: usize,
    /// Statuses or answers older than what the store holds, and so ignored.
    pub stale: usize,
    /// Things acknowledged and deliberately not acted on.
    pub ignored: usize,
}

/// Processes one queued message.
pub async fn process(ports: &Ports, body: &[u8]) -> Result<Outcome, WorkError> {
    let (work, body) =
        QueuedWork::decode(body).map_err(|e| WorkError::Permanent(error_chain(&e)))?;
    let span = tracing::info_span!(
        "queued",
        request_id = work.request_id.as_deref().unwrap_or("-"),
        kind = work.kind.as_str(),
    );
    let kind = work.kind.as_str();
    let done = async {
        let raw = match body {
            Body::Inline(raw) => raw,
            Body::Aside(key) => ports.blobs.blob(&key).await?.ok_or_else(|| {
                WorkError::Permanent(format!("the body stored aside as {key} is gone"))
            })?,
        };
        let mut outcome = Outcome::default();
        match work.kind {
            WorkKind::WhatsappNotification => whatsapp(ports, &raw, &mut outcome).await?,
            WorkKind::StripeEvent => payment(ports, &raw, &mut outcome).await?,
            WorkKind::AuctionTimer => lot_timer(ports, &raw).await?,
        }
        Ok(outcome)
    }
    .instrument(span)
    .await;
    metrics::work(
        kind,
        match &done {
            Ok(_) => WorkOutcome::Processed,
            Err(WorkError::Retry(_)) => WorkOutcome::Retried,
            Err(WorkError::Permanent(_)) => WorkOutcome::Failed,
        },
    );
    if let Ok(outcome) = &done
        && outcome.events_appended > 0
    {
        metrics::webhook_to_append(kind, metrics::between(work.received_at, ports.clock.now()));
    }
    done
}

/// A lot's timer: ours, so a malformed one is a bug, not a tenant's payload to keep.
async fn lot_timer(ports: &Ports, raw: &[u8]) -> Result<(), WorkError> {
    let timer: super::auction::Timer = serde_json::from_slice(raw)
        .map_err(|e| WorkError::Permanent(format!("unreadable lot timer: {e}")))?;
    let span =
        tracing::info_span!("timer", org = %timer.organization_id, auction = %timer.auction_id);
    super::auction::timer(ports, &timer, ports.clock.now())
        .instrument(span)
        .await
        .map_err(|e| match e.kind {
            ErrorKind::Unavailable => WorkError::Retry(StoreError::unavailable(e)),
            _ => WorkError::Permanent(e.to_string()),
        })
}

async fn quarantine(
    ports: &Ports,
    kind: WorkKind,
    reason: Reason,
    detail: String,
    body: &[u8],
    outcome: &mut Outcome,
) -> Result<(), WorkError> {
    let entry = ports
        .quarantine
        .quarantine(kind, reason, &detail, body, ports.clock.now())
        .await?;
    warn!(quarantine_id = %entry.id, ?reason, %detail, "quarantined");
    outcome.quarantined += 1;
    Ok(())
}

/// Appends an event and pushes it. Pushed again on a redelivery too: the first
/// attempt may have died between append and push, and clients drop ids they have seen.
async fn emit(
    ports: &Ports,
    org: &OrganizationId,
    new: NewEvent,
    outcome: &mut Outcome,
) -> Result<(), WorkError> {
    let appended = ports.log.append(org, new).await?;
    announce(ports, &appended, outcome).await;
    Ok(())
}

/// Counts and pushes an event appended (or found already appended) by this work.
async fn announce(ports: &Ports, appended: &Appended, outcome: &mut Outcome) {
    let kind = appended.event.kind;
    metrics::appended(appended);
    if appended.created {
        outcome.events_appended += 1;
    } else {
        outcome.duplicates += 1;
    }
    super::push(ports, &appended.event).await;
    info!(event_id = %appended.event.id, created = appended.created, "{kind}");
}

async fn whatsapp(ports: &Ports, raw: &[u8], outcome: &mut Outcome) -> Result<(), WorkError> {
    const KIND: WorkKind = WorkKind::WhatsappNotification;
    let note = match parse_notification(raw) {
        Ok(n) => n,
        Err(e) => {
            return quarantine(ports, KIND, Reason::Malformed, e.to_string(), raw, outcome).await;
        }
    };
    if note.object != WHATSAPP_OBJECT {
        let detail = format!("`object` is {:?}, not {WHATSAPP_OBJECT:?}", note.object);
        return quarantine(ports, KIND, Reason::Malformed, detail, raw, outcome).await;
    }
    let single = note.entries.iter().map(|e| e.changes.len()).sum::<usize>() == 1;
    for entry in &note.entries {
        for change in &entry.changes {
            // What to quarantine if this change cannot be processed: the body as
            // received when it is the only change, else a notification of just it.
            let alone = || {
                if single {
                    raw.to_vec()
                } else {
                    one_change(&note, entry, change)
                }
            };
            let value = match change.read() {
                Ok(v) => v,
                Err(e) => {
                    quarantine(
                        ports,
                        KIND,
                        Reason::Malformed,
                        e.to_string(),
                        &alone(),
                        outcome,
                    )
                    .await?;
                    continue;
                }
            };
            let Some(number) = value.phone_number_id.as_deref() else {
                if value.messages.is_empty() && value.statuses.is_empty() {
                    // Account-level fields (template reviews, quality updates).
                    log_errors(&value);
                    info!(field = %change.field, "a change without a business number; nothing to do");
                    outcome.ignored += 1;
                } else {
                    let detail = "messages or statuses without metadata.phone_number_id".into();
                    quarantine(ports, KIND, Reason::Malformed, detail, &alone(), outcome).await?;
                }
                continue;
            };
            let org = match PhoneNumberId::new(number) {
                Ok(n) => ports.directory.resolve_whatsapp_number(&n).await?,
                Err(_) => None,
            };
            let Some(org) = org else {
                let detail = format!("no organization has WhatsApp number {number:?}");
                quarantine(
                    ports,
                    KIND,
                    Reason::UnknownNumber,
                    detail,
                    &alone(),
                    outcome,
                )
                .await?;
                continue;
            };
            tenant(ports, &org, &value, outcome)
                .instrument(tracing::info_span!("tenant", org = %org))
                .await?;
        }
    }
    Ok(())
}

/// A notification holding one change of `note`.
fn one_change(note: &Notification, entry: &Entry, change: &RawChange) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "object": note.object,
        "entry": [{"id": entry.id, "changes": [{"field": change.field, "value": change.value}]}],
    }))
    .expect("JSON values serialize")
}

/// `value.errors`: Meta's own problems, for the operator; no event.
fn log_errors(value: &ChangeValue) {
    for e in &value.errors {
        warn!(
            code = e.code,
            title = e.title.as_deref().unwrap_or("-"),
            details = e.details.as_deref().unwrap_or("-"),
            "WhatsApp reports an error"
        );
    }
}

async fn tenant(
    ports: &Ports,
    org: &OrganizationId,
    value: &ChangeValue,
    outcome: &mut Outcome,
) -> Result<(), WorkError> {
    log_errors(value);
    for msg in &value.messages {
        message(ports, org, value, msg, outcome).await?;
    }
    for update in &value.statuses {
        let Some(rec) = receipts::record(update, ports.clock.now()) else {
            info!(status = %update.status, message_id = %update.message_id, "a status Pitchside does not track");
            outcome.ignored += 1;
            continue;
        };
        match ports.messages.advance_status(org, &rec).await? {
            // The same status again is appended again: its dedup key makes that a
            // no-op, unless the first attempt died before appending.
            StatusChange::Advanced | StatusChange::Same => {
                emit(
                    ports,
                    org,
                    receipts::status_updated(&rec, ports.clock.now()),
                    outcome,
                )
                .await?
            }
            StatusChange::Stale => {
                info!(message_id = %rec.message_id, status = rec.status.as_str(), "an older status than the one held; ignored");
                outcome.stale += 1;
            }
        }
    }
    Ok(())
}

async fn player_of(
    ports: &Ports,
    org: &OrganizationId,
    sender: &Sender,
) -> Result<Option<Player>, StoreError> {
    if let Some(wa) = &sender.wa_id
        && let Some(p) = ports.directory.player_by_whatsapp(org, wa).await?
    {
        return Ok(Some(p));
    }
    match &sender.user_id {
        Some(u) => ports.directory.player_by_whatsapp_user(org, u).await,
        None => Ok(None),
    }
}

async fn message(
    ports: &Ports,
    org: &OrganizationId,
    value: &ChangeValue,
    msg: &Message,
    outcome: &mut Outcome,
) -> Result<(), WorkError> {
    let now = ports.clock.now();
    let sender = value.sender_of(msg);
    let player = player_of(ports, org, &sender).await?;
    let rec = inbound::record(
        msg,
        &sender,
        player.as_ref(),
        value.profile_name(&sender),
        now,
    );
    ports.messages.record_inbound(org, &rec).await?;
    emit(ports, org, inbound::message_received(&rec, now), outcome).await?;

    let Some(player) = player else {
        return Ok(());
    };
    let reply_id = match &msg.content {
        Content::ButtonReply { id, .. } | Content::ListReply { id, .. } => Some(id.as_str()),
        Content::Button { payload, .. } => payload.as_deref(),
        _ => None,
    };
    let answer = match reply_id.and_then(availability::parse_reply_id) {
        Some(answer) => Some(answer),
        None => {
            match inbound::readable_text(&msg.content).and_then(availability::parse_free_text) {
                Some(response) => ports
                    .availability
                    .latest_request(org, &player.id)
                    .await?
                    .map(|m| (m, response)),
                None => None,
            }
        }
    };
    let Some((match_id, response)) = answer else {
        return Ok(());
    };
    let answer = Answer {
        player_id: player.id.clone(),
        response,
        updated_at: rec.sent_at,
        updated_by: Source::Whatsapp,
        message_id: Some(msg.id.clone()),
    };
    // The answer and its event in one step: a redelivery finds both or neither.
    let event = availability::availability_updated(&match_id, &answer, now);
    match ports
        .availability
        .set_availability(org, &match_id, &answer, event)
        .await?
    {
        Applied::Yes(appended) => {
            announce(ports, &appended, outcome).await;
            Ok(())
        }
        Applied::Stale => {
            info!(%match_id, player = %player.id, "a newer answer is held; this one is ignored");
            outcome.stale += 1;
            Ok(())
        }
    }
}

async fn payment(ports: &Ports, raw: &[u8], outcome: &mut Outcome) -> Result<(), WorkError> {
    const KIND: WorkKind = WorkKind::StripeEvent;
    let event = match stripe::parse_event(raw) {
        Ok(e) => e,
        Err(e) => {
            return quarantine(ports, KIND, Reason::Malformed, e.to_string(), raw, outcome).await;
        }
    };
    let now = ports.clock.now();
    match event {
        StripeEvent::Ignored { event_id, kind } => {
            info!(%event_id, %kind, "a Stripe event Pitchside does not act on");
            outcome.ignored += 1;
            Ok(())
        }
        StripeEvent::Awaiting {
            event_id,
            payment_status,
        } => {
            info!(%event_id, %payment_status, "a checkout completed before its money arrived; its async_payment event will settle it");
            outcome.ignored += 1;
            Ok(())
        }
        StripeEvent::NoOrganization { event_id, reason } => {
            let detail = format!("Stripe event {event_id}: {reason}");
            quarantine(
                ports,
                KIND,
                Reason::UnknownOrganization,
                detail,
                raw,
                outcome,
            )
            .await
        }
        StripeEvent::Confirmed(p) => {
            let event = stripe::payment_confirmed(&p, now);
            settled(ports, raw, &p, event, outcome).await
        }
        StripeEvent::Failed(p) => {
            let event = stripe::payment_failed(&p, now);
            settled(ports, raw, &p, event, outcome).await
        }
    }
}

/// A payment that settled, either way: its event for the organization it names, or the
/// quarantine when no such organization exists.
async fn settled(
    ports: &Ports,
    raw: &[u8],
    p: &stripe::Payment,
    event: NewEvent,
    outcome: &mut Outcome,
) -> Result<(), WorkError> {
    let org = &p.organization;
    if ports.directory.organization(org).await?.is_none() {
        let detail = format!(
            "Stripe event {}: organization {org} does not exist",
            p.event_id
        );
        return quarantine(
            ports,
            WorkKind::StripeEvent,
            Reason::UnknownOrganization,
            detail,
            raw,
            outcome,
        )
        .await;
    }
    emit(ports, org, event, outcome)
        .instrument(tracing::info_span!("tenant", org = %org, stripe_event = %p.event_id))
        .await
}

/// Handles one received message: deletes it when done; leaves it for a retry or the
/// dead letters otherwise. Never drops it silently.
pub async fn handle(ports: &Ports, msg: &Received) -> Result<Outcome, WorkError> {
    let span = tracing::info_span!("work", message_id = %msg.message_id, receive_count = msg.receive_count);
    async {
        let result = process(ports, &msg.body).await;
        match &result {
            Ok(_) => ports.queue.delete(&msg.receipt).await?,
            Err(WorkError::Retry(e)) => {
                warn!(error = %error_chain(e), "work failed; it will be retried")
            }
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
