//! The crash suite: a real `outdial run` dialing through the built-in
//! Twilio adapter against the provider simulator on loopback, killed with
//! SIGKILL at random moments (mid-create, mid-pause, mid-dial, mid-webhook,
//! during start-up) while an operator creates, pauses and resumes batches
//! through the HTTP API, and started again on the same data directory.
//!
//! After every restart the suite checks through the API that every batch
//! the API acknowledged is there with all its contacts, that a create the
//! kill interrupted is wholly there or wholly absent (half of them are sent
//! again under their Idempotency-Key and must yield one batch), that an
//! acknowledged pause held, and that the simulator never took a second
//! call for an attempt id. Every ten kills it reads the store exactly as
//! the kill left it: counters against a recount, the live index against
//! the contacts. At the end a last run dials everything to completion; the
//! store, read after that server stopped, is checked contact by contact:
//! every contact final, no attempt live, every call placed under a durable
//! attempt and before that attempt ended, none while its batch was paused,
//! and counters equal to a recount.
//!
//! The campaign asks the `gate-hours` dial gate before every dial, and one
//! number in 25 is on the workspace's `dnc-internal` list from the start:
//! the simulator must never hear of a listed number, and every contact
//! with one ends skipped as `suppressed:dnc-internal`.
//!
//! The simulator runs in this process, so its call log outlives every
//! server. Providers call back at `[server] public_url`, which is a
//! forwarder held by this process for the whole run, as a load balancer in
//! front of outdial would be: it hands each callback to wherever the
//! current server listens and holds callbacks while none does.
//!
//! `OUTDIAL_CRASH_CYCLES` sets the number of kill/restart cycles (default
//! 200); `OUTDIAL_CRASH_SEED` replays the kill schedule of a printed seed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use outdial::clock::{Clock, SystemClock};
use outdial::model::{BatchStatus, Millis};
use outdial::provider::SimulationConfig;
use outdial::provider::simulated::{OutcomeMix, Span};
use outdial::store::{
    AttemptKey, BatchQuery, ContactQuery, Counters, SledStore, Store, StoreConfig,
};
use outdial_tests::provider_sim::{Api, Faults, ProviderSim, SimSetup, serve_on_loopback};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

// Only the command is shared: the suite reads the server's lines itself,
// as a kill may come before the server says where it listens.
#[allow(dead_code)]
#[path = "support/run_server.rs"]
mod run_server;
use run_server::run_command;

const CYCLES_VAR: &str = "OUTDIAL_CRASH_CYCLES";
const SEED_VAR: &str = "OUTDIAL_CRASH_SEED";
const DEFAULT_CYCLES: usize = 200;

const WORKSPACE: &str = "ops";
const CAMPAIGN: &str = "renewals";
const API_KEY: &str = "crash-suite-operator-key";
const ACCOUNT: &str = "AC0c0ffee0000000000000000000crash";
const TOKEN_VAR: &str = "CRASH_SUITE_TWILIO_TOKEN";
const TOKEN: &str = "crash-suite-token-Vb71Qx";

/// Longest wait for a server to announce its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest the forwarder holds a callback while no server listens; below
/// the simulator's own 10 s request timeout.
const CALLBACK_HOLD: Duration = Duration::from_secs(8);
/// Longest wait for the last run to finish every batch.
const FINISH_TIMEOUT: Duration = Duration::from_secs(150);
/// Contacts of the batches are listed one by one every this many checks
/// (their totals are compared at every check).
const FULL_CHECK_EVERY: usize = 10;
/// The store a kill left behind is read and checked every this many kills.
const STORE_CHECK_EVERY: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_server_killed_at_random_moments_keeps_every_acknowledged_batch_dials_each_attempt_once_and_ends_with_exact_counters()
 {
    let cycles = cycles_from_env();
    let seed = seed_from_env();
    println!("crash suite: {cycles} cycles, seed {seed} (replay with {SEED_VAR}={seed})");
    let began = Instant::now();
    // Kept when the test fails, so the store and the servers' log can be
    // read; removed at the end of a passing run.
    let dir = tempfile::Builder::new()
        .prefix("outdial-crash-suite-")
        .tempdir()
        .expect("a temporary directory")
        .keep();
    let mut suite = Suite::start(&dir, seed).await;

    for cycle in 0..cycles {
        let moment = suite.cycle(cycle).await;
        suite.forwarder.set_target(None);
        suite.tally.record_kill(moment);
        if cycle % STORE_CHECK_EVERY == STORE_CHECK_EVERY - 1 {
            // The store exactly as the kill left it, before a server
            // recovers anything.
            let store = suite.open_store();
            suite
                .ledger
                .check_store(&store, false)
                .unwrap_or_else(|why| suite.fail(&format!("after kill {cycle}: {why}")));
            suite.tally.store_checks += 1;
        }
    }

    // The last run: every paused batch resumed, everything dialed to the
    // end, then a clean stop.
    let server = suite.start_server().await;
    suite
        .ledger
        .check_after_restart(&suite.operator, &suite.sim, true)
        .await
        .unwrap_or_else(|why| suite.fail(&format!("after the last restart: {why}")));
    suite.ledger.resume_all(&suite.operator).await;
    let finishing = Instant::now();
    suite
        .ledger
        .wait_until_all_final(&suite.operator, FINISH_TIMEOUT)
        .await
        .unwrap_or_else(|why| suite.fail(&why));
    let finish_time = finishing.elapsed();
    server.stop();
    suite.forwarder.set_target(None);

    let store = suite.open_store();
    let (attempts, placed_but_interrupted) = suite
        .ledger
        .check_store(&store, true)
        .and_then(|attempts| {
            let interrupted = suite.ledger.check_calls(&store, &suite.sim)?;
            Ok((attempts, interrupted))
        })
        .unwrap_or_else(|why| suite.fail(&format!("at the end: {why}")));

    let Suite {
        sim,
        ledger,
        tally,
        mut startup,
        create_latency,
        ..
    } = suite;
    let log = sim.log();
    startup.sort();
    let median_startup = startup.get(startup.len() / 2).copied().unwrap_or_default();
    let summary = json!({
        "cycles": cycles,
        "seed": seed,
        "seconds": began.elapsed().as_secs_f64(),
        "final_run_seconds": finish_time.as_secs_f64(),
        "median_startup_ms": median_startup.as_millis() as u64,
        "median_create_ms": create_latency.median().as_millis() as u64,
        "kills": tally.kills,
        "kills_during_startup": tally.during_startup,
        "kills_mid_create": tally.mid_create,
        "kills_mid_pause_or_resume": tally.mid_control,
        "kills_mid_dial": tally.mid_dial,
        "kills_with_calls_live": tally.with_calls_live,
        "kills_mid_webhook": tally.mid_webhook,
        "checks_after_restart": tally.checks,
        "store_checks_after_kill": tally.store_checks,
        "creates_acknowledged": ledger.acknowledged(),
        "creates_interrupted": tally.creates_interrupted,
        "interrupted_creates_found_whole": ledger.found_whole,
        "interrupted_creates_absent": ledger.absent.len(),
        "interrupted_creates_sent_again": ledger.retried_creates,
        "pauses_acknowledged": ledger.pauses,
        "resumes_acknowledged": ledger.resumes,
        "contacts": ledger.contacts(),
        "attempts": attempts,
        "calls_placed": log.placements.len(),
        "calls_placed_then_ended_interrupted": placed_but_interrupted,
        "callbacks_undelivered": log.undelivered,
    });
    println!("{summary}");
    std::fs::remove_dir_all(&dir).expect("the suite's directory is removed");
    assert_eq!(tally.kills as usize, cycles, "every cycle ends in a kill");
    assert!(
        log.placements.len() > cycles,
        "calls were placed through the adapter: {summary}"
    );
}

