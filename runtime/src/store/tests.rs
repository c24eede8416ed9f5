use super::*;
use crate::model::{CallOutcome, ContactStatus, Decision, Disposition, MINUTE_MS};

const T0: Millis = 1_700_000_000_000;

fn open(dir: &tempfile::TempDir, durability: Durability) -> SledStore {
    let mut config = StoreConfig::new(dir.path().join("db"));
    config.durability = durability;
    config.cache_capacity_bytes = 8 * 1024 * 1024;
    SledStore::open(&config).expect("a fresh store opens")
}

fn new_batch(contacts: usize) -> NewBatch {
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

fn start(store: &SledStore, batch_id: &str) {
    store
        .set_batch_status(StatusChange {
            batch_id: batch_id.to_string(),
            to: BatchStatus::InProgress,
            reason: None,
            by: "test".to_string(),
            at: T0,
            only_from: Vec::new(),
        })
        .expect("a pending batch starts");
}

fn begin(batch_id: &str, seq: u64, at: Millis) -> BeginAttempt {
    BeginAttempt {
        batch_id: batch_id.to_string(),
        seq,
        at,
        from_number: Some("+15550009999".to_string()),
        variant: None,
        followup: false,
    }
}

/// Begins one attempt on contact `seq`, which must be dialable.
fn begin_one(store: &SledStore, batch_id: &str, seq: u64, at: Millis) -> Attempt {
    store
        .begin_attempts(vec![begin(batch_id, seq, at)])
        .expect("group")
        .remove(0)
        .expect("the attempt begins")
}

fn end(key: AttemptKey, at: Millis, outcome: CallOutcome, next: ContactStatus) -> EndAttempt {
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
    }
}

/// splitmix64: a seeded generator small enough to keep beside the tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[test]
fn counters_equal_a_recount_after_a_random_workload() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batches: Vec<String> = (0..2)
        .map(|_| store.create_batch(new_batch(150)).expect("create").batch.id)
        .collect();
    for batch in &batches {
        start(&store, batch);
    }
    let mut rng = Rng(7);
    let mut now = T0;
    let mut live: Vec<AttemptKey> = Vec::new();
    let ends = [
        (CallOutcome::Answered, ContactStatus::Completed),
        (CallOutcome::Busy, ContactStatus::Retrying),
        (CallOutcome::NoAnswer, ContactStatus::NoAnswer),
        (CallOutcome::Failed, ContactStatus::Failed),
        (CallOutcome::NoAnswer, ContactStatus::FollowupScheduled),
        (CallOutcome::Busy, ContactStatus::MaxRetriesReached),
    ];
    for _ in 0..3_000 {
        now += rng.below(20_000) as Millis;
        let batch = &batches[rng.below(2) as usize];
        match rng.below(6) {
            0 | 1 => {
                let due = store
                    .due(batch, now, 1 + rng.below(4) as usize)
                    .expect("due");
                let begins = due.iter().map(|c| begin(batch, c.seq, now)).collect();
                for attempt in store.begin_attempts(begins).expect("begin") {
                    let attempt = attempt.expect("a due contact of a dialing batch begins");
                    live.push(AttemptKey::parse(&attempt.id).expect("own id parses"));
                }
            }
            2 if !live.is_empty() => {
                let key = &live[rng.below(live.len() as u64) as usize];
                store
                    .mark_in_progress(key, Some(format!("call-{}", key.id())), Some(now), now)
                    .expect("a live attempt rings");
            }
            3 if !live.is_empty() => {
                let key = live.swap_remove(rng.below(live.len() as u64) as usize);
                let (outcome, next) = ends[rng.below(ends.len() as u64) as usize];
                let mut request = end(key, now, outcome, next);
                request.counts_as_attempt = rng.below(5) != 0;
                store.end_attempt(request).expect("a live attempt ends");
            }
            4 => {
                let due = store.due(batch, now + MINUTE_MS, 3).expect("due");
                let blocker = Blocker::ALL[rng.below(Blocker::ALL.len() as u64) as usize];
                let updates = due
                    .iter()
                    .map(|c| BlockerUpdate {
                        seq: c.seq,
                        blocker: Some(blocker),
                        next_eligible_at: Some(now + rng.below(60_000) as Millis),
                    })
                    .collect();
                store.set_blockers(batch, updates, now).expect("blockers");
            }
            _ => {
                if let Some(contact) = store.due(batch, now, 1).expect("due").first() {
                    store
                        .skip_contact(batch, contact.seq, "operator", now)
                        .expect("a waiting contact is skipped");
                }
            }
        }
    }
    let mut campaign = Counters::default();
    for batch in &batches {
        let recount = store.recount(batch).expect("recount");
        assert_eq!(store.batch_counters(batch).expect("counters"), recount);
        assert!(recount.attempts > 50, "the workload dialed: {recount:?}");
        campaign.add(&recount);
    }
    assert_eq!(
        store.campaign_counters("ws", "camp").expect("counters"),
        campaign
    );
    assert_eq!(
        store.live_attempts().expect("live").len(),
        live.len(),
        "the live index holds exactly the unended attempts"
    );
}

#[test]
fn the_due_index_orders_by_eligibility_then_sequence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(5)).expect("create").batch.id;
    let updates = [(0, 300), (1, 100), (2, 200), (3, 100), (4, 50_000)]
        .into_iter()
        .map(|(seq, offset)| BlockerUpdate {
            seq,
            blocker: None,
            next_eligible_at: Some(T0 + offset),
        })
        .collect();
    store.set_blockers(&batch, updates, T0).expect("blockers");
    let order: Vec<u64> = store
        .due(&batch, T0 + 1_000, 10)
        .expect("due")
        .iter()
        .map(|c| c.seq)
        .collect();
    assert_eq!(order, vec![1, 3, 2, 0]);
    assert_eq!(store.due(&batch, T0 + 1_000, 2).expect("due").len(), 2);
    assert_eq!(
        store.next_eligible_at(&batch).expect("next"),
        Some(T0 + 100)
    );
}

