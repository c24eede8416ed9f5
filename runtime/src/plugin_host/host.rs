//! The host itself: one engine, its deadline ticker and its pooling
//! allocator; loading checks a component's header, world, WIT version and
//! imports, then its config, and makes the pool its calls are served from.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker, types::ComponentItem};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::bindings;
use super::error::{CallError, LoadError};
use super::info::{
    ConfigKeyInfo, EPOCH_TICK, PluginInfo, PluginKind, PluginLimits, WIT_VERSIONS, WitVersion,
};
use super::legacy;
use super::plugins::{AdapterPlugin, ClassifierPlugin, GatePlugin, RetryPlugin, Versioned};
use super::pool::{self, Pool, World};
use super::sandbox::{MAX_CORE_INSTANCES_PER_PLUGIN, Sandbox};
use super::source::PluginSource;

/// A loaded plugin's description and its pool, bound through the
/// bindings of the WIT version it was built against.
type LoadedVersion<Current, V3, V2, V1> = (PluginInfo, Versioned<Current, V3, V2, V1>);

/// Plugin instances that may be alive at once in one host, over all
/// plugins: the pools' idle instances and the calls in flight. A call that
/// would need one more fails with an instantiate error saying which limit
/// was reached.
const MAX_LIVE_INSTANCES: u32 = 1000;

/// Dirty linear memory kept mapped when an instance is dropped, reset in
/// place for the next instance of the same plugin instead of being
/// unmapped and faulted in again page by page.
const KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// Instances come from wasmtime's pooling allocator: slots of address space
/// reserved once, each keeping the plugin's memory image mapped between
/// instances, so a fresh instance costs no `mmap`/`munmap` and touches no
/// new pages. Each slot is as large as a 32-bit memory can be; a plugin's
/// own memory cap is enforced per store by its [`Sandbox`] limits.
fn instance_pool() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(MAX_LIVE_INSTANCES)
        // A Rust plugin component holds a few core instances (the plugin
        // and wit-component's shims), one memory and a few tables; a
        // Python one 38. The total stays at eight per live instance:
        // room for about 200 live Python instances, more than pools keep.
        .total_core_instances(MAX_LIVE_INSTANCES * 8)
        .max_core_instances_per_component(MAX_CORE_INSTANCES_PER_PLUGIN as u32)
        .total_memories(MAX_LIVE_INSTANCES)
        .max_memories_per_component(4)
        .total_tables(MAX_LIVE_INSTANCES * 8)
        .max_tables_per_component(16)
        .max_memory_size(1 << 32)
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(64 << 10)
        // Reset only the pages an instance wrote (Linux 6.7 and later);
        // elsewhere the first KEEP_RESIDENT_BYTES are reset.
        .pagemap_scan(Enabled::Auto);
    pool
}

/// Import prefixes a plugin may use. Everything else (sockets above all)
/// is refused at load, before any code runs.
const ALLOWED_IMPORT_PREFIXES: [&str; 18] = [
    "outdial:plugin/host@0.4.0",
    "outdial:plugin/retry-context@0.4.0",
    "outdial:plugin/classify-context@0.4.0",
    "outdial:plugin/types@0.4.0",
    "outdial:plugin/host@0.3.0",
    "outdial:plugin/retry-context@0.3.0",
    "outdial:plugin/classify-context@0.3.0",
    "outdial:plugin/types@0.3.0",
    "outdial:plugin/host@0.2.0",
    "outdial:plugin/retry-context@0.2.0",
    "outdial:plugin/types@0.2.0",
    "outdial:plugin/host@0.1.0",
    "outdial:plugin/types@0.1.0",
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:filesystem/",
    "wasi:io/",
    "wasi:random/",
];

/// Whether the host offers `import` (an interface name such as
/// `wasi:io/streams@0.2.0`) to plugins.
pub fn import_is_offered(import: &str) -> bool {
    ALLOWED_IMPORT_PREFIXES
        .iter()
        .any(|prefix| import.starts_with(prefix))
}

