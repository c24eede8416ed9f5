//! Campaign and batch statistics for the operator: answer rate, duration,
//! cost, budget and goal progress, dispositions, sentiment, retry
//! effectiveness, A/B results, number pool health, current rate, ETA and
//! the per-minute timeline. Every figure is read from records the store
//! keeps in step with each attempt's end; nothing here scans contacts or
//! attempts, so a read costs the same for ten contacts or ten million.

use serde::Serialize;

use super::progress::BatchStatistics;
use crate::dispatch::limits::{self, BudgetProgress, GoalProgress, Scope};
use crate::dispatch::numbers;
use crate::model::{CampaignSpec, FromNumber, MINUTE_MS, Millis};
use crate::store::{
    AttemptTotals, LabelCount, MinuteTotals, NumberState, NumberTotals, Store, StoreError,
    minute_of,
};

/// Everything an operator reads about a batch or a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Statistics {
    pub scope: Scope,
    /// The batch id, or the campaign id.
    pub id: String,
    /// Ended attempts that reached the network.
    pub attempts: u64,
    pub answered: u64,
    pub busy: u64,
    pub no_answer: u64,
    pub failed: u64,
    /// Answered out of attempts, 0 to 1.
    pub answer_rate: f64,
    /// Mean talk time of answered attempts, in seconds.
    pub average_duration_seconds: f64,
    pub total_cost_micros: u64,
    /// In currency units.
    pub total_cost: f64,
    pub budgets: Vec<BudgetProgress>,
    pub goals: Vec<GoalProgress>,
    /// Attempts per disposition label.
    pub dispositions: Vec<LabelCount>,
    /// Mean sentiment (-1 to 1) of attempts that had one.
    pub average_sentiment: Option<f64>,
    pub retries: RetryEffectiveness,
    pub variants: Vec<VariantResult>,
    pub numbers: Vec<NumberHealth>,
    /// Attempts on which a plugin faulted.
    pub plugin_faults: u64,
    /// Calls the provider refused before dialing.
    pub system_retries: u64,
    /// Dials per second over the last minute (batches only, else 0).
    pub calls_per_second: f64,
    /// Seconds until every contact is final at the pace so far (batches
    /// only).
    pub estimated_time_remaining: Option<f64>,
    /// Minutes with any activity, oldest first (batches only).
    pub timeline: Vec<MinuteTotals>,
}

/// Does dialing again pay off?
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RetryEffectiveness {
    pub successes: u64,
    pub successes_from_retries: u64,
    /// Success rate of each dial: the first, the second, ...
    pub by_attempt: Vec<AttemptNumberResult>,
}

/// Results of the n-th dial to a contact.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AttemptNumberResult {
    /// 1 for first dials. The last entry also holds every later dial.
    pub attempt: u32,
    pub attempts: u64,
    pub successes: u64,
    /// 0 to 1.
    pub success_rate: f64,
}

/// Results of one A/B variant.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VariantResult {
    pub name: String,
    /// Configured weight; 0 for a variant no longer configured.
    pub weight: u32,
    pub attempts: u64,
    pub answered: u64,
    pub answer_rate: f64,
    pub successes: u64,
    /// Successes out of attempts, 0 to 1.
    pub success_rate: f64,
    pub average_duration_seconds: f64,
    pub cost_micros: u64,
    /// In currency units; none before the first success.
    pub cost_per_success: Option<f64>,
}

/// Health of one caller id.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NumberHealth {
    pub number: String,
    /// 0 for a number no longer in the pool.
    pub weight: u32,
    pub enabled: bool,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub rested_until: Option<Millis>,
    /// In rotation now.
    pub usable: bool,
    pub attempts: u64,
    pub answered: u64,
    pub answer_rate: f64,
    pub busy_rate: f64,
    pub no_answer_rate: f64,
    pub failure_rate: f64,
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn seconds(ms: u64, count: u64) -> f64 {
    ratio(ms, count) / 1_000.0
}

