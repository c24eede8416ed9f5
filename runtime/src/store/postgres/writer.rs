//! The writer task: it takes write jobs in the order they were started and
//! runs each group of jobs waiting together in one transaction.
//!
//! A job stages its changes in a [`JobTx`], reading through it what it
//! staged so far, and writes them into the group's transaction only once
//! it has succeeded, in a few multi-row statements: a refused job leaves
//! nothing, and the job after it reads what the one before it wrote. What
//! no write reads back (counter deltas, statistics, the timeline, recent
//! calls, journal events) is gathered over the whole group and written at
//! its commit, once per batch or minute. A database error rolls the whole
//! group back, and every job of it answers the error.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::Arc;

use deadpool_postgres::{Object, Pool};
use futures_util::future::try_join_all;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::leases::{self, CampaignRef, Node};
use super::rows::{self, count, decode, delta_arrays, due_at, encode, int, pg, status_text};
use crate::model::{Attempt, CallOutcome, Millis};
use crate::store::ledger::suppression::SuppressionChange;
use crate::store::ledger::{
    self, ContactChange, CounterDelta, JournalEntry, LogLine, MinuteChange, StatisticsChange,
    TotalsChange,
};
use crate::store::{
    AttemptKey, AttemptTotals, BatchRecord, ContactRecord, NumberTotals, RecentCall, StoreError,
    SuppressionHit, SuppressionList,
};

/// Most jobs committed together.
const MAX_GROUP: usize = 256;

/// The counter shard this store's writer adds to. One writer per store
/// writes one shard, so no two writers ever update the same counter row;
/// a store of several nodes gives each its own.
pub(super) const WRITER_SHARD: i32 = 0;

pub(super) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// What a job answers once its group committed or failed.
pub(super) type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A write waiting for the writer.
pub(super) type Job = Box<dyn Write>;

/// A write: run in its group's transaction, it hands back its reply; or
/// refused without running.
pub(super) trait Write: Send {
    fn run<'g>(self: Box<Self>, group: &'g mut Group) -> BoxFuture<'g, Reply>;
    fn refuse(self: Box<Self>, message: String);
    /// Whether the write must be on disk once answered; one that need not
    /// is made durable by the next durable write or sync.
    fn durable(&self) -> bool;
}

/// A write and where its answer goes.
struct WriteJob<F, R> {
    op: F,
    durable: bool,
    /// The node whose leases fence the write, if it is the dispatcher's.
    fence: Option<Arc<Node>>,
    answer: std::sync::mpsc::SyncSender<Result<R, StoreError>>,
}

/// A write of `op`, and the receiver of its answer: `op`'s result once
/// its group committed, else the group's error.
pub(super) fn job<R, F>(
    op: F,
    durable: bool,
    fence: Option<Arc<Node>>,
) -> (Job, std::sync::mpsc::Receiver<Result<R, StoreError>>)
where
    R: Send + 'static,
    F: for<'g> FnOnce(&'g mut Group) -> BoxFuture<'g, Result<R, StoreError>> + Send + 'static,
{
    let (answer, receiver) = std::sync::mpsc::sync_channel(1);
    (
        Box::new(WriteJob {
            op,
            durable,
            fence,
            answer,
        }),
        receiver,
    )
}

impl<F, R> Write for WriteJob<F, R>
where
    R: Send + 'static,
    F: for<'g> FnOnce(&'g mut Group) -> BoxFuture<'g, Result<R, StoreError>> + Send + 'static,
{
    fn run<'g>(self: Box<Self>, group: &'g mut Group) -> BoxFuture<'g, Reply> {
        let WriteJob {
            op, answer, fence, ..
        } = *self;
        Box::pin(async move {
            group.fence = fence;
            let result = group.run(op).await;
            Box::new(move |committed: Result<(), String>| {
                let outcome = match committed {
                    Ok(()) => result,
                    Err(message) => result.and(Err(StoreError::Io(message))),
                };
                // The caller may have given up waiting; nothing to do then.
                let _ = answer.send(outcome);
            }) as Reply
        })
    }

    fn refuse(self: Box<Self>, message: String) {
        let _ = self.answer.send(Err(StoreError::Io(message)));
    }

    fn durable(&self) -> bool {
        self.durable
    }
}

pub(super) type Params<'a> = [&'a (dyn ToSql + Sync)];

pub(super) async fn query(
    db: &Object,
    sql: &str,
    params: &Params<'_>,
) -> Result<Vec<Row>, StoreError> {
    let statement = db.prepare_cached(sql).await.map_err(pg)?;
    db.query(&statement, params).await.map_err(pg)
}

pub(super) async fn query_opt(
    db: &Object,
    sql: &str,
    params: &Params<'_>,
) -> Result<Option<Row>, StoreError> {
    let statement = db.prepare_cached(sql).await.map_err(pg)?;
    db.query_opt(&statement, params).await.map_err(pg)
}

pub(super) async fn execute(
    db: &Object,
    sql: &str,
    params: &Params<'_>,
) -> Result<u64, StoreError> {
    let statement = db.prepare_cached(sql).await.map_err(pg)?;
    db.execute(&statement, params).await.map_err(pg)
}

/// The jobs of one transaction, and what they leave for its commit.
pub(super) struct Group {
    client: Object,
    /// This process's node.
    pub(super) node: Arc<Node>,
    /// The node whose leases fence the running job, if it is the
    /// dispatcher's.
    fence: Option<Arc<Node>>,
    /// Campaigns whose lease the group has checked, and holds locked.
    leases_checked: HashSet<CampaignRef>,
    /// Statements run that changed something, so a job that fails after
    /// writing is known to have left part of itself behind.
    writes: AtomicU64,
    /// Why the group cannot commit.
    failed: Option<String>,
    deferred: Deferred,
}

