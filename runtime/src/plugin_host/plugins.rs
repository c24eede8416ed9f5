//! Loaded plugins of each kind, called through their pools, and the
//! contract checks on what plugins answer.

use std::sync::Arc;

use super::bindings::{classifier, gate, provider, retry, types, v0_1, v0_2, v0_3};
use super::context::{ClassifyContext, RetryContext, classify_input_of, ended_attempt_of};
use super::contract::{
    ClassifyInput, RetryInput, candidate_to_wit, handed_retry, retry_input, wit,
};
use super::error::CallError;
use super::info::PluginInfo;
use super::legacy::LegacyProviderAdapter;
use super::pool::{Pool, World, plugin_error_message};
use super::sandbox::Sandbox;
use crate::model;
use crate::policy::{self, ClassifyRequest, GateCandidate, GateVerdict, PolicyFault, RetryRequest};

/// A plugin's instances, bound through the WIT version it was built
/// against.
pub(super) enum Versioned<Current: World, V3: World, V2: World, V1: World> {
    Current(Arc<Pool<Current>>),
    V0_3(Arc<Pool<V3>>),
    V0_2(Arc<Pool<V2>>),
    V0_1(Arc<Pool<V1>>),
}

/// `$body` with `$pool` bound to the plugin's pool, whichever version it
/// was built against: every version's bindings offer the same calls under
/// the same names, so one body serves them all.
macro_rules! on_pool {
    ($versioned:expr, |$pool:ident| $body:expr) => {
        match $versioned {
            Versioned::Current($pool) => $body,
            Versioned::V0_3($pool) => $body,
            Versioned::V0_2($pool) => $body,
            Versioned::V0_1($pool) => $body,
        }
    };
}

/// A loaded retry strategy.
type RetryPools = Versioned<
    retry::RetryStrategy,
    v0_3::retry::RetryStrategy,
    v0_2::retry::RetryStrategy,
    v0_1::retry::RetryStrategy,
>;

pub struct RetryPlugin {
    info: PluginInfo,
    pool: RetryPools,
}

impl RetryPlugin {
    pub(super) fn new(info: PluginInfo, pool: RetryPools) -> Self {
        RetryPlugin { info, pool }
    }

    /// What the plugin said about itself at load.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// Ask for a decision on a warm instance.
    pub fn decide_raw(&self, input: &Arc<RetryInput>) -> Result<wit::Decision, CallError> {
        self.decide_given(input, false)
    }

    /// Ask for a decision on a new instance, dropped afterwards.
    pub fn decide_fresh(&self, input: &Arc<RetryInput>) -> Result<wit::Decision, CallError> {
        self.decide_given(input, true)
    }

    fn decide_given(
        &self,
        input: &Arc<RetryInput>,
        fresh: bool,
    ) -> Result<wit::Decision, CallError> {
        // The same seed on a warm or a fresh instance: both must answer alike.
        let seed = retry_seed(
            input.history.last().map(|last| last.attempt.id.as_str()),
            &input.contact.id,
        );
        let call = RetryCall {
            context: input.clone(),
            handed: input.handed(seed),
            now: input.now,
            seed,
        };
        self.decide_on(call, || input.clone(), fresh)
    }

    /// Make `call` on the plugin, through the binding of its version; a
    /// 0.1.0 strategy is handed `whole()`.
    fn decide_on(
        &self,
        call: RetryCall,
        whole: impl FnOnce() -> Arc<RetryInput>,
        fresh: bool,
    ) -> Result<wit::Decision, CallError> {
        let RetryCall {
            context,
            handed,
            now,
            seed,
        } = call;
        let answer = match &self.pool {
            Versioned::Current(pool) => {
                pool.call_maybe_fresh(fresh, now, seed, |world, store| {
                    within_decision(store, &context, |store| {
                        world.outdial_plugin_retry().call_decide(store, handed)
                    })
                })?
            }
            Versioned::V0_3(pool) => {
                let handed = v0_3_calls::retry_input(handed);
                pool.call_maybe_fresh(fresh, now, seed, |world, store| {
                    within_decision(store, &context, |store| {
                        world.outdial_plugin_retry().call_decide(store, handed)
                    })
                })?
                .map(v0_3_calls::decision)
            }
            Versioned::V0_2(pool) => {
                let handed = v0_2_retry::retry_input(handed);
                pool.call_maybe_fresh(fresh, now, seed, |world, store| {
                    within_decision(store, &context, |store| {
                        world.outdial_plugin_retry().call_decide(store, handed)
                    })
                })?
                .map(v0_2_retry::decision)
            }
            Versioned::V0_1(pool) => {
                let whole = v0_1_retry::retry_input(&whole());
                pool.call_maybe_fresh(fresh, now, seed, |world, store| {
                    world.outdial_plugin_retry().call_decide(store, &whole)
                })?
                .map(v0_1_retry::decision)
            }
        };
        answer.map_err(|err| plugin_fault(&self.info, &err))
    }
}

