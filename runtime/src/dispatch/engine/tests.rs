//! The engine in virtual time, against the simulated provider.

use std::sync::Arc;

use chrono::{TimeZone, Timelike};

use super::*;
use crate::dispatch::control;
use crate::model::{
    CallingWindow, FromNumber, MINUTE_MS, NumberStrategy, TimeZonePolicy, WindowRule,
};
use crate::phone::infer_from_phone;
use crate::provider::{BoxFuture, SimulatedProvider, SimulationConfig};
use crate::reporting::progress::effective_blocker;
use crate::store::{ContactQuery, Durability, NewBatch, NewContact, SledStore, StoreConfig};

/// Saturday 2024-03-09 00:00 UTC; US daylight saving starts the next day.
const T0: Millis = 1_709_942_400_000;

fn spec(concurrency: u32, cps: f64, max_attempts: u32) -> CampaignSpec {
    CampaignSpec {
        id: "camp".to_string(),
        workspace: "ws".to_string(),
        concurrency,
        calls_per_second: cps,
        max_attempts,
        max_followups: crate::model::DEFAULT_MAX_FOLLOWUPS,
        calling_window: CallingWindow::default(),
        time_zone_policy: TimeZonePolicy::Contact,
        default_time_zone: "UTC".to_string(),
        retry_plugin: "builtin".to_string(),
        retry_config: Vec::new(),
        classifier_plugin: "builtin".to_string(),
        classifier_config: Vec::new(),
        provider: "simulated".to_string(),
        provider_config: Vec::new(),
        allowed_hosts: Vec::new(),
        call_timeout_ms: 10 * MINUTE_MS,
        numbers: vec![FromNumber {
            number: "+15550100000".to_string(),
            weight: 1,
            enabled: true,
            rested_until: None,
        }],
        number_strategy: NumberStrategy::RoundRobin,
        budget_micros: None,
        goal: None,
        cost_per_minute_micros: None,
        variants: Vec::new(),
        max_consecutive_plugin_faults: 3,
        provider_secrets: Vec::new(),
        webhooks: Vec::new(),
        gate_plugin: None,
        gate_config: Vec::new(),
        suppress_on: vec!["do_not_call".to_string()],
        frequency_caps: Vec::new(),
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    store: Arc<SledStore>,
    provider: Arc<SimulatedProvider>,
    engine: Engine,
    now: Millis,
}

fn harness(policy: CampaignPolicy, provider: SimulationConfig) -> Harness {
    harness_with(policy, provider, |provider| provider)
}

fn harness_with(
    policy: CampaignPolicy,
    config: SimulationConfig,
    wrap: impl FnOnce(Arc<SimulatedProvider>) -> Arc<dyn Provider>,
) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store_config = StoreConfig::new(dir.path().join("db"));
    store_config.durability = Durability::Relaxed;
    store_config.cache_capacity_bytes = 8 * 1024 * 1024;
    let store = Arc::new(SledStore::open(&store_config).expect("store opens"));
    let provider = Arc::new(SimulatedProvider::new(config));
    let engine = Engine::new(
        store.clone(),
        wrap(provider.clone()),
        vec![policy],
        EngineOptions::default(),
        T0,
    )
    .expect("engine starts");
    Harness {
        _dir: dir,
        store,
        provider,
        engine,
        now: T0,
    }
}

fn contacts(count: usize, phone: impl Fn(usize) -> String, zone: &str) -> NewBatch {
    NewBatch {
        workspace: "ws".to_string(),
        campaign_id: "camp".to_string(),
        created_at: T0,
        created_by: "test".to_string(),
        contacts: (0..count)
            .map(|i| NewContact {
                contact_id: format!("c{i}"),
                phone: phone(i),
                time_zone: zone.to_string(),
                ..NewContact::default()
            })
            .collect(),
        ..NewBatch::default()
    }
}

fn us_phone(i: usize) -> String {
    format!("+1212555{:04}", i % 10_000)
}

