//! Campaign policy in virtual time: number pools, budgets, goals, A/B
//! variants, and statistics that equal a recount from the attempts.

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::dispatch::limits::assign_variant;
use crate::dispatch::numbers::country_of;
use crate::model::{Goal, Variant};
use crate::policy::{ClassifyRequest, PolicyFault};
use crate::provider::simulated::OutcomeMix;
use crate::reporting::health::queue_health;
use crate::reporting::statistics::{batch_statistics, campaign_statistics};
use crate::store::{
    AttemptTotals, DialTotals, LabelCount, MAX_DIAL_SLOTS, MinuteTotals, NumberState, NumberTotals,
    VariantTotals, is_failure, minute_of, sentiment_micros,
};

const US_A: &str = "+14155550100";
const US_B: &str = "+14155550101";
const GB: &str = "+442071234567";

fn pool(numbers: &[(&str, u32)]) -> Vec<FromNumber> {
    numbers
        .iter()
        .map(|(number, weight)| FromNumber {
            number: number.to_string(),
            weight: *weight,
            enabled: true,
            rested_until: None,
        })
        .collect()
}

fn sim(seed: u64) -> SimulationConfig {
    SimulationConfig {
        seed,
        ..SimulationConfig::default()
    }
}

/// Every ended attempt of a batch, contact by contact, oldest first.
fn attempts_of(h: &Harness, batch: &str) -> Vec<Vec<Attempt>> {
    h.all_contacts(batch)
        .iter()
        .map(|contact| h.store.attempts(batch, contact.seq).expect("attempts"))
        .collect()
}

/// Labels by outcome and talk time, with a sentiment, and a fault on some
/// calls so the fallback path is counted too.
struct TalkClassifier;

impl Classifier for TalkClassifier {
    fn identity(&self) -> &str {
        "sha256:talk"
    }

    fn classify(&self, request: &Arc<ClassifyRequest>) -> Result<Disposition, PolicyFault> {
        let attempt = &request.attempt;
        if attempt.talk_ms % 11 == 3 {
            return Err(PolicyFault {
                plugin: "talk".to_string(),
                message: "wasm trap: unreachable".to_string(),
            });
        }
        let answered = attempt.outcome == Some(CallOutcome::Answered);
        let (label, terminal) = match attempt.outcome {
            Some(CallOutcome::Answered) if attempt.talk_ms >= 75_000 => ("interested", true),
            Some(CallOutcome::Answered) => ("not_interested", false),
            Some(CallOutcome::Busy) => ("busy", false),
            Some(CallOutcome::NoAnswer) => ("no_answer", false),
            _ => ("failed", false),
        };
        Ok(Disposition {
            label: label.to_string(),
            terminal,
            score: None,
            sentiment: answered.then(|| (attempt.talk_ms % 2_001) as f32 / 1_000.0 - 1.0),
            follow_up_at: None,
        })
    }
}

#[tokio::test]
async fn sticky_retries_keep_the_number_of_the_first_attempt() {
    let mut campaign = spec(6, 20.0, 4);
    campaign.numbers = pool(&[(US_A, 1), (US_B, 1), (GB, 1)]);
    campaign.number_strategy = NumberStrategy::Sticky;
    let mut policy = CampaignPolicy::builtin(campaign);
    policy.retry = Arc::new(BuiltinRetry {
        delay_ms: MINUTE_MS,
    });
    let mut config = sim(21);
    config.outcomes.human = 0;
    config.outcomes.voicemail = 0;
    config.outcomes.call_screening = 0;
    let mut h = harness(policy, config);
    let batch = h.create(contacts(30, us_phone, "America/New_York"));
    let done = |h: &Harness| h.batch(&batch).status == BatchStatus::Completed;
    h.run_until(T0 + 6 * 60 * MINUTE_MS, 1_000, done).await;

    let mut retried = 0;
    let mut first_numbers = Vec::new();
    for history in attempts_of(&h, &batch) {
        let first = history[0].from_number.clone().expect("a pool number");
        first_numbers.push(first.clone());
        for attempt in &history[1..] {
            retried += 1;
            assert_eq!(attempt.from_number.as_ref(), Some(&first), "{}", attempt.id);
        }
    }
    assert!(retried >= 60, "contacts were retried: {retried}");
    for number in [US_A, US_B, GB] {
        assert!(
            first_numbers.iter().any(|n| n == number),
            "first dials rotate through the pool"
        );
    }
}

