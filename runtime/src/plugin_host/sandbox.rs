//! What a plugin instance can reach: nothing but the decision time, a
//! seeded random stream, a log, and a memory cap. No files (no preopened
//! directories), no environment, no arguments, no network.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::bindings::{classify_context, host, retry_context, types, v0_1, v0_2, v0_3};
use super::context::{ClassifyContext, RetryContext};
use super::contract::wit;
#[cfg(test)]
use super::contract::{ClassifyInput, RetryInput};

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
    pub(crate) deciding: Option<Arc<dyn RetryContext>>,
    /// What the classification in progress reads through
    /// `classify-context`; none outside `classify`.
    pub(crate) classifying: Option<Arc<dyn ClassifyContext>>,
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
            classifying: None,
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

/// The same services for plugins built against 0.3.0.
impl v0_3::host::Host for Sandbox {
    fn log(&mut self, level: v0_3::host::LogLevel, message: String) {
        let level = match level {
            v0_3::host::LogLevel::Trace => host::LogLevel::Trace,
            v0_3::host::LogLevel::Debug => host::LogLevel::Debug,
            v0_3::host::LogLevel::Info => host::LogLevel::Info,
            v0_3::host::LogLevel::Warn => host::LogLevel::Warn,
            v0_3::host::LogLevel::Error => host::LogLevel::Error,
        };
        host::Host::log(self, level, message);
    }

    fn report_panic(&mut self, message: String) {
        host::Host::report_panic(self, message);
    }
}

/// The same services for plugins built against 0.2.0.
impl v0_2::host::Host for Sandbox {
    fn log(&mut self, level: v0_2::host::LogLevel, message: String) {
        let level = match level {
            v0_2::host::LogLevel::Trace => host::LogLevel::Trace,
            v0_2::host::LogLevel::Debug => host::LogLevel::Debug,
            v0_2::host::LogLevel::Info => host::LogLevel::Info,
            v0_2::host::LogLevel::Warn => host::LogLevel::Warn,
            v0_2::host::LogLevel::Error => host::LogLevel::Error,
        };
        host::Host::log(self, level, message);
    }

    fn report_panic(&mut self, message: String) {
        host::Host::report_panic(self, message);
    }
}

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
    fn deciding(&self) -> wasmtime::Result<&dyn RetryContext> {
        self.deciding.as_deref().ok_or_else(|| {
            wasmtime::format_err!("the plugin read its retry context outside `decide`")
        })
    }
}

impl retry_context::Host for Sandbox {
    fn outline(&mut self, number: u32) -> wasmtime::Result<Option<wit::AttemptOutline>> {
        Ok(self.deciding()?.outline(number))
    }

    fn outlines(&mut self) -> wasmtime::Result<Vec<wit::AttemptOutline>> {
        Ok(self.deciding()?.outlines())
    }

    fn label(&mut self, number: u32) -> wasmtime::Result<Option<String>> {
        Ok(self.deciding()?.label(number))
    }

    fn attempt(&mut self, number: u32) -> wasmtime::Result<Option<wit::LabelledAttempt>> {
        Ok(self.deciding()?.attempt(number))
    }

    fn get_contact(&mut self) -> wasmtime::Result<wit::Contact> {
        Ok(self.deciding()?.contact())
    }
}

/// 0.3.0's retry context: the same answers; its records are 0.4.0's.
impl v0_3::retry_context::Host for Sandbox {
    fn outline(&mut self, number: u32) -> wasmtime::Result<Option<wit::AttemptOutline>> {
        retry_context::Host::outline(self, number)
    }

    fn outlines(&mut self) -> wasmtime::Result<Vec<wit::AttemptOutline>> {
        retry_context::Host::outlines(self)
    }

    fn label(&mut self, number: u32) -> wasmtime::Result<Option<String>> {
        retry_context::Host::label(self, number)
    }

    fn attempt(&mut self, number: u32) -> wasmtime::Result<Option<wit::LabelledAttempt>> {
        retry_context::Host::attempt(self, number)
    }

    fn get_contact(&mut self) -> wasmtime::Result<wit::Contact> {
        retry_context::Host::get_contact(self)
    }
}

/// 0.2.0's retry context: the same answers, in 0.2.0's outline records.
impl v0_2::retry_context::Host for Sandbox {
    fn outline(
        &mut self,
        number: u32,
    ) -> wasmtime::Result<Option<v0_2::retry_context::AttemptOutline>> {
        Ok(retry_context::Host::outline(self, number)?.map(v0_2_outline))
    }

    fn outlines(&mut self) -> wasmtime::Result<Vec<v0_2::retry_context::AttemptOutline>> {
        Ok(retry_context::Host::outlines(self)?
            .into_iter()
            .map(v0_2_outline)
            .collect())
    }