impl Group {
    pub(super) async fn query(
        &self,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<Vec<Row>, StoreError> {
        query(&self.client, sql, params).await
    }

    pub(super) async fn query_opt(
        &self,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<Option<Row>, StoreError> {
        query_opt(&self.client, sql, params).await
    }

    /// Runs a statement that changes something.
    pub(super) async fn execute(&self, sql: &str, params: &Params<'_>) -> Result<u64, StoreError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        execute(&self.client, sql, params).await
    }

    /// Refuses the running job if it is the dispatcher's and this node
    /// does not hold the lease of `batch`'s campaign; checked once per
    /// group and campaign, the lease row locked until the commit.
    async fn check_lease(&mut self, batch: &BatchRecord) -> Result<(), StoreError> {
        let Some(node) = &self.fence else {
            return Ok(());
        };
        let campaign = (batch.workspace.clone(), batch.campaign_id.clone());
        if self.leases_checked.contains(&campaign) {
            // The lock holds the lease in the database; the node's own
            // deadline may still pass.
            return match node.epoch(&campaign) {
                Some(_) => Ok(()),
                None => Err(StoreError::Fenced {
                    workspace: campaign.0,
                    campaign: campaign.1,
                }),
            };
        }
        leases::check(&self.client, node, &campaign).await?;
        self.leases_checked.insert(campaign);
        Ok(())
    }

    fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Runs `op` as one job of the group: an error after it wrote, or any
    /// database error (which aborts the transaction), fails the group.
    pub(super) async fn run<R>(
        &mut self,
        op: impl for<'g> FnOnce(&'g mut Group) -> BoxFuture<'g, Result<R, StoreError>>,
    ) -> Result<R, StoreError> {
        let before = self.writes();
        let result = op(self).await;
        if let Err(err) = &result
            && (matches!(err, StoreError::Io(_)) || self.writes() != before)
            && self.failed.is_none()
        {
            self.failed = Some(err.to_string());
        }
        result
    }

    async fn commit(&mut self) -> Result<(), String> {
        if let Some(reason) = self.failed.take() {
            return Err(self.roll_back(reason).await);
        }
        let deferred = std::mem::take(&mut self.deferred);
        if let Err(err) = deferred.write(self).await {
            return Err(self.roll_back(err.to_string()).await);
        }
        self.client
            .batch_execute("COMMIT")
            .await
            .map_err(|err| rows::describe(&err))
    }

    async fn roll_back(&self, reason: String) -> String {
        match self.client.batch_execute("ROLLBACK").await {
            Ok(()) => format!("{reason}; the writes of its group were rolled back"),
            Err(err) => format!(
                "{reason}; rolling back failed too: {}",
                rows::describe(&err)
            ),
        }
    }
}

/// Runs the writes sent on `jobs` until every sender is gone.
pub(super) async fn write_loop(pool: Pool, mut jobs: UnboundedReceiver<Job>, node: Arc<Node>) {
    let mut connection: Option<Object> = None;
    // Whether a group committed without waiting for its WAL to reach the
    // disk since the last one that waited.
    let mut unflushed = false;
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // A connection the server closed (a restart, an idle timeout) is
        // known closed before it is used: the group goes to a new one
        // rather than failing on it.
        let client = match connection.take() {
            Some(client) if !client.is_closed() => Ok(client),
            _ => connect(&pool, &node).await,
        };
        let client = match client {
            Ok(client) => client,
            Err(message) => {
                tracing::error!(error = %message, "store writer cannot reach the database");
                for job in batch {
                    job.refuse(message.clone());
                }
                continue;
            }
        };
        let mut group = Group {
            client,
            node: node.clone(),
            fence: None,
            leases_checked: HashSet::new(),
            writes: AtomicU64::new(0),
            failed: None,
            deferred: Deferred::default(),
        };
        // A group of writes the contract lets a crash lose (ends, marks,
        // blockers, call ids started without a sync) commits without
        // waiting for its WAL flush: at the measured rates that wait was
        // most of a group's time. PostgreSQL writes WAL in one sequence and
        // flushes it in order, so a later synchronous commit, which waits
        // until the WAL is flushed up to its own commit record, makes
        // every asynchronous commit before it durable too: that is the
        // contract's "a later durable write or sync makes it durable".
        let durable = batch.iter().any(|job| job.durable());
        let begin = if durable {
            "BEGIN"
        } else {
            "BEGIN; SET LOCAL synchronous_commit TO off"
        };
        if let Err(err) = group.client.batch_execute(begin).await {
            group.failed = Some(rows::describe(&err));
        }
        let mut replies = Vec::with_capacity(batch.len());
        for job in batch {
            replies.push(job.run(&mut group).await);
        }
        if durable && unflushed && group.failed.is_none() {
            // A transaction that writes no WAL (a sync, an update that
            // matched no row) commits without a flush, so a durable group
            // after asynchronous commits writes a row to be sure of one.
            let touched = group
                .execute("UPDATE store_meta SET journal_head = journal_head", &[])
                .await;
            if let Err(err) = touched {
                group.failed = Some(err.to_string());
            }
        }
        let committed = group.commit().await;
        match &committed {
            Ok(()) => {
                unflushed = !durable;
                connection = Some(group.client);
            }
            Err(message) => {
                tracing::error!(error = %message, "store write group failed");
                // The connection may be what failed: the next group takes
                // another.
            }
        }
        for reply in replies {
            reply(committed.clone());
        }
    }
}

/// A connection for the writer, committing durably whatever the server's
/// default. A transaction left idle longer than a lease lasts is ended by
/// the server: a writer stalled mid-group (a paused process) would
/// otherwise hold its leases' locks, and no other node could take them.
async fn connect(pool: &Pool, node: &Node) -> Result<Object, String> {
    // The message alone: the writer's refusal makes it a store error.
    let client = pool.get().await.map_err(|err| match rows::pool(err) {
        StoreError::Io(message) => message,
        other => other.to_string(),
    })?;
    let idle_ms = node.ttl.as_millis().max(1);
    client
        .batch_execute(&format!(
            "SET synchronous_commit TO on; SET idle_in_transaction_session_timeout = {idle_ms}"
        ))
        .await
        .map_err(|err| rows::describe(&err))?;
    Ok(client)
}

/// What a group writes at its commit, gathered over its jobs.
#[derive(Default)]
struct Deferred {
    /// Counter deltas by batch, with the batch's workspace and campaign.
    counters: HashMap<String, (String, String, CounterDelta)>,
    minutes: HashMap<(String, Millis), MinuteChange>,
    batch_numbers: HashMap<(String, String), NumberTotals>,
    campaign_numbers: HashMap<(String, String, String), NumberTotals>,
    /// Attempt totals changes in the order they were staged.
    totals: Vec<(TotalsScope, TotalsChange)>,
    /// Calls ended by batch, oldest first.
    recent: HashMap<String, Vec<RecentCall>>,
    /// Events to journal, in the order told; numbered at the commit.
    journal: Vec<Told>,
}

