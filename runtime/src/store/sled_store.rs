//! The embedded store: one sled tree, one group-commit writer thread.
//!
//! Reads go straight to sled. Every write is a job sent to the writer
//! thread, which runs jobs one after another (so a job's reads and checks,
//! e.g. of the batch status, see every earlier write and race with none),
//! applies each job's changes as one atomic sled batch, and acknowledges a
//! group of durable jobs only after one flush and `fsync` for the group.

use std::any::Any;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::attempt_page;
use super::keys::{self, Key};
use super::ledger::{
    self, ContactChange, ContactNumbering, CountedContact, CounterDelta, JournalEntry, LogLine,
    MinuteChange, Recount, SkipKind, StatisticsChange, TotalsChange,
};
use super::{
    AttemptKey, AttemptTotals, BatchQuery, BatchRecord, BeginAttempt, BlockerUpdate, ContactChunk,
    ContactDetail, ContactEvent, ContactHistory, ContactQuery, ContactRecord, Counters,
    CreatedBatch, Durability, EndAttempt, EndedAttempt, InProgressMark, JournalEvent, LiveAttempt,
    MinuteTotals, NewBatch, NewContact, NewSuppression, NewSuppressionList, NumberState,
    NumberTotals, Page, Pending, PhoneHistory, PlacementNote, RecentCall, StatusChange, Store,
    StoreConfig, StoreError, SuppressionEntry, SuppressionHit, SuppressionList, SuppressionQuery,
    SuppressionWrite, WebhookDelivery, WebhookEndpointState, in_chunks, minute_of,
};
use crate::model::{Attempt, CallOutcome, ContactDials, ContactStatus, Millis};

/// Most jobs applied before one flush acknowledges them together.
const MAX_GROUP: usize = 512;
/// Most items (dial intents, provider call ids) staged in one job: a job
/// keeps every state page it touches decoded until it commits, and the
/// contacts of one tick's intents may each sit on a page of their own.
const JOB_ITEMS: usize = 512;
/// The layout of keys and records this code reads and writes. A store
/// written in another layout is refused at open rather than misread.
const FORMAT_VERSION: u32 = 12;
/// Most journal events in one `J` record. At 256 the leaf holding the
/// newest records outgrew the size at which sled writes a node to a blob
/// file of its own, so every write made a new file of about 400 KB (and
/// every sync then fsynced dozens of them): 32 keeps it inline.
const JOURNAL_PAGE: usize = 32;
/// An ended attempt encoded larger than this is a record of its own
/// instead of an entry of its group's page (`keys::ATTEMPT_GROUP`), so a
/// page stays under about 6 KiB: sled writes a node larger than a quarter
/// of a log segment (128 KiB) to a blob file of its own, on every write,
/// and a leaf holds up to 17 records. An attempt without a long transcript
/// is 0.4 to 0.7 KiB.
const LONE_ATTEMPT_BYTES: usize = 1536;
/// Contacts changed per write when a whole batch's waiting contacts change.
const CHUNK: usize = 512;
/// Contacts written per write while a batch is created.
const CREATE_CHUNK: usize = 10_000;

type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&Base) -> Completion + Send>;

struct Request {
    durable: bool,
    job: Job,
}

/// The sled-backed [`Store`].
pub struct SledStore {
    db: sled::Db,
    numbers: Numbers,
    sender: Option<mpsc::Sender<Request>>,
    writer: Option<JoinHandle<()>>,
}

/// The contacts of one number in its workspace, by batch and seq: read
/// with one lookup, as almost every number has just the one.
type PhoneContacts = Vec<(String, u64)>;

/// What the writer's jobs work on: the database, and what the store keeps
/// in memory beside it.
struct Base {
    db: sled::Db,
    numbers: Numbers,
}

/// What the store keeps in memory of the numbers of each workspace, so
/// that what almost every dial would read for its number is not read.
#[derive(Debug, Clone, Default)]
struct Numbers {
    /// Those that may be on a suppression list.
    listed: Arc<NumberSet>,
    /// Those that more than one contact may hold: the history of any other
    /// number is its one contact's own.
    shared: Arc<NumberSet>,
}

impl Numbers {
    fn load(db: &sled::Db) -> Result<Numbers, StoreError> {
        Ok(Numbers {
            listed: Arc::new(NumberSet::load(
                db,
                keys::PHONE_SUPPRESSION,
                keys::read_phone_suppression,
            )?),
            shared: Arc::new(NumberSet::load(
                db,
                keys::SHARED_PHONE,
                keys::read_shared_phone,
            )?),
        })
    }
}

impl std::ops::Deref for Base {
    type Target = sled::Db;

    fn deref(&self) -> &sled::Db {
        &self.db
    }
}

/// A superset of some numbers of each workspace, as fingerprints of the
/// two: a number is added before the write that puts it in commits and only
/// taken out when the store reopens, so a number missing here is surely
/// not in it, and most lookups need no read.
#[derive(Debug, Default)]
struct NumberSet(std::sync::RwLock<HashSet<u64>>);

impl NumberSet {
    /// The workspaces and numbers of the keys of the family `tag`, each
    /// read by `read`.
    fn load(
        db: &sled::Db,
        tag: u8,
        read: fn(&[u8]) -> Option<(&str, &str)>,
    ) -> Result<NumberSet, StoreError> {
        let mut numbers = HashSet::new();
        for key in db.scan_prefix([tag]).keys() {
            let key = key.map_err(io)?;
            let (workspace, phone) =
                read(&key).ok_or_else(|| corrupt(&key, "a number's key is cut short"))?;
            numbers.insert(Self::fingerprint(workspace, phone));
        }
        Ok(NumberSet(std::sync::RwLock::new(numbers)))
    }

    fn fingerprint(workspace: &str, phone: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (workspace, phone).hash(&mut hasher);
        hasher.finish()
    }

    fn may_hold(&self, workspace: &str, phone: &str) -> bool {
        let numbers = self
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        numbers.contains(&Self::fingerprint(workspace, phone))
    }

    fn add<'p>(&self, workspace: &str, phones: impl IntoIterator<Item = &'p str>) {
        let mut numbers = self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        numbers.extend(
            phones
                .into_iter()
                .map(|phone| Self::fingerprint(workspace, phone)),
        );
    }
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

impl SledStore {
    /// Opens (or creates) the database and starts its writer thread.
    pub fn open(config: &StoreConfig) -> Result<SledStore, StoreError> {
        let db = open_db(config).map_err(|err| StoreError::Open {
            path: config.path.display().to_string(),
            message: err.to_string(),
        })?;
        check_format(&db).map_err(|message| StoreError::Open {
            path: config.path.display().to_string(),
            message,
        })?;
        let base = Base {
            db: db.clone(),
            numbers: Numbers::default(),
        };
        discard_unfinished_drafts(&base)?;
        let numbers = Numbers::load(&db)?;
        let (sender, receiver) = mpsc::channel::<Request>();
        let writer_base = Base {
            db: db.clone(),
            numbers: numbers.clone(),
        };
        let path = config.path.clone();
        let durability = config.durability;
        let writer = std::thread::Builder::new()
            .name("store-writer".to_string())
            .spawn(move || write_loop(&writer_base, &path, durability, &receiver))
            .map_err(|err| StoreError::Open {
                path: config.path.display().to_string(),
                message: format!("cannot start the writer thread: {err}"),
            })?;
        Ok(SledStore {
            db,
            numbers,
            sender: Some(sender),
            writer: Some(writer),
        })
    }

    /// Runs `op` on the writer thread and waits for its result; for a
    /// durable write, until it is on disk.
    fn submit<R: Send + 'static>(
        &self,
        durable: bool,
        op: impl FnOnce(&Base) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.start(durable, op).wait()
    }

    /// Runs `op` on `items` in jobs of at most [`JOB_ITEMS`], queued
    /// together so that durable ones share a group commit, and answers
    /// their results in order once every job is answered. Each job is
    /// atomic, not the whole: an error means some jobs may have been
    /// applied.
    fn submit_in_jobs<T, R>(
        &self,
        durable: bool,
        items: Vec<T>,
        op: fn(&Base, Vec<T>) -> Result<Vec<R>, StoreError>,
    ) -> Result<Vec<R>, StoreError>
    where
        T: Send + 'static,
        R: Send + 'static,
    {
        let jobs = in_chunks(items, JOB_ITEMS)
            .map(|job| self.start(durable, move |db| op(db, job)))
            .collect();
        Pending::wait_all(jobs)
    }

    /// Queues `op` for the writer thread; the answer comes later, once
    /// `op` ran (and, for a durable write, is on disk).
    fn start<R: Send + 'static>(
        &self,
        durable: bool,
        op: impl FnOnce(&Base) -> Result<R, StoreError> + Send + 'static,
    ) -> Pending<R> {
        let (reply, answer) = mpsc::sync_channel::<Result<R, StoreError>>(1);
        let job: Job = Box::new(move |db| {
            let result = op(db);
            Box::new(move |synced: Result<(), String>| {
                let outcome = match synced {
                    Ok(()) => result,
                    Err(message) => result.and(Err(StoreError::Io(message))),
                };
                // The caller may have given up waiting; nothing to do then.
                let _ = reply.send(outcome);
            })
        });
        let queued = self
            .sender
            .as_ref()
            .ok_or(StoreError::WriterGone)
            .and_then(|sender| {
                sender
                    .send(Request { durable, job })
                    .map_err(|_| StoreError::WriterGone)
            });
        match queued {
            Ok(()) => Pending::waiting(answer),
            Err(err) => Pending::ready(Err(err)),
        }
    }

    /// A contact's ended attempts and then its live one. Attempts are
    /// numbered from 1 without gaps and the live one is the last, so each
    /// ended one is read by its key: a contact on its first attempt reads
    /// nothing more than its state.
    fn history(
        &self,
        reader: &mut ContactReader<'_>,
        seq: u64,
    ) -> Result<Vec<Attempt>, StoreError> {
        let Some(state) = reader.state_ref(seq)? else {
            return Ok(Vec::new());
        };
        let records = state.attempt_records;
        let live = if state.live.is_some() {
            reader.live(seq)?
        } else {
            None
        };
        let ended = if live.is_some() { records - 1 } else { records };
        let mut attempts = Vec::with_capacity(records as usize);
        for number in 1..=ended {
            if let Some(record) = reader.ended(seq, number)? {
                attempts.push(record.attempt);
            }
        }
        attempts.extend(live.map(|live| live.attempt));
        Ok(attempts)
    }

    /// Contact `seq`'s ended attempts, oldest first (attempt numbers are
    /// big-endian in their keys).
    fn ended_attempts(&self, batch_id: &str, seq: u64) -> Result<Vec<EndedRecord>, StoreError> {
        let slot = keys::attempt_slot(seq);
        let mut ended = Vec::new();
        for entry in self.db.scan_prefix(keys::attempt_pages(batch_id, seq)) {
            let (key, value) = entry.map_err(io)?;
            for (at, bytes) in ended_entries(batch_id, &key, &value)? {
                if at == slot {
                    ended.push(decode(&key, bytes)?);
                }
            }
        }
        Ok(ended)
    }

    fn read<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        read_record(&self.db, key)
    }

    /// How many keys of the family `tag` the database holds.
    #[cfg(test)]
    pub(super) fn keys_tagged(&self, tag: u8) -> usize {
        self.db.scan_prefix([tag]).count()
    }

    /// [`keys_tagged`](Self::keys_tagged) of each family a draft writes,
    /// its numbers' keys last.
    #[cfg(test)]
    pub(super) fn draft_family_keys(&self) -> Vec<usize> {
        DRAFT_FAMILIES
            .iter()
            .chain([&keys::PHONE_CONTACT, &keys::SHARED_PHONE])
            .map(|tag| self.keys_tagged(*tag))
            .collect()
    }

    /// Values under `prefix` named by the last text field of their keys.
    fn named<T: DeserializeOwned>(&self, prefix: &[u8]) -> Result<Vec<(String, T)>, StoreError> {
        let mut out = Vec::new();
        for entry in self.db.scan_prefix(prefix) {
            let (key, value) = entry.map_err(io)?;
            out.push((keys::last_text(&key), decode(&key, &value)?));
        }
        Ok(out)
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        // Closing the channel ends the writer after the jobs already sent.
        drop(self.sender.take());
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("store writer panicked");
        }
        if let Err(err) = self.db.flush() {
            tracing::error!(error = %err, "store flush on close failed");
        }
    }
}

/// How long opening waits for the store's file lock. A handle of the same
/// store closing in this process holds it for a moment after it is
/// dropped, until sled's background threads let go; another process that
/// keeps the store open holds it for good, and is named once this passes.
const LOCK_WAIT: Duration = Duration::from_secs(2);

