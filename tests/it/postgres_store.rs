//! What the PostgreSQL store promises beyond the store contract: its
//! schema's version, a reopened store, and writes grouped in one commit.

use outdial::model::{CallOutcome, ContactStatus};
use outdial::store::{
    AttemptEnd, AttemptKey, BeginAttempt, EndAttempt, NewSuppression, NextStep, Pending,
    PostgresConfig, PostgresStore, Store, StoreError,
};
use outdial_tests::store_suite::requests::{self, T0, new_batch, start};
use outdial_tests::{database_or_skip, own_cluster_or_skip};

fn open(url: &str) -> PostgresStore {
    PostgresStore::open(&PostgresConfig::new(url)).expect("the store opens")
}

/// A dial intent on contact `seq`, just after the batch started.
fn begin(batch_id: &str, seq: u64) -> BeginAttempt {
    requests::begin(batch_id, seq, T0 + 1)
}

fn busy_end(key: AttemptKey) -> EndAttempt {
    EndAttempt {
        key,
        at: T0 + 2,
        end: AttemptEnd {
            outcome: Some(CallOutcome::Busy),
            cost_micros: Some(700),
            ..AttemptEnd::default()
        },
        disposition: None,
        decision: None,
        next: NextStep {
            status: ContactStatus::Busy,
            next_eligible_at: None,
            blocker: None,
            final_reason: Some("busy".to_string()),
            give_up_status: ContactStatus::Failed,
        },
        counts_as_attempt: true,
        plugin_faulted: None,
        max_consecutive_plugin_faults: 0,
        success: false,
        suppress: None,
    }
}

#[test]
fn a_database_whose_schema_is_newer_is_refused_naming_both_versions() {
    let database = database_or_skip!();
    drop(open(database.url()));
    database.execute(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
         VALUES (9999, 'from_the_future', '', '0')",
    );
    let refused = PostgresStore::open(&PostgresConfig::new(database.url()))
        .expect_err("a newer schema is refused");
    let message = refused.to_string();
    assert!(matches!(refused, StoreError::Open { .. }), "{message}");
    assert!(message.contains("version 9999"), "{message}");
    assert!(message.contains("(version 1)"), "{message}");
}

#[test]
fn a_reopened_store_keeps_every_write_and_numbers_the_journal_on() {
    let database = database_or_skip!();
    let (batch_id, detail, journal) = {
        let store = open(database.url());
        let batch = store.create_batch(new_batch(3)).expect("create").batch;
        start(&store, &batch.id);
        let attempt = store
            .begin_attempts(vec![begin(&batch.id, 0)])
            .expect("group")
            .remove(0)
            .expect("begins");
        let key = AttemptKey::parse(&attempt.id).expect("an attempt id");
        store.end_attempt(busy_end(key)).expect("ends");
        store
            .record_provider_calls(Vec::new())
            .expect("nothing to record");
        store
            .add_suppressions(
                "ws",
                "dnc-internal",
                vec![NewSuppression {
                    phone: "+15550000002".to_string(),
                    expires_at: None,
                    reason: Some("asked".to_string()),
                }],
                "test",
                T0 + 3,
            )
            .expect("suppressed");
        let detail = store.contact_detail(&batch.id, 0).expect("read");
        let journal = store.journal(0, usize::MAX).expect("journal");
        (batch.id, detail, journal)
    };

    let store = open(database.url());
    assert_eq!(store.contact_detail(&batch_id, 0).expect("read"), detail);
    assert_eq!(store.journal(0, usize::MAX).expect("journal"), journal);
    assert_eq!(
        store.batch_counters(&batch_id).expect("counters"),
        store.recount(&batch_id).expect("recount")
    );
    assert_eq!(
        store
            .suppression_list("ws", "dnc-internal")
            .expect("read")
            .map(|list| list.entries),
        Some(1)
    );
    let head = store.journal_head().expect("head");
    assert_eq!(head, journal.len() as u64);
    store
        .skip_contact(&batch_id, 1, "operator", T0 + 4)
        .expect("skip");
    assert_eq!(store.journal_head().expect("head"), head + 1);
}

