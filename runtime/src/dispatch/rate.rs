//! Calls-per-second limiting with a token bucket in virtual time.
//!
//! Tokens are counted in nano-tokens and refilled per whole millisecond:
//! a rate of `r` tokens per second adds exactly `r * 10^6` nano-tokens each
//! millisecond, an integer for any rate given to six decimals, so no
//! rounding error builds up however long the bucket runs.

use crate::model::Millis;

/// Nano-tokens in one token.
const TOKEN: u64 = 1_000_000_000;

/// A token bucket: up to `burst` takes at once, then `per_second` on average.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    /// Refill in nano-tokens per millisecond (= tokens per second * 10^6).
    rate: u64,
    /// Capacity in nano-tokens.
    capacity: u64,
    /// Tokens held, in nano-tokens.
    tokens: u64,
    /// The time up to which refill has been counted.
    last: Millis,
}

impl TokenBucket {
    /// A full bucket refilling at `per_second` tokens per second and holding
    /// at most `burst` tokens (at least one). A rate that is not a positive
    /// number never refills.
    pub fn new(per_second: f64, burst: f64, now: Millis) -> Self {
        let capacity = if burst.is_finite() && burst > 1.0 {
            to_units(burst, TOKEN as f64)
        } else {
            TOKEN
        };
        TokenBucket {
            rate: rate_units(per_second),
            capacity,
            tokens: capacity,
            last: now,
        }
    }

    /// Take one token at `now`, or tell the earliest time one is available
    /// (`Millis::MAX` when the rate is zero).
    pub fn try_take(&mut self, now: Millis) -> Result<(), Millis> {
        let ready = self.ready_at(now);
        if ready <= now {
            self.tokens -= TOKEN;
            Ok(())
        } else {
            Err(ready)
        }
    }

    /// The earliest time at or after `now` when a token can be taken,
    /// without taking it.
    pub fn ready_at(&mut self, now: Millis) -> Millis {
        self.refill(now);
        if self.tokens >= TOKEN {
            return now.max(self.last);
        }
        if self.rate == 0 {
            return Millis::MAX;
        }
        let missing = TOKEN - self.tokens;
        let wait = missing.div_ceil(self.rate);
        self.last
            .saturating_add(Millis::try_from(wait).unwrap_or(Millis::MAX))
    }

    /// Change the refill rate. Time since the last take or check is counted
    /// at the new rate.
    pub fn set_rate(&mut self, per_second: f64) {
        self.rate = rate_units(per_second);
    }

    /// The refill rate in tokens per second.
    pub fn per_second(&self) -> f64 {
        self.rate as f64 / 1e6
    }

    /// Tokens available at `now`, fractional.
    pub fn available(&mut self, now: Millis) -> f64 {
        self.refill(now);
        self.tokens as f64 / TOKEN as f64
    }

    fn refill(&mut self, now: Millis) {
        // A clock that steps back adds nothing and does not move `last`
        // back, so no token is ever counted twice.
        if now <= self.last {
            return;
        }
        let elapsed = u128::try_from(now - self.last).unwrap_or(0);
        let added = elapsed * u128::from(self.rate);
        let room = u128::from(self.capacity - self.tokens);
        self.tokens += u64::try_from(added.min(room)).unwrap_or(0);
        self.last = now;
    }
}

fn rate_units(per_second: f64) -> u64 {
    if per_second.is_finite() && per_second > 0.0 {
        to_units(per_second, 1e6)
    } else {
        0
    }
}