fn open_db(config: &StoreConfig) -> sled::Result<sled::Db> {
    let give_up = Instant::now() + LOCK_WAIT;
    loop {
        let opened = sled::Config::new()
            .path(&config.path)
            .cache_capacity(config.cache_capacity_bytes)
            .open();
        match opened {
            Err(sled::Error::Io(err))
                if err.to_string().starts_with("could not acquire lock")
                    && Instant::now() < give_up =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// Discards the drafts of creates a crash interrupted. Their batches were
/// never acknowledged, and nothing refers to what they wrote.
fn discard_unfinished_drafts(db: &Base) -> Result<(), StoreError> {
    let markers: Vec<sled::IVec> = db
        .scan_prefix([keys::DRAFT])
        .keys()
        .collect::<Result<_, _>>()
        .map_err(io)?;
    for marker in markers {
        let batch_id = std::str::from_utf8(&marker[1..marker.len() - 1])
            .map_err(|_| corrupt(&marker, "a draft marker's batch id is not UTF-8"))?;
        tracing::warn!(batch = %batch_id, "discarding a batch whose create a crash interrupted");
        discard_draft(db, batch_id)?;
    }
    Ok(())
}

/// Stamps a new store with [`FORMAT_VERSION`] and refuses one stamped
/// with another version, or written before stores were stamped.
fn check_format(db: &sled::Db) -> Result<(), String> {
    let stamp = db.get(keys::format()).map_err(|err| err.to_string())?;
    match stamp {
        Some(raw) => {
            let found: u32 = rmp_serde::from_slice(&raw)
                .map_err(|err| format!("unreadable format stamp: {err}"))?;
            if found != FORMAT_VERSION {
                return Err(format!(
                    "the store is in format {found}, this outdial reads format {FORMAT_VERSION}"
                ));
            }
            Ok(())
        }
        None if db.is_empty() => {
            db.insert(keys::format(), encode(&FORMAT_VERSION))
                .map_err(|err| err.to_string())?;
            db.flush().map_err(|err| err.to_string())?;
            Ok(())
        }
        None => Err(format!(
            "the store was written by an earlier outdial (before format {FORMAT_VERSION}); \
             move it aside or start from an empty data directory"
        )),
    }
}

fn write_loop(db: &Base, path: &Path, durability: Durability, jobs: &mpsc::Receiver<Request>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(request) => group.push(request),
                Err(_) => break,
            }
        }
        let mut waiting = Vec::new();
        for request in group {
            let complete = (request.job)(db);
            if request.durable {
                waiting.push(complete);
            } else {
                complete(Ok(()));
            }
        }
        if waiting.is_empty() {
            continue;
        }
        let synced = make_durable(db, path, durability).map_err(|err| {
            tracing::error!(error = %err, "store sync failed");
            err.to_string()
        });
        for complete in waiting {
            complete(synced.clone());
        }
    }
}

/// sled 0.34's flush writes with `sync_file_range`, which does not persist
/// file metadata or survive a power cut, so the data files and their
/// directories are `fsync`ed as well.
fn make_durable(db: &sled::Db, path: &Path, durability: Durability) -> std::io::Result<()> {
    db.flush().map_err(std::io::Error::other)?;
    if durability == Durability::Relaxed {
        return Ok(());
    }
    sync_tree(path)
}

fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            sync_tree(&entry.path())?;
        } else if kind.is_file() {
            sync_file(&entry.path())?;
        }
    }
    File::open(dir)?.sync_all()
}

/// `fsync`s one file. sled deletes old snapshot and segment files in the
/// background, so a file listed a moment ago may be gone: it then has
/// nothing left to persist, and the directory's own sync records its removal.
fn sync_file(path: &Path) -> std::io::Result<()> {
    match File::open(path) {
        Ok(file) => file.sync_all(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    }
}

fn io(err: sled::Error) -> StoreError {
    StoreError::Io(err.to_string())
}

/// How many events a journal record holds, from its array header alone:
/// pruning counts what it deletes without decoding it.
fn journal_page_len(key: &[u8], value: &[u8]) -> Result<u32, StoreError> {
    rmp::decode::read_array_len(&mut &value[..])
        .map_err(|err| corrupt(key, format!("not a journal page: {err}")))
}

fn decode<T: DeserializeOwned>(key: &[u8], value: &[u8]) -> Result<T, StoreError> {
    rmp_serde::from_slice(value).map_err(|err| corrupt(key, err))
}

fn corrupt(key: &[u8], err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        message: err.to_string(),
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    rmp_serde::to_vec(value).expect("store records serialize without fail")
}

fn read_record<T: DeserializeOwned>(db: &sled::Db, key: &[u8]) -> Result<Option<T>, StoreError> {
    match db.get(key).map_err(io)? {
        Some(value) => Ok(Some(decode(key, &value)?)),
        None => Ok(None),
    }
}

/// The fields of a contact fixed when its batch is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ContactCard {
    contact_id: String,
    phone: String,
    name: Option<String>,
    time_zone: String,
    attributes: Vec<(String, String)>,
}

/// The fields of a contact that its attempts change, kept [`keys::PAGE`]
/// contacts to a record (see `keys.rs`). A contact's live attempt is not
/// stored: it is the last attempt while the status is a live one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ContactState {
    status: ContactStatus,
    blocker: Option<crate::model::Blocker>,
    next_eligible_at: Option<Millis>,
    attempts_made: u32,
    system_retries: u32,
    attempt_records: u32,
    last_attempt_at: Option<Millis>,
    last_outcome: Option<CallOutcome>,
    last_disposition: Option<String>,
    last_score: Option<f32>,
    from_number: Option<String>,
    variant: Option<String>,
    final_reason: Option<String>,
    total_talk_ms: u64,
    total_cost_micros: u64,
    event_count: u32,
    succeeded: bool,
    /// The attempt while it is live: the dial intent, kept with the
    /// contact so beginning, marking and ending a call write the page the
    /// contact's state is written to anyway. Kept encoded, so reading and
    /// writing a page does not decode the live attempts it holds.
    live: Option<EncodedLive>,
    #[serde(default)]
    followups_made: u32,
    #[serde(default)]
    gate_faults: u32,
    #[serde(default)]
    blocker_reason: Option<String>,
    #[serde(default)]
    dials: ContactDials,
}

/// A [`LiveRecord`], encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct EncodedLive(#[serde(with = "serde_bytes")] Vec<u8>);

impl EncodedLive {
    fn new(record: &LiveRecord) -> EncodedLive {
        EncodedLive(encode(record))
    }

    fn decode(&self) -> Result<LiveRecord, StoreError> {
        decode(b"live attempt", &self.0)
    }
}

/// The fields of `contact` its card holds: they never change once written.
fn card_of(contact: &ContactRecord) -> ContactCard {
    ContactCard {
        contact_id: contact.contact_id.clone(),
        phone: contact.phone.clone(),
        name: contact.name.clone(),
        time_zone: contact.time_zone.clone(),
        attributes: contact.attributes.clone(),
    }
}

/// The fields of `contact` its attempts change.
fn state_of(contact: &ContactRecord) -> ContactState {
    ContactState {
        status: contact.status,
        blocker: contact.blocker,
        next_eligible_at: contact.next_eligible_at,
        attempts_made: contact.attempts_made,
        followups_made: contact.followups_made,
        system_retries: contact.system_retries,
        attempt_records: contact.attempt_records,
        last_attempt_at: contact.last_attempt_at,
        last_outcome: contact.last_outcome,
        last_disposition: contact.last_disposition.clone(),
        last_score: contact.last_score,
        from_number: contact.from_number.clone(),
        variant: contact.variant.clone(),
        final_reason: contact.final_reason.clone(),
        total_talk_ms: contact.total_talk_ms,
        total_cost_micros: contact.total_cost_micros,
        event_count: contact.event_count,
        succeeded: contact.succeeded,
        live: None,
        gate_faults: contact.gate_faults,
        blocker_reason: contact.blocker_reason.clone(),
        dials: contact.dials.clone(),
    }
}

fn join_contact(batch_id: &str, seq: u64, card: ContactCard, state: ContactState) -> ContactRecord {
    let live_attempt_id = state.status.is_live().then(|| {
        AttemptKey {
            batch_id: batch_id.to_string(),
            seq,
            number: state.attempt_records,
        }
        .id()
    });
    ContactRecord {
        batch_id: batch_id.to_string(),
        seq,
        contact_id: card.contact_id,
        phone: card.phone,
        name: card.name,
        time_zone: card.time_zone,
        attributes: card.attributes,
        status: state.status,
        blocker: state.blocker,
        next_eligible_at: state.next_eligible_at,
        attempts_made: state.attempts_made,
        followups_made: state.followups_made,
        system_retries: state.system_retries,
        attempt_records: state.attempt_records,
        live_attempt_id,
        last_attempt_at: state.last_attempt_at,
        last_outcome: state.last_outcome,
        last_disposition: state.last_disposition,
        last_score: state.last_score,
        from_number: state.from_number,
        variant: state.variant,
        final_reason: state.final_reason,
        total_talk_ms: state.total_talk_ms,
        total_cost_micros: state.total_cost_micros,
        event_count: state.event_count,
        succeeded: state.succeeded,
        gate_faults: state.gate_faults,
        blocker_reason: state.blocker_reason,
        dials: state.dials,
    }
}

/// Position of contact `seq` in its page.
fn slot(seq: u64) -> usize {
    (seq % keys::PAGE) as usize
}

/// A live attempt as kept in its contact's state: the attempt record itself
/// until it ends, when it moves to `A`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LiveRecord {
    campaign_id: String,
    attempt: Attempt,
}

impl LiveRecord {
    fn summary(&self, key: &AttemptKey) -> LiveAttempt {
        LiveAttempt {
            attempt_id: self.attempt.id.clone(),
            batch_id: key.batch_id.clone(),
            campaign_id: self.campaign_id.clone(),
            seq: key.seq,
            number: key.number,
            provider_call_id: self.attempt.provider_call_id.clone(),
            started_at: self.attempt.started_at,
        }
    }
}

/// The provider call ids of a page's live attempts, kept in the page's
/// live-index marker rather than with the attempts in the state page, so
/// that recording them writes a small record instead of the page. Each
/// entry is a slot, the attempt number there and its call id; an entry
/// whose attempt has ended since is never read, and goes with the marker
/// when the page's last live attempt ends. An empty marker holds none.
type LiveCallIds = Vec<(u8, u32, String)>;

fn decode_call_ids(marker: &[u8], value: &[u8]) -> Result<LiveCallIds, StoreError> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    decode(marker, value)
}

/// The call ids in the live-index marker of the page holding `seq`;
/// `None` when the page has no marker (no live attempt).
fn read_call_ids(
    db: &sled::Db,
    batch_id: &str,
    seq: u64,
) -> Result<Option<LiveCallIds>, StoreError> {
    let marker = live_marker(batch_id, seq);
    db.get(&marker)
        .map_err(io)?
        .map(|value| decode_call_ids(&marker, &value))
        .transpose()
}

/// Gives `live` its call id from `calls` unless it has one (one recorded
/// with a ringing mark, or by an earlier version, is kept on the attempt).
fn add_call_id(live: &mut LiveRecord, seq: u64, calls: &LiveCallIds) {
    if live.attempt.provider_call_id.is_some() {
        return;
    }
    let slot = slot(seq) as u8;
    live.attempt.provider_call_id = calls
        .iter()
        .find(|(at, number, _)| *at == slot && *number == live.attempt.number)
        .map(|(_, _, call_id)| call_id.clone());
}

/// The live-index marker of the state page holding `seq`.
fn live_marker(batch_id: &str, seq: u64) -> Vec<u8> {
    keys::retag(keys::state_page(batch_id, seq).as_ref(), keys::LIVE)
}

/// Reads contacts outside a job, reading each state page once.
struct ContactReader<'a> {
    db: &'a sled::Db,
    batch_id: &'a str,
    page: Option<(u64, Vec<ContactState>)>,
    cards: Option<(u64, Vec<ContactCard>)>,
    /// The attempt pages of one attempt group read so far, by number.
    attempt_pages: Option<(u64, HashMap<u32, Option<sled::IVec>>)>,
    /// The call ids of the live attempts of the page read last.
    call_ids: Option<(u64, LiveCallIds)>,
}