/// Loads and runs plugins. One per process: it owns the engine and the
/// thread that drives CPU deadlines.
pub struct PluginHost {
    engine: Engine,
    linker: Arc<Linker<Sandbox>>,
    ticker_stop: Arc<AtomicBool>,
    /// Components compiled so far, by the sha256 of their bytes. `outdial
    /// run` checks every plugin of its config and then loads it, and
    /// campaigns share plugins: compiling dominates start-up, so each
    /// distinct component is compiled once.
    compiled: Mutex<HashMap<String, Component>>,
}

impl PluginHost {
    /// A host with its own engine and deadline ticker.
    pub fn new() -> Result<PluginHost, LoadError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(instance_pool()));
        let engine = Engine::new(&config).map_err(|err| LoadError::Engine(format!("{err:#}")))?;

        let mut linker = Linker::<Sandbox>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|err| LoadError::Engine(format!("{err:#}")))?;
        let engine_error = |err: wasmtime::Error| LoadError::Engine(format!("{err:#}"));
        // 0.4.0's `types`, `host` and `retry-context`, then its
        // `classify-context`: the classifier's and the gate's other imports
        // are the ones just linked.
        bindings::retry::RetryStrategy::add_to_linker::<_, HasSelf<_>>(&mut linker, |sandbox| {
            sandbox
        })
        .map_err(engine_error)?;
        bindings::classify_context::add_to_linker::<_, HasSelf<_>>(&mut linker, |sandbox| sandbox)
            .map_err(engine_error)?;
        // Plugins built against 0.3.0 import its `host`, `retry-context`
        // and `classify-context`, those against 0.2.0 its `host` and
        // `retry-context`, and those against 0.1.0 its `host`; the `types`
        // of all three are 0.4.0's, already linked.
        bindings::v0_3::retry::RetryStrategy::add_to_linker::<_, HasSelf<_>>(
            &mut linker,
            |sandbox| sandbox,
        )
        .map_err(engine_error)?;
        bindings::v0_3::classify_context::add_to_linker::<_, HasSelf<_>>(&mut linker, |sandbox| {
            sandbox
        })
        .map_err(engine_error)?;
        bindings::v0_2::retry::RetryStrategy::add_to_linker::<_, HasSelf<_>>(
            &mut linker,
            |sandbox| sandbox,
        )
        .map_err(engine_error)?;
        bindings::v0_1::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |sandbox| sandbox)
            .map_err(engine_error)?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let ticker_engine = engine.clone();
        let stop = ticker_stop.clone();
        std::thread::Builder::new()
            .name("outdial-plugin-deadlines".to_string())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    ticker_engine.increment_epoch();
                }
            })
            .map_err(|err| LoadError::Engine(format!("cannot start the deadline ticker: {err}")))?;

        Ok(PluginHost {
            engine,
            linker: Arc::new(linker),
            ticker_stop,
            compiled: Mutex::new(HashMap::new()),
        })
    }

    /// How many distinct components this host has compiled.
    pub fn compiled_components(&self) -> usize {
        self.compiled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Load a plugin and describe it without configuring it.
    pub fn inspect(&self, source: &PluginSource) -> Result<PluginInfo, LoadError> {
        let checked = self.check(source)?;
        match (checked.kind, checked.version) {
            (PluginKind::RetryStrategy, WitVersion::V0_4) => {
                self.describe::<bindings::retry::RetryStrategy>(&checked)
            }
            (PluginKind::RetryStrategy, WitVersion::V0_3) => {
                self.describe::<bindings::v0_3::retry::RetryStrategy>(&checked)
            }
            (PluginKind::RetryStrategy, WitVersion::V0_2) => {
                self.describe::<bindings::v0_2::retry::RetryStrategy>(&checked)
            }
            (PluginKind::RetryStrategy, WitVersion::V0_1) => {
                self.describe::<bindings::v0_1::retry::RetryStrategy>(&checked)
            }
            (PluginKind::DispositionClassifier, WitVersion::V0_4) => {
                self.describe::<bindings::classifier::DispositionClassifier>(&checked)
            }
            (PluginKind::DispositionClassifier, WitVersion::V0_3) => {
                self.describe::<bindings::v0_3::classifier::DispositionClassifier>(&checked)
            }
            (PluginKind::DispositionClassifier, WitVersion::V0_2) => {
                self.describe::<bindings::v0_2::classifier::DispositionClassifier>(&checked)
            }
            (PluginKind::DispositionClassifier, WitVersion::V0_1) => {
                self.describe::<bindings::v0_1::classifier::DispositionClassifier>(&checked)
            }
            (PluginKind::ProviderAdapter, WitVersion::V0_4) => {
                self.describe::<bindings::provider::ProviderAdapter>(&checked)
            }
            (
                PluginKind::ProviderAdapter,
                WitVersion::V0_3 | WitVersion::V0_2 | WitVersion::V0_1,
            ) => self.describe::<legacy::LegacyProviderAdapter>(&checked),
            (PluginKind::DialGate, _) => self.describe::<bindings::gate::DialGate>(&checked),
        }
    }

    /// Load a retry strategy with its config.
    pub fn load_retry(
        &self,
        source: &PluginSource,
        config: &[(String, String)],
        limits: PluginLimits,
    ) -> Result<RetryPlugin, LoadError> {
        let (info, pool) =
            self.load_versioned(source, PluginKind::RetryStrategy, config, limits)?;
        Ok(RetryPlugin::new(info, pool))
    }

    /// Load a disposition classifier with its config.
    pub fn load_classifier(
        &self,
        source: &PluginSource,
        config: &[(String, String)],
        limits: PluginLimits,
    ) -> Result<ClassifierPlugin, LoadError> {
        let (info, pool) =
            self.load_versioned(source, PluginKind::DispositionClassifier, config, limits)?;
        Ok(ClassifierPlugin::new(info, pool))
    }

    /// Load a dial gate with its config.
    pub fn load_gate(
        &self,
        source: &PluginSource,
        config: &[(String, String)],
        limits: PluginLimits,
    ) -> Result<GatePlugin, LoadError> {
        let checked = self.check_kind(source, PluginKind::DialGate)?;
        let (info, pool) = self.load::<bindings::gate::DialGate>(checked, config, limits)?;
        Ok(GatePlugin::new(info, pool))
    }

    /// Load a provider adapter with its config.
    pub fn load_adapter(
        &self,
        source: &PluginSource,
        config: &[(String, String)],
        limits: PluginLimits,
    ) -> Result<AdapterPlugin, LoadError> {
        let (info, pool) =
            self.load_versioned(source, PluginKind::ProviderAdapter, config, limits)?;
        Ok(AdapterPlugin::new(info, pool))
    }

    /// Load a plugin of `kind`, bound through `Current` when it was built
    /// against 0.4.0, through `V3`, `V2` or `V1` when against 0.3.0, 0.2.0
    /// or 0.1.0.
    fn load_versioned<Current: World, V3: World, V2: World, V1: World>(
        &self,
        source: &PluginSource,
        kind: PluginKind,
        config: &[(String, String)],
        limits: PluginLimits,
    ) -> Result<LoadedVersion<Current, V3, V2, V1>, LoadError> {
        let checked = self.check_kind(source, kind)?;
        Ok(match checked.version {
            WitVersion::V0_4 => {
                let (info, pool) = self.load::<Current>(checked, config, limits)?;
                (info, Versioned::Current(pool))
            }
            WitVersion::V0_3 => {
                let (info, pool) = self.load::<V3>(checked, config, limits)?;
                (info, Versioned::V0_3(pool))
            }
            WitVersion::V0_2 => {
                let (info, pool) = self.load::<V2>(checked, config, limits)?;
                (info, Versioned::V0_2(pool))
            }
            WitVersion::V0_1 => {
                let (info, pool) = self.load::<V1>(checked, config, limits)?;
                (info, Versioned::V0_1(pool))
            }
        })
    }

    /// [`PluginHost::check`], refusing a plugin of another kind.
    fn check_kind(
        &self,
        source: &PluginSource,
        expected: PluginKind,
    ) -> Result<CheckedComponent, LoadError> {
        let checked = self.check(source)?;
        if checked.kind != expected {
            return Err(LoadError::WrongKind {
                file: checked.file,
                expected,
                found: checked.kind,
            });
        }
        Ok(checked)
    }

    /// Describe, validate the config of and make the pool of a checked
    /// component, bound through `W`, the world of its kind and version.
    fn load<W: World>(
        &self,
        checked: CheckedComponent,
        config: &[(String, String)],
        limits: PluginLimits,
    ) -> Result<(PluginInfo, Arc<Pool<W>>), LoadError> {
        let info = self.describe::<W>(&checked)?;
        validate_config(&info, config)?;
        let pool = Pool::<W>::new(
            &self.engine,
            &self.linker,
            &checked.component,
            info.name.clone(),
            config.to_vec(),
            limits,
        )
        .map_err(|err| LoadError::Instantiate {
            file: checked.file.clone(),
            message: format!("{err:#}"),
        })?;
        // Instantiate and configure one instance now: a config the plugin
        // refuses fails the load, not the first call.
        pool.warm_up().map_err(|err| match err {
            CallError::Plugin { message, .. } => LoadError::ConfigRefused {
                plugin: info.name.clone(),
                message,
            },
            other => LoadError::Instantiate {
                file: checked.file.clone(),
                message: other.to_string(),
            },
        })?;
        Ok((info, Arc::new(pool)))
    }

    /// Read, compile and check the world and imports of a component.
    fn check(&self, source: &PluginSource) -> Result<CheckedComponent, LoadError> {
        let file = source.display_name();
        let bytes = source.read()?;
        check_header(&file, &bytes)?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let component = self.compile(&file, &sha256, &bytes)?;
        let component_type = component.component_type();
        let exports: Vec<String> = component_type
            .exports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let imports: Vec<String> = component_type
            .imports(&self.engine)
            .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentInstance(_)))
            .map(|(name, _)| name.to_string())
            .collect();
        let (kind, version) = world_of(&file, &exports)?;
        if let Some(forbidden) = imports.iter().find(|import| !import_is_offered(import)) {
            return Err(LoadError::ForbiddenImport {
                file,
                import: forbidden.clone(),
            });
        }
        Ok(CheckedComponent {
            sha256,
            file,
            component,
            kind,
            version,
            imports,
            languages: super::producers::languages(&bytes),
        })
    }

    /// The compiled component of `bytes`, compiled now unless this host
    /// compiled the same bytes before.
    fn compile(&self, file: &str, sha256: &str, bytes: &[u8]) -> Result<Component, LoadError> {
        // Held while compiling, so two loads of one plugin compile it once.
        let mut compiled = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(component) = compiled.get(sha256) {
            return Ok(component.clone());
        }
        let component = Component::new(&self.engine, bytes).map_err(|err| LoadError::Compile {
            file: file.to_string(),
            message: format!("{err:#}"),
        })?;
        compiled.insert(sha256.to_string(), component.clone());
        Ok(component)
    }

    fn describe<W: World>(&self, checked: &CheckedComponent) -> Result<PluginInfo, LoadError> {
        let metadata = pool::describe::<W>(
            &self.engine,
            &self.linker,
            &checked.component,
            &checked.file,
        )
        .map_err(|err| LoadError::Describe {
            file: checked.file.clone(),
            message: err.to_string(),
        })?;
        let declared = metadata.kind.unwrap_or(checked.kind);
        if declared != checked.kind {
            return Err(LoadError::Describe {
                file: checked.file.clone(),
                message: format!(
                    "it exports the {} world but describes itself as a {}",
                    checked.kind, declared
                ),
            });
        }
        Ok(PluginInfo {
            name: metadata.name,
            version: metadata.version,
            kind: checked.kind,
            wit: format!("outdial:plugin@{}", checked.version.number()),
            sha256: checked.sha256.clone(),
            config_keys: metadata
                .config_keys
                .into_iter()
                .map(|key| ConfigKeyInfo {
                    name: key.name,
                    required: key.required,
                    description: key.description,
                })
                .collect(),
            labels: metadata.labels,
            imports: checked.imports.clone(),
            language: super::producers::guest_language(&checked.languages).map(str::to_string),
            languages: checked.languages.clone(),
        })
    }
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

