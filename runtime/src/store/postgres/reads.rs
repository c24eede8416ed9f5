//! The store's reads, each on a pooled connection of its own, seeing the
//! writes committed before it began.

use std::collections::HashMap;

use deadpool_postgres::Object;

use super::rows::{self, count, decode, int, limit};
use super::writer::{attempt_of, query, query_opt};
use crate::model::{Attempt, Millis};
use crate::store::ledger::{self, CountedContact, LogLine, Recount, SkipKind};
use crate::store::{
    AttemptKey, AttemptQuery, AttemptTotals, BatchAttempt, BatchQuery, BatchRecord, ContactDetail,
    ContactHistory, ContactQuery, ContactRecord, Counters, JournalEvent, LiveAttempt, MinuteTotals,
    NumberState, NumberTotals, Page, PhoneHistory, RecentCall, StoreError, SuppressionEntry,
    SuppressionHit, SuppressionList, SuppressionQuery, WebhookDelivery, WebhookEndpointState,
    minute_of,
};

pub(super) async fn batch(db: &Object, batch_id: &str) -> Result<Option<BatchRecord>, StoreError> {
    query_opt(db, "SELECT record FROM batches WHERE id = $1", &[&batch_id])
        .await?
        .map(|row| decode(&format!("batches {batch_id}"), row.get("record")))
        .transpose()
}

fn batches_of(rows: &[tokio_postgres::Row]) -> Result<Vec<BatchRecord>, StoreError> {
    rows.iter()
        .map(|row| decode("batches", row.get("record")))
        .collect()
}

/// A page cursor of [`list_batches`]: the creation time and id of the
/// page's last batch.
fn batch_cursor(batch: &BatchRecord) -> String {
    format!("{}:{}", batch.created_at, batch.id)
}

fn parse_batch_cursor(cursor: &str) -> Result<(Millis, String), StoreError> {
    let bad = || StoreError::BadCursor(cursor.to_string());
    let (at, id) = cursor.split_once(':').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, id.to_string()))
}