impl<'a> ContactReader<'a> {
    fn new(db: &'a sled::Db, batch_id: &'a str) -> ContactReader<'a> {
        ContactReader {
            db,
            batch_id,
            page: None,
            cards: None,
            attempt_pages: None,
            call_ids: None,
        }
    }

    /// Ended attempt `number` of contact `seq`: from its group's page,
    /// read once for the contacts of the group, else on its own.
    fn ended(&mut self, seq: u64, number: u32) -> Result<Option<EndedRecord>, StoreError> {
        let group = seq / keys::ATTEMPT_GROUP;
        if self
            .attempt_pages
            .as_ref()
            .is_none_or(|(cached, _)| *cached != group)
        {
            self.attempt_pages = Some((group, HashMap::new()));
        }
        let (_, pages) = self.attempt_pages.as_mut().expect("set just above");
        let key = keys::attempt_page(self.batch_id, seq, number);
        let page = match pages.entry(number) {
            Entry::Occupied(page) => page.into_mut(),
            Entry::Vacant(vacant) => vacant.insert(self.db.get(&key).map_err(io)?),
        };
        if let Some(page) = page {
            let entry = attempt_page::entry(page, keys::attempt_slot(seq))
                .map_err(|err| corrupt(key.as_ref(), err))?;
            if let Some(bytes) = entry {
                return Ok(Some(decode(key.as_ref(), bytes)?));
            }
        }
        read_record(
            self.db,
            keys::lone_attempt(self.batch_id, seq, number).as_ref(),
        )
    }

    fn card(&mut self, seq: u64) -> Result<Option<ContactCard>, StoreError> {
        let key = || keys::card_page(self.batch_id, seq);
        Ok(cached_page(self.db, &mut self.cards, key, seq)?.cloned())
    }

    fn state(&mut self, seq: u64) -> Result<Option<ContactState>, StoreError> {
        Ok(self.state_ref(seq)?.cloned())
    }

    fn live(&mut self, seq: u64) -> Result<Option<LiveRecord>, StoreError> {
        let live = self
            .state_ref(seq)?
            .and_then(|state| state.live.as_ref())
            .map(EncodedLive::decode)
            .transpose()?;
        let Some(mut live) = live else {
            return Ok(None);
        };
        let page = seq / keys::PAGE;
        if self
            .call_ids
            .as_ref()
            .is_none_or(|(cached, _)| *cached != page)
        {
            let calls = read_call_ids(self.db, self.batch_id, seq)?;
            self.call_ids = Some((page, calls.unwrap_or_default()));
        }
        let (_, calls) = self.call_ids.as_ref().expect("read just above");
        add_call_id(&mut live, seq, calls);
        Ok(Some(live))
    }

    fn state_ref(&mut self, seq: u64) -> Result<Option<&ContactState>, StoreError> {
        let key = || keys::state_page(self.batch_id, seq);
        cached_page(self.db, &mut self.page, key, seq)
    }

    fn contact(&mut self, seq: u64) -> Result<Option<ContactRecord>, StoreError> {
        let Some(state) = self.state(seq)? else {
            return Ok(None);
        };
        let card = self.card(seq)?;
        Ok(card.map(|card| join_contact(self.batch_id, seq, card, state)))
    }
}

/// The encoded [`EndedRecord`]s of an `A` record of `batch_id`, each
/// under its contact's slot: a group's page, or one lone attempt.
fn ended_entries<'v>(
    batch_id: &str,
    key: &[u8],
    value: &'v [u8],
) -> Result<Vec<(u8, &'v [u8])>, StoreError> {
    match keys::lone_attempt_slot(key, batch_id) {
        Some(slot) => Ok(vec![(slot, value)]),
        None => attempt_page::entries(value).map_err(|err| corrupt(key, err)),
    }
}

/// An ended attempt as stored (`A`), with the "ended" line it adds to its
/// contact's log: that line is not written on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct EndedRecord {
    attempt: Attempt,
    /// The line's number among the contact's logged events.
    line_number: u32,
    line: ContactEvent,
}

/// A state page as a job reads and changes it.
struct StatePage {
    states: Vec<ContactState>,
    changed: bool,
    /// Whether the page held a live attempt when read: the live index
    /// marker changes only when that does.
    had_live: bool,
}

/// Contact `seq`'s entry in the page record under `key()`, read into
/// `cache` unless it holds that page already.
fn cached_page<'c, T: DeserializeOwned>(
    db: &sled::Db,
    cache: &'c mut Option<(u64, Vec<T>)>,
    key: impl FnOnce() -> Key,
    seq: u64,
) -> Result<Option<&'c T>, StoreError> {
    let number = seq / keys::PAGE;
    if cache.as_ref().is_none_or(|(cached, _)| *cached != number) {
        let entries = read_record(db, key().as_ref())?.unwrap_or_default();
        *cache = Some((number, entries));
    }
    Ok(cache
        .as_ref()
        .and_then(|(_, entries)| entries.get(slot(seq))))
}

/// The changes of one job: staged into one sled batch, readable back
/// through an overlay so a job sees its own writes. State pages and journal
/// events are kept decoded until the commit writes each once.
struct Tx<'a> {
    db: &'a sled::Db,
    numbers: &'a Numbers,
    batch: sled::Batch,
    overlay: HashMap<Vec<u8>, Option<Vec<u8>>>,
    /// Decoded state pages, by key.
    pages: HashMap<Vec<u8>, StatePage>,
    /// Journal events staged by the job, by seq, each already encoded as
    /// the [`JournalEvent`] a reader decodes.
    journal: Vec<(u64, Vec<u8>)>,
    journal_head: Option<u64>,
    /// Aggregates (counters, totals, the timeline) that many changes of a
    /// job add to, kept decoded and encoded once by the commit.
    aggregates: HashMap<Vec<u8>, Aggregate>,
    /// Due-index records, as masks of their page's contacts, and whether
    /// the job changed each.
    due: HashMap<Vec<u8>, (u32, bool)>,
    /// Card pages read by the job, and whether it added cards to each.
    cards: HashMap<Vec<u8>, (Vec<ContactCard>, bool)>,
    /// Attempt pages the job adds to, each entry an encoded
    /// [`EndedRecord`] under its slot, in slot order.
    attempt_pages: HashMap<Vec<u8>, Vec<(u8, Vec<u8>)>>,
    /// Live-index markers read by the job, by key: the call ids each
    /// holds (`None` when there is no marker), and whether the job added
    /// to them.
    call_ids: HashMap<Vec<u8>, (Option<LiveCallIds>, bool)>,
}

// One bit of a due-index mask per contact of a page.
const _: () = assert!(keys::PAGE == u32::BITS as u64);

/// A decoded record of [`Tx::aggregates`] and how to encode it.
struct Aggregate {
    value: Box<dyn Any>,
    encode: fn(&dyn Any) -> Vec<u8>,
}

fn encode_any<T: Serialize + 'static>(value: &dyn Any) -> Vec<u8> {
    encode(
        value
            .downcast_ref::<T>()
            .expect("an aggregate is encoded as the type it was read as"),
    )
}

impl<'a> Tx<'a> {
    fn new(base: &'a Base) -> Tx<'a> {
        Tx {
            db: &base.db,
            numbers: &base.numbers,
            batch: sled::Batch::default(),
            overlay: HashMap::new(),
            pages: HashMap::new(),
            journal: Vec::new(),
            journal_head: None,
            aggregates: HashMap::new(),
            due: HashMap::new(),
            cards: HashMap::new(),
            attempt_pages: HashMap::new(),
            call_ids: HashMap::new(),
        }
    }

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.overlay.get(key) {
            Some(Some(value)) => Ok(Some(decode(key, value)?)),
            Some(None) => Ok(None),
            None => read_record(self.db, key),
        }
    }

    fn put<T: Serialize>(&mut self, key: Key, value: &T) {
        self.put_raw(key.into_vec(), encode(value));
    }

    fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.batch.insert(key.clone(), value.clone());
        self.overlay.insert(key, Some(value));
    }

    /// Whether `key` holds a record, the job's own writes included.
    fn contains(&self, key: &[u8]) -> Result<bool, StoreError> {
        match self.overlay.get(key) {
            Some(value) => Ok(value.is_some()),
            None => self.db.contains_key(key).map_err(io),
        }
    }

    fn mark(&mut self, key: Key) {
        self.put_raw(key.into_vec(), Vec::new());
    }

    fn remove(&mut self, key: Key) {
        let key = key.into_vec();
        self.batch.remove(key.clone());
        self.overlay.insert(key, None);
    }

    /// The card page holding `seq`, read once per job.
    fn cards(
        &mut self,
        batch_id: &str,
        seq: u64,
    ) -> Result<&mut (Vec<ContactCard>, bool), StoreError> {
        let key = keys::card_page(batch_id, seq).into_vec();
        if !self.cards.contains_key(&key) {
            let cards = read_record(self.db, &key)?.unwrap_or_default();
            self.cards.insert(key.clone(), (cards, false));
        }
        Ok(self.cards.get_mut(&key).expect("inserted just above"))
    }

    /// Adds a new contact's card to its page, filled in sequence order.
    fn add_card(&mut self, batch_id: &str, seq: u64, card: ContactCard) -> Result<(), StoreError> {
        let (cards, changed) = self.cards(batch_id, seq)?;
        if slot(seq) != cards.len() {
            return Err(corrupt(
                keys::card_page(batch_id, seq).as_ref(),
                format!("contact {seq} added out of sequence order"),
            ));
        }
        cards.push(card);
        *changed = true;
        Ok(())
    }

    /// Adds an ended attempt to its group's page, read once per job and
    /// written by the commit, or writes it on its own if it is large.
    /// Nothing in a job reads it back, so it skips the overlay.
    fn put_ended(&mut self, key: &AttemptKey, record: &EndedRecord) -> Result<(), StoreError> {
        let bytes = encode(record);
        if bytes.len() > LONE_ATTEMPT_BYTES {
            let lone = keys::lone_attempt(&key.batch_id, key.seq, key.number);
            self.batch.insert(lone.into_vec(), bytes);
            return Ok(());
        }
        let page_key = keys::attempt_page(&key.batch_id, key.seq, key.number).into_vec();
        let entries = match self.attempt_pages.entry(page_key) {
            Entry::Occupied(entries) => entries.into_mut(),
            Entry::Vacant(vacant) => {
                let entries = match self.db.get(vacant.key()).map_err(io)? {
                    Some(page) => attempt_page::entries(&page)
                        .map_err(|err| corrupt(vacant.key(), err))?
                        .into_iter()
                        .map(|(slot, bytes)| (slot, bytes.to_vec()))
                        .collect(),
                    None => Vec::new(),
                };
                vacant.insert(entries)
            }
        };
        let slot = keys::attempt_slot(key.seq);
        match entries.binary_search_by_key(&slot, |(at, _)| *at) {
            Ok(index) => entries[index].1 = bytes,
            Err(index) => entries.insert(index, (slot, bytes)),
        }
        Ok(())
    }

    /// Puts contact `seq` into the due index at `at`, or takes it out.
    fn set_due(
        &mut self,
        batch_id: &str,
        at: Millis,
        seq: u64,
        due: bool,
    ) -> Result<(), StoreError> {
        let key = keys::due(batch_id, at, seq).into_vec();
        if !self.due.contains_key(&key) {
            let mask = read_record(self.db, &key)?.unwrap_or(0);
            self.due.insert(key.clone(), (mask, false));
        }
        let (mask, changed) = self.due.get_mut(&key).expect("inserted just above");
        let bit = 1u32 << slot(seq);
        if due {
            *mask |= bit;
        } else {
            *mask &= !bit;
        }
        *changed = true;
        Ok(())
    }

    /// Changes the aggregate under `key`, read once per job (`empty` when
    /// there is none yet) and written once by the commit. An aggregate is
    /// only ever read and written through here.
    fn aggregate<T>(
        &mut self,
        key: Key,
        empty: impl FnOnce() -> T,
        change: impl FnOnce(&mut T),
    ) -> Result<(), StoreError>
    where
        T: Serialize + DeserializeOwned + 'static,
    {
        let key = key.into_vec();
        if !self.aggregates.contains_key(&key) {
            let value: T = read_record(self.db, &key)?.unwrap_or_else(empty);
            let aggregate = Aggregate {
                value: Box::new(value),
                encode: encode_any::<T>,
            };
            self.aggregates.insert(key.clone(), aggregate);
        }
        let aggregate = self.aggregates.get_mut(&key).expect("inserted just above");
        change(
            aggregate
                .value
                .downcast_mut::<T>()
                .expect("an aggregate is always read as the same type"),
        );
        Ok(())
    }

    fn batch_record(&self, batch_id: &str) -> Result<BatchRecord, StoreError> {
        self.get(keys::batch(batch_id).as_ref())?
            .ok_or_else(|| StoreError::BatchNotFound(batch_id.to_string()))
    }

    /// The page holding `seq`, read once per job.
    fn page(&mut self, batch_id: &str, seq: u64) -> Result<&mut StatePage, StoreError> {
        let key = keys::state_page(batch_id, seq).into_vec();
        if !self.pages.contains_key(&key) {
            let states: Vec<ContactState> = read_record(self.db, &key)?.unwrap_or_default();
            let had_live = states.iter().any(|state| state.live.is_some());
            let page = StatePage {
                states,
                changed: false,
                had_live,
            };
            self.pages.insert(key.clone(), page);
        }
        Ok(self.pages.get_mut(&key).expect("inserted just above"))
    }

    fn contact(&mut self, batch_id: &str, seq: u64) -> Result<ContactRecord, StoreError> {
        let not_found = || StoreError::ContactNotFound {
            batch: batch_id.to_string(),
            seq,
        };
        let state = self
            .page(batch_id, seq)?
            .states
            .get(slot(seq))
            .cloned()
            .ok_or_else(not_found)?;
        let card = self
            .cards(batch_id, seq)?
            .0
            .get(slot(seq))
            .cloned()
            .ok_or_else(not_found)?;
        Ok(join_contact(batch_id, seq, card, state))
    }

    /// Writes a contact's state into its page, keeping its live attempt
    /// (see [`Tx::set_live`]); a new contact's page is filled in sequence
    /// order.
    fn set_state(
        &mut self,
        batch_id: &str,
        seq: u64,
        mut state: ContactState,
    ) -> Result<(), StoreError> {
        let page = self.page(batch_id, seq)?;
        page.changed = true;
        let at = slot(seq);
        match at.cmp(&page.states.len()) {
            std::cmp::Ordering::Less => {
                state.live = page.states[at].live.take();
                page.states[at] = state;
            }
            std::cmp::Ordering::Equal => page.states.push(state),
            std::cmp::Ordering::Greater => {
                return Err(corrupt(
                    keys::state_page(batch_id, seq).as_ref(),
                    format!("contact {seq} written before the contacts ahead of it"),
                ));
            }
        }
        Ok(())
    }

    /// The live attempt `key`, if it is live.
    fn live(&mut self, key: &AttemptKey) -> Result<Option<LiveRecord>, StoreError> {
        let page = self.page(&key.batch_id, key.seq)?;
        let live = page
            .states
            .get(slot(key.seq))
            .and_then(|state| state.live.as_ref())
            .map(EncodedLive::decode)
            .transpose()?;
        let Some(mut live) = live.filter(|live| live.attempt.number == key.number) else {
            return Ok(None);
        };
        if let (Some(calls), _) = self.call_ids(&key.batch_id, key.seq)? {
            add_call_id(&mut live, key.seq, calls);
        }
        Ok(Some(live))
    }

    /// The call ids in the live-index marker of the page holding `seq`,
    /// read once per job.
    fn call_ids(
        &mut self,
        batch_id: &str,
        seq: u64,
    ) -> Result<&mut (Option<LiveCallIds>, bool), StoreError> {
        let marker = live_marker(batch_id, seq);
        if !self.call_ids.contains_key(&marker) {
            let calls = read_call_ids(self.db, batch_id, seq)?;
            self.call_ids.insert(marker.clone(), (calls, false));
        }
        Ok(self.call_ids.get_mut(&marker).expect("inserted just above"))
    }

    /// Keeps `live` as the contact's live attempt, or ends it with `None`.
    fn set_live(&mut self, key: &AttemptKey, live: Option<LiveRecord>) -> Result<(), StoreError> {
        let page = self.page(&key.batch_id, key.seq)?;
        let state =
            page.states
                .get_mut(slot(key.seq))
                .ok_or_else(|| StoreError::ContactNotFound {
                    batch: key.batch_id.clone(),
                    seq: key.seq,
                })?;
        state.live = live.as_ref().map(EncodedLive::new);
        page.changed = true;
        Ok(())
    }

    fn commit(mut self) -> Result<(), StoreError> {
        for (key, entries) in std::mem::take(&mut self.attempt_pages) {
            let page = attempt_page::encode(
                entries
                    .iter()
                    .map(|(slot, bytes)| (*slot, bytes.as_slice())),
            );
            self.batch.insert(key, page);
        }
        for (key, (cards, changed)) in std::mem::take(&mut self.cards) {
            if changed {
                self.batch.insert(key, encode(&cards));
            }
        }
        for (key, (mask, changed)) in std::mem::take(&mut self.due) {
            match (mask, changed) {
                (_, false) => {}
                (0, true) => self.batch.remove(key),
                (mask, true) => self.batch.insert(key, encode(&mask)),
            }
        }
        for (key, aggregate) in std::mem::take(&mut self.aggregates) {
            self.batch
                .insert(key, (aggregate.encode)(aggregate.value.as_ref()));
        }
        for (key, page) in std::mem::take(&mut self.pages) {
            if !page.changed {
                continue;
            }
            let has_live = page.states.iter().any(|state| state.live.is_some());
            if has_live != page.had_live {
                let marker = keys::retag(&key, keys::LIVE);
                // A marker comes and goes with its page's first and last
                // live attempt, and the call ids in it with it.
                self.call_ids.remove(&marker);
                if has_live {
                    self.batch.insert(marker, Vec::new());
                } else {
                    self.batch.remove(marker);
                }
            }
            self.batch.insert(key, encode(&page.states));
        }
        for (marker, (calls, changed)) in std::mem::take(&mut self.call_ids) {
            if let (Some(calls), true) = (calls, changed) {
                self.batch.insert(marker, encode(&calls));
            }
        }
        if let Some(&(last, _)) = self.journal.last() {
            for page in self.journal.chunks(JOURNAL_PAGE) {
                let (last_of_page, _) = page.last().expect("chunks are never empty");
                self.batch
                    .insert(keys::journal(*last_of_page).into_vec(), journal_page(page));
            }
            self.batch
                .insert(keys::journal_head().into_vec(), encode(&last));
        }
        self.db.apply_batch(self.batch).map_err(io)
    }
}

/// Writes a contact as `change` leaves it, keeping the due index in step,
/// and the lines it adds to the contact's log.
fn stage_contact(tx: &mut Tx<'_>, change: &ContactChange) -> Result<(), StoreError> {
    let ContactChange { old, new, log } = change;
    let batch = new.batch_id.as_str();
    let due = change.due_move();
    if let Some(at) = due.leaves {
        tx.set_due(batch, at, new.seq, false)?;
    }
    if let Some(at) = due.enters {
        tx.set_due(batch, at, new.seq, true)?;
    }
    if old.is_none() {
        tx.add_card(batch, new.seq, card_of(new))?;
    }
    for line in log {
        tx.put(keys::event(batch, new.seq, line.number), &line.event);
    }
    tx.set_state(batch, new.seq, state_of(new))
}

fn stage_counters(
    tx: &mut Tx<'_>,
    batch: &BatchRecord,
    delta: &CounterDelta,
) -> Result<(), StoreError> {
    stage_delta(tx, keys::batch_counters(&batch.id), delta)?;
    stage_delta(
        tx,
        keys::campaign_counters(&batch.workspace, &batch.campaign_id),
        delta,
    )
}

/// Adds `delta` to the counters stored under `key`.
fn stage_delta(tx: &mut Tx<'_>, key: Key, delta: &CounterDelta) -> Result<(), StoreError> {
    tx.aggregate(key, Counters::default, |counters| delta.apply_to(counters))
}

/// Appends `entry`, about `batch`, to the journal, in the same atomic write
/// as the change it tells of.
fn stage_journal(
    tx: &mut Tx<'_>,
    batch: &BatchRecord,
    entry: &JournalEntry,
) -> Result<(), StoreError> {
    let head = match tx.journal_head {
        Some(head) => head,
        None => tx.get(keys::journal_head().as_ref())?.unwrap_or(0),
    };
    let seq = head + 1;
    tx.journal_head = Some(seq);
    tx.journal
        .push((seq, encode_journal_event(seq, batch, entry)));
    Ok(())
}

/// The bytes of a [`JournalEvent`], written from borrowed fields and a
/// typed payload: the hot paths build no `serde_json::Value`, and a reader
/// decodes the payload into one all the same.
fn encode_journal_event(seq: u64, batch: &BatchRecord, entry: &JournalEntry) -> Vec<u8> {
    fn write(bytes: &mut Vec<u8>, field: &(impl Serialize + ?Sized)) {
        rmp_serde::encode::write(bytes, field).expect("journal fields serialize without fail");
    }
    let mut bytes = Vec::with_capacity(256);
    // The fields of `JournalEvent` in order, as `encode` writes a struct.
    rmp::encode::write_array_len(&mut bytes, 7).expect("writing to a Vec never fails");
    write(&mut bytes, &seq);
    write(&mut bytes, entry.kind.as_str());
    write(&mut bytes, batch.workspace.as_str());
    write(&mut bytes, batch.campaign_id.as_str());
    write(&mut bytes, batch.id.as_str());
    write(&mut bytes, &entry.at);
    rmp_serde::encode::write_named(&mut bytes, &entry.data)
        .expect("journal payloads serialize without fail");
    bytes
}

/// A `J` record: events encoded by [`encode_journal_event`], as `encode`
/// writes a `Vec<JournalEvent>`.
fn journal_page(events: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let len = events.iter().map(|(_, bytes)| bytes.len()).sum::<usize>();
    let mut page = Vec::with_capacity(len + 5);
    let count = u32::try_from(events.len()).expect("a journal page holds few events");
    rmp::encode::write_array_len(&mut page, count).expect("writing to a Vec never fails");
    for (_, bytes) in events {
        page.extend_from_slice(bytes);
    }
    page
}

fn stage_batch(tx: &mut Tx<'_>, batch: &BatchRecord) {
    if batch.status.is_final() {
        tx.remove(keys::open(&batch.id));
    }
    tx.put(keys::batch(&batch.id), batch);
}

/// The batch records and counter changes of a job that handles many
/// contacts: each batch is read once and written once, and its counters
/// (and its campaign's) once, however many of its contacts the job moves.
#[derive(Default)]
struct Touched {
    batches: HashMap<String, TouchedBatch>,
}

struct TouchedBatch {
    record: BatchRecord,
    changed: bool,
    delta: CounterDelta,
    /// Calls the job ended, oldest first.
    recent: Vec<RecentCall>,
}

impl Touched {
    fn batch<'t>(
        &'t mut self,
        tx: &Tx<'_>,
        batch_id: &str,
    ) -> Result<&'t mut TouchedBatch, StoreError> {
        if !self.batches.contains_key(batch_id) {
            let record = tx.batch_record(batch_id)?;
            self.batches.insert(
                batch_id.to_string(),
                TouchedBatch {
                    record,
                    changed: false,
                    delta: CounterDelta::default(),
                    recent: Vec::new(),
                },
            );
        }
        Ok(self.batches.get_mut(batch_id).expect("inserted just above"))
    }

    /// Stages the changed batch records and every counter delta.
    fn stage(self, tx: &mut Tx<'_>) -> Result<(), StoreError> {
        let mut per_campaign: HashMap<(String, String), CounterDelta> = HashMap::new();
        for touched in self.batches.values() {
            if touched.changed {
                stage_batch(tx, &touched.record);
            }
            stage_delta(tx, keys::batch_counters(&touched.record.id), &touched.delta)?;
            if !touched.recent.is_empty() {
                stage_recent(tx, &touched.record.id, &touched.recent)?;
            }
            per_campaign
                .entry((
                    touched.record.workspace.clone(),
                    touched.record.campaign_id.clone(),
                ))
                .or_default()
                .merge(&touched.delta);
        }
        for ((workspace, campaign_id), delta) in per_campaign {
            stage_delta(
                tx,
                keys::campaign_counters(&workspace, &campaign_id),
                &delta,
            )?;
        }
        Ok(())
    }
}

/// Puts `ended` (oldest first) ahead of the batch's recent calls.
fn stage_recent(tx: &mut Tx<'_>, batch_id: &str, ended: &[RecentCall]) -> Result<(), StoreError> {
    let key = keys::recent(batch_id);
    let older: Vec<RecentCall> = tx.get(key.as_ref())?.unwrap_or_default();
    tx.put(key, &ledger::recent_calls(ended, &older));
    Ok(())
}

/// A batch being created. Its contacts are written chunk by chunk and stay
/// unreachable until [`finish_create`] writes the batch record and its
/// indexes in the last write: a crash in between leaves no batch, and the
/// create was never acknowledged; the next open discards what it wrote.
struct Draft {
    batch: BatchRecord,
    contacts: ContactNumbering,
}

