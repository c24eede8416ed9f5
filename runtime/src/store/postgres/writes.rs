//! The store's writes, each run as a job of the writer: load the records
//! a change reads, ask the ledger for the change, stage it.
//!
//! Every job decides before it writes: a refusal (a refused item, a batch
//! not found, a duplicate contact) comes before anything is staged or any
//! statement that changes something runs, so it leaves no trace.

use std::collections::HashMap;

use super::rows::{self, int};
use super::writer::{Group, JobTx};
use crate::model::{Attempt, Millis};
use crate::store::ledger::{self, ContactNumbering, CounterDelta};
use crate::store::{
    AttemptKey, BatchRecord, BeginAttempt, BlockerUpdate, ContactRecord, CreatedBatch, EndAttempt,
    EndedAttempt, InProgressMark, NewBatch, NewContact, NewSuppression, NewSuppressionList,
    NumberState, PlacementNote, StatusChange, StoreError, SuppressionList, SuppressionWrite,
    WebhookDelivery, WebhookEndpointState,
};

/// Contacts changed per write when a whole batch's waiting contacts change.
pub(super) const CHUNK: usize = 512;

/// A batch being created: its contacts are written chunk by chunk and
/// stay unreachable until [`finish_create`] writes the batch in the last
/// write; a crash in between leaves a draft, which the next open discards.
pub(super) struct Draft {
    pub(super) batch: BatchRecord,
    contacts: ContactNumbering,
}

async fn batch_of_idempotency_key(
    tx: &mut JobTx<'_>,
    new: &NewBatch,
) -> Result<Option<CreatedBatch>, StoreError> {
    let Some(key) = &new.idempotency_key else {
        return Ok(None);
    };
    let row = tx
        .group
        .query_opt(
            "SELECT batch_id FROM idempotency_keys WHERE workspace = $1 AND key = $2",
            &[&new.workspace, key],
        )
        .await?;
    match row {
        Some(row) => {
            let batch_id: String = row.get("batch_id");
            Ok(Some(CreatedBatch {
                batch: tx.batch(&batch_id).await?,
                created: false,
            }))
        }
        None => Ok(None),
    }
}

/// Starts a create, or answers the batch an earlier create with the same
/// idempotency key made.
pub(super) async fn begin_create(
    group: &mut Group,
    new: &NewBatch,
) -> Result<Result<Draft, CreatedBatch>, StoreError> {
    let mut tx = JobTx::new(group);
    if let Some(existing) = batch_of_idempotency_key(&mut tx, new).await? {
        return Ok(Err(existing));
    }
    let id = loop {
        let id = BatchRecord::new_id();
        let taken = tx
            .group
            .query_opt(
                "SELECT 1 FROM batches WHERE id = $1 UNION ALL \
                 SELECT 1 FROM drafts WHERE batch_id = $1",
                &[&id],
            )
            .await?;
        if taken.is_none() {
            break id;
        }
    };
    let batch = ledger::batches::new_batch(id, new);
    tx.group
        .execute(
            "INSERT INTO drafts (batch_id, workspace, node) VALUES ($1, $2, $3)",
            &[&batch.id, &batch.workspace, &tx.group.node.id],
        )
        .await?;
    tx.finish().await?;
    Ok(Ok(Draft {
        contacts: ContactNumbering::new(&batch),
        batch,
    }))
}

/// Writes the next contacts of a draft, numbered on from the ones before,
/// and hands the draft back.
pub(super) async fn add_contacts(
    group: &mut Group,
    mut draft: Draft,
    contacts: Vec<NewContact>,
) -> Result<Draft, StoreError> {
    // Numbered in full first: a repeated contact id refuses the chunk
    // before anything of it is staged.
    let mut numbered = Vec::with_capacity(contacts.len());
    for contact in contacts {
        numbered.push(draft.contacts.add(contact)?);
    }
    let mut tx = JobTx::new(group);
    for contact in numbered {
        if let Some(zone) = &contact.new_zone {
            tx.zone(&draft.batch.id, zone);
        }
        tx.add_contact(&draft.batch.workspace, contact.contact.new);
    }
    tx.finish().await?;
    Ok(draft)
}

