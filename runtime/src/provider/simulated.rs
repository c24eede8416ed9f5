//! The simulated provider: places no real calls, but plays out a realistic,
//! reproducible script for each one. It is the default for `outdial demo`,
//! the engine's tests and the benchmarks.
//!
//! Every call's script (latency, ring, answer, talk, outcome, answering-
//! machine result, transcript, cost) derives from the configured seed and
//! the attempt id alone, so a run is reproducible whatever order calls are
//! placed in. Events wait in a min-heap keyed by clock time until
//! [`Provider::drain_events`] collects them.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use super::{
    BoxFuture, CallEnd, CallEventKind, PlaceCall, Placement, PlacementQuery, Provider,
    ProviderEvent, ProviderFailure, StatusQuery,
};
pub use crate::config::simulation::{OutcomeMix, SimulationConfig, SimulationConfigError, Span};
use crate::model::{CallOutcome, MachineDetection, Millis};
use crate::text_key::{TextKey, TextKeys};

/// What kind of party (or failure) a simulated call meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptedOutcome {
    Human,
    Voicemail,
    CallScreening,
    Busy,
    NoAnswer,
    Failed,
}

/// What the person in a human-answered call wants: the ground truth behind
/// the transcript, for testing classifiers. Never sent with events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    Interested,
    NotInterested,
    Callback,
    DoNotCall,
    WrongNumber,
    Neutral,
}

/// Everything that will happen to one call, fixed by the seed and the
/// attempt id. Durations are simulated time.
#[derive(Debug, Clone, PartialEq)]
pub struct CallScript {
    pub outcome: ScriptedOutcome,
    pub latency_ms: u64,
    /// Ringing before the answer, or before giving up when unanswered.
    pub ring_ms: u64,
    /// Time from answer to hang-up; 0 when unanswered.
    pub talk_ms: u64,
    pub sip_code: u16,
    pub machine_detection: MachineDetection,
    pub transcript: Option<&'static str>,
    /// Set for human answers.
    pub intent: Option<Intent>,
    pub cost_micros: u64,
    /// The final event is never delivered, only reported by `poll_status`.
    pub final_event_lost: bool,
}

impl CallScript {
    fn call_outcome(&self) -> CallOutcome {
        match self.outcome {
            ScriptedOutcome::Human
            | ScriptedOutcome::Voicemail
            | ScriptedOutcome::CallScreening => CallOutcome::Answered,
            ScriptedOutcome::Busy => CallOutcome::Busy,
            ScriptedOutcome::NoAnswer => CallOutcome::NoAnswer,
            ScriptedOutcome::Failed => CallOutcome::Failed,
        }
    }

    fn ended_reason(&self) -> &'static str {
        match self.outcome {
            ScriptedOutcome::Human => "customer-ended-call",
            ScriptedOutcome::Voicemail => "voicemail",
            ScriptedOutcome::CallScreening => "call-screening",
            ScriptedOutcome::Busy => "busy",
            ScriptedOutcome::NoAnswer => "no-answer",
            ScriptedOutcome::Failed => "failed",
        }
    }

    fn end(&self) -> CallEnd {
        CallEnd {
            outcome: self.call_outcome(),
            sip_code: Some(self.sip_code),
            talk_ms: self.talk_ms,
            ring_ms: self.ring_ms,
            machine_detection: self.machine_detection,
            transcript: self.transcript.map(str::to_string),
            cost_micros: Some(self.cost_micros),
            metadata: vec![("ended_reason".to_string(), self.ended_reason().to_string())],
        }
    }
}

/// The simulated provider. Cheap to share behind an `Arc`; all state sits
/// behind one mutex.
#[derive(Debug)]
pub struct SimulatedProvider {
    config: SimulationConfig,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Remembers attempt ids by key, not by string.
    call_keys: TextKeys,
    /// When each call placed by this process was placed. A B-tree rather
    /// than a hash map: it grows by a node at a time, never by doubling a
    /// table, and the simulator remembers every call it ever placed.
    calls: BTreeMap<TextKey, Millis>,
    /// With a `call_memory_ms`, the calls of `calls` in placement order,
    /// to forget them by.
    placements: VecDeque<(Millis, TextKey)>,
    /// Attempt ids placed by earlier processes (from the call log), with
    /// how often and when first.
    prior: HashMap<TextKey, PriorCall>,
    /// Attempt ids a placement query answered as never placed: refused if
    /// a placement under one ever arrives.
    spent: HashSet<TextKey>,
    /// Refused placement tries per attempt id, so a retried placement
    /// draws fresh luck.
    refusals: HashMap<String, u32>,
    events: BinaryHeap<Reverse<Scheduled>>,
    next_seq: u64,
    placed: u64,
    live: u64,
    max_live: u64,
    /// The latest time seen, for `poll_status`, which is given none.
    latest_now: Millis,
    /// Clock second and placements in it, for `max_calls_per_second`.
    rate_second: Millis,
    rate_count: u32,
    log: Option<File>,
}

