//! The crash suite of several nodes: three `outdial run` nodes on one
//! PostgreSQL database, each with the simulated provider, and one of them
//! SIGKILLed at a random moment every cycle and started again on its data
//! directory, while an operator creates, pauses and resumes batches
//! through whichever nodes are up.
//!
//! After every kill: no attempt id was placed twice, by one provider or by
//! two (the nodes' call logs), and no node dead for longer than a lease
//! holds one. Every ten kills, every batch the API acknowledged is read
//! through a live node with all its contacts. At the end every batch is
//! resumed and dialed to completion; with every node stopped, the
//! database says nothing is live and each batch's counters equal a
//! recount.
//!
//! `OUTDIAL_NODE_KILLS` sets the number of kills (default 100);
//! `OUTDIAL_NODE_KILLS_SEED` replays the schedule of a printed seed.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use outdial::store::{PostgresConfig, PostgresStore, Store};

// The suite kills and reads nodes; it waits on none of them.
#[allow(dead_code)]
#[path = "support/nodes.rs"]
mod nodes;
#[path = "support/run_server.rs"]
mod run_server;
use nodes::{CampaignSetup, Node, ok, placed_in};

const KILLS_VAR: &str = "OUTDIAL_NODE_KILLS";
const SEED_VAR: &str = "OUTDIAL_NODE_KILLS_SEED";
const DEFAULT_KILLS: usize = 100;
const NODES: usize = 3;
const CAMPAIGNS: [&str; 3] = ["renewals", "winback", "surveys"];
const CONTACTS: usize = 12;
/// The leases' time to live in the config.
const LEASE_TTL: Duration = Duration::from_secs(2);
/// How long after its kill a dead node's lease may still run: its last
/// renewal came before the kill, plus the clocks' and rounds' slack.
const DEAD_LEASE_BOUND: Duration = Duration::from_millis(2_600);

fn write_config(dir: &Path) -> PathBuf {
    let campaigns: Vec<CampaignSetup> = CAMPAIGNS
        .iter()
        .enumerate()
        .map(|(index, id)| CampaignSetup {
            id,
            seed: index as u64,
            concurrency: 3,
            calls_per_second: 10,
            time_scale: 40.0,
            call_timeout: "5s",
        })
        .collect();
    nodes::write_config(dir, &campaigns, "+1312555", CONTACTS)
}

/// xorshift64: the schedule replays from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

fn from_env(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|value| {
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name} takes a number, got {value:?}"))
    })
}

/// The owners of the leases that have not run out, as the database says.
fn current_lease_owners(url: &str) -> Vec<String> {
    let url = url.to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("the database accepts a connection");
        tokio::spawn(connection);
        client
            .query(
                "SELECT owner FROM campaign_leases \
                 WHERE owner IS NOT NULL AND lease_until > clock_timestamp()",
                &[],
            )
            .await
            .expect("the leases are read")
            .iter()
            .map(|row| row.get(0))
            .collect()
    })
}

/// The process id in a node id (`<host>-<pid>-<random>`).
fn pid_of(node_id: &str) -> Option<u32> {
    let mut parts = node_id.rsplit('-');
    parts.next()?;
    parts.next()?.parse().ok()
}

struct Cluster {
    config: PathBuf,
    database: String,
    dirs: Vec<PathBuf>,
    nodes: Vec<Option<Node>>,
    /// Killed nodes' process ids, with when they were killed.
    dead: HashMap<u32, Instant>,
}

impl Cluster {
    fn start_node(&mut self, slot: usize) {
        self.nodes[slot] = Some(Node::start(
            &self.config,
            self.dirs[slot].clone(),
            &self.database,
        ));
    }

    fn kill(&mut self, slot: usize) {
        if let Some(node) = self.nodes[slot].take() {
            self.dead.insert(node.child.id(), Instant::now());
            node.kill();
        }
    }

    /// A node that is up, picked by `rng`.
    fn any(&self, rng: &mut Rng) -> &Node {
        let up: Vec<&Node> = self.nodes.iter().flatten().collect();
        up[rng.below(up.len())]
    }

    /// No attempt id placed twice, across every node's provider.
    fn check_placed_once(&self) -> usize {
        let placed: Vec<String> = self.dirs.iter().flat_map(|dir| placed_in(dir)).collect();
        let unique: HashSet<&String> = placed.iter().collect();
        assert_eq!(unique.len(), placed.len(), "an attempt id placed twice");
        placed.len()
    }