#[tokio::test]
async fn same_country_never_crosses_a_border_while_a_local_number_is_usable() {
    let mut campaign = spec(10, 50.0, 1);
    campaign.numbers = pool(&[(US_A, 1), (GB, 1), (US_B, 1)]);
    campaign.number_strategy = NumberStrategy::SameCountry;
    let mut h = harness(CampaignPolicy::builtin(campaign), sim(22));
    let phones = |i: usize| match i % 3 {
        0 => format!("+1212555{i:04}"),
        1 => format!("+4420794{i:05}"),
        _ => format!("+3314268{i:04}"),
    };
    let batch = h.create(contacts(60, phones, "UTC"));
    let done = |h: &Harness| h.batch(&batch).status == BatchStatus::Completed;
    h.run_until(T0 + 2 * 60 * MINUTE_MS, 1_000, done).await;
    assert_eq!(h.batch(&batch).status, BatchStatus::Completed);

    let mut french_from = Vec::new();
    for (contact, history) in h.all_contacts(&batch).iter().zip(attempts_of(&h, &batch)) {
        let to = country_of(&contact.phone).expect("valid number");
        for attempt in history {
            let from = attempt.from_number.expect("a pool number");
            match to.region.as_deref() {
                Some("US") => assert!(
                    from == US_A || from == US_B,
                    "{} from {from}",
                    contact.phone
                ),
                Some("GB") => assert_eq!(from, GB, "{}", contact.phone),
                _ => french_from.push(from),
            }
        }
    }
    assert_eq!(french_from.len(), 20, "no local number: any usable one");
}

#[tokio::test]
async fn weighted_numbers_carry_their_share_of_the_calls() {
    let mut campaign = spec(20, 50.0, 1);
    campaign.numbers = pool(&[(US_A, 3), (US_B, 1)]);
    campaign.number_strategy = NumberStrategy::Weighted;
    let mut h = harness(CampaignPolicy::builtin(campaign), sim(23));
    let batch = h.create(contacts(200, us_phone, "UTC"));
    let done = |h: &Harness| h.batch(&batch).status == BatchStatus::Completed;
    h.run_until(T0 + 2 * 60 * MINUTE_MS, 1_000, done).await;
    let from_a = attempts_of(&h, &batch)
        .into_iter()
        .flatten()
        .filter(|attempt| attempt.from_number.as_deref() == Some(US_A))
        .count();
    assert_eq!(from_a, 150, "3 of every 4 calls");
}

#[tokio::test]
async fn a_batch_pool_replaces_the_campaigns_and_round_robin_alternates() {
    let mut campaign = spec(1, 50.0, 1);
    campaign.numbers = pool(&[(GB, 1)]);
    let mut h = harness(CampaignPolicy::builtin(campaign), sim(24));
    let mut request = contacts(10, us_phone, "UTC");
    request.numbers = Some(pool(&[(US_A, 1), (US_B, 1)]));
    request.number_strategy = Some(NumberStrategy::RoundRobin);
    let batch = h.create(request);
    let done = |h: &Harness| h.batch(&batch).status == BatchStatus::Completed;
    h.run_until(T0 + 60 * MINUTE_MS, 1_000, done).await;
    let mut attempts: Vec<Attempt> = attempts_of(&h, &batch).into_iter().flatten().collect();
    attempts.sort_by_key(|attempt| attempt.started_at);
    let used: Vec<&str> = attempts
        .iter()
        .map(|attempt| attempt.from_number.as_deref().expect("numbered"))
        .collect();
    assert_eq!(used.len(), 10);
    for pair in used.chunks(2) {
        assert_eq!(pair, [US_A, US_B]);
    }
}

#[tokio::test]
async fn with_every_number_disabled_or_resting_contacts_wait_with_no_number_available() {
    let mut campaign = spec(5, 50.0, 1);
    campaign.numbers = pool(&[(US_A, 1), (US_B, 1)]);
    let mut h = harness(CampaignPolicy::builtin(campaign.clone()), sim(25));
    let rest_end = T0 + 10 * MINUTE_MS;
    h.store
        .set_number_state(
            "ws",
            "camp",
            US_A,
            NumberState {
                enabled: false,
                rested_until: None,
            },
        )
        .expect("disable");
    h.store
        .set_number_state(
            "ws",
            "camp",
            US_B,
            NumberState {
                enabled: true,
                rested_until: Some(rest_end),
            },
        )
        .expect("rest");
    let batch = h.create(contacts(8, us_phone, "UTC"));
    h.run(T0 + 5 * MINUTE_MS, 1_000).await;
    assert_eq!(h.provider.calls_placed(), 0);
    let counters = h.store.batch_counters(&batch).expect("counters");
    assert_eq!(counters.blocker(Blocker::NoNumberAvailable), 8);
    let health = queue_health(h.store.as_ref(), &campaign, &batch, h.now).expect("health");
    assert_eq!(health.batch_blocker, Some(Blocker::NoNumberAvailable));
    assert_eq!(health.numbers.usable, 0);
    assert!(!health.dialing);

    // The rested number comes back by itself, and only it is used.
    h.run(T0 + 30 * MINUTE_MS, 1_000).await;
    assert_eq!(h.provider.calls_placed(), 8);
    for attempt in attempts_of(&h, &batch).into_iter().flatten() {
        assert!(attempt.started_at >= rest_end);
        assert_eq!(attempt.from_number.as_deref(), Some(US_B));
    }
}

