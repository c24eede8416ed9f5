//! Retry strategies: decide, after an attempt has ended, when to dial again.

pub use crate::wit::retry_world::exports::outdial::plugin::retry::{
    Decision, LocalTime, PolicyLimits, RetryInput,
};
use crate::{Attempt, CallOutcome, LabelledAttempt, MachineDetection, Plugin, PluginError};

/// A plugin that decides what happens after an attempt has ended.
///
/// The host clamps every decision to the calling window and the attempt
/// limit, so a strategy only has to express its intent.
pub trait RetryStrategy: Plugin {
    /// Decide after the last attempt in `input.history` has ended.
    fn decide(&self, input: &RetryInput) -> Result<Decision, PluginError>;
}

impl RetryInput {
    /// The attempt that just ended, if any.
    pub fn last(&self) -> Option<&LabelledAttempt> {
        self.history.last()
    }

    /// How many attempts have been made so far.
    pub fn attempts_made(&self) -> u32 {
        self.history.len() as u32
    }

    /// True when no further attempt is allowed.
    pub fn attempts_exhausted(&self) -> bool {
        self.attempts_made() >= self.limits.max_attempts
    }

    /// The attempt that just ended, or an error when the host sent none.
    pub fn last_attempt(&self) -> Result<&LabelledAttempt, PluginError> {
        self.last()
            .ok_or_else(|| PluginError::InvalidInput("history is empty".to_string()))
    }

    /// What most strategies decide before their own logic: follow up when
    /// the contact asked for it, give up on a terminal disposition or when
    /// every attempt is used; `None` when the strategy has to decide.
    pub fn settled_by_disposition_or_limit(&self) -> Option<Decision> {
        if let Some(disposition) = self.last().and_then(|last| last.disposition.as_ref()) {
            if let Some(at) = disposition.follow_up_at {
                return Some(Decision::FollowUpAt(at.max(self.now)));
            }
            if disposition.terminal {
                return Some(Decision::GiveUp(format!(
                    "disposition \"{}\" is terminal",
                    disposition.label
                )));
            }
        }
        self.attempts_exhausted().then(|| {
            Decision::GiveUp(format!(
                "{} of {} attempts made",
                self.attempts_made(),
                self.limits.max_attempts
            ))
        })
    }
}

/// Index of the outcome group an attempt belongs to, the way strategies
/// usually tell outcomes apart: 0 busy, 1 no answer, 2 voicemail (or fax),
/// 3 call screening, 4 failed (or canceled, unknown), 5 answered by a person.
pub fn outcome_group(attempt: &Attempt) -> usize {
    match (attempt.outcome, attempt.machine_detection) {
        (CallOutcome::Busy, _) => 0,
        (CallOutcome::NoAnswer, _) => 1,
        (CallOutcome::Answered, MachineDetection::Machine | MachineDetection::Fax) => 2,
        (CallOutcome::Answered, MachineDetection::CallScreening) => 3,
        (CallOutcome::Answered, _) => 5,
        (CallOutcome::Failed | CallOutcome::Canceled | CallOutcome::Unknown, _) => 4,
    }
}

impl LocalTime {
    /// The UTC instant of `hour:minute` local time, `days_ahead` days from
    /// this local date, assuming the current UTC offset still holds.
    pub fn at_local(&self, now_utc_ms: i64, days_ahead: i64, hour: u8, minute: u8) -> i64 {
        let seconds_into_day =
            i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second);
        let midnight = now_utc_ms - seconds_into_day * 1000 - now_utc_ms.rem_euclid(1000);
        midnight
            + days_ahead * crate::DAY_MS
            + (i64::from(hour) * 3600 + i64::from(minute) * 60) * 1000
    }
}

/// Export `$plugin`, a [`RetryStrategy`], as the component's implementation
/// of the `retry-strategy` world. Expands to nothing outside Wasm, so the
/// same crate builds and tests natively.
#[macro_export]
macro_rules! export_retry_strategy {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::__private::wit::retry_world as bindings;

            struct OutdialExport;

            impl bindings::exports::outdial::plugin::retry::Guest for OutdialExport {
                fn describe() -> $crate::Metadata {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Plugin>::metadata()
                }
                fn configure(config: Vec<(String, String)>) -> Result<(), $crate::PluginError> {
                    $crate::__private::configure::<$plugin>(config)
                }
                fn decide(
                    input: $crate::retry::RetryInput,
                ) -> Result<$crate::retry::Decision, $crate::PluginError> {
                    $crate::__private::with_plugin(|plugin: &$plugin| {
                        $crate::retry::RetryStrategy::decide(plugin, &input)
                    })
                }
            }

    bindings::export_retry_world!(OutdialExport with_types_in bindings);
        };
    };
}
