//! The secrets a process uses, as they are now: each is the value it was configured
//! with, or the stored secret's value, read at start and read again once it is older
//! than the refresh period (by the first request that finds it so, which waits for that
//! one read). A rotated secret therefore takes effect within one period, with no deploy.
//!
//! A read that fails, or answers a value that breaks the secret's rule, keeps the value
//! read before (and is logged, naming the secret, never its value): a store that is
//! briefly unreachable must not take the webhook or every sign-in down with it.

use crate::app::{ApiError, ErrorKind};
use crate::clock::Clock;
use crate::config::{self, ConfigError, Provided, Secret, SecretName, Settings};
use crate::ports::{SecretError, SecretStore, error_chain};
use chrono::{DateTime, Utc};
use pitchside_domain::auth::{TokenKey, TokenVerifier};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// After a failed read, how long before the store is asked again (at most the period).
const RETRY_AFTER: Duration = Duration::from_secs(30);

/// How long a read of the store that requests wait on may take.
const READ_TIMEOUT: Duration = Duration::from_secs(3);

type Parse<T> = Arc<dyn Fn(&str) -> Result<T, String> + Send + Sync>;

/// One secret, turned into what its users need (`T`: the secret, or the token keys).
pub struct Live<T> {
    name: SecretName,
    source: Source<T>,
}

enum Source<T> {
    Fixed(Arc<T>),
    Stored(Box<Stored<T>>),
}

struct Stored<T> {
    id: String,
    store: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    every: Duration,
    parse: Parse<T>,
    current: RwLock<(Arc<T>, DateTime<Utc>)>,
    /// Held while the store is read, so a stale secret costs one read, not one a request.
    reading: tokio::sync::Mutex<()>,
}

impl<T> Live<T> {
    /// A secret that never changes (a configured value).
    pub fn fixed(name: SecretName, value: T) -> Live<T> {
        Live {
            name,
            source: Source::Fixed(Arc::new(value)),
        }
    }

    /// Reads the stored secret `id` now; a secret that is missing, unreadable or breaks
    /// its rule is an error naming its variable and id (never the value).
    pub async fn stored(
        name: SecretName,
        id: &str,
        store: Arc<dyn SecretStore>,
        clock: Arc<dyn Clock>,
        every: Duration,
        parse: Parse<T>,
    ) -> Result<Live<T>, ConfigError> {
        let first = read(&*store, name, id, &parse)
            .await
            .map_err(|problem| ConfigError {
                variable: name.arn_variable(),
                problem: format!("secret {id}: {problem}"),
            })?;
        let next = clock.now() + every;
        Ok(Live {
            name,
            source: Source::Stored(Box::new(Stored {
                id: id.to_string(),
                store,
                clock,
                every,
                parse,
                current: RwLock::new((Arc::new(first), next)),
                reading: tokio::sync::Mutex::new(()),
            })),
        })
    }

    pub fn name(&self) -> SecretName {
        self.name
    }

    /// The value to use now, read again first if it is older than the period.
    pub async fn current(&self) -> Arc<T> {
        let s = match &self.source {
            Source::Fixed(v) => return v.clone(),
            Source::Stored(s) => s,
        };
        if let Some(fresh) = s.fresh() {
            return fresh;
        }
        let _reading = s.reading.lock().await;
        // Another request may have read it while this one waited.
        if let Some(fresh) = s.fresh() {
            return fresh;
        }
        let now = s.clock.now();
        // Requests wait on this read: a store that hangs costs them a bounded wait and
        // leaves the value read before in use.
        let got =
            match tokio::time::timeout(READ_TIMEOUT, read(&*s.store, self.name, &s.id, &s.parse))
                .await
            {
                Ok(got) => got,
                Err(_) => Err(format!("no answer within {} s", READ_TIMEOUT.as_secs())),
            };
        let mut current = s.current.write().unwrap_or_else(|p| p.into_inner());
        match got {
            Ok(value) => {
                *current = (Arc::new(value), now + s.every);
                tracing::debug!(secret = self.name.arn_variable(), "secret read again");
            }
            Err(problem) => {
                current.1 = now + s.every.min(RETRY_AFTER);
                tracing::warn!(
                    secret = self.name.arn_variable(),
                    id = %s.id,
                    problem = %problem,
                    "cannot read the secret again; keeping the value read before"
                );
            }
        }
        current.0.clone()
    }
}

impl<T> Stored<T> {
    /// The value, unless it is due to be read again.
    fn fresh(&self) -> Option<Arc<T>> {
        let (value, next) = &*self.current.read().unwrap_or_else(|p| p.into_inner());
        (self.clock.now() < *next).then(|| value.clone())
    }
}

