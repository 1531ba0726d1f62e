//! `GET /events/catch-up`: a page of the organization's log after an id or since a time.

use super::ApiError;
use crate::ports::{EventLog, ReadFrom};
use chrono::{DateTime, Utc};
use pitchside_domain::catchup::{must_reset, next_cursor, resume_point};
use pitchside_domain::event::{Event, EventId};
use pitchside_domain::ids::{OrganizationId, TeamId};
use pitchside_domain::rooms;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatchUp {
    pub success: bool,
    pub data: Vec<Event>,
    pub next: EventId,
    /// Present (and true) only when the client's position is gone and it must reload.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
}

/// Where catch-up starts, parsed from `after=` or `since=` (exactly one, or neither for
/// the start of the log).
pub fn parse_from(after: Option<&str>, since: Option<&str>) -> Result<ReadFrom, ApiError> {
    match (after, since) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "give either after or since, not both",
        )),
        (Some(a), None) => a
            .parse::<EventId>()
            .map(ReadFrom::After)
            .map_err(|e| ApiError::bad_request(format!("after: {e}"))),
        (None, Some(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| ReadFrom::Since(t.with_timezone(&Utc)))
            .map_err(|_| {
                ApiError::bad_request("since: must be an RFC 3339 time, e.g. 2026-11-26T07:15:02Z")
            }),
        (None, None) => Ok(ReadFrom::After(EventId::ZERO)),
    }
}

/// One read of the log in the usual case: a page carries the log's bounds, and only a
/// position the log no longer holds needs a second read, from the oldest event held.
/// A team room's events are left out for a viewer not on the team (the cursor still
/// moves past them).
pub async fn catch_up(
    log: &dyn EventLog,
    org: &OrganizationId,
    team: Option<&TeamId>,
    from: ReadFrom,
    limit: usize,
) -> Result<CatchUp, ApiError> {
    let page = log.read(org, from, limit).await?;
    let (page, start, reset) = match from {
        ReadFrom::After(after) if must_reset(after, page.bounds) => {
            let start = resume_point(after, page.bounds);
            (
                log.read(org, ReadFrom::After(start), limit).await?,
                start,
                true,
            )
        }
        ReadFrom::After(after) => (page, after, false),
        // A time with nothing after it: resume from the head.
        ReadFrom::Since(_) => {
            let head = page.bounds.head;
            (page, head, false)
        }
    };
    crate::metrics::catch_up_read(reset);
    let next = next_cursor(&page.events, start);
    let mut data = page.events;
    data.retain(|e| rooms::visible_to(e, team));
    Ok(CatchUp {
        success: true,
        next,
        data,
        reset,
    })
}