#[tokio::test]
async fn a_spent_budget_stops_new_dials_and_lets_live_calls_finish() {
    let mut campaign = spec(8, 8.0, 1);
    // About 15 answered calls' worth at the simulator's price.
    campaign.budget_micros = Some(300_000);
    let mut h = harness(CampaignPolicy::builtin(campaign.clone()), sim(26));
    let batch = h.create(contacts(200, us_phone, "UTC"));
    let mut live_when_spent = None;
    while h.now < T0 + 60 * MINUTE_MS {
        let spent_before = h.store.batch_counters(&batch).expect("c").cost_micros;
        let report = h.engine.tick(h.now).await.expect("tick");
        if spent_before >= 300_000 {
            assert_eq!(report.dialed, 0, "a dial after the budget was spent");
            live_when_spent.get_or_insert(h.engine.live_calls());
        }
        h.now += 500;
    }
    let live_when_spent = live_when_spent.expect("the budget was spent");
    assert!(
        live_when_spent > 0,
        "calls were live when the budget ran out"
    );
    assert_eq!(h.engine.live_calls(), 0, "and they all finished");
    let counters = h.store.batch_counters(&batch).expect("counters");
    assert!(counters.cost_micros >= 300_000);
    assert_eq!(counters.ended, counters.attempts);
    // Only contacts the dispatcher looked at carry the code; the batch's
    // health names it for all.
    assert!(counters.blocker(Blocker::BudgetExhausted) > 0);
    assert_eq!(h.batch(&batch).status, BatchStatus::InProgress);
    let health = queue_health(h.store.as_ref(), &campaign, &batch, h.now).expect("health");
    assert_eq!(health.batch_blocker, Some(Blocker::BudgetExhausted));
    assert!(health.budgets[0].exhausted);
    h.assert_counters_match_a_recount(&batch);
}

#[tokio::test]
async fn reaching_the_goal_stops_dialing_and_completes_the_batch_with_the_rest_skipped() {
    let mut campaign = spec(6, 6.0, 2);
    campaign.goal = Some(Goal {
        target: 10,
        success_labels: vec!["interested".to_string()],
    });
    campaign.max_consecutive_plugin_faults = 1_000;
    let mut policy = CampaignPolicy::builtin(campaign.clone());
    policy.classifier = Arc::new(TalkClassifier);
    let mut h = harness(policy, sim(27));
    let batch = h.create(contacts(300, us_phone, "UTC"));
    let mut goal_met_at = None;
    while h.now < T0 + 3 * 60 * MINUTE_MS {
        let reached = h
            .store
            .batch_totals(&batch)
            .expect("totals")
            .successful_contacts;
        let report = h.engine.tick(h.now).await.expect("tick");
        if reached >= 10 {
            assert_eq!(report.dialed, 0, "a dial after the goal was met");
            goal_met_at.get_or_insert(h.now);
        }
        if h.batch(&batch).status == BatchStatus::Completed {
            break;
        }
        h.now += 500;
    }
    let goal_met_at = goal_met_at.expect("the goal was met");
    let record = h.batch(&batch);
    assert_eq!(record.status, BatchStatus::Completed);
    assert_eq!(record.status_reason.as_deref(), Some("goal_reached"));
    let all = h.all_contacts(&batch);
    let skipped: Vec<&ContactRecord> = all
        .iter()
        .filter(|c| c.status == ContactStatus::Skipped)
        .collect();
    assert!(skipped.len() > 200, "{} skipped", skipped.len());
    assert!(
        skipped
            .iter()
            .all(|c| c.final_reason.as_deref() == Some("goal_reached"))
    );
    let attempts: Vec<Attempt> = attempts_of(&h, &batch).into_iter().flatten().collect();
    assert!(
        attempts.iter().all(|a| a.ended_at.is_some()),
        "live calls finished"
    );
    assert!(attempts.iter().all(|a| a.started_at < goal_met_at));
    let successes = all.iter().filter(|c| c.succeeded).count();
    assert!(successes >= 10, "live calls may add successes: {successes}");
    assert_eq!(
        h.store.batch_totals(&batch).expect("t").successful_contacts,
        successes as u64
    );
    h.assert_counters_match_a_recount(&batch);
}

