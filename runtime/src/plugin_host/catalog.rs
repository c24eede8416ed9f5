//! The plugin host as the config validator's catalog: it loads each plugin
//! for real to check its world, version and declared config, and
//! configures it in its sandbox as `outdial run` will.

use std::sync::Arc;

use super::error::LoadError;
use super::host::PluginHost;
use super::info::{PluginKind, PluginLimits};
use super::plugins::{ClassifierPlugin, GatePlugin, RetryPlugin};
use super::source::PluginSource;
use crate::config;
use crate::model::CampaignSpec;
use crate::policy::{DialGate, GateLoader, RetryLoader, RetryPolicy};

impl From<&config::PluginRef> for PluginSource {
    fn from(plugin: &config::PluginRef) -> PluginSource {
        match plugin {
            config::PluginRef::Builtin(name) => PluginSource::Builtin(name.clone()),
            config::PluginRef::Path(path) => PluginSource::File(path.clone()),
        }
    }
}

impl From<config::SandboxLimits> for PluginLimits {
    fn from(limits: config::SandboxLimits) -> PluginLimits {
        PluginLimits {
            cpu_ms: limits.cpu_ms,
            memory_bytes: usize::try_from(limits.memory_mb)
                .unwrap_or(usize::MAX)
                .saturating_mul(1 << 20),
        }
    }
}

impl config::PluginCatalog for PluginHost {
    fn configure(
        &self,
        plugin: &config::PluginRef,
        kind: config::PluginKind,
        config: &[(String, String)],
        limits: config::SandboxLimits,
    ) -> Result<(), config::ConfigureFailure> {
        let source = PluginSource::from(plugin);
        let limits = PluginLimits::from(limits);
        let loaded = match kind {
            config::PluginKind::RetryStrategy => self.load_retry(&source, config, limits).map(drop),
            config::PluginKind::DispositionClassifier => {
                self.load_classifier(&source, config, limits).map(drop)
            }
            config::PluginKind::ProviderAdapter => {
                self.load_adapter(&source, config, limits).map(drop)
            }
            config::PluginKind::DialGate => self.load_gate(&source, config, limits).map(drop),
        };
        loaded.map_err(|err| match err {
            LoadError::ConfigRefused { message, .. } => {
                // The refusal's own words, without the error kind's prefix.
                let why = message.strip_prefix("invalid config: ").unwrap_or(&message);
                config::ConfigureFailure::Refused(why.to_string())
            }
            other => config::ConfigureFailure::CannotStart(other.to_string()),
        })
    }

    fn describe(&self, plugin: &config::PluginRef) -> Result<config::PluginInfo, String> {
        let info = self
            .inspect(&PluginSource::from(plugin))
            .map_err(|err| err.to_string())?;
        Ok(config::PluginInfo {
            kind: match info.kind {
                PluginKind::RetryStrategy => config::PluginKind::RetryStrategy,
                PluginKind::DispositionClassifier => config::PluginKind::DispositionClassifier,
                PluginKind::ProviderAdapter => config::PluginKind::ProviderAdapter,
                PluginKind::DialGate => config::PluginKind::DialGate,
            },
            name: info.name,
            version: info.version,
            config_keys: info
                .config_keys
                .into_iter()
                .map(|key| config::ConfigKeyInfo {
                    name: key.name,
                    required: key.required,
                    description: key.description,
                })
                .collect(),
            labels: info.labels,
        })
    }
}

/// The plugins a config declares, loaded in one host under the names the
/// config gives them; a name no `[[plugins]]` entry gives is a built-in.
#[derive(Clone)]
pub struct ConfigPlugins {
    host: Arc<PluginHost>,
    declared: Vec<config::PluginSpec>,
}

impl ConfigPlugins {
    pub fn new(host: Arc<PluginHost>, config: &config::Config) -> ConfigPlugins {
        ConfigPlugins {
            host,
            declared: config.plugin_specs(),
        }
    }

    pub fn host(&self) -> &Arc<PluginHost> {
        &self.host
    }

    /// Where the plugin named `name` comes from, and its sandbox.
    pub fn source(&self, name: &str) -> (PluginSource, PluginLimits) {
        declared_source(&self.declared, name).unwrap_or_else(|| {
            (
                PluginSource::Builtin(name.to_string()),
                PluginLimits::default(),
            )
        })
    }
}

/// Where the `[[plugins]]` entry named `name` comes from, and its sandbox;
/// `None` when no entry has that name.
pub fn declared_source(
    declared: &[config::PluginSpec],
    name: &str,
) -> Option<(PluginSource, PluginLimits)> {
    let plugin = declared.iter().find(|plugin| plugin.name == name)?;
    Some((
        PluginSource::from(&plugin.source),
        PluginLimits::from(plugin.limits()),
    ))
}

/// The policy plugins a campaign names, loaded.
pub struct CampaignPlugins {
    pub retry: RetryPlugin,
    pub classifier: ClassifierPlugin,
    pub gate: Option<GatePlugin>,
}

/// A campaign's plugin that would not load.
#[derive(Debug, thiserror::Error)]
#[error("loading {slot} plugin \"{plugin}\" of campaign \"{campaign}\": {source}")]
pub struct CampaignLoadError {
    /// "retry", "classifier" or "gate".
    pub slot: &'static str,
    pub plugin: String,
    pub campaign: String,
    #[source]
    pub source: Box<LoadError>,
}

impl ConfigPlugins {
    /// The retry strategy, classifier and gate `spec` names, configured as it
    /// says, each in the sandbox of its `[[plugins]]` entry: what `run`,
    /// `demo` and the pipeline bench dial with.
    pub fn load_campaign(&self, spec: &CampaignSpec) -> Result<CampaignPlugins, CampaignLoadError> {
        let failed = |slot, plugin: &str| {
            let campaign = spec.id.clone();
            let plugin = plugin.to_string();
            move |source| CampaignLoadError {
                slot,
                plugin,
                campaign,
                source: Box::new(source),
            }
        };
        let (source, limits) = self.source(&spec.retry_plugin);
        let retry = self
            .host
            .load_retry(&source, &spec.retry_config, limits)
            .map_err(failed("retry", &spec.retry_plugin))?;
        let (source, limits) = self.source(&spec.classifier_plugin);
        let classifier = self
            .host
            .load_classifier(&source, &spec.classifier_config, limits)
            .map_err(failed("classifier", &spec.classifier_plugin))?;
        let gate = match &spec.gate_plugin {
            Some(plugin) => {
                let (source, limits) = self.source(plugin);
                let gate = self
                    .host
                    .load_gate(&source, &spec.gate_config, limits)
                    .map_err(failed("gate", plugin))?;
                Some(gate)
            }
            None => None,
        };
        Ok(CampaignPlugins {
            retry,
            classifier,
            gate,
        })
    }
}

impl RetryLoader for ConfigPlugins {
    fn load(
        &self,
        plugin: &str,
        config: &[(String, String)],
    ) -> Result<Arc<dyn RetryPolicy>, String> {
        let (source, limits) = self.source(plugin);
        match self.host.load_retry(&source, config, limits) {
            Ok(loaded) => Ok(Arc::new(loaded)),
            Err(err) => Err(err.to_string()),
        }
    }
}

impl GateLoader for ConfigPlugins {
    fn load(&self, plugin: &str, config: &[(String, String)]) -> Result<Arc<dyn DialGate>, String> {
        let (source, limits) = self.source(plugin);
        match self.host.load_gate(&source, config, limits) {
            Ok(loaded) => Ok(Arc::new(loaded)),
            Err(err) => Err(err.to_string()),
        }
    }
}
