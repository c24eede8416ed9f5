//! Queue health of a batch: the answer to "why is it not dialing?". Read
//! from the batch record, its counters and statistics, its set of time
//! zones and the campaign's config; nothing scans the batch's contacts.

use chrono_tz::Tz;
use serde::Serialize;

use super::statistics::current_calls_per_second;
use crate::dispatch::limits::{self, BudgetProgress, GoalProgress};
use crate::dispatch::numbers;
use crate::dispatch::window::{CompiledWindow, WindowError};
use crate::model::{BatchStatus, Blocker, CampaignSpec, Millis, TimeZonePolicy};
use crate::phone::resolve_time_zone;
use crate::store::{BatchRecord, Store, StoreError};

/// Why queue health could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error("campaign \"{campaign}\" has an invalid calling window: {source}")]
    Window {
        campaign: String,
        #[source]
        source: WindowError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Everything that decides whether a batch dials now.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueHealth {
    pub batch_id: String,
    pub status: BatchStatus,
    pub status_reason: Option<String>,
    /// The batch may place calls now: in progress, no goal met, no budget
    /// spent, and some waiting contact is inside its window.
    pub dialing: bool,
    /// The reason every waiting contact shares, when there is one.
    pub batch_blocker: Option<Blocker>,
    pub waiting: u64,
    pub live: u64,
    /// Waiting contacts per recorded blocker code, non-zero codes only.
    pub blockers: Vec<BlockerCount>,
    /// When the earliest waiting contact becomes eligible.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub next_eligible_at: Option<Millis>,
    /// Whose calling window applies: "batch" when the batch's own hours
    /// replace the campaign's, else "campaign".
    pub hours_from: SettingSource,
    /// The limits the batch is dialed to, and whose each is.
    pub effective: EffectiveLimits,
    /// Whose retry strategy decides the batch's retries: "batch" when the
    /// batch names its own, else "campaign".
    pub retry_from: SettingSource,
    /// That strategy's plugin.
    pub retry_plugin: String,
    /// The calling window in each time zone present in the batch.
    pub windows: Vec<ZoneWindow>,
    pub concurrency: Concurrency,
    pub rate: Rate,
    pub provider_throttle: Throttle,
    pub plugin_faults: PluginFaults,
    pub numbers: PoolState,
    pub budgets: Vec<BudgetProgress>,
    pub goals: Vec<GoalProgress>,
    /// What suppression lists, frequency caps and the dial gate hold back.
    pub compliance: Compliance,
}

/// Waiting contacts looked at, earliest due first, to tell when capped
/// contacts are free and why the gate deferred: a bounded read of the due
/// index, never a scan of the batch.
const COMPLIANCE_SAMPLE: usize = 512;

/// What the checks before every dial hold back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Compliance {
    /// Contacts skipped because their number is on a blocking list.
    pub suppressed: u64,
    /// Contacts the dial gate skipped.
    pub gate_skipped: u64,
    /// Waiting contacts whose number reached a frequency cap.
    pub frequency_capped: u64,
    /// When the first of them may be dialed again, as far as the next 512
    /// due contacts tell.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub frequency_capped_free_at: Option<Millis>,
    /// Waiting contacts the dial gate deferred.
    pub gate_deferred: u64,
    /// Why, most frequent first, among the next 512 due contacts.
    pub gate_deferred_reasons: Vec<ReasonCount>,
    /// The dial-gate plugin asked before the batch's dials: the batch's
    /// own, else the campaign's, if it has one.
    pub gate_plugin: Option<String>,
    /// Whose gate that is: "batch" when the batch names its own, else
    /// "campaign".
    pub gate_from: SettingSource,
}

/// How many contacts wait for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReasonCount {
    pub reason: String,
    pub count: u64,
}

fn compliance(
    store: &dyn Store,
    spec: &CampaignSpec,
    batch: &BatchRecord,
    counters: &crate::store::Counters,
) -> Result<Compliance, StoreError> {
    let batch_id = batch.id.as_str();
    let frequency_capped = counters.blocker(Blocker::FrequencyCapped);
    let gate_deferred = counters.blocker(Blocker::GateDeferred);
    let mut frequency_capped_free_at = None;
    let mut reasons: Vec<ReasonCount> = Vec::new();
    if frequency_capped > 0 || gate_deferred > 0 {
        for contact in store.due(batch_id, Millis::MAX, COMPLIANCE_SAMPLE)? {
            match contact.blocker {
                Some(Blocker::FrequencyCapped) if frequency_capped_free_at.is_none() => {
                    frequency_capped_free_at = contact.next_eligible_at;
                }
                Some(Blocker::GateDeferred) => {
                    let reason = contact
                        .blocker_reason
                        .unwrap_or_else(|| "no reason kept".to_string());
                    match reasons.iter_mut().find(|seen| seen.reason == reason) {
                        Some(seen) => seen.count += 1,
                        None => reasons.push(ReasonCount { reason, count: 1 }),
                    }
                }
                _ => {}
            }
        }
    }
    reasons.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    reasons.truncate(5);
    Ok(Compliance {
        suppressed: counters.suppressed,
        gate_skipped: counters.gate_skipped,
        frequency_capped,
        frequency_capped_free_at,
        gate_deferred,
        gate_deferred_reasons: reasons,
        gate_plugin: batch.gate_plugin_under(spec).map(str::to_string),
        gate_from: SettingSource::batch_if(batch.gate.is_some()),
    })
}