#[tokio::test]
async fn variant_assignment_is_stable_across_a_store_reopen() {
    let mut campaign = spec(4, 10.0, 3);
    campaign.variants = vec![
        Variant {
            name: "A".to_string(),
            weight: 2,
            parameters: vec![("script".to_string(), "a".to_string())],
        },
        Variant {
            name: "B".to_string(),
            weight: 1,
            parameters: vec![("script".to_string(), "b".to_string())],
        },
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let open = || {
        let mut config = StoreConfig::new(dir.path().join("db"));
        config.durability = Durability::Relaxed;
        Arc::new(SledStore::open(&config).expect("store opens"))
    };
    let engine_over = |store: Arc<SledStore>, provider: Arc<SimulatedProvider>, now| {
        let mut policy = CampaignPolicy::builtin(campaign.clone());
        policy.retry = Arc::new(BuiltinRetry {
            delay_ms: MINUTE_MS,
        });
        Engine::new(store, provider, vec![policy], EngineOptions::default(), now)
            .expect("engine starts")
    };
    let provider = Arc::new(SimulatedProvider::new(sim(28)));
    let store = open();
    let batch = store
        .create_batch(contacts(60, us_phone, "UTC"))
        .expect("create")
        .batch
        .id;
    let mut engine = engine_over(store.clone(), provider.clone(), T0);
    let mut now = T0;
    while now < T0 + 3 * MINUTE_MS {
        engine.tick(now).await.expect("tick");
        now += 1_000;
    }
    drop(engine);
    drop(store);

    let store = open();
    let mut engine = engine_over(store.clone(), provider.clone(), now);
    engine.recover(now).await.expect("recover");
    while now < T0 + 4 * 60 * MINUTE_MS {
        engine.tick(now).await.expect("tick");
        if store.batch(&batch).expect("b").expect("b").status == BatchStatus::Completed {
            break;
        }
        now += 1_000;
    }
    let mut per_variant = HashMap::new();
    let mut retried = 0;
    for seq in 0..60 {
        let contact = store.contact(&batch, seq).expect("c").expect("c");
        let expected = assign_variant(&campaign.variants, &batch, &contact.contact_id)
            .expect("weights")
            .name
            .clone();
        let history = store.attempts(&batch, seq).expect("attempts");
        retried += history.len().saturating_sub(1);
        for attempt in &history {
            assert_eq!(attempt.variant.as_ref(), Some(&expected), "{}", attempt.id);
        }
        *per_variant.entry(expected).or_insert(0) += 1;
    }
    assert!(
        retried > 0,
        "some contacts were dialed before and after the reopen"
    );
    assert!(per_variant["A"] > per_variant["B"], "{per_variant:?}");
    let statistics = batch_statistics(store.as_ref(), &campaign, &batch, now).expect("stats");
    assert_eq!(
        statistics
            .variants
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>(),
        ["A", "B"]
    );
}

#[tokio::test]
async fn an_attempt_without_a_provider_cost_is_charged_the_per_minute_rate() {
    let mut campaign = spec(2, 10.0, 1);
    campaign.cost_per_minute_micros = Some(60_000);
    // Every call answered by a person: a batch's outcomes follow from its
    // random id, and with the usual mix all of them went unanswered in
    // about one run of 700, leaving no talk time to charge.
    let answered = SimulationConfig {
        outcomes: OutcomeMix::EVERY_CALL_ANSWERED,
        ..sim(29)
    };
    let mut h = harness_with(CampaignPolicy::builtin(campaign), answered, |provider| {
        Arc::new(Unpriced(provider))
    });
    let batch = h.create(contacts(6, us_phone, "UTC"));
    let done = |h: &Harness| h.batch(&batch).status == BatchStatus::Completed;
    h.run_until(T0 + 60 * MINUTE_MS, 1_000, done).await;
    let attempts: Vec<Attempt> = attempts_of(&h, &batch).into_iter().flatten().collect();
    assert_eq!(attempts.len(), 6);
    for attempt in &attempts {
        assert!(attempt.talk_ms >= 30_000, "{attempt:?}");
        // 60,000 millionths a minute is 1,000 a second of talk.
        assert_eq!(attempt.cost_micros, Some(attempt.talk_ms / 1_000 * 1_000));
    }
}

/// The simulator with its reported costs removed.
struct Unpriced(Arc<SimulatedProvider>);

impl Provider for Unpriced {
    fn name(&self) -> &str {
        "unpriced"
    }

    fn place_call(
        &self,
        call: PlaceCall,
        now: Millis,
    ) -> BoxFuture<'_, Result<String, ProviderFailure>> {
        self.0.place_call(call, now)
    }

    fn drain_events(&self, now: Millis) -> Vec<ProviderEvent> {
        let mut events = self.0.drain_events(now);
        for event in &mut events {
            if let CallEventKind::Ended(end) = &mut event.kind {
                end.cost_micros = None;
            }
        }
        events
    }
}

