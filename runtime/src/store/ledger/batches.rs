//! Batches: creating one with its contacts, and changing its status.

use std::collections::{HashMap, HashSet};

use super::{
    BatchCreated, BatchStatusData, ContactChange, CounterDelta, JournalData, JournalEntry,
};
use crate::model::{
    BatchStatus, ContactDials, ContactStatus, EventKind, IllegalTransition, Millis,
};
use crate::store::{BatchRecord, ContactRecord, NewBatch, NewContact, StatusChange, StoreError};
use crate::text_key::{TextKey, TextKeys};

/// The record of a batch `new` creates, under the id the backend chose.
pub fn new_batch(id: String, new: &NewBatch) -> BatchRecord {
    BatchRecord {
        id,
        workspace: new.workspace.clone(),
        campaign_id: new.campaign_id.clone(),
        status: BatchStatus::Pending,
        status_reason: Some(if new.scheduled_start.is_some() {
            "scheduled_start".to_string()
        } else {
            "created".to_string()
        }),
        status_by: new.created_by.clone(),
        status_at: new.created_at,
        created_at: new.created_at,
        created_by: new.created_by.clone(),
        scheduled_start: new.scheduled_start,
        end_at: new.end_at,
        concurrency: new.concurrency,
        max_attempts: new.max_attempts,
        max_followups: new.max_followups,
        calls_per_second: new.calls_per_second,
        started_at: None,
        paused_at: None,
        completed_at: None,
        last_completed_at: None,
        idempotency_key: new.idempotency_key.clone(),
        request_sha256: new.request_sha256.clone(),
        consecutive_plugin_faults: 0,
        numbers: new.numbers.clone(),
        number_strategy: new.number_strategy,
        budget_micros: new.budget_micros,
        goal: new.goal.clone(),
        hours: new.hours.clone(),
        upload: None,
        retry: new.retry.clone(),
        gate: new.gate.clone(),
    }
}

/// Numbers a new batch's contacts in the order they come, chunk after
/// chunk, refusing a contact id given twice, and counts them.
#[derive(Debug)]
pub struct ContactNumbering {
    batch_id: String,
    /// When the contacts first come due: the scheduled start, or now.
    eligible_at: Millis,
    /// Each contact id numbered so far and the sequence number it got.
    seqs: HashMap<TextKey, u64>,
    contact_keys: TextKeys,
    /// The zones the batch's windows are shown for.
    zones: HashSet<String>,
    counters: CounterDelta,
}

/// A new contact as numbered.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberedContact {
    pub contact: ContactChange,
    /// The zone the contact is dialed in, the first time one of the
    /// batch's contacts has it.
    pub new_zone: Option<String>,
}

impl ContactNumbering {
    pub fn new(batch: &BatchRecord) -> ContactNumbering {
        ContactNumbering {
            batch_id: batch.id.clone(),
            eligible_at: batch.scheduled_start.unwrap_or(batch.created_at),
            seqs: HashMap::new(),
            contact_keys: TextKeys::new(),
            zones: HashSet::new(),
            counters: CounterDelta::default(),
        }
    }

    /// Contacts numbered so far.
    pub fn count(&self) -> u64 {
        self.counters.total as u64
    }

    /// What the contacts numbered so far add to the counters.
    pub fn counters(&self) -> &CounterDelta {
        &self.counters
    }

    /// Numbers the next contact.
    pub fn add(&mut self, contact: NewContact) -> Result<NumberedContact, StoreError> {
        let seq = self.count();
        let contact_key = self.contact_keys.key(&contact.contact_id);
        if let Some(first) = self.seqs.insert(contact_key, seq) {
            return Err(StoreError::DuplicateContact {
                batch: self.batch_id.clone(),
                contact_id: contact.contact_id,
                seqs: (first, seq),
            });
        }
        // A contact without a zone is dialed in the one its number
        // implies, if any.
        let zone = if contact.time_zone.is_empty() {
            crate::phone::infer_from_phone(&contact.phone)
                .map(|zone| zone.name().to_string())
                .unwrap_or_default()
        } else {
            contact.time_zone.clone()
        };
        let new_zone = self.zones.insert(zone.clone()).then_some(zone);
        let record = ContactRecord {
            batch_id: self.batch_id.clone(),
            seq,
            contact_id: contact.contact_id,
            phone: contact.phone,
            name: contact.name,
            time_zone: contact.time_zone,
            attributes: contact.attributes,
            status: ContactStatus::Pending,
            blocker: None,
            next_eligible_at: Some(self.eligible_at),
            attempts_made: 0,
            followups_made: 0,
            system_retries: 0,
            attempt_records: 0,
            live_attempt_id: None,
            last_attempt_at: None,
            last_outcome: None,
            last_disposition: None,
            last_score: None,
            from_number: None,
            variant: contact.variant,
            final_reason: None,
            total_talk_ms: 0,
            total_cost_micros: 0,
            event_count: 0,
            succeeded: false,
            gate_faults: 0,
            dials: ContactDials::default(),
            blocker_reason: None,
        };
        let change = ContactChange {
            old: None,
            new: record,
            log: Vec::new(),
        };
        self.counters.total += 1;
        self.counters.merge(&change.counted());
        Ok(NumberedContact {
            contact: change,
            new_zone,
        })
    }
}

/// The journal entry of a batch created with `contacts` contacts.
pub fn batch_created(batch: &BatchRecord, contacts: u64) -> JournalEntry {
    JournalEntry {
        kind: EventKind::BatchCreated,
        at: batch.created_at,
        data: JournalData::BatchCreated(BatchCreated {
            by: batch.created_by.clone(),
            contacts,
            scheduled_start: batch.scheduled_start,
        }),
    }
}

/// The journal entry telling of `batch`'s status as it is now.
pub fn status_entry(batch: &BatchRecord, kind: EventKind, at: Millis) -> JournalEntry {
    JournalEntry {
        kind,
        at,
        data: JournalData::BatchStatus(BatchStatusData {
            by: batch.status_by.clone(),
            reason: batch.status_reason.clone(),
            status: batch.status,
        }),
    }
}

/// Changes `batch`'s status as `change` asks, if the transition table
/// and `change.only_from` allow it.
pub fn change_status(
    mut batch: BatchRecord,
    change: StatusChange,
) -> Result<(BatchRecord, JournalEntry), StoreError> {
    if !change.only_from.is_empty() && !change.only_from.contains(&batch.status) {
        return Err(StoreError::IllegalTransition(IllegalTransition {
            what: "batch",
            from: batch.status.as_str(),
            to: change.to.as_str(),
        }));
    }
    let from = batch.status;
    let first_start = batch.started_at.is_none();
    batch.status = batch.status.transition(change.to)?;
    batch.status_reason = change.reason;
    batch.status_by = change.by;
    batch.status_at = change.at;
    match change.to {
        BatchStatus::InProgress => {
            batch.started_at.get_or_insert(change.at);
            batch.paused_at = None;
            // A resumed batch starts counting faults afresh.
            batch.consecutive_plugin_faults = 0;
        }
        BatchStatus::Paused => batch.paused_at = Some(change.at),
        BatchStatus::Pending => batch.paused_at = None,
        BatchStatus::Completed | BatchStatus::Cancelled | BatchStatus::Expired => {
            batch.completed_at = Some(change.at);
        }
    }
    let kind = EventKind::of_batch_status(from, change.to, first_start);
    let entry = status_entry(&batch, kind, change.at);
    Ok((batch, entry))
}
