//! The stream lease port: at most so many SSE streams of one member at once, across
//! every process (on AWS each stream is its own Lambda invocation).

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pitchside_domain::ids::{OrganizationId, UserId};

/// A member's stream slots, `0..max`. A slot is free when never taken, released, or
/// held past its `until` (a holder that died without releasing frees it by expiring).
#[async_trait]
pub trait StreamLeases: Send + Sync {
    /// Takes a free slot for `stream` until `until`; `None` when all `max` are held.
    async fn acquire(
        &self,
        org: &OrganizationId,
        user: &UserId,
        stream: &str,
        max: u32,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Option<u32>>;
    /// Holds `slot` for `stream` until `until`; false if the stream no longer holds it.
    async fn renew(
        &self,
        org: &OrganizationId,
        user: &UserId,
        slot: u32,
        stream: &str,
        until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Frees `slot` if `stream` still holds it.
    async fn release(
        &self,
        org: &OrganizationId,
        user: &UserId,
        slot: u32,
        stream: &str,
    ) -> StoreResult<()>;
}

/// The lowest slot below `max` that nobody holds at `now_ms`, given the slots held and
/// the time (ms) each is held until: the slot an adapter that reads a member's slots
/// takes next.
pub fn first_free_slot(
    held: impl IntoIterator<Item = (u32, i64)>,
    now_ms: i64,
    max: u32,
) -> Option<u32> {
    let mut live: Vec<u32> = held
        .into_iter()
        .filter(|&(_, until)| until >= now_ms)
        .map(|(slot, _)| slot)
        .collect();
    live.sort_unstable();
    live.dedup();
    let mut next = 0;
    for slot in live {
        if slot != next {
            break;
        }
        next += 1;
    }
    (next < max).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::first_free_slot;

    #[test]
    fn the_lowest_slot_neither_held_nor_live_is_next() {
        assert_eq!(first_free_slot([], 10, 3), Some(0));
        assert_eq!(first_free_slot([(0, 20), (1, 20)], 10, 3), Some(2));
        assert_eq!(first_free_slot([(1, 20), (0, 20), (2, 20)], 10, 3), None);
        assert_eq!(first_free_slot([(0, 20), (2, 20)], 10, 3), Some(1), "a gap");
        assert_eq!(
            first_free_slot([(0, 9), (1, 20)], 10, 3),
            Some(0),
            "expired"
        );
        assert_eq!(first_free_slot([(0, 10)], 10, 1), None, "held through now");
        assert_eq!(first_free_slot([(0, 20)], 10, 0), None);
    }
}
