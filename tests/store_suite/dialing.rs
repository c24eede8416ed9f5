//! Dialing: beginning, marking and ending attempts, each item of a group
//! on its own, and the fence a pause or cancel puts before new dials.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use outdial::model::{BatchStatus, Blocker, CallOutcome, ContactStatus, MINUTE_MS, Millis};
use outdial::store::{
    AttemptKey, BlockerUpdate, ContactEvent, InProgressMark, PlacementNote, StatusChange, Store,
    StoreError,
};

use super::Backend;
use super::requests::{
    T0, begin, begin_one, end, journal_kinds, key_of, new_batch, start, status_change,
};

pub(super) fn illegal_transitions_are_rejected_and_nothing_is_written(backend: &dyn Backend) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(3)).expect("create").batch.id;
    start(store, &batch);
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

/// Everything a store tells of one contact: its record, attempts and log.
fn trace(store: &dyn Store, batch_id: &str, seq: u64) -> Option<String> {
    store
        .contact_detail(batch_id, seq)
        .expect("the contact reads")
        .map(|detail| format!("{detail:?}"))
}

pub(super) fn a_refused_begin_in_a_group_leaves_no_trace_and_the_others_still_begin(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(6)).expect("create").batch.id;
    start(store, &batch);
    // Never started: it does not dial.
    let idle = store.create_batch(new_batch(3)).expect("create").batch.id;
    store.skip_contact(&batch, 1, "operator", T0).expect("skip");
    let later = T0 + 600_000;
    let retry_later = BlockerUpdate {
        seq: 2,
        blocker: Some(Blocker::RetryWait),
        next_eligible_at: Some(later),
        note: None,
        plugin_fault: false,
        reason: None,
    };
    store
        .set_blockers(&batch, vec![retry_later], T0)
        .expect("blocked");
    let untouched = [(&batch, 1), (&batch, 2), (&idle, 0)];
    let before: Vec<_> = untouched
        .iter()
        .map(|(batch, seq)| trace(store, batch, *seq))
        .collect();
    let idle_counters = store.batch_counters(&idle).expect("counters");
    let head = store.journal_head().expect("head");

    let results = store
        .begin_attempts(vec![
            begin(&batch, 0, T0 + 1),
            // Skipped: no longer waiting.
            begin(&batch, 1, T0 + 1),
            // Waiting, but not due before `later`.
            begin(&batch, 2, T0 + 1),
            begin(&batch, 99, T0 + 1),
            // Dialed by the first item of this very group.
            begin(&batch, 0, T0 + 1),
            begin(&idle, 0, T0 + 1),
            begin("btc_0000000000000000", 0, T0 + 1),
            begin(&batch, 3, T0 + 1),
        ])
        .expect("group");

    assert_eq!(results.len(), 8, "one answer per begin: {results:?}");
    let first = results[0].as_ref().expect("contact 0 begins");
    let last = results[7].as_ref().expect("contact 3 begins");
    assert_eq!((first.number, last.number), (1, 1));
    assert!(
        matches!(results[1], Err(StoreError::IllegalTransition(_))),
        "{:?}",
        results[1]
    );
    assert!(
        matches!(results[2], Err(StoreError::NotYetEligible { seq: 2, next_eligible_at, .. }) if next_eligible_at == later),
        "{:?}",
        results[2]
    );
    assert!(
        matches!(results[3], Err(StoreError::ContactNotFound { seq: 99, .. })),
        "{:?}",
        results[3]
    );
    assert!(
        matches!(results[4], Err(StoreError::IllegalTransition(_))),
        "{:?}",
        results[4]
    );
    assert!(
        matches!(
            results[5],
            Err(StoreError::BatchNotDialing {
                status: BatchStatus::Pending,
                ..
            })
        ),
        "{:?}",
        results[5]
    );
    assert!(
        matches!(results[6], Err(StoreError::BatchNotFound(_))),
        "{:?}",
        results[6]
    );

    let after: Vec<_> = untouched
        .iter()
        .map(|(batch, seq)| trace(store, batch, *seq))
        .collect();
    assert_eq!(after, before, "a refused begin leaves no trace");
    assert_eq!(
        store.batch_counters(&idle).expect("counters"),
        idle_counters
    );
    let dialed = store.contact(&batch, 0).expect("read").expect("exists");
    assert_eq!(dialed.status, ContactStatus::Dispatched);
    assert_eq!(dialed.attempts_made, 1);
    assert_eq!(dialed.live_attempt_id.as_ref(), Some(&first.id));
    assert_eq!(
        store.attempts(&batch, 0).expect("attempts"),
        std::slice::from_ref(first)
    );

    let counters = store.batch_counters(&batch).expect("counters");
    assert_eq!(counters.attempts, 2);
    assert_eq!(counters.live(), 2);
    assert_eq!(counters, store.recount(&batch).expect("recount"));
    let mut live: Vec<String> = store
        .live_attempts()
        .expect("live")
        .into_iter()
        .map(|attempt| attempt.attempt_id)
        .collect();
    live.sort();
    let mut expected = vec![first.id.clone(), last.id.clone()];
    expected.sort();
    assert_eq!(live, expected);
    let told = store.journal(head, usize::MAX).expect("journal");
    let started: Vec<(&str, &serde_json::Value)> = told
        .iter()
        .map(|event| (event.kind.as_str(), &event.data["attempt_id"]))
        .collect();
    assert_eq!(
        started,
        [
            ("call.started", &serde_json::json!(first.id)),
            ("call.started", &serde_json::json!(last.id)),
        ],
        "only the begins that were applied are told"
    );
}

