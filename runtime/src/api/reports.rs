//! A batch's reports: every attempt as a CSV row, every transcript as a
//! JSON line. Both are streamed a page of attempts at a time, so a report
//! of any size is held one page at a time.

use std::io;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::ErrorBody;
use super::batches::owned_batch;
use super::body::StrictPath;
use super::schema::AttemptsCsv;
use super::{ApiResult, AppState, Caller};
use crate::model::{Attempt, CallStatus, Millis};
use crate::store::{AttemptQuery, BatchAttempt, Store};

/// Attempts read from the store per chunk of a report.
pub(super) const REPORT_PAGE: usize = 500;
/// Chunks made ahead of the client: with the one being made, what a
/// report holds in memory.
const CHUNKS_AHEAD: usize = 4;

pub(super) const ATTEMPTS_HEADER: [&str; 19] = [
    "contact_id",
    "phone",
    "from_number",
    "variant",
    "attempt_number",
    "call_status",
    "outcome",
    "sip_code",
    "machine_detection",
    "disposition",
    "score",
    "sentiment",
    "started_at",
    "answered_at",
    "ended_at",
    "talk_seconds",
    "cost",
    "provider_call_id",
    "ended_reason",
];

/// One line of a batch's transcripts report.
#[derive(Debug, Serialize, ToSchema)]
pub struct TranscriptLine {
    /// The attempt, "<batch>-<seq>-<number>".
    attempt_id: String,
    contact_id: String,
    phone: String,
    /// 1 for the contact's first attempt.
    attempt_number: u32,
    call_status: CallStatus,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    ended_at: Option<Millis>,
    transcript: String,
    /// The provider's summary of the call; null when it gave none.
    summary: Option<String>,
}

/// The value of `key` in an attempt's metadata.
fn metadata<'a>(attempt: &'a Attempt, key: &str) -> Option<&'a str> {
    attempt
        .metadata
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}

/// Why the call ended: the provider's word, else the host's own reason.
fn ended_reason(attempt: &Attempt) -> Option<&str> {
    metadata(attempt, "ended_reason").or_else(|| attempt.reason())
}

fn rfc3339(at: Option<Millis>) -> String {
    at.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn text<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The snake_case word serde gives a unit variant.
fn word<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(word)) => word,
        _ => String::new(),
    }
}

fn attempt_row(row: &BatchAttempt) -> [String; 19] {
    let attempt = &row.attempt;
    let disposition = attempt.disposition.as_ref();
    [
        row.contact_id.clone(),
        row.phone.clone(),
        text(attempt.from_number.as_ref()),
        text(attempt.variant.as_ref()),
        attempt.number.to_string(),
        CallStatus::of(attempt).as_str().to_string(),
        text(attempt.outcome.map(|o| o.as_str())),
        text(attempt.sip_code),
        word(&attempt.machine_detection),
        text(disposition.map(|d| &d.label)),
        text(disposition.and_then(|d| d.score)),
        text(disposition.and_then(|d| d.sentiment)),
        rfc3339(Some(attempt.started_at)),
        rfc3339(attempt.answered_at),
        rfc3339(attempt.ended_at),
        format!("{:.3}", attempt.talk_ms as f64 / 1_000.0),
        text(
            attempt
                .cost_micros
                .map(|c| format!("{:.6}", c as f64 / 1e6)),
        ),
        text(attempt.provider_call_id.as_ref()),
        text(ended_reason(attempt)),
    ]
}

fn transcript_line(row: BatchAttempt) -> Option<TranscriptLine> {
    let call_status = CallStatus::of(&row.attempt);
    let summary = metadata(&row.attempt, "summary").map(str::to_string);
    let attempt = row.attempt;
    Some(TranscriptLine {
        transcript: attempt.transcript?,
        attempt_id: attempt.id,
        contact_id: row.contact_id,
        phone: row.phone,
        attempt_number: attempt.number,
        call_status,
        ended_at: attempt.ended_at,
        summary,
    })
}

