//! What a campaign asks for: limits, windows, numbers, policy plugins.

use serde::{Deserialize, Serialize};

use super::Millis;

/// Follow-ups past the attempt limit when config names none.
pub const DEFAULT_MAX_FOLLOWUPS: u32 = 1;

fn default_max_followups() -> u32 {
    DEFAULT_MAX_FOLLOWUPS
}

/// Everything the engine needs to know about a campaign, resolved from
/// config: no defaults are applied after this point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CampaignSpec {
    pub id: String,
    pub workspace: String,
    /// Most calls live at once.
    pub concurrency: u32,
    /// Most new calls per second.
    pub calls_per_second: f64,
    /// Most attempts per contact.
    pub max_attempts: u32,
    /// Follow-ups the person asked for that may be dialed once the
    /// attempts are used up.
    #[serde(default = "default_max_followups")]
    pub max_followups: u32,
    /// When contacts may be called, on their own clocks.
    pub calling_window: CallingWindow,
    /// How a contact's time zone is found.
    pub time_zone_policy: TimeZonePolicy,
    /// The zone used when nothing better is known.
    pub default_time_zone: String,
    /// Name of the retry plugin (built-in name or sha256-identified path).
    pub retry_plugin: String,
    pub retry_config: Vec<(String, String)>,
    /// Name of the classifier plugin.
    pub classifier_plugin: String,
    pub classifier_config: Vec<(String, String)>,
    /// Name of the provider: "simulated" or a provider-adapter plugin.
    pub provider: String,
    pub provider_config: Vec<(String, String)>,
    /// Hosts the provider adapter may send requests to.
    pub allowed_hosts: Vec<String>,
    /// How long a call may stay live without a final event.
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub call_timeout_ms: Millis,
    /// Caller ids and how to pick one.
    pub numbers: Vec<FromNumber>,
    pub number_strategy: NumberStrategy,
    /// Stop dialing once spent cost reaches this, in millionths.
    pub budget_micros: Option<u64>,
    /// Stop once this many contacts reach a success label.
    pub goal: Option<Goal>,
    /// Cost of a talk minute when the provider reports none, in millionths
    /// of a currency unit, charged per second.
    #[serde(default)]
    pub cost_per_minute_micros: Option<u64>,
    pub variants: Vec<Variant>,
    /// Faults in a row after which a batch pauses with `plugin_faulted`.
    pub max_consecutive_plugin_faults: u32,
    /// Provider config keys whose values are secrets, as (config key,
    /// environment variable): read when the provider is configured, so
    /// they never reach the store.
    #[serde(default)]
    pub provider_secrets: Vec<(String, String)>,
    /// Where batch, contact and attempt events are posted.
    #[serde(default)]
    pub webhooks: Vec<Webhook>,
    /// The dial-gate plugin asked before every dial, if any.
    #[serde(default)]
    pub gate_plugin: Option<String>,
    #[serde(default)]
    pub gate_config: Vec<(String, String)>,
    /// Disposition labels whose number joins the workspace's
    /// `dnc-internal` list in the same change as the attempt's end.
    #[serde(default = "default_suppress_on")]
    pub suppress_on: Vec<String>,
    /// Caps on attempts per number over the whole workspace: the
    /// workspace's own, then the campaign's.
    #[serde(default)]
    pub frequency_caps: Vec<FrequencyCap>,
}

/// The label that adds a number to `dnc-internal` when config names none.
pub const DEFAULT_SUPPRESS_ON: &str = "do_not_call";

fn default_suppress_on() -> Vec<String> {
    vec![DEFAULT_SUPPRESS_ON.to_string()]
}

/// The longest period a frequency cap may count over: how long a number's
/// attempts are remembered.
pub const MAX_CAP_PERIOD_MS: Millis = super::suppression::PHONE_HISTORY_WINDOW;

/// At most `max_attempts` attempts to one number in any rolling
/// `period_ms`, over every campaign and batch of the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FrequencyCap {
    pub max_attempts: u32,
    #[schema(value_type = i64)]
    pub period_ms: Millis,
}

/// A webhook endpoint of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Webhook {
    /// "https://..." or "http://...".
    pub url: String,
    /// Environment variable holding the signing secret.
    pub secret_env: String,
    /// Event names ("batch.completed", "contact.no_answer",
    /// "attempt.ended", ...), group wildcards ("contact.*") or "*".
    /// Empty means every event.
    pub events: Vec<String>,
}

impl Goal {
    /// Whether `label` counts toward the goal.
    pub fn is_success(&self, label: &str) -> bool {
        self.success_labels.iter().any(|success| success == label)
    }
}

impl Webhook {
    /// Whether the endpoint subscribed to `event` (e.g. "batch.paused").
    pub fn wants(&self, event: &str) -> bool {
        self.events.is_empty()
            || self.events.iter().any(|pattern| {
                pattern == "*"
                    || pattern == event
                    || pattern.strip_suffix(".*").is_some_and(|group| {
                        event
                            .strip_prefix(group)
                            .is_some_and(|rest| rest.starts_with('.'))
                    })
            })
    }
}

/// A caller id in the number pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FromNumber {
    pub number: String,
    pub weight: u32,
    pub enabled: bool,
    /// Out of rotation until this time.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub rested_until: Option<Millis>,
}

/// How a caller id is picked for an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NumberStrategy {
    #[default]
    RoundRobin,
    Weighted,
    /// A retry uses the number of the contact's previous attempt.
    Sticky,
    /// A number from the contact's country when there is one.
    SameCountry,
}

/// Success target of a campaign or batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Goal {
    /// Contacts that must reach a success label.
    pub target: u64,
    /// Disposition labels that count as success.
    pub success_labels: Vec<String>,
}

/// An A/B variant: provider parameters applied to the contacts assigned to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Variant {
    pub name: String,
    pub weight: u32,
    pub parameters: Vec<(String, String)>,
}

/// How a contact's time zone is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeZonePolicy {
    /// The contact's own zone, else one inferred from the number, else the
    /// campaign default.
    #[default]
    Contact,
    /// Always the campaign default.
    Campaign,
}

/// When calls may be placed, evaluated on the contact's local clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct CallingWindow {
    /// Any rule that matches opens the window. Empty means always open.
    pub rules: Vec<WindowRule>,
}

/// One way of saying when calling is allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WindowRule {
    /// Days of week (0 = Monday) and a local time range, end exclusive,
    /// in minutes after midnight.
    Range {
        days: Vec<u8>,
        start_minute: u16,
        end_minute: u16,
    },
    /// A cron expression whose matching minutes are open, in the `cron`
    /// crate's syntax (seconds first; config files may omit the seconds).
    Cron { expression: String },
}
