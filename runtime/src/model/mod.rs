//! The campaign domain: workspace → campaign → batch → contact → attempt →
//! event, and the records kept of them (`records`, `stats`), and a
//! workspace's compliance records (`suppression`). Plain data;
//! storage, dispatch and plugins build on it.

mod call;
mod call_status;
mod campaign;
mod event;
mod overrides;
mod records;
pub mod schema;
mod stats;
mod status;
mod suppression;

pub use call::{
    Attempt, Blocker, CallOutcome, Decision, DecisionRecord, Disposition, MachineDetection,
    metadata_reason,
};
pub use call_status::CallStatus;
pub use campaign::{
    CallingWindow, CampaignSpec, DEFAULT_MAX_FOLLOWUPS, DEFAULT_SUPPRESS_ON, FrequencyCap,
    FromNumber, Goal, MAX_CAP_PERIOD_MS, NumberStrategy, TimeZonePolicy, Variant, Webhook,
    WindowRule,
};
pub use event::{EventKind, is_subscribable};
pub use overrides::{BatchGate, BatchHours, BatchRetry, UploadRecord};
pub use records::{
    AttemptKey, BadAttemptId, BatchRecord, ContactEvent, ContactRecord, Counters, JournalEvent,
    LiveAttempt, RecentCall, WebhookDelivery, WebhookEndpointState, blocker_index,
};
pub use stats::{
    AttemptTotals, DialTotals, EndedSummary, LabelCount, MAX_DIAL_SLOTS, MinuteTotals, NumberState,
    NumberTotals, VariantTotals, is_failure, minute_of, sentiment_micros,
};
pub use status::{BatchStatus, ContactStatus, IllegalTransition};
pub use suppression::{
    ContactDials, DNC_INTERNAL, MAX_LIST_NAME, NewSuppression, NewSuppressionList,
    PHONE_HISTORY_WINDOW, PhoneHistory, SuppressionAdd, SuppressionEntry, SuppressionHit,
    SuppressionList, SuppressionWrite, list_name_problem, unexpired,
};

/// Milliseconds since the Unix epoch, UTC: the unit of every timestamp.
pub type Millis = i64;

/// One second in milliseconds.
pub const SECOND_MS: Millis = 1_000;
/// One minute in milliseconds.
pub const MINUTE_MS: Millis = 60 * SECOND_MS;
/// One hour in milliseconds.
pub const HOUR_MS: Millis = 60 * MINUTE_MS;
/// One day in milliseconds.
pub const DAY_MS: Millis = 24 * HOUR_MS;

/// A signed duration for people, e.g. `10m` or `-1h 30m`.
pub fn show_duration(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let mut left = ms.unsigned_abs();
    let mut parts = Vec::new();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if left >= size {
            parts.push(format!("{}{unit}", left / size));
            left %= size;
        }
    }
    if left > 0 || parts.is_empty() {
        parts.push(format!("{left}ms"));
    }
    format!("{sign}{}", parts.join(" "))
}

/// A contact as the runtime knows it: who to call and where they are.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    /// Stable id, unique within its batch.
    pub id: String,
    /// E.164 destination.
    pub phone: String,
    /// The IANA zone the contact is called in, already resolved.
    pub time_zone: String,
    /// Every other uploaded column.
    pub attributes: Vec<(String, String)>,
}
