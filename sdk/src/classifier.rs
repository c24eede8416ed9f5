//! Disposition classifiers: say what an ended call means.

use std::cell::OnceCell;

pub use crate::wit::classifier_world::exports::outdial::plugin::classifier::EndedAttempt;
use crate::{Attempt, AttemptOutline, Contact, Disposition, LabelledAttempt, Plugin, PluginError};

/// A plugin that labels ended attempts.
///
/// Every label it can return must be listed in its metadata's `labels`;
/// the host refuses any other.
pub trait Classifier: Plugin {
    /// Label the attempt of `input`, which just ended.
    fn classify(&self, input: &ClassifyInput) -> Result<Disposition, PluginError>;
}

/// What a classification may depend on.
///
/// The ended attempt's scalars (outcome, SIP code, talk time, answering
/// machine detection, ...) are the field `ended`. Its transcript and
/// metadata, the earlier attempts and the contact are read through
/// methods: inside a plugin each asks the host for just what it returns,
/// so a classifier pays only for what it reads; in a native test they come
/// from what the test gave ([`ClassifyInput::new`],
/// [`ClassifyInput::with_earlier`]).
#[derive(Debug)]
pub struct ClassifyInput {
    /// The attempt that just ended, without its text.
    pub ended: EndedAttempt,
    source: Source,
    /// The transcript, read at most once per classification.
    transcript: OnceCell<Option<String>>,
}

#[derive(Debug)]
enum Source {
    /// Read from the host while `classify` runs.
    #[cfg(target_arch = "wasm32")]
    Host,
    /// Given in full by a test.
    Given {
        contact: Contact,
        attempt: Attempt,
        earlier: Vec<LabelledAttempt>,
    },
}

impl ClassifyInput {
    /// An input labelling `attempt` on `contact`, with no earlier attempts;
    /// add them with [`ClassifyInput::with_earlier`].
    pub fn new(contact: Contact, attempt: Attempt) -> Self {
        ClassifyInput {
            ended: ended_attempt(&attempt, 0),
            source: Source::Given {
                contact,
                attempt,
                earlier: Vec::new(),
            },
            transcript: OnceCell::new(),
        }
    }

    /// The same input with `earlier` as the contact's earlier attempts,
    /// oldest first.
    ///
    /// # Panics
    ///
    /// On an input the host handed to a plugin: its history is the host's.
    pub fn with_earlier(mut self, earlier: Vec<LabelledAttempt>) -> Self {
        match &mut self.source {
            Source::Given { earlier: given, .. } => {
                self.ended.earlier_attempts = earlier.len() as u32;
                *given = earlier;
            }
            #[cfg(target_arch = "wasm32")]
            Source::Host => panic!("the history of an attempt the host handed is read-only"),
        }
        self
    }

    /// The input the host hands `classify`.
    #[doc(hidden)]
    #[cfg(target_arch = "wasm32")]
    pub fn from_host(ended: EndedAttempt) -> Self {
        ClassifyInput {
            ended,
            source: Source::Host,
            transcript: OnceCell::new(),
        }
    }

    /// The ended attempt's transcript, or none when the call was not
    /// transcribed. Read from the host once, however often it is asked.
    pub fn transcript(&self) -> Option<&str> {
        self.transcript
            .get_or_init(|| match &self.source {
                #[cfg(target_arch = "wasm32")]
                Source::Host => match self.ended.transcript_bytes {
                    Some(_) => host::transcript(),
                    None => None,
                },
                Source::Given { attempt, .. } => attempt.transcript.clone(),
            })
            .as_deref()
    }

