//! The DynamoDB event log: one item per event, a LOG item holding the head and what retention removed, dedup records.

use super::dynamo::{
    DynamoStore, Item, TxError, build, corrupt, get_n, get_s, key, n, s, transact, tx_put,
    unavailable,
};
use super::keys::{self, GSI1PK, GSI1SK, SK, TTL};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::{TimeZone, Utc};
use pitchside_core::ports::*;
use pitchside_domain::event::{ENVELOPE_VERSION, Event, EventId, EventType, NewEvent};
use pitchside_domain::ids::OrganizationId;
use std::time::Duration;

pub(crate) fn event_from_item(org: &OrganizationId, item: &Item) -> StoreResult<Event> {
    Ok(Event {
        id: EventId(get_s(item, SK)?.parse().map_err(|_| corrupt(SK))?),
        kind: get_s(item, "type")?
            .parse::<EventType>()
            .map_err(|_| corrupt("type"))?,
        organization_id: org.clone(),
        timestamp: Utc
            .timestamp_millis_opt(get_n(item, "ts")?)
            .single()
            .ok_or_else(|| corrupt("ts"))?,
        version: ENVELOPE_VERSION.to_string(),
        payload: serde_json::from_str(get_s(item, "payload")?).map_err(|_| corrupt("payload"))?,
    })
}

/// Appends race on the log head; a losing writer reads the new head and tries again.
const MAX_APPEND_ATTEMPTS: u32 = 100;

impl DynamoStore {
    /// The event a dedup key names, if the log holds it.
    async fn deduplicated(&self, org: &OrganizationId, key: &str) -> StoreResult<Option<Event>> {
        let Some(seen) = self.get(keys::dedup(org, key), keys::DEDUP).await? else {
            return Ok(None);
        };
        let id = EventId(get_n(&seen, "eventId")?.cast_unsigned());
        let event = self.event(org, id).await?.ok_or_else(|| {
            StoreError::unavailable(format!("event {id} of a dedup record is gone"))
        })?;
        Ok(Some(event))
    }

    /// Appends `new` in one transaction with `with`: writes that must land together
    /// with their event or not at all (a ball and its `match.score.updated`), so no
    /// crash leaves one without the other. `None` when a condition of `with` failed;
    /// `created: false` when the event's dedup key was already in the log (the event,
    /// written earlier with its writes). Either way nothing was written now.
    pub(crate) async fn append_with(
        &self,
        org: &OrganizationId,
        new: NewEvent,
        with: Vec<TransactWriteItem>,
    ) -> StoreResult<Option<Appended>> {
        let payload = serde_json::to_string(&new.payload).map_err(|e| corrupt(&e.to_string()))?;
        for attempt in 0..MAX_APPEND_ATTEMPTS {
            if let Some(k) = &new.dedup_key
                && let Some(event) = self.deduplicated(org, k).await?
            {
                return Ok(Some(Appended {
                    event,
                    created: false,
                }));
            }
            let head = match self.get(keys::org(org), keys::LOG).await? {
                Some(item) => EventId(get_n(&item, "head")?.cast_unsigned()),
                None => EventId::ZERO,
            };
            let event = new.clone().into_event(head.next(), org.clone());
            let ts = event.timestamp.timestamp_millis();
            let expires = self.expires_at(event.timestamp);

            // The head moves only from the value read: of two racing appends, one wins.
            let bump = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::org(org), keys::LOG)))
                .update_expression("SET head = :next")
                .expression_attribute_values(":next", n(event.id.0));
            let bump = if head == EventId::ZERO {
                bump.condition_expression("attribute_not_exists(head)")
            } else {
                bump.condition_expression("head = :head")
                    .expression_attribute_values(":head", n(head.0))
            };
            let bump = build(bump.build())?;
            let mut item = key(keys::events(org), keys::event_sk(event.id));
            item.insert("type".into(), s(event.kind.as_str()));
            item.insert("ts".into(), n(ts));
            item.insert("payload".into(), s(payload.clone()));
            item.insert(TTL.into(), expires.clone());
            item.insert(GSI1PK.into(), s(keys::events(org)));
            item.insert(GSI1SK.into(), s(keys::event_time_sk(ts, event.id)));
            let mut items = vec![
                TransactWriteItem::builder().update(bump).build(),
                tx_put(&self.table, item, Some("attribute_not_exists(pk)"))?,
            ];
            if let Some(k) = &new.dedup_key {
                let mut d = key(keys::dedup(org, k), keys::DEDUP);
                d.insert("eventId".into(), n(event.id.0));
                d.insert(TTL.into(), expires);
                items.push(tx_put(&self.table, d, Some("attribute_not_exists(pk)"))?);
            }
            let own = items.len();
            items.extend(with.iter().cloned());
            match transact(&self.client, items).await {
                Ok(()) => {
                    return Ok(Some(Appended {
                        event,
                        created: true,
                    }));
                }
                Err(e) if (own..own + with.len()).any(|i| e.failed_condition(i)) => {
                    return Ok(None);
                }
                // Another writer took this id, or recorded the dedup key first: look
                // again.
                Err(TxError::Cancelled(reasons))
                    if reasons
                        .iter()
                        .any(|r| r == "ConditionalCheckFailed" || r == "TransactionConflict") =>
                {
                    let jitter = rand::random::<u64>() % (5 + u64::from(attempt.min(20)) * 2);
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                }
                Err(TxError::Cancelled(reasons)) => {
                    return Err(StoreError::unavailable(format!(
                        "append cancelled: {}",
                        reasons.join(", ")
                    )));
                }
                Err(TxError::Store(e)) => return Err(e),
            }
        }
        Err(StoreError::unavailable(format!(
            "could not append to the log of {org} after {MAX_APPEND_ATTEMPTS} attempts"
        )))
    }
}

