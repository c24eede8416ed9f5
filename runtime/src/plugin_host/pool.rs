//! Pools of pre-instantiated, configured plugin instances. A call borrows
//! one instance, and returns it only when the call did not trap: a faulted
//! instance's memory may be in any state, so it is dropped.

use std::cell::Cell;
use std::sync::{Arc, Mutex};

use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Engine, Store, Trap};

use super::bindings::{classifier, gate, provider, retry, types, v0_1, v0_2, v0_3};
use super::error::CallError;
use super::info::{EPOCH_TICK, PluginKind, PluginLimits};
use super::sandbox::Sandbox;

/// Instances kept idle per plugin; more are made under load and dropped
/// when returned to a full pool.
const MAX_IDLE: usize = 32;

/// Longest an instance may take to start: instantiating, describing and
/// configuring. Start-up is once per instance and off the dispatcher's
/// per-call budget, and the deadline clock is wall time, so on a busy
/// machine a start can overrun a call deadline of tens of milliseconds; a
/// plugin that never finishes starting is still cut off.
const START_DEADLINE_MS: u64 = 10_000;

thread_local! {
    // A call runs on its caller's thread, so a thread-local hands the
    // caller the memory of the instance that served it without widening
    // any call signature.
    static LAST_CALL_MEMORY: Cell<usize> = const { Cell::new(0) };
}

/// Linear memory, in bytes, held by the instance that served this thread's
/// most recent plugin call, at the end of that call (whether it answered or
/// faulted). Memory never shrinks, so this is the instance's high-water
/// mark; the conformance harness reports it per check.
pub fn last_call_memory_bytes() -> usize {
    LAST_CALL_MEMORY.with(Cell::get)
}

fn record_memory(store: &Store<Sandbox>) {
    LAST_CALL_MEMORY.with(|last| last.set(store.data().limits.memory_bytes()));
}

/// What a plugin says about itself at load, whatever its kind.
pub(crate) struct Described {
    pub name: String,
    pub version: String,
    /// The kind it says it is; `None` for a gate, whose world is its kind.
    pub kind: Option<PluginKind>,
    pub config_keys: Vec<types::ConfigKey>,
    pub labels: Vec<String>,
}

impl From<types::Metadata> for Described {
    fn from(metadata: types::Metadata) -> Described {
        Described {
            name: metadata.name,
            version: metadata.version,
            kind: Some(PluginKind::from_wit(metadata.kind)),
            config_keys: metadata.config_keys,
            labels: metadata.labels,
        }
    }
}

/// One WIT world's generated bindings, seen uniformly.
pub(crate) trait World: Sized + Send + 'static {
    type Pre: Send + Sync + 'static;

    fn pre(pre: InstancePre<Sandbox>) -> wasmtime::Result<Self::Pre>;
    fn instantiate(pre: &Self::Pre, store: &mut Store<Sandbox>) -> wasmtime::Result<Self>;
    fn describe(&self, store: &mut Store<Sandbox>) -> wasmtime::Result<Described>;
    // The generated binding takes `&Vec`.
    #[allow(clippy::ptr_arg)]
    fn configure(
        &self,
        store: &mut Store<Sandbox>,
        config: &Vec<(String, String)>,
    ) -> wasmtime::Result<Result<(), types::PluginError>>;
}

/// The [`World`] of a world's generated bindings: `$accessor` is the
/// exported interface's accessor.
macro_rules! generated_world {
    ($world:ty, $pre:ty, $accessor:ident) => {
        impl World for $world {
            type Pre = $pre;

            fn pre(pre: InstancePre<Sandbox>) -> wasmtime::Result<Self::Pre> {
                <$pre>::new(pre)
            }
            fn instantiate(pre: &Self::Pre, store: &mut Store<Sandbox>) -> wasmtime::Result<Self> {
                pre.instantiate(store)
            }
            fn describe(&self, store: &mut Store<Sandbox>) -> wasmtime::Result<Described> {
                self.$accessor().call_describe(store).map(Described::from)
            }
            fn configure(
                &self,
                store: &mut Store<Sandbox>,
                config: &Vec<(String, String)>,
            ) -> wasmtime::Result<Result<(), types::PluginError>> {
                self.$accessor().call_configure(store, config)
            }
        }
    };
}