    fn label(&mut self, number: u32) -> wasmtime::Result<Option<String>> {
        retry_context::Host::label(self, number)
    }

    fn attempt(&mut self, number: u32) -> wasmtime::Result<Option<wit::LabelledAttempt>> {
        retry_context::Host::attempt(self, number)
    }

    fn get_contact(&mut self) -> wasmtime::Result<wit::Contact> {
        retry_context::Host::get_contact(self)
    }
}

/// An outline in 0.2.0's records, which are 0.4.0's field for field.
fn v0_2_outline(outline: wit::AttemptOutline) -> v0_2::retry_context::AttemptOutline {
    v0_2::retry_context::AttemptOutline {
        number: outline.number,
        started_at: outline.started_at,
        answered_at: outline.answered_at,
        ended_at: outline.ended_at,
        outcome: outline.outcome,
        sip_code: outline.sip_code,
        talk_ms: outline.talk_ms,
        ring_ms: outline.ring_ms,
        machine_detection: outline.machine_detection,
        cost_micros: outline.cost_micros,
        disposition: outline.disposition.map(|disposition| {
            v0_2::retry_context::DispositionOutline {
                terminal: disposition.terminal,
                score: disposition.score,
                sentiment: disposition.sentiment,
                follow_up_at: disposition.follow_up_at,
            }
        }),
    }
}

impl Sandbox {
    fn classifying(&self) -> wasmtime::Result<&dyn ClassifyContext> {
        self.classifying.as_deref().ok_or_else(|| {
            wasmtime::format_err!("the plugin read its classify context outside `classify`")
        })
    }
}

impl classify_context::Host for Sandbox {
    fn transcript(&mut self) -> wasmtime::Result<Option<String>> {
        Ok(self.classifying()?.transcript().map(str::to_string))
    }

    fn transcript_chunk(&mut self, offset: u32, max_bytes: u32) -> wasmtime::Result<String> {
        let transcript = self.classifying()?.transcript().unwrap_or("");
        Ok(transcript_chunk(transcript, offset, max_bytes).to_string())
    }

    fn metadata_value(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.classifying()?.metadata_value(&key).map(str::to_string))
    }

    fn ended_attempt(&mut self) -> wasmtime::Result<wit::Attempt> {
        Ok(self.classifying()?.ended_attempt())
    }

    fn earlier_outline(&mut self, number: u32) -> wasmtime::Result<Option<wit::AttemptOutline>> {
        Ok(self.classifying()?.earlier_outline(number))
    }

    fn earlier_outlines(&mut self) -> wasmtime::Result<Vec<wit::AttemptOutline>> {
        let context = self.classifying()?;
        Ok((1..=context.earlier_count() as u32)
            .filter_map(|number| context.earlier_outline(number))
            .collect())
    }

    fn earlier_label(&mut self, number: u32) -> wasmtime::Result<Option<String>> {
        Ok(self.classifying()?.earlier_label(number))
    }

    fn earlier_attempt(&mut self, number: u32) -> wasmtime::Result<Option<wit::LabelledAttempt>> {
        Ok(self.classifying()?.earlier_attempt(number))
    }

    fn get_contact(&mut self) -> wasmtime::Result<wit::Contact> {
        Ok(self.classifying()?.contact())
    }
}

/// 0.3.0's classify context: the same answers; its records are 0.4.0's.
impl v0_3::classify_context::Host for Sandbox {
    fn transcript(&mut self) -> wasmtime::Result<Option<String>> {
        classify_context::Host::transcript(self)
    }

    fn transcript_chunk(&mut self, offset: u32, max_bytes: u32) -> wasmtime::Result<String> {
        classify_context::Host::transcript_chunk(self, offset, max_bytes)
    }

    fn metadata_value(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        classify_context::Host::metadata_value(self, key)
    }

    fn ended_attempt(&mut self) -> wasmtime::Result<wit::Attempt> {
        classify_context::Host::ended_attempt(self)
    }

    fn earlier_outline(&mut self, number: u32) -> wasmtime::Result<Option<wit::AttemptOutline>> {
        classify_context::Host::earlier_outline(self, number)
    }

    fn earlier_outlines(&mut self) -> wasmtime::Result<Vec<wit::AttemptOutline>> {
        classify_context::Host::earlier_outlines(self)
    }

    fn earlier_label(&mut self, number: u32) -> wasmtime::Result<Option<String>> {
        classify_context::Host::earlier_label(self, number)
    }

    fn earlier_attempt(&mut self, number: u32) -> wasmtime::Result<Option<wit::LabelledAttempt>> {
        classify_context::Host::earlier_attempt(self, number)
    }

    fn get_contact(&mut self) -> wasmtime::Result<wit::Contact> {
        classify_context::Host::get_contact(self)
    }
}