#[async_trait]
impl EventLog for DynamoStore {
    async fn append(&self, org: &OrganizationId, new: NewEvent) -> StoreResult<Appended> {
        self.append_with(org, new, Vec::new())
            .await?
            .ok_or_else(|| StoreError::unavailable("an append with no other write was refused"))
    }

    async fn read(
        &self,
        org: &OrganizationId,
        from: ReadFrom,
        limit: usize,
    ) -> StoreResult<LogPage> {
        let bounds = self.bounds(org).await?;
        let after = match from {
            ReadFrom::After(id) => id,
            ReadFrom::Since(t) => match self.first_id_since(org, t).await? {
                Some(id) => EventId(id.0 - 1),
                None => {
                    return Ok(LogPage {
                        events: Vec::new(),
                        bounds,
                    });
                }
            },
        };
        let events = self.query_events(org, after, limit).await?;
        Ok(LogPage { events, bounds })
    }

    async fn after(
        &self,
        org: &OrganizationId,
        after: EventId,
        limit: usize,
    ) -> StoreResult<Vec<Event>> {
        self.query_events(org, after, limit).await
    }

    async fn head(&self, org: &OrganizationId) -> StoreResult<EventId> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(keys::org(org), keys::LOG)))
            .projection_expression("#h")
            .expression_attribute_names("#h", "head")
            .consistent_read(false)
            .send()
            .await
            .map_err(unavailable)?;
        match out.item {
            Some(item) => Ok(EventId(get_n(&item, "head")?.cast_unsigned())),
            None => Ok(EventId::ZERO),
        }
    }

    async fn bounds(&self, org: &OrganizationId) -> StoreResult<LogBounds> {
        let head = match self.get(keys::org(org), keys::LOG).await? {
            Some(item) => EventId(get_n(&item, "head")?.cast_unsigned()),
            None => return Ok(LogBounds::default()),
        };
        // What TTL has removed is what comes before the oldest event still held.
        let oldest = self.query_events(org, EventId::ZERO, 1).await?;
        let trimmed_through = oldest.first().map_or(head, |e| EventId(e.id.0 - 1));
        Ok(LogBounds {
            head,
            trimmed_through,
        })
    }
}