impl Harness {
    fn create(&self, batch: NewBatch) -> String {
        self.store.create_batch(batch).expect("create").batch.id
    }

    /// Ticks every `step` ms until `until`, or until `stop` says so.
    async fn run_until(&mut self, until: Millis, step: Millis, stop: impl Fn(&Harness) -> bool) {
        while self.now < until {
            self.engine.tick(self.now).await.expect("tick");
            if stop(self) {
                return;
            }
            self.now += step;
        }
    }

    async fn run(&mut self, until: Millis, step: Millis) {
        self.run_until(until, step, |_| false).await;
    }

    fn batch(&self, id: &str) -> BatchRecord {
        self.store.batch(id).expect("read").expect("batch exists")
    }

    fn all_contacts(&self, batch: &str) -> Vec<ContactRecord> {
        self.store
            .list_contacts(&ContactQuery {
                batch_id: batch.to_string(),
                limit: 100_000,
                ..ContactQuery::default()
            })
            .expect("list")
            .items
    }

    fn assert_counters_match_a_recount(&self, batch: &str) {
        assert_eq!(
            self.store.batch_counters(batch).expect("counters"),
            self.store.recount(batch).expect("recount")
        );
    }
}

/// Wraps the simulator without its status polling, as a provider that
/// cannot be asked about a call.
struct NoPoll(Arc<SimulatedProvider>);

impl Provider for NoPoll {
    fn name(&self) -> &str {
        "no-poll"
    }

    fn place_call(
        &self,
        call: PlaceCall,
        now: Millis,
    ) -> BoxFuture<'_, Result<String, ProviderFailure>> {
        self.0.place_call(call, now)
    }

    fn drain_events(&self, now: Millis) -> Vec<ProviderEvent> {
        self.0.drain_events(now)
    }
}

/// A retry plugin that always faults.
struct FaultingRetry;

impl RetryPolicy for FaultingRetry {
    fn identity(&self) -> &str {
        "sha256:faulting"
    }

    fn decide(&self, _request: &Arc<RetryRequest>) -> Result<Decision, PolicyFault> {
        Err(PolicyFault {
            plugin: "faulting".to_string(),
            message: "wasm trap: unreachable".to_string(),
        })
    }
}

#[tokio::test]
async fn live_calls_never_exceed_the_concurrency_limit() {
    let mut h = harness(
        CampaignPolicy::builtin(spec(5, 50.0, 1)),
        SimulationConfig {
            seed: 1,
            ..SimulationConfig::default()
        },
    );
    let batch = h.create(contacts(120, us_phone, "America/New_York"));
    let done = |h: &Harness| h.batch(&batch).status == BatchStatus::Completed;
    h.run_until(T0 + 24 * 60 * MINUTE_MS, 500, done).await;
    assert_eq!(h.batch(&batch).status, BatchStatus::Completed);
    assert_eq!(
        h.provider.max_live_seen(),
        5,
        "the limit was reached, never passed"
    );
    assert_eq!(h.provider.calls_placed(), 120);
    h.assert_counters_match_a_recount(&batch);
    assert_eq!(h.store.batch_counters(&batch).expect("c").finished(), 120);
}

#[tokio::test]
async fn a_batch_concurrency_override_is_honoured_too() {
    let mut h = harness(
        CampaignPolicy::builtin(spec(10, 50.0, 1)),
        SimulationConfig {
            seed: 2,
            ..SimulationConfig::default()
        },
    );
    let mut request = contacts(40, us_phone, "America/New_York");
    request.concurrency = Some(2);
    let batch = h.create(request);
    let done = |h: &Harness| h.batch(&batch).status == BatchStatus::Completed;
    h.run_until(T0 + 24 * 60 * MINUTE_MS, 500, done).await;
    assert_eq!(h.provider.max_live_seen(), 2);
}