/// Where a setting or limit of a batch comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettingSource {
    /// The batch's own.
    Batch,
    /// Its campaign's.
    Campaign,
}

impl SettingSource {
    /// `Batch` when the batch's own is the one that applies.
    fn batch_if(batch_applies: bool) -> Self {
        if batch_applies {
            SettingSource::Batch
        } else {
            SettingSource::Campaign
        }
    }
}

/// The limits a batch is dialed to, and whose each is.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EffectiveLimits {
    /// Calls live at once: the tighter of the batch's and the campaign's.
    pub concurrency: u32,
    /// Dials per second: the tighter of the batch's and the campaign's.
    pub calls_per_second: f64,
    /// Attempts per contact: the batch's, else the campaign's.
    pub max_attempts: u32,
    /// Follow-ups past the attempts: the batch's, else the campaign's.
    pub max_followups: u32,
    /// "batch" when the batch's own limit is the tighter one.
    pub concurrency_from: SettingSource,
    /// "batch" when the batch's own rate is the tighter one.
    pub calls_per_second_from: SettingSource,
    /// "batch" when the batch sets its own.
    pub max_attempts_from: SettingSource,
    /// "batch" when the batch sets its own.
    pub max_followups_from: SettingSource,
    /// "batch" when the batch's own hours replace the campaign's calling
    /// window.
    pub hours_from: SettingSource,
}

impl EffectiveLimits {
    /// The limits `batch` of the campaign `spec` is dialed to.
    pub fn of(spec: &CampaignSpec, batch: &BatchRecord) -> EffectiveLimits {
        let concurrency = batch.concurrency.filter(|limit| *limit <= spec.concurrency);
        let calls_per_second = batch
            .calls_per_second
            .filter(|rate| *rate <= spec.calls_per_second);
        EffectiveLimits {
            concurrency: concurrency.unwrap_or(spec.concurrency),
            calls_per_second: calls_per_second.unwrap_or(spec.calls_per_second),
            max_attempts: batch.max_attempts_under(spec),
            max_followups: batch.max_followups_under(spec),
            concurrency_from: SettingSource::batch_if(concurrency.is_some()),
            calls_per_second_from: SettingSource::batch_if(calls_per_second.is_some()),
            max_attempts_from: SettingSource::batch_if(batch.max_attempts.is_some()),
            max_followups_from: SettingSource::batch_if(batch.max_followups.is_some()),
            hours_from: SettingSource::batch_if(batch.hours.is_some()),
        }
    }
}

/// Contacts held by one blocker code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BlockerCount {
    pub blocker: Blocker,
    pub count: u64,
}

/// The window in one zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ZoneWindow {
    /// IANA name.
    pub time_zone: String,
    pub open: bool,
    /// When it next opens, if closed.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub next_open: Option<Millis>,
    /// When it next closes, if open.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub closes_at: Option<Millis>,
}

/// Live-call limits in effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Concurrency {
    /// The tighter of the batch's and the campaign's limit.
    pub effective: u32,
    pub campaign_limit: u32,
    pub batch_limit: Option<u32>,
    pub live_in_batch: u64,
    pub live_in_campaign: u64,
    /// Calls the batch could start now.
    pub free: u64,
}

/// Dial-rate limits in effect.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Rate {
    /// The tighter of the batch's and the campaign's calls per second.
    pub effective: f64,
    pub campaign_limit: f64,
    pub batch_limit: Option<f64>,
    /// Dials per second over the last minute.
    pub current: f64,
}

/// Whether the provider asked to slow down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Throttle {
    pub throttled: bool,
    /// The latest throttle's end.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub until: Option<Millis>,
    /// Calls of this campaign refused as throttled, in total.
    pub throttled_calls: u64,
}

/// Plugin faults of the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PluginFaults {
    /// Attempts on which a plugin faulted.
    pub total: u64,
    /// In a row, up to now.
    pub consecutive: u32,
    /// Faults in a row that pause the batch.
    pub pause_after: u32,
}

/// The caller-id pool now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PoolState {
    pub size: usize,
    pub usable: usize,
}