/// Whose attempt totals a change adds to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum TotalsScope {
    Batch(String),
    Campaign(String, String),
}

fn add_numbers(sum: &mut NumberTotals, outcome: CallOutcome) {
    sum.record(outcome);
}

fn merge_minute(into: &mut MinuteChange, change: &MinuteChange) {
    into.attempts += change.attempts;
    into.answers += change.answers;
    into.failures += change.failures;
}

fn merge_numbers(into: &mut NumberTotals, other: &NumberTotals) {
    into.attempts += other.attempts;
    into.answered += other.answered;
    into.busy += other.busy;
    into.no_answer += other.no_answer;
    into.failed += other.failed;
}

impl Deferred {
    fn absorb(&mut self, other: Deferred) {
        for (batch, (workspace, campaign, delta)) in other.counters {
            self.counters
                .entry(batch)
                .or_insert_with(|| (workspace, campaign, CounterDelta::default()))
                .2
                .merge(&delta);
        }
        for (key, change) in other.minutes {
            match self.minutes.get_mut(&key) {
                Some(minute) => merge_minute(minute, &change),
                None => {
                    self.minutes.insert(key, change);
                }
            }
        }
        for (key, totals) in other.batch_numbers {
            merge_numbers(self.batch_numbers.entry(key).or_default(), &totals);
        }
        for (key, totals) in other.campaign_numbers {
            merge_numbers(self.campaign_numbers.entry(key).or_default(), &totals);
        }
        self.totals.extend(other.totals);
        for (batch, calls) in other.recent {
            self.recent.entry(batch).or_default().extend(calls);
        }
        self.journal.extend(other.journal);
    }

    async fn write(self, group: &Group) -> Result<(), StoreError> {
        let Deferred {
            counters,
            minutes,
            batch_numbers,
            campaign_numbers,
            totals,
            recent,
            journal,
        } = self;
        // As in a job's finish: independent statements, pipelined.
        let mut writes: Vec<BoxFuture<'_, Result<(), StoreError>>> = Vec::new();
        for (batch, (workspace, campaign, delta)) in &counters {
            writes.push(Box::pin(write_counters(
                group, batch, workspace, campaign, delta,
            )));
        }
        writes.push(Box::pin(write_minutes(group, &minutes)));
        writes.push(Box::pin(write_numbers(
            group,
            batch_numbers,
            campaign_numbers,
        )));
        writes.push(Box::pin(write_totals(group, totals)));
        writes.push(Box::pin(write_recent(group, recent)));
        writes.push(Box::pin(write_journal(group, journal)));
        try_join_all(writes).await?;
        Ok(())
    }
}

async fn write_counters(
    group: &Group,
    batch: &str,
    workspace: &str,
    campaign: &str,
    delta: &CounterDelta,
) -> Result<(), StoreError> {
    let [scalars, by_status, by_blocker] = delta_arrays(delta);
    group
        .execute(
            "INSERT INTO counter_shards \
             (batch_id, shard, workspace, campaign_id, scalars, by_status, by_blocker) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (batch_id, shard) DO UPDATE SET \
             scalars = outdial_add_counts(counter_shards.scalars, excluded.scalars), \
             by_status = outdial_add_counts(counter_shards.by_status, excluded.by_status), \
             by_blocker = outdial_add_counts(counter_shards.by_blocker, excluded.by_blocker)",
            &[
                &batch,
                &WRITER_SHARD,
                &workspace,
                &campaign,
                &scalars,
                &by_status,
                &by_blocker,
            ],
        )
        .await?;
    Ok(())
}

async fn write_minutes(
    group: &Group,
    minutes: &HashMap<(String, Millis), MinuteChange>,
) -> Result<(), StoreError> {
    if minutes.is_empty() {
        return Ok(());
    }
    let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((batch, minute), change) in minutes {
        columns.0.push(batch.as_str());
        columns.1.push(*minute);
        columns.2.push(change.attempts);
        columns.3.push(int(change.answers));
        columns.4.push(int(change.failures));
    }
    group
        .execute(
            // A system retry takes its attempt back out of the
            // minute its start was counted in, which has a row.
            "INSERT INTO timeline (batch_id, minute, attempts, answers, failures) \
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], \
             $5::bigint[]) \
             ON CONFLICT (batch_id, minute) DO UPDATE SET \
             attempts = greatest(timeline.attempts + excluded.attempts, 0), \
             answers = timeline.answers + excluded.answers, \
             failures = timeline.failures + excluded.failures",
            &[&columns.0, &columns.1, &columns.2, &columns.3, &columns.4],
        )
        .await?;
    Ok(())
}

/// Numbers the group's events after the journal's head and writes them.
/// The head row stays locked until the commit, so whichever node commits
/// next numbers after these: seqs are gap-free and in commit order.
async fn write_journal(group: &Group, journal: Vec<Told>) -> Result<(), StoreError> {
    if journal.is_empty() {
        return Ok(());
    }
    let told = int(journal.len() as u64);
    group.writes.fetch_add(1, Ordering::Relaxed);
    let statement = group
        .client
        .prepare_cached(
            "UPDATE store_meta SET journal_head = journal_head + $1 RETURNING journal_head",
        )
        .await
        .map_err(pg)?;
    let head: i64 = group
        .client
        .query_one(&statement, &[&told])
        .await
        .map_err(pg)?
        .get(0);
    let first = head - told + 1;
    let (seqs, records): (Vec<i64>, Vec<Vec<u8>>) = journal
        .iter()
        .enumerate()
        .map(|(index, told)| {
            let seq = first + index as i64;
            (seq, encode_event(seq as u64, told))
        })
        .unzip();
    group
        .execute(
            "INSERT INTO journal (seq, record) \
             SELECT * FROM unnest($1::bigint[], $2::bytea[])",
            &[&seqs, &records],
        )
        .await?;
    Ok(())
}