#[test]
fn illegal_transitions_are_rejected_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(3)).expect("create").batch.id;
    start(&store, &batch);
    let before = store.contact(&batch, 0).expect("read");
    let counters = store.batch_counters(&batch).expect("counters");

    // A waiting contact cannot end an attempt it never began.
    let key = AttemptKey {
        batch_id: batch.clone(),
        seq: 0,
        number: 1,
    };
    let err = store
        .end_attempt(end(
            key,
            T0,
            CallOutcome::Answered,
            ContactStatus::Completed,
        ))
        .expect_err("no live attempt");
    assert!(matches!(err, StoreError::AttemptNotLive(_)), "{err}");

    // A skipped contact cannot be dialed.
    store.skip_contact(&batch, 1, "operator", T0).expect("skip");
    let refused = store
        .begin_attempts(vec![begin(&batch, 1, T0)])
        .expect("group");
    assert!(matches!(refused[0], Err(StoreError::IllegalTransition(_))));
    assert!(store.skip_contact(&batch, 1, "again", T0).is_err());

    // A cancelled batch neither resumes nor dials.
    let cancel = |to| StatusChange {
        batch_id: batch.clone(),
        to,
        reason: Some("operator".to_string()),
        by: "test".to_string(),
        at: T0,
        only_from: Vec::new(),
    };
    store
        .set_batch_status(cancel(BatchStatus::Cancelled))
        .expect("cancel");
    let err = store
        .set_batch_status(cancel(BatchStatus::InProgress))
        .expect_err("cancelled is final");
    assert_eq!(
        err.to_string(),
        "illegal batch transition from \"cancelled\" to \"in_progress\""
    );
    let refused = store
        .begin_attempts(vec![begin(&batch, 0, T0)])
        .expect("group");
    assert!(matches!(
        refused[0],
        Err(StoreError::BatchNotDialing { .. })
    ));

    assert_eq!(store.contact(&batch, 0).expect("read"), before);
    let mut expected = counters;
    expected.by_status[ContactStatus::Pending.index()] -= 1;
    expected.by_status[ContactStatus::Skipped.index()] += 1;
    assert_eq!(store.batch_counters(&batch).expect("counters"), expected);
    assert_eq!(store.recount(&batch).expect("recount"), expected);
    assert!(store.live_attempts().expect("live").is_empty());
}

#[test]
fn reopening_after_drop_keeps_everything() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (batch, attempt) = {
        let store = open(&dir, Durability::Full);
        let batch = store.create_batch(new_batch(4)).expect("create").batch.id;
        start(&store, &batch);
        let attempt = begin_one(&store, &batch, 2, T0 + 5);
        (batch, attempt)
    };
    let store = open(&dir, Durability::Full);
    let record = store.batch(&batch).expect("read").expect("batch survives");
    assert_eq!(record.status, BatchStatus::InProgress);
    let live = store.live_attempts().expect("live");
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].attempt_id, attempt.id);
    let detail = store
        .contact_detail(&batch, 2)
        .expect("read")
        .expect("contact");
    assert_eq!(detail.contact.status, ContactStatus::Dispatched);
    assert_eq!(detail.attempts, vec![attempt]);
    assert_eq!(detail.events.len(), 1);
    assert_eq!(
        store.batch_counters(&batch).expect("c"),
        store.recount(&batch).expect("r")
    );
    assert_eq!(store.open_batches().expect("open").len(), 1);
}

#[test]
fn the_same_idempotency_key_returns_the_same_batch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let mut request = new_batch(2);
    request.idempotency_key = Some("upload-1".to_string());
    let first = store.create_batch(request.clone()).expect("create");
    let second = store.create_batch(request).expect("create again");
    assert!(first.created);
    assert!(!second.created);
    assert_eq!(first.batch, second.batch);
    assert!(first.batch.id.starts_with("btc_"));
    let listed = store
        .list_batches(&BatchQuery {
            workspace: "ws".to_string(),
            limit: 10,
            ..BatchQuery::default()
        })
        .expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(store.batch_counters(&first.batch.id).expect("c").total, 2);
}

#[test]
fn skipping_the_waiting_contacts_of_a_large_batch_works_in_chunks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store
        .create_batch(new_batch(1_300))
        .expect("create")
        .batch
        .id;
    start(&store, &batch);
    begin_one(&store, &batch, 7, T0);
    let skipped = store
        .skip_waiting(&batch, "batch_cancelled", T0)
        .expect("skip");
    assert_eq!(skipped, 1_299);
    let counters = store.batch_counters(&batch).expect("counters");
    assert_eq!(counters.status(ContactStatus::Skipped), 1_299);
    assert_eq!(counters.live(), 1, "the live call is left to finish");
    assert_eq!(counters, store.recount(&batch).expect("recount"));
    assert!(store.due(&batch, Millis::MAX, 10).expect("due").is_empty());
}

#[test]
fn listing_contacts_by_status_pages_with_a_cursor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(10)).expect("create").batch.id;
    for seq in [1, 4, 5, 9] {
        store
            .skip_contact(&batch, seq, "operator", T0)
            .expect("skip");
    }
    let mut query = ContactQuery {
        batch_id: batch.clone(),
        status: Some(ContactStatus::Skipped),
        cursor: None,
        limit: 3,
    };
    let first = store.list_contacts(&query).expect("page");
    assert_eq!(
        first.items.iter().map(|c| c.seq).collect::<Vec<_>>(),
        vec![1, 4, 5]
    );
    query.cursor = first.next_cursor;
    let second = store.list_contacts(&query).expect("page");
    assert_eq!(
        second.items.iter().map(|c| c.seq).collect::<Vec<_>>(),
        vec![9]
    );
    assert_eq!(second.next_cursor, None);
}

#[test]
fn a_fault_streak_pauses_the_batch_inside_the_same_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(3)).expect("create").batch.id;
    start(&store, &batch);
    let attempts = store
        .begin_attempts((0..3).map(|seq| begin(&batch, seq, T0)).collect())
        .expect("group");
    let mut paused = Vec::new();
    for attempt in attempts {
        let key = AttemptKey::parse(&attempt.expect("begins").id).expect("parses");
        let mut request = end(key, T0 + 1, CallOutcome::Busy, ContactStatus::Retrying);
        request.plugin_faulted = Some(true);
        request.max_consecutive_plugin_faults = 2;
        paused.push(store.end_attempt(request).expect("ends").paused_batch);
    }
    assert_eq!(paused, vec![false, true, false]);
    let record = store.batch(&batch).expect("read").expect("batch");
    assert_eq!(record.status, BatchStatus::Paused);
    assert_eq!(record.status_reason.as_deref(), Some("plugin_faulted"));
}

