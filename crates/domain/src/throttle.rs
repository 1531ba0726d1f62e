//! A token bucket per WebSocket connection: a client may send `rate` messages a second
//! on average and `burst` at once; beyond that it is answered `rate_limited` and the
//! message is not acted on.

/// The defaults: 10 messages a second, bursts of 20.
pub const DEFAULT_RATE: f64 = 10.0;
pub const DEFAULT_BURST: f64 = 20.0;

#[derive(Debug, Clone, PartialEq)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    /// When the bucket was last refilled, in milliseconds of the caller's clock.
    at_ms: i64,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: f64, now_ms: i64) -> TokenBucket {
        let burst = burst.max(1.0);
        TokenBucket {
            rate: rate.max(0.0),
            burst,
            tokens: burst,
            at_ms: now_ms,
        }
    }

    /// Takes a token if there is one.
    pub fn take(&mut self, now_ms: i64) -> bool {
        let elapsed = (now_ms - self.at_ms).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at_ms = self.at_ms.max(now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let mut b = TokenBucket::new(10.0, 20.0, 0);
        assert_eq!((0..25).filter(|_| b.take(0)).count(), 20);
        assert!(!b.take(50), "half a token after 50 ms");
        assert!(b.take(100));
        assert!(!b.take(100));
        // A second later: ten more, never more than the burst.
        assert_eq!((0..30).filter(|_| b.take(1100)).count(), 10);
        assert_eq!((0..30).filter(|_| b.take(60_000)).count(), 20);
        // A clock that goes backwards gives nothing.
        assert!(!(0..30).all(|_| b.take(0)));
    }
}
