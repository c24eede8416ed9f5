//! Durable storage behind the `Store` trait.
//!
//! Every operation is a whole state change (create a batch with its
//! contacts, begin an attempt, end one, change a batch's status) rather than
//! raw key/value access, so a shared database can implement the same trait
//! for several dispatcher nodes. The rules of every change are computed
//! above the backend, by the pure functions of [`ledger`]: a backend loads
//! the records a change reads, applies the change the ledger returns, and
//! answers queries. The embedded backend is [`SledStore`]; sled's types
//! never leave `sled_store.rs` and `keys.rs`. [`PostgresStore`] keeps the
//! same records in a PostgreSQL database (`postgres/`).
//!
//! # What every backend guarantees
//!
//! - **Each change is atomic.** A write applies all of its change or none
//!   of it, whatever fails or crashes: the records, the counters and
//!   statistics that count them, the contact-log lines and the journal
//!   entries. Counters therefore always equal a recount. A group write
//!   (`begin_attempts`, `mark_calls_in_progress`, `end_attempts`) answers
//!   each item on its own: a refused item leaves no trace and the others
//!   are applied, together. A batch created in chunks appears with its
//!   last write and not before; an abandoned or interrupted create leaves
//!   nothing.
//! - **Durable before an outside effect.** These return only once their
//!   change survives a power cut, because something outside acts on them
//!   next: `begin_attempts` (the call is placed), `record_provider_calls`
//!   (recovery asks the provider by that id), `create_batch*` (the API
//!   acknowledges the batch), `set_batch_status`, `skip_contact`,
//!   `skip_contacts`, `skip_waiting`, `make_retries_due`,
//!   `set_number_state`, `create_suppression_list`, `add_suppressions`,
//!   `remove_suppressions` (the API acknowledges them), `save_webhook_endpoint` (the delivery cursor moves
//!   past an event its receiver answered with a 2xx: a crash before it
//!   delivers the event again, never loses it) and `sync`. The others
//!   (`end_attempts`, `mark_calls_in_progress`, `set_blockers`,
//!   `note_unknown_placements`, the started variants) may be lost by a
//!   crash, never half-applied; any later durable write or `sync` makes
//!   every write applied before it durable too. The engine syncs its ends
//!   before the tick's next outside effect.
//! - **The pause fence.** Writes of one batch are applied one after
//!   another, each seeing every write applied before it. Once a
//!   `set_batch_status` away from in progress has returned, no dial intent
//!   of that batch is accepted (`BatchNotDialing`) until a status change
//!   back to in progress. Ends of its live calls are still accepted; a
//!   retry of a batch that ended meanwhile becomes the end's give-up
//!   status.
//! - **The journal's order.** Journal events get strictly increasing seqs
//!   in the order their writes were applied, and within one write in the
//!   order the ledger returned them (`call.ended` before the
//!   `contact.finalized` and `batch.paused` it caused). A seq is never
//!   reused, and `prune_journal` removes only the oldest events, so a
//!   reader that has seen seq n has seen every event before it that is
//!   still kept.
//!
//! How writes are grouped is the backend's own affair. sled's backend runs
//! them on one writer thread and acknowledges a group of durable writes
//! after one flush and `fsync`; a backend whose commits are transactions
//! makes each write one transaction and answers its `Pending` at once
//! ([`Pending::ready`]).

mod attempt_page;
mod keys;
pub mod ledger;
mod postgres;
mod sled_store;

pub use postgres::{DEFAULT_LEASE_TTL, PostgresConfig, PostgresStore};
pub use sled_store::SledStore;
// The records the store keeps are the model's; they are named here too, as
// the store's contract reads and answers them.
pub use crate::model::{
    AttemptKey, AttemptTotals, BatchRecord, ContactEvent, ContactRecord, Counters, DialTotals,
    EndedSummary, JournalEvent, LabelCount, LiveAttempt, MAX_DIAL_SLOTS, MinuteTotals, NumberState,
    NumberTotals, RecentCall, VariantTotals, WebhookDelivery, WebhookEndpointState, blocker_index,
    is_failure, minute_of, sentiment_micros,
};
pub use crate::model::{
    DNC_INTERNAL, NewSuppression, NewSuppressionList, PhoneHistory, SuppressionAdd,
    SuppressionEntry, SuppressionHit, SuppressionList, SuppressionWrite,
};

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::{
    Attempt, BadAttemptId, BatchGate, BatchHours, BatchRetry, BatchStatus, Blocker, CallOutcome,
    ContactStatus, DecisionRecord, Disposition, FromNumber, Goal, IllegalTransition,
    MachineDetection, Millis, NumberStrategy, UploadRecord,
};

/// Whether a durable write waits for the data to reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// Flush and `fsync` the data files before acknowledging a write that
    /// precedes an outside effect.
    #[default]
    Full,
    /// Flush without `fsync`: survives a process crash, not a power cut.
    /// For benchmark comparison.
    Relaxed,
}