/// A retry decision as the host runs it: what the strategy reads, what it
/// is handed, and the call's time and seed.
struct RetryCall {
    context: Arc<dyn RetryContext>,
    handed: retry::exports::outdial::plugin::retry::RetryInput,
    now: model::Millis,
    seed: u64,
}

/// Conversions to and from a 0.3.0 retry strategy or classifier, whose
/// records are 0.4.0's field for field.
mod v0_3_calls {
    use super::retry::exports::outdial::plugin::retry as current;
    use super::v0_3::classifier::exports::outdial::plugin::classifier as old_classifier;
    use super::v0_3::retry::exports::outdial::plugin::retry as old;
    use super::wit;

    pub(super) fn retry_input(input: current::RetryInput) -> old::RetryInput {
        let local = input.now_local;
        old::RetryInput {
            now: input.now,
            now_local: old::LocalTime {
                year: local.year,
                month: local.month,
                day: local.day,
                hour: local.hour,
                minute: local.minute,
                second: local.second,
                weekday: local.weekday,
                utc_offset_seconds: local.utc_offset_seconds,
            },
            limits: old::PolicyLimits {
                max_attempts: input.limits.max_attempts,
            },
            attempts_made: input.attempts_made,
            seed: input.seed,
        }
    }

    pub(super) fn decision(decision: old::Decision) -> wit::Decision {
        match decision {
            old::Decision::RetryAt(at) => wit::Decision::RetryAt(at),
            old::Decision::FollowUpAt(at) => wit::Decision::FollowUpAt(at),
            old::Decision::GiveUp(reason) => wit::Decision::GiveUp(reason),
        }
    }

    pub(super) fn ended_attempt(ended: wit::EndedAttempt) -> old_classifier::EndedAttempt {
        old_classifier::EndedAttempt {
            number: ended.number,
            started_at: ended.started_at,
            answered_at: ended.answered_at,
            ended_at: ended.ended_at,
            outcome: ended.outcome,
            sip_code: ended.sip_code,
            talk_ms: ended.talk_ms,
            ring_ms: ended.ring_ms,
            machine_detection: ended.machine_detection,
            cost_micros: ended.cost_micros,
            transcript_bytes: ended.transcript_bytes,
            earlier_attempts: ended.earlier_attempts,
        }
    }
}

/// Conversions to and from a 0.1.0 retry strategy, which is handed the
/// whole input.
mod v0_1_retry {
    use super::v0_1::retry::exports::outdial::plugin::retry as old;
    use super::{RetryInput, wit};

    pub(super) fn retry_input(input: &RetryInput) -> old::RetryInput {
        let local = input.now_local;
        old::RetryInput {
            contact: input.contact.clone(),
            history: input.history.clone(),
            limits: old::PolicyLimits {
                max_attempts: input.limits.max_attempts,
            },
            now: input.now,
            now_local: old::LocalTime {
                year: local.year,
                month: local.month,
                day: local.day,
                hour: local.hour,
                minute: local.minute,
                second: local.second,
                weekday: local.weekday,
                utc_offset_seconds: local.utc_offset_seconds,
            },
        }
    }

    pub(super) fn decision(decision: old::Decision) -> wit::Decision {
        match decision {
            old::Decision::RetryAt(at) => wit::Decision::RetryAt(at),
            old::Decision::FollowUpAt(at) => wit::Decision::FollowUpAt(at),
            old::Decision::GiveUp(reason) => wit::Decision::GiveUp(reason),
        }
    }
}