impl State {
    /// Forgets the calls placed before `cutoff`.
    fn forget_calls_before(&mut self, cutoff: Millis) {
        while let Some(&(placed_at, key)) = self.placements.front() {
            if placed_at >= cutoff {
                break;
            }
            self.placements.pop_front();
            // Forgotten once and placed again since: the newer placement stays.
            if self.calls.get(&key) == Some(&placed_at) {
                self.calls.remove(&key);
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct PriorCall {
    count: u32,
    placed_at: Option<Millis>,
}

#[derive(Debug)]
struct Scheduled {
    at: Millis,
    seq: u64,
    event: ProviderEvent,
    /// A final event that is due but must not be delivered.
    lost: bool,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        // Insertion order breaks ties, so one call's events stay in order
        // even when they share a time (instant mode).
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl Default for SimulatedProvider {
    fn default() -> Self {
        SimulatedProvider::new(SimulationConfig::default())
    }
}

impl SimulatedProvider {
    /// A simulator playing out `config`. Settings out of range are clamped
    /// to the nearest usable value; use [`SimulatedProvider::try_new`] to
    /// have them refused instead.
    pub fn new(mut config: SimulationConfig) -> Self {
        for share in [
            &mut config.transient_failure_rate,
            &mut config.throttle_rate,
            &mut config.lost_final_event_rate,
        ] {
            *share = if share.is_nan() {
                0.0
            } else {
                share.clamp(0.0, 1.0)
            };
        }
        if !(config.time_scale.is_finite() && config.time_scale > 0.0) {
            config.time_scale = 1.0;
        }
        for span in [
            &mut config.ring_seconds,
            &mut config.no_answer_ring_seconds,
            &mut config.talk_seconds,
            &mut config.voicemail_seconds,
            &mut config.screening_seconds,
            &mut config.placement_latency_ms,
        ] {
            span.max = span.max.max(span.min);
        }
        if config.outcomes.total() == 0 {
            config.outcomes = OutcomeMix::default();
        }
        if config.failure_sip_codes.is_empty() {
            config.failure_sip_codes = vec![503];
        }
        if config.max_calls_per_second == Some(0) {
            config.max_calls_per_second = None;
        }
        SimulatedProvider {
            config,
            state: Mutex::new(State::default()),
        }
    }

    /// A simulator playing out `config`, once it validates.
    pub fn try_new(config: SimulationConfig) -> Result<Self, SimulationConfigError> {
        config.validate()?;
        Ok(SimulatedProvider::new(config))
    }

    /// Append every placed attempt id to the file at `path`, and count the
    /// ids already in it as placed by an earlier process.
    ///
    /// An earlier process's calls cannot be resumed, only reported by
    /// `poll_status`: asking again for one of its attempt ids places a new
    /// call, and [`calls_placed_for`](Self::calls_placed_for) counts two.
    /// That is what crash tests check never happens.
    pub fn with_call_log(self, path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let prior = read_call_log(path)?;
        let log = OpenOptions::new().create(true).append(true).open(path)?;
        let mut state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        state.prior = prior
            .into_iter()
            .map(|(attempt_id, prior)| (state.call_keys.key(&attempt_id), prior))
            .collect();
        state.log = Some(log);
        Ok(SimulatedProvider {
            config: self.config,
            state: Mutex::new(state),
        })
    }

    /// The settings in effect, after clamping.
    pub fn config(&self) -> &SimulationConfig {
        &self.config
    }

    /// Calls placed by this process.
    pub fn calls_placed(&self) -> u64 {
        self.state().placed
    }

    /// How many calls were placed for `attempt_id`, including by earlier
    /// processes sharing the call log. Never more than 1 when the engine
    /// behaves.
    pub fn calls_placed_for(&self, attempt_id: &str) -> u32 {
        let state = self.state();
        let key = state.call_keys.key(attempt_id);
        let prior = state.prior.get(&key).map_or(0, |p| p.count);
        prior + u32::from(state.calls.contains_key(&key))
    }

    /// Calls placed whose end has not yet been drained.
    pub fn live_calls(&self) -> u64 {
        self.state().live
    }

    /// The most calls that were live at once.
    pub fn max_live_seen(&self) -> u64 {
        self.state().max_live
    }

    /// Events scheduled and not yet drained.
    pub fn pending_events(&self) -> usize {
        self.state().events.len()
    }

    /// The provider call id the simulator gives `attempt_id`'s call.
    pub fn provider_call_id(&self, attempt_id: &str) -> String {
        format!(
            "sim-{:016x}",
            mix(self.config.seed ^ 0x9e6c_63d0_676a_9a99, attempt_id)
        )
    }

    /// The script `attempt_id`'s call plays out, whether or not it is placed.
    pub fn script(&self, attempt_id: &str) -> CallScript {
        let c = &self.config;
        let mut rng = SplitMix64::new(mix(c.seed, attempt_id));
        // Every value is drawn every time, in a fixed order, so changing
        // one setting does not reshuffle the others.
        let outcome_draw = rng.below(c.outcomes.total());
        let latency_ms = rng.within(c.placement_latency_ms);
        let answered_ring = rng.within(c.ring_seconds) * 1_000;
        let unanswered_ring = rng.within(c.no_answer_ring_seconds) * 1_000;
        let talk = rng.within(c.talk_seconds) * 1_000;
        let voicemail = rng.within(c.voicemail_seconds) * 1_000;
        let screening = rng.within(c.screening_seconds) * 1_000;
        let failure_code = c
            .failure_sip_codes
            .get(rng.below(c.failure_sip_codes.len() as u64) as usize)
            .copied()
            .unwrap_or(503);
        let human_line = &HUMAN_TRANSCRIPTS[rng.below(HUMAN_TRANSCRIPTS.len() as u64) as usize];
        let voicemail_line =
            VOICEMAIL_GREETINGS[rng.below(VOICEMAIL_GREETINGS.len() as u64) as usize];
        let screening_line = SCREENING_PROMPTS[rng.below(SCREENING_PROMPTS.len() as u64) as usize];
        let final_event_lost = rng.chance(c.lost_final_event_rate);
        // Sub-second jitter keeps simultaneous placements from ending in
        // lockstep.
        let jitter = rng.below(1_000);

        let outcome = pick_outcome(&c.outcomes, outcome_draw);
        let transcript = |line: &'static str| c.transcripts.then_some(line);
        let (ring_ms, talk_ms, sip_code, machine_detection, transcript, intent) = match outcome {
            ScriptedOutcome::Human => (
                answered_ring,
                talk + jitter,
                200,
                MachineDetection::Human,
                transcript(human_line.1),
                Some(human_line.0),
            ),
            ScriptedOutcome::Voicemail => (
                answered_ring,
                voicemail + jitter,
                200,
                MachineDetection::Machine,
                transcript(voicemail_line),
                None,
            ),
            ScriptedOutcome::CallScreening => (
                answered_ring,
                screening + jitter,
                200,
                MachineDetection::CallScreening,
                transcript(screening_line),
                None,
            ),
            ScriptedOutcome::Busy => (0, 0, 486, MachineDetection::NotRun, None, None),
            ScriptedOutcome::NoAnswer => (
                unanswered_ring + jitter,
                0,
                480,
                MachineDetection::NotRun,
                None,
                None,
            ),
            ScriptedOutcome::Failed => (0, 0, failure_code, MachineDetection::NotRun, None, None),
        };
        let billed_seconds = talk_ms.div_ceil(1_000);
        let cost_micros =
            (u128::from(billed_seconds) * u128::from(c.cost_per_minute_micros)).div_ceil(60) as u64;
        CallScript {
            outcome,
            latency_ms,
            ring_ms,
            talk_ms,
            sip_code,
            machine_detection,
            transcript,
            intent,
            cost_micros,
            final_event_lost,
        }
    }

    /// Place `call` at `now` without going through a future: the body of
    /// [`Provider::place_call`], usable from benchmarks and sync tests.
    pub fn place(&self, call: &PlaceCall, now: Millis) -> Result<String, ProviderFailure> {
        let mut state = self.state();
        state.latest_now = state.latest_now.max(now);
        let key = state.call_keys.key(&call.attempt_id);
        if state.calls.contains_key(&key) {
            return Ok(self.provider_call_id(&call.attempt_id));
        }
        if state.spent.contains(&key) {
            return Err(ProviderFailure::Permanent(format!(
                "attempt \"{}\" was reported as never placed and cannot be placed now",
                call.attempt_id
            )));
        }
        if self.config.reject_malformed_numbers && !is_e164(&call.to) {
            return Err(ProviderFailure::InvalidNumber(format!(
                "\"{}\" is not an E.164 number",
                call.to
            )));
        }
        if let Some(prefix) = self
            .config
            .invalid_number_prefixes
            .iter()
            .find(|prefix| call.to.starts_with(prefix.as_str()))
        {
            return Err(ProviderFailure::InvalidNumber(format!(
                "\"{}\" is in the unallocated range \"{prefix}\"",
                call.to
            )));
        }
        if let Some(limit) = self.config.max_calls_per_second {
            let second = now.div_euclid(1_000);
            if second != state.rate_second {
                state.rate_second = second;
                state.rate_count = 0;
            }
            if state.rate_count >= limit {
                let retry_after_ms = ((second + 1) * 1_000 - now).max(1) as u64;
                return Err(ProviderFailure::Throttled { retry_after_ms });
            }
        }
        if self.config.throttle_rate > 0.0 || self.config.transient_failure_rate > 0.0 {
            let tries = state.refusals.get(&call.attempt_id).copied().unwrap_or(0);
            let mut luck = SplitMix64::new(
                mix(self.config.seed ^ 0x5851_f42d_4c95_7f2d, &call.attempt_id)
                    ^ u64::from(tries).wrapping_mul(0xd1b5_4a32_d192_ed03),
            );
            let refusal = if luck.chance(self.config.throttle_rate) {
                Some(ProviderFailure::Throttled {
                    retry_after_ms: self.config.throttle_retry_after_ms,
                })
            } else if luck.chance(self.config.transient_failure_rate) {
                Some(ProviderFailure::Transient(
                    "simulated network error, try again".to_string(),
                ))
            } else {
                None
            };
            if let Some(refusal) = refusal {
                *state.refusals.entry(call.attempt_id.clone()).or_insert(0) += 1;
                return Err(refusal);
            }
        }

        // Durable before the call "exists": a crash after this line still
        // leaves the placement on record.
        if let Some(log) = state.log.as_mut() {
            let line = format!("{now}\t{}\n", call.attempt_id);
            log.write_all(line.as_bytes()).map_err(|err| {
                ProviderFailure::Transient(format!("simulator call log unwritable: {err}"))
            })?;
        }
        if self.config.max_calls_per_second.is_some() {
            state.rate_count += 1;
        }
        let call_id = self.provider_call_id(&call.attempt_id);
        let script = self.script(&call.attempt_id);
        for (at, kind) in self.timeline(&script, now) {
            let lost = script.final_event_lost && matches!(kind, CallEventKind::Ended(_));
            let seq = state.next_seq;
            state.next_seq += 1;
            state.events.push(Reverse(Scheduled {
                at,
                seq,
                event: ProviderEvent {
                    attempt_id: call.attempt_id.clone(),
                    provider_call_id: call_id.clone(),
                    at,
                    kind,
                },
                lost,
            }));
        }
        state.refusals.remove(&call.attempt_id);
        state.calls.insert(key, now);
        if let Some(memory) = self.config.call_memory_ms {
            state.placements.push_back((now, key));
            state.forget_calls_before(now.saturating_sub(memory as Millis));
        }
        state.placed += 1;
        state.live += 1;
        state.max_live = state.max_live.max(state.live);
        Ok(call_id)
    }

    /// Where a call stands at the latest time the simulator has seen: its
    /// latest event, `None` before it rang.
    pub fn status(
        &self,
        provider_call_id: &str,
        attempt_id: &str,
    ) -> Result<Option<ProviderEvent>, ProviderFailure> {
        let (placed_at, now) = {
            let state = self.state();
            let key = state.call_keys.key(attempt_id);
            let placed_at = state
                .calls
                .get(&key)
                .copied()
                .or_else(|| state.prior.get(&key).and_then(|p| p.placed_at));
            (placed_at, state.latest_now)
        };
        let known = placed_at.filter(|_| self.provider_call_id(attempt_id) == provider_call_id);
        let Some(placed_at) = known else {
            return Err(ProviderFailure::Permanent(format!(
                "no call \"{provider_call_id}\" for attempt \"{attempt_id}\""
            )));
        };
        let script = self.script(attempt_id);
        let latest = self
            .timeline(&script, placed_at)
            .into_iter()
            .take_while(|(at, _)| *at <= now)
            .last();
        Ok(latest.map(|(at, kind)| ProviderEvent {
            attempt_id: attempt_id.to_string(),
            provider_call_id: provider_call_id.to_string(),
            at,
            kind,
        }))
    }

    /// Whether a call was placed for `intent`'s attempt id, by this process
    /// or, through the call log, an earlier one. An attempt id it never
    /// placed is spent: a later placement under it is refused. With a
    /// `call_memory_ms`, an intent older than the memory cannot be told.
    pub fn placement(&self, intent: &PlacementQuery<'_>) -> Placement {
        let mut state = self.state();
        let key = state.call_keys.key(intent.attempt_id);
        if state.calls.contains_key(&key) || state.prior.contains_key(&key) {
            return Placement::Placed {
                provider_call_id: self.provider_call_id(intent.attempt_id),
            };
        }
        if let Some(memory) = self.config.call_memory_ms
            && intent.intent_at < state.latest_now.saturating_sub(memory as Millis)
        {
            return Placement::Unknown;
        }
        state.spent.insert(key);
        Placement::NeverPlaced
    }

    /// The events of a call placed at `placed_at`, with their clock times.
    fn timeline(&self, script: &CallScript, placed_at: Millis) -> Vec<(Millis, CallEventKind)> {
        // Offsets are scaled from the start of the call, not step by step,
        // so rounding does not add up.
        let at = |simulated_ms: u64| placed_at.saturating_add(self.to_clock(simulated_ms));
        let rang = script.latency_ms;
        let answered = rang + script.ring_ms;
        let ended = answered + script.talk_ms;
        let end = CallEventKind::Ended(script.end());
        match script.outcome {
            ScriptedOutcome::Human
            | ScriptedOutcome::Voicemail
            | ScriptedOutcome::CallScreening => {
                vec![
                    (at(rang), CallEventKind::Ringing),
                    (at(answered), CallEventKind::Answered),
                    (at(ended), end),
                ]
            }
            ScriptedOutcome::NoAnswer => vec![(at(rang), CallEventKind::Ringing), (at(ended), end)],
            ScriptedOutcome::Busy | ScriptedOutcome::Failed => vec![(at(rang), end)],
        }
    }

    fn to_clock(&self, simulated_ms: u64) -> Millis {
        if self.config.instant {
            return 0;
        }
        (simulated_ms as f64 / self.config.time_scale).round() as Millis
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent between statements, so a panic
        // elsewhere while holding the lock does not corrupt it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Provider for SimulatedProvider {
    fn name(&self) -> &str {
        "simulated"
    }

    fn place_call(
        &self,
        call: PlaceCall,
        now: Millis,
    ) -> BoxFuture<'_, Result<String, ProviderFailure>> {
        let result = self.place(&call, now);
        Box::pin(std::future::ready(result))
    }

    fn drain_events(&self, now: Millis) -> Vec<ProviderEvent> {
        let mut state = self.state();
        state.latest_now = state.latest_now.max(now);
        let mut due = Vec::new();
        while state.events.peek().is_some_and(|next| next.0.at <= now) {
            let Some(Reverse(scheduled)) = state.events.pop() else {
                break;
            };
            if matches!(scheduled.event.kind, CallEventKind::Ended(_)) {
                state.live = state.live.saturating_sub(1);
            }
            if !scheduled.lost {
                due.push(scheduled.event);
            }
        }
        due
    }

    fn poll_status(
        &self,
        call: &StatusQuery<'_>,
    ) -> Option<BoxFuture<'_, Result<Option<ProviderEvent>, ProviderFailure>>> {
        Some(Box::pin(std::future::ready(
            self.status(call.provider_call_id, call.attempt_id),
        )))
    }

    fn find_placement(
        &self,
        intent: &PlacementQuery<'_>,
    ) -> Option<BoxFuture<'_, Result<Placement, ProviderFailure>>> {
        Some(Box::pin(std::future::ready(Ok(self.placement(intent)))))
    }
}

fn read_call_log(path: &Path) -> io::Result<HashMap<String, PriorCall>> {
    let mut prior: HashMap<String, PriorCall> = HashMap::new();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(prior),
        Err(err) => return Err(err),
    };
    for line in BufReader::new(file).lines() {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        // "<placed_at>\t<attempt id>"; a bare id is accepted too.
        let (placed_at, id) = match line.split_once('\t') {
            Some((at, id)) => (at.parse::<Millis>().ok(), id),
            None => (None, line.as_str()),
        };
        let entry = prior.entry(id.to_string()).or_insert(PriorCall {
            count: 0,
            placed_at,
        });
        entry.count += 1;
        entry.placed_at = entry.placed_at.or(placed_at);
    }
    Ok(prior)
}

/// How often each attempt id in the call log at `path` was placed, over
/// every process that shared the log; empty when there is no log yet.
pub fn placements_in_call_log(path: &Path) -> io::Result<HashMap<String, u32>> {
    Ok(read_call_log(path)?
        .into_iter()
        .map(|(attempt_id, prior)| (attempt_id, prior.count))
        .collect())
}

/// The default path of a call log beside other state in `dir`.
pub fn call_log_path(dir: impl AsRef<Path>) -> PathBuf {
    dir.as_ref().join("simulated-calls.log")
}

fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

fn pick_outcome(mix: &OutcomeMix, mut draw: u64) -> ScriptedOutcome {
    for (weight, outcome) in [
        (mix.human, ScriptedOutcome::Human),
        (mix.voicemail, ScriptedOutcome::Voicemail),
        (mix.call_screening, ScriptedOutcome::CallScreening),
        (mix.busy, ScriptedOutcome::Busy),
        (mix.no_answer, ScriptedOutcome::NoAnswer),
    ] {
        let weight = u64::from(weight);
        if draw < weight {
            return outcome;
        }
        draw -= weight;
    }
    ScriptedOutcome::Failed
}

/// Hash of `seed` and `key`: FNV-1a over the key, finished with the
/// splitmix64 mixer so nearby ids land far apart.
fn mix(seed: u64, key: &str) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    SplitMix64::new(hash).next_u64()
}

/// splitmix64: tiny, fast and good enough for simulation draws.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; 0 when `n` is 0.
    fn below(&mut self, n: u64) -> u64 {
        let x = self.next_u64();
        if n == 0 {
            0
        } else {
            // Multiply-shift: unbiased enough and free of division.
            ((u128::from(x) * u128::from(n)) >> 64) as u64
        }
    }

