//! The operator's settings: the contract's environment variables, read the same way by
//! the local gateway and every Lambda. Reading is pure (it takes a lookup function), so
//! every rule is tested without touching the process environment.

use pitchside_domain::auth::{KeyError, TokenKey};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const ADDR: &str = "PITCHSIDE_ADDR";
pub const DATA_DIR: &str = "PITCHSIDE_DATA_DIR";
pub const BACKEND: &str = "PITCHSIDE_BACKEND";
pub const JWT_SECRET: &str = "PITCHSIDE_JWT_SECRET";
pub const JWT_PUBLIC_KEY: &str = "PITCHSIDE_JWT_PUBLIC_KEY";
pub const JWT_ISSUER: &str = "PITCHSIDE_JWT_ISSUER";
pub const JWT_AUDIENCE: &str = "PITCHSIDE_JWT_AUDIENCE";
pub const WHATSAPP_APP_SECRET: &str = "PITCHSIDE_WHATSAPP_APP_SECRET";
pub const WHATSAPP_VERIFY_TOKEN: &str = "PITCHSIDE_WHATSAPP_VERIFY_TOKEN";
pub const STRIPE_WEBHOOK_SECRET: &str = "PITCHSIDE_STRIPE_WEBHOOK_SECRET";
pub const ADMIN_API_KEY: &str = "PITCHSIDE_ADMIN_API_KEY";
pub const RETENTION_DAYS: &str = "PITCHSIDE_RETENTION_DAYS";
pub const TABLE: &str = "PITCHSIDE_TABLE";
pub const QUEUE_URL: &str = "PITCHSIDE_QUEUE_URL";
pub const DEAD_LETTER_QUEUE_URL: &str = "PITCHSIDE_DEAD_LETTER_QUEUE_URL";
pub const WS_ENDPOINT: &str = "PITCHSIDE_WS_ENDPOINT";
pub const PUSH_QUEUE_URL: &str = "PITCHSIDE_PUSH_QUEUE_URL";
pub const SSE_HEARTBEAT_SECONDS: &str = "PITCHSIDE_SSE_HEARTBEAT_SECONDS";
pub const SSE_POLL_MS: &str = "PITCHSIDE_SSE_POLL_MS";
pub const SSE_LIFETIME_SECONDS: &str = "PITCHSIDE_SSE_LIFETIME_SECONDS";
pub const SSE_FOLLOW: &str = "PITCHSIDE_SSE_FOLLOW";
pub const CORS_ORIGINS: &str = "PITCHSIDE_CORS_ORIGINS";
pub const SSE_MAX_STREAMS_PER_USER: &str = "PITCHSIDE_SSE_MAX_STREAMS_PER_USER";
pub const SUBSCRIBER_BUFFER: &str = "PITCHSIDE_SUBSCRIBER_BUFFER";
pub const WS_RATE: &str = "PITCHSIDE_WS_RATE";
pub const WS_BURST: &str = "PITCHSIDE_WS_BURST";
pub const HEADER_TIMEOUT_SECONDS: &str = "PITCHSIDE_HEADER_TIMEOUT_SECONDS";
pub const MAX_PENDING_CONNECTIONS: &str = "PITCHSIDE_MAX_PENDING_CONNECTIONS";
pub const SECRETS_REFRESH_SECONDS: &str = "PITCHSIDE_SECRETS_REFRESH_SECONDS";
pub const METRICS: &str = "PITCHSIDE_METRICS";

/// A setting that stops start-up, named so the operator knows what to fix. The value is
/// never repeated: it may be a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn bad(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Aws,
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// The secrets. Each is given as its value (`PITCHSIDE_X`) or as the Secrets Manager
/// secret that holds it (`PITCHSIDE_X_ARN`, an ARN or a name), read at start and again
/// every `PITCHSIDE_SECRETS_REFRESH_SECONDS`, so a rotated secret takes effect without a
/// deploy and each function is given only the ones it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretName {
    JwtSecret,
    WhatsAppAppSecret,
    WhatsAppVerifyToken,
    /// Optional wherever it is wanted: while unset, Stripe's route answers 503.
    StripeWebhookSecret,
    AdminApiKey,
}

