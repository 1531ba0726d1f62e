//! What the webhook puts on the queue for the worker: the raw, already verified body,
//! kept byte for byte, with what it is and when it came.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkKind {
    #[serde(rename = "whatsapp.notification")]
    WhatsappNotification,
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
    body: String,
}

/// Why a queue message could not be read as work.
#[derive(Debug, thiserror::Error)]
pub enum WorkDecodeError {
    #[error("queue message is not work: {0}")]
    Json(#[from] serde_json::Error),
    #[error("queue message body is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
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
            body: B64.encode(body),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("work always serializes")
    }

    pub fn decode(bytes: &[u8]) -> Result<(QueuedWork, Vec<u8>), WorkDecodeError> {
        let work: QueuedWork = serde_json::from_slice(bytes)?;
        let body = B64.decode(&work.body)?;
        Ok((work, body))
    }
}

#[cfg(test)]
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
        assert_eq!(body, raw);
        assert!(QueuedWork::decode(b"nope").is_err());
    }
}