/// Makes a draft a batch: its record, idempotency key, counters and
/// journal entry, in one write. Should another create have taken the
/// idempotency key in the meantime, the draft is discarded and that batch
/// answered instead.
pub(super) async fn finish_create(
    group: &mut Group,
    draft: Draft,
    new: &NewBatch,
) -> Result<CreatedBatch, StoreError> {
    let mut tx = JobTx::new(group);
    if let Some(existing) = batch_of_idempotency_key(&mut tx, new).await? {
        discard_draft(tx.group, &draft.batch.id).await?;
        return Ok(existing);
    }
    let Draft { batch, contacts } = draft;
    tx.group
        .execute("DELETE FROM drafts WHERE batch_id = $1", &[&batch.id])
        .await?;
    if let Some(key) = &new.idempotency_key {
        tx.group
            .execute(
                "INSERT INTO idempotency_keys (workspace, key, batch_id) VALUES ($1, $2, $3)",
                &[&new.workspace, key, &batch.id],
            )
            .await?;
    }
    tx.put_batch(batch.clone());
    tx.count(&batch, contacts.counters());
    tx.journal(
        &batch,
        &ledger::batches::batch_created(&batch, contacts.count()),
    );
    tx.finish().await?;
    Ok(CreatedBatch {
        batch,
        created: true,
    })
}

/// Removes what a draft wrote. Nothing else refers to it.
pub(super) async fn discard_draft(group: &Group, batch_id: &str) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM contacts WHERE batch_id = $1",
        "DELETE FROM batch_zones WHERE batch_id = $1",
        "DELETE FROM drafts WHERE batch_id = $1",
    ] {
        group.execute(sql, &[&batch_id]).await?;
    }
    Ok(())
}

/// Reads the contacts and batches `keys` name, a query per batch.
async fn load_contacts_of<'k>(
    tx: &mut JobTx<'_>,
    keys: impl Iterator<Item = (&'k str, u64)>,
) -> Result<(), StoreError> {
    let mut by_batch: HashMap<&str, Vec<u64>> = HashMap::new();
    for (batch, seq) in keys {
        by_batch.entry(batch).or_default().push(seq);
    }
    for (batch, seqs) in by_batch {
        tx.load_contacts(batch, seqs).await?;
    }
    Ok(())
}

/// Writes dial intents in one atomic write; each is refused on its own.
pub(super) async fn write_begins(
    group: &mut Group,
    begins: Vec<BeginAttempt>,
) -> Result<Vec<Result<Attempt, StoreError>>, StoreError> {
    let mut tx = JobTx::new(group);
    load_contacts_of(
        &mut tx,
        begins
            .iter()
            .map(|begin| (begin.batch_id.as_str(), begin.seq)),
    )
    .await?;
    load_listed_of(&mut tx, &begins).await?;
    let mut results = Vec::with_capacity(begins.len());
    for begin in &begins {
        results.push(begin_one(&mut tx, begin).await);
    }
    tx.finish().await?;
    Ok(results)
}

/// Reads the lists the phones of `begins` are on, a query per workspace
/// rather than one per intent. A batch or contact that is missing is left
/// for its intent to refuse.
async fn load_listed_of(tx: &mut JobTx<'_>, begins: &[BeginAttempt]) -> Result<(), StoreError> {
    let mut by_workspace: HashMap<String, Vec<String>> = HashMap::new();
    for begin in begins {
        let Some(batch) = tx.batch_opt(&begin.batch_id).await? else {
            continue;
        };
        let Ok(contact) = tx.contact(&begin.batch_id, begin.seq).await else {
            continue;
        };
        by_workspace
            .entry(batch.workspace)
            .or_default()
            .push(contact.phone);
    }
    for (workspace, phones) in by_workspace {
        tx.load_listed(&workspace, phones).await?;
    }
    Ok(())
}

