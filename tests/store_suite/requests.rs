//! The requests the cases send a store, built the same way in every case.

use outdial::model::{
    Attempt, BatchStatus, Blocker, CallOutcome, ContactStatus, Decision, DecisionRecord,
    Disposition, MINUTE_MS, Millis,
};
use outdial::store::{
    AttemptEnd, AttemptKey, BeginAttempt, ContactChunk, EndAttempt, NewBatch, NewContact, NextStep,
    StatusChange, Store,
};

/// The cases' epoch: every time they write is after it.
pub const T0: Millis = 1_700_000_000_000;

/// A batch of campaign "camp" in workspace "ws" with `contacts` contacts
/// "c0", "c1", ... on numbers "+15550000000", "+15550000001", ...
pub fn new_batch(contacts: usize) -> NewBatch {
    NewBatch {
        workspace: "ws".to_string(),
        campaign_id: "camp".to_string(),
        created_at: T0,
        created_by: "test".to_string(),
        contacts: (0..contacts)
            .map(|i| NewContact {
                contact_id: format!("c{i}"),
                phone: format!("+1555000{i:04}"),
                time_zone: "America/New_York".to_string(),
                ..NewContact::default()
            })
            .collect(),
        ..NewBatch::default()
    }
}

/// Contacts `from..to` of [`new_batch`]'s numbering, as one chunk.
pub fn chunk(from: usize, to: usize) -> ContactChunk {
    let mut batch = new_batch(to);
    ContactChunk::Contacts(batch.contacts.split_off(from))
}

/// A change of `batch_id` to `to` at `at`, from any status.
pub fn status_change(batch_id: &str, to: BatchStatus, at: Millis) -> StatusChange {
    StatusChange {
        batch_id: batch_id.to_string(),
        to,
        reason: None,
        by: "test".to_string(),
        at,
        only_from: Vec::new(),
    }
}

/// Starts a pending batch.
pub fn start(store: &dyn Store, batch_id: &str) {
    store
        .set_batch_status(status_change(batch_id, BatchStatus::InProgress, T0))
        .expect("a pending batch starts");
}

/// A dial intent on contact `seq` at `at`, from the suite's caller id.
pub fn begin(batch_id: &str, seq: u64, at: Millis) -> BeginAttempt {
    BeginAttempt {
        batch_id: batch_id.to_string(),
        seq,
        at,
        from_number: Some("+15550009999".to_string()),
        variant: None,
        followup: false,
        gate: None,
    }
}

/// Begins one attempt on contact `seq`, which must be dialable.
pub fn begin_one(store: &dyn Store, batch_id: &str, seq: u64, at: Millis) -> Attempt {
    store
        .begin_attempts(vec![begin(batch_id, seq, at)])
        .expect("group")
        .remove(0)
        .expect("the attempt begins")
}

/// The key of an attempt the store answered.
pub fn key_of(attempt: &Attempt) -> AttemptKey {
    AttemptKey::parse(&attempt.id).expect("an attempt id parses")
}

/// The end of attempt `key` at `at` with `outcome`, moving its contact to
/// `next`: a retry a minute later for a waiting status, else a final one
/// for reason "test".
pub fn end(key: AttemptKey, at: Millis, outcome: CallOutcome, next: ContactStatus) -> EndAttempt {
    EndAttempt {
        key,
        at,
        end: AttemptEnd {
            outcome: Some(outcome),
            talk_ms: if outcome == CallOutcome::Answered {
                30_000
            } else {
                0
            },
            cost_micros: Some(1_500),
            ..AttemptEnd::default()
        },
        disposition: Some(Disposition {
            label: outcome.as_str().to_string(),
            terminal: false,
            score: Some(0.5),
            sentiment: None,
            follow_up_at: None,
        }),
        decision: Some(DecisionRecord {
            decision: Decision::GiveUp {
                reason: "test".to_string(),
            },
            adjusted: None,
            retry_plugin: "builtin:retry".to_string(),
            classifier_plugin: "builtin:classifier".to_string(),
            faults: Vec::new(),
            decided_at: at,
        }),
        next: NextStep {
            status: next,
            next_eligible_at: next.is_waiting().then_some(at + MINUTE_MS),
            blocker: next.is_waiting().then_some(Blocker::RetryWait),
            final_reason: (!next.is_waiting()).then(|| "test".to_string()),
            give_up_status: ContactStatus::Failed,
        },
        counts_as_attempt: true,
        plugin_faulted: Some(false),
        max_consecutive_plugin_faults: 0,
        success: next == ContactStatus::Completed,
        suppress: None,
    }
}

/// The kinds of journal events after `after_seq`, in journal order.
pub fn journal_kinds(store: &dyn Store, after_seq: u64) -> Vec<&'static str> {
    store
        .journal(after_seq, usize::MAX)
        .expect("the journal reads")
        .iter()
        .map(|event| event.kind.as_str())
        .collect()
}
