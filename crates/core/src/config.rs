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

/// Where the AWS backend's resources are (`PITCHSIDE_BACKEND=aws`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    pub table: String,
    pub queue_url: String,
    pub dead_letter_queue_url: Option<String>,
    /// The WebSocket management endpoint (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`).
    /// The local gateway defaults it to itself.
    pub ws_endpoint: Option<String>,
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
    pub token_key: TokenKey,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub whatsapp_app_secret: Secret,
    pub whatsapp_verify_token: Secret,
    pub stripe_webhook_secret: Option<Secret>,
    pub admin_api_key: Secret,
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
    /// empty are the same).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let required = |k: &'static str| get(k).ok_or_else(|| bad(k, "is required but not set"));

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
        let token_key = match (get(JWT_SECRET), get(JWT_PUBLIC_KEY)) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    JWT_SECRET,
                    format!(
                        "set either it or {JWT_PUBLIC_KEY}, not both: the algorithm is pinned by which one is set"
                    ),
                ));
            }
            (None, None) => {
                return Err(bad(
                    JWT_SECRET,
                    format!("is required (or {JWT_PUBLIC_KEY} for RS256/ES256)"),
                ));
            }
            (Some(secret), None) => TokenKey::hs256(secret.into_bytes()).map_err(|e| match e {
                KeyError::SecretTooShort => bad(JWT_SECRET, "must be at least 32 bytes"),
                KeyError::UnrecognisedPem => bad(JWT_SECRET, e.to_string()),
            })?,
            (None, Some(pem)) => {
                // Operators often pass PEM through one-line parameters with literal \n.
                let pem = pem.replace("\\n", "\n");
                TokenKey::from_public_pem(&pem).map_err(|e| bad(JWT_PUBLIC_KEY, e.to_string()))?
            }
        };
        let admin_api_key = required(ADMIN_API_KEY)?;
        if admin_api_key.len() < MIN_ADMIN_KEY {
            return Err(bad(
                ADMIN_API_KEY,
                format!("must be at least {MIN_ADMIN_KEY} characters"),
            ));
        }
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
            }),
        };
        Ok(Settings {
            addr,
            data_dir,
            backend,
            token_key,
            jwt_issuer: get(JWT_ISSUER),
            jwt_audience: get(JWT_AUDIENCE),
            whatsapp_app_secret: Secret::new(required(WHATSAPP_APP_SECRET)?),
            whatsapp_verify_token: Secret::new(required(WHATSAPP_VERIFY_TOKEN)?),
            stripe_webhook_secret: get(STRIPE_WEBHOOK_SECRET).map(Secret::new),
            admin_api_key: Secret::new(admin_api_key),
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
        })
    }

    /// As `from_lookup`, with the development values filling what is unset.
    pub fn demo_from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        Settings::from_lookup(|k| {
            get(k).filter(|v| !v.trim().is_empty()).or_else(|| {
                // A configured public key replaces the demo secret rather than clashing.
                if k == JWT_SECRET && get(JWT_PUBLIC_KEY).is_some() {
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
        let s = Settings::from_lookup(env(&pairs)).unwrap();
        assert_eq!(s.token_key.algorithm(), jsonwebtoken::Algorithm::ES256);
        // And --demo does not add its secret next to it.
        let s = Settings::demo_from_lookup(env(&[(JWT_PUBLIC_KEY, &pem)])).unwrap();
        assert_eq!(s.token_key.algorithm(), jsonwebtoken::Algorithm::ES256);
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
        let cases = [
            (SSE_HEARTBEAT_SECONDS, "16"),
            (SSE_POLL_MS, "5"),
            (SSE_LIFETIME_SECONDS, "900"),
            (SSE_FOLLOW, "push"),
            (SSE_MAX_STREAMS_PER_USER, "0"),
            (SUBSCRIBER_BUFFER, "2"),
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
        assert_eq!(s.admin_api_key.expose(), "an-operator-chosen-key");
        assert_eq!(
            s.whatsapp_verify_token.expose(),
            "pitchside-demo-verify-token"
        );
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
