//! Secrets Manager as the secret store: `GetSecretValue` of the current version
//! (`AWSCURRENT`), so a rotation is seen at the next read.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use pitchside_core::ports::{SecretError, SecretStore};

pub struct SecretsManager {
    client: Client,
}

impl SecretsManager {
    pub fn new(client: Client) -> SecretsManager {
        SecretsManager { client }
    }
}

#[async_trait]
impl SecretStore for SecretsManager {
    async fn read(&self, id: &str) -> Result<String, SecretError> {
        match self.client.get_secret_value().secret_id(id).send().await {
            Ok(out) => out.secret_string.ok_or(SecretError::NotText),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_not_found_exception()) =>
            {
                Err(SecretError::NotFound)
            }
            // The SDK's error with its whole context (the service's code and message,
            // or the connection's cause); it never holds the value.
            Err(e) => Err(SecretError::Unreadable(
                DisplayErrorContext(e).to_string().into(),
            )),
        }
    }
}
