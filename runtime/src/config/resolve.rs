//! Checking a parsed config and resolving it into specs. One walk does
//! both, so a value is parsed in exactly one place: `validate()` keeps the
//! problems, `campaign_specs()` keeps the specs when there are none.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use serde_spanned::Spanned;
use sha2::{Digest, Sha256};

use super::catalog::{
    BUILTIN_PLUGINS, ConfigureFailure, PluginCatalog, PluginInfo, PluginKind, PluginRef,
    SIMULATED_PROVIDER, SandboxLimits,
};
use super::diagnostics::{Diagnostics, Location, Reporter};
use super::overrides::{
    DATABASE_URL_ENV, DEFAULT_LEASE_TTL_MS, DEFAULT_POOL_SIZE, LEASE_TTL_RANGE_MS, MAX_POOL_SIZE,
    STORE_ENV, StoreChoice,
};
use super::schema::{
    CampaignSection, FrequencyCapSection, Key, NumbersSection, PluginSection, PolicySection,
    ProviderSection, ServerSection, StoreSection, WindowSection,
};
use super::simulation::SimulationConfig;
use super::values::{
    DURATION_EXPECTED, is_bind_address, is_env_name, is_host_pattern, is_identifier,
    is_public_base_url, is_time_zone, is_webhook_url, normalize_cron, parse_clock, parse_days,
    parse_duration_ms,
};
use super::{Config, Sourced};
use crate::model::{
    CallingWindow, CampaignSpec, DEFAULT_MAX_FOLLOWUPS, DEFAULT_SUPPRESS_ON, EventKind,
    FrequencyCap, FromNumber, Goal, MAX_CAP_PERIOD_MS, MINUTE_MS, NumberStrategy, TimeZonePolicy,
    Variant, Webhook, WindowRule, is_subscribable,
};
use crate::phone::is_e164;

/// Default CPU time per plugin call, in milliseconds.
pub const DEFAULT_CPU_MS: u64 = 50;
/// Default plugin memory limit, in MiB.
pub const DEFAULT_MEMORY_MB: u64 = 32;
/// Retry plugin of a campaign that names none.
pub const DEFAULT_RETRY_PLUGIN: &str = "retry-backoff";
/// Classifier plugin of a campaign that names none.
pub const DEFAULT_CLASSIFIER_PLUGIN: &str = "classify-rules";
/// Zone of a campaign that names none.
pub const DEFAULT_TIME_ZONE: &str = "UTC";

/// A plugin as the host should load it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSpec {
    /// The name campaigns use for it.
    pub name: String,
    pub source: PluginRef,
    /// CPU time allowed per call, in milliseconds.
    pub cpu_ms: u64,
    /// Memory limit, in MiB.
    pub memory_mb: u64,
}

/// A workspace and the keys that may act for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceSpec {
    pub id: String,
    pub name: String,
    pub api_keys: Vec<ApiKeySpec>,
}

/// An API key by its hash; the key itself is never kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeySpec {
    pub id: String,
    /// Lowercase hex sha256 of the key.
    pub sha256: String,
}

/// Who may read `/metrics`, and what its per-campaign series are labelled
/// with: `[server] metrics`, `metrics_key` and `metrics_labels` resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetricsSpec {
    /// The sha256 of the key scrapers must present; `None` when `/metrics`
    /// is public. The key itself is never kept.
    pub key_sha256: Option<[u8; 32]>,
    pub labels: MetricsLabels,
}

/// The identifying labels per-campaign series carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsLabels {
    pub workspace: bool,
    pub campaign: bool,
}

impl Default for MetricsLabels {
    fn default() -> Self {
        MetricsLabels {
            workspace: true,
            campaign: true,
        }
    }
}

/// Check everything a config means: references between sections, every
/// value's syntax and range, and each campaign's plugins against
/// `catalog` (existence, kind, config keys). Collects every problem.
pub fn validate(config: &Config, catalog: &dyn PluginCatalog) -> Result<(), Diagnostics> {
    let mut checker = Checker::new(config, Some(catalog));
    checker.check_all();
    checker.report.finish().into_result()
}

/// Checks a policy plugin named outside the config files (a batch's own
/// retry strategy or dial gate) as a campaign's section of that `slot` is
/// checked: the plugin found among the config's `[[plugins]]` and the
/// built-ins, its kind and keys, and its `configure` run in its sandbox.
/// `section`'s spans locate its values; each problem comes back with the
/// span start of the value it was found at, or of the `whole` section.
pub(super) fn check_policy_outside_config(
    config: &Config,
    catalog: &dyn PluginCatalog,
    slot: Slot,
    section: &PolicySection,
    whole: Range<usize>,
) -> Vec<(usize, String)> {
    const NO_FILE: usize = usize::MAX;
    let mut checker = Checker::new(config, Some(catalog));
    checker.captured = Some(Vec::new());
    checker.policy(
        NO_FILE,
        slot,
        Some((Location::new(NO_FILE, whole), section)),
    );
    checker
        .captured
        .unwrap_or_default()
        .into_iter()
        .map(|(at, message)| (at.start, message))
        .collect()
}

pub(super) fn campaign_specs(config: &Config) -> Result<Vec<CampaignSpec>, Diagnostics> {
    let mut checker = Checker::new(config, None);
    let specs = checker.check_all();
    checker.report.finish().into_result().map(|()| specs)
}

impl PluginSpec {
    /// The sandbox the plugin runs in.
    pub fn limits(&self) -> SandboxLimits {
        SandboxLimits {
            cpu_ms: self.cpu_ms,
            memory_mb: self.memory_mb,
        }
    }
}

/// The sandbox of a `[[plugins]]` entry, defaults filled in; `None`, a
/// built-in named directly, gets the defaults.
fn declared_limits(plugin: Option<&PluginSection>) -> SandboxLimits {
    SandboxLimits {
        cpu_ms: plugin
            .and_then(|plugin| positive(plugin.cpu_ms.as_ref()))
            .unwrap_or(DEFAULT_CPU_MS),
        memory_mb: plugin
            .and_then(|plugin| positive(plugin.memory_mb.as_ref()))
            .unwrap_or(DEFAULT_MEMORY_MB),
    }
}

pub(super) fn plugin_specs(config: &Config) -> Vec<PluginSpec> {
    let mut specs: Vec<PluginSpec> = config
        .plugins
        .iter()
        .filter_map(|plugin| {
            let limits = declared_limits(Some(&plugin.item));
            Some(PluginSpec {
                name: plugin.item.name.get_ref().clone(),
                source: declared_ref(config, plugin)?,
                cpu_ms: limits.cpu_ms,
                memory_mb: limits.memory_mb,
            })
        })
        .collect();
    // Built-ins named directly by campaigns run with the default limits.
    for campaign in &config.campaigns {
        let named = [
            campaign
                .item
                .retry
                .as_ref()
                .map(|retry| retry.get_ref().plugin.get_ref().as_str()),
            campaign
                .item
                .classifier
                .as_ref()
                .map(|c| c.get_ref().plugin.get_ref().as_str()),
            Some(campaign.item.provider.get_ref().plugin.get_ref().as_str()),
            campaign
                .item
                .gate
                .as_ref()
                .map(|gate| gate.get_ref().plugin.get_ref().as_str()),
        ];
        let defaults = [
            campaign
                .item
                .retry
                .is_none()
                .then_some(DEFAULT_RETRY_PLUGIN),
            campaign
                .item
                .classifier
                .is_none()
                .then_some(DEFAULT_CLASSIFIER_PLUGIN),
        ];
        for name in named.into_iter().chain(defaults).flatten() {
            if name != SIMULATED_PROVIDER
                && BUILTIN_PLUGINS.contains(&name)
                && !specs.iter().any(|spec| spec.name == name)
            {
                let limits = declared_limits(None);
                specs.push(PluginSpec {
                    name: name.to_string(),
                    source: PluginRef::Builtin(name.to_string()),
                    cpu_ms: limits.cpu_ms,
                    memory_mb: limits.memory_mb,
                });
            }
        }
    }
    specs
}

