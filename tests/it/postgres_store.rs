//! What the PostgreSQL store promises beyond the store contract: its
//! schema's version, a reopened store, writes grouped in one commit, and
//! the leases that let several nodes share one database.

use outdial::model::{CallOutcome, ContactStatus};
use std::time::Duration;

use outdial::store::{
    AttemptEnd, AttemptKey, BeginAttempt, EndAttempt, LeaseRound, NewSuppression, NextStep,
    Pending, PostgresConfig, PostgresStore, Store, StoreError,
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
    assert!(message.contains("(version 2)"), "{message}");
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

/// A store on `url` whose leases last `ttl`.
fn open_node(url: &str, ttl: Duration) -> PostgresStore {
    let mut config = PostgresConfig::new(url);
    config.lease_ttl = ttl;
    PostgresStore::open(&config).expect("the store opens")
}

fn campaigns(names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|name| ("ws".to_string(), name.to_string()))
        .collect()
}

fn held(round: &LeaseRound) -> Vec<String> {
    round
        .held
        .iter()
        .map(|lease| lease.campaign_id.clone())
        .collect()
}

/// Waits out a lease round's freshness, so the next one asks the database.
fn next_round(ttl: Duration) {
    std::thread::sleep(ttl / 4 + Duration::from_millis(50));
}

#[test]
fn two_nodes_on_one_database_split_its_campaigns_between_them() {
    let database = database_or_skip!();
    let all = campaigns(&["a", "b", "c", "d"]);
    let first = open_node(database.url(), Duration::from_secs(5));
    let second = open_node(database.url(), Duration::from_secs(5));
    let mine = held(&first.lease_campaigns(&all).expect("first round"));
    let theirs = held(&second.lease_campaigns(&all).expect("second round"));
    assert_eq!(mine.len(), 2, "half of four campaigns: {mine:?}");
    assert_eq!(theirs.len(), 2, "the other half: {theirs:?}");
    let mut both: Vec<String> = mine.iter().chain(&theirs).cloned().collect();
    both.sort();
    assert_eq!(both, ["a", "b", "c", "d"], "each campaign has one node");
}

#[test]
fn a_node_alone_takes_every_campaign_and_hands_back_the_surplus_when_another_joins() {
    let database = database_or_skip!();
    let ttl = Duration::from_secs(2);
    let all = campaigns(&["a", "b", "c", "d"]);
    let first = open_node(database.url(), ttl);
    assert_eq!(held(&first.lease_campaigns(&all).expect("round")).len(), 4);

    let second = open_node(database.url(), ttl);
    assert!(
        held(&second.lease_campaigns(&all).expect("round")).is_empty(),
        "every lease is held and current"
    );
    next_round(ttl);
    let round = first.lease_campaigns(&all).expect("round");
    assert_eq!(round.held.len(), 4, "the surplus is still held");
    assert_eq!(round.surplus.len(), 2, "two campaigns beyond its share");
    for (workspace, campaign) in &round.surplus {
        first
            .release_lease(workspace, campaign)
            .expect("handed back");
    }
    next_round(ttl);
    let taken = held(&second.lease_campaigns(&all).expect("round"));
    let surplus: Vec<String> = round.surplus.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(taken, surplus, "the newcomer takes what was handed back");
}

#[test]
fn the_dispatcher_of_a_node_whose_lease_ran_out_writes_nothing_once_another_took_over() {
    let database = database_or_skip!();
    let ttl = Duration::from_secs(2);
    let camp = campaigns(&["camp"]);
    let stale = open_node(database.url(), ttl);
    let next = open_node(database.url(), ttl);
    let batch = stale.create_batch(new_batch(4)).expect("create").batch;
    start(&stale, &batch.id);
    assert_eq!(
        held(&stale.lease_campaigns(&camp).expect("round")),
        ["camp"]
    );
    assert!(held(&next.lease_campaigns(&camp).expect("round")).is_empty());
    let dialing = stale.fenced();
    dialing
        .begin_attempts(vec![begin(&batch.id, 0)])
        .expect("written")
        .remove(0)
        .expect("the holder dials");

    // The stale node stops renewing, as a paused process would.
    std::thread::sleep(ttl + Duration::from_millis(200));
    assert!(
        !stale.may_place("ws", "camp"),
        "its own clock says the lease ran out"
    );
    let refused = dialing
        .begin_attempts(vec![begin(&batch.id, 1)])
        .and_then(|mut answers| answers.remove(0))
        .expect_err("no dial on a lease run out");
    assert!(matches!(refused, StoreError::Fenced { .. }), "{refused}");

    let taken = next.lease_campaigns(&camp).expect("takeover");
    assert_eq!(held(&taken), ["camp"]);
    assert_eq!(taken.held[0].epoch, 2, "a takeover is a new epoch");
    next.fenced()
        .begin_attempts(vec![begin(&batch.id, 1)])
        .expect("written")
        .remove(0)
        .expect("the new holder dials");
    next_round(ttl);
    assert!(
        stale.lease_campaigns(&camp).expect("round").held.is_empty(),
        "the stale node learns it lost the campaign"
    );
    let paused = dialing.set_batch_status(requests::status_change(
        &batch.id,
        outdial::model::BatchStatus::Paused,
        T0 + 5,
    ));
    assert!(
        matches!(paused, Err(StoreError::Fenced { .. })),
        "{paused:?}"
    );
    let counters = next.batch_counters(&batch.id).expect("counters");
    assert_eq!(
        counters.attempts, 2,
        "one dial of each holder, none refused"
    );
    assert_eq!(counters, next.recount(&batch.id).expect("recount"));
    // The operator's own handle is not fenced: any node takes a pause.
    stale
        .set_batch_status(requests::status_change(
            &batch.id,
            outdial::model::BatchStatus::Paused,
            T0 + 5,
        ))
        .expect("the API pauses through any node");
}

