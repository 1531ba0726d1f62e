//! The handlers' logic, independent of what carries the request (the local gateway or a
//! Lambda): each function takes the ports and typed input, and answers typed output or
//! an `ApiError`.

pub mod admin;
pub mod auction;
pub mod authn;
pub mod availability;
pub mod catchup;
pub mod error;
pub mod fanout;
pub mod health;
pub mod push;
pub mod scoring;
pub mod webhook;
pub mod worker;
pub mod ws;

pub use error::{ApiError, ErrorKind};

use crate::ports::Ports;
use pitchside_domain::auth::{Principal, Role};

/// Refuses (403) a caller who holds none of `roles` for `what` they tried.
pub fn require(who: &Principal, roles: &[Role], what: &str) -> Result<(), ApiError> {
    if roles.iter().any(|r| who.has_role(*r)) {
        return Ok(());
    }
    let names: Vec<String> = roles
        .iter()
        .map(|r| {
            serde_json::to_value(r).map_or_else(
                |_| format!("{r:?}"),
                |v| v.as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    Err(ApiError::forbidden(format!(
        "{what} needs the {} role",
        names.join(" or ")
    )))
}

/// Pushes an appended event to its live subscribers. Best-effort by design (see
/// `Pusher`): a subscriber that misses it catches up from the log, so a failure is
/// logged, not returned.
pub async fn push(ports: &Ports, event: &pitchside_domain::event::Event) {
    push_to(&*ports.pusher, event).await
}

/// `push`, through a given pusher.
pub async fn push_to(pusher: &dyn crate::ports::Pusher, event: &pitchside_domain::event::Event) {
    if let Err(e) = pusher.publish(event).await {
        tracing::warn!(error = %e, event_id = %event.id, "push failed; subscribers catch up from the log");
    }
}
