//! `--demo`: a seeded organization and a guide whose every command works as printed.

use pitchside_core::config::{self, Settings};
use pitchside_core::ports::Ports;
use pitchside_core::ports::{Organization, Player, StoreError};
use pitchside_core::secrets::Keys;
use pitchside_domain::auth::{Claims, Membership, Role, TokenKey, sign_hs256};
use pitchside_domain::ids::{OrganizationId, PhoneNumberId, PlayerId, UserId};
use std::net::SocketAddr;

pub const ORG: &str = "demo";
pub const PHONE_NUMBER_ID: &str = "100000000000001";
pub const ADMIN: &str = "demo-admin";
/// The demo players: id, name, WhatsApp id.
pub const PLAYERS: [(&str, &str, &str); 3] = [
    ("p_ravi", "Ravi Kumar", "919800000001"),
    ("p_asha", "Asha Patel", "919800000002"),
    ("p_tom", "Tom Ellis", "447700900003"),
];
const TOKEN_HOURS: i64 = 24;

fn id<T>(r: Result<T, pitchside_domain::ids::InvalidId>) -> T {
    r.expect("demo ids are valid")
}

pub async fn seed(ports: &Ports) -> Result<(), StoreError> {
    let org = id(OrganizationId::new(ORG));
    ports
        .directory
        .put_organization(&Organization {
            id: org.clone(),
            name: "Demo Cricket Club".into(),
        })
        .await?;
    ports
        .directory
        .put_whatsapp_number(&org, &id(PhoneNumberId::new(PHONE_NUMBER_ID)))
        .await?;
    ports
        .directory
        .put_member(
            &org,
            &id(UserId::new(ADMIN)),
            &Membership {
                roles: vec![Role::Admin, Role::Scorer, Role::Auctioneer, Role::Viewer],
                team_id: None,
                active: true,
            },
            None,
        )
        .await?;
    for (pid, name, wa) in PLAYERS {
        ports
            .directory
            .put_player(
                &org,
                &Player {
                    id: id(PlayerId::new(pid)),
                    name: name.into(),
                    whatsapp: Some(wa.into()),
                    whatsapp_user_id: None,
                },
            )
            .await?;
    }
    Ok(())
}

/// A token for the demo's admin, when tokens are HS256 (a configured or stored secret).
pub async fn token(settings: &Settings, keys: &Keys) -> Option<String> {
    let tokens = keys.tokens.as_ref()?.current().await;
    let TokenKey::Hs256(secret) = &tokens.key else {
        return None;
    };
    let claims = Claims {
        sub: id(UserId::new(ADMIN)),
        org: id(OrganizationId::new(ORG)),
        roles: vec![Role::Admin, Role::Scorer, Role::Auctioneer, Role::Viewer],
        team_id: None,
        name: Some("Demo Admin".into()),
        exp: chrono::Utc::now().timestamp() + TOKEN_HOURS * 3600,
        nbf: None,
        iss: settings.jwt_issuer.clone(),
        aud: settings.jwt_audience.clone(),
    };
    Some(sign_hs256(secret, &claims))
}

/// Prints the development values, a token and the commands to try.
pub fn print_guide(token: Option<String>, addr: SocketAddr) {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "pitchside".into());
    let base = format!("http://{addr}");
    let mut out = String::new();
    out.push_str("\nPitchside demo\n==============\n");
    out.push_str("Development values (for this machine only; set the variables to override):\n");
    for (name, value) in config::DEMO_VALUES {
        let stored = config::SecretName::ALL
            .into_iter()
            .find(|n| n.variable() == name)
            .and_then(|n| std::env::var(n.arn_variable()).ok())
            .filter(|v| !v.trim().is_empty());
        let shown = match (std::env::var(name), stored) {
            (_, Some(id)) => format!("(from the stored secret {id})"),
            (Ok(_), None) => "(from your environment)".into(),
            (Err(_), None) => value.to_string(),
        };
        out.push_str(&format!("  {name}={shown}\n"));
    }
    out.push_str(&format!(
        "\nOrganization `{ORG}`: WhatsApp number {PHONE_NUMBER_ID}, admin user `{ADMIN}`, players {}.\n",
        PLAYERS.map(|(p, _, _)| p).join(", ")
    ));
    match token {
        Some(token) => {
            out.push_str(&format!("\nA token for `{ADMIN}` (valid {TOKEN_HOURS} h):\n  {token}\n"));
            out.push_str(&format!(
                "\nFollow the live events:\n  curl -N -H 'Authorization: Bearer {token}' {base}/sse/events\n"
            ));
        }
        None => out.push_str(
            "\nTokens: PITCHSIDE_JWT_PUBLIC_KEY is set, so the club platform's own tokens are needed.\n",
        ),
    }
    out.push_str(&format!(
        "\nThen, in another terminal, send a signed WhatsApp message as {}:\n  {exe} simulate message --demo --url {base} --text 'Yes, I can play on Saturday'\n\n",
        PLAYERS[0].1
    ));
    print!("{out}");
}
