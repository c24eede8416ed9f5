//! Attempts: the dial intent, a call ringing or answered, its end, and a
//! placement the provider never answered.

use super::{
    CallEnded, CallStarted, ContactChange, CounterDelta, EndedFacts, JournalData, JournalEntry,
    LogLine, MinuteChange, StatisticsChange, TotalsChange, contact_finalized,
};
use crate::model::{Attempt, BatchStatus, Blocker, CallOutcome, ContactStatus, EventKind};
use crate::store::{
    AttemptKey, BatchRecord, BeginAttempt, ContactEvent, ContactRecord, EndAttempt, InProgressMark,
    PlacementNote, RecentCall, StoreError, SuppressionHit, apply_end, is_failure,
};

/// What a dial intent writes.
#[derive(Debug, Clone, PartialEq)]
pub struct BeginChange {
    pub key: AttemptKey,
    pub contact: ContactChange,
    /// The attempt, live from now on.
    pub attempt: Attempt,
    pub counters: CounterDelta,
    pub minute: MinuteChange,
    pub journal: JournalEntry,
}

/// Refuses a dial to `phone` when `hits`, the suppression lists it is on
/// at the dial's time, include a blocking one: checked in the write that
/// would make the intent durable, so a number whose addition was
/// acknowledged is never dialed after it.
pub fn refuse_suppressed(phone: &str, hits: &[SuppressionHit]) -> Result<(), StoreError> {
    match hits.iter().find(|hit| hit.blocks) {
        Some(hit) => Err(StoreError::NumberSuppressed {
            phone: phone.to_string(),
            list: hit.list.clone(),
        }),
        None => Ok(()),
    }
}

/// Begins an attempt on `contact` of `batch`. Refused unless the batch is
/// dialing and the contact may be dialed at `begin.at`: once a batch's
/// pause is written, no dial intent of it is accepted.
pub fn begin_attempt(
    batch: &BatchRecord,
    contact: ContactRecord,
    begin: &BeginAttempt,
) -> Result<BeginChange, StoreError> {
    if batch.status != BatchStatus::InProgress {
        return Err(StoreError::BatchNotDialing {
            batch: batch.id.clone(),
            status: batch.status,
        });
    }
    let status = contact.status.transition(ContactStatus::Dispatched)?;
    if let Some(at) = contact.next_eligible_at.filter(|at| *at > begin.at) {
        return Err(StoreError::NotYetEligible {
            batch: batch.id.clone(),
            seq: begin.seq,
            next_eligible_at: at,
        });
    }
    let key = AttemptKey {
        batch_id: batch.id.clone(),
        seq: begin.seq,
        number: contact.attempt_records + 1,
    };
    let mut attempt = Attempt::started(key.id(), key.number, begin.at);
    attempt.followup = begin.followup;
    attempt.gate = begin.gate.clone();
    attempt.from_number = begin.from_number.clone();
    attempt.variant = begin.variant.clone().or_else(|| contact.variant.clone());
    let mut change = ContactChange::of(contact);
    let new = &mut change.new;
    new.status = status;
    new.blocker = None;
    new.blocker_reason = None;
    new.next_eligible_at = None;
    if begin.followup {
        new.followups_made += 1;
    } else {
        new.attempts_made += 1;
    }
    new.attempt_records = key.number;
    new.live_attempt_id = Some(attempt.id.clone());
    new.last_attempt_at = Some(begin.at);
    super::phones::placed(&mut new.dials, begin.at);
    new.from_number = begin.from_number.clone().or(new.from_number.take());
    new.variant = attempt.variant.clone();
    // The contact's "dispatched" line is told by the attempt itself (see
    // `contacts::dispatched_line`), so the intent adds no line.
    let mut counters = change.counted();
    counters.attempts += 1;
    let mut minute = MinuteChange::at(begin.at);
    minute.attempts = 1;
    let journal = JournalEntry {
        kind: EventKind::CallStarted,
        at: begin.at,
        data: JournalData::CallStarted(CallStarted {
            attempt_id: attempt.id.clone(),
            seq: change.new.seq,
            contact_id: change.new.contact_id.clone(),
            phone: change.new.phone.clone(),
            from_number: attempt.from_number.clone(),
            variant: attempt.variant.clone(),
        }),
    };
    Ok(BeginChange {
        key,
        contact: change,
        attempt,
        counters,
        minute,
        journal,
    })
}

