//! Restart: time from start to dialing again with N contacts stored.
//!
//! The parent process fills a store with `--contacts` contacts in batches
//! of 100,000, dials until `--live` calls are in flight, and closes the
//! store as a stopped server would. A fresh child process then opens the
//! store, builds the engine, recovers the interrupted attempts and ticks
//! until its first dial; the time of each step is reported.
//!
//! Run: `cargo bench -p outdial-tests --bench restart -- [--contacts N]
//! [--live N]`. Prints one JSON line, figures last.

#[path = "support/mod.rs"]
mod support;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use outdial::dispatch::{CampaignPolicy, Engine, EngineOptions};
use outdial::model::{CampaignSpec, Millis};
use outdial::provider::simulated::{SimulatedProvider, SimulationConfig, Span};
use outdial::store::{NewBatch, SledStore, Store, StoreConfig};
use support::{START, campaign, contacts, flag, memory_mib, number_flag};

const BATCH_SIZE: u64 = 100_000;
const TICK_MS: Millis = 1_000;
/// The restart happens ten minutes after the fill, in virtual time.
const RESTART_AT: Millis = START + 10 * 60_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let live = number_flag(&args, "--live", 100);
    if let Some(dir) = flag(&args, "--restart-from") {
        restart(Path::new(&dir), live);
        return;
    }
    let count = number_flag(&args, "--contacts", 1_000_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("store");
    let fill_seconds = fill(&path, count, live);
    let disk_mib = disk_bytes(&path) as f64 / (1024.0 * 1024.0);
    eprintln!("stored {count} contacts in {fill_seconds:.1} s ({disk_mib:.0} MiB on disk)");
    let output = Command::new(std::env::current_exe().expect("own path"))
        .args(["--restart-from", &path.display().to_string()])
        .args(["--live", &live.to_string()])
        .output()
        .expect("the restart process runs");
    assert!(
        output.status.success(),
        "the restart failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let figures = String::from_utf8(output.stdout).expect("UTF-8 figures");
    let figures = figures.trim().trim_start_matches('{');
    println!(
        "{{\"bench\":\"restart\",\"contacts\":{count},\"fill_seconds\":{fill_seconds:.1},\
         \"store_mib\":{disk_mib:.0},{figures}"
    );
}

fn spec(live: u64) -> CampaignSpec {
    let mut spec = campaign();
    spec.concurrency = live as u32;
    spec.calls_per_second = 1e9;
    spec
}

/// Long calls, so the ones in flight at the stop are still up.
fn provider() -> Arc<SimulatedProvider> {
    Arc::new(SimulatedProvider::new(SimulationConfig {
        seed: 9,
        ring_seconds: Span::new(3, 5),
        talk_seconds: Span::new(3_600, 3_600),
        ..SimulationConfig::default()
    }))
}

fn engine(store: Arc<dyn Store>, live: u64, now: Millis) -> Engine {
    Engine::new(
        store,
        provider(),
        vec![CampaignPolicy::builtin(spec(live))],
        EngineOptions::default(),
        now,
    )
    .expect("the engine starts")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

/// Store `count` contacts and leave `live` calls in flight; answers seconds.
fn fill(path: &Path, count: u64, live: u64) -> f64 {
    let started = Instant::now();
    let store: Arc<dyn Store> =
        Arc::new(SledStore::open(&StoreConfig::new(path)).expect("the store opens"));
    let spec = spec(live);
    let mut first = 0;
    while first < count {
        let size = BATCH_SIZE.min(count - first);
        store
            .create_batch(NewBatch {
                workspace: spec.workspace.clone(),
                campaign_id: spec.id.clone(),
                created_at: START,
                created_by: "bench".to_string(),
                contacts: contacts(first as u32, size as u32),
                ..NewBatch::default()
            })
            .expect("the batch is stored");
        first += size;
    }
    let mut engine = engine(store.clone(), live, START);
    let runtime = runtime();
    let mut now = START;
    while (engine.live_calls() as u64) < live.min(count) {
        runtime
            .block_on(engine.tick(now))
            .expect("the tick succeeds");
        now += TICK_MS;
        assert!(
            now < START + 3_600_000,
            "the engine never dialed {live} calls"
        );
    }
    drop(engine);
    store.sync().expect("the store syncs");
    drop(store);
    started.elapsed().as_secs_f64()
}

/// In the child: open, recover, tick until the first dial; prints the
/// figures as JSON fields.
fn restart(path: &Path, live: u64) {
    let started = Instant::now();
    let store: Arc<dyn Store> =
        Arc::new(SledStore::open(&StoreConfig::new(path)).expect("the store reopens"));
    let opened = started.elapsed();
    let mut engine = engine(store.clone(), live, RESTART_AT);
    let runtime = runtime();
    let recovered = runtime
        .block_on(engine.recover(RESTART_AT))
        .expect("recovery succeeds");
    let after_recover = started.elapsed();
    let mut now = RESTART_AT;
    let mut ticks = 0;
    loop {
        let report = runtime
            .block_on(engine.tick(now))
            .expect("the tick succeeds");
        ticks += 1;
        if report.dialed > 0 {
            break;
        }
        now += TICK_MS;
        assert!(ticks < 1_000, "no dial after a restart");
    }
    let first_dial = started.elapsed();
    println!(
        "\"recovered_attempts\":{recovered},\"ticks_to_dial\":{ticks},\"rss_mib\":{rss:.1},\
         \"open_ms\":{open:.1},\"recover_ms\":{recover:.1},\"first_dial_ms\":{dial:.1}}}",
        rss = memory_mib("VmHWM"),
        open = opened.as_secs_f64() * 1e3,
        recover = (after_recover - opened).as_secs_f64() * 1e3,
        dial = first_dial.as_secs_f64() * 1e3,
    );
}

fn disk_bytes(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| {
                    let path = entry.path();
                    if path.is_dir() {
                        disk_bytes(&path)
                    } else {
                        entry.metadata().map_or(0, |meta| meta.len())
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}
