//! The ledger's rules, checked without any store: each test builds the
//! records a change reads and looks at the change it returns.

use super::attempts::{begin_attempt, end_attempt, mark_in_progress, note_placement};
use super::batches::{change_status, new_batch};
use super::contacts::{contact_log, make_due_now, set_blocker, skip};
use super::webhooks::log_delivery;
use super::*;
use crate::model::{
    Attempt, BatchStatus, Blocker, CallOutcome, ContactStatus, DecisionRecord, Disposition,
    MINUTE_MS,
};
use crate::store::{
    AttemptEnd, AttemptKey, BatchRecord, BeginAttempt, BlockerUpdate, EndAttempt, InProgressMark,
    NewBatch, NewContact, NextStep, PlacementNote, StatusChange, StoreError, WebhookEndpointState,
};

const T0: Millis = 1_700_000_000_000;

fn pending_batch() -> BatchRecord {
    new_batch(
        "btc_1".to_string(),
        &NewBatch {
            workspace: "ws".to_string(),
            campaign_id: "camp".to_string(),
            created_at: T0,
            created_by: "test".to_string(),
            ..NewBatch::default()
        },
    )
}

fn status(batch: BatchRecord, to: BatchStatus, at: Millis) -> (BatchRecord, JournalEntry) {
    change_status(
        batch,
        StatusChange {
            batch_id: "btc_1".to_string(),
            to,
            reason: Some("test".to_string()),
            by: "operator".to_string(),
            at,
            only_from: Vec::new(),
        },
    )
    .expect("the transition is legal")
}

fn dialing_batch() -> BatchRecord {
    status(pending_batch(), BatchStatus::InProgress, T0).0
}

fn new_contact(batch: &BatchRecord) -> ContactRecord {
    ContactNumbering::new(batch)
        .add(NewContact {
            contact_id: "c0".to_string(),
            phone: "+15550000000".to_string(),
            time_zone: "America/New_York".to_string(),
            ..NewContact::default()
        })
        .expect("the first contact is numbered")
        .contact
        .new
}

fn begin_request(at: Millis) -> BeginAttempt {
    BeginAttempt {
        batch_id: "btc_1".to_string(),
        seq: 0,
        at,
        from_number: Some("+15550009999".to_string()),
        variant: None,
        followup: false,
        gate: None,
    }
}

/// A contact with a live first attempt, and that attempt.
fn live_contact(batch: &BatchRecord) -> (ContactRecord, Attempt) {
    let change = begin_attempt(batch, new_contact(batch), &begin_request(T0))
        .expect("a due contact of a dialing batch is dialed");
    (change.contact.new, change.attempt)
}

fn end_request(outcome: CallOutcome, next: ContactStatus, at: Millis) -> EndAttempt {
    EndAttempt {
        key: AttemptKey {
            batch_id: "btc_1".to_string(),
            seq: 0,
            number: 1,
        },
        at,
        end: AttemptEnd {
            outcome: Some(outcome),
            talk_ms: 30_000,
            cost_micros: Some(1_500),
            ..AttemptEnd::default()
        },
        disposition: Some(Disposition {
            label: "voicemail".to_string(),
            terminal: false,
            score: None,
            sentiment: None,
            follow_up_at: None,
        }),
        decision: None,
        next: NextStep {
            status: next,
            next_eligible_at: next.is_waiting().then_some(at + 3_600_000),
            blocker: None,
            final_reason: (!next.is_waiting()).then(|| "done".to_string()),
            give_up_status: ContactStatus::Failed,
        },
        counts_as_attempt: true,
        plugin_faulted: None,
        max_consecutive_plugin_faults: 0,
        success: false,
        suppress: None,
    }
}

fn faulted_end(at: Millis) -> EndAttempt {
    let mut end = end_request(CallOutcome::NoAnswer, ContactStatus::Retrying, at);
    end.plugin_faulted = Some(true);
    end.max_consecutive_plugin_faults = 3;
    end.decision = Some(DecisionRecord {
        decision: crate::model::Decision::GiveUp {
            reason: "fallback".to_string(),
        },
        adjusted: None,
        retry_plugin: "builtin".to_string(),
        classifier_plugin: "builtin".to_string(),
        faults: vec!["retry: trapped".to_string()],
        decided_at: at,
    });
    end
}

