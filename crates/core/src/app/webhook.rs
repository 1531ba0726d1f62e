//! The WhatsApp webhook: Meta's verification handshake, and the POST that is answered
//! 200 only once its payload is durably queued.

use super::ApiError;
use super::ErrorKind;
use crate::metrics::{self, Source};
use crate::ports::Ports;
use pitchside_domain::stripe;
use pitchside_domain::whatsapp::{SignatureError, verify_signature};
use pitchside_domain::work::{INLINE_BODY_BYTES, QueuedWork, WorkKind};
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
            ErrorKind::Forbidden,
            "forbidden",
            "verification failed: hub.mode must be subscribe with the configured hub.verify_token",
        )),
    }
}

/// How long a body stored aside is kept: longer than SQS keeps a message (14 days).
const ASIDE_DAYS: i64 = 15;

/// Queues a verified body for the worker, storing it aside first when it is too large
/// for one queue message. Answers the queue's message id once the work is durable.
pub async fn enqueue(
    ports: &Ports,
    kind: WorkKind,
    body: &[u8],
    request_id: Option<&str>,
) -> Result<String, ApiError> {
    let now = ports.clock.now();
    let request_id = request_id.map(str::to_string);
    let work = if body.len() <= INLINE_BODY_BYTES {
        QueuedWork::new(kind, now, request_id, body)
    } else {
        let key = format!("work/{}", hex::encode(rand::random::<[u8; 16]>()));
        ports
            .blobs
            .put_blob(&key, body, now + chrono::Duration::days(ASIDE_DAYS))
            .await?;
        tracing::info!(blob = %key, bytes = body.len(), "body stored aside");
        QueuedWork::aside(kind, now, request_id, key)
    };
    Ok(ports.queue.send(&work.to_bytes()).await?)
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorKind::TooLarge,
        "too_large",
        format!("the body is larger than {limit} bytes"),
    )
}

/// Verifies Meta's signature over the raw body and queues it. An error means nothing
/// was queued.
pub async fn accept(
    ports: &Ports,
    app_secret: &[u8],
    signature: Option<&str>,
    body: &[u8],
    request_id: Option<&str>,
) -> Result<String, ApiError> {
    counted(ports, Source::Whatsapp, async {
        verify_whatsapp(app_secret, signature, body)?;
        enqueue(ports, WorkKind::WhatsappNotification, body, request_id).await
    })
    .await
}

/// Counts a webhook and its answer.
async fn counted(
    ports: &Ports,
    source: Source,
    answer: impl Future<Output = Result<String, ApiError>>,
) -> Result<String, ApiError> {
    metrics::webhook_received(source);
    let started = ports.clock.now();
    let answer = answer.await;
    metrics::webhook_answered(
        source,
        match &answer {
            Ok(_) => Ok(metrics::between(started, ports.clock.now())),
            Err(e) => Err(e.code),
        },
    );
    answer
}

fn verify_whatsapp(
    app_secret: &[u8],
    signature: Option<&str>,
    body: &[u8],
) -> Result<(), ApiError> {
    verify_signature(app_secret, signature, body).map_err(|e| {
        let code = match e {
            SignatureError::Missing | SignatureError::Malformed | SignatureError::Mismatch => {
                "bad_signature"
            }
        };
        ApiError::new(ErrorKind::Unauthenticated, code, e.to_string())
    })?;
    if body.len() > MAX_BODY_BYTES {
        return Err(too_large(MAX_BODY_BYTES));
    }
    Ok(())
}

/// The largest payment webhook accepted; Stripe's events are a few kilobytes.
pub const MAX_PAYMENT_BODY_BYTES: usize = 512 * 1024;

/// Verifies Stripe's signature (with its replay tolerance) and queues the event. With
/// no signing secret configured, payments are refused rather than trusted.
pub async fn accept_payment(
    ports: &Ports,
    secret: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    request_id: Option<&str>,
) -> Result<String, ApiError> {
    counted(ports, Source::Stripe, async {
        verify_payment(ports, secret, signature, body)?;
        enqueue(ports, WorkKind::StripeEvent, body, request_id).await
    })
    .await
}

fn verify_payment(
    ports: &Ports,
    secret: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Result<(), ApiError> {
    let Some(secret) = secret else {
        return Err(ApiError::new(
            ErrorKind::Unavailable,
            "not_configured",
            "payments are not configured: PITCHSIDE_STRIPE_WEBHOOK_SECRET is not set",
        ));
    };
    stripe::verify(secret.as_bytes(), signature, body, ports.clock.now())
        .map_err(|e| ApiError::new(ErrorKind::Unauthenticated, "bad_signature", e.to_string()))?;
    if body.len() > MAX_PAYMENT_BODY_BYTES {
        return Err(too_large(MAX_PAYMENT_BODY_BYTES));
    }
    Ok(())
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
            assert_eq!(
                verify_handshake(m, t, c, "tok").unwrap_err().kind,
                ErrorKind::Forbidden
            );
        }
    }
}