pub(super) fn a_refused_end_in_a_group_leaves_the_other_ends_and_the_counters_right(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(3)).expect("create").batch.id;
    start(store, &batch);
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

pub(super) fn ends_refused_in_a_group_leave_their_attempts_live_and_untouched(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(3)).expect("create").batch.id;
    start(store, &batch);
    let keys: Vec<AttemptKey> = (0..3)
        .map(|seq| key_of(&begin_one(store, &batch, seq, T0)))
        .collect();
    store
        .mark_in_progress(&keys[1], Some("CA1".to_string()), Some(T0 + 1), T0 + 1)
        .expect("rings");
    let before = [trace(store, &batch, 1), trace(store, &batch, 2)];
    let totals = store.batch_totals(&batch).expect("totals");
    let head = store.journal_head().expect("head");

    let mut wrong_number = keys[2].clone();
    wrong_number.number = 2;
    let results = store
        .end_attempts(vec![
            end(
                keys[0].clone(),
                T0 + 5,
                CallOutcome::Answered,
                ContactStatus::Completed,
            ),
            // Ended by the item before.
            end(
                keys[0].clone(),
                T0 + 5,
                CallOutcome::Busy,
                ContactStatus::Busy,
            ),
            // A call in progress cannot go back to pending.
            end(
                keys[1].clone(),
                T0 + 5,
                CallOutcome::Busy,
                ContactStatus::Pending,
            ),
            // No such attempt: contact 2 is on its first.
            end(wrong_number, T0 + 5, CallOutcome::Busy, ContactStatus::Busy),
        ])
        .expect("group");

    assert_eq!(results.len(), 4, "one answer per end: {results:?}");
    let ended = results[0].as_ref().expect("the first end applies");
    assert_eq!(ended.contact.status, ContactStatus::Completed);
    assert!(
        matches!(results[1], Err(StoreError::AttemptNotLive(_))),
        "{:?}",
        results[1]
    );
    assert!(
        matches!(results[2], Err(StoreError::IllegalTransition(_))),
        "{:?}",
        results[2]
    );
    assert!(
        matches!(results[3], Err(StoreError::AttemptNotLive(_))),
        "{:?}",
        results[3]
    );

    assert_eq!(
        [trace(store, &batch, 1), trace(store, &batch, 2)],
        before,
        "a refused end leaves its contact, attempt and log as they were"
    );
    let attempts = store.attempts(&batch, 0).expect("attempts");
    assert_eq!(attempts.len(), 1, "ended once: {attempts:?}");
    assert_eq!(attempts[0].outcome, Some(CallOutcome::Answered));
    let counters = store.batch_counters(&batch).expect("counters");
    assert_eq!(counters.ended, 1);
    assert_eq!(counters.live(), 2);
    assert_eq!(counters, store.recount(&batch).expect("recount"));
    let totals_after = store.batch_totals(&batch).expect("totals");
    assert_ne!(totals_after, totals, "the applied end is in the totals");
    assert_eq!(
        journal_kinds(store, head),
        ["call.ended", "contact.finalized"],
        "only the applied end is told"
    );
    let mut live: Vec<u64> = store
        .live_attempts()
        .expect("live")
        .iter()
        .map(|attempt| attempt.seq)
        .collect();
    live.sort_unstable();
    assert_eq!(live, [1, 2]);
}