fn kinds(journal: &[JournalEntry]) -> Vec<&'static str> {
    journal.iter().map(|entry| entry.kind.as_str()).collect()
}

#[test]
fn a_dial_intent_for_a_paused_batch_is_refused() {
    let (paused, _) = status(dialing_batch(), BatchStatus::Paused, T0 + 1);
    let err = begin_attempt(&paused, new_contact(&paused), &begin_request(T0 + 2))
        .expect_err("a paused batch dials nobody");
    assert!(matches!(
        err,
        StoreError::BatchNotDialing {
            status: BatchStatus::Paused,
            ..
        }
    ));
}

#[test]
fn a_dial_intent_before_the_contact_is_eligible_is_refused() {
    let batch = dialing_batch();
    let mut contact = new_contact(&batch);
    contact.next_eligible_at = Some(T0 + MINUTE_MS);
    let err = begin_attempt(&batch, contact, &begin_request(T0))
        .expect_err("a contact is not dialed early");
    assert!(matches!(
        err,
        StoreError::NotYetEligible { next_eligible_at, .. } if next_eligible_at == T0 + MINUTE_MS
    ));
}

#[test]
fn a_dial_intent_makes_the_attempt_live_and_counts_it_once() {
    let batch = dialing_batch();
    let change = begin_attempt(&batch, new_contact(&batch), &begin_request(T0))
        .expect("a due contact is dialed");
    assert_eq!(change.attempt.id, "btc_1-0-1");
    assert_eq!(change.contact.new.status, ContactStatus::Dispatched);
    assert_eq!(
        change.contact.new.live_attempt_id.as_deref(),
        Some("btc_1-0-1")
    );
    assert_eq!(change.contact.new.attempts_made, 1);
    assert_eq!(change.contact.new.next_eligible_at, None);
    assert_eq!(change.counters.attempts, 1);
    assert_eq!(
        change.counters.by_status[ContactStatus::Pending.index()],
        -1
    );
    assert_eq!(
        change.counters.by_status[ContactStatus::Dispatched.index()],
        1
    );
    assert_eq!(change.minute.attempts, 1);
    assert_eq!(change.minute.minute, minute_of_t0());
    assert_eq!(kinds(&[change.journal]), ["call.started"]);
    assert!(
        change.contact.log.is_empty(),
        "the attempt tells its dispatch"
    );
}

fn minute_of_t0() -> Millis {
    T0.div_euclid(MINUTE_MS) * MINUTE_MS
}

#[test]
fn a_ringing_call_puts_the_contact_in_progress_and_logs_it() {
    let batch = dialing_batch();
    let (contact, attempt) = live_contact(&batch);
    let mark = InProgressMark {
        key: AttemptKey::parse(&attempt.id).expect("an attempt id parses"),
        provider_call_id: Some("CA1".to_string()),
        answered_at: None,
        at: T0 + 1_000,
    };
    let change = mark_in_progress(contact, Some(attempt), &mark).expect("the attempt is live");
    let contact = change.contact.expect("the status changes");
    assert_eq!(contact.new.status, ContactStatus::InProgress);
    assert_eq!(contact.log[0].number, 1);
    assert_eq!(contact.log[0].event.kind, "in_progress");
    assert_eq!(
        change.attempt.and_then(|a| a.provider_call_id).as_deref(),
        Some("CA1")
    );
}

#[test]
fn a_mark_or_an_end_for_an_attempt_that_is_not_live_is_refused() {
    let batch = dialing_batch();
    let (contact, attempt) = live_contact(&batch);
    let mut end = end_request(CallOutcome::Busy, ContactStatus::Retrying, T0 + 1);
    end.key.number = 2;
    let err = end_attempt(&mut batch.clone(), contact.clone(), Some(attempt), &end)
        .expect_err("attempt 2 never began");
    assert!(matches!(err, StoreError::AttemptNotLive(id) if id == "btc_1-0-2"));
    let err = end_attempt(
        &mut batch.clone(),
        contact,
        None,
        &end_request(CallOutcome::Busy, ContactStatus::Retrying, T0 + 1),
    )
    .expect_err("the live attempt's record is missing");
    assert!(matches!(err, StoreError::AttemptNotFound(_)));
}

