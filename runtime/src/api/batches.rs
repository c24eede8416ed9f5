//! Batches: create from an upload (with a preview that writes nothing),
//! list, read with live counters, progress, statistics, export, controls
//! and queue health.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::ErrorBody;
use super::body::{
    StrictJson, StrictPath, StrictQuery, page_limit, parse_json, parse_time, parse_time_text,
    read_body,
};
use super::error::RowProblem;
use super::schema::{CsvUpload, ExportCsv};
use super::{ApiError, ApiResult, AppState, Caller, ErrorCode};
use crate::config::{
    GateInput, HoursInput, PluginScope, RetryInput, batch_gate, batch_hours, batch_retry,
};
use crate::dispatch::control;
use crate::import::{
    ImportMode, ImportOptions, ImportedContact, import_csv_into, import_json_into,
};
use crate::model::schema::{E164, EpochMillis, TimeInput};
use crate::model::{
    BatchGate, BatchHours, BatchRetry, BatchStatus, Blocker, CampaignSpec, ContactStatus,
    FromNumber, Goal, Millis, NumberStrategy, UploadRecord,
};
use crate::phone::resolve_time_zone;
use crate::reporting::health::{
    BlockerCount, EffectiveLimits, HealthError, QueueHealth, SettingSource, ZoneWindow,
    queue_health,
};
use crate::reporting::progress::{BatchProgress, BatchStatistics, RECENT_CALLS};
use crate::reporting::statistics::{Statistics, batch_statistics};
use crate::store::{BatchQuery, BatchRecord, ContactChunk, Counters, NewBatch, NewContact, Store};

/// Counters as the API shows them: per status and blocker by name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountersView {
    /// Contacts of the batch or campaign.
    pub total: u64,
    /// Contacts per status, every status named.
    #[schema(value_type = BTreeMap<ContactStatus, u64>)]
    pub by_status: BTreeMap<&'static str, u64>,
    /// Waiting contacts per blocker, every blocker named.
    #[schema(value_type = BTreeMap<Blocker, u64>)]
    pub by_blocker: BTreeMap<&'static str, u64>,
    /// Contacts waiting for a dial: pending, retrying or follow-up scheduled.
    pub waiting: u64,
    /// Contacts with a call live: dispatched or in progress.
    pub live: u64,
    /// Contacts in a final status.
    pub finished: u64,
    /// Attempts made, system retries included.
    pub attempts: u64,
    /// Attempts that were answered.
    pub answered: u64,
    /// Attempts that ended.
    pub ended: u64,
    /// Dials the provider refused before placing them, retried without
    /// counting against the contact.
    pub system_retries: u64,
    /// Attempts on which a policy plugin faulted and the built-in policy
    /// stood in.
    pub plugin_faults: u64,
    /// Talk time of every attempt, in milliseconds.
    pub talk_ms: u64,
    /// Cost of every attempt, in millionths of the currency unit.
    pub cost_micros: u64,
    /// Contacts waiting for their first dial.
    pub pending: u64,
    /// Contacts whose dial intent is durable, the provider being asked.
    pub dispatched: u64,
    /// Contacts with a call ringing or in conversation.
    pub in_flight: u64,
    /// Contacts waiting for a retry.
    pub retrying: u64,
    /// Contacts waiting for a follow-up they asked for.
    pub followup_scheduled: u64,
    /// Contacts answered and done.
    pub completed: u64,
    /// Contacts given up after a network or provider failure.
    pub failed: u64,
    /// Contacts given up after a busy line.
    pub busy: u64,
    /// Contacts given up after no answer.
    pub no_answer: u64,
    /// Contacts taken out by an operator, a cancel, an expiry or a goal.
    pub skipped: u64,
    /// Contacts whose every allowed attempt was used.
    pub max_retries_reached: u64,
    /// Skipped contacts whose number is on a blocking suppression list.
    pub suppressed: u64,
    /// Skipped contacts a dial-gate plugin turned down.
    pub gate_skipped: u64,
    /// Answered out of ended attempts, in percent.
    pub answer_rate: f64,
}

impl CountersView {
    pub fn new(counters: &Counters) -> Self {
        CountersView {
            total: counters.total,
            by_status: ContactStatus::ALL
                .into_iter()
                .map(|status| (status.as_str(), counters.status(status)))
                .collect(),
            by_blocker: Blocker::ALL
                .into_iter()
                .map(|blocker| (blocker.as_str(), counters.blocker(blocker)))
                .collect(),
            waiting: counters.waiting(),
            live: counters.live(),
            finished: counters.finished(),
            attempts: counters.attempts,
            answered: counters.answered,
            ended: counters.ended,
            system_retries: counters.system_retries,
            plugin_faults: counters.plugin_faults,
            talk_ms: counters.talk_ms,
            cost_micros: counters.cost_micros,
            pending: counters.status(ContactStatus::Pending),
            dispatched: counters.status(ContactStatus::Dispatched),
            in_flight: counters.status(ContactStatus::InProgress),
            retrying: counters.status(ContactStatus::Retrying),
            followup_scheduled: counters.status(ContactStatus::FollowupScheduled),
            completed: counters.status(ContactStatus::Completed),
            failed: counters.status(ContactStatus::Failed),
            busy: counters.status(ContactStatus::Busy),
            no_answer: counters.status(ContactStatus::NoAnswer),
            skipped: counters.status(ContactStatus::Skipped),
            max_retries_reached: counters.status(ContactStatus::MaxRetriesReached),
            suppressed: counters.suppressed,
            gate_skipped: counters.gate_skipped,
            answer_rate: if counters.ended == 0 {
                0.0
            } else {
                counters.answered as f64 * 100.0 / counters.ended as f64
            },
        }
    }
}

/// A batch with its live counters, under Graine's names.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchView {
    #[serde(flatten)]
    pub batch: BatchRecord,
    /// Contacts uploaded to the batch.
    pub total_contacts: u64,
    /// When the batch last changed: created, its status set, or a contact
    /// of it reaching a final status.
    #[schema(value_type = EpochMillis)]
    pub updated_at: Millis,
    pub counters: CountersView,
}

impl BatchView {
    pub fn new(batch: BatchRecord, counters: &Counters) -> Self {
        let updated_at = [Some(batch.status_at), batch.last_completed_at]
            .into_iter()
            .flatten()
            .fold(batch.created_at, Millis::max);
        BatchView {
            total_contacts: counters.total,
            updated_at,
            counters: CountersView::new(counters),
            batch,
        }
    }
}

/// The batch if it exists and belongs to the caller's workspace; 404
/// otherwise, the same answer either way.
pub(super) fn owned_batch(
    store: &dyn Store,
    caller: &Caller,
    batch_id: &str,
) -> ApiResult<BatchRecord> {
    match store.batch(batch_id)? {
        Some(batch) if batch.workspace == caller.workspace => Ok(batch),
        _ => Err(ApiError::batch_not_found(batch_id)),
    }
}

fn view(store: &dyn Store, batch: BatchRecord) -> ApiResult<BatchView> {
    let counters = store.batch_counters(&batch.id)?;
    Ok(BatchView::new(batch, &counters))
}