/// Conversions to and from a 0.2.0 retry strategy, whose records are
/// 0.4.0's field for field.
mod v0_2_retry {
    use super::retry::exports::outdial::plugin::retry as current;
    use super::v0_2::retry::exports::outdial::plugin::retry as old;
    use super::wit;

    pub(super) fn retry_input(input: current::RetryInput) -> old::RetryInput {
        let local = input.now_local;
        old::RetryInput {
            now: input.now,
            now_local: old::LocalTime {
                year: local.year,
                month: local.month,
                day: local.day,
                hour: local.hour,
                minute: local.minute,
                second: local.second,
                weekday: local.weekday,
                utc_offset_seconds: local.utc_offset_seconds,
            },
            limits: old::PolicyLimits {
                max_attempts: input.limits.max_attempts,
            },
            attempts_made: input.attempts_made,
            seed: input.seed,
        }
    }

    pub(super) fn decision(decision: old::Decision) -> wit::Decision {
        match decision {
            old::Decision::RetryAt(at) => wit::Decision::RetryAt(at),
            old::Decision::FollowUpAt(at) => wit::Decision::FollowUpAt(at),
            old::Decision::GiveUp(reason) => wit::Decision::GiveUp(reason),
        }
    }
}

impl policy::RetryPolicy for RetryPlugin {
    fn identity(&self) -> &str {
        &self.info.sha256
    }

    fn decide(&self, request: &Arc<RetryRequest>) -> Result<model::Decision, PolicyFault> {
        let seed = retry_seed(
            request.history.last().map(|last| last.id.as_str()),
            &request.contact.id,
        );
        let call = RetryCall {
            context: request.clone(),
            handed: handed_retry(request, seed),
            now: request.now,
            seed,
        };
        let decision = self
            .decide_on(call, || Arc::new(retry_input(request)), false)
            .map_err(to_fault)?;
        Ok(match decision {
            wit::Decision::RetryAt(at) => model::Decision::RetryAt { at },
            wit::Decision::FollowUpAt(at) => model::Decision::FollowUpAt { at },
            wit::Decision::GiveUp(reason) => model::Decision::GiveUp { reason },
        })
    }
}

type ClassifierPools = Versioned<
    classifier::DispositionClassifier,
    v0_3::classifier::DispositionClassifier,
    v0_2::classifier::DispositionClassifier,
    v0_1::classifier::DispositionClassifier,
>;

/// A loaded disposition classifier.
pub struct ClassifierPlugin {
    info: PluginInfo,
    pool: ClassifierPools,
}

impl ClassifierPlugin {
    pub(super) fn new(info: PluginInfo, pool: ClassifierPools) -> Self {
        ClassifierPlugin { info, pool }
    }

    /// What the plugin said about itself at load.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// Classify on a warm instance, checking the answer against the contract:
    /// a declared label, score in 0..=1, sentiment in -1..=1.
    pub fn classify_raw(&self, input: &Arc<ClassifyInput>) -> Result<wit::Disposition, CallError> {
        let disposition = self.classify_unchecked(input, false)?;
        self.check(disposition)
    }

    /// Classify on a new instance, dropped afterwards.
    pub fn classify_fresh(
        &self,
        input: &Arc<ClassifyInput>,
    ) -> Result<wit::Disposition, CallError> {
        let disposition = self.classify_unchecked(input, true)?;
        self.check(disposition)
    }

    /// Classify without the contract check on the answer, so the
    /// conformance harness can judge the answer itself; on a new instance
    /// when `fresh`.
    pub(crate) fn classify_unchecked(
        &self,
        input: &Arc<ClassifyInput>,
        fresh: bool,
    ) -> Result<wit::Disposition, CallError> {
        let call = ClassifyCall {
            context: input.clone(),
            handed: input.handed(),
            now: input.attempt.ended_at,
            seed: seed_of(&input.attempt.id),
        };
        self.classify_on(call, || input.clone(), fresh)
    }