pub(super) fn a_refused_mark_in_a_group_leaves_the_other_marks(backend: &dyn Backend) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(3)).expect("create").batch.id;
    start(store, &batch);
    let keys: Vec<AttemptKey> = (0..3)
        .map(|seq| key_of(&begin_one(store, &batch, seq, T0)))
        .collect();
    store
        .end_attempt(end(
            keys[1].clone(),
            T0 + 1,
            CallOutcome::Failed,
            ContactStatus::Failed,
        ))
        .expect("ends");
    let before = trace(store, &batch, 1);
    let mark = |key: &AttemptKey| InProgressMark {
        key: key.clone(),
        provider_call_id: Some(format!("CA-{}", key.seq)),
        answered_at: None,
        at: T0 + 2,
    };

    let results = store
        .mark_calls_in_progress(keys.iter().map(mark).collect())
        .expect("group");

    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(
        matches!(results[1], Err(StoreError::AttemptNotLive(_))),
        "{:?}",
        results[1]
    );
    assert_eq!(trace(store, &batch, 1), before, "the ended contact");
    for seq in [0, 2] {
        let contact = store.contact(&batch, seq).expect("read").expect("exists");
        assert_eq!(contact.status, ContactStatus::InProgress, "contact {seq}");
        let attempts = store.attempts(&batch, seq).expect("attempts");
        assert_eq!(
            attempts[0].provider_call_id,
            Some(format!("CA-{seq}")),
            "contact {seq}"
        );
    }
    assert_eq!(
        store.batch_counters(&batch).expect("counters"),
        store.recount(&batch).expect("recount")
    );
}

/// Snapshots of what a refused begin must leave alone.
fn untouched_by_begins(store: &dyn Store, batch_id: &str, seqs: &[u64]) -> String {
    let contacts: Vec<_> = seqs
        .iter()
        .map(|seq| trace(store, batch_id, *seq))
        .collect();
    format!(
        "{contacts:?} {:?} head {:?}",
        store.batch_counters(batch_id).expect("counters"),
        store.journal_head().expect("head")
    )
}

pub(super) fn once_a_pause_returns_no_attempt_of_the_batch_begins_yet_live_calls_end(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(4)).expect("create").batch.id;
    start(store, &batch);
    let first = key_of(&begin_one(store, &batch, 0, T0));
    let second = key_of(&begin_one(store, &batch, 1, T0));

    let paused = store
        .set_batch_status(status_change(&batch, BatchStatus::Paused, T0 + 10))
        .expect("pause");
    assert_eq!(paused.status, BatchStatus::Paused);
    let before = untouched_by_begins(store, &batch, &[2, 3]);
    let refused = store
        .begin_attempts(vec![begin(&batch, 2, T0 + 20), begin(&batch, 3, T0 + 20)])
        .expect("group");
    let started = store
        .start_begin_attempts(vec![begin(&batch, 2, T0 + 21)])
        .wait()
        .expect("group");
    for result in refused.iter().chain(&started) {
        assert!(
            matches!(
                result,
                Err(StoreError::BatchNotDialing {
                    status: BatchStatus::Paused,
                    ..
                })
            ),
            "{result:?}"
        );
    }
    assert_eq!(
        untouched_by_begins(store, &batch, &[2, 3]),
        before,
        "a refused begin writes nothing"
    );
    assert_eq!(store.live_attempts().expect("live").len(), 2);

    // The calls placed before the pause go on and end.
    store
        .mark_in_progress(&second, Some("CA2".to_string()), Some(T0 + 30), T0 + 30)
        .expect("a live call of a paused batch rings");
    let retried = store
        .end_attempt(end(
            first,
            T0 + 40,
            CallOutcome::Busy,
            ContactStatus::Retrying,
        ))
        .expect("a live call of a paused batch ends");
    assert_eq!(
        retried.contact.status,
        ContactStatus::Retrying,
        "a paused batch's contact still waits for its retry"
    );
    let done = store
        .end_attempt(end(
            second,
            T0 + 50,
            CallOutcome::Answered,
            ContactStatus::Completed,
        ))
        .expect("a live call of a paused batch ends");
    assert_eq!(done.contact.status, ContactStatus::Completed);
    assert!(store.live_attempts().expect("live").is_empty());
    let counters = store.batch_counters(&batch).expect("counters");
    assert_eq!((counters.attempts, counters.ended), (2, 2));
    assert_eq!(counters, store.recount(&batch).expect("recount"));

    store
        .set_batch_status(status_change(&batch, BatchStatus::InProgress, T0 + 60))
        .expect("resume");
    let resumed = begin_one(store, &batch, 2, T0 + 70);
    assert_eq!(resumed.number, 1, "a resumed batch dials again");
}

