//! Waiting contacts: blockers, skips and forced dispatch; a recount of a
//! batch's counters; a contact's log as readers see it.

use super::{ContactChange, CounterDelta, JournalEntry, LogLine, contact_finalized};
use crate::model::{Attempt, Blocker, ContactStatus, Millis};
use crate::store::{
    BatchRecord, BlockerUpdate, ContactEvent, ContactRecord, Counters, StoreError, blocker_index,
};

/// Gives waiting `contact` the blocker (and eligibility) of `update`;
/// `None` when it is not waiting or nothing changes.
pub fn set_blocker(
    contact: ContactRecord,
    update: &BlockerUpdate,
    at: Millis,
) -> Option<ContactChange> {
    if !contact.status.is_waiting() {
        return None;
    }
    let mut change = ContactChange::of(contact);
    let new = &mut change.new;
    new.blocker = update.blocker;
    if let Some(eligible) = update.next_eligible_at {
        new.next_eligible_at = Some(eligible);
    }
    new.gate_faults += u32::from(update.plugin_fault);
    new.blocker_reason = update.reason.clone();
    if Some(&change.new) == change.old.as_ref() && update.note.is_none() {
        return None;
    }
    let old_blocker = change.old.as_ref().and_then(|old| old.blocker);
    if change.new.blocker != old_blocker
        && let Some(blocker) = change.new.blocker
    {
        let until = change
            .new
            .next_eligible_at
            .map(|at| format!(" until {at}"))
            .unwrap_or_default();
        change.log(at, "blocked", format!("{}{until}", blocker.as_str()));
    }
    if let Some(note) = &update.note {
        change.log(at, "gate", note.clone());
    }
    Some(change)
}

/// What skipping a contact writes.
#[derive(Debug, Clone, PartialEq)]
pub struct SkipChange {
    pub contact: ContactChange,
    pub counters: CounterDelta,
    pub journal: JournalEntry,
}

/// Skips `contact` of `batch` for `reason`: it reaches its final status
/// and the batch's last completion moves to `at`.
pub fn skip(
    batch: &mut BatchRecord,
    contact: ContactRecord,
    reason: &str,
    at: Millis,
) -> Result<SkipChange, StoreError> {
    let status = contact.status.transition(ContactStatus::Skipped)?;
    let mut change = ContactChange::of(contact);
    let new = &mut change.new;
    new.status = status;
    new.blocker = None;
    new.blocker_reason = None;
    new.next_eligible_at = None;
    new.final_reason = Some(reason.to_string());
    change.log(at, "skipped", reason.to_string());
    batch.last_completed_at = Some(at);
    Ok(SkipChange {
        counters: change.counted(),
        journal: contact_finalized(&change.new, at),
        contact: change,
    })
}

/// Makes a retrying `contact` due at `now`, as a forced dispatch asks, or
/// a pending one held for its batch's scheduled start; `None` for any
/// other.
pub fn make_due_now(contact: ContactRecord, now: Millis) -> Option<ContactChange> {
    if !matches!(
        contact.status,
        ContactStatus::Retrying | ContactStatus::Pending
    ) {
        return None;
    }
    let mut change = ContactChange::of(contact);
    change.new.next_eligible_at = Some(now);
    change.new.blocker = None;
    change.new.blocker_reason = None;
    change.log(now, "forced", "due now".to_string());
    Some(change)
}

/// Why a skipped contact was skipped, as far as its own counter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipKind {
    /// Its number is on a blocking suppression list: "suppressed:...".
    Suppressed,
    /// A dial-gate plugin said so: "gate:...".
    Gate,
}

impl SkipKind {
    /// The kind of a contact with `status` and `final_reason`; `None` for
    /// a contact not skipped, or skipped for another reason.
    pub fn of(status: ContactStatus, final_reason: Option<&str>) -> Option<SkipKind> {
        if status != ContactStatus::Skipped {
            return None;
        }
        let reason = final_reason?;
        if reason.starts_with("suppressed:") {
            Some(SkipKind::Suppressed)
        } else if reason.starts_with("gate:") {
            Some(SkipKind::Gate)
        } else {
            None
        }
    }
}

/// The fields of a stored contact a recount reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountedContact {
    pub status: ContactStatus,
    pub blocker: Option<Blocker>,
    /// See [`SkipKind::of`].
    pub skip: Option<SkipKind>,
    pub system_retries: u32,
    pub total_talk_ms: u64,
    pub total_cost_micros: u64,
    pub has_live_attempt: bool,
    pub gate_faults: u32,
}

/// A batch's counters computed from its contacts and attempts, to check
/// the counters kept in step with each change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recount {
    counters: Counters,
}

impl Recount {
    pub fn contact(&mut self, contact: CountedContact) {
        let counters = &mut self.counters;
        counters.total += 1;
        counters.by_status[contact.status.index()] += 1;
        if let Some(blocker) = contact.blocker {
            counters.by_blocker[blocker_index(blocker)] += 1;
        }
        match contact.skip {
            Some(SkipKind::Suppressed) => counters.suppressed += 1,
            Some(SkipKind::Gate) => counters.gate_skipped += 1,
            None => {}
        }
        counters.system_retries += u64::from(contact.system_retries);
        counters.talk_ms += contact.total_talk_ms;
        counters.cost_micros += contact.total_cost_micros;
        // A live attempt counts as an attempt; it has not ended.
        counters.attempts += u64::from(contact.has_live_attempt);
        counters.plugin_faults += u64::from(contact.gate_faults);
    }

    /// Counts an attempt that is no longer live.
    pub fn attempt(&mut self, attempt: &Attempt) {
        let counters = &mut self.counters;
        counters.attempts += 1;
        counters.ended += u64::from(attempt.ended_at.is_some());
        counters.answered += u64::from(attempt.was_answered());
        counters.plugin_faults += u64::from(
            attempt
                .decision
                .as_ref()
                .is_some_and(|decision| !decision.faults.is_empty()),
        );
    }

    pub fn counters(self) -> Counters {
        self.counters
    }
}

/// The "dispatched" line of a contact's log, told by the attempt it began.
pub fn dispatched_line(attempt: &Attempt) -> ContactEvent {
    ContactEvent {
        at: attempt.started_at,
        kind: "dispatched".to_string(),
        detail: match &attempt.gate {
            Some(gate) => format!("attempt {}, allowed by gate {gate}", attempt.id),
            None => format!("attempt {}", attempt.id),
        },
    }
}

/// A contact's whole log, oldest first: the lines logged (in any order,
/// each with its number) and a "dispatched" line per attempt.
pub fn contact_log(mut logged: Vec<LogLine>, attempts: &[Attempt]) -> Vec<ContactEvent> {
    logged.sort_by_key(|line| line.number);
    // Logged lines first among equal times: an attempt's end is logged at
    // the moment the next one may be dispatched.
    let mut events: Vec<ContactEvent> = logged
        .into_iter()
        .map(|line| line.event)
        .chain(attempts.iter().map(dispatched_line))
        .collect();
    events.sort_by_key(|event| event.at);
    events
}
