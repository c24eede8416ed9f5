//! Exponential backoff with a base delay per outcome and deterministic
//! jitter seeded from the attempt id, so equal inputs give equal answers.

use outdial_sdk::prelude::*;
use outdial_sdk::retry::outcome_group;

/// Outcome groups that get their own base delay.
const OUTCOME_KEYS: [&str; 6] = [
    "busy",
    "no_answer",
    "voicemail",
    "call_screening",
    "failed",
    "answered",
];

pub struct Backoff {
    /// Base delay per entry of `OUTCOME_KEYS`, in milliseconds.
    base_ms: [i64; 6],
    multiplier: f64,
    max_delay_ms: i64,
    jitter: f64,
}

impl Plugin for Backoff {
    fn metadata() -> Metadata {
        Metadata::retry_strategy("retry-backoff", env!("CARGO_PKG_VERSION"))
            .key(
                "base_delay",
                false,
                "Delay before the first retry. Default: 5m.",
            )
            .key(
                "base_delay_busy",
                false,
                "Base delay after a busy line. Default: base_delay.",
            )
            .key(
                "base_delay_no_answer",
                false,
                "Base delay after no answer. Default: base_delay.",
            )
            .key(
                "base_delay_voicemail",
                false,
                "Base delay after voicemail. Default: base_delay.",
            )
            .key(
                "base_delay_call_screening",
                false,
                "Base delay after call screening. Default: base_delay.",
            )
            .key(
                "base_delay_failed",
                false,
                "Base delay after a failed call. Default: base_delay.",
            )
            .key(
                "base_delay_answered",
                false,
                "Base delay after a non-terminal answered call. Default: base_delay.",
            )
            .key(
                "multiplier",
                false,
                "Growth factor per further attempt. Default: 2.",
            )
            .key("max_delay", false, "Upper bound of any delay. Default: 4h.")
            .key(
                "jitter",
                false,
                "Random spread as a fraction of the delay, 0 to 1. Default: 0.2.",
            )
    }

    fn configure(config: &Config) -> Result<Self, PluginError> {
        let base = config.duration_ms_or("base_delay", 5 * MINUTE_MS)?;
        let mut base_ms = [base; 6];
        for (slot, outcome) in base_ms.iter_mut().zip(OUTCOME_KEYS) {
            *slot = config.duration_ms_or(&format!("base_delay_{outcome}"), base)?;
        }
        let multiplier: f64 = config.parse_or("multiplier", 2.0)?;
        if !(1.0..=100.0).contains(&multiplier) {
            return Err(PluginError::InvalidConfig(format!(
                "key \"multiplier\" has value \"{multiplier}\": expected 1 to 100"
            )));
        }
        let jitter: f64 = config.parse_or("jitter", 0.2)?;
        if !(0.0..=1.0).contains(&jitter) {
            return Err(PluginError::InvalidConfig(format!(
                "key \"jitter\" has value \"{jitter}\": expected 0 to 1"
            )));
        }
        Ok(Backoff {
            base_ms,
            multiplier,
            max_delay_ms: config.duration_ms_or("max_delay", 4 * HOUR_MS)?,
            jitter,
        })
    }
}

impl RetryStrategy for Backoff {
    fn decide(&self, input: &RetryInput) -> Result<Decision, PluginError> {
        let last = input.last_attempt()?;
        if let Some(settled) = input.settled_by_disposition_or_limit() {
            return Ok(settled);
        }
        let base = self.base_ms[outcome_group(&last)] as f64;
        let exponent = input.attempts_made().saturating_sub(1).min(60) as i32;
        let delay = (base * self.multiplier.powi(exponent)).min(self.max_delay_ms as f64);
        // Spread retries over [delay * (1 - jitter), delay * (1 + jitter)],
        // seeded from the attempt id so the decision is reproducible.
        let spread = (unit_interval(input.seed()) * 2.0 - 1.0) * self.jitter;
        let delay = (delay * (1.0 + spread)).clamp(0.0, self.max_delay_ms as f64) as i64;
        Ok(Decision::RetryAt(input.now + delay))
    }
}

/// A number in [0, 1) taken from the top 53 bits of `seed`.
fn unit_interval(seed: u64) -> f64 {
    (seed >> 11) as f64 / (1u64 << 53) as f64
}

outdial_sdk::export_retry_strategy!(Backoff);