async fn begin_one(tx: &mut JobTx<'_>, begin: &BeginAttempt) -> Result<Attempt, StoreError> {
    let batch = tx.batch(&begin.batch_id).await?;
    let contact = tx.contact(&begin.batch_id, begin.seq).await?;
    let hits = tx
        .suppression_hits(&batch.workspace, &contact.phone, begin.at)
        .await?;
    ledger::attempts::refuse_suppressed(&contact.phone, &hits)?;
    let change = ledger::attempts::begin_attempt(&batch, contact, begin)?;
    tx.stage_contact(&change.contact);
    tx.put_attempt(&change.key, true, change.attempt.clone());
    tx.minute(&batch.id, &change.minute);
    tx.journal(&batch, &change.journal);
    tx.count(&batch, &change.counters);
    Ok(change.attempt)
}

/// Records provider call ids of live attempts; an attempt that has ended
/// since has its id on its record through its end.
pub(super) async fn write_provider_calls(
    group: &mut Group,
    calls: Vec<(AttemptKey, String)>,
) -> Result<(), StoreError> {
    if calls.is_empty() {
        return Ok(());
    }
    let mut columns: (Vec<&str>, Vec<i64>, Vec<i32>, Vec<&str>) = Default::default();
    for (key, call_id) in &calls {
        columns.0.push(&key.batch_id);
        columns.1.push(int(key.seq));
        columns.2.push(key.number as i32);
        columns.3.push(call_id);
    }
    group
        .execute(
            "UPDATE attempts a SET provider_call_id = u.call_id \
             FROM unnest($1::text[], $2::bigint[], $3::int[], $4::text[]) \
             AS u(batch_id, seq, number, call_id) \
             WHERE a.batch_id = u.batch_id AND a.seq = u.seq AND a.number = u.number AND a.live",
            &[&columns.0, &columns.1, &columns.2, &columns.3],
        )
        .await?;
    Ok(())
}

/// Tells in each live attempt's contact log that its placement went
/// unanswered.
pub(super) async fn note_placements(
    group: &mut Group,
    notes: Vec<PlacementNote>,
) -> Result<(), StoreError> {
    let mut tx = JobTx::new(group);
    load_contacts_of(
        &mut tx,
        notes
            .iter()
            .map(|note| (note.key.batch_id.as_str(), note.key.seq)),
    )
    .await?;
    for note in &notes {
        let contact = tx.contact(&note.key.batch_id, note.key.seq).await?;
        // Only the log changes: no status, so no counter moves.
        if let Some(change) = ledger::attempts::note_placement(contact, note) {
            tx.stage_contact(&change);
        }
    }
    tx.finish().await
}

/// Marks calls ringing or answered; each is refused on its own.
pub(super) async fn write_marks(
    group: &mut Group,
    marks: Vec<InProgressMark>,
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let mut tx = JobTx::new(group);
    load_contacts_of(
        &mut tx,
        marks
            .iter()
            .map(|mark| (mark.key.batch_id.as_str(), mark.key.seq)),
    )
    .await?;
    let keys: Vec<AttemptKey> = marks.iter().map(|mark| mark.key.clone()).collect();
    tx.load_live(&keys).await?;
    let mut results = Vec::with_capacity(marks.len());
    for mark in &marks {
        results.push(mark_one(&mut tx, mark).await);
    }
    tx.finish().await?;
    Ok(results)
}

async fn mark_one(tx: &mut JobTx<'_>, mark: &InProgressMark) -> Result<(), StoreError> {
    let key = &mark.key;
    let contact = tx.contact(&key.batch_id, key.seq).await?;
    let batch = tx.batch(&key.batch_id).await?;
    let live = tx.live(key).await?;
    let change = ledger::attempts::mark_in_progress(contact, live, mark)?;
    if let Some(attempt) = change.attempt {
        tx.put_attempt(key, true, attempt);
    }
    if let Some(contact) = &change.contact {
        tx.stage_contact(contact);
    }
    tx.count(&batch, &change.counters);
    Ok(())
}

