//! Counters: kept in the same write as the state they count, so they equal
//! a recount of the contacts and attempts whenever a write has returned.

use outdial::model::{BatchStatus, Blocker, CallOutcome, ContactStatus, MINUTE_MS, Millis};
use outdial::store::{
    AttemptKey, BlockerUpdate, Counters, EndAttempt, InProgressMark, PlacementNote, Store,
    StoreError,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};

use super::Backend;
use super::requests::{T0, begin, end, new_batch, start, status_change};

/// Runs `test` on `cases` inputs of `strategy`, panicking with the smallest
/// failing input proptest finds.
fn check<S: Strategy>(
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(failure) = runner.run(&strategy, test) {
        panic!("{failure}");
    }
}

/// The ends a workload draws from: an outcome and where it leaves the
/// contact.
const ENDS: [(CallOutcome, ContactStatus); 6] = [
    (CallOutcome::Answered, ContactStatus::Completed),
    (CallOutcome::Busy, ContactStatus::Retrying),
    (CallOutcome::NoAnswer, ContactStatus::NoAnswer),
    (CallOutcome::Failed, ContactStatus::Failed),
    (CallOutcome::NoAnswer, ContactStatus::FollowupScheduled),
    (CallOutcome::Busy, ContactStatus::MaxRetriesReached),
];

/// One step of the random workload: after `wait` ms, on batch `batch`.
#[derive(Debug, Clone)]
struct Step {
    wait: Millis,
    batch: usize,
    op: Op,
}

#[derive(Debug, Clone)]
enum Op {
    /// Begins up to `limit` due contacts.
    Begin { limit: usize },
    /// A live call rings.
    Ring { pick: Index },
    /// A live call ends, counted as an attempt or not.
    End {
        pick: Index,
        how: Index,
        counts: bool,
    },
    /// Up to three contacts due within a minute get a blocker and a time
    /// within the next minute.
    Block {
        blocker: Index,
        offsets: [Millis; 3],
    },
    /// A due contact is skipped.
    Skip,
}

fn step() -> impl Strategy<Value = Step> {
    // Dialing comes first: proptest shrinks towards the first choice, so a
    // shrunk workload still dials.
    let op = prop_oneof![
        2 => (1usize..=4).prop_map(|limit| Op::Begin { limit }),
        1 => any::<Index>().prop_map(|pick| Op::Ring { pick }),
        1 => (any::<Index>(), any::<Index>(), prop::bool::weighted(0.8))
            .prop_map(|(pick, how, counts)| Op::End { pick, how, counts }),
        1 => (any::<Index>(), prop::array::uniform3(0i64..60_000))
            .prop_map(|(blocker, offsets)| Op::Block { blocker, offsets }),
        1 => Just(Op::Skip),
    ];
    (0i64..20_000, 0..2usize, op).prop_map(|(wait, batch, op)| Step { wait, batch, op })
}