/// Starts a create, or answers the batch an earlier create with the same
/// idempotency key made.
fn begin_create(db: &Base, new: &NewBatch) -> Result<Result<Draft, CreatedBatch>, StoreError> {
    let mut tx = Tx::new(db);
    if let Some(existing) = batch_of_idempotency_key(&tx, new)? {
        return Ok(Err(existing));
    }
    let mut id = BatchRecord::new_id();
    while tx.get::<BatchRecord>(keys::batch(&id).as_ref())?.is_some() {
        id = BatchRecord::new_id();
    }
    let batch = ledger::batches::new_batch(id, new);
    // Before any contact of it: a crash leaves the marker, and the next
    // open discards what the draft wrote.
    tx.put(keys::draft(&batch.id), &batch.workspace);
    tx.commit()?;
    Ok(Ok(Draft {
        contacts: ContactNumbering::new(&batch),
        batch,
    }))
}

fn batch_of_idempotency_key(
    tx: &Tx<'_>,
    new: &NewBatch,
) -> Result<Option<CreatedBatch>, StoreError> {
    let Some(key) = &new.idempotency_key else {
        return Ok(None);
    };
    let existing: Option<String> = tx.get(keys::idempotency(&new.workspace, key).as_ref())?;
    existing
        .map(|batch_id| {
            Ok(CreatedBatch {
                batch: tx.batch_record(&batch_id)?,
                created: false,
            })
        })
        .transpose()
}

/// Writes the next contacts of a draft, numbered on from the ones before,
/// and hands the draft back.
fn add_contacts(
    db: &Base,
    mut draft: Draft,
    contacts: Vec<NewContact>,
) -> Result<Draft, StoreError> {
    let mut tx = Tx::new(db);
    for contact in contacts {
        let numbered = draft.contacts.add(contact)?;
        if let Some(zone) = &numbered.new_zone {
            tx.mark(keys::zone(&draft.batch.id, zone));
        }
        let new = &numbered.contact.new;
        let key = keys::phone_contacts(&draft.batch.workspace, &new.phone);
        let mut contacts: PhoneContacts = tx.get(key.as_ref())?.unwrap_or_default();
        contacts.push((draft.batch.id.clone(), new.seq));
        if contacts.len() > 1 {
            // Before the commit: a history is never read as one contact's
            // once another contact's can be read.
            tx.numbers
                .shared
                .add(&draft.batch.workspace, [new.phone.as_str()]);
            tx.mark(keys::shared_phone(&draft.batch.workspace, &new.phone));
        }
        tx.put(key, &contacts);
        stage_contact(&mut tx, &numbered.contact)?;
    }
    tx.commit()?;
    Ok(draft)
}

/// Makes a draft a batch: its record, indexes, counters and journal entry,
/// in one write. Should another create have taken the idempotency key in
/// the meantime, the draft is discarded and that batch answered instead.
fn finish_create(db: &Base, draft: Draft, new: &NewBatch) -> Result<CreatedBatch, StoreError> {
    let mut tx = Tx::new(db);
    if let Some(existing) = batch_of_idempotency_key(&tx, new)? {
        discard_draft(db, &draft.batch.id)?;
        return Ok(existing);
    }
    let Draft { batch, contacts } = draft;
    let id = &batch.id;
    stage_batch(&mut tx, &batch);
    tx.remove(keys::draft(id));
    tx.mark(keys::open(id));
    tx.mark(keys::by_workspace(&batch.workspace, batch.created_at, id));
    tx.mark(keys::by_campaign(
        &batch.workspace,
        &batch.campaign_id,
        batch.created_at,
        id,
    ));
    if let Some(key) = &new.idempotency_key {
        tx.put(keys::idempotency(&new.workspace, key), id);
    }
    stage_counters(&mut tx, &batch, contacts.counters())?;
    stage_journal(
        &mut tx,
        &batch,
        &ledger::batches::batch_created(&batch, contacts.count()),
    )?;
    tx.commit()?;
    Ok(CreatedBatch {
        batch,
        created: true,
    })
}

/// The key families a draft writes under its batch id, its marker last.
pub(super) const DRAFT_FAMILIES: [u8; 5] = [
    keys::CONTACT,
    keys::STATE_PAGE,
    keys::DUE,
    keys::ZONE,
    keys::DRAFT,
];

/// Removes every key a draft's contacts were written under, then its
/// marker. Nothing else refers to them, so a draft goes without a trace.
fn discard_draft(db: &Base, batch_id: &str) -> Result<(), StoreError> {
    // The numbers' keys first: they are found through the contacts' cards.
    let marker = keys::draft(batch_id);
    if let Some(workspace) = read_record::<String>(db, marker.as_ref())? {
        let prefix = Key::new(keys::CONTACT).text(batch_id).into_vec();
        let mut tx = Tx::new(db);
        for page in db.scan_prefix(&prefix).values() {
            let page = page.map_err(io)?;
            let cards: Vec<ContactCard> = decode(&prefix, &page)?;
            for card in cards {
                let key = keys::phone_contacts(&workspace, &card.phone);
                let mut contacts: PhoneContacts = tx.get(key.as_ref())?.unwrap_or_default();
                contacts.retain(|(batch, _)| batch != batch_id);
                if contacts.len() < 2 {
                    tx.remove(keys::shared_phone(&workspace, &card.phone));
                }
                if contacts.is_empty() {
                    tx.remove(key);
                } else {
                    tx.put(key, &contacts);
                }
            }
        }
        tx.commit()?;
    }
    for tag in DRAFT_FAMILIES {
        let prefix = Key::new(tag).text(batch_id).into_vec();
        let mut doomed = sled::Batch::default();
        for key in db.scan_prefix(&prefix).keys() {
            doomed.remove(key.map_err(io)?);
        }
        db.apply_batch(doomed).map_err(io)?;
    }
    Ok(())
}

/// The lists `phone` is on in `workspace`, unexpired at `now`, in name
/// order: one prefix read of the by-phone index.
fn suppression_hits(
    db: &sled::Db,
    listed: &NumberSet,
    workspace: &str,
    phone: &str,
    now: Millis,
) -> Result<Vec<SuppressionHit>, StoreError> {
    if !listed.may_hold(workspace, phone) {
        return Ok(Vec::new());
    }
    let prefix = Key::new(keys::PHONE_SUPPRESSION)
        .text(workspace)
        .text(phone)
        .into_vec();
    let mut hits = Vec::new();
    for entry in db.scan_prefix(&prefix) {
        let (key, value) = entry.map_err(io)?;
        let mark: SuppressionMark = decode(&key, &value)?;
        if crate::model::unexpired(mark.expires_at, now) {
            hits.push(SuppressionHit {
                list: keys::last_text(&key),
                blocks: mark.blocks,
                reason: mark.reason,
            });
        }
    }
    Ok(hits)
}

fn begin_one(
    tx: &mut Tx<'_>,
    touched: &mut Touched,
    begin: &BeginAttempt,
) -> Result<Attempt, StoreError> {
    let touched_batch = touched.batch(tx, &begin.batch_id)?;
    let contact = tx.contact(&begin.batch_id, begin.seq)?;
    let hits = suppression_hits(
        tx.db,
        &tx.numbers.listed,
        &touched_batch.record.workspace,
        &contact.phone,
        begin.at,
    )?;
    ledger::attempts::refuse_suppressed(&contact.phone, &hits)?;
    let change = ledger::attempts::begin_attempt(&touched_batch.record, contact, begin)?;
    let batch = &touched_batch.record;
    stage_contact(tx, &change.contact)?;
    tx.set_live(
        &change.key,
        Some(LiveRecord {
            campaign_id: batch.campaign_id.clone(),
            attempt: change.attempt.clone(),
        }),
    )?;
    stage_minute(tx, &batch.id, &change.minute)?;
    stage_journal(tx, batch, &change.journal)?;
    touched_batch.delta.merge(&change.counters);
    Ok(change.attempt)
}

/// Applies `change` to its minute of the batch's timeline.
fn stage_minute(tx: &mut Tx<'_>, batch_id: &str, change: &MinuteChange) -> Result<(), StoreError> {
    tx.aggregate(
        keys::timeline(batch_id, change.minute),
        || change.empty(),
        |minute| change.apply_to(minute),
    )
}

/// Adds an ended attempt to the batch's and campaign's statistics, its
/// caller id's health and the timeline.
fn stage_statistics(
    tx: &mut Tx<'_>,
    batch: &BatchRecord,
    statistics: &StatisticsChange,
) -> Result<(), StoreError> {
    if let Some(totals_change) = &statistics.totals {
        for key in [
            keys::batch_totals(&batch.id),
            keys::campaign_totals(&batch.workspace, &batch.campaign_id),
        ] {
            tx.aggregate(key, AttemptTotals::default, |totals| match totals_change {
                TotalsChange::Ended(facts) => totals.record(&facts.summary()),
                TotalsChange::SystemRetry { throttled_until } => {
                    totals.record_system_retry(*throttled_until);
                }
            })?;
        }
    }
    if let Some((number, outcome)) = &statistics.number {
        for key in [
            keys::batch_number(&batch.id, number),
            keys::campaign_number(&batch.workspace, &batch.campaign_id, number),
        ] {
            tx.aggregate(key, NumberTotals::default, |totals| totals.record(*outcome))?;
        }
    }
    for minute in &statistics.minutes {
        stage_minute(tx, &batch.id, minute)?;
    }
    Ok(())
}

/// The live attempt `key`, if its contact's state holds it.
fn live_attempt(tx: &mut Tx<'_>, key: &AttemptKey) -> Result<Option<Attempt>, StoreError> {
    Ok(tx.live(key)?.map(|live| live.attempt))
}

/// Writes dial intents in one atomic write.
fn write_begins(
    db: &Base,
    begins: Vec<BeginAttempt>,
) -> Result<Vec<Result<Attempt, StoreError>>, StoreError> {
    write_each(db, &begins, begin_one)
}