#[test]
fn an_attempt_id_names_batch_contact_and_number() {
    let key = AttemptKey {
        batch_id: "btc_00ff".to_string(),
        seq: 12,
        number: 3,
    };
    assert_eq!(key.id(), "btc_00ff-12-3");
    assert_eq!(AttemptKey::parse("btc_00ff-12-3").expect("parses"), key);
    assert!(AttemptKey::parse("nonsense").is_err());
}

#[test]
fn a_refused_end_in_a_group_leaves_the_other_ends_and_the_counters_right() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(3)).expect("create").batch.id;
    start(&store, &batch);
    let begun = store
        .begin_attempts(vec![begin(&batch, 0, T0), begin(&batch, 1, T0)])
        .expect("group");
    assert!(begun.iter().all(Result::is_ok));
    let key = |seq| AttemptKey {
        batch_id: batch.clone(),
        seq,
        number: 1,
    };

    let results = store
        .end_attempts(vec![
            end(
                key(0),
                T0 + 1,
                CallOutcome::Answered,
                ContactStatus::Completed,
            ),
            // Contact 2 was never dialed.
            end(key(2), T0 + 1, CallOutcome::Busy, ContactStatus::Busy),
            end(key(1), T0 + 1, CallOutcome::Busy, ContactStatus::Busy),
        ])
        .expect("group");

    assert!(results[0].is_ok());
    assert!(matches!(results[1], Err(StoreError::AttemptNotLive(_))));
    assert!(results[2].is_ok());
    let counters = store.batch_counters(&batch).expect("counters");
    assert_eq!(counters.status(ContactStatus::Completed), 1);
    assert_eq!(counters.status(ContactStatus::Busy), 1);
    assert_eq!(counters.status(ContactStatus::Pending), 1);
    assert_eq!(counters.ended, 2);
    assert_eq!(counters, store.recount(&batch).expect("recount"));
    assert_eq!(
        store.campaign_counters("ws", "camp").expect("campaign"),
        counters
    );
    let untouched = store.contact(&batch, 2).expect("read").expect("exists");
    assert_eq!(untouched.status, ContactStatus::Pending);
    assert_eq!(untouched.event_count, 0);
}

#[test]
fn a_placed_call_shows_its_provider_id_before_it_rings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(1)).expect("create").batch.id;
    start(&store, &batch);
    let attempt = begin_one(&store, &batch, 0, T0);
    let key = AttemptKey::parse(&attempt.id).expect("an attempt id");

    store
        .record_provider_calls(vec![(key.clone(), "CA123".to_string())])
        .expect("recorded");

    let attempts = store.attempts(&batch, 0).expect("attempts");
    assert_eq!(attempts[0].provider_call_id.as_deref(), Some("CA123"));
    let live = store.live_attempts().expect("live");
    assert_eq!(live[0].provider_call_id.as_deref(), Some("CA123"));
    store
        .end_attempt(end(
            key,
            T0 + 5,
            CallOutcome::NoAnswer,
            ContactStatus::NoAnswer,
        ))
        .expect("ends");
    let attempts = store.attempts(&batch, 0).expect("attempts");
    assert_eq!(attempts[0].provider_call_id.as_deref(), Some("CA123"));
}

#[test]
fn a_call_id_recorded_for_an_ended_attempt_never_reaches_the_contacts_next_attempt() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(2)).expect("create").batch.id;
    start(&store, &batch);
    // Contacts 0 and 1 share a state page, so the page stays live while
    // contact 0 ends and is dialed again.
    let first = AttemptKey::parse(&begin_one(&store, &batch, 0, T0).id).expect("an id");
    let other = AttemptKey::parse(&begin_one(&store, &batch, 1, T0).id).expect("an id");
    store
        .record_provider_calls(vec![
            (first.clone(), "CA-first".to_string()),
            (other.clone(), "CA-other".to_string()),
        ])
        .expect("recorded");
    store
        .end_attempt(end(
            first.clone(),
            T0 + 5,
            CallOutcome::NoAnswer,
            ContactStatus::Retrying,
        ))
        .expect("ends");
    // Its id comes too late: the end was written first.
    store
        .record_provider_calls(vec![(first.clone(), "CA-late".to_string())])
        .expect("recorded");

    let again = begin_one(&store, &batch, 0, T0 + 5 + MINUTE_MS);
    assert_eq!(again.number, 2);
    let attempts = store.attempts(&batch, 0).expect("attempts");
    assert_eq!(
        attempts[0].provider_call_id.as_deref(),
        Some("CA-first"),
        "the ended attempt keeps the id it had when it ended"
    );
    assert_eq!(attempts[1].provider_call_id, None, "{attempts:?}");
    let live = store.live_attempts().expect("live");
    let call_id = |seq: u64| {
        live.iter()
            .find(|attempt| attempt.seq == seq)
            .map(|attempt| attempt.provider_call_id.clone())
    };
    assert_eq!(call_id(0), Some(None));
    assert_eq!(call_id(1), Some(Some("CA-other".to_string())));

    let second = AttemptKey::parse(&again.id).expect("an id");
    store
        .record_provider_calls(vec![(second, "CA-second".to_string())])
        .expect("recorded");
    let attempts = store.attempts(&batch, 0).expect("attempts");
    assert_eq!(attempts[1].provider_call_id.as_deref(), Some("CA-second"));
    let detail = store
        .contact_detail(&batch, 1)
        .expect("read")
        .expect("exists");
    assert_eq!(
        detail.attempts[0].provider_call_id.as_deref(),
        Some("CA-other")
    );
}

#[test]
fn a_call_id_for_a_page_without_live_attempts_is_not_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(1)).expect("create").batch.id;
    start(&store, &batch);
    let key = AttemptKey::parse(&begin_one(&store, &batch, 0, T0).id).expect("an id");
    store
        .end_attempt(end(
            key.clone(),
            T0 + 5,
            CallOutcome::Busy,
            ContactStatus::Busy,
        ))
        .expect("ends");
    store
        .record_provider_calls(vec![(key, "CA-late".to_string())])
        .expect("recorded");
    assert!(store.live_attempts().expect("live").is_empty());
    drop(store);

    // The page's live-index marker went with its last live attempt, and
    // the late id did not bring it back.
    let db = sled::open(dir.path().join("db")).expect("sled opens");
    assert_eq!(db.scan_prefix([super::keys::LIVE]).count(), 0);
}