pub(super) fn counters_equal_a_recount_after_a_random_workload(backend: &dyn Backend) {
    let workload = prop::collection::vec(step(), 3_000);
    check(4, workload, |steps| {
        let store = &*backend.open();
        let batches: Vec<String> = (0..2)
            .map(|_| store.create_batch(new_batch(150)).expect("create").batch.id)
            .collect();
        for batch in &batches {
            start(store, batch);
        }
        let mut now = T0;
        let mut live: Vec<AttemptKey> = Vec::new();
        for step in steps {
            now += step.wait;
            let batch = &batches[step.batch];
            match step.op {
                Op::Begin { limit } => {
                    let due = store.due(batch, now, limit).expect("due");
                    let begins = due.iter().map(|c| begin(batch, c.seq, now)).collect();
                    for attempt in store.begin_attempts(begins).expect("begin") {
                        let attempt = attempt.expect("a due contact of a dialing batch begins");
                        live.push(AttemptKey::parse(&attempt.id).expect("own id parses"));
                    }
                }
                Op::Ring { pick } if !live.is_empty() => {
                    let key = pick.get(&live);
                    store
                        .mark_in_progress(key, Some(format!("call-{}", key.id())), Some(now), now)
                        .expect("a live attempt rings");
                }
                Op::End { pick, how, counts } if !live.is_empty() => {
                    let key = live.swap_remove(pick.index(live.len()));
                    let (outcome, next) = *how.get(&ENDS);
                    let mut request = end(key, now, outcome, next);
                    request.counts_as_attempt = counts;
                    store.end_attempt(request).expect("a live attempt ends");
                }
                Op::Block { blocker, offsets } => {
                    let due = store.due(batch, now + MINUTE_MS, 3).expect("due");
                    let blocker = *blocker.get(&Blocker::ALL);
                    let updates = due
                        .iter()
                        .zip(offsets)
                        .map(|(c, offset)| BlockerUpdate {
                            seq: c.seq,
                            blocker: Some(blocker),
                            next_eligible_at: Some(now + offset),
                            note: None,
                            plugin_fault: false,
                            reason: None,
                        })
                        .collect();
                    store.set_blockers(batch, updates, now).expect("blockers");
                }
                // A ring or end without a live call skips instead.
                Op::Ring { .. } | Op::End { .. } | Op::Skip => {
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
        Ok(())
    });
}

/// A write of the workload checked after every write.
#[derive(Debug, Clone)]
enum Write {
    /// Begins up to `limit` due contacts in one group, or started and then
    /// waited for.
    Begin {
        limit: usize,
        started: bool,
    },
    /// Calls ring in one group; some were answered.
    Ring {
        picks: Vec<Index>,
        answered: bool,
    },
    /// Live calls end in one group, or started and then waited for; a
    /// plugin may fault on each, and three faults in a row pause.
    End {
        picks: Vec<(Index, Index, bool, Option<bool>)>,
        started: bool,
    },
    Block {
        blocker: Index,
        offset: Millis,
    },
    Skip,
    /// Every waiting contact of the batch is skipped.
    SkipWaiting,
    /// Retries are made due now.
    RetriesDue,
    /// A dialing batch pauses, a paused one resumes.
    PauseOrResume,
    /// Provider call ids arrive, and a placement goes unanswered.
    ProviderCalls {
        pick: Index,
    },
}

fn write() -> impl Strategy<Value = Write> {
    let picks = prop::collection::vec(any::<Index>(), 1..=3);
    let ends = prop::collection::vec(
        (
            any::<Index>(),
            any::<Index>(),
            prop::bool::weighted(0.8),
            prop_oneof![Just(None), Just(Some(false)), Just(Some(true))],
        ),
        1..=3,
    );
    // Weighed so that a workload mostly dials, and rarely skips a whole
    // batch, which ends its dialing.
    prop_oneof![
        24 => (1usize..=5, any::<bool>())
            .prop_map(|(limit, started)| Write::Begin { limit, started }),
        12 => (picks, any::<bool>()).prop_map(|(picks, answered)| Write::Ring { picks, answered }),
        24 => (ends, any::<bool>()).prop_map(|(picks, started)| Write::End { picks, started }),
        8 => (any::<Index>(), 0..120_000i64)
            .prop_map(|(blocker, offset)| Write::Block { blocker, offset }),
        4 => Just(Write::Skip),
        4 => Just(Write::RetriesDue),
        4 => Just(Write::PauseOrResume),
        4 => any::<Index>().prop_map(|pick| Write::ProviderCalls { pick }),
        1 => Just(Write::SkipWaiting),
    ]
}

/// Applies `write` to `batch` at `now`; `live` holds the attempts begun and
/// not yet ended, of every batch.
fn apply(store: &dyn Store, batch: &str, now: Millis, write: &Write, live: &mut Vec<AttemptKey>) {
    let of_batch: Vec<usize> = (0..live.len())
        .filter(|i| live[*i].batch_id == batch)
        .collect();
    match write {
        Write::Begin { limit, started } => {
            let due = store.due(batch, now, *limit).expect("due");
            let begins: Vec<_> = due.iter().map(|c| begin(batch, c.seq, now)).collect();
            let begun = if *started {
                store.start_begin_attempts(begins).wait()
            } else {
                store.begin_attempts(begins)
            };
            for attempt in begun.expect("group") {
                match attempt {
                    Ok(attempt) => {
                        live.push(AttemptKey::parse(&attempt.id).expect("own id parses"));
                    }
                    // A paused batch refuses its begins.
                    Err(StoreError::BatchNotDialing { .. }) => {}
                    Err(err) => panic!("a due contact is refused: {err}"),
                }
            }
        }
        Write::Ring { picks, answered } if !of_batch.is_empty() => {
            let marks = picks
                .iter()
                .map(|pick| InProgressMark {
                    key: live[*pick.get(&of_batch)].clone(),
                    provider_call_id: None,
                    answered_at: answered.then_some(now),
                    at: now,
                })
                .collect();
            for marked in store.mark_calls_in_progress(marks).expect("group") {
                marked.expect("a live call rings");
            }
        }
        Write::End { picks, started } if !of_batch.is_empty() => {
            let mut chosen: Vec<usize> = Vec::new();
            let mut ends: Vec<EndAttempt> = Vec::new();
            for (pick, how, counts, faulted) in picks {
                let at = *pick.get(&of_batch);
                if chosen.contains(&at) {
                    continue;
                }
                chosen.push(at);
                let (outcome, next) = *how.get(&ENDS);
                let mut request = end(live[at].clone(), now, outcome, next);
                request.counts_as_attempt = *counts;
                request.plugin_faulted = *faulted;
                request.max_consecutive_plugin_faults = 3;
                ends.push(request);
            }
            let ended = if *started {
                store.start_end_attempts(ends).wait()
            } else {
                store.end_attempts(ends)
            };
            for result in ended.expect("group") {
                result.expect("a live call ends");
            }
            chosen.sort_unstable();
            for at in chosen.into_iter().rev() {
                live.swap_remove(at);
            }
        }
        Write::Block { blocker, offset } => {
            let due = store.due(batch, now + MINUTE_MS, 4).expect("due");
            let updates = due
                .iter()
                .map(|c| BlockerUpdate {
                    seq: c.seq,
                    blocker: Some(*blocker.get(&Blocker::ALL)),
                    next_eligible_at: Some(now + offset),
                    note: None,
                    plugin_fault: false,
                    reason: None,
                })
                .collect();
            store.set_blockers(batch, updates, now).expect("blockers");
        }
        Write::SkipWaiting => {
            store
                .skip_waiting(batch, "batch_cancelled", now)
                .expect("skips");
        }
        Write::RetriesDue => {
            store.make_retries_due(batch, now).expect("retries due");
        }
        Write::PauseOrResume => {
            let status = store.require_batch(batch).expect("the batch").status;
            let to = match status {
                BatchStatus::InProgress => BatchStatus::Paused,
                _ => BatchStatus::InProgress,
            };
            store
                .set_batch_status(status_change(batch, to, now))
                .expect("a dialing batch pauses and a paused one resumes");
        }
        Write::ProviderCalls { pick } if !of_batch.is_empty() => {
            let key = live[*pick.get(&of_batch)].clone();
            store
                .record_provider_calls(vec![(key.clone(), format!("CA-{}", key.id()))])
                .expect("recorded");
            store
                .note_unknown_placements(vec![PlacementNote {
                    key,
                    at: now,
                    detail: "timed out".to_string(),
                }])
                .expect("noted");
        }
        // Without a live call of the batch, a ring, end or call id skips.
        Write::Ring { .. } | Write::End { .. } | Write::ProviderCalls { .. } | Write::Skip => {
            if let Some(contact) = store.due(batch, now, 1).expect("due").first() {
                store
                    .skip_contact(batch, contact.seq, "operator", now)
                    .expect("a waiting contact is skipped");
            }
        }
    }
}

pub(super) fn counters_equal_a_recount_after_every_write_of_a_random_workload(
    backend: &dyn Backend,
) {
    let workload = prop::collection::vec((0i64..20_000, 0..2usize, write()), 1..=150);
    check(16, workload, |writes| {
        let store = &*backend.open();
        // Across sled's pages of 32 contacts.
        let batches: Vec<String> = (0..2)
            .map(|_| store.create_batch(new_batch(40)).expect("create").batch.id)
            .collect();
        for batch in &batches {
            start(store, batch);
        }
        let mut now = T0;
        let mut live: Vec<AttemptKey> = Vec::new();
        for (step, (wait, batch, write)) in writes.iter().enumerate() {
            now += wait;
            apply(store, &batches[*batch], now, write, &mut live);
            let mut campaign = Counters::default();
            for batch in &batches {
                let recount = store.recount(batch).expect("recount");
                prop_assert_eq!(
                    store.batch_counters(batch).expect("counters"),
                    recount,
                    "batch {} after write {} ({:?})",
                    batch,
                    step,
                    write
                );
                campaign.add(&recount);
            }
            prop_assert_eq!(
                store.campaign_counters("ws", "camp").expect("counters"),
                campaign,
                "the campaign after write {} ({:?})",
                step,
                write
            );
        }
        let mut live_ids: Vec<String> = live.iter().map(AttemptKey::id).collect();
        live_ids.sort();
        let mut listed: Vec<String> = store
            .live_attempts()
            .expect("live")
            .into_iter()
            .map(|attempt| attempt.attempt_id)
            .collect();
        listed.sort();
        prop_assert_eq!(
            listed,
            live_ids,
            "the live index holds the unended attempts"
        );
        Ok(())
    });
}