/// How a store is opened.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreConfig {
    /// The database directory.
    pub path: PathBuf,
    /// Bound of sled's page cache, in bytes. Default: 64 MiB. In the
    /// pipeline benchmark it dialed 7 % faster than 16 MiB at 100,000
    /// contacts and 19 % faster at 1,000,000, where 16 MiB made sled read
    /// back evicted nodes from disk; it costs 20 to 40 MiB more at peak.
    pub cache_capacity_bytes: u64,
    /// Default: full.
    pub durability: Durability,
}

impl StoreConfig {
    /// The default configuration for a database at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StoreConfig {
            path: path.into(),
            cache_capacity_bytes: 64 * 1024 * 1024,
            durability: Durability::Full,
        }
    }
}

/// The answer to a write the store has started: [`Pending::wait`] gives
/// it. Writes are applied in the order they were started, so a write
/// started after this one, and waited for, finds this one applied.
#[must_use = "a started write's answer tells whether it was applied"]
pub struct Pending<T>(PendingAnswer<T>);

enum PendingAnswer<T> {
    Ready(Result<T, StoreError>),
    Waiting(std::sync::mpsc::Receiver<Result<T, StoreError>>),
}

impl<T> Pending<T> {
    /// A write that was applied (or refused) before this returned.
    pub fn ready(answer: Result<T, StoreError>) -> Pending<T> {
        Pending(PendingAnswer::Ready(answer))
    }

    pub(crate) fn waiting(answer: std::sync::mpsc::Receiver<Result<T, StoreError>>) -> Pending<T> {
        Pending(PendingAnswer::Waiting(answer))
    }

    /// Waits for the write's answer.
    pub fn wait(self) -> Result<T, StoreError> {
        match self.0 {
            PendingAnswer::Ready(answer) => answer,
            PendingAnswer::Waiting(answer) => answer.recv().map_err(|_| StoreError::WriterGone)?,
        }
    }
}

impl<R> Pending<Vec<R>> {
    /// Waits for every write of `writes` and answers their results in
    /// order, or the first error once all are answered. Each write is
    /// atomic, not the whole: after an error some may have been applied.
    pub fn wait_all(writes: Vec<Pending<Vec<R>>>) -> Result<Vec<R>, StoreError> {
        let mut results = Vec::new();
        let mut failure = None;
        for write in writes {
            match write.wait() {
                Ok(answered) => results.extend(answered),
                Err(err) => failure = failure.or(Some(err)),
            }
        }
        failure.map_or(Ok(results), Err)
    }
}

/// `items` in order, `size` to a vector: a long list on its way to the
/// store in writes of bounded size.
pub(crate) fn in_chunks<T>(items: Vec<T>, size: usize) -> impl Iterator<Item = Vec<T>> {
    let mut rest = items.into_iter().peekable();
    std::iter::from_fn(move || {
        rest.peek()?;
        Some(rest.by_ref().take(size).collect())
    })
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open store at \"{path}\": {message}")]
    Open { path: String, message: String },
    #[error("storage i/o failed: {0}")]
    Io(String),
    #[error("stored record \"{key}\" is corrupt: {message}")]
    Corrupt { key: String, message: String },
    #[error("batch \"{0}\" not found")]
    BatchNotFound(String),
    #[error("contact {seq} of batch \"{batch}\" not found")]
    ContactNotFound { batch: String, seq: u64 },
    #[error("attempt \"{0}\" not found")]
    AttemptNotFound(String),
    #[error("attempt \"{0}\" is not live")]
    AttemptNotLive(String),
    #[error("malformed attempt id \"{0}\"")]
    BadAttemptId(String),
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    #[error("batch \"{batch}\" is {status}, not dialing")]
    BatchNotDialing { batch: String, status: BatchStatus },
    #[error("contact {seq} of batch \"{batch}\" is not eligible before {next_eligible_at}")]
    NotYetEligible {
        batch: String,
        seq: u64,
        next_eligible_at: Millis,
    },
    #[error(
        "batch \"{batch}\" has two contacts with id \"{contact_id}\": numbers {} and {} of the upload",
        .seqs.0 + 1,
        .seqs.1 + 1
    )]
    DuplicateContact {
        batch: String,
        contact_id: String,
        /// The two contacts' sequence numbers (upload order, from 0).
        seqs: (u64, u64),
    },
    #[error("malformed page cursor \"{0}\"")]
    BadCursor(String),
    #[error("{0}")]
    InvalidSuppressionListName(String),
    #[error("suppression list \"{list}\" already exists in workspace \"{workspace}\"")]
    SuppressionListExists { workspace: String, list: String },
    #[error("suppression list \"{list}\" not found in workspace \"{workspace}\"")]
    SuppressionListNotFound { workspace: String, list: String },
    #[error("{phone} is on suppression list \"{list}\": not dialed")]
    NumberSuppressed { phone: String, list: String },
    #[error("the store's writer has stopped")]
    WriterGone,
    #[error(
        "this node does not hold the lease of campaign \"{campaign}\" of workspace \"{workspace}\": another node dials it"
    )]
    Fenced { workspace: String, campaign: String },
}

