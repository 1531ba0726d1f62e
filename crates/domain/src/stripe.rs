//! Stripe's webhooks: the `Stripe-Signature` scheme, and what a paid checkout or
//! payment intent becomes (`payment.confirmed`), or a failed one (`payment.failed`).
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

/// The event types that confirm a payment: a completed checkout only when it is paid
/// (or needs no payment), since a checkout by bank debit (Bacs, SEPA, ACH, a bank
/// transfer) completes `unpaid` and is settled days later by
/// `checkout.session.async_payment_succeeded`.
pub const CONFIRMING_TYPES: [&str; 3] = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "payment_intent.succeeded",
];

/// The event types that report a payment that failed.
pub const FAILING_TYPES: [&str; 2] = [
    "checkout.session.async_payment_failed",
    "payment_intent.payment_failed",
];

/// The checkout session's `payment_status` values that mean the money is in (or that
/// none was owed: a 100% discount).
const PAID_STATUSES: [&str; 2] = ["paid", "no_payment_required"];

/// What a Stripe event means for Pitchside.
#[derive(Debug, Clone, PartialEq)]
pub enum StripeEvent {
    /// A payment was confirmed; the organization is still to be checked in the store.
    Confirmed(Payment),
    /// A payment failed (a bank debit that bounced, a declined card).
    Failed(Payment),
    /// A checkout that completed before its money arrived: nothing to announce yet.
    Awaiting {
        event_id: String,
        payment_status: String,
    },
    /// A confirming or failing type without a usable `metadata.organizationId`.
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
    /// Why a failed payment failed, as Stripe words it (`last_payment_error`).
    pub failure: Option<String>,
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
    let confirms = CONFIRMING_TYPES.contains(&kind.as_str());
    if !confirms && !FAILING_TYPES.contains(&kind.as_str()) {
        return Ok(StripeEvent::Ignored { event_id, kind });
    }
    let object = v
        .pointer("/data/object")
        .and_then(Value::as_object)
        .ok_or_else(|| StripeEventError("`data.object` is missing".into()))?;
    let str_field = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_string);
    if kind == "checkout.session.completed" {
        let status = str_field("payment_status").unwrap_or_else(|| "missing".into());
        if !PAID_STATUSES.contains(&status.as_str()) {
            return Ok(StripeEvent::Awaiting {
                event_id,
                payment_status: status,
            });
        }
    }
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
    let object_id = str_field("id").unwrap_or_default();
    let is_intent = kind.starts_with("payment_intent.");
    let payment_intent = if is_intent {
        Some(object_id.clone())
    } else {
        str_field("payment_intent")
    };
    let amount_of = |name: &str| object.get(name).and_then(Value::as_i64);
    // A session's total; an intent's amount received, or (failed: nothing was
    // received) the amount it asked for.
    let amount = if !is_intent {
        amount_of("amount_total")
    } else if confirms {
        amount_of("amount_received").or_else(|| amount_of("amount"))
    } else {
        amount_of("amount")
    };
    let failure = object.get("last_payment_error").and_then(|e| {
        e.get("message")
            .or_else(|| e.get("code"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let payment = Payment {
        event_id,
        organization,
        payment_intent,
        object_id,
        amount,
        currency: str_field("currency"),
        email: object
            .get("customer_details")
            .and_then(|d| d.get("email"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| str_field("receipt_email")),
        metadata,
        failure,
        created: v
            .get("created")
            .and_then(Value::as_i64)
            .and_then(|s| DateTime::from_timestamp(s, 0)),
        kind,
    };
    Ok(if confirms {
        StripeEvent::Confirmed(payment)
    } else {
        StripeEvent::Failed(payment)
    })
}

/// `payment.confirmed`: `{paymentId, stripeEventId, source, amount, currency, email,
/// metadata, confirmedAt}`. Keyed on the payment intent when there is one, so a
/// platform subscribed to both confirming types still gets one event per payment.
pub fn payment_confirmed(p: &Payment, now: DateTime<Utc>) -> NewEvent {
    payment_event(p, now, EventType::PaymentConfirmed, "confirmedAt", "stripe")
}

/// `payment.failed`: the same fields with `reason` and `failedAt` for `confirmedAt`.
/// Once per payment intent, like a confirmation: a card declined twice before it went
/// through is one failure announced, then the confirmation (its own key).
pub fn payment_failed(p: &Payment, now: DateTime<Utc>) -> NewEvent {
    let mut e = payment_event(
        p,
        now,
        EventType::PaymentFailed,
        "failedAt",
        "stripe:failed",
    );
    e.payload["reason"] = serde_json::json!(p.failure);
    e
}

/// A payment's event: its fields, the time Stripe gives (`at`), and a dedup key under
/// `prefix` on the payment intent, or on the event when the object names none.
fn payment_event(
    p: &Payment,
    now: DateTime<Utc>,
    kind: EventType,
    at: &str,
    prefix: &str,
) -> NewEvent {
    let payment_id = p.payment_intent.as_deref().unwrap_or(&p.object_id);
    let mut payload = serde_json::json!({
        "paymentId": payment_id,
        "stripeEventId": p.event_id,
        "source": p.kind,
        "amount": p.amount,
        "currency": p.currency,
        "email": p.email,
        "metadata": p.metadata,
    });
    payload[at] = serde_json::json!(format_timestamp(&p.created.unwrap_or(now)));
    NewEvent {
        kind,
        payload,
        timestamp: now,
        dedup_key: Some(match &p.payment_intent {
            Some(pi) => format!("{prefix}:pi:{pi}"),
            None => format!("{prefix}:evt:{}", p.event_id),
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
            "data":{"object":{"id":"cs_1","payment_intent":"pi_1","amount_total":50000,"currency":"inr","payment_status":"paid",
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

    #[test]
    fn a_bank_debit_is_confirmed_when_the_money_arrives_and_a_failure_is_reported() {
        let session = |kind: &str, status: &str| {
            format!(
                r#"{{"id":"evt_{kind}","type":"{kind}","created":1764140000,"data":{{"object":{{
                "id":"cs_1","payment_intent":"pi_9","amount_total":4000,"currency":"gbp",
                "payment_status":"{status}","metadata":{{"organizationId":"org_1"}}}}}}}}"#
            )
        };
        // Completed but unpaid (Bacs Direct Debit): not a confirmation.
        assert_eq!(
            parse_event(session("checkout.session.completed", "unpaid").as_bytes()).unwrap(),
            StripeEvent::Awaiting {
                event_id: "evt_checkout.session.completed".into(),
                payment_status: "unpaid".into()
            }
        );
        let no_status = br#"{"id":"evt_x","type":"checkout.session.completed","data":{"object":{"id":"cs_2","metadata":{"organizationId":"org_1"}}}}"#;
        assert!(matches!(
            parse_event(no_status).unwrap(),
            StripeEvent::Awaiting { .. }
        ));
        // Free (a 100% coupon): confirmed, nothing was owed.
        assert!(matches!(
            parse_event(session("checkout.session.completed", "no_payment_required").as_bytes())
                .unwrap(),
            StripeEvent::Confirmed(_)
        ));
        let StripeEvent::Confirmed(paid) =
            parse_event(session("checkout.session.async_payment_succeeded", "paid").as_bytes())
                .unwrap()
        else {
            panic!("the settled debit is a confirmation")
        };
        assert_eq!(
            payment_confirmed(&paid, Utc::now()).dedup_key.as_deref(),
            Some("stripe:pi:pi_9")
        );
        let StripeEvent::Failed(bounced) =
            parse_event(session("checkout.session.async_payment_failed", "unpaid").as_bytes())
                .unwrap()
        else {
            panic!("the bounced debit is a failure")
        };
        let e = payment_failed(&bounced, Utc::now());
        assert_eq!(e.kind, EventType::PaymentFailed);
        assert_eq!(e.dedup_key.as_deref(), Some("stripe:failed:pi:pi_9"));
        assert_eq!(e.payload["amount"], 4000);
        let declined = br#"{"id":"evt_d","type":"payment_intent.payment_failed","data":{"object":{
            "id":"pi_9","amount":4000,"amount_received":0,"currency":"gbp",
            "last_payment_error":{"code":"card_declined","message":"Your card was declined."},
            "metadata":{"organizationId":"org_1"}}}}"#;
        let StripeEvent::Failed(card) = parse_event(declined).unwrap() else {
            panic!("a declined intent is a failure")
        };
        let e2 = payment_failed(&card, Utc::now());
        assert_eq!(e2.payload["reason"], "Your card was declined.");
        assert_eq!(
            e2.payload["amount"], 4000,
            "the amount asked, not the 0 received"
        );
        assert_eq!(e2.dedup_key, e.dedup_key, "one failure per payment");
    }
}
