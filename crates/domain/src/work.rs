//! What the webhook puts on the queue for the worker: the raw, already verified body,
//! kept byte for byte, with what it is and when it came.
//!
//! A body too large for one queue message (SQS takes 256 KiB; Meta sends up to 3 MB) is
//! stored aside first, and the message carries its key instead.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkKind {
    #[serde(rename = "whatsapp.notification")]
    WhatsappNotification,
    #[serde(rename = "stripe.event")]
    StripeEvent,
    /// An auction lot's timer (`app::auction::Timer`), delayed until the lot ends.
    #[serde(rename = "auction.timer")]
    AuctionTimer,
}

impl WorkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WhatsappNotification => "whatsapp.notification",
            Self::StripeEvent => "stripe.event",
            Self::AuctionTimer => "auction.timer",
        }
    }
}

/// The largest body carried in the queue message itself. Base64 makes it 4/3 larger,
/// and the message must stay under SQS's 256 KiB with its envelope.
pub const INLINE_BODY_BYTES: usize = 160 * 1024;

/// Where the body is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Inline(Vec<u8>),
    /// In the blob store, under this key.
    Aside(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedWork {
    pub kind: WorkKind,
    pub received_at: DateTime<Utc>,
    /// The id of the request that queued it, so the worker's log lines join the
    /// webhook's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The raw body in base64, so that no byte is changed on the way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    /// Or the key of the body in the blob store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blob: Option<String>,
}

/// Why a queue message could not be read as work.
#[derive(Debug, thiserror::Error)]
pub enum WorkDecodeError {
    #[error("queue message is not work")]
    Json(#[from] serde_json::Error),
    #[error("queue message body is not base64")]
    Base64(#[from] base64::DecodeError),
    #[error("queue message has neither a body nor a blob key")]
    NoBody,
}

impl QueuedWork {
    pub fn new(
        kind: WorkKind,
        received_at: DateTime<Utc>,
        request_id: Option<String>,
        body: &[u8],
    ) -> QueuedWork {
        QueuedWork {
            kind,
            received_at,
            request_id,
            body: Some(B64.encode(body)),
            blob: None,
        }
    }

    /// Work whose body was stored aside under `blob`.
    pub fn aside(
        kind: WorkKind,
        received_at: DateTime<Utc>,
        request_id: Option<String>,
        blob: String,
    ) -> QueuedWork {
        QueuedWork {
            kind,
            received_at,
            request_id,
            body: None,
            blob: Some(blob),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("work always serializes")
    }

    pub fn decode(bytes: &[u8]) -> Result<(QueuedWork, Body), WorkDecodeError> {
        let work: QueuedWork = serde_json::from_slice(bytes)?;
        let body = match (&work.body, &work.blob) {
            (Some(b64), _) => Body::Inline(B64.decode(b64)?),
            (None, Some(key)) => Body::Aside(key.clone()),
            (None, None) => return Err(WorkDecodeError::NoBody),
        };
        Ok((work, body))
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may take any time, the real one included
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_byte() {
        let raw = b"{\"a\": 1}\xff\x00 ";
        let w = QueuedWork::new(
            WorkKind::WhatsappNotification,
            Utc::now(),
            Some("r1".into()),
            raw,
        );
        let (back, body) = QueuedWork::decode(&w.to_bytes()).unwrap();
        assert_eq!(back, w);
        assert_eq!(body, Body::Inline(raw.to_vec()));
        assert!(QueuedWork::decode(b"nope").is_err());
        let aside = QueuedWork::aside(WorkKind::StripeEvent, Utc::now(), None, "b_1".into());
        let (_, body) = QueuedWork::decode(&aside.to_bytes()).unwrap();
        assert_eq!(body, Body::Aside("b_1".into()));
        assert!(matches!(
            QueuedWork::decode(br#"{"kind":"stripe.event","receivedAt":"2026-01-01T00:00:00Z"}"#),
            Err(WorkDecodeError::NoBody)
        ));
    }
}