async fn write_numbers(
    group: &Group,
    batch_numbers: HashMap<(String, String), NumberTotals>,
    campaign_numbers: HashMap<(String, String, String), NumberTotals>,
) -> Result<(), StoreError> {
    if !batch_numbers.is_empty() {
        let mut keys = (Vec::new(), Vec::new());
        let mut values: [Vec<i64>; 5] = Default::default();
        for ((batch, number), totals) in &batch_numbers {
            keys.0.push(batch.as_str());
            keys.1.push(number.as_str());
            push_numbers(&mut values, totals);
        }
        group
            .execute(
                "INSERT INTO batch_number_totals \
                 (batch_id, number, attempts, answered, busy, no_answer, failed) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], \
                 $5::bigint[], $6::bigint[], $7::bigint[]) \
                 ON CONFLICT (batch_id, number) DO UPDATE SET \
                 attempts = batch_number_totals.attempts + excluded.attempts, \
                 answered = batch_number_totals.answered + excluded.answered, \
                 busy = batch_number_totals.busy + excluded.busy, \
                 no_answer = batch_number_totals.no_answer + excluded.no_answer, \
                 failed = batch_number_totals.failed + excluded.failed",
                &[
                    &keys.0, &keys.1, &values[0], &values[1], &values[2], &values[3], &values[4],
                ],
            )
            .await?;
    }
    if !campaign_numbers.is_empty() {
        let mut keys = (Vec::new(), Vec::new(), Vec::new());
        let mut values: [Vec<i64>; 5] = Default::default();
        for ((workspace, campaign, number), totals) in &campaign_numbers {
            keys.0.push(workspace.as_str());
            keys.1.push(campaign.as_str());
            keys.2.push(number.as_str());
            push_numbers(&mut values, totals);
        }
        group
            .execute(
                "INSERT INTO campaign_number_totals \
                 (workspace, campaign_id, number, attempts, answered, busy, no_answer, failed) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], \
                 $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[]) \
                 ON CONFLICT (workspace, campaign_id, number) DO UPDATE SET \
                 attempts = campaign_number_totals.attempts + excluded.attempts, \
                 answered = campaign_number_totals.answered + excluded.answered, \
                 busy = campaign_number_totals.busy + excluded.busy, \
                 no_answer = campaign_number_totals.no_answer + excluded.no_answer, \
                 failed = campaign_number_totals.failed + excluded.failed",
                &[
                    &keys.0, &keys.1, &keys.2, &values[0], &values[1], &values[2], &values[3],
                    &values[4],
                ],
            )
            .await?;
    }
    Ok(())
}

fn push_numbers(values: &mut [Vec<i64>; 5], totals: &NumberTotals) {
    values[0].push(int(totals.attempts));
    values[1].push(int(totals.answered));
    values[2].push(int(totals.busy));
    values[3].push(int(totals.no_answer));
    values[4].push(int(totals.failed));
}

/// Applies the group's attempt totals changes to the stored totals, read
/// once and written once per batch and campaign.
async fn write_totals(
    group: &Group,
    changes: Vec<(TotalsScope, TotalsChange)>,
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut batch_ids: Vec<&str> = Vec::new();
    let mut campaigns: (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    for (scope, _) in &changes {
        if !seen.insert(scope.clone()) {
            continue;
        }
        match scope {
            TotalsScope::Batch(batch) => batch_ids.push(batch),
            TotalsScope::Campaign(workspace, campaign) => {
                campaigns.0.push(workspace);
                campaigns.1.push(campaign);
            }
        }
    }
    let mut totals: HashMap<TotalsScope, AttemptTotals> = HashMap::new();
    for row in group
        .query(
            "SELECT batch_id, record FROM batch_totals WHERE batch_id = ANY($1)",
            &[&batch_ids],
        )
        .await?
    {
        let batch: String = row.get("batch_id");
        let record = rows::totals_of(&format!("batch_totals {batch}"), Some(&row))?;
        totals.insert(TotalsScope::Batch(batch), record);
    }
    for row in group
        .query(
            "SELECT t.workspace, t.campaign_id, t.record FROM campaign_totals t \
             JOIN unnest($1::text[], $2::text[]) AS u(w, c) \
             ON t.workspace = u.w AND t.campaign_id = u.c",
            &[&campaigns.0, &campaigns.1],
        )
        .await?
    {
        let scope = TotalsScope::Campaign(row.get("workspace"), row.get("campaign_id"));
        let record = rows::totals_of("campaign_totals", Some(&row))?;
        totals.insert(scope, record);
    }
    for (scope, change) in &changes {
        let record = totals.entry(scope.clone()).or_default();
        match change {
            TotalsChange::Ended(facts) => record.record(&facts.summary()),
            TotalsChange::SystemRetry { throttled_until } => {
                record.record_system_retry(*throttled_until);
            }
        }
    }
    let mut batch_rows: (Vec<String>, Vec<Vec<u8>>) = Default::default();
    let mut campaign_rows: (Vec<String>, Vec<String>, Vec<Vec<u8>>) = Default::default();
    for (scope, record) in totals {
        match scope {
            TotalsScope::Batch(batch) => {
                batch_rows.0.push(batch);
                batch_rows.1.push(encode(&record));
            }
            TotalsScope::Campaign(workspace, campaign) => {
                campaign_rows.0.push(workspace);
                campaign_rows.1.push(campaign);
                campaign_rows.2.push(encode(&record));
            }
        }
    }
    group
        .execute(
            "INSERT INTO batch_totals (batch_id, record) \
             SELECT * FROM unnest($1::text[], $2::bytea[]) \
             ON CONFLICT (batch_id) DO UPDATE SET record = excluded.record",
            &[&batch_rows.0, &batch_rows.1],
        )
        .await?;
    group
        .execute(
            "INSERT INTO campaign_totals (workspace, campaign_id, record) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[]) \
             ON CONFLICT (workspace, campaign_id) DO UPDATE SET record = excluded.record",
            &[&campaign_rows.0, &campaign_rows.1, &campaign_rows.2],
        )
        .await?;
    Ok(())
}

/// Puts the calls each batch ended ahead of its recent calls.
async fn write_recent(
    group: &Group,
    recent: HashMap<String, Vec<RecentCall>>,
) -> Result<(), StoreError> {
    if recent.is_empty() {
        return Ok(());
    }
    let batch_ids: Vec<&str> = recent.keys().map(String::as_str).collect();
    let mut older: HashMap<String, Vec<RecentCall>> = HashMap::new();
    for row in group
        .query(
            "SELECT batch_id, record FROM recent_calls WHERE batch_id = ANY($1)",
            &[&batch_ids],
        )
        .await?
    {
        let batch: String = row.get("batch_id");
        let calls = decode(&format!("recent_calls {batch}"), row.get("record"))?;
        older.insert(batch, calls);
    }
    let mut rows: (Vec<&str>, Vec<Vec<u8>>) = Default::default();
    for (batch, ended) in &recent {
        let kept = older.get(batch).map(Vec::as_slice).unwrap_or_default();
        rows.0.push(batch);
        rows.1.push(encode(&ledger::recent_calls(ended, kept)));
    }
    group
        .execute(
            "INSERT INTO recent_calls (batch_id, record) \
             SELECT * FROM unnest($1::text[], $2::bytea[]) \
             ON CONFLICT (batch_id) DO UPDATE SET record = excluded.record",
            &[&rows.0, &rows.1],
        )
        .await?;
    Ok(())
}

/// An event to journal, told of a batch, numbered when its job succeeds.
struct Told {
    workspace: String,
    campaign_id: String,
    batch_id: String,
    entry: JournalEntry,
}

/// A list a number is on, as the dial-time lookup reads it.
struct Listing {
    list: String,
    blocks: bool,
    entry: crate::model::SuppressionEntry,
}

/// The changes of one job, staged until it succeeds; reads through it see
/// what it staged.
pub(super) struct JobTx<'g> {
    pub(super) group: &'g mut Group,
    batches: HashMap<String, Option<BatchRecord>>,
    dirty_batches: Vec<String>,
    /// Contacts read or changed, by batch and seq: `None` when absent.
    contacts: HashMap<(String, u64), Option<ContactRecord>>,
    dirty_contacts: Vec<(String, u64)>,
    new_contacts: Vec<(String, ContactRecord)>,
    /// Live attempts read or changed: `None` when not live.
    live: HashMap<AttemptKey, Option<Attempt>>,
    attempts: HashMap<AttemptKey, (bool, Attempt)>,
    events: Vec<(String, u64, LogLine)>,
    zones: Vec<(String, String)>,
    suppressions: Vec<SuppressionChange>,
    /// The lists each number is on, by workspace and number, as stored.
    listed: HashMap<(String, String), Vec<Listing>>,
    told: Vec<Told>,
    deferred: Deferred,
}