#[tokio::test]
async fn queue_health_names_the_closed_windows_of_each_zone_in_the_batch() {
    let mut campaign = spec(5, 5.0, 1);
    campaign.calling_window = CallingWindow {
        rules: vec![WindowRule::Range {
            days: (0..7).collect(),
            start_minute: 9 * 60,
            end_minute: 17 * 60,
        }],
    };
    let mut h = harness(CampaignPolicy::builtin(campaign.clone()), sim(30));
    // T0 is midnight UTC: 19:00 in New York, 09:00 in Tokyo.
    let mut request = contacts(10, us_phone, "America/New_York");
    for contact in request.contacts.iter_mut().skip(5) {
        contact.time_zone = "Asia/Tokyo".to_string();
    }
    let batch = h.create(request);
    h.run(T0 + 10_000, 1_000).await;
    let health = queue_health(h.store.as_ref(), &campaign, &batch, h.now).expect("health");
    let zone = |name: &str| {
        health
            .windows
            .iter()
            .find(|w| w.time_zone == name)
            .unwrap_or_else(|| panic!("{name} in {:?}", health.windows))
    };
    let new_york = zone("America/New_York");
    assert!(!new_york.open);
    // Next 09:00 in New York is 14:00 UTC (still on standard time).
    assert_eq!(new_york.next_open, Some(T0 + 14 * 60 * MINUTE_MS));
    let tokyo = zone("Asia/Tokyo");
    assert!(tokyo.open);
    assert_eq!(tokyo.closes_at, Some(T0 + 8 * 60 * MINUTE_MS));
    assert_eq!(health.windows.len(), 2);
    assert_eq!(
        health
            .blockers
            .iter()
            .find(|b| b.blocker == Blocker::OutsideWindow)
            .map(|b| b.count),
        Some(5)
    );
    assert_eq!(health.concurrency.effective, 5);
    assert_eq!(health.live, h.engine.live_calls() as u64);
    assert!(health.live > 0, "Tokyo contacts are on the phone");
    assert_eq!(health.concurrency.free, 5 - health.live);
    assert!(health.rate.current > 0.0);
    assert!(health.dialing);
}

// ---- every statistic against a recount from the stored attempts ----

/// Figures recomputed from attempts alone, written independently of the
/// store's incremental code.
#[derive(Debug, Default)]
struct Recount {
    totals: AttemptTotals,
    numbers: BTreeMap<String, NumberTotals>,
    timeline: BTreeMap<Millis, MinuteTotals>,
}