/// One read of a stored secret, checked and parsed; the problem as text, for the
/// operator. A trailing newline (a value put from a file) is not part of the secret.
async fn read<T>(
    store: &dyn SecretStore,
    name: SecretName,
    id: &str,
    parse: &Parse<T>,
) -> Result<T, String> {
    let raw = store.read(id).await.map_err(|e| match e {
        SecretError::Unreadable(_) => error_chain(&e),
        other => other.to_string(),
    })?;
    let value = raw
        .strip_suffix("\r\n")
        .or_else(|| raw.strip_suffix('\n'))
        .unwrap_or(&raw);
    name.check(value)?;
    parse(value)
}

/// The token key and its verifier, built once for each value read.
pub struct TokenKeys {
    pub key: TokenKey,
    pub verifier: TokenVerifier,
}

/// The secrets of one process: those it wanted and was given (see
/// `Settings::wanting`); `None` for the others.
pub struct Keys {
    pub tokens: Option<Arc<Live<TokenKeys>>>,
    pub whatsapp_app_secret: Option<Live<Secret>>,
    pub whatsapp_verify_token: Option<Live<Secret>>,
    pub stripe_webhook_secret: Option<Live<Secret>>,
    pub admin_api_key: Option<Live<Secret>>,
}

impl Keys {
    /// The secret as it is now; a 503 `not_configured` where this process was not
    /// given it (a route served by a function that does not want it).
    pub async fn current(
        live: &Option<Live<Secret>>,
        name: SecretName,
    ) -> Result<Arc<Secret>, ApiError> {
        match live {
            Some(live) => Ok(live.current().await),
            None => Err(ApiError::new(
                ErrorKind::Unavailable,
                "not_configured",
                format!("{} is not set", name.variable()),
            )),
        }
    }

    /// Reads every stored secret of `settings` from `store` (`None` when none is
    /// stored: a caller builds a store only if `settings.stores_secrets()`).
    pub async fn load(
        settings: &Settings,
        store: Option<Arc<dyn SecretStore>>,
        clock: Arc<dyn Clock>,
    ) -> Result<Keys, ConfigError> {
        let every = settings.secrets_refresh;
        let need_store = |name: SecretName| {
            store.clone().ok_or_else(|| ConfigError {
                variable: name.arn_variable(),
                problem: "names a stored secret, but no secret store is configured".into(),
            })
        };
        let secret = |name: SecretName, p: &Option<Provided<Secret>>| {
            let p = p.clone();
            let clock = clock.clone();
            async move {
                Ok::<_, ConfigError>(match p {
                    None => None,
                    Some(Provided::Value(v)) => Some(Live::fixed(name, v)),
                    Some(Provided::Stored(id)) => {
                        let parse: Parse<Secret> = Arc::new(|v: &str| Ok(Secret::new(v)));
                        Some(Live::stored(name, &id, need_store(name)?, clock, every, parse).await?)
                    }
                })
            }
        };
        let (issuer, audience) = (settings.jwt_issuer.clone(), settings.jwt_audience.clone());
        let verifier = move |key: TokenKey| {
            let verifier = TokenVerifier::new(&key, issuer.as_deref(), audience.as_deref())
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(TokenKeys { key, verifier })
        };
        let jwt = SecretName::JwtSecret;
        let tokens = match &settings.token_key {
            None => None,
            Some(Provided::Value(key)) => {
                let v = verifier(key.clone()).map_err(|problem| ConfigError {
                    variable: config::JWT_PUBLIC_KEY,
                    problem,
                })?;
                Some(Live::fixed(jwt, v))
            }
            Some(Provided::Stored(id)) => {
                let parse: Parse<TokenKeys> = Arc::new(move |v: &str| verifier(config::hs256(v)?));
                Some(Live::stored(jwt, id, need_store(jwt)?, clock.clone(), every, parse).await?)
            }
        };
        Ok(Keys {
            tokens: tokens.map(Arc::new),
            whatsapp_app_secret: secret(
                SecretName::WhatsAppAppSecret,
                &settings.whatsapp_app_secret,
            )
            .await?,
            whatsapp_verify_token: secret(
                SecretName::WhatsAppVerifyToken,
                &settings.whatsapp_verify_token,
            )
            .await?,
            stripe_webhook_secret: secret(
                SecretName::StripeWebhookSecret,
                &settings.stripe_webhook_secret,
            )
            .await?,
            admin_api_key: secret(SecretName::AdminApiKey, &settings.admin_api_key).await?,
        })
    }
}
