//! Author's cases: a folder per case with `input.json` and `expected.json`,
//! the JSON forms of plugin inputs and answers, and how an answer is
//! matched against what was expected. The format is documented in
//! `tests/conformance/README.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::config::{DURATION_EXPECTED, parse_duration_ms};
use crate::plugin_host::{CallError, wit};
use crate::policy::LocalTime;

/// 2026-03-02 15:00:00 UTC, a Monday: the decision time when a case gives none.
pub(crate) const DEFAULT_NOW_MS: i64 = 1_772_463_600_000;

/// The plugin config of a case set or of one case.
pub(crate) type PluginConfig = Vec<(String, String)>;

/// Why a case set cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CaseSetError {
    #[error("cannot read the cases directory {dir}: {source}")]
    ReadDir {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
}

/// Every case in a directory, and the plugin config they and the built-in
/// checks run with.
#[derive(Debug, Default)]
pub(crate) struct CaseSet {
    pub(crate) config: PluginConfig,
    pub(crate) cases: Vec<Case>,
}

/// One case as read from its folder; a file that cannot be read or parsed
/// makes the case fail with the file's name and the position of the error.
#[derive(Debug)]
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    /// The case's own plugin config, replacing the set's.
    pub(crate) config: Option<PluginConfig>,
    pub(crate) input: Result<Value, String>,
    pub(crate) expected: Result<Value, String>,
}

impl CaseSet {
    /// Read `dir`: an optional `config.json`, and every sub-folder as a case,
    /// in name order.
    pub(crate) fn load(dir: &Path) -> Result<CaseSet, CaseSetError> {
        let read_dir = |source| CaseSetError::ReadDir {
            dir: dir.display().to_string(),
            source,
        };
        let config_file = dir.join("config.json");
        let config = if config_file.exists() {
            read_config(&config_file).map_err(CaseSetError::Config)?
        } else {
            Vec::new()
        };
        let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(read_dir)?
            .map(|entry| entry.map(|entry| entry.path()))
            .collect::<Result<_, _>>()
            .map_err(read_dir)?;
        folders.retain(|path| path.is_dir());
        folders.sort();
        let cases = folders
            .into_iter()
            .map(|folder| {
                let own_config = folder.join("config.json");
                let config = own_config.exists().then(|| read_config(&own_config));
                let (config, config_error) = match config {
                    Some(Ok(config)) => (Some(config), None),
                    Some(Err(problem)) => (None, Some(problem)),
                    None => (None, None),
                };
                let input = match config_error {
                    Some(problem) => Err(problem),
                    None => read_json(&folder.join("input.json")),
                };
                Case {
                    name: folder
                        .file_name()
                        .map(|name| name.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    expected: read_json(&folder.join("expected.json")),
                    input,
                    config,
                    dir: folder,
                }
            })
            .collect();
        Ok(CaseSet { config, cases })
    }
}

fn read_json(file: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
    serde_json::from_str(&text).map_err(|err| format!("{}: {err}", file.display()))
}

fn read_config(file: &Path) -> Result<PluginConfig, String> {
    let value = read_json(file)?;
    let Value::Object(map) = value else {
        return Err(format!(
            "{}: expected an object of config keys and string values",
            file.display()
        ));
    };
    map.into_iter()
        .map(|(key, value)| match value {
            Value::String(text) => Ok((key, text)),
            other => Err(format!(
                "{}: config key \"{key}\" has value {other}: expected a string, e.g. \"{}\"",
                file.display(),
                other.to_string().trim_matches('"')
            )),
        })
        .collect()
}

/// Decode a case file's JSON into `T`, naming the file and the field.
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(
    value: &Value,
    file: &Path,
) -> Result<T, String> {
    T::deserialize(value).map_err(|err| format!("{}: {err}", file.display()))
}

// ---------------------------------------------------------------------------
// Times and durations
// ---------------------------------------------------------------------------

/// A time as written in a case: milliseconds since the epoch, an RFC 3339
/// string, or `now`, `now+10m`, `now-1h30m` relative to the case's now.
pub(crate) fn parse_time(value: &Value, now: i64) -> Result<i64, String> {
    match value {
        Value::Number(number) => number
            .as_i64()
            .ok_or_else(|| format!("time {number} is not a whole number of milliseconds")),
        Value::String(text) => {
            if let Some(offset) = text.strip_prefix("now") {
                if offset.is_empty() {
                    return Ok(now);
                }
                let (sign, duration) = match offset.split_at(1) {
                    ("+", rest) => (1, rest),
                    ("-", rest) => (-1, rest),
                    _ => {
                        return Err(format!(
                            "time \"{text}\": expected now, now+DURATION or now-DURATION"
                        ));
                    }
                };
                let ms = parse_duration(duration)
                    .map_err(|problem| format!("time \"{text}\": {problem}"))?;
                return Ok(now + sign * ms);
            }
            DateTime::parse_from_rfc3339(text)
                .map(|time| time.timestamp_millis())
                .map_err(|err| {
                    format!("time \"{text}\": {err}; expected e.g. \"2026-03-02T15:00:00Z\", \"now+10m\" or milliseconds")
                })
        }
        other => Err(format!(
            "time {other}: expected milliseconds, an RFC 3339 string or \"now+10m\""
        )),
    }
}

/// A duration in the grammar config and plugins use (`10m`, `1h30m`, ...),
/// in milliseconds.
fn parse_duration(text: &str) -> Result<i64, String> {
    parse_duration_ms(text)
        .ok_or_else(|| format!("duration \"{text}\": expected {DURATION_EXPECTED}"))
}

/// A time for people: RFC 3339 in UTC.
pub(crate) fn show_time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|time| time.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| format!("{ms} ms"))
}

pub(crate) use crate::model::show_duration;

fn is_time_key(key: &str) -> bool {
    key == "at" || key == "now" || key == "until" || key.ends_with("_at")
}

/// Replace every time written under a time key (`at`, `now`, `until`,
/// `*_at`) of an expected answer by its milliseconds, so it compares with
/// an answer.
pub(crate) fn resolve_times(value: &mut Value, now: i64) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            for (key, entry) in map.iter_mut() {
                if is_time_key(key) {
                    resolve_time_value(entry, now)
                        .map_err(|problem| format!("{key}: {problem}"))?;
                } else {
                    resolve_times(entry, now)?;
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|item| resolve_times(item, now)),
        _ => Ok(()),
    }
}

fn resolve_time_value(value: &mut Value, now: i64) -> Result<(), String> {
    match value {
        Value::Null => Ok(()),
        Value::Object(matcher) => {
            if let Some(Value::Array(bounds)) = matcher.get_mut("between") {
                for bound in bounds.iter_mut() {
                    *bound = json!(parse_time(bound, now)?);
                }
            }
            Ok(())
        }
        other => {
            *other = json!(parse_time(other, now)?);
            Ok(())
        }
    }
}