#[test]
fn every_told_change_is_journaled_in_order_with_stable_ids() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(2)).unwrap().batch;
    start(&store, &batch.id);
    store.skip_contact(&batch.id, 1, "operator", T0).unwrap();
    let journal = store.journal(0, 100).unwrap();
    let kinds: Vec<&str> = journal.iter().map(|event| event.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["batch.created", "batch.started", "contact.finalized"]
    );
    assert_eq!(store.journal_head().unwrap(), 3);
    assert_eq!(journal[2].data["status"], "skipped");
    assert_eq!(journal[2].id(), "evt_0000000000000003");
    assert_eq!(store.journal(2, 100).unwrap().len(), 1);
    assert_eq!(store.prune_journal(2).unwrap(), 2);
    assert_eq!(store.journal(0, 100).unwrap()[0].seq, 3);
    assert_eq!(
        store.journal_head().unwrap(),
        3,
        "pruning keeps the numbering"
    );
}

#[test]
fn a_dialed_call_is_journaled_with_the_payloads_webhooks_carry() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(1)).unwrap().batch;
    start(&store, &batch.id);
    let attempt = begin_one(&store, &batch.id, 0, T0 + 1);
    let key = AttemptKey::parse(&attempt.id).unwrap();
    store
        .end_attempt(end(
            key,
            T0 + 2,
            CallOutcome::Answered,
            ContactStatus::Completed,
        ))
        .unwrap();

    let journal = store.journal(2, 100).unwrap();
    let told: Vec<(&str, &serde_json::Value)> = journal
        .iter()
        .map(|event| (event.kind.as_str(), &event.data))
        .collect();
    let started = serde_json::json!({
        "attempt_id": attempt.id,
        "seq": 0,
        "contact_id": "c0",
        "phone": "+15550000000",
        "from_number": "+15550009999",
        "variant": null,
    });
    let ended = serde_json::json!({
        "attempt_id": attempt.id,
        "seq": 0,
        "contact_id": "c0",
        "outcome": "answered",
        "sip_code": null,
        "disposition": "answered",
        "talk_ms": 30_000,
        "cost_micros": 1_500,
        "status": "completed",
        "counts_as_attempt": true,
        "plugin_faulted": false,
    });
    let finalized = serde_json::json!({
        "seq": 0,
        "contact_id": "c0",
        "phone": "+15550000000",
        "status": "completed",
        "final_reason": "test",
        "disposition": "answered",
        "attempts": 1,
        "talk_ms": 30_000,
        "cost_micros": 1_500,
    });
    assert_eq!(
        told,
        [
            ("call.started", &started),
            ("call.ended", &ended),
            ("contact.finalized", &finalized),
        ]
    );
    assert!(journal.iter().all(|event| event.batch_id == batch.id
        && event.workspace == "ws"
        && event.campaign_id == "camp"));
    assert_eq!(journal[1].at, T0 + 2);
}

#[test]
fn a_batch_larger_than_one_write_is_created_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let contacts = 25_000;
    let created = store.create_batch(new_batch(contacts)).expect("create");
    let batch = created.batch.id;

    let counters = store.batch_counters(&batch).expect("counters");
    assert_eq!(counters.total, contacts as u64);
    assert_eq!(counters.status(ContactStatus::Pending), contacts as u64);
    assert_eq!(counters, store.recount(&batch).expect("recount"));
    let last = store
        .contact(&batch, contacts as u64 - 1)
        .expect("read")
        .expect("the last contact is stored");
    assert_eq!(last.contact_id, format!("c{}", contacts - 1));
    // Writes of 10,000 end inside a page of 32: the contacts around that
    // seam are each where they belong.
    let seam: Vec<u64> = (9_990..10_010).collect();
    let read = store.contacts_with_attempts(&batch, &seam).expect("read");
    for found in read {
        let (contact, _) = found.expect("every contact around the seam is stored");
        assert_eq!(contact.contact_id, format!("c{}", contact.seq));
        assert_eq!(contact.phone, format!("+1555000{:04}", contact.seq));
    }
}

#[test]
fn a_forced_dispatch_makes_contacts_held_for_a_scheduled_start_due_now() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, Durability::Relaxed);
    let later = T0 + 24 * 60 * MINUTE_MS;
    let created = store
        .create_batch(NewBatch {
            scheduled_start: Some(later),
            ..new_batch(3)
        })
        .expect("created");
    let batch_id = created.batch.id;
    for seq in 0..3 {
        let contact = store.contact(&batch_id, seq).unwrap().expect("exists");
        assert_eq!(contact.next_eligible_at, Some(later));
    }
    let now = T0 + MINUTE_MS;
    assert_eq!(store.make_retries_due(&batch_id, now).expect("forced"), 3);
    for seq in 0..3 {
        let contact = store.contact(&batch_id, seq).unwrap().expect("exists");
        assert_eq!(contact.status, ContactStatus::Pending);
        assert_eq!(contact.next_eligible_at, Some(now), "contact {seq}");
    }
    assert_eq!(
        store.recount(&batch_id).unwrap(),
        store.batch_counters(&batch_id).unwrap()
    );
}

#[test]
fn listing_contacts_by_status_crosses_state_pages_with_a_cursor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(100)).expect("create").batch.id;
    let skipped = [3, 31, 32, 77, 99];
    for seq in skipped {
        store
            .skip_contact(&batch, seq, "operator", T0)
            .expect("skip");
    }
    let mut query = ContactQuery {
        batch_id: batch.clone(),
        status: Some(ContactStatus::Skipped),
        cursor: None,
        limit: 2,
    };
    let mut seen = Vec::new();
    loop {
        let page = store.list_contacts(&query).expect("page");
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|contact| {
            assert_eq!(contact.status, ContactStatus::Skipped);
            assert_eq!(contact.contact_id, format!("c{}", contact.seq));
            contact.seq
        }));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, skipped);
    query.status = None;
    query.cursor = Some("30".to_string());
    query.limit = 3;
    let after_30: Vec<u64> = store
        .list_contacts(&query)
        .expect("page")
        .items
        .iter()
        .map(|contact| contact.seq)
        .collect();
    assert_eq!(
        after_30,
        [31, 32, 33],
        "an unfiltered page continues after its cursor"
    );
}