/// Statistics of one batch at `now`.
pub fn batch_statistics(
    store: &dyn Store,
    spec: &CampaignSpec,
    batch_id: &str,
    now: Millis,
) -> Result<Statistics, StoreError> {
    let batch = store.require_batch(batch_id)?;
    let totals = store.batch_totals(batch_id)?;
    let counters = store.batch_counters(batch_id)?;
    let (pool, _) = numbers::pool_of(spec, &batch);
    let states = store.number_states(&batch.workspace, &batch.campaign_id)?;
    let number_totals = store.batch_number_totals(batch_id)?;
    let subject = Subject {
        scope: Scope::Batch,
        id: batch_id,
        spec,
        pool,
    };
    let recorded = Recorded {
        totals: &totals,
        number_states: &states,
        number_totals,
    };
    let mut statistics = assemble(subject, recorded, now);
    statistics.budgets = limits::budgets(store, spec, &batch)?;
    statistics.goals = limits::goals(store, spec, &batch)?;
    statistics.calls_per_second = current_calls_per_second(store, batch_id, now)?;
    statistics.estimated_time_remaining =
        BatchStatistics::new(&batch, &counters, now).estimated_time_remaining;
    statistics.timeline = store.timeline(batch_id, Millis::MIN)?;
    Ok(statistics)
}

/// Statistics of a whole campaign, over all its batches, at `now`.
pub fn campaign_statistics(
    store: &dyn Store,
    spec: &CampaignSpec,
    now: Millis,
) -> Result<Statistics, StoreError> {
    let totals = store.campaign_totals(&spec.workspace, &spec.id)?;
    let counters = store.campaign_counters(&spec.workspace, &spec.id)?;
    let states = store.number_states(&spec.workspace, &spec.id)?;
    let number_totals = store.campaign_number_totals(&spec.workspace, &spec.id)?;
    let subject = Subject {
        scope: Scope::Campaign,
        id: &spec.id,
        spec,
        pool: &spec.numbers,
    };
    let recorded = Recorded {
        totals: &totals,
        number_states: &states,
        number_totals,
    };
    let mut statistics = assemble(subject, recorded, now);
    if let Some(limit) = spec.budget_micros {
        statistics.budgets.push(BudgetProgress {
            scope: Scope::Campaign,
            limit_micros: limit,
            spent_micros: counters.cost_micros,
            exhausted: counters.cost_micros >= limit,
        });
    }
    if let Some(goal) = &spec.goal {
        statistics.goals.push(GoalProgress {
            scope: Scope::Campaign,
            target: goal.target,
            reached: totals.successful_contacts,
            success_labels: goal.success_labels.clone(),
            met: totals.successful_contacts >= goal.target,
        });
    }
    Ok(statistics)
}

/// Dials per second over the last sixty seconds: the current minute so
/// far plus the part of the previous minute still inside the window.
pub fn current_calls_per_second(
    store: &dyn Store,
    batch_id: &str,
    now: Millis,
) -> Result<f64, StoreError> {
    let minute = minute_of(now);
    let previous = minute - MINUTE_MS;
    let mut recent = (0, 0);
    for entry in store.timeline(batch_id, previous)? {
        if entry.minute == previous {
            recent.0 = entry.attempts;
        } else if entry.minute == minute {
            recent.1 = entry.attempts;
        }
    }
    let into_minute = (now - minute) as f64 / MINUTE_MS as f64;
    Ok((recent.0 as f64 * (1.0 - into_minute) + recent.1 as f64) / 60.0)
}

/// What a set of statistics is of: a batch or a campaign, and the
/// caller-id pool it dials from.
struct Subject<'a> {
    scope: Scope,
    id: &'a str,
    spec: &'a CampaignSpec,
    pool: &'a [FromNumber],
}

/// What the store keeps of a subject's calls, from which its statistics
/// are assembled.
struct Recorded<'a> {
    totals: &'a AttemptTotals,
    /// Operator states of the campaign's numbers.
    number_states: &'a [(String, NumberState)],
    /// Attempts per caller id, the numbers no longer in the pool included.
    number_totals: Vec<(String, NumberTotals)>,
}

