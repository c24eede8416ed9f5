//! A batch's own settings replace its campaign's for its contacts only.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::config::{Config, HoursInput, HoursRangeInput, batch_hours};
use crate::model::{BatchGate, BatchHours, BatchRetry, HOUR_MS, MINUTE_MS};
use crate::plugin_host::{ConfigPlugins, PluginHost};
use crate::policy::{GateCandidate, GateLoader, GateVerdict};

/// Daily hours from `start` to `end`, on the zones `policy` gives.
fn daily(start: &str, end: &str, policy: &str, default_zone: &str) -> BatchHours {
    batch_hours(
        "hours",
        &HoursInput {
            time_zone_policy: Some(policy.to_string()),
            default_time_zone: Some(default_zone.to_string()),
            hours: vec![HoursRangeInput {
                days: Some("daily".to_string()),
                start: start.to_string(),
                end: end.to_string(),
            }],
            cron: Vec::new(),
        },
    )
    .expect("valid hours")
}

/// A campaign open 09:00-17:00 on the contacts' clocks, retrying after
/// three hours.
fn nine_to_five() -> Harness {
    let mut campaign = spec(20, 20.0, 3);
    campaign.calling_window = CallingWindow {
        rules: vec![WindowRule::Range {
            days: (0..7).collect(),
            start_minute: 9 * 60,
            end_minute: 17 * 60,
        }],
    };
    let mut policy = CampaignPolicy::builtin(campaign);
    policy.retry = Arc::new(BuiltinRetry {
        delay_ms: 3 * HOUR_MS,
    });
    harness(
        policy,
        SimulationConfig {
            seed: 11,
            ..SimulationConfig::default()
        },
    )
}

/// The local hour of every attempt of the batch, in `zone`.
fn attempt_hours(h: &Harness, batch: &str, zone: Tz) -> Vec<u32> {
    h.all_contacts(batch)
        .iter()
        .flat_map(|contact| h.store.attempts(batch, contact.seq).expect("attempts"))
        .map(|attempt| {
            zone.timestamp_millis_opt(attempt.started_at)
                .single()
                .expect("valid")
                .hour()
        })
        .collect()
}

#[tokio::test]
async fn a_batch_with_narrower_hours_is_not_dialed_outside_them_while_the_campaigns_other_batch_is()
{
    let mut h = nine_to_five();
    let campaigns = h.create(contacts(20, us_phone, "UTC"));
    let narrower = h.create(NewBatch {
        hours: Some(daily("14:00", "16:00", "contact", "UTC")),
        ..contacts(20, us_phone, "UTC")
    });

    // By noon the campaign's batch has been dialed, the other not at all.
    h.run(T0 + 12 * HOUR_MS, 2_000).await;
    assert!(!attempt_hours(&h, &campaigns, Tz::UTC).is_empty());
    assert!(attempt_hours(&h, &narrower, Tz::UTC).is_empty());
    for contact in h.all_contacts(&narrower) {
        assert_eq!(contact.blocker, Some(Blocker::OutsideWindow));
        assert_eq!(contact.next_eligible_at, Some(T0 + 14 * HOUR_MS));
    }

    // Two days on, retries included, each batch kept to its own hours.
    h.run(T0 + 48 * HOUR_MS, 2_000).await;
    let narrower_hours = attempt_hours(&h, &narrower, Tz::UTC);
    assert!(narrower_hours.len() > 20, "retries were made");
    assert!(
        narrower_hours.iter().all(|hour| (14..16).contains(hour)),
        "{narrower_hours:?}"
    );
    let campaign_hours = attempt_hours(&h, &campaigns, Tz::UTC);
    assert!(campaign_hours.iter().all(|hour| (9..17).contains(hour)));
    assert!(campaign_hours.iter().any(|hour| !(14..16).contains(hour)));
    h.assert_counters_match_a_recount(&narrower);
}

