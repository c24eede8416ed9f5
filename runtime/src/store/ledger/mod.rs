//! The rules of every write of the store contract, as pure functions.
//!
//! Each takes the records a change reads, the request and its time, and
//! returns the change: the records to write, counter deltas, statistics,
//! journal entries and contact-log lines. A backend loads the records, calls
//! these functions and applies what they return atomically and durably; it
//! decides nothing itself. Nothing here reads a clock or does I/O.
//!
//! - [`batches`]: creating a batch and changing its status.
//! - [`attempts`]: beginning, marking, ending attempts, and placement notes.
//! - [`contacts`]: blockers, skips, forced dispatch, recounts, a contact's log.
//! - [`webhooks`]: an endpoint's delivery log.
//! - [`suppression`]: a workspace's suppression lists and their entries.
//! - [`phones`]: each number's attempts across a workspace.

pub mod attempts;
pub mod batches;
pub mod contacts;
pub mod phones;
pub mod suppression;
pub mod webhooks;

#[cfg(test)]
mod tests;

use serde::Serialize;

use super::{
    ContactEvent, ContactRecord, Counters, EndedSummary, MinuteTotals, RecentCall, blocker_index,
    minute_of,
};
use crate::model::{CallOutcome, ContactStatus, EventKind, Millis};

pub use attempts::{BeginChange, EndChange, MarkChange};
pub use batches::{ContactNumbering, NumberedContact};
pub use contacts::{CountedContact, Recount, SkipKind};

/// Calls kept per batch for live monitoring, newest first.
pub const RECENT_KEPT: usize = 50;

/// A contact as a change leaves it, beside the record it replaces: a
/// backend keeps its indexes (the due index, say) from the pair.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactChange {
    /// `None` for a contact the change creates.
    pub old: Option<ContactRecord>,
    pub new: ContactRecord,
    /// Lines the change adds to the contact's log, in order.
    pub log: Vec<LogLine>,
}

impl ContactChange {
    /// A change of `old`, which starts out equal to it.
    fn of(old: ContactRecord) -> ContactChange {
        ContactChange {
            new: old.clone(),
            old: Some(old),
            log: Vec::new(),
        }
    }

    /// Adds a line to the contact's log, numbered after its last one.
    fn log(&mut self, at: Millis, kind: &str, detail: String) {
        let number = self.next_line_number();
        self.log.push(LogLine {
            number,
            event: ContactEvent {
                at,
                kind: kind.to_string(),
                detail,
            },
        });
    }

    /// Takes the next line number for a line kept elsewhere (an attempt's
    /// "ended" line is kept with the attempt).
    fn next_line_number(&mut self) -> u32 {
        self.new.event_count += 1;
        self.new.event_count
    }

    /// How the change moves the contact in the due index, which holds each
    /// waiting contact at its `next_eligible_at`.
    pub fn due_move(&self) -> DueMove {
        let due_at = |contact: &ContactRecord| {
            contact
                .next_eligible_at
                .filter(|_| contact.status.is_waiting())
        };
        let was = self.old.as_ref().and_then(due_at);
        let is = due_at(&self.new);
        if was == is {
            return DueMove::default();
        }
        DueMove {
            leaves: was,
            enters: is,
        }
    }

    /// What the change does to the status and blocker counts.
    pub fn counted(&self) -> CounterDelta {
        let mut delta = CounterDelta::default();
        if let Some(old) = &self.old {
            delta.count_contact(old, -1);
        }
        delta.count_contact(&self.new, 1);
        delta
    }
}

/// A contact's move in the due index: out of the time it was due at, into
/// the time it is due at now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueMove {
    pub leaves: Option<Millis>,
    pub enters: Option<Millis>,
}

/// One line of a contact's log and its number among the contact's lines.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub number: u32,
    pub event: ContactEvent,
}

/// Signed changes to [`Counters`], applied to the batch's and its
/// campaign's in the same write as the change they count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CounterDelta {
    pub total: i64,
    pub by_status: [i64; ContactStatus::ALL.len()],
    pub by_blocker: [i64; crate::model::Blocker::ALL.len()],
    pub attempts: i64,
    pub answered: i64,
    pub ended: i64,
    pub system_retries: i64,
    pub talk_ms: i64,
    pub cost_micros: i64,
    pub plugin_faults: i64,
    pub suppressed: i64,
    pub gate_skipped: i64,
}

