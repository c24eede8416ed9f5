//! Batch progress and statistics, with the field names operators know from
//! other batch-calling products, read in O(1) from the store's counters.

use serde::Serialize;

use crate::model::{BatchStatus, Blocker, CallOutcome, ContactStatus, Millis};
use crate::store::{BatchRecord, ContactRecord, Counters, RecentCall};

/// Recent calls shown with a batch's progress.
pub const RECENT_CALLS: usize = 10;

/// How a recent call ended, as Trillet names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecentCallStatus {
    /// The call was answered.
    Completed,
    /// Busy, no answer, failed, canceled, or an end not known.
    Failed,
}

/// A recently ended call, under Trillet's names, with outdial's
/// `contact_id`, `disposition` and `reason` beside them.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RecentCallView {
    /// The attempt's id.
    #[serde(rename = "jobId")]
    pub job_id: String,
    pub status: RecentCallStatus,
    #[schema(value_type = crate::model::schema::E164)]
    pub phone_number: String,
    /// When an answered call ended; absent for a failed one.
    #[serde(rename = "completedAt", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub completed_at: Option<Millis>,
    /// When a failed call ended; absent for an answered one.
    #[serde(rename = "failedAt", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub failed_at: Option<Millis>,
    /// Talk time in seconds.
    pub duration: f64,
    /// Why a failed call failed, e.g. "Number busy"; absent for an
    /// answered one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Number busy")]
    pub error: Option<String>,
    pub contact_id: String,
    /// The classifier's label, when it gave one.
    pub disposition: Option<String>,
    /// The attempt's ended reason, when one was recorded.
    pub reason: Option<String>,
}

impl From<RecentCall> for RecentCallView {
    fn from(call: RecentCall) -> Self {
        let answered = call.outcome == Some(CallOutcome::Answered);
        let error = (!answered).then(|| {
            let what = match call.outcome {
                Some(CallOutcome::Busy) => "Number busy",
                Some(CallOutcome::NoAnswer) => "No answer",
                Some(CallOutcome::Canceled) => "Call canceled",
                Some(CallOutcome::Failed) => "Call failed",
                Some(CallOutcome::Answered) | Some(CallOutcome::Unknown) | None => {
                    "Call ended with no known result"
                }
            };
            match &call.reason {
                Some(reason) => format!("{what}: {reason}"),
                None => what.to_string(),
            }
        });
        RecentCallView {
            job_id: call.attempt_id,
            status: if answered {
                RecentCallStatus::Completed
            } else {
                RecentCallStatus::Failed
            },
            phone_number: call.phone,
            completed_at: answered.then_some(call.ended_at),
            failed_at: (!answered).then_some(call.ended_at),
            duration: call.talk_ms as f64 / 1_000.0,
            error,
            contact_id: call.contact_id,
            disposition: call.disposition,
            reason: call.reason,
        }
    }
}

/// Where a batch stands.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchProgress {
    pub status: BatchStatus,
    pub is_complete: bool,
    /// Contacts waiting for a dial.
    pub waiting: u64,
    /// Contacts with a call live.
    pub active: u64,
    /// Contacts that reached `completed`.
    pub completed: u64,
    /// Contacts given up on without success (skipped ones excluded).
    pub failed: u64,
    pub total: u64,
    /// When the batch first started dialing, ms since the epoch.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub start_time: Option<Millis>,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub last_completed_time: Option<Millis>,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub completed_time: Option<Millis>,
    /// Mean talk time of answered calls, in seconds.
    pub average_call_duration: f64,
    #[serde(rename = "recent_calls")]
    pub recent_calls: Vec<RecentCallView>,
}

/// A batch's rates and estimates.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchStatistics {
    pub total: u64,
    /// Contacts past their first dial: dialed at least once, or taken out
    /// before one. `processed + pending = total`.
    pub processed: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Contacts waiting for their first dial.
    pub pending: u64,
    pub percent_complete: f64,
    /// Succeeded out of contacts given up on or completed, in percent.
    pub success_rate: f64,
    /// Calls placed per second since the start.
    pub calls_per_second: f64,
    /// Seconds until every contact is final at the rate so far.
    pub estimated_time_remaining: Option<f64>,
    /// Seconds since the start.
    pub elapsed_time: f64,
}

fn failed(counters: &Counters) -> u64 {
    [
        ContactStatus::Failed,
        ContactStatus::Busy,
        ContactStatus::NoAnswer,
        ContactStatus::MaxRetriesReached,
    ]
    .into_iter()
    .map(|status| counters.status(status))
    .sum()
}

