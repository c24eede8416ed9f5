//! What a plugin instance can reach: nothing but the decision time, a
//! seeded random stream, a log, and a memory cap. No files (no preopened
//! directories), no environment, no arguments, no network.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::bindings::{host, retry_context, types, v0_1};
use super::contract::{RetryInput, outline_of, wit};

/// Core instances one plugin component may hold, in the pool and in its
/// store: a Rust guest holds a few, a Python one 38 (libc, libpython and
/// its runtime are modules of their own, linked when it is instantiated).
pub(super) const MAX_CORE_INSTANCES_PER_PLUGIN: usize = 64;

/// Inputs of the current call that the guest's standard library may ask
/// for through WASI: the time and the randomness. Shared between the
/// store's WASI context and the host, which sets them before every call.
#[derive(Debug, Default)]
pub(crate) struct CallEnvironment {
    /// The decision time, in milliseconds since the epoch.
    now_ms: AtomicI64,
    /// State of the splitmix64 stream handed out as randomness.
    random_state: AtomicU64,
    /// The seed of the current call, kept for the monotonic clock's base.
    seed: AtomicU64,
}

impl CallEnvironment {
    pub(crate) fn begin_call(&self, now_ms: i64, seed: u64) {
        self.now_ms.store(now_ms, Ordering::Relaxed);
        self.seed.store(seed, Ordering::Relaxed);
        self.random_state.store(seed, Ordering::Relaxed);
    }

    fn next_random(&self) -> u64 {
        // One instance serves one call at a time, so the stream only has to
        // advance atomically, not under a lock.
        const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut z = self
            .random_state
            .fetch_add(GOLDEN_GAMMA, Ordering::Relaxed)
            .wrapping_add(GOLDEN_GAMMA);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The wall clock a plugin sees: always the decision time of the call.
struct DecisionClock(Arc<CallEnvironment>);

impl HostWallClock for DecisionClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        let ms = self.0.now_ms.load(Ordering::Relaxed).max(0) as u64;
        Duration::from_millis(ms)
    }
}

impl HostMonotonicClock for DecisionClock {
    fn resolution(&self) -> u64 {
        1_000_000
    }

    fn now(&self) -> u64 {
        (self.0.now_ms.load(Ordering::Relaxed).max(0) as u64).saturating_mul(1_000_000)
    }
}

/// Randomness a plugin sees: a stream seeded by the host for each call.
struct SeededRandom(Arc<CallEnvironment>);

impl rand_core::TryRng for SeededRandom {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.0.next_random() as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.0.next_random())
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.0.next_random().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// The state of one plugin instance's store.
pub(crate) struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limits: MeteredLimits,
    pub(crate) call: Arc<CallEnvironment>,
    /// The plugin's name, for log lines.
    plugin: Arc<str>,
    /// The last panic message the guest reported before trapping.
    pub(crate) panic_message: Option<String>,
    /// What the retry decision in progress reads through `retry-context`;
    /// none outside `decide`.
    pub(crate) deciding: Option<Arc<RetryInput>>,
}

impl Sandbox {
    pub(crate) fn new(plugin: Arc<str>, memory_bytes: usize) -> Self {
        let call = Arc::new(CallEnvironment::default());
        let wasi = WasiCtx::builder()
            .wall_clock(DecisionClock(call.clone()))
            .monotonic_clock(DecisionClock(call.clone()))
            .secure_random(SeededRandom(call.clone()))
            .insecure_random(SeededRandom(call.clone()))
            .insecure_random_seed(0)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        let limits = StoreLimitsBuilder::new()
            .memory_size(memory_bytes)
            .instances(MAX_CORE_INSTANCES_PER_PLUGIN)
            .tables(64)
            .memories(4)
            // Fail loudly: a guest allocator that sees a failed grow would
            // abort with a bare "unreachable" instead.
            .trap_on_grow_failure(true)
            .build();
        Sandbox {
            wasi,
            table: ResourceTable::new(),
            limits: MeteredLimits {
                limits,
                memory_bytes: 0,
            },
            call,
            plugin,
            panic_message: None,
            deciding: None,
        }
    }
}

/// The store's limits, also counting the linear memory the instance holds.
/// Linear memory never shrinks, so the count is the instance's high-water
/// mark; keeping it costs one addition per grow.
pub(crate) struct MeteredLimits {
    limits: StoreLimits,
    memory_bytes: usize,
}

impl MeteredLimits {
    /// Bytes of linear memory the instance has grown to, over all memories.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }
}

impl ResourceLimiter for MeteredLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.memory_bytes += desired.saturating_sub(current);
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl host::Host for Sandbox {
    fn log(&mut self, level: host::LogLevel, message: String) {
        let plugin = &*self.plugin;
        match level {
            host::LogLevel::Trace => tracing::trace!(plugin, "{message}"),
            host::LogLevel::Debug => tracing::debug!(plugin, "{message}"),
            host::LogLevel::Info => tracing::info!(plugin, "{message}"),
            host::LogLevel::Warn => tracing::warn!(plugin, "{message}"),
            host::LogLevel::Error => tracing::error!(plugin, "{message}"),
        }
    }

    fn report_panic(&mut self, message: String) {
        tracing::warn!(plugin = &*self.plugin, "plugin panicked: {message}");
        self.panic_message = Some(message);
    }
}