fn shift(value: &mut u64, by: i64) {
    *value = value.saturating_add_signed(by);
}

impl CounterDelta {
    pub fn apply_to(&self, counters: &mut Counters) {
        shift(&mut counters.total, self.total);
        for (value, by) in counters.by_status.iter_mut().zip(self.by_status) {
            shift(value, by);
        }
        for (value, by) in counters.by_blocker.iter_mut().zip(self.by_blocker) {
            shift(value, by);
        }
        shift(&mut counters.attempts, self.attempts);
        shift(&mut counters.answered, self.answered);
        shift(&mut counters.ended, self.ended);
        shift(&mut counters.system_retries, self.system_retries);
        shift(&mut counters.talk_ms, self.talk_ms);
        shift(&mut counters.cost_micros, self.cost_micros);
        shift(&mut counters.plugin_faults, self.plugin_faults);
        shift(&mut counters.suppressed, self.suppressed);
        shift(&mut counters.gate_skipped, self.gate_skipped);
    }

    pub fn merge(&mut self, other: &CounterDelta) {
        // Destructured in full so a new counter cannot be left out.
        let CounterDelta {
            total,
            by_status,
            by_blocker,
            attempts,
            answered,
            ended,
            system_retries,
            talk_ms,
            cost_micros,
            plugin_faults,
            suppressed,
            gate_skipped,
        } = other;
        self.total += total;
        for (value, by) in self.by_status.iter_mut().zip(by_status) {
            *value += by;
        }
        for (value, by) in self.by_blocker.iter_mut().zip(by_blocker) {
            *value += by;
        }
        self.attempts += attempts;
        self.answered += answered;
        self.ended += ended;
        self.system_retries += system_retries;
        self.talk_ms += talk_ms;
        self.cost_micros += cost_micros;
        self.plugin_faults += plugin_faults;
        self.suppressed += suppressed;
        self.gate_skipped += gate_skipped;
    }

    /// Counts `contact` in (`sign` 1) or out (`sign` -1).
    fn count_contact(&mut self, contact: &ContactRecord, sign: i64) {
        self.by_status[contact.status.index()] += sign;
        self.plugin_faults += sign * i64::from(contact.gate_faults);
        if let Some(blocker) = contact.blocker {
            self.by_blocker[blocker_index(blocker)] += sign;
        }
        match SkipKind::of(contact.status, contact.final_reason.as_deref()) {
            Some(SkipKind::Suppressed) => self.suppressed += sign,
            Some(SkipKind::Gate) => self.gate_skipped += sign,
            None => {}
        }
    }
}

/// An outside notification about a batch, journaled in the same write as
/// the change it tells of, after the entries staged before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    pub kind: EventKind,
    pub at: Millis,
    pub data: JournalData,
}

/// The payload of a journal entry, what a webhook delivers as `data`.
/// Serialized as a map of its fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum JournalData {
    BatchCreated(BatchCreated),
    BatchStatus(BatchStatusData),
    CallStarted(CallStarted),
    CallEnded(CallEnded),
    ContactFinalized(ContactFinalized),
}

/// The payload of `batch.created`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchCreated {
    pub by: String,
    pub contacts: u64,
    pub scheduled_start: Option<Millis>,
}

/// The payload of every batch status event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchStatusData {
    pub by: String,
    pub reason: Option<String>,
    pub status: crate::model::BatchStatus,
}

/// The payload of `call.started`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallStarted {
    pub attempt_id: String,
    pub seq: u64,
    pub contact_id: String,
    pub phone: String,
    pub from_number: Option<String>,
    pub variant: Option<String>,
}

/// The payload of `call.ended`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallEnded {
    pub attempt_id: String,
    pub seq: u64,
    pub contact_id: String,
    pub outcome: Option<CallOutcome>,
    pub sip_code: Option<u16>,
    pub disposition: Option<String>,
    pub talk_ms: u64,
    pub cost_micros: Option<u64>,
    pub status: ContactStatus,
    pub counts_as_attempt: bool,
    pub plugin_faulted: bool,
}

