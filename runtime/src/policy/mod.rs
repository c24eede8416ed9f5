//! The policy the engine consults after every attempt: a disposition
//! classifier and a retry strategy. Plugins implement these traits through
//! the plugin host; the built-in fallbacks take over when a plugin faults.

mod builtin;

pub use builtin::{BuiltinClassifier, BuiltinRetry};

use std::sync::Arc;

use crate::model::{Attempt, Contact, Decision, Disposition, Millis};

/// A wall-clock reading on the contact's local clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// 0 is Monday.
    pub weekday: u8,
    pub utc_offset_seconds: i32,
}

impl LocalTime {
    /// The reading of `at` in `zone`.
    pub fn at(at: Millis, zone: chrono_tz::Tz) -> LocalTime {
        use chrono::{Datelike, Offset, TimeZone, Timelike};
        let local = zone
            .timestamp_millis_opt(at)
            .single()
            .unwrap_or_else(|| zone.from_utc_datetime(&chrono::DateTime::UNIX_EPOCH.naive_utc()));
        LocalTime {
            year: local.year(),
            month: local.month() as u8,
            day: local.day() as u8,
            hour: local.hour() as u8,
            minute: local.minute() as u8,
            second: local.second() as u8,
            weekday: local.weekday().num_days_from_monday() as u8,
            utc_offset_seconds: local.offset().fix().local_minus_utc(),
        }
    }
}

/// Everything a retry decision may depend on. Owned and shared, so a
/// plugin host keeps it for the plugin to read while it decides, without a
/// copy; the engine takes it back afterwards.
#[derive(Debug, Clone)]
pub struct RetryRequest {
    pub contact: Contact,
    /// Every attempt so far, oldest first, each with its disposition; the
    /// last one just ended.
    pub history: Vec<Attempt>,
    pub max_attempts: u32,
    pub now: Millis,
    pub now_local: LocalTime,
}

/// Everything a classification may depend on, owned and shared as a
/// [`RetryRequest`] is.
#[derive(Debug, Clone)]
pub struct ClassifyRequest {
    pub contact: Contact,
    /// The attempt that just ended.
    pub attempt: Attempt,
    /// The contact's earlier attempts, oldest first.
    pub previous: Vec<Attempt>,
}

/// Why a policy could not answer: the plugin trapped, ran out of time or
/// memory, returned an error, or broke the contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{plugin}: {message}")]
pub struct PolicyFault {
    /// The plugin's name.
    pub plugin: String,
    /// What went wrong, for the attempt's record and the operator.
    pub message: String,
}

/// Decides what happens to a contact after an attempt ended.
pub trait RetryPolicy: Send + Sync {
    /// The plugin's sha256, or "builtin:<name>".
    fn identity(&self) -> &str;
    fn decide(&self, request: &Arc<RetryRequest>) -> Result<Decision, PolicyFault>;
}

/// Loads the retry strategies batches name in place of their campaign's.
pub trait RetryLoader: Send + Sync {
    /// `plugin` (a `[[plugins]]` name or a built-in), configured with
    /// `config`, or why it cannot be.
    fn load(
        &self,
        plugin: &str,
        config: &[(String, String)],
    ) -> Result<Arc<dyn RetryPolicy>, String>;
}

/// Labels an ended attempt.
pub trait Classifier: Send + Sync {
    /// The plugin's sha256, or "builtin:<name>".
    fn identity(&self) -> &str;
    fn classify(&self, request: &Arc<ClassifyRequest>) -> Result<Disposition, PolicyFault>;
}

/// A phone number's calls over every campaign and batch of its workspace,
/// as a dial gate sees them: the dial being decided on excluded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhoneActivity {
    /// Attempts placed in the 24 hours, 7 days and 30 days before the
    /// decision time.
    pub attempts_past_day: u32,
    pub attempts_past_week: u32,
    pub attempts_past_month: u32,
    pub last_attempt_at: Option<Millis>,
    /// The newest ended attempt's disposition label.
    pub last_label: Option<String>,
}

/// One dial about to be made, as a dial gate is asked about it.
#[derive(Debug, Clone, PartialEq)]
pub struct GateCandidate {
    pub contact: Contact,
    pub campaign_id: String,
    pub batch_id: String,
    /// The attempt the dial would be: 1 for the first.
    pub attempt_number: u32,
    pub now: Millis,
    pub now_local: LocalTime,
    pub history: PhoneActivity,
    /// The informing suppression lists the number is on.
    pub lists: Vec<String>,
}

/// What a dial gate decided for one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateVerdict {
    Allow,
    /// Not before `until`, which is never before the decision time.
    Defer {
        until: Millis,
        reason: String,
    },
    /// Never: the contact is skipped.
    Skip {
        reason: String,
    },
}

/// Decides, right before the dial intents are made durable, whether each
/// dial may happen.
pub trait DialGate: Send + Sync {
    /// The plugin's sha256.
    fn identity(&self) -> &str;
    /// One verdict per candidate, in order; a fault answers none, and no
    /// candidate of the call is dialed.
    fn check(&self, candidates: &[GateCandidate]) -> Result<Vec<GateVerdict>, PolicyFault>;
}

/// Loads the dial gates batches name in place of their campaign's.
pub trait GateLoader: Send + Sync {
    /// `plugin` (a `[[plugins]]` name or a built-in dial gate), configured
    /// with `config`, or why it cannot be.
    fn load(&self, plugin: &str, config: &[(String, String)]) -> Result<Arc<dyn DialGate>, String>;
}
