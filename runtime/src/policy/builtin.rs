//! Built-in policies: what the runtime falls back to when a plugin faults.
//! Deliberately simple and conservative.

use std::sync::Arc;

use super::{Classifier, ClassifyRequest, PolicyFault, RetryPolicy, RetryRequest};
use crate::model::{CallOutcome, Decision, Disposition, MINUTE_MS, MachineDetection};

/// Retry every non-terminal outcome after a fixed delay until the attempt
/// limit; follow up when asked to.
#[derive(Debug, Clone)]
pub struct BuiltinRetry {
    pub delay_ms: i64,
}

impl Default for BuiltinRetry {
    fn default() -> Self {
        BuiltinRetry {
            delay_ms: 30 * MINUTE_MS,
        }
    }
}

impl RetryPolicy for BuiltinRetry {
    fn identity(&self) -> &str {
        "builtin:retry"
    }

    fn decide(&self, request: &Arc<RetryRequest>) -> Result<Decision, PolicyFault> {
        let last = request.history.last();
        if let Some(disposition) = last.and_then(|attempt| attempt.disposition.as_ref()) {
            if let Some(at) = disposition.follow_up_at {
                return Ok(Decision::FollowUpAt {
                    at: at.max(request.now),
                });
            }
            if disposition.terminal {
                return Ok(Decision::GiveUp {
                    reason: format!("disposition \"{}\" is terminal", disposition.label),
                });
            }
        }
        if request.history.len() as u32 >= request.max_attempts {
            return Ok(Decision::GiveUp {
                reason: format!(
                    "{} of {} attempts made",
                    request.history.len(),
                    request.max_attempts
                ),
            });
        }
        Ok(Decision::RetryAt {
            at: request.now + self.delay_ms,
        })
    }
}

/// Labels from the outcome and answering-machine detection alone.
#[derive(Debug, Clone, Default)]
pub struct BuiltinClassifier;

impl Classifier for BuiltinClassifier {
    fn identity(&self) -> &str {
        "builtin:classifier"
    }

    fn classify(&self, request: &Arc<ClassifyRequest>) -> Result<Disposition, PolicyFault> {
        let attempt = &request.attempt;
        let (label, terminal) = match (attempt.outcome, attempt.machine_detection) {
            (Some(CallOutcome::Answered), MachineDetection::Machine | MachineDetection::Fax) => {
                ("voicemail", false)
            }
            (Some(CallOutcome::Answered), MachineDetection::CallScreening) => {
                ("call_screening", false)
            }
            (Some(CallOutcome::Answered), _) => ("human_answered", true),
            (Some(CallOutcome::Busy), _) => ("busy", false),
            (Some(CallOutcome::NoAnswer), _) => ("no_answer", false),
            _ => ("failed", false),
        };
        Ok(Disposition {
            label: label.to_string(),
            terminal,
            score: None,
            sentiment: None,
            follow_up_at: None,
        })
    }
}
