//! Stripe's webhooks: the `Stripe-Signature` scheme, and what a paid checkout or
//! payment intent becomes (`payment.confirmed`).
//!
//! The signature is HMAC-SHA256 of `"{t}.{raw body}"` with the endpoint's signing
//! secret; the header may carry several `v1` signatures (while a secret is rolled), and
//! any one matching is enough. A timestamp more than the tolerance away from now is
//! refused, so a captured request cannot be replayed later.

use super::event::{EventType, NewEvent, format_timestamp};
use super::ids::OrganizationId;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a signature's timestamp may be from now.
pub const TOLERANCE_SECONDS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripeSignatureError {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header has no timestamp (t=) or no v1 signature")]
    Malformed,
    #[error("the signature's timestamp is more than {TOLERANCE_SECONDS} seconds from now")]
    OutsideTolerance,
    #[error("no v1 signature matches the body")]
    Mismatch,
}

/// Checks `Stripe-Signature: t=…,v1=…[,v1=…]` over the raw body, in constant time.
pub fn verify(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), StripeSignatureError> {
    let header = header.ok_or(StripeSignatureError::Missing)?;
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => {
                if let Ok(bytes) = hex::decode(v) {
                    sigs.push(bytes);
                }
            }
            _ => {}
        }
    }
    let t = t.ok_or(StripeSignatureError::Malformed)?;
    if sigs.is_empty() {
        return Err(StripeSignatureError::Malformed);
    }
    if (now.timestamp() - t).abs() > TOLERANCE_SECONDS {
        return Err(StripeSignatureError::OutsideTolerance);
    }
    let mac = signed_payload(secret, t, body);
    if sigs.iter().any(|s| mac.clone().verify_slice(s).is_ok()) {
        Ok(())
    } else {
        Err(StripeSignatureError::Mismatch)
    }
}

fn signed_payload(secret: &[u8], t: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header Stripe would send for `body` at `t`; used by the simulator and tests.
pub fn sign(secret: &[u8], body: &[u8], t: i64) -> String {
    let sig = signed_payload(secret, t, body).finalize().into_bytes();
    format!("t={t},v1={}", hex::encode(sig))
}

/// The event types that confirm a payment.
pub const CONFIRMING_TYPES: [&str; 2] = ["checkout.session.completed", "payment_intent.succeeded"];

/// What a Stripe event means for Pitchside.
#[derive(Debug, Clone, PartialEq)]
pub enum StripeEvent {
    /// A payment was confirmed; the organization is still to be checked in the store.
    Confirmed(Payment),
    /// A confirming type without a usable `metadata.organizationId`.
    NoOrganization { event_id: String, reason: String },
    /// Any other type: acknowledged, nothing to do.
    Ignored { event_id: String, kind: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub event_id: String,
    pub kind: String,
    pub organization: OrganizationId,
    /// The payment intent, when the object names one: a checkout session and its
    /// payment intent are the same payment, so they share a dedup key.
    pub payment_intent: Option<String>,
    pub object_id: String,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub email: Option<String>,
    pub metadata: Value,
    pub created: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Stripe event: {0}")]
pub struct StripeEventError(pub String);

/// Reads a Stripe event (`{id, type, created, data: {object}}`).
pub fn parse_event(body: &[u8]) -> Result<StripeEvent, StripeEventError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| StripeEventError(e.to_string()))?;
    let event_id = v
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| StripeEventError("`id` is missing".into()))?
        .to_string();
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| StripeEventError("`type` is missing".into()))?
        .to_string();
    if !CONFIRMING_TYPES.contains(&kind.as_str()) {
        return Ok(StripeEvent::Ignored { event_id, kind });
    }
    let object = v
        .pointer("/data/object")
        .and_then(Value::as_object)
        .ok_or_else(|| StripeEventError("`data.object` is missing".into()))?;
    let metadata = object.get("metadata").cloned().unwrap_or(Value::Null);
    let organization = match metadata.get("organizationId").and_then(Value::as_str) {
        None => {
            return Ok(StripeEvent::NoOrganization {
                event_id,
                reason: "metadata.organizationId is missing".into(),
            });
        }
        Some(raw) => match OrganizationId::new(raw) {
            Ok(org) => org,
            Err(e) => {
                return Ok(StripeEvent::NoOrganization {
                    event_id,
                    reason: e.to_string(),
                });
            }
        },
    };
    let str_field = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_string);
    let object_id = str_field("id").unwrap_or_default();
    let payment_intent = if kind == "payment_intent.succeeded" {
        Some(object_id.clone())
    } else {
        str_field("payment_intent")
    };
    Ok(StripeEvent::Confirmed(Payment {
        event_id,
        organization,
        payment_intent,
        object_id,
        amount: object
            .get("amount_total")
            .or_else(|| object.get("amount_received"))
            .or_else(|| object.get("amount"))
            .and_then(Value::as_i64),
        currency: str_field("currency"),
        email: object
            .get("customer_details")
            .and_then(|d| d.get("email"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| str_field("receipt_email")),
        metadata,
        created: v
            .get("created")
            .and_then(Value::as_i64)
            .and_then(|s| DateTime::from_timestamp(s, 0)),
        kind,
    }))
}

