//! DynamoDB availability: requests and answers per match and player.

use super::dynamo::{DynamoStore, build, corrupt, get_s, key, n, s};
use super::keys::{self, SK};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use pitchside_core::ports::*;
use pitchside_domain::availability::Answer;
use pitchside_domain::event::NewEvent;
use pitchside_domain::ids::{MatchId, OrganizationId, PlayerId};

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
        event: NewEvent,
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
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(updatedMs) OR updatedMs <= :at")
            .expression_attribute_values(":at", n(at));
        let put = TransactWriteItem::builder()
            .put(build(put.build())?)
            .build();
        // `created: false`: the same answer, recorded with this event before (a
        // redelivery).
        Ok(match self.append_with(org, event, vec![put]).await? {
            Some(appended) => Applied::Yes(appended),
            None => Applied::Stale,
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