/// Ends live attempts and moves their contacts on; each is refused on its
/// own.
pub(super) async fn write_ends(
    group: &mut Group,
    ends: Vec<EndAttempt>,
) -> Result<Vec<Result<EndedAttempt, StoreError>>, StoreError> {
    let mut tx = JobTx::new(group);
    load_contacts_of(
        &mut tx,
        ends.iter()
            .map(|end| (end.key.batch_id.as_str(), end.key.seq)),
    )
    .await?;
    let keys: Vec<AttemptKey> = ends.iter().map(|end| end.key.clone()).collect();
    tx.load_live(&keys).await?;
    let mut results = Vec::with_capacity(ends.len());
    for end in &ends {
        results.push(end_one(&mut tx, end).await);
    }
    tx.finish().await?;
    Ok(results)
}

async fn end_one(tx: &mut JobTx<'_>, end: &EndAttempt) -> Result<EndedAttempt, StoreError> {
    let key = &end.key;
    let contact = tx.contact(&key.batch_id, key.seq).await?;
    let live = tx.live(key).await?;
    let mut batch = tx.batch(&key.batch_id).await?;
    // Computed before the end, so a list that cannot be added to refuses
    // the end before anything is staged.
    let suppression = match &end.suppress {
        Some(add) => {
            let entry = NewSuppression {
                phone: contact.phone.clone(),
                expires_at: None,
                reason: Some(add.reason.clone()),
            };
            Some(
                suppression_add(
                    tx,
                    &batch.workspace,
                    &add.list,
                    vec![entry],
                    &key.id(),
                    end.at,
                )
                .await?,
            )
        }
        None => None,
    };
    let change = ledger::attempts::end_attempt(&mut batch, contact, live, end)?;
    if change.batch_changed {
        tx.put_batch(batch.clone());
    }
    tx.count(&batch, &change.counters);
    tx.recent(&batch.id, change.recent);
    tx.statistics(&batch, &change.statistics);
    tx.stage_contact(&change.contact);
    tx.log(&key.batch_id, key.seq, change.line);
    tx.put_attempt(key, false, change.attempt.clone());
    for entry in &change.journal {
        tx.journal(&batch, entry);
    }
    if let Some(suppression) = suppression {
        tx.suppress(suppression);
    }
    Ok(EndedAttempt {
        contact: change.contact.new,
        attempt: change.attempt,
        paused_batch: change.paused_batch,
    })
}

/// What adding `entries` to `list` changes, computed by the ledger from
/// the records it reads; nothing is staged.
async fn suppression_add(
    tx: &mut JobTx<'_>,
    workspace: &str,
    list: &str,
    entries: Vec<NewSuppression>,
    by: &str,
    at: Millis,
) -> Result<ledger::suppression::SuppressionChange, StoreError> {
    let stored = tx.suppression_list(workspace, list).await?;
    let record = ledger::suppression::for_write(stored, workspace, list, at)?;
    let phones: Vec<&String> = entries.iter().map(|entry| &entry.phone).collect();
    let held = tx.on_list(workspace, list, &phones).await?;
    Ok(ledger::suppression::add(record, &held, entries, by, at))
}

pub(super) async fn set_blockers(
    group: &mut Group,
    batch_id: String,
    updates: Vec<BlockerUpdate>,
    at: Millis,
) -> Result<(), StoreError> {
    let mut tx = JobTx::new(group);
    let batch = tx.batch(&batch_id).await?;
    tx.load_contacts(&batch_id, updates.iter().map(|update| update.seq))
        .await?;
    let mut delta = CounterDelta::default();
    for update in &updates {
        let contact = tx.contact(&batch_id, update.seq).await?;
        if let Some(change) = ledger::contacts::set_blocker(contact, update, at) {
            delta.merge(&change.counted());
            tx.stage_contact(&change);
        }
    }
    tx.count(&batch, &delta);
    tx.finish().await
}

/// Skips contact `seq` of `batch`, staging the change; the batch record
/// and the counters are staged by the caller.
async fn skip_one(
    tx: &mut JobTx<'_>,
    batch: &mut BatchRecord,
    seq: u64,
    reason: &str,
    at: Millis,
    delta: &mut CounterDelta,
) -> Result<ContactRecord, StoreError> {
    let contact = tx.contact(&batch.id, seq).await?;
    let change = ledger::contacts::skip(batch, contact, reason, at)?;
    tx.stage_contact(&change.contact);
    tx.journal(batch, &change.journal);
    delta.merge(&change.counters);
    Ok(change.contact.new)
}