/// Checks that `key` is `contact`'s live attempt.
pub fn require_live(contact: &ContactRecord, key: &AttemptKey) -> Result<(), StoreError> {
    if contact.live_attempt_id.as_deref() != Some(key.id().as_str()) {
        return Err(StoreError::AttemptNotLive(key.id()));
    }
    Ok(())
}

/// The live attempt `key` of `contact`, as read from where the backend
/// keeps live attempts.
fn live_attempt(
    contact: &ContactRecord,
    key: &AttemptKey,
    live: Option<Attempt>,
) -> Result<Attempt, StoreError> {
    require_live(contact, key)?;
    live.ok_or_else(|| StoreError::AttemptNotFound(key.id()))
}

/// What a ringing or answered call writes.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkChange {
    /// The live attempt, when the mark changed it.
    pub attempt: Option<Attempt>,
    pub contact: Option<ContactChange>,
    pub counters: CounterDelta,
}

/// Marks the live attempt `live` of `contact` ringing (the contact goes in
/// progress) or answered.
pub fn mark_in_progress(
    contact: ContactRecord,
    live: Option<Attempt>,
    mark: &InProgressMark,
) -> Result<MarkChange, StoreError> {
    let key = &mark.key;
    let mut live = live_attempt(&contact, key, live)?;
    let mut attempt_changed = false;
    if let Some(call_id) = &mark.provider_call_id
        && live.provider_call_id.as_deref() != Some(call_id.as_str())
    {
        live.provider_call_id = Some(call_id.clone());
        attempt_changed = true;
    }
    if let Some(answered) = mark.answered_at
        && live.answered_at.is_none()
    {
        live.answered_at = Some(answered);
        attempt_changed = true;
    }
    let change = if contact.status == ContactStatus::Dispatched {
        let status = contact.status.transition(ContactStatus::InProgress)?;
        let mut change = ContactChange::of(contact);
        change.new.status = status;
        change.log(mark.at, "in_progress", format!("attempt {}", key.id()));
        Some(change)
    } else if mark.answered_at.is_some() {
        let mut change = ContactChange::of(contact);
        change.log(mark.at, "answered", format!("attempt {}", key.id()));
        Some(change)
    } else {
        None
    };
    Ok(MarkChange {
        attempt: attempt_changed.then_some(live),
        counters: change
            .as_ref()
            .map(ContactChange::counted)
            .unwrap_or_default(),
        contact: change,
    })
}

/// A line for the log of `contact` about its live attempt's unanswered
/// placement; `None` once the attempt is no longer live.
pub fn note_placement(contact: ContactRecord, note: &PlacementNote) -> Option<ContactChange> {
    require_live(&contact, &note.key).ok()?;
    let mut change = ContactChange::of(contact);
    change.log(note.at, "placement_unknown", note.detail.clone());
    Some(change)
}

/// What an attempt's end writes.
#[derive(Debug, Clone, PartialEq)]
pub struct EndChange {
    pub contact: ContactChange,
    /// The attempt as it ended: no longer live.
    pub attempt: Attempt,
    /// The contact's "ended" line, kept with the attempt.
    pub line: LogLine,
    pub counters: CounterDelta,
    pub statistics: StatisticsChange,
    pub recent: RecentCall,
    pub journal: Vec<JournalEntry>,
    /// The batch record was changed and must be written.
    pub batch_changed: bool,
    /// This end's plugin fault paused the batch.
    pub paused_batch: bool,
}

