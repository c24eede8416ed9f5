//! The engine on a store that refuses chosen writes: nothing is lost,
//! nothing is dialed twice, the batch is held while the store refuses and
//! dials again by itself once it takes writes; one refused for longer than
//! the outage limit pauses with `store_error: ...`, and a resume after the
//! store recovers finishes it.

use std::collections::HashSet;
use std::sync::Mutex;

use super::*;
use crate::model::EventKind;
use crate::reporting::health::queue_health;
use crate::store::{
    AttemptTotals, BatchQuery, ContactChunk, ContactDetail, ContactQuery, Counters, CreatedBatch,
    EndedAttempt, JournalEvent, LeaseRound, LiveAttempt, MinuteTotals, NewSuppression,
    NewSuppressionList, NumberTotals, Page, PhoneHistory, PlacementNote, RecentCall,
    SuppressionEntry, SuppressionHit, SuppressionList, SuppressionQuery, SuppressionWrite,
    WebhookDelivery, WebhookEndpointState,
};

/// How a refused write fails.
#[derive(Clone, Copy, PartialEq)]
enum Refusal {
    /// Nothing is written.
    Before,
    /// The write reaches the store, then the caller hears an error, as
    /// when the disk fails on the flush after the data was handed over.
    After,
}

/// The sled store, with chosen writes failing as `StoreError::Io`, and
/// leases as a store shared by several nodes would answer them.
pub(super) struct FaultyStore {
    inner: SledStore,
    failing: Mutex<HashMap<&'static str, Refusal>>,
    refused: Mutex<HashMap<&'static str, u32>>,
    /// Attempts whose provider call id was written, in order.
    recorded_calls: Mutex<Vec<String>>,
    /// The leases this node holds; `None` holds every campaign.
    leases: Mutex<Option<LeaseRound>>,
    /// Whether a call may leave now, by the node's clock.
    placing: std::sync::atomic::AtomicBool,
    /// Campaigns whose lease was handed back.
    released: Mutex<Vec<(String, String)>>,
}

/// Every write the engine makes, as a database that is down refuses them.
const EVERY_WRITE: [&str; 9] = [
    "begin_attempts",
    "start_recording_provider_calls",
    "record_provider_calls",
    "note_unknown_placements",
    "mark_calls_in_progress",
    "end_attempts",
    "set_blockers",
    "set_batch_status",
    "sync",
];

/// How long a batch is held before it pauses, by default.
const OUTAGE_LIMIT: Millis = 60 * SECOND_MS;

impl FaultyStore {
    /// Leases as `round` says from now on.
    pub(super) fn lease(&self, round: LeaseRound) {
        *self.leases.lock().unwrap() = Some(round);
    }

    pub(super) fn allow_placing(&self, allowed: bool) {
        self.placing
            .store(allowed, std::sync::atomic::Ordering::SeqCst);
    }

    pub(super) fn released(&self) -> Vec<(String, String)> {
        self.released.lock().unwrap().clone()
    }

    fn fail(&self, operation: &'static str, how: Refusal) {
        self.failing.lock().unwrap().insert(operation, how);
    }

    fn fail_every_write(&self) {
        for operation in EVERY_WRITE {
            self.fail(operation, Refusal::Before);
        }
    }

    fn recover(&self) {
        self.failing.lock().unwrap().clear();
    }

