//! The DynamoDB adapters of availability, the quarantine and the blob store. Keys are
//! in `keys`.

use super::dynamo::{
    DynamoStore, Item, TxError, corrupt, get_n, get_s, key, n, s, transact, tx_delete, tx_put,
    unavailable,
};
use super::keys::{self, PK, SK, TTL};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use pitchside_core::ports::*;
use pitchside_domain::availability::Answer;
use pitchside_domain::ids::{MatchId, OrganizationId, PlayerId};
use pitchside_domain::quarantine::{self, Entry, Reason};
use pitchside_domain::scoring::{Delivery, MatchSetup};
use pitchside_domain::work::WorkKind;

/// A DynamoDB item holds at most 400 KB; blobs are cut below that.
const CHUNK_BYTES: usize = 300 * 1024;

/// Whether an error is a failed condition (the write was refused on purpose).
pub(super) fn condition_failed<E, R>(e: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|se| se.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

impl DynamoStore {
    /// Every item of a partition, following pages.
    async fn query_partition(&self, pk: String) -> StoreResult<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", s(pk.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    /// A conditional put whose refusal is an expected outcome: true when written.
    pub(super) async fn put_if(
        &self,
        item: Item,
        condition: &str,
        values: &[(&str, AttributeValue)],
    ) -> StoreResult<bool> {
        let mut req = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression(condition);
        for (name, v) in values {
            req = req.expression_attribute_values(*name, v.clone());
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Writes a blob as chunks of one partition; chunk 0 says how many there are, so a
    /// reader can tell a whole blob from one still being written.
    async fn put_chunks(&self, key_: &str, bytes: &[u8], expires: Option<i64>) -> StoreResult<()> {
        let chunks: Vec<&[u8]> = if bytes.is_empty() {
            vec![&[][..]]
        } else {
            bytes.chunks(CHUNK_BYTES).collect()
        };
        // Chunk 0 last: until it is there, the blob does not exist.
        for (i, chunk) in chunks.iter().enumerate().rev() {
            let mut item = key(keys::blob(key_), keys::blob_chunk(i));
            item.insert("data".into(), AttributeValue::B(Blob::new(chunk.to_vec())));
            if i == 0 {
                item.insert("chunks".into(), n(chunks.len()));
                item.insert("bytes".into(), n(bytes.len()));
            }
            if let Some(t) = expires {
                item.insert(TTL.into(), n(t));
            }
            self.put(item).await?;
        }
        Ok(())
    }

    async fn get_chunks(&self, key_: &str) -> StoreResult<Option<Vec<u8>>> {
        let items = self.query_partition(keys::blob(key_)).await?;
        let Some(first) = items.first() else {
            return Ok(None);
        };
        if get_s(first, SK)? != keys::blob_chunk(0) {
            return Ok(None);
        }
        let count = usize::try_from(get_n(first, "chunks")?).map_err(|_| corrupt("chunks"))?;
        if items.len() < count {
            return Err(corrupt("blob chunks"));
        }
        let mut out = Vec::with_capacity(
            usize::try_from(get_n(first, "bytes")?).map_err(|_| corrupt("bytes"))?,
        );
        for item in items.iter().take(count) {
            let data = item
                .get("data")
                .and_then(|v| v.as_b().ok())
                .ok_or_else(|| corrupt("data"))?;
            out.extend_from_slice(data.as_ref());
        }
        Ok(Some(out))
    }
}

#[async_trait]
impl AvailabilityStore for DynamoStore {
    async fn request_availability(
        &self,
        org: &OrganizationId,
        match_id: &MatchId,
        players: &[PlayerId],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let at = at.timestamp_millis();
        for p in players {
            // Pending, unless the player has answered already.
            let row = key(
                keys::availability(org, match_id.as_str()),
                keys::availability_player(p.as_str()),
            );
            self.put_if(row, "attribute_not_exists(pk)", &[]).await?;
            let mut req = key(keys::org(org), keys::availability_request(p.as_str()));
            req.insert("matchId".into(), s(match_id.as_str()));
            req.insert("requestedMs".into(), n(at));
            self.put_if(
                req,
                "attribute_not_exists(pk) OR requestedMs <= :at",
                &[(":at", n(at))],
            )
            .await?;
        }
        Ok(())
    }

    async fn latest_request(
        &self,
        org: &OrganizationId,
        player: &PlayerId,
    ) -> StoreResult<Option<MatchId>> {
        self.get(keys::org(org), keys::availability_request(player.as_str()))
            .await?
            .map(|item| MatchId::new(get_s(&item, "matchId")?).map_err(|_| corrupt("matchId")))
            .transpose()
    }

    async fn set_availability(
        &self,
        org: &OrganizationId,
        match_id: &MatchId,
        answer: &Answer,
    ) -> StoreResult<Applied> {
        let at = answer.updated_at.timestamp_millis();
        let mut item = key(
            keys::availability(org, match_id.as_str()),
            keys::availability_player(answer.player_id.as_str()),
        );
        item.insert(
            "answer".into(),
            s(serde_json::to_string(answer).map_err(|e| corrupt(&e.to_string()))?),
        );
        item.insert("updatedMs".into(), n(at));
        let written = self
            .put_if(
                item,
                "attribute_not_exists(updatedMs) OR updatedMs <= :at",
                &[(":at", n(at))],
            )
            .await?;
        Ok(if written {
            Applied::Yes
        } else {
            Applied::Stale
        })
    }

    async fn availability(
        &self,
        org: &OrganizationId,
        match_id: &MatchId,
    ) -> StoreResult<Vec<(PlayerId, Option<Answer>)>> {
        let items = self
            .query_partition(keys::availability(org, match_id.as_str()))
            .await?;
        items
            .iter()
            .map(|item| {
                let sk = get_s(item, SK)?;
                let player = sk
                    .strip_prefix("P#")
                    .and_then(|p| PlayerId::new(p).ok())
                    .ok_or_else(|| corrupt(SK))?;
                let answer = match item.get("answer") {
                    Some(_) => Some(
                        serde_json::from_str(get_s(item, "answer")?)
                            .map_err(|_| corrupt("answer"))?,
                    ),
                    None => None,
                };
                Ok((player, answer))
            })
            .collect()
    }
}

fn quarantine_blob(id: &str) -> String {
    format!("quarantine/{id}")
}

#[async_trait]
impl QuarantineStore for DynamoStore {
    async fn quarantine(
        &self,
        kind: WorkKind,
        reason: Reason,
        detail: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Entry> {
        let id = quarantine::entry_id(kind, body);
        let current: Option<Entry> = self
            .json_attr(keys::QUARANTINE.to_string(), id.clone(), "entry")
            .await?;
        if current.is_none() {
            // The body first: an entry is never listed without it. Kept until an
            // operator deals with it, so no expiry.
            self.put_chunks(&quarantine_blob(&id), body, None).await?;
        }
        let entry = quarantine::record(current, &id, kind, reason, detail, body.len(), now);
        self.put_entry(&entry).await?;
        Ok(entry)
    }

    async fn quarantined(&self, limit: usize) -> StoreResult<Vec<Entry>> {
        let items = self.query_partition(keys::QUARANTINE.to_string()).await?;
        let mut entries = items
            .iter()
            .map(|item| serde_json::from_str(get_s(item, "entry")?).map_err(|_| corrupt("entry")))
            .collect::<StoreResult<Vec<Entry>>>()?;
        entries.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.id.cmp(&b.id)));
        entries.truncate(limit);
        Ok(entries)
    }

    async fn quarantined_body(&self, id: &str) -> StoreResult<Option<(Entry, Vec<u8>)>> {
        let Some(entry) = self
            .json_attr::<Entry>(keys::QUARANTINE.to_string(), id, "entry")
            .await?
        else {
            return Ok(None);
        };
        let body = self
            .get_chunks(&quarantine_blob(id))
            .await?
            .ok_or_else(|| corrupt("quarantined body"))?;
        Ok(Some((entry, body)))
    }

    async fn mark_replayed(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        if let Some(mut e) = self
            .json_attr::<Entry>(keys::QUARANTINE.to_string(), id, "entry")
            .await?
        {
            e.replayed_at = Some(at);
            self.put_entry(&e).await?;
        }
        Ok(())
    }
}

impl DynamoStore {
    async fn put_entry(&self, e: &Entry) -> StoreResult<()> {
        let mut item = key(keys::QUARANTINE.to_string(), e.id.clone());
        item.insert(
            "entry".into(),
            s(serde_json::to_string(e).map_err(|e| corrupt(&e.to_string()))?),
        );
        self.put(item).await
    }
}

#[async_trait]
impl BlobStore for DynamoStore {
    async fn put_blob(
        &self,
        key: &str,
        bytes: &[u8],
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.put_chunks(key, bytes, Some(expires_at.timestamp()))
            .await
    }

    async fn blob(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.get_chunks(key).await
    }
}

impl DynamoStore {
    /// Moves a match from `at` by `delta` balls (and its revision by one), together
    /// with `other` (the ball's put or delete), in one transaction.
    async fn move_count(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
        delta: i64,
        other: TransactWriteItem,
    ) -> StoreResult<BallWrite> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(
                keys::match_pk(org, id.as_str()),
                keys::MATCH_HEAD,
            )))
            .update_expression("SET balls = :next, revision = :revised")
            .condition_expression("balls = :balls AND revision = :revision")
            .expression_attribute_values(":next", n(at.balls as i64 + delta))
            .expression_attribute_values(":revised", n(at.revision + 1))
            .expression_attribute_values(":balls", n(at.balls))
            .expression_attribute_values(":revision", n(at.revision))
            .build()
            .map_err(unavailable)?;
        let items = vec![TransactWriteItem::builder().update(update).build(), other];
        match transact(self.client(), items).await {
            Ok(()) => Ok(BallWrite::Written {
                revision: at.revision + 1,
            }),
            Err(e) if e.any_condition_failed() => {
                let balls = self.match_head(org, id).await?.map_or(0, |h| h.balls);
                Ok(BallWrite::Stale { balls })
            }
            Err(TxError::Store(e)) => Err(e),
            Err(TxError::Cancelled(reasons)) => Err(StoreError::unavailable(format!(
                "ball write cancelled: {}",
                reasons.join(", ")
            ))),
        }
    }
}