#[test]
fn an_end_logs_its_line_counts_the_attempt_and_schedules_the_retry() {
    let mut batch = dialing_batch();
    let (contact, attempt) = live_contact(&batch);
    let at = T0 + 60_000;
    let change = end_attempt(
        &mut batch,
        contact,
        Some(attempt),
        &end_request(CallOutcome::NoAnswer, ContactStatus::Retrying, at),
    )
    .expect("the live attempt ends");
    assert_eq!(change.contact.new.status, ContactStatus::Retrying);
    assert_eq!(change.contact.new.next_eligible_at, Some(at + 3_600_000));
    assert_eq!(change.contact.new.live_attempt_id, None);
    assert_eq!(change.line.number, 1);
    assert_eq!(
        change.line.event.detail,
        "attempt btc_1-0-1 outcome no_answer disposition voicemail -> retrying"
    );
    assert_eq!(change.counters.ended, 1);
    assert_eq!(change.counters.talk_ms, 30_000);
    assert_eq!(change.counters.cost_micros, 1_500);
    assert_eq!(change.recent.status, ContactStatus::Retrying);
    assert_eq!(kinds(&change.journal), ["call.ended"]);
    assert!(!change.batch_changed, "a retry leaves the batch as it was");
    let Some(TotalsChange::Ended(facts)) = &change.statistics.totals else {
        panic!("a dialed attempt counts in the totals");
    };
    assert_eq!(facts.dial, 1);
    assert_eq!(
        change.statistics.number,
        Some(("+15550009999".to_string(), CallOutcome::NoAnswer))
    );
}

#[test]
fn a_retry_of_a_cancelled_batch_becomes_its_give_up_status_and_is_finalized() {
    let (mut batch, _) = status(dialing_batch(), BatchStatus::Cancelled, T0 + 1);
    let (contact, attempt) = live_contact(&dialing_batch());
    let change = end_attempt(
        &mut batch,
        contact,
        Some(attempt),
        &end_request(CallOutcome::NoAnswer, ContactStatus::Retrying, T0 + 2),
    )
    .expect("a live call of a cancelled batch still ends");
    assert_eq!(change.contact.new.status, ContactStatus::Failed);
    assert_eq!(
        change.contact.new.final_reason.as_deref(),
        Some("batch_cancelled")
    );
    assert_eq!(change.contact.new.next_eligible_at, None);
    assert_eq!(kinds(&change.journal), ["call.ended", "contact.finalized"]);
    assert_eq!(batch.last_completed_at, Some(T0 + 2));
    assert!(change.batch_changed);
}

#[test]
fn the_third_plugin_fault_in_a_row_pauses_the_batch_in_the_same_change() {
    let mut batch = dialing_batch();
    for round in 1..=3 {
        let (contact, attempt) = live_contact(&batch);
        let change = end_attempt(&mut batch, contact, Some(attempt), &faulted_end(T0 + round))
            .expect("a faulted end is recorded");
        assert!(change.batch_changed);
        assert_eq!(change.paused_batch, round == 3);
        assert_eq!(change.contact.log[0].event.kind, "plugin_fault");
        assert_eq!(change.contact.log[0].number, change.line.number + 1);
        if round == 3 {
            assert_eq!(
                kinds(&change.journal),
                ["call.ended", "batch.paused"],
                "the pause is told after the end that caused it"
            );
        }
    }
    assert_eq!(batch.status, BatchStatus::Paused);
    assert_eq!(batch.status_reason.as_deref(), Some("plugin_faulted"));
    assert_eq!(batch.paused_at, Some(T0 + 3));
}

#[test]
fn a_clean_end_resets_the_fault_streak_and_a_resume_does_too() {
    let mut batch = dialing_batch();
    let (contact, attempt) = live_contact(&batch);
    end_attempt(&mut batch, contact, Some(attempt), &faulted_end(T0 + 1)).expect("recorded");
    assert_eq!(batch.consecutive_plugin_faults, 1);
    let (contact, attempt) = live_contact(&batch);
    let mut clean = end_request(CallOutcome::Busy, ContactStatus::Retrying, T0 + 2);
    clean.plugin_faulted = Some(false);
    let change = end_attempt(&mut batch, contact, Some(attempt), &clean).expect("recorded");
    assert!(change.batch_changed);
    assert_eq!(batch.consecutive_plugin_faults, 0);

    let (contact, attempt) = live_contact(&batch);
    end_attempt(&mut batch, contact, Some(attempt), &faulted_end(T0 + 3)).expect("recorded");
    let (paused, _) = status(batch, BatchStatus::Paused, T0 + 4);
    let (resumed, entry) = status(paused, BatchStatus::InProgress, T0 + 5);
    assert_eq!(resumed.consecutive_plugin_faults, 0);
    assert_eq!(entry.kind, EventKind::BatchResumed);
}

