//! The campaign engine: one `tick(now)` writes again what the store
//! refused, drains provider events, ends calls, admits the due contacts
//! every limit lets through and dials them, and places their calls. It
//! reads no clock of its own, so tests run it in virtual time.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono_tz::Tz;

use super::batch_plugins::{BatchGates, BatchRetries};
use super::limits;
use super::numbers::{self, Pick, Rotation};
use super::rate::TokenBucket;
use super::window::{CompiledWindow, WindowError};
use crate::model::{
    Attempt, BatchStatus, Blocker, CallOutcome, CampaignSpec, ContactStatus, DAY_MS, DNC_INTERNAL,
    Decision, DecisionRecord, Disposition, FromNumber, MINUTE_MS, Millis, SECOND_MS,
    SuppressionAdd,
};
use crate::phone::resolve_time_zone;
use crate::policy::{
    BuiltinClassifier, BuiltinRetry, Classifier, ClassifyRequest, DialGate, GateLoader, LocalTime,
    PolicyFault, RetryLoader, RetryPolicy, RetryRequest,
};
use crate::provider::{
    CallEnd, CallEventKind, PlaceCall, Placement, PlacementQuery, Provider, ProviderEvent,
    ProviderFailure, StatusQuery,
};
use crate::store::{
    AttemptEnd, AttemptKey, BatchRecord, BeginAttempt, BlockerUpdate, ContactHistory,
    ContactRecord, EndAttempt, EndedAttempt, InProgressMark, NextStep, NumberState, Pending,
    PlacementNote, StatusChange, Store, StoreError, in_chunks,
};

/// Who the engine says it is when it changes a batch's status.
const DISPATCHER: &str = "dispatcher";
/// System retries (provider refused before dialing) before a contact fails.
const MAX_SYSTEM_RETRIES: u32 = 10;
/// Ended attempts per store write when a tick ends many: large enough that
/// neighbouring contacts share a write of their state page, small enough
/// that the store starts writing while the engine prepares the next chunk.
const END_CHUNK: usize = 512;

/// Dial intents per store write.
const INTENT_CHUNK: usize = 512;

/// A tick's dial intents on their way to the store, and what placing
/// their calls needs.
struct Intents {
    /// Each intent's batch.
    begun: Vec<String>,
    answers: Vec<Pending<Vec<Result<Attempt, StoreError>>>>,
    dial_info: Vec<Dial>,
}

/// Provider call ids per store write while calls are being placed.
const CALL_ID_CHUNK: usize = 512;

/// One placement's attempt id and the provider's answer.
type PlacementAnswer = (String, Result<String, ProviderFailure>);

/// Accepted calls' attempts and the provider's ids for them.
type CallIds = Vec<(AttemptKey, String)>;

/// A tick's provider call ids on their way to the store: full chunks,
/// written without a sync as they fill, and the rest.
#[derive(Default)]
struct CallIdWrites {
    started: Vec<(CallIds, Pending<()>)>,
    filling: CallIds,
}

/// Ends sent to the store in one write, and the store's answer to come.
type EndsInFlight = (Vec<SentEnd>, Pending<Vec<Result<EndedAttempt, StoreError>>>);

/// An end sent to the store: its call, and a copy of the request, so an
/// end the store refuses is written again as policy decided it.
struct SentEnd {
    attempt_id: String,
    call: LiveCall,
    request: EndAttempt,
}

/// A call taken from the live calls because it ended, and how it ended.
struct EndedCall {
    attempt_id: String,
    call: LiveCall,
    ending: Ending,
}

/// One chunk of ended calls made into store requests.
struct PreparedEnds {
    /// Requests with policy's answer, ready for the store.
    ready: Vec<SentEnd>,
    /// Ended calls whose contact or attempts the store could not read,
    /// with its error: policy is asked once it can.
    unread: Vec<(EndedCall, StoreError)>,
}

/// An attempt whose end policy decides, and what it belongs to.
struct EndingAttempt<'a> {
    key: &'a AttemptKey,
    campaign: &'a CampaignState,
    batch: &'a BatchRecord,
    contact: &'a ContactRecord,
}

/// An ended call the store has not taken yet.
enum UnrecordedEnd {
    /// Its inputs could not be read: policy has not been asked yet.
    Unprepared(Ending),
    /// Policy answered when the call ended; the store refused the write.
    Prepared(Box<EndAttempt>),
}

/// Why the engine could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("campaign \"{campaign}\" has an invalid calling window: {source}")]
    Window {
        campaign: String,
        #[source]
        source: WindowError,
    },
    #[error("batch \"{batch}\" belongs to unknown campaign \"{campaign}\"")]
    UnknownCampaign { batch: String, campaign: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A campaign as the engine runs it: its spec and its policies.
#[derive(Clone)]
pub struct CampaignPolicy {
    pub spec: CampaignSpec,
    pub retry: Arc<dyn RetryPolicy>,
    pub classifier: Arc<dyn Classifier>,
    /// Asked right before every dial, when the campaign has one.
    pub gate: Option<Arc<dyn DialGate>>,
}

impl CampaignPolicy {
    pub fn new(
        spec: CampaignSpec,
        retry: impl RetryPolicy + 'static,
        classifier: impl Classifier + 'static,
    ) -> Self {
        CampaignPolicy {
            spec,
            retry: Arc::new(retry),
            classifier: Arc::new(classifier),
            gate: None,
        }
    }

    /// The campaign with `gate` asked before every dial.
    pub fn with_gate(mut self, gate: impl DialGate + 'static) -> Self {
        self.gate = Some(Arc::new(gate));
        self
    }

    /// A campaign that uses the built-in policies.
    pub fn builtin(spec: CampaignSpec) -> Self {
        CampaignPolicy {
            spec,
            retry: Arc::new(BuiltinRetry::default()),
            classifier: Arc::new(BuiltinClassifier),
            gate: None,
        }
    }
}

/// Tuning of the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineOptions {
    /// Due contacts looked at per batch and tick. Default: 64.
    pub scan_limit: usize,
    /// Delay before the first system retry after a transient provider
    /// failure, doubled each time, in ms. Default: 5 s.
    pub transient_backoff_ms: Millis,
    /// How long a batch's writes may keep failing before it is paused with
    /// `store_error: ...` for an operator, in ms. Until then it is held:
    /// not dialed, and dialed again by itself once the store takes a write.
    /// Default: 60 s: a database restart (measured: 0.2 s down) or a
    /// failover goes by without an operator, a store that stays down is
    /// shown on the batch within a minute.
    pub store_outage_pause_ms: Millis,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            scan_limit: 64,
            transient_backoff_ms: 5 * SECOND_MS,
            store_outage_pause_ms: 60 * SECOND_MS,
        }
    }
}

/// What one tick did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    pub events: usize,
    pub ended: usize,
    pub timed_out: usize,
    pub dialed: usize,
    pub started_batches: usize,
    pub finished_batches: usize,
}

type CampaignKey = (String, String);

/// A contact picked for a dial: its campaign, record and call parameters.
type Dial = (CampaignKey, ContactRecord, Vec<(String, String)>);

struct CampaignState {
    policy: CampaignPolicy,
    window: CompiledWindow,
    bucket: TokenBucket,
    throttled_until: Millis,
    /// Caller-id rotation of the campaign's pool ("") and of batches that
    /// override it (by batch id).
    rotations: HashMap<String, Rotation>,
    /// Operator states of the campaign's numbers, read once per dispatch.
    number_states: HashMap<String, NumberState>,
}

struct BatchLimits {
    bucket: Option<TokenBucket>,
}

/// What a tick's dispatch did.
#[derive(Debug, Default)]
struct Dialing {
    /// Calls the provider accepted.
    placed: usize,
    /// Whether its dial intents were committed, a group commit that also
    /// made every earlier write durable.
    synced: bool,
}

/// What a drain of provider events says of the live calls.
#[derive(Default)]
struct CallNews {
    /// Calls that ring or were answered, and did not end in the drain.
    marks: Vec<InProgressMark>,
    /// Calls that ended, each once.
    ends: Vec<(String, Ending)>,
}

/// Batches moved through their lifecycle by one tick.
struct Lifecycle {
    started: usize,
    finished: usize,
}

/// What a tick's admission did: batches started and finished, and the
/// dial intents of the contacts it admitted, if any.
struct Admitted {
    started_batches: usize,
    finished_batches: usize,
    intents: Option<Intents>,
}

/// What the ends of one tick need from the store, read together.
#[derive(Default)]
struct ReadAhead {
    contacts: HashMap<(String, u64), ContactRecord>,
    histories: HashMap<(String, u64), Vec<Attempt>>,
}

struct LiveCall {
    key: AttemptKey,
    campaign: CampaignKey,
    deadline: Millis,
    provider_call_id: Option<String>,
    polled: bool,
    /// The provider was asked and its answer never came (a timeout, or a
    /// restart in between): it may have the call, or may not.
    placement_unknown: bool,
}

/// How an attempt ended, before policy was asked.
#[derive(Clone)]
enum Ending {
    /// The provider reported the call's end (or the host stands in for it).
    Call(AttemptEnd),
    /// The provider refused the call before dialing: retry, not counted.
    SystemRetry {
        end: AttemptEnd,
        at: Millis,
        blocker: Blocker,
        /// The adapter plugin was at fault: counts toward `plugin_faulted`.
        plugin_fault: bool,
    },
    /// The call can never be placed.
    Fatal { end: AttemptEnd, reason: String },
}

/// The dispatcher core.
pub struct Engine {
    store: Arc<dyn Store>,
    provider: Arc<dyn Provider>,
    options: EngineOptions,
    campaigns: HashMap<CampaignKey, CampaignState>,
    batch_limits: HashMap<String, BatchLimits>,
    /// Calling windows of batches with their own hours, compiled when the
    /// batch is first dialed.
    batch_windows: HashMap<String, CompiledWindow>,
    /// Retry strategies of batches with their own.
    batch_retries: BatchRetries,
    /// Dial gates of batches with their own.
    batch_gates: BatchGates,
    live: BTreeMap<String, LiveCall>,
    /// Rotates which batch is served first, for fairness across batches.
    round: usize,
    builtin_retry: BuiltinRetry,
    builtin_classifier: BuiltinClassifier,
    /// Ended calls whose end the store refused: kept with their slot and
    /// written again each tick until the store takes them, so an end is
    /// never lost and never decided twice, whether from a second event or
    /// at a later tick.
    unrecorded_ends: BTreeMap<String, (LiveCall, UnrecordedEnd)>,
    /// Ringing and answered marks the store refused, written again.
    unrecorded_marks: Vec<InProgressMark>,
    /// Provider call ids the store refused, written again.
    unrecorded_calls: Vec<(AttemptKey, String)>,
    /// Batches whose writes failed during this tick, with the
    /// `store_error: ...` reason.
    store_faults: BTreeMap<String, String>,
    /// Batches held since a write of theirs failed: not dialed until the
    /// store takes writes again, paused once that takes too long.
    store_outages: BTreeMap<String, StoreOutage>,
    /// A group of dial intents failed: the store may hold some of them
    /// anyway, so its live index is compared with the engine's.
    reconcile_live: bool,
    /// End writes the store has not answered yet, oldest first: the tick
    /// goes on (due contacts, dial intents) while the store writes them,
    /// and takes every answer before it returns.
    ends_in_flight: Vec<EndsInFlight>,
    /// Dial-gate calls in a row that faulted, by batch.
    gate_fault_streaks: HashMap<String, u32>,
    /// The campaigns this engine may dial, by the epoch of their lease: a
    /// store shared by several nodes leases each campaign to one of them.
    leases: HashMap<CampaignKey, i64>,
    /// Held campaigns to hand back once their calls have ended.
    surplus: HashSet<CampaignKey>,
    /// Whether a lease round has run: the campaigns of the first are
    /// recovered by [`Engine::recover`], the ones gained later as
    /// takeovers.
    leased: bool,
}

