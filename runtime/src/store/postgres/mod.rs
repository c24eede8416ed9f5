//! The PostgreSQL store: one database that several processes can share.
//!
//! The client is tokio-postgres with a deadpool pool: it pipelines the
//! statements of a write on one connection and takes whole arrays as
//! parameters, so a write of hundreds of contacts is a few multi-row
//! statements; sqlx's compile-time checked queries would need a database
//! at build time for no gain here.
//!
//! The `Store` trait is synchronous and called from any thread, async
//! handlers included, so the store runs its own small tokio runtime: a
//! method spawns its work there and waits on a std channel, never blocking
//! on the caller's runtime. Reads take a pooled connection each. Writes go
//! to one writer task (`writer.rs`), which runs them in the order they
//! were started and commits each group of waiting writes as one
//! transaction. A group holding a write the contract calls durable commits
//! with `synchronous_commit` on; a group of only the writes it lets a crash
//! lose until the next durable write (ends, marks, blockers, call ids
//! started without a sync) commits with it off, and the next durable group
//! flushes them (`writer.rs` says why that holds), so [`Store::sync`] is an
//! empty durable write.
//!
//! The tables are `migrations/`; `schema.rs` applies them at open.
//!
//! # Several nodes
//!
//! Each open store is a node (`leases.rs`): it holds leases on campaigns,
//! renewed by lease rounds, and the dispatcher dials only the campaigns it
//! holds. The dispatcher writes through [`PostgresStore::fenced`], whose
//! every write that reads a batch first checks, in its own transaction,
//! that the node still holds the lease of the batch's campaign
//! (`JobTx::batch`), and refuses with [`StoreError::Fenced`] before it
//! stages anything. Writes from the API are not fenced: any node takes
//! them. Every write locks the row of each batch it reads until it
//! commits, so the writes of different nodes to one batch take turns, and
//! the journal's seqs are taken at commit under the head row's lock, so
//! they stay gap-free and in commit order whichever node commits.

mod leases;
mod reads;
mod rows;
mod schema;
mod writer;
mod writes;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio::sync::mpsc::UnboundedSender;
use tokio_postgres::NoTls;

use self::leases::Node;
use self::writer::{BoxFuture, Group, Job};
use super::{
    AttemptKey, AttemptQuery, AttemptTotals, BatchAttempt, BatchQuery, BatchRecord, BeginAttempt,
    BlockerUpdate, ContactChunk, ContactDetail, ContactHistory, ContactQuery, ContactRecord,
    Counters, CreatedBatch, EndAttempt, EndedAttempt, InProgressMark, JournalEvent, LeaseRound,
    LiveAttempt, MinuteTotals, NewBatch, NewSuppression, NewSuppressionList, NumberState,
    NumberTotals, Page, Pending, PhoneHistory, PlacementNote, RecentCall, StatusChange, Store,
    StoreError, SuppressionEntry, SuppressionHit, SuppressionList, SuppressionQuery,
    SuppressionWrite, WebhookDelivery, WebhookEndpointState, in_chunks,
};
use crate::model::{Attempt, Millis};

/// A write of many items, run by the writer a job of them at a time.
type GroupWrite<T, R> =
    for<'g> fn(&'g mut Group, Vec<T>) -> BoxFuture<'g, Result<Vec<R>, StoreError>>;

/// Most items (dial intents, ends, call ids) in one write job.
const JOB_ITEMS: usize = 512;
/// Contacts written per write while a batch is created, so the dispatcher's
/// writes are not held up behind a large upload.
const CREATE_CHUNK: usize = 5_000;
/// How long the store waits for a new connection before it answers an
/// error.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long closing the store waits for the writes already started.
const CLOSE_WAIT: Duration = Duration::from_secs(30);
/// How long a node's lease on a campaign lasts unless renewed, unless
/// `lease_ttl` says.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(8);

/// How a PostgreSQL store is opened.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// A libpq connection string: `postgres://user:password@host:port/db`
    /// or `host=... dbname=...`.
    pub url: String,
    /// Connections to the database: one for the writer, the rest for
    /// reads. At least 2. Default: 8.
    pub pool_size: usize,
    /// How long a lease on a campaign lasts unless renewed: a dead node's
    /// campaigns are dialed again by another within about this long.
    pub lease_ttl: Duration,
}