#[test]
fn a_call_refused_before_dialing_is_a_system_retry_taken_out_of_its_minute() {
    let mut batch = dialing_batch();
    let (contact, attempt) = live_contact(&batch);
    let mut end = end_request(CallOutcome::Failed, ContactStatus::Retrying, T0 + 5);
    end.counts_as_attempt = false;
    end.next.blocker = Some(Blocker::ProviderThrottled);
    let change = end_attempt(&mut batch, contact, Some(attempt), &end).expect("recorded");
    assert_eq!(change.contact.new.attempts_made, 0);
    assert_eq!(change.contact.new.system_retries, 1);
    assert_eq!(change.counters.system_retries, 1);
    assert!(change.attempt.system_retry);
    assert_eq!(
        change.statistics.totals,
        Some(TotalsChange::SystemRetry {
            throttled_until: Some(T0 + 5 + 3_600_000)
        })
    );
    assert_eq!(change.statistics.minutes[0].attempts, -1);
    assert_eq!(change.statistics.minutes[0].minute, minute_of_t0());
    assert_eq!(change.statistics.number, None);
}

#[test]
fn a_batch_status_change_outside_only_from_is_refused() {
    let err = change_status(
        dialing_batch(),
        StatusChange {
            batch_id: "btc_1".to_string(),
            to: BatchStatus::Completed,
            reason: None,
            by: "dispatcher".to_string(),
            at: T0 + 1,
            only_from: vec![BatchStatus::Paused],
        },
    )
    .expect_err("the batch is not paused");
    assert!(matches!(err, StoreError::IllegalTransition(_)));
}

#[test]
fn the_first_start_and_a_resume_are_told_apart() {
    let (started, entry) = status(pending_batch(), BatchStatus::InProgress, T0);
    assert_eq!(entry.kind, EventKind::BatchStarted);
    assert_eq!(started.started_at, Some(T0));
    let (paused, entry) = status(started, BatchStatus::Paused, T0 + 1);
    assert_eq!(entry.kind, EventKind::BatchPaused);
    assert_eq!(
        entry.data,
        JournalData::BatchStatus(BatchStatusData {
            by: "operator".to_string(),
            reason: Some("test".to_string()),
            status: BatchStatus::Paused,
        })
    );
    let (resumed, entry) = status(paused, BatchStatus::InProgress, T0 + 2);
    assert_eq!(entry.kind, EventKind::BatchResumed);
    assert_eq!(resumed.started_at, Some(T0), "the first start is kept");
    assert_eq!(resumed.paused_at, None);
}

#[test]
fn a_blocker_is_logged_once_and_only_on_a_waiting_contact() {
    let batch = dialing_batch();
    let update = BlockerUpdate {
        seq: 0,
        blocker: Some(Blocker::OutsideWindow),
        next_eligible_at: Some(T0 + 3_600_000),
        note: None,
        plugin_fault: false,
        reason: None,
    };
    let change = set_blocker(new_contact(&batch), &update, T0).expect("a waiting contact");
    assert_eq!(change.log[0].event.kind, "blocked");
    assert_eq!(
        change.log[0].event.detail,
        format!("outside_window until {}", T0 + 3_600_000)
    );
    assert_eq!(
        change.counted().by_blocker[crate::store::blocker_index(Blocker::OutsideWindow)],
        1
    );
    assert_eq!(
        set_blocker(change.new.clone(), &update, T0 + 1),
        None,
        "nothing changes the second time"
    );
    let (live, _) = live_contact(&batch);
    assert_eq!(set_blocker(live, &update, T0), None);
}

#[test]
fn a_skipped_contact_is_final_logged_and_finalized() {
    let mut batch = dialing_batch();
    let contact = new_contact(&batch);
    let change = skip(&mut batch, contact, "operator_skip", T0 + 7).expect("skipped");
    assert_eq!(change.contact.new.status, ContactStatus::Skipped);
    assert_eq!(
        change.contact.new.final_reason.as_deref(),
        Some("operator_skip")
    );
    assert_eq!(change.contact.log[0].event.kind, "skipped");
    assert_eq!(change.journal.kind, EventKind::ContactFinalized);
    assert_eq!(batch.last_completed_at, Some(T0 + 7));
    let (live, _) = live_contact(&batch);
    let err = skip(&mut batch, live, "operator_skip", T0 + 8).expect_err("a live call");
    assert!(matches!(err, StoreError::IllegalTransition(_)));
}