/// A batch held since its writes failed.
struct StoreOutage {
    /// When the first write failed.
    since: Millis,
    /// The first failure's `store_error: ...`, the reason the batch is
    /// paused with if the outage lasts.
    reason: String,
    /// The store took a write after the last failure: the batch is dialed
    /// again, and the outage is over once a tick of that goes without a
    /// failure. A failure meanwhile holds it again, still counted from
    /// `since`, so a store that fails every write it is given pauses.
    dialing: bool,
}

/// Store failures worth waiting out (the disk, the writer); anything else
/// is a fact about the data that a retry cannot change.
fn is_store_failure(err: &StoreError) -> bool {
    matches!(err, StoreError::Io(_) | StoreError::WriterGone)
}

impl Engine {
    /// An engine for `campaigns`, dialing through `provider`.
    pub fn new(
        store: Arc<dyn Store>,
        provider: Arc<dyn Provider>,
        campaigns: Vec<CampaignPolicy>,
        options: EngineOptions,
        now: Millis,
    ) -> Result<Engine, EngineError> {
        let mut states = HashMap::new();
        for policy in campaigns {
            let spec = &policy.spec;
            let window = CompiledWindow::new(&spec.calling_window).map_err(|source| {
                EngineError::Window {
                    campaign: spec.id.clone(),
                    source,
                }
            })?;
            let rate = spec.calls_per_second.max(0.001);
            let key = (spec.workspace.clone(), spec.id.clone());
            states.insert(
                key,
                CampaignState {
                    bucket: TokenBucket::new(rate, rate.max(1.0), now),
                    window,
                    policy,
                    throttled_until: Millis::MIN,
                    rotations: HashMap::new(),
                    number_states: HashMap::new(),
                },
            );
        }
        Ok(Engine {
            store,
            provider,
            options,
            campaigns: states,
            batch_limits: HashMap::new(),
            batch_windows: HashMap::new(),
            batch_retries: BatchRetries::new(None),
            batch_gates: BatchGates::new(None),
            live: BTreeMap::new(),
            round: 0,
            builtin_retry: BuiltinRetry::default(),
            builtin_classifier: BuiltinClassifier,
            unrecorded_ends: BTreeMap::new(),
            unrecorded_marks: Vec::new(),
            unrecorded_calls: Vec::new(),
            store_faults: BTreeMap::new(),
            store_outages: BTreeMap::new(),
            reconcile_live: false,
            ends_in_flight: Vec::new(),
            gate_fault_streaks: HashMap::new(),
            leases: HashMap::new(),
            surplus: HashSet::new(),
            leased: false,
        })
    }

    /// Loads the retry strategies batches name in place of their
    /// campaign's. Without a loader, such a batch is not dialed.
    pub fn set_retry_loader(&mut self, loader: Arc<dyn RetryLoader>) {
        self.batch_retries = BatchRetries::new(Some(loader));
    }

    /// Loads the dial gates batches name in place of their campaign's.
    /// Without a loader, such a batch is not dialed.
    pub fn set_gate_loader(&mut self, loader: Arc<dyn GateLoader>) {
        self.batch_gates = BatchGates::new(Some(loader));
    }

    /// Calls in flight, as the engine counts them.
    pub fn live_calls(&self) -> usize {
        self.live.len()
    }

    /// Takes the leases of the campaigns this engine may dial, then
    /// reconciles their attempts left live by a previous run
    /// ([`Engine::recover_campaigns`]).
    pub async fn recover(&mut self, now: Millis) -> Result<usize, EngineError> {
        let held = self.lease_round();
        self.leased = true;
        self.recover_campaigns(&held, now).await
    }

    /// Reconciles the attempts of `campaigns` left live by a previous run
    /// or a previous owner: each is asked about at the provider, else ended
    /// as unknown with reason `interrupted`. An intent whose placement
    /// answer was never recorded is looked up at a provider that can tell:
    /// never placed, it ends at once as an uncounted system retry; placed,
    /// its call is followed. Never redials under the same attempt id.
    async fn recover_campaigns(
        &mut self,
        campaigns: &HashSet<CampaignKey>,
        now: Millis,
    ) -> Result<usize, EngineError> {
        let mut ended = 0;
        for live in self.store.live_attempts()? {
            if self.live.contains_key(&live.attempt_id) {
                continue;
            }
            let batch = self.batch(&live.batch_id)?;
            let campaign = (batch.workspace.clone(), batch.campaign_id.clone());
            let Some(state) = self.campaigns.get(&campaign) else {
                tracing::warn!(attempt = %live.attempt_id, campaign = %batch.campaign_id, "live attempt of an unknown campaign left alone");
                continue;
            };
            if !campaigns.contains(&campaign) {
                continue;
            }
            let key = live.key();
            self.live.insert(
                live.attempt_id.clone(),
                LiveCall {
                    key: key.clone(),
                    campaign,
                    // From the placement, as if there had been no restart:
                    // counted from each start, a server restarted more
                    // often than the timeout would never free the slot.
                    deadline: live
                        .started_at
                        .saturating_add(state.policy.spec.call_timeout_ms),
                    provider_call_id: live.provider_call_id.clone(),
                    polled: false,
                    placement_unknown: live.provider_call_id.is_none(),
                },
            );
            let mut adopted = false;
            if live.provider_call_id.is_none() {
                match self.find_placement(&live.attempt_id, live.started_at).await {
                    Some(Placement::NeverPlaced) => {
                        self.never_placed(&live.attempt_id, now);
                        ended += 1;
                        continue;
                    }
                    Some(Placement::Placed { provider_call_id }) => {
                        self.adopt_call(&live.attempt_id, provider_call_id);
                        adopted = true;
                    }
                    Some(Placement::Unknown) | None => {}
                }
            }
            if let Some(event) = self.poll(&live.attempt_id).await {
                self.handle_events(vec![event], now);
                if !self.live.contains_key(&live.attempt_id) {
                    ended += 1;
                }
                continue;
            }
            if live.provider_call_id.is_none() || adopted {
                // The provider was asked and the process died before its
                // answer was written: it may have the call (or has it, by
                // its own account). Ending it now would let a retry ring
                // the person while it may still ring; its callbacks end
                // it, or the call timeout does.
                tracing::info!(attempt = %live.attempt_id, "waiting for the events of a call placed before a restart");
                continue;
            }
            tracing::info!(attempt = %live.attempt_id, "ending attempt interrupted by a restart");
            self.end_attempt(
                &live.attempt_id,
                host_end(CallOutcome::Unknown, "interrupted"),
                now,
            );
            ended += 1;
        }
        self.take_end_answers();
        self.pause_faulted_batches(now);
        Ok(ended)
    }

    /// One round of work at `now`.
    ///
    /// A failed store write does not stop the engine: what it would have
    /// recorded is kept and written again on later ticks, and the batches
    /// it concerns are held, so that no contact is dialed on top of a store
    /// that is not taking writes. They are dialed again by themselves once
    /// the store takes writes again; if it has not within
    /// [`EngineOptions::store_outage_pause_ms`], they are paused with
    /// reason `store_error: ...`, and a resume dials them again.
    pub async fn tick(&mut self, now: Millis) -> Result<TickReport, EngineError> {
        let result = self.tick_steps(now).await;
        // Also after a failed step: a tick leaves no write unanswered.
        self.take_end_answers();
        self.pause_faulted_batches(now);
        if !self.surplus.is_empty() {
            self.hand_back_surplus();
        }
        result
    }

    /// Renews the leases of the campaigns this engine may dial and takes
    /// its share of free ones; a campaign lost, or held under a new epoch,
    /// is forgotten: its calls are another owner's now. Answers the
    /// campaigns gained, whose live attempts are the engine's to reconcile.
    fn lease_round(&mut self) -> HashSet<CampaignKey> {
        let mut configured: Vec<CampaignKey> = self.campaigns.keys().cloned().collect();
        configured.sort();
        let round = match self.store.lease_campaigns(&configured) {
            Ok(round) => round,
            Err(err) => {
                // The leases run out by the store's own clock: writes and
                // placements stop by themselves if this lasts.
                tracing::warn!(error = %err, "renewing the campaign leases failed");
                return HashSet::new();
            }
        };
        let held: HashMap<CampaignKey, i64> = round
            .held
            .into_iter()
            .map(|lease| ((lease.workspace, lease.campaign_id), lease.epoch))
            .collect();
        let lost: Vec<CampaignKey> = self
            .leases
            .iter()
            .filter(|(campaign, epoch)| held.get(*campaign) != Some(*epoch))
            .map(|(campaign, _)| campaign.clone())
            .collect();
        for campaign in &lost {
            self.forget_campaign(campaign);
        }
        let gained = held
            .iter()
            .filter(|(campaign, epoch)| self.leases.get(*campaign) != Some(*epoch))
            .map(|(campaign, _)| campaign.clone())
            .collect();
        self.leases = held;
        self.surplus = round.surplus.into_iter().collect();
        gained
    }

    /// Whether this engine holds `campaign`'s lease.
    fn holds_lease(&self, campaign: &CampaignKey) -> bool {
        self.leases.contains_key(campaign)
    }

    /// Whether `campaign` is one this engine dials but does not hold the
    /// lease of. A campaign it does not know is no one's here, and its
    /// batches are treated as before leases existed.
    fn leased_elsewhere(&self, campaign: &CampaignKey) -> bool {
        self.campaigns.contains_key(campaign) && !self.holds_lease(campaign)
    }

    /// Drops what the engine tracks of a campaign whose lease it lost: the
    /// new owner reconciles its live attempts, and a write of them here
    /// would be refused.
    fn forget_campaign(&mut self, campaign: &CampaignKey) {
        let live = self
            .live
            .values()
            .filter(|call| &call.campaign == campaign)
            .count();
        tracing::warn!(workspace = %campaign.0, campaign = %campaign.1, live, "campaign lease lost: its live calls are left to the new owner");
        self.live.retain(|_, call| &call.campaign != campaign);
        self.unrecorded_ends
            .retain(|_, (call, _)| &call.campaign != campaign);
        self.leases.remove(campaign);
        self.surplus.remove(campaign);
    }