    /// Make `call` on the plugin, through the binding of its
    /// version; a 0.2.0 or 0.1.0 classifier is handed `whole()`.
    fn classify_on(
        &self,
        call: ClassifyCall,
        whole: impl FnOnce() -> Arc<ClassifyInput>,
        fresh: bool,
    ) -> Result<wit::Disposition, CallError> {
        let ClassifyCall {
            context,
            handed,
            now,
            seed,
        } = call;
        let answer = match &self.pool {
            Versioned::Current(pool) => {
                pool.call_maybe_fresh(fresh, now, seed, |world, store| {
                    within_classification(store, &context, |store| {
                        world
                            .outdial_plugin_classifier()
                            .call_classify(store, handed)
                    })
                })?
            }
            Versioned::V0_3(pool) => {
                let handed = v0_3_calls::ended_attempt(handed);
                pool.call_maybe_fresh(fresh, now, seed, |world, store| {
                    within_classification(store, &context, |store| {
                        world
                            .outdial_plugin_classifier()
                            .call_classify(store, handed)
                    })
                })?
            }
            Versioned::V0_2(pool) => {
                let whole = whole();
                pool.call_maybe_fresh(fresh, now, seed, |world, store| {
                    world.outdial_plugin_classifier().call_classify(
                        store,
                        &whole.contact,
                        &whole.attempt,
                        &whole.earlier,
                    )
                })?
            }
            Versioned::V0_1(pool) => {
                let whole = whole();
                pool.call_maybe_fresh(fresh, now, seed, |world, store| {
                    world.outdial_plugin_classifier().call_classify(
                        store,
                        &whole.contact,
                        &whole.attempt,
                        &whole.earlier,
                    )
                })?
            }
        };
        answer.map_err(|err| plugin_fault(&self.info, &err))
    }

    fn check(&self, disposition: wit::Disposition) -> Result<wit::Disposition, CallError> {
        let broken = |message: String| CallError::Contract {
            plugin: self.info.name.clone(),
            message,
        };
        if !self.info.labels.is_empty() && !self.info.labels.contains(&disposition.label) {
            return Err(broken(format!(
                "label \"{}\" is not among the declared labels ({})",
                disposition.label,
                self.info.labels.join(", ")
            )));
        }
        if let Some(score) = disposition
            .score
            .filter(|score| !(0.0..=1.0).contains(score))
        {
            return Err(broken(format!("score {score} is outside 0 to 1")));
        }
        if let Some(sentiment) = disposition
            .sentiment
            .filter(|sentiment| !(-1.0..=1.0).contains(sentiment))
        {
            return Err(broken(format!("sentiment {sentiment} is outside -1 to 1")));
        }
        Ok(disposition)
    }
}

impl policy::Classifier for ClassifierPlugin {
    fn identity(&self) -> &str {
        &self.info.sha256
    }

    fn classify(&self, request: &Arc<ClassifyRequest>) -> Result<model::Disposition, PolicyFault> {
        let call = ClassifyCall {
            context: request.clone(),
            handed: ended_attempt_of(request),
            now: request
                .attempt
                .ended_at
                .unwrap_or(request.attempt.started_at),
            seed: seed_of(&request.attempt.id),
        };
        let disposition = self
            .classify_on(call, || Arc::new(classify_input_of(request)), false)
            .and_then(|disposition| self.check(disposition))
            .map_err(to_fault)?;
        Ok(model::Disposition {
            label: disposition.label,
            terminal: disposition.terminal,
            score: disposition.score,
            sentiment: disposition.sentiment,
            follow_up_at: disposition.follow_up_at,
        })
    }
}

/// A classification as the host runs it: what the classifier reads, what
/// it is handed, and the call's time and seed.
struct ClassifyCall {
    context: Arc<dyn ClassifyContext>,
    handed: wit::EndedAttempt,
    now: model::Millis,
    seed: u64,
}

type AdapterPools = Versioned<
    provider::ProviderAdapter,
    LegacyProviderAdapter,
    LegacyProviderAdapter,
    LegacyProviderAdapter,
>;

pub struct AdapterPlugin {
    info: PluginInfo,
    pool: AdapterPools,
}