/// Options of an upload as query parameters; a JSON body may carry them
/// too, and then the body's win.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// True keeps the good rows and lists the skipped ones; the default,
    /// false, refuses the whole upload if a row is bad.
    skip_invalid: Option<bool>,
    /// ISO 3166 country of numbers written without a country code.
    #[param(example = "US", pattern = "^[A-Za-z]{2}$")]
    default_country: Option<String>,
    /// No dial before this time: RFC 3339 or epoch milliseconds.
    #[param(example = "2025-03-01T09:00:00Z")]
    scheduled_start: Option<String>,
    /// The batch expires at this time: RFC 3339 or epoch milliseconds.
    #[param(example = "2025-03-08T18:00:00Z")]
    end_at: Option<String>,
    /// Calls live at once, replacing the campaign's concurrency.
    #[param(minimum = 1)]
    concurrency: Option<u32>,
    /// Dials per second, replacing the campaign's.
    #[param(exclusive_minimum = 0, maximum = 10_000)]
    calls_per_second: Option<f64>,
    /// Attempts per contact, replacing the campaign's.
    #[param(minimum = 1)]
    max_attempts: Option<u32>,
    /// Follow-ups past `max_attempts` the person may ask for.
    #[param(maximum = 100)]
    max_followups: Option<u32>,
    /// Caller ids replacing the campaign's pool: "+12125550100:2,+13125550100"
    /// (an optional weight after a colon; default 1).
    #[param(example = "+12125550100:2,+13125550100")]
    numbers: Option<String>,
    /// How a caller id is chosen from the pool.
    number_strategy: Option<NumberStrategy>,
    /// Spending limit of the batch, in currency units.
    #[param(exclusive_minimum = 0, maximum = 1e12)]
    budget: Option<f64>,
    /// Contacts reaching one of `goal_labels` after which the batch completes.
    #[param(minimum = 1)]
    goal: Option<u64>,
    /// Comma-separated success labels of `goal`.
    #[param(example = "interested,booked", pattern = "[^\\s,]")]
    goal_labels: Option<String>,
    /// Working hours replacing the campaign's calling window, as the JSON
    /// of a body's `hours`.
    #[param(example = r#"{"hours":[{"days":"mon-fri","start":"09:00","end":"17:00"}]}"#)]
    hours: Option<String>,
    /// Retry strategy replacing the campaign's, as the JSON of a body's
    /// `retry`.
    #[param(example = r#"{"config":{"base_delay":"2m"}}"#)]
    retry: Option<String>,
    /// Dial gate replacing the campaign's, as the JSON of a body's `gate`.
    #[param(example = r#"{"config":{"blackout_dates":"2026-12-24"}}"#)]
    gate: Option<String>,
    /// CSV uploads: the file's name, kept with the batch beside the
    /// upload's size and row counts.
    #[param(example = "spring-renewals.csv", max_length = 255)]
    file_name: Option<String>,
}

/// A caller id of a batch's own pool, in a JSON create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NumberBody {
    #[schema(value_type = E164)]
    number: String,
    /// Share of the dials under the weighted strategy. Default: 1.
    #[schema(minimum = 1)]
    weight: Option<u32>,
    /// Default: true.
    enabled: Option<bool>,
}

/// A JSON batch create: the contacts, and optional settings that replace
/// the campaign's for this batch. Every field may also be null.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct JsonUpload<'a> {
    /// The contacts, as the JSON importer reads them: their text within the
    /// body, left unparsed until the importer reads it a contact at a time.
    #[serde(borrow)]
    #[schema(value_type = Vec<crate::import::JsonContact>, min_items = 1)]
    contacts: Option<&'a serde_json::value::RawValue>,
    /// True keeps the good contacts and lists the skipped ones; the
    /// default, false, refuses the whole upload if one is bad.
    skip_invalid: Option<bool>,
    /// ISO 3166 country of numbers written without a country code.
    #[schema(example = "US")]
    default_country: Option<String>,
    /// No dial before this time.
    #[schema(value_type = Option<TimeInput>)]
    scheduled_start: Option<serde_json::Value>,
    /// The batch expires at this time.
    #[schema(value_type = Option<TimeInput>)]
    end_at: Option<serde_json::Value>,
    /// Calls live at once, replacing the campaign's concurrency.
    #[schema(minimum = 1)]
    concurrency: Option<u32>,
    /// Dials per second, replacing the campaign's.
    #[schema(exclusive_minimum = 0, maximum = 10_000)]
    calls_per_second: Option<f64>,
    /// Attempts per contact, replacing the campaign's.
    #[schema(minimum = 1)]
    max_attempts: Option<u32>,
    /// Follow-ups past `max_attempts` the person may ask for.
    #[schema(maximum = 100)]
    max_followups: Option<u32>,
    /// Caller ids replacing the campaign's pool.
    #[schema(min_items = 1)]
    numbers: Option<Vec<NumberBody>>,
    /// How a caller id is chosen from the pool.
    number_strategy: Option<NumberStrategy>,
    /// Spending limit of the batch, in currency units.
    #[schema(exclusive_minimum = 0, maximum = 1e12)]
    budget: Option<f64>,
    /// Complete the batch once this many contacts reach a success label.
    goal: Option<Goal>,
    /// Working hours replacing the campaign's calling window for this
    /// batch's contacts: the keys of a campaign's `[campaigns.window]`.
    hours: Option<HoursInput>,
    /// Retry strategy replacing the campaign's for this batch's contacts:
    /// the campaign's plugin with some keys set otherwise, or another
    /// plugin with its config. Checked as a campaign's `retry` is,
    /// `configure` included.
    retry: Option<RetryInput>,
    /// Dial gate replacing the campaign's before this batch's dials: the
    /// campaign's gate with some keys set otherwise, or another gate
    /// plugin, even when the campaign has none. Checked as a campaign's
    /// `gate` is. Null, as a missing `gate`, keeps the campaign's: a batch
    /// cannot go without its campaign's gate.
    gate: Option<GateInput>,
}

/// Per-batch settings of an upload, checked.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
struct BatchOptions {
    #[schema(value_type = Option<EpochMillis>)]
    scheduled_start: Option<Millis>,
    #[schema(value_type = Option<EpochMillis>)]
    end_at: Option<Millis>,
    concurrency: Option<u32>,
    calls_per_second: Option<f64>,
    max_attempts: Option<u32>,
    max_followups: Option<u32>,
    numbers: Option<Vec<FromNumber>>,
    number_strategy: Option<NumberStrategy>,
    /// Spending limit in millionths of the currency unit.
    budget_micros: Option<u64>,
    goal: Option<Goal>,
    /// Working hours replacing the campaign's calling window.
    hours: Option<BatchHours>,
    /// Retry strategy replacing the campaign's.
    retry: Option<BatchRetry>,
    /// Dial gate replacing the campaign's.
    gate: Option<BatchGate>,
}

/// Working hours of an upload, checked as a campaign's window is.
fn checked_hours(hours: &HoursInput) -> ApiResult<BatchHours> {
    batch_hours("hours", hours)
        .map_err(|error| ApiError::new(ErrorCode::InvalidParameter, error.to_string()))
}

/// The plugins a batch's own `field` is checked against, or the refusal
/// of a server that runs none for batches.
fn plugin_scope<'a>(field: &str, plugins: Option<&'a PluginScope>) -> ApiResult<&'a PluginScope> {
    plugins.ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            format!(
                "\"{field}\": this server runs no plugins for batches, expected no \"{field}\""
            ),
        )
    })
}

/// A batch's own retry strategy, checked as a campaign's `retry` is,
/// against the plugins the server loads.
fn checked_retry(
    retry: &RetryInput,
    campaign: &CampaignSpec,
    plugins: Option<&PluginScope>,
) -> ApiResult<BatchRetry> {
    batch_retry("retry", retry, campaign, plugin_scope("retry", plugins)?)
        .map_err(|error| ApiError::new(ErrorCode::InvalidParameter, error.to_string()))
}

