//! Secrets read at run time from Secrets Manager (moto's, started by `make test`): the
//! adapter, and the process's secrets as they are rotated, with a clock moved by hand.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)] // a test may panic and read the clock

use chrono::{Duration as Age, Utc};
use pitchside_aws::{SecretsManager, bootstrap};
use pitchside_core::clock::{Clock, TestClock};
use pitchside_core::config::{SecretName, Settings};
use pitchside_core::ports::{SecretError, SecretStore};
use pitchside_core::secrets::Keys;
use pitchside_domain::auth::{Claims, sign_hs256};
use pitchside_domain::ids::{OrganizationId, UserId};
use std::collections::HashMap;
use std::sync::Arc;

async fn client() -> aws_sdk_secretsmanager::Client {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run these through `make test`, which starts moto"
    );
    aws_sdk_secretsmanager::Client::new(&pitchside_aws::sdk_config().await)
}

fn unique(tag: &str) -> String {
    format!("pitchside/{tag}-{}", hex::encode(rand::random::<[u8; 4]>()))
}

/// Settings wanting `wanted`, from `pairs`.
fn settings(pairs: &[(&str, String)], wanted: &[SecretName]) -> Settings {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Settings::wanting(|k| map.get(k).cloned(), wanted).unwrap()
}

fn store(client: aws_sdk_secretsmanager::Client) -> Option<Arc<dyn SecretStore>> {
    Some(Arc::new(SecretsManager::new(client)))
}

#[tokio::test]
async fn the_adapter_reads_the_current_version_and_says_why_it_cannot() {
    let c = client().await;
    let name = unique("adapter");
    let arn = bootstrap::put_secret(&c, &name, "first").await.unwrap();
    let sm = SecretsManager::new(c.clone());
    assert_eq!(sm.read(&arn).await.unwrap(), "first");
    assert_eq!(sm.read(&name).await.unwrap(), "first", "by name too");
    bootstrap::put_secret(&c, &name, "second").await.unwrap();
    assert_eq!(
        sm.read(&arn).await.unwrap(),
        "second",
        "the rotated version"
    );

    let missing = sm.read(&unique("never-created")).await.unwrap_err();
    assert!(matches!(missing, SecretError::NotFound), "{missing:?}");

    let binary = unique("binary");
    c.create_secret()
        .name(&binary)
        .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(vec![1, 2, 3]))
        .send()
        .await
        .unwrap();
    let e = sm.read(&binary).await.unwrap_err();
    assert!(matches!(e, SecretError::NotText), "{e:?}");
}

#[tokio::test]
async fn a_rotated_secret_takes_effect_after_the_period_and_a_bad_read_keeps_the_last() {
    let c = client().await;
    let name = unique("admin");
    let arn = bootstrap::put_secret(&c, &name, "admin-key-version-one\n")
        .await
        .unwrap();
    let s = settings(
        &[
            ("PITCHSIDE_ADMIN_API_KEY_ARN", arn.clone()),
            ("PITCHSIDE_SECRETS_REFRESH_SECONDS", "300".into()),
        ],
        &[SecretName::AdminApiKey],
    );
    let clock = Arc::new(TestClock::at(Utc::now()));
    let keys = Keys::load(&s, store(c.clone()), clock.clone())
        .await
        .unwrap();
    let admin = keys.admin_api_key.as_ref().unwrap();
    // The trailing newline of a value put from a file is not part of it.
    assert_eq!(admin.current().await.expose(), "admin-key-version-one");

    bootstrap::put_secret(&c, &name, "admin-key-version-two")
        .await
        .unwrap();
    assert_eq!(
        admin.current().await.expose(),
        "admin-key-version-one",
        "within the period, the value read before"
    );
    clock.advance(Age::seconds(301));
    assert_eq!(admin.current().await.expose(), "admin-key-version-two");

    // A value that breaks the rule, then a secret that is gone: the last good value stays.
    bootstrap::put_secret(&c, &name, "tiny").await.unwrap();
    clock.advance(Age::seconds(301));
    assert_eq!(admin.current().await.expose(), "admin-key-version-two");
    c.delete_secret()
        .secret_id(&arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    clock.advance(Age::seconds(301));
    assert_eq!(admin.current().await.expose(), "admin-key-version-two");
}

#[tokio::test]
async fn a_stored_jwt_secret_verifies_tokens_and_follows_its_rotation() {
    let c = client().await;
    let name = unique("jwt");
    let (one, two) = ("a".repeat(40), "b".repeat(40));
    let arn = bootstrap::put_secret(&c, &name, &one).await.unwrap();
    let s = settings(
        &[("PITCHSIDE_JWT_SECRET_ARN", arn)],
        &[SecretName::JwtSecret],
    );
    let clock = Arc::new(TestClock::at(Utc::now()));
    let keys = Keys::load(&s, store(c.clone()), clock.clone())
        .await
        .unwrap();
    let tokens = keys.tokens.clone().unwrap();
    let token = |secret: &str| {
        let claims = Claims {
            sub: UserId::new("u-1").unwrap(),
            org: OrganizationId::new("club-1").unwrap(),
            roles: vec![],
            team_id: None,
            name: None,
            exp: clock.now().timestamp() + 3600,
            nbf: None,
            iss: None,
            aud: None,
        };
        sign_hs256(secret.as_bytes(), &claims)
    };
    let verifies = |secret: &str| {
        let t = token(secret);
        let tokens = tokens.clone();
        let now = clock.now().timestamp();
        async move { tokens.current().await.verifier.verify(&t, now).is_ok() }
    };
    assert!(verifies(&one).await);
    assert!(!verifies(&two).await);

    bootstrap::put_secret(&c, &name, &two).await.unwrap();
    clock.advance(Age::seconds(301));
    assert!(verifies(&two).await);
    assert!(!verifies(&one).await);
}

#[tokio::test]
async fn a_missing_or_unusable_secret_stops_the_start_naming_it_never_its_value() {
    let c = client().await;
    let clock = Arc::new(TestClock::at(Utc::now()));
    let missing = unique("missing");
    let s = settings(
        &[
            ("PITCHSIDE_WHATSAPP_APP_SECRET_ARN", missing.clone()),
            ("PITCHSIDE_WHATSAPP_VERIFY_TOKEN", "t".into()),
        ],
        &[
            SecretName::WhatsAppAppSecret,
            SecretName::WhatsAppVerifyToken,
        ],
    );
    let err = Keys::load(&s, store(c.clone()), clock.clone())
        .await
        .err()
        .unwrap();
    assert_eq!(err.variable, "PITCHSIDE_WHATSAPP_APP_SECRET_ARN");
    assert!(err.problem.contains(&missing), "{err}");
    assert!(err.problem.contains("no such secret"), "{err}");

    let short = unique("short-jwt");
    let arn = bootstrap::put_secret(&c, &short, "only-twenty-bytes-xx")
        .await
        .unwrap();
    let s = settings(
        &[("PITCHSIDE_JWT_SECRET_ARN", arn)],
        &[SecretName::JwtSecret],
    );
    let err = Keys::load(&s, store(c), clock).await.err().unwrap();
    assert_eq!(err.variable, "PITCHSIDE_JWT_SECRET_ARN");
    assert!(err.problem.contains("at least 32 bytes"), "{err}");
    assert!(!err.to_string().contains("only-twenty-bytes-xx"), "{err}");
}
