//! What a plugin reads while it runs, from whoever holds the call's input:
//! the engine's own records (converted only as far as the plugin reads
//! them) or an input given in WIT types (the conformance harness, the
//! benchmarks). The sandbox answers `retry-context` and `classify-context`
//! through these.

use super::contract::{
    ClassifyInput, RetryInput, attempt_to_wit, contact_to_wit, disposition_to_wit,
    machine_detection_to_wit, outcome_to_wit, outline_of, outline_of_parts, wit,
};
use crate::model;
use crate::policy::{ClassifyRequest, RetryRequest};

/// What a retry strategy reads through `retry-context`.
pub(crate) trait RetryContext: Send + Sync {
    /// The outline of attempt `number` (1 is the first), if there is one.
    fn outline(&self, number: u32) -> Option<wit::AttemptOutline>;
    /// Every attempt's outline, oldest first.
    fn outlines(&self) -> Vec<wit::AttemptOutline>;
    /// The disposition label of attempt `number`, if it was classified.
    fn label(&self, number: u32) -> Option<String>;
    /// Attempt `number` in full.
    fn attempt(&self, number: u32) -> Option<wit::LabelledAttempt>;
    fn contact(&self) -> wit::Contact;
}

/// What a classifier reads through `classify-context`.
pub(crate) trait ClassifyContext: Send + Sync {
    fn transcript(&self) -> Option<&str>;
    /// The ended attempt's first metadata value under `key`.
    fn metadata_value(&self, key: &str) -> Option<&str>;
    fn ended_attempt(&self) -> wit::Attempt;
    /// How many earlier attempts there are.
    fn earlier_count(&self) -> usize;
    /// The outline of earlier attempt `number` (1 is the first), if any.
    fn earlier_outline(&self, number: u32) -> Option<wit::AttemptOutline>;
    fn earlier_label(&self, number: u32) -> Option<String>;
    fn earlier_attempt(&self, number: u32) -> Option<wit::LabelledAttempt>;
    fn contact(&self) -> wit::Contact;
}

impl RetryContext for RetryInput {
    fn outline(&self, number: u32) -> Option<wit::AttemptOutline> {
        self.attempt(number).map(outline_of)
    }

    fn outlines(&self) -> Vec<wit::AttemptOutline> {
        self.history.iter().map(outline_of).collect()
    }

    fn label(&self, number: u32) -> Option<String> {
        let labelled = self.attempt(number)?;
        Some(labelled.disposition.as_ref()?.label.clone())
    }

    fn attempt(&self, number: u32) -> Option<wit::LabelledAttempt> {
        RetryInput::attempt(self, number).cloned()
    }

    fn contact(&self) -> wit::Contact {
        self.contact.clone()
    }
}

/// Attempt `number` (1 is the first) of `attempts`.
fn numbered(attempts: &[model::Attempt], number: u32) -> Option<&model::Attempt> {
    attempts.get((number as usize).checked_sub(1)?)
}

/// The outline of a recorded attempt: the same as of its WIT form, without
/// converting its text.
fn model_outline(attempt: &model::Attempt) -> wit::AttemptOutline {
    wit::AttemptOutline {
        number: attempt.number,
        started_at: attempt.started_at,
        answered_at: attempt.answered_at,
        ended_at: attempt.ended_at.unwrap_or(attempt.started_at),
        outcome: outcome_to_wit(attempt.outcome),
        sip_code: attempt.sip_code,
        talk_ms: attempt.talk_ms,
        ring_ms: attempt.ring_ms,
        machine_detection: machine_detection_to_wit(attempt.machine_detection),
        cost_micros: attempt.cost_micros,
        disposition: attempt
            .disposition
            .as_ref()
            .map(|disposition| wit::DispositionOutline {
                terminal: disposition.terminal,
                score: disposition.score,
                sentiment: disposition.sentiment,
                follow_up_at: disposition.follow_up_at,
            }),
    }
}