struct CheckedComponent {
    file: String,
    sha256: String,
    component: Component,
    kind: PluginKind,
    version: WitVersion,
    imports: Vec<String>,
    languages: Vec<String>,
}

/// Tell a component from a core module or something else entirely, so each
/// gets a message that says what to do.
fn check_header(file: &str, bytes: &[u8]) -> Result<(), LoadError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(LoadError::NotWasm {
            file: file.to_string(),
        });
    }
    // Core modules are version 1; components carry layer 1 in bytes 6..8.
    if bytes[6..8] != [0x01, 0x00] {
        return Err(LoadError::CoreModule {
            file: file.to_string(),
        });
    }
    Ok(())
}

/// Which world, in which WIT version, a component implements, from its
/// exports.
fn world_of(file: &str, exports: &[String]) -> Result<(PluginKind, WitVersion), LoadError> {
    for version in WIT_VERSIONS {
        for kind in PluginKind::ALL
            .into_iter()
            .filter(|kind| kind.exists_in(version))
        {
            if exports
                .iter()
                .any(|export| *export == kind.export_name(version))
            {
                return Ok((kind, version));
            }
        }
    }
    let ours: Vec<&String> = exports
        .iter()
        .filter(|export| export.starts_with("outdial:plugin/"))
        .collect();
    let supported = WIT_VERSIONS
        .iter()
        .flat_map(|version| {
            PluginKind::ALL
                .into_iter()
                .filter(|kind| kind.exists_in(*version))
                .map(|kind| kind.export_name(*version))
        })
        .collect::<Vec<_>>()
        .join(", ");
    match ours.first() {
        Some(found) => Err(LoadError::UnsupportedVersion {
            file: file.to_string(),
            found: found.to_string(),
            supported,
        }),
        None => Err(LoadError::UnknownWorld {
            file: file.to_string(),
            found: if exports.is_empty() {
                "nothing".to_string()
            } else {
                exports.join(", ")
            },
            supported,
        }),
    }
}

/// Refuse config keys the plugin does not declare, and missing required ones.
pub fn validate_config(info: &PluginInfo, config: &[(String, String)]) -> Result<(), LoadError> {
    let accepted = || {
        let names: Vec<&str> = info
            .config_keys
            .iter()
            .map(|key| key.name.as_str())
            .collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    for (key, _) in config {
        if !info
            .config_keys
            .iter()
            .any(|declared| declared.name == *key)
        {
            return Err(LoadError::UnknownConfigKey {
                plugin: info.name.clone(),
                key: key.clone(),
                accepted: accepted(),
            });
        }
    }
    for declared in info.config_keys.iter().filter(|key| key.required) {
        if !config.iter().any(|(key, _)| *key == declared.name) {
            return Err(LoadError::MissingConfigKey {
                plugin: info.name.clone(),
                key: declared.name.clone(),
            });
        }
    }
    Ok(())
}
