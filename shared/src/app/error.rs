//! The error every handler answers with, whatever carries it (the local gateway, an API
//! Gateway Lambda): `{"success": false, "error": {"code", "message"}}` with a status.

use crate::domain::auth::AuthError;
use crate::ports::StoreError;
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Fields added to the error object (e.g. the `expectedSeq` of a 409), so a client
    /// can act without parsing the message.
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    /// Adds a field to the error object.
    pub fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> ApiError {
        self.details
            .get_or_insert_with(Default::default)
            .insert(name.to_string(), value.into());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "bad_request", message)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(404, "not_found", format!("{what} not found"))
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(403, "forbidden", message)
    }

    pub fn body(&self) -> serde_json::Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(d) = &self.details {
            error.as_object_mut().expect("an object").extend(d.clone());
        }
        json!({"success": false, "error": error})
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        ApiError::new(401, "unauthorized", e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Conflict(m) => ApiError::new(409, "conflict", m),
            StoreError::Unavailable(m) => {
                // The detail goes to the log, not to the caller.
                tracing::error!(error = %m, "storage unavailable");
                ApiError::new(503, "unavailable", "storage is unavailable; retry later")
            }
        }
    }
}