impl From<BadAttemptId> for StoreError {
    fn from(bad: BadAttemptId) -> StoreError {
        StoreError::BadAttemptId(bad.0)
    }
}

/// A batch of contacts to dial, as it is created.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewBatch {
    pub workspace: String,
    pub campaign_id: String,
    pub created_at: Millis,
    /// No dial before this; `None` starts at once.
    pub scheduled_start: Option<Millis>,
    /// End window: the batch expires at this time.
    pub end_at: Option<Millis>,
    /// Overrides of the campaign's limits.
    pub concurrency: Option<u32>,
    pub max_attempts: Option<u32>,
    pub max_followups: Option<u32>,
    pub calls_per_second: Option<f64>,
    /// Overrides of the campaign's number pool and strategy.
    pub numbers: Option<Vec<FromNumber>>,
    pub number_strategy: Option<NumberStrategy>,
    /// Spending limit of this batch alone, in millionths; the campaign's
    /// budget applies as well.
    pub budget_micros: Option<u64>,
    /// Success target of this batch alone; the campaign's goal applies as
    /// well.
    pub goal: Option<Goal>,
    /// Working hours replacing the campaign's calling window.
    pub hours: Option<BatchHours>,
    /// Retry strategy replacing the campaign's.
    pub retry: Option<BatchRetry>,
    /// Dial gate replacing the campaign's.
    pub gate: Option<BatchGate>,
    /// A repeated create with the same key answers the first batch.
    pub idempotency_key: Option<String>,
    /// sha256 of the request that created the batch, so a retry under the
    /// same idempotency key can be told apart from a different request.
    pub request_sha256: Option<String>,
    pub created_by: String,
    pub contacts: Vec<NewContact>,
}

/// What a batch created in chunks is fed.
#[derive(Debug)]
pub enum ContactChunk {
    /// The next contacts, in upload order.
    Contacts(Vec<NewContact>),
    /// The upload failed after all: nothing of the batch may stay.
    Abandon,
    /// What the upload was, known once it is read whole; kept with the
    /// batch.
    Upload(UploadRecord),
}

/// One contact of a new batch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewContact {
    pub contact_id: String,
    /// E.164.
    pub phone: String,
    pub name: Option<String>,
    /// Resolved IANA zone.
    pub time_zone: String,
    pub attributes: Vec<(String, String)>,
    pub variant: Option<String>,
}

/// A contact with its attempts, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactHistory {
    pub contact: ContactRecord,
    pub attempts: Vec<Attempt>,
}

/// A contact with everything that happened to it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactDetail {
    pub contact: ContactRecord,
    pub attempts: Vec<Attempt>,
    pub events: Vec<ContactEvent>,
}

/// A dial intent for a due contact.
#[derive(Debug, Clone, PartialEq)]
pub struct BeginAttempt {
    pub batch_id: String,
    pub seq: u64,
    pub at: Millis,
    pub from_number: Option<String>,
    pub variant: Option<String>,
    /// A follow-up the person asked for, dialed once the attempts are used
    /// up: it counts against the follow-up limit instead.
    pub followup: bool,
    /// The sha256 of the dial gate that allowed the dial, if one was asked.
    pub gate: Option<String>,
}

/// How an attempt ended, as the provider (or the host) reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttemptEnd {
    pub outcome: Option<CallOutcome>,
    pub provider_call_id: Option<String>,
    pub sip_code: Option<u16>,
    pub talk_ms: u64,
    pub ring_ms: u64,
    pub machine_detection: MachineDetection,
    pub transcript: Option<String>,
    pub cost_micros: Option<u64>,
    pub metadata: Vec<(String, String)>,
}

/// Writes how an attempt ended onto it.
pub fn apply_end(attempt: &mut Attempt, end: &AttemptEnd, at: Millis) {
    if let Some(call_id) = &end.provider_call_id {
        attempt.provider_call_id = Some(call_id.clone());
    }
    attempt.ended_at = Some(at);
    attempt.outcome = end.outcome;
    attempt.sip_code = end.sip_code;
    attempt.talk_ms = end.talk_ms;
    attempt.ring_ms = end.ring_ms;
    attempt.machine_detection = end.machine_detection;
    attempt.transcript = end.transcript.clone();
    attempt.cost_micros = end.cost_micros;
    attempt.metadata = end.metadata.clone();
    if attempt.answered_at.is_none() && attempt.outcome == Some(CallOutcome::Answered) {
        attempt.answered_at = Some(at.saturating_sub(attempt.talk_ms as Millis));
    }
}