impl PostgresConfig {
    /// The default configuration for the database at `url`.
    pub fn new(url: impl Into<String>) -> PostgresConfig {
        PostgresConfig {
            url: url.into(),
            pool_size: 8,
            lease_ttl: DEFAULT_LEASE_TTL,
        }
    }
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &redacted(&self.url))
            .field("pool_size", &self.pool_size)
            .field("lease_ttl", &self.lease_ttl)
            .finish()
    }
}

/// `url` with its password hidden, for messages and logs.
fn redacted(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((credentials, host)) = rest.split_once('@')
            && let Some((user, _)) = credentials.split_once(':')
        {
            return format!("{scheme}://{user}:***@{host}");
        }
        return url.to_string();
    }
    url.split_whitespace()
        .map(|pair| match pair.split_once('=') {
            Some(("password", _)) => "password=***".to_string(),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The PostgreSQL-backed [`Store`].
pub struct PostgresStore {
    pool: Pool,
    writer: Option<UnboundedSender<Job>>,
    /// Whether this handle's writes are fenced by the node's leases.
    fenced: bool,
    node: Arc<Node>,
    runtime: Arc<OwnRuntime>,
    /// Waits for the writer and leaves the node once the last handle is
    /// gone.
    _closing: Arc<Closing>,
}

/// What closing the store waits for once its last handle is dropped.
struct Closing {
    /// Answers once the writer has run every write sent to it.
    writer_done: std::sync::Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    pool: Pool,
    node: Arc<Node>,
    runtime: Arc<OwnRuntime>,
}

impl Drop for Closing {
    fn drop(&mut self) {
        // Every handle's sender is gone: the writer ends after the writes
        // already sent; they were started, so they are finished.
        let done = self
            .writer_done
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(done) = done
            && done.recv_timeout(CLOSE_WAIT).is_err()
        {
            tracing::error!("store writer did not finish its writes in time");
        }
        let pool = self.pool.clone();
        let node = self.node.clone();
        let left = self.runtime.wait(async move {
            let db = pool.get().await.map_err(rows::pool)?;
            leases::leave(&db, &node).await
        });
        if let Err(err) = left {
            tracing::warn!(error = %err, "the node's leases were not handed back; they run out on their own");
        }
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

/// The store's runtime, shut down without blocking when dropped: the last
/// handle may go inside another runtime.
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl OwnRuntime {
    fn handle(&self) -> &tokio::runtime::Handle {
        self.0
            .as_ref()
            .expect("the runtime lives until the store is dropped")
            .handle()
    }

    /// Runs `work` on the runtime and waits for it on this thread, which
    /// may belong to any runtime or none.
    fn wait<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, receiver) = std::sync::mpsc::sync_channel(1);
        self.handle().spawn(async move {
            let _ = answer.send(work.await);
        });
        receiver
            .recv()
            .map_err(|_| StoreError::Io("the store's runtime stopped".to_string()))?
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl PostgresStore {
    /// Connects, brings the schema up to date, discards the drafts of
    /// creates a crash interrupted, and starts the writer.
    pub fn open(config: &PostgresConfig) -> Result<PostgresStore, StoreError> {
        let open_error = |message: String| StoreError::Open {
            path: redacted(&config.url),
            message,
        };
        let pg_config: tokio_postgres::Config = config
            .url
            .parse()
            .map_err(|err| open_error(format!("malformed database url: {err}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("store-postgres")
            .enable_all()
            .build()
            .map_err(|err| open_error(format!("cannot start the store's runtime: {err}")))?;
        let runtime = Arc::new(OwnRuntime(Some(runtime)));
        let manager = Manager::from_config(
            pg_config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(2))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|err| open_error(format!("cannot make a connection pool: {err}")))?;
        let node = Arc::new(Node::new(config.lease_ttl));
        let prepared = pool.clone();
        let registering = node.clone();
        runtime
            .wait(async move { prepare(&prepared, &registering).await })
            .map_err(|err| match err {
                StoreError::Io(message) => open_error(message),
                other => other,
            })?;
        let (writer, jobs) = tokio::sync::mpsc::unbounded_channel();
        let (done, writer_done) = std::sync::mpsc::sync_channel(1);
        let writer_pool = pool.clone();
        let writer_node = node.clone();
        runtime.handle().spawn(async move {
            writer::write_loop(writer_pool, jobs, writer_node).await;
            let _ = done.send(());
        });
        let closing = Arc::new(Closing {
            writer_done: std::sync::Mutex::new(Some(writer_done)),
            pool: pool.clone(),
            node: node.clone(),
            runtime: runtime.clone(),
        });
        Ok(PostgresStore {
            pool,
            writer: Some(writer),
            fenced: false,
            node,
            runtime,
            _closing: closing,
        })
    }

    /// A handle on the same store whose every write that reads a batch is
    /// refused with [`StoreError::Fenced`] unless this node holds the lease
    /// of the batch's campaign: the dispatcher's handle.
    pub fn fenced(&self) -> PostgresStore {
        PostgresStore {
            pool: self.pool.clone(),
            writer: self.writer.clone(),
            fenced: true,
            node: self.node.clone(),
            runtime: self.runtime.clone(),
            _closing: self._closing.clone(),
        }
    }

    /// This node's id, as `campaign_leases.owner` names it.
    pub fn node_id(&self) -> &str {
        &self.node.id
    }

    /// Runs a read on a pooled connection and waits for it.
    fn read<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Object) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send,
    {
        let pool = self.pool.clone();
        self.runtime.wait(async move {
            let db = pool.get().await.map_err(rows::pool)?;
            op(db).await
        })
    }

    /// Queues `op` for the writer; the answer comes once its group has
    /// committed durably.
    fn start<R, F>(&self, op: F) -> Pending<R>
    where
        R: Send + 'static,
        F: for<'g> FnOnce(&'g mut Group) -> BoxFuture<'g, Result<R, StoreError>> + Send + 'static,
    {
        self.queue(op, true)
    }

    /// Queues a write the contract lets a crash lose until a later durable
    /// write or sync; the answer comes once its group has committed.
    fn start_unsynced<R, F>(&self, op: F) -> Pending<R>
    where
        R: Send + 'static,
        F: for<'g> FnOnce(&'g mut Group) -> BoxFuture<'g, Result<R, StoreError>> + Send + 'static,
    {
        self.queue(op, false)
    }

    fn queue<R, F>(&self, op: F, durable: bool) -> Pending<R>
    where
        R: Send + 'static,
        F: for<'g> FnOnce(&'g mut Group) -> BoxFuture<'g, Result<R, StoreError>> + Send + 'static,
    {
        let fence = self.fenced.then(|| self.node.clone());
        let (job, answer) = writer::job(op, durable, fence);
        let queued = self
            .writer
            .as_ref()
            .is_some_and(|writer| writer.send(job).is_ok());
        if queued {
            Pending::waiting(answer)
        } else {
            Pending::ready(Err(StoreError::WriterGone))
        }
    }

    /// Runs `op` on the writer and waits for its answer.
    fn submit<R, F>(&self, op: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: for<'g> FnOnce(&'g mut Group) -> BoxFuture<'g, Result<R, StoreError>> + Send + 'static,
    {
        self.start(op).wait()
    }

    /// Runs `op` on `items` in jobs of at most [`JOB_ITEMS`], queued
    /// together so they share a commit, and answers their results in
    /// order. Each job is atomic, not the whole.
    fn submit_in_jobs<T, R>(
        &self,
        items: Vec<T>,
        op: GroupWrite<T, R>,
    ) -> Result<Vec<R>, StoreError>
    where
        T: Send + 'static,
        R: Send + 'static,
    {
        let jobs = in_chunks(items, JOB_ITEMS)
            .map(|chunk| self.start(move |group| op(group, chunk)))
            .collect();
        Pending::wait_all(jobs)
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // The writer stops once every handle's sender is gone; the last
        // handle's `Closing` waits for it.
        drop(self.writer.take());
    }
}

/// Migrates the schema, registers the node and discards the drafts whose
/// node is gone.
async fn prepare(pool: &Pool, node: &Node) -> Result<(), StoreError> {
    {
        // A connection of its own, closed when done: the migration lock
        // goes with it whatever happens.
        let client = pool.get().await.map_err(rows::pool)?;
        let mut client = Object::take(client);
        schema::migrate(&mut client).await.map_err(StoreError::Io)?;
    }
    let db = pool.get().await.map_err(rows::pool)?;
    leases::heartbeat(&db, node).await?;
    leases::discard_orphan_drafts(&db, node.ttl.as_secs_f64()).await
}

fn begins_job<'g>(
    group: &'g mut Group,
    begins: Vec<BeginAttempt>,
) -> BoxFuture<'g, Result<Vec<Result<Attempt, StoreError>>, StoreError>> {
    Box::pin(writes::write_begins(group, begins))
}