pub(super) fn once_a_cancel_returns_no_attempt_begins_and_live_calls_end_given_up(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(3)).expect("create").batch.id;
    start(store, &batch);
    let first = key_of(&begin_one(store, &batch, 0, T0));
    let second = key_of(&begin_one(store, &batch, 1, T0));

    store
        .set_batch_status(status_change(&batch, BatchStatus::Cancelled, T0 + 10))
        .expect("cancel");
    let before = untouched_by_begins(store, &batch, &[2]);
    let refused = store
        .begin_attempts(vec![begin(&batch, 2, T0 + 20)])
        .expect("group");
    assert!(
        matches!(
            refused[0],
            Err(StoreError::BatchNotDialing {
                status: BatchStatus::Cancelled,
                ..
            })
        ),
        "{:?}",
        refused[0]
    );
    assert_eq!(untouched_by_begins(store, &batch, &[2]), before);

    let head = store.journal_head().expect("head");
    let results = store
        .end_attempts(vec![
            end(first, T0 + 30, CallOutcome::Busy, ContactStatus::Retrying),
            end(second, T0 + 30, CallOutcome::Busy, ContactStatus::Busy),
        ])
        .expect("group");
    let given_up = results[0]
        .as_ref()
        .expect("a live call ends after a cancel");
    assert_eq!(
        given_up.contact.status,
        ContactStatus::Failed,
        "a retry of a cancelled batch ends in its give-up status"
    );
    assert_eq!(given_up.contact.next_eligible_at, None);
    let busy = results[1]
        .as_ref()
        .expect("a live call ends after a cancel");
    assert_eq!(busy.contact.status, ContactStatus::Busy);
    assert_eq!(
        journal_kinds(store, head),
        [
            "call.ended",
            "contact.finalized",
            "call.ended",
            "contact.finalized"
        ]
    );
    let counters = store.batch_counters(&batch).expect("counters");
    assert_eq!(counters.live(), 0);
    assert_eq!(counters.status(ContactStatus::Failed), 1);
    assert_eq!(counters, store.recount(&batch).expect("recount"));
}

pub(super) fn every_status_but_in_progress_refuses_dials_yet_ends_live_calls(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    for status in BatchStatus::ALL {
        if status == BatchStatus::InProgress {
            continue;
        }
        let batch = store.create_batch(new_batch(2)).expect("create").batch.id;
        start(store, &batch);
        let live = key_of(&begin_one(store, &batch, 0, T0));
        // Back to pending is a resume before the scheduled start.
        let path = match status {
            BatchStatus::Pending => vec![BatchStatus::Paused, BatchStatus::Pending],
            _ => vec![status],
        };
        for (at, to) in path.into_iter().enumerate() {
            store
                .set_batch_status(status_change(&batch, to, T0 + 10 + at as Millis))
                .expect("a legal change");
        }
        let before = untouched_by_begins(store, &batch, &[1]);
        let refused = store
            .begin_attempts(vec![begin(&batch, 1, T0 + 20)])
            .expect("group");
        assert!(
            matches!(&refused[0], Err(StoreError::BatchNotDialing { status: told, .. }) if *told == status),
            "a {status:?} batch: {:?}",
            refused[0]
        );
        assert_eq!(
            untouched_by_begins(store, &batch, &[1]),
            before,
            "a {status:?} batch"
        );

        let ended = store
            .end_attempt(end(
                live,
                T0 + 30,
                CallOutcome::Busy,
                ContactStatus::Retrying,
            ))
            .expect("a live call ends whatever its batch's status");
        let expected = if status.is_final() {
            ContactStatus::Failed
        } else {
            ContactStatus::Retrying
        };
        assert_eq!(ended.contact.status, expected, "a {status:?} batch");
        assert_eq!(
            store.batch_counters(&batch).expect("counters"),
            store.recount(&batch).expect("recount"),
            "a {status:?} batch"
        );
    }
}

/// What the racing dialer saw of one begin.
#[derive(Debug)]
struct Dialed {
    seq: u64,
    /// The pause had returned before this begin was sent.
    after_pause: bool,
    result: Result<String, String>,
}

