//! Where a plugin's bytes come from: a first-party plugin compiled into the
//! binary, a component file, or bytes already in memory.

use std::path::PathBuf;

use super::error::LoadError;

include!(concat!(env!("OUT_DIR"), "/embedded_plugins.rs"));

/// Where a plugin's bytes come from.
#[derive(Debug, Clone)]
pub enum PluginSource {
    /// A first-party plugin compiled into the binary, by name.
    Builtin(String),
    /// A `.wasm` component file.
    File(PathBuf),
    /// Bytes already in memory, with a name for messages.
    Bytes { name: String, bytes: Vec<u8> },
}

impl PluginSource {
    /// A builtin name when one matches, else a file path.
    pub fn parse(reference: &str) -> PluginSource {
        if EMBEDDED_PLUGINS.iter().any(|(name, _)| *name == reference) {
            PluginSource::Builtin(reference.to_string())
        } else {
            PluginSource::File(PathBuf::from(reference))
        }
    }

    /// How messages name this plugin: its builtin name or its file name.
    pub fn display_name(&self) -> String {
        match self {
            PluginSource::Builtin(name) => name.clone(),
            PluginSource::File(path) => path.display().to_string(),
            PluginSource::Bytes { name, .. } => name.clone(),
        }
    }

    pub(super) fn read(&self) -> Result<Vec<u8>, LoadError> {
        match self {
            PluginSource::Builtin(name) => EMBEDDED_PLUGINS
                .iter()
                .find(|(builtin, _)| builtin == name)
                .map(|(_, bytes)| bytes.to_vec())
                .ok_or_else(|| LoadError::UnknownBuiltin {
                    name: name.clone(),
                    known: builtin_names().join(", "),
                }),
            PluginSource::File(path) => std::fs::read(path).map_err(|source| LoadError::Read {
                file: path.display().to_string(),
                source,
            }),
            PluginSource::Bytes { bytes, .. } => Ok(bytes.clone()),
        }
    }
}

/// Names of the first-party plugins compiled into this binary.
pub fn builtin_names() -> Vec<&'static str> {
    EMBEDDED_PLUGINS.iter().map(|(name, _)| *name).collect()
}
