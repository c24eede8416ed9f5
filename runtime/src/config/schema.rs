//! The config file format, section by section, as serde reads it. Values
//! keep their spans so `validate()` can point at them; nothing here checks
//! meaning beyond types and known keys.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_spanned::Spanned;

/// A key of a free-form table, with where it was written.
pub type Key = Spanned<String>;

/// `[server]`: where the HTTP API listens and where state is kept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Address the HTTP API and dashboard listen on, "host:port".
    /// Default: "127.0.0.1:8080".
    pub bind: Option<Spanned<String>>,
    /// Directory of the embedded store, relative to the working directory.
    /// Default: "./outdial-data".
    pub data_dir: Option<Spanned<String>>,
    /// The base URL providers reach this server at, e.g.
    /// "https://dialer.example.com": status callbacks go to
    /// `{public_url}/v1/webhooks/providers/{campaign_id}`. Required when a
    /// campaign dials through a provider-adapter plugin. Default: none.
    pub public_url: Option<Spanned<String>>,
    /// Who may read `/metrics`: "public" (anyone who reaches the server)
    /// or "key" (scrapers presenting `metrics_key` as
    /// `Authorization: Bearer <key>`). Default: "public".
    pub metrics: Option<Spanned<String>>,
    /// The scrapers' key when `metrics = "key"`, `{ env = "VAR" }`, read at
    /// start-up. A key of its own: it opens `/metrics` and nothing else,
    /// and no API key opens `/metrics`. Default: none.
    pub metrics_key: Option<Spanned<EnvRef>>,
    /// The identifying labels of per-campaign series: "workspace",
    /// "campaign", both or none (`[]`); series left alike are summed.
    /// Default: ["workspace", "campaign"].
    pub metrics_labels: Option<Vec<Spanned<String>>>,
}

/// `[store]`: where batches, contacts and attempts are kept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// "sled", the embedded store in `server.data_dir`, for one node; or
    /// "postgres", one database that several nodes share. Default: "sled".
    pub backend: Option<Spanned<String>>,
    /// The PostgreSQL connection URL, `{ env = "VAR" }`, read at start-up so
    /// its password stays out of the file. Only with `backend = "postgres"`.
    /// Default: `{ env = "OUTDIAL_DATABASE_URL" }`.
    pub url: Option<Spanned<EnvRef>>,
    /// Connections this node keeps open to PostgreSQL, 1 to 64. Only with
    /// `backend = "postgres"`. Default: 8.
    pub pool_size: Option<Spanned<i64>>,
    /// How long a node's lease on a campaign lasts unless renewed, "2s" to
    /// "60s": a dead node's campaigns are dialed by another within about
    /// this long. Only with `backend = "postgres"`. Default: "8s".
    pub lease_ttl: Option<Spanned<String>>,
}

/// `[[workspaces]]`: a tenant; campaigns and API keys belong to one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceSection {
    /// Unique id, referenced by `campaigns.workspace`. Required.
    pub id: Spanned<String>,
    /// Display name. Default: the id.
    pub name: Option<Spanned<String>>,
    /// Keys that may use the HTTP API for this workspace. Default: none.
    #[serde(default)]
    pub api_keys: Vec<Spanned<ApiKeySection>>,
    /// Most attempts to one phone number over every campaign of the
    /// workspace in a rolling period. Default: none.
    #[serde(default)]
    pub frequency_caps: Vec<Spanned<FrequencyCapSection>>,
}

/// `{ max_attempts = 3, period = "24h" }`: at most that many attempts to a
/// number in any such period.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrequencyCapSection {
    /// Attempts allowed in the period. Required.
    pub max_attempts: Spanned<i64>,
    /// The rolling period, as a duration like "24h" or "7d", at most
    /// "30d". Required.
    pub period: Spanned<String>,
}

/// One API key, never written in plain text: either its sha256 or the name
/// of the environment variable holding it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySection {
    /// Unique id of the key within the workspace, shown in logs. Required.
    pub id: Spanned<String>,
    /// Lowercase hex sha256 of the key (64 characters).
    pub sha256: Option<Spanned<String>>,
    /// Environment variable holding the key; it is hashed when read.
    pub env: Option<Spanned<String>>,
}