fn labelled(attempt: &model::Attempt) -> wit::LabelledAttempt {
    wit::LabelledAttempt {
        attempt: attempt_to_wit(attempt),
        disposition: attempt.disposition.as_ref().map(disposition_to_wit),
    }
}

impl RetryContext for RetryRequest {
    fn outline(&self, number: u32) -> Option<wit::AttemptOutline> {
        numbered(&self.history, number).map(model_outline)
    }

    fn outlines(&self) -> Vec<wit::AttemptOutline> {
        self.history.iter().map(model_outline).collect()
    }

    fn label(&self, number: u32) -> Option<String> {
        let attempt = numbered(&self.history, number)?;
        Some(attempt.disposition.as_ref()?.label.clone())
    }

    fn attempt(&self, number: u32) -> Option<wit::LabelledAttempt> {
        numbered(&self.history, number).map(labelled)
    }

    fn contact(&self) -> wit::Contact {
        contact_to_wit(&self.contact)
    }
}

impl ClassifyContext for ClassifyInput {
    fn transcript(&self) -> Option<&str> {
        self.attempt.transcript.as_deref()
    }

    fn metadata_value(&self, key: &str) -> Option<&str> {
        first_value(&self.attempt.metadata, key)
    }

    fn ended_attempt(&self) -> wit::Attempt {
        self.attempt.clone()
    }

    fn earlier_count(&self) -> usize {
        self.earlier.len()
    }

    fn earlier_outline(&self, number: u32) -> Option<wit::AttemptOutline> {
        let (attempt, disposition) = self.earlier(number)?;
        Some(outline_of_parts(attempt, disposition))
    }

    fn earlier_label(&self, number: u32) -> Option<String> {
        let (_, disposition) = self.earlier(number)?;
        Some(disposition?.label.clone())
    }

    fn earlier_attempt(&self, number: u32) -> Option<wit::LabelledAttempt> {
        let (attempt, disposition) = self.earlier(number)?;
        Some(wit::LabelledAttempt {
            attempt: attempt.clone(),
            disposition: disposition.cloned(),
        })
    }

    fn contact(&self) -> wit::Contact {
        self.contact.clone()
    }
}

impl ClassifyContext for ClassifyRequest {
    fn transcript(&self) -> Option<&str> {
        self.attempt.transcript.as_deref()
    }

    fn metadata_value(&self, key: &str) -> Option<&str> {
        first_value(&self.attempt.metadata, key)
    }

    fn ended_attempt(&self) -> wit::Attempt {
        attempt_to_wit(&self.attempt)
    }

    fn earlier_count(&self) -> usize {
        self.previous.len()
    }

    fn earlier_outline(&self, number: u32) -> Option<wit::AttemptOutline> {
        numbered(&self.previous, number).map(model_outline)
    }

    fn earlier_label(&self, number: u32) -> Option<String> {
        let attempt = numbered(&self.previous, number)?;
        Some(attempt.disposition.as_ref()?.label.clone())
    }

    fn earlier_attempt(&self, number: u32) -> Option<wit::LabelledAttempt> {
        numbered(&self.previous, number).map(labelled)
    }

    fn contact(&self) -> wit::Contact {
        contact_to_wit(&self.contact)
    }
}

fn first_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}

/// What a 0.3.0 `classify` is handed for `request`: its ended attempt's
/// scalars.
pub(super) fn ended_attempt_of(request: &ClassifyRequest) -> wit::EndedAttempt {
    let attempt = &request.attempt;
    wit::EndedAttempt {
        number: attempt.number,
        started_at: attempt.started_at,
        answered_at: attempt.answered_at,
        ended_at: attempt.ended_at.unwrap_or(attempt.started_at),
        outcome: outcome_to_wit(attempt.outcome),
        sip_code: attempt.sip_code,
        talk_ms: attempt.talk_ms,
        ring_ms: attempt.ring_ms,
        machine_detection: machine_detection_to_wit(attempt.machine_detection),
        cost_micros: attempt.cost_micros,
        transcript_bytes: attempt
            .transcript
            .as_ref()
            .map(|text| u32::try_from(text.len()).unwrap_or(u32::MAX)),
        earlier_attempts: request.previous.len() as u32,
    }
}