#[cfg(test)]
mod tests {
    use super::*;
    use outdial_sdk::testing::{attempt, retry_input};

    fn backoff(pairs: &[(&str, &str)]) -> Backoff {
        Backoff::configure(&Config::from_pairs(pairs)).expect("valid config")
    }

    #[test]
    fn the_delay_doubles_with_each_attempt_up_to_the_maximum() {
        let plugin = backoff(&[("base_delay", "10m"), ("jitter", "0"), ("max_delay", "30m")]);
        let mut input = retry_input(5);
        let delays: Vec<i64> = (1..=4)
            .map(|n| {
                input.push(attempt(n, CallOutcome::NoAnswer));
                match plugin.decide(&input).unwrap() {
                    Decision::RetryAt(at) => at - input.now,
                    other => panic!("expected a retry, got {other:?}"),
                }
            })
            .collect();
        assert_eq!(
            delays,
            [
                10 * MINUTE_MS,
                20 * MINUTE_MS,
                30 * MINUTE_MS,
                30 * MINUTE_MS
            ]
        );
    }

    #[test]
    fn each_outcome_uses_its_own_base_delay() {
        let plugin = backoff(&[
            ("base_delay_busy", "2m"),
            ("base_delay_no_answer", "1h"),
            ("jitter", "0"),
        ]);
        let mut busy = retry_input(3);
        busy.push(attempt(1, CallOutcome::Busy));
        let mut unanswered = retry_input(3);
        unanswered.push(attempt(1, CallOutcome::NoAnswer));
        assert_eq!(
            plugin.decide(&busy).unwrap(),
            Decision::RetryAt(busy.now + 2 * MINUTE_MS)
        );
        assert_eq!(
            plugin.decide(&unanswered).unwrap(),
            Decision::RetryAt(unanswered.now + HOUR_MS)
        );
    }

    #[test]
    fn jitter_stays_within_its_fraction_and_repeats_for_the_same_attempt() {
        let plugin = backoff(&[("base_delay", "10m"), ("jitter", "0.5")]);
        for n in 0..200 {
            let mut input = retry_input(3);
            let mut last = attempt(1, CallOutcome::Busy);
            last.attempt.id = format!("attempt-{n}");
            input.push(last);
            let first = plugin.decide(&input).unwrap();
            assert_eq!(first, plugin.decide(&input).unwrap());
            let Decision::RetryAt(at) = first else {
                panic!("expected a retry")
            };
            let delay = at - input.now;
            assert!((5 * MINUTE_MS..=15 * MINUTE_MS).contains(&delay), "{delay}");
        }
    }

    #[test]
    fn it_gives_up_when_attempts_are_exhausted_or_the_disposition_is_terminal() {
        let plugin = backoff(&[]);
        let mut input = retry_input(2);
        input.push(attempt(1, CallOutcome::Busy));
        input.push(attempt(2, CallOutcome::Busy));
        assert!(matches!(
            plugin.decide(&input).unwrap(),
            Decision::GiveUp(_)
        ));

        let mut input = retry_input(5);
        let mut answered = attempt(1, CallOutcome::Answered);
        answered.disposition = Some(Disposition::new("do_not_call", true));
        input.push(answered);
        assert_eq!(
            plugin.decide(&input).unwrap(),
            Decision::GiveUp("disposition \"do_not_call\" is terminal".to_string())
        );
    }

    #[test]
    fn a_requested_callback_becomes_a_follow_up() {
        let plugin = backoff(&[]);
        let mut input = retry_input(5);
        let mut answered = attempt(1, CallOutcome::Answered);
        let mut disposition = Disposition::new("callback_requested", false);
        disposition.follow_up_at = Some(input.now + DAY_MS);
        answered.disposition = Some(disposition);
        input.push(answered);
        assert_eq!(
            plugin.decide(&input).unwrap(),
            Decision::FollowUpAt(input.now + DAY_MS)
        );
    }

    #[test]
    fn bad_config_values_are_refused_with_their_key() {
        let err = Backoff::configure(&Config::from_pairs(&[("jitter", "2")]))
            .err()
            .unwrap();
        assert!(format!("{err:?}").contains("jitter"));
        let err = Backoff::configure(&Config::from_pairs(&[("max_delay", "often")]))
            .err()
            .unwrap();
        assert!(format!("{err:?}").contains("max_delay"));
    }
}