fn calls_job<'g>(
    group: &'g mut Group,
    calls: Vec<(AttemptKey, String)>,
) -> BoxFuture<'g, Result<Vec<()>, StoreError>> {
    Box::pin(async move {
        writes::write_provider_calls(group, calls).await?;
        // No answer per call.
        Ok(Vec::new())
    })
}

impl Store for PostgresStore {
    fn lease_campaigns(&self, campaigns: &[(String, String)]) -> Result<LeaseRound, StoreError> {
        if let Some(fresh) = self.node.round_is_fresh() {
            return Ok(fresh);
        }
        let node = self.node.clone();
        let campaigns = campaigns.to_vec();
        self.read(move |mut db| async move { leases::round(&mut db, &node, &campaigns).await })
    }

    fn may_place(&self, workspace: &str, campaign_id: &str) -> bool {
        self.node
            .may_place(&(workspace.to_string(), campaign_id.to_string()))
    }

    fn lease_webhook_endpoint(&self, endpoint_id: &str) -> Result<bool, StoreError> {
        if self.node.delivers_without_renewal(endpoint_id) {
            return Ok(true);
        }
        let node = self.node.clone();
        let endpoint_id = endpoint_id.to_string();
        self.read(move |db| async move { leases::lease_endpoint(&db, &node, &endpoint_id).await })
    }