pub(super) fn workspace_specs(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<WorkspaceSpec>, Diagnostics> {
    let mut report = Reporter::new(&config.files);
    let mut specs = Vec::new();
    for workspace in &config.workspaces {
        let file = workspace.file;
        let mut api_keys = Vec::new();
        for key in &workspace.item.api_keys {
            let key = key.get_ref();
            let sha256 = match (&key.sha256, &key.env) {
                (Some(hash), _) => Some(hash.get_ref().to_ascii_lowercase()),
                (None, Some(var)) => match env(var.get_ref()) {
                    Some(value) if !value.is_empty() => {
                        Some(hex::encode(Sha256::digest(value.as_bytes())))
                    }
                    _ => {
                        report.error(at(file, var), missing_env(var.get_ref(), "an API key"));
                        None
                    }
                },
                (None, None) => None,
            };
            if let Some(sha256) = sha256 {
                api_keys.push(ApiKeySpec {
                    id: key.id.get_ref().clone(),
                    sha256,
                });
            }
        }
        specs.push(WorkspaceSpec {
            id: workspace.item.id.get_ref().clone(),
            name: workspace.item.name.as_ref().map_or_else(
                || workspace.item.id.get_ref().clone(),
                |name| name.get_ref().clone(),
            ),
            api_keys,
        });
    }
    report.finish().into_result().map(|()| specs)
}

/// The store a node opens: `flag` (`--store`), else `OUTDIAL_STORE` through
/// `env`, else the file's `[store]`; each either "sled" or a PostgreSQL URL.
/// The file's URL is read from its environment variable here, at start-up.
pub(super) fn store_choice(
    config: &Config,
    flag: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<StoreChoice, Diagnostics> {
    let mut checker = Checker::new(config, None);
    checker.check_store();
    let section = config.store.first();
    let pool_size = section
        .and_then(|store| store.item.pool_size.as_ref())
        .and_then(|size| usize::try_from(*size.get_ref()).ok())
        .unwrap_or(DEFAULT_POOL_SIZE);
    let lease_ttl_ms = section
        .and_then(|store| store.item.lease_ttl.as_ref())
        .and_then(|ttl| parse_duration_ms(ttl.get_ref()))
        .and_then(|ms| u64::try_from(ms).ok())
        .filter(|ms| LEASE_TTL_RANGE_MS.contains(ms))
        .unwrap_or(DEFAULT_LEASE_TTL_MS);
    let given = flag
        .map(|value| ("--store", value.to_string()))
        .or_else(|| {
            env(STORE_ENV)
                .filter(|value| !value.trim().is_empty())
                .map(|value| (STORE_ENV, value))
        });
    if let Some((from, value)) = given {
        let mut report = checker.report.finish();
        let choice = match value.trim() {
            "sled" => Some(StoreChoice::Sled),
            url if is_postgres_url(url) => Some(StoreChoice::Postgres {
                url: url.to_string(),
                pool_size,
                lease_ttl_ms,
            }),
            _ => None,
        };
        return match choice {
            Some(choice) if report.is_empty() => Ok(choice),
            Some(_) => Err(report),
            None => {
                // The value itself is not shown: it may hold a password.
                report.push(super::Diagnostic::whole_file(
                    std::path::Path::new(from),
                    format!("neither \"sled\" nor a PostgreSQL connection string, expected \"sled\", {CONNECTION_FORMS}"),
                ));
                Err(report)
            }
        };
    }
    let choice = match section {
        Some(store) if is_postgres_backend(&store.item) => {
            let var = store.item.url.as_ref().map(|url| &url.get_ref().env);
            let name = var.map_or(DATABASE_URL_ENV, |var| var.get_ref().as_str());
            match env(name).filter(|url| !url.trim().is_empty()) {
                Some(url) if is_postgres_url(url.trim()) => StoreChoice::Postgres {
                    url: url.trim().to_string(),
                    pool_size,
                    lease_ttl_ms,
                },
                found => {
                    let message = match found {
                        Some(_) => format!(
                            "environment variable \"{name}\" does not hold a PostgreSQL connection string, expected {CONNECTION_FORMS}"
                        ),
                        None => missing_env(name, "the PostgreSQL URL of [store]"),
                    };
                    let place = var.map_or_else(
                        || {
                            store
                                .item
                                .backend
                                .as_ref()
                                .map(|backend| at(store.file, backend))
                        },
                        |var| Some(at(store.file, var)),
                    );
                    if let Some(place) = place {
                        checker.error(place, message);
                    }
                    StoreChoice::Sled
                }
            }
        }
        _ => StoreChoice::Sled,
    };
    checker.report.finish().into_result().map(|()| choice)
}

fn is_postgres_backend(store: &StoreSection) -> bool {
    store
        .backend
        .as_ref()
        .is_some_and(|backend| backend.get_ref() == "postgres")
}

/// The connection strings PostgreSQL's client libraries read.
const CONNECTION_FORMS: &str =
    "\"postgres://user:password@host:port/database\" or \"host=... dbname=...\"";

fn is_postgres_url(url: &str) -> bool {
    url.parse::<tokio_postgres::Config>().is_ok()
}

pub(super) fn metrics_spec(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<MetricsSpec, Diagnostics> {
    let mut checker = Checker::new(config, None);
    let mut spec = MetricsSpec::default();
    if let Some(server) = config.server.first() {
        let (key_env, labels) = checker.server_metrics(server.file, &server.item);
        spec.labels = labels;
        if let Some(var) = key_env {
            match env(var.get_ref()) {
                Some(key) if !key.is_empty() => {
                    spec.key_sha256 = Some(Sha256::digest(key.as_bytes()).into());
                }
                _ => checker.error(
                    at(server.file, var),
                    missing_env(var.get_ref(), "the metrics key"),
                ),
            }
        }
    }
    checker.report.finish().into_result().map(|()| spec)
}

pub(super) fn check_environment(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), Diagnostics> {
    let mut report = Reporter::new(&config.files);
    let mut need = |file: usize, var: &Spanned<String>, what: &str| {
        if env(var.get_ref()).is_none_or(|value| value.is_empty()) {
            report.error(at(file, var), missing_env(var.get_ref(), what));
        }
    };
    for workspace in &config.workspaces {
        for key in &workspace.item.api_keys {
            if let (None, Some(var)) = (&key.get_ref().sha256, &key.get_ref().env) {
                need(workspace.file, var, "an API key");
            }
        }
    }
    for server in &config.server {
        if let Some(key) = &server.item.metrics_key {
            need(server.file, &key.get_ref().env, "the metrics key");
        }
    }
    for campaign in &config.campaigns {
        for (key, value) in &campaign.item.provider.get_ref().config {
            if let Some(var) = env_ref(value.get_ref()) {
                // The value's own span is lost inside a toml::Value table,
                // so point at the key.
                let var = Spanned::new(key.span(), var.to_string());
                need(
                    campaign.file,
                    &var,
                    &format!("provider secret \"{}\"", key.get_ref()),
                );
            }
        }
        for webhook in &campaign.item.webhooks {
            need(
                campaign.file,
                &webhook.get_ref().secret.get_ref().env,
                "a webhook signing secret",
            );
        }
    }
    report.finish().into_result()
}

fn missing_env(var: &str, what: &str) -> String {
    format!("environment variable \"{var}\" is not set, expected it to hold {what}")
}

/// The location of a spanned value in `file`.
fn at<T>(file: usize, value: &Spanned<T>) -> Location {
    Location::new(file, value.span())
}

fn positive(value: Option<&Spanned<i64>>) -> Option<u64> {
    value
        .and_then(|value| u64::try_from(*value.get_ref()).ok())
        .filter(|value| *value > 0)
}

/// `{ env = "VAR" }` as a config value: the variable's name.
fn env_ref(value: &toml::Value) -> Option<&str> {
    let table = value.as_table()?;
    if table.len() == 1 {
        table.get("env")?.as_str()
    } else {
        None
    }
}

fn declared_ref(config: &Config, plugin: &Sourced<PluginSection>) -> Option<PluginRef> {
    match (&plugin.item.builtin, &plugin.item.path) {
        (Some(name), None) => Some(PluginRef::Builtin(name.get_ref().clone())),
        (None, Some(path)) => Some(PluginRef::Path(
            config.base_dir(plugin.file).join(path.get_ref()),
        )),
        _ => None,
    }
}

/// "a", "b" and "c" as `"a", "b", "c"`, or "none" when empty.
fn quoted_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let list: Vec<String> = items
        .into_iter()
        .map(|item| format!("\"{item}\""))
        .collect();
    if list.is_empty() {
        "none".to_string()
    } else {
        list.join(", ")
    }
}

/// The campaign section a plugin is used from, for messages.
#[derive(Clone, Copy)]
pub(super) enum Slot {
    Retry,
    Classifier,
    Provider,
    Gate,
}

impl Slot {
    fn kind(self) -> PluginKind {
        match self {
            Slot::Retry => PluginKind::RetryStrategy,
            Slot::Classifier => PluginKind::DispositionClassifier,
            Slot::Provider => PluginKind::ProviderAdapter,
            Slot::Gate => PluginKind::DialGate,
        }
    }

    pub(super) fn section(self) -> &'static str {
        match self {
            Slot::Retry => "retry",
            Slot::Classifier => "classifier",
            Slot::Provider => "provider",
            Slot::Gate => "gate",
        }
    }
}

/// Where a campaign uses a plugin: its section, the name it gives and the
/// config it passes.
struct PluginUse<'a> {
    file: usize,
    slot: Slot,
    section: Location,
    name: &'a Spanned<String>,
    values: &'a BTreeMap<Key, Spanned<toml::Value>>,
}