fn recount(histories: &[Vec<Attempt>]) -> Recount {
    let mut r = Recount::default();
    let mut labels: BTreeMap<String, u64> = BTreeMap::new();
    let mut variants: BTreeMap<String, VariantTotals> = BTreeMap::new();
    for history in histories {
        let mut dial = 0;
        let mut succeeded = false;
        for attempt in history {
            let t = &mut r.totals;
            if attempt.system_retry {
                t.system_retries += 1;
                let throttled = attempt.reason() == Some("provider_throttled");
                t.throttled += u64::from(throttled);
                continue;
            }
            dial += 1;
            let minute = r.timeline.entry(minute_of(attempt.started_at)).or_default();
            minute.minute = minute_of(attempt.started_at);
            minute.attempts += 1;
            let (Some(ended_at), Some(outcome)) = (attempt.ended_at, attempt.outcome) else {
                continue;
            };
            let answered = outcome == CallOutcome::Answered;
            if answered || is_failure(outcome) {
                let minute = r.timeline.entry(minute_of(ended_at)).or_default();
                minute.minute = minute_of(ended_at);
                minute.answers += u64::from(answered);
                minute.failures += u64::from(is_failure(outcome));
            }
            t.attempts += 1;
            let cost = attempt.cost_micros.unwrap_or(0);
            t.cost_micros += cost;
            match outcome {
                CallOutcome::Answered => {
                    t.answered += 1;
                    t.answered_talk_ms += attempt.talk_ms;
                }
                CallOutcome::Busy => t.busy += 1,
                CallOutcome::NoAnswer => t.no_answer += 1,
                _ => t.failed += 1,
            }
            let slot = (dial as usize).min(MAX_DIAL_SLOTS) - 1;
            if t.by_dial.len() <= slot {
                t.by_dial.resize(slot + 1, DialTotals::default());
            }
            t.by_dial[slot].attempts += 1;
            if attempt.success {
                t.successes += 1;
                t.by_dial[slot].successes += 1;
                t.successes_from_retries += u64::from(dial > 1);
                if !succeeded {
                    t.successful_contacts += 1;
                }
                succeeded = true;
            }
            let decision = attempt.decision.as_ref().expect("decided");
            t.plugin_faults += u64::from(!decision.faults.is_empty());
            let disposition = attempt.disposition.as_ref().expect("labelled");
            *labels.entry(disposition.label.clone()).or_default() += 1;
            if let Some(sentiment) = disposition.sentiment {
                t.sentiment_micros += sentiment_micros(sentiment);
                t.sentiment_count += 1;
            }
            if let Some(name) = &attempt.variant {
                let v = variants
                    .entry(name.clone())
                    .or_insert_with(|| VariantTotals {
                        name: name.clone(),
                        ..VariantTotals::default()
                    });
                v.attempts += 1;
                v.cost_micros += cost;
                v.successes += u64::from(attempt.success);
                if answered {
                    v.answered += 1;
                    v.answered_talk_ms += attempt.talk_ms;
                }
            }
            if let Some(number) = &attempt.from_number {
                let n = r.numbers.entry(number.clone()).or_default();
                n.attempts += 1;
                match outcome {
                    CallOutcome::Answered => n.answered += 1,
                    CallOutcome::Busy => n.busy += 1,
                    CallOutcome::NoAnswer => n.no_answer += 1,
                    _ => n.failed += 1,
                }
            }
        }
    }
    r.totals.dispositions = labels
        .into_iter()
        .map(|(label, count)| LabelCount { label, count })
        .collect();
    r.totals.variants = variants.into_values().collect();
    r
}

/// A stored record in the recount's canonical order, with the one figure
/// attempts do not carry (the throttle's end) taken from the store.
fn canonical(mut stored: AttemptTotals, recounted: &AttemptTotals) -> AttemptTotals {
    stored.variants.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(stored.throttled == 0 || stored.throttled_until.is_some());
    let _ = recounted;
    stored.throttled_until = None;
    stored
}