#[tokio::test]
async fn the_dial_rate_stays_within_one_percent_of_the_limit() {
    let mut h = harness(
        CampaignPolicy::builtin(spec(2_000, 5.0, 1)),
        SimulationConfig {
            seed: 3,
            ..SimulationConfig::default()
        },
    );
    h.create(contacts(3_000, us_phone, "America/New_York"));
    // Measure after the first burst has been spent.
    h.run(T0 + 20_000, 100).await;
    let before = h.provider.calls_placed();
    h.run(T0 + 220_000, 100).await;
    let placed = h.provider.calls_placed() - before;
    let expected = 5.0 * 200.0;
    let error = (placed as f64 - expected).abs() / expected;
    assert!(error <= 0.01, "{placed} calls in 200 s at 5 cps");
}

#[tokio::test]
async fn no_contact_is_dialed_outside_its_local_window_or_before_it_is_eligible() {
    let mut policy = spec(20, 20.0, 4);
    policy.calling_window = CallingWindow {
        rules: vec![WindowRule::Range {
            days: (0..7).collect(),
            start_minute: 9 * 60,
            end_minute: 17 * 60,
        }],
    };
    let mut policy = CampaignPolicy::builtin(policy);
    policy.retry = Arc::new(BuiltinRetry {
        delay_ms: 3 * 60 * MINUTE_MS,
    });
    let mut h = harness(
        policy,
        SimulationConfig {
            seed: 4,
            ..SimulationConfig::default()
        },
    );
    // One country, several zones: New York and Los Angeles numbers with no
    // zone of their own, plus contacts with an explicit zone.
    let new_york = infer_from_phone("+12125550000").expect("212 is New York");
    let los_angeles = infer_from_phone("+14155550000").expect("415 is California");
    assert_ne!(new_york, los_angeles);
    let phones = |i: usize| {
        if i.is_multiple_of(2) {
            format!("+1212555{i:04}")
        } else {
            format!("+1415555{i:04}")
        }
    };
    let inferred = h.create(contacts(60, phones, ""));
    let explicit = h.create(contacts(20, us_phone, "Europe/Berlin"));
    // Three days across the US daylight-saving change of 2024-03-10.
    h.run(T0 + 3 * 24 * 60 * MINUTE_MS, 2_000).await;

    let mut attempts = 0;
    for (batch, zone_of) in [
        (
            &inferred,
            &(|c: &ContactRecord| infer_from_phone(&c.phone).expect("inferable"))
                as &dyn Fn(&ContactRecord) -> Tz,
        ),
        (&explicit, &|_: &ContactRecord| chrono_tz::Europe::Berlin),
    ] {
        h.assert_counters_match_a_recount(batch);
        for contact in h.all_contacts(batch) {
            let zone = zone_of(&contact);
            let history = h.store.attempts(batch, contact.seq).expect("attempts");
            let mut eligible_at = Millis::MIN;
            for attempt in &history {
                let local = zone
                    .timestamp_millis_opt(attempt.started_at)
                    .single()
                    .expect("valid");
                assert!(
                    (9..17).contains(&local.hour()),
                    "attempt {} at {local} is outside 09:00-17:00",
                    attempt.id
                );
                assert!(
                    attempt.started_at >= eligible_at,
                    "attempt {} dialed early",
                    attempt.id
                );
                eligible_at = match attempt.decision.as_ref().map(|d| &d.decision) {
                    Some(Decision::RetryAt { at } | Decision::FollowUpAt { at }) => *at,
                    _ => Millis::MAX,
                };
                attempts += 1;
            }
        }
    }
    assert!(
        attempts > 100,
        "the run dialed and retried: {attempts} attempts"
    );
}