    /// Uniform in `span.min..=span.max`.
    fn within(&mut self, span: Span) -> u64 {
        let width = span.max.saturating_sub(span.min).saturating_add(1);
        span.min + self.below(width)
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        unit < p
    }
}

macro_rules! said {
    ($intent:ident, $customer:literal) => {
        (
            Intent::$intent,
            concat!(
                "Agent: Hi, this is Sam calling from Northwind Energy about your account. Do you have a minute?\n",
                "Customer: ",
                $customer
            ),
        )
    };
}

/// Short conversations a person might have with the agent.
const HUMAN_TRANSCRIPTS: &[(Intent, &str)] = &[
    said!(
        Interested,
        "Sure. Actually I was just looking into switching. What would it cost me?\nAgent: Most homes save around fifteen percent. Can I book a free assessment?\nCustomer: Yes please, Thursday afternoon works."
    ),
    said!(Interested, "Yes, that sounds great. Sign me up."),
    said!(
        Interested,
        "I'm interested. Can you email me the details and the contract?"
    ),
    said!(
        Interested,
        "Okay, let's schedule the appointment for Monday at ten."
    ),
    said!(
        Interested,
        "I was going to renew anyway, so yes, go ahead and renew it."
    ),
    said!(Interested, "Sounds good to me. What's the next step?"),
    said!(
        Interested,
        "Absolutely, I'd like to hear more about the premium plan."
    ),
    said!(NotInterested, "No thanks, I'm not interested."),
    said!(
        NotInterested,
        "We already have a provider and we're happy with them."
    ),
    said!(NotInterested, "I don't have time for this. Goodbye."),
    said!(
        NotInterested,
        "Not right now, we're not looking to change anything."
    ),
    said!(NotInterested, "It's too expensive for us. No."),
    said!(NotInterested, "I'm going to pass, but thank you."),
    said!(NotInterested, "No, we don't need that."),
    said!(
        Callback,
        "I'm driving right now, can you call me back tomorrow?"
    ),
    said!(Callback, "This isn't a good time. Call me back next week."),
    said!(Callback, "I'm at work. Try me again after 5 pm."),
    said!(Callback, "Can you call back in an hour? I'm in a meeting."),
    said!(
        Callback,
        "Call me back tomorrow morning, I'll have my paperwork then."
    ),
    said!(
        Callback,
        "My husband handles the bills, call back this evening when he's home."
    ),
    said!(
        DoNotCall,
        "Take me off your list and don't call this number again."
    ),
    said!(
        DoNotCall,
        "Please stop calling me. Put me on your do not call list."
    ),
    said!(
        DoNotCall,
        "How did you get this number? Remove me from your list."
    ),
    said!(DoNotCall, "Do not call me again or I will report you."),
    said!(DoNotCall, "Unsubscribe me. No more calls."),
    said!(
        WrongNumber,
        "There's no Maria here, you have the wrong number."
    ),
    said!(WrongNumber, "Wrong number, sorry. This is a dental office."),
    said!(
        WrongNumber,
        "I think you have the wrong person, I only got this number last month."
    ),
    said!(WrongNumber, "He doesn't live here anymore."),
    said!(WrongNumber, "Who? Never heard of them. Wrong number."),
    said!(
        Neutral,
        "Hello? Sorry, what is this about?\nAgent: Your energy plan.\nCustomer: Okay. Okay. Bye."
    ),
    said!(Neutral, "Maybe. I'll have to think about it."),
    said!(Neutral, "Can you just send something in the mail?"),
    said!(Neutral, "I'm not sure. What company did you say this was?"),
    said!(Neutral, "Hmm, I don't know. Let me talk to my wife first."),
    said!(Neutral, "Okay, thanks for the information."),
];