#[test]
fn a_write_is_refused_when_the_database_says_the_lease_moved_though_the_node_thinks_it_holds_it() {
    let database = database_or_skip!();
    let camp = campaigns(&["camp"]);
    let node = open_node(database.url(), Duration::from_secs(30));
    let batch = node.create_batch(new_batch(2)).expect("create").batch;
    start(&node, &batch.id);
    assert_eq!(held(&node.lease_campaigns(&camp).expect("round")), ["camp"]);
    database.execute(
        "UPDATE campaign_leases SET owner = 'another-node', epoch = epoch + 1 \
         WHERE campaign_id = 'camp'",
    );
    assert!(
        node.may_place("ws", "camp"),
        "by its own clock it still holds it"
    );
    let refused = node
        .fenced()
        .begin_attempts(vec![begin(&batch.id, 0)])
        .and_then(|mut answers| answers.remove(0))
        .expect_err("the database's lease decides");
    assert!(matches!(refused, StoreError::Fenced { .. }), "{refused}");
    assert_eq!(
        node.batch_counters(&batch.id).expect("counters").attempts,
        0
    );
}

#[test]
fn a_node_that_closes_hands_its_campaigns_to_another_at_once() {
    let database = database_or_skip!();
    let ttl = Duration::from_secs(30);
    let camp = campaigns(&["camp"]);
    let first = open_node(database.url(), ttl);
    let second = open_node(database.url(), ttl);
    assert_eq!(
        held(&first.lease_campaigns(&camp).expect("round")),
        ["camp"]
    );
    assert!(held(&second.lease_campaigns(&camp).expect("round")).is_empty());
    drop(first);
    next_round(ttl);
    assert_eq!(
        held(&second.lease_campaigns(&camp).expect("round")),
        ["camp"],
        "taken long before a 30 s lease would run out"
    );
}

#[test]
fn a_node_opening_leaves_the_create_another_live_node_is_writing_alone() {
    let database = database_or_skip!();
    let writing = open_node(database.url(), Duration::from_secs(30));
    let url = database.url().to_string();
    let mut opened = None;
    let mut chunks = (0..3).map(|part| {
        if part == 1 {
            // Mid-create: another node starts on the database.
            opened = Some(open(&url));
        }
        requests::chunk(part * 10, part * 10 + 10)
    });
    let created = writing
        .create_batch_in_chunks(new_batch(0), &mut chunks)
        .expect("create")
        .expect("not abandoned");
    drop(chunks);
    let other = opened.expect("the other node opened mid-create");
    assert_eq!(
        other.recount(&created.batch.id).expect("recount").total,
        30,
        "every contact of the create is there"
    );
}

#[test]
fn one_node_at_a_time_delivers_a_webhook_endpoint_and_another_takes_it_once_it_stalls() {
    let database = database_or_skip!();
    let ttl = Duration::from_secs(2);
    let first = open_node(database.url(), ttl);
    let second = open_node(database.url(), ttl);
    assert!(first.lease_webhook_endpoint("hook-1").expect("lease"));
    assert!(first.lease_webhook_endpoint("hook-1").expect("renewed"));
    assert!(
        !second.lease_webhook_endpoint("hook-1").expect("asked"),
        "held elsewhere"
    );
    assert!(
        second.lease_webhook_endpoint("hook-2").expect("lease"),
        "each endpoint has a lease of its own"
    );

    // The first node stalls past its lease.
    std::thread::sleep(ttl + Duration::from_millis(200));
    assert!(second.lease_webhook_endpoint("hook-1").expect("takeover"));
    assert!(
        !first.lease_webhook_endpoint("hook-1").expect("asked"),
        "the stalled node delivers no more"
    );
    drop(second);
    assert!(
        first.lease_webhook_endpoint("hook-2").expect("lease"),
        "a node that closes hands its endpoints back"
    );
}

#[test]
fn after_its_server_restarts_a_node_writes_again_and_keeps_its_campaign() {
    let cluster = own_cluster_or_skip!();
    let ttl = Duration::from_secs(30);
    let camp = campaigns(&["camp"]);
    let first = open_node(cluster.url(), ttl);
    let batch = first.create_batch(new_batch(2)).expect("create").batch;
    assert_eq!(
        held(&first.lease_campaigns(&camp).expect("round")),
        ["camp"]
    );
    cluster.restart();

    // The restart closed every connection; the store makes new ones.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while let Err(err) = first.sync() {
        assert!(
            std::time::Instant::now() < deadline,
            "the store takes writes again: {err}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    start(&first, &batch.id);
    first
        .fenced()
        .begin_attempts(vec![begin(&batch.id, 0)])
        .and_then(|mut answers| answers.remove(0))
        .expect("the lease outlived the restart");

    // A lease is a row: another node finds it held.
    let second = open_node(cluster.url(), ttl);
    assert!(held(&second.lease_campaigns(&camp).expect("round")).is_empty());
    assert_eq!(first.recount(&batch.id).expect("recount").total, 2);
}