/// The statistics of `subject` from what the store recorded, without the
/// figures that need more reads (budgets, goals, rate, time remaining,
/// timeline).
fn assemble(subject: Subject<'_>, recorded: Recorded<'_>, now: Millis) -> Statistics {
    let Subject {
        scope,
        id,
        spec,
        pool,
    } = subject;
    let Recorded {
        totals,
        number_states: states,
        mut number_totals,
    } = recorded;
    let by_attempt = totals
        .by_dial
        .iter()
        .enumerate()
        .map(|(index, dial)| AttemptNumberResult {
            attempt: index as u32 + 1,
            attempts: dial.attempts,
            successes: dial.successes,
            success_rate: ratio(dial.successes, dial.attempts),
        })
        .collect();

    let mut variants: Vec<VariantResult> = spec
        .variants
        .iter()
        .map(|variant| VariantResult {
            name: variant.name.clone(),
            weight: variant.weight,
            attempts: 0,
            answered: 0,
            answer_rate: 0.0,
            successes: 0,
            success_rate: 0.0,
            average_duration_seconds: 0.0,
            cost_micros: 0,
            cost_per_success: None,
        })
        .collect();
    for seen in &totals.variants {
        let index = match variants.iter().position(|v| v.name == seen.name) {
            Some(index) => index,
            None => {
                variants.push(VariantResult {
                    name: seen.name.clone(),
                    weight: 0,
                    attempts: 0,
                    answered: 0,
                    answer_rate: 0.0,
                    successes: 0,
                    success_rate: 0.0,
                    average_duration_seconds: 0.0,
                    cost_micros: 0,
                    cost_per_success: None,
                });
                variants.len() - 1
            }
        };
        let result = &mut variants[index];
        result.attempts = seen.attempts;
        result.answered = seen.answered;
        result.answer_rate = ratio(seen.answered, seen.attempts);
        result.successes = seen.successes;
        result.success_rate = ratio(seen.successes, seen.attempts);
        result.average_duration_seconds = seconds(seen.answered_talk_ms, seen.answered);
        result.cost_micros = seen.cost_micros;
        result.cost_per_success =
            (seen.successes > 0).then(|| seen.cost_micros as f64 / 1e6 / seen.successes as f64);
    }

    let states: std::collections::HashMap<String, NumberState> = states.iter().cloned().collect();
    let mut numbers_out = Vec::with_capacity(pool.len());
    for number in pool {
        let found = number_totals.iter().position(|(n, _)| *n == number.number);
        let results = found.map_or_else(NumberTotals::default, |index| {
            number_totals.swap_remove(index).1
        });
        let (enabled, rested_until) = states
            .get(&number.number)
            .map_or((number.enabled, number.rested_until), |state| {
                (state.enabled, state.rested_until)
            });
        numbers_out.push(number_health(
            &number.number,
            number.weight,
            enabled,
            rested_until,
            numbers::is_usable(number, &states, now),
            &results,
        ));
    }
    number_totals.sort_by(|a, b| a.0.cmp(&b.0));
    for (number, results) in number_totals {
        numbers_out.push(number_health(&number, 0, false, None, false, &results));
    }

    Statistics {
        scope,
        id: id.to_string(),
        attempts: totals.attempts,
        answered: totals.answered,
        busy: totals.busy,
        no_answer: totals.no_answer,
        failed: totals.failed,
        answer_rate: ratio(totals.answered, totals.attempts),
        average_duration_seconds: seconds(totals.answered_talk_ms, totals.answered),
        total_cost_micros: totals.cost_micros,
        total_cost: totals.cost_micros as f64 / 1e6,
        budgets: Vec::new(),
        goals: Vec::new(),
        dispositions: totals.dispositions.clone(),
        average_sentiment: (totals.sentiment_count > 0)
            .then(|| totals.sentiment_micros as f64 / 1e6 / totals.sentiment_count as f64),
        retries: RetryEffectiveness {
            successes: totals.successes,
            successes_from_retries: totals.successes_from_retries,
            by_attempt,
        },
        variants,
        numbers: numbers_out,
        plugin_faults: totals.plugin_faults,
        system_retries: totals.system_retries,
        calls_per_second: 0.0,
        estimated_time_remaining: None,
        timeline: Vec::new(),
    }
}

fn number_health(
    number: &str,
    weight: u32,
    enabled: bool,
    rested_until: Option<Millis>,
    usable: bool,
    results: &NumberTotals,
) -> NumberHealth {
    NumberHealth {
        number: number.to_string(),
        weight,
        enabled,
        rested_until,
        usable,
        attempts: results.attempts,
        answered: results.answered,
        answer_rate: ratio(results.answered, results.attempts),
        busy_rate: ratio(results.busy, results.attempts),
        no_answer_rate: ratio(results.no_answer, results.attempts),
        failure_rate: ratio(results.failed, results.attempts),
    }
}