    /// The value the provider reported under `key` for the ended attempt,
    /// e.g. "ended_reason" (the first, when several share the key).
    pub fn metadata(&self, key: &str) -> Option<String> {
        match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host => host::metadata_value(key),
            Source::Given { attempt, .. } => attempt
                .metadata
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.clone()),
        }
    }

    /// The ended attempt in full: its id, transcript and metadata too.
    pub fn attempt(&self) -> Attempt {
        match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host => host::ended_attempt(),
            Source::Given { attempt, .. } => attempt.clone(),
        }
    }

    /// How many earlier attempts the contact has.
    pub fn earlier_attempts(&self) -> u32 {
        self.ended.earlier_attempts
    }

    /// The outline of earlier attempt `number` (1 is the first), if any.
    pub fn earlier_outline(&self, number: u32) -> Option<AttemptOutline> {
        if number == 0 || number > self.ended.earlier_attempts {
            return None;
        }
        match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host => host::earlier_outline(number),
            Source::Given { earlier, .. } => {
                earlier.get(number as usize - 1).map(AttemptOutline::of)
            }
        }
    }

    /// The outlines of every earlier attempt, oldest first.
    pub fn earlier_outlines(&self) -> Vec<AttemptOutline> {
        match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host => host::earlier_outlines(),
            Source::Given { earlier, .. } => earlier.iter().map(AttemptOutline::of).collect(),
        }
    }

    /// The disposition label of earlier attempt `number`, if it was
    /// classified.
    pub fn earlier_label(&self, number: u32) -> Option<String> {
        if number == 0 || number > self.ended.earlier_attempts {
            return None;
        }
        match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host => host::earlier_label(number),
            Source::Given { earlier, .. } => earlier
                .get(number as usize - 1)
                .and_then(|labelled| labelled.disposition.as_ref())
                .map(|disposition| disposition.label.clone()),
        }
    }

    /// Earlier attempt `number` in full, with its disposition.
    pub fn earlier_attempt(&self, number: u32) -> Option<LabelledAttempt> {
        if number == 0 || number > self.ended.earlier_attempts {
            return None;
        }
        match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host => host::earlier_attempt(number),
            Source::Given { earlier, .. } => earlier.get(number as usize - 1).cloned(),
        }
    }

    /// The contact the attempt was made on.
    pub fn contact(&self) -> Contact {
        match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host => host::get_contact(),
            Source::Given { contact, .. } => contact.clone(),
        }
    }
}

#[cfg(target_arch = "wasm32")]
use crate::wit::classifier_world::outdial::plugin::classify_context as host;

/// The scalars of `attempt` as the host hands them.
fn ended_attempt(attempt: &Attempt, earlier_attempts: u32) -> EndedAttempt {
    EndedAttempt {
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
        transcript_bytes: attempt
            .transcript
            .as_ref()
            .map(|text| u32::try_from(text.len()).unwrap_or(u32::MAX)),
        earlier_attempts,
    }
}

impl Disposition {
    /// A disposition with just a label and whether it ends the contact.
    pub fn new(label: &str, terminal: bool) -> Self {
        Disposition {
            label: label.to_string(),
            terminal,
            score: None,
            sentiment: None,
            follow_up_at: None,
        }
    }
}

/// Export `$plugin`, a [`Classifier`], as the component's implementation of
/// the `disposition-classifier` world. Expands to nothing outside Wasm.
#[macro_export]
macro_rules! export_classifier {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::__private::wit::classifier_world as bindings;

            struct OutdialExport;

            impl bindings::exports::outdial::plugin::classifier::Guest for OutdialExport {
                fn describe() -> $crate::Metadata {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Plugin>::metadata()
                }
                fn configure(config: Vec<(String, String)>) -> Result<(), $crate::PluginError> {
                    $crate::__private::configure::<$plugin>(config)
                }
                fn classify(
                    ended: $crate::classifier::EndedAttempt,
                ) -> Result<$crate::Disposition, $crate::PluginError> {
                    let input = $crate::classifier::ClassifyInput::from_host(ended);
                    $crate::__private::with_plugin(|plugin: &$plugin| {
                        $crate::classifier::Classifier::classify(plugin, &input)
                    })
                }
            }

    bindings::export_classifier_world!(OutdialExport with_types_in bindings);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CallOutcome;
    use crate::testing::{attempt, contact, plain_attempt};

    #[test]
    fn a_test_input_answers_from_what_the_test_gave() {
        let mut ended = plain_attempt(3, CallOutcome::Answered);
        ended.transcript = Some("call me back".to_string());
        ended.metadata = vec![("ended_reason".to_string(), "hangup".to_string())];
        let mut first = attempt(1, CallOutcome::Busy);
        first.disposition = Some(Disposition::new("busy", false));
        let input = ClassifyInput::new(contact(), ended.clone())
            .with_earlier(vec![first, attempt(2, CallOutcome::NoAnswer)]);

        assert_eq!(input.ended.talk_ms, ended.talk_ms);
        assert_eq!(input.ended.transcript_bytes, Some(12));
        assert_eq!(input.transcript(), Some("call me back"));
        assert_eq!(input.metadata("ended_reason").as_deref(), Some("hangup"));
        assert_eq!(input.metadata("summary"), None);
        assert_eq!(input.attempt(), ended);
        assert_eq!(input.earlier_attempts(), 2);
        assert_eq!(input.earlier_label(1).as_deref(), Some("busy"));
        assert_eq!(input.earlier_label(2), None, "attempt 2 was not classified");
        assert_eq!(
            input.earlier_outline(2).map(|outline| outline.outcome),
            Some(CallOutcome::NoAnswer)
        );
        assert_eq!(input.earlier_outlines().len(), 2);
        assert!(
            input.earlier_outline(3).is_none(),
            "the ended one is not earlier"
        );
        assert!(input.earlier_attempt(0).is_none());
        assert_eq!(input.contact(), contact());
    }
}