#[tokio::test]
async fn a_batch_with_its_own_zone_policy_is_dialed_on_its_default_zones_clock() {
    let mut h = nine_to_five();
    let tokyo = h.create(NewBatch {
        hours: Some(daily("09:00", "17:00", "campaign", "Asia/Tokyo")),
        ..contacts(10, us_phone, "UTC")
    });
    h.run(T0 + 24 * HOUR_MS, 2_000).await;
    let hours = attempt_hours(&h, &tokyo, chrono_tz::Asia::Tokyo);
    assert!(!hours.is_empty());
    assert!(hours.iter().all(|hour| (9..17).contains(hour)), "{hours:?}");
    // 09:00 in Tokyo is midnight UTC: no UTC 09:00-17:00 window is used.
    assert!(
        attempt_hours(&h, &tokyo, Tz::UTC)
            .iter()
            .all(|hour| *hour < 8)
    );
}

/// The built-in ladder strategy, retrying every unanswered outcome twice,
/// half an hour apart.
fn half_hour_ladder() -> BatchRetry {
    let groups = ["busy", "no_answer", "voicemail", "call_screening", "failed"];
    BatchRetry {
        plugin: "retry-schedule".to_string(),
        config: groups
            .iter()
            .map(|group| (group.to_string(), "30m, 30m".to_string()))
            .collect(),
        overridden: groups.iter().map(|group| group.to_string()).collect(),
    }
}

/// Each contact's waits between one attempt's end and the next's start,
/// with the retry plugin that decided each.
fn retry_waits(h: &Harness, batch: &str) -> Vec<(Millis, String)> {
    let mut waits = Vec::new();
    for contact in h.all_contacts(batch) {
        let attempts = h.store.attempts(batch, contact.seq).expect("attempts");
        for pair in attempts.windows(2) {
            let ended = pair[0].ended_at.expect("an earlier attempt ended");
            let decided_by = pair[0]
                .decision
                .as_ref()
                .expect("a decision")
                .retry_plugin
                .clone();
            waits.push((pair[1].started_at - ended, decided_by));
        }
    }
    waits
}

#[tokio::test]
async fn a_batch_with_its_own_retry_ladder_is_retried_by_it_while_the_campaigns_other_batch_is_not()
{
    let mut h = nine_to_five();
    let host = Arc::new(PluginHost::new().expect("the plugin host starts"));
    h.engine
        .set_retry_loader(Arc::new(ConfigPlugins::new(host, &Config::default())));
    let campaigns = h.create(contacts(20, us_phone, "UTC"));
    let laddered = h.create(NewBatch {
        retry: Some(half_hour_ladder()),
        ..contacts(20, us_phone, "UTC")
    });
    h.run(T0 + 17 * HOUR_MS, 2_000).await;

    let ladder_waits = retry_waits(&h, &laddered);
    assert!(
        ladder_waits.len() >= 5,
        "retries were made: {ladder_waits:?}"
    );
    for (wait, _) in &ladder_waits {
        assert!(
            (30 * MINUTE_MS..31 * MINUTE_MS).contains(wait),
            "{ladder_waits:?}"
        );
    }
    let campaign_waits = retry_waits(&h, &campaigns);
    assert!(!campaign_waits.is_empty());
    assert!(
        campaign_waits.iter().all(|(wait, _)| *wait >= 3 * HOUR_MS),
        "{campaign_waits:?}"
    );
    // The ladder is a plugin of its own, not the campaign's strategy.
    let ladder_plugin = &ladder_waits[0].1;
    assert!(ladder_waits.iter().all(|(_, by)| by == ladder_plugin));
    assert!(campaign_waits.iter().all(|(_, by)| by != ladder_plugin));
    h.assert_counters_match_a_recount(&laddered);
}