#[test]
fn the_journal_reads_from_any_seq_across_its_pages_and_prunes_whole_pages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(600)).expect("create").batch.id;
    start(&store, &batch);
    // One write telling of 600 dials: more events than one journal record holds.
    let begins = (0..600).map(|seq| begin(&batch, seq, T0 + 1)).collect();
    for result in store.begin_attempts(begins).expect("group") {
        result.expect("each begins");
    }
    let head = store.journal_head().expect("head");
    assert_eq!(head, 602, "created, started and 600 calls started");
    let all = store.journal(0, usize::MAX).expect("journal");
    assert_eq!(all.len(), 602);
    assert!(all.windows(2).all(|pair| pair[1].seq == pair[0].seq + 1));
    for after in [0, 1, 255, 256, 257, 300, 512, 600, 601] {
        let page = store.journal(after, 7).expect("journal");
        let seqs: Vec<u64> = page.iter().map(|event| event.seq).collect();
        let expected: Vec<u64> = (after + 1..=head).take(7).collect();
        assert_eq!(seqs, expected, "reading after {after}");
    }
    assert!(store.journal(head, 10).expect("journal").is_empty());

    let pruned = store.prune_journal(300).expect("prune");
    assert!(
        pruned <= 300,
        "nothing after the acknowledged seq is pruned"
    );
    let left = store.journal(0, usize::MAX).expect("journal");
    assert_eq!(left.first().map(|event| event.seq), Some(pruned + 1));
    assert_eq!(left.last().map(|event| event.seq), Some(head));
    assert_eq!(store.journal(300, 1).expect("journal")[0].seq, 301);
}

#[test]
fn a_store_written_in_an_earlier_layout_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db");
    {
        let old = sled::open(&path).expect("sled opens");
        old.insert(b"Cbtc_0\0", b"{}".to_vec()).expect("insert");
        old.flush().expect("flush");
    }
    let err = SledStore::open(&StoreConfig::new(&path)).expect_err("refused");
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()) && message.contains("earlier outdial"),
        "{message}"
    );
}

#[test]
fn the_live_index_finds_live_attempts_across_pages_until_the_last_one_of_a_page_ends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (batch, keys) = {
        let store = open(&dir, Durability::Full);
        let batch = store.create_batch(new_batch(100)).expect("create").batch.id;
        start(&store, &batch);
        // Two contacts share page 0; the third is alone on page 2.
        let begun = store
            .begin_attempts(vec![
                begin(&batch, 1, T0),
                begin(&batch, 5, T0),
                begin(&batch, 70, T0),
            ])
            .expect("group");
        let keys: Vec<AttemptKey> = begun
            .into_iter()
            .map(|attempt| AttemptKey::parse(&attempt.expect("begun").id).expect("an id"))
            .collect();
        (batch, keys)
    };
    let store = open(&dir, Durability::Full);
    let mut live: Vec<u64> = store
        .live_attempts()
        .expect("live")
        .iter()
        .map(|attempt| attempt.seq)
        .collect();
    live.sort_unstable();
    assert_eq!(
        live,
        vec![1, 5, 70],
        "the reopened store finds every live attempt"
    );

    store
        .end_attempt(end(
            keys[0].clone(),
            T0 + 5,
            CallOutcome::Busy,
            ContactStatus::Busy,
        ))
        .expect("ends");
    let live: Vec<u64> = store
        .live_attempts()
        .expect("live")
        .iter()
        .map(|attempt| attempt.seq)
        .collect();
    assert_eq!(
        live.len(),
        2,
        "ending one call of a page leaves the other: {live:?}"
    );
    assert!(live.contains(&5) && live.contains(&70));

    for key in &keys[1..] {
        store
            .end_attempt(end(
                key.clone(),
                T0 + 6,
                CallOutcome::Busy,
                ContactStatus::Busy,
            ))
            .expect("ends");
    }
    assert!(store.live_attempts().expect("live").is_empty());
    let history = store.attempts(&batch, 5).expect("attempts");
    assert_eq!(
        history.len(),
        1,
        "the ended attempt is kept once: {history:?}"
    );
    assert!(history[0].ended_at.is_some());
    assert_eq!(
        store.batch_counters(&batch).expect("c"),
        store.recount(&batch).expect("r")
    );
}

#[test]
fn contacts_due_together_share_a_due_record_per_page_yet_leave_it_one_by_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    // 70 contacts due at creation: records for pages 0, 1 and 2.
    let batch = store.create_batch(new_batch(70)).expect("create").batch.id;
    start(&store, &batch);
    let seqs = |contacts: Vec<ContactRecord>| -> Vec<u64> {
        contacts.iter().map(|contact| contact.seq).collect()
    };
    assert_eq!(
        seqs(store.due(&batch, T0, 40).expect("due")),
        (0..40).collect::<Vec<u64>>(),
        "a limit inside a page's record stops there"
    );

    // Dialing contacts 3 and 33 takes them out of their pages' records.
    let begun = store
        .begin_attempts(vec![begin(&batch, 3, T0), begin(&batch, 33, T0)])
        .expect("group");
    let due = seqs(store.due(&batch, T0, 100).expect("due"));
    assert_eq!(due.len(), 68);
    assert!(!due.contains(&3) && !due.contains(&33));

    // Contact 3 waits for a retry, after every contact due now.
    let key = AttemptKey::parse(&begun[0].as_ref().expect("begun").id).expect("an id");
    let mut retry = end(key, T0 + 10, CallOutcome::Busy, ContactStatus::Retrying);
    retry.next.next_eligible_at = Some(T0 + 60_000);
    retry.next.blocker = Some(Blocker::RetryWait);
    store.end_attempt(retry).expect("ends");
    assert_eq!(
        seqs(store.due(&batch, T0 + 59_999, 100).expect("due")).len(),
        68
    );
    let due = seqs(store.due(&batch, T0 + 60_000, 100).expect("due"));
    assert_eq!(due.last(), Some(&3), "the retry comes last: {due:?}");

    // Skipping the waiting contacts empties every record of the index.
    let skipped = store
        .skip_waiting(&batch, "batch_cancelled", T0 + 20)
        .expect("skips");
    assert_eq!(skipped, 69);
    assert!(store.due(&batch, Millis::MAX, 100).expect("due").is_empty());
    assert_eq!(store.next_eligible_at(&batch).expect("next"), None);
    assert_eq!(
        store.batch_counters(&batch).expect("c"),
        store.recount(&batch).expect("r")
    );
}