#[async_trait]
impl MatchStore for DynamoStore {
    async fn put_match(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        setup: &MatchSetup,
    ) -> StoreResult<u64> {
        let out = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(
                keys::match_pk(org, id.as_str()),
                keys::MATCH_HEAD,
            )))
            .update_expression(
                "SET setup = :setup, balls = if_not_exists(balls, :zero), \
                 revision = if_not_exists(revision, :zero) + :one",
            )
            .expression_attribute_values(
                ":setup",
                s(serde_json::to_string(setup).map_err(|e| corrupt(&e.to_string()))?),
            )
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(unavailable)?;
        let item = out.attributes.ok_or_else(|| corrupt("match head"))?;
        Ok(get_n(&item, "revision")?.cast_unsigned())
    }

    async fn match_head(
        &self,
        org: &OrganizationId,
        id: &MatchId,
    ) -> StoreResult<Option<MatchHead>> {
        self.get(keys::match_pk(org, id.as_str()), keys::MATCH_HEAD)
            .await?
            .map(|item| {
                Ok(MatchHead {
                    setup: serde_json::from_str(get_s(&item, "setup")?)
                        .map_err(|_| corrupt("setup"))?,
                    balls: u32::try_from(get_n(&item, "balls")?).map_err(|_| corrupt("balls"))?,
                    revision: get_n(&item, "revision")?.cast_unsigned(),
                })
            })
            .transpose()
    }

    async fn balls(&self, org: &OrganizationId, id: &MatchId) -> StoreResult<Vec<Delivery>> {
        let items = self
            .query_partition(keys::match_pk(org, id.as_str()))
            .await?;
        items
            .iter()
            .filter(|item| get_s(item, SK).is_ok_and(|sk| sk.starts_with("BALL#")))
            .map(|item| {
                serde_json::from_str(get_s(item, "delivery")?).map_err(|_| corrupt("delivery"))
            })
            .collect()
    }

    async fn append_ball(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
        ball: &Delivery,
    ) -> StoreResult<BallWrite> {
        let mut item = key(keys::match_pk(org, id.as_str()), keys::ball(at.balls + 1));
        item.insert(
            "delivery".into(),
            s(serde_json::to_string(ball).map_err(|e| corrupt(&e.to_string()))?),
        );
        let put = tx_put(self.table(), item, Some("attribute_not_exists(pk)"))?;
        self.move_count(org, id, at, 1, put).await
    }

    async fn remove_last_ball(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
    ) -> StoreResult<BallWrite> {
        if at.balls == 0 {
            let balls = self.match_head(org, id).await?.map_or(0, |h| h.balls);
            return Ok(BallWrite::Stale { balls });
        }
        let delete = tx_delete(
            self.table(),
            key(keys::match_pk(org, id.as_str()), keys::ball(at.balls)),
        )?;
        self.move_count(org, id, at, -1, delete).await
    }
}
