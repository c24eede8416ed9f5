//! Operator controls. Each is one or a few store writes: the store's single
//! writer orders them against the engine's dials and checks the batch
//! status inside each write, so a dial can never slip past a pause or a
//! cancel.

use crate::model::{BatchStatus, Millis};
use crate::store::{BatchRecord, StatusChange, Store, StoreError};

/// The recorded reason: the stable code, then the operator's note if any
/// ("operator_paused: carrier maintenance").
fn reason_with(code: &str, note: Option<&str>) -> String {
    match note.map(str::trim).filter(|note| !note.is_empty()) {
        Some(note) => format!("{code}: {note}"),
        None => code.to_string(),
    }
}

fn change(batch_id: &str, to: BatchStatus, reason: String, by: &str, at: Millis) -> StatusChange {
    StatusChange {
        batch_id: batch_id.to_string(),
        to,
        reason: Some(reason),
        by: by.to_string(),
        at,
        only_from: Vec::new(),
    }
}

/// Stops new dials; live calls finish. `note` is the operator's reason.
pub fn pause(
    store: &dyn Store,
    batch_id: &str,
    by: &str,
    note: Option<&str>,
    now: Millis,
) -> Result<BatchRecord, StoreError> {
    store.set_batch_status(change(
        batch_id,
        BatchStatus::Paused,
        reason_with("operator_paused", note),
        by,
        now,
    ))
}

/// Resumes a paused batch: back to pending before its scheduled start.
pub fn resume(
    store: &dyn Store,
    batch_id: &str,
    by: &str,
    note: Option<&str>,
    now: Millis,
) -> Result<BatchRecord, StoreError> {
    let batch = store.require_batch(batch_id)?;
    let to = if batch.scheduled_start.is_some_and(|at| at > now) {
        BatchStatus::Pending
    } else {
        BatchStatus::InProgress
    };
    store.set_batch_status(StatusChange {
        only_from: vec![BatchStatus::Paused],
        ..change(batch_id, to, reason_with("operator_resumed", note), by, now)
    })
}

/// Cancels a batch for good: waiting contacts are skipped, live calls
/// finish and then give up.
pub fn cancel(
    store: &dyn Store,
    batch_id: &str,
    by: &str,
    note: Option<&str>,
    now: Millis,
) -> Result<BatchRecord, StoreError> {
    let batch = store.set_batch_status(change(
        batch_id,
        BatchStatus::Cancelled,
        reason_with("operator_cancelled", note),
        by,
        now,
    ))?;
    store.skip_waiting(batch_id, "batch_cancelled", now)?;
    Ok(batch)
}

/// Starts a pending batch now and makes its retry-waiting contacts due now.
pub fn force_dispatch(
    store: &dyn Store,
    batch_id: &str,
    by: &str,
    note: Option<&str>,
    now: Millis,
) -> Result<BatchRecord, StoreError> {
    let batch = store.require_batch(batch_id)?;
    let batch = if batch.status == BatchStatus::Pending {
        store.set_batch_status(StatusChange {
            only_from: vec![BatchStatus::Pending],
            ..change(
                batch_id,
                BatchStatus::InProgress,
                reason_with("force_dispatch", note),
                by,
                now,
            )
        })?
    } else {
        batch
    };
    store.make_retries_due(batch_id, now)?;
    Ok(batch)
}