/// Where a contact goes after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct NextStep {
    pub status: ContactStatus,
    /// For a waiting status: when it may be dialed again.
    pub next_eligible_at: Option<Millis>,
    pub blocker: Option<Blocker>,
    /// For a final status.
    pub final_reason: Option<String>,
    /// The final status used instead of a waiting one when the batch was
    /// cancelled or expired while the call was live.
    pub give_up_status: ContactStatus,
}

/// Everything recorded when an attempt ends.
#[derive(Debug, Clone, PartialEq)]
pub struct EndAttempt {
    pub key: AttemptKey,
    pub at: Millis,
    pub end: AttemptEnd,
    pub disposition: Option<Disposition>,
    pub decision: Option<DecisionRecord>,
    pub next: NextStep,
    /// False when the call never reached the network (throttled, transient
    /// provider failure): it becomes a system retry instead.
    pub counts_as_attempt: bool,
    /// `Some(true)` when a plugin faulted on this attempt, `Some(false)`
    /// when both answered, `None` when none was asked.
    pub plugin_faulted: Option<bool>,
    /// Pause the batch with `plugin_faulted` once this many faults came in
    /// a row; 0 never pauses.
    pub max_consecutive_plugin_faults: u32,
    /// The attempt reached a success (counts toward goals).
    pub success: bool,
    /// Adds the contact's number to a suppression list of the batch's
    /// workspace in the same write as the end (`dnc-internal` is created
    /// if need be; another list must exist, else the end is refused).
    pub suppress: Option<SuppressionAdd>,
}

/// What ending an attempt did.
#[derive(Debug, Clone, PartialEq)]
pub struct EndedAttempt {
    pub contact: ContactRecord,
    pub attempt: Attempt,
    /// True when this attempt's fault paused the batch.
    pub paused_batch: bool,
}

/// A live call rings or was answered.
#[derive(Debug, Clone, PartialEq)]
pub struct InProgressMark {
    pub key: AttemptKey,
    pub provider_call_id: Option<String>,
    pub answered_at: Option<Millis>,
    pub at: Millis,
}

/// The one result of a batched call made with one item.
fn only_result<T>(results: Vec<Result<T, StoreError>>) -> Result<T, StoreError> {
    results.into_iter().next().unwrap_or_else(|| {
        Err(StoreError::Io(
            "a batched write answered nothing".to_string(),
        ))
    })
}

/// A live attempt whose call placement the provider never answered.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacementNote {
    pub key: AttemptKey,
    pub at: Millis,
    /// What went unanswered, for the contact's log.
    pub detail: String,
}

/// A change of a waiting contact's blocker or eligibility.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockerUpdate {
    pub seq: u64,
    pub blocker: Option<Blocker>,
    /// Moves the contact in the due index when set.
    pub next_eligible_at: Option<Millis>,
    /// A line for the contact's log (a dial gate's verdict, say), written
    /// even when the blocker does not change.
    pub note: Option<String>,
    /// A plugin faulted on the contact's dial: counted with the batch's
    /// plugin faults.
    pub plugin_fault: bool,
    /// Why the blocker holds the contact, kept with it until its blocker
    /// changes.
    pub reason: Option<String>,
}

/// A batch status change.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub batch_id: String,
    pub to: BatchStatus,
    pub reason: Option<String>,
    pub by: String,
    pub at: Millis,
    /// Only change when the batch currently has one of these statuses;
    /// empty means any status the transition table allows.
    pub only_from: Vec<BatchStatus>,
}

/// Which batches to list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchQuery {
    pub workspace: String,
    /// Only this campaign's batches.
    pub campaign_id: Option<String>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    pub limit: usize,
}

/// Which contacts of a batch to list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactQuery {
    pub batch_id: String,
    pub status: Option<ContactStatus>,
    pub cursor: Option<String>,
    pub limit: usize,
}

/// Which attempts of a batch to read: in contact order, each contact's
/// oldest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttemptQuery {
    pub batch_id: String,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Most attempts in the page.
    pub limit: usize,
}

/// One attempt of a batch with the contact it dialed, for reports.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchAttempt {
    pub seq: u64,
    pub contact_id: String,
    pub phone: String,
    pub attempt: Attempt,
}

/// Where a page of [`Store::batch_attempts`] ends: the contact and the
/// number of its last attempt, as "seq.number".
fn attempt_cursor(seq: u64, number: u32) -> String {
    format!("{seq}.{number}")
}