/// Skips contacts of one batch; each is refused on its own.
pub(super) async fn skip_contacts(
    group: &mut Group,
    batch_id: String,
    skips: Vec<(u64, String)>,
    at: Millis,
) -> Result<Vec<Result<ContactRecord, StoreError>>, StoreError> {
    let mut tx = JobTx::new(group);
    let mut batch = tx.batch(&batch_id).await?;
    tx.load_contacts(&batch_id, skips.iter().map(|(seq, _)| *seq))
        .await?;
    let mut delta = CounterDelta::default();
    let mut results = Vec::with_capacity(skips.len());
    for (seq, reason) in &skips {
        // The ledger refuses a skip before it changes the batch record.
        let mut skipped = batch.clone();
        let result = skip_one(&mut tx, &mut skipped, *seq, reason, at, &mut delta).await;
        if result.is_ok() {
            batch = skipped;
        }
        results.push(result);
    }
    tx.put_batch(batch.clone());
    tx.count(&batch, &delta);
    tx.finish().await?;
    Ok(results)
}

/// Skips up to [`CHUNK`] waiting contacts of a batch; answers how many.
pub(super) async fn skip_waiting_chunk(
    group: &mut Group,
    batch_id: String,
    reason: String,
    at: Millis,
) -> Result<u64, StoreError> {
    let mut tx = JobTx::new(group);
    let mut batch = tx.batch(&batch_id).await?;
    let seqs: Vec<u64> = tx
        .group
        .query(
            "SELECT seq FROM contacts WHERE batch_id = $1 AND due_at IS NOT NULL \
             ORDER BY due_at, seq LIMIT $2",
            &[&batch_id, &(CHUNK as i64)],
        )
        .await?
        .iter()
        .map(|row| rows::count(row.get("seq")))
        .collect();
    tx.load_contacts(&batch_id, seqs.iter().copied()).await?;
    let mut delta = CounterDelta::default();
    for seq in &seqs {
        skip_one(&mut tx, &mut batch, *seq, &reason, at, &mut delta).await?;
    }
    tx.put_batch(batch.clone());
    tx.count(&batch, &delta);
    tx.finish().await?;
    Ok(seqs.len() as u64)
}

/// Where [`make_due_chunk`] goes on: past this due time and seq.
pub(super) type DueCursor = (Millis, i64);

/// Makes retrying and held contacts due at `now`, up to [`CHUNK`] of the
/// contacts due after `now` past `from`; answers how many moved and where
/// to go on, `None` at the end.
pub(super) async fn make_due_chunk(
    group: &mut Group,
    batch_id: String,
    now: Millis,
    from: DueCursor,
) -> Result<(u64, Option<DueCursor>), StoreError> {
    let mut tx = JobTx::new(group);
    let batch = tx.batch(&batch_id).await?;
    let rows = tx
        .group
        .query(
            "SELECT seq, due_at FROM contacts WHERE batch_id = $1 AND due_at IS NOT NULL \
             AND (due_at, seq) > ($2, $3) ORDER BY due_at, seq LIMIT $4",
            &[&batch_id, &from.0, &from.1, &(CHUNK as i64)],
        )
        .await?;
    let scanned: Vec<DueCursor> = rows
        .iter()
        .map(|row| (row.get("due_at"), row.get("seq")))
        .collect();
    tx.load_contacts(&batch_id, scanned.iter().map(|(_, seq)| rows::count(*seq)))
        .await?;
    let mut delta = CounterDelta::default();
    let mut moved = 0;
    for (_, seq) in &scanned {
        let contact = tx.contact(&batch_id, rows::count(*seq)).await?;
        if let Some(change) = ledger::contacts::make_due_now(contact, now) {
            delta.merge(&change.counted());
            tx.stage_contact(&change);
            moved += 1;
        }
    }
    tx.count(&batch, &delta);
    tx.finish().await?;
    let next = (scanned.len() == CHUNK)
        .then(|| scanned.last().copied())
        .flatten();
    Ok((moved, next))
}

