//! What the host knows of a plugin: its kind and the WIT version it was
//! built against, the resources it may use, and what it says about itself
//! at load. Every other part of the host builds on these.

use std::time::Duration;

use serde::Serialize;

use super::bindings::types;

/// The versions of the `outdial:plugin` package whose plugins this host
/// loads, newest first. A plugin built against an older one keeps working.
pub const WIT_VERSIONS: [WitVersion; 4] = [
    WitVersion::V0_4,
    WitVersion::V0_3,
    WitVersion::V0_2,
    WitVersion::V0_1,
];

/// A version of the `outdial:plugin` WIT package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WitVersion {
    /// 0.1.0: a retry strategy is handed the whole history.
    V0_1,
    /// 0.2.0: a retry strategy reads what it needs through `retry-context`.
    V0_2,
    /// 0.3.0: a classifier reads what it needs through `classify-context`.
    V0_3,
    /// 0.4.0: the dial gate.
    V0_4,
}

impl WitVersion {
    /// The version as written in WIT, e.g. "0.2.0".
    pub fn number(self) -> &'static str {
        match self {
            WitVersion::V0_1 => "0.1.0",
            WitVersion::V0_2 => "0.2.0",
            WitVersion::V0_3 => "0.3.0",
            WitVersion::V0_4 => "0.4.0",
        }
    }
}

/// How often the CPU-deadline clock ticks.
pub(super) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// The kinds of plugin, one per WIT world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginKind {
    RetryStrategy,
    DispositionClassifier,
    ProviderAdapter,
    DialGate,
}

impl PluginKind {
    /// The interface a plugin of this kind exports, in WIT `version`.
    pub fn export_name(self, version: WitVersion) -> String {
        let interface = match self {
            PluginKind::RetryStrategy => "retry",
            PluginKind::DispositionClassifier => "classifier",
            PluginKind::ProviderAdapter => "provider",
            PluginKind::DialGate => "gate",
        };
        format!("outdial:plugin/{interface}@{}", version.number())
    }

    /// The world's name as written in WIT.
    pub fn world(self) -> &'static str {
        match self {
            PluginKind::RetryStrategy => "retry-strategy",
            PluginKind::DispositionClassifier => "disposition-classifier",
            PluginKind::ProviderAdapter => "provider-adapter",
            PluginKind::DialGate => "dial-gate",
        }
    }

    pub(super) const ALL: [PluginKind; 4] = [
        PluginKind::RetryStrategy,
        PluginKind::DispositionClassifier,
        PluginKind::ProviderAdapter,
        PluginKind::DialGate,
    ];

    /// Whether WIT `version` has this kind's world.
    pub(super) fn exists_in(self, version: WitVersion) -> bool {
        self != PluginKind::DialGate || version == WitVersion::V0_4
    }

    pub(super) fn from_wit(kind: types::PluginKind) -> Self {
        match kind {
            types::PluginKind::RetryStrategy => PluginKind::RetryStrategy,
            types::PluginKind::DispositionClassifier => PluginKind::DispositionClassifier,
            types::PluginKind::ProviderAdapter => PluginKind::ProviderAdapter,
        }
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.world())
    }
}

/// Per-plugin resource limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginLimits {
    /// CPU time one call may take before it is interrupted. Default: 50 ms.
    pub cpu_ms: u64,
    /// Linear memory one instance may grow to. Default: 32 MiB.
    pub memory_bytes: usize,
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            cpu_ms: 50,
            memory_bytes: 32 << 20,
        }
    }
}

/// A config key a plugin declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigKeyInfo {
    pub name: String,
    pub required: bool,
    pub description: String,
}

/// What a plugin is, as checked at load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginInfo {
    /// The plugin's own name.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    pub kind: PluginKind,
    /// The WIT package it was built against.
    pub wit: String,
    /// Hex sha256 of the component bytes: the plugin's identity, recorded
    /// with every decision it makes.
    pub sha256: String,
    pub config_keys: Vec<ConfigKeyInfo>,
    /// For classifiers, every label the plugin may return.
    pub labels: Vec<String>,
    /// Every interface the component imports.
    pub imports: Vec<String>,
    /// The language the guest was written in, when its producers section
    /// names it.
    pub language: Option<String>,
    /// Every language the component's producers sections name: a guest's
    /// own, and those of a runtime embedded to run it.
    pub languages: Vec<String>,
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::{WIT_VERSIONS, WitVersion};

    /// The sha256 of each released version's WIT, as it was released. A
    /// plugin built against a version relies on its text never changing:
    /// a change is a new version.
    const RELEASED: [(WitVersion, &str); 3] = [
        (
            WitVersion::V0_1,
            "2b481e95abfaa7edc620af4e02bb1ff7e17ce0c0ca1e4d7a0f65d4a74db23b49",
        ),
        (
            WitVersion::V0_2,
            "bcf7c18a4714be898d9efd1a3190824df6190740fc182d0f8c415e5501d0009f",
        ),
        (
            WitVersion::V0_3,
            "4cf2b5f5d4f1c7a6e3e311845fb968aaa6bb9636daa7b60fa3c4f76eba8cb30f",
        ),
    ];

    #[test]
    fn a_released_wit_version_is_never_edited() {
        for (version, released) in RELEASED {
            let path = format!(
                "{}/../sdk/wit/v{}/plugin.wit",
                env!("CARGO_MANIFEST_DIR"),
                version.number()
            );
            let text = std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"));
            assert_eq!(
                hex::encode(Sha256::digest(&text)),
                released,
                "{path} changed; a change to the contract ships as a new version"
            );
        }
    }

    #[test]
    fn the_current_wit_is_the_newest_version_the_host_binds() {
        let path = format!("{}/../sdk/wit/plugin.wit", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"));
        let newest = WIT_VERSIONS[0].number();
        assert!(
            text.contains(&format!("package outdial:plugin@{newest};")),
            "{path} declares another version than {newest}"
        );
    }
}