fn to_units(value: f64, scale: f64) -> u64 {
    // `as` saturates for out-of-range floats, which is what a huge rate or
    // burst should do.
    (value * scale).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Take as fast as the bucket allows from `start` to `end`, jumping to
    /// each advertised ready time; returns the number of takes.
    fn drain(bucket: &mut TokenBucket, start: Millis, end: Millis) -> u64 {
        let mut now = start;
        let mut taken = 0;
        while now < end {
            match bucket.try_take(now) {
                Ok(()) => taken += 1,
                Err(ready) => {
                    assert!(ready > now, "a refusal points to the future");
                    now = ready;
                }
            }
        }
        taken
    }

    #[test]
    fn a_fifty_cps_bucket_allows_fifty_per_second_over_a_minute() {
        let mut bucket = TokenBucket::new(50.0, 1.0, 0);
        let taken = drain(&mut bucket, 0, 60_000);
        let expected = 50.0 * 60.0 + 1.0;
        assert!(
            (taken as f64 - expected).abs() / expected < 0.01,
            "took {taken}"
        );
        assert_eq!(taken, 3_000);
    }

    #[test]
    fn polling_every_millisecond_takes_as_many_as_jumping_to_ready_times() {
        let mut bucket = TokenBucket::new(50.0, 5.0, 0);
        let mut taken = 0;
        for now in 0..60_000 {
            while bucket.try_take(now).is_ok() {
                taken += 1;
            }
        }
        // 5 up front, then 50 per second for 59.999 s.
        assert_eq!(taken, 5 + 2_999);
    }

    #[test]
    fn a_fractional_rate_allows_one_take_every_two_seconds() {
        let mut bucket = TokenBucket::new(0.5, 1.0, 0);
        assert_eq!(bucket.try_take(0), Ok(()));
        assert_eq!(bucket.try_take(1), Err(2_000));
        assert_eq!(bucket.try_take(1_999), Err(2_000));
        assert_eq!(bucket.try_take(2_000), Ok(()));
        // Then every two seconds from 4 s to 60 s.
        assert_eq!(drain(&mut bucket, 2_000, 62_000), 29);
    }

    #[test]
    fn rates_that_are_not_whole_per_millisecond_do_not_drift() {
        // 1/3 token per second: 333_333 nano-tokens per ms.
        let mut bucket = TokenBucket::new(1.0 / 3.0, 1.0, 0);
        let taken = drain(&mut bucket, 0, 3_600_000);
        assert_eq!(taken, 1 + 1_199);
    }

    #[test]
    fn the_burst_is_available_at_once_and_caps_saved_up_tokens() {
        let mut bucket = TokenBucket::new(10.0, 3.0, 0);
        for _ in 0..3 {
            assert_eq!(bucket.try_take(0), Ok(()));
        }
        assert_eq!(bucket.try_take(0), Err(100));
        // An idle hour refills no more than the burst.
        let later = 3_600_000;
        for _ in 0..3 {
            assert_eq!(bucket.try_take(later), Ok(()));
        }
        assert!(bucket.try_take(later).is_err());
    }

    #[test]
    fn the_advertised_ready_time_is_exactly_when_a_take_succeeds() {
        let mut bucket = TokenBucket::new(7.0, 1.0, 1_000);
        assert_eq!(bucket.try_take(1_000), Ok(()));
        let ready = bucket.try_take(1_010).expect_err("empty bucket");
        assert_eq!(bucket.try_take(ready - 1), Err(ready));
        assert_eq!(bucket.try_take(ready), Ok(()));
    }

    #[test]
    fn a_zero_rate_never_refills() {
        let mut bucket = TokenBucket::new(0.0, 2.0, 0);
        assert_eq!(bucket.try_take(0), Ok(()));
        assert_eq!(bucket.try_take(0), Ok(()));
        assert_eq!(bucket.try_take(1_000_000), Err(Millis::MAX));
        let mut nan = TokenBucket::new(f64::NAN, 1.0, 0);
        assert_eq!(nan.try_take(0), Ok(()));
        assert_eq!(nan.try_take(10), Err(Millis::MAX));
    }

    #[test]
    fn changing_the_rate_takes_effect_for_the_next_refill() {
        let mut bucket = TokenBucket::new(1.0, 1.0, 0);
        assert_eq!(bucket.try_take(0), Ok(()));
        bucket.set_rate(100.0);
        assert_eq!(bucket.per_second(), 100.0);
        assert_eq!(bucket.try_take(5), Err(10));
        assert_eq!(drain(&mut bucket, 10, 1_010), 100);
    }

    #[test]
    fn a_clock_stepping_back_adds_no_tokens() {
        let mut bucket = TokenBucket::new(1.0, 1.0, 10_000);
        assert_eq!(bucket.try_take(10_000), Ok(()));
        assert_eq!(bucket.try_take(5_000), Err(11_000));
        assert_eq!(bucket.try_take(10_999), Err(11_000));
        assert_eq!(bucket.try_take(11_000), Ok(()));
    }
}
