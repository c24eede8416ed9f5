//! Retry strategies: decide, after an attempt has ended, when to dial again.

use std::cell::OnceCell;

pub use crate::wit::retry_world::exports::outdial::plugin::retry::{
    Decision, LocalTime, PolicyLimits,
};
pub use crate::{AttemptOutline, DispositionOutline};
use crate::{CallOutcome, Contact, LabelledAttempt, MachineDetection, Plugin, PluginError};

/// A plugin that decides what happens after an attempt has ended.
///
/// The host clamps every decision to the calling window and the attempt
/// limit, so a strategy only has to express its intent.
pub trait RetryStrategy: Plugin {
    /// Decide after the last attempt of `input` has ended.
    fn decide(&self, input: &RetryInput) -> Result<Decision, PluginError>;
}

/// Everything a retry decision may depend on.
///
/// The time and the limits are fields. The attempts and the contact are
/// read through methods: inside a plugin each asks the host for just what
/// it returns, so a strategy pays only for what it reads; in a native test
/// they come from what the test gave ([`RetryInput::new`],
/// [`RetryInput::push`]).
#[derive(Debug)]
pub struct RetryInput {
    /// The decision time, UTC.
    pub now: crate::TimestampMs,
    /// The decision time on the contact's local clock.
    pub now_local: LocalTime,
    pub limits: PolicyLimits,
    attempts_made: u32,
    seed: u64,
    source: Source,
    /// The last attempt's outline, read at most once per decision.
    last: OnceCell<Option<AttemptOutline>>,
}

#[derive(Debug)]
enum Source {
    /// Read from the host while `decide` runs.
    #[cfg(target_arch = "wasm32")]
    Host,
    /// Given in full by a test.
    Given {
        contact: Contact,
        history: Vec<LabelledAttempt>,
    },
}

impl RetryInput {
    /// An input for `contact` with no attempts yet; add them with
    /// [`RetryInput::push`].
    pub fn new(
        contact: Contact,
        now: crate::TimestampMs,
        now_local: LocalTime,
        limits: PolicyLimits,
    ) -> Self {
        let seed = fnv1a(&contact.id);
        RetryInput {
            now,
            now_local,
            limits,
            attempts_made: 0,
            seed,
            source: Source::Given {
                contact,
                history: Vec::new(),
            },
            last: OnceCell::new(),
        }
    }

    /// Add the attempt that ended last.
    ///
    /// # Panics
    ///
    /// On an input the host handed to a plugin: its history is the host's.
    pub fn push(&mut self, attempt: LabelledAttempt) {
        match &mut self.source {
            Source::Given { history, .. } => {
                self.seed = fnv1a(&attempt.attempt.id);
                history.push(attempt);
                self.attempts_made = history.len() as u32;
                self.last = OnceCell::new();
            }
            #[cfg(target_arch = "wasm32")]
            Source::Host => panic!("the history of a decision the host asked for is read-only"),
        }
    }

    /// How many attempts have been made so far; the last one just ended.
    pub fn attempts_made(&self) -> u32 {
        self.attempts_made
    }

    /// True when no further attempt is allowed.
    pub fn attempts_exhausted(&self) -> bool {
        self.attempts_made >= self.limits.max_attempts
    }

