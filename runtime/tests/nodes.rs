//! Several `outdial run` nodes on one PostgreSQL database: a node killed
//! mid-batch has its campaign taken over by another, a node paused past its
//! lease places no call when it wakes, and a pause sent to a node that does
//! not own the campaign stops the owner. Every node's simulated provider
//! logs the attempt ids it placed, so the logs together say whether any
//! attempt reached a provider twice.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use outdial::store::{PostgresConfig, PostgresStore, Store};

#[path = "support/nodes.rs"]
mod nodes;
#[path = "support/run_server.rs"]
mod run_server;
use nodes::{CampaignSetup, Node, ok, placed_in, wait_for};

const CONTACTS: usize = 40;
/// The leases' time to live in the nodes' config.
const LEASE_TTL: Duration = Duration::from_secs(2);
/// A bound on the takeover, far above its expected time (the lease's time
/// to live and a round), so a slow machine does not fail the test.
const TAKEOVER_BOUND: Duration = Duration::from_secs(30);

/// One campaign whose simulated calls last one to six seconds.
fn write_config(dir: &Path) -> PathBuf {
    let renewals = CampaignSetup {
        id: "renewals",
        seed: 3,
        concurrency: 4,
        calls_per_second: 20,
        time_scale: 20.0,
        call_timeout: "10s",
    };
    nodes::write_config(dir, &[renewals], "+1212555", CONTACTS)
}

/// Every attempt id the providers of the nodes with `data_dirs` placed,
/// each once.
fn assert_placed_once(data_dirs: &[PathBuf]) -> usize {
    let placed: Vec<String> = data_dirs.iter().flat_map(|dir| placed_in(dir)).collect();
    let unique: HashSet<&String> = placed.iter().collect();
    assert_eq!(
        unique.len(),
        placed.len(),
        "an attempt placed twice: {placed:?}"
    );
    placed.len()
}

/// The batch as the database holds it once every node stopped: complete,
/// nothing live, counters equal to a recount.
fn assert_whole_in_database(database: &str, batch: &str) {
    let store = PostgresStore::open(&PostgresConfig::new(database)).expect("the store opens");
    assert!(
        store.live_attempts().expect("live").is_empty(),
        "nothing live"
    );
    let counters = store.batch_counters(batch).expect("counters");
    assert_eq!(counters, store.recount(batch).expect("recount"));
    assert_eq!(counters.total, CONTACTS as u64);
}

#[test]
fn a_killed_nodes_campaign_is_dialed_by_another_within_its_lease_and_no_attempt_twice() {
    let database = outdial_tests::database_or_skip!();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path());
    let first = Node::start(&config, dir.path().join("first"), database.url());
    let batch = first.create_batch("renewals", &dir.path().join("contacts.csv"));
    wait_for("the first node dials", TAKEOVER_BOUND, || {
        first.placed().len() >= 2
    });
    let second = Node::start(&config, dir.path().join("second"), database.url());
    assert!(
        second.placed().is_empty(),
        "the campaign is the first node's"
    );

    let killed = Instant::now();
    let first_placed = first.placed().len();
    first.kill();
    wait_for("the second node dials", TAKEOVER_BOUND, || {
        !second.placed().is_empty()
    });
    let takeover = killed.elapsed();
    println!(
        "takeover: {} ms from SIGKILL to the next call (lease {} ms); {first_placed} calls placed before",
        takeover.as_millis(),
        LEASE_TTL.as_millis()
    );
    let watched = ok(second.batch(&["watch", &batch, "--interval", "200ms", "--timeout", "120s"]));
    assert!(watched.contains("completed"), "{watched}");
    let placed = assert_placed_once(&[dir.path().join("first"), second.data_dir.clone()]);
    assert!(placed >= CONTACTS / 2, "{placed} calls");
    second.stop();
    assert_whole_in_database(database.url(), &batch);
}

#[test]
fn a_node_paused_past_its_lease_places_no_call_when_it_wakes() {
    let database = outdial_tests::database_or_skip!();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path());
    let stale = Node::start(&config, dir.path().join("stale"), database.url());
    let batch = stale.create_batch("renewals", &dir.path().join("contacts.csv"));
    wait_for("the first node dials", TAKEOVER_BOUND, || {
        stale.placed().len() >= 2
    });
    let next = Node::start(&config, dir.path().join("next"), database.url());

    stale.signal("-STOP");
    let frozen = stale.placed().len();
    wait_for("the other node takes over", TAKEOVER_BOUND, || {
        !next.placed().is_empty()
    });
    stale.signal("-CONT");
    // Several ticks and lease rounds of the woken node.
    std::thread::sleep(LEASE_TTL * 2);
    assert_eq!(
        stale.placed().len(),
        frozen,
        "the woken node placed no call on the lease it lost"
    );

    let watched = ok(next.batch(&["watch", &batch, "--interval", "200ms", "--timeout", "120s"]));
    assert!(watched.contains("completed"), "{watched}");
    assert_eq!(stale.placed().len(), frozen, "nor later");
    assert_placed_once(&[stale.data_dir.clone(), next.data_dir.clone()]);
    stale.stop();
    next.stop();
    assert_whole_in_database(database.url(), &batch);
}

#[test]
fn a_pause_and_a_resume_sent_to_another_node_take_effect_on_the_owner() {
    let database = outdial_tests::database_or_skip!();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path());
    let owner = Node::start(&config, dir.path().join("owner"), database.url());
    let batch = owner.create_batch("renewals", &dir.path().join("contacts.csv"));
    wait_for("the owner dials", TAKEOVER_BOUND, || {
        owner.placed().len() >= 2
    });
    let other = Node::start(&config, dir.path().join("other"), database.url());

    ok(other.batch(&["pause", &batch, "--reason", "script review"]));
    // A tick's intents made durable before the pause may still leave.
    std::thread::sleep(Duration::from_millis(500));
    let at_pause = owner.placed().len();
    std::thread::sleep(LEASE_TTL * 2);
    assert_eq!(
        owner.placed().len(),
        at_pause,
        "no call while the batch is paused"
    );
    assert!(other.placed().is_empty(), "the other node owns nothing");

    ok(other.batch(&["resume", &batch]));
    let watched = ok(owner.batch(&["watch", &batch, "--interval", "200ms", "--timeout", "120s"]));
    assert!(watched.contains("completed"), "{watched}");
    assert!(
        owner.placed().len() > at_pause,
        "dialing went on after the resume"
    );
    assert_placed_once(&[owner.data_dir.clone(), other.data_dir.clone()]);
    other.stop();
    owner.stop();
    assert_whole_in_database(database.url(), &batch);
}
