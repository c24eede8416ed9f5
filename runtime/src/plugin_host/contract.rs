//! The plugin contract as the host speaks it: the WIT types, the inputs a
//! retry decision and a classification read, and the conversions from the
//! engine's model to what plugins are handed.

use super::bindings::{classifier, gate, provider, retry, types};
use crate::model;
use crate::policy::RetryRequest;

/// The WIT-level types of the plugin contract, for callers that speak to
/// plugins directly (the conformance harness, benchmarks).
pub mod wit {
    pub use super::classifier::exports::outdial::plugin::classifier::EndedAttempt;
    pub use super::gate::exports::outdial::plugin::gate::{
        Candidate, Deferral, LocalTime as GateLocalTime, PhoneHistory, Verdict,
    };
    pub use super::provider::exports::outdial::plugin::provider::{
        CallEvent, CallRequest, CallState, HttpRequest, HttpResponse, InboundWebhook,
        ProviderError, WebhookError,
    };
    pub use super::retry::exports::outdial::plugin::retry::{Decision, LocalTime, PolicyLimits};
    pub use super::types::{
        Attempt, AttemptOutline, CallOutcome, Contact, Disposition, DispositionOutline,
        LabelledAttempt, MachineDetection, PluginError,
    };
    pub use super::{ClassifyInput, RetryInput};
}

/// Everything a retry decision may depend on, as the host holds it while a
/// strategy decides. The strategy is handed the time, the limits and the
/// number of attempts, and reads the rest through `retry-context`.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryInput {
    pub contact: wit::Contact,
    /// Every attempt so far, oldest first; the last one just ended.
    pub history: Vec<wit::LabelledAttempt>,
    pub limits: wit::PolicyLimits,
    /// The decision time, UTC.
    pub now: i64,
    /// The decision time on the contact's local clock.
    pub now_local: wit::LocalTime,
}

impl RetryInput {
    /// What `decide` itself is handed.
    pub(super) fn handed(&self, seed: u64) -> retry::exports::outdial::plugin::retry::RetryInput {
        retry::exports::outdial::plugin::retry::RetryInput {
            now: self.now,
            now_local: self.now_local,
            limits: self.limits,
            attempts_made: self.history.len() as u32,
            seed,
        }
    }

    /// Attempt `number` (1 is the first), if there is one.
    pub(super) fn attempt(&self, number: u32) -> Option<&wit::LabelledAttempt> {
        self.history.get((number as usize).checked_sub(1)?)
    }
}

/// Everything a classification may depend on, as the host holds it while a
/// classifier labels an attempt. A 0.3.0 classifier is handed the ended
/// attempt's scalars and reads the rest through `classify-context`; older
/// ones are handed the contact and the attempts whole.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifyInput {
    pub contact: wit::Contact,
    /// The attempt that just ended.
    pub attempt: wit::Attempt,
    /// The contact's earlier attempts, oldest first.
    pub earlier: Vec<wit::Attempt>,
    /// The disposition of each earlier attempt, when it was classified: one
    /// per attempt of `earlier`, kept apart so older classifiers are handed
    /// `earlier` as it is.
    pub earlier_dispositions: Vec<Option<wit::Disposition>>,
}

impl ClassifyInput {
    /// An input whose earlier attempts carry no dispositions.
    pub fn new(contact: wit::Contact, attempt: wit::Attempt, earlier: Vec<wit::Attempt>) -> Self {
        let earlier_dispositions = vec![None; earlier.len()];
        ClassifyInput {
            contact,
            attempt,
            earlier,
            earlier_dispositions,
        }
    }

    /// What a 0.3.0 `classify` itself is handed.
    pub(super) fn handed(&self) -> wit::EndedAttempt {
        let attempt = &self.attempt;
        wit::EndedAttempt {
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
            earlier_attempts: self.earlier.len() as u32,
        }
    }

    /// Earlier attempt `number` (1 is the first) with its disposition.
    pub(super) fn earlier(
        &self,
        number: u32,
    ) -> Option<(&wit::Attempt, Option<&wit::Disposition>)> {
        let index = (number as usize).checked_sub(1)?;
        let attempt = self.earlier.get(index)?;
        let disposition = self
            .earlier_dispositions
            .get(index)
            .and_then(Option::as_ref);
        Some((attempt, disposition))
    }
}

/// The outline of an attempt with its disposition: everything but its text.
pub(super) fn outline_of_parts(
    attempt: &wit::Attempt,
    disposition: Option<&wit::Disposition>,
) -> wit::AttemptOutline {
    wit::AttemptOutline {
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
        disposition: disposition.map(|disposition| wit::DispositionOutline {
            terminal: disposition.terminal,
            score: disposition.score,
            sentiment: disposition.sentiment,
            follow_up_at: disposition.follow_up_at,
        }),
    }
}

/// The outline a strategy reads of an attempt: everything but its text.
pub(super) fn outline_of(labelled: &wit::LabelledAttempt) -> wit::AttemptOutline {
    outline_of_parts(&labelled.attempt, labelled.disposition.as_ref())
}

