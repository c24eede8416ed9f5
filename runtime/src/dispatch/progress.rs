//! Batch progress and statistics, with the field names operators know from
//! other batch-calling products, read in O(1) from the store's counters.

use serde::Serialize;

use crate::model::{BatchStatus, Blocker, ContactStatus, Millis};
use crate::store::{BatchRecord, ContactRecord, Counters, RecentCall};

/// Recent calls shown with a batch's progress.
pub const RECENT_CALLS: usize = 10;

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
    pub recent_calls: Vec<RecentCall>,
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
            recent_calls,
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