/// A plugin a campaign uses, as the catalog describes it.
struct UsedPlugin {
    source: PluginRef,
    info: PluginInfo,
    /// Every config key given is declared and every required one given.
    keys_right: bool,
}

/// A campaign's `[campaigns.provider]` section, checked.
struct ResolvedProvider {
    /// "simulated" or a provider-adapter plugin.
    name: String,
    /// Its config as key-value pairs, without the values read from the
    /// environment.
    config: Vec<(String, String)>,
    /// Config keys whose value is read from the environment, each with the
    /// variable it is read from.
    secrets: Vec<(String, String)>,
    /// Hosts its requests may go to.
    allowed_hosts: Vec<String>,
}

struct Checker<'a> {
    config: &'a Config,
    report: Reporter<'a>,
    catalog: Option<&'a dyn PluginCatalog>,
    /// Plugins are described once each: loading one can be slow.
    described: HashMap<PluginRef, Result<PluginInfo, String>>,
    /// Configured once per distinct config and limits, for the same reason.
    configured: HashMap<ConfigureKey, Result<(), ConfigureFailure>>,
    /// When checking values that come from no file (a batch's own
    /// settings), their problems by location, not resolved against files.
    captured: Option<Vec<(Location, String)>>,
}

type ConfigureKey = (PluginRef, PluginKind, Vec<(String, String)>, SandboxLimits);

impl<'a> Checker<'a> {
    fn new(config: &'a Config, catalog: Option<&'a dyn PluginCatalog>) -> Self {
        Checker {
            config,
            report: Reporter::new(&config.files),
            catalog,
            described: HashMap::new(),
            configured: HashMap::new(),
            captured: None,
        }
    }

    fn error(&mut self, at: Location, message: impl Into<String>) {
        match &mut self.captured {
            Some(captured) => captured.push((at, message.into())),
            None => self.report.error(at, message),
        }
    }

    fn check_all(&mut self) -> Vec<CampaignSpec> {
        self.check_server();
        self.check_store();
        self.check_workspaces();
        self.check_plugins();
        let config = self.config;
        self.check_unique(
            "campaign id",
            config.campaigns.iter().map(|c| (c.file, &c.item.id)),
        );
        config
            .campaigns
            .iter()
            .map(|campaign| self.campaign(campaign.file, &campaign.item))
            .collect()
    }

    fn describe(&mut self, plugin: &PluginRef) -> Option<Result<PluginInfo, String>> {
        let catalog = self.catalog?;
        Some(
            self.described
                .entry(plugin.clone())
                .or_insert_with(|| catalog.describe(plugin))
                .clone(),
        )
    }

    /// Report every repeat of an id, at the repeat, naming the first place.
    fn check_unique<'v>(
        &mut self,
        what: &str,
        ids: impl IntoIterator<Item = (usize, &'v Spanned<String>)>,
    ) {
        let mut seen: BTreeMap<&str, Location> = BTreeMap::new();
        for (file, id) in ids {
            let here = at(file, id);
            match seen.get(id.get_ref().as_str()) {
                Some(first) => {
                    let first = self.report.describe(*first);
                    self.error(
                        here,
                        format!(
                            "duplicate {what} \"{}\" (first defined at {first}), expected each {what} once",
                            id.get_ref()
                        ),
                    );
                }
                None => {
                    seen.insert(id.get_ref(), here);
                }
            }
        }
    }

    fn check_identifier(&mut self, file: usize, what: &str, id: &Spanned<String>) {
        if !is_identifier(id.get_ref()) {
            self.error(
                at(file, id),
                format!(
                    "{what} \"{}\" is not a valid id, expected letters, digits, \"-\", \"_\" or \".\", starting with a letter or digit, at most 64 characters",
                    id.get_ref()
                ),
            );
        }
    }

    fn int_in(
        &mut self,
        file: usize,
        value: Option<&Spanned<i64>>,
        name: &str,
        (low, high): (i64, i64),
        default: i64,
    ) -> i64 {
        match value {
            None => default,
            Some(value) if (low..=high).contains(value.get_ref()) => *value.get_ref(),
            Some(value) => {
                self.error(
                    at(file, value),
                    format!("{name} is {}, expected {low} to {high}", value.get_ref()),
                );
                default
            }
        }
    }

    fn check_server(&mut self) {
        let config = self.config;
        if let Some(first) = config.server.first() {
            let first_at = self.report.describe(first.location());
            for again in &config.server[1..] {
                self.error(
                    again.location(),
                    format!("duplicate [server] section (first defined at {first_at}), expected one [server] across all files"),
                );
            }
        }
        for server in &config.server {
            if let Some(bind) = &server.item.bind
                && !is_bind_address(bind.get_ref())
            {
                self.error(
                    at(server.file, bind),
                    format!(
                        "bind address \"{}\" is not an address, expected \"host:port\" like \"127.0.0.1:8080\"",
                        bind.get_ref()
                    ),
                );
            }
            if let Some(data_dir) = &server.item.data_dir
                && data_dir.get_ref().trim().is_empty()
            {
                self.error(
                    at(server.file, data_dir),
                    "data_dir is empty, expected a directory path",
                );
            }
            if let Some(public_url) = &server.item.public_url
                && !is_public_base_url(public_url.get_ref())
            {
                self.error(
                    at(server.file, public_url),
                    format!(
                        "public_url \"{}\" is not a base URL, expected \"https://\" or \"http://\" with a host and no query, fragment or credentials, like \"https://dialer.example.com\"",
                        public_url.get_ref()
                    ),
                );
            }
            self.server_metrics(server.file, &server.item);
        }
    }

