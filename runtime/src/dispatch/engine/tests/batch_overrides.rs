//! A batch's own settings replace its campaign's for its contacts only.

use super::*;
use crate::config::{Config, HoursInput, HoursRangeInput, batch_hours};
use crate::model::{BatchHours, BatchRetry, HOUR_MS, MINUTE_MS};
use crate::plugin_host::{ConfigPlugins, PluginHost};

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