pub(super) async fn set_batch_status(
    group: &mut Group,
    change: StatusChange,
) -> Result<BatchRecord, StoreError> {
    let mut tx = JobTx::new(group);
    let batch = tx.batch(&change.batch_id).await?;
    let (batch, entry) = ledger::batches::change_status(batch, change)?;
    tx.put_batch(batch.clone());
    tx.journal(&batch, &entry);
    tx.finish().await?;
    Ok(batch)
}

pub(super) async fn set_number_state(
    group: &mut Group,
    key: (String, String, String),
    state: NumberState,
) -> Result<(), StoreError> {
    group
        .execute(
            "INSERT INTO number_states (workspace, campaign_id, number, record) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (workspace, campaign_id, number) DO UPDATE SET record = excluded.record",
            &[&key.0, &key.1, &key.2, &rows::encode(&state)],
        )
        .await?;
    Ok(())
}

pub(super) async fn prune_journal(group: &mut Group, through_seq: u64) -> Result<u64, StoreError> {
    group
        .execute("DELETE FROM journal WHERE seq <= $1", &[&int(through_seq)])
        .await
}

pub(super) async fn save_webhook_endpoint(
    group: &mut Group,
    mut state: WebhookEndpointState,
    delivery: Option<WebhookDelivery>,
    keep_tries: u64,
) -> Result<(), StoreError> {
    if let Some(delivery) = &delivery {
        let logged = ledger::webhooks::log_delivery(&mut state, keep_tries);
        group
            .execute(
                "INSERT INTO webhook_deliveries (endpoint_id, number, record) \
                 VALUES ($1, $2, $3) \
                 ON CONFLICT (endpoint_id, number) DO UPDATE SET record = excluded.record",
                &[&state.id, &int(logged.number), &rows::encode(delivery)],
            )
            .await?;
        if let Some(dropped) = logged.dropped {
            group
                .execute(
                    "DELETE FROM webhook_deliveries WHERE endpoint_id = $1 AND number = $2",
                    &[&state.id, &int(dropped)],
                )
                .await?;
        }
    }
    group
        .execute(
            "INSERT INTO webhook_endpoints (id, record) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            &[&state.id, &rows::encode(&state)],
        )
        .await?;
    Ok(())
}

pub(super) async fn create_suppression_list(
    group: &mut Group,
    workspace: String,
    list: NewSuppressionList,
    at: Millis,
) -> Result<SuppressionList, StoreError> {
    let mut tx = JobTx::new(group);
    let stored = tx.suppression_list(&workspace, &list.name).await?;
    let created = ledger::suppression::create(stored, &workspace, list, at)?;
    tx.suppress(ledger::suppression::SuppressionChange {
        list: created.clone(),
        entries: Vec::new(),
        removed: Vec::new(),
        write: SuppressionWrite::default(),
    });
    tx.finish().await?;
    Ok(created)
}

pub(super) async fn add_suppressions(
    group: &mut Group,
    workspace: String,
    list: String,
    entries: Vec<NewSuppression>,
    by: String,
    at: Millis,
) -> Result<SuppressionWrite, StoreError> {
    let mut tx = JobTx::new(group);
    let change = suppression_add(&mut tx, &workspace, &list, entries, &by, at).await?;
    let write = change.write;
    tx.suppress(change);
    tx.finish().await?;
    Ok(write)
}

pub(super) async fn remove_suppressions(
    group: &mut Group,
    workspace: String,
    list: String,
    phones: Vec<String>,
    at: Millis,
) -> Result<u64, StoreError> {
    let mut tx = JobTx::new(group);
    let stored = tx.suppression_list(&workspace, &list).await?;
    let record = ledger::suppression::for_write(stored, &workspace, &list, at)?;
    let wanted: Vec<&String> = phones.iter().collect();
    let held = tx.on_list(&workspace, &list, &wanted).await?;
    let change = ledger::suppression::remove(record, &held, phones);
    let removed = change.removed.len() as u64;
    // Taking nothing off writes nothing: `dnc-internal` stays unwritten
    // until something is added to it.
    if removed > 0 {
        tx.suppress(change);
    }
    tx.finish().await?;
    Ok(removed)
}
