//! Write outdial policy plugins in Rust.
//!
//! A plugin is one of four kinds. A retry strategy, a disposition
//! classifier or a provider adapter implements its kind's trait —
//! [`retry::RetryStrategy`], [`classifier::Classifier`] or
//! [`provider::ProviderAdapter`] — plus the [`Plugin`] trait these three
//! share; a dial gate implements [`gate::DialGate`] alone, which describes
//! itself with a [`gate::GateMetadata`] (see [`gate`] for why). One export
//! macro per kind turns the type into a Wasm component:
//!
//! ```ignore
//! use outdial_sdk::prelude::*;
//!
//! struct TenMinutes;
//!
//! impl Plugin for TenMinutes {
//!     fn metadata() -> Metadata { Metadata::retry_strategy("ten-minutes", "0.1.0") }
//!     fn configure(_config: &Config) -> Result<Self, PluginError> { Ok(TenMinutes) }
//! }
//!
//! impl RetryStrategy for TenMinutes {
//!     fn decide(&self, input: &RetryInput) -> Result<Decision, PluginError> {
//!         Ok(Decision::RetryAt(input.now + 10 * MINUTE_MS))
//!     }
//! }
//!
//! outdial_sdk::export_retry_strategy!(TenMinutes);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2`. The logic is
//! plain Rust, so `cargo test` exercises it natively without any Wasm.

pub mod classifier;
mod config;
pub mod duration;
pub mod gate;
pub mod log;
pub mod provider;
pub mod retry;
pub mod testing;

pub use config::Config;

/// Generated bindings of the WIT contract. Not part of the stable API: use
/// the re-exports in this crate's modules instead.
#[doc(hidden)]
pub mod wit {
    pub mod retry_world {
        wit_bindgen::generate!({
            path: "wit",
            world: "outdial:plugin/retry-strategy@0.4.0",
            pub_export_macro: true,
            additional_derives: [PartialEq],
            export_macro_name: "export_retry_world",
            default_bindings_module: "$crate::wit::retry_world",
        });
    }

    pub mod classifier_world {
        wit_bindgen::generate!({
            path: "wit",
            world: "outdial:plugin/disposition-classifier@0.4.0",
            pub_export_macro: true,
            additional_derives: [PartialEq],
            export_macro_name: "export_classifier_world",
            default_bindings_module: "$crate::wit::classifier_world",
            with: {
                "outdial:plugin/types@0.4.0": crate::wit::retry_world::outdial::plugin::types,
                "outdial:plugin/host@0.4.0": crate::wit::retry_world::outdial::plugin::host,
            },
        });
    }

    pub mod provider_world {
        wit_bindgen::generate!({
            path: "wit",
            world: "outdial:plugin/provider-adapter@0.4.0",
            pub_export_macro: true,
            additional_derives: [PartialEq],
            export_macro_name: "export_provider_world",
            default_bindings_module: "$crate::wit::provider_world",
            with: {
                "outdial:plugin/types@0.4.0": crate::wit::retry_world::outdial::plugin::types,
                "outdial:plugin/host@0.4.0": crate::wit::retry_world::outdial::plugin::host,
            },
        });
    }

    pub mod gate_world {
        wit_bindgen::generate!({
            path: "wit",
            world: "outdial:plugin/dial-gate@0.4.0",
            pub_export_macro: true,
            additional_derives: [PartialEq],
            export_macro_name: "export_gate_world",
            default_bindings_module: "$crate::wit::gate_world",
            with: {
                "outdial:plugin/types@0.4.0": crate::wit::retry_world::outdial::plugin::types,
                "outdial:plugin/host@0.4.0": crate::wit::retry_world::outdial::plugin::host,
            },
        });
    }
}

pub use wit::retry_world::outdial::plugin::types::{
    Attempt, AttemptOutline, CallOutcome, ConfigKey, Contact, Disposition, DispositionOutline,
    LabelledAttempt, MachineDetection, Metadata, PluginError, PluginKind, TimestampMs,
};

/// One second in milliseconds, the unit of every timestamp.
pub const SECOND_MS: i64 = 1_000;
/// One minute in milliseconds.
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
/// One hour in milliseconds.
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// What the retry strategy, the classifier and the provider adapter have in
/// common: each describes itself and is built from its configuration once
/// per instance. A dial gate does the same through [`gate::DialGate`].
pub trait Plugin: Sized + 'static {
    /// Name, version, kind and the config keys the plugin accepts.
    fn metadata() -> Metadata;

    /// Build the plugin from its configuration, refusing bad values.
    fn configure(config: &Config) -> Result<Self, PluginError>;
}

