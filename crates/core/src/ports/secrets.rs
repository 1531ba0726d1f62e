//! The secret store port: where a function reads a secret's current value at run time
//! (Secrets Manager on AWS), so a rotated secret takes effect without a deploy.

use super::BoxError;
use async_trait::async_trait;

/// Why a secret could not be read. Never carries the value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no such secret")]
    NotFound,
    /// A binary secret: Pitchside's secrets are strings.
    #[error("the secret has no string value (it is binary)")]
    NotText,
    /// Denied, throttled, unreachable: the cause says which.
    #[error("the secret cannot be read")]
    Unreadable(#[source] BoxError),
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The current value of the secret `id` (a name or an ARN).
    async fn read(&self, id: &str) -> Result<String, SecretError>;
}
