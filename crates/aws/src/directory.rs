//! The DynamoDB directory: organizations, WhatsApp numbers, members and players (with their unique indexes).

use super::dynamo::{
    DynamoStore, Item, TxError, build, corrupt, get_s, key, s, transact, tx_delete, tx_put,
    unavailable,
};
use super::keys::{self};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use pitchside_core::ports::*;
use pitchside_domain::auth::Membership;
use pitchside_domain::event::NewEvent;
use pitchside_domain::ids::{OrganizationId, PhoneNumberId, PlayerId, UserId};
use std::collections::HashMap;

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
        revocation: Option<NewEvent>,
    ) -> StoreResult<Option<Appended>> {
        let mut item = key(keys::org(org), keys::member(user.as_str()));
        let json = serde_json::to_string(membership).map_err(|e| corrupt(&e.to_string()))?;
        item.insert("membership".into(), s(json));
        let Some(revocation) = revocation else {
            return self.put(item).await.map(|()| None);
        };
        let put = tx_put(self.table(), item, None)?;
        match self.append_with(org, revocation, vec![put]).await? {
            Some(appended) => Ok(Some(appended)),
            None => Err(StoreError::Conflict(
                "the membership and its revocation were not written".into(),
            )),
        }
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
    pub(crate) async fn player_by_index(
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