#[tokio::test]
async fn pausing_a_batch_stops_new_dials_but_lets_live_calls_finish() {
    let mut h = harness(
        CampaignPolicy::builtin(spec(3, 10.0, 1)),
        SimulationConfig {
            seed: 5,
            ..SimulationConfig::default()
        },
    );
    let batch = h.create(contacts(50, us_phone, "America/New_York"));
    h.run_until(T0 + MINUTE_MS, 200, |h| h.engine.live_calls() == 3)
        .await;
    control::pause(h.store.as_ref(), &batch, "operator", None, h.now).expect("pause");
    let placed = h.provider.calls_placed();
    let until = h.now + 30 * MINUTE_MS;
    h.run(until, 1_000).await;
    assert_eq!(h.provider.calls_placed(), placed, "no dial after the pause");
    assert_eq!(h.engine.live_calls(), 0, "the live calls finished");
    let record = h.batch(&batch);
    assert_eq!(record.status, BatchStatus::Paused);
    let waiting = h
        .all_contacts(&batch)
        .into_iter()
        .find(|c| c.status.is_waiting());
    let waiting = waiting.expect("some contacts still wait");
    assert_eq!(
        effective_blocker(&record, &waiting, h.now),
        Some(Blocker::BatchPaused)
    );

    control::resume(h.store.as_ref(), &batch, "operator", None, h.now).expect("resume");
    let until = h.now + 5 * MINUTE_MS;
    h.run(until, 1_000).await;
    assert!(h.provider.calls_placed() > placed, "dialing resumed");
    h.assert_counters_match_a_recount(&batch);
}

#[tokio::test]
async fn cancelling_a_batch_skips_the_waiting_and_never_dials_again() {
    let mut h = harness(
        CampaignPolicy::builtin(spec(4, 10.0, 3)),
        SimulationConfig {
            seed: 6,
            ..SimulationConfig::default()
        },
    );
    let batch = h.create(contacts(40, us_phone, "America/New_York"));
    h.run_until(T0 + MINUTE_MS, 200, |h| h.engine.live_calls() == 4)
        .await;
    control::cancel(h.store.as_ref(), &batch, "operator", None, h.now).expect("cancel");
    let placed = h.provider.calls_placed();
    let until = h.now + 30 * MINUTE_MS;
    h.run(until, 1_000).await;
    assert_eq!(h.provider.calls_placed(), placed);
    assert_eq!(h.batch(&batch).status, BatchStatus::Cancelled);
    let contacts = h.all_contacts(&batch);
    assert!(
        contacts.iter().all(|c| c.status.is_final()),
        "every contact is final"
    );
    assert_eq!(
        contacts
            .iter()
            .filter(|c| c.status == ContactStatus::Skipped)
            .count(),
        36
    );
    h.assert_counters_match_a_recount(&batch);
}

#[tokio::test]
async fn a_faulting_retry_plugin_falls_back_and_pauses_the_batch_after_n_faults() {
    let mut policy = CampaignPolicy::builtin(spec(1, 10.0, 3));
    policy.retry = Arc::new(FaultingRetry);
    let mut h = harness(
        policy,
        SimulationConfig {
            seed: 7,
            ..SimulationConfig::default()
        },
    );
    let batch = h.create(contacts(10, us_phone, "America/New_York"));
    let paused = |h: &Harness| h.batch(&batch).status == BatchStatus::Paused;
    h.run_until(T0 + 60 * MINUTE_MS, 500, paused).await;
    let record = h.batch(&batch);
    assert_eq!(record.status, BatchStatus::Paused);
    assert_eq!(record.status_reason.as_deref(), Some("plugin_faulted"));
    let ended: Vec<Attempt> = (0..10)
        .flat_map(|seq| h.store.attempts(&batch, seq).expect("attempts"))
        .filter(|attempt| attempt.ended_at.is_some())
        .collect();
    assert_eq!(
        ended.len(),
        3,
        "one attempt at a time until the third fault"
    );
    for attempt in &ended {
        let decision = attempt.decision.as_ref().expect("decided");
        assert_eq!(decision.retry_plugin, "builtin:retry");
        assert_eq!(
            decision.faults,
            vec!["faulting: wasm trap: unreachable".to_string()]
        );
    }
    let waiting = h
        .all_contacts(&batch)
        .into_iter()
        .find(|c| c.status.is_waiting());
    let waiting = waiting.expect("contacts wait");
    assert_eq!(
        effective_blocker(&record, &waiting, h.now),
        Some(Blocker::PluginFaulted)
    );
}

