//! sled's own layout and files: reopening, the lock, format stamps, shared
//! records, blob files and old record layouts. What every backend must do
//! is checked by the store conformance suite in `tests/store_suite`, which
//! runs against sled from `tests/it/store_contract.rs`.

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
        gate: None,
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
        suppress: None,
    }
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
    assert_eq!(store.keys_tagged(keys::PHONE_CONTACT), 0, "nor its numbers");
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
fn a_listed_number_is_still_refused_a_dial_after_the_store_reopens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let batch = {
        let store = open(&dir, Durability::Relaxed);
        let batch = store.create_batch(new_batch(2)).expect("create").batch.id;
        start(&store, &batch);
        let listed = crate::store::NewSuppression {
            phone: "+15550000001".to_string(),
            expires_at: None,
            reason: None,
        };
        store
            .add_suppressions("ws", crate::model::DNC_INTERNAL, vec![listed], "ops", T0)
            .expect("listed");
        store.sync().expect("synced");
        batch
    };

    // The numbers known to be listed are read again when the store opens.
    let store = open(&dir, Durability::Relaxed);
    let results = store
        .begin_attempts(vec![begin(&batch, 0, T0 + 1), begin(&batch, 1, T0 + 1)])
        .expect("written");
    assert!(results[0].is_ok(), "an unlisted number is dialed");
    assert!(
        matches!(results[1], Err(StoreError::NumberSuppressed { .. })),
        "the listed one is refused: {:?}",
        results[1]
    );
}

#[test]
fn a_numbers_history_still_spans_its_contacts_after_the_store_reopens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (first, second) = {
        let store = open(&dir, Durability::Relaxed);
        let first = store.create_batch(new_batch(2)).expect("create").batch.id;
        let second = store.create_batch(new_batch(1)).expect("create").batch.id;
        start(&store, &first);
        begin_one(&store, &first, 0, T0 + MINUTE_MS);
        store.sync().expect("synced");
        (first, second)
    };

    // The numbers more than one contact holds are read again on open.
    let store = open(&dir, Durability::Relaxed);
    let shared = store.contact(&second, 0).expect("read").expect("there");
    let alone = store.contact(&first, 1).expect("read").expect("there");
    let histories = store
        .phone_histories("ws", &[&shared, &alone], T0 + 2 * MINUTE_MS)
        .expect("read");
    assert_eq!(
        histories[0].placed,
        vec![T0 + MINUTE_MS],
        "the other batch's dial"
    );
    assert!(histories[1].placed.is_empty());
    assert_eq!(
        store.keys_tagged(keys::SHARED_PHONE),
        1,
        "one number is shared"
    );
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
            let read_together = read_together.expect("the contact");
            assert_eq!(
                told(read_together.attempts),
                history,
                "contact {seq} read together"
            );
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
fn a_batch_record_stored_before_batches_had_their_own_hours_uploads_retry_and_gate_still_loads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch_id = store.create_batch(new_batch(1)).expect("created").batch.id;
    let record = store.batch(&batch_id).expect("read").expect("exists");
    // Records are stored as arrays of their fields: an older one lacks the
    // fields added since, at the end.
    let encoded = rmp_serde::to_vec(&record).expect("encodes");
    let mut fields: Vec<serde_json::Value> = rmp_serde::from_slice(&encoded).expect("an array");
    for added in ["gate", "retry", "upload", "hours"] {
        assert_eq!(fields.pop(), Some(serde_json::Value::Null), "{added}");
    }
    let older = rmp_serde::to_vec(&fields).expect("encodes");
    let loaded: BatchRecord = rmp_serde::from_slice(&older).expect("the older record loads");
    assert_eq!(
        (&loaded.hours, &loaded.upload, &loaded.retry, &loaded.gate),
        (&None, &None, &None, &None)
    );
    assert_eq!(loaded, record);
}

#[test]
fn an_end_and_the_suppression_it_asks_for_are_applied_together_or_not_at_all() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, Durability::Relaxed);
    let batch = store.create_batch(new_batch(2)).expect("create").batch.id;
    start(&store, &batch);
    let first = begin_one(&store, &batch, 0, T0);
    let second = begin_one(&store, &batch, 1, T0);
    let suppressing = |attempt: &Attempt, list: &str| {
        let key = AttemptKey::parse(&attempt.id).expect("an attempt id parses");
        let mut end = end(
            key,
            T0 + MINUTE_MS,
            CallOutcome::Answered,
            ContactStatus::Completed,
        );
        end.suppress = Some(SuppressionAdd {
            list: list.to_string(),
            reason: "asked not to be called".to_string(),
        });
        end
    };

    let results = store
        .end_attempts(vec![
            suppressing(&first, "never-created"),
            suppressing(&second, DNC_INTERNAL),
        ])
        .expect("group");

    assert!(matches!(
        results[0],
        Err(StoreError::SuppressionListNotFound { .. })
    ));
    let refused = store.contact(&batch, 0).expect("read").expect("contact");
    assert_eq!(refused.live_attempt_id.as_deref(), Some(first.id.as_str()));
    let ended = results[1].as_ref().expect("the other end is applied");
    assert_eq!(ended.contact.status, ContactStatus::Completed);
    let phones = ["+15550000000".to_string(), "+15550000001".to_string()];
    let hits = store
        .suppressions_of("ws", &phones, T0 + MINUTE_MS)
        .expect("hits");
    assert!(hits[0].is_empty(), "the refused end added nothing");
    assert_eq!(
        hits[1],
        vec![SuppressionHit {
            list: DNC_INTERNAL.to_string(),
            blocks: true,
            reason: Some("asked not to be called".to_string()),
        }]
    );
    let list = store
        .suppression_list("ws", DNC_INTERNAL)
        .expect("read")
        .expect("always there");
    assert_eq!((list.entries, list.created_at), (1, T0 + MINUTE_MS));
    let entry = store
        .suppression_entries(&SuppressionQuery {
            workspace: "ws".to_string(),
            list: DNC_INTERNAL.to_string(),
            cursor: None,
            limit: 10,
        })
        .expect("entries")
        .items
        .remove(0);
    assert_eq!(entry.added_by, second.id);
    // One sled batch holds the end, the entry under both its keys and the
    // list: a crash keeps all of them or none.
    drop(store);
    let store = open(&dir, Durability::Relaxed);
    let detail = store
        .contact_detail(&batch, 1)
        .expect("read")
        .expect("detail");
    assert!(detail.events.iter().any(|event| event.kind == "suppressed"));
    assert_eq!(
        store.suppressions_of("ws", &phones[1..], T0).expect("hits")[0].len(),
        1
    );
}
