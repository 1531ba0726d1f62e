//! Limits that more than one layer applies, each written once: the template's checks
//! (`pitchside-aws`'s tests) hold `template.yaml` to the ones it repeats.

/// Receives of a queue message before it is dead-lettered: the embedded queue's count
/// and SQS's `maxReceiveCount` in `template.yaml`.
pub const MAX_RECEIVES: u32 = 5;

/// How many items one read answers: what it answers when the caller names no
/// `limit`, and the most it answers whatever the caller asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub default: usize,
    pub max: usize,
}

impl Page {
    /// The page size for a requested `limit` (at least one item).
    pub fn clamp(self, requested: Option<usize>) -> usize {
        requested.unwrap_or(self.default).clamp(1, self.max)
    }
}

/// `GET /events/catch-up`, and each read of the log behind it.
pub const CATCH_UP_PAGE: Page = Page {
    default: 100,
    max: 1000,
};

/// `GET /admin/quarantine`.
pub const QUARANTINE_PAGE: Page = Page {
    default: 100,
    max: 1000,
};

/// `GET /chat/{room}/messages`, and each read of a room's history behind it.
pub const CHAT_PAGE: Page = Page {
    default: 50,
    max: 500,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_at_least_one_item_and_at_most_its_max() {
        assert_eq!(CATCH_UP_PAGE.clamp(None), 100);
        assert_eq!(CATCH_UP_PAGE.clamp(Some(0)), 1);
        assert_eq!(CATCH_UP_PAGE.clamp(Some(5000)), 1000);
        assert_eq!(CHAT_PAGE.clamp(Some(20)), 20);
    }
}