    /// Hands back the leases of surplus campaigns whose calls have all
    /// ended, so another node takes them with nothing to reconcile.
    fn hand_back_surplus(&mut self) {
        let idle: Vec<CampaignKey> = self
            .surplus
            .iter()
            .filter(|campaign| {
                !self.live.values().any(|call| &call.campaign == *campaign)
                    && !self
                        .unrecorded_ends
                        .values()
                        .any(|(call, _)| &call.campaign == *campaign)
            })
            .cloned()
            .collect();
        for campaign in idle {
            match self.store.release_lease(&campaign.0, &campaign.1) {
                Ok(()) => {
                    tracing::info!(workspace = %campaign.0, campaign = %campaign.1, "campaign lease handed back to even out the nodes");
                    self.leases.remove(&campaign);
                    self.surplus.remove(&campaign);
                }
                Err(err) => {
                    tracing::warn!(campaign = %campaign.1, error = %err, "handing a campaign lease back failed");
                }
            }
        }
    }

    async fn tick_steps(&mut self, now: Millis) -> Result<TickReport, EngineError> {
        let mut report = TickReport::default();
        // 0. Leases: which campaigns this engine dials; the live attempts
        //    of a campaign taken over are reconciled first.
        let gained = self.lease_round();
        if !self.leased {
            self.leased = true;
        } else if !gained.is_empty() {
            match self.recover_campaigns(&gained, now).await {
                Ok(ended) => report.ended += ended,
                Err(err) => {
                    // Gained again at the next round, and reconciled then.
                    for campaign in &gained {
                        self.leases.remove(campaign);
                    }
                    return Err(err);
                }
            }
        }
        // 1. Recover: what the store refused on earlier ticks is written
        //    again first, so nothing of it waits behind this tick's work.
        self.write_refused_again(now);

        // 2. Drain the provider's events.
        let events = self.provider.drain_events(now);
        report.events = events.len();
        let touched: HashSet<String> = events
            .iter()
            .filter_map(|event| self.live.get(&event.attempt_id))
            .map(|call| call.key.batch_id.clone())
            .collect();

        // 3. End calls: the events say which calls ring, were answered or
        //    ended. They are written once step 4 has queued its intents.
        let news = self.read_events(events, now);

        // 4. Admit and dial: batches move through their lifecycle, and the
        //    due contacts every limit admits get dial intents, queued to
        //    the store ahead of step 3's ends. The same contacts are
        //    admitted either way: an ended call holds its slot until the
        //    store has answered its end.
        let admitted = self.admit_and_dial(now);
        // While the store makes those intents durable, step 3's calls end
        // (policy asked, ends written), and so do the calls whose final
        // event is overdue.
        report.ended = self.end_calls(news, now);
        report.timed_out = self.end_overdue(now).await;
        // A failed admission fails the tick only now that its events are
        // handled: drained events are not drained again.
        let admitted = admitted?;
        report.started_batches = admitted.started_batches;
        report.finished_batches = admitted.finished_batches;

        // 5. Place the admitted calls once their intents are durable.
        let dialing = match admitted.intents {
            Some(intents) => self.place(intents, now).await,
            None => Dialing::default(),
        };
        report.dialed = dialing.placed;
        if report.events > 0 && !dialing.synced {
            // One group commit for every event write of this tick, unless
            // the dial intents' commit, which came after them, was it.
            self.take_end_answers();
            if let Err(err) = self.store.sync() {
                for batch_id in touched {
                    self.store_fault(&batch_id, &err);
                }
            }
        }
        Ok(report)
    }

    /// Notes that a write for `batch_id` failed; the batch is held at the
    /// end of the tick.
    fn store_fault(&mut self, batch_id: &str, err: &StoreError) {
        if matches!(err, StoreError::Fenced { .. }) {
            // Not a fault: another node dials the batch now.
            tracing::warn!(batch = %batch_id, error = %err, "write refused: the campaign's lease is lost");
            return;
        }
        tracing::error!(batch = %batch_id, error = %err, "store write failed; the batch is held");
        self.store_faults
            .entry(batch_id.to_string())
            .or_insert_with(|| format!("store_error: {err}"));
    }

    /// Whether `batch_id` is held after a store failure.
    fn held(&self, batch_id: &str) -> bool {
        self.store_outages
            .get(batch_id)
            .is_some_and(|outage| !outage.dialing)
    }

    /// Holds the batches whose writes failed in this tick and lets go of
    /// those the store takes writes for again: a held batch is dialed
    /// again once a tick's writes (what was refused, written again, and a
    /// sync) all went through. A batch held for
    /// [`EngineOptions::store_outage_pause_ms`] is paused.
    fn pause_faulted_batches(&mut self, now: Millis) {
        let failed = std::mem::take(&mut self.store_faults);
        if failed.is_empty() && self.store_outages.is_empty() {
            return;
        }
        for (batch_id, reason) in &failed {
            let outage = self
                .store_outages
                .entry(batch_id.clone())
                .or_insert_with(|| StoreOutage {
                    since: now,
                    reason: reason.clone(),
                    dialing: false,
                });
            outage.dialing = false;
        }
        // A batch with nothing to write this tick says nothing of the
        // store: a sync asks it, through the same writer as every write.
        let taking_writes = failed.is_empty() && self.store.sync().is_ok();
        let mut over = Vec::new();
        let mut to_pause = Vec::new();
        for (batch_id, outage) in &mut self.store_outages {
            let failing = failed.contains_key(batch_id) || !taking_writes;
            let lasted = now.saturating_sub(outage.since);
            if outage.dialing && !failing {
                tracing::info!(batch = %batch_id, outage_ms = lasted, "store outage over");
                over.push(batch_id.clone());
            } else if lasted >= self.options.store_outage_pause_ms {
                // Held that long, or failing again once dialed: the pause
                // stands even if the store has just come back.
                outage.dialing = false;
                to_pause.push((batch_id.clone(), outage.reason.clone()));
            } else if failing {
                outage.dialing = false;
            } else {
                tracing::info!(batch = %batch_id, held_ms = lasted, "store takes writes again; the batch dials again");
                outage.dialing = true;
            }
        }
        for batch_id in over {
            self.store_outages.remove(&batch_id);
        }
        for (batch_id, reason) in to_pause {
            let change = StatusChange {
                batch_id: batch_id.clone(),
                to: BatchStatus::Paused,
                reason: Some(reason.clone()),
                by: DISPATCHER.to_string(),
                at: now,
                only_from: vec![BatchStatus::Pending, BatchStatus::InProgress],
            };
            match self.store.set_batch_status(change) {
                Ok(_) => {
                    tracing::warn!(batch = %batch_id, %reason, "batch paused after its store writes failed for too long");
                    self.store_outages.remove(&batch_id);
                }
                Err(StoreError::IllegalTransition(_) | StoreError::Fenced { .. }) => {
                    self.store_outages.remove(&batch_id);
                }
                Err(err) => {
                    // Still held: the pause is tried again next tick.
                    tracing::error!(batch = %batch_id, error = %err, "pausing the batch failed; trying again next tick");
                }
            }
        }
    }

    /// Writes again what the store refused on earlier ticks: provider call
    /// ids, ringing and answered marks, then ended attempts.
    fn write_refused_again(&mut self, now: Millis) {
        if !self.unrecorded_calls.is_empty() {
            let calls = std::mem::take(&mut self.unrecorded_calls);
            self.record_provider_calls(calls);
        }
        if !self.unrecorded_marks.is_empty() {
            let marks = std::mem::take(&mut self.unrecorded_marks);
            self.mark_in_progress(marks);
        }
        if !self.unrecorded_ends.is_empty() {
            let mut unprepared = Vec::new();
            let mut prepared = Vec::new();
            for (attempt_id, (call, end)) in std::mem::take(&mut self.unrecorded_ends) {
                match end {
                    UnrecordedEnd::Unprepared(ending) => unprepared.push(EndedCall {
                        attempt_id,
                        call,
                        ending,
                    }),
                    UnrecordedEnd::Prepared(request) => prepared.push(SentEnd {
                        attempt_id,
                        call,
                        request: *request,
                    }),
                }
            }
            for chunk in in_chunks(prepared, END_CHUNK) {
                self.send_ends(chunk);
            }
            self.record_ends(unprepared, now);
        }
    }

    fn record_provider_calls(&mut self, calls: Vec<(AttemptKey, String)>) {
        if let Err(err) = self.store.record_provider_calls(calls.clone()) {
            self.call_ids_refused(calls, &err);
        }
    }

    /// Keeps call ids the store refused for the next tick.
    fn call_ids_refused(&mut self, calls: Vec<(AttemptKey, String)>, err: &StoreError) {
        if is_store_failure(err) {
            for (key, _) in &calls {
                self.store_fault(&key.batch_id, err);
            }
            self.unrecorded_calls.extend(calls);
        } else {
            tracing::error!(error = %err, "provider call ids not recorded");
        }
    }

    fn mark_in_progress(&mut self, marks: Vec<InProgressMark>) {
        match self.store.mark_calls_in_progress(marks.clone()) {
            Ok(results) => {
                for (result, mark) in results.into_iter().zip(marks) {
                    match result {
                        Ok(()) | Err(StoreError::AttemptNotLive(_)) => {}
                        Err(err) if is_store_failure(&err) => {
                            self.store_fault(&mark.key.batch_id, &err);
                            self.unrecorded_marks.push(mark);
                        }
                        Err(err) => {
                            tracing::error!(attempt = %mark.key.id(), error = %err, "call not marked in progress");
                        }
                    }
                }
            }
            Err(err) if is_store_failure(&err) => {
                for mark in &marks {
                    self.store_fault(&mark.key.batch_id, &err);
                }
                self.unrecorded_marks.extend(marks);
            }
            Err(err) => tracing::error!(error = %err, "calls not marked in progress"),
        }
    }

    /// Applies a drain of provider events: [`Engine::read_events`], then
    /// [`Engine::end_calls`]. Answers how many calls ended.
    fn handle_events(&mut self, events: Vec<ProviderEvent>, now: Millis) -> usize {
        let news = self.read_events(events, now);
        self.end_calls(news, now)
    }

    /// What a drain of provider events says of the live calls: which ring
    /// or answered, and which ended. A call that ends within the drain
    /// skips its intermediate marks (its end carries what they would have
    /// said). Only the provider call ids the events carry are taken now.
    fn read_events(&mut self, events: Vec<ProviderEvent>, now: Millis) -> CallNews {
        let ending: HashSet<String> = events
            .iter()
            .filter(|event| matches!(event.kind, CallEventKind::Ended(_)))
            .map(|event| event.attempt_id.clone())
            .collect();
        let mut news = CallNews::default();
        let mut ended_here = HashSet::new();
        for event in events {
            let Some(live) = self.live.get_mut(&event.attempt_id) else {
                tracing::debug!(attempt = %event.attempt_id, "event for an attempt that is not live ignored");
                continue;
            };
            if !event.provider_call_id.is_empty() {
                live.provider_call_id = Some(event.provider_call_id.clone());
            }
            match event.kind {
                CallEventKind::Ringing | CallEventKind::Answered => {
                    if ending.contains(&event.attempt_id) {
                        continue;
                    }
                    let answered =
                        matches!(event.kind, CallEventKind::Answered).then_some(event.at);
                    news.marks.push(InProgressMark {
                        key: live.key.clone(),
                        provider_call_id: live.provider_call_id.clone(),
                        answered_at: answered,
                        at: event.at.min(now),
                    });
                }
                CallEventKind::Ended(end) => {
                    // A duplicated final event in the same drain is harmless.
                    if !ended_here.insert(event.attempt_id.clone()) {
                        continue;
                    }
                    let mut end = attempt_end(end);
                    end.provider_call_id = live.provider_call_id.clone();
                    news.ends.push((event.attempt_id, Ending::Call(end)));
                }
            }
        }
        news
    }

