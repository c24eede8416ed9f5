//! A retry strategy in fifteen lines: wait a fixed delay, give up at the
//! attempt limit or on a terminal disposition.

use outdial_sdk::prelude::*;

pub struct FixedDelay(i64);

impl Plugin for FixedDelay {
    fn metadata() -> Metadata {
        Metadata::retry_strategy("fixed-delay", "0.1.0").key("delay", false, "Wait before each retry. Default: 15m.")
    }
    fn configure(config: &Config) -> Result<Self, PluginError> {
        Ok(FixedDelay(config.duration_ms_or("delay", 15 * MINUTE_MS)?))
    }
}

impl RetryStrategy for FixedDelay {
    fn decide(&self, input: &RetryInput) -> Result<Decision, PluginError> {
        let terminal = input.last().and_then(|last| last.disposition).is_some_and(|d| d.terminal);
        if terminal || input.attempts_exhausted() {
            return Ok(Decision::GiveUp("done".to_string()));
        }
        Ok(Decision::RetryAt(input.now + self.0))
    }
}

outdial_sdk::export_retry_strategy!(FixedDelay);

#[cfg(test)]
mod tests {
    use super::*;
    use outdial_sdk::testing::{attempt, retry_input};

    #[test]
    fn it_retries_after_the_configured_delay_until_attempts_run_out() {
        let plugin = FixedDelay::configure(&Config::from_pairs(&[("delay", "5m")])).unwrap();
        let mut input = retry_input(2);
        input.push(attempt(1, CallOutcome::Busy));
        assert_eq!(plugin.decide(&input).unwrap(), Decision::RetryAt(input.now + 5 * MINUTE_MS));
        input.push(attempt(2, CallOutcome::Busy));
        assert_eq!(plugin.decide(&input).unwrap(), Decision::GiveUp("done".to_string()));
    }
}
