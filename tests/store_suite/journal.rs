//! The journal: every change told to the outside world, in the order the
//! changes were applied, under stable ids.

use outdial::model::{BatchStatus, CallOutcome, ContactStatus, Millis};
use outdial::store::{AttemptKey, JournalEvent, NewBatch};

use super::Backend;
use super::requests::{T0, begin, begin_one, end, key_of, new_batch, start, status_change};

pub(super) fn every_told_change_is_journaled_in_order_with_stable_ids(backend: &dyn Backend) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(2)).unwrap().batch;
    start(store, &batch.id);
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

pub(super) fn a_dialed_call_is_journaled_with_the_payloads_webhooks_carry(backend: &dyn Backend) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(1)).unwrap().batch;
    start(store, &batch.id);
    let attempt = begin_one(store, &batch.id, 0, T0 + 1);
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

pub(super) fn the_journal_reads_from_any_seq_and_prunes_nothing_after_the_acknowledged_one(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(600)).expect("create").batch.id;
    start(store, &batch);
    // One write telling of 600 dials: more events than one of sled's journal
    // records holds.
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

/// An event as these cases compare it: its kind, time and, for an event of
/// a contact, the contact's seq.
fn told(event: &JournalEvent) -> (&'static str, Millis, Option<u64>) {
    (
        event.kind.as_str(),
        event.at,
        event.data.get("seq").and_then(serde_json::Value::as_u64),
    )
}

/// Asserts that `journal` is numbered from 1 up, each event after the one
/// before.
fn assert_numbered_in_order(journal: &[JournalEvent]) {
    assert_eq!(journal.first().map(|event| event.seq), Some(1));
    for pair in journal.windows(2) {
        assert!(
            pair[0].seq < pair[1].seq,
            "seq {} follows seq {}",
            pair[1].seq,
            pair[0].seq
        );
    }
}

pub(super) fn journal_events_follow_the_order_of_their_changes_and_of_their_staging(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(4)).expect("create").batch.id;
    start(store, &batch);
    let keys: Vec<AttemptKey> = store
        .begin_attempts((0..4).map(|seq| begin(&batch, seq, T0 + 1)).collect())
        .expect("group")
        .iter()
        .map(|begun| key_of(begun.as_ref().expect("begins")))
        .collect();
    // One write ending all four: a completion, a retry, a give-up after a
    // plugin fault, and a retry whose second fault in a row pauses the
    // batch.
    let at = T0 + 2;
    let mut ends = vec![
        end(
            keys[0].clone(),
            at,
            CallOutcome::Answered,
            ContactStatus::Completed,
        ),
        end(
            keys[1].clone(),
            at,
            CallOutcome::Busy,
            ContactStatus::Retrying,
        ),
        end(keys[2].clone(), at, CallOutcome::Busy, ContactStatus::Busy),
        end(
            keys[3].clone(),
            at,
            CallOutcome::NoAnswer,
            ContactStatus::Retrying,
        ),
    ];
    for faulted in &mut ends[2..] {
        faulted.plugin_faulted = Some(true);
        faulted.max_consecutive_plugin_faults = 2;
    }
    for ended in store.end_attempts(ends).expect("group") {
        ended.expect("a live attempt ends");
    }
    store
        .skip_contact(&batch, 1, "operator", T0 + 3)
        .expect("skip");
    store
        .set_batch_status(status_change(&batch, BatchStatus::Cancelled, T0 + 4))
        .expect("cancel");

    let journal = store.journal(0, usize::MAX).expect("journal");
    assert_numbered_in_order(&journal);
    assert_eq!(
        journal.last().map(|event| event.seq),
        Some(store.journal_head().expect("head"))
    );
    let kinds: Vec<_> = journal.iter().map(told).collect();
    assert_eq!(
        kinds,
        [
            ("batch.created", T0, None),
            ("batch.started", T0, None),
            ("call.started", T0 + 1, Some(0)),
            ("call.started", T0 + 1, Some(1)),
            ("call.started", T0 + 1, Some(2)),
            ("call.started", T0 + 1, Some(3)),
            ("call.ended", at, Some(0)),
            ("contact.finalized", at, Some(0)),
            ("call.ended", at, Some(1)),
            ("call.ended", at, Some(2)),
            ("contact.finalized", at, Some(2)),
            ("call.ended", at, Some(3)),
            ("batch.paused", at, None),
            ("contact.finalized", T0 + 3, Some(1)),
            ("batch.cancelled", T0 + 4, None),
        ]
    );
}