impl<'g> JobTx<'g> {
    pub(super) fn new(group: &'g mut Group) -> JobTx<'g> {
        JobTx {
            group,
            batches: HashMap::new(),
            dirty_batches: Vec::new(),
            contacts: HashMap::new(),
            dirty_contacts: Vec::new(),
            new_contacts: Vec::new(),
            live: HashMap::new(),
            attempts: HashMap::new(),
            events: Vec::new(),
            zones: Vec::new(),
            suppressions: Vec::new(),
            listed: HashMap::new(),
            told: Vec::new(),
            deferred: Deferred::default(),
        }
    }

    pub(super) async fn batch_opt(
        &mut self,
        batch_id: &str,
    ) -> Result<Option<BatchRecord>, StoreError> {
        if let Some(cached) = self.batches.get(batch_id) {
            return Ok(cached.clone());
        }
        // Locked until the group commits: the writes of other nodes to
        // this batch wait for this one, and it for them.
        let row = self
            .group
            .query_opt(
                "SELECT record FROM batches WHERE id = $1 FOR NO KEY UPDATE",
                &[&batch_id],
            )
            .await?;
        let batch = row
            .map(|row| decode::<BatchRecord>(&format!("batches {batch_id}"), row.get("record")))
            .transpose()?;
        if let Some(batch) = &batch {
            self.group.check_lease(batch).await?;
        }
        self.batches.insert(batch_id.to_string(), batch.clone());
        Ok(batch)
    }

    pub(super) async fn batch(&mut self, batch_id: &str) -> Result<BatchRecord, StoreError> {
        self.batch_opt(batch_id)
            .await?
            .ok_or_else(|| StoreError::BatchNotFound(batch_id.to_string()))
    }

    /// Stages `batch` as it now is.
    pub(super) fn put_batch(&mut self, batch: BatchRecord) {
        if !self.dirty_batches.contains(&batch.id) {
            self.dirty_batches.push(batch.id.clone());
        }
        self.batches.insert(batch.id.clone(), Some(batch));
    }

    /// Reads the contacts `seqs` of `batch_id` not read yet, in one query.
    pub(super) async fn load_contacts(
        &mut self,
        batch_id: &str,
        seqs: impl IntoIterator<Item = u64>,
    ) -> Result<(), StoreError> {
        let wanted: Vec<i64> = seqs
            .into_iter()
            .filter(|seq| !self.contacts.contains_key(&(batch_id.to_string(), *seq)))
            .map(int)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let rows = self
            .group
            .query(
                "SELECT seq, record, dials FROM contacts WHERE batch_id = $1 AND seq = ANY($2)",
                &[&batch_id, &wanted],
            )
            .await?;
        for seq in &wanted {
            self.contacts
                .insert((batch_id.to_string(), count(*seq)), None);
        }
        for row in &rows {
            let contact = rows::contact_of(batch_id, row)?;
            self.contacts
                .insert((batch_id.to_string(), contact.seq), Some(contact));
        }
        Ok(())
    }

    pub(super) async fn contact(
        &mut self,
        batch_id: &str,
        seq: u64,
    ) -> Result<ContactRecord, StoreError> {
        self.load_contacts(batch_id, [seq]).await?;
        self.contacts
            .get(&(batch_id.to_string(), seq))
            .cloned()
            .flatten()
            .ok_or_else(|| StoreError::ContactNotFound {
                batch: batch_id.to_string(),
                seq,
            })
    }

    /// Stages a contact as `change` leaves it, and the lines it logs.
    pub(super) fn stage_contact(&mut self, change: &ContactChange) {
        let new = &change.new;
        let key = (new.batch_id.clone(), new.seq);
        for line in &change.log {
            self.events
                .push((new.batch_id.clone(), new.seq, line.clone()));
        }
        if !self.dirty_contacts.contains(&key) {
            self.dirty_contacts.push(key.clone());
        }
        self.contacts.insert(key, Some(new.clone()));
    }

    /// Stages a contact a create adds to `workspace`.
    pub(super) fn add_contact(&mut self, workspace: &str, contact: ContactRecord) {
        self.new_contacts.push((workspace.to_string(), contact));
    }

    /// Stages a line of a contact's log kept apart from a change.
    pub(super) fn log(&mut self, batch_id: &str, seq: u64, line: LogLine) {
        self.events.push((batch_id.to_string(), seq, line));
    }

    /// Reads the live attempts among `keys` not read yet, a query per batch.
    pub(super) async fn load_live(&mut self, keys: &[AttemptKey]) -> Result<(), StoreError> {
        let mut by_batch: HashMap<&str, Vec<i64>> = HashMap::new();
        for key in keys {
            if !self.live.contains_key(key) {
                by_batch
                    .entry(&key.batch_id)
                    .or_default()
                    .push(int(key.seq));
            }
        }
        for (batch_id, seqs) in by_batch {
            let rows = self
                .group
                .query(
                    "SELECT seq, number, record, provider_call_id FROM attempts \
                     WHERE batch_id = $1 AND live AND seq = ANY($2)",
                    &[&batch_id, &seqs],
                )
                .await?;
            let mut found = HashMap::new();
            for row in &rows {
                let seq: i64 = row.get("seq");
                let number: i32 = row.get("number");
                let key = AttemptKey {
                    batch_id: batch_id.to_string(),
                    seq: count(seq),
                    number: number as u32,
                };
                found.insert(key, attempt_of(row)?);
            }
            for key in keys.iter().filter(|key| key.batch_id == batch_id) {
                let live = found.get(key).cloned();
                self.live.entry(key.clone()).or_insert(live);
            }
        }
        Ok(())
    }

    /// The live attempt `key`, if it is live.
    pub(super) async fn live(&mut self, key: &AttemptKey) -> Result<Option<Attempt>, StoreError> {
        self.load_live(std::slice::from_ref(key)).await?;
        Ok(self.live.get(key).cloned().flatten())
    }

    /// Stages attempt `key`: live, or ended.
    pub(super) fn put_attempt(&mut self, key: &AttemptKey, live: bool, attempt: Attempt) {
        self.live.insert(key.clone(), live.then(|| attempt.clone()));
        self.attempts.insert(key.clone(), (live, attempt));
    }

    /// Adds `delta` to `batch`'s counters.
    pub(super) fn count(&mut self, batch: &BatchRecord, delta: &CounterDelta) {
        self.deferred
            .counters
            .entry(batch.id.clone())
            .or_insert_with(|| {
                (
                    batch.workspace.clone(),
                    batch.campaign_id.clone(),
                    CounterDelta::default(),
                )
            })
            .2
            .merge(delta);
    }

    /// Journals `entry`, about `batch`, after the entries staged before it.
    pub(super) fn journal(&mut self, batch: &BatchRecord, entry: &JournalEntry) {
        self.told.push(Told {
            workspace: batch.workspace.clone(),
            campaign_id: batch.campaign_id.clone(),
            batch_id: batch.id.clone(),
            entry: entry.clone(),
        });
    }

    /// Applies `change` to its minute of the batch's timeline.
    pub(super) fn minute(&mut self, batch_id: &str, change: &MinuteChange) {
        let key = (batch_id.to_string(), change.minute);
        match self.deferred.minutes.get_mut(&key) {
            Some(minute) => merge_minute(minute, change),
            None => {
                self.deferred.minutes.insert(key, *change);
            }
        }
    }

    /// Adds an ended attempt to the batch's and campaign's statistics, its
    /// caller id's and the timeline.
    pub(super) fn statistics(&mut self, batch: &BatchRecord, statistics: &StatisticsChange) {
        if let Some(change) = &statistics.totals {
            self.deferred
                .totals
                .push((TotalsScope::Batch(batch.id.clone()), change.clone()));
            self.deferred.totals.push((
                TotalsScope::Campaign(batch.workspace.clone(), batch.campaign_id.clone()),
                change.clone(),
            ));
        }
        if let Some((number, outcome)) = &statistics.number {
            add_numbers(
                self.deferred
                    .batch_numbers
                    .entry((batch.id.clone(), number.clone()))
                    .or_default(),
                *outcome,
            );
            add_numbers(
                self.deferred
                    .campaign_numbers
                    .entry((
                        batch.workspace.clone(),
                        batch.campaign_id.clone(),
                        number.clone(),
                    ))
                    .or_default(),
                *outcome,
            );
        }
        for minute in &statistics.minutes {
            self.minute(&batch.id, minute);
        }
    }

    /// Puts an ended call ahead of the batch's recent calls.
    pub(super) fn recent(&mut self, batch_id: &str, call: RecentCall) {
        self.deferred
            .recent
            .entry(batch_id.to_string())
            .or_default()
            .push(call);
    }

    pub(super) fn zone(&mut self, batch_id: &str, zone: &str) {
        self.zones.push((batch_id.to_string(), zone.to_string()));
    }

    /// Reads the lists each of `phones` is on in `workspace`, for the
    /// numbers not read yet, in one query.
    pub(super) async fn load_listed(
        &mut self,
        workspace: &str,
        phones: impl IntoIterator<Item = String>,
    ) -> Result<(), StoreError> {
        let wanted: Vec<String> = phones
            .into_iter()
            .filter(|phone| {
                !self
                    .listed
                    .contains_key(&(workspace.to_string(), phone.clone()))
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let rows = self
            .group
            .query(
                "SELECT phone, list, blocks, record FROM suppression_entries \
                 WHERE workspace = $1 AND phone = ANY($2) ORDER BY phone, list",
                &[&workspace, &wanted],
            )
            .await?;
        for phone in wanted {
            self.listed
                .insert((workspace.to_string(), phone), Vec::new());
        }
        for row in &rows {
            let phone: String = row.get("phone");
            let list: String = row.get("list");
            let entry = decode(
                &format!("suppression_entries {list} {phone}"),
                row.get("record"),
            )?;
            self.listed
                .entry((workspace.to_string(), phone))
                .or_default()
                .push(Listing {
                    list,
                    blocks: row.get("blocks"),
                    entry,
                });
        }
        Ok(())
    }

    /// The lists `phone` is on in `workspace`, unexpired at `now`, in name
    /// order.
    pub(super) async fn suppression_hits(
        &mut self,
        workspace: &str,
        phone: &str,
        now: Millis,
    ) -> Result<Vec<SuppressionHit>, StoreError> {
        self.load_listed(workspace, [phone.to_string()]).await?;
        let listed = &self.listed[&(workspace.to_string(), phone.to_string())];
        Ok(listed
            .iter()
            .filter(|listing| crate::model::unexpired(listing.entry.expires_at, now))
            .map(|listing| SuppressionHit {
                list: listing.list.clone(),
                blocks: listing.blocks,
                reason: listing.entry.reason.clone(),
            })
            .collect())
    }

    /// The list `name` of `workspace` as stored, the job's writes included.
    pub(super) async fn suppression_list(
        &mut self,
        workspace: &str,
        name: &str,
    ) -> Result<Option<SuppressionList>, StoreError> {
        let staged = self
            .suppressions
            .iter()
            .rev()
            .find(|change| change.list.workspace == workspace && change.list.name == name);
        if let Some(change) = staged {
            return Ok(Some(change.list.clone()));
        }
        let row = self
            .group
            .query_opt(
                "SELECT record FROM suppression_lists WHERE workspace = $1 AND name = $2 \
                 FOR NO KEY UPDATE",
                &[&workspace, &name],
            )
            .await?;
        row.map(|row| decode(&format!("suppression_lists {name}"), row.get("record")))
            .transpose()
    }

    /// The numbers of `phones` that `list` holds, the job's writes included.
    pub(super) async fn on_list(
        &mut self,
        workspace: &str,
        list: &str,
        phones: &[&String],
    ) -> Result<HashSet<String>, StoreError> {
        let rows = self
            .group
            .query(
                "SELECT phone FROM suppression_entries \
                 WHERE workspace = $1 AND list = $2 AND phone = ANY($3)",
                &[&workspace, &list, &phones],
            )
            .await?;
        let mut found: HashSet<String> = rows.iter().map(|row| row.get("phone")).collect();
        for change in &self.suppressions {
            if change.list.workspace != workspace || change.list.name != list {
                continue;
            }
            for entry in &change.entries {
                found.insert(entry.phone.clone());
            }
            for phone in &change.removed {
                found.remove(phone);
            }
        }
        found.retain(|phone| phones.contains(&phone));
        Ok(found)
    }

    pub(super) fn suppress(&mut self, change: SuppressionChange) {
        self.suppressions.push(change);
    }

    /// Writes what the job staged into the group's transaction and hands
    /// the rest to the group's commit: the job has succeeded.
    pub(super) async fn finish(self) -> Result<(), StoreError> {
        let JobTx {
            group,
            batches,
            dirty_batches,
            contacts,
            dirty_contacts,
            new_contacts,
            attempts,
            events,
            zones,
            suppressions,
            told,
            mut deferred,
            ..
        } = self;
        {
            // The statements touch different rows and none reads another's
            // result, so they go out pipelined on the one connection: one
            // round trip for the job instead of one per statement. They
            // still run in the order sent.
            let shared: &Group = group;
            let zones: (Vec<String>, Vec<String>) = zones.into_iter().unzip();
            let mut writes: Vec<BoxFuture<'_, Result<(), StoreError>>> = vec![
                Box::pin(write_batches(shared, &batches, &dirty_batches)),
                Box::pin(write_new_contacts(shared, &new_contacts)),
                Box::pin(write_contacts(shared, &contacts, &dirty_contacts)),
                Box::pin(write_attempts(shared, attempts)),
                Box::pin(write_events(shared, &events)),
                Box::pin(write_zones(shared, &zones)),
            ];
            for change in &suppressions {
                writes.push(Box::pin(write_suppression(shared, change)));
            }
            try_join_all(writes).await?;
        }
        deferred.journal.extend(told);
        group.deferred.absorb(deferred);
        Ok(())
    }
}

async fn write_zones(group: &Group, zones: &(Vec<String>, Vec<String>)) -> Result<(), StoreError> {
    if zones.0.is_empty() {
        return Ok(());
    }
    group
        .execute(
            "INSERT INTO batch_zones (batch_id, zone) \
             SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
            &[&zones.0, &zones.1],
        )
        .await?;
    Ok(())
}

/// An attempt from a row's `record` and `provider_call_id`: a call id
/// recorded while the attempt was live joins it.
pub(super) fn attempt_of(row: &Row) -> Result<Attempt, StoreError> {
    let mut attempt: Attempt = decode("attempts", row.get("record"))?;
    if attempt.provider_call_id.is_none() {
        attempt.provider_call_id = row.get("provider_call_id");
    }
    Ok(attempt)
}

async fn write_batches(
    group: &Group,
    batches: &HashMap<String, Option<BatchRecord>>,
    dirty: &[String],
) -> Result<(), StoreError> {
    if dirty.is_empty() {
        return Ok(());
    }
    let written: Vec<&BatchRecord> = dirty
        .iter()
        .filter_map(|id| batches.get(id)?.as_ref())
        .collect();
    let ids: Vec<&str> = written.iter().map(|batch| batch.id.as_str()).collect();
    let workspaces: Vec<&str> = written
        .iter()
        .map(|batch| batch.workspace.as_str())
        .collect();
    let campaigns: Vec<&str> = written
        .iter()
        .map(|batch| batch.campaign_id.as_str())
        .collect();
    let created: Vec<i64> = written.iter().map(|batch| batch.created_at).collect();
    let open: Vec<bool> = written
        .iter()
        .map(|batch| !batch.status.is_final())
        .collect();
    let records: Vec<Vec<u8>> = written.iter().map(|batch| encode(*batch)).collect();
    group
        .execute(
            "INSERT INTO batches (id, workspace, campaign_id, created_at, open, record) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], \
             $5::bool[], $6::bytea[]) \
             ON CONFLICT (id) DO UPDATE SET open = excluded.open, record = excluded.record",
            &[&ids, &workspaces, &campaigns, &created, &open, &records],
        )
        .await?;
    Ok(())
}

async fn write_new_contacts(
    group: &Group,
    contacts: &[(String, ContactRecord)],
) -> Result<(), StoreError> {
    if contacts.is_empty() {
        return Ok(());
    }
    let len = contacts.len();
    let mut batch_ids = Vec::with_capacity(len);
    let mut seqs = Vec::with_capacity(len);
    let mut workspaces = Vec::with_capacity(len);
    let mut contact_ids = Vec::with_capacity(len);
    let mut phones = Vec::with_capacity(len);
    let mut statuses = Vec::with_capacity(len);
    let mut due = Vec::with_capacity(len);
    let mut records = Vec::with_capacity(len);
    let mut dials = Vec::with_capacity(len);
    for (workspace, contact) in contacts {
        batch_ids.push(contact.batch_id.as_str());
        seqs.push(int(contact.seq));
        workspaces.push(workspace.as_str());
        contact_ids.push(contact.contact_id.as_str());
        phones.push(contact.phone.as_str());
        statuses.push(status_text(contact.status));
        due.push(due_at(contact));
        records.push(encode(contact));
        dials.push(rows::dials_of(contact));
    }
    group
        .execute(
            "INSERT INTO contacts \
             (batch_id, seq, workspace, contact_id, phone, status, due_at, record, dials) \
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], \
             $5::text[], $6::text[], $7::bigint[], $8::bytea[], $9::bytea[])",
            &[
                &batch_ids,
                &seqs,
                &workspaces,
                &contact_ids,
                &phones,
                &statuses,
                &due,
                &records,
                &dials,
            ],
        )
        .await?;
    Ok(())
}

async fn write_contacts(
    group: &Group,
    contacts: &HashMap<(String, u64), Option<ContactRecord>>,
    dirty: &[(String, u64)],
) -> Result<(), StoreError> {
    if dirty.is_empty() {
        return Ok(());
    }
    let mut batch_ids = Vec::with_capacity(dirty.len());
    let mut seqs = Vec::with_capacity(dirty.len());
    let mut statuses = Vec::with_capacity(dirty.len());
    let mut due = Vec::with_capacity(dirty.len());
    let mut records = Vec::with_capacity(dirty.len());
    let mut dials = Vec::with_capacity(dirty.len());
    for contact in dirty.iter().filter_map(|key| contacts.get(key)?.as_ref()) {
        batch_ids.push(contact.batch_id.as_str());
        seqs.push(int(contact.seq));
        statuses.push(status_text(contact.status));
        due.push(due_at(contact));
        records.push(encode(contact));
        dials.push(rows::dials_of(contact));
    }
    group
        .execute(
            "UPDATE contacts c SET status = u.status, due_at = u.due_at, \
             record = u.record, dials = u.dials \
             FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bytea[], \
             $6::bytea[]) AS u(batch_id, seq, status, due_at, record, dials) \
             WHERE c.batch_id = u.batch_id AND c.seq = u.seq",
            &[&batch_ids, &seqs, &statuses, &due, &records, &dials],
        )
        .await?;
    Ok(())
}

async fn write_attempts(
    group: &Group,
    attempts: HashMap<AttemptKey, (bool, Attempt)>,
) -> Result<(), StoreError> {
    if attempts.is_empty() {
        return Ok(());
    }
    let mut batch_ids = Vec::with_capacity(attempts.len());
    let mut seqs = Vec::with_capacity(attempts.len());
    let mut numbers = Vec::with_capacity(attempts.len());
    let mut live = Vec::with_capacity(attempts.len());
    let mut records = Vec::with_capacity(attempts.len());
    for (key, (is_live, attempt)) in attempts {
        batch_ids.push(key.batch_id);
        seqs.push(int(key.seq));
        numbers.push(key.number as i32);
        live.push(is_live);
        records.push(encode(&attempt));
    }
    group
        .execute(
            "INSERT INTO attempts (batch_id, seq, number, live, record) \
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::bool[], $5::bytea[]) \
             ON CONFLICT (batch_id, seq, number) DO UPDATE SET \
             live = excluded.live, record = excluded.record",
            &[&batch_ids, &seqs, &numbers, &live, &records],
        )
        .await?;
    Ok(())
}

async fn write_events(group: &Group, events: &[(String, u64, LogLine)]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut batch_ids = Vec::with_capacity(events.len());
    let mut seqs = Vec::with_capacity(events.len());
    let mut numbers = Vec::with_capacity(events.len());
    let mut records = Vec::with_capacity(events.len());
    for (batch, seq, line) in events {
        batch_ids.push(batch.as_str());
        seqs.push(int(*seq));
        numbers.push(line.number as i32);
        records.push(encode(&line.event));
    }
    group
        .execute(
            "INSERT INTO contact_events (batch_id, seq, number, record) \
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::bytea[])",
            &[&batch_ids, &seqs, &numbers, &records],
        )
        .await?;
    Ok(())
}

/// Writes a list's change: the list, its new entries and the numbers it
/// lost.
async fn write_suppression(group: &Group, change: &SuppressionChange) -> Result<(), StoreError> {
    let list = &change.list;
    group
        .execute(
            "INSERT INTO suppression_lists (workspace, name, record) VALUES ($1, $2, $3) \
             ON CONFLICT (workspace, name) DO UPDATE SET record = excluded.record",
            &[&list.workspace, &list.name, &encode(list)],
        )
        .await?;
    if !change.entries.is_empty() {
        let phones: Vec<&str> = change
            .entries
            .iter()
            .map(|entry| entry.phone.as_str())
            .collect();
        let records: Vec<Vec<u8>> = change.entries.iter().map(encode).collect();
        group
            .execute(
                "INSERT INTO suppression_entries (workspace, list, phone, blocks, record) \
                 SELECT $1, $2, u.phone, $3, u.record \
                 FROM unnest($4::text[], $5::bytea[]) AS u(phone, record) \
                 ON CONFLICT (workspace, list, phone) DO UPDATE SET \
                 blocks = excluded.blocks, record = excluded.record",
                &[&list.workspace, &list.name, &list.blocks, &phones, &records],
            )
            .await?;
    }
    if !change.removed.is_empty() {
        group
            .execute(
                "DELETE FROM suppression_entries \
                 WHERE workspace = $1 AND list = $2 AND phone = ANY($3)",
                &[&list.workspace, &list.name, &change.removed],
            )
            .await?;
    }
    Ok(())
}

/// The bytes of a [`crate::store::JournalEvent`], written from borrowed
/// fields and a typed payload, as the embedded store writes them: a reader
/// decodes the payload into a JSON value.
fn encode_event(seq: u64, told: &Told) -> Vec<u8> {
    fn write(bytes: &mut Vec<u8>, field: &(impl serde::Serialize + ?Sized)) {
        rmp_serde::encode::write(bytes, field).expect("journal fields serialize without fail");
    }
    let mut bytes = Vec::with_capacity(256);
    // The fields of `JournalEvent` in order, as a struct is encoded.
    rmp::encode::write_array_len(&mut bytes, 7).expect("writing to a Vec never fails");
    write(&mut bytes, &seq);
    write(&mut bytes, told.entry.kind.as_str());
    write(&mut bytes, told.workspace.as_str());
    write(&mut bytes, told.campaign_id.as_str());
    write(&mut bytes, told.batch_id.as_str());
    write(&mut bytes, &told.entry.at);
    rmp_serde::encode::write_named(&mut bytes, &told.entry.data)
        .expect("journal payloads serialize without fail");
    bytes
}