generated_world!(
    retry::RetryStrategy,
    retry::RetryStrategyPre<Sandbox>,
    outdial_plugin_retry
);
generated_world!(
    classifier::DispositionClassifier,
    classifier::DispositionClassifierPre<Sandbox>,
    outdial_plugin_classifier
);
generated_world!(
    provider::ProviderAdapter,
    provider::ProviderAdapterPre<Sandbox>,
    outdial_plugin_provider
);
generated_world!(
    v0_3::retry::RetryStrategy,
    v0_3::retry::RetryStrategyPre<Sandbox>,
    outdial_plugin_retry
);
generated_world!(
    v0_3::classifier::DispositionClassifier,
    v0_3::classifier::DispositionClassifierPre<Sandbox>,
    outdial_plugin_classifier
);
generated_world!(
    v0_2::retry::RetryStrategy,
    v0_2::retry::RetryStrategyPre<Sandbox>,
    outdial_plugin_retry
);
generated_world!(
    v0_2::classifier::DispositionClassifier,
    v0_2::classifier::DispositionClassifierPre<Sandbox>,
    outdial_plugin_classifier
);
generated_world!(
    v0_1::retry::RetryStrategy,
    v0_1::retry::RetryStrategyPre<Sandbox>,
    outdial_plugin_retry
);
generated_world!(
    v0_1::classifier::DispositionClassifier,
    v0_1::classifier::DispositionClassifierPre<Sandbox>,
    outdial_plugin_classifier
);

impl World for gate::DialGate {
    type Pre = gate::DialGatePre<Sandbox>;

    fn pre(pre: InstancePre<Sandbox>) -> wasmtime::Result<Self::Pre> {
        gate::DialGatePre::new(pre)
    }
    fn instantiate(pre: &Self::Pre, store: &mut Store<Sandbox>) -> wasmtime::Result<Self> {
        pre.instantiate(store)
    }
    fn describe(&self, store: &mut Store<Sandbox>) -> wasmtime::Result<Described> {
        let metadata = self.outdial_plugin_gate().call_describe(store)?;
        Ok(Described {
            name: metadata.name,
            version: metadata.version,
            kind: None,
            config_keys: metadata.config_keys,
            labels: Vec::new(),
        })
    }
    fn configure(
        &self,
        store: &mut Store<Sandbox>,
        config: &Vec<(String, String)>,
    ) -> wasmtime::Result<Result<(), types::PluginError>> {
        self.outdial_plugin_gate().call_configure(store, config)
    }
}

/// A configured instance and its store.
pub(crate) struct Warm<W> {
    store: Store<Sandbox>,
    world: W,
}

/// The instances of one loaded plugin.
pub(crate) struct Pool<W: World> {
    engine: Engine,
    pre: W::Pre,
    plugin: Arc<str>,
    config: Vec<(String, String)>,
    limits: PluginLimits,
    idle: Mutex<Vec<Warm<W>>>,
}