    /// No lease held by a node dead for longer than a lease lasts.
    fn check_leases(&self) {
        let live: HashSet<u32> = self
            .nodes
            .iter()
            .flatten()
            .map(|node| node.child.id())
            .collect();
        for owner in current_lease_owners(&self.database) {
            let pid = pid_of(&owner).unwrap_or_else(|| panic!("a node id {owner}"));
            if live.contains(&pid) {
                continue;
            }
            let killed = self
                .dead
                .get(&pid)
                .unwrap_or_else(|| panic!("lease held by {owner}, which this suite never ran"));
            assert!(
                killed.elapsed() < DEAD_LEASE_BOUND,
                "{owner}, killed {:?} ago, still holds a lease",
                killed.elapsed()
            );
        }
    }
}

#[test]
fn nodes_killed_at_random_lose_no_batch_dial_no_attempt_twice_and_leave_no_lease_behind() {
    let database = outdial_tests::database_or_skip!();
    let kills = from_env(KILLS_VAR).map_or(DEFAULT_KILLS, |kills| kills as usize);
    let seed = from_env(SEED_VAR).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |elapsed| elapsed.as_nanos() as u64)
    });
    println!("node kills: {kills}, seed {seed} (replay with {SEED_VAR}={seed})");
    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("contacts.csv");
    let mut cluster = Cluster {
        config: write_config(dir.path()),
        database: database.url().to_string(),
        dirs: (0..NODES)
            .map(|slot| dir.path().join(format!("node-{slot}")))
            .collect(),
        nodes: (0..NODES).map(|_| None).collect(),
        dead: HashMap::new(),
    };
    for slot in 0..NODES {
        cluster.start_node(slot);
    }
    let began = Instant::now();
    let mut batches: Vec<String> = Vec::new();
    let mut paused: BTreeSet<String> = BTreeSet::new();

    for kill in 0..kills {
        // The operator, through any node that is up.
        match kill % 4 {
            0 => {
                let campaign = CAMPAIGNS[rng.below(CAMPAIGNS.len())];
                batches.push(cluster.any(&mut rng).create_batch(campaign, &csv));
            }
            1 if !batches.is_empty() => {
                let batch = batches[rng.below(batches.len())].clone();
                let answer = cluster.any(&mut rng).batch(&["pause", &batch]);
                if answer.status.success() {
                    paused.insert(batch);
                }
            }
            3 if !paused.is_empty() => {
                let batch = paused.iter().nth(rng.below(paused.len())).cloned();
                let batch = batch.expect("a paused batch");
                ok(cluster.any(&mut rng).batch(&["resume", &batch]));
                paused.remove(&batch);
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(100 + rng.below(900) as u64));
        let victim = rng.below(NODES);
        cluster.kill(victim);
        cluster.check_placed_once();
        cluster.check_leases();
        cluster.start_node(victim);
        if kill % 10 == 9 {
            let reader = cluster.any(&mut rng);
            for batch in &batches {
                let shown = ok(reader.batch(&["show", batch]));
                assert!(
                    shown.lines().any(|line| line.starts_with("contacts")
                        && line.trim_end().ends_with(&format!(" {CONTACTS}"))),
                    "{batch} has all its contacts: {shown}"
                );
            }
        }
    }
    println!(
        "{kills} kills in {:?}; {} batches, {} calls placed",
        began.elapsed(),
        batches.len(),
        cluster.check_placed_once()
    );

    for batch in &paused {
        ok(cluster.any(&mut rng).batch(&["resume", batch]));
    }
    // Past a lease, so a lease of the last node killed has run out.
    std::thread::sleep(LEASE_TTL);
    for batch in &batches {
        let watched = ok(cluster.any(&mut rng).batch(&[
            "watch",
            batch,
            "--interval",
            "200ms",
            "--timeout",
            "120s",
        ]));
        assert!(watched.contains("completed"), "{batch}: {watched}");
    }
    cluster.check_leases();
    for node in cluster.nodes.iter_mut() {
        if let Some(node) = node.take() {
            node.stop();
        }
    }
    let placed = cluster.check_placed_once();
    let store = PostgresStore::open(&PostgresConfig::new(database.url())).expect("the store opens");
    assert!(
        store.live_attempts().expect("live").is_empty(),
        "nothing live"
    );
    let mut attempts = 0;
    for batch in &batches {
        let counters = store.batch_counters(batch).expect("counters");
        assert_eq!(counters, store.recount(batch).expect("recount"), "{batch}");
        assert_eq!(counters.total, CONTACTS as u64, "{batch}");
        attempts += counters.attempts;
    }
    assert!(
        placed as u64 <= attempts,
        "{placed} calls placed for {attempts} attempts"
    );
}
