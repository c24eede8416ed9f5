//! 100,000 concurrent in-flight calls: long simulated calls (two hours of
//! talk) are dialed until the engine holds `--calls` of them live, then the
//! dispatcher keeps ticking while they stay up. Reports memory and the
//! latency of a dispatcher tick while ramping up and while holding.
//!
//! Run: `cargo bench -p outdial-tests --bench in_flight -- [--calls N]
//! [--hold-ticks N]`. Prints one JSON line, figures last.

#[path = "support/mod.rs"]
mod support;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::Instant;

use outdial::dispatch::{CampaignPolicy, Engine, EngineOptions};
use outdial::model::Millis;
use outdial::provider::simulated::{OutcomeMix, SimulatedProvider, SimulationConfig, Span};
use outdial::store::{NewBatch, SledStore, Store, StoreConfig};
use support::{START, campaign, contacts, memory_mib, number_flag, percentile};

/// Virtual time per tick.
const TICK_MS: Millis = 1_000;
const HOUR_MS: Millis = 3_600_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let calls = number_flag(&args, "--calls", 100_000) as u32;
    let hold_ticks = number_flag(&args, "--hold-ticks", 300);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let store: Arc<dyn Store> = Arc::new(
        SledStore::open(&StoreConfig::new(dir.path().join("store"))).expect("the store opens"),
    );
    let mut spec = campaign();
    spec.concurrency = calls.saturating_mul(2);
    spec.calls_per_second = 1e9;
    spec.call_timeout_ms = 6 * HOUR_MS;
    // Every call is answered and talks for two hours: none ends during the run.
    let provider = Arc::new(SimulatedProvider::new(SimulationConfig {
        seed: 3,
        outcomes: OutcomeMix::EVERY_CALL_ANSWERED,
        ring_seconds: Span::new(3, 20),
        talk_seconds: Span::new(7_200, 7_200),
        ..SimulationConfig::default()
    }));

    let rss_start = memory_mib("VmRSS");
    let storing = Instant::now();
    store
        .create_batch(NewBatch {
            workspace: spec.workspace.clone(),
            campaign_id: spec.id.clone(),
            created_at: START,
            created_by: "bench".to_string(),
            contacts: contacts(0, calls),
            ..NewBatch::default()
        })
        .expect("the batch is stored");
    let store_seconds = storing.elapsed().as_secs_f64();

    let mut engine = Engine::new(
        store.clone(),
        provider.clone(),
        vec![CampaignPolicy::builtin(spec)],
        EngineOptions {
            scan_limit: 4_096,
            ..EngineOptions::default()
        },
        START,
    )
    .expect("the engine starts");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");

    let mut now = START;
    let mut ramp_ms = Vec::new();
    let ramping = Instant::now();
    while engine.live_calls() < calls as usize {
        let started = Instant::now();
        runtime
            .block_on(engine.tick(now))
            .expect("the tick succeeds");
        ramp_ms.push(started.elapsed().as_secs_f64() * 1e3);
        now += TICK_MS;
        assert!(
            ramp_ms.len() < 100_000,
            "the engine never held {calls} calls"
        );
    }
    let ramp_seconds = ramping.elapsed().as_secs_f64();
    let rss_live = memory_mib("VmRSS");

    let mut hold_ms = Vec::new();
    let mut events = 0;
    for _ in 0..hold_ticks {
        let started = Instant::now();
        let report = runtime
            .block_on(engine.tick(now))
            .expect("the tick succeeds");
        hold_ms.push(started.elapsed().as_secs_f64() * 1e3);
        events += report.events;
        assert_eq!(report.ended, 0, "a two-hour call ended early");
        now += TICK_MS;
    }
    assert_eq!(
        engine.live_calls(),
        calls as usize,
        "every call is still live"
    );
    assert_eq!(
        provider.live_calls(),
        u64::from(calls),
        "the provider holds them too"
    );

    println!(
        "{{\"bench\":\"in_flight\",\"calls\":{calls},\"hold_ticks\":{hold_ticks},\
         \"store_seconds\":{store_seconds:.2},\"ramp_ticks\":{ramp_ticks},\"ramp_seconds\":{ramp_seconds:.2},\
         \"hold_events\":{events},\"rss_start_mib\":{rss_start:.1},\"rss_live_mib\":{rss_live:.1},\
         \"rss_end_mib\":{rss_end:.1},\"peak_rss_mib\":{peak:.1},\
         \"ramp_tick_p50_ms\":{ramp50:.2},\"ramp_tick_p99_ms\":{ramp99:.2},\
         \"hold_tick_p50_ms\":{hold50:.3},\"hold_tick_p99_ms\":{hold99:.3},\"hold_tick_max_ms\":{holdmax:.3}}}",
        ramp_ticks = ramp_ms.len(),
        rss_end = memory_mib("VmRSS"),
        peak = memory_mib("VmHWM"),
        ramp50 = percentile(&mut ramp_ms, 50.0),
        ramp99 = percentile(&mut ramp_ms, 99.0),
        hold50 = percentile(&mut hold_ms, 50.0),
        hold99 = percentile(&mut hold_ms, 99.0),
        holdmax = percentile(&mut hold_ms, 100.0),
    );
}