/// The contact and attempt number an attempt cursor names.
pub(crate) fn parse_attempt_cursor(cursor: &str) -> Result<(u64, u32), StoreError> {
    let bad = || StoreError::BadCursor(cursor.to_string());
    let (seq, number) = cursor.split_once('.').ok_or_else(bad)?;
    Ok((
        seq.parse().map_err(|_| bad())?,
        number.parse().map_err(|_| bad())?,
    ))
}

/// Appends `attempts` of contact `contact` to a page being filled, past
/// the cursor's attempt `after` of contact `from`; answers the page's
/// cursor once it holds `limit` attempts.
pub(crate) fn fill_attempt_page(
    items: &mut Vec<BatchAttempt>,
    contact: (u64, &str, &str),
    attempts: Vec<Attempt>,
    after: (u64, u32),
    limit: usize,
) -> Option<String> {
    let (seq, contact_id, phone) = contact;
    for attempt in attempts {
        if seq == after.0 && attempt.number <= after.1 {
            continue;
        }
        let number = attempt.number;
        items.push(BatchAttempt {
            seq,
            contact_id: contact_id.to_string(),
            phone: phone.to_string(),
            attempt,
        });
        if items.len() >= limit {
            return Some(attempt_cursor(seq, number));
        }
    }
    None
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back for the next page; `None` on the last one.
    pub next_cursor: Option<String>,
}

/// A created batch, or the one an idempotency key already named.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedBatch {
    pub batch: BatchRecord,
    /// False when the idempotency key named an existing batch.
    pub created: bool,
}

/// Which entries of a suppression list to list: in phone order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SuppressionQuery {
    pub workspace: String,
    pub list: String,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    pub limit: usize,
}

/// A campaign a node may dial, and the epoch of its lease: a new epoch is
/// a new lease, taken over from whoever held it before.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lease {
    pub workspace: String,
    pub campaign_id: String,
    pub epoch: i64,
}

/// The campaigns a node may dial, after a lease round.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaseRound {
    /// Every campaign whose lease the node holds, sorted.
    pub held: Vec<Lease>,
    /// (workspace, campaign id) of held campaigns beyond the node's fair
    /// share: no new dials, and the lease handed back
    /// ([`Store::release_lease`]) once their calls have ended.
    pub surplus: Vec<(String, String)>,
}

