//! DynamoDB matches: a head item and one item per delivery, written conditionally.

use super::dynamo::{
    DynamoStore, corrupt, get_n, get_s, key, n, s, tx_delete, tx_put, unavailable,
};
use super::keys::{self, SK};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use pitchside_core::ports::*;
use pitchside_domain::event::NewEvent;
use pitchside_domain::ids::{MatchId, OrganizationId};
use pitchside_domain::scoring::{Delivery, MatchSetup};

impl DynamoStore {
    /// Moves a match from `at` by `delta` balls (and its revision by one), together
    /// with `other` (the ball's put or delete) and the append of `event`, in one
    /// transaction.
    pub(crate) async fn move_count(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
        delta: i64,
        other: TransactWriteItem,
        event: NewEvent,
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
            .expression_attribute_values(":revised", n(at.next_revision()))
            .expression_attribute_values(":balls", n(at.balls))
            .expression_attribute_values(":revision", n(at.revision))
            .build()
            .map_err(unavailable)?;
        let items = vec![TransactWriteItem::builder().update(update).build(), other];
        match self.append_with(org, event, items).await? {
            Some(appended) if appended.created => Ok(BallWrite::Written {
                revision: at.next_revision(),
                event: appended.event,
            }),
            None => {
                let balls = self.match_head(org, id).await?.map_or(0, |h| h.balls);
                Ok(BallWrite::Stale { balls })
            }
            // Its key names the revision this write would make: another writer made
            // it first (stale), or, with the match still here, the write would be
            // applied twice.
            Some(_) => match self.match_head(org, id).await? {
                Some(head) if head.at() == at => Err(StoreError::Conflict(format!(
                    "the event of revision {} of match {id} is already in the log",
                    at.next_revision()
                ))),
                head => Ok(BallWrite::Stale {
                    balls: head.map_or(0, |h| h.balls),
                }),
            },
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
        event: NewEvent,
    ) -> StoreResult<BallWrite> {
        let mut item = key(keys::match_pk(org, id.as_str()), keys::ball(at.balls + 1));
        item.insert(
            "delivery".into(),
            s(serde_json::to_string(ball).map_err(|e| corrupt(&e.to_string()))?),
        );
        let put = tx_put(self.table(), item, Some("attribute_not_exists(pk)"))?;
        self.move_count(org, id, at, 1, put, event).await
    }

    async fn remove_last_ball(
        &self,
        org: &OrganizationId,
        id: &MatchId,
        at: At,
        event: NewEvent,
    ) -> StoreResult<BallWrite> {
        if at.balls == 0 {
            let balls = self.match_head(org, id).await?.map_or(0, |h| h.balls);
            return Ok(BallWrite::Stale { balls });
        }
        let delete = tx_delete(
            self.table(),
            key(keys::match_pk(org, id.as_str()), keys::ball(at.balls)),
        )?;
        self.move_count(org, id, at, -1, delete, event).await
    }
}