/// The payload of `contact.finalized`: a contact that reached a final
/// status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactFinalized {
    pub seq: u64,
    pub contact_id: String,
    pub phone: String,
    pub status: ContactStatus,
    pub final_reason: Option<String>,
    pub disposition: Option<String>,
    pub attempts: u32,
    pub talk_ms: u64,
    pub cost_micros: u64,
}

fn contact_finalized(contact: &ContactRecord, at: Millis) -> JournalEntry {
    JournalEntry {
        kind: EventKind::ContactFinalized,
        at,
        data: JournalData::ContactFinalized(ContactFinalized {
            seq: contact.seq,
            contact_id: contact.contact_id.clone(),
            phone: contact.phone.clone(),
            status: contact.status,
            final_reason: contact.final_reason.clone(),
            disposition: contact.last_disposition.clone(),
            attempts: contact.attempts_made,
            talk_ms: contact.total_talk_ms,
            cost_micros: contact.total_cost_micros,
        }),
    }
}

/// What an attempt adds to the statistics: the batch's and campaign's
/// totals, the timeline and its caller id's totals.
#[derive(Debug, Clone, PartialEq)]
pub struct StatisticsChange {
    pub totals: Option<TotalsChange>,
    pub minutes: Vec<MinuteChange>,
    /// The caller id the attempt was placed from, and how it ended.
    pub number: Option<(String, CallOutcome)>,
}

/// An ended attempt as the attempt totals count it.
#[derive(Debug, Clone, PartialEq)]
pub enum TotalsChange {
    /// An attempt that reached the network.
    Ended(EndedFacts),
    /// A call the provider refused before dialing; `throttled_until` when
    /// it was throttled.
    SystemRetry { throttled_until: Option<Millis> },
}

/// The owned fields of an [`EndedSummary`].
#[derive(Debug, Clone, PartialEq)]
pub struct EndedFacts {
    pub outcome: CallOutcome,
    pub dial: u32,
    pub talk_ms: u64,
    pub cost_micros: u64,
    pub success: bool,
    pub first_success: bool,
    pub sentiment: Option<f32>,
    pub label: Option<String>,
    pub variant: Option<String>,
    pub plugin_faulted: bool,
}

impl EndedFacts {
    pub fn summary(&self) -> EndedSummary<'_> {
        EndedSummary {
            outcome: self.outcome,
            dial: self.dial,
            talk_ms: self.talk_ms,
            cost_micros: self.cost_micros,
            success: self.success,
            first_success: self.first_success,
            sentiment: self.sentiment,
            label: self.label.as_deref(),
            variant: self.variant.as_deref(),
            plugin_faulted: self.plugin_faulted,
        }
    }
}

/// A change to one minute of a batch's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteChange {
    /// The start of the minute.
    pub minute: Millis,
    pub attempts: i64,
    pub answers: u64,
    pub failures: u64,
}

impl MinuteChange {
    fn at(at: Millis) -> MinuteChange {
        MinuteChange {
            minute: minute_of(at),
            attempts: 0,
            answers: 0,
            failures: 0,
        }
    }

    /// An empty record of the minute, for a backend that has none yet.
    pub fn empty(&self) -> MinuteTotals {
        MinuteTotals {
            minute: self.minute,
            ..MinuteTotals::default()
        }
    }

    pub fn apply_to(&self, totals: &mut MinuteTotals) {
        totals.attempts = totals.attempts.saturating_add_signed(self.attempts);
        totals.answers += self.answers;
        totals.failures += self.failures;
    }
}

/// A batch's recent calls once `ended` (oldest first) joined the `older`
/// ones kept (newest first): the newest [`RECENT_KEPT`], newest first.
pub fn recent_calls(ended: &[RecentCall], older: &[RecentCall]) -> Vec<RecentCall> {
    ended
        .iter()
        .rev()
        .chain(older.iter())
        .take(RECENT_KEPT)
        .cloned()
        .collect()
}
