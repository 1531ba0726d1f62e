//! The DynamoDB adapters of the store ports (event log, directory, tickets, messages).
//! The key design is in `keys`.

use super::keys::{self, GSI1, GSI1PK, GSI1SK, PK, SK, TTL};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Delete, Put, ReturnValue, TransactWriteItem, Update,
};
use chrono::{DateTime, TimeZone, Utc};
use pitchside_core::ports::*;
use pitchside_domain::auth::Membership;
use pitchside_domain::event::{ENVELOPE_VERSION, Event, EventId, EventType, NewEvent};
use pitchside_domain::ids::{OrganizationId, PhoneNumberId, PlayerId, UserId};
use pitchside_domain::limits::CATCH_UP_PAGE;
use pitchside_domain::receipts::{self, StatusChange, StatusRecord};
use std::collections::HashMap;
use std::time::Duration;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The SDK's error, kept whole (its `source` chain names the service's answer).
pub(crate) fn unavailable<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
    StoreError::unavailable(e)
}

/// An item that does not read back as Pitchside writes it.
pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("malformed item in the table: {what}"))
}

pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| corrupt(name))
}

pub(crate) fn get_n(item: &Item, name: &str) -> Result<i64, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| corrupt(name))
}

pub(crate) fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

/// Why a transaction was cancelled, per item, in the order the items were given.
fn cancellation<E>(e: &SdkError<TransactWriteItemsError, E>) -> Option<Vec<String>> {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(tc)) => Some(
            tc.cancellation_reasons()
                .iter()
                .map(|r: &CancellationReason| r.code().unwrap_or("None").to_string())
                .collect(),
        ),
        _ => None,
    }
}

/// A transaction that did not commit.
pub(crate) enum TxError {
    /// Cancelled; the reason code of each item, in order (`ConditionalCheckFailed`,
    /// `TransactionConflict`, `None`, …).
    Cancelled(Vec<String>),
    Store(StoreError),
}

impl TxError {
    /// Whether item `i` failed its condition.
    pub(crate) fn failed_condition(&self, i: usize) -> bool {
        matches!(self, TxError::Cancelled(r) if r.get(i).is_some_and(|c| c == "ConditionalCheckFailed"))
    }

    pub(crate) fn any_condition_failed(&self) -> bool {
        matches!(self, TxError::Cancelled(r) if r.iter().any(|c| c == "ConditionalCheckFailed"))
    }
}

/// Writes `items` in one transaction.
pub(crate) async fn transact(
    client: &Client,
    items: Vec<TransactWriteItem>,
) -> Result<(), TxError> {
    match client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => match cancellation(&e) {
            Some(reasons) => Err(TxError::Cancelled(reasons)),
            None => Err(TxError::Store(unavailable(e))),
        },
    }
}

/// A put in a transaction, under `condition` when given.
pub(crate) fn tx_put(
    table: &str,
    item: Item,
    condition: Option<&str>,
) -> StoreResult<TransactWriteItem> {
    let put = Put::builder().table_name(table).set_item(Some(item));
    let put = match condition {
        Some(c) => put.condition_expression(c),
        None => put,
    };
    Ok(TransactWriteItem::builder()
        .put(build(put.build())?)
        .build())
}

/// A delete in a transaction.
pub(crate) fn tx_delete(table: &str, key: Item) -> StoreResult<TransactWriteItem> {
    Ok(TransactWriteItem::builder()
        .delete(build(
            Delete::builder()
                .table_name(table)
                .set_key(Some(key))
                .build(),
        )?)
        .build())
}

/// A request the SDK's builder refused: a bug of ours, never worth a retry.
pub(crate) fn build<T, E: std::error::Error>(r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Invalid(e.to_string()))
}