impl<W: World> Pool<W> {
    pub(crate) fn new(
        engine: &Engine,
        linker: &Linker<Sandbox>,
        component: &Component,
        plugin: String,
        config: Vec<(String, String)>,
        limits: PluginLimits,
    ) -> wasmtime::Result<Self> {
        let pre = W::pre(linker.instantiate_pre(component)?)?;
        Ok(Pool {
            engine: engine.clone(),
            pre,
            plugin: plugin.into(),
            config,
            limits,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Make one configured instance ready, so the first call is warm and a
    /// refused config shows at load.
    pub(crate) fn warm_up(&self) -> Result<(), CallError> {
        let warm = self.fresh()?;
        self.release(warm);
        Ok(())
    }

    /// Call `f` on a warm instance (making one if none is idle) under the
    /// CPU deadline, with the guest's clock at `now_ms` and its randomness
    /// seeded with `seed`.
    pub(crate) fn call<R>(
        &self,
        now_ms: i64,
        seed: u64,
        f: impl FnOnce(&W, &mut Store<Sandbox>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let warm = match idle {
            Some(warm) => warm,
            None => self.fresh()?,
        };
        self.call_on(warm, now_ms, seed, f)
    }

    /// Like [`Pool::call`], but always on a new instance that is dropped
    /// afterwards: the cost of a cold call, for benchmarks.
    pub(crate) fn call_fresh<R>(
        &self,
        now_ms: i64,
        seed: u64,
        f: impl FnOnce(&W, &mut Store<Sandbox>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let mut warm = self.fresh()?;
        warm.store.data().call.begin_call(now_ms, seed);
        warm.store.set_epoch_deadline(self.deadline_ticks());
        let answer = f(&warm.world, &mut warm.store);
        record_memory(&warm.store);
        answer.map_err(|err| self.fault(err, &warm.store))
    }

    /// [`Pool::call_fresh`] when `fresh`, [`Pool::call`] otherwise.
    pub(crate) fn call_maybe_fresh<R>(
        &self,
        fresh: bool,
        now_ms: i64,
        seed: u64,
        f: impl FnOnce(&W, &mut Store<Sandbox>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        if fresh {
            self.call_fresh(now_ms, seed, f)
        } else {
            self.call(now_ms, seed, f)
        }
    }

    fn call_on<R>(
        &self,
        mut warm: Warm<W>,
        now_ms: i64,
        seed: u64,
        f: impl FnOnce(&W, &mut Store<Sandbox>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        warm.store.data().call.begin_call(now_ms, seed);
        warm.store.set_epoch_deadline(self.deadline_ticks());
        let answer = f(&warm.world, &mut warm.store);
        record_memory(&warm.store);
        match answer {
            Ok(answer) => {
                self.release(warm);
                Ok(answer)
            }
            // The instance is dropped here, never reused.
            Err(err) => Err(self.fault(err, &warm.store)),
        }
    }

    fn release(&self, warm: Warm<W>) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(warm);
        }
    }

    fn deadline_ticks(&self) -> u64 {
        ticks(self.limits.cpu_ms)
    }

    /// A new instance, configured, under the start-up deadline.
    fn fresh(&self) -> Result<Warm<W>, CallError> {
        let mut store = new_store(&self.engine, &self.plugin, self.limits.memory_bytes);
        store.set_epoch_deadline(ticks(START_DEADLINE_MS));
        let world = W::instantiate(&self.pre, &mut store).map_err(|err| {
            record_memory(&store);
            match self.start_fault(err, &store) {
                CallError::Trap { plugin, message } => CallError::Instantiate { plugin, message },
                other => other,
            }
        })?;
        let configured = world.configure(&mut store, &self.config);
        record_memory(&store);
        match configured {
            Ok(Ok(())) => Ok(Warm { store, world }),
            Ok(Err(refusal)) => Err(CallError::Plugin {
                plugin: self.plugin.to_string(),
                message: plugin_error_message(&refusal),
            }),
            Err(err) => Err(self.start_fault(err, &store)),
        }
    }

    /// What went wrong while an instance started.
    fn start_fault(&self, err: wasmtime::Error, store: &Store<Sandbox>) -> CallError {
        match self.fault(err, store) {
            CallError::Deadline { plugin, .. } => CallError::Deadline {
                plugin,
                cpu_ms: START_DEADLINE_MS,
            },
            other => other,
        }
    }

    /// Turn a wasmtime error into what went wrong, in the plugin's terms.
    fn fault(&self, err: wasmtime::Error, store: &Store<Sandbox>) -> CallError {
        let plugin = self.plugin.to_string();
        if err.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            return CallError::Deadline {
                plugin,
                cpu_ms: self.limits.cpu_ms,
            };
        }
        let chain = format!("{err:?}");
        if chain.contains("forcing trap when growing memory") {
            return CallError::MemoryExceeded {
                plugin,
                limit_bytes: self.limits.memory_bytes,
            };
        }
        let message = match &store.data().panic_message {
            Some(panic) => format!("panicked: {panic}"),
            None => match err.downcast_ref::<Trap>() {
                Some(trap) => trap.to_string(),
                None => format!("{err:#}"),
            },
        };
        CallError::Trap { plugin, message }
    }
}

/// Epoch ticks of a deadline of `ms`.
fn ticks(ms: u64) -> u64 {
    let tick_ms = EPOCH_TICK.as_millis().max(1) as u64;
    // One extra tick: the ticker may advance right after the deadline is
    // set, which would cut the first tick short.
    ms.div_ceil(tick_ms) + 1
}

fn new_store(engine: &Engine, plugin: &Arc<str>, memory_bytes: usize) -> Store<Sandbox> {
    let mut store = Store::new(engine, Sandbox::new(plugin.clone(), memory_bytes));
    store.limiter(|sandbox| &mut sandbox.limits);
    store
}

/// Instantiate a component once, unconfigured, just to ask for its
/// metadata, under the start-up deadline; `file` names it in errors.
pub(crate) fn describe<W: World>(
    engine: &Engine,
    linker: &Linker<Sandbox>,
    component: &Component,
    file: &str,
) -> Result<Described, CallError> {
    let limits = PluginLimits::default();
    let pool = Pool::<W>::new(
        engine,
        linker,
        component,
        file.to_string(),
        Vec::new(),
        limits,
    )
    .map_err(|err| CallError::Instantiate {
        plugin: file.to_string(),
        message: format!("{err:#}"),
    })?;
    let mut store = new_store(engine, &pool.plugin, limits.memory_bytes);
    store.set_epoch_deadline(ticks(START_DEADLINE_MS));
    let world =
        W::instantiate(&pool.pre, &mut store).map_err(|err| pool.start_fault(err, &store))?;
    world
        .describe(&mut store)
        .map_err(|err| pool.start_fault(err, &store))
}

/// A plugin error as one line.
pub(crate) fn plugin_error_message(error: &types::PluginError) -> String {
    match error {
        types::PluginError::InvalidConfig(message) => format!("invalid config: {message}"),
        types::PluginError::InvalidInput(message) => format!("invalid input: {message}"),
        types::PluginError::Internal(message) => message.clone(),
    }
}
