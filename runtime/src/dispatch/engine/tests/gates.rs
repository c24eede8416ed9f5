//! A dial gate decides right before each dial: what it allows is dialed
//! with its sha256 on the attempt, what it defers waits, what it skips is
//! never dialed, and a gate that faults lets nothing through.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::model::HOUR_MS;
use crate::policy::{GateCandidate, GateVerdict};

const GATE_SHA: &str = "sha256:rules";

/// Skips numbers ending in 0, 3, 6 or 9; defers those ending in 1, 4 or
/// 7 for the first half hour; allows the rest. Keeps what it was handed.
#[derive(Default)]
struct RuleGate {
    handed: Mutex<Vec<GateCandidate>>,
    calls: AtomicU32,
}

fn last_digit(phone: &str) -> u32 {
    phone
        .chars()
        .last()
        .and_then(|digit| digit.to_digit(10))
        .unwrap_or(0)
}

impl DialGate for Arc<RuleGate> {
    fn identity(&self) -> &str {
        GATE_SHA
    }

    fn check(&self, candidates: &[GateCandidate]) -> Result<Vec<GateVerdict>, PolicyFault> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.handed
            .lock()
            .expect("not poisoned")
            .extend_from_slice(candidates);
        Ok(candidates
            .iter()
            .map(|candidate| match last_digit(&candidate.contact.phone) % 3 {
                0 => GateVerdict::Skip {
                    reason: "no consent".to_string(),
                },
                1 if candidate.now < T0 + 30 * MINUTE_MS => GateVerdict::Defer {
                    until: T0 + HOUR_MS,
                    reason: "too early for this state".to_string(),
                },
                _ => GateVerdict::Allow,
            })
            .collect())
    }
}

#[tokio::test]
async fn only_the_dials_a_gate_allows_reach_the_provider() {
    const CONTACTS: usize = 30;
    let gate = Arc::new(RuleGate::default());
    let policy = CampaignPolicy::builtin(spec(5, 10.0, 1)).with_gate(gate.clone());
    let mut h = harness(policy, SimulationConfig::default());
    let batch = h.create(contacts(CONTACTS, us_phone, "America/Chicago"));
    h.run(T0 + 3 * HOUR_MS, 10 * SECOND_MS).await;

    let mut dialed = 0;
    for contact in h.all_contacts(&batch) {
        let attempts = h.store.attempts(&batch, contact.seq).expect("attempts");
        let digit = last_digit(&contact.phone) % 3;
        if digit == 0 {
            assert!(attempts.is_empty(), "{} was dialed", contact.phone);
            assert_eq!(contact.status, ContactStatus::Skipped);
            assert_eq!(contact.final_reason.as_deref(), Some("gate: no consent"));
            let detail = h
                .store
                .contact_detail(&batch, contact.seq)
                .expect("read")
                .expect("contact exists");
            assert!(
                detail.events.iter().any(|event| event.kind == "gate"
                    && event.detail == format!("gate {GATE_SHA} skipped: no consent")),
                "the skip and the gate's identity are on the contact's log: {:?}",
                detail.events
            );
            continue;
        }
        assert_eq!(attempts.len(), 1, "{} is dialed once", contact.phone);
        let attempt = &attempts[0];
        assert_eq!(attempt.gate.as_deref(), Some(GATE_SHA));
        if digit == 1 {
            assert!(
                attempt.started_at >= T0 + HOUR_MS,
                "a deferred dial waits until the gate's time"
            );
        }
        dialed += 1;
        assert_eq!(h.provider.calls_placed_for(&attempt.id), 1);
    }
    assert_eq!(h.provider.calls_placed(), dialed);
    assert_eq!(
        dialed, 18,
        "digits 1, 2, 4, 5, 7 and 8 of each ten are dialed"
    );

    let handed = gate.handed.lock().expect("not poisoned");
    let first = &handed[0];
    assert_eq!(first.campaign_id, "camp");
    assert_eq!(first.batch_id, batch);
    assert_eq!(first.attempt_number, 1);
    // T0 is midnight UTC: 18:00 the day before in Chicago.
    assert_eq!(
        (first.now_local.hour, first.now_local.day),
        (18, 8),
        "the gate is handed the contact's local time"
    );
    h.assert_counters_match_a_recount(&batch);
}

