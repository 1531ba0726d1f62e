//! The DynamoDB connection registry: a row per connection (who it is, which rooms it
//! joined) and a row per room membership, both with a TTL, since API Gateway's
//! `$disconnect` is best-effort and a lost one must not leave rows forever.

use super::dynamo::{
    Item, TxError, build, corrupt, get_s, key, n, s, transact, tx_delete, tx_put, unavailable,
};
use super::keys::{self, PK, TTL};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::Utc;
use pitchside_core::ports::*;
use pitchside_domain::auth::Role;
use pitchside_domain::ids::{OrganizationId, UserId};

/// API Gateway closes a WebSocket after 2 hours; rows outlive that by a margin.
const CONNECTION_TTL_SECS: i64 = 3 * 3600;

#[derive(Clone)]
pub struct DynamoRegistry {
    client: Client,
    table: String,
}

impl DynamoRegistry {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn ttl() -> AttributeValue {
        n(Utc::now().timestamp() + CONNECTION_TTL_SECS)
    }

    async fn connection(&self, id: &ConnectionId) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::connection(&id.0), keys::CONN)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    fn room_put(
        &self,
        org: &OrganizationId,
        id: &ConnectionId,
        room: &str,
    ) -> StoreResult<TransactWriteItem> {
        let mut item = key(keys::room(org, room), id.0.clone());
        item.insert(TTL.into(), Self::ttl());
        tx_put(&self.table, item, None)
    }

    fn room_delete(
        &self,
        org: &OrganizationId,
        id: &ConnectionId,
        room: &str,
    ) -> StoreResult<TransactWriteItem> {
        tx_delete(&self.table, key(keys::room(org, room), id.0.clone()))
    }

    /// Adds (`ADD`) or removes (`DELETE`) `room` in the connection row's set, only if
    /// the connection belongs to `org`.
    fn rooms_update(
        &self,
        op: &str,
        org: &OrganizationId,
        id: &ConnectionId,
        room: &str,
    ) -> StoreResult<TransactWriteItem> {
        Ok(TransactWriteItem::builder()
            .update(build(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(keys::connection(&id.0), keys::CONN)))
                    .update_expression(format!("{op} rooms :r"))
                    .condition_expression("org = :org")
                    .expression_attribute_values(":r", AttributeValue::Ss(vec![room.to_string()]))
                    .expression_attribute_values(":org", s(org.as_str()))
                    .build(),
            )?)
            .build())
    }

    /// Writes `items`; a failed condition is a `Conflict` saying `conflict`.
    async fn write(&self, items: Vec<TransactWriteItem>, conflict: &str) -> StoreResult<()> {
        match transact(&self.client, items).await {
            Ok(()) => Ok(()),
            Err(e) if e.any_condition_failed() => Err(StoreError::Conflict(conflict.to_string())),
            Err(TxError::Store(e)) => Err(e),
            Err(TxError::Cancelled(r)) => Err(StoreError::unavailable(format!(
                "registry write cancelled: {}",
                r.join(", ")
            ))),
        }
    }
}

fn rooms_of(item: &Item) -> Vec<String> {
    item.get("rooms")
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default()
}

#[async_trait]
impl ConnectionRegistry for DynamoRegistry {
    async fn register(&self, conn: &ConnectionInfo) -> StoreResult<()> {
        let mut item = key(keys::connection(&conn.id.0), keys::CONN);
        item.insert("org".into(), s(conn.org.as_str()));
        item.insert("user".into(), s(conn.user.as_str()));
        // As JSON, like a membership's (a string set could not hold none).
        let roles = serde_json::to_string(&conn.roles).map_err(|e| corrupt(&e.to_string()))?;
        item.insert("roles".into(), s(&roles));
        item.insert(
            "rooms".into(),
            AttributeValue::Ss(vec![ORG_ROOM.to_string()]),
        );
        item.insert(TTL.into(), Self::ttl());
        let put = tx_put(&self.table, item, None)?;
        self.write(
            vec![put, self.room_put(&conn.org, &conn.id, ORG_ROOM)?],
            "connection exists",
        )
        .await
    }