#[test]
fn a_forced_dispatch_moves_only_waiting_contacts_and_logs_it() {
    let batch = dialing_batch();
    let mut retrying = new_contact(&batch);
    retrying.status = ContactStatus::Retrying;
    retrying.next_eligible_at = Some(T0 + 3_600_000);
    retrying.blocker = Some(Blocker::OutsideWindow);
    let change = make_due_now(retrying, T0 + 1).expect("a retrying contact is forced");
    assert_eq!(change.new.next_eligible_at, Some(T0 + 1));
    assert_eq!(change.new.blocker, None);
    assert_eq!(change.log[0].event.detail, "due now");
    let (live, _) = live_contact(&batch);
    assert_eq!(make_due_now(live, T0 + 1), None);
}

#[test]
fn a_placement_note_is_logged_only_while_its_attempt_is_live() {
    let batch = dialing_batch();
    let (contact, attempt) = live_contact(&batch);
    let note = PlacementNote {
        key: AttemptKey::parse(&attempt.id).expect("parses"),
        at: T0 + 1,
        detail: "no answer to the placement".to_string(),
    };
    let change = note_placement(contact, &note).expect("the attempt is live");
    assert_eq!(change.log[0].event.kind, "placement_unknown");
    assert_eq!(
        change.counted(),
        CounterDelta::default(),
        "no counter moves"
    );
    assert_eq!(note_placement(new_contact(&batch), &note), None);
}

#[test]
fn contacts_are_numbered_in_order_and_a_repeated_id_names_both() {
    let batch = pending_batch();
    let mut numbering = ContactNumbering::new(&batch);
    let contact = |id: &str, phone: &str| NewContact {
        contact_id: id.to_string(),
        phone: phone.to_string(),
        ..NewContact::default()
    };
    let first = numbering
        .add(contact("a", "+12125550100"))
        .expect("numbered");
    assert_eq!(first.contact.new.seq, 0);
    assert_eq!(first.new_zone.as_deref(), Some("America/New_York"));
    let second = numbering
        .add(contact("b", "+12125550101"))
        .expect("numbered");
    assert_eq!(second.new_zone, None, "a zone is told once");
    let err = numbering
        .add(contact("a", "+12125550102"))
        .expect_err("a repeated id");
    assert!(matches!(
        err,
        StoreError::DuplicateContact { seqs: (0, 2), .. }
    ));
    assert_eq!(numbering.count(), 2);
    assert_eq!(
        numbering.counters().by_status[ContactStatus::Pending.index()],
        2
    );
}

#[test]
fn recent_calls_keep_the_newest_fifty_newest_first() {
    let call = |n: u64| RecentCall {
        attempt_id: format!("a{n}"),
        contact_id: String::new(),
        phone: String::new(),
        outcome: None,
        disposition: None,
        ended_at: n as Millis,
        talk_ms: 0,
        status: ContactStatus::Completed,
        reason: None,
    };
    let older: Vec<RecentCall> = (0..50).rev().map(call).collect();
    let ended: Vec<RecentCall> = (50..53).map(call).collect();
    let kept = recent_calls(&ended, &older);
    assert_eq!(kept.len(), RECENT_KEPT);
    assert_eq!(kept[0].attempt_id, "a52");
    assert_eq!(kept[49].attempt_id, "a3");
}

#[test]
fn a_delivery_log_keeps_the_newest_tries() {
    let mut state = WebhookEndpointState {
        id: "wh_1".to_string(),
        workspace: "ws".to_string(),
        campaign_id: "camp".to_string(),
        url: "https://example.com/hook".to_string(),
        delivered_through: 0,
        failures_in_a_row: 0,
        failing_since: None,
        next_attempt_at: None,
        last_success_at: None,
        last_error: None,
        disabled_reason: None,
        disabled_at: None,
        delivered: 0,
        tries_logged: 9,
    };
    let logged = log_delivery(&mut state, 10);
    assert_eq!((logged.number, logged.dropped), (10, Some(0)));
    let logged = log_delivery(&mut state, 10);
    assert_eq!((logged.number, logged.dropped), (11, Some(1)));
}