fn check_batch(h: &Harness, spec: &CampaignSpec, batch: &str) -> Recount {
    let histories = attempts_of(h, batch);
    let r = recount(&histories);
    let stored = h.store.batch_totals(batch).expect("totals");
    assert_eq!(canonical(stored, &r.totals), r.totals, "batch {batch}");
    let numbers: BTreeMap<String, NumberTotals> = h
        .store
        .batch_number_totals(batch)
        .expect("numbers")
        .into_iter()
        .collect();
    assert_eq!(numbers, r.numbers);
    let timeline: Vec<MinuteTotals> = h
        .store
        .timeline(batch, Millis::MIN)
        .expect("timeline")
        .into_iter()
        .filter(|m| m.attempts + m.answers + m.failures > 0)
        .collect();
    let expected: Vec<MinuteTotals> = r.timeline.values().copied().collect();
    assert_eq!(timeline, expected);

    // The figures the operator reads, from the same attempts.
    let statistics = batch_statistics(h.store.as_ref(), spec, batch, h.now).expect("stats");
    let ended: Vec<&Attempt> = histories
        .iter()
        .flatten()
        .filter(|a| !a.system_retry && a.ended_at.is_some())
        .collect();
    let answered: Vec<&&Attempt> = ended.iter().filter(|a| a.was_answered()).collect();
    assert_eq!(statistics.attempts, ended.len() as u64);
    let rate = answered.len() as f64 / ended.len() as f64;
    assert!((statistics.answer_rate - rate).abs() < 1e-12);
    let talk: u64 = answered.iter().map(|a| a.talk_ms).sum();
    let duration = talk as f64 / answered.len() as f64 / 1_000.0;
    assert!((statistics.average_duration_seconds - duration).abs() < 1e-9);
    let cost: u64 = ended.iter().map(|a| a.cost_micros.unwrap_or(0)).sum();
    assert_eq!(statistics.total_cost_micros, cost);
    assert_eq!(
        statistics.total_cost_micros,
        h.store.batch_counters(batch).expect("c").cost_micros
    );
    let sentiments: Vec<f64> = ended
        .iter()
        .filter_map(|a| a.disposition.as_ref()?.sentiment)
        .map(f64::from)
        .collect();
    let mean = sentiments.iter().sum::<f64>() / sentiments.len() as f64;
    assert!((statistics.average_sentiment.expect("some") - mean).abs() < 1e-4);
    let from_retries = ended.iter().filter(|a| a.success && a.number > 1).count() as u64;
    assert!(statistics.retries.successes_from_retries <= from_retries);
    for variant in &statistics.variants {
        let mine: Vec<&&Attempt> = ended
            .iter()
            .filter(|a| a.variant.as_deref() == Some(variant.name.as_str()))
            .collect();
        let successes = mine.iter().filter(|a| a.success).count() as u64;
        assert_eq!(variant.attempts, mine.len() as u64);
        assert_eq!(variant.successes, successes);
        if successes > 0 {
            let cost: u64 = mine.iter().map(|a| a.cost_micros.unwrap_or(0)).sum();
            let per = cost as f64 / 1e6 / successes as f64;
            assert!((variant.cost_per_success.expect("some") - per).abs() < 1e-9);
        }
    }
    for number in &statistics.numbers {
        let mine = ended
            .iter()
            .filter(|a| a.from_number.as_deref() == Some(number.number.as_str()));
        let (count, busy) = mine.fold((0, 0), |(count, busy), a| {
            (
                count + 1,
                busy + u64::from(a.outcome == Some(CallOutcome::Busy)),
            )
        });
        assert_eq!(number.attempts, count);
        if count > 0 {
            assert!((number.busy_rate - busy as f64 / count as f64).abs() < 1e-12);
        }
    }
    r
}

fn merge(into: &mut Recount, other: Recount) {
    let (a, b) = (&mut into.totals, other.totals);
    a.attempts += b.attempts;
    a.answered += b.answered;
    a.busy += b.busy;
    a.no_answer += b.no_answer;
    a.failed += b.failed;
    a.answered_talk_ms += b.answered_talk_ms;
    a.cost_micros += b.cost_micros;
    a.successes += b.successes;
    a.successes_from_retries += b.successes_from_retries;
    a.successful_contacts += b.successful_contacts;
    a.sentiment_micros += b.sentiment_micros;
    a.sentiment_count += b.sentiment_count;
    a.plugin_faults += b.plugin_faults;
    a.system_retries += b.system_retries;
    a.throttled += b.throttled;
    let mut labels: BTreeMap<String, u64> = BTreeMap::new();
    for entry in a.dispositions.drain(..).chain(b.dispositions) {
        *labels.entry(entry.label).or_default() += entry.count;
    }
    a.dispositions = labels
        .into_iter()
        .map(|(label, count)| LabelCount { label, count })
        .collect();
    for (slot, dial) in b.by_dial.into_iter().enumerate() {
        if a.by_dial.len() <= slot {
            a.by_dial.resize(slot + 1, DialTotals::default());
        }
        a.by_dial[slot].attempts += dial.attempts;
        a.by_dial[slot].successes += dial.successes;
    }
    let mut variants: BTreeMap<String, VariantTotals> =
        a.variants.drain(..).map(|v| (v.name.clone(), v)).collect();
    for v in b.variants {
        let mine = variants
            .entry(v.name.clone())
            .or_insert_with(|| VariantTotals {
                name: v.name.clone(),
                ..VariantTotals::default()
            });
        mine.attempts += v.attempts;
        mine.answered += v.answered;
        mine.successes += v.successes;
        mine.answered_talk_ms += v.answered_talk_ms;
        mine.cost_micros += v.cost_micros;
    }
    a.variants = variants.into_values().collect();
    for (number, n) in other.numbers {
        let mine = into.numbers.entry(number).or_default();
        mine.attempts += n.attempts;
        mine.answered += n.answered;
        mine.busy += n.busy;
        mine.no_answer += n.no_answer;
        mine.failed += n.failed;
    }
}