    fn release_lease(&self, workspace: &str, campaign_id: &str) -> Result<(), StoreError> {
        let node = self.node.clone();
        let campaign = (workspace.to_string(), campaign_id.to_string());
        self.read(move |db| async move { leases::release(&db, &node, &campaign).await })
    }

    fn create_batch_in_chunks(
        &self,
        mut new: NewBatch,
        chunks: &mut dyn Iterator<Item = ContactChunk>,
    ) -> Result<Option<CreatedBatch>, StoreError> {
        let first = std::mem::take(&mut new.contacts);
        let new = Arc::new(new);
        let header = new.clone();
        let draft = match self.submit(move |group| {
            Box::pin(async move { writes::begin_create(group, &header).await })
        })? {
            Ok(draft) => draft,
            Err(existing) => return Ok(Some(existing)),
        };
        let batch_id = draft.batch.id.clone();
        let from_new = in_chunks(first, CREATE_CHUNK).map(ContactChunk::Contacts);
        // The draft travels to the writer with each chunk and back; `None`
        // when the chunks said to abandon it.
        let fed = (|| {
            let mut draft = draft;
            for chunk in from_new.chain(chunks) {
                match chunk {
                    ContactChunk::Contacts(contacts) => {
                        for part in in_chunks(contacts, CREATE_CHUNK) {
                            draft = self.submit(move |group| {
                                Box::pin(writes::add_contacts(group, draft, part))
                            })?;
                        }
                    }
                    ContactChunk::Upload(upload) => draft.batch.upload = Some(upload),
                    ContactChunk::Abandon => return Ok(None),
                }
            }
            Ok(Some(draft))
        })();
        let discard = |batch_id: String| {
            self.submit(move |group| {
                Box::pin(async move { writes::discard_draft(group, &batch_id).await })
            })
        };
        match fed {
            Ok(Some(draft)) => self
                .submit(move |group| {
                    Box::pin(async move { writes::finish_create(group, draft, &new).await })
                })
                .map(Some),
            Ok(None) => {
                discard(batch_id)?;
                Ok(None)
            }
            Err(err) => {
                // Best effort: the error says what went wrong, and should
                // the discard fail too, the next open discards the draft.
                let _ = discard(batch_id);
                Err(err)
            }
        }
    }

    fn batch(&self, batch_id: &str) -> Result<Option<BatchRecord>, StoreError> {
        let batch_id = batch_id.to_string();
        self.read(move |db| async move { reads::batch(&db, &batch_id).await })
    }

    fn list_batches(&self, query: &BatchQuery) -> Result<Page<BatchRecord>, StoreError> {
        let query = query.clone();
        self.read(move |db| async move { reads::list_batches(&db, &query).await })
    }

    fn open_batches(&self) -> Result<Vec<BatchRecord>, StoreError> {
        self.read(move |db| async move { reads::open_batches(&db).await })
    }