impl types::Host for Sandbox {}

/// The same services for plugins built against 0.1.0.
impl v0_1::host::Host for Sandbox {
    fn log(&mut self, level: v0_1::host::LogLevel, message: String) {
        let level = match level {
            v0_1::host::LogLevel::Trace => host::LogLevel::Trace,
            v0_1::host::LogLevel::Debug => host::LogLevel::Debug,
            v0_1::host::LogLevel::Info => host::LogLevel::Info,
            v0_1::host::LogLevel::Warn => host::LogLevel::Warn,
            v0_1::host::LogLevel::Error => host::LogLevel::Error,
        };
        host::Host::log(self, level, message);
    }

    fn report_panic(&mut self, message: String) {
        host::Host::report_panic(self, message);
    }
}

impl Sandbox {
    fn deciding(&self) -> wasmtime::Result<&RetryInput> {
        self.deciding.as_deref().ok_or_else(|| {
            wasmtime::format_err!("the plugin read its retry context outside `decide`")
        })
    }
}

impl retry_context::Host for Sandbox {
    fn outline(&mut self, number: u32) -> wasmtime::Result<Option<wit::AttemptOutline>> {
        Ok(self.deciding()?.attempt(number).map(outline_of))
    }

    fn outlines(&mut self) -> wasmtime::Result<Vec<wit::AttemptOutline>> {
        Ok(self.deciding()?.history.iter().map(outline_of).collect())
    }

    fn label(&mut self, number: u32) -> wasmtime::Result<Option<String>> {
        Ok(self
            .deciding()?
            .attempt(number)
            .and_then(|labelled| labelled.disposition.as_ref())
            .map(|disposition| disposition.label.clone()))
    }

    fn attempt(&mut self, number: u32) -> wasmtime::Result<Option<wit::LabelledAttempt>> {
        Ok(self.deciding()?.attempt(number).cloned())
    }

    fn get_contact(&mut self) -> wasmtime::Result<wit::Contact> {
        Ok(self.deciding()?.contact.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input_with_one_attempt() -> RetryInput {
        RetryInput {
            contact: wit::Contact {
                id: "contact-1".to_string(),
                phone: "+12125550100".to_string(),
                time_zone: "America/New_York".to_string(),
                attributes: Vec::new(),
            },
            history: vec![wit::LabelledAttempt {
                attempt: wit::Attempt {
                    id: "attempt-1".to_string(),
                    number: 1,
                    started_at: 1_000,
                    answered_at: None,
                    ended_at: 21_000,
                    outcome: wit::CallOutcome::NoAnswer,
                    sip_code: Some(480),
                    talk_ms: 0,
                    ring_ms: 20_000,
                    machine_detection: wit::MachineDetection::NotRun,
                    transcript: None,
                    cost_micros: None,
                    metadata: Vec::new(),
                },
                disposition: Some(wit::Disposition {
                    label: "no_answer".to_string(),
                    terminal: false,
                    score: None,
                    sentiment: None,
                    follow_up_at: None,
                }),
            }],
            limits: wit::PolicyLimits { max_attempts: 3 },
            now: 60_000,
            now_local: wit::LocalTime {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                minute: 1,
                second: 0,
                weekday: 3,
                utc_offset_seconds: 0,
            },
        }
    }

    #[test]
    fn the_retry_context_answers_only_while_a_decision_is_in_progress() {
        use retry_context::Host;
        let mut sandbox = Sandbox::new("plugin".into(), 1 << 20);
        let outside = sandbox.get_contact().expect_err("no decision in progress");
        assert!(
            outside.to_string().contains("outside `decide`"),
            "{outside}"
        );

        sandbox.deciding = Some(Arc::new(input_with_one_attempt()));
        assert_eq!(sandbox.get_contact().unwrap().id, "contact-1");
        let outline = sandbox.outline(1).unwrap().expect("attempt 1 exists");
        assert_eq!(outline.outcome, wit::CallOutcome::NoAnswer);
        assert_eq!(outline.sip_code, Some(480));
        assert!(!outline.disposition.expect("classified").terminal);
        assert_eq!(sandbox.label(1).unwrap().as_deref(), Some("no_answer"));
        assert_eq!(sandbox.outlines().unwrap(), [outline]);
        assert_eq!(
            sandbox
                .attempt(1)
                .unwrap()
                .map(|labelled| labelled.attempt.id),
            Some("attempt-1".to_string())
        );
        for missing in [0, 2] {
            assert_eq!(sandbox.outline(missing).unwrap(), None, "attempt {missing}");
            assert_eq!(sandbox.label(missing).unwrap(), None, "attempt {missing}");
            assert!(
                sandbox.attempt(missing).unwrap().is_none(),
                "attempt {missing}"
            );
        }
    }
}