    fn refused(&self, operation: &str) -> u32 {
        self.refused
            .lock()
            .unwrap()
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    fn write<T>(
        &self,
        operation: &'static str,
        write: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let how = self.failing.lock().unwrap().get(operation).copied();
        let Some(how) = how else {
            return write();
        };
        *self.refused.lock().unwrap().entry(operation).or_default() += 1;
        if how == Refusal::After {
            write()?;
        }
        Err(StoreError::Io(format!(
            "{operation}: no space left on device"
        )))
    }
}

impl Store for FaultyStore {
    fn lease_campaigns(&self, campaigns: &[(String, String)]) -> Result<LeaseRound, StoreError> {
        match self.leases.lock().unwrap().clone() {
            Some(round) => Ok(round),
            None => self.inner.lease_campaigns(campaigns),
        }
    }
    fn may_place(&self, _workspace: &str, _campaign_id: &str) -> bool {
        self.placing.load(std::sync::atomic::Ordering::SeqCst)
    }
    fn release_lease(&self, workspace: &str, campaign_id: &str) -> Result<(), StoreError> {
        let campaign = (workspace.to_string(), campaign_id.to_string());
        if let Some(round) = self.leases.lock().unwrap().as_mut() {
            round.held.retain(|lease| {
                (&lease.workspace, &lease.campaign_id) != (&campaign.0, &campaign.1)
            });
            round.surplus.retain(|surplus| surplus != &campaign);
        }
        self.released.lock().unwrap().push(campaign);
        Ok(())
    }
    fn create_batch_in_chunks(
        &self,
        batch: NewBatch,
        chunks: &mut dyn Iterator<Item = ContactChunk>,
    ) -> Result<Option<CreatedBatch>, StoreError> {
        self.inner.create_batch_in_chunks(batch, chunks)
    }
    fn batch(&self, batch_id: &str) -> Result<Option<BatchRecord>, StoreError> {
        self.inner.batch(batch_id)
    }
    fn list_batches(&self, query: &BatchQuery) -> Result<Page<BatchRecord>, StoreError> {
        self.inner.list_batches(query)
    }
    fn open_batches(&self) -> Result<Vec<BatchRecord>, StoreError> {
        self.inner.open_batches()
    }
    fn contact(&self, batch_id: &str, seq: u64) -> Result<Option<ContactRecord>, StoreError> {
        self.inner.contact(batch_id, seq)
    }
    fn contact_detail(
        &self,
        batch_id: &str,
        seq: u64,
    ) -> Result<Option<ContactDetail>, StoreError> {
        self.inner.contact_detail(batch_id, seq)
    }
    fn attempts(&self, batch_id: &str, seq: u64) -> Result<Vec<Attempt>, StoreError> {
        self.inner.attempts(batch_id, seq)
    }
    fn list_contacts(&self, query: &ContactQuery) -> Result<Page<ContactRecord>, StoreError> {
        self.inner.list_contacts(query)
    }
    fn due(
        &self,
        batch_id: &str,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<ContactRecord>, StoreError> {
        self.write("due", || self.inner.due(batch_id, now, limit))
    }
    fn next_eligible_at(&self, batch_id: &str) -> Result<Option<Millis>, StoreError> {
        self.inner.next_eligible_at(batch_id)
    }
    fn begin_attempts(
        &self,
        begins: Vec<BeginAttempt>,
    ) -> Result<Vec<Result<Attempt, StoreError>>, StoreError> {
        self.write("begin_attempts", || self.inner.begin_attempts(begins))
    }
    fn start_recording_provider_calls(&self, calls: Vec<(AttemptKey, String)>) -> Pending<()> {
        // Not counted in `recorded_calls`: only a durable write is.
        match self.write("start_recording_provider_calls", || Ok(())) {
            Ok(()) => self.inner.start_recording_provider_calls(calls),
            Err(err) => Pending::ready(Err(err)),
        }
    }
    fn record_provider_calls(&self, calls: Vec<(AttemptKey, String)>) -> Result<(), StoreError> {
        let attempts: Vec<String> = calls.iter().map(|(key, _)| key.id()).collect();
        self.write("record_provider_calls", || {
            self.inner.record_provider_calls(calls)
        })?;
        self.recorded_calls.lock().unwrap().extend(attempts);
        Ok(())
    }
    fn note_unknown_placements(&self, notes: Vec<PlacementNote>) -> Result<(), StoreError> {
        self.write("note_unknown_placements", || {
            self.inner.note_unknown_placements(notes)
        })
    }
    fn mark_calls_in_progress(
        &self,
        marks: Vec<InProgressMark>,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        self.write("mark_calls_in_progress", || {
            self.inner.mark_calls_in_progress(marks)
        })
    }
    fn end_attempts(
        &self,
        ends: Vec<EndAttempt>,
    ) -> Result<Vec<Result<EndedAttempt, StoreError>>, StoreError> {
        self.write("end_attempts", || self.inner.end_attempts(ends))
    }
    fn set_blockers(
        &self,
        batch_id: &str,
        updates: Vec<BlockerUpdate>,
        at: Millis,
    ) -> Result<(), StoreError> {
        self.write("set_blockers", || {
            self.inner.set_blockers(batch_id, updates, at)
        })
    }
    fn skip_contact(
        &self,
        batch_id: &str,
        seq: u64,
        reason: &str,
        at: Millis,
    ) -> Result<ContactRecord, StoreError> {
        self.inner.skip_contact(batch_id, seq, reason, at)
    }
    fn set_batch_status(&self, change: StatusChange) -> Result<BatchRecord, StoreError> {
        self.write("set_batch_status", || self.inner.set_batch_status(change))
    }
    fn skip_waiting(&self, batch_id: &str, reason: &str, at: Millis) -> Result<u64, StoreError> {
        self.inner.skip_waiting(batch_id, reason, at)
    }
    fn make_retries_due(&self, batch_id: &str, now: Millis) -> Result<u64, StoreError> {
        self.inner.make_retries_due(batch_id, now)
    }
    fn live_attempts(&self) -> Result<Vec<LiveAttempt>, StoreError> {
        self.inner.live_attempts()
    }
    fn batch_counters(&self, batch_id: &str) -> Result<Counters, StoreError> {
        self.inner.batch_counters(batch_id)
    }
    fn campaign_counters(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<Counters, StoreError> {
        self.inner.campaign_counters(workspace, campaign_id)
    }
    fn recent_calls(&self, batch_id: &str, limit: usize) -> Result<Vec<RecentCall>, StoreError> {
        self.inner.recent_calls(batch_id, limit)
    }
    fn recount(&self, batch_id: &str) -> Result<Counters, StoreError> {
        self.inner.recount(batch_id)
    }
    fn batch_totals(&self, batch_id: &str) -> Result<AttemptTotals, StoreError> {
        self.inner.batch_totals(batch_id)
    }
    fn campaign_totals(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<AttemptTotals, StoreError> {
        self.inner.campaign_totals(workspace, campaign_id)
    }
    fn batch_number_totals(
        &self,
        batch_id: &str,
    ) -> Result<Vec<(String, NumberTotals)>, StoreError> {
        self.inner.batch_number_totals(batch_id)
    }
    fn campaign_number_totals(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<Vec<(String, NumberTotals)>, StoreError> {
        self.inner.campaign_number_totals(workspace, campaign_id)
    }
    fn timeline(&self, batch_id: &str, since: Millis) -> Result<Vec<MinuteTotals>, StoreError> {
        self.inner.timeline(batch_id, since)
    }
    fn batch_zones(&self, batch_id: &str) -> Result<Vec<String>, StoreError> {
        self.inner.batch_zones(batch_id)
    }
    fn number_states(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<Vec<(String, NumberState)>, StoreError> {
        self.inner.number_states(workspace, campaign_id)
    }
    fn set_number_state(
        &self,
        workspace: &str,
        campaign_id: &str,
        number: &str,
        state: NumberState,
    ) -> Result<(), StoreError> {
        self.inner
            .set_number_state(workspace, campaign_id, number, state)
    }
    fn sync(&self) -> Result<(), StoreError> {
        self.write("sync", || self.inner.sync())
    }
    fn journal(&self, after_seq: u64, limit: usize) -> Result<Vec<JournalEvent>, StoreError> {
        self.inner.journal(after_seq, limit)
    }
    fn journal_head(&self) -> Result<u64, StoreError> {
        self.inner.journal_head()
    }
    fn prune_journal(&self, through_seq: u64) -> Result<u64, StoreError> {
        self.inner.prune_journal(through_seq)
    }
    fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpointState>, StoreError> {
        self.inner.webhook_endpoint(id)
    }
    fn save_webhook_endpoint(
        &self,
        state: WebhookEndpointState,
        delivery: Option<WebhookDelivery>,
        keep_tries: u64,
    ) -> Result<(), StoreError> {
        self.inner
            .save_webhook_endpoint(state, delivery, keep_tries)
    }
    fn webhook_deliveries(
        &self,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        self.inner.webhook_deliveries(endpoint_id, limit)
    }
    fn skip_contacts(
        &self,
        batch_id: &str,
        skips: Vec<(u64, String)>,
        at: Millis,
    ) -> Result<Vec<Result<ContactRecord, StoreError>>, StoreError> {
        self.inner.skip_contacts(batch_id, skips, at)
    }
    fn create_suppression_list(
        &self,
        workspace: &str,
        list: NewSuppressionList,
        at: Millis,
    ) -> Result<SuppressionList, StoreError> {
        self.inner.create_suppression_list(workspace, list, at)
    }
    fn suppression_lists(&self, workspace: &str) -> Result<Vec<SuppressionList>, StoreError> {
        self.inner.suppression_lists(workspace)
    }
    fn suppression_list(
        &self,
        workspace: &str,
        name: &str,
    ) -> Result<Option<SuppressionList>, StoreError> {
        self.inner.suppression_list(workspace, name)
    }
    fn add_suppressions(
        &self,
        workspace: &str,
        list: &str,
        entries: Vec<NewSuppression>,
        by: &str,
        at: Millis,
    ) -> Result<SuppressionWrite, StoreError> {
        self.inner
            .add_suppressions(workspace, list, entries, by, at)
    }
    fn remove_suppressions(
        &self,
        workspace: &str,
        list: &str,
        phones: Vec<String>,
        at: Millis,
    ) -> Result<u64, StoreError> {
        self.inner.remove_suppressions(workspace, list, phones, at)
    }
    fn suppression_entries(
        &self,
        query: &SuppressionQuery,
    ) -> Result<Page<SuppressionEntry>, StoreError> {
        self.inner.suppression_entries(query)
    }
    fn suppressions_of(
        &self,
        workspace: &str,
        phones: &[String],
        now: Millis,
    ) -> Result<Vec<Vec<SuppressionHit>>, StoreError> {
        self.inner.suppressions_of(workspace, phones, now)
    }
    fn phone_histories(
        &self,
        workspace: &str,
        contacts: &[&ContactRecord],
        now: Millis,
    ) -> Result<Vec<PhoneHistory>, StoreError> {
        self.inner.phone_histories(workspace, contacts, now)
    }
}

pub(super) struct Rig {
    _dir: tempfile::TempDir,
    pub(super) store: Arc<FaultyStore>,
    pub(super) provider: Arc<SimulatedProvider>,
    pub(super) engine: Engine,
    pub(super) spec: CampaignSpec,
    pub(super) now: Millis,
}

const CONTACTS: u64 = 30;

pub(super) fn rig() -> Rig {
    rig_with(spec(4, 10.0, 2), EngineOptions::default())
}

fn rig_with(spec: CampaignSpec, options: EngineOptions) -> Rig {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = StoreConfig::new(dir.path().join("db"));
    config.durability = Durability::Relaxed;
    config.cache_capacity_bytes = 8 * 1024 * 1024;
    let store = Arc::new(FaultyStore {
        inner: SledStore::open(&config).expect("store opens"),
        failing: Mutex::new(HashMap::new()),
        refused: Mutex::new(HashMap::new()),
        recorded_calls: Mutex::new(Vec::new()),
        leases: Mutex::new(None),
        placing: std::sync::atomic::AtomicBool::new(true),
        released: Mutex::new(Vec::new()),
    });
    let provider = Arc::new(SimulatedProvider::new(SimulationConfig {
        seed: 11,
        ..SimulationConfig::default()
    }));
    let engine = Engine::new(
        store.clone(),
        provider.clone(),
        vec![CampaignPolicy::builtin(spec.clone())],
        options,
        T0,
    )
    .expect("engine starts");
    Rig {
        _dir: dir,
        store,
        provider,
        engine,
        spec,
        now: T0,
    }
}

impl Rig {
    pub(super) fn create(&self) -> String {
        self.create_of(CONTACTS as usize)
    }

    fn create_of(&self, count: usize) -> String {
        let batch = contacts(count, us_phone, "UTC");
        self.store.create_batch(batch).expect("create").batch.id
    }

    pub(super) fn batch(&self, id: &str) -> BatchRecord {
        self.store.batch(id).expect("read").expect("batch exists")
    }

    /// Ticks every second until `stop` or `until`; a tick never fails.
    pub(super) async fn run_until(&mut self, until: Millis, stop: impl Fn(&Rig) -> bool) {
        while self.now < until {
            self.engine
                .tick(self.now)
                .await
                .expect("a tick survives store failures");
            if stop(self) {
                return;
            }
            self.now += SECOND_MS;
        }
    }

    fn attempts(&self, batch: &str) -> Vec<Attempt> {
        (0..CONTACTS)
            .flat_map(|seq| self.store.attempts(batch, seq).expect("attempts"))
            .collect()
    }

    fn ended_attempts(&self, batch: &str) -> usize {
        self.attempts(batch)
            .iter()
            .filter(|attempt| attempt.ended_at.is_some())
            .count()
    }

    /// The batch finished with every contact final, the counters equal to a
    /// recount, nothing live, and no attempt id placed twice.
    pub(super) fn assert_finished_whole(&self, batch: &str) {
        let record = self.batch(batch);
        assert_eq!(record.status, BatchStatus::Completed, "{record:?}");
        let contacts = self
            .store
            .list_contacts(&ContactQuery {
                batch_id: batch.to_string(),
                limit: 1_000,
                ..ContactQuery::default()
            })
            .expect("list")
            .items;
        assert_eq!(contacts.len() as u64, CONTACTS);
        assert!(contacts.iter().all(|c| c.status.is_final()), "{contacts:?}");
        assert_eq!(
            self.store.batch_counters(batch).expect("counters"),
            self.store.recount(batch).expect("recount")
        );
        assert!(self.store.live_attempts().expect("live").is_empty());
        let attempts = self.attempts(batch);
        assert!(attempts.iter().all(|a| a.ended_at.is_some()));
        let ids: HashSet<String> = attempts.iter().map(|a| a.id.clone()).collect();
        assert_eq!(ids.len(), attempts.len(), "attempt ids are unique");
        for attempt in &attempts {
            assert!(
                self.provider.calls_placed_for(&attempt.id) <= 1,
                "{} placed twice",
                attempt.id
            );
        }
    }

    /// Resumes the batch as an operator would and runs it to the end,
    /// which must leave it whole (see [`Rig::assert_finished_whole`]).
    async fn resume_until_finished(&mut self, batch: &str) {
        control::resume(self.store.as_ref(), batch, "ops", None, self.now).expect("resume");
        let done = |rig: &Rig| rig.batch(batch).status == BatchStatus::Completed;
        self.run_until(self.now + 24 * 60 * MINUTE_MS, done).await;
        self.assert_finished_whole(batch);
    }

    fn assert_counters_match_recount(&self, batch: &str) {
        assert_eq!(
            self.store.batch_counters(batch).expect("counters"),
            self.store.recount(batch).expect("recount")
        );
    }

    /// Whether the batch was ever paused, by its journal.
    fn ever_paused(&self, batch: &str) -> bool {
        self.store
            .journal(0, 1_000_000)
            .expect("journal")
            .iter()
            .any(|event| event.batch_id == batch && event.kind == EventKind::BatchPaused)
    }

    fn paused_for_store_error(&self, batch: &str) -> bool {
        let record = self.batch(batch);
        record.status == BatchStatus::Paused
            && record
                .status_reason
                .as_deref()
                .is_some_and(|reason| reason.starts_with("store_error: "))
    }
}

#[tokio::test]
async fn refused_attempt_ends_pause_the_batch_and_are_written_once_the_store_recovers() {
    let mut rig = rig();
    let batch = rig.create();
    rig.run_until(T0 + 10 * MINUTE_MS, |rig| rig.ended_attempts(&batch) >= 3)
        .await;
    let ended_before = rig.ended_attempts(&batch);
    assert!(ended_before >= 3);

    rig.store.fail("end_attempts", Refusal::Before);
    rig.run_until(rig.now + 10 * MINUTE_MS, |_| false).await;
    assert!(rig.store.refused("end_attempts") > 0);
    assert!(
        rig.paused_for_store_error(&batch),
        "{:?}",
        rig.batch(&batch)
    );
    let reason = rig.batch(&batch).status_reason.unwrap();
    assert!(reason.contains("no space left on device"), "{reason}");
    let health = queue_health(rig.store.as_ref(), &rig.spec, &batch, rig.now).expect("debug");
    assert_eq!(health.status_reason.as_deref(), Some(reason.as_str()));
    assert!(!health.dialing);
    // The calls ended at the provider; the store holds them live still,
    // nothing more was dialed on top of them.
    let live = rig.store.live_attempts().expect("live");
    assert!(!live.is_empty(), "ended calls wait for the store");
    assert!(live.len() <= rig.spec.concurrency as usize);
    assert_eq!(rig.ended_attempts(&batch), ended_before);
    let placed = rig.provider.calls_placed();
    assert_eq!(placed as usize, rig.attempts(&batch).len());

    rig.store.recover();
    rig.run_until(rig.now + MINUTE_MS, |_| false).await;
    assert!(
        rig.store.live_attempts().expect("live").is_empty(),
        "every end written"
    );
    assert!(
        rig.paused_for_store_error(&batch),
        "stays paused until resumed"
    );
    assert_eq!(
        rig.provider.calls_placed(),
        placed,
        "nothing dialed while paused"
    );
    rig.assert_counters_match_recount(&batch);

    rig.resume_until_finished(&batch).await;
    assert_eq!(
        rig.provider.calls_placed() as usize,
        rig.attempts(&batch).len()
    );
}

#[tokio::test]
async fn an_end_the_store_refused_is_written_later_as_it_was_decided_when_the_call_ended() {
    let mut rig = rig();
    let batch = rig.create();
    rig.run_until(T0 + 10 * MINUTE_MS, |rig| rig.ended_attempts(&batch) >= 3)
        .await;
    rig.store.fail("end_attempts", Refusal::Before);
    rig.run_until(rig.now + 30 * MINUTE_MS, |_| false).await;
    assert!(
        rig.store.refused("end_attempts") > 1,
        "refused tick after tick"
    );
    let recovered_at = rig.now;
    rig.store.recover();
    rig.run_until(rig.now + MINUTE_MS, |_| false).await;
    assert!(rig.store.live_attempts().expect("live").is_empty());

    // Policy was asked once, when each call ended: the store took that
    // answer as it was, not one asked again at a later tick.
    let attempts = rig.attempts(&batch);
    assert!(attempts.len() > 3);
    for attempt in attempts {
        let ended = attempt.ended_at.expect("every attempt ended");
        assert!(ended < recovered_at, "{} ended at {ended}", attempt.id);
        if let Some(decision) = &attempt.decision {
            assert_eq!(decision.decided_at, ended, "{}", attempt.id);
        }
    }
}

#[tokio::test]
async fn call_ids_written_ahead_of_a_refused_commit_are_written_again_with_it() {
    // More calls in one tick than one write of call ids takes: the first
    // writes are started while the rest are placed, and the last one's
    // group commit is what makes them durable.
    let count = 2 * CALL_ID_CHUNK + 40;
    let options = EngineOptions {
        scan_limit: count,
        ..EngineOptions::default()
    };
    let mut rig = rig_with(spec(count as u32, count as f64, 1), options);
    let batch = rig.create_of(count);
    rig.store.fail("record_provider_calls", Refusal::Before);
    let report = rig.engine.tick(rig.now).await.expect("tick");
    assert_eq!(report.dialed, count);
    assert_eq!(rig.store.refused("start_recording_provider_calls"), 0);
    assert!(rig.store.recorded_calls.lock().unwrap().is_empty());
    rig.now += SECOND_MS;
    rig.run_until(rig.now + OUTAGE_LIMIT + SECOND_MS, |_| false)
        .await;
    assert!(
        rig.paused_for_store_error(&batch),
        "{:?}",
        rig.batch(&batch)
    );

    rig.store.recover();
    rig.run_until(rig.now + 2 * SECOND_MS, |_| false).await;
    let recorded: HashSet<String> = rig
        .store
        .recorded_calls
        .lock()
        .unwrap()
        .iter()
        .cloned()
        .collect();
    assert_eq!(recorded.len(), count, "every call id is written again");
    for seq in 0..count as u64 {
        let attempts = rig.store.attempts(&batch, seq).expect("attempts");
        assert_eq!(attempts.len(), 1, "contact {seq} dialed once");
        assert!(recorded.contains(&attempts[0].id), "contact {seq}");
    }
}

#[tokio::test]
async fn a_tick_whose_due_contacts_cannot_be_read_still_ends_the_calls_that_ended() {
    let mut rig = rig();
    let batch = rig.create();
    rig.engine
        .tick(rig.now)
        .await
        .expect("the first calls are placed");
    assert!(!rig.store.live_attempts().expect("live").is_empty());

    rig.store.fail("due", Refusal::Before);
    // Long enough for every call placed to have ended.
    rig.now += 30 * MINUTE_MS;
    let failed = rig.engine.tick(rig.now).await;
    assert!(failed.is_err(), "{failed:?}");
    assert!(
        rig.store.live_attempts().expect("live").is_empty(),
        "the calls' events were handled before the tick failed"
    );
    assert!(rig.ended_attempts(&batch) > 0);

    rig.store.recover();
    let done = |rig: &Rig| rig.batch(&batch).status == BatchStatus::Completed;
    rig.run_until(rig.now + 24 * 60 * MINUTE_MS, done).await;
    rig.assert_finished_whole(&batch);
}

#[tokio::test]
async fn refused_provider_call_ids_pause_the_batch_and_are_written_once_the_store_recovers() {
    let mut rig = rig();
    let batch = rig.create();
    rig.run_until(T0 + 10 * MINUTE_MS, |rig| rig.ended_attempts(&batch) >= 2)
        .await;

    rig.store.fail("record_provider_calls", Refusal::Before);
    rig.run_until(rig.now + MINUTE_MS, |rig| {
        rig.store.refused("record_provider_calls") > 0
    })
    .await;
    // The calls just placed are live in the store without their ids.
    let refused: Vec<String> = rig
        .store
        .live_attempts()
        .expect("live")
        .into_iter()
        .filter(|attempt| attempt.provider_call_id.is_none())
        .map(|attempt| attempt.attempt_id)
        .collect();
    assert!(!refused.is_empty());
    rig.now += SECOND_MS;
    rig.run_until(rig.now + OUTAGE_LIMIT + SECOND_MS, |_| false)
        .await;
    assert!(
        rig.paused_for_store_error(&batch),
        "{:?}",
        rig.batch(&batch)
    );

    rig.store.recover();
    rig.run_until(rig.now + 2 * SECOND_MS, |_| false).await;
    let recorded = rig.store.recorded_calls.lock().unwrap().clone();
    for attempt in &refused {
        assert!(recorded.contains(attempt), "{attempt} written again");
    }
    let live = rig.store.live_attempts().expect("live");
    assert!(
        live.iter()
            .all(|attempt| attempt.provider_call_id.is_some()),
        "{live:?}"
    );

    rig.resume_until_finished(&batch).await;
}

#[tokio::test]
async fn refused_dial_intents_pause_the_batch_before_any_call_is_placed() {
    let mut rig = rig();
    let batch = rig.create();
    rig.run_until(T0 + 10 * MINUTE_MS, |rig| rig.ended_attempts(&batch) >= 2)
        .await;

    rig.store.fail("begin_attempts", Refusal::Before);
    let placed = rig.provider.calls_placed();
    let attempts = rig.attempts(&batch).len();
    rig.run_until(rig.now + 10 * MINUTE_MS, |_| false).await;
    assert!(rig.store.refused("begin_attempts") > 0);
    assert!(
        rig.paused_for_store_error(&batch),
        "{:?}",
        rig.batch(&batch)
    );
    assert_eq!(
        rig.provider.calls_placed(),
        placed,
        "no call without its intent"
    );
    assert_eq!(rig.attempts(&batch).len(), attempts, "nothing half-written");

    rig.store.recover();
    rig.resume_until_finished(&batch).await;
    assert_eq!(
        rig.provider.calls_placed() as usize,
        rig.attempts(&batch).len()
    );
}

#[tokio::test]
async fn dial_intents_written_despite_an_error_are_never_placed_and_retried_under_new_ids() {
    // One group of intents fails, and the store takes every write after
    // it: the batch goes on by itself, without a pause.
    let mut rig = rig();
    let batch = rig.create();
    rig.run_until(T0 + 10 * MINUTE_MS, |rig| rig.ended_attempts(&batch) >= 2)
        .await;

    // One failing group of intents: they reach the store, the engine hears
    // an error and places none of them.
    rig.store.fail("begin_attempts", Refusal::After);
    let placed = rig.provider.calls_placed();
    let before = rig.attempts(&batch).len();
    rig.run_until(rig.now + MINUTE_MS, |rig| {
        rig.store.refused("begin_attempts") > 0
    })
    .await;
    rig.store.recover();
    let orphans = rig.attempts(&batch).len() - before;
    assert!(orphans > 0, "the failing write went through");
    assert_eq!(rig.provider.calls_placed(), placed);
    let done = |rig: &Rig| rig.batch(&batch).status == BatchStatus::Completed;
    rig.run_until(rig.now + 24 * 60 * MINUTE_MS, done).await;
    rig.assert_finished_whole(&batch);
    assert!(!rig.ever_paused(&batch));
    let attempts = rig.attempts(&batch);
    let never_placed: Vec<&Attempt> = attempts
        .iter()
        .filter(|attempt| rig.provider.calls_placed_for(&attempt.id) == 0)
        .collect();
    assert_eq!(never_placed.len(), orphans);
    for attempt in never_placed {
        assert_eq!(attempt.reason(), Some("store_error"), "{attempt:?}");
        assert!(attempt.system_retry, "not counted as an attempt");
    }
    assert_eq!(
        rig.provider.calls_placed() as usize,
        attempts.len() - orphans,
        "every other attempt was placed once"
    );
}

#[tokio::test]
async fn a_refused_pause_is_tried_again_and_no_call_is_placed_meanwhile() {
    let mut rig = rig();
    let batch = rig.create();
    rig.run_until(T0 + 10 * MINUTE_MS, |rig| rig.ended_attempts(&batch) >= 2)
        .await;

    rig.store.fail("begin_attempts", Refusal::Before);
    rig.store.fail("set_batch_status", Refusal::Before);
    let placed = rig.provider.calls_placed();
    rig.run_until(rig.now + 5 * MINUTE_MS, |_| false).await;
    assert!(
        rig.store.refused("set_batch_status") > 1,
        "the pause is retried"
    );
    assert_eq!(rig.batch(&batch).status, BatchStatus::InProgress);
    assert_eq!(rig.provider.calls_placed(), placed);

    rig.store.recover();
    rig.run_until(rig.now + 2 * SECOND_MS, |_| false).await;
    assert!(
        rig.paused_for_store_error(&batch),
        "{:?}",
        rig.batch(&batch)
    );
}

#[tokio::test]
async fn a_store_down_for_seconds_holds_the_batch_which_then_dials_again_by_itself() {
    let mut rig = rig();
    let batch = rig.create();
    rig.run_until(T0 + 10 * MINUTE_MS, |rig| rig.ended_attempts(&batch) >= 3)
        .await;

    // Ten seconds of refusing every write, as a database restarting.
    rig.store.fail_every_write();
    let placed = rig.provider.calls_placed();
    rig.run_until(rig.now + 10 * SECOND_MS, |_| false).await;
    assert!(rig.store.refused("begin_attempts") + rig.store.refused("sync") > 0);
    assert_eq!(
        rig.provider.calls_placed(),
        placed,
        "nothing dialed on top of a store that takes no writes"
    );
    assert_eq!(rig.batch(&batch).status, BatchStatus::InProgress);

    rig.store.recover();
    let recovered_at = rig.now;
    rig.run_until(rig.now + MINUTE_MS, |rig| {
        rig.provider.calls_placed() > placed
    })
    .await;
    assert!(
        rig.now <= recovered_at + 3 * SECOND_MS,
        "dialing again {} ms after the store recovered",
        rig.now - recovered_at
    );
    let done = |rig: &Rig| rig.batch(&batch).status == BatchStatus::Completed;
    rig.run_until(rig.now + 24 * 60 * MINUTE_MS, done).await;
    rig.assert_finished_whole(&batch);
    assert!(!rig.ever_paused(&batch), "no operator was needed");
}

#[tokio::test]
async fn a_store_that_keeps_refusing_writes_pauses_the_batch_after_the_outage_limit_not_before() {
    let mut rig = rig();
    let batch = rig.create();
    rig.run_until(T0 + 10 * MINUTE_MS, |rig| rig.ended_attempts(&batch) >= 3)
        .await;

    rig.store.fail_every_write();
    let failing_from = rig.now;
    let placed = rig.provider.calls_placed();
    rig.run_until(failing_from + OUTAGE_LIMIT - 5 * SECOND_MS, |_| false)
        .await;
    assert_eq!(rig.store.refused("set_batch_status"), 0, "no pause yet");
    rig.run_until(failing_from + OUTAGE_LIMIT + 5 * SECOND_MS, |_| false)
        .await;
    assert!(
        rig.store.refused("set_batch_status") > 0,
        "the pause is tried"
    );
    assert_eq!(rig.provider.calls_placed(), placed);

    // The store is back, yet the outage lasted past the limit: the pause
    // decided on stands, for an operator to look at.
    rig.store.recover();
    rig.run_until(rig.now + 2 * SECOND_MS, |_| false).await;
    assert!(
        rig.paused_for_store_error(&batch),
        "{:?}",
        rig.batch(&batch)
    );
    assert_eq!(rig.provider.calls_placed(), placed);
    rig.resume_until_finished(&batch).await;
}