#[test]
fn a_contacts_log_puts_logged_lines_before_a_dispatch_at_the_same_time() {
    let attempt = Attempt::started("btc_1-0-2".to_string(), 2, T0 + 10);
    let line = |number, at, kind: &str| LogLine {
        number,
        event: ContactEvent {
            at,
            kind: kind.to_string(),
            detail: String::new(),
        },
    };
    let log = contact_log(
        vec![line(2, T0 + 20, "blocked"), line(1, T0 + 10, "ended")],
        &[attempt],
    );
    let kinds: Vec<&str> = log.iter().map(|event| event.kind.as_str()).collect();
    assert_eq!(kinds, ["ended", "dispatched", "blocked"]);
}

#[test]
fn a_contact_leaves_the_due_index_when_dialed_and_enters_it_again_when_retried() {
    let mut batch = dialing_batch();
    let created = ContactNumbering::new(&batch)
        .add(NewContact {
            contact_id: "c0".to_string(),
            phone: "+15550000000".to_string(),
            ..NewContact::default()
        })
        .expect("numbered");
    assert_eq!(
        created.contact.due_move(),
        DueMove {
            leaves: None,
            enters: Some(T0)
        }
    );
    let begun = begin_attempt(&batch, created.contact.new, &begin_request(T0)).expect("dialed");
    assert_eq!(
        begun.contact.due_move(),
        DueMove {
            leaves: Some(T0),
            enters: None
        }
    );
    let ended = end_attempt(
        &mut batch,
        begun.contact.new,
        Some(begun.attempt),
        &end_request(CallOutcome::Busy, ContactStatus::Retrying, T0 + 1),
    )
    .expect("ended");
    assert_eq!(
        ended.contact.due_move(),
        DueMove {
            leaves: None,
            enters: Some(T0 + 1 + 3_600_000)
        }
    );
    let mut blocked = ended.contact.new.clone();
    blocked.blocker = Some(Blocker::OutsideWindow);
    let unchanged = ContactChange {
        old: Some(ended.contact.new),
        new: blocked,
        log: Vec::new(),
    };
    assert_eq!(
        unchanged.due_move(),
        DueMove::default(),
        "a blocker moves nothing"
    );
}

#[test]
fn a_skip_for_a_blocking_list_or_a_gate_is_counted_beside_the_status() {
    let mut batch = dialing_batch();
    let contact = new_contact(&batch);
    let suppressed = skip(&mut batch, contact.clone(), "suppressed:dnc-internal", T0)
        .expect("a pending contact is skipped");
    assert_eq!(suppressed.counters.suppressed, 1);
    assert_eq!(suppressed.counters.gate_skipped, 0);
    let gated = skip(&mut batch, contact.clone(), "gate:quiet-hours", T0)
        .expect("a pending contact is skipped");
    assert_eq!(
        (gated.counters.suppressed, gated.counters.gate_skipped),
        (0, 1)
    );
    let by_hand = skip(&mut batch, contact, "operator", T0).expect("a pending contact is skipped");
    assert_eq!(
        (by_hand.counters.suppressed, by_hand.counters.gate_skipped),
        (0, 0)
    );
}

#[test]
fn an_end_that_suppresses_the_number_says_so_in_the_contact_log() {
    let mut batch = dialing_batch();
    let (contact, attempt) = live_contact(&batch);
    let mut end = end_request(
        CallOutcome::Answered,
        ContactStatus::Completed,
        T0 + MINUTE_MS,
    );
    end.key = AttemptKey::parse(&attempt.id).expect("an attempt id parses");
    end.suppress = Some(crate::store::SuppressionAdd {
        list: "dnc-internal".to_string(),
        reason: "asked not to be called".to_string(),
    });
    let change = end_attempt(&mut batch, contact, Some(attempt.clone()), &end).expect("ends");
    let line = change
        .contact
        .log
        .iter()
        .find(|line| line.event.kind == "suppressed")
        .expect("a suppressed line");
    assert_eq!(
        line.event.detail,
        format!(
            "+15550000000 added to suppression list \"dnc-internal\" by attempt {}: asked not to be called",
            attempt.id
        )
    );
}
