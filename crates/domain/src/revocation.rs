//! Ending a member's open connections when the membership takes something away.
//!
//! Revocation is an event in the organization's log (`member.revoked`), appended in the
//! same write as the membership, so it reaches every open stream the way every other
//! event does, on every backend: the in-process hub, the SSE function's poll, and the
//! push to API Gateway connections. No client receives it: each stream of the revoked
//! user sends a notice and ends, and the client reconnects with what it still has (or is
//! refused). Only revocations appended after a stream opened act on it, so an old one
//! in a replay does not cut a member who was let back in.

use crate::auth::Membership;
use crate::event::{Event, EventType, NewEvent};
use crate::ids::UserId;
use crate::ws::Refusal;
use chrono::{DateTime, Utc};

/// The error code of the notice a revoked connection gets before it ends.
pub const CODE: &str = "membership_ended";
const MESSAGE: &str =
    "the membership changed: reconnect to continue with what it still grants, if anything";

/// The WebSocket close code of a revoked connection (1008, policy violation), where the
/// server chooses it; API Gateway's DeleteConnection always closes with 1000.
pub const WS_CLOSE_CODE: u16 = 1008;
/// The close frame's reason (at most 123 bytes, as RFC 6455 allows).
pub const WS_CLOSE_REASON: &str = "membership ended";

/// Whether changing `old` to `new` takes anything away: the membership ends, a role goes,
/// or the team changes (a team's room and chat are its members' alone). Nothing is taken
/// from a user who had no active membership.
pub fn takes_away(old: Option<&Membership>, new: &Membership) -> bool {
    match old {
        Some(old) if old.active => {
            !new.active
                || old.roles.iter().any(|r| !new.roles.contains(r))
                || old.team_id != new.team_id
        }
        _ => false,
    }
}

/// The log event that ends `user`'s open connections in its organization.
pub fn event(user: &UserId, at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        kind: EventType::MemberRevoked,
        payload: serde_json::json!({ "userId": user }),
        timestamp: at,
        dedup_key: None,
    }
}

/// Whose connections an event ends, if it is a revocation.
pub fn revoked_user(event: &Event) -> Option<UserId> {
    if event.kind != EventType::MemberRevoked {
        return None;
    }
    event
        .payload
        .get("userId")
        .and_then(|u| u.as_str())
        .and_then(|u| UserId::new(u).ok())
}

/// The last message of a revoked WebSocket connection.
pub fn ws_notice() -> String {
    Refusal::new(None, CODE, MESSAGE).to_json()
}

/// The last frame of a revoked SSE stream: `event: closed`, without an id, so the
/// client's position stays where it was.
pub fn sse_notice() -> String {
    format!(
        "event: closed\ndata: {}\n\n",
        serde_json::json!({"code": CODE, "message": MESSAGE})
    )
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may take any time, the real one included
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::event::{ENVELOPE_VERSION, EventId};
    use crate::ids::{OrganizationId, TeamId};

    fn member(roles: &[Role], team: Option<&str>, active: bool) -> Membership {
        Membership {
            roles: roles.to_vec(),
            team_id: team.map(|t| TeamId::new(t).unwrap()),
            active,
        }
    }

    #[test]
    fn only_a_change_that_takes_something_away_revokes() {
        let owner = member(&[Role::Viewer, Role::TeamOwner], Some("t1"), true);
        let gone = member(&[Role::Viewer, Role::TeamOwner], Some("t1"), false);
        let viewer = member(&[Role::Viewer], Some("t1"), true);
        let moved = member(&[Role::Viewer, Role::TeamOwner], Some("t2"), true);
        let more = member(
            &[Role::Viewer, Role::TeamOwner, Role::Scorer],
            Some("t1"),
            true,
        );
        assert!(takes_away(Some(&owner), &gone));
        assert!(takes_away(Some(&owner), &viewer));
        assert!(takes_away(Some(&owner), &moved));
        assert!(
            !takes_away(Some(&owner), &more),
            "a role added takes nothing"
        );
        assert!(!takes_away(Some(&owner), &owner), "the same PUT again");
        assert!(!takes_away(None, &gone));
        assert!(
            !takes_away(Some(&gone), &viewer),
            "nothing to take from the inactive"
        );
    }

    #[test]
    fn the_event_names_its_user_and_nothing_else_revokes() {
        let user = UserId::new("u-7").unwrap();
        let new = event(&user, chrono::Utc::now());
        let e = new
            .clone()
            .into_event(EventId(3), OrganizationId::new("o").unwrap());
        assert_eq!(revoked_user(&e), Some(user));
        let mut other = e.clone();
        other.kind = EventType::ChatMessageSent;
        assert_eq!(revoked_user(&other), None);
        assert_eq!(e.version, ENVELOPE_VERSION);
        assert!(sse_notice().starts_with("event: closed\ndata: {"));
        assert!(!sse_notice().contains("\nid:"), "no id: the position stays");
        assert!(ws_notice().contains(r#""code":"membership_ended""#));
        assert!(WS_CLOSE_REASON.len() <= 123);
    }
}