/// Applies `one` to each of `items` in one atomic write, with the batch
/// records and counters they touch written once. Each item is checked in
/// full before it stages anything, so a refused one leaves no trace and
/// the others still go ahead.
fn write_each<T, R>(
    db: &Base,
    items: &[T],
    one: fn(&mut Tx<'_>, &mut Touched, &T) -> Result<R, StoreError>,
) -> Result<Vec<Result<R, StoreError>>, StoreError> {
    let mut tx = Tx::new(db);
    let mut touched = Touched::default();
    let results = items
        .iter()
        .map(|item| one(&mut tx, &mut touched, item))
        .collect();
    touched.stage(&mut tx)?;
    tx.commit()?;
    Ok(results)
}

/// Records provider call ids in one atomic write.
fn write_provider_calls(db: &Base, calls: &[(AttemptKey, String)]) -> Result<(), StoreError> {
    let mut tx = Tx::new(db);
    for (key, call_id) in calls {
        // An attempt may have ended already; its id is then on the
        // attempt record through the end event.
        set_provider_call(&mut tx, key, call_id)?;
    }
    tx.commit()
}

/// Records the call id in its page's live-index marker, where recovery
/// and readers of a live attempt find it (see [`LiveCallIds`]).
fn set_provider_call(tx: &mut Tx<'_>, key: &AttemptKey, call_id: &str) -> Result<(), StoreError> {
    let (calls, changed) = tx.call_ids(&key.batch_id, key.seq)?;
    // Without a marker no attempt of the page is live: this one has ended
    // already, and its id is on its attempt record through its end event.
    let Some(calls) = calls else {
        return Ok(());
    };
    let slot = slot(key.seq) as u8;
    calls.retain(|(at, _, _)| *at != slot);
    calls.push((slot, key.number, call_id.to_string()));
    *changed = true;
    Ok(())
}

/// The ledger checks everything before anything is staged, so a refused
/// mark leaves no trace in the job's other marks.
fn mark_one(
    tx: &mut Tx<'_>,
    touched: &mut Touched,
    mark: &InProgressMark,
) -> Result<(), StoreError> {
    let key = &mark.key;
    let contact = tx.contact(&key.batch_id, key.seq)?;
    let touched_batch = touched.batch(tx, &key.batch_id)?;
    let live = live_attempt(tx, key)?;
    let change = ledger::attempts::mark_in_progress(contact, live, mark)?;
    if let Some(attempt) = change.attempt {
        let campaign_id = touched_batch.record.campaign_id.clone();
        tx.set_live(
            key,
            Some(LiveRecord {
                campaign_id,
                attempt,
            }),
        )?;
    }
    if let Some(contact) = &change.contact {
        stage_contact(tx, contact)?;
    }
    touched_batch.delta.merge(&change.counters);
    Ok(())
}

/// The ledger checks everything before anything is staged, so a refused
/// end leaves no trace in the job's other ends.
fn end_one(
    tx: &mut Tx<'_>,
    touched: &mut Touched,
    end: &EndAttempt,
) -> Result<EndedAttempt, StoreError> {
    let key = &end.key;
    let contact = tx.contact(&key.batch_id, key.seq)?;
    let live = live_attempt(tx, key)?;
    let workspace = touched.batch(tx, &key.batch_id)?.record.workspace.clone();
    let phone = contact.phone.clone();
    // Computed before the end, so a list that cannot be added to refuses
    // the end before anything is staged.
    let suppression = match &end.suppress {
        Some(add) => {
            let entry = NewSuppression {
                phone: phone.clone(),
                expires_at: None,
                reason: Some(add.reason.clone()),
            };
            let by = key.id();
            Some(suppression_add(
                tx,
                &workspace,
                &add.list,
                vec![entry],
                &by,
                end.at,
            )?)
        }
        None => None,
    };
    let touched_batch = touched.batch(tx, &key.batch_id)?;
    let change = ledger::attempts::end_attempt(&mut touched_batch.record, contact, live, end)?;
    touched_batch.changed |= change.batch_changed;
    touched_batch.delta.merge(&change.counters);
    touched_batch.recent.push(change.recent);
    let batch = &touched_batch.record;
    stage_statistics(tx, batch, &change.statistics)?;
    stage_contact(tx, &change.contact)?;
    tx.put_ended(
        key,
        &EndedRecord {
            attempt: change.attempt.clone(),
            line_number: change.line.number,
            line: change.line.event,
        },
    )?;
    tx.set_live(key, None)?;
    for entry in &change.journal {
        stage_journal(tx, batch, entry)?;
    }
    if let Some(suppression) = &suppression {
        stage_suppression(tx, suppression);
    }
    Ok(EndedAttempt {
        contact: change.contact.new,
        attempt: change.attempt,
        paused_batch: change.paused_batch,
    })
}

fn set_blockers(
    db: &Base,
    batch_id: &str,
    updates: &[BlockerUpdate],
    at: Millis,
) -> Result<(), StoreError> {
    let mut tx = Tx::new(db);
    let batch = tx.batch_record(batch_id)?;
    let mut delta = CounterDelta::default();
    for update in updates {
        let contact = tx.contact(batch_id, update.seq)?;
        if let Some(change) = ledger::contacts::set_blocker(contact, update, at) {
            delta.merge(&change.counted());
            stage_contact(&mut tx, &change)?;
        }
    }
    stage_counters(&mut tx, &batch, &delta)?;
    tx.commit()
}

/// Skips contact `seq`, staging the change; the batch record and the
/// counters are staged by the caller.
fn skip_one(
    tx: &mut Tx<'_>,
    batch: &mut BatchRecord,
    seq: u64,
    reason: &str,
    at: Millis,
    delta: &mut CounterDelta,
) -> Result<ContactRecord, StoreError> {
    let contact = tx.contact(&batch.id, seq)?;
    let change = ledger::contacts::skip(batch, contact, reason, at)?;
    stage_contact(tx, &change.contact)?;
    stage_journal(tx, batch, &change.journal)?;
    delta.merge(&change.counters);
    Ok(change.contact.new)
}

/// The seqs of the contacts a due-index record holds, in order.
fn seqs_of_due_record(key: &[u8], value: &[u8]) -> Result<Vec<u64>, StoreError> {
    let page = key
        .len()
        .checked_sub(8)
        .and_then(|offset| keys::read_u64(key, offset))
        .ok_or_else(|| corrupt(key, "due key too short"))?;
    let mask: u32 = decode(key, value)?;
    Ok((0..u32::BITS)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| page * keys::PAGE + u64::from(bit))
        .collect())
}

/// A list's entry as the dial-time lookup (`p`) keeps it: what a hit
/// answers, and when it stops suppressing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SuppressionMark {
    blocks: bool,
    expires_at: Option<Millis>,
    reason: Option<String>,
}

/// The numbers of `phones` that `list` holds, the job's writes included.
fn on_list<'p>(
    tx: &Tx<'_>,
    workspace: &str,
    list: &str,
    phones: impl Iterator<Item = &'p String>,
) -> Result<HashSet<String>, StoreError> {
    let mut found = HashSet::new();
    for phone in phones {
        if tx.contains(keys::suppression_entry(workspace, list, phone).as_ref())? {
            found.insert(phone.clone());
        }
    }
    Ok(found)
}

/// What adding `entries` to `list` changes, computed by the ledger from
/// the records it reads; nothing is staged.
fn suppression_add(
    tx: &Tx<'_>,
    workspace: &str,
    list: &str,
    entries: Vec<NewSuppression>,
    by: &str,
    at: Millis,
) -> Result<ledger::suppression::SuppressionChange, StoreError> {
    let stored = tx.get(keys::suppression_list(workspace, list).as_ref())?;
    let record = ledger::suppression::for_write(stored, workspace, list, at)?;
    let held = on_list(
        tx,
        workspace,
        list,
        entries.iter().map(|entry| &entry.phone),
    )?;
    Ok(ledger::suppression::add(record, &held, entries, by, at))
}

/// Writes a list's change: the list, and each entry under both its keys.
fn stage_suppression(tx: &mut Tx<'_>, change: &ledger::suppression::SuppressionChange) {
    let list = &change.list;
    let (workspace, name) = (list.workspace.as_str(), list.name.as_str());
    tx.put(keys::suppression_list(workspace, name), list);
    // Before the commit: a number is known to be listed before a dial can
    // read its entry.
    tx.numbers.listed.add(
        workspace,
        change.entries.iter().map(|entry| entry.phone.as_str()),
    );
    for entry in &change.entries {
        let mark = SuppressionMark {
            blocks: list.blocks,
            expires_at: entry.expires_at,
            reason: entry.reason.clone(),
        };
        tx.put(
            keys::phone_suppression(workspace, &entry.phone, name),
            &mark,
        );
        tx.put(
            keys::suppression_entry(workspace, name, &entry.phone),
            entry,
        );
    }
    for phone in &change.removed {
        tx.remove(keys::phone_suppression(workspace, phone, name));
        tx.remove(keys::suppression_entry(workspace, name, phone));
    }
}

fn set_batch_status(db: &Base, change: StatusChange) -> Result<BatchRecord, StoreError> {
    let mut tx = Tx::new(db);
    let batch = tx.batch_record(&change.batch_id)?;
    let (batch, entry) = ledger::batches::change_status(batch, change)?;
    stage_batch(&mut tx, &batch);
    stage_journal(&mut tx, &batch, &entry)?;
    tx.commit()?;
    Ok(batch)
}

impl Store for SledStore {
    fn create_batch_in_chunks(
        &self,
        mut new: NewBatch,
        chunks: &mut dyn Iterator<Item = ContactChunk>,
    ) -> Result<Option<CreatedBatch>, StoreError> {
        let first = std::mem::take(&mut new.contacts);
        let new = Arc::new(new);
        let header = new.clone();
        let draft = match self.submit(false, move |db| begin_create(db, &header))? {
            Ok(draft) => draft,
            Err(existing) => return Ok(Some(existing)),
        };
        let batch_id = draft.batch.id.clone();
        // Each chunk is a write of its own, so the dispatcher's writes are
        // not held up behind a large upload.
        let from_new = in_chunks(first, CREATE_CHUNK).map(ContactChunk::Contacts);
        // The draft travels to the writer thread with each chunk and back;
        // `None` when the chunks said to abandon it.
        let fed = (|| {
            let mut draft = draft;
            for chunk in from_new.chain(chunks) {
                match chunk {
                    ContactChunk::Contacts(contacts) => {
                        draft = self.submit(false, move |db| add_contacts(db, draft, contacts))?;
                    }
                    ContactChunk::Upload(upload) => draft.batch.upload = Some(upload),
                    ContactChunk::Abandon => return Ok(None),
                }
            }
            Ok(Some(draft))
        })();
        match fed {
            // Durable: the caller acknowledges the batch next. The fsync
            // also covers the chunks written before.
            Ok(Some(draft)) => self
                .submit(true, move |db| finish_create(db, draft, &new))
                .map(Some),
            Ok(None) => {
                self.submit(false, move |db| discard_draft(db, &batch_id))?;
                Ok(None)
            }
            Err(err) => {
                // Best effort: the error says what went wrong, and should
                // the discard fail too, the draft's marker stays and the
                // next open discards it.
                let _ = self.submit(false, move |db| discard_draft(db, &batch_id));
                Err(err)
            }
        }
    }

    fn batch(&self, batch_id: &str) -> Result<Option<BatchRecord>, StoreError> {
        self.read(keys::batch(batch_id).as_ref())
    }