    fn check_store(&mut self) {
        let config = self.config;
        if let Some(first) = config.store.first() {
            let first_at = self.report.describe(first.location());
            for again in &config.store[1..] {
                self.error(
                    again.location(),
                    format!("duplicate [store] section (first defined at {first_at}), expected one [store] across all files"),
                );
            }
        }
        for store in &config.store {
            let (file, item) = (store.file, &store.item);
            let postgres = match &item.backend {
                None => false,
                Some(backend) => match backend.get_ref().as_str() {
                    "sled" => false,
                    "postgres" => true,
                    other => {
                        self.error(
                            at(file, backend),
                            format!("unknown store backend \"{other}\", expected \"sled\" or \"postgres\""),
                        );
                        continue;
                    }
                },
            };
            if let Some(url) = &item.url {
                self.check_env_name(file, &url.get_ref().env);
                if !postgres {
                    self.error(
                        at(file, url),
                        "url is set but the backend is \"sled\", which keeps its state in server.data_dir, expected backend = \"postgres\" or no url",
                    );
                }
            }
            if let Some(size) = &item.pool_size {
                let value = *size.get_ref();
                if !(1..=MAX_POOL_SIZE as i64).contains(&value) {
                    self.error(
                        at(file, size),
                        format!("pool_size {value} is out of range, expected 1 to {MAX_POOL_SIZE} connections"),
                    );
                } else if !postgres {
                    self.error(
                        at(file, size),
                        "pool_size is set but the backend is \"sled\", expected backend = \"postgres\" or no pool_size",
                    );
                }
            }
            if let Some(ttl) = &item.lease_ttl {
                let raw = ttl.get_ref();
                match parse_duration_ms(raw).map(|ms| u64::try_from(ms).unwrap_or(0)) {
                    Some(ms) if LEASE_TTL_RANGE_MS.contains(&ms) => {
                        if !postgres {
                            self.error(
                                at(file, ttl),
                                "lease_ttl is set but the backend is \"sled\", which one node owns, expected backend = \"postgres\" or no lease_ttl",
                            );
                        }
                    }
                    Some(_) => self.error(
                        at(file, ttl),
                        format!("lease_ttl \"{raw}\" is out of range, expected \"2s\" to \"60s\""),
                    ),
                    None => self.error(
                        at(file, ttl),
                        format!(
                            "lease_ttl \"{raw}\" is not a duration, expected {DURATION_EXPECTED}"
                        ),
                    ),
                }
            }
        }
    }

    /// The `[server]` metrics settings, each problem reported at its
    /// place: the environment variable of the scrapers' key, when
    /// `/metrics` is behind one, and the labels.
    fn server_metrics(
        &mut self,
        file: usize,
        server: &'a ServerSection,
    ) -> (Option<&'a Spanned<String>>, MetricsLabels) {
        let keyed = match &server.metrics {
            None => false,
            Some(access) => match access.get_ref().as_str() {
                "public" => false,
                "key" => true,
                other => {
                    self.error(
                        at(file, access),
                        format!(
                            "unknown metrics access \"{other}\", expected \"public\" or \"key\""
                        ),
                    );
                    // Closed rather than open until the access is fixed.
                    true
                }
            },
        };
        let key_env = server.metrics_key.as_ref().map(|key| &key.get_ref().env);
        if let Some(var) = key_env {
            self.check_env_name(file, var);
        }
        match (&server.metrics, &server.metrics_key) {
            (Some(access), None) if access.get_ref() == "key" => self.error(
                at(file, access),
                "metrics = \"key\" needs metrics_key, expected the environment variable holding the scrapers' key, e.g. metrics_key = { env = \"OUTDIAL_METRICS_KEY\" }",
            ),
            // A key nobody asks for would leave an operator believing
            // /metrics is closed.
            (access, Some(key)) if !keyed => {
                let given = if access.is_some() { "" } else { " (the default)" };
                self.error(
                    at(file, key),
                    format!(
                        "metrics_key is set but metrics is \"public\"{given}, expected metrics = \"key\" to require the key, or no metrics_key"
                    ),
                );
            }
            _ => {}
        }
        let mut labels = MetricsLabels::default();
        if let Some(names) = &server.metrics_labels {
            labels = MetricsLabels {
                workspace: false,
                campaign: false,
            };
            self.check_unique("metrics label", names.iter().map(|name| (file, name)));
            for name in names {
                match name.get_ref().as_str() {
                    "workspace" => labels.workspace = true,
                    "campaign" => labels.campaign = true,
                    other => self.error(
                        at(file, name),
                        format!(
                            "unknown metrics label \"{other}\", expected \"workspace\" or \"campaign\""
                        ),
                    ),
                }
            }
        }
        (key_env.filter(|_| keyed), labels)
    }

    fn check_workspaces(&mut self) {
        let config = self.config;
        self.check_unique(
            "workspace id",
            config.workspaces.iter().map(|w| (w.file, &w.item.id)),
        );
        let mut hashes: Vec<(usize, &Spanned<String>)> = Vec::new();
        for workspace in &config.workspaces {
            let file = workspace.file;
            self.check_identifier(file, "workspace id", &workspace.item.id);
            self.check_unique(
                "API key id",
                workspace
                    .item
                    .api_keys
                    .iter()
                    .map(|key| (file, &key.get_ref().id)),
            );
            for key in &workspace.item.api_keys {
                let (entry, key) = (at(file, key), key.get_ref());
                match (&key.sha256, &key.env) {
                    (Some(_), Some(_)) | (None, None) => self.error(
                        entry,
                        format!(
                            "API key \"{}\" must have exactly one of sha256 and env, expected {{ id, sha256 = \"<hex>\" }} or {{ id, env = \"VAR_NAME\" }}",
                            key.id.get_ref()
                        ),
                    ),
                    (Some(hash), None) => {
                        let valid = hash.get_ref().len() == 64
                            && hash.get_ref().chars().all(|c| c.is_ascii_hexdigit());
                        if valid {
                            hashes.push((file, hash));
                        } else {
                            self.error(
                                at(file, hash),
                                format!(
                                    "sha256 \"{}\" is not a sha256 digest, expected 64 hexadecimal characters (as sha256sum prints it)",
                                    hash.get_ref()
                                ),
                            );
                        }
                    }
                    (None, Some(var)) => self.check_env_name(file, var),
                }
            }
        }
        // The same key in two workspaces would make the workspace of a
        // request ambiguous.
        let lowered: Vec<(usize, Spanned<String>)> = hashes
            .into_iter()
            .map(|(file, hash)| {
                (
                    file,
                    Spanned::new(hash.span(), hash.get_ref().to_ascii_lowercase()),
                )
            })
            .collect();
        self.check_unique(
            "API key sha256",
            lowered.iter().map(|(file, hash)| (*file, hash)),
        );
    }

    fn check_env_name(&mut self, file: usize, var: &Spanned<String>) {
        if !is_env_name(var.get_ref()) {
            self.error(
                at(file, var),
                format!(
                    "\"{}\" is not an environment variable name, expected letters, digits and \"_\", not starting with a digit",
                    var.get_ref()
                ),
            );
        }
    }

