//! Bid increments by slab: the step depends on the current price, and bids land on a
//! grid of whole steps counted from the slab's start, so an off-grid price (a base
//! price of 7.3 lakh) steps to the next grid value (10 lakh), not to 12.3 lakh.

use super::MAX_AMOUNT;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Slab {
    /// The step applies while the current price is below this; `None` for the last.
    pub up_to: Option<u64>,
    pub step: u64,
}

const LAKH: u64 = 100_000;
const CRORE: u64 = 100 * LAKH;

/// The IPL's: +5 lakh up to 1 crore, +10 lakh to 2 crore, +20 lakh to 5 crore, +25 lakh
/// above.
pub fn ipl_increments() -> Vec<Slab> {
    vec![
        Slab {
            up_to: Some(CRORE),
            step: 5 * LAKH,
        },
        Slab {
            up_to: Some(2 * CRORE),
            step: 10 * LAKH,
        },
        Slab {
            up_to: Some(5 * CRORE),
            step: 20 * LAKH,
        },
        Slab {
            up_to: None,
            step: 25 * LAKH,
        },
    ]
}

pub(super) fn check(slabs: &[Slab]) -> Result<(), String> {
    if slabs.is_empty() {
        return Err("`increments` needs at least one slab".into());
    }
    let mut below = 0u64;
    for (i, s) in slabs.iter().enumerate() {
        if s.step == 0 || s.step > MAX_AMOUNT {
            return Err(format!("an increment's `step` must be 1 to {MAX_AMOUNT}"));
        }
        if s.up_to.is_some_and(|u| u > MAX_AMOUNT) {
            return Err(format!(
                "an increment's `upTo` must be at most {MAX_AMOUNT}"
            ));
        }
        match s.up_to {
            None if i + 1 != slabs.len() => {
                return Err("only the last increment slab may have `upTo: null`".into());
            }
            Some(_) if i + 1 == slabs.len() => {
                return Err("the last increment slab must have `upTo: null`".into());
            }
            Some(u) if u <= below => {
                return Err("increment slabs' `upTo` must increase".into());
            }
            Some(u) => below = u,
            None => {}
        }
    }
    Ok(())
}

/// The next grid value above `current`.
pub fn next_amount(slabs: &[Slab], current: u64) -> u64 {
    let mut start = 0u64;
    for s in slabs {
        match s.up_to {
            Some(up) if current >= up => start = up,
            _ => {
                let steps = (current - start) / s.step + 1;
                return start.saturating_add(steps.saturating_mul(s.step));
            }
        }
    }
    // Unreachable with checked slabs (the last has no bound); stay monotonic anyway.
    current.saturating_add(1)
}
