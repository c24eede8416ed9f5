//! A batch's reports over the API: every attempt as CSV, every transcript
//! as JSON lines, and the call statuses a contact's attempts carry.

use std::time::Instant;

use outdial::api::routes;
use outdial::model::{AttemptKey, BatchStatus, CallOutcome, ContactStatus, MINUTE_MS, Millis};
use outdial::store::{
    AttemptEnd, BeginAttempt, EndAttempt, NewBatch, NewContact, NextStep, StatusChange, Store,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::api::{ACME_KEY, Server, start};

const T0: Millis = 1_750_000_000_000;

/// Attempts in the large export; `OUTDIAL_REPORT_ATTEMPTS` scales it.
fn large_count() -> usize {
    std::env::var("OUTDIAL_REPORT_ATTEMPTS")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(100_000)
}

/// A dialing batch of the "spring" campaign with `contacts` contacts,
/// written through the store.
fn dialing_batch(store: &dyn Store, contacts: usize) -> String {
    let batch = store
        .create_batch(NewBatch {
            workspace: "acme".to_string(),
            campaign_id: "spring".to_string(),
            created_at: T0,
            created_by: "test".to_string(),
            contacts: (0..contacts)
                .map(|i| NewContact {
                    contact_id: format!("c{i}"),
                    phone: format!("+1212{i:07}"),
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

fn dial(store: &dyn Store, batch_id: &str, seqs: std::ops::Range<u64>, at: Millis) {
    let begins = seqs
        .map(|seq| BeginAttempt {
            batch_id: batch_id.to_string(),
            seq,
            at,
            from_number: Some("+12125550000".to_string()),
            variant: None,
            followup: false,
            gate: None,
        })
        .collect();
    for begun in store.begin_attempts(begins).expect("the dials are written") {
        begun.expect("a due contact is dialed");
    }
}

/// Ends attempt `number` of contact `seq`: answered ones with a
/// transcript, every fourth of those with a summary too.
fn end(
    batch_id: &str,
    seq: u64,
    number: u32,
    outcome: CallOutcome,
    next: ContactStatus,
) -> EndAttempt {
    let at = T0 + i64::from(number) * MINUTE_MS + 30_000;
    let answered = outcome == CallOutcome::Answered;
    let mut metadata = vec![(
        "ended_reason".to_string(),
        "customer-ended-call".to_string(),
    )];
    if answered && seq.is_multiple_of(4) {
        metadata.push(("summary".to_string(), format!("summary of {seq}")));
    }
    EndAttempt {
        key: AttemptKey {
            batch_id: batch_id.to_string(),
            seq,
            number,
        },
        at,
        end: AttemptEnd {
            outcome: Some(outcome),
            sip_code: Some(if answered { 200 } else { 486 }),
            talk_ms: if answered { 12_000 } else { 0 },
            transcript: answered.then(|| format!("agent: hello\nuser: \"hi\", contact {seq}")),
            cost_micros: Some(2_500),
            metadata,
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
        success: answered,
        suppress: None,
    }
}

async fn body_of(server: &Server, path: &str) -> (StatusCode, String, String) {
    let response = server.get(path, ACME_KEY).send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

/// A validator of the document's schema `name`, its references resolved.
fn schema_validator(name: &str) -> jsonschema::Validator {
    let document = serde_json::to_value(routes::openapi()).unwrap();
    let mut root = json!({
        "allOf": [{"$ref": format!("#/components/schemas/{name}")}],
        "components": document["components"],
    });
    root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    jsonschema::options().build(&root).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_of_100000_attempts_is_exported_whole_through_both_reports() {
    let server = start("http://127.0.0.1:9/hook").await;
    let count = large_count();
    let written = Instant::now();
    let store = server.store.clone();
    let batch = tokio::task::spawn_blocking(move || {
        let batch = dialing_batch(store.as_ref(), count);
        dial(store.as_ref(), &batch, 0..count as u64, T0);
        // Every contact but the last ends: answered, busy, no answer in
        // turn; the last one's call stays live.
        let ends = (0..count as u64 - 1)
            .map(|seq| match seq % 3 {
                0 => end(
                    &batch,
                    seq,
                    1,
                    CallOutcome::Answered,
                    ContactStatus::Completed,
                ),
                1 => end(&batch, seq, 1, CallOutcome::Busy, ContactStatus::Busy),
                _ => end(
                    &batch,
                    seq,
                    1,
                    CallOutcome::NoAnswer,
                    ContactStatus::NoAnswer,
                ),
            })
            .collect();
        for ended in store.end_attempts(ends).expect("the ends are written") {
            ended.expect("a live attempt ends");
        }
        batch
    })
    .await
    .unwrap();
    eprintln!("{count} attempts written in {:?}", written.elapsed());
    let answered = (count - 1).div_ceil(3);

    let exported = Instant::now();
    let (status, content_type, csv) =
        body_of(&server, &format!("/v1/batches/{batch}/attempts.csv")).await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "contact_id,phone,from_number,variant,attempt_number,call_status,outcome,sip_code,\
             machine_detection,disposition,score,sentiment,started_at,answered_at,ended_at,\
             talk_seconds,cost,provider_call_id,ended_reason"
        )
    );
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
    assert_eq!(rows.len(), count, "one row per attempt");
    assert!(rows.iter().all(|row| row.len() == 19), "19 columns a row");
    for (seq, row) in rows.iter().enumerate() {
        assert_eq!(row[0], format!("c{seq}"), "contacts in upload order");
    }
    let with_status = |status: &str| rows.iter().filter(|row| row[5] == status).count();
    assert_eq!(with_status("COMPLETED"), answered);
    assert_eq!(with_status("MISSED"), count - 1 - answered);
    assert_eq!(with_status("ONGOING"), 1);
    assert_eq!(
        rows[0],
        [
            "c0",
            "+12120000000",
            "+12125550000",
            "",
            "1",
            "COMPLETED",
            "answered",
            "200",
            "not_run",
            "",
            "",
            "",
            "2025-06-15T15:06:40.000Z",
            "2025-06-15T15:07:58.000Z",
            "2025-06-15T15:08:10.000Z",
            "12.000",
            "0.002500",
            "",
            "customer-ended-call",
        ]
    );
    let last = rows.last().unwrap();
    assert_eq!((last[5], last[6], last[14]), ("ONGOING", "", ""));

    let (status, content_type, jsonl) =
        body_of(&server, &format!("/v1/batches/{batch}/transcripts.jsonl")).await;
    assert_eq!(status, StatusCode::OK, "{jsonl}");
    assert_eq!(content_type, "application/x-ndjson");
    let validator = schema_validator("TranscriptLine");
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(
        lines.len(),
        answered,
        "one line per attempt with a transcript"
    );
    for line in &lines {
        assert!(
            validator.is_valid(line),
            "a line outside the document: {line}"
        );
    }
    assert_eq!(
        lines[0],
        json!({
            "attempt_id": format!("{batch}-0-1"),
            "contact_id": "c0",
            "phone": "+12120000000",
            "attempt_number": 1,
            "call_status": "COMPLETED",
            "ended_at": T0 + MINUTE_MS + 30_000,
            "transcript": "agent: hello\nuser: \"hi\", contact 0",
            "summary": "summary of 0",
        })
    );
    assert_eq!(lines[1]["contact_id"], "c3");
    assert_eq!(lines[1]["summary"], Value::Null, "no summary, null");
    eprintln!(
        "both reports of {count} attempts read in {:?}",
        exported.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contacts_attempts_carry_their_call_status_and_a_waiting_contact_its_next_call() {
    let server = start("http://127.0.0.1:9/hook").await;
    let store = server.store.clone();
    let batch = tokio::task::spawn_blocking(move || {
        let batch = dialing_batch(store.as_ref(), 2);
        dial(store.as_ref(), &batch, 0..2, T0);
        store
            .end_attempt(end(
                &batch,
                0,
                1,
                CallOutcome::Busy,
                ContactStatus::Retrying,
            ))
            .expect("the busy call ends");
        batch
    })
    .await
    .unwrap();

    let (status, _, body) = body_of(&server, &format!("/v1/batches/{batch}/contacts/0")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let retrying: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(retrying["attempts"][0]["call_status"], "MISSED");
    assert_eq!(
        retrying["attempts"][0]["outcome"], "busy",
        "the attempt's own fields stay"
    );
    assert_eq!(
        retrying["next_call"],
        json!({"call_status": "SCHEDULED", "at": T0 + 2 * MINUTE_MS + 30_000})
    );

    let (status, _, body) = body_of(&server, &format!("/v1/batches/{batch}/contacts/1")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let live: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(live["attempts"][0]["call_status"], "ONGOING");
    assert_eq!(
        live["next_call"],
        Value::Null,
        "a contact on a call waits for nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_of_a_batch_the_key_does_not_own_is_not_found() {
    let server = start("http://127.0.0.1:9/hook").await;
    for report in ["attempts.csv", "transcripts.jsonl"] {
        let (status, _, body) = body_of(
            &server,
            &format!("/v1/batches/btc_0000000000000000/{report}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{report}: {body}");
    }
}