/// An answer shown to people: times as RFC 3339, long strings shortened.
pub(crate) fn humanize(value: &Value) -> Value {
    rewrite(value, false, true, true)
}

/// A value with every time under a time key written as RFC 3339, which
/// reads back to the same millisecond, and every string in full.
pub(crate) fn readable_times(value: &Value) -> Value {
    rewrite(value, false, true, false)
}

/// A value with its long strings shortened, for a report.
pub(crate) fn shorten_strings(value: &Value) -> Value {
    rewrite(value, false, false, true)
}

fn rewrite(value: &Value, time_key: bool, times: bool, strings: bool) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, entry)| {
                    let inner = rewrite(entry, is_time_key(key), times, strings);
                    (key.clone(), inner)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| rewrite(item, time_key, times, strings))
                .collect(),
        ),
        Value::Number(number) if time_key && times => match number.as_i64() {
            Some(ms) => Value::String(show_time(ms)),
            None => value.clone(),
        },
        Value::String(text) if strings => Value::String(shorten(text)),
        other => other.clone(),
    }
}

/// Strings longer than this are shown cut, with their length.
const SHOWN_STRING_CHARS: usize = 160;

fn shorten(text: &str) -> String {
    if text.chars().count() <= SHOWN_STRING_CHARS {
        return text.to_string();
    }
    let head: String = text.chars().take(48).collect();
    format!("{head}… ({} bytes in all)", text.len())
}

// ---------------------------------------------------------------------------
// Matching an answer against what was expected
// ---------------------------------------------------------------------------

/// Whether `actual` has everything `expected` asks for. Objects match when
/// each expected key matches (keys left out are not compared; `null` means
/// absent); arrays match element by element; numbers within a millionth;
/// `{"contains": "text"}`, `{"between": [lo, hi]}`, `{"any": true}` and
/// `{"one_of": [a, b]}` are matchers. The error names the first path that
/// differs.
pub(crate) fn matches(expected: &Value, actual: &Value) -> Result<(), String> {
    match_at("", expected, actual)
}

fn match_at(path: &str, expected: &Value, actual: &Value) -> Result<(), String> {
    let differs = || {
        let place = if path.is_empty() { "the answer" } else { path };
        Err(format!(
            "{place}: expected {}, found {}",
            humanize_leaf(path, expected),
            humanize_leaf(path, actual)
        ))
    };
    if let Value::Object(matcher) = expected
        && matcher.len() == 1
    {
        if let Some(Value::String(part)) = matcher.get("contains") {
            return match actual {
                Value::String(text) if text.contains(part.as_str()) => Ok(()),
                _ => differs(),
            };
        }
        if let Some(Value::Array(bounds)) = matcher.get("between") {
            let (Some(low), Some(high), Some(found)) = (
                bounds.first().and_then(Value::as_f64),
                bounds.get(1).and_then(Value::as_f64),
                actual.as_f64(),
            ) else {
                return differs();
            };
            return if low <= found && found <= high {
                Ok(())
            } else {
                differs()
            };
        }
        if matcher.get("any") == Some(&Value::Bool(true)) {
            return if actual.is_null() { differs() } else { Ok(()) };
        }
        if let Some(Value::Array(choices)) = matcher.get("one_of") {
            return if choices
                .iter()
                .any(|choice| match_at(path, choice, actual).is_ok())
            {
                Ok(())
            } else {
                differs()
            };
        }
    }
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => {
            // A variant's tag first: a skip where a deferral was expected
            // reads as that, not as a missing `until`.
            let (tags, fields): (Vec<_>, Vec<_>) = want
                .iter()
                .partition(|(key, _)| TAG_KEYS.contains(&key.as_str()));
            for (key, want) in tags.into_iter().chain(fields) {
                let inner = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match_at(&inner, want, have.get(key).unwrap_or(&Value::Null))?;
            }
            Ok(())
        }
        (Value::Array(want), Value::Array(have)) => {
            if want.len() != have.len() {
                let place = if path.is_empty() { "the answer" } else { path };
                return Err(format!(
                    "{place}: expected {} items, found {}",
                    want.len(),
                    have.len()
                ));
            }
            want.iter()
                .zip(have)
                .enumerate()
                .try_for_each(|(index, (want, have))| {
                    match_at(&format!("{path}[{index}]"), want, have)
                })
        }
        (Value::Number(want), Value::Number(have)) => {
            let equal = match (want.as_i64(), have.as_i64()) {
                (Some(want), Some(have)) => want == have,
                _ => {
                    let (want, have) = (
                        want.as_f64().unwrap_or(f64::NAN),
                        have.as_f64().unwrap_or(f64::NAN),
                    );
                    (want - have).abs() <= 1e-6 * want.abs().max(have.abs()).max(1.0)
                }
            };
            if equal { Ok(()) } else { differs() }
        }
        (want, have) if want == have => Ok(()),
        _ => differs(),
    }
}

/// Keys that say which variant an answer is (a gate's `verdict`).
const TAG_KEYS: [&str; 1] = ["verdict"];

