//! Server-sent events of one batch: each journaled change of the batch as
//! it is committed, and a `progress` snapshot whenever its counters move.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt, stream};

use super::ErrorBody;
use super::batches::owned_batch;
use super::body::StrictPath;
use super::schema::StreamEvent;
use super::{ApiError, ApiResult, AppState, Caller, ErrorCode};
use crate::model::{BatchRecord, Counters, JournalEvent};
use crate::reporting::progress::{BatchProgress, RECENT_CALLS};

/// Journal events read per look.
const JOURNAL_PAGE: usize = 1_000;

struct Cursor {
    state: AppState,
    batch_id: String,
    after_seq: u64,
    last: Option<(BatchRecord, Counters)>,
    first: bool,
    done: bool,
}

/// The event id an SSE client sends back as `Last-Event-ID`.
fn seq_of(event_id: &str) -> Option<u64> {
    u64::from_str_radix(event_id.strip_prefix("evt_")?, 16).ok()
}

#[utoipa::path(
    get,
    path = "/v1/batches/{batch_id}/events",
    operation_id = "batch_events",
    tag = "batches",
    summary = "Server-sent events of the batch's changes and progress; resumes after Last-Event-ID",
    params(
        ("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\""),
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received, e.g. \"evt_1a\": the stream resumes after it", pattern = "^(evt_[0-9a-fA-F]+)?$"),
    ),
    responses(
        (status = 200, description = "An event stream: each journaled change of the batch as an event named by its kind, and \"progress\" snapshots", body = StreamEvent, content_type = "text/event-stream"),
        (status = 404, description = "No such batch in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(batch_id): StrictPath<String>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let resume = match headers.get("last-event-id") {
        // An empty id is how the event-stream standard says "from the
        // start": a browser sends it after an event that had no id.
        None => None,
        Some(value) if value.is_empty() => None,
        Some(value) => Some(value.to_str().ok().and_then(seq_of).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidParameter,
                "Last-Event-ID is not an event id of this API, expected \"evt_\" and hex digits",
            )
        })?),
    };
    let (batch, head) = {
        let batch_id = batch_id.clone();
        state
            .blocking(move |store| {
                Ok((
                    owned_batch(store, &caller, &batch_id)?,
                    store.journal_head()?,
                ))
            })
            .await?
    };
    let cursor = Cursor {
        state,
        batch_id: batch.id,
        after_seq: resume.unwrap_or(head),
        last: None,
        first: true,
        done: false,
    };
    let events = stream::unfold(cursor, |mut cursor| async move {
        if cursor.done {
            return None;
        }
        if !cursor.first {
            tokio::time::sleep(cursor.state.inner.settings.events_poll_interval).await;
        }
        cursor.first = false;
        let events = look(&mut cursor).await;
        Some((stream::iter(events.into_iter().map(Ok)), cursor))
    })
    .flatten();
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Everything new since the last look.
async fn look(cursor: &mut Cursor) -> Vec<Event> {
    let batch_id = cursor.batch_id.clone();
    let after = cursor.after_seq;
    let read = cursor
        .state
        .blocking(move |store| {
            let mut journal: Vec<JournalEvent> = Vec::new();
            let mut after = after;
            loop {
                let page = store.journal(after, JOURNAL_PAGE)?;
                let full = page.len() == JOURNAL_PAGE;
                if let Some(last) = page.last() {
                    after = last.seq;
                }
                journal.extend(page.into_iter().filter(|event| event.batch_id == batch_id));
                if !full {
                    break;
                }
            }
            let batch = store.require_batch(&batch_id)?;
            let counters = store.batch_counters(&batch_id)?;
            let recent = store.recent_calls(&batch_id, RECENT_CALLS)?;
            Ok((journal, after, batch, counters, recent))
        })
        .await;
    let (journal, after, batch, counters, recent) = match read {
        Ok(read) => read,
        Err(error) => {
            cursor.done = true;
            return vec![Event::default().event("error").data(error.message)];
        }
    };
    cursor.after_seq = after;
    let mut out: Vec<Event> = journal
        .iter()
        .filter_map(|event| {
            Event::default()
                .id(event.id())
                .event(event.kind.as_str())
                .json_data(event)
                .ok()
        })
        .collect();
    let changed = cursor
        .last
        .as_ref()
        .is_none_or(|(last_batch, last_counters)| {
            *last_batch != batch || *last_counters != counters
        });
    if changed {
        let progress = BatchProgress::new(&batch, &counters, recent);
        if let Ok(event) = Event::default().event("progress").json_data(&progress) {
            out.push(event);
        }
        if batch.status.is_final() && counters.live() == 0 {
            out.push(Event::default().event("end").data(batch.status.as_str()));
            cursor.done = true;
        }
        cursor.last = Some((batch, counters));
    }
    out
}