/// How long appended events (and their dedup records) are kept; DynamoDB's TTL
/// removes them after.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Appends race on the log head; a losing writer reads the new head and tries again.
const MAX_APPEND_ATTEMPTS: u32 = 100;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    retention: Duration,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, retention: Duration) -> Self {
        Self {
            client,
            table: table.into(),
            retention,
        }
    }

    pub(crate) async fn get(&self, pk: String, sk: impl Into<String>) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    /// The JSON in one attribute of an item.
    pub(crate) async fn json_attr<T: serde::de::DeserializeOwned>(
        &self,
        pk: String,
        sk: impl Into<String>,
        name: &str,
    ) -> StoreResult<Option<T>> {
        self.get(pk, sk)
            .await?
            .map(|item| serde_json::from_str(get_s(&item, name)?).map_err(|_| corrupt(name)))
            .transpose()
    }

    /// An unconditional put.
    pub(crate) async fn put(&self, item: Item) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    fn expires_at(&self, now: DateTime<Utc>) -> AttributeValue {
        n(now.timestamp() + self.retention.as_secs().cast_signed())
    }

    async fn event(&self, org: &OrganizationId, id: EventId) -> StoreResult<Option<Event>> {
        self.get(keys::events(org), keys::event_sk(id))
            .await?
            .map(|item| event_from_item(org, &item))
            .transpose()
    }

    async fn query_events(
        &self,
        org: &OrganizationId,
        after: EventId,
        limit: usize,
    ) -> StoreResult<Vec<Event>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk > :after")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(keys::events(org)))
            .expression_attribute_values(":after", s(keys::event_sk(after)))
            .consistent_read(true)
            .limit(i32::try_from(CATCH_UP_PAGE.clamp(Some(limit))).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(unavailable)?;
        out.items()
            .iter()
            .map(|item| event_from_item(org, item))
            .collect()
    }

    /// The first event id at or after a time, through the time index.
    async fn first_id_since(
        &self,
        org: &OrganizationId,
        since: DateTime<Utc>,
    ) -> StoreResult<Option<EventId>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("#pk = :pk AND #sk >= :since")
            .expression_attribute_names("#pk", GSI1PK)
            .expression_attribute_names("#sk", GSI1SK)
            .expression_attribute_values(":pk", s(keys::events(org)))
            .expression_attribute_values(":since", s(keys::time_floor(since.timestamp_millis())))
            .limit(1)
            .send()
            .await
            .map_err(unavailable)?;
        out.items()
            .first()
            .map(|item| {
                get_s(item, SK)?
                    .parse()
                    .map(EventId)
                    .map_err(|_| corrupt(SK))
            })
            .transpose()
    }
}

