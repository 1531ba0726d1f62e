//! The server-to-server administration routes.

use super::{HttpError, ok, record_org};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use pitchside_core::app::admin::{self, API_KEY_HEADER, parse_body, parse_id};
use pitchside_domain::ids::{OrganizationId, PhoneNumberId, PlayerId, UserId};

type Reply = Result<Json<serde_json::Value>, HttpError>;

fn check_key(state: &AppState, headers: &HeaderMap) -> Result<(), HttpError> {
    Ok(admin::check_api_key(
        headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok()),
        state.settings.admin_api_key.expose(),
    )?)
}

fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    org: &str,
) -> Result<OrganizationId, HttpError> {
    check_key(state, headers)?;
    let org = parse_id::<OrganizationId>(org)?;
    record_org(&org);
    Ok(org)
}

pub async fn organization(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let org = authorize(&state, &headers, &org)?;
    let done =
        admin::put_organization(state.ports.directory.as_ref(), org, parse_body(&body)?).await?;
    Ok(ok(done))
}

pub async fn whatsapp_number(
    State(state): State<AppState>,
    Path((org, number)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let org = authorize(&state, &headers, &org)?;
    let number = parse_id::<PhoneNumberId>(&number)?;
    admin::put_whatsapp_number(state.ports.directory.as_ref(), org.clone(), number.clone()).await?;
    Ok(ok(
        serde_json::json!({"organizationId": org, "phoneNumberId": number}),
    ))
}

pub async fn member(
    State(state): State<AppState>,
    Path((org, user)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let org = authorize(&state, &headers, &org)?;
    let user = parse_id::<UserId>(&user)?;
    let m = admin::put_member(
        state.ports.directory.as_ref(),
        org,
        user,
        parse_body(&body)?,
    )
    .await?;
    Ok(ok(m))
}

pub async fn player(
    State(state): State<AppState>,
    Path((org, player)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let org = authorize(&state, &headers, &org)?;
    let player = parse_id::<PlayerId>(&player)?;
    let p = admin::put_player(
        state.ports.directory.as_ref(),
        org,
        player,
        parse_body(&body)?,
    )
    .await?;
    Ok(ok(p))
}

#[derive(serde::Deserialize)]
pub struct ListParams {
    limit: Option<String>,
}

/// `GET /admin/quarantine?limit=`.
pub async fn quarantine(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListParams>,
) -> Reply {
    check_key(&state, &headers)?;
    let limit = pitchside_core::app::admin::parse_limit(q.limit.as_deref())?;
    Ok(ok(admin::quarantined(
        state.ports.quarantine.as_ref(),
        limit,
    )
    .await?))
}

/// `POST /admin/quarantine/{id}/replay`.
pub async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    check_key(&state, &headers)?;
    Ok(ok(admin::replay(&state.ports, &id).await?))
}