/// A batch's own dial gate, checked as a campaign's `gate` is, against the
/// plugins the server loads.
fn checked_gate(
    gate: &GateInput,
    campaign: &CampaignSpec,
    plugins: Option<&PluginScope>,
) -> ApiResult<BatchGate> {
    batch_gate("gate", gate, campaign, plugin_scope("gate", plugins)?)
        .map_err(|error| ApiError::new(ErrorCode::InvalidParameter, error.to_string()))
}

/// A query parameter holding JSON, read as the body's field of that name.
fn query_json<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> ApiResult<T> {
    serde_json::from_str(text).map_err(|error| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            format!("\"{name}\": {error}, expected the JSON of the body's \"{name}\""),
        )
    })
}

/// A caller id of a batch's pool, checked: E.164 and a positive weight.
fn from_number(number: &str, weight: u32, enabled: bool) -> ApiResult<FromNumber> {
    let number = number.trim();
    if !crate::import::is_e164(number) {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!(
                "\"numbers\": \"{number}\" is not an E.164 number, expected e.g. \"+12125550100\""
            ),
        ));
    }
    if weight == 0 {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!("\"numbers\": \"{number}\" has weight 0, expected at least 1"),
        ));
    }
    Ok(FromNumber {
        number: number.to_string(),
        weight,
        enabled,
        rested_until: None,
    })
}

/// "+12125550100:2,+13125550100" as a pool.
fn parse_numbers(text: &str) -> ApiResult<Vec<FromNumber>> {
    text.split(',')
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| match entry.split_once(':') {
            Some((number, weight)) => {
                let weight = weight.trim().parse().map_err(|_| {
                    ApiError::new(
                        ErrorCode::InvalidParameter,
                        format!(
                            "\"numbers\": weight \"{weight}\" of \"{number}\" is not a whole number"
                        ),
                    )
                })?;
                from_number(number, weight, true)
            }
            None => from_number(entry, 1, true),
        })
        .collect()
}

/// Currency units as millionths, refusing what is not a positive amount.
fn budget_micros(budget: f64) -> ApiResult<u64> {
    if !(budget.is_finite() && budget > 0.0 && budget <= 1e12) {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!("\"budget\" is {budget}, expected a positive amount in currency units"),
        ));
    }
    Ok((budget * 1e6).round() as u64)
}

/// An upload's batch options and its contacts, not yet read.
struct UploadPlan {
    options: BatchOptions,
    /// The batch's own retry strategy and dial gate, as given: checked
    /// against the campaign by [`UploadPlan::check_plugins`].
    retry: Option<RetryInput>,
    gate: Option<GateInput>,
    import: ImportOptions,
    contacts: UploadContacts,
}

/// Where an upload's contacts are read from.
enum UploadContacts {
    Csv(axum::body::Bytes),
    /// The body's `contacts` array, as JSON text: a slice of the body.
    Json(axum::body::Bytes),
}

/// How many contacts travel from the importer to the store at a time.
const UPLOAD_CHUNK: usize = 10_000;

fn check_options(options: &BatchOptions, now: Millis) -> ApiResult<()> {
    let bad = |message: String| Err(ApiError::new(ErrorCode::InvalidParameter, message));
    if options.concurrency == Some(0) {
        return bad("\"concurrency\" is 0, expected at least 1".to_string());
    }
    if options.max_attempts == Some(0) {
        return bad("\"max_attempts\" is 0, expected at least 1".to_string());
    }
    if let Some(followups) = options.max_followups.filter(|count| *count > 100) {
        return bad(format!(
            "\"max_followups\" is {followups}, expected 0 to 100"
        ));
    }
    if let Some(rate) = options.calls_per_second
        && !(rate.is_finite() && rate > 0.0 && rate <= 10_000.0)
    {
        return bad(format!(
            "\"calls_per_second\" is {rate}, expected more than 0 and at most 10000"
        ));
    }
    if options.numbers.as_ref().is_some_and(|pool| pool.is_empty()) {
        return bad("\"numbers\" is empty, expected at least one caller id".to_string());
    }
    if let Some(goal) = &options.goal {
        if goal.target == 0 {
            return bad("\"goal\" target is 0, expected at least 1".to_string());
        }
        if goal
            .success_labels
            .iter()
            .all(|label| label.trim().is_empty())
        {
            return bad(
                "\"goal\" names no success label, expected e.g. \"interested\"".to_string(),
            );
        }
    }
    if let Some(end) = options.end_at {
        let start = options.scheduled_start.unwrap_or(now);
        if end <= start {
            return bad(format!(
                "\"end_at\" ({end}) is not after the start ({start}), expected a later time"
            ));
        }
    }
    Ok(())
}

fn content_type(headers: &HeaderMap) -> ApiResult<&'static str> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("application/json");
    if value.starts_with("text/csv") {
        Ok("text/csv")
    } else if value.starts_with("application/json") {
        Ok("application/json")
    } else {
        Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("content type \"{value}\", expected \"application/json\" or \"text/csv\""),
        ))
    }
}

/// Reads an upload's batch options: from the query, and for JSON from the
/// body too. A CSV body is kept as it came; its contacts are read later,
/// as they are stored.
fn plan_upload(
    kind: &str,
    query: UploadQuery,
    bytes: axum::body::Bytes,
    force_skip_invalid: bool,
    max_rows: usize,
    now: Millis,
) -> ApiResult<UploadPlan> {
    let mut options = BatchOptions {
        scheduled_start: query
            .scheduled_start
            .as_deref()
            .map(|text| parse_time_text("scheduled_start", text))
            .transpose()?,
        end_at: query
            .end_at
            .as_deref()
            .map(|text| parse_time_text("end_at", text))
            .transpose()?,
        concurrency: query.concurrency,
        calls_per_second: query.calls_per_second,
        max_attempts: query.max_attempts,
        max_followups: query.max_followups,
        numbers: query.numbers.as_deref().map(parse_numbers).transpose()?,
        number_strategy: query.number_strategy,
        budget_micros: query.budget.map(budget_micros).transpose()?,
        goal: match (query.goal, query.goal_labels) {
            (None, None) => None,
            (Some(target), Some(labels)) => Some(Goal {
                target,
                success_labels: labels
                    .split(',')
                    .map(|label| label.trim().to_string())
                    .filter(|label| !label.is_empty())
                    .collect(),
            }),
            _ => {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameter,
                    "\"goal\" and \"goal_labels\" go together, expected both or neither",
                ));
            }
        },
        hours: query
            .hours
            .as_deref()
            .map(|text| checked_hours(&query_json("hours", text)?))
            .transpose()?,
        retry: None,
        gate: None,
    };
    let mut retry: Option<RetryInput> = query
        .retry
        .as_deref()
        .map(|text| query_json("retry", text))
        .transpose()?;
    let mut gate: Option<GateInput> = query
        .gate
        .as_deref()
        .map(|text| query_json("gate", text))
        .transpose()?;
    let mut skip_invalid = query.skip_invalid.unwrap_or(false);
    let mut country = query.default_country;
    let contacts = if kind == "text/csv" {
        UploadContacts::Csv(bytes)
    } else {
        let body: JsonUpload = parse_json(&bytes)?;
        if let Some(at) = &body.scheduled_start {
            options.scheduled_start = Some(parse_time("scheduled_start", at)?);
        }
        if let Some(at) = &body.end_at {
            options.end_at = Some(parse_time("end_at", at)?);
        }
        options.concurrency = body.concurrency.or(options.concurrency);
        options.calls_per_second = body.calls_per_second.or(options.calls_per_second);
        options.max_attempts = body.max_attempts.or(options.max_attempts);
        options.max_followups = body.max_followups.or(options.max_followups);
        if let Some(numbers) = &body.numbers {
            options.numbers = Some(
                numbers
                    .iter()
                    .map(|entry| {
                        from_number(
                            &entry.number,
                            entry.weight.unwrap_or(1),
                            entry.enabled.unwrap_or(true),
                        )
                    })
                    .collect::<ApiResult<_>>()?,
            );
        }
        options.number_strategy = body.number_strategy.or(options.number_strategy);
        if let Some(budget) = body.budget {
            options.budget_micros = Some(budget_micros(budget)?);
        }
        options.goal = body.goal.or(options.goal);
        if let Some(hours) = &body.hours {
            options.hours = Some(checked_hours(hours)?);
        }
        retry = body.retry.or(retry);
        gate = body.gate.or(gate);
        skip_invalid = body.skip_invalid.unwrap_or(skip_invalid);
        country = body.default_country.or(country);
        let contacts = body.contacts.ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidBody,
                "the body has no \"contacts\", expected an array of contacts",
            )
        })?;
        // The raw text borrows from `bytes`; its place there makes a slice
        // of the body without copying it.
        let start = contacts.get().as_ptr() as usize - bytes.as_ptr() as usize;
        UploadContacts::Json(bytes.slice(start..start + contacts.get().len()))
    };
    check_options(&options, now)?;
    let import = import_options(
        skip_invalid || force_skip_invalid,
        country.as_deref(),
        max_rows,
    )?;
    Ok(UploadPlan {
        options,
        retry,
        gate,
        import,
        contacts,
    })
}