    /// A number derived from the id of the attempt that just ended (or the
    /// contact's id before any), the same whenever this decision is asked
    /// again: the seed for jitter.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The outline of attempt `number` (1 is the first), if there is one.
    pub fn outline(&self, number: u32) -> Option<AttemptOutline> {
        if number == 0 || number > self.attempts_made {
            return None;
        }
        match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host => host::outline(number),
            Source::Given { history, .. } => {
                history.get(number as usize - 1).map(AttemptOutline::of)
            }
        }
    }

    /// The outline of the attempt that just ended, if any.
    pub fn last(&self) -> Option<AttemptOutline> {
        *self.last.get_or_init(|| self.outline(self.attempts_made))
    }

    /// The attempt that just ended, or an error when there is none.
    pub fn last_attempt(&self) -> Result<AttemptOutline, PluginError> {
        self.last()
            .ok_or_else(|| PluginError::InvalidInput("no attempt has been made".to_string()))
    }

    /// The outlines of every attempt so far, oldest first.
    pub fn outlines(&self) -> Vec<AttemptOutline> {
        match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host => host::outlines(),
            Source::Given { history, .. } => history.iter().map(AttemptOutline::of).collect(),
        }
    }

    /// The disposition label of attempt `number`, e.g. "voicemail", if it
    /// was classified.
    pub fn label(&self, number: u32) -> Option<String> {
        if number == 0 || number > self.attempts_made {
            return None;
        }
        match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host => host::label(number),
            Source::Given { history, .. } => history
                .get(number as usize - 1)
                .and_then(|labelled| labelled.disposition.as_ref())
                .map(|disposition| disposition.label.clone()),
        }
    }

    /// Attempt `number` in full: its id, transcript, metadata and
    /// disposition.
    pub fn attempt(&self, number: u32) -> Option<LabelledAttempt> {
        if number == 0 || number > self.attempts_made {
            return None;
        }
        match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host => host::attempt(number),
            Source::Given { history, .. } => history.get(number as usize - 1).cloned(),
        }
    }

    /// The contact being decided on.
    pub fn contact(&self) -> Contact {
        match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host => host::get_contact(),
            Source::Given { contact, .. } => contact.clone(),
        }
    }

    /// What most strategies decide before their own logic: follow up when
    /// the contact asked for it, give up on a terminal disposition or when
    /// every attempt is used; `None` when the strategy has to decide.
    pub fn settled_by_disposition_or_limit(&self) -> Option<Decision> {
        if let Some(last) = self.last()
            && let Some(disposition) = last.disposition
        {
            if let Some(at) = disposition.follow_up_at {
                return Some(Decision::FollowUpAt(at.max(self.now)));
            }
            if disposition.terminal {
                let label = self.label(last.number).unwrap_or_default();
                return Some(Decision::GiveUp(format!(
                    "disposition \"{label}\" is terminal"
                )));
            }
        }
        self.attempts_exhausted().then(|| {
            Decision::GiveUp(format!(
                "{} of {} attempts made",
                self.attempts_made, self.limits.max_attempts
            ))
        })
    }

    /// The input the host hands a plugin's `decide`.
    #[cfg(target_arch = "wasm32")]
    #[doc(hidden)]
    pub fn from_host(
        input: crate::wit::retry_world::exports::outdial::plugin::retry::RetryInput,
    ) -> Self {
        RetryInput {
            now: input.now,
            now_local: input.now_local,
            limits: input.limits,
            attempts_made: input.attempts_made,
            seed: input.seed,
            source: Source::Host,
            last: OnceCell::new(),
        }
    }
}

#[cfg(target_arch = "wasm32")]
use crate::wit::retry_world::outdial::plugin::retry_context as host;

impl AttemptOutline {
    /// The outline of a whole attempt, as the host makes it.
    pub fn of(labelled: &LabelledAttempt) -> Self {
        let attempt = &labelled.attempt;
        AttemptOutline {
            number: attempt.number,
            started_at: attempt.started_at,
            answered_at: attempt.answered_at,
            ended_at: attempt.ended_at,
            outcome: attempt.outcome,
            sip_code: attempt.sip_code,
            talk_ms: attempt.talk_ms,
            ring_ms: attempt.ring_ms,
            machine_detection: attempt.machine_detection,
            cost_micros: attempt.cost_micros,
            disposition: labelled
                .disposition
                .as_ref()
                .map(|disposition| DispositionOutline {
                    terminal: disposition.terminal,
                    score: disposition.score,
                    sentiment: disposition.sentiment,
                    follow_up_at: disposition.follow_up_at,
                }),
        }
    }
}

/// FNV-1a of `key`: the host derives a decision's seed the same way.
fn fnv1a(key: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Index of the outcome group an attempt belongs to, the way strategies
/// usually tell outcomes apart: 0 busy, 1 no answer, 2 voicemail (or fax),
/// 3 call screening, 4 failed (or canceled, unknown), 5 answered by a person.
pub fn outcome_group(attempt: &AttemptOutline) -> usize {
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
                    input: bindings::exports::outdial::plugin::retry::RetryInput,
                ) -> Result<$crate::retry::Decision, $crate::PluginError> {
                    let input = $crate::retry::RetryInput::from_host(input);
                    $crate::__private::with_plugin(|plugin: &$plugin| {
                        $crate::retry::RetryStrategy::decide(plugin, &input)
                    })
                }
            }

    bindings::export_retry_world!(OutdialExport with_types_in bindings);
        };
    };
}
