//! Rate accuracy: a campaign limited to 50 calls per second, dialed by the
//! dispatcher in real time through the simulated provider, measured over
//! 60 s of wall-clock time after a warm-up that lets the token bucket's
//! initial burst pass.
//!
//! Run: `cargo bench -p outdial-tests --bench rate -- [--quick]
//! [--seconds N] [--rate R]`. `--quick` measures 10 s. Prints one JSON
//! line, figures last.

#[path = "support/mod.rs"]
mod support;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use outdial::clock::{Clock, ScaledClock};
use outdial::dispatch::runner::Runner;
use outdial::dispatch::{CampaignPolicy, Engine, EngineOptions};
use outdial::provider::simulated::{SimulatedProvider, SimulationConfig};
use outdial::store::{NewBatch, SledStore, Store, StoreConfig};
use support::{START, campaign, contacts, flag, memory_mib, number_flag};

/// How often the dispatcher ticks, as the server runs it.
const TICK_INTERVAL: Duration = Duration::from_millis(10);
const WARM_UP: Duration = Duration::from_secs(3);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|arg| arg == "--quick");
    let seconds = number_flag(&args, "--seconds", if quick { 10 } else { 60 });
    let rate: f64 =
        flag(&args, "--rate").map_or(50.0, |value| value.parse().expect("--rate takes a number"));

    let dir = tempfile::tempdir().expect("a temporary directory");
    let store: Arc<dyn Store> = Arc::new(
        SledStore::open(&StoreConfig::new(dir.path().join("store"))).expect("the store opens"),
    );
    let mut spec = campaign();
    spec.calls_per_second = rate;
    // Only the rate limits: calls of 30 to 120 s pile up to thousands live.
    spec.concurrency = 1_000_000;
    // Enough contacts that the batch outlasts the measurement.
    let needed = (rate * (seconds as f64 + WARM_UP.as_secs_f64() + 10.0)).ceil() as u32;
    store
        .create_batch(NewBatch {
            workspace: spec.workspace.clone(),
            campaign_id: spec.id.clone(),
            created_at: START,
            created_by: "bench".to_string(),
            contacts: contacts(0, needed),
            ..NewBatch::default()
        })
        .expect("the batch is stored");
    let provider = Arc::new(SimulatedProvider::new(SimulationConfig {
        seed: 5,
        ..SimulationConfig::default()
    }));
    let clock: Arc<dyn Clock> = Arc::new(ScaledClock::new(START, 1.0));
    let engine = Engine::new(
        store.clone(),
        provider.clone(),
        vec![CampaignPolicy::builtin(spec)],
        EngineOptions::default(),
        clock.now(),
    )
    .expect("the engine starts");
    let runner = Runner::spawn(engine, clock, TICK_INTERVAL).expect("the dispatcher starts");

    std::thread::sleep(WARM_UP);
    let first = provider.calls_placed();
    let started = Instant::now();
    // Calls placed in each whole second, to show how even the rate is.
    let mut per_second = Vec::with_capacity(seconds as usize);
    let mut last = first;
    for second in 1..=seconds {
        let due = started + Duration::from_secs(second);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let placed = provider.calls_placed();
        per_second.push(placed - last);
        last = placed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let dialed = last - first;
    runner.stop();
    assert!(
        provider.calls_placed() < u64::from(needed),
        "the batch ran out of contacts during the measurement"
    );

    let measured = dialed as f64 / elapsed;
    let error_percent = (measured - rate).abs() / rate * 100.0;
    println!(
        "{{\"bench\":\"rate\",\"limit_per_s\":{rate},\"seconds\":{elapsed:.3},\"dialed\":{dialed},\
         \"live_at_end\":{live},\"rss_mib\":{rss:.1},\"per_second_min\":{min},\"per_second_max\":{max},\
         \"measured_per_s\":{measured:.3},\"error_percent\":{error_percent:.3}}}",
        live = provider.live_calls(),
        rss = memory_mib("VmRSS"),
        min = per_second.iter().min().copied().unwrap_or(0),
        max = per_second.iter().max().copied().unwrap_or(0),
    );
}