/// The whole input of `request` in WIT types, for classifiers built against
/// 0.2.0 or 0.1.0, which are handed it.
pub(super) fn classify_input_of(request: &ClassifyRequest) -> ClassifyInput {
    ClassifyInput {
        contact: contact_to_wit(&request.contact),
        attempt: attempt_to_wit(&request.attempt),
        earlier: request.previous.iter().map(attempt_to_wit).collect(),
        earlier_dispositions: request
            .previous
            .iter()
            .map(|attempt| attempt.disposition.as_ref().map(disposition_to_wit))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::{CallOutcome, Disposition, MachineDetection};
    use crate::policy::LocalTime;

    fn recorded_attempt(number: u32) -> model::Attempt {
        let mut attempt = model::Attempt::started(format!("attempt-{number}"), number, 1_000);
        attempt.ended_at = Some(21_000);
        attempt.outcome = Some(CallOutcome::Answered);
        attempt.sip_code = Some(200);
        attempt.talk_ms = 15_000;
        attempt.machine_detection = MachineDetection::Human;
        attempt.transcript = Some(format!("transcript {number}"));
        attempt.metadata = vec![("ended_reason".to_string(), "hangup".to_string())];
        attempt.disposition = Some(Disposition {
            label: "interested".to_string(),
            terminal: true,
            score: Some(0.9),
            sentiment: None,
            follow_up_at: None,
        });
        attempt
    }

    fn contact() -> model::Contact {
        model::Contact {
            id: "contact-1".to_string(),
            phone: "+12125550100".to_string(),
            time_zone: "America/New_York".to_string(),
            attributes: vec![("name".to_string(), "Ada".to_string())],
        }
    }

    #[test]
    fn the_engines_records_answer_as_their_wit_form_would() {
        let request = RetryRequest {
            contact: contact(),
            history: vec![recorded_attempt(1), recorded_attempt(2)],
            max_attempts: 3,
            now: 60_000,
            now_local: LocalTime::at(60_000, chrono_tz::UTC),
        };
        let given = crate::plugin_host::contract::retry_input(&request);
        for number in 0..=3 {
            assert_eq!(
                RetryContext::outline(&request, number),
                RetryContext::outline(&given, number),
                "outline {number}"
            );
            assert_eq!(request.label(number), given.label(number), "label {number}");
            assert_eq!(
                RetryContext::attempt(&request, number),
                RetryContext::attempt(&given, number),
                "attempt {number}"
            );
        }
        assert_eq!(request.outlines(), given.outlines());
        assert_eq!(
            RetryContext::contact(&request),
            RetryContext::contact(&given)
        );

        let classify = ClassifyRequest {
            contact: contact(),
            attempt: recorded_attempt(3),
            previous: request.history.clone(),
        };
        let given = Arc::new(classify_input_of(&classify));
        assert_eq!(ended_attempt_of(&classify), given.handed());
        assert_eq!(classify.transcript(), given.transcript());
        assert_eq!(
            classify.metadata_value("ended_reason"),
            given.metadata_value("ended_reason")
        );
        assert_eq!(classify.ended_attempt(), given.ended_attempt());
        assert_eq!(classify.earlier_count(), given.earlier_count());
        for number in 0..=3 {
            assert_eq!(
                classify.earlier_outline(number),
                given.earlier_outline(number),
                "earlier outline {number}"
            );
            assert_eq!(
                classify.earlier_label(number),
                given.earlier_label(number),
                "earlier label {number}"
            );
            assert_eq!(
                classify.earlier_attempt(number),
                given.earlier_attempt(number),
                "earlier attempt {number}"
            );
        }
        assert_eq!(
            ClassifyContext::contact(&classify),
            ClassifyContext::contact(&*given)
        );
    }
}