/// Ends the live attempt `live` of `contact`. `batch` is the batch as the
/// write has left it so far; the end may change it (the fault streak, the
/// last completion) and says so in [`EndChange::batch_changed`]. Nothing
/// is changed when the end is refused.
pub fn end_attempt(
    batch: &mut BatchRecord,
    contact: ContactRecord,
    live: Option<Attempt>,
    end: &EndAttempt,
) -> Result<EndChange, StoreError> {
    let mut attempt = live_attempt(&contact, &end.key, live)?;
    let mut next = end.next.clone();
    // A batch that ended while the call was live retries nobody.
    if batch.status.is_final() && next.status.is_waiting() {
        next.status = next.give_up_status;
        next.final_reason = Some(format!("batch_{}", batch.status.as_str()));
    }
    let status = contact.status.transition(next.status)?;
    let pauses_batch = end.plugin_faulted == Some(true)
        && end.max_consecutive_plugin_faults > 0
        && batch.consecutive_plugin_faults + 1 >= end.max_consecutive_plugin_faults
        && batch.status == BatchStatus::InProgress;
    let paused_status = if pauses_batch {
        Some(batch.status.transition(BatchStatus::Paused)?)
    } else {
        None
    };
    // Checked in full: nothing below can refuse the end.

    apply_end(&mut attempt, &end.end, end.at);
    attempt.disposition = end.disposition.clone();
    attempt.decision = end.decision.clone();
    attempt.system_retry = !end.counts_as_attempt;
    attempt.success = end.success && end.counts_as_attempt;

    let cost = end.end.cost_micros.unwrap_or(0);
    let faulted = attempt
        .decision
        .as_ref()
        .is_some_and(|decision| !decision.faults.is_empty());
    let old_dials = contact.attempts_made + contact.followups_made;
    let old_succeeded = contact.succeeded;
    let mut change = ContactChange::of(contact);
    let mut batch_changed = false;
    let new = &mut change.new;
    new.status = status;
    new.live_attempt_id = None;
    new.last_outcome = attempt.outcome;
    new.last_disposition = end.disposition.as_ref().map(|d| d.label.clone());
    new.last_score = end.disposition.as_ref().and_then(|d| d.score);
    new.total_talk_ms += end.end.talk_ms;
    new.total_cost_micros += cost;
    if !end.counts_as_attempt {
        if attempt.followup {
            new.followups_made = new.followups_made.saturating_sub(1);
        } else {
            new.attempts_made = new.attempts_made.saturating_sub(1);
        }
        new.system_retries += 1;
    }
    if status.is_waiting() {
        new.next_eligible_at = Some(next.next_eligible_at.unwrap_or(end.at));
        new.blocker = next.blocker;
        new.blocker_reason = None;
    } else {
        new.next_eligible_at = None;
        new.blocker = None;
        new.final_reason = next.final_reason.clone();
        batch.last_completed_at = Some(end.at);
        batch_changed = true;
    }
    new.succeeded |= attempt.success;
    super::phones::ended(
        &mut new.dials,
        attempt.started_at,
        new.last_disposition.as_deref(),
        end.counts_as_attempt,
        end.at,
    );

    let outcome = attempt.outcome.map_or("none", CallOutcome::as_str);
    let label = new.last_disposition.as_deref().unwrap_or("-");
    let reason = next
        .final_reason
        .as_deref()
        .or_else(|| {
            attempt
                .decision
                .as_ref()
                .and_then(|d| d.adjusted.as_deref())
        })
        .unwrap_or("");
    let detail = format!(
        "attempt {} outcome {outcome} disposition {label} -> {status} {reason}",
        attempt.id
    )
    .trim_end()
    .to_string();
    let line = LogLine {
        number: change.next_line_number(),
        event: ContactEvent {
            at: end.at,
            kind: "ended".to_string(),
            detail,
        },
    };
    if let Some(record) = &attempt.decision {
        for fault in &record.faults {
            change.log(end.at, "plugin_fault", fault.clone());
        }
    }
    if let Some(suppress) = &end.suppress {
        let detail = format!(
            "{} added to suppression list \"{}\" by attempt {}: {}",
            change.new.phone, suppress.list, attempt.id, suppress.reason
        );
        change.log(end.at, "suppressed", detail);
    }

    match end.plugin_faulted {
        Some(true) => {
            batch.consecutive_plugin_faults += 1;
            batch_changed = true;
            if let Some(paused) = paused_status {
                batch.status = paused;
                batch.status_reason = Some("plugin_faulted".to_string());
                batch.status_by = "dispatcher".to_string();
                batch.status_at = end.at;
                batch.paused_at = Some(end.at);
            }
        }
        Some(false) if batch.consecutive_plugin_faults > 0 => {
            batch.consecutive_plugin_faults = 0;
            batch_changed = true;
        }
        Some(false) | None => {}
    }

    let mut counters = change.counted();
    counters.ended = 1;
    counters.plugin_faults = i64::from(faulted);
    counters.answered = i64::from(attempt.outcome == Some(CallOutcome::Answered));
    counters.talk_ms = end.end.talk_ms as i64;
    counters.cost_micros = cost as i64;
    counters.system_retries = i64::from(!end.counts_as_attempt);

    let statistics = end_statistics(end, &attempt, old_dials, old_succeeded);
    let new = &change.new;
    let recent = RecentCall {
        attempt_id: attempt.id.clone(),
        contact_id: new.contact_id.clone(),
        phone: new.phone.clone(),
        outcome: attempt.outcome,
        disposition: new.last_disposition.clone(),
        ended_at: end.at,
        talk_ms: attempt.talk_ms,
        status: new.status,
        reason: next.final_reason.clone(),
    };
    let mut journal = vec![JournalEntry {
        kind: EventKind::CallEnded,
        at: end.at,
        data: JournalData::CallEnded(CallEnded {
            attempt_id: attempt.id.clone(),
            seq: new.seq,
            contact_id: new.contact_id.clone(),
            outcome: attempt.outcome,
            sip_code: attempt.sip_code,
            disposition: new.last_disposition.clone(),
            talk_ms: attempt.talk_ms,
            cost_micros: attempt.cost_micros,
            status: new.status,
            counts_as_attempt: end.counts_as_attempt,
            plugin_faulted: faulted,
        }),
    }];
    if new.status.is_final() {
        journal.push(contact_finalized(new, end.at));
    }
    if pauses_batch {
        journal.push(super::batches::status_entry(
            batch,
            EventKind::BatchPaused,
            end.at,
        ));
    }
    Ok(EndChange {
        contact: change,
        attempt,
        line,
        counters,
        statistics,
        recent,
        journal,
        batch_changed,
        paused_batch: pauses_batch,
    })
}