/// Everything that outlives the servers: the simulator, the forwarder, the
/// operator and what the operator was told.
struct Suite {
    sim: ProviderSim,
    forwarder: Forwarder,
    servers: ServerCommand,
    operator: Operator,
    ledger: Ledger,
    tally: Tally,
    random: Rng,
    create_latency: LatencyEstimate,
    control_latency: LatencyEstimate,
    /// Time from spawning each server to its address.
    startup: Vec<Duration>,
}

impl Suite {
    async fn start(dir: &Path, seed: u64) -> Suite {
        let sim = ProviderSim::start(simulator_setup(seed), Arc::new(SystemClock)).await;
        let forwarder = Forwarder::start().await;
        let config = dir.join("outdial.toml");
        std::fs::write(&config, config_text(&forwarder.url(), &sim)).expect("config written");
        list_numbers(&dir.join("data"));
        Suite {
            sim,
            forwarder,
            servers: ServerCommand {
                config,
                data_dir: dir.join("data"),
                log: dir.join("server.log"),
            },
            operator: Operator::new(),
            ledger: Ledger::default(),
            tally: Tally::default(),
            random: Rng::new(seed),
            create_latency: LatencyEstimate::new(Duration::from_millis(25)),
            control_latency: LatencyEstimate::new(Duration::from_millis(15)),
            startup: Vec::new(),
        }
    }

    /// Prints the end of the servers' log and fails the test with `why`.
    fn fail(&self, why: &str) -> ! {
        let log = std::fs::read_to_string(&self.servers.log).unwrap_or_default();
        let mut tail: Vec<&str> = log.lines().rev().take(40).collect();
        tail.reverse();
        panic!(
            "{why}\n(the data directory and the servers' log are kept in {})\n--- the end of the servers' log ---\n{}",
            self.servers
                .log
                .parent()
                .map_or_else(String::new, |dir| dir.display().to_string()),
            tail.join("\n")
        );
    }

    fn open_store(&self) -> SledStore {
        SledStore::open(&StoreConfig::new(self.servers.data_dir.join("store")))
            .unwrap_or_else(|err| self.fail(&format!("the store does not open: {err}")))
    }

    /// A server that listens, with the forwarder and the operator on it.
    async fn start_server(&mut self) -> Server {
        let mut server = self.servers.spawn();
        let url = server
            .listening(START_TIMEOUT)
            .await
            .unwrap_or_else(|| self.fail("the server did not announce its address"));
        self.startup.push(server.started.elapsed());
        self.forwarder.set_target(Some(url.clone()));
        self.operator.use_server(&url);
        server
    }

    /// One server's life: started, checked, worked with, killed at the
    /// moment its plan aims at. Answers what the kill interrupted.
    async fn cycle(&mut self, cycle: usize) -> Moment {
        let plan = Plan::pick(&mut self.random);
        if plan == Plan::DuringStartup {
            // Start-up loads the plugins and reconciles calls left live,
            // before anything listens: kill somewhere in there.
            let mut server = self.servers.spawn();
            tokio::time::sleep(self.random.duration(0, 900)).await;
            let mut moment = self.observe();
            moment.during_startup = server.poll_listening().is_none();
            server.kill();
            return moment;
        }
        let server = self.start_server().await;
        self.ledger
            .check_after_restart(
                &self.operator,
                &self.sim,
                cycle.is_multiple_of(FULL_CHECK_EVERY),
            )
            .await
            .unwrap_or_else(|why| self.fail(&format!("cycle {cycle}: {why}")));
        self.tally.checks += 1;

        // The operator at work until the kill.
        let until = Instant::now() + self.random.duration(30, 700);
        while Instant::now() < until {
            self.operate().await;
            let pause = self
                .random
                .duration(10, 200)
                .min(until.saturating_duration_since(Instant::now()));
            tokio::time::sleep(pause).await;
        }

        match plan {
            Plan::MidCreate => self.kill_mid_create(server).await,
            Plan::MidControl => self.kill_mid_control(server).await,
            Plan::AnyMoment | Plan::DuringStartup => {
                let moment = self.observe();
                server.kill();
                moment
            }
        }
    }

    /// What is going on outside the server right now.
    fn observe(&self) -> Moment {
        Moment {
            dial_in_flight: self.sim.creates_in_flight() > 0,
            calls_live: self.sim.live_calls() > 0,
            webhook_in_flight: self.forwarder.in_flight() > 0,
            ..Moment::default()
        }
    }

    /// One operator step: now and then a create, a pause or a resume.
    async fn operate(&mut self) {
        if self.random.chance(0.1) {
            let create = self.ledger.next_create(&mut self.random);
            let answer = self.operator.clone().create(create.clone()).await;
            if let Ok(answer) = &answer {
                self.create_latency.add(answer.took);
            }
            self.ledger.settle_create(create, answer);
        } else if self.random.chance(0.1)
            && let Some((batch_id, pause)) = self.ledger.pick_control(&mut self.random)
        {
            let sent_at = SystemClock.now();
            let answer = self.operator.clone().control(batch_id.clone(), pause).await;
            if let Ok(answer) = &answer {
                self.control_latency.add(answer.took);
            }
            self.ledger
                .settle_control(&batch_id, pause, sent_at, answer.map(|view| view.body));
        }
    }

