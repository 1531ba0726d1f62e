//! The error every handler answers with, whatever carries it (the local gateway, an API
//! Gateway Lambda, the worker): a kind, a wire code and a message. The kind says what
//! the caller can do about it; the HTTP crate maps it to a status, the worker to retry or
//! dead-letter. The body is `{"success": false, "error": {"code", "message"}}`.

use crate::ports::{StoreError, error_chain};
use pitchside_domain::auth::AuthError;
use serde_json::json;

/// What kind of failure an `ApiError` is, for whoever carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed or breaks a rule of its own: fix it, do not retry.
    BadRequest,
    /// No valid credential (token, ticket, signature, API key).
    Unauthenticated,
    /// A valid caller without the right to this.
    Forbidden,
    NotFound,
    /// The request no longer fits the state it was made against (a stale bid or seq).
    Conflict,
    TooLarge,
    /// The caller holds as many of something as it may (streams): retry once one is
    /// freed.
    TooMany,
    /// Something downstream failed for now: retry later.
    Unavailable,
    /// Pitchside's own data or code is wrong: retrying will not help.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: String,
    /// Fields added to the error object (e.g. the `expectedSeq` of a 409), so a client
    /// can act without parsing the message.
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
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
        ApiError::new(ErrorKind::BadRequest, "bad_request", message)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            ErrorKind::NotFound,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Forbidden, "forbidden", message)
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
        ApiError::new(ErrorKind::Unauthenticated, "unauthorized", e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Conflict(m) => ApiError::new(ErrorKind::Conflict, "conflict", m),
            StoreError::Unavailable(_) => {
                // The detail goes to the log, not to the caller.
                tracing::error!(error = %error_chain(&e), "storage unavailable");
                ApiError::new(
                    ErrorKind::Unavailable,
                    "unavailable",
                    "storage is unavailable; retry later",
                )
            }
            StoreError::Corrupt(_) | StoreError::Invalid(_) => {
                tracing::error!(error = %e, "stored data cannot be used");
                ApiError::new(ErrorKind::Internal, "corrupt", "stored data cannot be read")
            }
        }
    }
}
