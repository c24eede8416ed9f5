//! A batch's own settings replace its campaign's for its contacts only.

use super::*;
use crate::config::{HoursInput, HoursRangeInput, batch_hours};
use crate::model::{BatchHours, HOUR_MS};

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