impl UploadPlan {
    /// Checks the batch's own retry strategy and dial gate, if it has
    /// them, against its campaign: they may run the plugins' `configure`,
    /// so it blocks.
    fn check_plugins(
        &mut self,
        campaign: &CampaignSpec,
        plugins: Option<&PluginScope>,
    ) -> ApiResult<()> {
        if let Some(retry) = &self.retry {
            self.options.retry = Some(checked_retry(retry, campaign, plugins)?);
        }
        if let Some(gate) = &self.gate {
            self.options.gate = Some(checked_gate(gate, campaign, plugins)?);
        }
        Ok(())
    }
}

/// The campaign as a batch's contacts see it: its zone policy and default
/// zone replaced by the batch's hours, if any.
fn under_hours(mut spec: CampaignSpec, hours: Option<&BatchHours>) -> CampaignSpec {
    if let Some(hours) = hours {
        spec.time_zone_policy = hours.time_zone_policy;
        spec.default_time_zone = hours.default_time_zone.clone();
    }
    spec
}

/// Reads and checks an upload's contacts, handing each that passes to
/// `sink` as it is read; answers the rows left out.
fn read_contacts(
    spec: &CampaignSpec,
    contacts: &UploadContacts,
    import: &ImportOptions,
    sink: &mut dyn FnMut(NewContact),
) -> ApiResult<(usize, Vec<RowProblem>)> {
    let mut to_new = |contact: ImportedContact| {
        sink(NewContact {
            contact_id: contact.id.unwrap_or_else(|| format!("row-{}", contact.row)),
            time_zone: resolve_time_zone(
                contact.time_zone.as_deref(),
                &contact.phone,
                spec.time_zone_policy,
                &spec.default_time_zone,
            )
            .name()
            .to_string(),
            phone: contact.phone,
            name: contact.name,
            attributes: contact.attributes,
            variant: None,
        })
    };
    let summary = match contacts {
        UploadContacts::Csv(bytes) => import_csv_into(bytes.as_ref(), import, &mut to_new)?,
        UploadContacts::Json(text) => import_json_into(text.as_ref(), import, &mut to_new)?,
    };
    Ok((
        summary.accepted,
        summary.skipped.iter().map(RowProblem::from).collect(),
    ))
}

/// Reads an upload's contacts on this thread and sends them in chunks to
/// a create reading `chunks` on another, so the upload is never whole in
/// memory twice over. The create is told to abandon the batch unless every
/// contact was read and at least one passed.
fn feed_contacts(
    spec: &CampaignSpec,
    contacts: &UploadContacts,
    import: &ImportOptions,
    upload: Option<UploadRecord>,
    chunks: std::sync::mpsc::SyncSender<Option<ContactChunk>>,
) -> ApiResult<(usize, Vec<RowProblem>)> {
    let mut chunk = Vec::with_capacity(UPLOAD_CHUNK);
    // Once the create stops listening (it failed, or it answered an
    // earlier batch for the same idempotency key) the contacts are still
    // checked, for the rows a repeated request reports.
    let mut listening = true;
    let read = read_contacts(spec, contacts, import, &mut |contact| {
        if !listening {
            return;
        }
        chunk.push(contact);
        if chunk.len() == UPLOAD_CHUNK {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(UPLOAD_CHUNK));
            listening = chunks.send(Some(ContactChunk::Contacts(full))).is_ok();
        }
    });
    // The create may be gone already; then nothing is left to tell.
    match &read {
        Ok((accepted, skipped)) if *accepted > 0 => {
            let _ = chunks.send(Some(ContactChunk::Contacts(chunk)));
            if let Some(mut upload) = upload {
                upload.valid = *accepted as u64;
                upload.invalid = skipped.len() as u64;
                upload.rows = upload.valid + upload.invalid;
                upload.skipped_rows = skipped
                    .iter()
                    .take(MAX_SKIPPED_ROWS_KEPT)
                    .map(|problem| problem.row as u64)
                    .collect();
                let _ = chunks.send(Some(ContactChunk::Upload(upload)));
            }
            let _ = chunks.send(None);
        }
        _ => {
            let _ = chunks.send(Some(ContactChunk::Abandon));
        }
    }
    read
}

/// Skipped rows a batch keeps the numbers of; the rest are counted.
const MAX_SKIPPED_ROWS_KEPT: usize = 100;

/// The chunks [`feed_contacts`] sends, as a create reads them: a reader
/// that stops without saying it is done (it panicked) abandons the batch.
fn received_chunks(
    chunks: std::sync::mpsc::Receiver<Option<ContactChunk>>,
) -> impl Iterator<Item = ContactChunk> {
    std::iter::from_fn(move || match chunks.recv() {
        Ok(chunk) => chunk,
        Err(_) => Some(ContactChunk::Abandon),
    })
}

fn import_options(
    skip_invalid: bool,
    country: Option<&str>,
    max_rows: usize,
) -> ApiResult<ImportOptions> {
    let mode = if skip_invalid {
        ImportMode::SkipInvalid
    } else {
        ImportMode::Strict
    };
    let mut options = ImportOptions::new(mode);
    options.max_rows = max_rows;
    if let Some(country) = country {
        options = options.with_default_country(country).map_err(|error| {
            ApiError::new(
                ErrorCode::InvalidParameter,
                format!("\"default_country\": {error}"),
            )
        })?;
    }
    Ok(options)
}

/// A batch create's answer.
#[derive(Serialize, ToSchema)]
pub struct Created {
    batch: BatchView,
    /// False when the Idempotency-Key named a batch created before.
    created: bool,
    /// Rows left out of a `skip_invalid` upload.
    skipped: Vec<RowProblem>,
}