#[tokio::test]
async fn a_lost_final_event_ends_the_attempt_as_failed_and_frees_the_slot() {
    let mut campaign = spec(1, 10.0, 1);
    campaign.call_timeout_ms = 5 * MINUTE_MS;
    let mut h = harness_with(
        CampaignPolicy::builtin(campaign),
        SimulationConfig {
            seed: 8,
            lost_final_event_rate: 1.0,
            ..SimulationConfig::default()
        },
        |provider| Arc::new(NoPoll(provider)),
    );
    let batch = h.create(contacts(2, us_phone, "America/New_York"));
    h.run(T0 + 20 * MINUTE_MS, 1_000).await;
    assert_eq!(
        h.provider.calls_placed(),
        2,
        "the slot came back for the second call"
    );
    for contact in h.all_contacts(&batch) {
        assert_eq!(contact.status, ContactStatus::Failed);
        assert_eq!(contact.final_reason.as_deref(), Some("lost_final_event"));
        let attempts = h.store.attempts(&batch, contact.seq).expect("attempts");
        assert_eq!(attempts[0].outcome, Some(CallOutcome::Failed));
    }
    assert_eq!(h.engine.live_calls(), 0);
    assert!(h.store.live_attempts().expect("live").is_empty());
    assert_eq!(h.batch(&batch).status, BatchStatus::Completed);
}

#[tokio::test]
async fn an_overdue_call_is_asked_about_before_it_is_given_up() {
    let mut campaign = spec(1, 10.0, 1);
    campaign.call_timeout_ms = 5 * MINUTE_MS;
    let mut h = harness(
        CampaignPolicy::builtin(campaign),
        SimulationConfig {
            seed: 9,
            lost_final_event_rate: 1.0,
            ..SimulationConfig::default()
        },
    );
    let batch = h.create(contacts(1, us_phone, "America/New_York"));
    h.run(T0 + 20 * MINUTE_MS, 1_000).await;
    let attempts = h.store.attempts(&batch, 0).expect("attempts");
    assert_eq!(attempts.len(), 1);
    assert!(
        attempts[0]
            .metadata
            .iter()
            .all(|(_, value)| value != "lost_final_event"),
        "the poll found the real end: {:?}",
        attempts[0]
    );
}

#[tokio::test]
async fn a_restart_ends_interrupted_attempts_and_retries_under_a_new_id() {
    let mut h = harness_with(
        CampaignPolicy::builtin(spec(2, 10.0, 3)),
        SimulationConfig {
            seed: 10,
            ..SimulationConfig::default()
        },
        |provider| Arc::new(NoPoll(provider)),
    );
    let batch = h.create(contacts(2, us_phone, "America/New_York"));
    h.run_until(T0 + MINUTE_MS, 100, |h| h.engine.live_calls() == 2)
        .await;
    let interrupted: Vec<String> = h
        .store
        .live_attempts()
        .expect("live")
        .into_iter()
        .map(|live| live.attempt_id)
        .collect();
    assert_eq!(interrupted.len(), 2);

    // A new engine over the same store, as after a crash.
    let mut engine = Engine::new(
        h.store.clone(),
        Arc::new(NoPoll(h.provider.clone())),
        vec![CampaignPolicy::builtin(spec(2, 10.0, 3))],
        EngineOptions::default(),
        h.now,
    )
    .expect("engine starts");
    assert_eq!(engine.recover(h.now).await.expect("recover"), 2);
    assert!(h.store.live_attempts().expect("live").is_empty());
    for id in &interrupted {
        let key = AttemptKey::parse(id).expect("parses");
        let attempt = &h.store.attempts(&batch, key.seq).expect("attempts")[0];
        assert_eq!(attempt.outcome, Some(CallOutcome::Unknown));
        assert!(
            attempt
                .metadata
                .contains(&("reason".to_string(), "interrupted".to_string()))
        );
    }
    // Force the retries due and let the new engine dial them.
    control::force_dispatch(h.store.as_ref(), &batch, "operator", None, h.now).expect("force");
    h.engine = engine;
    let until = h.now + 10_000;
    h.run(until, 100).await;
    for id in &interrupted {
        assert_eq!(
            h.provider.calls_placed_for(id),
            1,
            "never redialed under {id}"
        );
    }
    assert_eq!(
        h.provider.calls_placed(),
        4,
        "each contact retried under a new id"
    );
    h.assert_counters_match_a_recount(&batch);
}

