//! Pipeline throughput: a batch dialed to the end through the engine with
//! the instant simulated provider, up to 3 attempts per contact, the
//! classifier and the retry strategy asked after every attempt.
//!
//! Scenarios, each run in a child process of its own so its peak memory is
//! its own:
//! - `durable`: the embedded Wasm plugins, every dial intent fsynced;
//! - `relaxed`: the same, with durability relaxed (flush without fsync);
//! - `native`: full durability, the built-in native policies instead of
//!   the Wasm plugins;
//! - `gated`: `durable` with the `gate-hours` dial gate asked before every
//!   dial and 1,000,000 other numbers on the workspace's `dnc-internal`
//!   list (imported before the batch, not timed with the dialing), so
//!   every dial intent's write looks its number up;
//! - `gate` and `listed`: `gated` with only the gate, and with only the
//!   list, to tell their costs apart;
//! - `postgres`: `durable` on the PostgreSQL store, on a fresh database of
//!   the server `OUTDIAL_TEST_DATABASE_URL` names, or else of a throwaway
//!   cluster (`synchronous_commit` on); skipped, saying why, without one.
//! - `postgres-two-nodes`: two nodes (two stores, two engines on two
//!   threads) on one such database, the contacts split over two campaigns
//!   that the nodes' leases spread one to each, every write fenced.
//!
//! Besides attempts a second and memory, each prints where the dialing's
//! CPU time went (the engine on the main thread, the store's writer, and
//! the rest: sled's own I/O threads), the PostgreSQL server's processes'
//! (`postgres` only), its CPU per attempt and how many of the machine's
//! cores it kept busy, and the bytes the process read and
//! wrote through system calls meanwhile (the store's files).
//!
//! Run: `cargo bench -p outdial-tests --bench pipeline -- [--contacts N]
//! [--scenario NAME]`. Prints one JSON line per scenario, figures last.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use outdial::api::WebhookSettings;
use outdial::config::Config;
use outdial::dispatch::{CampaignPolicy, Engine, EngineOptions};
use outdial::model::{BatchStatus, CallingWindow, CampaignSpec, Millis, WindowRule};
use outdial::plugin_host::{ConfigPlugins, PluginHost};
use outdial::provider::simulated::{SimulatedProvider, SimulationConfig};
use outdial::store::{
    ContactChunk, Durability, NewBatch, NewSuppression, PostgresConfig, PostgresStore, SledStore,
    Store, StoreConfig,
};

#[path = "support/mod.rs"]
mod support;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// 2026-03-02 15:00 UTC, a Monday.
const START: Millis = 1_772_463_600_000;
/// Virtual time per engine tick: retries of a second or two come due
/// within a few ticks.
const TICK_MS: Millis = 1_000;
const SCENARIOS: [&str; 8] = [
    "durable",
    "relaxed",
    "native",
    "gated",
    "gate",
    "listed",
    "postgres",
    "postgres-two-nodes",
];
/// Numbers on the suppression list of the `gated` scenario.
const LISTED: u32 = 1_000_000;
/// Numbers per write of the list's import, as the API writes an upload.
const LIST_CHUNK: u32 = 10_000;
const MIB: f64 = 1024.0 * 1024.0;
/// Contacts per store write of the import.
const IMPORT_CHUNK: u32 = 10_000;

const CAMPAIGN: &str = r#"
[[workspaces]]
id = "bench"

[[campaigns]]
id = "throughput"
workspace = "bench"
concurrency = 10000
calls_per_second = 1000
max_attempts = 3

[campaigns.provider]
plugin = "simulated"

[campaigns.retry]
plugin = "retry-backoff"
config = { base_delay = "1s", multiplier = 1, max_delay = "2s", jitter = 0 }

[campaigns.classifier]
plugin = "classify-rules"
config = { callback_delay = "2s" }

[campaigns.window]
default_time_zone = "America/New_York"
hours = [{ days = "mon-sun", start = "08:00", end = "21:00" }]
"#;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let contacts: u32 = support::flag(&args, "--contacts").map_or(100_000, |value| {
        value.parse().expect("--contacts takes a number")
    });
    match support::flag(&args, "--scenario") {
        Some(scenario) => run(&scenario, contacts),
        None => {
            for scenario in SCENARIOS {
                let status = Command::new(std::env::current_exe().expect("own path"))
                    .args(["--scenario", scenario, "--contacts", &contacts.to_string()])
                    .status()
                    .expect("the scenario process starts");
                assert!(status.success(), "scenario {scenario} failed");
            }
        }
    }
}