/// Renders a page of attempts onto the chunk being made.
type Render<'a> = dyn FnMut(Vec<BatchAttempt>, &mut Vec<u8>) -> io::Result<()> + 'a;

/// Reads a batch's attempts a page at a time, renders each page with
/// `render` after `head` (for the first), and hands each rendered page to
/// `send`; stops when `send` answers false (the client left) or after
/// handing it an error.
pub(super) fn produce(
    store: &dyn Store,
    batch_id: &str,
    page_size: usize,
    head: Vec<u8>,
    render: &mut Render<'_>,
    send: &mut dyn FnMut(io::Result<Vec<u8>>) -> bool,
) {
    let mut chunk = head;
    let mut cursor = None;
    loop {
        let page = store.batch_attempts(&AttemptQuery {
            batch_id: batch_id.to_string(),
            cursor: cursor.take(),
            limit: page_size,
        });
        let page = match page {
            Ok(page) => page,
            Err(error) => {
                tracing::error!(batch = %batch_id, error = %error, "report failed");
                send(Err(io::Error::other(error.to_string())));
                return;
            }
        };
        if let Err(error) = render(page.items, &mut chunk) {
            send(Err(error));
            return;
        }
        // A page that rendered to nothing (no transcripts, or the empty
        // page after a full last one) is not sent.
        if !chunk.is_empty() && !send(Ok(std::mem::take(&mut chunk))) {
            return;
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            return;
        }
    }
}

fn render_csv(page: Vec<BatchAttempt>, chunk: &mut Vec<u8>) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(chunk);
    for row in &page {
        writer.write_record(attempt_row(row))?;
    }
    writer.flush()
}

fn render_jsonl(page: Vec<BatchAttempt>, chunk: &mut Vec<u8>) -> io::Result<()> {
    for line in page.into_iter().filter_map(transcript_line) {
        serde_json::to_writer(&mut *chunk, &line)?;
        chunk.push(b'\n');
    }
    Ok(())
}

