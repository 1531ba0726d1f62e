//! Meta's WhatsApp Cloud API webhooks: the signature over the raw body, and the
//! notification payload as typed values.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a webhook's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not of the form sha256=<64 hex digits>")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` against the HMAC-SHA256 of the raw body
/// bytes (never a re-serialization), comparing in constant time.
pub fn verify_signature(
    app_secret: &[u8],
    header: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let hex_sig = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    if hex_sig.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let sig = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?;
    let mut mac = HmacSha256::new_from_slice(app_secret).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&sig).map_err(|_| SignatureError::Mismatch)
}

/// The header value Meta would send for `body`; used by the simulator.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(app_secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A webhook notification: `{"object": "whatsapp_business_account", "entry": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The WhatsApp Business Account id.
    pub id: String,
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub value: ChangeValue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeValue {
    #[serde(default)]
    pub messaging_product: Option<String>,
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub messages: Vec<InboundMessage>,
    /// Delivery and read receipts; typed by the webhooks-in work.
    #[serde(default)]
    pub statuses: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub display_phone_number: Option<String>,
    pub phone_number_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub wa_id: String,
    #[serde(default)]
    pub profile: Option<Profile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub name: Option<String>,
}

/// One inbound message. Only text is interpreted yet; every other kind is kept whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// The `wamid`: unique per message, the key that makes processing idempotent.
    pub id: String,
    pub from: String,
    /// Seconds since the epoch, as a decimal string.
    pub timestamp: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Text {
    pub body: String,
}

/// Why a correctly signed body could not be read as a notification.
#[derive(Debug, thiserror::Error)]
#[error("not a WhatsApp notification: {0}")]
pub struct PayloadError(#[from] serde_json::Error);

pub fn parse_notification(body: &[u8]) -> Result<Notification, PayloadError> {
    Ok(serde_json::from_slice(body)?)
}

impl ChangeValue {
    /// The sender's profile name, from the `contacts` block Meta sends with messages.
    pub fn profile_name(&self, wa_id: &str) -> Option<&str> {
        self.contacts
            .iter()
            .find(|c| c.wa_id == wa_id)
            .and_then(|c| c.profile.as_ref())
            .and_then(|p| p.name.as_deref())
    }
}

/// A notification carrying one text message, in the shape Meta sends; the simulator
/// posts it.
pub fn text_notification(
    phone_number_id: &str,
    from: &str,
    profile_name: &str,
    message_id: &str,
    unix_seconds: i64,
    body: &str,
) -> serde_json::Value {
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "0",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": "15550000000", "phone_number_id": phone_number_id },
                    "contacts": [{ "profile": { "name": profile_name }, "wa_id": from }],
                    "messages": [{
                        "from": from,
                        "id": message_id,
                        "timestamp": unix_seconds.to_string(),
                        "type": "text",
                        "text": { "body": body }
                    }]
                }
            }]
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"app-secret";

    #[test]
    fn a_correct_signature_verifies() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let header = sign(SECRET, body);
        assert!(verify_signature(SECRET, Some(&header), body).is_ok());
    }

    #[test]
    fn known_vector() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog")
        assert_eq!(
            sign(b"key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn refuses_missing_malformed_and_wrong_signatures() {
        let body = b"{}";
        assert_eq!(
            verify_signature(SECRET, None, body),
            Err(SignatureError::Missing)
        );
        for bad in [
            "",
            "sha1=abcd",
            "sha256=xyz",
            "sha256=abcd",
            &format!("sha256={}", "g".repeat(64)),
        ] {
            assert_eq!(
                verify_signature(SECRET, Some(bad), body),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        let other = sign(b"other-secret", body);
        assert_eq!(
            verify_signature(SECRET, Some(&other), body),
            Err(SignatureError::Mismatch)
        );
        // The raw bytes count: the same JSON with other spacing does not verify.
        let header = sign(SECRET, br#"{"a":1}"#);
        assert_eq!(
            verify_signature(SECRET, Some(&header), br#"{"a": 1}"#),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn parses_a_text_notification() {
        let v = text_notification(
            "1234",
            "919876543210",
            "Ravi",
            "wamid.X",
            1_700_000_000,
            "yes",
        );
        let n = parse_notification(&serde_json::to_vec(&v).unwrap()).unwrap();
        let value = &n.entry[0].changes[0].value;
        assert_eq!(value.metadata.as_ref().unwrap().phone_number_id, "1234");
        let m = &value.messages[0];
        assert_eq!(
            (m.kind.as_str(), m.text.as_ref().unwrap().body.as_str()),
            ("text", "yes")
        );
        assert_eq!(value.profile_name("919876543210"), Some("Ravi"));
    }

    #[test]
    fn other_message_kinds_are_kept_not_refused() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"from":"9","id":"w1","timestamp":"1","type":"image","image":{"id":"media1"}}]}}]}]}"#;
        let n = parse_notification(body).unwrap();
        assert_eq!(n.entry[0].changes[0].value.messages[0].kind, "image");
        assert!(parse_notification(b"[1,2]").is_err());
    }
}