impl Metadata {
    fn new(kind: PluginKind, name: &str, version: &str) -> Self {
        Metadata {
            name: name.to_string(),
            version: version.to_string(),
            kind,
            config_keys: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// Metadata of a retry strategy with no config keys yet.
    pub fn retry_strategy(name: &str, version: &str) -> Self {
        Self::new(PluginKind::RetryStrategy, name, version)
    }

    /// Metadata of a disposition classifier with no config keys or labels yet.
    pub fn classifier(name: &str, version: &str) -> Self {
        Self::new(PluginKind::DispositionClassifier, name, version)
    }

    /// Metadata of a provider adapter with no config keys yet.
    pub fn provider_adapter(name: &str, version: &str) -> Self {
        Self::new(PluginKind::ProviderAdapter, name, version)
    }

    /// Declare a config key the plugin accepts.
    pub fn key(mut self, name: &str, required: bool, description: &str) -> Self {
        self.config_keys.push(ConfigKey {
            name: name.to_string(),
            required,
            description: description.to_string(),
        });
        self
    }

    /// Declare the labels a classifier may return.
    pub fn labels(mut self, labels: &[&str]) -> Self {
        self.labels = labels.iter().map(|label| label.to_string()).collect();
        self
    }
}

/// Everything a plugin author usually needs, in one import.
pub mod prelude {
    pub use crate::classifier::{Classifier, ClassifyInput, EndedAttempt};
    pub use crate::gate::{Candidate, Deferral, DialGate, GateMetadata, PhoneHistory, Verdict};
    pub use crate::provider::ProviderAdapter;
    pub use crate::retry::{Decision, LocalTime, PolicyLimits, RetryInput, RetryStrategy};
    pub use crate::{
        Attempt, AttemptOutline, CallOutcome, Config, Contact, DAY_MS, Disposition, HOUR_MS,
        LabelledAttempt, MINUTE_MS, MachineDetection, Metadata, Plugin, PluginError, SECOND_MS,
        TimestampMs,
    };
}

/// Support for the export macros; not part of the stable API.
#[doc(hidden)]
pub mod __private {
    use std::cell::RefCell;

    pub use crate::wit;

    thread_local! {
        // Plugins are single-threaded Wasm instances: the configured plugin
        // lives here between calls. `Box<dyn Any>` keeps this free of the
        // plugin's type, which only the export macro knows.
        static CONFIGURED: RefCell<Option<Box<dyn std::any::Any>>> = const { RefCell::new(None) };
    }

    /// Route panics to the host before the instance traps.
    pub fn install_panic_hook() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            std::panic::set_hook(Box::new(|info| crate::log::report_panic(&info.to_string())));
        });
    }

    pub fn configure<P: crate::Plugin>(
        config: Vec<(String, String)>,
    ) -> Result<(), crate::PluginError> {
        configure_with(config, P::configure)
    }

    /// Build the plugin with `build` and keep it for the calls that follow;
    /// a gate is built by [`crate::gate::DialGate::configure`] rather than
    /// [`crate::Plugin::configure`].
    pub fn configure_with<P: 'static>(
        config: Vec<(String, String)>,
        build: impl FnOnce(&crate::Config) -> Result<P, crate::PluginError>,
    ) -> Result<(), crate::PluginError> {
        install_panic_hook();
        let plugin = build(&crate::Config::new(config))?;
        CONFIGURED.with(|slot| *slot.borrow_mut() = Some(Box::new(plugin)));
        Ok(())
    }

    /// Run `f` on the configured plugin. The host always configures an
    /// instance before calling it, so a missing plugin is a host bug and
    /// traps with a message saying so.
    pub fn with_plugin<P: 'static, R>(f: impl FnOnce(&P) -> R) -> R {
        install_panic_hook();
        CONFIGURED.with(|slot| {
            let slot = slot.borrow();
            let plugin = slot
                .as_ref()
                .and_then(|plugin| plugin.downcast_ref::<P>())
                .expect("plugin called before `configure` succeeded");
            f(plugin)
        })
    }
}
