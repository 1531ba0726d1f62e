//! `X-Hub-Signature-256`: Meta's HMAC-SHA256 over the raw body with the app secret.

use hmac::{Hmac, Mac};
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
}
