//! A fixed ladder of retry steps per outcome, e.g. busy: 10 min, 10 min;
//! no answer: 2 h, then next day at 10:00 local; voicemail: give up.

use outdial_sdk::prelude::*;
use outdial_sdk::retry::outcome_group;

/// One rung of a ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Retry after this many milliseconds.
    After(i64),
    /// Retry the next local day at this hour and minute.
    NextDayAt(u8, u8),
    /// Stop calling.
    GiveUp,
}

/// Outcome groups, each with its own ladder, and their defaults.
const LADDERS: [(&str, &str); 6] = [
    ("busy", "10m, 10m, 30m"),
    ("no_answer", "2h, next_day@10:00"),
    ("voicemail", "give_up"),
    ("call_screening", "next_day@11:00"),
    ("failed", "15m, 1h"),
    ("answered", "give_up"),
];

pub struct Schedule {
    ladders: Vec<Vec<Step>>,
}

impl Plugin for Schedule {
    fn metadata() -> Metadata {
        let mut metadata = Metadata::retry_strategy("retry-schedule", env!("CARGO_PKG_VERSION"));
        for (outcome, default) in LADDERS {
            metadata = metadata.key(
                outcome,
                false,
                &format!(
                    "Steps after {}: durations (\"10m\"), \"next_day@HH:MM\" local, or \"give_up\", comma-separated; the n-th such outcome takes the n-th step and past the end gives up. Default: \"{default}\".",
                    outcome.replace('_', " ")
                ),
            );
        }
        metadata
    }

    fn configure(config: &Config) -> Result<Self, PluginError> {
        let ladders = LADDERS
            .iter()
            .map(|(outcome, default)| {
                let raw = config.get(outcome).unwrap_or(default);
                parse_ladder(raw).map_err(|problem| {
                    PluginError::InvalidConfig(format!(
                        "key \"{outcome}\" has value \"{raw}\": {problem}"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Schedule { ladders })
    }
}

impl RetryStrategy for Schedule {
    fn decide(&self, input: &RetryInput) -> Result<Decision, PluginError> {
        let last = input.last_attempt()?;
        if let Some(settled) = input.settled_by_disposition_or_limit() {
            return Ok(settled);
        }
        let group = outcome_group(&last);
        let same_outcome = input
            .outlines()
            .iter()
            .filter(|outline| outcome_group(outline) == group)
            .count();
        let ladder = &self.ladders[group];
        let step = ladder
            .get(same_outcome - 1)
            .copied()
            .unwrap_or(Step::GiveUp);
        Ok(match step {
            Step::After(delay) => Decision::RetryAt(input.now + delay),
            Step::NextDayAt(hour, minute) => {
                Decision::RetryAt(input.now_local.at_local(input.now, 1, hour, minute))
            }
            Step::GiveUp if same_outcome > ladder.len() => Decision::GiveUp(format!(
                "{} ladder exhausted after {} steps",
                LADDERS[group].0,
                ladder.len()
            )),
            Step::GiveUp => Decision::GiveUp(format!("{} gives up", LADDERS[group].0)),
        })
    }
}

fn parse_ladder(raw: &str) -> Result<Vec<Step>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|step| !step.is_empty())
        .map(parse_step)
        .collect()
}

fn parse_step(step: &str) -> Result<Step, String> {
    if step == "give_up" {
        return Ok(Step::GiveUp);
    }
    if let Some(time) = step.strip_prefix("next_day@") {
        let parsed = time
            .split_once(':')
            .and_then(|(hour, minute)| Some((hour.parse::<u8>().ok()?, minute.parse::<u8>().ok()?)))
            .filter(|(hour, minute)| *hour < 24 && *minute < 60);
        return parsed
            .map(|(hour, minute)| Step::NextDayAt(hour, minute))
            .ok_or_else(|| format!("step \"{step}\" needs a time like next_day@10:00"));
    }
    outdial_sdk::duration::parse_duration_ms(step)
        .map(Step::After)
        .ok_or_else(|| format!("step \"{step}\" is not a duration, next_day@HH:MM or give_up"))
}

outdial_sdk::export_retry_strategy!(Schedule);

#[cfg(test)]
mod tests {
    use super::*;
    use outdial_sdk::testing::{attempt, retry_input};

    fn schedule(pairs: &[(&str, &str)]) -> Schedule {
        Schedule::configure(&Config::from_pairs(pairs)).expect("valid config")
    }

    #[test]
    fn a_busy_line_climbs_its_ladder_and_then_gives_up() {
        let plugin = schedule(&[("busy", "10m, 30m")]);
        let mut input = retry_input(10);
        input.push(attempt(1, CallOutcome::Busy));
        assert_eq!(
            plugin.decide(&input).unwrap(),
            Decision::RetryAt(input.now + 10 * MINUTE_MS)
        );
        input.push(attempt(2, CallOutcome::Busy));
        assert_eq!(
            plugin.decide(&input).unwrap(),
            Decision::RetryAt(input.now + 30 * MINUTE_MS)
        );
        input.push(attempt(3, CallOutcome::Busy));
        assert_eq!(
            plugin.decide(&input).unwrap(),
            Decision::GiveUp("busy ladder exhausted after 2 steps".to_string())
        );
    }

    #[test]
    fn a_ladder_step_may_be_a_sum_of_units() {
        let plugin = schedule(&[("busy", "1h30m")]);
        let mut input = retry_input(10);
        input.push(attempt(1, CallOutcome::Busy));
        assert_eq!(
            plugin.decide(&input).unwrap(),
            Decision::RetryAt(input.now + 90 * MINUTE_MS)
        );
    }

    #[test]
    fn no_answer_is_retried_the_next_local_morning() {
        let plugin = schedule(&[]);
        let mut input = retry_input(10);
        input.push(attempt(1, CallOutcome::NoAnswer));
        input.push(attempt(2, CallOutcome::NoAnswer));
        // Now is 10:00 in New York (UTC-5); the next day at 10:00 is 24 h on.
        assert_eq!(
            plugin.decide(&input).unwrap(),
            Decision::RetryAt(input.now + DAY_MS)
        );
    }

    #[test]
    fn voicemail_gives_up_by_default() {
        let plugin = schedule(&[]);
        let mut input = retry_input(10);
        let mut voicemail = attempt(1, CallOutcome::Answered);
        voicemail.attempt.machine_detection = MachineDetection::Machine;
        input.push(voicemail);
        assert_eq!(
            plugin.decide(&input).unwrap(),
            Decision::GiveUp("voicemail gives up".to_string())
        );
    }

    #[test]
    fn outcomes_count_their_own_steps() {
        let plugin = schedule(&[("busy", "1m, 2m"), ("no_answer", "1h, 3h")]);
        let mut input = retry_input(10);
        input.push(attempt(1, CallOutcome::Busy));
        input.push(attempt(2, CallOutcome::NoAnswer));
        assert_eq!(
            plugin.decide(&input).unwrap(),
            Decision::RetryAt(input.now + HOUR_MS)
        );
    }

    #[test]
    fn a_malformed_step_is_refused_with_its_key() {
        let err = Schedule::configure(&Config::from_pairs(&[("busy", "10m, tomorrow")]))
            .err()
            .unwrap();
        assert_eq!(
            err,
            PluginError::InvalidConfig(
                "key \"busy\" has value \"10m, tomorrow\": step \"tomorrow\" is not a duration, next_day@HH:MM or give_up".to_string()
            )
        );
        assert!(Schedule::configure(&Config::from_pairs(&[("busy", "next_day@25:00")])).is_err());
    }
}
