//! The plugin host as the config validator's catalog: it loads each plugin
//! for real to check its world, version and declared config.

use super::{PluginHost, PluginKind, PluginSource};
use crate::config;

impl config::PluginCatalog for PluginHost {
    fn describe(&self, plugin: &config::PluginRef) -> Result<config::PluginInfo, String> {
        let source = match plugin {
            config::PluginRef::Builtin(name) => PluginSource::Builtin(name.clone()),
            config::PluginRef::Path(path) => PluginSource::File(path.clone()),
        };
        let info = self.inspect(&source).map_err(|err| err.to_string())?;
        Ok(config::PluginInfo {
            kind: match info.kind {
                PluginKind::RetryStrategy => config::PluginKind::RetryStrategy,
                PluginKind::DispositionClassifier => config::PluginKind::DispositionClassifier,
                PluginKind::ProviderAdapter => config::PluginKind::ProviderAdapter,
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