#[utoipa::path(
    post,
    path = "/v1/campaigns/{campaign_id}/batches",
    operation_id = "create_batch",
    tag = "batches",
    summary = "Creates a batch from JSON contacts or a CSV upload; an Idempotency-Key header makes retries safe",
    params(
        ("campaign_id" = String, Path, description = "The campaign, as its config names it"),
        UploadQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "A retried create with the same key and request answers the batch created first; another request under the same key is 409 idempotency_conflict", max_length = 255, min_length = 1, pattern = "^[!-~]+$"),
    ),
    request_body(content(
        (JsonUpload = "application/json"),
        (CsvUpload = "text/csv"),
    )),
    responses(
        (status = 201, description = "The batch was created", body = Created),
        (status = 200, description = "A retry under the same Idempotency-Key: the batch created first", body = Created),
        (status = 404, description = "No such campaign in the key's workspace", body = ErrorBody),
        (status = 409, description = "The Idempotency-Key was used for another request", body = ErrorBody),
        (status = 413, description = "The upload is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "Neither JSON nor CSV", body = ErrorBody),
        (status = 422, description = "Contacts refused: the rows say which and why", body = ErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(campaign_id): StrictPath<String>,
    StrictQuery(query): StrictQuery<UploadQuery>,
    request: Request,
) -> ApiResult<Response> {
    let spec = state.campaign(&caller, &campaign_id)?.clone();
    let headers = request.headers().clone();
    let kind = content_type(&headers)?;
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => {
            let key = value.to_str().unwrap_or_default().trim();
            if key.is_empty() || key.len() > 255 {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameter,
                    "the Idempotency-Key header must be 1 to 255 visible characters",
                ));
            }
            Some(key.to_string())
        }
    };
    let raw_query = request.uri().query().unwrap_or_default().to_string();
    let bytes = read_body(request, &state).await?;
    let mut hasher = Sha256::new();
    for part in [
        campaign_id.as_bytes(),
        kind.as_bytes(),
        raw_query.as_bytes(),
        &bytes,
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    let fingerprint = hex::encode(hasher.finalize());
    let now = state.inner.clock.now();
    let upload = if kind == "text/csv" {
        let file_name = query.file_name.as_deref().map(str::trim);
        if file_name.is_some_and(|name| name.is_empty() || name.chars().count() > 255) {
            return Err(ApiError::new(
                ErrorCode::InvalidParameter,
                "\"file_name\" must be 1 to 255 characters",
            ));
        }
        Some(UploadRecord {
            file_name: file_name.map(str::to_string),
            bytes: bytes.len() as u64,
            rows: 0,
            valid: 0,
            invalid: 0,
            skipped_rows: Vec::new(),
            uploaded_by: caller.actor(),
            uploaded_at: now,
        })
    } else {
        None
    };
    let max_rows = state.inner.settings.max_contacts_per_batch;
    let plugins = state.inner.plugins.clone();
    let campaign = spec.clone();
    let plan = tokio::task::spawn_blocking(move || {
        let mut plan = plan_upload(kind, query, bytes, false, max_rows, now)?;
        plan.check_plugins(&campaign, plugins.as_ref())?;
        ApiResult::Ok(plan)
    })
    .await
    .map_err(ApiError::internal)??;
    let options = plan.options;
    let spec = under_hours(spec, options.hours.as_ref());
    let new = NewBatch {
        workspace: caller.workspace.clone(),
        campaign_id: campaign_id.clone(),
        created_at: now,
        scheduled_start: options.scheduled_start,
        end_at: options.end_at,
        concurrency: options.concurrency,
        max_attempts: options.max_attempts,
        max_followups: options.max_followups,
        calls_per_second: options.calls_per_second,
        numbers: options.numbers,
        number_strategy: options.number_strategy,
        budget_micros: options.budget_micros,
        goal: options.goal,
        hours: options.hours,
        retry: options.retry,
        gate: options.gate,
        idempotency_key: idempotency_key.clone(),
        request_sha256: Some(fingerprint.clone()),
        created_by: caller.actor(),
        contacts: Vec::new(),
    };
    // The contacts are read on one thread and stored on another, a chunk
    // at a time.
    let (send, receive) = std::sync::mpsc::sync_channel(1);
    let (import, contacts) = (plan.import, plan.contacts);
    let reading =
        tokio::task::spawn_blocking(move || feed_contacts(&spec, &contacts, &import, upload, send));
    let creating = state.blocking(move |store| {
        let created = store.create_batch_in_chunks(new, &mut received_chunks(receive))?;
        let Some(created) = created else {
            return Ok(None);
        };
        if !created.created && created.batch.request_sha256.as_deref() != Some(&fingerprint) {
            return Err(ApiError::new(ErrorCode::IdempotencyConflict,
                format!(
                    "Idempotency-Key \"{}\" was used for batch \"{}\" with a different request, expected the same request or a new key",
                    idempotency_key.unwrap_or_default(),
                    created.batch.id
                ),
            ));
        }
        Ok(Some((created.created, view(store, created.batch)?)))
    });
    let (read, created) = tokio::join!(reading, creating);
    // A refused file is the answer even when the create failed meanwhile.
    let (accepted, skipped) = read.map_err(ApiError::internal)??;
    if accepted == 0 {
        return Err(ApiError::new(
            ErrorCode::InvalidContacts,
            "the upload has no valid contacts, expected at least one",
        ));
    }
    let (created, view) = created?.ok_or_else(|| {
        ApiError::internal("the create was abandoned though every contact was read")
    })?;
    tracing::info!(batch = %view.batch.id, campaign = %campaign_id, contacts = view.counters.total, created, "batch created");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(Created {
            batch: view,
            created,
            skipped,
        }),
    )
        .into_response())
}

/// What a create of the same upload would do.
#[derive(Serialize, ToSchema)]
pub struct Preview {
    /// Contacts that would be created.
    valid: usize,
    /// Rows that would be refused (strict) or skipped (`skip_invalid`).
    invalid: usize,
    rows: Vec<RowProblem>,
    /// The first contacts as they would be stored, time zone resolved.
    sample: Vec<PreviewContact>,
    /// The batch settings the upload would give, checked.
    options: BatchOptions,
}

/// A contact as a create would store it.
#[derive(Serialize, ToSchema)]
struct PreviewContact {
    contact_id: String,
    #[schema(value_type = E164)]
    phone: String,
    name: Option<String>,
    time_zone: String,
    attributes: BTreeMap<String, String>,
}

/// Rows shown in a preview's sample.
const PREVIEW_SAMPLE: usize = 20;

