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
//! # Towards several nodes
//!
//! Every write that a campaign lease will fence (a dial intent, an end, a
//! status change) reads its batch inside the writer's transaction first
//! (`JobTx::batch`): that is where a check of the lease's epoch belongs,
//! refusing the write before it stages anything. Counters are already
//! rows per writer shard. What still assumes one writer: the journal's
//! head row, updated by every group that journals (several writers would
//! take turns on it, which keeps seqs in commit order); attempt totals and
//! recent calls, read, changed and written per batch and campaign; and
//! the discard at open of every unfinished create, which with several
//! nodes must spare the creates of live ones.

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

use self::writer::{BoxFuture, Group, Job};
use super::{
    AttemptKey, AttemptQuery, AttemptTotals, BatchAttempt, BatchQuery, BatchRecord, BeginAttempt,
    BlockerUpdate, ContactChunk, ContactDetail, ContactHistory, ContactQuery, ContactRecord,
    Counters, CreatedBatch, EndAttempt, EndedAttempt, InProgressMark, JournalEvent, LiveAttempt,
    MinuteTotals, NewBatch, NewSuppression, NewSuppressionList, NumberState, NumberTotals, Page,
    Pending, PhoneHistory, PlacementNote, RecentCall, StatusChange, Store, StoreError,
    SuppressionEntry, SuppressionHit, SuppressionList, SuppressionQuery, SuppressionWrite,
    WebhookDelivery, WebhookEndpointState, in_chunks,
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
/// The key of the advisory lock a store holds on its database while open:
/// "outdial" and 1 in ASCII. Until campaigns are leased to nodes, two
/// processes writing one database would dial the same contacts, and the
/// second's open would discard the first's unfinished creates.
const SOLE_WRITER_LOCK: i64 = 0x6f75_7464_6961_6c01;
/// How long an open waits for a store closing elsewhere to let the
/// database go, as a restarted node's predecessor may still be exiting.
const SOLE_WRITER_WAIT: Duration = Duration::from_secs(10);

/// How a PostgreSQL store is opened.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// A libpq connection string: `postgres://user:password@host:port/db`
    /// or `host=... dbname=...`.
    pub url: String,
    /// Connections to the database: one for the writer, the rest for
    /// reads. At least 2. Default: 8.
    pub pool_size: usize,
}

impl PostgresConfig {
    /// The default configuration for the database at `url`.
    pub fn new(url: impl Into<String>) -> PostgresConfig {
        PostgresConfig {
            url: url.into(),
            pool_size: 8,
        }
    }
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &redacted(&self.url))
            .field("pool_size", &self.pool_size)
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
    /// Answers once the writer has run every write sent to it, and has
    /// closed the connection holding [`SOLE_WRITER_LOCK`], which frees the
    /// database for the next store.
    writer_done: std::sync::Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    runtime: Arc<OwnRuntime>,
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
        let locking = pool.clone();
        let sole_writer = runtime
            .wait(async move { hold_sole_writer_lock(&locking, SOLE_WRITER_WAIT).await })
            .map_err(|err| match err {
                StoreError::Io(message) => open_error(message),
                other => other,
            })?;
        let prepared = pool.clone();
        let journal_head = runtime
            .wait(async move { prepare(&prepared).await.map_err(StoreError::Io) })
            .map_err(|err| match err {
                StoreError::Io(message) => open_error(message),
                other => other,
            })?;
        let (writer, jobs) = tokio::sync::mpsc::unbounded_channel();
        let (done, writer_done) = std::sync::mpsc::sync_channel(1);
        let writer_pool = pool.clone();
        runtime.handle().spawn(async move {
            writer::write_loop(writer_pool, jobs, journal_head, sole_writer).await;
            let _ = done.send(());
        });
        Ok(PostgresStore {
            pool,
            writer: Some(writer),
            writer_done: std::sync::Mutex::new(Some(writer_done)),
            runtime,
        })
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
        let (job, answer) = writer::job(op, durable);
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
        // Closing the channel ends the writer after the writes already
        // sent; they were started, so they are finished.
        drop(self.writer.take());
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
    }
}

/// Takes [`SOLE_WRITER_LOCK`] on a connection of its own, waiting up to
/// `wait` for a store closing elsewhere.
async fn hold_sole_writer_lock(
    pool: &Pool,
    wait: Duration,
) -> Result<deadpool_postgres::ClientWrapper, StoreError> {
    let client = Object::take(pool.get().await.map_err(rows::pool)?);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let taken: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&SOLE_WRITER_LOCK])
            .await
            .map_err(|err| StoreError::Io(rows::describe(&err)))?
            .get(0);
        if taken {
            return Ok(client);
        }
        if tokio::time::Instant::now() >= deadline {
            let waited = if wait.is_zero() {
                String::new()
            } else {
                format!(", still after {wait:?}")
            };
            return Err(StoreError::Io(format!(
                "another outdial process has this database open (it holds advisory lock \
                 {SOLE_WRITER_LOCK}{waited}): one process per database, as with the \
                 embedded store"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Migrates the schema, discards the drafts a crash left, and answers the
/// journal's newest seq.
async fn prepare(pool: &Pool) -> Result<u64, String> {
    {
        // A connection of its own, closed when done: the migration lock
        // goes with it whatever happens.
        let client = pool
            .get()
            .await
            .map_err(|err| rows::pool(err).to_string())?;
        let mut client = Object::take(client);
        schema::migrate(&mut client).await?;
    }
    let db = pool
        .get()
        .await
        .map_err(|err| rows::pool(err).to_string())?;
    let drafts = writer::query(&db, "SELECT batch_id FROM drafts", &[])
        .await
        .map_err(|err| err.to_string())?;
    for row in drafts {
        let batch_id: String = row.get("batch_id");
        tracing::warn!(batch = %batch_id, "discarding a batch whose create a crash interrupted");
        for sql in [
            "DELETE FROM contacts WHERE batch_id = $1",
            "DELETE FROM batch_zones WHERE batch_id = $1",
            "DELETE FROM drafts WHERE batch_id = $1",
        ] {
            writer::execute(&db, sql, &[&batch_id])
                .await
                .map_err(|err| err.to_string())?;
        }
    }
    reads::journal_head(&db)
        .await
        .map_err(|err| err.to_string())
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