#[test]
fn a_contacts_log_tells_dispatch_calls_end_and_faults_in_the_order_they_happened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(1)).expect("create").batch.id;
    start(&store, &batch);
    let first = begin_one(&store, &batch, 0, T0);
    let key = AttemptKey::parse(&first.id).expect("an id");
    store
        .mark_calls_in_progress(vec![InProgressMark {
            key: key.clone(),
            provider_call_id: Some("CA1".to_string()),
            answered_at: None,
            at: T0 + 10,
        }])
        .expect("marked");
    // The end, its plugin fault and the next dial share one moment.
    let mut faulted = end(key, T0 + 20, CallOutcome::Busy, ContactStatus::Retrying);
    faulted.next.next_eligible_at = Some(T0 + 20);
    if let Some(decision) = faulted.decision.as_mut() {
        decision.faults.push("retry-backoff: trapped".to_string());
    }
    store.end_attempt(faulted).expect("ends");
    begin_one(&store, &batch, 0, T0 + 20);

    let detail = store
        .contact_detail(&batch, 0)
        .expect("read")
        .expect("contact");
    let kinds: Vec<&str> = detail
        .events
        .iter()
        .map(|event| event.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "dispatched",
            "in_progress",
            "ended",
            "plugin_fault",
            "dispatched"
        ]
    );
    assert!(
        detail.events[2].detail.contains("-> retrying"),
        "the end names the status it led to: {}",
        detail.events[2].detail
    );
    assert_eq!(detail.attempts.len(), 2);
    assert!(detail.attempts[0].ended_at.is_some() && detail.attempts[1].ended_at.is_none());
}

#[test]
fn a_busy_journal_stays_in_the_database_file_without_blob_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let contacts = 2_000;
    let batch = store
        .create_batch(new_batch(contacts))
        .expect("create")
        .batch
        .id;
    start(&store, &batch);
    for first in (0..contacts as u64).step_by(500) {
        let begun = store
            .begin_attempts(
                (first..first + 500)
                    .map(|seq| begin(&batch, seq, T0))
                    .collect(),
            )
            .expect("group");
        let ends = begun
            .into_iter()
            .map(|attempt| {
                let key = AttemptKey::parse(&attempt.expect("begun").id).expect("an id");
                end(key, T0 + 5, CallOutcome::Answered, ContactStatus::Completed)
            })
            .collect();
        for ended in store.end_attempts(ends).expect("group") {
            ended.expect("ends");
        }
    }
    store.sync().expect("syncs");
    assert!(store.journal_head().expect("head") >= 3 * contacts as u64);
    // sled writes a node that outgrows its blob threshold to a file of its
    // own, anew on every write to it, and every sync fsyncs each file.
    let blobs: Vec<_> = std::fs::read_dir(dir.path().join("db").join("blobs"))
        .map(|entries| entries.flatten().map(|entry| entry.file_name()).collect())
        .unwrap_or_default();
    assert!(blobs.is_empty(), "blob files: {blobs:?}");
}

/// Contacts `from..to` of [`new_batch`]'s numbering, as one chunk.
fn chunk(from: usize, to: usize) -> ContactChunk {
    let mut batch = new_batch(to);
    ContactChunk::Contacts(batch.contacts.split_off(from))
}

#[test]
fn a_batch_fed_in_chunks_numbers_its_contacts_on_and_appears_only_with_the_last_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let query = BatchQuery {
        workspace: "ws".to_string(),
        limit: 10,
        ..BatchQuery::default()
    };
    let mut pulled = 0;
    let mut chunks = [chunk(5, 40), chunk(40, 41), chunk(41, 12_000)]
        .into_iter()
        .inspect(|_| {
            pulled += 1;
            let listed = store.list_batches(&query).expect("list");
            assert!(
                listed.items.is_empty(),
                "no batch is visible while contacts arrive"
            );
            assert!(store.open_batches().expect("open batches").is_empty());
        });
    let created = store
        .create_batch_in_chunks(new_batch(5), &mut chunks)
        .expect("create")
        .expect("not abandoned");
    assert_eq!(pulled, 3);
    let batch = created.batch.id;
    let counters = store.batch_counters(&batch).expect("counters");
    assert_eq!(counters.total, 12_000);
    assert_eq!(counters, store.recount(&batch).expect("recount"));
    for seq in [0, 4, 5, 39, 40, 41, 11_999] {
        let contact = store.contact(&batch, seq).expect("read").expect("stored");
        assert_eq!(contact.contact_id, format!("c{seq}"));
    }
    assert_eq!(store.due(&batch, T0, 20_000).expect("due").len(), 12_000);
}

#[test]
fn an_abandoned_create_leaves_no_batch_and_none_of_its_contacts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let kept = store.create_batch(new_batch(3)).expect("an earlier batch");
    let before = store.draft_family_keys();

    let mut chunks = [
        chunk(10, 15_000),
        ContactChunk::Abandon,
        chunk(15_000, 15_001),
    ]
    .into_iter();
    let created = store
        .create_batch_in_chunks(new_batch(10), &mut chunks)
        .expect("an abandon is not an error");
    assert!(created.is_none());
    assert_eq!(chunks.count(), 1, "nothing is read after the abandon");

    let after = store.draft_family_keys();
    assert_eq!(after, before, "every key of the abandoned contacts is gone");
    let open = store.open_batches().expect("open batches");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, kept.batch.id);
}

#[test]
fn a_contact_id_repeated_in_a_later_chunk_refuses_the_batch_naming_both_contacts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let mut repeat = new_batch(3).contacts;
    repeat.truncate(1);
    repeat[0].contact_id = "c1".to_string();
    repeat[0].phone = "+15559990000".to_string();
    let mut chunks = [chunk(3, 7), ContactChunk::Contacts(repeat)].into_iter();

    let error = store
        .create_batch_in_chunks(new_batch(3), &mut chunks)
        .expect_err("a repeated id is refused");
    match &error {
        StoreError::DuplicateContact {
            contact_id, seqs, ..
        } => {
            assert_eq!(contact_id, "c1");
            assert_eq!(*seqs, (1, 7));
        }
        other => panic!("expected a duplicate contact, got {other:?}"),
    }
    assert!(error.to_string().contains("numbers 2 and 8 of the upload"));
    assert!(store.open_batches().expect("open batches").is_empty());
    assert_eq!(store.keys_tagged(keys::STATE_PAGE), 0);
    assert_eq!(store.keys_tagged(keys::CONTACT), 0);
}

