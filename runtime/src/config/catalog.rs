//! What validation needs to know about plugins, without loading them: the
//! plugin host implements [`PluginCatalog`]; tests use a fake.

use std::fmt;
use std::path::PathBuf;

/// Built-in plugins that ship with outdial and can be named without a
/// `[[plugins]]` entry.
pub const BUILTIN_PLUGINS: [&str; 6] = [
    "retry-backoff",
    "retry-schedule",
    "classify-rules",
    "provider-twilio",
    "provider-voiceai",
    "gate-hours",
];

/// The provider that needs no plugin: calls are simulated in-process.
pub const SIMULATED_PROVIDER: &str = "simulated";

/// Where a plugin comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PluginRef {
    /// A plugin shipped with outdial, by name.
    Builtin(String),
    /// A `.wasm` component, its path already resolved against the config file.
    Path(PathBuf),
}

impl fmt::Display for PluginRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginRef::Builtin(name) => write!(f, "builtin \"{name}\""),
            PluginRef::Path(path) => write!(f, "\"{}\"", path.display()),
        }
    }
}

/// The four things a plugin can decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginKind {
    RetryStrategy,
    DispositionClassifier,
    ProviderAdapter,
    DialGate,
}

impl PluginKind {
    /// The kind as written in docs and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::RetryStrategy => "retry_strategy",
            PluginKind::DispositionClassifier => "disposition_classifier",
            PluginKind::ProviderAdapter => "provider_adapter",
            PluginKind::DialGate => "dial_gate",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A config key a plugin declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigKeyInfo {
    pub name: String,
    /// True when the plugin refuses to start without it.
    pub required: bool,
    pub description: String,
}

/// A plugin's self-description, as its metadata export reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    pub kind: PluginKind,
    pub name: String,
    pub version: String,
    pub config_keys: Vec<ConfigKeyInfo>,
    /// Labels a classifier may return; empty for other kinds.
    pub labels: Vec<String>,
}

/// The sandbox a plugin runs in, as `[[plugins]]` declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SandboxLimits {
    /// CPU time allowed per call, in milliseconds.
    pub cpu_ms: u64,
    /// Memory limit of one instance, in MiB.
    pub memory_mb: u64,
}

/// Why a plugin could not be configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigureFailure {
    /// The plugin's own `configure` refused the values, in its words.
    Refused(String),
    /// The plugin did not get as far as its `configure`: it trapped, ran
    /// out of memory or time while starting under its limits.
    CannotStart(String),
}

/// Describes plugins for validation.
pub trait PluginCatalog {
    /// The plugin's metadata, or why it cannot be loaded (lowercase, e.g.
    /// `no built-in plugin named "x"` or `cannot read "a.wasm": ...`).
    fn describe(&self, plugin: &PluginRef) -> Result<PluginInfo, String>;

    /// Configure the plugin as a plugin of `kind` with `config`, the way
    /// `outdial run` loads it: in its sandbox, under `limits`. Called only
    /// once `describe` has accepted the plugin and its config keys. A
    /// catalog that cannot run plugins accepts every config.
    fn configure(
        &self,
        _plugin: &PluginRef,
        _kind: PluginKind,
        _config: &[(String, String)],
        _limits: SandboxLimits,
    ) -> Result<(), ConfigureFailure> {
        Ok(())
    }
}

/// A catalog from a fixed table of plugins: for checking a config offline
/// and for tests.
#[derive(Debug, Clone, Default)]
pub struct StaticCatalog {
    plugins: Vec<(PluginRef, PluginInfo)>,
}

impl StaticCatalog {
    /// A catalog that knows no plugin.
    pub fn new() -> Self {
        StaticCatalog::default()
    }

    /// Add a plugin under `plugin`.
    pub fn with(mut self, plugin: PluginRef, info: PluginInfo) -> Self {
        self.plugins.push((plugin, info));
        self
    }
}

impl PluginCatalog for StaticCatalog {
    fn describe(&self, plugin: &PluginRef) -> Result<PluginInfo, String> {
        self.plugins
            .iter()
            .find(|(known, _)| known == plugin)
            .map(|(_, info)| info.clone())
            .ok_or_else(|| match plugin {
                PluginRef::Builtin(name) => format!("no built-in plugin named \"{name}\""),
                PluginRef::Path(path) => format!("no plugin at \"{}\"", path.display()),
            })
    }
}