#[tokio::test]
async fn a_batch_whose_retry_strategy_cannot_be_loaded_is_held_with_plugin_faulted() {
    // No plugin loader: the batch's own strategy cannot be had, and its
    // contacts must not be dialed under another strategy.
    let mut h = nine_to_five();
    let laddered = h.create(NewBatch {
        retry: Some(half_hour_ladder()),
        ..contacts(5, us_phone, "UTC")
    });
    let campaigns = h.create(contacts(5, us_phone, "UTC"));
    h.run(T0 + 12 * HOUR_MS, 2_000).await;
    for contact in h.all_contacts(&laddered) {
        assert_eq!(contact.attempts_made, 0);
        assert_eq!(contact.blocker, Some(Blocker::PluginFaulted));
    }
    assert!(
        h.all_contacts(&campaigns)
            .iter()
            .all(|contact| contact.attempts_made > 0)
    );
}

/// A gate that answers every candidate alike, or faults on every call,
/// and keeps the batches it was asked about.
struct FixedGate {
    identity: &'static str,
    verdict: Option<GateVerdict>,
    asked: Mutex<Vec<String>>,
    calls: AtomicU32,
}

impl FixedGate {
    fn new(identity: &'static str, verdict: Option<GateVerdict>) -> Arc<FixedGate> {
        Arc::new(FixedGate {
            identity,
            verdict,
            asked: Mutex::new(Vec::new()),
            calls: AtomicU32::new(0),
        })
    }

    fn allowing(identity: &'static str) -> Arc<FixedGate> {
        FixedGate::new(identity, Some(GateVerdict::Allow))
    }

    fn skipping(identity: &'static str, reason: &str) -> Arc<FixedGate> {
        let reason = reason.to_string();
        FixedGate::new(identity, Some(GateVerdict::Skip { reason }))
    }

    fn broken(identity: &'static str) -> Arc<FixedGate> {
        FixedGate::new(identity, None)
    }

    /// The batches it was asked about, each once.
    fn asked_about(&self) -> Vec<String> {
        let mut asked = self.asked.lock().expect("not poisoned").clone();
        asked.sort();
        asked.dedup();
        asked
    }
}

impl DialGate for FixedGate {
    fn identity(&self) -> &str {
        self.identity
    }

    fn check(&self, candidates: &[GateCandidate]) -> Result<Vec<GateVerdict>, PolicyFault> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.asked.lock().expect("not poisoned").extend(
            candidates
                .iter()
                .map(|candidate| candidate.batch_id.clone()),
        );
        match &self.verdict {
            Some(verdict) => Ok(vec![verdict.clone(); candidates.len()]),
            None => Err(PolicyFault {
                plugin: self.identity.to_string(),
                message: "wasm trap: unreachable".to_string(),
            }),
        }
    }
}