/// Durable state of batches, contacts, attempts and their counters, and
/// of each workspace's suppression lists and phone histories.
///
/// A store several processes share leases each campaign to one of them at
/// a time; a store of one process holds every lease, which the default
/// lease methods answer.
pub trait Store: Send + Sync {
    /// Renews this process's leases and takes its fair share of the free
    /// ones among `campaigns` (workspace, campaign id): the campaigns it
    /// may dial. Cheap to call every tick: a round runs only every few
    /// seconds.
    fn lease_campaigns(&self, campaigns: &[(String, String)]) -> Result<LeaseRound, StoreError> {
        let mut held: Vec<Lease> = campaigns
            .iter()
            .map(|(workspace, campaign_id)| Lease {
                workspace: workspace.clone(),
                campaign_id: campaign_id.clone(),
                epoch: 0,
            })
            .collect();
        held.sort();
        Ok(LeaseRound {
            held,
            surplus: Vec::new(),
        })
    }
    /// Whether a call of the campaign may leave now: its lease is held,
    /// by this process's own clock, with time to spare.
    fn may_place(&self, _workspace: &str, _campaign_id: &str) -> bool {
        true
    }
    /// Whether this process delivers the outbound webhooks of
    /// `endpoint_id` now: it takes the endpoint's lease when free or run
    /// out and renews it while held, so one process at a time posts its
    /// events. Cheap to call before every post.
    fn lease_webhook_endpoint(&self, _endpoint_id: &str) -> Result<bool, StoreError> {
        Ok(true)
    }
    /// Hands a campaign's lease back, so another process may take it now.
    fn release_lease(&self, _workspace: &str, _campaign_id: &str) -> Result<(), StoreError> {
        Ok(())
    }
    /// Creates a batch whose contacts arrive in chunks, so an upload of any
    /// size is never whole in memory: `batch.contacts` first, then each
    /// chunk until `chunks` ends. The batch appears, durably, with the last
    /// write and not before; a [`ContactChunk::Abandon`] or an error
    /// removes what was written of it, and `Ok(None)` answers an abandon.
    /// A repeated idempotency key answers the first batch without reading
    /// `chunks`.
    fn create_batch_in_chunks(
        &self,
        batch: NewBatch,
        chunks: &mut dyn Iterator<Item = ContactChunk>,
    ) -> Result<Option<CreatedBatch>, StoreError>;
    /// Creates a batch and all its contacts; see
    /// [`create_batch_in_chunks`](Store::create_batch_in_chunks).
    fn create_batch(&self, batch: NewBatch) -> Result<CreatedBatch, StoreError> {
        let created = self.create_batch_in_chunks(batch, &mut std::iter::empty())?;
        Ok(created.expect("a create without chunks is never abandoned"))
    }
    /// One batch.
    fn batch(&self, batch_id: &str) -> Result<Option<BatchRecord>, StoreError>;
    /// One batch, or `BatchNotFound` naming it.
    fn require_batch(&self, batch_id: &str) -> Result<BatchRecord, StoreError> {
        self.batch(batch_id)?
            .ok_or_else(|| StoreError::BatchNotFound(batch_id.to_string()))
    }
    /// A workspace's batches, newest first.
    fn list_batches(&self, query: &BatchQuery) -> Result<Page<BatchRecord>, StoreError>;
    /// Batches that are not final yet (pending, in progress, paused).
    fn open_batches(&self) -> Result<Vec<BatchRecord>, StoreError>;
    /// One contact.
    fn contact(&self, batch_id: &str, seq: u64) -> Result<Option<ContactRecord>, StoreError>;
    /// One contact with its attempts and events, for the debug view.
    fn contact_detail(&self, batch_id: &str, seq: u64)
    -> Result<Option<ContactDetail>, StoreError>;
    /// A contact's attempts, oldest first.
    fn attempts(&self, batch_id: &str, seq: u64) -> Result<Vec<Attempt>, StoreError>;
    /// Several contacts of one batch with their attempts, in the order of
    /// `seqs`; cheaper than a `contact` and an `attempts` call each when
    /// they sit close together.
    fn contacts_with_attempts(
        &self,
        batch_id: &str,
        seqs: &[u64],
    ) -> Result<Vec<Option<ContactHistory>>, StoreError> {
        seqs.iter()
            .map(|seq| match self.contact(batch_id, *seq)? {
                Some(contact) => Ok(Some(ContactHistory {
                    contact,
                    attempts: self.attempts(batch_id, *seq)?,
                })),
                None => Ok(None),
            })
            .collect()
    }
    /// A batch's contacts in sequence order, optionally of one status.
    fn list_contacts(&self, query: &ContactQuery) -> Result<Page<ContactRecord>, StoreError>;
    /// A page of a batch's attempts, live ones included: in contact order,
    /// each contact's oldest first, at most `limit`, so a report of any
    /// size is read a page at a time.
    fn batch_attempts(&self, query: &AttemptQuery) -> Result<Page<BatchAttempt>, StoreError> {
        let after = match &query.cursor {
            Some(cursor) => parse_attempt_cursor(cursor)?,
            None => (0, 0),
        };
        let limit = query.limit.max(1);
        let mut items = Vec::new();
        // The cursor's contact may have attempts left: list from it.
        let mut contacts = after.0.checked_sub(1).map(|seq| seq.to_string());
        loop {
            let page = self.list_contacts(&ContactQuery {
                batch_id: query.batch_id.clone(),
                status: None,
                cursor: contacts,
                limit: limit.min(500),
            })?;
            for contact in page.items {
                if contact.attempt_records == 0 || contact.seq < after.0 {
                    continue;
                }
                let attempts = self.attempts(&query.batch_id, contact.seq)?;
                let seat = (
                    contact.seq,
                    contact.contact_id.as_str(),
                    contact.phone.as_str(),
                );
                if let Some(next) = fill_attempt_page(&mut items, seat, attempts, after, limit) {
                    return Ok(Page {
                        items,
                        next_cursor: Some(next),
                    });
                }
            }
            match page.next_cursor {
                Some(next) => contacts = Some(next),
                None => {
                    return Ok(Page {
                        items,
                        next_cursor: None,
                    });
                }
            }
        }
    }
    /// Up to `limit` waiting contacts eligible at `now`, earliest first.
    fn due(
        &self,
        batch_id: &str,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<ContactRecord>, StoreError>;
    /// When the earliest waiting contact becomes eligible.
    fn next_eligible_at(&self, batch_id: &str) -> Result<Option<Millis>, StoreError>;
    /// Makes dial intents durable, in one group commit; each succeeds or
    /// fails on its own (batch not dialing, contact not waiting or not due).
    /// An error answered for the whole may still leave some written.
    fn begin_attempts(
        &self,
        begins: Vec<BeginAttempt>,
    ) -> Result<Vec<Result<Attempt, StoreError>>, StoreError>;
    /// [`Store::begin_attempts`], started without waiting for the answer,
    /// which comes once the intents are durable. Callers start at most a
    /// few hundred at a time. A store without a writer of its own writes
    /// before it returns.
    fn start_begin_attempts(
        &self,
        begins: Vec<BeginAttempt>,
    ) -> Pending<Vec<Result<Attempt, StoreError>>> {
        Pending::ready(self.begin_attempts(begins))
    }
    /// Records the provider's call ids of accepted calls, durably.
    fn record_provider_calls(&self, calls: Vec<(AttemptKey, String)>) -> Result<(), StoreError>;
    /// [`Store::record_provider_calls`], started without waiting for the
    /// answer and without a sync of its own: a later durable write or
    /// [`Store::sync`] makes it durable. A store without a writer of its
    /// own writes, durably, before it returns.
    fn start_recording_provider_calls(&self, calls: Vec<(AttemptKey, String)>) -> Pending<()> {
        Pending::ready(self.record_provider_calls(calls))
    }
    /// Tells in each attempt's contact log that its call placement went
    /// unanswered, so the attempt waits for the call's events; an attempt
    /// that has ended since is left alone.
    fn note_unknown_placements(&self, notes: Vec<PlacementNote>) -> Result<(), StoreError>;
    /// Calls ring or were answered: one write for all of them; each mark
    /// succeeds or fails on its own (its attempt is no longer live).
    fn mark_calls_in_progress(
        &self,
        marks: Vec<InProgressMark>,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError>;
    /// The call rings or was answered.
    fn mark_in_progress(
        &self,
        key: &AttemptKey,
        provider_call_id: Option<String>,
        answered_at: Option<Millis>,
        at: Millis,
    ) -> Result<(), StoreError> {
        let mark = InProgressMark {
            key: key.clone(),
            provider_call_id,
            answered_at,
            at,
        };
        only_result(self.mark_calls_in_progress(vec![mark])?)
    }
    /// Ends live attempts and moves their contacts on, in one atomic write
    /// that is not synced: callers group many and then call
    /// [`Store::sync`]. Each end succeeds or fails on its own.
    fn end_attempts(
        &self,
        ends: Vec<EndAttempt>,
    ) -> Result<Vec<Result<EndedAttempt, StoreError>>, StoreError>;
    /// [`Store::end_attempts`], started without waiting for the answer:
    /// the caller goes on while the store writes. A store without a writer
    /// of its own writes before it returns.
    fn start_end_attempts(
        &self,
        ends: Vec<EndAttempt>,
    ) -> Pending<Vec<Result<EndedAttempt, StoreError>>> {
        Pending::ready(self.end_attempts(ends))
    }
    /// Ends one live attempt; see [`Store::end_attempts`].
    fn end_attempt(&self, end: EndAttempt) -> Result<EndedAttempt, StoreError> {
        only_result(self.end_attempts(vec![end])?)
    }
    /// Sets blockers and eligibility of waiting contacts; others are left
    /// alone.
    fn set_blockers(
        &self,
        batch_id: &str,
        updates: Vec<BlockerUpdate>,
        at: Millis,
    ) -> Result<(), StoreError>;
    /// Takes waiting contacts of one batch out, in one durable write; each
    /// skip succeeds or fails on its own (a contact no longer waiting is
    /// refused and left alone). A reason starting "suppressed:" or "gate:"
    /// is counted in [`Counters::suppressed`] or [`Counters::gate_skipped`].
    fn skip_contacts(
        &self,
        batch_id: &str,
        skips: Vec<(u64, String)>,
        at: Millis,
    ) -> Result<Vec<Result<ContactRecord, StoreError>>, StoreError>;
    /// Takes a waiting contact out.
    fn skip_contact(
        &self,
        batch_id: &str,
        seq: u64,
        reason: &str,
        at: Millis,
    ) -> Result<ContactRecord, StoreError>;
    /// Changes a batch's status through the transition table.
    fn set_batch_status(&self, change: StatusChange) -> Result<BatchRecord, StoreError>;
    /// Skips every waiting contact of a batch, in chunks; answers how many.
    fn skip_waiting(&self, batch_id: &str, reason: &str, at: Millis) -> Result<u64, StoreError>;
    /// Makes retry-waiting contacts, and pending ones held for a scheduled
    /// start, due at `now`; answers how many.
    fn make_retries_due(&self, batch_id: &str, now: Millis) -> Result<u64, StoreError>;
    /// Every attempt whose call may be live.
    fn live_attempts(&self) -> Result<Vec<LiveAttempt>, StoreError>;
    /// A batch's counters.
    fn batch_counters(&self, batch_id: &str) -> Result<Counters, StoreError>;
    /// A campaign's counters, over all its batches.
    fn campaign_counters(&self, workspace: &str, campaign_id: &str)
    -> Result<Counters, StoreError>;
    /// The most recently ended attempts of a batch, newest first.
    fn recent_calls(&self, batch_id: &str, limit: usize) -> Result<Vec<RecentCall>, StoreError>;
    /// A batch's counters recomputed by scanning its contacts and attempts.
    fn recount(&self, batch_id: &str) -> Result<Counters, StoreError>;
    /// Results of a batch's ended attempts.
    fn batch_totals(&self, batch_id: &str) -> Result<AttemptTotals, StoreError>;
    /// Results of a campaign's ended attempts, over all its batches.
    fn campaign_totals(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<AttemptTotals, StoreError>;
    /// Results per caller id of a batch, by number.
    fn batch_number_totals(
        &self,
        batch_id: &str,
    ) -> Result<Vec<(String, NumberTotals)>, StoreError>;
    /// Results per caller id of a campaign, by number.
    fn campaign_number_totals(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<Vec<(String, NumberTotals)>, StoreError>;
    /// A batch's minutes with any activity, oldest first, from `since`.
    fn timeline(&self, batch_id: &str, since: Millis) -> Result<Vec<MinuteTotals>, StoreError>;
    /// The time zones of a batch's contacts ("" for a contact whose zone is
    /// left to the campaign), kept as contacts are added.
    fn batch_zones(&self, batch_id: &str) -> Result<Vec<String>, StoreError>;
    /// Operator states of a campaign's caller ids, by number.
    fn number_states(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<Vec<(String, NumberState)>, StoreError>;
    /// Disables, enables or rests one caller id of a campaign.
    fn set_number_state(
        &self,
        workspace: &str,
        campaign_id: &str,
        number: &str,
        state: NumberState,
    ) -> Result<(), StoreError>;
    /// Waits until every write so far is on disk.
    fn sync(&self) -> Result<(), StoreError>;
    /// Up to `limit` journal events after `after_seq`, oldest first.
    fn journal(&self, after_seq: u64, limit: usize) -> Result<Vec<JournalEvent>, StoreError>;
    /// The seq of the newest journal event, 0 when there is none.
    fn journal_head(&self) -> Result<u64, StoreError>;
    /// Deletes journal events up to `through_seq`; answers how many.
    fn prune_journal(&self, through_seq: u64) -> Result<u64, StoreError>;
    /// One webhook endpoint's delivery state.
    fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpointState>, StoreError>;
    /// Saves an endpoint's state and, when given, logs a delivery try, in
    /// one durable write; the log keeps the newest `keep_tries` tries.
    fn save_webhook_endpoint(
        &self,
        state: WebhookEndpointState,
        delivery: Option<WebhookDelivery>,
        keep_tries: u64,
    ) -> Result<(), StoreError>;
    /// An endpoint's logged delivery tries, newest first.
    fn webhook_deliveries(
        &self,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError>;
    /// Creates a suppression list, durably; a name the workspace has
    /// already (`dnc-internal` always) is `SuppressionListExists`.
    fn create_suppression_list(
        &self,
        workspace: &str,
        list: NewSuppressionList,
        at: Millis,
    ) -> Result<SuppressionList, StoreError>;
    /// A workspace's suppression lists in name order, `dnc-internal`
    /// always among them.
    fn suppression_lists(&self, workspace: &str) -> Result<Vec<SuppressionList>, StoreError>;
    /// One suppression list; `dnc-internal` is always there.
    fn suppression_list(
        &self,
        workspace: &str,
        name: &str,
    ) -> Result<Option<SuppressionList>, StoreError>;
    /// Adds numbers (E.164) to a list in one atomic durable write, the
    /// list's entry count with them; a number already on the list has its
    /// entry replaced. `dnc-internal` is created by its first add; any
    /// other list must exist. Callers send at most about 10,000 a call.
    fn add_suppressions(
        &self,
        workspace: &str,
        list: &str,
        entries: Vec<NewSuppression>,
        by: &str,
        at: Millis,
    ) -> Result<SuppressionWrite, StoreError>;
    /// Takes numbers off a list in one atomic durable write; answers how
    /// many were on it.
    fn remove_suppressions(
        &self,
        workspace: &str,
        list: &str,
        phones: Vec<String>,
        at: Millis,
    ) -> Result<u64, StoreError>;
    /// A page of a list's entries in phone order, expired ones included.
    fn suppression_entries(
        &self,
        query: &SuppressionQuery,
    ) -> Result<Page<SuppressionEntry>, StoreError>;
    /// For each of `phones`, the lists it is on unexpired at `now`, in
    /// list-name order. Asked before every dial: an index read per phone.
    fn suppressions_of(
        &self,
        workspace: &str,
        phones: &[String],
        now: Millis,
    ) -> Result<Vec<Vec<SuppressionHit>>, StoreError>;
    /// The history across the workspace of each contact's number, in the
    /// order of `contacts`, as of `now`: one index read per number, and
    /// the contacts' records of the number's other contacts. Each
    /// contact's own share is taken from the record given.
    /// `begin_attempts` adds to a contact's share; `end_attempts` labels it
    /// and takes back the start of an attempt that did not count.
    fn phone_histories(
        &self,
        workspace: &str,
        contacts: &[&ContactRecord],
        now: Millis,
    ) -> Result<Vec<PhoneHistory>, StoreError>;
}

#[cfg(test)]
mod tests;