impl SecretName {
    /// Every secret: what the local gateway, which serves every route, wants.
    pub const ALL: [SecretName; 5] = [
        SecretName::JwtSecret,
        SecretName::WhatsAppAppSecret,
        SecretName::WhatsAppVerifyToken,
        SecretName::StripeWebhookSecret,
        SecretName::AdminApiKey,
    ];

    /// The variable holding the value itself.
    pub fn variable(self) -> &'static str {
        match self {
            SecretName::JwtSecret => JWT_SECRET,
            SecretName::WhatsAppAppSecret => WHATSAPP_APP_SECRET,
            SecretName::WhatsAppVerifyToken => WHATSAPP_VERIFY_TOKEN,
            SecretName::StripeWebhookSecret => STRIPE_WEBHOOK_SECRET,
            SecretName::AdminApiKey => ADMIN_API_KEY,
        }
    }

    /// The variable naming the Secrets Manager secret that holds the value.
    pub fn arn_variable(self) -> &'static str {
        match self {
            SecretName::JwtSecret => "PITCHSIDE_JWT_SECRET_ARN",
            SecretName::WhatsAppAppSecret => "PITCHSIDE_WHATSAPP_APP_SECRET_ARN",
            SecretName::WhatsAppVerifyToken => "PITCHSIDE_WHATSAPP_VERIFY_TOKEN_ARN",
            SecretName::StripeWebhookSecret => "PITCHSIDE_STRIPE_WEBHOOK_SECRET_ARN",
            SecretName::AdminApiKey => "PITCHSIDE_ADMIN_API_KEY_ARN",
        }
    }

    fn required(self) -> bool {
        self != SecretName::StripeWebhookSecret
    }

    /// Whether `value` is usable as this secret; the problem, never the value, if not.
    /// The same rule for a value from the environment and one read from the store.
    pub fn check(self, value: &str) -> Result<(), String> {
        match self {
            _ if value.trim().is_empty() => Err("is empty".into()),
            SecretName::JwtSecret => hs256(value).map(drop),
            SecretName::AdminApiKey if value.len() < MIN_ADMIN_KEY => {
                Err(format!("must be at least {MIN_ADMIN_KEY} characters"))
            }
            _ => Ok(()),
        }
    }
}

/// The secrets each Lambda function wants (the others it neither requires nor reads):
/// `template.yaml` gives each function exactly these, and a policy for their ARNs.
pub mod wanted_by {
    use super::SecretName::{self, *};

    pub const API: &[SecretName] = &[JwtSecret, AdminApiKey];
    pub const SSE: &[SecretName] = &[JwtSecret];
    pub const WS: &[SecretName] = &[JwtSecret];
    pub const WEBHOOK: &[SecretName] =
        &[WhatsAppAppSecret, WhatsAppVerifyToken, StripeWebhookSecret];
    pub const WORKER: &[SecretName] = &[];
    pub const FANOUT: &[SecretName] = &[];
    pub const PUSH: &[SecretName] = &[];
}

/// The key that verifies HS256 tokens, from the shared secret.
pub fn hs256(secret: &str) -> Result<TokenKey, String> {
    TokenKey::hs256(secret.as_bytes().to_vec()).map_err(|e| match e {
        KeyError::SecretTooShort => "must be at least 32 bytes".to_string(),
        KeyError::UnrecognisedPem => e.to_string(),
    })
}

/// A secret as configured: its value, or the id of the stored secret holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provided<T> {
    Value(T),
    /// A Secrets Manager secret id (an ARN or a name), from `PITCHSIDE_X_ARN`.
    Stored(String),
}