    async fn kill_mid_create(&mut self, server: Server) -> Moment {
        let create = self.ledger.next_create(&mut self.random);
        let task = tokio::spawn(self.operator.clone().create(create.clone()));
        tokio::time::sleep(self.random.up_to(self.create_latency.kill_window())).await;
        let mut moment = self.observe();
        moment.create_in_flight = !task.is_finished();
        server.kill();
        let answer = task.await.expect("the create task ends");
        self.tally.creates_interrupted += u64::from(answer.is_err());
        self.ledger.settle_create(create, answer);
        moment
    }

    async fn kill_mid_control(&mut self, server: Server) -> Moment {
        let Some((batch_id, pause)) = self.ledger.pick_control(&mut self.random) else {
            let moment = self.observe();
            server.kill();
            return moment;
        };
        let sent_at = SystemClock.now();
        let task = tokio::spawn(self.operator.clone().control(batch_id.clone(), pause));
        tokio::time::sleep(self.random.up_to(self.control_latency.kill_window())).await;
        let mut moment = self.observe();
        moment.control_in_flight = !task.is_finished();
        server.kill();
        let answer = task.await.expect("the control task ends");
        self.ledger
            .settle_control(&batch_id, pause, sent_at, answer.map(|view| view.body));
        moment
    }
}

/// Whether `why`, an error of [`Operator::send`], is the server's answer
/// with `status`: not merely text holding its digits, as a URL's port
/// may ("no answer: ... (http://127.0.0.1:40912/...)").
fn answered_with(why: &str, status: StatusCode) -> bool {
    why.contains(&format!(": {status}: "))
}

/// A ledger that promises one acknowledged batch, `btc_a`.
fn ledger_of_one_batch(
    paused: Option<bool>,
    pause_windows: Vec<(Millis, Option<Millis>)>,
) -> Ledger {
    let mut ledger = Ledger::default();
    ledger.batches.insert(
        "btc_a".to_string(),
        Promised {
            idempotency_key: "crash-suite-create-1".to_string(),
            contact_ids: BTreeSet::new(),
            acknowledged: true,
            paused,
            pause_windows,
            finished: false,
        },
    );
    ledger
}

#[test]
fn a_control_left_without_answer_leaves_the_batch_in_doubt_whatever_its_url_holds() {
    let mut ledger = ledger_of_one_batch(Some(true), vec![(1_000, None)]);
    // The server listened on port 40912 when it was killed.
    let unanswered = "POST /v1/batches/btc_a/resume: no answer: error sending request for url \
                      (http://127.0.0.1:40912/v1/batches/btc_a/resume)";
    ledger.settle_control("btc_a", false, 2_000, Err(unanswered.to_string()));
    let batch = &ledger.batches["btc_a"];
    assert_eq!(batch.paused, None, "the resume may have been applied");
    assert!(!batch.finished, "nothing said the batch had finished");
    assert_eq!(batch.pause_windows, vec![(1_000, Some(2_000))]);
}

#[test]
fn a_control_refused_as_a_conflict_marks_the_batch_finished() {
    let mut ledger = ledger_of_one_batch(Some(false), Vec::new());
    let conflict =
        r#"POST /v1/batches/btc_a/pause: 409 Conflict: {"error":"batch btc_a is completed"}"#;
    ledger.settle_control("btc_a", true, 2_000, Err(conflict.to_string()));
    let batch = &ledger.batches["btc_a"];
    assert!(batch.finished);
    assert_eq!(batch.paused, Some(false), "the pause was not applied");
}

/// How many cycles to run: `OUTDIAL_CRASH_CYCLES` or the default.
fn cycles_from_env() -> usize {
    match std::env::var(CYCLES_VAR) {
        Err(_) => DEFAULT_CYCLES,
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(cycles) if cycles > 0 => cycles,
            _ => panic!(
                "{CYCLES_VAR}=\"{text}\" is not a number of cycles, expected a whole number above 0"
            ),
        },
    }
}

/// The seed of the kill schedule: `OUTDIAL_CRASH_SEED`, or from the clock.
fn seed_from_env() -> u64 {
    match std::env::var(SEED_VAR) {
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |elapsed| elapsed.as_nanos() as u64),
        Ok(text) => text.trim().parse::<u64>().unwrap_or_else(|_| {
            panic!(
                "{SEED_VAR}=\"{text}\" is not a seed, expected a whole number as printed by a run"
            )
        }),
    }
}

/// Calls of a second or two, so kills find them ringing and talking, with
/// some of every fault the simulator can inject; server errors are rare
/// because a transient failure delays a contact by 5 s and more.
fn simulator_setup(seed: u64) -> SimSetup {
    SimSetup {
        api: Api::Twilio,
        account: ACCOUNT.to_string(),
        credential: TOKEN.to_string(),
        webhook_secret: String::new(),
        scripts: SimulationConfig {
            seed,
            outcomes: OutcomeMix {
                human: 45,
                voicemail: 15,
                call_screening: 5,
                busy: 15,
                no_answer: 15,
                failed: 5,
            },
            ring_seconds: Span::new(0, 1),
            no_answer_ring_seconds: Span::new(1, 2),
            talk_seconds: Span::new(0, 2),
            voicemail_seconds: Span::new(0, 1),
            screening_seconds: Span::new(0, 1),
            placement_latency_ms: Span::new(20, 300),
            ..SimulationConfig::default()
        },
        time_scale: 1.0,
        invalid_prefix: "+1999".to_string(),
        faults: Faults {
            throttle_rate: 0.02,
            retry_after_s: 1,
            server_error_rate: 0.01,
            slow_rate: 0.05,
            // A kill between a call's placement and its late answer
            // leaves a call whose id the store never got.
            late_answer_rate: 0.05,
            slow_answer: Duration::from_millis(200),
            lost_final_rate: 0.03,
            duplicate_rate: 0.05,
            reorder_rate: 0.05,
        },
    }
}

