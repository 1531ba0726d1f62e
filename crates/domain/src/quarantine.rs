//! The quarantine: signed webhooks that cannot be processed and that retrying would not
//! fix (a business number no organization has, a payment for an unknown organization, a
//! payload that cannot be read). They are answered 200, so the sender stops retrying,
//! and kept here with the reason, for an operator to look at and replay once the cause
//! is fixed (the number mapped, the organization created).

use super::work::WorkKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No organization has the WhatsApp business number.
    UnknownNumber,
    /// A payment names no organization, or one that does not exist.
    UnknownOrganization,
    /// Signed, but not readable as what it claims to be.
    Malformed,
}

/// A quarantined payload, without its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: String,
    pub kind: WorkKind,
    pub reason: Reason,
    /// What exactly is wrong, for a person.
    pub detail: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// How many times it was quarantined (a replay that fails again counts).
    pub times: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed_at: Option<DateTime<Utc>>,
    pub bytes: usize,
}

/// The entry after quarantining a payload (again): a new one, or the one held with the
/// newest reason and one more time.
pub fn record(
    current: Option<Entry>,
    id: &str,
    kind: WorkKind,
    reason: Reason,
    detail: &str,
    bytes: usize,
    now: DateTime<Utc>,
) -> Entry {
    match current {
        Some(e) => Entry {
            reason,
            detail: detail.to_string(),
            last_seen: now,
            times: e.times + 1,
            ..e
        },
        None => Entry {
            id: id.to_string(),
            kind,
            reason,
            detail: detail.to_string(),
            first_seen: now,
            last_seen: now,
            times: 1,
            replayed_at: None,
            bytes,
        },
    }
}

/// The same payload is one entry, however often it arrives: the id is a digest of what
/// it is and its bytes.
pub fn entry_id(kind: WorkKind, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_str().as_bytes());
    h.update([0]);
    h.update(body);
    format!("q_{}", hex::encode(&h.finalize()[..12]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_depend_on_kind_and_bytes() {
        let a = entry_id(WorkKind::WhatsappNotification, b"x");
        assert_eq!(a, entry_id(WorkKind::WhatsappNotification, b"x"));
        assert_ne!(a, entry_id(WorkKind::WhatsappNotification, b"y"));
        assert_ne!(a, entry_id(WorkKind::StripeEvent, b"x"));
        assert!(crate::ids::check_id("id", &a).is_ok());
    }
}