/// `[[plugins]]`: a named policy plugin, built in or loaded from a file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSection {
    /// Unique name, referenced by campaigns' `plugin` keys. Required.
    pub name: Spanned<String>,
    /// A plugin that ships with outdial, e.g. "retry-backoff".
    pub builtin: Option<Spanned<String>>,
    /// A `.wasm` component, relative to the config file that names it.
    pub path: Option<Spanned<String>>,
    /// CPU time allowed per call into the plugin, in milliseconds. Default: 50.
    pub cpu_ms: Option<Spanned<i64>>,
    /// Memory the plugin may grow to, in MiB. Default: 32.
    pub memory_mb: Option<Spanned<i64>>,
}

/// `[[campaigns]]`: what to call with, when, how fast and with which policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignSection {
    /// Unique id. Required.
    pub id: Spanned<String>,
    /// Id of the `[[workspaces]]` entry the campaign belongs to. Required.
    pub workspace: Spanned<String>,
    /// Who places the calls. Required.
    pub provider: Spanned<ProviderSection>,
    /// Retry strategy plugin. Default: the built-in "retry-backoff" with no config.
    pub retry: Option<Spanned<PolicySection>>,
    /// Disposition classifier plugin. Default: the built-in "classify-rules" with no config.
    pub classifier: Option<Spanned<PolicySection>>,
    /// Most calls live at once. Default: 10.
    pub concurrency: Option<Spanned<i64>>,
    /// Calls per second across the campaign. Default: 5.
    pub calls_per_second: Option<Spanned<f64>>,
    /// Most attempts per contact, the first one included. Default: 3.
    pub max_attempts: Option<Spanned<i64>>,
    /// Follow-ups the person asked for ("call me back tomorrow") that may
    /// still be dialed once `max_attempts` are used up; a follow-up within
    /// the attempts counts as an attempt. Default: 1.
    pub max_followups: Option<Spanned<i64>>,
    /// When contacts may be called. Default: always, in UTC.
    pub window: Option<Spanned<WindowSection>>,
    /// Caller ids and how they are picked. Default: none (the provider's default).
    pub numbers: Option<Spanned<NumbersSection>>,
    /// Spending limit, in the provider's currency units (e.g. 250.0 dollars).
    /// Default: no limit.
    pub budget: Option<Spanned<f64>>,
    /// Cost of a talk minute, in the provider's currency units, charged
    /// per second, for attempts whose provider reports no cost.
    /// Default: none (such attempts cost 0).
    pub cost_per_minute: Option<Spanned<f64>>,
    /// Stop once enough contacts succeed. Default: no goal.
    pub goal: Option<Spanned<GoalSection>>,
    /// A/B variants. Default: none.
    #[serde(default)]
    pub variants: Vec<Spanned<VariantSection>>,
    /// Where batch and contact events are posted. Default: none.
    #[serde(default)]
    pub webhooks: Vec<Spanned<WebhookSection>>,
    /// How long a call may stay live without a final event, as a duration
    /// like "90s", "10m", "2h". Default: "15m".
    pub call_timeout: Option<Spanned<String>>,
    /// Plugin faults in a row after which a batch pauses. Default: 5.
    pub max_consecutive_plugin_faults: Option<Spanned<i64>>,
    /// Dial-gate plugin asked right before every dial. Default: none.
    pub gate: Option<Spanned<PolicySection>>,
    /// Disposition labels whose number joins the workspace's
    /// `dnc-internal` list when an attempt ends with one.
    /// Default: ["do_not_call"].
    pub suppress_on: Option<Spanned<Vec<Spanned<String>>>>,
    /// Caps of attempts per number, over every campaign of the workspace,
    /// that apply to this campaign's dials besides the workspace's own.
    /// Default: none.
    #[serde(default)]
    pub frequency_caps: Vec<Spanned<FrequencyCapSection>>,
}