/// The operator's config: one campaign through the Twilio adapter at the
/// simulator, called back through the forwarder.
fn config_text(public_url: &str, sim: &ProviderSim) -> String {
    format!(
        r#"
[server]
public_url = "{public_url}"

[[workspaces]]
id = "{WORKSPACE}"
name = "Operations"
api_keys = [{{ id = "operator", sha256 = "{hash}" }}]

[[campaigns]]
id = "{CAMPAIGN}"
workspace = "{WORKSPACE}"
concurrency = 24
calls_per_second = 30
max_attempts = 3
# Longer than any scripted call, so only a lost callback reaches it.
call_timeout = "8s"
retry = {{ plugin = "retry-backoff", config = {{ base_delay = "1s", max_delay = "2s" }} }}
classifier = {{ plugin = "classify-rules", config = {{ callback_delay = "2s" }} }}
# Every hour is a calling hour: the suite runs whenever it runs.
gate = {{ plugin = "gate-hours", config = {{ hours = "US=00:00-24:00" }} }}

[campaigns.provider]
plugin = "provider-twilio"
allowed_hosts = ["{sim_host}"]
config = {{ account_sid = "{ACCOUNT}", auth_token = {{ env = "{TOKEN_VAR}" }}, api_base = "{sim_base}", twiml_url = "https://voice.example.com/twiml/renewals" }}

[campaigns.window]
default_time_zone = "UTC"
hours = [{{ days = "daily", start = "00:00", end = "24:00" }}]
"#,
        hash = outdial::api::hash_key(API_KEY),
        sim_host = sim.host(),
        sim_base = sim.base_url(),
    )
}

/// A seeded xorshift generator: the whole kill schedule follows the seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // SplitMix64 of the seed, so seeds 1, 2, 3 start far apart.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A whole number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    fn chance(&mut self, probability: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= probability
    }

    fn duration(&mut self, low_ms: u64, high_ms: u64) -> Duration {
        Duration::from_millis(self.between(low_ms, high_ms))
    }

    fn up_to(&mut self, limit: Duration) -> Duration {
        Duration::from_micros(self.between(0, limit.as_micros() as u64))
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        items.get((self.next() % items.len() as u64) as usize)
    }
}

/// Where in a cycle the kill is aimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Before the server listens: loading plugins, reconciling live calls.
    DuringStartup,
    /// While a batch create is being answered.
    MidCreate,
    /// While a pause or resume is being answered.
    MidControl,
    /// Whenever the operator's time is up: calls ringing, callbacks
    /// arriving, dial intents being written.
    AnyMoment,
}

impl Plan {
    fn pick(random: &mut Rng) -> Plan {
        match random.between(0, 99) {
            0..10 => Plan::DuringStartup,
            10..40 => Plan::MidCreate,
            40..50 => Plan::MidControl,
            _ => Plan::AnyMoment,
        }
    }
}

/// What was going on when a kill landed.
#[derive(Debug, Default, Clone, Copy)]
struct Moment {
    during_startup: bool,
    create_in_flight: bool,
    control_in_flight: bool,
    /// A create-call request at the simulator, not answered yet.
    dial_in_flight: bool,
    calls_live: bool,
    /// A callback forwarded to the server, not answered yet.
    webhook_in_flight: bool,
}

/// Kills by what they interrupted, and other figures of the run.
#[derive(Debug, Default)]
struct Tally {
    kills: u64,
    during_startup: u64,
    mid_create: u64,
    mid_control: u64,
    mid_dial: u64,
    with_calls_live: u64,
    mid_webhook: u64,
    checks: u64,
    store_checks: u64,
    creates_interrupted: u64,
}

impl Tally {
    fn record_kill(&mut self, moment: Moment) {
        self.kills += 1;
        self.during_startup += u64::from(moment.during_startup);
        self.mid_create += u64::from(moment.create_in_flight);
        self.mid_control += u64::from(moment.control_in_flight);
        self.mid_dial += u64::from(moment.dial_in_flight);
        self.with_calls_live += u64::from(moment.calls_live);
        self.mid_webhook += u64::from(moment.webhook_in_flight);
    }
}

/// A running estimate of how long a request takes, to aim kills inside it.
struct LatencyEstimate {
    recent: Vec<Duration>,
    initial: Duration,
}

impl LatencyEstimate {
    fn new(initial: Duration) -> LatencyEstimate {
        LatencyEstimate {
            recent: Vec::new(),
            initial,
        }
    }

    fn add(&mut self, took: Duration) {
        self.recent.push(took);
        if self.recent.len() > 32 {
            self.recent.remove(0);
        }
    }

    /// The median so far.
    fn median(&self) -> Duration {
        if self.recent.is_empty() {
            return self.initial;
        }
        let mut sorted = self.recent.clone();
        sorted.sort();
        sorted[sorted.len() / 2]
    }

    /// A span from the request's start a kill is aimed into: up to half
    /// again its median, so most kills land while it is being answered,
    /// some after the store committed it but before the answer arrived.
    fn kill_window(&self) -> Duration {
        self.median() * 3 / 2
    }
}

/// How to start `outdial run` on the suite's config and data directory.
struct ServerCommand {
    config: PathBuf,
    data_dir: PathBuf,
    log: PathBuf,
}

impl ServerCommand {
    fn spawn(&self) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the servers' log opens");
        let mut child = run_command(&self.config, &self.data_dir)
            .env(TOKEN_VAR, TOKEN)
            .stderr(Stdio::from(log))
            .spawn()
            .expect("outdial run starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (send, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            lines,
            started: Instant::now(),
            url: None,
        }
    }
}

/// One `outdial run` process.
struct Server {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    started: Instant,
    url: Option<String>,
}

impl Server {
    /// The address, once the server said where it listens.
    fn poll_listening(&mut self) -> Option<String> {
        while self.url.is_none() {
            let Ok(line) = self.lines.try_recv() else {
                break;
            };
            self.url = listening_address(&line);
        }
        self.url.clone()
    }

    /// Waits for the server's address; `None` if it exits or stays silent.
    async fn listening(&mut self, limit: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + limit;
        while self.url.is_none() {
            let line = tokio::time::timeout_at(deadline, self.lines.recv())
                .await
                .ok()??;
            self.url = listening_address(&line);
        }
        self.url.clone()
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL is delivered");
        self.child.wait().expect("the killed server is reaped");
    }

