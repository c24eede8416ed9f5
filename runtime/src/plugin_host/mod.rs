//! The Wasm plugin host: loads components, checks their world and WIT
//! version, validates their config, and calls them under a CPU deadline and
//! a memory cap from pools of pre-instantiated instances.
//!
//! A plugin fault (trap, deadline, memory overflow, broken contract) comes
//! back as a [`CallError`]; the faulted instance is dropped, never reused,
//! and every other call keeps working.

mod bindings;
mod catalog;
mod context;
mod contract;
mod error;
mod host;
mod info;
mod legacy;
mod plugins;
mod pool;
mod producers;
mod sandbox;
mod source;

pub use catalog::{CampaignLoadError, CampaignPlugins, ConfigPlugins, declared_source};
pub use contract::{attempt_to_wit, contact_to_wit, machine_detection_to_wit, wit};
pub use error::{CallError, LoadError};
pub use host::{PluginHost, import_is_offered, validate_config};
pub use info::{ConfigKeyInfo, PluginInfo, PluginKind, PluginLimits, WIT_VERSIONS, WitVersion};
pub use plugins::{AdapterPlugin, ClassifierPlugin, GatePlugin, RetryPlugin};
pub use pool::last_call_memory_bytes;
pub use source::{EMBEDDED_PLUGINS, PluginSource, builtin_names};