/// Where the AWS backend's resources are (`PITCHSIDE_BACKEND=aws`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    pub table: String,
    pub queue_url: String,
    pub dead_letter_queue_url: Option<String>,
    /// The WebSocket management endpoint (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`).
    /// The local gateway defaults it to itself.
    pub ws_endpoint: Option<String>,
    /// The push queue (SQS FIFO) that appended events become chunks on, on their way
    /// to WebSocket connections: what the `fanout` function fills and the `push`
    /// function drains (the local gateway in AWS mode does both).
    pub push_queue_url: Option<String>,
}

/// How SSE streams behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseSettings {
    /// The heartbeat comment's period (the contract: at most 15 s).
    pub heartbeat: Duration,
    /// The `sse` function: how often it reads the log for new events.
    pub poll: Duration,
    /// The `sse` function: how long one invocation streams before it ends on purpose.
    pub lifetime: Duration,
    /// How the gateway's streams follow new events: its in-process hub, or by reading
    /// the log as the `sse` function does (to run the function's path locally).
    pub follow: SseFollow,
    /// How many streams one member may hold open at once, across every process.
    pub max_streams_per_user: u32,
}

/// `PITCHSIDE_SSE_FOLLOW`: `hub` (the default) or `poll`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseFollow {
    Hub,
    Poll,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub backend: Backend,
    /// The token key: HS256's secret (a value or stored), or RS256/ES256's public key.
    /// Each secret is `None` only when it was not wanted (or is optional) and not set.
    pub token_key: Option<Provided<TokenKey>>,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub whatsapp_app_secret: Option<Provided<Secret>>,
    pub whatsapp_verify_token: Option<Provided<Secret>>,
    pub stripe_webhook_secret: Option<Provided<Secret>>,
    pub admin_api_key: Option<Provided<Secret>>,
    /// How long a secret read from the store is used before it is read again.
    pub secrets_refresh: Duration,
    /// How long the event log keeps events (and dedup records).
    pub retention: std::time::Duration,
    /// Present exactly when the backend is `aws`.
    pub aws: Option<AwsSettings>,
    pub sse: SseSettings,
    /// How many events a live subscriber may fall behind before it is cut off (and
    /// resumes by id): the bound on what a slow client costs.
    pub subscriber_buffer: usize,
    /// Messages a WebSocket client may send per second on average, and at once.
    pub ws_rate: u32,
    pub ws_burst: u32,
    /// The local gateway's listener: how long a client may take to send a request's
    /// headers, and how many connections may be waiting for their first request at once
    /// (beyond it a new connection is closed at once), so slow or idle sockets cannot
    /// pile up.
    pub header_timeout: Duration,
    pub max_pending_connections: usize,
    /// The origins whose pages may call the gateway from a browser, with credentials
    /// (`scheme://host[:port]`); none by default, and never `*`.
    pub cors_origins: Vec<String>,
    /// `PITCHSIDE_METRICS`: `on` (the default) records the metrics (`/metrics` in the
    /// gateway, EMF in a Lambda); `off` records none (the benchmark's baseline).
    pub metrics: bool,
}

/// Development values that `--demo` supplies for whatever the environment leaves unset.
pub const DEMO_VALUES: [(&str, &str); 5] = [
    (JWT_SECRET, "pitchside-demo-jwt-secret-0123456789abcdef"),
    (WHATSAPP_APP_SECRET, "pitchside-demo-whatsapp-app-secret"),
    (WHATSAPP_VERIFY_TOKEN, "pitchside-demo-verify-token"),
    (ADMIN_API_KEY, "pitchside-demo-admin-key"),
    (STRIPE_WEBHOOK_SECRET, "whsec_pitchside_demo"),
];

const MIN_ADMIN_KEY: usize = 16;