pub(super) async fn list_batches(
    db: &Object,
    query_: &BatchQuery,
) -> Result<Page<BatchRecord>, StoreError> {
    let (before_at, before_id) = match &query_.cursor {
        Some(cursor) => parse_batch_cursor(cursor)?,
        None => (Millis::MAX, String::new()),
    };
    let from_cursor = query_.cursor.is_some();
    let size = query_.limit.max(1);
    let rows = query(
        db,
        "SELECT record FROM batches WHERE workspace = $1 \
         AND ($2::text IS NULL OR campaign_id = $2) \
         AND (NOT $3 OR (created_at, id) < ($4, $5)) \
         ORDER BY created_at DESC, id DESC LIMIT $6",
        &[
            &query_.workspace,
            &query_.campaign_id,
            &from_cursor,
            &before_at,
            &before_id,
            &limit(size),
        ],
    )
    .await?;
    let items = batches_of(&rows)?;
    let next_cursor = if items.len() == size {
        items.last().map(batch_cursor)
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

pub(super) async fn open_batches(db: &Object) -> Result<Vec<BatchRecord>, StoreError> {
    let rows = query(db, "SELECT record FROM batches WHERE open ORDER BY id", &[]).await?;
    batches_of(&rows)
}

pub(super) async fn contact(
    db: &Object,
    batch_id: &str,
    seq: u64,
) -> Result<Option<ContactRecord>, StoreError> {
    query_opt(
        db,
        "SELECT seq, record, dials FROM contacts WHERE batch_id = $1 AND seq = $2",
        &[&batch_id, &int(seq)],
    )
    .await?
    .map(|row| rows::contact_of(batch_id, &row))
    .transpose()
}

/// A contact's attempts, oldest first.
pub(super) async fn attempts(
    db: &Object,
    batch_id: &str,
    seq: u64,
) -> Result<Vec<Attempt>, StoreError> {
    query(
        db,
        "SELECT record, provider_call_id FROM attempts WHERE batch_id = $1 AND seq = $2 \
         ORDER BY number",
        &[&batch_id, &int(seq)],
    )
    .await?
    .iter()
    .map(attempt_of)
    .collect()
}

pub(super) async fn contact_detail(
    db: &Object,
    batch_id: &str,
    seq: u64,
) -> Result<Option<ContactDetail>, StoreError> {
    let Some(contact) = contact(db, batch_id, seq).await? else {
        return Ok(None);
    };
    let attempts = attempts(db, batch_id, seq).await?;
    let mut logged = Vec::new();
    for row in query(
        db,
        "SELECT number, record FROM contact_events WHERE batch_id = $1 AND seq = $2",
        &[&batch_id, &int(seq)],
    )
    .await?
    {
        let number: i32 = row.get("number");
        logged.push(LogLine {
            number: number as u32,
            event: decode("contact_events", row.get("record"))?,
        });
    }
    let events = ledger::contacts::contact_log(logged, &attempts);
    Ok(Some(ContactDetail {
        contact,
        attempts,
        events,
    }))
}

pub(super) async fn contacts_with_attempts(
    db: &Object,
    batch_id: &str,
    seqs: &[u64],
) -> Result<Vec<Option<ContactHistory>>, StoreError> {
    let wanted: Vec<i64> = seqs.iter().map(|seq| int(*seq)).collect();
    let mut contacts = HashMap::new();
    for row in query(
        db,
        "SELECT seq, record, dials FROM contacts WHERE batch_id = $1 AND seq = ANY($2)",
        &[&batch_id, &wanted],
    )
    .await?
    {
        let contact = rows::contact_of(batch_id, &row)?;
        contacts.insert(contact.seq, contact);
    }
    let mut attempts: HashMap<u64, Vec<Attempt>> = HashMap::new();
    for row in query(
        db,
        "SELECT seq, record, provider_call_id FROM attempts \
         WHERE batch_id = $1 AND seq = ANY($2) ORDER BY seq, number",
        &[&batch_id, &wanted],
    )
    .await?
    {
        let seq: i64 = row.get("seq");
        attempts
            .entry(count(seq))
            .or_default()
            .push(attempt_of(&row)?);
    }
    Ok(seqs
        .iter()
        .map(|seq| {
            contacts.get(seq).map(|contact| ContactHistory {
                contact: contact.clone(),
                attempts: attempts.get(seq).cloned().unwrap_or_default(),
            })
        })
        .collect())
}

pub(super) async fn list_contacts(
    db: &Object,
    query_: &ContactQuery,
) -> Result<Page<ContactRecord>, StoreError> {
    let from = match &query_.cursor {
        Some(cursor) => cursor
            .parse::<u64>()
            .map_err(|_| StoreError::BadCursor(cursor.clone()))?
            .saturating_add(1),
        None => 0,
    };
    let size = query_.limit.max(1);
    let rows = match query_.status {
        Some(status) => {
            query(
                db,
                "SELECT seq, record, dials FROM contacts \
                 WHERE batch_id = $1 AND status = $2 AND seq >= $3 ORDER BY seq LIMIT $4",
                &[
                    &query_.batch_id,
                    &rows::status_text(status),
                    &int(from),
                    &limit(size),
                ],
            )
            .await?
        }
        None => {
            query(
                db,
                "SELECT seq, record, dials FROM contacts \
                 WHERE batch_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
                &[&query_.batch_id, &int(from), &limit(size)],
            )
            .await?
        }
    };
    let items = rows
        .iter()
        .map(|row| rows::contact_of(&query_.batch_id, row))
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if items.len() == size {
        items.last().map(|contact| contact.seq.to_string())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

pub(super) async fn batch_attempts(
    db: &Object,
    query_: &AttemptQuery,
) -> Result<Page<BatchAttempt>, StoreError> {
    let after = match &query_.cursor {
        Some(cursor) => crate::store::parse_attempt_cursor(cursor)?,
        None => (0, 0),
    };
    let size = query_.limit.max(1);
    let rows = query(
        db,
        "SELECT a.seq, a.record, a.provider_call_id, c.contact_id, c.phone \
         FROM attempts a JOIN contacts c ON c.batch_id = a.batch_id AND c.seq = a.seq \
         WHERE a.batch_id = $1 AND (a.seq, a.number) > ($2, $3) \
         ORDER BY a.seq, a.number LIMIT $4",
        &[
            &query_.batch_id,
            &int(after.0),
            &(after.1 as i32),
            &limit(size),
        ],
    )
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let seq: i64 = row.get("seq");
        items.push(BatchAttempt {
            seq: count(seq),
            contact_id: row.get("contact_id"),
            phone: row.get("phone"),
            attempt: attempt_of(row)?,
        });
    }
    let next_cursor = if items.len() == size {
        items
            .last()
            .map(|last| format!("{}.{}", last.seq, last.attempt.number))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

pub(super) async fn due(
    db: &Object,
    batch_id: &str,
    now: Millis,
    size: usize,
) -> Result<Vec<ContactRecord>, StoreError> {
    query(
        db,
        "SELECT seq, record, dials FROM contacts WHERE batch_id = $1 AND due_at <= $2 \
         ORDER BY due_at, seq LIMIT $3",
        &[&batch_id, &now, &limit(size)],
    )
    .await?
    .iter()
    .map(|row| rows::contact_of(batch_id, row))
    .collect()
}

pub(super) async fn next_eligible_at(
    db: &Object,
    batch_id: &str,
) -> Result<Option<Millis>, StoreError> {
    let row = query_opt(
        db,
        "SELECT due_at FROM contacts WHERE batch_id = $1 AND due_at IS NOT NULL \
         ORDER BY due_at LIMIT 1",
        &[&batch_id],
    )
    .await?;
    Ok(row.map(|row| row.get("due_at")))
}

pub(super) async fn live_attempts(db: &Object) -> Result<Vec<LiveAttempt>, StoreError> {
    let rows = query(
        db,
        "SELECT a.batch_id, a.seq, a.number, a.record, a.provider_call_id, b.campaign_id \
         FROM attempts a JOIN batches b ON b.id = a.batch_id WHERE a.live \
         ORDER BY a.batch_id, a.seq",
        &[],
    )
    .await?;
    rows.iter()
        .map(|row| {
            let attempt = attempt_of(row)?;
            let seq: i64 = row.get("seq");
            let number: i32 = row.get("number");
            let key = AttemptKey {
                batch_id: row.get("batch_id"),
                seq: count(seq),
                number: number as u32,
            };
            Ok(LiveAttempt {
                attempt_id: attempt.id.clone(),
                batch_id: key.batch_id,
                campaign_id: row.get("campaign_id"),
                seq: key.seq,
                number: key.number,
                provider_call_id: attempt.provider_call_id,
                started_at: attempt.started_at,
            })
        })
        .collect()
}

pub(super) async fn batch_counters(db: &Object, batch_id: &str) -> Result<Counters, StoreError> {
    let rows = query(
        db,
        "SELECT scalars, by_status, by_blocker FROM counter_shards WHERE batch_id = $1",
        &[&batch_id],
    )
    .await?;
    Ok(rows::counters_of(&rows))
}

pub(super) async fn campaign_counters(
    db: &Object,
    workspace: &str,
    campaign_id: &str,
) -> Result<Counters, StoreError> {
    let rows = query(
        db,
        "SELECT scalars, by_status, by_blocker FROM counter_shards \
         WHERE workspace = $1 AND campaign_id = $2",
        &[&workspace, &campaign_id],
    )
    .await?;
    Ok(rows::counters_of(&rows))
}

pub(super) async fn recent_calls(
    db: &Object,
    batch_id: &str,
    size: usize,
) -> Result<Vec<RecentCall>, StoreError> {
    let mut calls: Vec<RecentCall> = match query_opt(
        db,
        "SELECT record FROM recent_calls WHERE batch_id = $1",
        &[&batch_id],
    )
    .await?
    {
        Some(row) => decode(&format!("recent_calls {batch_id}"), row.get("record"))?,
        None => Vec::new(),
    };
    calls.truncate(size);
    Ok(calls)
}

pub(super) async fn recount(db: &Object, batch_id: &str) -> Result<Counters, StoreError> {
    let mut recount = Recount::default();
    for row in query(
        db,
        "SELECT seq, record, dials FROM contacts WHERE batch_id = $1",
        &[&batch_id],
    )
    .await?
    {
        let contact = rows::contact_of(batch_id, &row)?;
        recount.contact(CountedContact {
            status: contact.status,
            blocker: contact.blocker,
            skip: SkipKind::of(contact.status, contact.final_reason.as_deref()),
            system_retries: contact.system_retries,
            total_talk_ms: contact.total_talk_ms,
            total_cost_micros: contact.total_cost_micros,
            has_live_attempt: contact.live_attempt_id.is_some(),
            gate_faults: contact.gate_faults,
        });
    }
    for row in query(
        db,
        "SELECT record, provider_call_id FROM attempts WHERE batch_id = $1 AND NOT live",
        &[&batch_id],
    )
    .await?
    {
        recount.attempt(&attempt_of(&row)?);
    }
    Ok(recount.counters())
}

pub(super) async fn batch_totals(db: &Object, batch_id: &str) -> Result<AttemptTotals, StoreError> {
    let row = query_opt(
        db,
        "SELECT record FROM batch_totals WHERE batch_id = $1",
        &[&batch_id],
    )
    .await?;
    rows::totals_of(&format!("batch_totals {batch_id}"), row.as_ref())
}

pub(super) async fn campaign_totals(
    db: &Object,
    workspace: &str,
    campaign_id: &str,
) -> Result<AttemptTotals, StoreError> {
    let row = query_opt(
        db,
        "SELECT record FROM campaign_totals WHERE workspace = $1 AND campaign_id = $2",
        &[&workspace, &campaign_id],
    )
    .await?;
    rows::totals_of("campaign_totals", row.as_ref())
}

fn number_totals_of(rows: &[tokio_postgres::Row]) -> Vec<(String, NumberTotals)> {
    rows.iter()
        .map(|row| {
            let at = |column: &str| count(row.get(column));
            (
                row.get("number"),
                NumberTotals {
                    attempts: at("attempts"),
                    answered: at("answered"),
                    busy: at("busy"),
                    no_answer: at("no_answer"),
                    failed: at("failed"),
                },
            )
        })
        .collect()
}

pub(super) async fn batch_number_totals(
    db: &Object,
    batch_id: &str,
) -> Result<Vec<(String, NumberTotals)>, StoreError> {
    let rows = query(
        db,
        "SELECT number, attempts, answered, busy, no_answer, failed FROM batch_number_totals \
         WHERE batch_id = $1 ORDER BY number",
        &[&batch_id],
    )
    .await?;
    Ok(number_totals_of(&rows))
}

pub(super) async fn campaign_number_totals(
    db: &Object,
    workspace: &str,
    campaign_id: &str,
) -> Result<Vec<(String, NumberTotals)>, StoreError> {
    let rows = query(
        db,
        "SELECT number, attempts, answered, busy, no_answer, failed FROM campaign_number_totals \
         WHERE workspace = $1 AND campaign_id = $2 ORDER BY number",
        &[&workspace, &campaign_id],
    )
    .await?;
    Ok(number_totals_of(&rows))
}

pub(super) async fn timeline(
    db: &Object,
    batch_id: &str,
    since: Millis,
) -> Result<Vec<MinuteTotals>, StoreError> {
    // Clamped so the minute's start cannot fall below the smallest time.
    let from = minute_of(since.max(Millis::MIN + crate::model::MINUTE_MS));
    let rows = query(
        db,
        "SELECT minute, attempts, answers, failures FROM timeline \
         WHERE batch_id = $1 AND minute >= $2 ORDER BY minute",
        &[&batch_id, &from],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|row| MinuteTotals {
            minute: row.get("minute"),
            attempts: count(row.get("attempts")),
            answers: count(row.get("answers")),
            failures: count(row.get("failures")),
        })
        .collect())
}

pub(super) async fn batch_zones(db: &Object, batch_id: &str) -> Result<Vec<String>, StoreError> {
    let rows = query(
        db,
        "SELECT zone FROM batch_zones WHERE batch_id = $1 ORDER BY zone",
        &[&batch_id],
    )
    .await?;
    Ok(rows.iter().map(|row| row.get("zone")).collect())
}

pub(super) async fn number_states(
    db: &Object,
    workspace: &str,
    campaign_id: &str,
) -> Result<Vec<(String, NumberState)>, StoreError> {
    query(
        db,
        "SELECT number, record FROM number_states WHERE workspace = $1 AND campaign_id = $2 \
         ORDER BY number",
        &[&workspace, &campaign_id],
    )
    .await?
    .iter()
    .map(|row| {
        Ok((
            row.get("number"),
            decode("number_states", row.get("record"))?,
        ))
    })
    .collect()
}

pub(super) async fn journal(
    db: &Object,
    after_seq: u64,
    size: usize,
) -> Result<Vec<JournalEvent>, StoreError> {
    query(
        db,
        "SELECT seq, record FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2",
        &[&int(after_seq), &limit(size)],
    )
    .await?
    .iter()
    .map(|row| {
        let seq: i64 = row.get("seq");
        decode(&format!("journal {seq}"), row.get("record"))
    })
    .collect()
}

pub(super) async fn journal_head(db: &Object) -> Result<u64, StoreError> {
    let row = query_opt(db, "SELECT journal_head FROM store_meta", &[]).await?;
    Ok(row.map_or(0, |row| count(row.get("journal_head"))))
}

pub(super) async fn webhook_endpoint(
    db: &Object,
    id: &str,
) -> Result<Option<WebhookEndpointState>, StoreError> {
    query_opt(
        db,
        "SELECT record FROM webhook_endpoints WHERE id = $1",
        &[&id],
    )
    .await?
    .map(|row| decode(&format!("webhook_endpoints {id}"), row.get("record")))
    .transpose()
}

pub(super) async fn webhook_deliveries(
    db: &Object,
    endpoint_id: &str,
    size: usize,
) -> Result<Vec<WebhookDelivery>, StoreError> {
    query(
        db,
        "SELECT record FROM webhook_deliveries WHERE endpoint_id = $1 \
         ORDER BY number DESC LIMIT $2",
        &[&endpoint_id, &limit(size)],
    )
    .await?
    .iter()
    .map(|row| decode("webhook_deliveries", row.get("record")))
    .collect()
}

pub(super) async fn suppression_lists(
    db: &Object,
    workspace: &str,
) -> Result<Vec<SuppressionList>, StoreError> {
    let mut lists: Vec<SuppressionList> = query(
        db,
        "SELECT record FROM suppression_lists WHERE workspace = $1",
        &[&workspace],
    )
    .await?
    .iter()
    .map(|row| decode("suppression_lists", row.get("record")))
    .collect::<Result<_, _>>()?;
    if !lists
        .iter()
        .any(|list| list.name == crate::store::DNC_INTERNAL)
    {
        lists.extend(ledger::suppression::as_read(
            None,
            workspace,
            crate::store::DNC_INTERNAL,
        ));
    }
    lists.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(lists)
}

pub(super) async fn suppression_list(
    db: &Object,
    workspace: &str,
    name: &str,
) -> Result<Option<SuppressionList>, StoreError> {
    let stored = query_opt(
        db,
        "SELECT record FROM suppression_lists WHERE workspace = $1 AND name = $2",
        &[&workspace, &name],
    )
    .await?
    .map(|row| decode(&format!("suppression_lists {name}"), row.get("record")))
    .transpose()?;
    Ok(ledger::suppression::as_read(stored, workspace, name))
}

pub(super) async fn suppression_entries(
    db: &Object,
    query_: &SuppressionQuery,
) -> Result<Page<SuppressionEntry>, StoreError> {
    if suppression_list(db, &query_.workspace, &query_.list)
        .await?
        .is_none()
    {
        return Err(StoreError::SuppressionListNotFound {
            workspace: query_.workspace.clone(),
            list: query_.list.clone(),
        });
    }
    let after = match &query_.cursor {
        Some(cursor) if cursor.is_empty() || cursor.contains('\0') => {
            return Err(StoreError::BadCursor(cursor.clone()));
        }
        Some(cursor) => Some(cursor.as_str()),
        None => None,
    };
    let size = query_.limit.max(1);
    let items: Vec<SuppressionEntry> = query(
        db,
        "SELECT record FROM suppression_entries WHERE workspace = $1 AND list = $2 \
         AND ($3::text IS NULL OR phone > $3) ORDER BY phone LIMIT $4",
        &[&query_.workspace, &query_.list, &after, &limit(size)],
    )
    .await?
    .iter()
    .map(|row| decode("suppression_entries", row.get("record")))
    .collect::<Result<_, _>>()?;
    let next_cursor = if items.len() == size {
        items.last().map(|entry| entry.phone.clone())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

pub(super) async fn suppressions_of(
    db: &Object,
    workspace: &str,
    phones: &[String],
    now: Millis,
) -> Result<Vec<Vec<SuppressionHit>>, StoreError> {
    let mut hits: HashMap<String, Vec<SuppressionHit>> = HashMap::new();
    for row in query(
        db,
        "SELECT phone, list, blocks, record FROM suppression_entries \
         WHERE workspace = $1 AND phone = ANY($2) ORDER BY phone, list",
        &[&workspace, &phones],
    )
    .await?
    {
        let entry: SuppressionEntry = decode("suppression_entries", row.get("record"))?;
        if crate::model::unexpired(entry.expires_at, now) {
            hits.entry(row.get("phone"))
                .or_default()
                .push(SuppressionHit {
                    list: row.get("list"),
                    blocks: row.get("blocks"),
                    reason: entry.reason,
                });
        }
    }
    Ok(phones
        .iter()
        .map(|phone| hits.get(phone).cloned().unwrap_or_default())
        .collect())
}

pub(super) async fn phone_histories(
    db: &Object,
    workspace: &str,
    contacts: &[ContactRecord],
    now: Millis,
) -> Result<Vec<PhoneHistory>, StoreError> {
    let phones: Vec<&str> = contacts
        .iter()
        .map(|contact| contact.phone.as_str())
        .collect();
    let mut shares: HashMap<String, Vec<(String, u64, crate::model::ContactDials)>> =
        HashMap::new();
    for row in query(
        db,
        "SELECT batch_id, seq, phone, dials FROM contacts \
         WHERE workspace = $1 AND phone = ANY($2)",
        &[&workspace, &phones],
    )
    .await?
    {
        let seq: i64 = row.get("seq");
        let dials = decode("contacts dials", row.get("dials"))?;
        shares
            .entry(row.get("phone"))
            .or_default()
            .push((row.get("batch_id"), count(seq), dials));
    }
    Ok(contacts
        .iter()
        .map(|contact| {
            let others = shares
                .get(&contact.phone)
                .into_iter()
                .flatten()
                .filter(|(batch, seq, _)| *batch != contact.batch_id || *seq != contact.seq)
                .map(|(_, _, dials)| dials);
            ledger::phones::history(others.chain([&contact.dials]), now)
        })
        .collect())
}