pub(super) fn each_writers_changes_keep_their_order_in_the_journal_when_writers_race(
    backend: &dyn Backend,
) {
    const WRITERS: usize = 4;
    const CONTACTS: u64 = 25;
    let store = &*backend.open();
    let batches: Vec<String> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                scope.spawn(move || {
                    let batch = store
                        .create_batch(NewBatch {
                            campaign_id: format!("camp-{writer}"),
                            ..new_batch(CONTACTS as usize)
                        })
                        .expect("create")
                        .batch
                        .id;
                    start(store, &batch);
                    for seq in 0..CONTACTS {
                        let at = T0 + 10 * seq as Millis;
                        let key = key_of(&begin_one(store, &batch, seq, at));
                        let ending = end(key, at + 5, CallOutcome::Busy, ContactStatus::Busy);
                        // Both ways in: waited for, and started then waited for.
                        let ended = if seq % 2 == 0 {
                            store.end_attempt(ending)
                        } else {
                            store
                                .start_end_attempts(vec![ending])
                                .wait()
                                .expect("group")
                                .remove(0)
                        };
                        ended.expect("a live attempt ends");
                    }
                    batch
                })
            })
            .collect();
        writers
            .into_iter()
            .map(|writer| writer.join().expect("the writer finishes"))
            .collect()
    });

    let journal = store.journal(0, usize::MAX).expect("journal");
    assert_numbered_in_order(&journal);
    assert_eq!(
        journal.len(),
        WRITERS * (2 + 3 * CONTACTS as usize),
        "every change is told once"
    );
    assert_eq!(
        journal.last().map(|event| event.seq),
        Some(store.journal_head().expect("head"))
    );
    let mut expected = vec![("batch.created", T0, None), ("batch.started", T0, None)];
    for seq in 0..CONTACTS {
        let at = T0 + 10 * seq as Millis;
        expected.extend([
            ("call.started", at, Some(seq)),
            ("call.ended", at + 5, Some(seq)),
            ("contact.finalized", at + 5, Some(seq)),
        ]);
    }
    for batch in &batches {
        let of_batch: Vec<_> = journal
            .iter()
            .filter(|event| event.batch_id == *batch)
            .map(told)
            .collect();
        assert_eq!(of_batch, expected, "the journal of {batch}");
    }
}

pub(super) fn a_pruned_journal_never_gives_a_seq_twice(backend: &dyn Backend) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(2)).expect("create").batch.id;
    start(store, &batch);
    let head = store.journal_head().expect("head");
    let pruned = store.prune_journal(head).expect("prune");
    assert!(pruned <= head);

    store
        .skip_contact(&batch, 0, "operator", T0 + 1)
        .expect("skip");
    let newest = store.journal_head().expect("head");
    assert!(
        newest > head,
        "seq {newest} comes after the pruned seq {head}"
    );
    let after = store.journal(head, usize::MAX).expect("journal");
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].seq, newest);
    assert_eq!(told(&after[0]), ("contact.finalized", T0 + 1, Some(0)));
    let kept = store.journal(0, usize::MAX).expect("journal");
    assert_eq!(
        kept.len() as u64,
        head - pruned + 1,
        "only the oldest {pruned} events are gone"
    );
    assert_eq!(kept.last().map(|event| event.seq), Some(newest));
}