    fn list_batches(&self, query: &BatchQuery) -> Result<Page<BatchRecord>, StoreError> {
        let prefix = match &query.campaign_id {
            Some(campaign) => Key::new(keys::BY_CAMPAIGN)
                .text(&query.workspace)
                .text(campaign)
                .into_vec(),
            None => Key::new(keys::BY_WORKSPACE)
                .text(&query.workspace)
                .into_vec(),
        };
        let upper = match &query.cursor {
            Some(cursor) => {
                let key = keys::from_cursor(cursor)
                    .filter(|key| key.starts_with(&prefix))
                    .ok_or_else(|| StoreError::BadCursor(cursor.clone()))?;
                Bound::Excluded(key)
            }
            None => Bound::Excluded(keys::prefix_end(&prefix)),
        };
        let limit = query.limit.max(1);
        let mut items = Vec::new();
        let mut last_key = None;
        for entry in self
            .db
            .range::<Vec<u8>, _>((Bound::Included(prefix.clone()), upper))
            .rev()
        {
            let (key, _) = entry.map_err(io)?;
            if items.len() == limit {
                break;
            }
            // The batch id follows the prefix and the creation time.
            let start = prefix.len() + 8;
            let end = key.len().saturating_sub(1);
            if start >= end {
                continue;
            }
            let batch_id = String::from_utf8_lossy(&key[start..end]).into_owned();
            if let Some(batch) = self.batch(&batch_id)? {
                items.push(batch);
                last_key = Some(key.to_vec());
            }
        }
        let next_cursor = if items.len() == limit {
            last_key.map(|key| keys::to_cursor(&key))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    fn open_batches(&self) -> Result<Vec<BatchRecord>, StoreError> {
        let prefix = Key::new(keys::OPEN).into_vec();
        let mut out = Vec::new();
        for entry in self.db.scan_prefix(&prefix) {
            let (key, _) = entry.map_err(io)?;
            let id = String::from_utf8_lossy(&key[1..key.len().saturating_sub(1)]).into_owned();
            if let Some(batch) = self.batch(&id)? {
                out.push(batch);
            }
        }
        Ok(out)
    }

    fn contact(&self, batch_id: &str, seq: u64) -> Result<Option<ContactRecord>, StoreError> {
        ContactReader::new(&self.db, batch_id).contact(seq)
    }

    fn contact_detail(
        &self,
        batch_id: &str,
        seq: u64,
    ) -> Result<Option<ContactDetail>, StoreError> {
        let mut reader = ContactReader::new(&self.db, batch_id);
        let Some(contact) = reader.contact(seq)? else {
            return Ok(None);
        };
        let ended = self.ended_attempts(batch_id, seq)?;
        let mut logged: Vec<LogLine> = Vec::new();
        for entry in self
            .db
            .scan_prefix(Key::new(keys::EVENT).text(batch_id).u64(seq))
        {
            let (key, value) = entry.map_err(io)?;
            let number = key
                .len()
                .checked_sub(4)
                .and_then(|offset| keys::read_u32(&key, offset))
                .unwrap_or(0);
            logged.push(LogLine {
                number,
                event: decode(&key, &value)?,
            });
        }
        let mut attempts = Vec::with_capacity(ended.len() + 1);
        for EndedRecord {
            attempt,
            line_number,
            line,
        } in ended
        {
            logged.push(LogLine {
                number: line_number,
                event: line,
            });
            attempts.push(attempt);
        }
        if let Some(live) = reader.live(seq)? {
            attempts.push(live.attempt);
        }
        let events = ledger::contacts::contact_log(logged, &attempts);
        Ok(Some(ContactDetail {
            contact,
            attempts,
            events,
        }))
    }

    fn attempts(&self, batch_id: &str, seq: u64) -> Result<Vec<Attempt>, StoreError> {
        self.history(&mut ContactReader::new(&self.db, batch_id), seq)
    }

    fn contacts_with_attempts(
        &self,
        batch_id: &str,
        seqs: &[u64],
    ) -> Result<Vec<Option<ContactHistory>>, StoreError> {
        // One reader, so each state page is read once for both.
        let mut reader = ContactReader::new(&self.db, batch_id);
        seqs.iter()
            .map(|seq| match reader.contact(*seq)? {
                Some(contact) => Ok(Some(ContactHistory {
                    attempts: self.history(&mut reader, *seq)?,
                    contact,
                })),
                None => Ok(None),
            })
            .collect()
    }

    fn list_contacts(&self, query: &ContactQuery) -> Result<Page<ContactRecord>, StoreError> {
        let from = match &query.cursor {
            Some(cursor) => cursor
                .parse::<u64>()
                .map_err(|_| StoreError::BadCursor(cursor.clone()))?
                .saturating_add(1),
            None => 0,
        };
        let limit = query.limit.max(1);
        let prefix = Key::new(keys::STATE_PAGE).text(&query.batch_id).into_vec();
        let lower = keys::state_page(&query.batch_id, from).into_vec();
        let mut items = Vec::new();
        let mut cards = ContactReader::new(&self.db, &query.batch_id);
        // The states of a page are read together; only the pages with a
        // contact that matches have their cards read.
        'pages: for entry in self.db.range(lower..keys::prefix_end(&prefix)) {
            let (key, value) = entry.map_err(io)?;
            let states: Vec<ContactState> = decode(&key, &value)?;
            let first = keys::read_u64(&key, key.len() - 8).unwrap_or(0) * keys::PAGE;
            for (offset, state) in states.into_iter().enumerate() {
                let seq = first + offset as u64;
                if seq < from || query.status.is_some_and(|status| status != state.status) {
                    continue;
                }
                if let Some(card) = cards.card(seq)? {
                    items.push(join_contact(&query.batch_id, seq, card, state));
                }
                if items.len() == limit {
                    break 'pages;
                }
            }
        }
        let next_cursor = if items.len() == limit {
            items.last().map(|contact| contact.seq.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    fn batch_attempts(
        &self,
        query: &super::AttemptQuery,
    ) -> Result<Page<super::BatchAttempt>, StoreError> {
        let after = match &query.cursor {
            Some(cursor) => super::parse_attempt_cursor(cursor)?,
            None => (0, 0),
        };
        let limit = query.limit.max(1);
        let mut reader = ContactReader::new(&self.db, &query.batch_id);
        let mut items = Vec::new();
        // Contacts are numbered from 0 without gaps: the first without a
        // state is past the batch's end. The reader holds one state page,
        // one card page and one attempt group at a time, so a page of the
        // report costs its own attempts and no more.
        for seq in after.0.. {
            let Some(state) = reader.state_ref(seq)? else {
                break;
            };
            if state.attempt_records == 0 {
                continue;
            }
            let attempts = self.history(&mut reader, seq)?;
            let Some(card) = reader.card(seq)? else {
                continue;
            };
            let contact = (seq, card.contact_id.as_str(), card.phone.as_str());
            if let Some(next) =
                super::fill_attempt_page(&mut items, contact, attempts, after, limit)
            {
                return Ok(Page {
                    items,
                    next_cursor: Some(next),
                });
            }
        }
        Ok(Page {
            items,
            next_cursor: None,
        })
    }

    fn due(
        &self,
        batch_id: &str,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<ContactRecord>, StoreError> {
        let lower = Key::new(keys::DUE).text(batch_id).into_vec();
        let upper = keys::due(batch_id, now, u64::MAX).into_vec();
        let mut reader = ContactReader::new(&self.db, batch_id);
        let mut out = Vec::new();
        'records: for entry in self.db.range(lower..=upper) {
            let (key, value) = entry.map_err(io)?;
            for seq in seqs_of_due_record(&key, &value)? {
                if out.len() == limit {
                    break 'records;
                }
                if let Some(contact) = reader.contact(seq)? {
                    out.push(contact);
                }
            }
        }
        Ok(out)
    }

    fn next_eligible_at(&self, batch_id: &str) -> Result<Option<Millis>, StoreError> {
        let prefix = Key::new(keys::DUE).text(batch_id).into_vec();
        match self.db.scan_prefix(&prefix).next() {
            Some(entry) => {
                let (key, _) = entry.map_err(io)?;
                Ok(keys::read_time(&key, keys::due_time_offset(batch_id)))
            }
            None => Ok(None),
        }
    }

    fn begin_attempts(
        &self,
        begins: Vec<BeginAttempt>,
    ) -> Result<Vec<Result<Attempt, StoreError>>, StoreError> {
        self.submit_in_jobs(true, begins, write_begins)
    }

    fn start_begin_attempts(
        &self,
        begins: Vec<BeginAttempt>,
    ) -> Pending<Vec<Result<Attempt, StoreError>>> {
        self.start(true, move |db| write_begins(db, begins))
    }

    fn record_provider_calls(&self, calls: Vec<(AttemptKey, String)>) -> Result<(), StoreError> {
        // Durable: after a crash, recovery asks the provider about a live
        // call by this id; without it the call can only be waited for.
        self.submit_in_jobs(true, calls, |db, calls| {
            write_provider_calls(db, &calls)?;
            // No answer per call.
            Ok(Vec::<()>::new())
        })
        .map(drop)
    }

    fn start_recording_provider_calls(&self, calls: Vec<(AttemptKey, String)>) -> Pending<()> {
        self.start(false, move |db| write_provider_calls(db, &calls))
    }

    fn note_unknown_placements(&self, notes: Vec<PlacementNote>) -> Result<(), StoreError> {
        // A note explains and precedes no outside effect: losing the last
        // few on a crash is harmless, so no fsync is waited for.
        self.submit(false, move |db| {
            let mut tx = Tx::new(db);
            for note in &notes {
                let contact = tx.contact(&note.key.batch_id, note.key.seq)?;
                // Only the log changes: no status, so no counter moves.
                if let Some(change) = ledger::attempts::note_placement(contact, note) {
                    stage_contact(&mut tx, &change)?;
                }
            }
            tx.commit()
        })
    }

    fn mark_calls_in_progress(
        &self,
        marks: Vec<InProgressMark>,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        self.submit(false, move |db| write_each(db, &marks, mark_one))
    }

    fn end_attempts(
        &self,
        ends: Vec<EndAttempt>,
    ) -> Result<Vec<Result<EndedAttempt, StoreError>>, StoreError> {
        self.start_end_attempts(ends).wait()
    }

    fn start_end_attempts(
        &self,
        ends: Vec<EndAttempt>,
    ) -> Pending<Vec<Result<EndedAttempt, StoreError>>> {
        self.start(false, move |db| write_each(db, &ends, end_one))
    }

    fn set_blockers(
        &self,
        batch_id: &str,
        updates: Vec<BlockerUpdate>,
        at: Millis,
    ) -> Result<(), StoreError> {
        let batch_id = batch_id.to_string();
        // Blockers explain, they do not precede an outside effect: losing
        // the last few on a crash is harmless, so no fsync is waited for.
        self.submit(false, move |db| set_blockers(db, &batch_id, &updates, at))
    }

    fn skip_contacts(
        &self,
        batch_id: &str,
        skips: Vec<(u64, String)>,
        at: Millis,
    ) -> Result<Vec<Result<ContactRecord, StoreError>>, StoreError> {
        let batch_id = batch_id.to_string();
        self.submit(true, move |db| {
            let mut tx = Tx::new(db);
            let mut batch = tx.batch_record(&batch_id)?;
            let mut delta = CounterDelta::default();
            // The ledger refuses a skip before it stages anything, so a
            // refused one leaves the others whole.
            let results = skips
                .iter()
                .map(|(seq, reason)| skip_one(&mut tx, &mut batch, *seq, reason, at, &mut delta))
                .collect();
            stage_batch(&mut tx, &batch);
            stage_counters(&mut tx, &batch, &delta)?;
            tx.commit()?;
            Ok(results)
        })
    }

    fn skip_contact(
        &self,
        batch_id: &str,
        seq: u64,
        reason: &str,
        at: Millis,
    ) -> Result<ContactRecord, StoreError> {
        let (batch_id, reason) = (batch_id.to_string(), reason.to_string());
        self.submit(true, move |db| {
            let mut tx = Tx::new(db);
            let mut batch = tx.batch_record(&batch_id)?;
            let mut delta = CounterDelta::default();
            let contact = skip_one(&mut tx, &mut batch, seq, &reason, at, &mut delta)?;
            stage_batch(&mut tx, &batch);
            stage_counters(&mut tx, &batch, &delta)?;
            tx.commit()?;
            Ok(contact)
        })
    }

    fn set_batch_status(&self, change: StatusChange) -> Result<BatchRecord, StoreError> {
        self.submit(true, move |db| set_batch_status(db, change))
    }

    fn skip_waiting(&self, batch_id: &str, reason: &str, at: Millis) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let (batch_id, reason) = (batch_id.to_string(), reason.to_string());
            let skipped = self.submit(true, move |db| {
                let mut tx = Tx::new(db);
                let mut batch = tx.batch_record(&batch_id)?;
                let prefix = Key::new(keys::DUE).text(&batch_id).into_vec();
                let mut seqs = Vec::with_capacity(CHUNK);
                for entry in db.scan_prefix(&prefix) {
                    let (key, value) = entry.map_err(io)?;
                    seqs.extend(seqs_of_due_record(&key, &value)?);
                    if seqs.len() >= CHUNK {
                        break;
                    }
                }
                let mut delta = CounterDelta::default();
                for seq in &seqs {
                    skip_one(&mut tx, &mut batch, *seq, &reason, at, &mut delta)?;
                }
                stage_batch(&mut tx, &batch);
                stage_counters(&mut tx, &batch, &delta)?;
                tx.commit()?;
                Ok(seqs.len() as u64)
            })?;
            total += skipped;
            if skipped == 0 {
                return Ok(total);
            }
        }
    }

    fn make_retries_due(&self, batch_id: &str, now: Millis) -> Result<u64, StoreError> {
        let mut total = 0;
        let mut from = keys::due(batch_id, now.saturating_add(1), 0).into_vec();
        loop {
            let batch_id = batch_id.to_string();
            let start = from.clone();
            let (moved, scanned, last) = self.submit(true, move |db| {
                let mut tx = Tx::new(db);
                let batch = tx.batch_record(&batch_id)?;
                let end = keys::prefix_end(&Key::new(keys::DUE).text(&batch_id).into_vec());
                let mut seqs = Vec::with_capacity(CHUNK);
                let mut last = None;
                let mut records = 0;
                for entry in db.range(start..end).take(CHUNK) {
                    let (key, value) = entry.map_err(io)?;
                    seqs.extend(seqs_of_due_record(&key, &value)?);
                    last = Some(key.to_vec());
                    records += 1;
                }
                let mut delta = CounterDelta::default();
                let mut moved = 0;
                for seq in &seqs {
                    let contact = tx.contact(&batch_id, *seq)?;
                    if let Some(change) = ledger::contacts::make_due_now(contact, now) {
                        delta.merge(&change.counted());
                        stage_contact(&mut tx, &change)?;
                        moved += 1;
                    }
                }
                stage_counters(&mut tx, &batch, &delta)?;
                tx.commit()?;
                Ok((moved, records, last))
            })?;
            total += moved;
            match last {
                Some(mut key) if scanned == CHUNK => {
                    // Resume just after the last key looked at.
                    key.push(0);
                    from = key;
                }
                _ => return Ok(total),
            }
        }
    }

    fn live_attempts(&self) -> Result<Vec<LiveAttempt>, StoreError> {
        let mut out = Vec::new();
        for entry in self.db.scan_prefix([keys::LIVE]) {
            let (marker, value) = entry.map_err(io)?;
            let calls = decode_call_ids(&marker, &value)?;
            let page_key = keys::retag(&marker, keys::STATE_PAGE);
            let states: Vec<ContactState> = read_record(&self.db, &page_key)?.unwrap_or_default();
            for encoded in states.into_iter().filter_map(|state| state.live) {
                let mut record = encoded.decode()?;
                let attempt = AttemptKey::parse(&record.attempt.id)?;
                add_call_id(&mut record, attempt.seq, &calls);
                out.push(record.summary(&attempt));
            }
        }
        Ok(out)
    }

    fn batch_counters(&self, batch_id: &str) -> Result<Counters, StoreError> {
        Ok(self
            .read(keys::batch_counters(batch_id).as_ref())?
            .unwrap_or_default())
    }

    fn campaign_counters(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<Counters, StoreError> {
        Ok(self
            .read(keys::campaign_counters(workspace, campaign_id).as_ref())?
            .unwrap_or_default())
    }

    fn recent_calls(&self, batch_id: &str, limit: usize) -> Result<Vec<RecentCall>, StoreError> {
        let mut calls: Vec<RecentCall> = self
            .read(keys::recent(batch_id).as_ref())?
            .unwrap_or_default();
        calls.truncate(limit);
        Ok(calls)
    }

    fn recount(&self, batch_id: &str) -> Result<Counters, StoreError> {
        let mut recount = Recount::default();
        let prefix = Key::new(keys::STATE_PAGE).text(batch_id).into_vec();
        for entry in self.db.scan_prefix(&prefix) {
            let (key, value) = entry.map_err(io)?;
            let states: Vec<ContactState> = decode(&key, &value)?;
            for state in states {
                recount.contact(CountedContact {
                    status: state.status,
                    blocker: state.blocker,
                    skip: SkipKind::of(state.status, state.final_reason.as_deref()),
                    system_retries: state.system_retries,
                    total_talk_ms: state.total_talk_ms,
                    total_cost_micros: state.total_cost_micros,
                    has_live_attempt: state.live.is_some(),
                    gate_faults: state.gate_faults,
                });
            }
        }
        let prefix = Key::new(keys::ATTEMPT).text(batch_id).into_vec();
        for entry in self.db.scan_prefix(&prefix) {
            let (key, value) = entry.map_err(io)?;
            for (_, bytes) in ended_entries(batch_id, &key, &value)? {
                let EndedRecord { attempt, .. } = decode(&key, bytes)?;
                recount.attempt(&attempt);
            }
        }
        Ok(recount.counters())
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.submit(true, |_| Ok(()))
    }

    fn batch_totals(&self, batch_id: &str) -> Result<AttemptTotals, StoreError> {
        Ok(self
            .read(keys::batch_totals(batch_id).as_ref())?
            .unwrap_or_default())
    }

    fn campaign_totals(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<AttemptTotals, StoreError> {
        Ok(self
            .read(keys::campaign_totals(workspace, campaign_id).as_ref())?
            .unwrap_or_default())
    }

    fn batch_number_totals(
        &self,
        batch_id: &str,
    ) -> Result<Vec<(String, NumberTotals)>, StoreError> {
        self.named(Key::new(keys::BATCH_NUMBER).text(batch_id).as_ref())
    }

    fn campaign_number_totals(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<Vec<(String, NumberTotals)>, StoreError> {
        self.named(
            Key::new(keys::CAMPAIGN_NUMBER)
                .text(workspace)
                .text(campaign_id)
                .as_ref(),
        )
    }

    fn timeline(&self, batch_id: &str, since: Millis) -> Result<Vec<MinuteTotals>, StoreError> {
        // Clamped so the minute's start cannot fall below the smallest time.
        let from = minute_of(since.max(Millis::MIN + crate::model::MINUTE_MS));
        let lower = keys::timeline(batch_id, from).into_vec();
        let upper = keys::prefix_end(&Key::new(keys::TIMELINE).text(batch_id).into_vec());
        let mut out = Vec::new();
        for entry in self.db.range(lower..upper) {
            let (key, value) = entry.map_err(io)?;
            out.push(decode(&key, &value)?);
        }
        Ok(out)
    }

    fn batch_zones(&self, batch_id: &str) -> Result<Vec<String>, StoreError> {
        let prefix = Key::new(keys::ZONE).text(batch_id).into_vec();
        let mut out = Vec::new();
        for entry in self.db.scan_prefix(&prefix) {
            let (key, _) = entry.map_err(io)?;
            out.push(keys::last_text(&key));
        }
        Ok(out)
    }

    fn number_states(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<Vec<(String, NumberState)>, StoreError> {
        self.named(
            Key::new(keys::NUMBER_STATE)
                .text(workspace)
                .text(campaign_id)
                .as_ref(),
        )
    }

    fn set_number_state(
        &self,
        workspace: &str,
        campaign_id: &str,
        number: &str,
        state: NumberState,
    ) -> Result<(), StoreError> {
        let key = keys::number_state(workspace, campaign_id, number);
        self.submit(true, move |db| {
            let mut tx = Tx::new(db);
            tx.put(key, &state);
            tx.commit()
        })
    }

    fn journal(&self, after_seq: u64, limit: usize) -> Result<Vec<JournalEvent>, StoreError> {
        // Pages are keyed by their last event: the first page at or after
        // the first wanted seq holds it.
        let first = after_seq.saturating_add(1);
        let lower = keys::journal(first).into_vec();
        let upper = keys::prefix_end(&[keys::JOURNAL]);
        let mut out = Vec::new();
        for entry in self.db.range(lower..upper) {
            let (key, value) = entry.map_err(io)?;
            let page: Vec<JournalEvent> = decode(&key, &value)?;
            for event in page.into_iter().filter(|event| event.seq >= first) {
                if out.len() == limit {
                    return Ok(out);
                }
                out.push(event);
            }
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    fn journal_head(&self) -> Result<u64, StoreError> {
        Ok(self.read(keys::journal_head().as_ref())?.unwrap_or(0))
    }

    fn prune_journal(&self, through_seq: u64) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let (removed, pages) = self.submit(false, move |db| {
                let mut tx = Tx::new(db);
                // Whole pages go: one whose last event is kept stays.
                let lower = keys::journal(0).into_vec();
                let upper = keys::journal(through_seq.saturating_add(1)).into_vec();
                let (mut removed, mut pages) = (0, 0);
                for entry in db.range(lower..upper).take(CHUNK) {
                    let (key, value) = entry.map_err(io)?;
                    removed += u64::from(journal_page_len(&key, &value)?);
                    pages += 1;
                    tx.batch.remove(key);
                }
                tx.commit()?;
                Ok((removed, pages))
            })?;
            total += removed;
            if pages < CHUNK {
                return Ok(total);
            }
        }
    }

    fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpointState>, StoreError> {
        self.read(keys::webhook(id).as_ref())
    }

    fn save_webhook_endpoint(
        &self,
        mut state: WebhookEndpointState,
        delivery: Option<WebhookDelivery>,
        keep_tries: u64,
    ) -> Result<(), StoreError> {
        self.submit(true, move |db| {
            let mut tx = Tx::new(db);
            if let Some(delivery) = &delivery {
                let logged = ledger::webhooks::log_delivery(&mut state, keep_tries);
                tx.put(keys::webhook_log(&state.id, logged.number), delivery);
                if let Some(dropped) = logged.dropped {
                    tx.remove(keys::webhook_log(&state.id, dropped));
                }
            }
            tx.put(keys::webhook(&state.id), &state);
            tx.commit()
        })
    }

    fn webhook_deliveries(
        &self,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let prefix = Key::new(keys::WEBHOOK_LOG).text(endpoint_id).into_vec();
        let mut out = Vec::new();
        for entry in self.db.scan_prefix(&prefix).rev().take(limit) {
            let (key, value) = entry.map_err(io)?;
            out.push(decode(&key, &value)?);
        }
        Ok(out)
    }

    fn create_suppression_list(
        &self,
        workspace: &str,
        list: NewSuppressionList,
        at: Millis,
    ) -> Result<SuppressionList, StoreError> {
        let workspace = workspace.to_string();
        self.submit(true, move |db| {
            let mut tx = Tx::new(db);
            let key = keys::suppression_list(&workspace, &list.name);
            let stored = tx.get(key.as_ref())?;
            let created = ledger::suppression::create(stored, &workspace, list, at)?;
            tx.put(key, &created);
            tx.commit()?;
            Ok(created)
        })
    }

    fn suppression_lists(&self, workspace: &str) -> Result<Vec<SuppressionList>, StoreError> {
        let prefix = Key::new(keys::SUPPRESSION_LIST).text(workspace).into_vec();
        let mut lists: Vec<SuppressionList> = Vec::new();
        for entry in self.db.scan_prefix(&prefix) {
            let (key, value) = entry.map_err(io)?;
            lists.push(decode(&key, &value)?);
        }
        if !lists.iter().any(|list| list.name == super::DNC_INTERNAL) {
            lists.extend(ledger::suppression::as_read(
                None,
                workspace,
                super::DNC_INTERNAL,
            ));
        }
        lists.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(lists)
    }

    fn suppression_list(
        &self,
        workspace: &str,
        name: &str,
    ) -> Result<Option<SuppressionList>, StoreError> {
        let stored = self.read(keys::suppression_list(workspace, name).as_ref())?;
        Ok(ledger::suppression::as_read(stored, workspace, name))
    }

    fn add_suppressions(
        &self,
        workspace: &str,
        list: &str,
        entries: Vec<NewSuppression>,
        by: &str,
        at: Millis,
    ) -> Result<SuppressionWrite, StoreError> {
        let (workspace, list, by) = (workspace.to_string(), list.to_string(), by.to_string());
        self.submit(true, move |db| {
            let mut tx = Tx::new(db);
            let change = suppression_add(&tx, &workspace, &list, entries, &by, at)?;
            stage_suppression(&mut tx, &change);
            tx.commit()?;
            Ok(change.write)
        })
    }

    fn remove_suppressions(
        &self,
        workspace: &str,
        list: &str,
        phones: Vec<String>,
        at: Millis,
    ) -> Result<u64, StoreError> {
        let (workspace, list) = (workspace.to_string(), list.to_string());
        self.submit(true, move |db| {
            let mut tx = Tx::new(db);
            let stored = tx.get(keys::suppression_list(&workspace, &list).as_ref())?;
            let record = ledger::suppression::for_write(stored, &workspace, &list, at)?;
            let held = on_list(&tx, &workspace, &list, phones.iter())?;
            let change = ledger::suppression::remove(record, &held, phones);
            let removed = change.removed.len() as u64;
            // Taking nothing off writes nothing: `dnc-internal` stays
            // unwritten until something is added to it.
            if removed > 0 {
                stage_suppression(&mut tx, &change);
                tx.commit()?;
            }
            Ok(removed)
        })
    }

    fn suppression_entries(
        &self,
        query: &SuppressionQuery,
    ) -> Result<Page<SuppressionEntry>, StoreError> {
        if self
            .suppression_list(&query.workspace, &query.list)?
            .is_none()
        {
            return Err(StoreError::SuppressionListNotFound {
                workspace: query.workspace.clone(),
                list: query.list.clone(),
            });
        }
        let prefix = Key::new(keys::SUPPRESSION_ENTRY)
            .text(&query.workspace)
            .text(&query.list)
            .into_vec();
        let lower = match &query.cursor {
            Some(cursor) if cursor.is_empty() || cursor.contains('\0') => {
                return Err(StoreError::BadCursor(cursor.clone()));
            }
            // Just past the cursor's own key.
            Some(cursor) => {
                let mut key =
                    keys::suppression_entry(&query.workspace, &query.list, cursor).into_vec();
                key.push(0);
                key
            }
            None => prefix.clone(),
        };
        let limit = query.limit.max(1);
        let mut items: Vec<SuppressionEntry> = Vec::new();
        for entry in self.db.range(lower..keys::prefix_end(&prefix)).take(limit) {
            let (key, value) = entry.map_err(io)?;
            items.push(decode(&key, &value)?);
        }
        let next_cursor = if items.len() == limit {
            items.last().map(|entry| entry.phone.clone())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    fn suppressions_of(
        &self,
        workspace: &str,
        phones: &[String],
        now: Millis,
    ) -> Result<Vec<Vec<SuppressionHit>>, StoreError> {
        phones
            .iter()
            .map(|phone| suppression_hits(&self.db, &self.numbers.listed, workspace, phone, now))
            .collect()
    }

    fn phone_histories(
        &self,
        workspace: &str,
        contacts: &[&ContactRecord],
        now: Millis,
    ) -> Result<Vec<PhoneHistory>, StoreError> {
        contacts
            .iter()
            .map(|contact| {
                if !self.numbers.shared.may_hold(workspace, &contact.phone) {
                    return Ok(ledger::phones::history([&contact.dials], now));
                }
                let key = keys::phone_contacts(workspace, &contact.phone);
                let contacts: PhoneContacts = self.read(key.as_ref())?.unwrap_or_default();
                let mut others = Vec::new();
                for (batch_id, seq) in &contacts {
                    if *batch_id == contact.batch_id && *seq == contact.seq {
                        continue;
                    }
                    // A draft's contacts have no attempts yet.
                    if let Some(state) = ContactReader::new(&self.db, batch_id).state(*seq)? {
                        others.push(state.dials);
                    }
                }
                Ok(ledger::phones::history(
                    others.iter().chain([&contact.dials]),
                    now,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_deleted_between_listing_and_sync_needs_no_sync() {
        let dir = tempfile::tempdir().expect("temp dir");
        let vanished = dir.path().join("snap.0000000000123456");
        std::fs::write(&vanished, b"old snapshot").expect("write");
        std::fs::remove_file(&vanished).expect("remove");
        sync_file(&vanished).expect("a vanished file is not an error");
        let directory = dir.path().join("blobs");
        assert!(sync_file(&directory).is_ok(), "nor is one never made");
        std::fs::write(dir.path().join("db"), b"data").expect("write");
        sync_tree(dir.path()).expect("the rest is synced");
    }
}