    /// Writes what [`Engine::read_events`] read: one store write for the
    /// calls that ring or answered, then the ended calls' ends, policy
    /// asked. Answers how many ended.
    fn end_calls(&mut self, news: CallNews, now: Millis) -> usize {
        let CallNews { marks, ends } = news;
        if !marks.is_empty() {
            self.mark_in_progress(marks);
        }
        let ended = ends.len();
        self.finish_all(ends, now);
        ended
    }

    async fn poll(&self, attempt_id: &str) -> Option<ProviderEvent> {
        let live = self.live.get(attempt_id)?;
        let call_id = live.provider_call_id.clone()?;
        let future = self.provider.poll_status(&StatusQuery {
            campaign_id: &live.campaign.1,
            provider_call_id: &call_id,
            attempt_id,
        })?;
        match future.await {
            Ok(event) => event,
            Err(err) => {
                tracing::warn!(attempt = %attempt_id, error = %err, "status poll failed");
                None
            }
        }
    }

    /// How long `campaign` lets a call stay live without its final event.
    fn call_timeout(&self, campaign: &CampaignKey) -> Millis {
        self.campaigns
            .get(campaign)
            .map_or(DAY_MS, |state| state.policy.spec.call_timeout_ms)
    }

    /// [`Engine::call_timeout`] of a live call's campaign.
    fn live_call_timeout(&self, attempt_id: &str) -> Millis {
        self.live
            .get(attempt_id)
            .map_or(DAY_MS, |call| self.call_timeout(&call.campaign))
    }

    /// Asks the provider whether it placed a call for a live attempt whose
    /// placement answer was never recorded; `None` when it cannot be asked
    /// or the question failed.
    async fn find_placement(&self, attempt_id: &str, intent_at: Millis) -> Option<Placement> {
        let live = self.live.get(attempt_id)?;
        let future = self.provider.find_placement(&PlacementQuery {
            campaign_id: &live.campaign.1,
            attempt_id,
            intent_at,
        })?;
        match future.await {
            Ok(placement) => Some(placement),
            Err(err) => {
                tracing::warn!(attempt = %attempt_id, error = %err, "placement query failed");
                None
            }
        }
    }

    /// Follows a call the provider says it placed for a live attempt whose
    /// call id was never recorded.
    fn adopt_call(&mut self, attempt_id: &str, provider_call_id: String) {
        let Some(call) = self.live.get_mut(attempt_id) else {
            return;
        };
        tracing::info!(attempt = %attempt_id, call = %provider_call_id, "the provider placed the call whose answer was lost");
        call.provider_call_id = Some(provider_call_id.clone());
        call.placement_unknown = false;
        let key = call.key.clone();
        self.record_provider_calls(vec![(key, provider_call_id)]);
    }

    /// Ends a live attempt the provider says it never placed: no call rang,
    /// so it is a system retry, due at once and not counted.
    fn never_placed(&mut self, attempt_id: &str, now: Millis) {
        tracing::info!(attempt = %attempt_id, "the provider never placed the call: retrying without counting it");
        self.finish(
            attempt_id,
            Ending::SystemRetry {
                end: host_end(CallOutcome::Failed, "never_placed"),
                at: now,
                blocker: Blocker::RetryWait,
                plugin_fault: false,
            },
            now,
        );
    }

