//! The server-to-server administration routes.

use super::{HttpError, ok, record_org};
use crate::extract::{AdminKey, Ids, JsonBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use pitchside_core::app::admin::{self, parse_limit};
use pitchside_domain::ids::{OrganizationId, PhoneNumberId, PlayerId, UserId};

type Reply = Result<Json<serde_json::Value>, HttpError>;

pub async fn organization(
    State(state): State<AppState>,
    _: AdminKey,
    Ids(org): Ids<OrganizationId>,
    JsonBody(body): JsonBody<admin::OrganizationBody>,
) -> Reply {
    record_org(&org);
    Ok(ok(admin::put_organization(
        state.ports.directory.as_ref(),
        org,
        body,
    )
    .await?))
}

pub async fn whatsapp_number(
    State(state): State<AppState>,
    _: AdminKey,
    Ids((org, number)): Ids<(OrganizationId, PhoneNumberId)>,
) -> Reply {
    record_org(&org);
    admin::put_whatsapp_number(state.ports.directory.as_ref(), org.clone(), number.clone()).await?;
    Ok(ok(
        serde_json::json!({"organizationId": org, "phoneNumberId": number}),
    ))
}

pub async fn member(
    State(state): State<AppState>,
    _: AdminKey,
    Ids((org, user)): Ids<(OrganizationId, UserId)>,
    JsonBody(body): JsonBody<admin::MemberBody>,
) -> Reply {
    record_org(&org);
    Ok(ok(admin::put_member(&state.ports, org, user, body).await?))
}

pub async fn player(
    State(state): State<AppState>,
    _: AdminKey,
    Ids((org, player)): Ids<(OrganizationId, PlayerId)>,
    JsonBody(body): JsonBody<admin::PlayerBody>,
) -> Reply {
    record_org(&org);
    Ok(ok(admin::put_player(
        state.ports.directory.as_ref(),
        org,
        player,
        body,
    )
    .await?))
}

#[derive(serde::Deserialize)]
pub struct ListParams {
    limit: Option<String>,
}

/// `GET /admin/quarantine?limit=`.
pub async fn quarantine(
    State(state): State<AppState>,
    _: AdminKey,
    Query(q): Query<ListParams>,
) -> Reply {
    let limit = parse_limit(q.limit.as_deref())?;
    Ok(ok(admin::quarantined(
        state.ports.quarantine.as_ref(),
        limit,
    )
    .await?))
}

/// `POST /admin/quarantine/{id}/replay`.
pub async fn replay(State(state): State<AppState>, _: AdminKey, Ids(id): Ids<String>) -> Reply {
    Ok(ok(admin::replay(&state.ports, &id).await?))
}