    /// SIGTERM, as a process manager stops it; it must exit cleanly.
    fn stop(mut self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM sent");
        let exit = self.child.wait().expect("the server exits");
        assert!(exit.success(), "a clean shutdown exits 0, got {exit}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn listening_address(line: &str) -> Option<String> {
    let rest = line.split("listening on ").nth(1)?;
    rest.split_whitespace().next().map(str::to_string)
}

/// The public URL providers call back: forwards each request to the server
/// of the moment, and holds it while no server listens.
struct Forwarder {
    addr: SocketAddr,
    shared: Arc<ForwarderState>,
    server: tokio::task::JoinHandle<()>,
}

struct ForwarderState {
    target: watch::Sender<Option<String>>,
    /// Callbacks sent on to a server and not answered yet.
    in_flight: AtomicU64,
    client: reqwest::Client,
}

impl Forwarder {
    async fn start() -> Forwarder {
        let shared = Arc::new(ForwarderState {
            target: watch::channel(None).0,
            in_flight: AtomicU64::new(0),
            client: outdial::net::http_client()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client"),
        });
        let router = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let (addr, server) = serve_on_loopback(router).await;
        Forwarder {
            addr,
            shared,
            server,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn set_target(&self, target: Option<String>) {
        self.shared.target.send_replace(target);
    }

    fn in_flight(&self) -> u64 {
        self.shared.in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn forward(
    State(shared): State<Arc<ForwarderState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut target = shared.target.subscribe();
    let waited = tokio::time::timeout(CALLBACK_HOLD, async {
        loop {
            if let Some(base) = target.borrow_and_update().clone() {
                return Some(base);
            }
            if target.changed().await.is_err() {
                return None;
            }
        }
    })
    .await;
    let Ok(Some(base)) = waited else {
        return (StatusCode::BAD_GATEWAY, "no server listens").into_response();
    };
    let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut request = shared
        .client
        .request(method, format!("{base}{path}"))
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    shared.in_flight.fetch_add(1, Ordering::SeqCst);
    let answer = request.send().await;
    let response = match answer {
        Ok(answer) => {
            let status = answer.status();
            let body = answer.bytes().await.unwrap_or_default();
            (status, body).into_response()
        }
        Err(_) => (StatusCode::BAD_GATEWAY, "the server went away").into_response(),
    };
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

/// The operator's HTTP client, pointed at the server of the moment.
#[derive(Clone)]
struct Operator {
    client: reqwest::Client,
    base: Arc<std::sync::Mutex<String>>,
}

/// A create the operator sends: its idempotency key and contacts.
#[derive(Debug, Clone)]
struct CreateRequest {
    /// Counts creates from 1; an interrupted create of an odd number is
    /// sent again after the restart.
    number: u64,
    key: String,
    contact_ids: Vec<String>,
    body: Value,
}

/// A 2xx answer of the API, and how long it took.
struct Answer {
    body: Value,
    took: Duration,
}

impl Operator {
    fn new() -> Operator {
        Operator {
            client: outdial::net::http_client()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("an HTTP client"),
            base: Arc::new(std::sync::Mutex::new(String::new())),
        }
    }

    fn use_server(&self, url: &str) {
        *self.base.lock().unwrap_or_else(|e| e.into_inner()) = url.to_string();
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.base.lock().unwrap_or_else(|e| e.into_inner())
        )
    }

    /// Sends a request; a 2xx answer's JSON, else what went wrong.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<Answer, String> {
        let started = Instant::now();
        let mut request = self
            .client
            .request(method.clone(), self.url(path))
            .bearer_auth(API_KEY);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request
            .send()
            .await
            .map_err(|err| format!("{method} {path}: no answer: {err}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|err| format!("{method} {path}: answer cut short: {err}"))?;
        if !status.is_success() {
            return Err(format!("{method} {path}: {status}: {text}"));
        }
        let body = serde_json::from_str(&text)
            .map_err(|err| format!("{method} {path}: not JSON ({err}): {text}"))?;
        Ok(Answer {
            body,
            took: started.elapsed(),
        })
    }

    async fn get(&self, path: &str) -> Result<Value, String> {
        Ok(self.send(Method::GET, path, None, None).await?.body)
    }

    /// A create as it is sent, new or again.
    async fn send_create(self, create: &CreateRequest) -> Result<Answer, String> {
        self.send(
            Method::POST,
            &format!("/v1/campaigns/{CAMPAIGN}/batches"),
            Some(&create.body),
            Some(&create.key),
        )
        .await
    }

    /// A create sent for the first time: it must make a new batch.
    async fn create(self, create: CreateRequest) -> Result<Answer, String> {
        let answer = self.send_create(&create).await?;
        if answer.body["created"] != json!(true) {
            return Err(format!("the create was not new: {}", answer.body));
        }
        Ok(answer)
    }

    /// Pause (or resume) a batch; the batch as the API answers it.
    async fn control(self, batch_id: String, pause: bool) -> Result<Answer, String> {
        let verb = if pause { "pause" } else { "resume" };
        self.send(
            Method::POST,
            &format!("/v1/batches/{batch_id}/{verb}"),
            Some(&json!({ "reason": "crash suite" })),
            None,
        )
        .await
    }

    /// Every batch of the campaign.
    async fn batches(&self) -> Result<Vec<Value>, String> {
        self.all_pages(
            &format!("/v1/batches?campaign={CAMPAIGN}&limit=100"),
            "batches",
        )
        .await
    }

    /// The contact ids of a batch, as its contact listing shows them.
    async fn contact_ids(&self, batch_id: &str) -> Result<Vec<String>, String> {
        let contacts = self
            .all_pages(
                &format!("/v1/batches/{batch_id}/contacts?limit=500"),
                "contacts",
            )
            .await?;
        Ok(contacts
            .iter()
            .map(|contact| {
                contact["contact_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect())
    }

    /// The items under `field` of every page of the listing at `path`,
    /// following its cursors.
    async fn all_pages(&self, path: &str, field: &str) -> Result<Vec<Value>, String> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = match &cursor {
                Some(cursor) => self.get(&format!("{path}&cursor={cursor}")).await?,
                None => self.get(path).await?,
            };
            all.extend(page[field].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return Ok(all),
            }
        }
    }
}

/// What the operator was told, and so what the store must hold.
#[derive(Debug, Default)]
struct Ledger {
    /// Batches that must exist, by id.
    batches: BTreeMap<String, Promised>,
    /// Creates a kill cut off; settled at the next check.
    unsettled: Vec<CreateRequest>,
    /// Idempotency keys of interrupted creates found absent: they must
    /// stay absent.
    absent: Vec<String>,
    found_whole: u64,
    /// Interrupted creates sent again under their Idempotency-Key.
    retried_creates: u64,
    pauses: u64,
    resumes: u64,
    next_create: u64,
}

#[derive(Debug)]
struct Promised {
    idempotency_key: String,
    contact_ids: BTreeSet<String>,
    /// The 201 reached the operator (else an interrupted create found
    /// whole after the restart).
    acknowledged: bool,
    /// The last operator control the API acknowledged, while no later one
    /// is in doubt: true after a pause, false after a resume.
    paused: Option<bool>,
    /// Spans the batch was surely paused: from when an acknowledged pause
    /// was answered to when the next resume was sent.
    pause_windows: Vec<(Millis, Option<Millis>)>,
    /// Last seen final (completed, cancelled, expired).
    finished: bool,
}

impl Ledger {
    fn next_create(&mut self, random: &mut Rng) -> CreateRequest {
        self.next_create += 1;
        let number = self.next_create;
        let size = random.between(2, 8);
        let contact_ids: Vec<String> = (0..size).map(|n| format!("k{number}-c{n}")).collect();
        let contacts: Vec<Value> = contact_ids
            .iter()
            .enumerate()
            .map(|(n, id)| {
                json!({
                    "id": id,
                    "phone": format!("+1415555{:04}", (number * 16 + n as u64) % NUMBERS),
                    "time_zone": "UTC",
                })
            })
            .collect();
        CreateRequest {
            number,
            key: format!("crash-suite-create-{number}"),
            contact_ids,
            body: json!({ "contacts": contacts }),
        }
    }

    fn settle_create(&mut self, create: CreateRequest, answer: Result<Answer, String>) {
        match answer {
            Ok(answer) => {
                let id = answer.body["batch"]["batch_id"]
                    .as_str()
                    .expect("a created batch has an id")
                    .to_string();
                self.batches.insert(
                    id,
                    Promised {
                        idempotency_key: create.key,
                        contact_ids: create.contact_ids.into_iter().collect(),
                        acknowledged: true,
                        paused: Some(false),
                        pause_windows: Vec::new(),
                        finished: false,
                    },
                );
            }
            // Refused by a live server: that is a failure of the suite's
            // request, not a crash.
            Err(why) if !why.contains("no answer") && !why.contains("cut short") => {
                panic!("a create was refused: {why}")
            }
            Err(_) => self.unsettled.push(create),
        }
    }

    /// A batch to pause (true) or resume (false), if any is open.
    fn pick_control(&self, random: &mut Rng) -> Option<(String, bool)> {
        let open: Vec<(&String, &Promised)> = self
            .batches
            .iter()
            .filter(|(_, batch)| !batch.finished)
            .collect();
        let (id, batch) = random.pick(&open)?;
        // A batch of unknown state is resumed: that is always legal.
        Some(((*id).clone(), batch.paused == Some(false)))
    }

    fn settle_control(
        &mut self,
        batch_id: &str,
        pause: bool,
        sent_at: Millis,
        answer: Result<Value, String>,
    ) {
        let batch = self
            .batches
            .get_mut(batch_id)
            .expect("controls go to known batches");
        if !pause && let Some(window) = batch.pause_windows.last_mut() {
            window.1.get_or_insert(sent_at);
        }
        match answer {
            Ok(view) => {
                let status = view["status"].as_str().unwrap_or_default();
                if pause {
                    self.pauses += 1;
                    assert_eq!(status, "paused", "an acknowledged pause: {view}");
                    batch.pause_windows.push((SystemClock.now(), None));
                } else {
                    self.resumes += 1;
                    assert_ne!(status, "paused", "an acknowledged resume: {view}");
                }
                batch.paused = Some(pause);
            }
            Err(why) if why.contains("no answer") || why.contains("cut short") => {
                batch.paused = None;
            }
            // A finished batch cannot be paused: nothing changed.
            Err(why) if answered_with(&why, StatusCode::CONFLICT) => batch.finished = true,
            Err(why) => panic!(
                "a {} was refused: {why}",
                if pause { "pause" } else { "resume" }
            ),
        }
    }

    fn acknowledged(&self) -> usize {
        self.batches
            .values()
            .filter(|batch| batch.acknowledged)
            .count()
    }

    fn contacts(&self) -> usize {
        self.batches
            .values()
            .map(|batch| batch.contact_ids.len())
            .sum()
    }

    /// Through the API of a freshly started server: every promised batch
    /// is there whole, each interrupted create is wholly there or wholly
    /// absent, acknowledged pauses held, no attempt was dialed twice.
    async fn check_after_restart(
        &mut self,
        api: &Operator,
        sim: &ProviderSim,
        list_contacts: bool,
    ) -> Result<(), String> {
        let retried = self.settle_interrupted_creates(api).await?;
        self.retried_creates += retried;
        let listed = api.batches().await?;
        let by_id: BTreeMap<&str, &Value> = listed
            .iter()
            .map(|batch| (batch["batch_id"].as_str().unwrap_or_default(), batch))
            .collect();
        let by_key: BTreeMap<&str, &Value> = listed
            .iter()
            .filter_map(|batch| Some((batch["idempotency_key"].as_str()?, batch)))
            .collect();
        for key in &self.absent {
            if by_key.contains_key(key.as_str()) {
                return Err(format!(
                    "interrupted create {key} was absent after one restart and present after a later one"
                ));
            }
        }

        for (id, promised) in &mut self.batches {
            let Some(found) = by_id.get(id.as_str()) else {
                return Err(format!(
                    "batch {id} ({}, acknowledged: {}) is gone",
                    promised.idempotency_key, promised.acknowledged
                ));
            };
            let total = found["counters"]["total"].as_u64().unwrap_or_default();
            if total != promised.contact_ids.len() as u64 {
                return Err(format!(
                    "batch {id} counts {total} contacts, {} were created",
                    promised.contact_ids.len()
                ));
            }
            let status = found["status"].as_str().unwrap_or_default();
            if promised.paused == Some(true) && status != "paused" {
                return Err(format!(
                    "batch {id} was paused and is {status} after a restart (reason {}, by {}, at {}; paused by the operator over {:?})",
                    found["status_reason"],
                    found["status_by"],
                    found["status_at"],
                    promised.pause_windows
                ));
            }
            if promised.paused.is_none() {
                promised.paused = Some(status == "paused");
            }
            promised.finished = matches!(status, "completed" | "cancelled" | "expired");
            if list_contacts {
                let stored: BTreeSet<String> = api.contact_ids(id).await?.into_iter().collect();
                if stored != promised.contact_ids {
                    return Err(format!(
                        "batch {id} lists {} contacts, {} were created",
                        stored.len(),
                        promised.contact_ids.len()
                    ));
                }
            }
        }
        if listed.len() != self.batches.len() {
            let unknown: Vec<&str> = by_id
                .keys()
                .filter(|id| !self.batches.contains_key(**id))
                .copied()
                .collect();
            return Err(format!("batches nobody created: {unknown:?}"));
        }
        dialed_at_most_once(sim)
    }

    /// Each create a kill cut off is found wholly present or wholly absent;
    /// every other one is sent again under its Idempotency-Key, as an
    /// operator would, and must answer the batch that exists, or create it
    /// when none does. Answers how many were sent again.
    async fn settle_interrupted_creates(&mut self, api: &Operator) -> Result<u64, String> {
        if self.unsettled.is_empty() {
            return Ok(0);
        }
        let listed = api.batches().await?;
        let mut retried = 0;
        for create in std::mem::take(&mut self.unsettled) {
            let found = listed
                .iter()
                .find(|batch| batch["idempotency_key"].as_str() == Some(create.key.as_str()))
                .map(|batch| batch["batch_id"].as_str().unwrap_or_default().to_string());
            let expected: BTreeSet<String> = create.contact_ids.iter().cloned().collect();
            let id = if create.number % 2 == 1 {
                retried += 1;
                let answer = api.clone().send_create(&create).await?;
                let id = answer.body["batch"]["batch_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let created = answer.body["created"] == json!(true);
                match &found {
                    Some(existing) if *existing != id || created => {
                        return Err(format!(
                            "create {} sent again made batch {id} (created: {created}) beside {existing}",
                            create.key
                        ));
                    }
                    None if !created => {
                        return Err(format!(
                            "create {} sent again answered batch {id} that was not there",
                            create.key
                        ));
                    }
                    _ => id,
                }
            } else {
                let Some(id) = found.clone() else {
                    self.absent.push(create.key);
                    continue;
                };
                id
            };
            let stored: BTreeSet<String> = api.contact_ids(&id).await?.into_iter().collect();
            if stored != expected {
                return Err(format!(
                    "interrupted create {} left batch {id} with {} of its {} contacts",
                    create.key,
                    stored.len(),
                    expected.len()
                ));
            }
            self.found_whole += u64::from(found.is_some());
            self.batches.insert(
                id,
                Promised {
                    idempotency_key: create.key,
                    contact_ids: expected,
                    acknowledged: create.number % 2 == 1,
                    paused: None,
                    pause_windows: Vec::new(),
                    finished: false,
                },
            );
        }
        Ok(retried)
    }

    /// Resumes every batch not known to be dialing.
    async fn resume_all(&mut self, api: &Operator) {
        let paused: Vec<String> = self
            .batches
            .iter()
            .filter(|(_, batch)| !batch.finished && batch.paused != Some(false))
            .map(|(id, _)| id.clone())
            .collect();
        for id in paused {
            let sent_at = SystemClock.now();
            let answer = api.clone().control(id.clone(), false).await;
            self.settle_control(&id, false, sent_at, answer.map(|view| view.body));
        }
    }

    async fn wait_until_all_final(&self, api: &Operator, limit: Duration) -> Result<(), String> {
        let started = Instant::now();
        loop {
            let listed = api.batches().await?;
            let open: Vec<String> = listed
                .iter()
                .filter(|batch| batch["status"] != json!("completed"))
                .map(|batch| {
                    format!(
                        "{} {} {}",
                        batch["batch_id"].as_str().unwrap_or_default(),
                        batch["status"].as_str().unwrap_or_default(),
                        batch["counters"]["by_status"]
                    )
                })
                .collect();
            if open.is_empty() {
                return Ok(());
            }
            if started.elapsed() > limit {
                return Err(format!(
                    "after {limit:?} of the last run {} batches are not completed: {open:#?}",
                    open.len()
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The store a server left behind, read while no server runs: every
    /// promised batch whole and any other one a whole interrupted create,
    /// counters equal to a recount for each batch and the campaign, and the
    /// live index naming exactly the contacts that wait on a live attempt.
    /// `at_end`: after a clean stop that finished everything, so every
    /// contact is final and nothing is live. Answers the attempts it holds.
    fn check_store(&self, store: &SledStore, at_end: bool) -> Result<u64, String> {
        let err = |e: outdial::store::StoreError| e.to_string();
        let mut stored_batches = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .list_batches(&BatchQuery {
                    workspace: WORKSPACE.to_string(),
                    campaign_id: Some(CAMPAIGN.to_string()),
                    cursor,
                    limit: 500,
                })
                .map_err(err)?;
            stored_batches.extend(page.items);
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        let stored_ids: BTreeSet<&str> = stored_batches.iter().map(|b| b.id.as_str()).collect();
        if let Some(gone) = self
            .batches
            .keys()
            .find(|id| !stored_ids.contains(id.as_str()))
        {
            return Err(format!("batch {gone} is not in the store"));
        }

        let live = store.live_attempts().map_err(err)?;
        if at_end && !live.is_empty() {
            return Err(format!("attempts still live at the end: {live:?}"));
        }
        let live_ids: BTreeSet<(String, u64, String)> = live
            .iter()
            .map(|a| (a.batch_id.clone(), a.seq, a.attempt_id.clone()))
            .collect();

        let mut campaign_recount = Counters::default();
        let mut attempts_total = 0;
        let mut waiting_on_live = BTreeSet::new();
        for batch in &stored_batches {
            let expected = match self.batches.get(&batch.id) {
                Some(promised) => &promised.contact_ids,
                None => {
                    // Only a create whose answer the kill cut off may be
                    // there unpromised, and then whole (checked below).
                    let key = batch.idempotency_key.as_deref().unwrap_or_default();
                    let Some(create) = self.unsettled.iter().find(|c| c.key == key) else {
                        return Err(format!("batch {} ({key}) was never created", batch.id));
                    };
                    &create.contact_ids.iter().cloned().collect()
                }
            };
            if at_end && batch.status != BatchStatus::Completed {
                return Err(format!("batch {} ended {}", batch.id, batch.status));
            }
            let counters = store.batch_counters(&batch.id).map_err(err)?;
            let recount = store.recount(&batch.id).map_err(err)?;
            if counters != recount {
                return Err(format!(
                    "batch {} counters drifted from a recount:\n kept    {counters:?}\n recount {recount:?}",
                    batch.id
                ));
            }
            campaign_recount.add(&recount);
            attempts_total += recount.attempts;
            let mut ids = BTreeSet::new();
            let mut cursor = None;
            loop {
                let page = store
                    .list_contacts(&ContactQuery {
                        batch_id: batch.id.clone(),
                        status: None,
                        cursor,
                        limit: 500,
                    })
                    .map_err(err)?;
                for contact in page.items {
                    if at_end && !contact.status.is_final() {
                        return Err(format!(
                            "contact {} of batch {} is stuck {}",
                            contact.seq, batch.id, contact.status
                        ));
                    }
                    if at_end
                        && listed_phone(&contact.phone)
                        && contact.final_reason.as_deref() != Some("suppressed:dnc-internal")
                    {
                        return Err(format!(
                            "contact {} of batch {} ({}) is on dnc-internal and ended {:?}",
                            contact.seq, batch.id, contact.phone, contact.final_reason
                        ));
                    }
                    if let Some(attempt_id) = &contact.live_attempt_id {
                        waiting_on_live.insert((batch.id.clone(), contact.seq, attempt_id.clone()));
                    }
                    ids.insert(contact.contact_id);
                }
                cursor = page.next_cursor;
                if cursor.is_none() {
                    break;
                }
            }
            if &ids != expected {
                return Err(format!(
                    "batch {} holds {} contacts, {} were created",
                    batch.id,
                    ids.len(),
                    expected.len()
                ));
            }
        }
        if waiting_on_live != live_ids {
            return Err(format!(
                "the live index and the contacts disagree:\n live index {live_ids:?}\n contacts   {waiting_on_live:?}"
            ));
        }
        let campaign = store.campaign_counters(WORKSPACE, CAMPAIGN).map_err(err)?;
        if campaign != campaign_recount {
            return Err(format!(
                "campaign counters drifted from the batches' recounts:\n kept    {campaign:?}\n recount {campaign_recount:?}"
            ));
        }
        Ok(attempts_total)
    }

    /// Every call the simulator took, against the store after the last
    /// run: placed under a durable attempt, within that attempt's life
    /// (so before its contact became final), never while its batch was
    /// surely paused, and only once. Answers how many placed calls a
    /// restart ended as `interrupted`, not knowing the provider had them.
    fn check_calls(&self, store: &SledStore, sim: &ProviderSim) -> Result<u64, String> {
        dialed_at_most_once(sim)?;
        let mut interrupted = 0;
        for (attempt_id, placed_at) in &sim.log().placements {
            let key = AttemptKey::parse(attempt_id)
                .map_err(|e| format!("the simulator was dialed for {attempt_id}: {e}"))?;
            let attempts = store
                .attempts(&key.batch_id, key.seq)
                .map_err(|e| e.to_string())?;
            let Some(attempt) = attempts.iter().find(|a| a.number == key.number) else {
                return Err(format!(
                    "attempt {attempt_id} was dialed without a durable record"
                ));
            };
            let contact = store
                .contact(&key.batch_id, key.seq)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("attempt {attempt_id} has no contact"))?;
            if listed_phone(&contact.phone) {
                return Err(format!(
                    "attempt {attempt_id} dialed {}, which is on dnc-internal",
                    contact.phone
                ));
            }
            if attempt.gate.is_none() {
                return Err(format!(
                    "attempt {attempt_id} was dialed without the gate's verdict"
                ));
            }
            let Some(ended_at) = attempt.ended_at else {
                return Err(format!("attempt {attempt_id} never ended"));
            };
            interrupted += u64::from(
                attempt
                    .metadata
                    .iter()
                    .any(|(name, value)| name == "reason" && value == "interrupted"),
            );
            // A contact becomes final when its last attempt ends, so a call
            // placed within its attempt's life was placed before that.
            if *placed_at < attempt.started_at || *placed_at > ended_at {
                return Err(format!(
                    "attempt {attempt_id} was dialed at {placed_at}, outside its life from {} to {ended_at}",
                    attempt.started_at
                ));
            }
            // The dial intent was written after the tick's clock read
            // (`started_at`) and before the call was placed: within a span
            // the batch was surely paused, the store should have refused it.
            let promised = &self.batches[&key.batch_id];
            for (from, until) in &promised.pause_windows {
                let until = until.unwrap_or(Millis::MAX);
                if attempt.started_at > *from && *placed_at < until {
                    return Err(format!(
                        "attempt {attempt_id} was written at {} and dialed at {placed_at}, while its batch was paused from {from} to {until}",
                        attempt.started_at
                    ));
                }
            }
        }
        Ok(interrupted)
    }
}

/// The simulator took at most one call per attempt id.
/// The suffixes the suite's numbers run over: `+1415555` and four digits.
const NUMBERS: u64 = 10_000;

/// Whether the suite's number ending in `suffix` is on `dnc-internal`.
fn is_listed(suffix: u64) -> bool {
    suffix % 25 == 7
}

fn listed_phone(phone: &str) -> bool {
    phone
        .strip_prefix("+1415555")
        .and_then(|suffix| suffix.parse::<u64>().ok())
        .is_some_and(is_listed)
}

/// Puts one number in 25 on the workspace's `dnc-internal` list, in the
/// store the first server will open.
fn list_numbers(data_dir: &Path) {
    std::fs::create_dir_all(data_dir).expect("the data directory is made");
    let store = SledStore::open(&StoreConfig::new(data_dir.join("store")))
        .expect("the store opens before the first server");
    let entries = (0..NUMBERS)
        .filter(|suffix| is_listed(*suffix))
        .map(|suffix| outdial::store::NewSuppression {
            phone: format!("+1415555{suffix:04}"),
            expires_at: None,
            reason: Some("asked not to be called".to_string()),
        })
        .collect();
    store
        .add_suppressions(WORKSPACE, "dnc-internal", entries, "crash-suite", 0)
        .expect("the list is written");
}

fn dialed_at_most_once(sim: &ProviderSim) -> Result<(), String> {
    let log = sim.log();
    let twice: Vec<(&String, &u32)> = log
        .calls_per_attempt
        .iter()
        .filter(|(_, calls)| **calls > 1)
        .collect();
    if twice.is_empty() {
        Ok(())
    } else {
        Err(format!("attempts dialed more than once: {twice:?}"))
    }
}