/// What a voicemail box says before the beep.
const VOICEMAIL_GREETINGS: &[&str] = &[
    "Hi, you've reached Alex. I can't take your call right now, please leave a message after the tone.",
    "The person you are calling is not available. Please leave a message after the beep.",
    "You have reached the voicemail box of 555 0142. Record your message after the tone.",
    "Hey, it's Jamie! Leave a message and I'll get back to you.",
];

/// What a call-screening assistant asks the caller.
const SCREENING_PROMPTS: &[&str] = &[
    "Hi, the person you're calling is using a screening service. Go ahead and say your name and why you're calling.",
    "Please state your name and the reason for your call, and I'll see if this person is available.",
    "This call is being screened. Who is calling, and what is this about?",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn call(attempt_id: &str) -> PlaceCall {
        PlaceCall {
            attempt_id: attempt_id.to_string(),
            campaign_id: "spring".to_string(),
            batch_id: "batch-1".to_string(),
            contact_id: format!("contact-{attempt_id}"),
            to: "+14155550100".to_string(),
            from: "+12125550199".to_string(),
            parameters: Vec::new(),
        }
    }

    /// Drain until nothing is pending, jumping virtual time forward.
    fn drain_all(sim: &SimulatedProvider, from: Millis) -> Vec<ProviderEvent> {
        let mut events = Vec::new();
        let mut now = from;
        while sim.pending_events() > 0 {
            now += 1_000;
            events.extend(sim.drain_events(now));
        }
        events
    }

    fn block_on<T>(future: BoxFuture<'_, T>) -> T {
        use std::task::{Context, Poll, Waker};
        let mut future = future;
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(value) => value,
            Poll::Pending => panic!("the simulated provider's futures are always ready"),
        }
    }

    #[test]
    fn the_same_seed_and_attempt_id_always_give_the_same_script() {
        let a = SimulatedProvider::new(SimulationConfig {
            seed: 7,
            ..Default::default()
        });
        let b = SimulatedProvider::new(SimulationConfig {
            seed: 7,
            ..Default::default()
        });
        for i in 0..200 {
            let id = format!("attempt-{i}");
            assert_eq!(a.script(&id), b.script(&id));
            assert_eq!(a.provider_call_id(&id), b.provider_call_id(&id));
        }
        let other_seed = SimulatedProvider::new(SimulationConfig {
            seed: 8,
            ..Default::default()
        });
        let differing = (0..200)
            .filter(|i| {
                let id = format!("attempt-{i}");
                a.script(&id) != other_seed.script(&id)
            })
            .count();
        assert!(
            differing > 150,
            "only {differing} scripts changed with the seed"
        );
    }

    #[test]
    fn events_do_not_depend_on_the_order_calls_are_placed_in() {
        let ids: Vec<String> = (0..50).map(|i| format!("a{i}")).collect();
        let forward = SimulatedProvider::default();
        let backward = SimulatedProvider::default();
        for id in &ids {
            forward.place(&call(id), 0).expect("placed");
        }
        for id in ids.iter().rev() {
            backward.place(&call(id), 0).expect("placed");
        }
        let mut f = drain_all(&forward, 0);
        let mut b = drain_all(&backward, 0);
        let key = |e: &ProviderEvent| (e.attempt_id.clone(), e.at);
        f.sort_by_key(key);
        b.sort_by_key(key);
        assert_eq!(f, b);
    }

    #[test]
    fn a_second_placement_of_an_attempt_returns_the_same_call_and_places_nothing() {
        let sim = SimulatedProvider::default();
        let first = sim.place(&call("a1"), 0).expect("placed");
        let second = sim.place(&call("a1"), 500).expect("placed again");
        assert_eq!(first, second);
        assert_eq!(sim.calls_placed(), 1);
        assert_eq!(sim.calls_placed_for("a1"), 1);
        assert_eq!(sim.calls_placed_for("a2"), 0);
        let ends = drain_all(&sim, 0)
            .into_iter()
            .filter(|e| matches!(e.kind, CallEventKind::Ended(_)))
            .count();
        assert_eq!(ends, 1);
    }

    #[test]
    fn a_call_is_known_for_its_memory_window_and_forgotten_after() {
        let sim = SimulatedProvider::new(SimulationConfig {
            call_memory_ms: Some(60_000),
            ..Default::default()
        });
        let first = sim.place(&call("a1"), 0).expect("placed");
        sim.place(&call("a2"), 30_000).expect("placed");
        // Within the window: the same call, nothing placed.
        assert_eq!(sim.place(&call("a1"), 59_000), Ok(first.clone()));
        assert_eq!(sim.calls_placed(), 2);
        assert!(sim.status(&first, "a1").is_ok());

        // A placement past a1's window forgets a1, not a2.
        sim.place(&call("a3"), 60_001).expect("placed");
        assert_eq!(sim.calls_placed_for("a1"), 0);
        assert_eq!(sim.calls_placed_for("a2"), 1);
        assert!(matches!(
            sim.status(&first, "a1"),
            Err(ProviderFailure::Permanent(_))
        ));
        // Placed again once forgotten, it is a new call.
        sim.place(&call("a1"), 61_000).expect("placed");
        assert_eq!(sim.calls_placed(), 4);
        assert_eq!(sim.calls_placed_for("a1"), 1);
    }

    #[test]
    fn place_call_returns_an_immediately_ready_future() {
        let sim = SimulatedProvider::default();
        let id = block_on(sim.place_call(call("a1"), 0)).expect("placed");
        assert_eq!(id, sim.provider_call_id("a1"));
    }

    #[test]
    fn each_call_reports_ringing_then_answered_then_ended_in_time_order() {
        let sim = SimulatedProvider::new(SimulationConfig {
            outcomes: OutcomeMix::EVERY_CALL_ANSWERED,
            ..Default::default()
        });
        sim.place(&call("a1"), 10_000).expect("placed");
        let script = sim.script("a1");
        let events = drain_all(&sim, 10_000);
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| match e.kind {
                CallEventKind::Ringing => "ringing",
                CallEventKind::Answered => "answered",
                CallEventKind::Ended(_) => "ended",
            })
            .collect();
        assert_eq!(kinds, ["ringing", "answered", "ended"]);
        assert_eq!(events[0].at, 10_000 + script.latency_ms as Millis);
        assert_eq!(
            events[2].at,
            10_000 + (script.latency_ms + script.ring_ms + script.talk_ms) as Millis
        );
        let CallEventKind::Ended(end) = &events[2].kind else {
            panic!("the last event ends the call");
        };
        assert_eq!(end.outcome, CallOutcome::Answered);
        assert_eq!(end.machine_detection, MachineDetection::Human);
        assert_eq!(end.sip_code, Some(200));
        assert!(
            end.transcript
                .as_deref()
                .is_some_and(|t| t.contains("Customer:"))
        );
        assert!((30_000..=121_000).contains(&end.talk_ms));
    }

    #[test]
    fn drain_returns_only_events_due_by_now_and_each_only_once() {
        let sim = SimulatedProvider::default();
        for i in 0..20 {
            sim.place(&call(&format!("a{i}")), 0).expect("placed");
        }
        let early = sim.drain_events(50);
        assert!(early.is_empty(), "no call rings within 50 ms");
        let mut seen = 0;
        let mut last_at = 0;
        for now in (0..400_000).step_by(250) {
            for event in sim.drain_events(now) {
                assert!(event.at <= now);
                assert!(event.at >= last_at, "events come out in time order");
                last_at = event.at;
                seen += 1;
            }
        }
        assert_eq!(sim.pending_events(), 0);
        assert!(sim.drain_events(1_000_000).is_empty());
        assert!(seen >= 20);
    }

    #[test]
    fn the_outcome_mix_roughly_follows_its_weights() {
        let sim = SimulatedProvider::default();
        let mut counts: HashMap<ScriptedOutcome, u32> = HashMap::new();
        for i in 0..10_000 {
            *counts
                .entry(sim.script(&format!("c{i}")).outcome)
                .or_default() += 1;
        }
        let share = |o| f64::from(counts.get(&o).copied().unwrap_or(0)) / 10_000.0;
        assert!((share(ScriptedOutcome::Human) - 0.45).abs() < 0.03);
        assert!((share(ScriptedOutcome::Voicemail) - 0.20).abs() < 0.03);
        assert!((share(ScriptedOutcome::NoAnswer) - 0.17).abs() < 0.03);
        assert!(share(ScriptedOutcome::Failed) > 0.02);
        assert!(share(ScriptedOutcome::CallScreening) > 0.02);
        assert!(share(ScriptedOutcome::Busy) > 0.04);
    }

    #[test]
    fn every_outcome_carries_a_fitting_sip_code_and_detection() {
        let sim = SimulatedProvider::default();
        let mut intents = HashSet::new();
        for i in 0..2_000 {
            let s = sim.script(&format!("s{i}"));
            match s.outcome {
                ScriptedOutcome::Human => {
                    assert_eq!(s.machine_detection, MachineDetection::Human);
                    intents.insert(s.intent.expect("a human answer has an intent"));
                    assert!(s.cost_micros > 0);
                }
                ScriptedOutcome::Voicemail => {
                    assert_eq!(s.machine_detection, MachineDetection::Machine)
                }
                ScriptedOutcome::CallScreening => {
                    assert_eq!(s.machine_detection, MachineDetection::CallScreening)
                }
                ScriptedOutcome::Busy => assert_eq!(s.sip_code, 486),
                ScriptedOutcome::NoAnswer => {
                    assert_eq!(s.sip_code, 480);
                    assert_eq!(s.talk_ms, 0);
                    assert_eq!(s.cost_micros, 0);
                }
                ScriptedOutcome::Failed => assert!([404, 480, 503].contains(&s.sip_code)),
            }
        }
        assert_eq!(intents.len(), 6, "every kind of conversation shows up");
    }

    #[test]
    fn cost_is_talk_time_billed_per_started_second() {
        let sim = SimulatedProvider::new(SimulationConfig {
            cost_per_minute_micros: 60_000,
            ..Default::default()
        });
        for i in 0..100 {
            let s = sim.script(&format!("k{i}"));
            assert_eq!(s.cost_micros, s.talk_ms.div_ceil(1_000) * 1_000);
        }
    }

    #[test]
    fn time_scale_shrinks_clock_time_but_not_reported_durations() {
        let real = SimulatedProvider::default();
        let fast = SimulatedProvider::new(SimulationConfig {
            time_scale: 100.0,
            ..Default::default()
        });
        for i in 0..20 {
            let id = format!("t{i}");
            real.place(&call(&id), 0).expect("placed");
            fast.place(&call(&id), 0).expect("placed");
        }
        let last_real = drain_all(&real, 0);
        let last_fast = drain_all(&fast, 0);
        let end_of = |events: &[ProviderEvent], id: &str| {
            events
                .iter()
                .find(|e| e.attempt_id == id && matches!(e.kind, CallEventKind::Ended(_)))
                .cloned()
                .expect("the call ended")
        };
        for i in 0..20 {
            let id = format!("t{i}");
            let (r, f) = (end_of(&last_real, &id), end_of(&last_fast, &id));
            assert!((r.at as f64 / 100.0 - f.at as f64).abs() <= 1.0);
            assert_eq!(r.kind, f.kind);
        }
    }

    #[test]
    fn instant_mode_delivers_every_event_at_the_placement_time() {
        let sim = SimulatedProvider::new(SimulationConfig {
            instant: true,
            ..Default::default()
        });
        sim.place(&call("i1"), 5_000).expect("placed");
        let events = sim.drain_events(5_000);
        assert!(matches!(
            events.last().map(|e| &e.kind),
            Some(CallEventKind::Ended(_))
        ));
        assert!(events.iter().all(|e| e.at == 5_000));
        assert_eq!(sim.live_calls(), 0);
    }

    #[test]
    fn instant_mode_handles_a_hundred_thousand_placements() {
        let sim = SimulatedProvider::new(SimulationConfig {
            instant: true,
            ..Default::default()
        });
        let mut ended = 0;
        for i in 0..100_000 {
            sim.place(&call(&format!("bulk-{i}")), i).expect("placed");
            if i % 100 == 99 {
                ended += sim
                    .drain_events(i)
                    .iter()
                    .filter(|e| matches!(e.kind, CallEventKind::Ended(_)))
                    .count();
            }
        }
        assert_eq!(ended, 100_000);
        assert_eq!(sim.calls_placed(), 100_000);
        assert_eq!(sim.max_live_seen(), 100);
    }

    #[test]
    fn live_calls_count_placed_calls_until_their_end_is_drained() {
        let sim = SimulatedProvider::default();
        for i in 0..5 {
            sim.place(&call(&format!("l{i}")), 0).expect("placed");
        }
        assert_eq!(sim.live_calls(), 5);
        assert_eq!(sim.max_live_seen(), 5);
        drain_all(&sim, 0);
        assert_eq!(sim.live_calls(), 0);
        assert_eq!(sim.max_live_seen(), 5);
    }

    #[test]
    fn numbers_in_an_invalid_prefix_or_malformed_are_refused() {
        let sim = SimulatedProvider::new(SimulationConfig {
            invalid_number_prefixes: vec!["+1555".to_string()],
            ..Default::default()
        });
        let mut bad = call("n1");
        bad.to = "+15551234567".to_string();
        assert!(matches!(
            sim.place(&bad, 0),
            Err(ProviderFailure::InvalidNumber(msg)) if msg.contains("\"+15551234567\"")
        ));
        bad.to = "555-1234".to_string();
        assert_eq!(
            sim.place(&bad, 0),
            Err(ProviderFailure::InvalidNumber(
                "\"555-1234\" is not an E.164 number".to_string()
            ))
        );
        assert_eq!(sim.calls_placed(), 0);
        assert_eq!(sim.calls_placed_for("n1"), 0);
    }

    #[test]
    fn injected_transient_failures_and_throttles_come_at_their_rates() {
        let sim = SimulatedProvider::new(SimulationConfig {
            transient_failure_rate: 0.1,
            throttle_rate: 0.05,
            throttle_retry_after_ms: 2_500,
            ..Default::default()
        });
        let (mut transient, mut throttled) = (0, 0);
        for i in 0..10_000 {
            match sim.place(&call(&format!("f{i}")), 0) {
                Ok(_) => {}
                Err(ProviderFailure::Transient(_)) => transient += 1,
                Err(ProviderFailure::Throttled { retry_after_ms }) => {
                    assert_eq!(retry_after_ms, 2_500);
                    throttled += 1;
                }
                Err(other) => panic!("unexpected {other}"),
            }
        }
        assert!((800..1_100).contains(&transient), "{transient} transient");
        assert!((400..600).contains(&throttled), "{throttled} throttled");
        assert_eq!(sim.calls_placed(), 10_000 - transient - throttled);
    }

    #[test]
    fn a_refused_attempt_succeeds_when_tried_again() {
        let sim = SimulatedProvider::new(SimulationConfig {
            transient_failure_rate: 0.5,
            ..Default::default()
        });
        for i in 0..100 {
            let c = call(&format!("r{i}"));
            let placed = (0..50).any(|_| sim.place(&c, 0).is_ok());
            assert!(placed, "attempt r{i} never got through");
        }
        assert_eq!(sim.calls_placed(), 100);
    }

    #[test]
    fn a_calls_per_second_cap_throttles_until_the_next_second() {
        let sim = SimulatedProvider::new(SimulationConfig {
            max_calls_per_second: Some(3),
            ..Default::default()
        });
        for i in 0..3 {
            sim.place(&call(&format!("p{i}")), 1_200)
                .expect("under the cap");
        }
        assert_eq!(
            sim.place(&call("p3"), 1_250),
            Err(ProviderFailure::Throttled {
                retry_after_ms: 750
            })
        );
        sim.place(&call("p3"), 2_000).expect("a new second");
    }

    #[test]
    fn a_lost_final_event_is_never_drained_but_poll_status_reports_it() {
        let sim = SimulatedProvider::new(SimulationConfig {
            lost_final_event_rate: 1.0,
            ..Default::default()
        });
        let call_id = sim.place(&call("lost"), 0).expect("placed");
        let events = drain_all(&sim, 0);
        assert!(
            events
                .iter()
                .all(|e| !matches!(e.kind, CallEventKind::Ended(_)))
        );
        let status = block_on(
            sim.poll_status(&StatusQuery {
                campaign_id: "spring",
                provider_call_id: &call_id,
                attempt_id: "lost",
            })
            .expect("the simulator can be polled"),
        )
        .expect("a known call");
        assert!(matches!(
            status.map(|e| e.kind),
            Some(CallEventKind::Ended(_))
        ));
        assert!(sim.status("sim-0000000000000000", "lost").is_err());
        assert!(sim.status(&call_id, "unknown").is_err());
    }

    #[test]
    fn the_call_log_counts_placements_across_restarts() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = call_log_path(dir.path());
        {
            let sim = SimulatedProvider::default()
                .with_call_log(&path)
                .expect("log opens");
            sim.place(&call("x1"), 100).expect("placed");
            sim.place(&call("x1"), 200).expect("idempotent");
            sim.place(&call("x2"), 300).expect("placed");
        }
        let restarted = SimulatedProvider::default()
            .with_call_log(&path)
            .expect("log reopens");
        assert_eq!(restarted.calls_placed_for("x1"), 1);
        assert_eq!(restarted.calls_placed_for("x2"), 1);
        assert_eq!(restarted.calls_placed_for("x3"), 0);
        assert_eq!(restarted.calls_placed(), 0);
        // An earlier process's call can still be polled...
        let id = restarted.provider_call_id("x1");
        restarted.drain_events(1_000_000);
        assert!(matches!(
            restarted.status(&id, "x1").map(|e| e.map(|e| e.kind)),
            Ok(Some(CallEventKind::Ended(_)))
        ));
        // ...but placing it again dials twice, which the log shows.
        restarted.place(&call("x1"), 2_000_000).expect("placed");
        assert_eq!(restarted.calls_placed_for("x1"), 2);
        let text = std::fs::read_to_string(&path).expect("log readable");
        assert_eq!(text.lines().filter(|l| l.ends_with("\tx1")).count(), 2);
    }

    #[test]
    fn the_provider_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SimulatedProvider>();
        let sim = std::sync::Arc::new(SimulatedProvider::new(SimulationConfig {
            instant: true,
            ..Default::default()
        }));
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let sim = sim.clone();
                std::thread::spawn(move || {
                    for i in 0..1_000 {
                        let id = format!("th{}", i % 500 + t * 250);
                        sim.place(&call(&id), 0).expect("placed");
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("thread finished");
        }
        // Threads overlap on ids 250..1249: each id is placed once.
        assert_eq!(sim.calls_placed(), 1_250);
    }
}