    async fn remove(&self, org: &OrganizationId, id: &ConnectionId) -> StoreResult<()> {
        let Some(item) = self.connection(id).await? else {
            return Ok(());
        };
        if get_s(&item, "org")? != org.as_str() {
            return Ok(());
        }
        let mut items = vec![tx_delete(
            &self.table,
            key(keys::connection(&id.0), keys::CONN),
        )?];
        for room in rooms_of(&item) {
            items.push(self.room_delete(org, id, &room)?);
        }
        // A transaction holds at most 100 items; a connection is in far fewer rooms.
        for chunk in items.chunks(100) {
            self.write(chunk.to_vec(), "connection changed").await?;
        }
        Ok(())
    }

    async fn join(&self, org: &OrganizationId, id: &ConnectionId, room: &str) -> StoreResult<()> {
        self.write(
            vec![
                self.rooms_update("ADD", org, id, room)?,
                self.room_put(org, id, room)?,
            ],
            &format!("connection {} is not registered in {org}", id.0),
        )
        .await
    }

    async fn leave(&self, org: &OrganizationId, id: &ConnectionId, room: &str) -> StoreResult<()> {
        let drop_room = self.rooms_update("DELETE", org, id, room)?;
        match self
            .write(
                vec![drop_room, self.room_delete(org, id, room)?],
                "not this organization's",
            )
            .await
        {
            // Leaving a room of a connection that is gone (or not ours) changes nothing.
            Err(StoreError::Conflict(_)) => Ok(()),
            other => other,
        }
    }

    async fn members(&self, org: &OrganizationId, room: &str) -> StoreResult<Vec<ConnectionId>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            // No limit of its own: DynamoDB's 1 MB pages.
            let (page, next) = self
                .members_page(org, room, after.as_ref(), usize::MAX)
                .await?;
            out.extend(page);
            match next {
                Some(n) => after = Some(n),
                None => return Ok(out),
            }
        }
    }

    async fn members_page(
        &self,
        org: &OrganizationId,
        room: &str,
        after: Option<&ConnectionId>,
        limit: usize,
    ) -> StoreResult<(Vec<ConnectionId>, Option<ConnectionId>)> {
        let pk = keys::room(org, room);
        let start = after.map(|a| key(pk.clone(), a.0.clone()));
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(pk))
            // Only the connection id: the page is a list of ids, and less goes over
            // the wire (DynamoDB still counts the 1 MB page before projecting).
            .projection_expression("#sk")
            .expression_attribute_names("#sk", keys::SK)
            .set_exclusive_start_key(start)
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(unavailable)?;
        let ids = page
            .items()
            .iter()
            .map(|item| Ok(ConnectionId(get_s(item, keys::SK)?.to_string())))
            .collect::<StoreResult<Vec<_>>>()?;
        // DynamoDB stops at the limit or at 1 MB and says where; a last key after a
        // full last page may still have nothing behind it, which the next page shows.
        let next = match page.last_evaluated_key {
            Some(k) if !k.is_empty() => ids.last().cloned(),
            _ => None,
        };
        Ok((ids, next))
    }

    async fn lookup(&self, id: &ConnectionId) -> StoreResult<Option<ConnectionInfo>> {
        let Some(item) = self.connection(id).await? else {
            return Ok(None);
        };
        Ok(Some(ConnectionInfo {
            id: id.clone(),
            org: OrganizationId::new(get_s(&item, "org")?).map_err(|_| corrupt("org"))?,
            user: UserId::new(get_s(&item, "user")?).map_err(|_| corrupt("user"))?,
            roles: roles_of_connection(&item)?,
        }))
    }
}

/// The connection's roles; what does not read back is data this code did not write.
fn roles_of_connection(item: &Item) -> StoreResult<Vec<Role>> {
    serde_json::from_str(get_s(item, "roles")?).map_err(|_| corrupt("roles"))
}