impl BatchProgress {
    /// Progress of `batch` from its counters and latest calls.
    pub fn new(batch: &BatchRecord, counters: &Counters, recent_calls: Vec<RecentCall>) -> Self {
        let average_call_duration = if counters.answered == 0 {
            0.0
        } else {
            counters.talk_ms as f64 / counters.answered as f64 / 1_000.0
        };
        BatchProgress {
            status: batch.status,
            is_complete: batch.status.is_final(),
            waiting: counters.waiting(),
            active: counters.live(),
            completed: counters.status(ContactStatus::Completed),
            failed: failed(counters),
            total: counters.total,
            start_time: batch.started_at,
            last_completed_time: batch.last_completed_at,
            completed_time: batch.completed_at,
            average_call_duration,
            recent_calls: recent_calls.into_iter().map(RecentCallView::from).collect(),
        }
    }
}

impl BatchStatistics {
    /// Statistics of `batch` at `now`.
    pub fn new(batch: &BatchRecord, counters: &Counters, now: Millis) -> Self {
        let finished = counters.finished();
        let succeeded = counters.status(ContactStatus::Completed);
        let failed = failed(counters);
        let pending = counters.status(ContactStatus::Pending);
        let processed = counters.total.saturating_sub(pending);
        let placed = counters.attempts.saturating_sub(counters.system_retries);
        let elapsed_ms = batch.started_at.map_or(0, |start| {
            batch
                .completed_at
                .unwrap_or(now)
                .saturating_sub(start)
                .max(0)
        });
        let elapsed = elapsed_ms as f64 / 1_000.0;
        let percent = |part: u64, whole: u64| {
            if whole == 0 {
                0.0
            } else {
                part as f64 * 100.0 / whole as f64
            }
        };
        let remaining = counters.total.saturating_sub(finished);
        let estimated_time_remaining = if remaining == 0 {
            Some(0.0)
        } else if finished == 0 || elapsed <= 0.0 {
            None
        } else {
            Some(remaining as f64 / (finished as f64 / elapsed))
        };
        BatchStatistics {
            total: counters.total,
            processed,
            succeeded,
            failed,
            pending,
            percent_complete: percent(finished, counters.total),
            success_rate: percent(succeeded, succeeded + failed),
            calls_per_second: if elapsed > 0.0 {
                placed as f64 / elapsed
            } else {
                0.0
            },
            estimated_time_remaining,
            elapsed_time: elapsed,
        }
    }
}

/// Why a contact is not being dialed right now, as the operator sees it:
/// the batch's own state first, then the contact's recorded blocker, then
/// a retry wait.
pub fn effective_blocker(
    batch: &BatchRecord,
    contact: &ContactRecord,
    now: Millis,
) -> Option<Blocker> {
    if !contact.status.is_waiting() {
        return None;
    }
    match batch.status {
        BatchStatus::Pending => return Some(Blocker::ScheduledStart),
        BatchStatus::Paused if batch.status_reason.as_deref() == Some("plugin_faulted") => {
            return Some(Blocker::PluginFaulted);
        }
        BatchStatus::Paused => return Some(Blocker::BatchPaused),
        _ => {}
    }
    contact.blocker.or_else(|| {
        contact
            .next_eligible_at
            .filter(|at| *at > now)
            .map(|_| Blocker::RetryWait)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(outcome: CallOutcome, reason: Option<&str>) -> RecentCall {
        RecentCall {
            attempt_id: "att_1".into(),
            contact_id: "c-1".into(),
            phone: "+12125550101".into(),
            outcome: Some(outcome),
            disposition: None,
            ended_at: 1_703_101_200_000,
            talk_ms: 42_500,
            status: ContactStatus::Retrying,
            reason: reason.map(str::to_string),
        }
    }

    #[test]
    fn an_answered_call_is_completed_at_its_end_with_its_duration_in_seconds() {
        let view =
            serde_json::to_value(RecentCallView::from(call(CallOutcome::Answered, None))).unwrap();
        assert_eq!(view["jobId"], "att_1");
        assert_eq!(view["status"], "completed");
        assert_eq!(view["phone_number"], "+12125550101");
        assert_eq!(view["completedAt"], 1_703_101_200_000_i64);
        assert_eq!(view["duration"], 42.5);
        for absent in ["failedAt", "error"] {
            assert!(view.get(absent).is_none(), "{absent} in {view}");
        }
    }

    #[test]
    fn a_busy_call_failed_at_its_end_and_says_why() {
        let view =
            serde_json::to_value(RecentCallView::from(call(CallOutcome::Busy, None))).unwrap();
        assert_eq!(view["status"], "failed");
        assert_eq!(view["failedAt"], 1_703_101_200_000_i64);
        assert_eq!(view["error"], "Number busy");
        assert!(view.get("completedAt").is_none());
        let failed = RecentCallView::from(call(CallOutcome::Failed, Some("invalid_number")));
        assert_eq!(failed.error.as_deref(), Some("Call failed: invalid_number"));
        assert_eq!(failed.reason.as_deref(), Some("invalid_number"));
    }
}
