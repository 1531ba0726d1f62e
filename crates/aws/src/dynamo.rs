//! The DynamoDB store: the client, the table, and what every port's adapter shares
//! (item helpers, transactions, reads of the log). Each port's adapter is in its own
//! module; the key design is in `keys`.

use super::keys::{self, GSI1, GSI1PK, GSI1SK, PK, SK};
use super::log::event_from_item;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, Delete, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use pitchside_core::ports::*;
use pitchside_domain::event::{Event, EventId};
use pitchside_domain::ids::OrganizationId;
use pitchside_domain::limits::CATCH_UP_PAGE;
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

#[derive(Clone)]
pub struct DynamoStore {
    pub(crate) client: Client,
    pub(crate) table: String,
    pub(crate) retention: Duration,
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

    pub(crate) fn expires_at(&self, now: DateTime<Utc>) -> AttributeValue {
        n(now.timestamp() + self.retention.as_secs().cast_signed())
    }

    pub(crate) async fn event(
        &self,
        org: &OrganizationId,
        id: EventId,
    ) -> StoreResult<Option<Event>> {
        self.get(keys::events(org), keys::event_sk(id))
            .await?
            .map(|item| event_from_item(org, &item))
            .transpose()
    }

    pub(crate) async fn query_events(
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
    pub(crate) async fn first_id_since(
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