impl Settings {
    /// Reads every setting through `get`, which answers a variable's value (unset and
    /// empty are the same), wanting every secret: the local gateway's settings.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        Settings::wanting(get, &SecretName::ALL)
    }

    /// As `from_lookup`, wanting only the secrets in `wanted` (a function's): those
    /// must be set (the Stripe secret is always optional), the others are not read.
    pub fn wanting(
        get: impl Fn(&str) -> Option<String>,
        wanted: &[SecretName],
    ) -> Result<Settings, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let required = |k: &'static str| get(k).ok_or_else(|| bad(k, "is required but not set"));
        let secret = |name: SecretName| -> Result<Option<Provided<String>>, ConfigError> {
            if !wanted.contains(&name) {
                return Ok(None);
            }
            let (var, arn) = (name.variable(), name.arn_variable());
            match (get(var), get(arn)) {
                (Some(_), Some(_)) => Err(bad(var, format!("set either it or {arn}, not both"))),
                (Some(v), None) => {
                    name.check(&v).map_err(|problem| bad(var, problem))?;
                    Ok(Some(Provided::Value(v)))
                }
                (None, Some(id)) => Ok(Some(Provided::Stored(id.trim().to_string()))),
                (None, None) if name.required() => {
                    let public_key = if name == SecretName::JwtSecret {
                        format!(", or {JWT_PUBLIC_KEY} for RS256/ES256")
                    } else {
                        String::new()
                    };
                    Err(bad(
                        var,
                        format!(
                            "is required but not set (or {arn}, the Secrets Manager secret holding it{public_key})"
                        ),
                    ))
                }
                (None, None) => Ok(None),
            }
        };
        let as_secret = |p: Option<Provided<String>>| {
            p.map(|p| match p {
                Provided::Value(v) => Provided::Value(Secret::new(v)),
                Provided::Stored(id) => Provided::Stored(id),
            })
        };

        let addr = match get(ADDR) {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => v.trim().parse().map_err(|_| {
                bad(
                    ADDR,
                    "must be host:port with a numeric IP, e.g. 127.0.0.1:8080",
                )
            })?,
        };
        let data_dir = get(DATA_DIR).map_or_else(|| PathBuf::from("./.pitchside"), PathBuf::from);
        let backend = match get(BACKEND).as_deref().map(str::trim) {
            None | Some("embedded") => Backend::Embedded,
            Some("aws") => Backend::Aws,
            Some(_) => return Err(bad(BACKEND, "must be `embedded` or `aws`")),
        };
        let token_key = if !wanted.contains(&SecretName::JwtSecret) {
            None
        } else if let Some(pem) = get(JWT_PUBLIC_KEY) {
            let jwt = SecretName::JwtSecret;
            if get(jwt.variable()).is_some() || get(jwt.arn_variable()).is_some() {
                return Err(bad(
                    JWT_SECRET,
                    format!(
                        "set either it or {JWT_PUBLIC_KEY}, not both: the algorithm is pinned by which one is set"
                    ),
                ));
            }
            // Operators often pass PEM through one-line parameters with literal \n.
            let pem = pem.replace("\\n", "\n");
            Some(Provided::Value(
                TokenKey::from_public_pem(&pem).map_err(|e| bad(JWT_PUBLIC_KEY, e.to_string()))?,
            ))
        } else {
            match secret(SecretName::JwtSecret)? {
                Some(Provided::Value(v)) => Some(Provided::Value(
                    hs256(&v).map_err(|problem| bad(JWT_SECRET, problem))?,
                )),
                Some(Provided::Stored(id)) => Some(Provided::Stored(id)),
                None => None,
            }
        };
        let admin_api_key = as_secret(secret(SecretName::AdminApiKey)?);
        let number = |name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| {
            match get(name) {
                None => Ok(default),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if range.contains(&n) => Ok(n),
                    _ => Err(bad(
                        name,
                        format!(
                            "must be a whole number from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    )),
                },
            }
        };
        let retention_days = number(RETENTION_DAYS, 7, 1..=365)?;
        let sse = SseSettings {
            heartbeat: Duration::from_secs(number(SSE_HEARTBEAT_SECONDS, 15, 1..=15)?),
            poll: Duration::from_millis(number(SSE_POLL_MS, 1000, 100..=60_000)?),
            lifetime: Duration::from_secs(number(SSE_LIFETIME_SECONDS, 300, 5..=840)?),
            follow: match get(SSE_FOLLOW).as_deref().map(str::trim) {
                None | Some("hub") => SseFollow::Hub,
                Some("poll") => SseFollow::Poll,
                Some(_) => return Err(bad(SSE_FOLLOW, "must be `hub` or `poll`")),
            },
            max_streams_per_user: u32::try_from(number(SSE_MAX_STREAMS_PER_USER, 5, 1..=100_000)?)
                .unwrap_or(u32::MAX),
        };
        let subscriber_buffer =
            usize::try_from(number(SUBSCRIBER_BUFFER, 1024, 16..=65_536)?).unwrap_or(usize::MAX);
        let ws_rate = u32::try_from(number(WS_RATE, 10, 1..=10_000)?).unwrap_or(u32::MAX);
        let ws_burst = u32::try_from(number(WS_BURST, 20, 1..=10_000)?).unwrap_or(u32::MAX);
        let header_timeout = Duration::from_secs(number(HEADER_TIMEOUT_SECONDS, 10, 1..=300)?);
        let max_pending_connections =
            usize::try_from(number(MAX_PENDING_CONNECTIONS, 1024, 1..=100_000)?)
                .unwrap_or(usize::MAX);
        let aws = match backend {
            Backend::Embedded => None,
            Backend::Aws => Some(AwsSettings {
                table: required(TABLE)?,
                queue_url: required(QUEUE_URL)?,
                dead_letter_queue_url: get(DEAD_LETTER_QUEUE_URL),
                ws_endpoint: get(WS_ENDPOINT),
                push_queue_url: get(PUSH_QUEUE_URL),
            }),
        };
        Ok(Settings {
            addr,
            data_dir,
            backend,
            token_key,
            jwt_issuer: get(JWT_ISSUER),
            jwt_audience: get(JWT_AUDIENCE),
            whatsapp_app_secret: as_secret(secret(SecretName::WhatsAppAppSecret)?),
            whatsapp_verify_token: as_secret(secret(SecretName::WhatsAppVerifyToken)?),
            stripe_webhook_secret: as_secret(secret(SecretName::StripeWebhookSecret)?),
            admin_api_key,
            secrets_refresh: Duration::from_secs(number(SECRETS_REFRESH_SECONDS, 300, 1..=86_400)?),
            retention: Duration::from_secs(retention_days * 24 * 3600),
            aws,
            sse,
            subscriber_buffer,
            ws_rate,
            ws_burst,
            header_timeout,
            max_pending_connections,
            cors_origins: match get(CORS_ORIGINS) {
                None => Vec::new(),
                Some(list) => origins(&list).map_err(|problem| bad(CORS_ORIGINS, problem))?,
            },
            metrics: match get(METRICS).as_deref().map(str::trim) {
                None | Some("on") => true,
                Some("off") => false,
                Some(_) => return Err(bad(METRICS, "must be `on` or `off`")),
            },
        })
    }

    /// Whether any secret is to be read from the secret store.
    pub fn stores_secrets(&self) -> bool {
        fn stored<T>(p: &Option<Provided<T>>) -> bool {
            matches!(p, Some(Provided::Stored(_)))
        }
        stored(&self.token_key)
            || stored(&self.whatsapp_app_secret)
            || stored(&self.whatsapp_verify_token)
            || stored(&self.stripe_webhook_secret)
            || stored(&self.admin_api_key)
    }

    /// As `from_lookup`, with the development values filling what is unset.
    pub fn demo_from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        Settings::from_lookup(|k| {
            get(k).filter(|v| !v.trim().is_empty()).or_else(|| {
                // A configured public key, or a stored secret, replaces the demo value
                // rather than clashing with it.
                if k == JWT_SECRET && get(JWT_PUBLIC_KEY).is_some() {
                    return None;
                }
                let stored = SecretName::ALL.iter().any(|n| {
                    n.variable() == k && get(n.arn_variable()).is_some_and(|v| !v.trim().is_empty())
                });
                if stored {
                    return None;
                }
                DEMO_VALUES
                    .iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, v)| v.to_string())
            })
        })
    }
}

