//! Builders for plugin unit tests: a contact, attempts and inputs with
//! sensible values, to be adjusted field by field.

use crate::classifier::ClassifyInput;
use crate::retry::{LocalTime, PolicyLimits, RetryInput};
use crate::{Attempt, CallOutcome, Contact, LabelledAttempt, MachineDetection};

/// 2026-03-02 15:00:00 UTC, a Monday: the decision time of test inputs.
pub const TEST_NOW_MS: i64 = 1_772_463_600_000;

/// A contact in New York.
pub fn contact() -> Contact {
    Contact {
        id: "contact-1".to_string(),
        phone: "+12125550100".to_string(),
        time_zone: "America/New_York".to_string(),
        attributes: vec![("name".to_string(), "Ada".to_string())],
    }
}

/// Attempt number `number`, ended an hour before [`TEST_NOW_MS`] with
/// `outcome`, without a disposition.
pub fn attempt(number: u32, outcome: CallOutcome) -> LabelledAttempt {
    LabelledAttempt {
        attempt: plain_attempt(number, outcome),
        disposition: None,
    }
}

/// The bare attempt behind [`attempt`].
pub fn plain_attempt(number: u32, outcome: CallOutcome) -> Attempt {
    let answered = outcome == CallOutcome::Answered;
    let ended_at = TEST_NOW_MS - 3_600_000;
    Attempt {
        id: format!("attempt-{number}"),
        number,
        started_at: ended_at - 60_000,
        answered_at: answered.then_some(ended_at - 45_000),
        ended_at,
        outcome,
        sip_code: None,
        talk_ms: if answered { 45_000 } else { 0 },
        ring_ms: 15_000,
        machine_detection: if answered {
            MachineDetection::Human
        } else {
            MachineDetection::NotRun
        },
        transcript: None,
        cost_micros: None,
        metadata: Vec::new(),
    }
}

/// A retry input for [`contact`] at [`TEST_NOW_MS`] (10:00 in New York)
/// with an empty history; add attempts with [`RetryInput::push`].
pub fn retry_input(max_attempts: u32) -> RetryInput {
    RetryInput::new(
        contact(),
        TEST_NOW_MS,
        LocalTime {
            year: 2026,
            month: 3,
            day: 2,
            hour: 10,
            minute: 0,
            second: 0,
            weekday: 0,
            utc_offset_seconds: -5 * 3600,
        },
        PolicyLimits { max_attempts },
    )
}

/// A classification of `attempt` on [`contact`] with no earlier attempts;
/// add them with [`ClassifyInput::with_earlier`].
pub fn classify_input(attempt: Attempt) -> ClassifyInput {
    ClassifyInput::new(contact(), attempt)
}