/// At most `max_bytes` of `text` from byte `offset`, on character
/// boundaries: an offset inside a character moves to the next one, the end
/// moves back to the last whole character, and a character longer than
/// `max_bytes` comes whole, so chunks read end to end never stall.
fn transcript_chunk(text: &str, offset: u32, max_bytes: u32) -> &str {
    let mut start = (offset as usize).min(text.len());
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let rest = &text[start..];
    let mut end = (max_bytes as usize).min(rest.len());
    while !rest.is_char_boundary(end) {
        end -= 1;
    }
    if end == 0 {
        end = rest.chars().next().map_or(0, char::len_utf8);
    }
    &rest[..end]
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

    fn classify_input_with_one_earlier_attempt() -> ClassifyInput {
        let earlier = input_with_one_attempt().history.remove(0);
        let mut ended = earlier.attempt.clone();
        ended.id = "attempt-2".to_string();
        ended.number = 2;
        ended.outcome = wit::CallOutcome::Answered;
        ended.transcript = Some("Hola, ¿quién habla?".to_string());
        ended.metadata = vec![
            ("ended_reason".to_string(), "hangup".to_string()),
            ("ended_reason".to_string(), "second".to_string()),
        ];
        ClassifyInput {
            contact: input_with_one_attempt().contact,
            attempt: ended,
            earlier: vec![earlier.attempt],
            earlier_dispositions: vec![earlier.disposition],
        }
    }

    #[test]
    fn the_classify_context_answers_only_while_a_classification_is_in_progress() {
        use classify_context::Host;
        let mut sandbox = Sandbox::new("plugin".into(), 1 << 20);
        let outside = sandbox
            .transcript()
            .expect_err("no classification in progress");
        assert!(
            outside.to_string().contains("outside `classify`"),
            "{outside}"
        );

        let input = Arc::new(classify_input_with_one_earlier_attempt());
        sandbox.classifying = Some(input.clone());
        assert_eq!(sandbox.get_contact().unwrap().id, "contact-1");
        assert_eq!(
            sandbox.transcript().unwrap().as_deref(),
            Some("Hola, ¿quién habla?")
        );
        assert_eq!(
            sandbox
                .metadata_value("ended_reason".to_string())
                .unwrap()
                .as_deref(),
            Some("hangup"),
            "the first of several values under one key"
        );
        assert_eq!(sandbox.metadata_value("summary".to_string()).unwrap(), None);
        assert_eq!(sandbox.ended_attempt().unwrap(), input.attempt);
        let outline = sandbox
            .earlier_outline(1)
            .unwrap()
            .expect("attempt 1 is earlier");
        assert_eq!(outline.sip_code, Some(480));
        assert!(!outline.disposition.expect("classified").terminal);
        assert_eq!(sandbox.earlier_outlines().unwrap(), [outline]);
        assert_eq!(
            sandbox.earlier_label(1).unwrap().as_deref(),
            Some("no_answer")
        );
        let earlier = sandbox.earlier_attempt(1).unwrap().expect("attempt 1");
        assert_eq!(earlier.attempt.id, "attempt-1");
        for missing in [0, 2] {
            assert_eq!(sandbox.earlier_outline(missing).unwrap(), None, "{missing}");
            assert_eq!(sandbox.earlier_label(missing).unwrap(), None, "{missing}");
            assert!(
                sandbox.earlier_attempt(missing).unwrap().is_none(),
                "{missing}"
            );
        }
        let handed = input.handed();
        assert_eq!(handed.number, 2);
        assert_eq!(
            handed.transcript_bytes,
            Some("Hola, ¿quién habla?".len() as u32)
        );
        assert_eq!(handed.earlier_attempts, 1);
    }

    #[test]
    fn transcript_chunks_read_end_to_end_give_back_every_character_once() {
        let text = "a¿é😀b";
        for max_bytes in 1..=8 {
            let mut offset = 0u32;
            let mut read = String::new();
            loop {
                let chunk = transcript_chunk(text, offset, max_bytes);
                if chunk.is_empty() {
                    break;
                }
                assert!(
                    chunk.len()
                        <= (max_bytes as usize).max(chunk.chars().next().unwrap().len_utf8()),
                    "{chunk:?} at most {max_bytes} bytes or one character"
                );
                offset += chunk.len() as u32;
                read.push_str(chunk);
            }
            assert_eq!(read, text, "max {max_bytes} bytes");
        }
        assert_eq!(
            transcript_chunk(text, 2, 4),
            "é",
            "an offset inside ¿ starts at é"
        );
        assert_eq!(transcript_chunk(text, 99, 4), "");
        assert_eq!(transcript_chunk(text, 0, 0), "a", "a character comes whole");
    }
}