#[utoipa::path(
    post,
    path = "/v1/campaigns/{campaign_id}/batches/preview",
    operation_id = "preview_batch",
    tag = "batches",
    summary = "Validates an upload without creating anything: good rows, bad rows with reasons",
    params(("campaign_id" = String, Path, description = "The campaign, as its config names it"), UploadQuery),
    request_body(content(
        (JsonUpload = "application/json"),
        (CsvUpload = "text/csv"),
    )),
    responses(
        (status = 200, description = "What a create would do", body = Preview),
        (status = 404, description = "No such campaign in the key's workspace", body = ErrorBody),
        (status = 413, description = "The upload is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "Neither JSON nor CSV", body = ErrorBody),
        (status = 422, description = "The upload cannot be read as contacts at all", body = ErrorBody),
    ),
)]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(campaign_id): StrictPath<String>,
    StrictQuery(query): StrictQuery<UploadQuery>,
    request: Request,
) -> ApiResult<Json<Preview>> {
    let spec = state.campaign(&caller, &campaign_id)?.clone();
    let kind = content_type(request.headers())?;
    let bytes = read_body(request, &state).await?;
    let now = state.inner.clock.now();
    let max_rows = state.inner.settings.max_contacts_per_batch;
    let plugins = state.inner.plugins.clone();
    let (plan, accepted, skipped, sample) = tokio::task::spawn_blocking(move || {
        let mut plan = plan_upload(kind, query, bytes, true, max_rows, now)?;
        plan.check_plugins(&spec, plugins.as_ref())?;
        let spec = under_hours(spec, plan.options.hours.as_ref());
        let mut sample = Vec::with_capacity(PREVIEW_SAMPLE);
        let (accepted, skipped) =
            read_contacts(&spec, &plan.contacts, &plan.import, &mut |contact| {
                if sample.len() < PREVIEW_SAMPLE {
                    sample.push(contact);
                }
            })?;
        ApiResult::Ok((plan, accepted, skipped, sample))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(Preview {
        valid: accepted,
        invalid: skipped.len(),
        sample: sample
            .into_iter()
            .map(|contact| PreviewContact {
                contact_id: contact.contact_id,
                phone: contact.phone,
                name: contact.name,
                time_zone: contact.time_zone,
                attributes: contact.attributes.into_iter().collect(),
            })
            .collect(),
        rows: skipped,
        options: plan.options,
    }))
}

/// Filters and paging of the batch list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this campaign's batches.
    campaign: Option<String>,
    /// Only batches with this status.
    status: Option<BatchStatus>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size: 1 to 1000, default 50.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// A page of batches.
#[derive(Serialize, ToSchema)]
pub struct BatchPage {
    batches: Vec<BatchView>,
    /// Where the next page starts; null on the last page.
    next_cursor: Option<String>,
}

/// Most batches looked at for one filtered page; the page then ends early
/// with a cursor to go on from.
const MAX_SCAN: usize = 10_000;

#[utoipa::path(
    get,
    path = "/v1/batches",
    operation_id = "list_batches",
    tag = "batches",
    summary = "The workspace's batches, newest first",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of batches", body = BatchPage),
        (status = 404, description = "The campaign filter names no campaign of the workspace", body = ErrorBody),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(query): StrictQuery<ListQuery>,
) -> ApiResult<Json<BatchPage>> {
    let limit = page_limit(query.limit)?;
    if let Some(campaign) = &query.campaign {
        state.campaign(&caller, campaign)?;
    }
    let page = state
        .blocking(move |store| {
            let mut batches = Vec::new();
            let mut cursor = query.cursor.clone();
            let mut scanned = 0;
            loop {
                let page = store.list_batches(&BatchQuery {
                    workspace: caller.workspace.clone(),
                    campaign_id: query.campaign.clone(),
                    cursor: cursor.clone(),
                    limit: limit - batches.len(),
                })?;
                scanned += page.items.len();
                for batch in page.items {
                    if query.status.is_none_or(|status| status == batch.status) {
                        batches.push(view(store, batch)?);
                    }
                }
                cursor = page.next_cursor;
                if cursor.is_none() || batches.len() == limit || scanned >= MAX_SCAN {
                    break;
                }
            }
            Ok(BatchPage {
                batches,
                next_cursor: cursor,
            })
        })
        .await?;
    Ok(Json(page))
}

