//! Resuming from the log: whether a client's position is still held, and how a page of
//! catch-up is cut.

use super::event::{Event, EventId};

/// What the log holds for one organization: the last id written, and the last id
/// removed by retention (everything after it and up to `head` is still held).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogBounds {
    pub head: EventId,
    pub trimmed_through: EventId,
}

/// A client that resumes after `after` must reload its state when the log cannot give
/// it everything after that id: the events right after it were trimmed by retention,
/// or the id is beyond the log's head (the log was reset, or the id is from another
/// log).
pub fn must_reset(after: EventId, bounds: LogBounds) -> bool {
    after > bounds.head || after < bounds.trimmed_through
}

/// The id to resume a read from: after a reset, the oldest event still held.
pub fn resume_point(after: EventId, bounds: LogBounds) -> EventId {
    if must_reset(after, bounds) {
        bounds.trimmed_through
    } else {
        after
    }
}

/// The `next` cursor of a page: the last event's id, or where the read started when
/// the page is empty, so polling with it never skips or repeats.
pub fn next_cursor(events: &[Event], start: EventId) -> EventId {
    events.last().map_or(start, |e| e.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(head: u64, trimmed: u64) -> LogBounds {
        LogBounds {
            head: EventId(head),
            trimmed_through: EventId(trimmed),
        }
    }

    #[test]
    fn positions_within_the_log_resume() {
        assert!(!must_reset(EventId(0), b(0, 0)));
        assert!(!must_reset(EventId(0), b(10, 0)));
        assert!(!must_reset(EventId(10), b(10, 0)));
        assert!(!must_reset(EventId(5), b(10, 5)));
        assert_eq!(resume_point(EventId(7), b(10, 5)), EventId(7));
    }

    #[test]
    fn trimmed_or_foreign_positions_reset() {
        assert!(must_reset(EventId(4), b(10, 5)));
        assert!(must_reset(EventId(11), b(10, 0)));
        assert!(must_reset(EventId(3), b(0, 0)));
        assert_eq!(resume_point(EventId(4), b(10, 5)), EventId(5));
        assert_eq!(resume_point(EventId(99), b(10, 0)), EventId(0));
    }

    #[test]
    fn an_empty_page_keeps_its_cursor() {
        assert_eq!(next_cursor(&[], EventId(3)), EventId(3));
    }
}