impl AdapterPlugin {
    pub(super) fn new(info: PluginInfo, pool: AdapterPools) -> Self {
        AdapterPlugin { info, pool }
    }

    /// What the plugin said about itself at load.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// Build the request that places `call`.
    pub fn build_place_call(
        &self,
        call: &wit::CallRequest,
        now: model::Millis,
    ) -> Result<Result<wit::HttpRequest, wit::ProviderError>, CallError> {
        on_pool!(&self.pool, |pool| pool.call(
            now,
            seed_of(&call.attempt_id),
            |world, store| world
                .outdial_plugin_provider()
                .call_build_place_call(store, call)
        ))
    }

    /// Read the provider's answer to a place-call request.
    pub fn parse_place_call(
        &self,
        call: &wit::CallRequest,
        response: &wit::HttpResponse,
        now: model::Millis,
    ) -> Result<Result<String, wit::ProviderError>, CallError> {
        on_pool!(&self.pool, |pool| pool.call(
            now,
            seed_of(&call.attempt_id),
            |world, store| world
                .outdial_plugin_provider()
                .call_parse_place_call(store, call, response)
        ))
    }

    /// Verify and read a webhook.
    pub fn parse_webhook(
        &self,
        webhook: &wit::InboundWebhook,
    ) -> Result<Result<Vec<wit::CallEvent>, wit::WebhookError>, CallError> {
        on_pool!(&self.pool, |pool| pool.call(
            webhook.received_at,
            0,
            |world, store| world
                .outdial_plugin_provider()
                .call_parse_webhook(store, webhook)
        ))
    }

    /// Build a status-poll request, when the provider has one.
    pub fn build_status_poll(
        &self,
        provider_call_id: &str,
        now: model::Millis,
    ) -> Result<Option<wit::HttpRequest>, CallError> {
        on_pool!(&self.pool, |pool| pool.call(
            now,
            seed_of(provider_call_id),
            |world, store| world
                .outdial_plugin_provider()
                .call_build_status_poll(store, provider_call_id)
        ))
    }

    /// Read the answer to a status poll.
    pub fn parse_status_poll(
        &self,
        provider_call_id: &str,
        response: &wit::HttpResponse,
        now: model::Millis,
    ) -> Result<Result<wit::CallEvent, wit::ProviderError>, CallError> {
        on_pool!(&self.pool, |pool| pool.call(
            now,
            seed_of(provider_call_id),
            |world, store| world.outdial_plugin_provider().call_parse_status_poll(
                store,
                provider_call_id,
                response
            )
        ))
    }
}

/// A loaded dial gate.
pub struct GatePlugin {
    info: PluginInfo,
    pool: Arc<Pool<gate::DialGate>>,
}

impl GatePlugin {
    pub(super) fn new(info: PluginInfo, pool: Arc<Pool<gate::DialGate>>) -> Self {
        GatePlugin { info, pool }
    }

    /// What the plugin said about itself at load.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// Verdicts on `candidates` from a warm instance, checked against the
    /// contract: one per candidate, a reason on every defer and skip, no
    /// defer before its candidate's decision time.
    pub fn check_raw(&self, candidates: &[wit::Candidate]) -> Result<Vec<wit::Verdict>, CallError> {
        let verdicts = self.check_unchecked(candidates, false)?;
        self.hold_to_contract(candidates, verdicts)
    }

    /// [`GatePlugin::check_raw`] on a new instance, dropped afterwards.
    pub fn check_fresh(
        &self,
        candidates: &[wit::Candidate],
    ) -> Result<Vec<wit::Verdict>, CallError> {
        let verdicts = self.check_unchecked(candidates, true)?;
        self.hold_to_contract(candidates, verdicts)
    }

    /// The verdicts as the plugin answered them, for the conformance
    /// harness to judge; on a new instance when `fresh`.
    pub(crate) fn check_unchecked(
        &self,
        candidates: &[wit::Candidate],
        fresh: bool,
    ) -> Result<Vec<wit::Verdict>, CallError> {
        let now = candidates.first().map_or(0, |candidate| candidate.now);
        let seed = candidates
            .first()
            .map_or(0, |candidate| seed_of(&candidate.contact.id));
        self.pool
            .call_maybe_fresh(fresh, now, seed, |world, store| {
                world.outdial_plugin_gate().call_check(store, candidates)
            })?
            .map_err(|err| plugin_fault(&self.info, &err))
    }