/// Parses a comma-separated list of origins, each `http(s)://host[:port]` exactly as a
/// browser sends it in `Origin` (no path, no trailing slash, no wildcard).
fn origins(list: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for origin in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let valid = host.is_some_and(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        });
        if !valid {
            return Err(format!(
                "{origin:?} is not an origin: give scheme://host[:port], e.g. https://club.example (never *)"
            ));
        }
        out.push(origin.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    /// Every required setting (the optional Stripe secret left out).
    fn complete() -> Vec<(&'static str, &'static str)> {
        DEMO_VALUES
            .into_iter()
            .filter(|(k, _)| *k != STRIPE_WEBHOOK_SECRET)
            .collect()
    }

    #[test]
    fn defaults_fill_the_optional_settings() {
        let s = Settings::from_lookup(env(&complete())).unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("./.pitchside"));
        assert_eq!(s.backend, Backend::Embedded);
        assert!(s.stripe_webhook_secret.is_none());
        let with = Settings::from_lookup(env(&DEMO_VALUES)).unwrap();
        assert!(with.stripe_webhook_secret.is_some());
    }

    #[test]
    fn each_missing_required_setting_is_named() {
        for (name, _) in complete() {
            let without: Vec<_> = complete().into_iter().filter(|(k, _)| *k != name).collect();
            let err = Settings::from_lookup(env(&without)).unwrap_err();
            assert_eq!(err.variable, name);
        }
    }

    #[test]
    fn malformed_settings_are_named_without_their_value() {
        let cases = [
            (ADDR, "localhost"),
            (BACKEND, "postgres"),
            (JWT_SECRET, "short-secret"),
            (ADMIN_API_KEY, "tiny"),
        ];
        for (name, value) in cases {
            let mut pairs = complete();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            let err = Settings::from_lookup(env(&pairs)).unwrap_err();
            assert_eq!(err.variable, name, "{err}");
            assert!(!err.to_string().contains(value), "{err}");
        }
        let mut pairs = complete();
        pairs.push((JWT_PUBLIC_KEY, "-----BEGIN PUBLIC KEY-----"));
        assert_eq!(
            Settings::from_lookup(env(&pairs)).unwrap_err().variable,
            JWT_SECRET
        );
    }

    #[test]
    fn a_public_key_pins_its_algorithm() {
        let pem = include_str!("../../domain/testdata/ec256-public.pem").replace('\n', "\\n");
        let mut pairs: Vec<_> = complete()
            .into_iter()
            .filter(|(k, _)| *k != JWT_SECRET)
            .collect();
        pairs.push((JWT_PUBLIC_KEY, &pem));
        let algorithm = |s: Settings| match s.token_key {
            Some(Provided::Value(k)) => k.algorithm(),
            other => panic!("{other:?}"),
        };
        let s = Settings::from_lookup(env(&pairs)).unwrap();
        assert_eq!(algorithm(s), jsonwebtoken::Algorithm::ES256);
        // And --demo does not add its secret next to it.
        let s = Settings::demo_from_lookup(env(&[(JWT_PUBLIC_KEY, &pem)])).unwrap();
        assert_eq!(algorithm(s), jsonwebtoken::Algorithm::ES256);
    }

    #[test]
    fn the_aws_backend_needs_its_resources() {
        let mut pairs = complete();
        pairs.push((BACKEND, "aws"));
        assert_eq!(
            Settings::from_lookup(env(&pairs)).unwrap_err().variable,
            TABLE
        );
        pairs.push((TABLE, "pitchside"));
        assert_eq!(
            Settings::from_lookup(env(&pairs)).unwrap_err().variable,
            QUEUE_URL
        );
        pairs.push((QUEUE_URL, "http://sqs/q"));
        let s = Settings::from_lookup(env(&pairs)).unwrap();
        assert_eq!(s.aws.unwrap().table, "pitchside");
        assert_eq!(s.retention.as_secs(), 7 * 24 * 3600);
        pairs.push((RETENTION_DAYS, "0"));
        assert_eq!(
            Settings::from_lookup(env(&pairs)).unwrap_err().variable,
            RETENTION_DAYS
        );
    }

    #[test]
    fn cors_origins_are_exact_origins() {
        let with = |v: &'static str| {
            let mut pairs = complete();
            pairs.push((CORS_ORIGINS, v));
            Settings::from_lookup(env(&pairs))
        };
        assert!(
            Settings::from_lookup(env(&complete()))
                .unwrap()
                .cors_origins
                .is_empty()
        );
        assert_eq!(
            with("https://club.example, http://localhost:3000")
                .unwrap()
                .cors_origins,
            ["https://club.example", "http://localhost:3000"]
        );
        for bad in [
            "*",
            "club.example",
            "https://club.example/",
            "https://a.example/app",
        ] {
            assert_eq!(with(bad).unwrap_err().variable, CORS_ORIGINS, "{bad}");
        }
    }

    #[test]
    fn stream_settings_have_bounds() {
        let s = Settings::from_lookup(env(&complete())).unwrap();
        assert_eq!(s.sse.heartbeat, Duration::from_secs(15));
        assert_eq!(s.sse.lifetime, Duration::from_secs(300));
        assert_eq!(s.sse.follow, SseFollow::Hub);
        assert_eq!(s.subscriber_buffer, 1024);
        assert!(s.metrics, "metrics are on by default");
        let cases = [
            (SSE_HEARTBEAT_SECONDS, "16"),
            (SSE_POLL_MS, "5"),
            (SSE_LIFETIME_SECONDS, "900"),
            (SSE_FOLLOW, "push"),
            (SSE_MAX_STREAMS_PER_USER, "0"),
            (SUBSCRIBER_BUFFER, "2"),
            (METRICS, "yes"),
        ];
        for (name, value) in cases {
            let mut pairs = complete();
            pairs.push((name, value));
            assert_eq!(
                Settings::from_lookup(env(&pairs)).unwrap_err().variable,
                name
            );
        }
    }

    #[test]
    fn demo_fills_only_what_is_unset() {
        let s =
            Settings::demo_from_lookup(env(&[(ADMIN_API_KEY, "an-operator-chosen-key")])).unwrap();
        assert_eq!(value(&s.admin_api_key), "an-operator-chosen-key");
        assert_eq!(
            value(&s.whatsapp_verify_token),
            "pitchside-demo-verify-token"
        );
        // A stored secret is not shadowed by a demo value.
        let arn = SecretName::WhatsAppAppSecret.arn_variable();
        let s = Settings::demo_from_lookup(env(&[(arn, "pitchside/app-secret")])).unwrap();
        assert_eq!(
            s.whatsapp_app_secret,
            Some(Provided::Stored("pitchside/app-secret".into()))
        );
    }

    fn value(p: &Option<Provided<Secret>>) -> &str {
        match p {
            Some(Provided::Value(s)) => s.expose(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_function_wants_only_its_secrets() {
        // The worker wants none: nothing secret is needed, or read when set.
        let s = Settings::wanting(env(&[]), &[]).unwrap();
        assert!(s.token_key.is_none() && s.admin_api_key.is_none());
        let s = Settings::wanting(env(&complete()), &[]).unwrap();
        assert!(s.whatsapp_app_secret.is_none());
        // The webhook wants Meta's two (and Stripe's, if set) and not the token key.
        let webhook = [
            SecretName::WhatsAppAppSecret,
            SecretName::WhatsAppVerifyToken,
            SecretName::StripeWebhookSecret,
        ];
        let err = Settings::wanting(env(&[(WHATSAPP_APP_SECRET, "x")]), &webhook).unwrap_err();
        assert_eq!(err.variable, WHATSAPP_VERIFY_TOKEN);
        assert!(
            err.problem.contains("PITCHSIDE_WHATSAPP_VERIFY_TOKEN_ARN"),
            "{err}"
        );
        let s = Settings::wanting(
            env(&[(WHATSAPP_APP_SECRET, "x"), (WHATSAPP_VERIFY_TOKEN, "y")]),
            &webhook,
        )
        .unwrap();
        assert!(s.token_key.is_none() && s.stripe_webhook_secret.is_none());
    }

    #[test]
    fn a_secret_may_be_named_in_the_store_instead() {
        let mut pairs: Vec<_> = complete()
            .into_iter()
            .filter(|(k, _)| *k != ADMIN_API_KEY && *k != JWT_SECRET)
            .collect();
        pairs.push((
            "PITCHSIDE_ADMIN_API_KEY_ARN",
            "arn:aws:secretsmanager:eu-west-2:1:secret:admin-Ab12Cd",
        ));
        pairs.push(("PITCHSIDE_JWT_SECRET_ARN", "pitchside/jwt"));
        let s = Settings::from_lookup(env(&pairs)).unwrap();
        assert_eq!(
            s.admin_api_key,
            Some(Provided::Stored(
                "arn:aws:secretsmanager:eu-west-2:1:secret:admin-Ab12Cd".into()
            ))
        );
        assert!(matches!(&s.token_key, Some(Provided::Stored(id)) if id == "pitchside/jwt"));
        assert_eq!(s.secrets_refresh, Duration::from_secs(300));
        // Both ways at once is a mistake, named.
        pairs.push((ADMIN_API_KEY, "an-operator-chosen-key"));
        let err = Settings::from_lookup(env(&pairs)).unwrap_err();
        assert_eq!(err.variable, ADMIN_API_KEY);
        // As is a stored HS256 secret beside a public key.
        let mut pairs = complete();
        pairs.retain(|(k, _)| *k != JWT_SECRET);
        pairs.push(("PITCHSIDE_JWT_SECRET_ARN", "pitchside/jwt"));
        pairs.push((JWT_PUBLIC_KEY, "-----BEGIN PUBLIC KEY-----"));
        assert_eq!(
            Settings::from_lookup(env(&pairs)).unwrap_err().variable,
            JWT_SECRET
        );
        let mut pairs = complete();
        pairs.push((SECRETS_REFRESH_SECONDS, "0"));
        assert_eq!(
            Settings::from_lookup(env(&pairs)).unwrap_err().variable,
            SECRETS_REFRESH_SECONDS
        );
    }

    #[test]
    fn the_rules_of_a_secret_hold_for_a_stored_value_too() {
        assert!(SecretName::JwtSecret.check("short").is_err());
        assert!(SecretName::JwtSecret.check(&"x".repeat(32)).is_ok());
        assert!(SecretName::AdminApiKey.check("tiny").is_err());
        assert!(SecretName::WhatsAppAppSecret.check("  ").is_err());
        assert!(SecretName::WhatsAppVerifyToken.check("t").is_ok());
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = Settings::from_lookup(env(&complete())).unwrap();
        let dbg = format!("{s:?}");
        for (_, v) in DEMO_VALUES {
            assert!(!dbg.contains(v), "{dbg}");
        }
    }
}