#[test]
fn a_repeated_idempotency_key_answers_the_first_batch_without_reading_the_upload() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let keyed = || NewBatch {
        idempotency_key: Some("upload-1".to_string()),
        ..new_batch(4)
    };
    let first = store.create_batch(keyed()).expect("first create");

    let mut untouched = std::iter::from_fn(|| -> Option<ContactChunk> {
        panic!("the upload of a repeated create is never read")
    });
    let again = store
        .create_batch_in_chunks(keyed(), &mut untouched)
        .expect("repeat")
        .expect("answered");
    assert!(!again.created);
    assert_eq!(again.batch.id, first.batch.id);
    assert_eq!(store.batch_counters(&first.batch.id).unwrap().total, 4);
}

#[test]
fn a_create_a_crash_interrupted_is_discarded_when_the_store_opens_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let before = {
        let store = open(&dir, Durability::Relaxed);
        store.create_batch(new_batch(3)).expect("an earlier batch");
        let before = store.draft_family_keys();
        // The upload's reader dies after two chunks were stored, before
        // the create could finish or discard anything.
        let mut fed = 0;
        let mut dying = std::iter::from_fn(|| {
            fed += 1;
            match fed {
                1 => Some(chunk(5, 12_000)),
                2 => Some(chunk(12_000, 12_500)),
                _ => panic!("the process dies here"),
            }
        });
        let interrupted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.create_batch_in_chunks(new_batch(5), &mut dying)
        }));
        assert!(interrupted.is_err());
        assert_eq!(store.keys_tagged(keys::DRAFT), 1, "the draft is marked");
        assert!(
            store.keys_tagged(keys::STATE_PAGE) > before[1],
            "contacts were staged"
        );
        store.sync().expect("what was written is on disk");
        before
    };

    let store = open(&dir, Durability::Relaxed);
    let after = store.draft_family_keys();
    assert_eq!(after, before, "nothing of the interrupted create is left");
    assert_eq!(store.open_batches().expect("open batches").len(), 1);
}

#[test]
fn a_store_reopened_while_its_previous_handle_is_still_closing_waits_for_the_lock() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = open(&dir, Durability::Full);
    // The previous handle lets go of the lock a moment after the reopen
    // starts, as sled's background threads do after the last handle drops.
    let closing = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(first);
    });
    let reopened = open(&dir, Durability::Full);
    closing.join().expect("the first handle closes");
    assert!(reopened.open_batches().expect("the store reads").is_empty());
}

#[test]
fn a_store_held_open_elsewhere_is_refused_after_the_wait_naming_the_lock() {
    let dir = tempfile::tempdir().expect("temp dir");
    let _held = open(&dir, Durability::Full);
    let mut config = StoreConfig::new(dir.path().join("db"));
    config.cache_capacity_bytes = 8 * 1024 * 1024;
    let err = SledStore::open(&config).expect_err("the lock is held");
    assert!(err.to_string().contains("could not acquire lock"), "{err}");
}

#[test]
fn an_unknown_placement_is_told_in_the_contact_log_only_while_its_attempt_is_live() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Full);
    let batch = store.create_batch(new_batch(2)).expect("create").batch.id;
    start(&store, &batch);
    let attempt = begin_one(&store, &batch, 0, T0);
    let key = AttemptKey::parse(&attempt.id).expect("an id");
    let note = |at: Millis| PlacementNote {
        key: key.clone(),
        at,
        detail: "timed out".to_string(),
    };
    let before = store.batch_counters(&batch).unwrap();
    store
        .note_unknown_placements(vec![note(T0 + 1)])
        .expect("noted");
    let log = |store: &SledStore| store.contact_detail(&batch, 0).unwrap().unwrap().events;
    let waits: Vec<ContactEvent> = log(&store)
        .into_iter()
        .filter(|event| event.kind == "placement_unknown")
        .collect();
    assert_eq!(
        waits,
        [ContactEvent {
            at: T0 + 1,
            kind: "placement_unknown".to_string(),
            detail: "timed out".to_string(),
        }]
    );
    assert_eq!(
        store.batch_counters(&batch).unwrap(),
        before,
        "only the log changed"
    );

    store
        .end_attempt(end(
            key.clone(),
            T0 + 2,
            CallOutcome::NoAnswer,
            ContactStatus::Failed,
        ))
        .expect("ended");
    let ended = log(&store);
    store
        .note_unknown_placements(vec![note(T0 + 3)])
        .expect("a note on an ended attempt is no error");
    assert_eq!(log(&store), ended, "nothing is told of an ended attempt");
    assert_eq!(
        store.batch_counters(&batch).unwrap(),
        store.recount(&batch).unwrap()
    );
}

/// Ends `seqs`' live attempts in one write, each with `transcript`, the
/// contacts going on to retry.
fn end_together(store: &SledStore, batch_id: &str, seqs: &[u64], at: Millis, transcript: &str) {
    let ends = seqs
        .iter()
        .map(|seq| {
            let live = store
                .contact(batch_id, *seq)
                .expect("read")
                .and_then(|contact| contact.live_attempt_id)
                .expect("a live attempt");
            let key = AttemptKey::parse(&live).expect("an id");
            let mut end = end(key, at, CallOutcome::Answered, ContactStatus::Retrying);
            end.next.next_eligible_at = Some(at);
            end.end.transcript = Some(transcript.to_string());
            end
        })
        .collect();
    for ended in store.end_attempts(ends).expect("group") {
        ended.expect("ends");
    }
}

/// Each contact's ended attempts, as numbers and transcripts: read one
/// contact at a time, read together as the engine reads a tick's ends (one
/// reader for all), and from the debug view, which must all agree.
fn histories(store: &SledStore, batch_id: &str, seqs: &[u64]) -> Vec<Vec<(u32, String)>> {
    let told = |attempts: Vec<Attempt>| -> Vec<(u32, String)> {
        attempts
            .into_iter()
            .filter(|attempt| attempt.ended_at.is_some())
            .map(|attempt| (attempt.number, attempt.transcript.unwrap_or_default()))
            .collect()
    };
    let together = store
        .contacts_with_attempts(batch_id, seqs)
        .expect("read together");
    seqs.iter()
        .zip(together)
        .map(|(seq, read_together)| {
            let history = told(store.attempts(batch_id, *seq).expect("history"));
            let (_, attempts) = read_together.expect("the contact");
            assert_eq!(told(attempts), history, "contact {seq} read together");
            let detail = store
                .contact_detail(batch_id, *seq)
                .expect("detail")
                .expect("contact");
            assert_eq!(told(detail.attempts), history, "contact {seq}");
            let ended_lines = detail
                .events
                .iter()
                .filter(|event| event.kind == "ended")
                .count();
            assert_eq!(ended_lines, history.len(), "contact {seq}'s log");
            history
        })
        .collect()
}