#[utoipa::path(
    get,
    path = "/v1/batches/{batch_id}",
    operation_id = "get_batch",
    tag = "batches",
    summary = "A batch with its live counters",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\"")),
    responses(
        (status = 200, description = "The batch", body = BatchView),
        (status = 404, description = "No such batch in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(batch_id): StrictPath<String>,
) -> ApiResult<Json<BatchView>> {
    state
        .blocking(move |store| view(store, owned_batch(store, &caller, &batch_id)?))
        .await
        .map(Json)
}

#[utoipa::path(
    get,
    path = "/v1/batches/{batch_id}/status",
    operation_id = "batch_status",
    tag = "batches",
    summary = "Progress: status, waiting, active, completed, failed, recent calls",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\"")),
    responses(
        (status = 200, description = "Progress, with times in epoch milliseconds", body = BatchProgress),
        (status = 404, description = "No such batch in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(batch_id): StrictPath<String>,
) -> ApiResult<Json<BatchProgress>> {
    state
        .blocking(move |store| {
            let batch = owned_batch(store, &caller, &batch_id)?;
            let counters = store.batch_counters(&batch.id)?;
            let recent = store.recent_calls(&batch.id, RECENT_CALLS)?;
            Ok(BatchProgress::new(&batch, &counters, recent))
        })
        .await
        .map(Json)
}

/// A batch's statistics: the progress figures, every counter and the
/// monitoring metrics.
#[derive(Serialize, ToSchema)]
pub struct StatsView {
    #[serde(flatten)]
    statistics: BatchStatistics,
    /// Mean talk time of answered calls, in seconds.
    average_call_duration: f64,
    counters: CountersView,
    /// Monitoring metrics: answer rate, cost, budget and goal, dispositions,
    /// sentiment, retry effectiveness, variants, number pool, timeline.
    metrics: Statistics,
}

#[utoipa::path(
    get,
    path = "/v1/batches/{batch_id}/stats",
    operation_id = "batch_stats",
    tag = "batches",
    summary = "Statistics: rates, estimates and every counter",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\"")),
    responses(
        (status = 200, description = "Statistics", body = StatsView),
        (status = 404, description = "No such batch in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(batch_id): StrictPath<String>,
) -> ApiResult<Json<StatsView>> {
    let now = state.inner.clock.now();
    let batch = {
        let caller = caller.clone();
        state
            .blocking(move |store| owned_batch(store, &caller, &batch_id))
            .await?
    };
    let spec = state.campaign(&caller, &batch.campaign_id)?.clone();
    state
        .blocking(move |store| {
            let counters = store.batch_counters(&batch.id)?;
            let progress = BatchProgress::new(&batch, &counters, Vec::new());
            Ok(StatsView {
                statistics: BatchStatistics::new(&batch, &counters, now),
                average_call_duration: progress.average_call_duration,
                counters: CountersView::new(&counters),
                metrics: batch_statistics(store, &spec, &batch.id, now)?,
            })
        })
        .await
        .map(Json)
}

/// Contacts read per chunk of a streamed export.
const EXPORT_CHUNK: usize = 500;
pub(super) const EXPORT_HEADER: [&str; 21] = [
    "seq",
    "contact_id",
    "phone",
    "name",
    "time_zone",
    "status",
    "blocker",
    "disposition",
    "attempts",
    "last_outcome",
    "talk_seconds",
    "cost",
    "from_number",
    "variant",
    "final_reason",
    "last_attempt_at",
    "max_attempts",
    "followups",
    "max_followups",
    "blocker_reason",
    "next_eligible_at",
];

#[utoipa::path(
    get,
    path = "/v1/batches/{batch_id}/export.csv",
    operation_id = "export_batch",
    tag = "batches",
    summary = "Every contact as a CSV row, streamed",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\"")),
    responses(
        (status = 200, description = "A header row, then one row per contact in upload order", body = ExportCsv, content_type = "text/csv"),
        (status = 404, description = "No such batch in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(batch_id): StrictPath<String>,
) -> ApiResult<Response> {
    let batch = {
        let batch_id = batch_id.clone();
        let caller = caller.clone();
        state
            .blocking(move |store| owned_batch(store, &caller, &batch_id))
            .await?
    };
    let limits = super::contacts::DialLimits::of(&state, &caller, &batch);
    let limit_text = |limit: Option<u32>| limit.map(|n| n.to_string()).unwrap_or_default();
    let (max_attempts, max_followups) = (
        limit_text(limits.max_attempts),
        limit_text(limits.max_followups),
    );
    let store = state.inner.store.clone();
    let now = state.inner.clock.now();
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    // Chunks are produced off the async workers and sent as they are
    // ready, so an export of any size holds one chunk in memory.
    tokio::task::spawn_blocking(move || {
        let mut cursor = None;
        let mut first = true;
        loop {
            let page = store.list_contacts(&crate::store::ContactQuery {
                batch_id: batch.id.clone(),
                status: None,
                cursor: cursor.clone(),
                limit: EXPORT_CHUNK,
            });
            let page = match page {
                Ok(page) => page,
                Err(error) => {
                    tracing::error!(batch = %batch.id, error = %error, "export failed");
                    let _ = sender.blocking_send(Err(std::io::Error::other(error.to_string())));
                    return;
                }
            };
            let mut writer = csv::Writer::from_writer(Vec::new());
            let mut wrote = Ok(());
            if first {
                wrote = writer.write_record(EXPORT_HEADER);
                first = false;
            }
            for contact in &page.items {
                if wrote.is_err() {
                    break;
                }
                let blocker = crate::reporting::progress::effective_blocker(&batch, contact, now);
                wrote = writer.write_record([
                    contact.seq.to_string(),
                    contact.contact_id.clone(),
                    contact.phone.clone(),
                    contact.name.clone().unwrap_or_default(),
                    contact.time_zone.clone(),
                    contact.status.as_str().to_string(),
                    blocker.map(|b| b.as_str().to_string()).unwrap_or_default(),
                    contact.last_disposition.clone().unwrap_or_default(),
                    contact.attempts_made.to_string(),
                    contact
                        .last_outcome
                        .map(|o| o.as_str().to_string())
                        .unwrap_or_default(),
                    format!("{:.3}", contact.total_talk_ms as f64 / 1_000.0),
                    format!("{:.6}", contact.total_cost_micros as f64 / 1e6),
                    contact.from_number.clone().unwrap_or_default(),
                    contact.variant.clone().unwrap_or_default(),
                    contact.final_reason.clone().unwrap_or_default(),
                    contact
                        .last_attempt_at
                        .map(|at| at.to_string())
                        .unwrap_or_default(),
                    max_attempts.clone(),
                    contact.followups_made.to_string(),
                    max_followups.clone(),
                    contact.blocker_reason.clone().unwrap_or_default(),
                    contact
                        .next_eligible_at
                        .filter(|_| contact.status.is_waiting())
                        .map(|at| at.to_string())
                        .unwrap_or_default(),
                ]);
            }
            let chunk = wrote.map_err(std::io::Error::other).and_then(|()| {
                writer
                    .into_inner()
                    .map_err(|e| std::io::Error::other(e.to_string()))
            });
            let failed = chunk.is_err();
            if sender.blocking_send(chunk).is_err() || failed {
                return;
            }
            cursor = page.next_cursor;
            if cursor.is_none() {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{batch_id}.csv\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The body of a control request.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlBody {
    /// Why, recorded with the status change.
    #[schema(max_length = 500, example = "carrier maintenance")]
    reason: Option<String>,
}

impl ControlBody {
    fn note(&self) -> ApiResult<Option<&str>> {
        match self.reason.as_deref() {
            Some(reason) if reason.chars().count() > 500 => Err(ApiError::new(
                ErrorCode::InvalidBody,
                "\"reason\" is longer than 500 characters",
            )),
            other => Ok(other),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Control {
    Pause,
    Resume,
    Cancel,
    Dispatch,
}

fn illegal(batch: &BatchRecord, action: &str) -> ApiError {
    ApiError::new(
        ErrorCode::IllegalTransition,
        format!(
            "batch \"{}\" is {}, it cannot be {action}",
            batch.id, batch.status
        ),
    )
}

/// Runs a control; asking for the state a batch already has is answered
/// with the batch as it is, so retries are harmless.
fn apply(
    store: &dyn Store,
    caller: &Caller,
    batch_id: &str,
    control: Control,
    note: Option<&str>,
    now: Millis,
) -> ApiResult<BatchRecord> {
    let batch = owned_batch(store, caller, batch_id)?;
    let by = caller.actor();
    let done = matches!(
        (control, batch.status),
        (Control::Pause, BatchStatus::Paused)
            | (
                Control::Resume,
                BatchStatus::Pending | BatchStatus::InProgress
            )
            | (Control::Cancel, BatchStatus::Cancelled)
    );
    if done {
        return Ok(batch);
    }
    let result = match control {
        Control::Pause => control::pause(store, batch_id, &by, note, now),
        Control::Resume => {
            if batch.status != BatchStatus::Paused {
                return Err(illegal(&batch, "resumed"));
            }
            control::resume(store, batch_id, &by, note, now)
        }
        Control::Cancel => control::cancel(store, batch_id, &by, note, now),
        Control::Dispatch => {
            if batch.status.is_final() || batch.status == BatchStatus::Paused {
                return Err(illegal(&batch, "dispatched"));
            }
            control::force_dispatch(store, batch_id, &by, note, now)
        }
    };
    match result {
        Ok(batch) => Ok(batch),
        Err(crate::store::StoreError::IllegalTransition(_)) => {
            // Another request may have got there first with the same aim.
            let now_batch = owned_batch(store, caller, batch_id)?;
            let reached = matches!(
                (control, now_batch.status),
                (Control::Pause, BatchStatus::Paused)
                    | (Control::Cancel, BatchStatus::Cancelled)
                    | (
                        Control::Resume,
                        BatchStatus::InProgress | BatchStatus::Pending
                    )
            );
            if reached {
                Ok(now_batch)
            } else {
                let action = match control {
                    Control::Pause => "paused",
                    Control::Resume => "resumed",
                    Control::Cancel => "cancelled",
                    Control::Dispatch => "dispatched",
                };
                Err(illegal(&now_batch, action))
            }
        }
        Err(error) => Err(error.into()),
    }
}

async fn control_handler(
    state: AppState,
    caller: Caller,
    batch_id: String,
    body: ControlBody,
    control: Control,
) -> ApiResult<Json<BatchView>> {
    body.note()?;
    let now = state.inner.clock.now();
    state
        .blocking(move |store| {
            let batch = apply(store, &caller, &batch_id, control, body.note()?, now)?;
            tracing::info!(batch = %batch.id, status = %batch.status, by = %caller.actor(), "batch control");
            view(store, batch)
        })
        .await
        .map(Json)
}

#[utoipa::path(
    post,
    path = "/v1/batches/{batch_id}/pause",
    operation_id = "pause_batch",
    tag = "controls",
    summary = "Stops new dials; live calls finish. Idempotent",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\"")),
    request_body(content = Option<ControlBody>, content_type = "application/json", description = "Optional; an empty body is no reason"),
    responses(
        (status = 200, description = "The batch after the change, or as it was when it already had that state", body = BatchView),
        (status = 404, description = "No such batch in the key's workspace", body = ErrorBody),
        (status = 409, description = "The batch's status does not allow it", body = ErrorBody),
        (status = 415, description = "A body that is not JSON", body = ErrorBody),
    ),
)]
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(batch_id): StrictPath<String>,
    StrictJson(body): StrictJson<ControlBody>,
) -> ApiResult<Json<BatchView>> {
    control_handler(state, caller, batch_id, body, Control::Pause).await
}

#[utoipa::path(
    post,
    path = "/v1/batches/{batch_id}/resume",
    operation_id = "resume_batch",
    tag = "controls",
    summary = "Resumes a paused batch. Idempotent",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\"")),
    request_body(content = Option<ControlBody>, content_type = "application/json", description = "Optional; an empty body is no reason"),
    responses(
        (status = 200, description = "The batch after the change, or as it was when it already had that state", body = BatchView),
        (status = 404, description = "No such batch in the key's workspace", body = ErrorBody),
        (status = 409, description = "The batch's status does not allow it", body = ErrorBody),
        (status = 415, description = "A body that is not JSON", body = ErrorBody),
    ),
)]
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(batch_id): StrictPath<String>,
    StrictJson(body): StrictJson<ControlBody>,
) -> ApiResult<Json<BatchView>> {
    control_handler(state, caller, batch_id, body, Control::Resume).await
}