/// The WIT input of a retry decision, whole.
pub(crate) fn retry_input(request: &RetryRequest) -> RetryInput {
    let local = request.now_local;
    RetryInput {
        contact: contact_to_wit(&request.contact),
        history: request
            .history
            .iter()
            .map(|attempt| wit::LabelledAttempt {
                attempt: attempt_to_wit(attempt),
                disposition: attempt.disposition.as_ref().map(disposition_to_wit),
            })
            .collect(),
        limits: wit::PolicyLimits {
            max_attempts: request.max_attempts,
        },
        now: request.now,
        now_local: local_time_to_wit(local),
    }
}

/// What a 0.3.0 or 0.2.0 `decide` is handed for `request`.
pub(super) fn handed_retry(
    request: &RetryRequest,
    seed: u64,
) -> retry::exports::outdial::plugin::retry::RetryInput {
    retry::exports::outdial::plugin::retry::RetryInput {
        now: request.now,
        now_local: local_time_to_wit(request.now_local),
        limits: wit::PolicyLimits {
            max_attempts: request.max_attempts,
        },
        attempts_made: request.history.len() as u32,
        seed,
    }
}

/// A gate candidate as the gate is handed it.
pub(crate) fn candidate_to_wit(candidate: &crate::policy::GateCandidate) -> wit::Candidate {
    let local = candidate.now_local;
    let history = &candidate.history;
    wit::Candidate {
        contact: contact_to_wit(&candidate.contact),
        campaign_id: candidate.campaign_id.clone(),
        batch_id: candidate.batch_id.clone(),
        attempt_number: candidate.attempt_number,
        now: candidate.now,
        now_local: wit::GateLocalTime {
            year: local.year,
            month: local.month,
            day: local.day,
            hour: local.hour,
            minute: local.minute,
            second: local.second,
            weekday: local.weekday,
            utc_offset_seconds: local.utc_offset_seconds,
        },
        history: wit::PhoneHistory {
            attempts_past_day: history.attempts_past_day,
            attempts_past_week: history.attempts_past_week,
            attempts_past_month: history.attempts_past_month,
            last_attempt_at: history.last_attempt_at,
            last_label: history.last_label.clone(),
        },
        suppression_lists: candidate.lists.clone(),
    }
}

fn local_time_to_wit(local: crate::policy::LocalTime) -> wit::LocalTime {
    wit::LocalTime {
        year: local.year,
        month: local.month,
        day: local.day,
        hour: local.hour,
        minute: local.minute,
        second: local.second,
        weekday: local.weekday,
        utc_offset_seconds: local.utc_offset_seconds,
    }
}

/// A contact as plugins see it.
pub fn contact_to_wit(contact: &model::Contact) -> wit::Contact {
    wit::Contact {
        id: contact.id.clone(),
        phone: contact.phone.clone(),
        time_zone: contact.time_zone.clone(),
        attributes: contact.attributes.clone(),
    }
}

/// An ended attempt as plugins see it; a live one is reported as unknown.
pub fn attempt_to_wit(attempt: &model::Attempt) -> wit::Attempt {
    wit::Attempt {
        id: attempt.id.clone(),
        number: attempt.number,
        started_at: attempt.started_at,
        answered_at: attempt.answered_at,
        ended_at: attempt.ended_at.unwrap_or(attempt.started_at),
        outcome: outcome_to_wit(attempt.outcome),
        sip_code: attempt.sip_code,
        talk_ms: attempt.talk_ms,
        ring_ms: attempt.ring_ms,
        machine_detection: machine_detection_to_wit(attempt.machine_detection),
        transcript: attempt.transcript.clone(),
        cost_micros: attempt.cost_micros,
        metadata: attempt.metadata.clone(),
    }
}

/// How a call ended as plugins see it; a live one is unknown.
pub fn outcome_to_wit(outcome: Option<model::CallOutcome>) -> wit::CallOutcome {
    match outcome {
        Some(model::CallOutcome::Answered) => wit::CallOutcome::Answered,
        Some(model::CallOutcome::Busy) => wit::CallOutcome::Busy,
        Some(model::CallOutcome::NoAnswer) => wit::CallOutcome::NoAnswer,
        Some(model::CallOutcome::Failed) => wit::CallOutcome::Failed,
        Some(model::CallOutcome::Canceled) => wit::CallOutcome::Canceled,
        Some(model::CallOutcome::Unknown) | None => wit::CallOutcome::Unknown,
    }
}

/// Answering-machine detection as plugins see it.
pub fn machine_detection_to_wit(detection: model::MachineDetection) -> wit::MachineDetection {
    match detection {
        model::MachineDetection::NotRun => wit::MachineDetection::NotRun,
        model::MachineDetection::Human => wit::MachineDetection::Human,
        model::MachineDetection::Machine => wit::MachineDetection::Machine,
        model::MachineDetection::CallScreening => wit::MachineDetection::CallScreening,
        model::MachineDetection::Fax => wit::MachineDetection::Fax,
        model::MachineDetection::Unknown => wit::MachineDetection::Unknown,
    }
}

pub(crate) fn disposition_to_wit(disposition: &model::Disposition) -> wit::Disposition {
    wit::Disposition {
        label: disposition.label.clone(),
        terminal: disposition.terminal,
        score: disposition.score,
        sentiment: disposition.sentiment,
        follow_up_at: disposition.follow_up_at,
    }
}