fn run(scenario: &str, contacts: u32) {
    assert!(SCENARIOS.contains(&scenario), "unknown scenario {scenario}");
    if scenario == "postgres-two-nodes" {
        run_two_nodes(contacts);
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut config = StoreConfig::new(dir.path().join("store"));
    if scenario == "relaxed" {
        config.durability = Durability::Relaxed;
    }
    let mut database = None;
    let store: Arc<dyn Store> = if scenario == "postgres" {
        let fresh = match outdial_tests::postgres::fresh_database() {
            Ok(fresh) => fresh,
            Err(reason) => {
                eprintln!("SKIPPED: scenario postgres: {reason}");
                return;
            }
        };
        let store =
            PostgresStore::open(&PostgresConfig::new(fresh.url())).expect("the store opens");
        database = Some(fresh);
        Arc::new(store)
    } else {
        Arc::new(SledStore::open(&config).expect("the store opens"))
    };
    let mut spec = campaign();
    let mut list_seconds = 0.0;
    if matches!(scenario, "gated" | "gate") {
        spec.gate_plugin = Some("gate-hours".to_string());
        // Always within hours, so the run measures the gate's cost, not
        // the calendar.
        spec.gate_config = vec![("hours".to_string(), "US=00:00-24:00".to_string())];
    }
    if matches!(scenario, "gated" | "listed") {
        let listing = Instant::now();
        for first in (0..LISTED).step_by(LIST_CHUNK as usize) {
            let entries = (first..first + LIST_CHUNK)
                .map(|n| NewSuppression {
                    // Other numbers than the batch's: +1 646 ...
                    phone: format!("+1646{:07}", n),
                    expires_at: None,
                    reason: None,
                })
                .collect();
            store
                .add_suppressions(&spec.workspace, "dnc-internal", entries, "bench", START)
                .expect("the list is written");
        }
        // On disk before the dialing, as a list imported earlier would be.
        store.sync().expect("the store syncs");
        list_seconds = listing.elapsed().as_secs_f64();
    }
    let policy = if scenario == "native" {
        CampaignPolicy::builtin(spec.clone())
    } else {
        wasm_policy(&spec)
    };
    let provider = instant_provider();

    let importing = Instant::now();
    let batch_id = import_batch(store.as_ref(), &spec, 0, contacts);
    let import_seconds = importing.elapsed().as_secs_f64();

    let mut engine = Engine::new(
        store.clone(),
        provider.clone(),
        vec![policy],
        engine_options(),
        START,
    )
    .expect("the engine starts");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");

    let rss_before = support::memory_mib("VmRSS");
    // The peak while dialing is measured from here.
    assert!(support::reset_peak_memory(), "the peak RSS can be reset");
    let mut rss_at_tenth = 0.0;
    let mut now = START;
    let mut ticks = 0u64;
    let started = Instant::now();
    let cpu_at_start = support::cpu_times();
    let database_cpu_at_start = support::postgres_cpu_seconds();
    let io_at_start = support::io_bytes();
    loop {
        let report = runtime
            .block_on(engine.tick(now))
            .expect("the tick succeeds");
        ticks += 1;
        now += TICK_MS;
        // Nothing to do until the next retry comes due: skip to it, as the
        // runner would sleep until then.
        if report.dialed == 0 && report.events == 0 && engine.live_calls() == 0 {
            let next = store.next_eligible_at(&batch_id).expect("due index");
            now = now.max(next.unwrap_or(now));
        }
        if ticks.is_multiple_of(16) {
            // As the server's webhook deliverer does without endpoints:
            // the journal keeps its newest events for live streams.
            let head = store.journal_head().expect("journal head");
            let through = head.saturating_sub(WebhookSettings::default().keep_journal);
            if through > 0 {
                store.prune_journal(through).expect("the journal is pruned");
            }
            let counters = store.batch_counters(&batch_id).expect("counters");
            if rss_at_tenth == 0.0 && counters.finished() * 10 >= counters.total {
                rss_at_tenth = support::memory_mib("VmRSS");
            }
            let batch = store.batch(&batch_id).expect("batch").expect("exists");
            if batch.status == BatchStatus::Completed {
                break;
            }
        }
        assert!(ticks < 1_000_000, "the batch never completed");
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = support::cpu_times().since(cpu_at_start);
    let database_cpu = if database.is_some() {
        support::postgres_cpu_seconds() - database_cpu_at_start
    } else {
        0.0
    };
    let (read, written) = support::io_bytes();
    // Before the recount below, which reads the whole store.
    let peak_dialing = support::memory_mib("VmHWM");
    store.sync().expect("the store syncs");

    let counters = store.batch_counters(&batch_id).expect("counters");
    let recount = store.recount(&batch_id).expect("recount");
    assert_eq!(counters, recount, "counters equal a recount");
    assert_eq!(
        provider.calls_placed(),
        counters.attempts,
        "one provider call per attempt"
    );
    println!(
        "{{\"bench\":\"pipeline\",\"scenario\":\"{scenario}\",\"contacts\":{contacts},\
         \"attempts\":{attempts},\"ticks\":{ticks},\"import_contacts_per_s\":{import:.0},\
         \"seconds\":{seconds:.2},\"cpu_engine_s\":{engine:.2},\"cpu_store_writer_s\":{writer:.2},\
         \"cpu_other_s\":{other:.2},\"cpu_database_s\":{database_cpu:.2},\
         \"cpu_us_per_attempt\":{per_attempt:.1},\"db_cpu_us_per_attempt\":{db_per_attempt:.1},\
         \"cores_busy\":{busy:.2},\
         \"read_mib\":{read_mib:.0},\"written_mib\":{written_mib:.0},\"attempts_per_s\":{rate:.0},\"rss_before_mib\":{before:.1},\
         \"rss_at_10pct_mib\":{tenth:.1},\"rss_end_mib\":{end:.1},\"peak_rss_dialing_mib\":{peak_dialing:.1},\
         \"peak_rss_mib\":{peak:.1},\"list_import_s\":{list_seconds:.1}}}",
        attempts = counters.attempts,
        import = f64::from(contacts) / import_seconds,
        rate = counters.attempts as f64 / seconds,
        engine = cpu.this_thread,
        writer = cpu.store_writer,
        other = cpu.process - cpu.this_thread - cpu.store_writer,
        per_attempt = cpu.process * 1e6 / counters.attempts as f64,
        db_per_attempt = database_cpu * 1e6 / counters.attempts as f64,
        busy = (cpu.process + database_cpu) / seconds,
        read_mib = (read - io_at_start.0) as f64 / MIB,
        written_mib = (written - io_at_start.1) as f64 / MIB,
        before = rss_before,
        tenth = rss_at_tenth,
        end = support::memory_mib("VmRSS"),
        peak = support::memory_mib("VmHWM"),
    );
}

/// The simulated provider, answering every call at once.
fn instant_provider() -> Arc<SimulatedProvider> {
    Arc::new(SimulatedProvider::new(SimulationConfig {
        seed: 7,
        instant: true,
        // As a provider forgets idempotency keys after a while. Otherwise
        // the simulator's record of every call it ever placed (about 40
        // bytes a call) grows with the batch: the provider's memory, which
        // a real provider keeps on its side, not outdial's.
        call_memory_ms: Some(60_000),
        ..SimulationConfig::default()
    }))
}

fn engine_options() -> EngineOptions {
    EngineOptions {
        scan_limit: 4_096,
        ..EngineOptions::default()
    }
}

/// Stores a batch of `spec`'s campaign with contacts `first..first +
/// count`, in chunks of 10,000 as the API stores an upload, so the
/// contacts are never all in memory; answers its id.
fn import_batch(store: &dyn Store, spec: &CampaignSpec, first: u32, count: u32) -> String {
    let end = first + count;
    let mut chunks = (first..end)
        .step_by(IMPORT_CHUNK as usize)
        .map(|from| ContactChunk::Contacts(support::contacts(from, IMPORT_CHUNK.min(end - from))));
    store
        .create_batch_in_chunks(
            NewBatch {
                workspace: spec.workspace.clone(),
                campaign_id: spec.id.clone(),
                created_at: START,
                created_by: "bench".to_string(),
                ..NewBatch::default()
            },
            &mut chunks,
        )
        .expect("the batch is stored")
        .expect("the batch is not abandoned")
        .batch
        .id
}

fn campaign() -> CampaignSpec {
    let config = Config::parse_str("bench.toml", CAMPAIGN).expect("the bench config parses");
    let mut spec = config
        .campaign_specs()
        .unwrap_or_else(|diagnostics| panic!("{diagnostics}"))
        .remove(0);
    // No limit but the pipeline itself: above what a config may declare.
    spec.concurrency = 1_000_000;
    spec.calls_per_second = 1e9;
    // Always open, so the run measures the pipeline, not the calendar.
    spec.calling_window = CallingWindow {
        rules: vec![WindowRule::Range {
            days: (0..7).collect(),
            start_minute: 0,
            end_minute: 24 * 60,
        }],
    };
    spec
}

fn wasm_policy(spec: &CampaignSpec) -> CampaignPolicy {
    let host = Arc::new(PluginHost::new().expect("the plugin host starts"));
    let loaded = ConfigPlugins::new(host, &Config::default())
        .load_campaign(spec)
        .expect("the campaign's plugins load");
    let policy = CampaignPolicy::new(spec.clone(), loaded.retry, loaded.classifier);
    match loaded.gate {
        Some(gate) => policy.with_gate(gate),
        None => policy,
    }
}

/// Two nodes on one database, a campaign each: the throughput of both
/// together and the database's share of the CPU.
fn run_two_nodes(contacts: u32) {
    let database = match outdial_tests::postgres::fresh_database() {
        Ok(fresh) => fresh,
        Err(reason) => {
            eprintln!("SKIPPED: scenario postgres-two-nodes: {reason}");
            return;
        }
    };
    // Both nodes are registered before either takes a lease, so each
    // takes its share of the two campaigns.
    let nodes: Vec<PostgresStore> = (0..2)
        .map(|_| PostgresStore::open(&PostgresConfig::new(database.url())).expect("a node opens"))
        .collect();
    let specs: Vec<CampaignSpec> = ["throughput-a", "throughput-b"]
        .iter()
        .map(|id| CampaignSpec {
            id: id.to_string(),
            ..campaign()
        })
        .collect();
    let half = contacts / 2;
    let batches: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(index, spec)| import_batch(&nodes[0], spec, half * index as u32, half))
        .collect();

    let started = Instant::now();
    let cpu_at_start = support::cpu_times();
    let database_cpu_at_start = support::postgres_cpu_seconds();
    std::thread::scope(|scope| {
        for node in &nodes {
            let specs = &specs;
            let batches = &batches;
            scope.spawn(move || {
                let store: Arc<dyn Store> = Arc::new(node.fenced());
                let policies = specs.iter().map(wasm_policy).collect();
                let mut engine = Engine::new(
                    store.clone(),
                    instant_provider(),
                    policies,
                    engine_options(),
                    START,
                )
                .expect("the engine starts");
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("a runtime");
                let mut now = START;
                let mut ticks = 0u64;
                loop {
                    let report = runtime
                        .block_on(engine.tick(now))
                        .expect("the tick succeeds");
                    ticks += 1;
                    now += TICK_MS;
                    if report.dialed == 0 && report.events == 0 && engine.live_calls() == 0 {
                        let next = batches
                            .iter()
                            .filter_map(|id| store.next_eligible_at(id).expect("due index"))
                            .min();
                        now = now.max(next.unwrap_or(now));
                    }
                    if ticks.is_multiple_of(16) {
                        let done = batches.iter().all(|id| {
                            store.batch(id).expect("batch").expect("exists").status
                                == BatchStatus::Completed
                        });
                        if done {
                            break;
                        }
                    }
                    assert!(ticks < 1_000_000, "the batches never completed");
                }
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let cpu = support::cpu_times().since(cpu_at_start);
    let database_cpu = support::postgres_cpu_seconds() - database_cpu_at_start;
    let mut attempts = 0;
    for batch in &batches {
        let counters = nodes[0].batch_counters(batch).expect("counters");
        assert_eq!(counters, nodes[0].recount(batch).expect("recount"));
        attempts += counters.attempts;
    }
    println!(
        "{{\"bench\":\"pipeline\",\"scenario\":\"postgres-two-nodes\",\"contacts\":{contacts},\
         \"attempts\":{attempts},\"seconds\":{seconds:.2},\"cpu_process_s\":{process:.2},\
         \"cpu_database_s\":{database_cpu:.2},\"database_cpu_share\":{share:.2},\
         \"cpu_us_per_attempt\":{per_attempt:.1},\"db_cpu_us_per_attempt\":{db_per_attempt:.1},\
         \"attempts_per_s\":{rate:.0}}}",
        process = cpu.process,
        share = database_cpu / (cpu.process + database_cpu),
        per_attempt = cpu.process * 1e6 / attempts as f64,
        db_per_attempt = database_cpu * 1e6 / attempts as f64,
        rate = attempts as f64 / seconds,
    );
}
