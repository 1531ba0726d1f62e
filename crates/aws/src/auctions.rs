//! The DynamoDB adapters of auctions (one item per auction, written under a condition
//! on its revision) and chat (a partition per room, sorted by time).

use super::dynamo::{DynamoStore, corrupt, get_n, get_s, key, n, s, tx_put, unavailable};
use super::keys::{self, PK, TTL};
use super::records::condition_failed;
use async_trait::async_trait;
use pitchside_core::ports::*;
use pitchside_domain::chat::ChatMessage;
use pitchside_domain::event::NewEvent;
use pitchside_domain::ids::{AuctionId, OrganizationId};
use pitchside_domain::limits::CHAT_PAGE;

/// Chat history is kept for 90 days.
const CHAT_TTL_SECS: i64 = 90 * 24 * 3600;

#[async_trait]
impl AuctionStore for DynamoStore {
    async fn auction_doc(
        &self,
        org: &OrganizationId,
        id: &AuctionId,
    ) -> StoreResult<Option<(String, u64)>> {
        self.get(keys::auction(org, id.as_str()), keys::AUCTION_DOC)
            .await?
            .map(|item| {
                Ok((
                    get_s(&item, "doc")?.to_string(),
                    get_n(&item, "revision")?.cast_unsigned(),
                ))
            })
            .transpose()
    }

    async fn put_auction_doc(
        &self,
        org: &OrganizationId,
        id: &AuctionId,
        doc: &str,
        expected: Option<u64>,
    ) -> StoreResult<Option<u64>> {
        let next = expected.map_or(1, |r| r + 1);
        let mut item = key(keys::auction(org, id.as_str()), keys::AUCTION_DOC);
        item.insert("doc".into(), s(doc));
        item.insert("revision".into(), n(next));
        let mut req = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item));
        req = match expected {
            None => req
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK),
            Some(r) => req
                .condition_expression("revision = :expected")
                .expression_attribute_values(":expected", n(r)),
        };
        match req.send().await {
            Ok(_) => Ok(Some(next)),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[async_trait]
impl ChatStore for DynamoStore {
    async fn post_chat(
        &self,
        org: &OrganizationId,
        msg: &ChatMessage,
        event: NewEvent,
    ) -> StoreResult<Appended> {
        let expires = n(msg.sent_at.timestamp() + CHAT_TTL_SECS);
        let mut claim = key(keys::chat_id(org, &msg.message_id), keys::CHATID);
        claim.insert(TTL.into(), expires.clone());
        let mut item = key(
            keys::chat(org, &msg.room),
            keys::chat_sk(msg.sent_at.timestamp_millis(), &msg.message_id),
        );
        item.insert(
            "message".into(),
            s(serde_json::to_string(msg).map_err(|e| corrupt(&e.to_string()))?),
        );
        item.insert(TTL.into(), expires);
        let items = vec![
            tx_put(self.table(), claim, Some("attribute_not_exists(pk)"))?,
            tx_put(self.table(), item, None)?,
        ];
        match self.append_with(org, event.clone(), items).await? {
            Some(appended) => Ok(appended),
            // The id is recorded without its event: a message written before the two
            // went together. Its event now, once.
            None => self.append(org, event).await,
        }
    }

    async fn chat_history(
        &self,
        org: &OrganizationId,
        room: &str,
        limit: usize,
    ) -> StoreResult<Vec<ChatMessage>> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(keys::chat(org, room)))
            .scan_index_forward(false)
            .limit(i32::try_from(CHAT_PAGE.clamp(Some(limit))).unwrap_or(i32::MAX))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let mut messages = out
            .items
            .unwrap_or_default()
            .iter()
            .map(|item| {
                serde_json::from_str(get_s(item, "message")?).map_err(|_| corrupt("chat message"))
            })
            .collect::<StoreResult<Vec<ChatMessage>>>()?;
        messages.reverse();
        Ok(messages)
    }
}