fn humanize_leaf(path: &str, value: &Value) -> String {
    let key = path.rsplit(['.', '[']).next().unwrap_or(path);
    if is_time_key(key)
        && let Some(ms) = value.as_i64()
    {
        return format!("{} ({ms})", show_time(ms));
    }
    humanize(value).to_string()
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum OutcomeJson {
    Answered,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
    Unknown,
}

impl From<OutcomeJson> for wit::CallOutcome {
    fn from(outcome: OutcomeJson) -> Self {
        match outcome {
            OutcomeJson::Answered => wit::CallOutcome::Answered,
            OutcomeJson::Busy => wit::CallOutcome::Busy,
            OutcomeJson::NoAnswer => wit::CallOutcome::NoAnswer,
            OutcomeJson::Failed => wit::CallOutcome::Failed,
            OutcomeJson::Canceled => wit::CallOutcome::Canceled,
            OutcomeJson::Unknown => wit::CallOutcome::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum DetectionJson {
    NotRun,
    Human,
    Machine,
    CallScreening,
    Fax,
    Unknown,
}

impl From<DetectionJson> for wit::MachineDetection {
    fn from(detection: DetectionJson) -> Self {
        match detection {
            DetectionJson::NotRun => wit::MachineDetection::NotRun,
            DetectionJson::Human => wit::MachineDetection::Human,
            DetectionJson::Machine => wit::MachineDetection::Machine,
            DetectionJson::CallScreening => wit::MachineDetection::CallScreening,
            DetectionJson::Fax => wit::MachineDetection::Fax,
            DetectionJson::Unknown => wit::MachineDetection::Unknown,
        }
    }
}

fn default_time_zone() -> String {
    "America/New_York".to_string()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactJson {
    #[serde(default = "default_contact_id")]
    id: String,
    #[serde(default = "default_phone")]
    phone: String,
    #[serde(default = "default_time_zone")]
    time_zone: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

fn default_contact_id() -> String {
    "contact-1".to_string()
}

fn default_phone() -> String {
    "+12125550100".to_string()
}

impl Default for ContactJson {
    fn default() -> Self {
        ContactJson {
            id: default_contact_id(),
            phone: default_phone(),
            time_zone: default_time_zone(),
            attributes: BTreeMap::new(),
        }
    }
}

impl ContactJson {
    fn to_wit(&self) -> wit::Contact {
        wit::Contact {
            id: self.id.clone(),
            phone: self.phone.clone(),
            time_zone: self.time_zone.clone(),
            attributes: pairs(&self.attributes),
        }
    }
}

fn pairs(map: &BTreeMap<String, String>) -> Vec<(String, String)> {
    map.iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DispositionJson {
    label: String,
    #[serde(default)]
    terminal: bool,
    score: Option<f32>,
    sentiment: Option<f32>,
    follow_up_at: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttemptJson {
    id: Option<String>,
    number: Option<u32>,
    started_at: Option<Value>,
    answered_at: Option<Value>,
    ended_at: Option<Value>,
    outcome: OutcomeJson,
    sip_code: Option<u16>,
    talk_ms: Option<u64>,
    ring_ms: Option<u64>,
    machine_detection: Option<DetectionJson>,
    transcript: Option<String>,
    cost_micros: Option<u64>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    /// Only in a retry history: the label the attempt was given.
    disposition: Option<DispositionJson>,
}

impl AttemptJson {
    /// The attempt numbered `number` of `contact`, ending by default at
    /// `default_end`.
    fn to_wit(
        &self,
        contact: &str,
        number: u32,
        default_end: i64,
        now: i64,
    ) -> Result<wit::Attempt, String> {
        let time = |value: &Option<Value>, field: &str| -> Result<Option<i64>, String> {
            value
                .as_ref()
                .map(|value| {
                    parse_time(value, now).map_err(|problem| format!("{field}: {problem}"))
                })
                .transpose()
        };
        let answered = matches!(self.outcome, OutcomeJson::Answered);
        let number = self.number.unwrap_or(number);
        let ring_ms = self.ring_ms.unwrap_or(20_000);
        let talk_ms = self.talk_ms.unwrap_or(if answered { 30_000 } else { 0 });
        let ended_at = time(&self.ended_at, "ended_at")?.unwrap_or(default_end);
        let started_at =
            time(&self.started_at, "started_at")?.unwrap_or(ended_at - (ring_ms + talk_ms) as i64);
        let answered_at = match time(&self.answered_at, "answered_at")? {
            Some(at) => Some(at),
            None if answered => Some(started_at + ring_ms as i64),
            None => None,
        };
        Ok(wit::Attempt {
            id: self
                .id
                .clone()
                .unwrap_or_else(|| format!("{contact}-{number}")),
            number,
            started_at,
            answered_at,
            ended_at,
            outcome: self.outcome.into(),
            sip_code: self.sip_code,
            talk_ms,
            ring_ms,
            machine_detection: self
                .machine_detection
                .map(Into::into)
                .unwrap_or(if answered {
                    wit::MachineDetection::Human
                } else {
                    wit::MachineDetection::NotRun
                }),
            transcript: self.transcript.clone(),
            cost_micros: self.cost_micros,
            metadata: pairs(&self.metadata),
        })
    }

    fn disposition_to_wit(&self, now: i64) -> Result<Option<wit::Disposition>, String> {
        self.disposition
            .as_ref()
            .map(|disposition| {
                Ok(wit::Disposition {
                    label: disposition.label.clone(),
                    terminal: disposition.terminal,
                    score: disposition.score,
                    sentiment: disposition.sentiment,
                    follow_up_at: disposition
                        .follow_up_at
                        .as_ref()
                        .map(|at| {
                            parse_time(at, now)
                                .map_err(|problem| format!("follow_up_at: {problem}"))
                        })
                        .transpose()?,
                })
            })
            .transpose()
    }
}

/// Times of a history, oldest first, when the case gives none: an hour
/// apart, the last ending a minute before now.
fn default_end(index: usize, len: usize, now: i64) -> i64 {
    now - 60_000 - (len - 1 - index) as i64 * 3_600_000
}

fn time_zone(name: &str) -> Result<chrono_tz::Tz, String> {
    name.parse().map_err(|_| {
        format!("contact.time_zone \"{name}\" is not an IANA time zone, e.g. \"Europe/Paris\"")
    })
}

/// A retry strategy's input, as written in `input.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryInputJson {
    #[serde(default)]
    contact: ContactJson,
    #[serde(default)]
    history: Vec<AttemptJson>,
    #[serde(default = "default_max_attempts")]
    max_attempts: u32,
    now: Option<Value>,
}

fn default_max_attempts() -> u32 {
    3
}

/// Read a retry case's input; the second value is its decision time.
pub(crate) fn retry_input(value: &Value, file: &Path) -> Result<(wit::RetryInput, i64), String> {
    let json: RetryInputJson = decode(value, file)?;
    let in_file = |problem: String| format!("{}: {problem}", file.display());
    let now = match &json.now {
        Some(now) => {
            parse_time(now, DEFAULT_NOW_MS).map_err(|problem| in_file(format!("now: {problem}")))?
        }
        None => DEFAULT_NOW_MS,
    };
    let zone = time_zone(&json.contact.time_zone).map_err(in_file)?;
    let len = json.history.len();
    let history = json
        .history
        .iter()
        .enumerate()
        .map(|(index, attempt)| {
            let place = |problem: String| in_file(format!("history[{index}].{problem}"));
            Ok(wit::LabelledAttempt {
                attempt: attempt
                    .to_wit(
                        &json.contact.id,
                        index as u32 + 1,
                        default_end(index, len, now),
                        now,
                    )
                    .map_err(place)?,
                disposition: attempt.disposition_to_wit(now).map_err(place)?,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok((
        wit::RetryInput {
            contact: json.contact.to_wit(),
            history,
            limits: wit::PolicyLimits {
                max_attempts: json.max_attempts,
            },
            now,
            now_local: local_time(now, zone),
        },
        now,
    ))
}

/// The WIT reading of `now` on `zone`'s clock.
pub(crate) fn local_time(now: i64, zone: chrono_tz::Tz) -> wit::LocalTime {
    let local = LocalTime::at(now, zone);
    wit::LocalTime {
        year: local.year,
        month: local.month,
        day: local.day,
        hour: local.hour,
        minute: local.minute,
        second: local.second,
        weekday: local.weekday,
        utc_offset_seconds: local.utc_offset_seconds,
    }
}

/// A classifier's input, as written in `input.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassifyInputJson {
    #[serde(default)]
    contact: ContactJson,
    attempt: AttemptJson,
    #[serde(default)]
    previous: Vec<AttemptJson>,
    now: Option<Value>,
}

/// What a classifier is asked: the contact, the attempt, the earlier ones.
pub(crate) struct ClassifyInput {
    pub(crate) contact: wit::Contact,
    pub(crate) attempt: wit::Attempt,
    pub(crate) previous: Vec<wit::Attempt>,
}

impl ClassifyInput {
    /// The input as the host hands it to a classifier.
    pub(crate) fn to_host(&self) -> std::sync::Arc<wit::ClassifyInput> {
        std::sync::Arc::new(wit::ClassifyInput::new(
            self.contact.clone(),
            self.attempt.clone(),
            self.previous.clone(),
        ))
    }
}

/// Read a classifier case's input; the second value is the time its
/// relative times count from (the attempt's end).
pub(crate) fn classify_input(value: &Value, file: &Path) -> Result<(ClassifyInput, i64), String> {
    let json: ClassifyInputJson = decode(value, file)?;
    let in_file = |problem: String| format!("{}: {problem}", file.display());
    let now = match &json.now {
        Some(now) => {
            parse_time(now, DEFAULT_NOW_MS).map_err(|problem| in_file(format!("now: {problem}")))?
        }
        None => DEFAULT_NOW_MS,
    };
    let count = json.previous.len();
    let previous = json
        .previous
        .iter()
        .enumerate()
        .map(|(index, attempt)| {
            attempt
                .to_wit(
                    &json.contact.id,
                    index as u32 + 1,
                    default_end(index, count + 1, now),
                    now,
                )
                .map_err(|problem| in_file(format!("previous[{index}].{problem}")))
        })
        .collect::<Result<_, String>>()?;
    let attempt = json
        .attempt
        .to_wit(&json.contact.id, count as u32 + 1, now, now)
        .map_err(|problem| in_file(format!("attempt.{problem}")))?;
    Ok((
        ClassifyInput {
            contact: json.contact.to_wit(),
            attempt,
            previous,
        },
        now,
    ))
}

/// A dial gate's call, as written in `input.json`: the candidates and the
/// decision time they share.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GateInputJson {
    candidates: Vec<CandidateJson>,
    now: Option<Value>,
}

/// One candidate; everything may be left out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CandidateJson {
    #[serde(default)]
    contact: CandidateContactJson,
    campaign_id: Option<String>,
    batch_id: Option<String>,
    attempt_number: Option<u32>,
    #[serde(default)]
    history: PhoneHistoryJson,
    #[serde(default)]
    suppression_lists: Vec<String>,
}

/// A candidate's contact: its id and phone default to ones of its own,
/// so the candidates of a call are different people.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CandidateContactJson {
    id: Option<String>,
    phone: Option<String>,
    #[serde(default = "default_time_zone")]
    time_zone: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

impl Default for CandidateContactJson {
    fn default() -> Self {
        CandidateContactJson {
            id: None,
            phone: None,
            time_zone: default_time_zone(),
            attributes: BTreeMap::new(),
        }
    }
}

/// A number's calls across the workspace; a week left out counts the
/// day's calls, and a month left out the week's.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneHistoryJson {
    #[serde(default)]
    attempts_past_day: u32,
    attempts_past_week: Option<u32>,
    attempts_past_month: Option<u32>,
    last_attempt_at: Option<Value>,
    last_label: Option<String>,
}

/// Read a dial gate case's input; the second value is the decision time
/// every candidate shares.
pub(crate) fn gate_input(value: &Value, file: &Path) -> Result<(Vec<wit::Candidate>, i64), String> {
    let json: GateInputJson = decode(value, file)?;
    let in_file = |problem: String| format!("{}: {problem}", file.display());
    let now = match &json.now {
        Some(now) => {
            parse_time(now, DEFAULT_NOW_MS).map_err(|problem| in_file(format!("now: {problem}")))?
        }
        None => DEFAULT_NOW_MS,
    };
    let candidates = json
        .candidates
        .iter()
        .enumerate()
        .map(|(index, candidate)| {
            let place = |problem: String| in_file(format!("candidates[{index}].{problem}"));
            let contact = &candidate.contact;
            let zone = time_zone(&contact.time_zone).map_err(place)?;
            let history = &candidate.history;
            let week = history
                .attempts_past_week
                .unwrap_or(history.attempts_past_day);
            let last_attempt_at = history
                .last_attempt_at
                .as_ref()
                .map(|at| parse_time(at, now))
                .transpose()
                .map_err(|problem| place(format!("history.last_attempt_at: {problem}")))?;
            Ok(wit::Candidate {
                contact: wit::Contact {
                    id: contact
                        .id
                        .clone()
                        .unwrap_or_else(|| format!("contact-{}", index + 1)),
                    phone: contact
                        .phone
                        .clone()
                        .unwrap_or_else(|| format!("+1212555{:04}", (100 + index) % 10_000)),
                    time_zone: contact.time_zone.clone(),
                    attributes: pairs(&contact.attributes),
                },
                campaign_id: candidate
                    .campaign_id
                    .clone()
                    .unwrap_or_else(|| "campaign-1".to_string()),
                batch_id: candidate
                    .batch_id
                    .clone()
                    .unwrap_or_else(|| "batch-1".to_string()),
                attempt_number: candidate.attempt_number.unwrap_or(1),
                now,
                now_local: gate_local_time(now, zone),
                history: wit::PhoneHistory {
                    attempts_past_day: history.attempts_past_day,
                    attempts_past_week: week,
                    attempts_past_month: history.attempts_past_month.unwrap_or(week),
                    last_attempt_at,
                    last_label: history.last_label.clone(),
                },
                suppression_lists: candidate.suppression_lists.clone(),
            })
        })
        .collect::<Result<_, String>>()?;
    Ok((candidates, now))
}

/// The gate's reading of `now` on `zone`'s clock: the same reading as
/// [`local_time`], in the gate interface's record.
pub(crate) fn gate_local_time(now: i64, zone: chrono_tz::Tz) -> wit::GateLocalTime {
    let local = local_time(now, zone);
    wit::GateLocalTime {
        year: local.year,
        month: local.month,
        day: local.day,
        hour: local.hour,
        minute: local.minute,
        second: local.second,
        weekday: local.weekday,
        utc_offset_seconds: local.utc_offset_seconds,
    }
}

/// Headers as an object of names to values, or a list of pairs when a name
/// repeats.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum HeadersJson {
    Map(BTreeMap<String, String>),
    Pairs(Vec<(String, String)>),
}

impl Default for HeadersJson {
    fn default() -> Self {
        HeadersJson::Pairs(Vec::new())
    }
}

impl HeadersJson {
    fn to_pairs(&self) -> Vec<(String, String)> {
        match self {
            HeadersJson::Map(map) => pairs(map),
            HeadersJson::Pairs(list) => list.clone(),
        }
    }
}

fn default_post() -> String {
    "POST".to_string()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookJson {
    #[serde(default = "default_post")]
    method: String,
    url: String,
    #[serde(default)]
    headers: HeadersJson,
    #[serde(default)]
    body: String,
    received_at: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallJson {
    #[serde(default = "default_attempt_id")]
    attempt_id: String,
    to: String,
    #[serde(default = "default_caller")]
    caller: String,
    #[serde(default = "default_callback")]
    callback_url: String,
    #[serde(default)]
    parameters: BTreeMap<String, String>,
}

fn default_attempt_id() -> String {
    "batch-1-1".to_string()
}

fn default_caller() -> String {
    "+14155550123".to_string()
}

fn default_callback() -> String {
    "https://outdial.example/hooks/provider".to_string()
}

impl CallJson {
    fn to_wit(&self) -> wit::CallRequest {
        wit::CallRequest {
            attempt_id: self.attempt_id.clone(),
            to: self.to.clone(),
            caller: self.caller.clone(),
            callback_url: self.callback_url.clone(),
            parameters: pairs(&self.parameters),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseJson {
    status: u16,
    #[serde(default)]
    headers: HeadersJson,
    #[serde(default)]
    body: String,
}

impl ResponseJson {
    fn to_wit(&self) -> wit::HttpResponse {
        wit::HttpResponse {
            status: self.status,
            headers: self.headers.to_pairs(),
            body: self.body.clone().into_bytes(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum AdapterInputJson {
    Webhook(WebhookJson),
    PlaceCall(CallJson),
    PlaceCallResponse {
        call: CallJson,
        response: ResponseJson,
    },
    StatusPollResponse {
        provider_call_id: String,
        response: ResponseJson,
    },
}

/// One thing a provider adapter is asked.
#[derive(Debug, Clone)]
pub(crate) enum AdapterInput {
    Webhook(wit::InboundWebhook),
    PlaceCall(wit::CallRequest),
    PlaceCallResponse(wit::CallRequest, wit::HttpResponse),
    StatusPollResponse(String, wit::HttpResponse),
}

/// Read an adapter case's input; the second value is the time its relative
/// times count from.
pub(crate) fn adapter_input(value: &Value, file: &Path) -> Result<(AdapterInput, i64), String> {
    let json: AdapterInputJson = decode(value, file)?;
    Ok(match json {
        AdapterInputJson::Webhook(webhook) => {
            let received_at = match &webhook.received_at {
                Some(at) => parse_time(at, DEFAULT_NOW_MS).map_err(|problem| {
                    format!("{}: webhook.received_at: {problem}", file.display())
                })?,
                None => DEFAULT_NOW_MS,
            };
            (
                AdapterInput::Webhook(wit::InboundWebhook {
                    method: webhook.method,
                    url: webhook.url,
                    headers: webhook.headers.to_pairs(),
                    body: webhook.body.into_bytes(),
                    received_at,
                }),
                received_at,
            )
        }
        AdapterInputJson::PlaceCall(call) => {
            (AdapterInput::PlaceCall(call.to_wit()), DEFAULT_NOW_MS)
        }
        AdapterInputJson::PlaceCallResponse { call, response } => (
            AdapterInput::PlaceCallResponse(call.to_wit(), response.to_wit()),
            DEFAULT_NOW_MS,
        ),
        AdapterInputJson::StatusPollResponse {
            provider_call_id,
            response,
        } => (
            AdapterInput::StatusPollResponse(provider_call_id, response.to_wit()),
            DEFAULT_NOW_MS,
        ),
    })
}

// ---------------------------------------------------------------------------
// Inputs and answers as JSON (the case format), for reports and matching
// ---------------------------------------------------------------------------

fn outcome_name(outcome: wit::CallOutcome) -> &'static str {
    match outcome {
        wit::CallOutcome::Answered => "answered",
        wit::CallOutcome::Busy => "busy",
        wit::CallOutcome::NoAnswer => "no_answer",
        wit::CallOutcome::Failed => "failed",
        wit::CallOutcome::Canceled => "canceled",
        wit::CallOutcome::Unknown => "unknown",
    }
}

fn detection_name(detection: wit::MachineDetection) -> &'static str {
    match detection {
        wit::MachineDetection::NotRun => "not_run",
        wit::MachineDetection::Human => "human",
        wit::MachineDetection::Machine => "machine",
        wit::MachineDetection::CallScreening => "call_screening",
        wit::MachineDetection::Fax => "fax",
        wit::MachineDetection::Unknown => "unknown",
    }
}

/// Describes an attempt in a few words, for failure reasons.
pub(crate) fn describe_attempt(attempt: &wit::Attempt) -> String {
    match attempt.outcome {
        wit::CallOutcome::Answered => format!(
            "an answered attempt (machine detection {})",
            detection_name(attempt.machine_detection)
        ),
        outcome => format!("a {} attempt", outcome_name(outcome).replace('_', " ")),
    }
}

fn object(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(key, value)| (key.clone(), Value::String(value.clone())))
            .collect(),
    )
}

fn contact_json(contact: &wit::Contact) -> Value {
    json!({
        "id": contact.id,
        "phone": contact.phone,
        "time_zone": contact.time_zone,
        "attributes": object(&contact.attributes),
    })
}

fn attempt_json(attempt: &wit::Attempt) -> Map<String, Value> {
    let value = json!({
        "id": attempt.id,
        "number": attempt.number,
        "started_at": attempt.started_at,
        "answered_at": attempt.answered_at,
        "ended_at": attempt.ended_at,
        "outcome": outcome_name(attempt.outcome),
        "sip_code": attempt.sip_code,
        "talk_ms": attempt.talk_ms,
        "ring_ms": attempt.ring_ms,
        "machine_detection": detection_name(attempt.machine_detection),
        "transcript": attempt.transcript,
        "cost_micros": attempt.cost_micros,
        "metadata": object(&attempt.metadata),
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

/// A disposition in the case format.
pub(crate) fn disposition_json(disposition: &wit::Disposition) -> Value {
    json!({
        "label": disposition.label,
        "terminal": disposition.terminal,
        "score": disposition.score,
        "sentiment": disposition.sentiment,
        "follow_up_at": disposition.follow_up_at,
    })
}

/// A retry input in the case format, in full: ready to be written as
/// `input.json`.
pub(crate) fn retry_input_json(input: &wit::RetryInput) -> Value {
    let history: Vec<Value> = input
        .history
        .iter()
        .map(|labelled| {
            let mut attempt = attempt_json(&labelled.attempt);
            if let Some(disposition) = &labelled.disposition {
                attempt.insert("disposition".to_string(), disposition_json(disposition));
            }
            Value::Object(attempt)
        })
        .collect();
    readable_times(&json!({
        "contact": contact_json(&input.contact),
        "history": history,
        "max_attempts": input.limits.max_attempts,
        "now": input.now,
    }))
}

/// A classifier input in the case format, in full.
pub(crate) fn classify_input_json(input: &ClassifyInput) -> Value {
    readable_times(&json!({
        "contact": contact_json(&input.contact),
        "attempt": Value::Object(attempt_json(&input.attempt)),
        "previous": input.previous.iter().map(|attempt| Value::Object(attempt_json(attempt))).collect::<Vec<_>>(),
        "now": input.attempt.ended_at,
    }))
}

/// A dial gate's call in the case format, in full. The candidates of a
/// call share their decision time, written once as `now`.
pub(crate) fn gate_input_json(candidates: &[wit::Candidate]) -> Value {
    let now = candidates
        .first()
        .map_or(DEFAULT_NOW_MS, |candidate| candidate.now);
    debug_assert!(candidates.iter().all(|candidate| candidate.now == now));
    let candidates: Vec<Value> = candidates
        .iter()
        .map(|candidate| {
            let history = &candidate.history;
            json!({
                "contact": contact_json(&candidate.contact),
                "campaign_id": candidate.campaign_id,
                "batch_id": candidate.batch_id,
                "attempt_number": candidate.attempt_number,
                "history": {
                    "attempts_past_day": history.attempts_past_day,
                    "attempts_past_week": history.attempts_past_week,
                    "attempts_past_month": history.attempts_past_month,
                    "last_attempt_at": history.last_attempt_at,
                    "last_label": history.last_label,
                },
                "suppression_lists": candidate.suppression_lists,
            })
        })
        .collect();
    readable_times(&json!({"candidates": candidates, "now": now}))
}

fn call_json(call: &wit::CallRequest) -> Value {
    json!({
        "attempt_id": call.attempt_id,
        "to": call.to,
        "caller": call.caller,
        "callback_url": call.callback_url,
        "parameters": object(&call.parameters),
    })
}

fn response_json(response: &wit::HttpResponse) -> Value {
    json!({
        "status": response.status,
        "headers": object(&response.headers),
        "body": String::from_utf8_lossy(&response.body),
    })
}

/// An adapter input in the case format, in full.
pub(crate) fn adapter_input_json(input: &AdapterInput) -> Value {
    readable_times(&match input {
        AdapterInput::Webhook(webhook) => json!({"webhook": {
            "method": webhook.method,
            "url": webhook.url,
            "headers": webhook.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "body": String::from_utf8_lossy(&webhook.body),
            "received_at": webhook.received_at,
        }}),
        AdapterInput::PlaceCall(call) => json!({"place_call": call_json(call)}),
        AdapterInput::PlaceCallResponse(call, response) => json!({"place_call_response": {
            "call": call_json(call),
            "response": response_json(response),
        }}),
        AdapterInput::StatusPollResponse(id, response) => json!({"status_poll_response": {
            "provider_call_id": id,
            "response": response_json(response),
        }}),
    })
}

/// A call that faulted, as an answer: never what a case expects unless it
/// says `{"fault": ...}`.
pub(crate) fn fault_json(error: &CallError) -> Value {
    match error {
        CallError::Plugin { message, .. } => json!({"error": plugin_error_json(message)}),
        other => json!({"fault": other.to_string()}),
    }
}

/// A plugin error in the case format, from the host's one-line message.
fn plugin_error_json(message: &str) -> Value {
    if let Some(rest) = message.strip_prefix("invalid input: ") {
        json!({"invalid_input": rest})
    } else if let Some(rest) = message.strip_prefix("invalid config: ") {
        json!({"invalid_config": rest})
    } else {
        json!({"internal": message})
    }
}

/// A retry decision in the case format.
pub(crate) fn decision_json(decision: &wit::Decision) -> Value {
    match decision {
        wit::Decision::RetryAt(at) => json!({"retry_at": at}),
        wit::Decision::FollowUpAt(at) => json!({"follow_up_at": at}),
        wit::Decision::GiveUp(reason) => json!({"give_up": reason}),
    }
}

/// A decision for people, e.g. `retry at 2026-03-02T15:10:00Z (now+10m)`.
pub(crate) fn show_decision(decision: &wit::Decision, now: i64) -> String {
    let relative = |at: i64| show_relative(at, now);
    match decision {
        wit::Decision::RetryAt(at) => format!("retry at {} ({})", show_time(*at), relative(*at)),
        wit::Decision::FollowUpAt(at) => {
            format!("follow up at {} ({})", show_time(*at), relative(*at))
        }
        wit::Decision::GiveUp(reason) => format!("give up ({reason:?})"),
    }
}

/// `at` against `now`, e.g. `now+10m` or `now-1h 30m`.
fn show_relative(at: i64, now: i64) -> String {
    let offset = at - now;
    if offset >= 0 {
        format!("now+{}", show_duration(offset))
    } else {
        format!("now{}", show_duration(offset))
    }
}

/// A gate's verdict in the case format.
pub(crate) fn verdict_json(verdict: &wit::Verdict) -> Value {
    match verdict {
        wit::Verdict::Allow => json!({"verdict": "allow"}),
        wit::Verdict::Defer(deferral) => json!({
            "verdict": "defer",
            "until": deferral.until,
            "reason": deferral.reason,
        }),
        wit::Verdict::Skip(reason) => json!({"verdict": "skip", "reason": reason}),
    }
}

/// A gate's answer in the case format.
pub(crate) fn verdicts_json(verdicts: &[wit::Verdict]) -> Value {
    json!({"verdicts": verdicts.iter().map(verdict_json).collect::<Vec<_>>()})
}

/// A verdict for people, e.g. `defer until 2026-03-03T14:00:00Z (now+23h):
/// "outside calling hours"`.
pub(crate) fn show_verdict(verdict: &wit::Verdict, now: i64) -> String {
    match verdict {
        wit::Verdict::Allow => "allow".to_string(),
        wit::Verdict::Defer(deferral) => format!(
            "defer until {} ({}): {:?}",
            show_time(deferral.until),
            show_relative(deferral.until, now),
            deferral.reason
        ),
        wit::Verdict::Skip(reason) => format!("skip: {reason:?}"),
    }
}

pub(crate) fn provider_error_json(error: &wit::ProviderError) -> Value {
    match error {
        wit::ProviderError::Throttled(ms) => json!({"throttled": ms}),
        wit::ProviderError::InvalidNumber(message) => json!({"invalid_number": message}),
        wit::ProviderError::Auth(message) => json!({"auth": message}),
        wit::ProviderError::Transient(message) => json!({"transient": message}),
        wit::ProviderError::Permanent(message) => json!({"permanent": message}),
    }
}

pub(crate) fn webhook_error_json(error: &wit::WebhookError) -> Value {
    match error {
        wit::WebhookError::BadSignature(message) => json!({"bad_signature": message}),
        wit::WebhookError::Malformed(message) => json!({"malformed": message}),
    }
}

/// A normalized call event in the case format.
pub(crate) fn event_json(event: &wit::CallEvent) -> Value {
    json!({
        "provider_call_id": event.provider_call_id,
        "attempt_id": event.attempt_id,
        "state": match event.state {
            wit::CallState::Queued => "queued",
            wit::CallState::Ringing => "ringing",
            wit::CallState::InProgress => "in_progress",
            wit::CallState::Ended => "ended",
        },
        "at": event.at,
        "outcome": event.outcome.map(outcome_name),
        "sip_code": event.sip_code,
        "talk_ms": event.talk_ms,
        "machine_detection": detection_name(event.machine_detection),
        "transcript": event.transcript,
        "cost_micros": event.cost_micros,
        "metadata": object(&event.metadata),
    })
}

/// A request an adapter built, in the case format: header names in lower
/// case, and the body also decoded when it is JSON or a form.
pub(crate) fn request_json(request: &wit::HttpRequest) -> Value {
    let headers: Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), Value::String(value.clone())))
        .collect();
    let body = String::from_utf8_lossy(&request.body).into_owned();
    let mut json = json!({
        "method": request.method,
        "url": request.url,
        "headers": headers,
        "body": body,
    });
    if let Ok(parsed) = serde_json::from_slice::<Value>(&request.body) {
        json["body_json"] = parsed;
    }
    if let Some(form) = parse_form(&body) {
        json["body_form"] = Value::Object(
            form.into_iter()
                .map(|(key, value)| (key, Value::String(value)))
                .collect(),
        );
    }
    json
}

/// An `application/x-www-form-urlencoded` body as pairs, when it is one.
pub(crate) fn parse_form(body: &str) -> Option<Vec<(String, String)>> {
    if body.is_empty() || body.trim_start().starts_with(['{', '[']) {
        return None;
    }
    body.split('&')
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(key)?, percent_decode(value)?))
        })
        .collect()
}

/// Percent-decoding with `+` as a space; `None` when the text is not valid.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text.get(index + 1..index + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                index += 2;
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_times_resolve_to_milliseconds() {
        assert_eq!(parse_time(&json!("now+10m"), 1_000), Ok(601_000));
        assert_eq!(parse_time(&json!("now-1h30m"), 5_400_000), Ok(0));
        assert_eq!(
            parse_time(&json!("2026-03-02T15:00:00Z"), 0),
            Ok(DEFAULT_NOW_MS)
        );
        assert_eq!(parse_time(&json!(42), 0), Ok(42));
        let err = parse_time(&json!("now+10x"), 0).unwrap_err();
        assert_eq!(
            err,
            "time \"now+10x\": duration \"10x\": expected a duration like \"90s\", \"10m\", \"2h\", \"1d\" or \"1h30m\""
        );
    }

    #[test]
    fn an_answer_matches_when_it_has_every_expected_field() {
        let actual = json!({"label": "voicemail", "terminal": false, "score": 0.30000001192092896});
        assert_eq!(
            matches(&json!({"label": "voicemail", "score": 0.3}), &actual),
            Ok(())
        );
        assert_eq!(
            matches(&json!({"terminal": true}), &actual),
            Err("terminal: expected true, found false".to_string())
        );
        assert_eq!(
            matches(&json!({"sentiment": 0.5}), &actual),
            Err("sentiment: expected 0.5, found null".to_string())
        );
    }

    #[test]
    fn matchers_compare_parts_ranges_and_presence() {
        let actual =
            json!({"give_up": "3 of 3 attempts made", "retry_at": 1_500, "events": [{"at": 7}]});
        assert_eq!(
            matches(&json!({"give_up": {"contains": "3 of 3"}}), &actual),
            Ok(())
        );
        assert_eq!(
            matches(&json!({"retry_at": {"between": [1_000, 2_000]}}), &actual),
            Ok(())
        );
        assert_eq!(
            matches(&json!({"events": [{"at": {"any": true}}]}), &actual),
            Ok(())
        );
        assert_eq!(
            matches(&json!({"events": []}), &actual),
            Err("events: expected 0 items, found 1".to_string())
        );
        assert_eq!(
            matches(&json!({"events": [{"at": 8}]}), &actual),
            Err("events[0].at: expected 1970-01-01T00:00:00.008Z (8), found 1970-01-01T00:00:00.007Z (7)".to_string())
        );
    }

    #[test]
    fn one_of_matches_when_any_choice_does() {
        let actual = json!({"label": "voicemail", "score": 0.4});
        let labels = json!({"label": {"one_of": ["human", "voicemail"]}});
        assert_eq!(matches(&labels, &actual), Ok(()));
        assert_eq!(
            matches(&json!({"label": {"one_of": ["human"]}}), &actual),
            Err(r#"label: expected {"one_of":["human"]}, found "voicemail""#.to_string())
        );
        let ranges = json!({"score": {"one_of": [{"between": [0, 0.1]}, {"between": [0.3, 0.5]}]}});
        assert_eq!(matches(&ranges, &actual), Ok(()));
    }

    #[test]
    fn an_input_written_in_full_reads_back_as_the_same_input() {
        let file = Path::new("input.json");
        let (retry, _) = retry_input(
            &json!({
                "contact": {"time_zone": "Asia/Kolkata", "attributes": {"note": "x".repeat(1_000)}},
                "history": [
                    {"outcome": "busy"},
                    {"outcome": "answered", "transcript": "yes ".repeat(500),
                     "disposition": {"label": "callback_requested", "score": 0.3, "follow_up_at": "now+1d"}}
                ],
                "now": "2026-03-02T15:00:00.123Z",
            }),
            file,
        )
        .unwrap();
        let (again, _) = retry_input(&retry_input_json(&retry), file).unwrap();
        assert_eq!(format!("{again:?}"), format!("{retry:?}"));

        let (classify, _) = classify_input(
            &json!({"attempt": {"outcome": "answered", "transcript": "no ".repeat(500)}, "previous": [{"outcome": "failed", "sip_code": 503}]}),
            file,
        )
        .unwrap();
        let (again, _) = classify_input(&classify_input_json(&classify), file).unwrap();
        assert_eq!(
            format!("{:?}", (&again.contact, &again.attempt, &again.previous)),
            format!(
                "{:?}",
                (&classify.contact, &classify.attempt, &classify.previous)
            )
        );

        let (webhook, _) = adapter_input(
            &json!({"webhook": {"url": "https://x.example/h", "headers": [["a", "1"], ["a", "2"]], "body": "b=".repeat(200), "received_at": 1_772_463_600_001_i64}}),
            file,
        )
        .unwrap();
        let (again, _) = adapter_input(&adapter_input_json(&webhook), file).unwrap();
        assert_eq!(format!("{again:?}"), format!("{webhook:?}"));
    }

    #[test]
    fn a_gate_input_fills_in_what_the_case_leaves_out() {
        let (candidates, now) = gate_input(
            &json!({"candidates": [
                {},
                {"contact": {"time_zone": "Asia/Kolkata"}, "attempt_number": 4,
                 "history": {"attempts_past_day": 2, "last_attempt_at": "now-1h"}},
            ]}),
            Path::new("input.json"),
        )
        .unwrap();
        assert_eq!(now, DEFAULT_NOW_MS);
        let [first, second] = &candidates[..] else {
            panic!("two candidates: {candidates:?}")
        };
        assert_eq!(
            (first.contact.id.as_str(), first.contact.phone.as_str()),
            ("contact-1", "+12125550100")
        );
        assert_eq!(
            (second.contact.id.as_str(), second.contact.phone.as_str()),
            ("contact-2", "+12125550101")
        );
        assert_eq!((first.attempt_number, first.now), (1, now));
        assert_eq!(first.contact.time_zone, "America/New_York");
        assert_eq!(first.now_local.hour, 10, "15:00 UTC is 10:00 in New York");
        assert_eq!(
            (second.now_local.hour, second.now_local.minute),
            (20, 30),
            "and 20:30 in Kolkata"
        );
        assert_eq!(second.now_local.utc_offset_seconds, 19_800);
        let history = &second.history;
        assert_eq!(
            (
                history.attempts_past_day,
                history.attempts_past_week,
                history.attempts_past_month
            ),
            (2, 2, 2),
            "a week and a month count at least the day"
        );
        assert_eq!(history.last_attempt_at, Some(now - 3_600_000));
        assert!(first.suppression_lists.is_empty() && first.history.last_label.is_none());
        let err = gate_input(
            &json!({"candidates": [{"attempt": 2}]}),
            Path::new("cases/x/input.json"),
        )
        .unwrap_err();
        assert!(
            err.starts_with("cases/x/input.json: unknown field `attempt`"),
            "{err}"
        );
    }

    #[test]
    fn a_gate_input_written_in_full_reads_back_as_the_same_call() {
        let file = Path::new("input.json");
        let (candidates, _) = gate_input(
            &json!({"now": "2026-03-08T06:30:00.250Z", "candidates": [
                {"contact": {"id": "c-ñ", "phone": "+442071838750", "time_zone": "Europe/London",
                             "attributes": {"": "", "name": "山田 花子", "note": "x".repeat(2_000)}},
                 "campaign_id": "spring", "batch_id": "b-7", "attempt_number": 50,
                 "history": {"attempts_past_day": 3, "attempts_past_week": 9, "attempts_past_month": 4_294_967_295_u32,
                             "last_attempt_at": "2000-01-01T00:00:00Z", "last_label": "voicemail"},
                 "suppression_lists": ["consent-given", "mornings-only"]},
                {"contact": {"time_zone": "Pacific/Chatham"}},
            ]}),
            file,
        )
        .unwrap();
        let (again, _) = gate_input(&gate_input_json(&candidates), file).unwrap();
        assert_eq!(again, candidates);
    }

    #[test]
    fn an_expected_deferral_resolves_until_against_the_case_now() {
        let mut expected =
            json!({"verdicts": [{"verdict": "allow"}, {"verdict": "defer", "until": "now+1h"}]});
        resolve_times(&mut expected, 0).unwrap();
        let deferred = wit::Verdict::Defer(wit::Deferral {
            until: 3_600_000,
            reason: "outside calling hours".to_string(),
        });
        let answer = verdicts_json(&[wit::Verdict::Allow, deferred]);
        assert_eq!(matches(&expected, &answer), Ok(()));
        let answer = verdicts_json(&[
            wit::Verdict::Allow,
            wit::Verdict::Skip("consent revoked".to_string()),
        ]);
        assert_eq!(
            matches(&expected, &answer),
            Err(r#"verdicts[1].verdict: expected "defer", found "skip""#.to_string())
        );
        assert_eq!(
            matches(&expected, &verdicts_json(&[wit::Verdict::Allow])),
            Err("verdicts: expected 2 items, found 1".to_string())
        );
    }

    #[test]
    fn expected_times_under_time_keys_resolve_against_the_case_now() {
        let mut expected = json!({"retry_at": "now+10m", "label": "now", "events": [{"at": {"between": ["now", "now+1s"]}}]});
        resolve_times(&mut expected, 0).unwrap();
        assert_eq!(
            expected,
            json!({"retry_at": 600_000, "label": "now", "events": [{"at": {"between": [0, 1_000]}}]})
        );
    }

    #[test]
    fn a_form_body_decodes_and_json_is_not_taken_for_a_form() {
        assert_eq!(
            parse_form("To=%2B4930123456&Name=J%C3%BCrgen+M"),
            Some(vec![
                ("To".to_string(), "+4930123456".to_string()),
                ("Name".to_string(), "Jürgen M".to_string())
            ])
        );
        assert_eq!(parse_form("{\"to\": 1}"), None);
        assert_eq!(parse_form("a=%zz"), None);
    }

    #[test]
    fn a_retry_input_fills_in_what_the_case_leaves_out() {
        let (input, now) = retry_input(
            &json!({"history": [{"outcome": "busy"}, {"outcome": "answered", "machine_detection": "machine"}], "max_attempts": 4}),
            Path::new("input.json"),
        )
        .unwrap();
        assert_eq!(now, DEFAULT_NOW_MS);
        assert_eq!(input.history.len(), 2);
        assert_eq!(input.history[1].attempt.id, "contact-1-2");
        assert_eq!(input.history[1].attempt.ended_at, now - 60_000);
        assert_eq!(input.now_local.hour, 10, "15:00 UTC is 10:00 in New York");
        let err =
            retry_input(&json!({"histroy": []}), Path::new("cases/x/input.json")).unwrap_err();
        assert!(
            err.starts_with("cases/x/input.json: unknown field `histroy`"),
            "{err}"
        );
    }
}