#[test]
fn writes_started_together_share_a_commit_yet_each_stands_alone() {
    let database = database_or_skip!();
    let store = open(database.url());
    let batch = store.create_batch(new_batch(3)).expect("create").batch;
    start(&store, &batch.id);
    // Started without waiting, so the writer takes them as one group.
    let first = store.start_begin_attempts(vec![begin(&batch.id, 0)]);
    let refused = store.start_begin_attempts(vec![begin("btc_missing", 0), begin(&batch.id, 0)]);
    let last = store.start_begin_attempts(vec![begin(&batch.id, 2)]);
    let answers = [first, refused, last].map(Pending::wait);
    let [first, refused, last] = answers.map(|answer| answer.expect("each write is answered"));
    assert!(first[0].is_ok());
    assert!(matches!(refused[0], Err(StoreError::BatchNotFound(_))));
    assert!(
        refused[1].is_err(),
        "contact 0 was dialed by the write before"
    );
    assert!(last[0].is_ok());
    let counters = store.batch_counters(&batch.id).expect("counters");
    assert_eq!(counters.attempts, 2);
    assert_eq!(counters, store.recount(&batch.id).expect("recount"));
    assert_eq!(store.live_attempts().expect("live").len(), 2);
}

#[test]
fn a_second_store_on_a_database_already_open_is_refused_until_the_first_closes() {
    let database = database_or_skip!();
    let first = open(database.url());
    let batch = first.create_batch(new_batch(2)).expect("create").batch;
    let refused = PostgresStore::open(&PostgresConfig::new(database.url()))
        .expect_err("the database is open elsewhere");
    let message = refused.to_string();
    assert!(
        message.contains("another outdial process has this database open"),
        "{message}"
    );
    assert_eq!(
        first.batch(&batch.id).expect("read").map(|found| found.id),
        Some(batch.id.clone()),
        "the refused open changed nothing of the first store's"
    );
    drop(first);
    let second = open(database.url());
    assert_eq!(second.recount(&batch.id).expect("recount").total, 2);
}

#[test]
fn after_its_server_restarts_a_store_writes_again_and_still_keeps_the_database_to_itself() {
    let cluster = own_cluster_or_skip!();
    let first = open(cluster.url());
    let batch = first.create_batch(new_batch(2)).expect("create").batch;
    cluster.restart();

    // The restart closed every connection; the store makes new ones.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while let Err(err) = first.sync() {
        assert!(
            std::time::Instant::now() < deadline,
            "the store takes writes again: {err}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    start(&first, &batch.id);

    // The lock went with the connection that held it; the store holds it
    // again, so a second process is still refused.
    let refused = PostgresStore::open(&PostgresConfig::new(cluster.url()))
        .expect_err("the database is still open elsewhere");
    let message = refused.to_string();
    assert!(
        message.contains("another outdial process has this database open"),
        "{message}"
    );
    assert_eq!(first.recount(&batch.id).expect("recount").total, 2);
}

#[test]
fn a_store_whose_lock_connection_alone_was_closed_takes_the_lock_again_before_it_writes() {
    let database = database_or_skip!();
    let first = open(database.url());
    let locks = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    assert_eq!(database.count(locks), 1, "the open store holds its lock");
    // The writer has a connection of its own by now, and keeps it.
    first.sync().expect("the store writes");
    // As an idle-session timeout would: the writer's own connection lives.
    // Waiting up to 5 s for the session to end, so its lock is gone.
    database.execute(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE locktype = 'advisory' \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    assert_eq!(database.count(locks), 0, "the lock went with its session");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        first.sync().expect("the store writes");
        if database.count(locks) == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the store took its lock again"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
