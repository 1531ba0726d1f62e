//! Server-to-server administration: organizations, their WhatsApp numbers, members and
//! players. Authenticated by the configured API key; every call is an idempotent PUT.

use super::ApiError;
use super::ErrorKind;
use crate::ports::{Directory, Organization, Player, Ports, QuarantineStore};
use pitchside_domain::auth::{Membership, Role};
use pitchside_domain::ids::{OrganizationId, PhoneNumberId, PlayerId, TeamId, UserId};
use pitchside_domain::limits::QUARANTINE_PAGE;
use pitchside_domain::quarantine;
use pitchside_domain::revocation;
use serde::Deserialize;
use subtle::ConstantTimeEq;

pub const API_KEY_HEADER: &str = "x-api-key";

/// Compares the presented key with the configured one in constant time.
pub fn check_api_key(presented: Option<&str>, configured: &str) -> Result<(), ApiError> {
    match presented {
        Some(k) if bool::from(k.as_bytes().ct_eq(configured.as_bytes())) => Ok(()),
        Some(_) => Err(ApiError::new(
            ErrorKind::Unauthenticated,
            "unauthorized",
            "the X-Api-Key is wrong",
        )),
        None => Err(ApiError::new(
            ErrorKind::Unauthenticated,
            "unauthorized",
            "the X-Api-Key header is required",
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationBody {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MemberBody {
    pub roles: Vec<Role>,
    #[serde(default)]
    pub team_id: Option<TeamId>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct PlayerBody {
    pub name: String,
    #[serde(default)]
    pub whatsapp: Option<String>,
    /// The business-scoped user id WhatsApp may send instead of the number.
    #[serde(default)]
    pub whatsapp_user_id: Option<String>,
}

/// Parses a JSON body, answering a 400 that says what is wrong.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid body: {e}")))
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request("name must be 1 to 200 characters"));
    }
    Ok(name.to_string())
}

/// Parses a `limit` query parameter, answering a 400 that names it.
pub fn parse_limit(raw: Option<&str>) -> Result<Option<usize>, ApiError> {
    raw.map(|l| {
        l.parse::<usize>()
            .map_err(|_| ApiError::bad_request("limit: must be a positive integer"))
    })
    .transpose()
}

async fn existing(dir: &dyn Directory, org: &OrganizationId) -> Result<(), ApiError> {
    dir.organization(org)
        .await?
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found("organization"))
}

pub async fn put_organization(
    dir: &dyn Directory,
    org: OrganizationId,
    body: OrganizationBody,
) -> Result<Organization, ApiError> {
    let org = Organization {
        id: org,
        name: check_name(&body.name)?,
    };
    dir.put_organization(&org).await?;
    Ok(org)
}

pub async fn put_whatsapp_number(
    dir: &dyn Directory,
    org: OrganizationId,
    number: PhoneNumberId,
) -> Result<(), ApiError> {
    existing(dir, &org).await?;
    Ok(dir.put_whatsapp_number(&org, &number).await?)
}

/// Sets a membership. One that takes anything away (the membership ends, a role goes,
/// the team changes) also ends the member's open connections: its revocation event is
/// written with it, so no crash leaves one without the other, and reaches every stream
/// as the log's events do.
pub async fn put_member(
    ports: &Ports,
    org: OrganizationId,
    user: UserId,
    body: MemberBody,
) -> Result<Membership, ApiError> {
    let dir = ports.directory.as_ref();
    existing(dir, &org).await?;
    if body.roles.contains(&Role::TeamOwner) && body.team_id.is_none() {
        return Err(ApiError::bad_request("a team_owner needs a teamId"));
    }
    let membership = Membership {
        roles: body.roles,
        team_id: body.team_id,
        active: body.active,
    };
    let old = dir.membership(&org, &user).await?;
    let revocation = revocation::takes_away(old.as_ref(), &membership)
        .then(|| revocation::event(&user, ports.clock.now()));
    if let Some(appended) = dir.put_member(&org, &user, &membership, revocation).await? {
        tracing::info!(user = %user, event_id = %appended.event.id, "membership revoked; open connections end");
        crate::metrics::appended(&appended);
        super::push(ports, &appended.event).await;
    }
    Ok(membership)
}

/// A WhatsApp id (`wa_id`) is the number in international form, digits only.
fn check_wa_id(wa: &str) -> Result<String, ApiError> {
    let wa = wa.trim().trim_start_matches('+');
    if !(5..=20).contains(&wa.len()) || !wa.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            "whatsapp must be the number in international form, digits only (e.g. 919876543210)",
        ));
    }
    Ok(wa.to_string())
}

/// A business-scoped user id: Meta's are short strings such as `US.13491208655302741918`.
fn check_wa_user_id(id: &str) -> Result<String, ApiError> {
    let id = id.trim();
    pitchside_domain::ids::check_id("whatsappUserId", id)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(id.to_string())
}

pub async fn put_player(
    dir: &dyn Directory,
    org: OrganizationId,
    player: PlayerId,
    body: PlayerBody,
) -> Result<Player, ApiError> {
    existing(dir, &org).await?;
    let player = Player {
        id: player,
        name: check_name(&body.name)?,
        whatsapp: body.whatsapp.as_deref().map(check_wa_id).transpose()?,
        whatsapp_user_id: body
            .whatsapp_user_id
            .as_deref()
            .map(check_wa_user_id)
            .transpose()?,
    };
    dir.put_player(&org, &player).await?;
    Ok(player)
}

/// The quarantine, newest first.
pub async fn quarantined(
    store: &dyn QuarantineStore,
    limit: Option<usize>,
) -> Result<Vec<quarantine::Entry>, ApiError> {
    Ok(store.quarantined(QUARANTINE_PAGE.clamp(limit)).await?)
}

/// Queues a quarantined payload again, as it was received; once the cause is fixed the
/// worker processes it like any other (and a replay of what was processed already
/// changes nothing). If it fails again, it is back in the quarantine.
pub async fn replay(ports: &Ports, id: &str) -> Result<serde_json::Value, ApiError> {
    let (entry, body) = ports
        .quarantine
        .quarantined_body(id)
        .await?
        .ok_or_else(|| ApiError::not_found("quarantined payload"))?;
    let queued = super::webhook::enqueue(ports, entry.kind, &body, None).await?;
    let now = ports.clock.now();
    ports.quarantine.mark_replayed(id, now).await?;
    tracing::info!(quarantine_id = %id, queue_message_id = %queued, "quarantined payload replayed");
    Ok(serde_json::json!({"id": id, "kind": entry.kind, "queued": true, "replayedAt": now}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_must_match() {
        assert!(check_api_key(Some("k-0123456789abcdef"), "k-0123456789abcdef").is_ok());
        assert_eq!(
            check_api_key(Some("k"), "k-0123456789abcdef")
                .unwrap_err()
                .kind,
            ErrorKind::Unauthenticated
        );
        assert_eq!(
            check_api_key(None, "k").unwrap_err().kind,
            ErrorKind::Unauthenticated
        );
    }

    #[test]
    fn bodies_are_checked() {
        assert!(parse_body::<MemberBody>(br#"{"roles":["wizard"]}"#).is_err());
        assert!(parse_body::<MemberBody>(br#"{"roles":[],"extra":1}"#).is_err());
        let m: MemberBody = parse_body(br#"{"roles":["admin"]}"#).unwrap();
        assert!(m.active);
        assert!(check_wa_id("+91 98").is_err());
        assert_eq!(check_wa_id("+919876543210").unwrap(), "919876543210");
        assert!(check_name("  ").is_err());
    }
}