    fn contact(&self, batch_id: &str, seq: u64) -> Result<Option<ContactRecord>, StoreError> {
        let batch_id = batch_id.to_string();
        self.read(move |db| async move { reads::contact(&db, &batch_id, seq).await })
    }

    fn contact_detail(
        &self,
        batch_id: &str,
        seq: u64,
    ) -> Result<Option<ContactDetail>, StoreError> {
        let batch_id = batch_id.to_string();
        self.read(move |db| async move { reads::contact_detail(&db, &batch_id, seq).await })
    }

    fn attempts(&self, batch_id: &str, seq: u64) -> Result<Vec<Attempt>, StoreError> {
        let batch_id = batch_id.to_string();
        self.read(move |db| async move { reads::attempts(&db, &batch_id, seq).await })
    }

    fn contacts_with_attempts(
        &self,
        batch_id: &str,
        seqs: &[u64],
    ) -> Result<Vec<Option<ContactHistory>>, StoreError> {
        let (batch_id, seqs) = (batch_id.to_string(), seqs.to_vec());
        self.read(
            move |db| async move { reads::contacts_with_attempts(&db, &batch_id, &seqs).await },
        )
    }

    fn list_contacts(&self, query: &ContactQuery) -> Result<Page<ContactRecord>, StoreError> {
        let query = query.clone();
        self.read(move |db| async move { reads::list_contacts(&db, &query).await })
    }

    fn batch_attempts(&self, query: &AttemptQuery) -> Result<Page<BatchAttempt>, StoreError> {
        let query = query.clone();
        self.read(move |db| async move { reads::batch_attempts(&db, &query).await })
    }

