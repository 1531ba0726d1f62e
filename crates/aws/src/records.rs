//! What several DynamoDB adapters share beyond `dynamo`: blob chunks (the quarantine's
//! bodies and the queue's large ones), conditional-write failures. Keys are in `keys`.

use super::dynamo::{DynamoStore, Item, corrupt, get_n, get_s, key, n, s, unavailable};
use super::keys::{self, PK, SK, TTL};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use pitchside_core::ports::*;

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
    pub(crate) async fn query_partition(&self, pk: String) -> StoreResult<Vec<Item>> {
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
    pub(crate) async fn put_chunks(
        &self,
        key_: &str,
        bytes: &[u8],
        expires: Option<i64>,
    ) -> StoreResult<()> {
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

    pub(crate) async fn get_chunks(&self, key_: &str) -> StoreResult<Option<Vec<u8>>> {
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