/// What an ended attempt adds to the statistics. `dials` is how many
/// dials the contact had made, the one ending included.
fn end_statistics(
    end: &EndAttempt,
    attempt: &Attempt,
    dials: u32,
    succeeded_before: bool,
) -> StatisticsChange {
    if !end.counts_as_attempt {
        let throttled_until = (end.next.blocker == Some(Blocker::ProviderThrottled))
            .then_some(end.next.next_eligible_at)
            .flatten();
        // Never dialed: taken back out of the minute it was counted in.
        let mut minute = MinuteChange::at(attempt.started_at);
        minute.attempts = -1;
        return StatisticsChange {
            totals: Some(TotalsChange::SystemRetry { throttled_until }),
            minutes: vec![minute],
            number: None,
        };
    }
    let outcome = attempt.outcome.unwrap_or(CallOutcome::Unknown);
    let facts = EndedFacts {
        outcome,
        dial: dials,
        talk_ms: attempt.talk_ms,
        cost_micros: end.end.cost_micros.unwrap_or(0),
        success: attempt.success,
        first_success: attempt.success && !succeeded_before,
        sentiment: attempt.disposition.as_ref().and_then(|d| d.sentiment),
        label: attempt.disposition.as_ref().map(|d| d.label.clone()),
        variant: attempt.variant.clone(),
        plugin_faulted: end.plugin_faulted == Some(true),
    };
    let answered = outcome == CallOutcome::Answered;
    let failed = is_failure(outcome);
    let minutes = if answered || failed {
        let mut minute = MinuteChange::at(attempt.ended_at.unwrap_or(attempt.started_at));
        minute.answers = u64::from(answered);
        minute.failures = u64::from(failed);
        vec![minute]
    } else {
        Vec::new()
    };
    StatisticsChange {
        totals: Some(TotalsChange::Ended(facts)),
        minutes,
        number: attempt.from_number.clone().map(|number| (number, outcome)),
    }
}