/// A campaign dialing one call at a time with a 5-minute call timeout, and
/// a harness for it.
fn a_campaign_with_a_five_minute_call_timeout() -> (CampaignSpec, Harness) {
    let mut campaign = spec(1, 10.0, 3);
    campaign.call_timeout_ms = 5 * MINUTE_MS;
    let h = harness(
        CampaignPolicy::builtin(campaign.clone()),
        SimulationConfig {
            seed: 11,
            ..SimulationConfig::default()
        },
    );
    (campaign, h)
}

/// A batch of one contact whose dial intent is durable and whose call
/// id was never written: as a process leaves it that died while the
/// provider was being asked.
fn intent_without_call_id(h: &Harness) -> (String, Attempt) {
    let batch = h.create(contacts(1, us_phone, "America/New_York"));
    h.store
        .set_batch_status(crate::store::StatusChange {
            batch_id: batch.clone(),
            to: BatchStatus::InProgress,
            reason: None,
            by: "dispatcher".to_string(),
            at: h.now,
            only_from: Vec::new(),
        })
        .expect("the batch starts");
    let attempt = h
        .store
        .begin_attempts(vec![crate::store::BeginAttempt {
            batch_id: batch.clone(),
            seq: 0,
            at: h.now,
            from_number: None,
            variant: None,
            followup: false,
            gate: None,
        }])
        .expect("group")
        .remove(0)
        .expect("the intent is durable");
    (batch, attempt)
}

/// A new engine on the harness's store, as a restarted process builds it;
/// its provider cannot be asked about calls.
fn restarted(h: &Harness, campaign: &CampaignSpec) -> Engine {
    restarted_with(h, campaign, Arc::new(NoPoll(h.provider.clone())))
}

/// A new engine on the harness's store dialing through `provider`.
fn restarted_with(h: &Harness, campaign: &CampaignSpec, provider: Arc<dyn Provider>) -> Engine {
    Engine::new(
        h.store.clone(),
        provider,
        vec![CampaignPolicy::builtin(campaign.clone())],
        EngineOptions::default(),
        h.now,
    )
    .expect("engine starts")
}

#[tokio::test]
async fn a_restart_waits_for_a_call_whose_provider_id_was_never_recorded() {
    // The process died after making the dial intent durable and asking the
    // provider, before the provider's call id was written: the provider may
    // have the call, so ending it now and retrying could ring the person
    // twice. It is kept live for its callbacks until the call timeout.
    let (campaign, mut h) = a_campaign_with_a_five_minute_call_timeout();
    let (batch, attempt) = intent_without_call_id(&h);

    let mut engine = restarted(&h, &campaign);
    assert_eq!(
        engine.recover(h.now).await.expect("recover"),
        0,
        "nothing ended"
    );
    assert_eq!(engine.live_calls(), 1, "the call keeps its slot");
    let contact = h.store.contact(&batch, 0).expect("read").expect("contact");
    assert!(contact.status.is_live(), "{:?}", contact.status);

    h.engine = engine;
    h.run(h.now + 4 * MINUTE_MS, 1_000).await;
    assert_eq!(
        h.store.live_attempts().expect("live").len(),
        1,
        "still waiting within the call timeout"
    );
    assert_eq!(
        h.provider.calls_placed(),
        0,
        "the contact is not dialed again meanwhile"
    );
    h.run(h.now + 2 * MINUTE_MS, 1_000).await;
    let ended = &h.store.attempts(&batch, 0).expect("attempts")[0];
    assert_eq!(ended.id, attempt.id);
    assert!(ended.ended_at.is_some(), "ended after the call timeout");
    assert!(
        !ended
            .metadata
            .contains(&("reason".to_string(), "interrupted".to_string())),
        "{ended:?}"
    );
    h.assert_counters_match_a_recount(&batch);
}

