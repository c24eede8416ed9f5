//! Plugins that trap or run past their deadline in the middle of a batch:
//! the built-in policy stands in and is recorded on the attempt, N faults
//! in a row pause the batch, no contact fails because of it, and a resumed
//! batch finishes.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::*;
use crate::model::HOUR_MS;

/// A retry plugin that answers like the built-in one until it breaks, then
/// traps and runs past its deadline by turns.
struct BreakingRetry {
    broken: Arc<AtomicBool>,
    calls: AtomicU32,
    working: BuiltinRetry,
}

impl RetryPolicy for BreakingRetry {
    fn identity(&self) -> &str {
        "sha256:breaking"
    }

    fn decide(&self, request: &Arc<RetryRequest>) -> Result<Decision, PolicyFault> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if !self.broken.load(Ordering::SeqCst) {
            return self.working.decide(request);
        }
        let message = if call.is_multiple_of(2) {
            "wasm trap: unreachable"
        } else {
            "deadline of 50 ms exceeded"
        };
        Err(PolicyFault {
            plugin: "breaking".to_string(),
            message: message.to_string(),
        })
    }
}

#[tokio::test]
async fn plugin_faults_mid_batch_pause_it_lose_no_contact_and_a_resume_finishes_it() {
    const CONTACTS: usize = 40;
    let broken = Arc::new(AtomicBool::new(false));
    let mut policy = CampaignPolicy::builtin(spec(4, 10.0, 3));
    policy.retry = Arc::new(BreakingRetry {
        broken: broken.clone(),
        calls: AtomicU32::new(0),
        working: BuiltinRetry::default(),
    });
    let mut h = harness(
        policy,
        SimulationConfig {
            seed: 5,
            ..SimulationConfig::default()
        },
    );
    let batch = h.create(contacts(CONTACTS, us_phone, "UTC"));
    let ended = |h: &Harness| {
        (0..CONTACTS as u64)
            .flat_map(|seq| h.store.attempts(&batch, seq).expect("attempts"))
            .filter(|attempt| attempt.ended_at.is_some())
            .count()
    };
    h.run_until(T0 + HOUR_MS, SECOND_MS, |h| ended(h) >= 10)
        .await;

    // Mid-batch the plugin breaks: three faults in a row pause the batch.
    broken.store(true, Ordering::SeqCst);
    let paused = |h: &Harness| h.batch(&batch).status == BatchStatus::Paused;
    h.run_until(h.now + HOUR_MS, SECOND_MS, paused).await;
    let record = h.batch(&batch);
    assert_eq!(record.status, BatchStatus::Paused);
    assert_eq!(record.status_reason.as_deref(), Some("plugin_faulted"));
    // Live calls finish while it is paused; their ends fault too.
    h.run(h.now + 30 * MINUTE_MS, SECOND_MS).await;
    assert_eq!(h.engine.live_calls(), 0);
    let placed = h.provider.calls_placed();

    // The plugin is replaced (a trapped instance is dropped); resumed, the
    // batch finishes.
    broken.store(false, Ordering::SeqCst);
    control::resume(h.store.as_ref(), &batch, "ops", None, h.now).expect("resume");
    let done = |h: &Harness| h.batch(&batch).status == BatchStatus::Completed;
    h.run_until(h.now + 7 * DAY_MS, 5 * SECOND_MS, done).await;
    assert_eq!(h.batch(&batch).status, BatchStatus::Completed);
    assert!(
        h.provider.calls_placed() > placed,
        "dialing went on after the resume"
    );

    let contacts = h.all_contacts(&batch);
    assert_eq!(contacts.len(), CONTACTS);
    let attempts: Vec<Attempt> = (0..CONTACTS as u64)
        .flat_map(|seq| h.store.attempts(&batch, seq).expect("attempts"))
        .collect();
    let faulted: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.decision.as_ref().is_some_and(|d| !d.faults.is_empty()))
        .collect();
    assert!(faulted.len() >= 3, "{} faulted decisions", faulted.len());
    let mut kinds = HashSet::new();
    for attempt in &faulted {
        let decision = attempt.decision.as_ref().expect("decided");
        assert_eq!(
            decision.retry_plugin, "builtin:retry",
            "the fallback decided"
        );
        kinds.insert(decision.faults[0].clone());
    }
    assert_eq!(kinds.len(), 2, "traps and deadlines: {kinds:?}");
    for contact in &contacts {
        assert!(contact.status.is_final(), "{contact:?}");
        assert!(
            !contact
                .final_reason
                .as_deref()
                .is_some_and(|reason| reason.contains("fault") || reason.contains("plugin")),
            "no contact ends because of a plugin: {contact:?}"
        );
        assert!(contact.attempts_made <= 3);
    }
    let ids: HashSet<&str> = attempts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), attempts.len());
    for attempt in &attempts {
        assert!(attempt.ended_at.is_some());
        assert_eq!(
            h.provider.calls_placed_for(&attempt.id),
            1,
            "{}",
            attempt.id
        );
    }
    assert_eq!(h.provider.calls_placed() as usize, attempts.len());
    h.assert_counters_match_a_recount(&batch);
}