pub(super) fn a_pause_fences_off_begins_racing_it_from_another_thread(backend: &dyn Backend) {
    const CONTACTS: u64 = 2_000;
    let store = &*backend.open();
    let batch = store
        .create_batch(new_batch(CONTACTS as usize))
        .expect("create")
        .batch
        .id;
    start(store, &batch);
    let paused = AtomicBool::new(false);
    let begun = AtomicU64::new(0);

    let (dialed, fenced_attempts) = std::thread::scope(|scope| {
        let dialer = scope.spawn(|| {
            let mut dialed = Vec::new();
            let mut refused_after_pause = 0;
            for seq in 0..CONTACTS {
                let after_pause = paused.load(Ordering::SeqCst);
                let begins = vec![begin(&batch, seq, T0 + seq as Millis)];
                // Both ways in: waited for, and started then waited for.
                let answer = if seq % 2 == 0 {
                    store.begin_attempts(begins)
                } else {
                    store.start_begin_attempts(begins).wait()
                };
                let result = answer
                    .expect("group")
                    .remove(0)
                    .map(|attempt| attempt.id)
                    .map_err(|err| format!("{err:?}"));
                if result.is_ok() {
                    begun.fetch_add(1, Ordering::SeqCst);
                } else if after_pause {
                    refused_after_pause += 1;
                }
                dialed.push(Dialed {
                    seq,
                    after_pause,
                    result,
                });
                if refused_after_pause == 20 {
                    break;
                }
            }
            dialed
        });
        while begun.load(Ordering::SeqCst) < 50 {
            std::thread::yield_now();
        }
        store
            .set_batch_status(status_change(&batch, BatchStatus::Paused, T0))
            .expect("pause");
        let fenced = store.batch_counters(&batch).expect("counters").attempts;
        paused.store(true, Ordering::SeqCst);
        (dialer.join().expect("the dialer finishes"), fenced)
    });

    assert!(
        dialed.iter().any(|d| d.after_pause),
        "the dialer outran the pause: {} begins",
        dialed.len()
    );
    for d in dialed.iter().filter(|d| d.after_pause) {
        assert!(
            d.result
                .as_ref()
                .is_err_and(|err| err.starts_with("BatchNotDialing")),
            "contact {} was begun after the pause returned: {:?}",
            d.seq,
            d.result
        );
    }
    let applied = dialed.iter().filter(|d| d.result.is_ok()).count() as u64;
    assert_eq!(
        applied, fenced_attempts,
        "every begin the store accepted was written before the pause returned"
    );
    let first_refused = dialed
        .iter()
        .position(|d| d.result.is_err())
        .expect("a begin was refused");
    assert!(
        dialed[first_refused..].iter().all(|d| d.result.is_err()),
        "no begin is accepted once one was refused for the pause"
    );
    let counters = store.batch_counters(&batch).expect("counters");
    assert_eq!(counters.attempts, fenced_attempts);
    assert_eq!(counters.live() as usize, first_refused);
    assert_eq!(counters, store.recount(&batch).expect("recount"));
}

pub(super) fn a_fault_streak_pauses_the_batch_inside_the_same_write(backend: &dyn Backend) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(3)).expect("create").batch.id;
    start(store, &batch);
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

pub(super) fn a_placed_call_shows_its_provider_id_before_it_rings(backend: &dyn Backend) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(1)).expect("create").batch.id;
    start(store, &batch);
    let attempt = begin_one(store, &batch, 0, T0);
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

pub(super) fn a_call_id_recorded_for_an_ended_attempt_never_reaches_the_contacts_next_attempt(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(2)).expect("create").batch.id;
    start(store, &batch);
    // Contacts 0 and 1 share a state page in sled, so the page stays live
    // while contact 0 ends and is dialed again.
    let first = AttemptKey::parse(&begin_one(store, &batch, 0, T0).id).expect("an id");
    let other = AttemptKey::parse(&begin_one(store, &batch, 1, T0).id).expect("an id");
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

    let again = begin_one(store, &batch, 0, T0 + 5 + MINUTE_MS);
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

pub(super) fn an_unknown_placement_is_told_in_the_contact_log_only_while_its_attempt_is_live(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(2)).expect("create").batch.id;
    start(store, &batch);
    let attempt = begin_one(store, &batch, 0, T0);
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
    let log = |store: &dyn Store| store.contact_detail(&batch, 0).unwrap().unwrap().events;
    let waits: Vec<ContactEvent> = log(store)
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
    let ended = log(store);
    store
        .note_unknown_placements(vec![note(T0 + 3)])
        .expect("a note on an ended attempt is no error");
    assert_eq!(log(store), ended, "nothing is told of an ended attempt");
    assert_eq!(
        store.batch_counters(&batch).unwrap(),
        store.recount(&batch).unwrap()
    );
}

pub(super) fn a_contacts_log_tells_dispatch_calls_end_and_faults_in_the_order_they_happened(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(1)).expect("create").batch.id;
    start(store, &batch);
    let first = begin_one(store, &batch, 0, T0);
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
    begin_one(store, &batch, 0, T0 + 20);

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