    fn check_plugins(&mut self) {
        let config = self.config;
        self.check_unique(
            "plugin name",
            config.plugins.iter().map(|p| (p.file, &p.item.name)),
        );
        for plugin in &config.plugins {
            let (file, item) = (plugin.file, &plugin.item);
            self.check_identifier(file, "plugin name", &item.name);
            if item.name.get_ref() == SIMULATED_PROVIDER {
                self.error(
                    at(file, &item.name),
                    "plugin name \"simulated\" is reserved for the built-in simulated provider, expected another name",
                );
            }
            self.int_in(file, item.cpu_ms.as_ref(), "cpu_ms", (1, 10_000), 0);
            self.int_in(file, item.memory_mb.as_ref(), "memory_mb", (1, 4_096), 0);
            let source_at = match (&item.builtin, &item.path) {
                (Some(_), Some(path)) => {
                    self.error(
                        at(file, path),
                        format!(
                            "plugin \"{}\" has both builtin and path, expected exactly one of them",
                            item.name.get_ref()
                        ),
                    );
                    continue;
                }
                (None, None) => {
                    self.error(
                        plugin.location(),
                        format!(
                            "plugin \"{}\" has neither builtin nor path, expected builtin = \"<name>\" or path = \"<file>.wasm\"",
                            item.name.get_ref()
                        ),
                    );
                    continue;
                }
                (Some(builtin), None) => at(file, builtin),
                (None, Some(path)) => at(file, path),
            };
            let Some(source) = declared_ref(config, plugin) else {
                continue;
            };
            if let Some(Err(why)) = self.describe(&source) {
                let expected = match source {
                    PluginRef::Builtin(_) => {
                        format!(
                            "one of the built-in plugins {}",
                            quoted_list(BUILTIN_PLUGINS)
                        )
                    }
                    PluginRef::Path(_) => "a Wasm component of an outdial plugin world".to_string(),
                };
                self.error(
                    source_at,
                    format!(
                        "plugin \"{}\" cannot be loaded: {why}, expected {expected}",
                        item.name.get_ref()
                    ),
                );
            }
        }
    }

    /// Where a campaign's plugin name points; reports unknown names.
    fn plugin_ref(&mut self, file: usize, name: &Spanned<String>) -> Option<PluginRef> {
        let config = self.config;
        if let Some(declared) = config
            .plugins
            .iter()
            .find(|p| p.item.name.get_ref() == name.get_ref())
        {
            return declared_ref(config, declared);
        }
        let builtin = PluginRef::Builtin(name.get_ref().clone());
        let known = match self.describe(&builtin) {
            Some(described) => described.is_ok(),
            None => BUILTIN_PLUGINS.contains(&name.get_ref().as_str()),
        };
        if known {
            return Some(builtin);
        }
        let declared = config
            .plugins
            .iter()
            .map(|p| p.item.name.get_ref().as_str());
        self.error(
            at(file, name),
            format!(
                "unknown plugin \"{}\", expected a [[plugins]] name ({}) or a built-in plugin ({})",
                name.get_ref(),
                quoted_list(declared),
                quoted_list(BUILTIN_PLUGINS)
            ),
        );
        None
    }

    /// Check a campaign's use of a plugin: kind and config keys. Answers
    /// the plugin when the catalog knows it and its kind is right.
    fn check_plugin_use(&mut self, place: &PluginUse<'_>) -> Option<UsedPlugin> {
        let PluginUse {
            file,
            slot,
            section,
            name,
            values: config,
        } = *place;
        let source = self.plugin_ref(file, name)?;
        // Load failures of declared plugins are reported at their
        // declaration, once.
        let info = self.describe(&source)?.ok()?;
        let plugin = name.get_ref();
        if info.kind != slot.kind() {
            self.error(
                at(file, name),
                format!(
                    "plugin \"{plugin}\" is a {}, expected a {} for {}",
                    info.kind,
                    slot.kind(),
                    slot.section()
                ),
            );
            return None;
        }
        let accepted = quoted_list(info.config_keys.iter().map(|key| key.name.as_str()));
        let mut keys_right = true;
        for key in config.keys() {
            if !info
                .config_keys
                .iter()
                .any(|declared| &declared.name == key.get_ref())
            {
                keys_right = false;
                self.error(
                    at(file, key),
                    format!(
                        "plugin \"{plugin}\" has no config key \"{}\", expected one of {accepted}",
                        key.get_ref()
                    ),
                );
            }
        }
        for required in info.config_keys.iter().filter(|key| key.required) {
            if !config.keys().any(|key| key.get_ref() == &required.name) {
                keys_right = false;
                self.error(
                    section,
                    format!(
                        "plugin \"{plugin}\" requires config key \"{}\" ({}), expected it in {}.config",
                        required.name,
                        required.description.trim_end_matches('.'),
                        slot.section()
                    ),
                );
            }
        }
        Some(UsedPlugin {
            source,
            info,
            keys_right,
        })
    }

    /// The sandbox `outdial run` gives the plugin campaigns call `name`.
    fn sandbox_limits(&self, name: &str) -> SandboxLimits {
        let declared = self
            .config
            .plugins
            .iter()
            .find(|plugin| plugin.item.name.get_ref() == name);
        declared_limits(declared.map(|plugin| &plugin.item))
    }

    /// Configure a plugin a campaign uses, in its sandbox, as `outdial run`
    /// will, once its keys are known to be right and every value is in
    /// `pairs`. A refusal is reported at the value it names, else at the
    /// section.
    fn check_plugin_config(
        &mut self,
        place: &PluginUse<'_>,
        used: &UsedPlugin,
        pairs: &[(String, String)],
    ) {
        let PluginUse {
            file,
            slot,
            section,
            name,
            values,
        } = *place;
        let Some(catalog) = self.catalog else {
            return;
        };
        // A value left out of `pairs` was refused already, or is a secret
        // read only at start-up: `run` configures the plugin then.
        if !used.keys_right || pairs.len() != values.len() {
            return;
        }
        let plugin = name.get_ref();
        let limits = self.sandbox_limits(plugin);
        let key = (used.source.clone(), slot.kind(), pairs.to_vec(), limits);
        let answer = self
            .configured
            .entry(key)
            .or_insert_with_key(|(source, kind, pairs, limits)| {
                catalog.configure(source, *kind, pairs, *limits)
            })
            .clone();
        let message = match answer {
            Ok(()) => return,
            Err(ConfigureFailure::Refused(why)) => {
                format!("plugin \"{plugin}\" refused its config: {why}")
            }
            Err(ConfigureFailure::CannotStart(why)) => format!(
                "plugin \"{plugin}\" cannot start with this config under its limits ({} ms CPU per call, {} MiB memory): {why}, expected a config it accepts or higher cpu_ms or memory_mb in its [[plugins]] entry",
                limits.cpu_ms, limits.memory_mb
            ),
        };
        let named_value = values
            .iter()
            .find(|(key, _)| message.contains(&format!("\"{}\"", key.get_ref())))
            .map(|(_, value)| at(file, value));
        self.error(named_value.unwrap_or(section), message);
    }

