//! Server-Sent Events framing. Frames are rendered once per event and shared by every
//! subscriber.

use super::event::{Event, EventType, UnknownEventType};

/// The reconnection delay hinted to browsers, in milliseconds.
pub const RETRY_MS: u64 = 3000;

/// The SSE `event:` name of a frame: the envelope's type, except `reset` for the
/// stream-reset control event (as the contract names it).
pub fn event_name(kind: EventType) -> &'static str {
    match kind {
        EventType::StreamReset => "reset",
        other => other.as_str(),
    }
}

/// `id:`, `event:` and `data:` lines, then the blank line that ends the frame. The
/// envelope is compact JSON, so it is always one `data:` line.
pub fn frame(event: &Event, json: &str) -> String {
    format!(
        "id: {}\nevent: {}\ndata: {}\n\n",
        event.id,
        event_name(event.kind),
        json
    )
}

/// The first bytes of every stream: the reconnection hint.
pub fn retry_hint() -> String {
    format!("retry: {RETRY_MS}\n\n")
}

/// A comment that keeps proxies from closing an idle stream.
pub const HEARTBEAT: &str = ": heartbeat\n\n";

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may take any time, the real one included
mod tests {
    use super::*;
    use crate::event::{ENVELOPE_VERSION, EventId};
    use crate::ids::OrganizationId;

    #[test]
    fn frames_carry_id_event_and_one_data_line() {
        let e = Event {
            id: EventId(7),
            kind: EventType::MessageReceived,
            organization_id: OrganizationId::new("o").unwrap(),
            timestamp: chrono::Utc::now(),
            version: ENVELOPE_VERSION.into(),
            payload: serde_json::json!({"text": "line1\nline2"}),
        };
        let json = e.to_json();
        let f = frame(&e, &json);
        assert!(f.starts_with("id: 7\nevent: message.received\ndata: {"));
        assert!(f.ends_with("}\n\n"));
        assert_eq!(f.matches('\n').count(), 4, "{f}");
        let reset = Event::stream_reset(e.organization_id.clone(), EventId(9), chrono::Utc::now());
        assert!(frame(&reset, &reset.to_json()).contains("event: reset\n"));
    }
}

/// The `types=` and `matchId=` filters of a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub types: Option<Vec<EventType>>,
    pub match_id: Option<String>,
    /// The viewer's team: a team room's events reach only its members.
    pub team: Option<super::ids::TeamId>,
}

impl Filter {
    /// Parses `types=a,b` (unknown names are an error, so a typo does not silently
    /// filter everything out) and `matchId=`.
    pub fn parse(types: Option<&str>, match_id: Option<&str>) -> Result<Filter, UnknownEventType> {
        let types = types
            .filter(|t| !t.trim().is_empty())
            .map(|t| {
                t.split(',')
                    .map(|s| match s.trim().parse::<EventType>() {
                        // Only what clients receive can be asked for.
                        Ok(t) if !t.reaches_clients() => Err(UnknownEventType(s.trim().into())),
                        other => other,
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(Filter {
            types,
            match_id: match_id.filter(|m| !m.is_empty()).map(str::to_string),
            team: None,
        })
    }

    pub fn matches(
        &self,
        kind: EventType,
        match_id: Option<&str>,
        private_to: Option<&super::ids::TeamId>,
    ) -> bool {
        if kind == EventType::StreamReset {
            return true;
        }
        if !kind.reaches_clients() {
            return false;
        }
        if private_to.is_some() && private_to != self.team.as_ref() {
            return false;
        }
        let type_ok = self.types.as_ref().is_none_or(|ts| ts.contains(&kind));
        let match_ok = self
            .match_id
            .as_deref()
            .is_none_or(|want| match_id == Some(want));
        type_ok && match_ok
    }
}

#[cfg(test)]
mod filter_tests {
    use super::*;

    #[test]
    fn filters_by_type_match_and_team() {
        let f = Filter::parse(Some("match.score.updated, message.received"), Some("m_7")).unwrap();
        assert!(f.matches(EventType::MatchScoreUpdated, Some("m_7"), None));
        assert!(!f.matches(EventType::MatchScoreUpdated, Some("m_8"), None));
        assert!(!f.matches(EventType::MessageReceived, None, None));
        assert!(!f.matches(EventType::ChatMessageSent, Some("m_7"), None));
        assert!(f.matches(EventType::StreamReset, None, None));
        let mut all = Filter::parse(None, Some("")).unwrap();
        assert!(all.matches(EventType::ChatMessageSent, None, None));
        let t2 = crate::ids::TeamId::new("t_2").unwrap();
        assert!(!all.matches(EventType::ChatMessageSent, None, Some(&t2)));
        all.team = Some(t2.clone());
        assert!(all.matches(EventType::ChatMessageSent, None, Some(&t2)));
        assert!(Filter::parse(Some("score"), None).is_err());
        assert!(
            Filter::parse(Some("member.revoked"), None).is_err(),
            "a revocation reaches no client, so no filter names it"
        );
        assert!(!all.matches(EventType::MemberRevoked, None, None));
    }
}