/// The answer of a report: `render`'s pages streamed as a download.
async fn report(
    state: AppState,
    caller: Caller,
    batch_id: String,
    head: Vec<u8>,
    render: fn(Vec<BatchAttempt>, &mut Vec<u8>) -> io::Result<()>,
    (content_type, file_name): (&'static str, String),
) -> ApiResult<Response> {
    let batch = state
        .blocking(move |store| owned_batch(store, &caller, &batch_id))
        .await?;
    let store = state.inner.store.clone();
    let (sender, receiver) = tokio::sync::mpsc::channel::<io::Result<Vec<u8>>>(CHUNKS_AHEAD);
    // Pages are read and rendered off the async workers and sent as they
    // are ready; a full channel holds the reader back.
    tokio::task::spawn_blocking(move || {
        let mut render = render;
        produce(
            store.as_ref(),
            &batch.id,
            REPORT_PAGE,
            head,
            &mut render,
            &mut |chunk| sender.blocking_send(chunk).is_ok(),
        );
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/v1/batches/{batch_id}/attempts.csv",
    operation_id = "export_attempts",
    tag = "batches",
    summary = "Every attempt as a CSV row with its call status, streamed",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\"")),
    responses(
        (status = 200, description = "A header row, then one row per attempt: contacts in upload order, each contact's attempts oldest first", body = AttemptsCsv, content_type = "text/csv"),
        (status = 404, description = "No such batch in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn attempts_csv(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(batch_id): StrictPath<String>,
) -> ApiResult<Response> {
    let mut head = csv::Writer::from_writer(Vec::new());
    head.write_record(ATTEMPTS_HEADER)
        .expect("writing to a Vec never fails");
    let head = head.into_inner().expect("writing to a Vec never fails");
    let file_name = format!("{batch_id}-attempts.csv");
    report(
        state,
        caller,
        batch_id,
        head,
        render_csv,
        ("text/csv; charset=utf-8", file_name),
    )
    .await
}

#[utoipa::path(
    get,
    path = "/v1/batches/{batch_id}/transcripts.jsonl",
    operation_id = "export_transcripts",
    tag = "batches",
    summary = "Every transcript as a JSON line, streamed",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\"")),
    responses(
        (status = 200, description = "One JSON object a line per attempt with a transcript, in the order of the attempts report", body = TranscriptLine, content_type = "application/x-ndjson"),
        (status = 404, description = "No such batch in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn transcripts_jsonl(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(batch_id): StrictPath<String>,
) -> ApiResult<Response> {
    let file_name = format!("{batch_id}-transcripts.jsonl");
    report(
        state,
        caller,
        batch_id,
        Vec::new(),
        render_jsonl,
        ("application/x-ndjson", file_name),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttemptKey, BatchStatus, CallOutcome, ContactStatus, MINUTE_MS};
    use crate::store::{
        AttemptEnd, BeginAttempt, EndAttempt, NewBatch, NewContact, NextStep, SledStore,
        StatusChange, StoreConfig,
    };

    const T0: Millis = 1_700_000_000_000;

    fn dialing_batch(store: &SledStore, contacts: usize) -> String {
        let batch = store
            .create_batch(NewBatch {
                workspace: "ws".to_string(),
                campaign_id: "camp".to_string(),
                created_at: T0,
                created_by: "test".to_string(),
                contacts: (0..contacts)
                    .map(|i| NewContact {
                        contact_id: format!("c{i}"),
                        phone: format!("+1555{i:07}"),
                        time_zone: "America/New_York".to_string(),
                        ..NewContact::default()
                    })
                    .collect(),
                ..NewBatch::default()
            })
            .expect("the batch is created")
            .batch;
        store
            .set_batch_status(StatusChange {
                batch_id: batch.id.clone(),
                to: BatchStatus::InProgress,
                reason: None,
                by: "test".to_string(),
                at: T0,
                only_from: Vec::new(),
            })
            .expect("the batch starts");
        batch.id
    }

    fn dial(store: &SledStore, batch_id: &str, seqs: impl Iterator<Item = u64>, at: Millis) {
        let begins = seqs
            .map(|seq| BeginAttempt {
                batch_id: batch_id.to_string(),
                seq,
                at,
                from_number: None,
                variant: None,
                followup: false,
                gate: None,
            })
            .collect();
        for begun in store.begin_attempts(begins).expect("the dials are written") {
            begun.expect("a due contact is dialed");
        }
    }

    fn end(
        batch_id: &str,
        seq: u64,
        number: u32,
        outcome: CallOutcome,
        next: ContactStatus,
    ) -> EndAttempt {
        let at = T0 + i64::from(number) * MINUTE_MS;
        EndAttempt {
            key: AttemptKey {
                batch_id: batch_id.to_string(),
                seq,
                number,
            },
            at: at + 30_000,
            end: AttemptEnd {
                outcome: Some(outcome),
                transcript: Some(format!("hello {seq}")),
                ..AttemptEnd::default()
            },
            disposition: None,
            decision: None,
            next: NextStep {
                status: next,
                next_eligible_at: next.is_waiting().then_some(at + MINUTE_MS),
                blocker: None,
                final_reason: (!next.is_waiting()).then(|| "test".to_string()),
                give_up_status: ContactStatus::Failed,
            },
            counts_as_attempt: true,
            plugin_faulted: None,
            max_consecutive_plugin_faults: 0,
            success: false,
            suppress: None,
        }
    }

    fn open() -> (tempfile::TempDir, SledStore) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = SledStore::open(&StoreConfig::new(dir.path().join("db"))).expect("opens");
        (dir, store)
    }

    #[test]
    fn pages_of_one_attempt_walk_each_contacts_attempts_in_order_across_pages() {
        let (_dir, store) = open();
        let batch = dialing_batch(&store, 3);
        dial(&store, &batch, 0..3, T0);
        store
            .end_attempt(end(
                &batch,
                0,
                1,
                CallOutcome::Busy,
                ContactStatus::Retrying,
            ))
            .expect("ends");
        store
            .end_attempt(end(
                &batch,
                2,
                1,
                CallOutcome::Answered,
                ContactStatus::Completed,
            ))
            .expect("ends");
        dial(&store, &batch, 0..1, T0 + 2 * MINUTE_MS);
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .batch_attempts(&AttemptQuery {
                    batch_id: batch.clone(),
                    cursor: cursor.take(),
                    limit: 1,
                })
                .expect("a page");
            assert!(page.items.len() <= 1, "a page never holds more than asked");
            seen.extend(page.items.iter().map(|row| {
                (
                    row.contact_id.clone(),
                    row.attempt.number,
                    CallStatus::of(&row.attempt),
                )
            }));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        let expected = [
            ("c0", 1, CallStatus::Missed),
            ("c0", 2, CallStatus::Ongoing),
            ("c1", 1, CallStatus::Ongoing),
            ("c2", 1, CallStatus::Completed),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(id, number, status)| (id.to_string(), *number, *status))
            .collect();
        assert_eq!(seen, expected);
        assert!(matches!(
            store.batch_attempts(&AttemptQuery {
                batch_id: batch,
                cursor: Some("seven".to_string()),
                limit: 1,
            }),
            Err(crate::store::StoreError::BadCursor(_))
        ));
    }

    /// A report built whole before its first chunk went out would still
    /// show the last contact's call as ongoing.
    #[test]
    fn a_report_is_read_as_the_client_reads_it_so_a_call_ended_meanwhile_shows_at_its_end() {
        let (_dir, store) = open();
        let contacts = 2_000;
        let page_size = 100;
        let batch = dialing_batch(&store, contacts);
        dial(&store, &batch, 0..contacts as u64, T0);
        let ends = (0..contacts as u64 - 1)
            .map(|seq| {
                end(
                    &batch,
                    seq,
                    1,
                    CallOutcome::NoAnswer,
                    ContactStatus::NoAnswer,
                )
            })
            .collect();
        for ended in store.end_attempts(ends).expect("the ends are written") {
            ended.expect("a live attempt ends");
        }
        let store = std::sync::Arc::new(store);
        let (sender, mut receiver) = tokio::sync::mpsc::channel(CHUNKS_AHEAD);
        let producer = {
            let (store, batch) = (store.clone(), batch.clone());
            std::thread::spawn(move || {
                produce(
                    store.as_ref(),
                    &batch,
                    page_size,
                    b"header\n".to_vec(),
                    &mut render_csv,
                    &mut |chunk| sender.blocking_send(chunk).is_ok(),
                )
            })
        };
        let first = receiver
            .blocking_recv()
            .expect("a first chunk")
            .expect("no error");
        let last = contacts as u64 - 1;
        store
            .end_attempt(end(
                &batch,
                last,
                1,
                CallOutcome::Answered,
                ContactStatus::Completed,
            ))
            .expect("the last call ends after the report began");
        let mut chunks = vec![first];
        while let Some(chunk) = receiver.blocking_recv() {
            chunks.push(chunk.expect("no error"));
        }
        producer.join().expect("the producer ends");
        let rows: Vec<usize> = chunks
            .iter()
            .map(|chunk| chunk.iter().filter(|byte| **byte == b'\n').count())
            .collect();
        assert_eq!(
            rows.len(),
            contacts / page_size,
            "one chunk per page: {rows:?}"
        );
        assert_eq!(
            rows[0],
            page_size + 1,
            "the header rides with the first page"
        );
        assert!(rows[1..].iter().all(|n| *n == page_size), "{rows:?}");
        let text = String::from_utf8(chunks.concat()).expect("UTF-8");
        let last_row = text.lines().last().expect("rows");
        assert!(
            last_row.starts_with(&format!("c{last},")) && last_row.contains(",COMPLETED,answered,"),
            "{last_row}"
        );
        assert_eq!(text.matches(",MISSED,no_answer,").count(), contacts - 1);
    }
}