/// `provider = { ... }` of a campaign.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSection {
    /// "simulated" (built in, no plugin) or the name of a provider-adapter
    /// plugin. Required.
    pub plugin: Spanned<String>,
    /// Keys for the plugin. A value may be `{ env = "VAR" }` to read a
    /// secret from the environment at start-up. For "simulated", any
    /// simulation knob (seed, time_scale, instant, ...). Default: empty.
    #[serde(default)]
    pub config: BTreeMap<Key, Spanned<toml::Value>>,
    /// Hosts the adapter may send requests to, e.g. "api.twilio.com".
    /// Default: none.
    #[serde(default)]
    pub allowed_hosts: Vec<Spanned<String>>,
}

/// `retry = { ... }`, `classifier = { ... }` or `gate = { ... }` of a
/// campaign.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySection {
    /// A `[[plugins]]` name or a built-in plugin name. Required.
    pub plugin: Spanned<String>,
    /// Keys the plugin declares, with string, number or boolean values.
    /// Default: empty.
    #[serde(default)]
    pub config: BTreeMap<Key, Spanned<toml::Value>>,
}

/// `window = { ... }`: when calls may be placed, on the contact's clock.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSection {
    /// "contact" (the contact's own zone, else the default) or "campaign"
    /// (always the default). Default: "contact".
    pub time_zone_policy: Option<Spanned<String>>,
    /// IANA zone used when nothing better is known. Default: "UTC".
    pub default_time_zone: Option<Spanned<String>>,
    /// Open hours: `{ days = "mon-fri", start = "09:00", end = "20:00" }`.
    /// Default: none.
    #[serde(default)]
    pub hours: Vec<Spanned<HoursSection>>,
    /// Cron expressions (5 fields, minute first, or 6 with seconds) whose
    /// matching minutes are open. Default: none.
    #[serde(default)]
    pub cron: Vec<Spanned<String>>,
}

/// One range of open hours.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursSection {
    /// Days of week: "mon-fri", "sat,sun", "daily". Default: "daily".
    pub days: Option<Spanned<String>>,
    /// Local opening time "HH:MM". Required.
    pub start: Spanned<String>,
    /// Local closing time "HH:MM", exclusive, "24:00" for midnight. Required.
    pub end: Spanned<String>,
}

/// `numbers = { ... }`: the caller-id pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumbersSection {
    /// "round_robin", "weighted", "sticky" or "same_country".
    /// Default: "round_robin".
    pub strategy: Option<Spanned<String>>,
    /// The numbers. Required, at least one.
    pub pool: Vec<Spanned<PoolNumberSection>>,
}

/// One caller id of the pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolNumberSection {
    /// E.164, e.g. "+14155550100". Required.
    pub number: Spanned<String>,
    /// Share of calls under the "weighted" strategy, at least 1. Default: 1.
    pub weight: Option<Spanned<i64>>,
    /// Whether the number is in rotation. Default: true.
    pub enabled: Option<bool>,
}

/// `goal = { ... }`: when a campaign has done enough.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalSection {
    /// Contacts that must reach a success label, at least 1. Required.
    pub target: Spanned<i64>,
    /// Disposition labels that count as success. Required, at least one.
    pub success_labels: Vec<Spanned<String>>,
}

/// One A/B variant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantSection {
    /// Unique name within the campaign. Required.
    pub name: Spanned<String>,
    /// Share of contacts assigned to the variant, at least 1. Default: 1.
    pub weight: Option<Spanned<i64>>,
    /// Per-call parameters handed to the provider. Default: empty.
    #[serde(default)]
    pub parameters: BTreeMap<Key, Spanned<toml::Value>>,
}

/// One webhook endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSection {
    /// "https://..." (or "http://" for local receivers). Required.
    pub url: Spanned<String>,
    /// Signing secret, `{ env = "VAR" }`. Required: unsigned webhooks cannot
    /// be trusted by their receivers.
    pub secret: Spanned<EnvRef>,
    /// Events to send, e.g. "batch.completed", "contact.*", "attempt.ended".
    /// Default: every event.
    #[serde(default)]
    pub events: Vec<Spanned<String>>,
}

/// A value read from the environment at start-up: `{ env = "VAR" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvRef {
    /// Name of the environment variable.
    pub env: Spanned<String>,
}