#[tokio::test]
async fn a_call_whose_provider_id_was_never_recorded_times_out_from_its_placement_across_restarts()
{
    // Each restart used to give the call a whole timeout again: a server
    // restarted more often than that never freed the slots of such calls,
    // and with as many of them as the campaign's concurrency it dialed
    // nothing at all.
    let (campaign, mut h) = a_campaign_with_a_five_minute_call_timeout();
    let placed_at = h.now;
    let (batch, attempt) = intent_without_call_id(&h);
    for restart_at in [placed_at + 2 * MINUTE_MS, placed_at + 4 * MINUTE_MS] {
        h.now = restart_at;
        h.engine = restarted(&h, &campaign);
        h.engine.recover(h.now).await.expect("recover");
        assert_eq!(h.engine.live_calls(), 1, "waiting within the call timeout");
    }

    h.run(placed_at + 5 * MINUTE_MS + 2_000, 1_000).await;
    let ended = &h.store.attempts(&batch, 0).expect("attempts")[0];
    assert_eq!(ended.id, attempt.id);
    assert!(
        ended
            .ended_at
            .is_some_and(|at| at <= placed_at + 5 * MINUTE_MS + 2_000),
        "ended at the call timeout from its placement: {ended:?}"
    );
    assert_eq!(ended.outcome, Some(CallOutcome::Unknown));
    h.assert_counters_match_a_recount(&batch);
}

/// `made` of `max` attempts, no follow-up made of the default one.
fn tally_of(made: u32, max: u32) -> Tally {
    Tally {
        attempts_made: made,
        max_attempts: max,
        followups_made: 0,
        max_followups: crate::model::DEFAULT_MAX_FOLLOWUPS,
    }
}

#[test]
fn a_retry_is_moved_to_the_next_window_opening_and_held_to_the_attempt_limit() {
    let window = CompiledWindow::new(&CallingWindow {
        rules: vec![WindowRule::Range {
            days: (0..7).collect(),
            start_minute: 9 * 60,
            end_minute: 17 * 60,
        }],
    })
    .expect("valid window");
    let zone = chrono_tz::UTC;
    let evening = T0 + 20 * 60 * MINUTE_MS;
    let (decision, adjusted) = clamp(
        Decision::RetryAt { at: evening },
        &window,
        zone,
        None,
        &tally_of(1, 3),
        T0,
    );
    assert_eq!(
        decision,
        Decision::RetryAt {
            at: T0 + 24 * 60 * MINUTE_MS + 9 * 60 * MINUTE_MS
        }
    );
    assert!(adjusted.is_some());
    let (decision, _) = clamp(
        Decision::RetryAt { at: evening },
        &window,
        zone,
        None,
        &tally_of(3, 3),
        T0,
    );
    assert!(matches!(decision, Decision::GiveUp { .. }));
    let (decision, _) = clamp(
        Decision::RetryAt {
            at: T0 + 10 * 60 * MINUTE_MS,
        },
        &window,
        zone,
        Some(T0 + 10 * 60 * MINUTE_MS),
        &tally_of(1, 3),
        T0,
    );
    assert!(
        matches!(decision, Decision::GiveUp { .. }),
        "after the end window"
    );
}

mod batch_overrides;
mod compliance;
mod event_faults;
mod followups;
mod gates;
mod leases;
mod placement;
mod plugin_faults;
mod policy;
mod store_faults;
