//! Records to and from rows: MessagePack for the `record` columns, the
//! counter arrays, and errors.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_postgres::Row;

use crate::model::{Blocker, ContactDials, ContactStatus, Millis};
use crate::store::ledger::CounterDelta;
use crate::store::{AttemptTotals, ContactRecord, Counters, StoreError};

pub(super) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    rmp_serde::to_vec(value).expect("store records serialize without fail")
}

/// Decodes the record read from `what` (a table and key, for the error).
pub(super) fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    rmp_serde::from_slice(bytes).map_err(|err| StoreError::Corrupt {
        key: what.to_string(),
        message: err.to_string(),
    })
}

/// A database error, with the server's code and message when it sent one.
pub(super) fn pg(err: tokio_postgres::Error) -> StoreError {
    StoreError::Io(describe(&err))
}

pub(super) fn describe(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("postgres error {}: {}", db.code().code(), db.message()),
        None => match std::error::Error::source(err) {
            Some(source) => format!("postgres: {err}: {source}"),
            None => format!("postgres: {err}"),
        },
    }
}

pub(super) fn pool(err: deadpool_postgres::PoolError) -> StoreError {
    match err {
        deadpool_postgres::PoolError::Backend(err) => pg(err),
        other => StoreError::Io(format!("postgres connection pool: {other}")),
    }
}

/// A count or position as the database keeps it: `bigint`.
pub(super) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A `bigint` that counts something, as the model keeps it.
pub(super) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A row limit: `usize::MAX` asks for every row.
pub(super) fn limit(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Where the due index holds `contact`: its eligibility while it waits.
pub(super) fn due_at(contact: &ContactRecord) -> Option<Millis> {
    contact
        .next_eligible_at
        .filter(|_| contact.status.is_waiting())
}

/// A contact from the `seq`, `record` and `dials` columns of `row`.
pub(super) fn contact_of(batch_id: &str, row: &Row) -> Result<ContactRecord, StoreError> {
    let seq: i64 = row.get("seq");
    let what = || format!("contacts {batch_id} {seq}");
    let mut contact: ContactRecord = decode(&what(), row.get("record"))?;
    contact.dials = decode::<ContactDials>(&what(), row.get("dials"))?;
    Ok(contact)
}

/// The stored form of a contact's share of its number's history.
pub(super) fn dials_of(contact: &ContactRecord) -> Vec<u8> {
    encode(&contact.dials)
}

/// A counter delta as the three arrays of a `counter_shards` row.
pub(super) fn delta_arrays(delta: &CounterDelta) -> [Vec<i64>; 3] {
    [
        vec![
            delta.total,
            delta.attempts,
            delta.answered,
            delta.ended,
            delta.system_retries,
            delta.talk_ms,
            delta.cost_micros,
            delta.plugin_faults,
            delta.suppressed,
            delta.gate_skipped,
        ],
        delta.by_status.to_vec(),
        delta.by_blocker.to_vec(),
    ]
}

/// Adds a `counter_shards` row's arrays into `sum`.
pub(super) fn add_shard(
    sum: &mut CounterDelta,
    scalars: &[i64],
    by_status: &[i64],
    by_blocker: &[i64],
) {
    let at = |index: usize| scalars.get(index).copied().unwrap_or(0);
    sum.total += at(0);
    sum.attempts += at(1);
    sum.answered += at(2);
    sum.ended += at(3);
    sum.system_retries += at(4);
    sum.talk_ms += at(5);
    sum.cost_micros += at(6);
    sum.plugin_faults += at(7);
    sum.suppressed += at(8);
    sum.gate_skipped += at(9);
    for (value, by) in sum.by_status.iter_mut().zip(by_status) {
        *value += by;
    }
    for (value, by) in sum.by_blocker.iter_mut().zip(by_blocker) {
        *value += by;
    }
}

/// The counters the summed shards of `rows` make.
pub(super) fn counters_of(rows: &[Row]) -> Counters {
    let mut sum = CounterDelta::default();
    for row in rows {
        let scalars: Vec<i64> = row.get("scalars");
        let by_status: Vec<i64> = row.get("by_status");
        let by_blocker: Vec<i64> = row.get("by_blocker");
        add_shard(&mut sum, &scalars, &by_status, &by_blocker);
    }
    let mut counters = Counters::default();
    sum.apply_to(&mut counters);
    counters
}

/// The attempt totals stored in `row`'s `record`, or none yet.
pub(super) fn totals_of(what: &str, row: Option<&Row>) -> Result<AttemptTotals, StoreError> {
    match row {
        Some(row) => decode(what, row.get("record")),
        None => Ok(AttemptTotals::default()),
    }
}

/// The API spelling of a contact status, as the `status` column holds it.
pub(super) fn status_text(status: ContactStatus) -> &'static str {
    status.as_str()
}

// The counter arrays are indexed like these.
const _: () = assert!(ContactStatus::ALL.len() < 64 && Blocker::ALL.len() < 64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_written_as_arrays_reads_back_as_the_same_counters() {
        let mut delta = CounterDelta {
            total: 3,
            attempts: 2,
            talk_ms: 40,
            gate_skipped: 1,
            ..CounterDelta::default()
        };
        delta.by_status[ContactStatus::Pending.index()] = 3;
        delta.by_blocker[1] = 2;
        let [scalars, by_status, by_blocker] = delta_arrays(&delta);
        let mut sum = CounterDelta::default();
        add_shard(&mut sum, &scalars, &by_status, &by_blocker);
        assert_eq!(sum, delta);
    }

    #[test]
    fn a_shard_written_before_a_counter_was_added_reads_it_as_zero() {
        let mut sum = CounterDelta::default();
        add_shard(&mut sum, &[5], &[1], &[]);
        assert_eq!(sum.total, 5);
        assert_eq!(sum.attempts, 0);
        assert_eq!(sum.by_status[0], 1);
    }
}