#[test]
fn neighbouring_contacts_ending_together_share_one_attempt_record_per_group() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(20)).expect("create").batch.id;
    start(&store, &batch);
    let seqs: Vec<u64> = (0..16).collect();
    store
        .begin_attempts(seqs.iter().map(|seq| begin(&batch, *seq, T0)).collect())
        .expect("group");
    end_together(&store, &batch, &seqs, T0 + 5, "hello");

    assert_eq!(
        store.keys_tagged(keys::ATTEMPT) as u64,
        16 / keys::ATTEMPT_GROUP,
        "16 first attempts in groups of {}",
        keys::ATTEMPT_GROUP
    );
    let histories = histories(&store, &batch, &seqs);
    assert!(
        histories
            .iter()
            .all(|history| *history == vec![(1, "hello".to_string())]),
        "{histories:?}"
    );
    assert_eq!(
        store.batch_counters(&batch).expect("c"),
        store.recount(&batch).expect("r")
    );
}

#[test]
fn an_attempt_ending_alone_joins_its_groups_record_and_keeps_the_others() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(8)).expect("create").batch.id;
    start(&store, &batch);
    let seqs: Vec<u64> = (0..8).collect();
    store
        .begin_attempts(seqs.iter().map(|seq| begin(&batch, *seq, T0)).collect())
        .expect("group");
    // In reverse, one write each: every end reads the page and adds to it.
    for seq in seqs.iter().rev() {
        end_together(&store, &batch, &[*seq], T0 + 5, &format!("first {seq}"));
    }
    begin_one(&store, &batch, 3, T0 + 10);
    end_together(&store, &batch, &[3], T0 + 15, "second 3");

    assert_eq!(
        store.keys_tagged(keys::ATTEMPT) as u64,
        8 / keys::ATTEMPT_GROUP + 1,
        "one record per group for the first attempts, one for contact 3's second"
    );
    let histories = histories(&store, &batch, &seqs);
    for (seq, history) in seqs.iter().zip(&histories) {
        let mut expected = vec![(1, format!("first {seq}"))];
        if *seq == 3 {
            expected.push((2, "second 3".to_string()));
        }
        assert_eq!(*history, expected, "contact {seq}");
    }
    assert_eq!(
        store.batch_counters(&batch).expect("c"),
        store.recount(&batch).expect("r")
    );
}

#[test]
fn an_attempt_too_large_for_its_groups_record_is_kept_whole_on_its_own() {
    let dir = tempfile::tempdir().expect("temp dir");
    let long = "Customer: tell me more. ".repeat(400);
    let seqs: Vec<u64> = (0..8).collect();
    let batch = {
        let store = open(&dir, Durability::Full);
        let batch = store.create_batch(new_batch(8)).expect("create").batch.id;
        start(&store, &batch);
        store
            .begin_attempts(seqs.iter().map(|seq| begin(&batch, *seq, T0)).collect())
            .expect("group");
        end_together(&store, &batch, &[0, 1, 3], T0 + 5, "short");
        end_together(&store, &batch, &[2, 4, 5, 6, 7], T0 + 5, &long);
        batch
    };
    let store = open(&dir, Durability::Full);
    assert_eq!(
        store.keys_tagged(keys::ATTEMPT),
        1 + 5,
        "the short attempts of the first group share a record, each long one has its own"
    );
    let histories = histories(&store, &batch, &seqs);
    for (seq, history) in seqs.iter().zip(&histories) {
        let transcript = if [0, 1, 3].contains(seq) {
            "short"
        } else {
            &long
        };
        assert_eq!(*history, vec![(1, transcript.to_string())], "contact {seq}");
    }
    assert_eq!(
        store.batch_counters(&batch).expect("c"),
        store.recount(&batch).expect("r")
    );
}

#[test]
fn pages_of_attempts_of_every_size_stay_in_the_database_file_without_blob_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let contacts = 2_000u64;
    let batch = store
        .create_batch(new_batch(contacts as usize))
        .expect("create")
        .batch
        .id;
    start(&store, &batch);
    for number in 0..2u64 {
        for first in (0..contacts).step_by(500) {
            let seqs: Vec<u64> = (first..first + 500).collect();
            let at = T0 + 100 * number as Millis;
            for begun in store
                .begin_attempts(seqs.iter().map(|seq| begin(&batch, *seq, at)).collect())
                .expect("group")
            {
                begun.expect("begins");
            }
            // Transcripts from a few words to past the size that makes an
            // attempt a record of its own, so pages fill to their largest.
            for seq in &seqs {
                let words = 10 + (seq * 7 + number * 13) % 900;
                end_together(
                    &store,
                    &batch,
                    &[*seq],
                    at + 5,
                    &"word ".repeat(words as usize),
                );
            }
        }
    }
    store.sync().expect("syncs");
    let blobs: Vec<_> = std::fs::read_dir(dir.path().join("db").join("blobs"))
        .map(|entries| entries.flatten().map(|entry| entry.file_name()).collect())
        .unwrap_or_default();
    assert!(blobs.is_empty(), "blob files: {blobs:?}");
    assert_eq!(
        store.batch_counters(&batch).expect("c"),
        store.recount(&batch).expect("r")
    );
}

#[test]
fn a_batch_record_stored_before_batches_had_their_own_hours_uploads_and_retry_still_loads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch_id = store.create_batch(new_batch(1)).expect("created").batch.id;
    let record = store.batch(&batch_id).expect("read").expect("exists");
    // Records are stored as arrays of their fields: an older one lacks the
    // fields added since, at the end.
    let encoded = rmp_serde::to_vec(&record).expect("encodes");
    let mut fields: Vec<serde_json::Value> = rmp_serde::from_slice(&encoded).expect("an array");
    for added in ["retry", "upload", "hours"] {
        assert_eq!(fields.pop(), Some(serde_json::Value::Null), "{added}");
    }
    let older = rmp_serde::to_vec(&fields).expect("encodes");
    let loaded: BatchRecord = rmp_serde::from_slice(&older).expect("the older record loads");
    assert_eq!(
        (&loaded.hours, &loaded.upload, &loaded.retry),
        (&None, &None, &None)
    );
    assert_eq!(loaded, record);
}
