//! Dialgen's call statuses: one word per call for people who read a call
//! list, derived from an attempt rather than stored.

use serde::{Deserialize, Serialize};

use super::{Attempt, CallOutcome, MachineDetection};

/// Where one call stands, as a call list shows it.
///
/// | attempt | status |
/// |---|---|
/// | the next planned dial of a waiting contact (not an attempt yet) | `SCHEDULED` |
/// | not ended | `ONGOING` |
/// | ended, answered by a person (or not screened for a machine) | `COMPLETED` |
/// | ended, answered by a machine: voicemail | `MISSED` |
/// | ended `busy` or `no_answer` | `MISSED` |
/// | ended, answered by a fax line | `FAILED` |
/// | ended `failed`, `canceled`, `unknown` or without an outcome | `FAILED` |
/// | refused by the provider before dialing (a system retry) | `FAILED` |
///
/// The host's own reasons for ending an attempt (`interrupted`,
/// `placement_unknown`, `invalid_number`, `store_error`, ...) always come
/// with a `failed` or `unknown` outcome, so they read `FAILED`; the outcome
/// decides, not the reason, so a provider's free-form reason never turns an
/// answered call into a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CallStatus {
    /// Queued and waiting to be dialed.
    Scheduled,
    /// Dialed and not ended.
    Ongoing,
    /// Ended after someone took the call.
    Completed,
    /// Ended unanswered: busy, no answer, voicemail.
    Missed,
    /// Ended without reaching a person for a technical reason.
    Failed,
}

impl CallStatus {
    /// The status of `attempt`; see the table on [`CallStatus`].
    pub fn of(attempt: &Attempt) -> CallStatus {
        if attempt.ended_at.is_none() {
            return CallStatus::Ongoing;
        }
        if attempt.system_retry {
            return CallStatus::Failed;
        }
        match attempt.outcome {
            Some(CallOutcome::Answered) => match attempt.machine_detection {
                MachineDetection::Machine => CallStatus::Missed,
                MachineDetection::Fax => CallStatus::Failed,
                MachineDetection::NotRun
                | MachineDetection::Human
                | MachineDetection::CallScreening
                | MachineDetection::Unknown => CallStatus::Completed,
            },
            Some(CallOutcome::Busy | CallOutcome::NoAnswer) => CallStatus::Missed,
            Some(CallOutcome::Failed | CallOutcome::Canceled | CallOutcome::Unknown) | None => {
                CallStatus::Failed
            }
        }
    }

    /// The status as it appears in the API and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Scheduled => "SCHEDULED",
            CallStatus::Ongoing => "ONGOING",
            CallStatus::Completed => "COMPLETED",
            CallStatus::Missed => "MISSED",
            CallStatus::Failed => "FAILED",
        }
    }
}

impl std::fmt::Display for CallStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(outcome: Option<CallOutcome>) -> Attempt {
        let mut attempt = Attempt::started("btc_1-0-1".to_string(), 1, 1_000);
        attempt.ended_at = Some(31_000);
        attempt.outcome = outcome;
        attempt
    }

    fn answered_by(detection: MachineDetection) -> Attempt {
        let mut attempt = ended(Some(CallOutcome::Answered));
        attempt.machine_detection = detection;
        attempt
    }

    fn with_reason(mut attempt: Attempt, reason: &str) -> Attempt {
        attempt
            .metadata
            .push(("reason".to_string(), reason.to_string()));
        attempt
    }

    #[test]
    fn an_attempt_not_ended_is_ongoing_even_once_answered() {
        let mut attempt = Attempt::started("btc_1-0-1".to_string(), 1, 1_000);
        assert_eq!(CallStatus::of(&attempt), CallStatus::Ongoing);
        attempt.answered_at = Some(2_000);
        assert_eq!(CallStatus::of(&attempt), CallStatus::Ongoing);
    }

    #[test]
    fn an_answered_call_is_completed_when_a_person_or_no_detection_took_it() {
        for detection in [
            MachineDetection::NotRun,
            MachineDetection::Human,
            MachineDetection::CallScreening,
            MachineDetection::Unknown,
        ] {
            assert_eq!(
                CallStatus::of(&answered_by(detection)),
                CallStatus::Completed,
                "{detection:?}"
            );
        }
    }

    #[test]
    fn a_call_answered_by_voicemail_is_missed() {
        assert_eq!(
            CallStatus::of(&answered_by(MachineDetection::Machine)),
            CallStatus::Missed
        );
    }

    #[test]
    fn a_call_answered_by_a_fax_line_failed() {
        assert_eq!(
            CallStatus::of(&answered_by(MachineDetection::Fax)),
            CallStatus::Failed
        );
    }

    #[test]
    fn a_busy_line_is_missed() {
        assert_eq!(
            CallStatus::of(&ended(Some(CallOutcome::Busy))),
            CallStatus::Missed
        );
    }

    #[test]
    fn no_answer_is_missed() {
        assert_eq!(
            CallStatus::of(&ended(Some(CallOutcome::NoAnswer))),
            CallStatus::Missed
        );
    }

    #[test]
    fn a_failed_call_failed() {
        assert_eq!(
            CallStatus::of(&ended(Some(CallOutcome::Failed))),
            CallStatus::Failed
        );
    }

    #[test]
    fn a_canceled_call_failed_as_its_contact_does() {
        assert_eq!(
            CallStatus::of(&ended(Some(CallOutcome::Canceled))),
            CallStatus::Failed
        );
    }

    #[test]
    fn an_unknown_outcome_or_none_at_all_failed() {
        assert_eq!(
            CallStatus::of(&ended(Some(CallOutcome::Unknown))),
            CallStatus::Failed
        );
        assert_eq!(CallStatus::of(&ended(None)), CallStatus::Failed);
    }

    #[test]
    fn attempts_the_host_ended_itself_failed() {
        let ends = [
            (CallOutcome::Unknown, "interrupted"),
            (CallOutcome::Unknown, "placement_unknown"),
            (CallOutcome::Failed, "invalid_number"),
            (CallOutcome::Failed, "store_error"),
            (CallOutcome::Failed, "lost_final_event"),
        ];
        for (outcome, reason) in ends {
            let attempt = with_reason(ended(Some(outcome)), reason);
            assert_eq!(CallStatus::of(&attempt), CallStatus::Failed, "{reason}");
        }
    }

    #[test]
    fn a_providers_reason_does_not_turn_an_answered_call_into_a_failure() {
        let attempt = with_reason(answered_by(MachineDetection::Human), "customer-hangup");
        assert_eq!(CallStatus::of(&attempt), CallStatus::Completed);
    }

    #[test]
    fn a_dial_the_provider_refused_before_dialing_failed() {
        let mut attempt = ended(Some(CallOutcome::Failed));
        attempt.system_retry = true;
        assert_eq!(CallStatus::of(&attempt), CallStatus::Failed);
    }

    #[test]
    fn statuses_are_upper_case_on_the_wire() {
        for status in [
            CallStatus::Scheduled,
            CallStatus::Ongoing,
            CallStatus::Completed,
            CallStatus::Missed,
            CallStatus::Failed,
        ] {
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
    }
}