#[tokio::test]
async fn every_statistic_equals_a_recount_from_the_attempts_after_a_random_workload() {
    for seed in [101_u64, 202, 303] {
        let mut rng = Rng(seed);
        let mut campaign = spec(
            3 + rng.below(10) as u32,
            2.0 + rng.below(20) as f64,
            1 + rng.below(4) as u32,
        );
        campaign.numbers = pool(&[(US_A, 1 + rng.below(3) as u32), (US_B, 1), (GB, 2)]);
        campaign.number_strategy = [
            NumberStrategy::RoundRobin,
            NumberStrategy::Weighted,
            NumberStrategy::Sticky,
            NumberStrategy::SameCountry,
        ][rng.below(4) as usize];
        campaign.variants = vec![
            Variant {
                name: "A".to_string(),
                weight: 1 + rng.below(3) as u32,
                parameters: Vec::new(),
            },
            Variant {
                name: "B".to_string(),
                weight: 1,
                parameters: Vec::new(),
            },
        ];
        campaign.goal = Some(Goal {
            target: 1_000_000,
            success_labels: vec!["interested".to_string()],
        });
        campaign.max_consecutive_plugin_faults = 1_000;
        let mut policy = CampaignPolicy::builtin(campaign.clone());
        policy.classifier = Arc::new(TalkClassifier);
        policy.retry = Arc::new(BuiltinRetry {
            delay_ms: (1 + rng.below(10) as i64) * MINUTE_MS,
        });
        let mut config = sim(seed);
        config.throttle_rate = 0.05;
        config.transient_failure_rate = 0.03;
        let mut h = harness(policy, config);
        let phones = |i: usize| {
            if i % 4 == 3 {
                format!("+4420794{i:05}")
            } else {
                format!("+1212555{i:04}")
            }
        };
        let first = h.create(contacts(40 + rng.below(60) as usize, phones, "UTC"));
        let mut second_request = contacts(20 + rng.below(40) as usize, us_phone, "UTC");
        second_request.numbers = Some(pool(&[(US_B, 1)]));
        let second = h.create(second_request);

        let end = T0 + 4 * 60 * MINUTE_MS;
        let mut checked_mid_run = false;
        while h.now < end {
            h.engine.tick(h.now).await.expect("tick");
            match rng.below(400) {
                0 => {
                    let _ = control::pause(h.store.as_ref(), &first, "operator", None, h.now);
                }
                1 => {
                    let _ = control::resume(h.store.as_ref(), &first, "operator", None, h.now);
                }
                2 => {
                    let _ =
                        control::force_dispatch(h.store.as_ref(), &second, "operator", None, h.now);
                }
                _ => {}
            }
            if !checked_mid_run && h.engine.live_calls() > 0 && h.now > T0 + 20 * MINUTE_MS {
                // With calls live, attempts in flight count in the timeline
                // and nowhere else yet.
                check_batch(&h, &campaign, &first);
                checked_mid_run = true;
            }
            h.now += 250 + rng.below(1_500) as i64;
        }
        let _ = control::resume(h.store.as_ref(), &first, "operator", None, h.now);
        let done = |h: &Harness| {
            [&first, &second]
                .iter()
                .all(|b| h.batch(b).status == BatchStatus::Completed)
        };
        let until = h.now + 24 * 60 * MINUTE_MS;
        h.run_until(until, 2_000, done).await;
        assert!(done(&h), "seed {seed}: both batches completed");
        assert!(checked_mid_run);

        let mut campaign_recount = check_batch(&h, &campaign, &first);
        let second_recount = check_batch(&h, &campaign, &second);
        assert!(
            second_recount.numbers.keys().all(|n| n == US_B),
            "the batch pool was used"
        );
        merge(&mut campaign_recount, second_recount);
        let stored = h.store.campaign_totals("ws", "camp").expect("campaign");
        let stored = canonical(stored, &campaign_recount.totals);
        assert_eq!(stored, campaign_recount.totals, "seed {seed}");
        assert!(stored.system_retries > 0 && stored.plugin_faults > 0 && stored.successes > 0);
        assert!(stored.sentiment_count > 0 && stored.by_dial.len() > 1);
        let numbers: BTreeMap<String, NumberTotals> = h
            .store
            .campaign_number_totals("ws", "camp")
            .expect("numbers")
            .into_iter()
            .collect();
        assert_eq!(numbers, campaign_recount.numbers);
        let statistics = campaign_statistics(h.store.as_ref(), &campaign, h.now).expect("stats");
        assert_eq!(statistics.attempts, stored.attempts);
        assert_eq!(statistics.goals[0].reached, stored.successful_contacts);
        for batch in [&first, &second] {
            h.assert_counters_match_a_recount(batch);
        }
    }
}

/// splitmix64, seeded: the workload's dice.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}