/// `payment.confirmed`: `{paymentId, stripeEventId, source, amount, currency, email,
/// metadata, confirmedAt}`. Keyed on the payment intent when there is one, so a
/// platform subscribed to both confirming types still gets one event per payment.
pub fn payment_confirmed(p: &Payment, now: DateTime<Utc>) -> NewEvent {
    let payment_id = p.payment_intent.as_deref().unwrap_or(&p.object_id);
    NewEvent {
        kind: EventType::PaymentConfirmed,
        payload: serde_json::json!({
            "paymentId": payment_id,
            "stripeEventId": p.event_id,
            "source": p.kind,
            "amount": p.amount,
            "currency": p.currency,
            "email": p.email,
            "metadata": p.metadata,
            "confirmedAt": format_timestamp(&p.created.unwrap_or(now)),
        }),
        timestamp: now,
        dedup_key: Some(match &p.payment_intent {
            Some(pi) => format!("stripe:pi:{pi}"),
            None => format!("stripe:evt:{}", p.event_id),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may take any time, the real one included
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";

    #[test]
    fn signatures_verify_within_tolerance_only() {
        let body = br#"{"id":"evt_1"}"#;
        let now = Utc::now();
        let t = now.timestamp();
        let header = sign(SECRET, body, t);
        assert_eq!(verify(SECRET, Some(&header), body, now), Ok(()));
        // A rolled secret: any v1 may match.
        let two = format!("{},v1={}", header, "00".repeat(32));
        assert_eq!(verify(SECRET, Some(&two), body, now), Ok(()));
        let old = sign(SECRET, body, t - TOLERANCE_SECONDS - 1);
        assert_eq!(
            verify(SECRET, Some(&old), body, now),
            Err(StripeSignatureError::OutsideTolerance)
        );
        assert_eq!(
            verify(b"other", Some(&header), body, now),
            Err(StripeSignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, Some(&header), br#"{"id":"evt_2"}"#, now),
            Err(StripeSignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, None, body, now),
            Err(StripeSignatureError::Missing)
        );
        for bad in ["", "t=abc,v1=00", &format!("t={t}"), "v1=00"] {
            assert_eq!(
                verify(SECRET, Some(bad), body, now),
                Err(StripeSignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn reads_confirming_and_other_events() {
        let checkout = br#"{"id":"evt_1","type":"checkout.session.completed","created":1764140000,
            "data":{"object":{"id":"cs_1","payment_intent":"pi_1","amount_total":50000,"currency":"inr",
            "customer_details":{"email":"a@b.c"},"metadata":{"organizationId":"org_1","playerId":"p_1"}}}}"#;
        let StripeEvent::Confirmed(p) = parse_event(checkout).unwrap() else {
            panic!("not confirmed")
        };
        assert_eq!(p.organization.as_str(), "org_1");
        let e = payment_confirmed(&p, Utc::now());
        assert_eq!(e.dedup_key.as_deref(), Some("stripe:pi:pi_1"));
        assert_eq!(e.payload["amount"], 50000);
        assert_eq!(e.payload["metadata"]["playerId"], "p_1");

        let intent = br#"{"id":"evt_2","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount_received":50000,"metadata":{"organizationId":"org_1"}}}}"#;
        let StripeEvent::Confirmed(p2) = parse_event(intent).unwrap() else {
            panic!("not confirmed")
        };
        assert_eq!(
            payment_confirmed(&p2, Utc::now()).dedup_key,
            e.dedup_key,
            "one payment, one event"
        );

        let missing = br#"{"id":"evt_3","type":"payment_intent.succeeded","data":{"object":{"id":"pi_2","metadata":{}}}}"#;
        assert!(matches!(
            parse_event(missing).unwrap(),
            StripeEvent::NoOrganization { .. }
        ));
        let other = br#"{"id":"evt_4","type":"invoice.paid","data":{"object":{}}}"#;
        assert!(matches!(
            parse_event(other).unwrap(),
            StripeEvent::Ignored { .. }
        ));
        assert!(parse_event(b"{}").is_err());
        assert!(parse_event(b"nope").is_err());
    }
}