#[tokio::test]
async fn a_deferred_contact_waits_with_the_gate_deferred_blocker() {
    let gate = Arc::new(RuleGate::default());
    let policy = CampaignPolicy::builtin(spec(5, 10.0, 1)).with_gate(gate);
    let mut h = harness(policy, SimulationConfig::default());
    // Contact 1's number ends in 1: deferred for the first half hour.
    let batch = h.create(contacts(2, us_phone, "UTC"));
    h.run(T0 + 5 * MINUTE_MS, 10 * SECOND_MS).await;
    let deferred = h.store.contact(&batch, 1).expect("read").expect("exists");
    assert_eq!(deferred.blocker, Some(Blocker::GateDeferred));
    assert_eq!(deferred.next_eligible_at, Some(T0 + HOUR_MS));
    assert_eq!(
        deferred.blocker_reason.as_deref(),
        Some("too early for this state")
    );
    assert_eq!(deferred.status, ContactStatus::Pending);
    h.assert_counters_match_a_recount(&batch);

    let health =
        crate::reporting::health::queue_health(h.store.as_ref(), &spec(5, 10.0, 1), &batch, h.now)
            .expect("queue health");
    assert_eq!(health.compliance.gate_deferred, 1);
    assert_eq!(
        health.compliance.gate_deferred_reasons,
        vec![crate::reporting::health::ReasonCount {
            reason: "too early for this state".to_string(),
            count: 1,
        }]
    );
}

/// A gate that faults on every call, or answers too few verdicts.
struct BrokenGate {
    short: bool,
    calls: AtomicU32,
}

impl DialGate for Arc<BrokenGate> {
    fn identity(&self) -> &str {
        "sha256:broken"
    }

    fn check(&self, candidates: &[GateCandidate]) -> Result<Vec<GateVerdict>, PolicyFault> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.short {
            return Ok(vec![GateVerdict::Allow; candidates.len().saturating_sub(1)]);
        }
        Err(PolicyFault {
            plugin: "broken".to_string(),
            message: "wasm trap: unreachable".to_string(),
        })
    }
}

async fn run_with_broken_gate(short: bool) {
    let gate = Arc::new(BrokenGate {
        short,
        calls: AtomicU32::new(0),
    });
    let policy = CampaignPolicy::builtin(spec(5, 10.0, 3)).with_gate(gate.clone());
    let mut h = harness(policy, SimulationConfig::default());
    let batch = h.create(contacts(12, us_phone, "UTC"));
    let paused = |h: &Harness| h.batch(&batch).status == BatchStatus::Paused;
    h.run_until(T0 + 2 * HOUR_MS, 10 * SECOND_MS, paused).await;

    assert_eq!(
        h.provider.calls_placed(),
        0,
        "a broken gate lets no call through"
    );
    let record = h.batch(&batch);
    assert_eq!(record.status, BatchStatus::Paused);
    assert_eq!(record.status_reason.as_deref(), Some("plugin_faulted"));
    // max_consecutive_plugin_faults is 3: the third faulted call pauses.
    assert_eq!(gate.calls.load(Ordering::SeqCst), 3);
    for contact in h.all_contacts(&batch) {
        assert_eq!(contact.status, ContactStatus::Pending);
        assert_eq!(contact.attempt_records, 0);
    }
    let counters = h.store.batch_counters(&batch).expect("counters");
    assert!(
        counters.plugin_faults > 0,
        "gate faults count as plugin faults"
    );
    h.assert_counters_match_a_recount(&batch);
}

#[tokio::test]
async fn a_gate_that_faults_dials_nothing_and_pauses_the_batch_after_n_calls() {
    run_with_broken_gate(false).await;
}

#[tokio::test]
async fn a_gate_that_answers_too_few_verdicts_dials_nothing() {
    run_with_broken_gate(true).await;
}