    /// Plugin config values as the strings plugins receive; `{ env = ".." }`
    /// values are set aside as secrets when `secrets` is given.
    fn plugin_config(
        &mut self,
        file: usize,
        section: &str,
        config: &BTreeMap<Key, Spanned<toml::Value>>,
        mut secrets: Option<&mut Vec<(String, String)>>,
    ) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        for (key, value) in config {
            if let Some(var) = env_ref(value.get_ref()) {
                match secrets.as_deref_mut() {
                    Some(secrets) => {
                        self.check_env_name(file, &Spanned::new(value.span(), var.to_string()));
                        secrets.push((key.get_ref().clone(), var.to_string()));
                    }
                    None => self.error(
                        at(file, value),
                        format!(
                            "{section} key \"{}\" reads the environment, expected a string, number or boolean (only provider config takes secrets)",
                            key.get_ref()
                        ),
                    ),
                }
                continue;
            }
            match scalar_text(value.get_ref()) {
                Some(text) => pairs.push((key.get_ref().clone(), text)),
                None => self.error(
                    at(file, value),
                    format!(
                        "{section} key \"{}\" is {}, expected a string, number or boolean",
                        key.get_ref(),
                        article(value.get_ref().type_str())
                    ),
                ),
            }
        }
        pairs
    }

    fn campaign(&mut self, file: usize, item: &CampaignSection) -> CampaignSpec {
        self.check_identifier(file, "campaign id", &item.id);
        let config = self.config;
        if !config
            .workspaces
            .iter()
            .any(|w| w.item.id.get_ref() == item.workspace.get_ref())
        {
            let known = config
                .workspaces
                .iter()
                .map(|w| w.item.id.get_ref().as_str());
            self.error(
                at(file, &item.workspace),
                format!(
                    "unknown workspace \"{}\", expected one of the [[workspaces]] ids ({})",
                    item.workspace.get_ref(),
                    quoted_list(known)
                ),
            );
        }

        let ResolvedProvider {
            name: provider,
            config: provider_config,
            secrets: provider_secrets,
            allowed_hosts,
        } = self.provider(file, &item.provider);
        let retry_section = item
            .retry
            .as_ref()
            .map(|retry| (at(file, retry), retry.get_ref()));
        let (retry_plugin, retry_config, _) = self.policy(file, Slot::Retry, retry_section);
        let classifier_section = item.classifier.as_ref().map(|c| (at(file, c), c.get_ref()));
        let (classifier_plugin, classifier_config, classifier) =
            self.policy(file, Slot::Classifier, classifier_section);
        let (gate_plugin, gate_config) = match &item.gate {
            Some(gate) => {
                let (plugin, config, _) =
                    self.policy(file, Slot::Gate, Some((at(file, gate), gate.get_ref())));
                (Some(plugin), config)
            }
            None => (None, Vec::new()),
        };
        let suppress_on = self.suppress_on(file, item.suppress_on.as_ref(), classifier.as_ref());
        let workspace_caps = self
            .config
            .workspaces
            .iter()
            .filter(|workspace| workspace.item.id.get_ref() == item.workspace.get_ref())
            .flat_map(|workspace| {
                workspace
                    .item
                    .frequency_caps
                    .iter()
                    .map(move |cap| (workspace.file, cap))
            })
            .collect::<Vec<_>>();
        let frequency_caps = workspace_caps
            .into_iter()
            .chain(item.frequency_caps.iter().map(|cap| (file, cap)))
            .filter_map(|(file, cap)| self.frequency_cap(file, cap))
            .collect();

        let concurrency = self.int_in(
            file,
            item.concurrency.as_ref(),
            "concurrency",
            (1, 10_000),
            10,
        );
        let calls_per_second = match &item.calls_per_second {
            None => 5.0,
            Some(rate)
                if rate.get_ref().is_finite()
                    && *rate.get_ref() > 0.0
                    && *rate.get_ref() <= 1_000.0 =>
            {
                *rate.get_ref()
            }
            Some(rate) => {
                self.error(
                    at(file, rate),
                    format!(
                        "calls_per_second is {}, expected more than 0 and at most 1000",
                        rate.get_ref()
                    ),
                );
                5.0
            }
        };
        let max_attempts = self.int_in(
            file,
            item.max_attempts.as_ref(),
            "max_attempts",
            (1, 100),
            3,
        );
        let max_followups = self.int_in(
            file,
            item.max_followups.as_ref(),
            "max_followups",
            (0, 100),
            i64::from(DEFAULT_MAX_FOLLOWUPS),
        );
        let max_faults = self.int_in(
            file,
            item.max_consecutive_plugin_faults.as_ref(),
            "max_consecutive_plugin_faults",
            (1, 1_000),
            5,
        );
        let call_timeout_ms = match &item.call_timeout {
            None => 15 * MINUTE_MS,
            Some(raw) => {
                match parse_duration_ms(raw.get_ref()) {
                    Some(ms) if ms > 0 => ms,
                    _ => {
                        self.error(
                        at(file, raw),
                        format!("call_timeout \"{}\" is not a duration, expected {DURATION_EXPECTED}", raw.get_ref()),
                    );
                        15 * MINUTE_MS
                    }
                }
            }
        };

        let (calling_window, time_zone_policy, default_time_zone) = match &item.window {
            Some(window) => self.window(file, window.get_ref()),
            None => (
                CallingWindow::default(),
                TimeZonePolicy::default(),
                DEFAULT_TIME_ZONE.to_string(),
            ),
        };
        let (numbers, number_strategy) = match &item.numbers {
            Some(numbers) => self.numbers(file, numbers),
            None => (Vec::new(), NumberStrategy::default()),
        };
        let budget_micros = item.budget.as_ref().and_then(|budget| {
            let amount = *budget.get_ref();
            if amount.is_finite() && amount > 0.0 && amount < 1e12 {
                // Rounded so 0.1 + 0.2 style inputs land on whole micros.
                Some((amount * 1_000_000.0).round() as u64)
            } else {
                self.error(
                    at(file, budget),
                    format!("budget is {amount}, expected an amount of currency units above 0, like 250.0"),
                );
                None
            }
        });
        let cost_per_minute_micros = item.cost_per_minute.as_ref().and_then(|rate| {
            let amount = *rate.get_ref();
            if (0.0..1e9).contains(&amount) {
                Some((amount * 1_000_000.0).round() as u64)
            } else {
                self.error(
                    at(file, rate),
                    format!("cost_per_minute is {amount}, expected an amount of currency units of 0 or more, like 0.013"),
                );
                None
            }
        });
        let goal = item
            .goal
            .as_ref()
            .and_then(|goal| self.goal(file, goal, classifier.as_ref()));
        let variants = self.variants(file, &item.variants);
        let webhooks = self.webhooks(file, &item.webhooks);

        CampaignSpec {
            id: item.id.get_ref().clone(),
            workspace: item.workspace.get_ref().clone(),
            concurrency: concurrency as u32,
            calls_per_second,
            max_attempts: max_attempts as u32,
            max_followups: max_followups as u32,
            calling_window,
            time_zone_policy,
            default_time_zone,
            retry_plugin,
            retry_config,
            classifier_plugin,
            classifier_config,
            provider,
            provider_config,
            allowed_hosts,
            call_timeout_ms,
            numbers,
            number_strategy,
            budget_micros,
            goal,
            cost_per_minute_micros,
            variants,
            max_consecutive_plugin_faults: max_faults as u32,
            provider_secrets,
            webhooks,
            gate_plugin,
            gate_config,
            suppress_on,
            frequency_caps,
        }
    }

    /// The labels whose number joins `dnc-internal`; each must be one the
    /// classifier may return, when it declares its labels.
    fn suppress_on(
        &mut self,
        file: usize,
        section: Option<&Spanned<Vec<Spanned<String>>>>,
        classifier: Option<&PluginInfo>,
    ) -> Vec<String> {
        let Some(labels) = section else {
            return vec![DEFAULT_SUPPRESS_ON.to_string()];
        };
        if let Some(classifier) = classifier.filter(|info| !info.labels.is_empty()) {
            for label in labels.get_ref() {
                if !classifier.labels.contains(label.get_ref()) {
                    self.error(
                        at(file, label),
                        format!(
                            "classifier \"{}\" never returns label \"{}\", expected one of {}",
                            classifier.name,
                            label.get_ref(),
                            quoted_list(classifier.labels.iter().map(String::as_str))
                        ),
                    );
                }
            }
        }
        labels
            .get_ref()
            .iter()
            .map(|label| label.get_ref().clone())
            .collect()
    }

    fn frequency_cap(
        &mut self,
        file: usize,
        section: &Spanned<FrequencyCapSection>,
    ) -> Option<FrequencyCap> {
        let cap = section.get_ref();
        let max_attempts = *cap.max_attempts.get_ref();
        if !(1..=1_000).contains(&max_attempts) {
            self.error(
                at(file, &cap.max_attempts),
                format!("frequency cap max_attempts is {max_attempts}, expected 1 to 1000"),
            );
            return None;
        }
        let period = cap.period.get_ref();
        match parse_duration_ms(period) {
            Some(ms) if ms > 0 && ms <= MAX_CAP_PERIOD_MS => Some(FrequencyCap {
                max_attempts: max_attempts as u32,
                period_ms: ms,
            }),
            Some(ms) if ms > MAX_CAP_PERIOD_MS => {
                self.error(
                    at(file, &cap.period),
                    format!(
                        "frequency cap period \"{period}\" is longer than 30 days, expected at most \"30d\": attempts are remembered for 30 days"
                    ),
                );
                None
            }
            _ => {
                self.error(
                    at(file, &cap.period),
                    format!(
                        "frequency cap period \"{period}\" is not a duration, expected {DURATION_EXPECTED}"
                    ),
                );
                None
            }
        }
    }

    /// Checks a campaign's provider section and resolves it.
    fn provider(&mut self, file: usize, section: &Spanned<ProviderSection>) -> ResolvedProvider {
        let provider = section.get_ref();
        let name = provider.plugin.get_ref().clone();
        let mut secrets = Vec::new();
        let mut hosts = Vec::new();
        for host in &provider.allowed_hosts {
            if is_host_pattern(host.get_ref()) {
                hosts.push(host.get_ref().clone());
            } else {
                self.error(
                    at(file, host),
                    format!(
                        "allowed host \"{}\" is not a host name, expected a name like \"api.example.com\", \"*.example.com\" or \"api.example.com:8443\" without scheme or path",
                        host.get_ref()
                    ),
                );
            }
        }
        if name == SIMULATED_PROVIDER {
            // The simulator's knobs belong to the simulator: passed through.
            let mut pairs = Vec::new();
            for (key, value) in &provider.config {
                match env_ref(value.get_ref()) {
                    Some(var) => secrets.push((key.get_ref().clone(), var.to_string())),
                    None => flatten(key.get_ref(), value.get_ref(), &mut pairs),
                }
            }
            if let Err(why) = SimulationConfig::from_pairs(&pairs) {
                let place = provider
                    .config
                    .keys()
                    .next()
                    .map_or_else(|| at(file, section), |key| at(file, key));
                let why = super::requote(&why.to_string());
                let message = if why.contains(", expected") {
                    why
                } else {
                    format!(
                        "{why}, expected simulation settings such as seed, time_scale, instant or outcomes.human"
                    )
                };
                self.error(place, message);
            }
            return ResolvedProvider {
                name,
                config: pairs,
                secrets,
                allowed_hosts: hosts,
            };
        }
        let provider_use = PluginUse {
            file,
            slot: Slot::Provider,
            section: at(file, section),
            name: &provider.plugin,
            values: &provider.config,
        };
        let used = self.check_plugin_use(&provider_use);
        let pairs = self.plugin_config(
            file,
            "provider.config",
            &provider.config,
            Some(&mut secrets),
        );
        if let Some(used) = used {
            self.check_plugin_config(&provider_use, &used, &pairs);
        }
        if self
            .config
            .server
            .iter()
            .all(|server| server.item.public_url.is_none())
        {
            self.error(
                at(file, section),
                format!(
                    "provider plugin \"{name}\" sends status callbacks, which need [server] public_url, expected the base URL providers reach this server at, e.g. public_url = \"https://dialer.example.com\""
                ),
            );
        }
        if provider.allowed_hosts.is_empty() {
            self.error(
                at(file, section),
                format!(
                    "provider plugin \"{name}\" has no allowed_hosts, expected the hosts its requests go to, e.g. allowed_hosts = [\"api.example.com\"]"
                ),
            );
        }
        ResolvedProvider {
            name,
            config: pairs,
            secrets,
            allowed_hosts: hosts,
        }
    }

    fn policy(
        &mut self,
        file: usize,
        slot: Slot,
        section: Option<(Location, &PolicySection)>,
    ) -> (String, Vec<(String, String)>, Option<PluginInfo>) {
        let Some((section_at, policy)) = section else {
            let name = match slot {
                Slot::Classifier => DEFAULT_CLASSIFIER_PLUGIN,
                _ => DEFAULT_RETRY_PLUGIN,
            };
            let info = match self.describe(&PluginRef::Builtin(name.to_string())) {
                Some(Ok(info)) => Some(info),
                _ => None,
            };
            return (name.to_string(), Vec::new(), info);
        };
        let policy_use = PluginUse {
            file,
            slot,
            section: section_at,
            name: &policy.plugin,
            values: &policy.config,
        };
        let used = self.check_plugin_use(&policy_use);
        let pairs = self.plugin_config(
            file,
            &format!("{}.config", slot.section()),
            &policy.config,
            None,
        );
        let info = used.map(|used| {
            self.check_plugin_config(&policy_use, &used, &pairs);
            used.info
        });
        (policy.plugin.get_ref().clone(), pairs, info)
    }

    fn window(
        &mut self,
        file: usize,
        window: &WindowSection,
    ) -> (CallingWindow, TimeZonePolicy, String) {
        check_window(window, &mut |span, message| {
            self.report.error(Location::new(file, span), message);
        })
    }

    fn numbers(
        &mut self,
        file: usize,
        section: &Spanned<NumbersSection>,
    ) -> (Vec<FromNumber>, NumberStrategy) {
        let numbers = section.get_ref();
        let strategy = match numbers.strategy.as_ref().map(|s| (s, s.get_ref().as_str())) {
            None | Some((_, "round_robin")) => NumberStrategy::RoundRobin,
            Some((_, "weighted")) => NumberStrategy::Weighted,
            Some((_, "sticky")) => NumberStrategy::Sticky,
            Some((_, "same_country")) => NumberStrategy::SameCountry,
            Some((raw, other)) => {
                self.error(
                    at(file, raw),
                    format!(
                        "unknown number strategy \"{other}\", expected \"round_robin\", \"weighted\", \"sticky\" or \"same_country\""
                    ),
                );
                NumberStrategy::default()
            }
        };
        if numbers.pool.is_empty() {
            self.error(
                at(file, section),
                "number pool is empty, expected at least one { number = \"+1...\" }",
            );
        }
        self.check_unique(
            "pool number",
            numbers.pool.iter().map(|n| (file, &n.get_ref().number)),
        );
        let mut pool = Vec::new();
        for entry in &numbers.pool {
            let entry = entry.get_ref();
            if !is_e164(entry.number.get_ref()) {
                self.error(
                    at(file, &entry.number),
                    format!(
                        "\"{}\" is not a valid E.164 number, expected \"+\", the country code and the number without spaces, like \"+14155550100\"",
                        entry.number.get_ref()
                    ),
                );
                continue;
            }
            let weight = self.int_in(file, entry.weight.as_ref(), "weight", (1, 1_000_000), 1);
            pool.push(FromNumber {
                number: entry.number.get_ref().clone(),
                weight: weight as u32,
                enabled: entry.enabled.unwrap_or(true),
                rested_until: None,
            });
        }
        (pool, strategy)
    }

    fn goal(
        &mut self,
        file: usize,
        section: &Spanned<super::schema::GoalSection>,
        classifier: Option<&PluginInfo>,
    ) -> Option<Goal> {
        let goal = section.get_ref();
        let target = *goal.target.get_ref();
        if target < 1 {
            self.error(
                at(file, &goal.target),
                format!("goal target is {target}, expected at least 1 contact"),
            );
        }
        if goal.success_labels.is_empty() {
            self.error(
                at(file, section),
                "goal has no success_labels, expected the disposition labels that count as success, e.g. [\"interested\"]",
            );
        }
        if let Some(classifier) = classifier.filter(|info| !info.labels.is_empty()) {
            for label in &goal.success_labels {
                if !classifier.labels.contains(label.get_ref()) {
                    self.error(
                        at(file, label),
                        format!(
                            "classifier \"{}\" never returns label \"{}\", expected one of {}",
                            classifier.name,
                            label.get_ref(),
                            quoted_list(classifier.labels.iter().map(String::as_str))
                        ),
                    );
                }
            }
        }
        (target > 0).then(|| Goal {
            target: target as u64,
            success_labels: goal
                .success_labels
                .iter()
                .map(|l| l.get_ref().clone())
                .collect(),
        })
    }

    fn variants(
        &mut self,
        file: usize,
        sections: &[Spanned<super::schema::VariantSection>],
    ) -> Vec<Variant> {
        self.check_unique(
            "variant name",
            sections.iter().map(|v| (file, &v.get_ref().name)),
        );
        sections
            .iter()
            .map(|variant| {
                let variant = variant.get_ref();
                if variant.name.get_ref().trim().is_empty() {
                    self.error(
                        at(file, &variant.name),
                        "variant name is empty, expected a name like \"A\"",
                    );
                }
                let weight = self.int_in(
                    file,
                    variant.weight.as_ref(),
                    "variant weight",
                    (1, 1_000_000),
                    1,
                );
                let parameters =
                    self.plugin_config(file, "variant parameter", &variant.parameters, None);
                Variant {
                    name: variant.name.get_ref().clone(),
                    weight: weight as u32,
                    parameters,
                }
            })
            .collect()
    }

    fn webhooks(
        &mut self,
        file: usize,
        sections: &[Spanned<super::schema::WebhookSection>],
    ) -> Vec<Webhook> {
        let mut webhooks = Vec::new();
        for webhook in sections {
            let webhook = webhook.get_ref();
            if !is_webhook_url(webhook.url.get_ref()) {
                self.error(
                    at(file, &webhook.url),
                    format!(
                        "webhook url \"{}\" is not a URL, expected \"https://host/path\"",
                        webhook.url.get_ref()
                    ),
                );
            }
            let secret = &webhook.secret.get_ref().env;
            self.check_env_name(file, secret);
            for event in &webhook.events {
                if !is_subscribable(event.get_ref()) {
                    let events = quoted_list(EventKind::ALL.iter().map(|kind| kind.as_str()));
                    self.error(
                        at(file, event),
                        format!(
                            "unknown webhook event \"{}\", expected an event ({events}), \"batch.<status>\", \"contact.<status>\", \"attempt.started\", \"attempt.ended\", a group like \"contact.*\" or \"*\"",
                            event.get_ref()
                        ),
                    );
                }
            }
            webhooks.push(Webhook {
                url: webhook.url.get_ref().clone(),
                secret_env: secret.get_ref().clone(),
                events: webhook.events.iter().map(|e| e.get_ref().clone()).collect(),
            });
        }
        webhooks
    }
}

