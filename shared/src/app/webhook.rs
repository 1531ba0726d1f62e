//! The WhatsApp webhook: Meta's verification handshake, and the POST that is answered
//! 200 only once its payload is durably queued.

use super::ApiError;
use crate::domain::whatsapp::{SignatureError, verify_signature};
use crate::domain::work::{QueuedWork, WorkKind};
use crate::ports::Queue;
use chrono::Utc;
use subtle::ConstantTimeEq;

/// The largest body accepted. Meta batches at most 3 MB.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Meta's `GET` handshake: the challenge when the mode and the verify token match.
pub fn verify_handshake(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    configured_token: &str,
) -> Result<String, ApiError> {
    let token_ok =
        token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(configured_token.as_bytes())));
    match (mode, challenge) {
        (Some("subscribe"), Some(c)) if token_ok => Ok(c.to_string()),
        _ => Err(ApiError::new(
            403,
            "forbidden",
            "verification failed: hub.mode must be subscribe with the configured hub.verify_token",
        )),
    }
}

/// Verifies the signature over the raw body and queues it. An error means nothing was
/// queued.
pub async fn accept(
    queue: &dyn Queue,
    app_secret: &[u8],
    signature: Option<&str>,
    body: &[u8],
    request_id: Option<&str>,
) -> Result<String, ApiError> {
    verify_signature(app_secret, signature, body).map_err(|e| {
        let code = match e {
            SignatureError::Missing | SignatureError::Malformed | SignatureError::Mismatch => {
                "bad_signature"
            }
        };
        ApiError::new(401, code, e.to_string())
    })?;
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            413,
            "too_large",
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        ));
    }
    let work = QueuedWork::new(
        WorkKind::WhatsappNotification,
        Utc::now(),
        request_id.map(str::to_string),
        body,
    );
    Ok(queue.send(&work.to_bytes()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_needs_mode_token_and_challenge() {
        assert_eq!(
            verify_handshake(Some("subscribe"), Some("tok"), Some("123"), "tok").unwrap(),
            "123"
        );
        for (m, t, c) in [
            (Some("unsubscribe"), Some("tok"), Some("1")),
            (Some("subscribe"), Some("nope"), Some("1")),
            (Some("subscribe"), None, Some("1")),
            (Some("subscribe"), Some("tok"), None),
            (None, Some("tok"), Some("1")),
        ] {
            assert_eq!(verify_handshake(m, t, c, "tok").unwrap_err().status, 403);
        }
    }
}