    /// Calls whose final event is overdue: asked about once, then ended as
    /// failed with `lost_final_event`. Answers how many were ended.
    async fn end_overdue(&mut self, now: Millis) -> usize {
        let overdue: Vec<String> = self
            .live
            .iter()
            .filter(|(_, call)| call.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        let mut ended = 0;
        for attempt_id in overdue {
            let already_polled = self.live.get(&attempt_id).is_some_and(|call| call.polled);
            if !already_polled && let Some(event) = self.poll(&attempt_id).await {
                let final_event = matches!(event.kind, CallEventKind::Ended(_));
                self.handle_events(vec![event], now);
                if final_event {
                    ended += 1;
                    continue;
                }
                // Still live by the provider's account: one more timeout.
                let timeout = self.live_call_timeout(&attempt_id);
                if let Some(call) = self.live.get_mut(&attempt_id) {
                    call.polled = true;
                    call.deadline = now + timeout;
                }
                continue;
            }
            let unknown = self
                .live
                .get(&attempt_id)
                .filter(|call| call.placement_unknown && call.provider_call_id.is_none())
                .map(|call| call.deadline);
            if let Some(deadline) = unknown {
                // Never polled, so the deadline is still the placement's.
                let timeout = self.live_call_timeout(&attempt_id);
                match self.find_placement(&attempt_id, deadline - timeout).await {
                    Some(Placement::NeverPlaced) => {
                        self.never_placed(&attempt_id, now);
                        ended += 1;
                        continue;
                    }
                    Some(Placement::Placed { provider_call_id }) => {
                        // Its events, or one more poll at the next timeout,
                        // tell how it went.
                        self.adopt_call(&attempt_id, provider_call_id);
                        if let Some(call) = self.live.get_mut(&attempt_id) {
                            call.deadline = now + timeout;
                        }
                        continue;
                    }
                    Some(Placement::Unknown) | None => {}
                }
            }
            let end = if unknown.is_some() {
                // No event ever came: most likely there was no call, but it
                // cannot be known, so it counts as an attempt.
                tracing::warn!(attempt = %attempt_id, "no event of a call whose placement is unknown, ending the attempt");
                host_end(CallOutcome::Unknown, "placement_unknown")
            } else {
                tracing::warn!(attempt = %attempt_id, "final event overdue, ending the attempt");
                host_end(CallOutcome::Failed, "lost_final_event")
            };
            self.end_attempt(&attempt_id, end, now);
            ended += 1;
        }
        ended
    }

    /// Ends a live attempt after its call: classifier, retry policy, clamps.
    fn end_attempt(&mut self, attempt_id: &str, end: AttemptEnd, now: Millis) {
        self.finish(attempt_id, Ending::Call(end), now)
    }

    fn finish(&mut self, attempt_id: &str, ending: Ending, now: Millis) {
        self.finish_all(vec![(attempt_id.to_string(), ending)], now)
    }

    /// Asks policy about every ending attempt that is live, then records
    /// all of them in one store write.
    fn finish_all(&mut self, endings: Vec<(String, Ending)>, now: Millis) {
        let ends = endings
            .into_iter()
            .filter_map(|(attempt_id, ending)| {
                let call = self.live.remove(&attempt_id)?;
                Some(EndedCall {
                    attempt_id,
                    call,
                    ending,
                })
            })
            .collect();
        self.record_ends(ends, now);
    }

    /// Records ended attempts, [`END_CHUNK`] to a store write, without
    /// waiting for the store: each chunk is written while the next is
    /// prepared (reads, classification, retry decision), and the answers
    /// are taken by [`Engine::take_end_answers`]. An end the store refuses
    /// (or whose inputs it cannot read) is kept in `unrecorded_ends`, slot
    /// and all, for the next tick.
    fn record_ends(&mut self, ends: Vec<EndedCall>, now: Millis) {
        let mut batches = HashMap::new();
        let mut unread = Vec::new();
        for chunk in in_chunks(ends, END_CHUNK) {
            let prepared = self.prepare_ends(chunk, now, &mut batches);
            if !prepared.ready.is_empty() {
                self.send_ends(prepared.ready);
            }
            unread.extend(prepared.unread);
        }
        for (ended, err) in unread {
            let EndedCall {
                attempt_id,
                call,
                ending,
            } = ended;
            self.keep_unrecorded(attempt_id, call, UnrecordedEnd::Unprepared(ending), &err);
        }
    }

    /// Starts one store write of prepared ends; the answer is taken by
    /// [`Engine::take_end_answers`].
    fn send_ends(&mut self, sent: Vec<SentEnd>) {
        let requests = sent.iter().map(|end| end.request.clone()).collect();
        let answer = self.store.start_end_attempts(requests);
        self.ends_in_flight.push((sent, answer));
    }

    /// Waits for the answers to every end write in flight and takes them.
    fn take_end_answers(&mut self) {
        for (sent, answer) in std::mem::take(&mut self.ends_in_flight) {
            self.take_end_results(sent, answer.wait());
        }
    }

    /// The store requests for `ends`, and the ends whose inputs could not
    /// be read. `batches` caches batch records across the chunks of a tick.
    fn prepare_ends(
        &self,
        ends: Vec<EndedCall>,
        now: Millis,
        batches: &mut HashMap<String, BatchRecord>,
    ) -> PreparedEnds {
        // Read ahead together; a contact missing here is read on its own
        // below, where a failed read keeps just that end for later.
        let mut read_ahead = self.read_ahead(&ends).unwrap_or_default();
        let mut prepared = PreparedEnds {
            ready: Vec::with_capacity(ends.len()),
            unread: Vec::new(),
        };
        for ended in ends {
            match self.prepare_end(&ended.call, &ended.ending, now, batches, &mut read_ahead) {
                Ok(request) => prepared.ready.push(SentEnd {
                    attempt_id: ended.attempt_id,
                    call: ended.call,
                    request,
                }),
                Err(EngineError::Store(err)) if is_store_failure(&err) => {
                    prepared.unread.push((ended, err));
                }
                Err(err) => {
                    tracing::error!(attempt = %ended.attempt_id, error = %err, "attempt end not recorded; a restart reconciles it");
                }
            }
        }
        prepared
    }

    /// Takes the store's answer to one write of ends.
    fn take_end_results(
        &mut self,
        sent: Vec<SentEnd>,
        results: Result<Vec<Result<crate::store::EndedAttempt, StoreError>>, StoreError>,
    ) {
        let results = match results {
            Ok(results) => results,
            Err(err) => {
                for end in sent {
                    self.keep_refused(end, &err);
                }
                return;
            }
        };
        for (result, end) in results.into_iter().zip(sent) {
            let attempt_id = &end.attempt_id;
            match result {
                Ok(ended) => {
                    if ended.paused_batch {
                        tracing::warn!(batch = %ended.contact.batch_id, "batch paused after plugin faults in a row");
                    }
                    tracing::debug!(attempt = %ended.attempt.id, status = %ended.contact.status, "attempt ended");
                }
                Err(StoreError::AttemptNotLive(_)) => {
                    tracing::debug!(attempt = %attempt_id, "attempt had ended already");
                }
                Err(err) if is_store_failure(&err) => {
                    self.keep_refused(end, &err);
                }
                Err(err) => {
                    tracing::error!(attempt = %attempt_id, error = %err, "attempt end refused by the store");
                }
            }
        }
    }

    /// The contacts of the calls among `ends` and their attempts, read
    /// together per batch in sequence order.
    fn read_ahead(&self, ends: &[EndedCall]) -> Result<ReadAhead, StoreError> {
        let mut seqs: HashMap<&str, Vec<u64>> = HashMap::new();
        for EndedCall { call, .. } in ends {
            seqs.entry(call.key.batch_id.as_str())
                .or_default()
                .push(call.key.seq);
        }
        let mut read = ReadAhead::default();
        for (batch_id, mut seqs) in seqs {
            seqs.sort_unstable();
            seqs.dedup();
            let read_together = self.store.contacts_with_attempts(batch_id, &seqs)?;
            for ContactHistory { contact, attempts } in read_together.into_iter().flatten() {
                let key = (contact.batch_id.clone(), contact.seq);
                read.histories.insert(key.clone(), attempts);
                read.contacts.insert(key, contact);
            }
        }
        Ok(read)
    }

    fn keep_unrecorded(
        &mut self,
        attempt_id: String,
        call: LiveCall,
        end: UnrecordedEnd,
        err: &StoreError,
    ) {
        if matches!(err, StoreError::Fenced { .. }) {
            // The campaign's new owner reconciles the attempt.
            tracing::warn!(attempt = %attempt_id, error = %err, "end not written: the campaign's lease is lost");
            return;
        }
        self.store_fault(&call.key.batch_id, err);
        self.unrecorded_ends.insert(attempt_id, (call, end));
    }

    /// Keeps an end the store refused to write, as policy decided it.
    fn keep_refused(&mut self, end: SentEnd, err: &StoreError) {
        let SentEnd {
            attempt_id,
            call,
            request,
        } = end;
        let end = UnrecordedEnd::Prepared(Box::new(request));
        self.keep_unrecorded(attempt_id, call, end, err);
    }

    /// The store request that ends a live attempt, with policy's answer.
    /// `batches` caches batch records across the attempts of one tick;
    /// `read_ahead` holds the contacts and histories read ahead for them.
    fn prepare_end(
        &self,
        live: &LiveCall,
        ending: &Ending,
        now: Millis,
        batches: &mut HashMap<String, BatchRecord>,
        read_ahead: &mut ReadAhead,
    ) -> Result<EndAttempt, EngineError> {
        let key = live.key.clone();
        if !batches.contains_key(&key.batch_id) {
            let record = self.batch(&key.batch_id)?;
            batches.insert(key.batch_id.clone(), record);
        }
        let batch = &batches[&key.batch_id];
        let contact = match read_ahead.contacts.remove(&(key.batch_id.clone(), key.seq)) {
            Some(contact) => contact,
            None => self.store.contact(&key.batch_id, key.seq)?.ok_or_else(|| {
                StoreError::ContactNotFound {
                    batch: key.batch_id.clone(),
                    seq: key.seq,
                }
            })?,
        };
        let state =
            self.campaigns
                .get(&live.campaign)
                .ok_or_else(|| EngineError::UnknownCampaign {
                    batch: batch.id.clone(),
                    campaign: batch.campaign_id.clone(),
                })?;
        let spec = &state.policy.spec;
        let request = match ending.clone() {
            Ending::SystemRetry {
                end,
                at,
                blocker,
                plugin_fault,
            } => {
                let (status, final_reason, next_at) =
                    if contact.system_retries + 1 >= MAX_SYSTEM_RETRIES {
                        (
                            ContactStatus::Failed,
                            Some("provider_unavailable".to_string()),
                            None,
                        )
                    } else {
                        (ContactStatus::Retrying, None, Some(at))
                    };
                EndAttempt {
                    key: key.clone(),
                    at: now,
                    end,
                    disposition: None,
                    decision: None,
                    next: NextStep {
                        status,
                        next_eligible_at: next_at,
                        blocker: next_at.map(|_| blocker),
                        final_reason,
                        give_up_status: ContactStatus::Failed,
                    },
                    counts_as_attempt: false,
                    plugin_faulted: plugin_fault.then_some(true),
                    max_consecutive_plugin_faults: if plugin_fault {
                        spec.max_consecutive_plugin_faults
                    } else {
                        0
                    },
                    success: false,
                    suppress: None,
                }
            }
            Ending::Fatal { end, reason } => EndAttempt {
                key: key.clone(),
                at: now,
                end,
                disposition: None,
                decision: None,
                next: NextStep {
                    status: ContactStatus::Failed,
                    next_eligible_at: None,
                    blocker: None,
                    final_reason: Some(reason),
                    give_up_status: ContactStatus::Failed,
                },
                counts_as_attempt: true,
                plugin_faulted: None,
                max_consecutive_plugin_faults: 0,
                success: false,
                suppress: None,
            },
            Ending::Call(mut end) => {
                if end.cost_micros.is_none()
                    && let Some(rate) = spec.cost_per_minute_micros
                {
                    // Charged per second of talk time.
                    let cost = (u128::from(end.talk_ms / 1_000) * u128::from(rate)).div_ceil(60);
                    end.cost_micros = Some(cost as u64);
                }
                let history = match read_ahead
                    .histories
                    .remove(&(key.batch_id.clone(), key.seq))
                {
                    Some(history) => history,
                    None => self.store.attempts(&key.batch_id, key.seq)?,
                };
                let attempt = EndingAttempt {
                    key: &key,
                    campaign: state,
                    batch,
                    contact: &contact,
                };
                let mut request = self.decide(attempt, history, end, now);
                request.success = limits::is_success(
                    spec,
                    batch,
                    request.disposition.as_ref().map(|d| d.label.as_str()),
                    request.next.status,
                );
                request
            }
        };
        Ok(request)
    }

    /// The store request that ends `attempt` after its call, `end`: the
    /// classifier's disposition, the retry strategy's decision clamped by
    /// the host, and the contact's next step. `history` is the contact's
    /// attempts as stored.
    fn decide(
        &self,
        attempt: EndingAttempt<'_>,
        mut history: Vec<Attempt>,
        end: AttemptEnd,
        now: Millis,
    ) -> EndAttempt {
        let EndingAttempt {
            key,
            campaign: state,
            batch,
            contact,
        } = attempt;
        let spec = &state.policy.spec;
        let zone = contact_zone(state, batch, contact);
        let model_contact = contact.to_contact();
        let index = history
            .iter()
            .position(|attempt| attempt.number == key.number)
            .unwrap_or(history.len());
        let mut current = history
            .get(index)
            .cloned()
            .unwrap_or_else(|| Attempt::started(key.id(), key.number, now));
        crate::store::apply_end(&mut current, &end, now);
        history.truncate(index);
        let previous = history;

        let mut faults: Vec<String> = Vec::new();
        let classifier = &state.policy.classifier;
        // Handed to the policies and taken back: a plugin reads it in
        // place, without a copy.
        let classify_request = Arc::new(ClassifyRequest {
            contact: model_contact,
            attempt: current,
            previous,
        });
        let (disposition, classifier_id) = match classifier.classify(&classify_request) {
            Ok(disposition) => (disposition, classifier.identity().to_string()),
            Err(fault) => {
                faults.push(fault_line(&fault));
                let fallback = self
                    .builtin_classifier
                    .classify(&classify_request)
                    .unwrap_or_else(|_| failed_disposition());
                (fallback, self.builtin_classifier.identity().to_string())
            }
        };
        let ClassifyRequest {
            contact: model_contact,
            attempt: mut current,
            previous,
        } = Arc::unwrap_or_clone(classify_request);
        current.disposition = Some(disposition.clone());
        let outcome = current.outcome.unwrap_or(CallOutcome::Unknown);
        let mut all = previous;
        all.push(current);

        let tally = Tally::of(spec, batch, contact);
        let max_attempts = tally.max_attempts;
        let retry = match &batch.retry {
            None => Ok(state.policy.retry.clone()),
            Some(retry) => self
                .batch_retries
                .get(&batch.id, retry)
                .map_err(|why| PolicyFault {
                    plugin: retry.plugin.clone(),
                    message: format!("the batch's retry strategy cannot be loaded: {why}"),
                }),
        };
        let request = Arc::new(RetryRequest {
            contact: model_contact,
            history: all,
            max_attempts,
            now,
            now_local: LocalTime::at(now, zone),
        });
        let decided = retry.and_then(|retry| {
            retry
                .decide(&request)
                .map(|decision| (decision, retry.identity().to_string()))
        });
        let (decision, retry_id) = match decided {
            Ok(decided) => decided,
            Err(fault) => {
                faults.push(fault_line(&fault));
                let fallback = self
                    .builtin_retry
                    .decide(&request)
                    .unwrap_or(Decision::GiveUp {
                        reason: "built-in retry policy failed".to_string(),
                    });
                (fallback, self.builtin_retry.identity().to_string())
            }
        };

        let give_up_status = give_up_status(outcome);
        let attempts_made = contact.attempts_made;
        let window = window_of(state, &self.batch_windows, batch);
        let (decision, adjusted) = clamp(decision, &window, zone, batch.end_at, &tally, now);
        // A strategy sees a follow-up past the attempts as one attempt more
        // and gives up with "4 of 3 attempts made"; the host names the
        // limit instead, unless the call itself ended the contact.
        let (decision, adjusted) = match decision {
            Decision::GiveUp { .. }
                if adjusted.is_none()
                    && tally.followups_made > 0
                    && tally.attempts_used_up()
                    && !disposition.terminal =>
            {
                let reason = "max_attempts_reached".to_string();
                (Decision::GiveUp { reason }, Some(tally.describe()))
            }
            decision => (decision, adjusted),
        };
        let reason_from_end = crate::model::metadata_reason(&end.metadata).map(str::to_string);
        let next = match &decision {
            Decision::RetryAt { at } => NextStep {
                status: ContactStatus::Retrying,
                next_eligible_at: Some(*at),
                blocker: (*at > now).then_some(Blocker::RetryWait),
                final_reason: None,
                give_up_status,
            },
            Decision::FollowUpAt { at } => NextStep {
                status: ContactStatus::FollowupScheduled,
                next_eligible_at: Some(*at),
                blocker: (*at > now).then_some(Blocker::RetryWait),
                final_reason: None,
                give_up_status,
            },
            Decision::GiveUp { reason } => {
                // With one attempt allowed, the outcome says more than
                // "max retries reached" would.
                let exhausted = max_attempts > 1
                    && attempts_made >= max_attempts
                    && !disposition.terminal
                    && outcome != CallOutcome::Answered;
                NextStep {
                    status: if exhausted {
                        ContactStatus::MaxRetriesReached
                    } else {
                        give_up_status
                    },
                    next_eligible_at: None,
                    blocker: None,
                    final_reason: Some(reason_from_end.unwrap_or_else(|| reason.clone())),
                    give_up_status,
                }
            }
        };
        let faulted = !faults.is_empty();
        // A person who asked not to be called again is called by no
        // campaign of the workspace, from the same change as this end.
        let suppress = spec
            .suppress_on
            .contains(&disposition.label)
            .then(|| SuppressionAdd {
                list: DNC_INTERNAL.to_string(),
                reason: format!("disposition {} in campaign {}", disposition.label, spec.id),
            });
        EndAttempt {
            key: key.clone(),
            at: now,
            end,
            disposition: Some(disposition),
            decision: Some(DecisionRecord {
                decision,
                adjusted,
                retry_plugin: retry_id,
                classifier_plugin: classifier_id,
                faults,
                decided_at: now,
            }),
            next,
            counts_as_attempt: true,
            plugin_faulted: Some(faulted),
            max_consecutive_plugin_faults: spec.max_consecutive_plugin_faults,
            success: false,
            suppress,
        }
    }

    /// Reconciles the live index if a write of dial intents failed, moves
    /// batches through their lifecycle, and queues the dial intents of the
    /// due contacts every limit admits.
    fn admit_and_dial(&mut self, now: Millis) -> Result<Admitted, EngineError> {
        if self.reconcile_live {
            // Attempts whose end is being written are live in the store
            // and no longer in the engine: their answers come first.
            self.take_end_answers();
            self.reconcile_live_index(now)?;
        }
        let lifecycle = self.advance_batches(now)?;
        Ok(Admitted {
            started_batches: lifecycle.started,
            finished_batches: lifecycle.finished,
            intents: self.admit_due_contacts(now)?,
        })
    }

    /// Compares the store's live index with the engine's after a group of
    /// dial intents failed. An attempt the store holds that the engine does
    /// not was written although the write answered an error, and was never
    /// placed (calls are placed only for intents the store confirmed): it
    /// ends as a system retry, not counted, and the contact is dialed again
    /// later under a new attempt id.
    fn reconcile_live_index(&mut self, now: Millis) -> Result<(), EngineError> {
        let stored = self.store.live_attempts()?;
        self.reconcile_live = false;
        for live in stored {
            if self.live.contains_key(&live.attempt_id)
                || self.unrecorded_ends.contains_key(&live.attempt_id)
            {
                continue;
            }
            let batch = self.batch(&live.batch_id)?;
            let campaign = (batch.workspace.clone(), batch.campaign_id.clone());
            if !self.campaigns.contains_key(&campaign) || !self.holds_lease(&campaign) {
                continue;
            }
            tracing::warn!(attempt = %live.attempt_id, "dial intent written despite a store error; never placed, retried");
            let key = live.key();
            self.live.insert(
                live.attempt_id.clone(),
                LiveCall {
                    key,
                    campaign,
                    deadline: now,
                    provider_call_id: None,
                    polled: true,
                    placement_unknown: false,
                },
            );
            self.finish(
                &live.attempt_id,
                Ending::SystemRetry {
                    end: host_end(CallOutcome::Failed, "store_error"),
                    at: now,
                    blocker: Blocker::RetryWait,
                    plugin_fault: false,
                },
                now,
            );
        }
        Ok(())
    }

    fn batch(&self, batch_id: &str) -> Result<BatchRecord, EngineError> {
        Ok(self.store.require_batch(batch_id)?)
    }

    /// Batch lifecycle: start at scheduled_start, expire at end_at,
    /// complete when every contact is final.
    fn advance_batches(&mut self, now: Millis) -> Result<Lifecycle, EngineError> {
        let mut started = 0;
        let mut finished = 0;
        for batch in self.store.open_batches()? {
            if self.leased_elsewhere(&(batch.workspace.clone(), batch.campaign_id.clone())) {
                continue;
            }
            let change = |to, reason: &str, only_from: Vec<BatchStatus>| StatusChange {
                batch_id: batch.id.clone(),
                to,
                reason: Some(reason.to_string()),
                by: DISPATCHER.to_string(),
                at: now,
                only_from,
            };
            if batch.end_at.is_some_and(|end| end <= now) {
                match self.store.set_batch_status(change(
                    BatchStatus::Expired,
                    "end_window",
                    Vec::new(),
                )) {
                    Ok(_) => {
                        let skipped = self.store.skip_waiting(&batch.id, "batch_expired", now)?;
                        tracing::info!(batch = %batch.id, skipped, "batch expired");
                        finished += 1;
                    }
                    Err(StoreError::IllegalTransition(_)) => {}
                    Err(err) => return Err(err.into()),
                }
                continue;
            }
            match batch.status {
                BatchStatus::Pending if batch.scheduled_start.is_none_or(|at| at <= now) => {
                    match self.store.set_batch_status(change(
                        BatchStatus::InProgress,
                        "scheduled_start",
                        vec![BatchStatus::Pending],
                    )) {
                        Ok(_) => {
                            tracing::info!(batch = %batch.id, "batch started");
                            started += 1;
                        }
                        Err(StoreError::IllegalTransition(_)) => {}
                        Err(err) => return Err(err.into()),
                    }
                }
                BatchStatus::InProgress => {
                    let goal_met = self.goal_met(&batch)?;
                    if goal_met {
                        // The rest is skipped; live calls finish, and a
                        // retry they decide on is skipped on a later tick.
                        let skipped = self.store.skip_waiting(&batch.id, "goal_reached", now)?;
                        if skipped > 0 {
                            tracing::info!(batch = %batch.id, skipped, "goal reached");
                        }
                    }
                    let counters = self.store.batch_counters(&batch.id)?;
                    if counters.finished() == counters.total {
                        let reason = if goal_met {
                            "goal_reached"
                        } else {
                            "all_contacts_final"
                        };
                        match self.store.set_batch_status(change(
                            BatchStatus::Completed,
                            reason,
                            vec![BatchStatus::InProgress],
                        )) {
                            Ok(_) => {
                                tracing::info!(batch = %batch.id, "batch completed");
                                finished += 1;
                            }
                            Err(StoreError::IllegalTransition(_)) => {}
                            Err(err) => return Err(err.into()),
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Lifecycle { started, finished })
    }

    /// Whether a goal of the batch or its campaign is met.
    fn goal_met(&self, batch: &BatchRecord) -> Result<bool, EngineError> {
        let campaign = (batch.workspace.clone(), batch.campaign_id.clone());
        let Some(state) = self.campaigns.get(&campaign) else {
            return Ok(false);
        };
        let halt = limits::halt(self.store.as_ref(), &state.policy.spec, batch)?;
        Ok(halt == Some(Blocker::GoalReached))
    }

    /// Admits the due contacts of in-progress batches that every limit
    /// lets through, and queues their dial intents to the store.
    fn admit_due_contacts(&mut self, now: Millis) -> Result<Option<Intents>, EngineError> {
        let mut batches: Vec<BatchRecord> = self
            .store
            .open_batches()?
            .into_iter()
            .filter(|batch| {
                let campaign = (batch.workspace.clone(), batch.campaign_id.clone());
                batch.status == BatchStatus::InProgress
                    && !self.held(&batch.id)
                    && !self.leased_elsewhere(&campaign)
                    && !self.surplus.contains(&campaign)
            })
            .collect();
        if batches.is_empty() {
            return Ok(None);
        }
        self.round = self.round.wrapping_add(1);
        let shift = self.round % batches.len();
        batches.rotate_left(shift);

        let mut live_per_campaign: HashMap<&CampaignKey, u32> = HashMap::new();
        let mut live_per_batch: HashMap<&str, u32> = HashMap::new();
        // An end the store has not taken yet, or not answered yet, still
        // holds its slot: the store may yet refuse it.
        let unrecorded = self.unrecorded_ends.values().map(|(call, _)| call);
        let in_flight = self
            .ends_in_flight
            .iter()
            .flat_map(|(sent, _)| sent.iter().map(|end| &end.call));
        for call in self.live.values().chain(unrecorded).chain(in_flight) {
            *live_per_campaign.entry(&call.campaign).or_default() += 1;
            *live_per_batch
                .entry(call.key.batch_id.as_str())
                .or_default() += 1;
        }
        let mut campaign_slots: HashMap<CampaignKey, u32> = HashMap::new();
        let mut batch_slots: HashMap<String, u32> = HashMap::new();
        let mut candidates: Vec<(usize, std::vec::IntoIter<ContactRecord>)> = Vec::new();
        let mut halted: HashMap<String, Blocker> = HashMap::new();
        let mut states_read: Vec<CampaignKey> = Vec::new();
        for (index, batch) in batches.iter().enumerate() {
            let campaign = (batch.workspace.clone(), batch.campaign_id.clone());
            let Some(state) = self.campaigns.get_mut(&campaign) else {
                tracing::warn!(batch = %batch.id, campaign = %batch.campaign_id, "batch of an unknown campaign not dialed");
                continue;
            };
            if let Some(blocker) = limits::halt(self.store.as_ref(), &state.policy.spec, batch)? {
                halted.insert(batch.id.clone(), blocker);
            }
            if let Some(retry) = &batch.retry
                && self.batch_retries.get(&batch.id, retry).is_err()
            {
                halted
                    .entry(batch.id.clone())
                    .or_insert(Blocker::PluginFaulted);
            }
            if let Some(gate) = &batch.gate
                && self.batch_gates.get(&batch.id, gate).is_err()
            {
                halted
                    .entry(batch.id.clone())
                    .or_insert(Blocker::PluginFaulted);
            }
            if let Some(hours) = &batch.hours
                && !self.batch_windows.contains_key(&batch.id)
            {
                match CompiledWindow::new(&hours.calling_window) {
                    Ok(window) => {
                        self.batch_windows.insert(batch.id.clone(), window);
                    }
                    Err(err) => {
                        tracing::error!(batch = %batch.id, error = %err, "the batch's hours do not compile: the campaign's window applies");
                    }
                }
            }
            let has_pool = !state.policy.spec.numbers.is_empty()
                || batch.numbers.as_ref().is_some_and(|pool| !pool.is_empty());
            if has_pool && !states_read.contains(&campaign) {
                state.number_states = self
                    .store
                    .number_states(&batch.workspace, &batch.campaign_id)?
                    .into_iter()
                    .collect();
                states_read.push(campaign.clone());
            }
            let state = &*state;
            let campaign_live = live_per_campaign.get(&campaign).copied().unwrap_or(0);
            campaign_slots
                .entry(campaign.clone())
                .or_insert_with(|| state.policy.spec.concurrency.saturating_sub(campaign_live));
            let batch_limit = batch.concurrency.unwrap_or(state.policy.spec.concurrency);
            let batch_live = live_per_batch.get(batch.id.as_str()).copied().unwrap_or(0);
            batch_slots.insert(batch.id.clone(), batch_limit.saturating_sub(batch_live));
            let due = self.store.due(&batch.id, now, self.options.scan_limit)?;
            candidates.push((index, due.into_iter()));
            if let Some(rate) = batch.calls_per_second {
                self.batch_limits
                    .entry(batch.id.clone())
                    .or_insert_with(|| BatchLimits {
                        bucket: Some(TokenBucket::new(rate.max(0.001), rate.max(1.0), now)),
                    });
            }
        }

        // Round-robin over the batches, one contact at a time, so one large
        // batch cannot starve the others of slots and tokens.
        let mut begins: Vec<BeginAttempt> = Vec::new();
        let mut dial_info: Vec<Dial> = Vec::new();
        let mut blockers: BTreeMap<String, Vec<BlockerUpdate>> = BTreeMap::new();
        loop {
            let mut progressed = false;
            for (index, due) in candidates.iter_mut() {
                let Some(contact) = due.next() else { continue };
                progressed = true;
                let batch = &batches[*index];
                let campaign = (batch.workspace.clone(), batch.campaign_id.clone());
                let state = self
                    .campaigns
                    .get_mut(&campaign)
                    .expect("candidates only come from known campaigns");
                let zone = contact_zone(state, batch, &contact);
                let closed_until = {
                    let window = window_of(state, &self.batch_windows, batch);
                    (!window.is_open(zone, now))
                        .then(|| window.next_open(zone, now).unwrap_or(now + DAY_MS))
                };
                let (pool, _) = numbers::pool_of(&state.policy.spec, batch);
                let verdict = if let Some(opens) = closed_until {
                    Err((Blocker::OutsideWindow, Some(opens)))
                } else if let Some(blocker) = halted.get(&batch.id) {
                    Err((*blocker, None))
                } else if let Err(until) = pool_usable(pool, &state.number_states, now) {
                    // Looked at again when a rest ends, else every minute.
                    Err((
                        Blocker::NoNumberAvailable,
                        Some(until.unwrap_or(now + MINUTE_MS)),
                    ))
                } else if state.throttled_until > now {
                    Err((Blocker::ProviderThrottled, None))
                } else if campaign_slots.get(&campaign).copied().unwrap_or(0) == 0
                    || batch_slots.get(&batch.id).copied().unwrap_or(0) == 0
                {
                    Err((Blocker::ConcurrencyFull, None))
                } else if self
                    .batch_limits
                    .get_mut(&batch.id)
                    .and_then(|limits| limits.bucket.as_mut())
                    .is_some_and(|bucket| bucket.try_take(now).is_err())
                    || state.bucket.try_take(now).is_err()
                {
                    Err((Blocker::RateLimited, None))
                } else {
                    Ok(())
                };
                match verdict {
                    Err((blocker, until)) => {
                        if contact.blocker != Some(blocker)
                            || until.is_some_and(|at| contact.next_eligible_at != Some(at))
                        {
                            blockers
                                .entry(batch.id.clone())
                                .or_default()
                                .push(BlockerUpdate {
                                    seq: contact.seq,
                                    blocker: Some(blocker),
                                    next_eligible_at: until,
                                    note: None,
                                    plugin_fault: false,
                                    reason: None,
                                });
                        }
                    }
                    Ok(()) => {
                        if let Some(slots) = campaign_slots.get_mut(&campaign) {
                            *slots -= 1;
                        }
                        if let Some(slots) = batch_slots.get_mut(&batch.id) {
                            *slots -= 1;
                        }
                        let from = pick_number(state, batch, &contact, now);
                        let (variant, parameters) = pick_variant(&state.policy.spec, &contact);
                        // Only a follow-up is ever scheduled once the
                        // attempts are used up (see `clamp`).
                        let followup =
                            contact.attempts_made >= Tally::max_attempts(&state.policy.spec, batch);
                        begins.push(BeginAttempt {
                            batch_id: batch.id.clone(),
                            seq: contact.seq,
                            at: now,
                            from_number: from,
                            variant,
                            followup,
                            gate: None,
                        });
                        dial_info.push((campaign, contact, parameters));
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        let by_id: HashMap<&str, &BatchRecord> = batches
            .iter()
            .map(|batch| (batch.id.as_str(), batch))
            .collect();
        let gated = self.screen_dials(begins, dial_info, &by_id, now)?;
        let (begins, dial_info) = (gated.begins, gated.dials);
        for (batch_id, updates) in gated.deferred {
            blockers.entry(batch_id).or_default().extend(updates);
        }
        for (batch_id, updates) in blockers {
            self.store.set_blockers(&batch_id, updates, now)?;
        }
        self.skip_screened(gated.skipped, now)?;
        if begins.is_empty() {
            return Ok(None);
        }
        let begun: Vec<String> = begins.iter().map(|begin| begin.batch_id.clone()).collect();
        let answers = in_chunks(begins, INTENT_CHUNK)
            .map(|chunk| self.store.start_begin_attempts(chunk))
            .collect();
        Ok(Some(Intents {
            begun,
            answers,
            dial_info,
        }))
    }

    /// Places the calls of the intents the store made durable, and writes
    /// the provider's call ids.
    async fn place(&mut self, intents: Intents, now: Millis) -> Dialing {
        // The dial intents are durable, in one group commit, before any
        // provider hears of them: a crash from here on finds them in the
        // live index and never dials them twice.
        let Intents {
            begun,
            answers,
            dial_info,
        } = intents;
        let results = match Pending::wait_all(answers) {
            Ok(results) => results,
            Err(err) => {
                // Nothing is dialed on an intent the store did not confirm,
                // nor on the others of the tick; the store's live index
                // tells which were written anyway.
                for batch_id in begun {
                    self.store_fault(&batch_id, &err);
                }
                self.reconcile_live = true;
                return Dialing::default();
            }
        };
        let mut calls = Vec::new();
        let mut suppressed = Vec::new();
        for (result, (campaign, contact, parameters)) in results.into_iter().zip(dial_info) {
            let attempt = match result {
                Ok(attempt) => attempt,
                Err(StoreError::NumberSuppressed { list, .. }) => {
                    // Listed after the tick read the lists: the store's
                    // own check refused the intent.
                    suppressed.push((contact.batch_id, contact.seq, format!("suppressed:{list}")));
                    continue;
                }
                Err(err) if is_store_failure(&err) => {
                    self.store_fault(&contact.batch_id, &err);
                    self.reconcile_live = true;
                    continue;
                }
                Err(err) => {
                    tracing::debug!(batch = %contact.batch_id, seq = contact.seq, error = %err, "dial refused by the store");
                    continue;
                }
            };
            let timeout = self.call_timeout(&campaign);
            let key = AttemptKey {
                batch_id: contact.batch_id.clone(),
                seq: contact.seq,
                number: attempt.number,
            };
            let campaign_id = campaign.1.clone();
            let may_place = self.store.may_place(&campaign.0, &campaign.1);
            self.live.insert(
                attempt.id.clone(),
                LiveCall {
                    key,
                    campaign,
                    deadline: now + timeout,
                    provider_call_id: None,
                    polled: false,
                    placement_unknown: false,
                },
            );
            if !may_place {
                // The lease runs out before the call could leave: not
                // placed, so it ends as a system retry; refused, the
                // campaign's next owner finds it never placed.
                tracing::warn!(attempt = %attempt.id, "campaign lease running out: call not placed");
                self.never_placed(&attempt.id, now);
                continue;
            }
            calls.push(PlaceCall {
                attempt_id: attempt.id,
                campaign_id,
                batch_id: contact.batch_id.clone(),
                contact_id: contact.contact_id.clone(),
                to: contact.phone.clone(),
                from: attempt.from_number.unwrap_or_default(),
                parameters,
            });
        }
        if let Err(err) = self.skip_screened(suppressed, now) {
            tracing::warn!(error = %err, "skipping suppressed contacts failed; they are refused again next time");
        }

        let mut placing = tokio::task::JoinSet::new();
        let count = calls.len();
        for (index, call) in calls.into_iter().enumerate() {
            let provider = self.provider.clone();
            placing.spawn(async move {
                let attempt_id = call.attempt_id.clone();
                (index, attempt_id, provider.place_call(call, now).await)
            });
        }
        // Completion order varies; results are handled in dial order so a
        // run is reproducible, each as soon as those before it are in, so
        // the store writes call ids while the rest are being placed.
        let mut placed: Vec<Option<PlacementAnswer>> = (0..count).map(|_| None).collect();
        let mut handled = 0;
        let mut call_ids = CallIdWrites::default();
        let mut dialed = 0;
        while let Some(joined) = placing.join_next().await {
            match joined {
                Ok((index, attempt_id, result)) => placed[index] = Some((attempt_id, result)),
                Err(err) => tracing::error!(error = %err, "placing a call panicked"),
            }
            while let Some(Some((attempt_id, result))) = placed.get_mut(handled).map(Option::take) {
                handled += 1;
                dialed += self.take_placement(attempt_id, result, &mut call_ids, now);
            }
        }
        // Behind a placement that panicked.
        for (attempt_id, result) in placed.into_iter().flatten() {
            dialed += self.take_placement(attempt_id, result, &mut call_ids, now);
        }
        let synced = self.finish_call_ids(call_ids);
        Dialing {
            placed: dialed,
            synced,
        }
    }

    /// Takes the provider's answer to one placement: an accepted call's id
    /// joins the call ids being written. Answers 1 for an accepted call.
    fn take_placement(
        &mut self,
        attempt_id: String,
        result: Result<String, ProviderFailure>,
        call_ids: &mut CallIdWrites,
        now: Millis,
    ) -> usize {
        match result {
            Ok(call_id) => {
                if let Some(call) = self.live.get_mut(&attempt_id) {
                    call.provider_call_id = Some(call_id.clone());
                    call_ids.filling.push((call.key.clone(), call_id));
                    if call_ids.filling.len() >= CALL_ID_CHUNK {
                        let chunk = std::mem::take(&mut call_ids.filling);
                        let answer = self.store.start_recording_provider_calls(chunk.clone());
                        call_ids.started.push((chunk, answer));
                    }
                }
                1
            }
            Err(failure) => {
                self.provider_refused(&attempt_id, failure, now);
                0
            }
        }
    }

    /// Writes the call ids not yet started, durably: that group commit
    /// makes the started ones durable too, and every write queued before
    /// it. A chunk the store refused, or every chunk if the commit failed,
    /// is written again next tick. Answers whether there was a commit.
    fn finish_call_ids(&mut self, call_ids: CallIdWrites) -> bool {
        let CallIdWrites { started, filling } = call_ids;
        let mut refused = Vec::new();
        let mut applied = Vec::new();
        for (chunk, answer) in started {
            match answer.wait() {
                Ok(()) => applied.push(chunk),
                Err(err) => refused.push((chunk, err)),
            }
        }
        if filling.is_empty() && applied.is_empty() && refused.is_empty() {
            return false;
        }
        let synced = if filling.is_empty() {
            self.store.sync()
        } else {
            self.store.record_provider_calls(filling.clone())
        };
        for (calls, err) in refused {
            self.call_ids_refused(calls, &err);
        }
        let committed = synced.is_ok();
        if let Err(err) = synced {
            for calls in applied.into_iter().chain([filling]) {
                self.call_ids_refused(calls, &err);
            }
        }
        committed
    }

    fn provider_refused(&mut self, attempt_id: &str, failure: ProviderFailure, now: Millis) {
        if let ProviderFailure::PlacementUnknown(detail) = &failure {
            // A retry now could ring the person while the first call rings.
            // The call's events end the attempt if it exists; the call
            // timeout ends it if none come.
            tracing::warn!(attempt = %attempt_id, error = %detail, "no answer to a call placement: waiting for the call's events");
            if let Some(call) = self.live.get_mut(attempt_id) {
                call.placement_unknown = true;
                let note = PlacementNote {
                    key: call.key.clone(),
                    at: now,
                    detail: format!(
                        "the provider did not answer the call placement ({detail}): the call may \
                         exist, so the attempt waits for its events and ends as unknown without them"
                    ),
                };
                // The log only explains the wait; the attempt is safe without it.
                if let Err(err) = self.store.note_unknown_placements(vec![note]) {
                    tracing::warn!(attempt = %attempt_id, error = %err, "could not note the unknown placement");
                }
            }
            return;
        }
        tracing::info!(attempt = %attempt_id, error = %failure, "provider refused the call");
        let Some(call) = self.live.get(attempt_id) else {
            return;
        };
        let campaign = call.campaign.clone();
        // Unreadable, the count of earlier system retries is taken as none:
        // the backoff is shorter, the call is still not lost.
        let system_retries = match self.store.contact(&call.key.batch_id, call.key.seq) {
            Ok(contact) => contact.map_or(0, |c| c.system_retries),
            Err(err) => {
                tracing::warn!(attempt = %attempt_id, error = %err, "contact unreadable after a refused call");
                0
            }
        };
        let ending = match &failure {
            ProviderFailure::Throttled { retry_after_ms } => {
                let until = now + (*retry_after_ms as Millis).max(1);
                if let Some(state) = self.campaigns.get_mut(&campaign) {
                    state.throttled_until = state.throttled_until.max(until);
                }
                Ending::SystemRetry {
                    end: host_end(CallOutcome::Failed, "provider_throttled"),
                    at: until,
                    blocker: Blocker::ProviderThrottled,
                    plugin_fault: false,
                }
            }
            ProviderFailure::Transient(_) | ProviderFailure::Auth(_) => {
                let backoff = self.options.transient_backoff_ms << system_retries.min(6);
                Ending::SystemRetry {
                    end: host_end(CallOutcome::Failed, "provider_transient_failure"),
                    at: now + backoff,
                    blocker: Blocker::RetryWait,
                    plugin_fault: false,
                }
            }
            ProviderFailure::PluginFault(detail) => {
                let backoff = self.options.transient_backoff_ms << system_retries.min(6);
                let mut end = host_end(CallOutcome::Failed, "provider_plugin_fault");
                end.metadata.push(("detail".to_string(), detail.clone()));
                Ending::SystemRetry {
                    end,
                    at: now + backoff,
                    blocker: Blocker::PluginFaulted,
                    plugin_fault: true,
                }
            }
            ProviderFailure::InvalidNumber(detail) => Ending::Fatal {
                end: host_end(CallOutcome::Failed, "invalid_number"),
                reason: format!("invalid_number: {detail}"),
            },
            ProviderFailure::Permanent(detail) => Ending::Fatal {
                end: host_end(CallOutcome::Failed, "provider_refused"),
                reason: format!("provider_refused: {detail}"),
            },
            ProviderFailure::PlacementUnknown(_) => unreachable!("answered above"),
        };
        self.finish(attempt_id, ending, now)
    }
}

/// The zone a contact is called in: its own, else inferred from its
/// number, else the default of the batch's hours or of the campaign.
fn contact_zone(state: &CampaignState, batch: &BatchRecord, contact: &ContactRecord) -> Tz {
    let spec = &state.policy.spec;
    let (policy, default) = match &batch.hours {
        Some(hours) => (hours.time_zone_policy, hours.default_time_zone.as_str()),
        None => (spec.time_zone_policy, spec.default_time_zone.as_str()),
    };
    let explicit = (!contact.time_zone.is_empty()).then_some(contact.time_zone.as_str());
    resolve_time_zone(explicit, &contact.phone, policy, default)
}

/// The calling window of a batch: its own hours, else its campaign's.
fn window_of<'a>(
    state: &'a CampaignState,
    compiled: &'a HashMap<String, CompiledWindow>,
    batch: &BatchRecord,
) -> Cow<'a, CompiledWindow> {
    let Some(hours) = &batch.hours else {
        return Cow::Borrowed(&state.window);
    };
    if let Some(window) = compiled.get(&batch.id) {
        return Cow::Borrowed(window);
    }
    // An attempt may end before the batch is dialed in this run.
    match CompiledWindow::new(&hours.calling_window) {
        Ok(window) => Cow::Owned(window),
        Err(err) => {
            tracing::error!(batch = %batch.id, error = %err, "the batch's hours do not compile: the campaign's window applies");
            Cow::Borrowed(&state.window)
        }
    }
}

/// The final status of a contact the policy gave up on, by outcome.
fn give_up_status(outcome: CallOutcome) -> ContactStatus {
    match outcome {
        CallOutcome::Answered => ContactStatus::Completed,
        CallOutcome::Busy => ContactStatus::Busy,
        CallOutcome::NoAnswer => ContactStatus::NoAnswer,
        CallOutcome::Failed | CallOutcome::Canceled | CallOutcome::Unknown => ContactStatus::Failed,
    }
}

/// A contact's dials against its limits.
struct Tally {
    attempts_made: u32,
    max_attempts: u32,
    followups_made: u32,
    max_followups: u32,
}

impl Tally {
    fn of(spec: &CampaignSpec, batch: &BatchRecord, contact: &ContactRecord) -> Tally {
        Tally {
            attempts_made: contact.attempts_made,
            max_attempts: Tally::max_attempts(spec, batch),
            followups_made: contact.followups_made,
            max_followups: batch.max_followups_under(spec),
        }
    }

    fn max_attempts(spec: &CampaignSpec, batch: &BatchRecord) -> u32 {
        batch.max_attempts_under(spec).max(1)
    }

    fn attempts_used_up(&self) -> bool {
        self.attempts_made >= self.max_attempts
    }

    /// "3 of 3 attempts made", with the follow-ups once there are any.
    fn describe(&self) -> String {
        let attempts = format!("{} of {} attempts", self.attempts_made, self.max_attempts);
        if self.followups_made == 0 && self.max_followups == 0 {
            format!("{attempts} made")
        } else {
            format!(
                "{attempts} and {} of {} follow-ups made",
                self.followups_made, self.max_followups
            )
        }
    }
}

/// Holds a plugin's decision to the host's rules: never in the past, never
/// outside the calling window, never after the end window, never past the
/// attempt limit, and a follow-up past it only within the follow-up limit.
/// Answers the decision carried out and why it changed.
fn clamp(
    decision: Decision,
    window: &CompiledWindow,
    zone: Tz,
    end_at: Option<Millis>,
    tally: &Tally,
    now: Millis,
) -> (Decision, Option<String>) {
    let (at, follow_up) = match decision {
        Decision::GiveUp { .. } => return (decision, None),
        Decision::RetryAt { at } => (at, false),
        Decision::FollowUpAt { at } => (at, true),
    };
    if tally.attempts_used_up() && (!follow_up || tally.followups_made >= tally.max_followups) {
        let reason = if follow_up {
            "max_followups_reached"
        } else {
            "max_attempts_reached"
        };
        return (
            Decision::GiveUp {
                reason: reason.to_string(),
            },
            Some(tally.describe()),
        );
    }
    let mut adjusted = None;
    let mut at = at;
    if at < now {
        at = now;
        adjusted = Some("moved from the past to now".to_string());
    }
    if !window.is_open(zone, at) {
        match window.next_open(zone, at) {
            Some(opens) => {
                adjusted = Some(format!(
                    "moved from {at} to the calling window opening at {opens}"
                ));
                at = opens;
            }
            None => {
                return (
                    Decision::GiveUp {
                        reason: "calling_window_never_opens".to_string(),
                    },
                    Some("the calling window does not open again".to_string()),
                );
            }
        }
    }
    if end_at.is_some_and(|end| at >= end) {
        return (
            Decision::GiveUp {
                reason: "after_end_window".to_string(),
            },
            Some(format!("{at} is after the batch's end window")),
        );
    }
    let decision = if follow_up {
        Decision::FollowUpAt { at }
    } else {
        Decision::RetryAt { at }
    };
    (decision, adjusted)
}

fn fault_line(fault: &PolicyFault) -> String {
    fault.to_string()
}

fn failed_disposition() -> Disposition {
    Disposition {
        label: "failed".to_string(),
        terminal: false,
        score: None,
        sentiment: None,
        follow_up_at: None,
    }
}

/// An end the host writes itself, with `reason` in the metadata.
fn host_end(outcome: CallOutcome, reason: &str) -> AttemptEnd {
    AttemptEnd {
        outcome: Some(outcome),
        metadata: vec![("reason".to_string(), reason.to_string())],
        ..AttemptEnd::default()
    }
}

fn attempt_end(end: CallEnd) -> AttemptEnd {
    AttemptEnd {
        outcome: Some(end.outcome),
        provider_call_id: None,
        sip_code: end.sip_code,
        talk_ms: end.talk_ms,
        ring_ms: end.ring_ms,
        machine_detection: end.machine_detection,
        transcript: end.transcript,
        cost_micros: end.cost_micros,
        metadata: end.metadata,
    }
}

/// Ok when the pool is empty (the provider's default caller id) or has a
/// usable number; else when the earliest resting number comes back.
fn pool_usable(
    pool: &[FromNumber],
    states: &HashMap<String, NumberState>,
    now: Millis,
) -> Result<(), Option<Millis>> {
    if pool.is_empty() || pool.iter().any(|n| numbers::is_usable(n, states, now)) {
        return Ok(());
    }
    Err(pool
        .iter()
        .filter_map(|n| {
            let (enabled, rested) = states
                .get(&n.number)
                .map_or((n.enabled, n.rested_until), |s| (s.enabled, s.rested_until));
            rested.filter(|_| enabled)
        })
        .min())
}

/// The caller id for a dial, by the pool's strategy.
fn pick_number(
    state: &mut CampaignState,
    batch: &BatchRecord,
    contact: &ContactRecord,
    now: Millis,
) -> Option<String> {
    let spec = &state.policy.spec;
    let (pool, strategy) = numbers::pool_of(spec, batch);
    let rotation_key = if batch.numbers.is_some() {
        batch.id.as_str()
    } else {
        ""
    };
    let rotation = match state.rotations.get_mut(rotation_key) {
        Some(rotation) => rotation,
        None => state.rotations.entry(rotation_key.to_string()).or_default(),
    };
    match rotation.pick(
        pool,
        strategy,
        &state.number_states,
        &contact.phone,
        contact.from_number.as_deref(),
        now,
    ) {
        Pick::Number(number) => Some(number),
        Pick::ProviderDefault | Pick::NoneUsable { .. } => None,
    }
}

/// The contact's A/B variant (kept once assigned) and its parameters.
fn pick_variant(
    spec: &CampaignSpec,
    contact: &ContactRecord,
) -> (Option<String>, Vec<(String, String)>) {
    let chosen = match &contact.variant {
        Some(name) => spec.variants.iter().find(|v| &v.name == name),
        None => limits::assign_variant(&spec.variants, &contact.batch_id, &contact.contact_id),
    };
    match chosen {
        Some(variant) => (Some(variant.name.clone()), variant.parameters.clone()),
        None => (contact.variant.clone(), Vec::new()),
    }
}

mod gate;
#[cfg(test)]
mod tests;
