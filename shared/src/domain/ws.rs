//! The WebSocket protocol's messages: what a client sends (routed on `action`, as API
//! Gateway's `$request.body.action`) and what the server answers.

use serde::Deserialize;
use serde_json::{Value, json};

/// Largest client frame accepted.
pub const MAX_CLIENT_MESSAGE: usize = 64 * 1024;

/// A client message, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Ping { request_id: Option<String> },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head {
    action: Option<String>,
    request_id: Option<String>,
}

/// A refusal, sent as `{"type": "error", "requestId", "code", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub request_id: Option<String>,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn to_json(&self) -> String {
        json!({"type": "error", "requestId": self.request_id, "code": self.code, "message": self.message})
            .to_string()
    }
}

pub fn parse(text: &str) -> Result<Action, Refusal> {
    let head: Head = serde_json::from_str(text).map_err(|_| Refusal {
        request_id: None,
        code: "bad_request",
        message: "a message is a JSON object with an `action`".into(),
    })?;
    match head.action.as_deref() {
        Some("ping") => Ok(Action::Ping {
            request_id: head.request_id,
        }),
        Some(other) => Err(Refusal {
            request_id: head.request_id,
            code: "bad_request",
            message: format!(
                "unknown action {:?}",
                other.chars().take(40).collect::<String>()
            ),
        }),
        None => Err(Refusal {
            request_id: head.request_id,
            code: "bad_request",
            message: "the message has no `action`".into(),
        }),
    }
}

pub fn pong(request_id: Option<&str>) -> String {
    let mut v = json!({"type": "pong"});
    if let Some(r) = request_id {
        v["requestId"] = Value::from(r);
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_and_refusals() {
        assert_eq!(
            parse(r#"{"action":"ping"}"#),
            Ok(Action::Ping { request_id: None })
        );
        assert_eq!(pong(None), r#"{"type":"pong"}"#);
        let r = parse(r#"{"action":"dance","requestId":"r9"}"#).unwrap_err();
        assert_eq!(
            (r.code, r.request_id.as_deref()),
            ("bad_request", Some("r9"))
        );
        assert_eq!(parse("not json").unwrap_err().code, "bad_request");
        let v: Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["type"], "error");
    }
}