    fn hold_to_contract(
        &self,
        candidates: &[wit::Candidate],
        verdicts: Vec<wit::Verdict>,
    ) -> Result<Vec<wit::Verdict>, CallError> {
        let broken = |message: String| CallError::Contract {
            plugin: self.info.name.clone(),
            message,
        };
        if verdicts.len() != candidates.len() {
            return Err(broken(format!(
                "answered {} verdicts for {} candidates",
                verdicts.len(),
                candidates.len()
            )));
        }
        for (index, (candidate, verdict)) in candidates.iter().zip(&verdicts).enumerate() {
            let reason = match verdict {
                wit::Verdict::Allow => continue,
                wit::Verdict::Defer(deferral) => {
                    if deferral.until < candidate.now {
                        return Err(broken(format!(
                            "verdict {index} defers to {}, before the decision time {}",
                            deferral.until, candidate.now
                        )));
                    }
                    &deferral.reason
                }
                wit::Verdict::Skip(reason) => reason,
            };
            if reason.trim().is_empty() {
                return Err(broken(format!("verdict {index} gives no reason")));
            }
        }
        Ok(verdicts)
    }
}

impl policy::DialGate for GatePlugin {
    fn identity(&self) -> &str {
        &self.info.sha256
    }

    fn check(&self, candidates: &[GateCandidate]) -> Result<Vec<GateVerdict>, PolicyFault> {
        let handed: Vec<wit::Candidate> = candidates.iter().map(candidate_to_wit).collect();
        let verdicts = self.check_raw(&handed).map_err(to_fault)?;
        Ok(verdicts
            .into_iter()
            .map(|verdict| match verdict {
                wit::Verdict::Allow => GateVerdict::Allow,
                wit::Verdict::Defer(deferral) => GateVerdict::Defer {
                    until: deferral.until,
                    reason: deferral.reason,
                },
                wit::Verdict::Skip(reason) => GateVerdict::Skip { reason },
            })
            .collect())
    }
}

/// Run `call` with `context` readable through `retry-context` for exactly
/// as long as it runs.
fn within_decision<R>(
    store: &mut wasmtime::Store<Sandbox>,
    context: &Arc<dyn RetryContext>,
    call: impl FnOnce(&mut wasmtime::Store<Sandbox>) -> wasmtime::Result<R>,
) -> wasmtime::Result<R> {
    store.data_mut().deciding = Some(context.clone());
    let answer = call(&mut *store);
    store.data_mut().deciding = None;
    answer
}

/// Run `call` with `context` readable through `classify-context` for
/// exactly as long as it runs.
fn within_classification<R>(
    store: &mut wasmtime::Store<Sandbox>,
    context: &Arc<dyn ClassifyContext>,
    call: impl FnOnce(&mut wasmtime::Store<Sandbox>) -> wasmtime::Result<R>,
) -> wasmtime::Result<R> {
    store.data_mut().classifying = Some(context.clone());
    let answer = call(&mut *store);
    store.data_mut().classifying = None;
    answer
}

fn plugin_fault(plugin: &PluginInfo, error: &types::PluginError) -> CallError {
    CallError::Plugin {
        plugin: plugin.name.clone(),
        message: plugin_error_message(error),
    }
}

fn to_fault(error: CallError) -> PolicyFault {
    PolicyFault {
        plugin: error.plugin().to_string(),
        message: error.to_string(),
    }
}

/// The randomness seed of a retry decision: from the attempt that just
/// ended, or the contact when there is none. Given inputs and the engine's
/// records derive it alike, so a decision asked again sees the same seed.
fn retry_seed(last_attempt_id: Option<&str>, contact_id: &str) -> u64 {
    seed_of(last_attempt_id.unwrap_or(contact_id))
}

/// FNV-1a of `key`: the per-call seed of the guest's randomness, so equal
/// inputs see equal "random" numbers.
fn seed_of(key: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