/// The queue health of `batch_id` at `now`.
pub fn queue_health(
    store: &dyn Store,
    spec: &CampaignSpec,
    batch_id: &str,
    now: Millis,
) -> Result<QueueHealth, HealthError> {
    let batch = store.require_batch(batch_id)?;
    let counters = store.batch_counters(batch_id)?;
    let campaign_counters = store.campaign_counters(&batch.workspace, &batch.campaign_id)?;
    let totals = store.batch_totals(batch_id)?;
    let campaign_totals = store.campaign_totals(&batch.workspace, &batch.campaign_id)?;
    let budgets = limits::budgets(store, spec, &batch)?;
    let goals = limits::goals(store, spec, &batch)?;
    let (calling_window, policy, default_zone) = match &batch.hours {
        Some(hours) => (
            &hours.calling_window,
            hours.time_zone_policy,
            &hours.default_time_zone,
        ),
        None => (
            &spec.calling_window,
            spec.time_zone_policy,
            &spec.default_time_zone,
        ),
    };
    let window = CompiledWindow::new(calling_window).map_err(|source| HealthError::Window {
        campaign: spec.id.clone(),
        source,
    })?;

    let mut zones: Vec<Tz> = Vec::new();
    let zone_names = match policy {
        TimeZonePolicy::Campaign => vec![String::new()],
        TimeZonePolicy::Contact => store.batch_zones(batch_id)?,
    };
    for name in zone_names {
        let explicit = (!name.is_empty()).then_some(name.as_str());
        let zone = resolve_time_zone(explicit, "", policy, default_zone);
        if !zones.contains(&zone) {
            zones.push(zone);
        }
    }
    let windows: Vec<ZoneWindow> = zones
        .into_iter()
        .map(|zone| {
            let open = window.is_open(zone, now);
            ZoneWindow {
                time_zone: zone.name().to_string(),
                open,
                next_open: (!open).then(|| window.next_open(zone, now)).flatten(),
                closes_at: open.then(|| window.next_close(zone, now)).flatten(),
            }
        })
        .collect();

    let states: std::collections::HashMap<_, _> = store
        .number_states(&batch.workspace, &batch.campaign_id)?
        .into_iter()
        .collect();
    let (pool, _) = numbers::pool_of(spec, &batch);
    let usable = pool
        .iter()
        .filter(|number| numbers::is_usable(number, &states, now))
        .count();

    let effective = EffectiveLimits::of(spec, &batch);
    let effective_concurrency = effective.concurrency;
    let live_in_batch = counters.live();
    let live_in_campaign = campaign_counters.live();
    let free = u64::from(effective_concurrency)
        .saturating_sub(live_in_batch)
        .min(u64::from(spec.concurrency).saturating_sub(live_in_campaign));
    let throttled_until = campaign_totals.throttled_until;

    let batch_blocker = match batch.status {
        BatchStatus::Pending => Some(Blocker::ScheduledStart),
        BatchStatus::Paused if batch.status_reason.as_deref() == Some("plugin_faulted") => {
            Some(Blocker::PluginFaulted)
        }
        BatchStatus::Paused => Some(Blocker::BatchPaused),
        BatchStatus::InProgress if goals.iter().any(|goal| goal.met) => Some(Blocker::GoalReached),
        BatchStatus::InProgress if budgets.iter().any(|budget| budget.exhausted) => {
            Some(Blocker::BudgetExhausted)
        }
        BatchStatus::InProgress if !pool.is_empty() && usable == 0 => {
            Some(Blocker::NoNumberAvailable)
        }
        _ => None,
    };
    let compliance = compliance(store, spec, &batch, &counters)?;
    let dialing = batch.status == BatchStatus::InProgress
        && batch_blocker.is_none()
        && counters.waiting() > 0
        && windows.iter().any(|zone| zone.open);
    let blockers = Blocker::ALL
        .into_iter()
        .map(|blocker| BlockerCount {
            blocker,
            count: counters.blocker(blocker),
        })
        .filter(|entry| entry.count > 0)
        .collect();

    Ok(QueueHealth {
        batch_id: batch.id.clone(),
        status: batch.status,
        status_reason: batch.status_reason.clone(),
        dialing,
        batch_blocker,
        waiting: counters.waiting(),
        live: live_in_batch,
        blockers,
        next_eligible_at: store.next_eligible_at(batch_id)?,
        hours_from: effective.hours_from,
        retry_from: SettingSource::batch_if(batch.retry.is_some()),
        retry_plugin: batch.retry_plugin_under(spec).to_string(),
        windows,
        concurrency: Concurrency {
            effective: effective_concurrency,
            campaign_limit: spec.concurrency,
            batch_limit: batch.concurrency,
            live_in_batch,
            live_in_campaign,
            free,
        },
        rate: Rate {
            effective: effective.calls_per_second,
            campaign_limit: spec.calls_per_second,
            batch_limit: batch.calls_per_second,
            current: current_calls_per_second(store, batch_id, now)?,
        },
        provider_throttle: Throttle {
            throttled: throttled_until.is_some_and(|until| until > now),
            until: throttled_until,
            throttled_calls: campaign_totals.throttled,
        },
        plugin_faults: PluginFaults {
            total: totals.plugin_faults,
            consecutive: batch.consecutive_plugin_faults,
            pause_after: spec.max_consecutive_plugin_faults,
        },
        numbers: PoolState {
            size: pool.len(),
            usable,
        },
        budgets,
        goals,
        effective,
        compliance,
    })
}