    fn due(
        &self,
        batch_id: &str,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<ContactRecord>, StoreError> {
        let batch_id = batch_id.to_string();
        self.read(move |db| async move { reads::due(&db, &batch_id, now, limit).await })
    }

    fn next_eligible_at(&self, batch_id: &str) -> Result<Option<Millis>, StoreError> {
        let batch_id = batch_id.to_string();
        self.read(move |db| async move { reads::next_eligible_at(&db, &batch_id).await })
    }

    fn begin_attempts(
        &self,
        begins: Vec<BeginAttempt>,
    ) -> Result<Vec<Result<Attempt, StoreError>>, StoreError> {
        self.submit_in_jobs(begins, begins_job)
    }

    fn start_begin_attempts(
        &self,
        begins: Vec<BeginAttempt>,
    ) -> Pending<Vec<Result<Attempt, StoreError>>> {
        self.start(move |group| begins_job(group, begins))
    }

    fn record_provider_calls(&self, calls: Vec<(AttemptKey, String)>) -> Result<(), StoreError> {
        self.submit_in_jobs(calls, calls_job).map(drop)
    }

    fn start_recording_provider_calls(&self, calls: Vec<(AttemptKey, String)>) -> Pending<()> {
        self.start_unsynced(move |group| Box::pin(writes::write_provider_calls(group, calls)))
    }

    fn note_unknown_placements(&self, notes: Vec<PlacementNote>) -> Result<(), StoreError> {
        self.start_unsynced(move |group| Box::pin(writes::note_placements(group, notes)))
            .wait()
    }

    fn mark_calls_in_progress(
        &self,
        marks: Vec<InProgressMark>,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        self.start_unsynced(move |group| Box::pin(writes::write_marks(group, marks)))
            .wait()
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
        self.start_unsynced(move |group| Box::pin(writes::write_ends(group, ends)))
    }

    fn set_blockers(
        &self,
        batch_id: &str,
        updates: Vec<BlockerUpdate>,
        at: Millis,
    ) -> Result<(), StoreError> {
        let batch_id = batch_id.to_string();
        self.start_unsynced(move |group| {
            Box::pin(writes::set_blockers(group, batch_id, updates, at))
        })
        .wait()
    }

    fn skip_contacts(
        &self,
        batch_id: &str,
        skips: Vec<(u64, String)>,
        at: Millis,
    ) -> Result<Vec<Result<ContactRecord, StoreError>>, StoreError> {
        let batch_id = batch_id.to_string();
        self.submit(move |group| Box::pin(writes::skip_contacts(group, batch_id, skips, at)))
    }

    fn skip_contact(
        &self,
        batch_id: &str,
        seq: u64,
        reason: &str,
        at: Millis,
    ) -> Result<ContactRecord, StoreError> {
        let skipped = self.skip_contacts(batch_id, vec![(seq, reason.to_string())], at)?;
        super::only_result(skipped)
    }

    fn set_batch_status(&self, change: StatusChange) -> Result<BatchRecord, StoreError> {
        self.submit(move |group| Box::pin(writes::set_batch_status(group, change)))
    }

    fn skip_waiting(&self, batch_id: &str, reason: &str, at: Millis) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let (batch_id, reason) = (batch_id.to_string(), reason.to_string());
            let skipped = self.submit(move |group| {
                Box::pin(writes::skip_waiting_chunk(group, batch_id, reason, at))
            })?;
            total += skipped;
            if skipped == 0 {
                return Ok(total);
            }
        }
    }

    fn make_retries_due(&self, batch_id: &str, now: Millis) -> Result<u64, StoreError> {
        let mut total = 0;
        // Every contact due after `now`.
        let mut from = (now, i64::MAX);
        loop {
            let batch_id = batch_id.to_string();
            let (moved, next) = self.submit(move |group| {
                Box::pin(writes::make_due_chunk(group, batch_id, now, from))
            })?;
            total += moved;
            match next {
                Some(next) => from = next,
                None => return Ok(total),
            }
        }
    }

    fn live_attempts(&self) -> Result<Vec<LiveAttempt>, StoreError> {
        self.read(move |db| async move { reads::live_attempts(&db).await })
    }

    fn batch_counters(&self, batch_id: &str) -> Result<Counters, StoreError> {
        let batch_id = batch_id.to_string();
        self.read(move |db| async move { reads::batch_counters(&db, &batch_id).await })
    }

    fn campaign_counters(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<Counters, StoreError> {
        let (workspace, campaign_id) = (workspace.to_string(), campaign_id.to_string());
        self.read(
            move |db| async move { reads::campaign_counters(&db, &workspace, &campaign_id).await },
        )
    }

    fn recent_calls(&self, batch_id: &str, limit: usize) -> Result<Vec<RecentCall>, StoreError> {
        let batch_id = batch_id.to_string();
        self.read(move |db| async move { reads::recent_calls(&db, &batch_id, limit).await })
    }

    fn recount(&self, batch_id: &str) -> Result<Counters, StoreError> {
        let batch_id = batch_id.to_string();
        self.read(move |db| async move { reads::recount(&db, &batch_id).await })
    }

    fn batch_totals(&self, batch_id: &str) -> Result<AttemptTotals, StoreError> {
        let batch_id = batch_id.to_string();
        self.read(move |db| async move { reads::batch_totals(&db, &batch_id).await })
    }

    fn campaign_totals(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<AttemptTotals, StoreError> {
        let (workspace, campaign_id) = (workspace.to_string(), campaign_id.to_string());
        self.read(
            move |db| async move { reads::campaign_totals(&db, &workspace, &campaign_id).await },
        )
    }

    fn batch_number_totals(
        &self,
        batch_id: &str,
    ) -> Result<Vec<(String, NumberTotals)>, StoreError> {
        let batch_id = batch_id.to_string();
        self.read(move |db| async move { reads::batch_number_totals(&db, &batch_id).await })
    }

    fn campaign_number_totals(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<Vec<(String, NumberTotals)>, StoreError> {
        let (workspace, campaign_id) = (workspace.to_string(), campaign_id.to_string());
        self.read(move |db| async move {
            reads::campaign_number_totals(&db, &workspace, &campaign_id).await
        })
    }

    fn timeline(&self, batch_id: &str, since: Millis) -> Result<Vec<MinuteTotals>, StoreError> {
        let batch_id = batch_id.to_string();
        self.read(move |db| async move { reads::timeline(&db, &batch_id, since).await })
    }

    fn batch_zones(&self, batch_id: &str) -> Result<Vec<String>, StoreError> {
        let batch_id = batch_id.to_string();
        self.read(move |db| async move { reads::batch_zones(&db, &batch_id).await })
    }

    fn number_states(
        &self,
        workspace: &str,
        campaign_id: &str,
    ) -> Result<Vec<(String, NumberState)>, StoreError> {
        let (workspace, campaign_id) = (workspace.to_string(), campaign_id.to_string());
        self.read(
            move |db| async move { reads::number_states(&db, &workspace, &campaign_id).await },
        )
    }

    fn set_number_state(
        &self,
        workspace: &str,
        campaign_id: &str,
        number: &str,
        state: NumberState,
    ) -> Result<(), StoreError> {
        let key = (
            workspace.to_string(),
            campaign_id.to_string(),
            number.to_string(),
        );
        self.submit(move |group| Box::pin(writes::set_number_state(group, key, state)))
    }

    fn sync(&self) -> Result<(), StoreError> {
        // A durable group: its commit flushes the WAL of every
        // asynchronous commit before it.
        self.submit(|_| Box::pin(async { Ok(()) }))
    }

    fn journal(&self, after_seq: u64, limit: usize) -> Result<Vec<JournalEvent>, StoreError> {
        self.read(move |db| async move { reads::journal(&db, after_seq, limit).await })
    }

    fn journal_head(&self) -> Result<u64, StoreError> {
        self.read(move |db| async move { reads::journal_head(&db).await })
    }

    fn prune_journal(&self, through_seq: u64) -> Result<u64, StoreError> {
        self.submit(move |group| Box::pin(writes::prune_journal(group, through_seq)))
    }

    fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpointState>, StoreError> {
        let id = id.to_string();
        self.read(move |db| async move { reads::webhook_endpoint(&db, &id).await })
    }

    fn save_webhook_endpoint(
        &self,
        state: WebhookEndpointState,
        delivery: Option<WebhookDelivery>,
        keep_tries: u64,
    ) -> Result<(), StoreError> {
        self.submit(move |group| {
            Box::pin(writes::save_webhook_endpoint(
                group, state, delivery, keep_tries,
            ))
        })
    }

    fn webhook_deliveries(
        &self,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let endpoint_id = endpoint_id.to_string();
        self.read(
            move |db| async move { reads::webhook_deliveries(&db, &endpoint_id, limit).await },
        )
    }

    fn create_suppression_list(
        &self,
        workspace: &str,
        list: NewSuppressionList,
        at: Millis,
    ) -> Result<SuppressionList, StoreError> {
        let workspace = workspace.to_string();
        self.submit(move |group| {
            Box::pin(writes::create_suppression_list(group, workspace, list, at))
        })
    }

    fn suppression_lists(&self, workspace: &str) -> Result<Vec<SuppressionList>, StoreError> {
        let workspace = workspace.to_string();
        self.read(move |db| async move { reads::suppression_lists(&db, &workspace).await })
    }

    fn suppression_list(
        &self,
        workspace: &str,
        name: &str,
    ) -> Result<Option<SuppressionList>, StoreError> {
        let (workspace, name) = (workspace.to_string(), name.to_string());
        self.read(move |db| async move { reads::suppression_list(&db, &workspace, &name).await })
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
        self.submit(move |group| {
            Box::pin(writes::add_suppressions(
                group, workspace, list, entries, by, at,
            ))
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
        self.submit(move |group| {
            Box::pin(writes::remove_suppressions(
                group, workspace, list, phones, at,
            ))
        })
    }

    fn suppression_entries(
        &self,
        query: &SuppressionQuery,
    ) -> Result<Page<SuppressionEntry>, StoreError> {
        let query = query.clone();
        self.read(move |db| async move { reads::suppression_entries(&db, &query).await })
    }

    fn suppressions_of(
        &self,
        workspace: &str,
        phones: &[String],
        now: Millis,
    ) -> Result<Vec<Vec<SuppressionHit>>, StoreError> {
        let (workspace, phones) = (workspace.to_string(), phones.to_vec());
        self.read(
            move |db| async move { reads::suppressions_of(&db, &workspace, &phones, now).await },
        )
    }

    fn phone_histories(
        &self,
        workspace: &str,
        contacts: &[&ContactRecord],
        now: Millis,
    ) -> Result<Vec<PhoneHistory>, StoreError> {
        let workspace = workspace.to_string();
        let contacts: Vec<ContactRecord> =
            contacts.iter().map(|contact| (*contact).clone()).collect();
        self.read(
            move |db| async move { reads::phone_histories(&db, &workspace, &contacts, now).await },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_shown_without_its_password() {
        assert_eq!(
            redacted("postgres://outdial:s3cret@db:5432/outdial"),
            "postgres://outdial:***@db:5432/outdial"
        );
        assert_eq!(
            redacted("host=/tmp user=outdial password=s3cret dbname=x"),
            "host=/tmp user=outdial password=*** dbname=x"
        );
        assert_eq!(redacted("postgres://db/outdial"), "postgres://db/outdial");
    }
}