#[utoipa::path(
    post,
    path = "/v1/batches/{batch_id}/cancel",
    operation_id = "cancel_batch",
    tag = "controls",
    summary = "Cancels for good: waiting contacts are skipped. Idempotent",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\"")),
    request_body(content = Option<ControlBody>, content_type = "application/json", description = "Optional; an empty body is no reason"),
    responses(
        (status = 200, description = "The batch after the change, or as it was when it already had that state", body = BatchView),
        (status = 404, description = "No such batch in the key's workspace", body = ErrorBody),
        (status = 409, description = "The batch's status does not allow it", body = ErrorBody),
        (status = 415, description = "A body that is not JSON", body = ErrorBody),
    ),
)]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(batch_id): StrictPath<String>,
    StrictJson(body): StrictJson<ControlBody>,
) -> ApiResult<Json<BatchView>> {
    control_handler(state, caller, batch_id, body, Control::Cancel).await
}

#[utoipa::path(
    post,
    path = "/v1/batches/{batch_id}/dispatch",
    operation_id = "dispatch_batch",
    tag = "controls",
    summary = "Force dispatch: starts a pending batch now and makes retry-waiting contacts due now",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\"")),
    request_body(content = Option<ControlBody>, content_type = "application/json", description = "Optional; an empty body is no reason"),
    responses(
        (status = 200, description = "The batch after the change, or as it was when it already had that state", body = BatchView),
        (status = 404, description = "No such batch in the key's workspace", body = ErrorBody),
        (status = 409, description = "The batch's status does not allow it", body = ErrorBody),
        (status = 415, description = "A body that is not JSON", body = ErrorBody),
    ),
)]
pub async fn dispatch(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(batch_id): StrictPath<String>,
    StrictJson(body): StrictJson<ControlBody>,
) -> ApiResult<Json<BatchView>> {
    control_handler(state, caller, batch_id, body, Control::Dispatch).await
}

/// Why a batch dials as it does: its queue health, with the provider's and
/// the plugins' share beside it. The windows, limits and blockers are the
/// queue health's own, answered at the top for the readers that look there.
#[derive(Serialize, ToSchema)]
pub struct Debug {
    batch_id: String,
    status: BatchStatus,
    status_reason: Option<String>,
    #[schema(value_type = EpochMillis)]
    now: Millis,
    /// Why nothing of the batch is dialed, when the batch itself holds it:
    /// `queue.batch_blocker`.
    batch_blocker: Option<Blocker>,
    /// `queue.effective`.
    effective: EffectiveLimits,
    /// Calls of the batch live now: `queue.live`.
    live_calls: u64,
    /// Calls the batch could start now: `queue.concurrency.free`.
    free_slots: u64,
    /// `queue.windows`.
    windows: Vec<ZoneWindow>,
    /// `queue.blockers`.
    blockers: Vec<BlockerCount>,
    /// When the earliest waiting contact becomes eligible.
    #[schema(value_type = Option<EpochMillis>)]
    next_eligible_at: Option<Millis>,
    provider: ProviderHealth,
    plugins: PluginHealth,
    /// The campaign policy's view: windows per zone of the batch, limits,
    /// blockers, pool, budget and goal state, kept by the dispatcher.
    queue: QueueHealth,
}

/// The provider's share of the queue.
#[derive(Serialize, ToSchema)]
struct ProviderHealth {
    name: String,
    /// Contacts held back because the provider asked to slow down.
    throttled_contacts: u64,
    /// When the provider's latest throttle of the campaign ends:
    /// `queue.provider_throttle.until`.
    #[schema(value_type = Option<EpochMillis>)]
    throttled_until: Option<Millis>,
    /// Provider refusals before dialing, retried without counting.
    system_retries: u64,
}

/// The policy plugins and their faults.
#[derive(Serialize, ToSchema)]
struct PluginHealth {
    /// The retry strategy the batch's contacts are decided by.
    retry: String,
    /// Its config, the keys it is configured with.
    retry_config: BTreeMap<String, String>,
    /// "batch" when the batch's own retry strategy replaces the
    /// campaign's.
    retry_from: SettingSource,
    /// The dial gate asked before the batch's dials, if any.
    gate: Option<String>,
    /// Its config, the keys it is configured with.
    gate_config: BTreeMap<String, String>,
    /// "batch" when the batch's own gate replaces the campaign's:
    /// `queue.compliance.gate_from`.
    gate_from: SettingSource,
    classifier: String,
    /// Attempts of the batch on which a plugin faulted.
    faults: u64,
    consecutive_faults: u32,
    /// Faults in a row after which the batch pauses.
    pause_after: u32,
}

impl Debug {
    /// The debug view of `batch` from its queue health.
    fn of(
        batch: &BatchRecord,
        spec: &CampaignSpec,
        queue: QueueHealth,
        counters: &Counters,
        now: Millis,
    ) -> Debug {
        let throttled_contacts = queue
            .blockers
            .iter()
            .find(|entry| entry.blocker == Blocker::ProviderThrottled)
            .map_or(0, |entry| entry.count);
        Debug {
            batch_id: queue.batch_id.clone(),
            status: queue.status,
            status_reason: queue.status_reason.clone(),
            now,
            batch_blocker: queue.batch_blocker,
            effective: queue.effective.clone(),
            live_calls: queue.live,
            free_slots: queue.concurrency.free,
            windows: queue.windows.clone(),
            blockers: queue.blockers.clone(),
            next_eligible_at: queue.next_eligible_at,
            provider: ProviderHealth {
                name: spec.provider.clone(),
                throttled_contacts,
                throttled_until: queue.provider_throttle.until,
                system_retries: counters.system_retries,
            },
            plugins: PluginHealth {
                retry: queue.retry_plugin.clone(),
                retry_config: match &batch.retry {
                    Some(retry) => retry.config.clone(),
                    None => spec.retry_config.iter().cloned().collect(),
                },
                retry_from: queue.retry_from,
                gate: queue.compliance.gate_plugin.clone(),
                gate_config: match &batch.gate {
                    Some(gate) => gate.config.clone(),
                    None => spec.gate_config.iter().cloned().collect(),
                },
                gate_from: queue.compliance.gate_from,
                classifier: spec.classifier_plugin.clone(),
                faults: queue.plugin_faults.total,
                consecutive_faults: queue.plugin_faults.consecutive,
                pause_after: queue.plugin_faults.pause_after,
            },
            queue,
        }
    }
}

#[utoipa::path(
    get,
    path = "/v1/batches/{batch_id}/debug",
    operation_id = "batch_debug",
    tag = "batches",
    summary = "Queue health: windows per time zone, effective limits, blockers, throttling, plugin faults",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\"")),
    responses(
        (status = 200, description = "Why the batch dials as it does", body = Debug),
        (status = 404, description = "No such batch in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn debug(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(batch_id): StrictPath<String>,
) -> ApiResult<Json<Debug>> {
    let now = state.inner.clock.now();
    let batch = {
        let caller = caller.clone();
        state
            .blocking(move |store| owned_batch(store, &caller, &batch_id))
            .await?
    };
    let spec = state.campaign(&caller, &batch.campaign_id)?.clone();
    state
        .blocking(move |store| {
            let queue =
                queue_health(store, &spec, &batch.id, now).map_err(|error| match error {
                    HealthError::Store(error) => ApiError::from(error),
                    other => ApiError::internal(other.to_string()),
                })?;
            let counters = store.batch_counters(&batch.id)?;
            Ok(Debug::of(&batch, &spec, queue, &counters, now))
        })
        .await
        .map(Json)
}