/// Loads the test gates by the names batches give them; any other name
/// has left the config.
struct TestGates(Vec<(&'static str, Arc<FixedGate>)>);

impl GateLoader for TestGates {
    fn load(
        &self,
        plugin: &str,
        _config: &[(String, String)],
    ) -> Result<Arc<dyn DialGate>, String> {
        match self.0.iter().find(|(name, _)| *name == plugin) {
            Some((_, gate)) => Ok(gate.clone()),
            None => Err(format!("unknown plugin \"{plugin}\"")),
        }
    }
}

/// A batch's own gate: `plugin` without config.
fn own_gate(plugin: &str) -> BatchGate {
    BatchGate {
        plugin: plugin.to_string(),
        config: BTreeMap::new(),
        overridden: Vec::new(),
    }
}

/// A campaign whose gate allows every dial.
fn gated_campaign(gate: &Arc<FixedGate>) -> Harness {
    let mut policy = CampaignPolicy::builtin(spec(5, 10.0, 1));
    policy.gate = Some(gate.clone());
    harness(policy, SimulationConfig::default())
}

/// Six contacts of their own numbers, `first` on.
fn six_from(first: usize) -> NewBatch {
    contacts(6, |i| us_phone(first + i), "UTC")
}

/// The gate recorded on each attempt of the batch.
fn attempt_gates(h: &Harness, batch: &str) -> Vec<Option<String>> {
    h.all_contacts(batch)
        .iter()
        .flat_map(|contact| h.store.attempts(batch, contact.seq).expect("attempts"))
        .map(|attempt| attempt.gate)
        .collect()
}

#[tokio::test]
async fn a_batch_with_its_own_gate_is_screened_by_it_and_not_by_the_campaigns() {
    let campaign_gate = FixedGate::allowing("sha256:campaign");
    let skipping = FixedGate::skipping("sha256:batch-skips", "not on this batch's consent list");
    let allowing = FixedGate::allowing("sha256:batch-allows");
    let mut h = gated_campaign(&campaign_gate);
    h.engine.set_gate_loader(Arc::new(TestGates(vec![
        ("consent-only", skipping.clone()),
        ("allow-all", allowing.clone()),
    ])));
    let campaigns = h.create(six_from(0));
    let skipped = h.create(NewBatch {
        gate: Some(own_gate("consent-only")),
        ..six_from(100)
    });
    let allowed = h.create(NewBatch {
        gate: Some(own_gate("allow-all")),
        ..six_from(200)
    });
    h.run(T0 + HOUR_MS, 10 * SECOND_MS).await;

    // The campaign's gate would have let every one through; the batch's
    // own skipped them all, and the provider never heard of them.
    for contact in h.all_contacts(&skipped) {
        assert_eq!(contact.status, ContactStatus::Skipped);
        assert_eq!(
            contact.final_reason.as_deref(),
            Some("gate: not on this batch's consent list")
        );
        assert_eq!(contact.attempt_records, 0);
    }
    assert!(attempt_gates(&h, &skipped).is_empty());
    assert_eq!(
        h.provider.calls_placed(),
        12,
        "only the other two batches' contacts were called"
    );

    // Each dial carries the sha256 of the gate that allowed it.
    let own = attempt_gates(&h, &allowed);
    assert_eq!(own.len(), 6);
    assert!(
        own.iter()
            .all(|gate| gate.as_deref() == Some("sha256:batch-allows")),
        "{own:?}"
    );
    let campaigns_gates = attempt_gates(&h, &campaigns);
    assert_eq!(campaigns_gates.len(), 6);
    assert!(
        campaigns_gates
            .iter()
            .all(|gate| gate.as_deref() == Some("sha256:campaign")),
        "{campaigns_gates:?}"
    );

    // Each gate was asked about its own batches alone.
    assert_eq!(campaign_gate.asked_about(), vec![campaigns.clone()]);
    assert_eq!(skipping.asked_about(), vec![skipped.clone()]);
    assert_eq!(allowing.asked_about(), vec![allowed.clone()]);
    for batch in [&campaigns, &skipped, &allowed] {
        h.assert_counters_match_a_recount(batch);
    }
}

#[tokio::test]
async fn a_batch_whose_gate_cannot_be_loaded_is_held_with_plugin_faulted_not_dialed_under_the_campaigns()
 {
    let campaign_gate = FixedGate::allowing("sha256:campaign");
    let mut h = gated_campaign(&campaign_gate);
    // The batch's gate has left the config since the batch was created.
    h.engine.set_gate_loader(Arc::new(TestGates(Vec::new())));
    let orphaned = h.create(NewBatch {
        gate: Some(own_gate("gate-gone")),
        ..six_from(100)
    });
    let campaigns = h.create(six_from(0));
    h.run(T0 + HOUR_MS, 10 * SECOND_MS).await;

    for contact in h.all_contacts(&orphaned) {
        assert_eq!(contact.attempts_made, 0);
        assert_eq!(contact.status, ContactStatus::Pending);
        assert_eq!(contact.blocker, Some(Blocker::PluginFaulted));
    }
    assert_eq!(campaign_gate.asked_about(), vec![campaigns.clone()]);
    assert_eq!(h.provider.calls_placed(), 6);
    h.assert_counters_match_a_recount(&orphaned);
}

#[tokio::test]
async fn a_batch_gate_that_faults_pauses_its_own_batch_after_n_calls_and_no_other() {
    let campaign_gate = FixedGate::allowing("sha256:campaign");
    let broken = FixedGate::broken("sha256:broken");
    let mut h = gated_campaign(&campaign_gate);
    h.engine
        .set_gate_loader(Arc::new(TestGates(vec![("broken", broken.clone())])));
    let faulting = h.create(NewBatch {
        gate: Some(own_gate("broken")),
        ..six_from(100)
    });
    let campaigns = h.create(six_from(0));
    let paused = |h: &Harness| h.batch(&faulting).status == BatchStatus::Paused;
    h.run_until(T0 + 2 * HOUR_MS, 10 * SECOND_MS, paused).await;

    let record = h.batch(&faulting);
    assert_eq!(record.status, BatchStatus::Paused);
    assert_eq!(record.status_reason.as_deref(), Some("plugin_faulted"));
    // max_consecutive_plugin_faults is 3: the third faulted call pauses.
    assert_eq!(broken.calls.load(Ordering::SeqCst), 3);
    assert!(attempt_gates(&h, &faulting).is_empty());
    assert!(
        h.store
            .batch_counters(&faulting)
            .expect("counters")
            .plugin_faults
            > 0
    );
    // The campaign's batch goes on under the campaign's gate; the paused
    // one is not asked about again.
    h.run(T0 + 2 * HOUR_MS, 10 * SECOND_MS).await;
    assert_ne!(h.batch(&campaigns).status, BatchStatus::Paused);
    assert_eq!(
        attempt_gates(&h, &campaigns),
        vec![Some("sha256:campaign".to_string()); 6]
    );
    assert_eq!(broken.calls.load(Ordering::SeqCst), 3);
    h.assert_counters_match_a_recount(&faulting);
}

#[tokio::test]
async fn a_batch_may_bring_a_first_party_gate_its_campaign_does_not_have() {
    // No gate on the campaign; the batch's own is the built-in hours gate
    // with a blackout on the contacts' Friday.
    let mut h = harness(
        CampaignPolicy::builtin(spec(5, 10.0, 1)),
        SimulationConfig::default(),
    );
    let host = Arc::new(PluginHost::new().expect("the plugin host starts"));
    let plugins = ConfigPlugins::new(host, &Config::default());
    let gate = BatchGate {
        plugin: "gate-hours".to_string(),
        config: [("blackout_dates".to_string(), "2024-03-08".to_string())].into(),
        overridden: vec!["blackout_dates".to_string()],
    };
    let sha = GateLoader::load(&plugins, &gate.plugin, &gate.config_pairs())
        .expect("gate-hours loads")
        .identity()
        .to_string();
    h.engine.set_gate_loader(Arc::new(plugins));
    let campaigns = h.create(contacts(4, us_phone, "America/New_York"));
    let blacked_out = h.create(NewBatch {
        gate: Some(gate),
        ..contacts(4, |i| us_phone(100 + i), "America/New_York")
    });

    // T0 is Friday 19:00 in New York: the campaign's batch is dialed, the
    // other waits for Saturday 08:00 there, 13:00 UTC.
    h.run(T0 + HOUR_MS, 10 * SECOND_MS).await;
    assert_eq!(attempt_gates(&h, &campaigns), vec![None; 4]);
    for contact in h.all_contacts(&blacked_out) {
        assert_eq!(contact.attempt_records, 0);
        assert_eq!(contact.blocker, Some(Blocker::GateDeferred));
        assert_eq!(contact.next_eligible_at, Some(T0 + 13 * HOUR_MS));
    }

    h.run(T0 + 14 * HOUR_MS, MINUTE_MS).await;
    assert_eq!(attempt_gates(&h, &blacked_out), vec![Some(sha.clone()); 4]);
    for contact in h.all_contacts(&blacked_out) {
        for attempt in h
            .store
            .attempts(&blacked_out, contact.seq)
            .expect("attempts")
        {
            assert!(attempt.started_at >= T0 + 13 * HOUR_MS);
        }
    }
    h.assert_counters_match_a_recount(&blacked_out);
}
