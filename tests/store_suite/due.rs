//! The due list: which waiting contacts may be dialed at a time, earliest
//! first.

use outdial::model::{Blocker, CallOutcome, ContactStatus, MINUTE_MS, Millis};
use outdial::store::{AttemptKey, BlockerUpdate, ContactRecord, NewBatch};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::Backend;
use super::requests::{T0, begin, begin_one, end, key_of, new_batch, start};

pub(super) fn the_due_index_orders_by_eligibility_then_sequence(backend: &dyn Backend) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(5)).expect("create").batch.id;
    let updates = [(0, 300), (1, 100), (2, 200), (3, 100), (4, 50_000)]
        .into_iter()
        .map(|(seq, offset)| BlockerUpdate {
            seq,
            blocker: None,
            next_eligible_at: Some(T0 + offset),
            note: None,
            plugin_fault: false,
            reason: None,
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

/// What becomes of one contact before the due list is read.
#[derive(Debug, Clone)]
enum Fate {
    /// It waits, eligible at its time.
    Waits,
    /// An operator takes it out.
    Skipped,
    /// It is dialed and the call is still live.
    Dialed,
    /// It is dialed and waits for a retry at this many seconds after T0.
    Retried(u8),
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        3 => Just(Fate::Waits),
        1 => Just(Fate::Skipped),
        1 => Just(Fate::Dialed),
        2 => (0u8..30).prop_map(Fate::Retried),
    ]
}

type DueScenario = (Vec<(u8, Fate)>, Vec<(u8, usize)>);

/// Contacts eligible this many seconds after T0, each with its fate, and
/// reads of the due list at seconds after T0 with a limit. Eligibility
/// times are drawn from few values so that ties are common; contacts span
/// several of sled's pages of 32.
fn due_scenario() -> impl Strategy<Value = DueScenario> {
    (
        prop::collection::vec((0u8..30, fate()), 1..=80),
        prop::collection::vec((0u8..40, 1usize..=90), 1..=5),
    )
}

pub(super) fn due_answers_only_contacts_eligible_by_now_in_eligibility_order(
    backend: &dyn Backend,
) {
    let second = |s: u8| T0 + Millis::from(s) * 1_000;
    // After every eligibility time of a waiting contact.
    let dial_at = second(30);
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&due_scenario(), |(contacts, reads)| {
        let store = &*backend.open();
        let batch = store
            .create_batch(new_batch(contacts.len()))
            .expect("create")
            .batch
            .id;
        start(store, &batch);
        let updates = contacts
            .iter()
            .enumerate()
            .map(|(seq, (at, _))| BlockerUpdate {
                seq: seq as u64,
                blocker: Some(Blocker::RateLimited),
                next_eligible_at: Some(second(*at)),
                note: None,
                plugin_fault: false,
                reason: None,
            })
            .collect();
        store.set_blockers(&batch, updates, T0).expect("blockers");
        let fates = || {
            contacts
                .iter()
                .enumerate()
                .map(|(seq, (_, f))| (seq as u64, f))
        };
        for (seq, _) in fates().filter(|(_, f)| matches!(f, Fate::Skipped)) {
            store
                .skip_contact(&batch, seq, "operator", T0)
                .expect("skip");
        }
        let dialed: Vec<u64> = fates()
            .filter(|(_, f)| matches!(f, Fate::Dialed | Fate::Retried(_)))
            .map(|(seq, _)| seq)
            .collect();
        let keys: Vec<AttemptKey> = store
            .begin_attempts(
                dialed
                    .iter()
                    .map(|seq| begin(&batch, *seq, dial_at))
                    .collect(),
            )
            .expect("group")
            .into_iter()
            .map(|begun| key_of(&begun.expect("a due contact of a dialing batch begins")))
            .collect();
        let ends = keys
            .into_iter()
            .filter_map(|key| match contacts[key.seq as usize].1 {
                Fate::Retried(at) => {
                    let mut retry =
                        end(key, dial_at + 1, CallOutcome::Busy, ContactStatus::Retrying);
                    retry.next.next_eligible_at = Some(second(at));
                    Some(retry)
                }
                _ => None,
            })
            .collect();
        for ended in store.end_attempts(ends).expect("group") {
            ended.expect("a live attempt ends");
        }

        // When each contact is eligible, by the requests alone.
        let mut waiting: Vec<(Millis, u64)> = fates()
            .filter_map(|(seq, fate)| match fate {
                Fate::Waits => Some((second(contacts[seq as usize].0), seq)),
                Fate::Retried(at) => Some((second(*at), seq)),
                Fate::Skipped | Fate::Dialed => None,
            })
            .collect();
        waiting.sort_unstable();
        for (now, limit) in reads {
            let now = second(now);
            let due = store.due(&batch, now, limit).expect("due");
            for contact in &due {
                let ContactRecord {
                    seq,
                    status,
                    next_eligible_at,
                    ..
                } = contact;
                prop_assert!(status.is_waiting(), "contact {seq} is {status:?}");
                prop_assert!(
                    next_eligible_at.is_some_and(|at| at <= now),
                    "contact {seq} is eligible at {next_eligible_at:?}, after {now}"
                );
            }
            let answered: Vec<(Millis, u64)> = due
                .iter()
                .map(|c| (c.next_eligible_at.unwrap_or(Millis::MAX), c.seq))
                .collect();
            let expected: Vec<(Millis, u64)> = waiting
                .iter()
                .copied()
                .filter(|(at, _)| *at <= now)
                .take(limit)
                .collect();
            prop_assert_eq!(
                answered,
                expected,
                "due at {} with limit {}: the earliest eligible first, then by sequence",
                now,
                limit
            );
        }
        prop_assert_eq!(
            store.next_eligible_at(&batch).expect("next"),
            waiting.first().map(|(at, _)| *at)
        );
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

pub(super) fn contacts_due_together_leave_the_due_list_one_by_one(backend: &dyn Backend) {
    let store = &*backend.open();
    // 70 contacts due at creation: sled keeps them in due records for its
    // pages 0, 1 and 2.
    let batch = store.create_batch(new_batch(70)).expect("create").batch.id;
    start(store, &batch);
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

pub(super) fn a_forced_dispatch_makes_contacts_held_for_a_scheduled_start_due_now(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
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

pub(super) fn skipping_the_waiting_contacts_of_a_large_batch_works_in_chunks(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store
        .create_batch(new_batch(1_300))
        .expect("create")
        .batch
        .id;
    start(store, &batch);
    begin_one(store, &batch, 7, T0);
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