/// Checks a calling window as `[campaigns.window]` is checked, wherever it
/// was written: each error goes to `error` with the span of the value it
/// is about, so a config file and a batch's JSON `hours` report alike.
pub(super) fn check_window(
    window: &WindowSection,
    error: &mut dyn FnMut(std::ops::Range<usize>, String),
) -> (CallingWindow, TimeZonePolicy, String) {
    let policy = match window
        .time_zone_policy
        .as_ref()
        .map(|p| (p, p.get_ref().as_str()))
    {
        None | Some((_, "contact")) => TimeZonePolicy::Contact,
        Some((_, "campaign")) => TimeZonePolicy::Campaign,
        Some((raw, other)) => {
            error(
                raw.span(),
                format!(
                    "unknown time_zone_policy \"{other}\", expected \"contact\" or \"campaign\""
                ),
            );
            TimeZonePolicy::Contact
        }
    };
    let zone = match &window.default_time_zone {
        None => DEFAULT_TIME_ZONE.to_string(),
        Some(zone) if is_time_zone(zone.get_ref()) => zone.get_ref().clone(),
        Some(zone) => {
            error(
                zone.span(),
                format!(
                    "unknown time zone \"{}\", expected an IANA zone name like \"America/New_York\"",
                    zone.get_ref()
                ),
            );
            DEFAULT_TIME_ZONE.to_string()
        }
    };
    let mut rules = Vec::new();
    for hours in &window.hours {
        let (entry, hours) = (hours.span(), hours.get_ref());
        let days = match &hours.days {
            None => Some((0..7).collect()),
            Some(raw) => match parse_days(raw.get_ref()) {
                Ok(days) => Some(days),
                Err(bad) => {
                    error(
                        raw.span(),
                        format!(
                            "unknown day {bad} in days \"{}\", expected days like \"mon-fri\", \"sat,sun\" or \"daily\"",
                            raw.get_ref()
                        ),
                    );
                    None
                }
            },
        };
        let mut clock = |raw: &Spanned<String>, which: &str| {
            let parsed = parse_clock(raw.get_ref());
            if parsed.is_none() {
                error(
                    raw.span(),
                    format!(
                        "{which} \"{}\" is not a time, expected \"HH:MM\" from \"00:00\" to \"24:00\"",
                        raw.get_ref()
                    ),
                );
            }
            parsed
        };
        let start = clock(&hours.start, "start");
        let end = clock(&hours.end, "end");
        if let (Some(start_minute), Some(end_minute)) = (start, end)
            && start_minute >= end_minute
        {
            error(
                entry,
                format!(
                    "start \"{}\" is not before end \"{}\", expected a range within one day (split a range over midnight in two)",
                    hours.start.get_ref(),
                    hours.end.get_ref()
                ),
            );
            continue;
        }
        if let (Some(days), Some(start_minute), Some(end_minute)) = (days, start, end) {
            rules.push(WindowRule::Range {
                days,
                start_minute,
                end_minute,
            });
        }
    }
    for expression in &window.cron {
        match normalize_cron(expression.get_ref()) {
            Ok(expression) => rules.push(WindowRule::Cron { expression }),
            Err(why) => error(
                expression.span(),
                format!(
                    "cron expression \"{}\" is invalid ({why}), expected \"minute hour day-of-month month day-of-week\" like \"* 9-19 * * Mon-Fri\"",
                    expression.get_ref()
                ),
            ),
        }
    }
    (CallingWindow { rules }, policy, zone)
}

/// A string, number or boolean as the text a plugin receives.
pub(super) fn scalar_text(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(text) => Some(text.clone()),
        toml::Value::Integer(number) => Some(number.to_string()),
        toml::Value::Float(number) => Some(number.to_string()),
        toml::Value::Boolean(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// A simulation knob as the simulator reads it: nested tables become
/// dotted keys (so setting one field keeps the others' defaults), arrays
/// become JSON, scalars plain text.
fn flatten(key: &str, value: &toml::Value, out: &mut Vec<(String, String)>) {
    match value {
        toml::Value::Table(table) => {
            for (inner, value) in table {
                flatten(&format!("{key}.{inner}"), value, out);
            }
        }
        toml::Value::Datetime(datetime) => out.push((key.to_string(), datetime.to_string())),
        other => {
            let text = scalar_text(other).unwrap_or_else(|| {
                serde_json::to_string(other).unwrap_or_else(|_| other.to_string())
            });
            out.push((key.to_string(), text));
        }
    }
}

fn article(kind: &str) -> String {
    if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {kind}")
    } else {
        format!("a {kind}")
    }
}