fn event_from_item(org: &OrganizationId, item: &Item) -> StoreResult<Event> {
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

#[async_trait]
impl EventLog for DynamoStore {
    async fn append(&self, org: &OrganizationId, new: NewEvent) -> StoreResult<Appended> {
        let payload = serde_json::to_string(&new.payload).map_err(|e| corrupt(&e.to_string()))?;
        for attempt in 0..MAX_APPEND_ATTEMPTS {
            if let Some(k) = &new.dedup_key
                && let Some(seen) = self.get(keys::dedup(org, k), keys::DEDUP).await?
            {
                let id = EventId(get_n(&seen, "eventId")?.cast_unsigned());
                let event = self.event(org, id).await?.ok_or_else(|| {
                    StoreError::unavailable(format!("event {id} of a dedup record is gone"))
                })?;
                return Ok(Appended {
                    event,
                    created: false,
                });
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
            match transact(&self.client, items).await {
                Ok(()) => {
                    return Ok(Appended {
                        event,
                        created: true,
                    });
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

#[async_trait]
impl Directory for DynamoStore {
    async fn put_organization(&self, org: &Organization) -> StoreResult<()> {
        let mut item = key(keys::org(&org.id), keys::PROFILE);
        item.insert("name".into(), s(org.name.clone()));
        self.put(item).await
    }

    async fn organization(&self, org: &OrganizationId) -> StoreResult<Option<Organization>> {
        self.get(keys::org(org), keys::PROFILE)
            .await?
            .map(|item| {
                Ok(Organization {
                    id: org.clone(),
                    name: get_s(&item, "name")?.to_string(),
                })
            })
            .transpose()
    }

    async fn put_whatsapp_number(
        &self,
        org: &OrganizationId,
        number: &PhoneNumberId,
    ) -> StoreResult<()> {
        let mut item = key(keys::wa_number(number.as_str()), keys::WANUM);
        item.insert("org".into(), s(org.as_str()));
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR org = :org")
            .expression_attribute_values(":org", s(org.as_str()))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict(format!(
                    "WhatsApp number {number} belongs to another organization"
                )))
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn resolve_whatsapp_number(
        &self,
        number: &PhoneNumberId,
    ) -> StoreResult<Option<OrganizationId>> {
        self.get(keys::wa_number(number.as_str()), keys::WANUM)
            .await?
            .map(|item| OrganizationId::new(get_s(&item, "org")?).map_err(|_| corrupt("org")))
            .transpose()
    }

    async fn put_member(
        &self,
        org: &OrganizationId,
        user: &UserId,
        membership: &Membership,
    ) -> StoreResult<()> {
        let mut item = key(keys::org(org), keys::member(user.as_str()));
        let json = serde_json::to_string(membership).map_err(|e| corrupt(&e.to_string()))?;
        item.insert("membership".into(), s(json));
        self.put(item).await
    }

    async fn membership(
        &self,
        org: &OrganizationId,
        user: &UserId,
    ) -> StoreResult<Option<Membership>> {
        self.get(keys::org(org), keys::member(user.as_str()))
            .await?
            .map(|item| {
                serde_json::from_str(get_s(&item, "membership")?).map_err(|_| corrupt("membership"))
            })
            .transpose()
    }

    async fn put_player(&self, org: &OrganizationId, player: &Player) -> StoreResult<()> {
        let current = self
            .get(keys::org(org), keys::player(player.id.as_str()))
            .await?;
        let attr = |name: &str| {
            current
                .as_ref()
                .and_then(|item| item.get(name))
                .and_then(|v| v.as_s().ok())
                .cloned()
        };
        // Each WhatsApp identifier is claimed by an index item, so no two players of
        // the organization can hold the same one.
        let identifiers = [
            (
                "whatsapp",
                attr("whatsapp"),
                player.whatsapp.clone(),
                keys::player_wa as fn(&str) -> String,
            ),
            (
                "whatsappUserId",
                attr("whatsappUserId"),
                player.whatsapp_user_id.clone(),
                keys::player_wa_user,
            ),
        ];

        let mut item = key(keys::org(org), keys::player(player.id.as_str()));
        item.insert("name".into(), s(player.name.clone()));
        // Written only if nobody changed the player's identifiers since they were read.
        let mut conditions = Vec::new();
        let mut values = HashMap::new();
        for (i, (name, old, new, _)) in identifiers.iter().enumerate() {
            if let Some(v) = new {
                item.insert(name.to_string(), s(v.clone()));
            }
            match old {
                Some(o) => {
                    conditions.push(format!("{name} = :old{i}"));
                    values.insert(format!(":old{i}"), s(o.clone()));
                }
                None => conditions.push(format!("attribute_not_exists({name})")),
            }
        }
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(conditions.join(" AND "))
            .set_expression_attribute_values((!values.is_empty()).then_some(values));
        let mut items = vec![
            TransactWriteItem::builder()
                .put(build(put.build())?)
                .build(),
        ];
        let mut claims = Vec::new();
        for (_, old, new, index_key) in &identifiers {
            if old == new {
                continue;
            }
            if let Some(v) = new {
                let mut idx = key(keys::org(org), index_key(v));
                idx.insert("playerId".into(), s(player.id.as_str()));
                claims.push((items.len(), v.clone()));
                items.push(
                    TransactWriteItem::builder()
                        .put(build(
                            Put::builder()
                                .table_name(&self.table)
                                .set_item(Some(idx))
                                .condition_expression("attribute_not_exists(pk) OR playerId = :me")
                                .expression_attribute_values(":me", s(player.id.as_str()))
                                .build(),
                        )?)
                        .build(),
                );
            }
            if let Some(o) = old {
                items.push(tx_delete(&self.table, key(keys::org(org), index_key(o)))?);
            }
        }
        match transact(&self.client, items).await {
            Ok(()) => Ok(()),
            Err(e) => {
                if let Some((_, v)) = claims.iter().find(|(i, _)| e.failed_condition(*i)) {
                    return Err(StoreError::Conflict(format!(
                        "WhatsApp id {v} already belongs to another player"
                    )));
                }
                match e {
                    e if e.failed_condition(0) => Err(StoreError::Conflict(format!(
                        "player {} changed while being written; retry",
                        player.id
                    ))),
                    TxError::Store(e) => Err(e),
                    TxError::Cancelled(reasons) => Err(StoreError::unavailable(format!(
                        "player write cancelled: {}",
                        reasons.join(", ")
                    ))),
                }
            }
        }
    }

    async fn player(&self, org: &OrganizationId, id: &PlayerId) -> StoreResult<Option<Player>> {
        self.get(keys::org(org), keys::player(id.as_str()))
            .await?
            .map(|item| player_from_item(id.clone(), &item))
            .transpose()
    }

    async fn player_by_whatsapp(
        &self,
        org: &OrganizationId,
        wa_id: &str,
    ) -> StoreResult<Option<Player>> {
        self.player_by_index(org, keys::player_wa(wa_id)).await
    }

    async fn player_by_whatsapp_user(
        &self,
        org: &OrganizationId,
        user_id: &str,
    ) -> StoreResult<Option<Player>> {
        self.player_by_index(org, keys::player_wa_user(user_id))
            .await
    }
}

impl DynamoStore {
    async fn player_by_index(
        &self,
        org: &OrganizationId,
        sk: String,
    ) -> StoreResult<Option<Player>> {
        let Some(idx) = self.get(keys::org(org), sk).await? else {
            return Ok(None);
        };
        let id = PlayerId::new(get_s(&idx, "playerId")?).map_err(|_| corrupt("playerId"))?;
        self.player(org, &id).await
    }
}

fn player_from_item(id: PlayerId, item: &Item) -> StoreResult<Player> {
    let opt = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    Ok(Player {
        id,
        name: get_s(item, "name")?.to_string(),
        whatsapp: opt("whatsapp"),
        whatsapp_user_id: opt("whatsappUserId"),
    })
}

#[async_trait]
impl TicketStore for DynamoStore {
    async fn put_ticket(
        &self,
        digest: &[u8; 32],
        grant: &TicketGrant,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut item = key(keys::ticket(digest), keys::TICKET);
        item.insert(
            "grant".into(),
            s(serde_json::to_string(grant).map_err(|e| corrupt(&e.to_string()))?),
        );
        item.insert("expiresMs".into(), n(expires_at.timestamp_millis()));
        item.insert(TTL.into(), n(expires_at.timestamp() + 60));
        self.put(item).await
    }

    async fn redeem_ticket(
        &self,
        digest: &[u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<TicketGrant>> {
        // Deleting is the redeem: of two concurrent redeems, one gets the old item.
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::ticket(digest), keys::TICKET)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.attributes else {
            return Ok(None);
        };
        if get_n(&item, "expiresMs")? < now.timestamp_millis() {
            return Ok(None);
        }
        serde_json::from_str(get_s(&item, "grant")?)
            .map(Some)
            .map_err(|_| corrupt("grant"))
    }
}

#[async_trait]
impl MessageStore for DynamoStore {
    async fn record_inbound(&self, org: &OrganizationId, msg: &InboundRecord) -> StoreResult<bool> {
        let mut item = key(keys::messages(org), keys::inbound(&msg.message_id));
        item.insert(
            "record".into(),
            s(serde_json::to_string(msg).map_err(|e| corrupt(&e.to_string()))?),
        );
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn inbound(
        &self,
        org: &OrganizationId,
        message_id: &str,
    ) -> StoreResult<Option<InboundRecord>> {
        self.json_attr(keys::messages(org), keys::inbound(message_id), "record")
            .await
    }

    async fn advance_status(
        &self,
        org: &OrganizationId,
        status: &StatusRecord,
    ) -> StoreResult<StatusChange> {
        let mut item = key(keys::messages(org), keys::outbound(&status.message_id));
        item.insert("rank".into(), n(status.status.rank()));
        item.insert(
            "record".into(),
            s(serde_json::to_string(status).map_err(|e| corrupt(&e.to_string()))?),
        );
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #rank < :rank")
            .expression_attribute_names("#rank", "rank")
            .expression_attribute_values(":rank", n(status.status.rank()))
            .send()
            .await
        {
            Ok(_) => Ok(StatusChange::Advanced),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                let current = self.status(org, &status.message_id).await?;
                Ok(receipts::compare(current.map(|c| c.status), status.status))
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn status(
        &self,
        org: &OrganizationId,
        message_id: &str,
    ) -> StoreResult<Option<StatusRecord>> {
        self.json_attr(keys::messages(org), keys::outbound(message_id), "record")
            .await
    }
}
