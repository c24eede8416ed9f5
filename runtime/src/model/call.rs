//! Calls: attempts, their outcomes, dispositions and retry decisions.

use serde::{Deserialize, Serialize};

use super::Millis;

/// How the network ended a call attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    Answered,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
    /// The final state is not known, e.g. the final event was lost.
    Unknown,
}

impl CallOutcome {
    /// The outcome as it appears in the API and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Answered => "answered",
            CallOutcome::Busy => "busy",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::Failed => "failed",
            CallOutcome::Canceled => "canceled",
            CallOutcome::Unknown => "unknown",
        }
    }
}

/// What answering-machine detection concluded.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MachineDetection {
    #[default]
    NotRun,
    Human,
    Machine,
    CallScreening,
    Fax,
    Unknown,
}

/// One call attempt on a contact, from dial intent to decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attempt {
    /// Globally unique; the provider's idempotency key. Never reused.
    pub id: String,
    /// 1 for the contact's first attempt.
    pub number: u32,
    /// The caller id used.
    pub from_number: Option<String>,
    /// The A/B variant the contact belongs to.
    pub variant: Option<String>,
    /// The provider's id for the call, once it accepted it.
    pub provider_call_id: Option<String>,
    /// When the dial intent was made durable.
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub started_at: Millis,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub answered_at: Option<Millis>,
    /// None while the call is live.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub ended_at: Option<Millis>,
    /// None while the call is live.
    pub outcome: Option<CallOutcome>,
    pub sip_code: Option<u16>,
    pub talk_ms: u64,
    pub ring_ms: u64,
    pub machine_detection: MachineDetection,
    pub transcript: Option<String>,
    pub cost_micros: Option<u64>,
    /// Ended reason, summary and whatever else the provider reported.
    pub metadata: Vec<(String, String)>,
    /// The classifier's label, once the attempt ended.
    pub disposition: Option<Disposition>,
    /// The retry decision taken after this attempt.
    pub decision: Option<DecisionRecord>,
    /// The provider refused the call before dialing: it does not count as
    /// an attempt and is left out of every statistic.
    #[serde(default)]
    pub system_retry: bool,
    /// The attempt reached a success: a goal label, or without a goal a
    /// contact completed by it.
    #[serde(default)]
    pub success: bool,
    /// Dialed as a follow-up past the attempt limit: counted in the
    /// contact's follow-ups, not its attempts.
    #[serde(default)]
    pub followup: bool,
    /// The sha256 of the dial gate that allowed the dial, when one was
    /// asked.
    #[serde(default)]
    pub gate: Option<String>,
}

/// The `reason` entry of an attempt's metadata: why the host ended the
/// attempt itself (`interrupted`, `placement_unknown`, `store_error`, ...).
pub fn metadata_reason(metadata: &[(String, String)]) -> Option<&str> {
    metadata
        .iter()
        .find(|(key, _)| key == "reason")
        .map(|(_, value)| value.as_str())
}

impl Attempt {
    /// See [`metadata_reason`].
    pub fn reason(&self) -> Option<&str> {
        metadata_reason(&self.metadata)
    }

    /// A new, live attempt.
    pub fn started(id: String, number: u32, started_at: Millis) -> Self {
        Attempt {
            id,
            number,
            from_number: None,
            variant: None,
            provider_call_id: None,
            started_at,
            answered_at: None,
            ended_at: None,
            outcome: None,
            sip_code: None,
            talk_ms: 0,
            ring_ms: 0,
            machine_detection: MachineDetection::NotRun,
            transcript: None,
            cost_micros: None,
            metadata: Vec::new(),
            disposition: None,
            decision: None,
            system_retry: false,
            success: false,
            followup: false,
            gate: None,
        }
    }

    /// True when a person or machine picked up.
    pub fn was_answered(&self) -> bool {
        self.outcome == Some(CallOutcome::Answered)
    }
}

/// What an ended attempt means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Disposition {
    pub label: String,
    /// True when no further attempt should be made.
    pub terminal: bool,
    /// 0.0 to 1.0.
    pub score: Option<f32>,
    /// -1.0 to 1.0.
    pub sentiment: Option<f32>,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub follow_up_at: Option<Millis>,
}

/// What to do with a contact after an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    RetryAt {
        #[schema(value_type = crate::model::schema::EpochMillis)]
        at: Millis,
    },
    FollowUpAt {
        #[schema(value_type = crate::model::schema::EpochMillis)]
        at: Millis,
    },
    GiveUp {
        reason: String,
    },
}

/// A decision as recorded on its attempt: what the plugin said, what the
/// host made of it, and which plugins (by sha256) were asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecisionRecord {
    /// The decision as carried out, after clamping.
    pub decision: Decision,
    /// Why the host changed the plugin's decision, if it did (window,
    /// max attempts, fallback after a fault).
    pub adjusted: Option<String>,
    /// sha256 of the retry plugin, or "builtin" for the fallback policy.
    pub retry_plugin: String,
    /// sha256 of the classifier plugin, or "builtin".
    pub classifier_plugin: String,
    /// Plugin faults met while deciding, each as "plugin: message".
    pub faults: Vec<String>,
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub decided_at: Millis,
}

/// Why a waiting contact is not being dialed right now.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Blocker {
    ScheduledStart,
    BatchPaused,
    OutsideWindow,
    RetryWait,
    ConcurrencyFull,
    RateLimited,
    ProviderThrottled,
    PluginFaulted,
    NoNumberAvailable,
    BudgetExhausted,
    GoalReached,
    /// The campaign's dial gate deferred the dial.
    GateDeferred,
    /// The number had as many attempts as a frequency cap allows.
    FrequencyCapped,
}

impl Blocker {
    /// Every blocker code.
    pub const ALL: [Blocker; 13] = [
        Blocker::ScheduledStart,
        Blocker::BatchPaused,
        Blocker::OutsideWindow,
        Blocker::RetryWait,
        Blocker::ConcurrencyFull,
        Blocker::RateLimited,
        Blocker::ProviderThrottled,
        Blocker::PluginFaulted,
        Blocker::NoNumberAvailable,
        Blocker::BudgetExhausted,
        Blocker::GoalReached,
        Blocker::GateDeferred,
        Blocker::FrequencyCapped,
    ];

    /// The code as it appears in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Blocker::ScheduledStart => "scheduled_start",
            Blocker::BatchPaused => "batch_paused",
            Blocker::OutsideWindow => "outside_window",
            Blocker::RetryWait => "retry_wait",
            Blocker::ConcurrencyFull => "concurrency_full",
            Blocker::RateLimited => "rate_limited",
            Blocker::ProviderThrottled => "provider_throttled",
            Blocker::PluginFaulted => "plugin_faulted",
            Blocker::NoNumberAvailable => "no_number_available",
            Blocker::BudgetExhausted => "budget_exhausted",
            Blocker::GoalReached => "goal_reached",
            Blocker::GateDeferred => "gate_deferred",
            Blocker::FrequencyCapped => "frequency_capped",
        }
    }
}
