//! `outdial demo`: the whole product on the embedded default — sled in a
//! data directory, the simulated provider, the first-party plugins — on a
//! generated batch of contacts across several time zones.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{TimeZone, Timelike};
use indicatif::{ProgressBar, ProgressStyle};

use crate::api::{self, ApiContext, ApiSettings, AppState};
use crate::clock::{Clock, ScaledClock};
use crate::config::Config;
use crate::config::PluginScope;
use crate::dispatch::engine::{CampaignPolicy, Engine, EngineOptions};
use crate::dispatch::runner::Runner;
use crate::model::{BatchRecord, CallingWindow, CampaignSpec, ContactStatus, Millis, WindowRule};
use crate::phone::resolve_time_zone;
use crate::plugin_host::{CampaignPlugins, ConfigPlugins, PluginHost};
use crate::provider::simulated::{SimulatedProvider, SimulationConfig, call_log_path};
use crate::reporting::progress::BatchStatistics;
use crate::reporting::statistics::{Statistics, batch_statistics};
use crate::store::{BatchQuery, NewBatch, NewContact, SledStore, Store, StoreConfig};

/// The demo campaign, also shipped as an example config.
const DEMO_CONFIG: &str = include_str!("../../../examples/demo.toml");
/// Marks a data directory as the demo's own, so only such a directory is
/// ever wiped.
const DEMO_MARKER: &str = ".outdial-demo";

#[derive(Debug, clap::Args)]
pub(super) struct DemoArgs {
    /// Contacts in the generated batch.
    #[arg(long, default_value_t = 10_000)]
    contacts: u32,
    /// Where the demo keeps its store; wiped at the start of every demo run.
    #[arg(long, default_value = "outdial-demo-data", env = "OUTDIAL_DATA_DIR")]
    data_dir: PathBuf,
    /// Virtual milliseconds per real millisecond: 2000 lives half an hour
    /// of calling per second.
    #[arg(long, default_value_t = 2000.0)]
    time_scale: f64,
    /// Seed of the simulated calls' outcomes.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Give up after this many real seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Keep the data directory and carry on with its batch, as after a
    /// crash: live calls of the earlier run are reconciled, never redialed.
    #[arg(long)]
    resume: bool,
    /// Address of the API and dashboard; a free port on 127.0.0.1 when
    /// not given.
    #[arg(long, env = "OUTDIAL_BIND")]
    bind: Option<SocketAddr>,
    /// API key of the demo workspace; a random one, printed, when not
    /// given.
    #[arg(long, env = "OUTDIAL_DEMO_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Keep dialing new batches and serving the dashboard after the demo
    /// batch ends, until interrupted.
    #[arg(long)]
    serve_after: bool,
}

pub(super) fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let spec = demo_campaign(args.contacts)?;
    prepare_data_dir(&args.data_dir, args.resume)?;
    let store: Arc<dyn Store> = Arc::new(
        SledStore::open(&StoreConfig::new(args.data_dir.join("store")))
            .context("opening the demo store")?,
    );

    let host = Arc::new(PluginHost::new()?);
    let plugins = ConfigPlugins::new(host.clone(), &demo_config()?);
    let CampaignPlugins {
        retry, classifier, ..
    } = plugins.load_campaign(&spec)?;
    println!(
        "plugins: {} {} (sha256 {}), {} {} (sha256 {})",
        retry.info().name,
        retry.info().version,
        &retry.info().sha256[..12],
        classifier.info().name,
        classifier.info().version,
        &classifier.info().sha256[..12],
    );

    // Virtual time starts at 16:00 UTC, when every zone of the demo is
    // inside its calling window.
    let start = next_afternoon(chrono::Utc::now());
    let clock: Arc<dyn Clock> = Arc::new(ScaledClock::new(start, args.time_scale));
    // Every placed attempt id is logged, so a run after a crash can show
    // that none was dialed twice.
    let provider = Arc::new(
        SimulatedProvider::new(SimulationConfig {
            seed: args.seed,
            ..SimulationConfig::default()
        })
        .with_call_log(call_log_path(&args.data_dir))
        .context("opening the simulated provider's call log")?,
    );

    let earlier = if args.resume {
        demo_batch(store.as_ref(), &spec)?
    } else {
        None
    };
    let (batch, clock) = match earlier {
        Some(batch) => {
            // Virtual time goes on from where the earlier run stopped.
            let resumed_at = batch
                .last_completed_at
                .unwrap_or(batch.status_at)
                .max(start);
            println!("resuming batch {} ({})", batch.id, batch.status);
            let clock: Arc<dyn Clock> = Arc::new(ScaledClock::new(resumed_at, args.time_scale));
            (batch, clock)
        }
        None => {
            let created = store.create_batch(NewBatch {
                workspace: spec.workspace.clone(),
                campaign_id: spec.id.clone(),
                created_at: clock.now(),
                created_by: "demo".to_string(),
                contacts: generate_contacts(args.contacts, &spec),
                ..NewBatch::default()
            })?;
            (created.batch, clock)
        }
    };
    let batch_id = batch.id.clone();
    let contacts = store.batch_counters(&batch_id)?.total;
    println!(
        "batch {batch_id}: {} contacts in {} time zones, campaign {} (concurrency {}, {} calls/s, {} attempts max)",
        contacts,
        DEMO_ZONES.len(),
        spec.id,
        spec.concurrency,
        spec.calls_per_second,
        spec.max_attempts
    );

    let server = DemoServer::start(&args, &spec, &host, store.clone(), clock.clone())?;
    println!(
        "dashboard: http://{}/  (API key {}; batch page http://{}/#/batches/{batch_id})",
        server.address, server.key_shown, server.address
    );

    let policy = CampaignPolicy::new(spec.clone(), retry, classifier);
    let options = EngineOptions {
        scan_limit: 2_000,
        ..EngineOptions::default()
    };
    let mut engine = Engine::new(
        store.clone(),
        provider.clone(),
        vec![policy],
        options,
        clock.now(),
    )?;
    engine.set_gate_loader(Arc::new(plugins.clone()));
    engine.set_retry_loader(Arc::new(plugins));
    let recovered = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(engine.recover(clock.now()))?;
    if recovered > 0 {
        println!("{recovered} calls left live by the earlier run reconciled");
    }
    let runner = Runner::spawn(engine, clock.clone(), Duration::from_millis(10))?;

    let bar = ProgressBar::new(contacts);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} final  {msg}  ETA {eta}",
        )
        .expect("the template is valid"),
    );
    let started = Instant::now();
    let finished = loop {
        let batch = store.batch(&batch_id)?.context("the demo batch vanished")?;
        let counters = store.batch_counters(&batch_id)?;
        bar.set_position(counters.finished());
        let rate = counters.attempts as f64 / started.elapsed().as_secs_f64().max(0.001);
        bar.set_message(format!(
            "live {:>4}  waiting {:>5}  attempts {:>6} ({rate:.0}/s)",
            counters.live(),
            counters.waiting(),
            counters.attempts
        ));
        if batch.status.is_final() {
            break true;
        }
        if started.elapsed() > Duration::from_secs(args.timeout) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    bar.finish();
    // Serving on, the engine keeps dialing what the dashboard uploads.
    let runner = if args.serve_after {
        Some(runner)
    } else {
        runner.stop();
        None
    };
    store.sync()?;

    let batch = store.batch(&batch_id)?.context("the demo batch vanished")?;
    let counters = store.batch_counters(&batch_id)?;
    let recount = store.recount(&batch_id)?;
    let stats = BatchStatistics::new(&batch, &counters, clock.now());
    println!();
    println!(
        "batch {batch_id} is {} after {:.1} s",
        batch.status,
        started.elapsed().as_secs_f64()
    );
    println!("{:<26}{:>12}", "contacts", counters.total);
    for status in ContactStatus::ALL {
        println!(
            "{:<26}{:>12}",
            format!("  {status}"),
            counters.status(status)
        );
    }
    println!("{:<26}{:>12}", "attempts", counters.attempts);
    println!(
        "{:<26}{:>11.1}%",
        "answer rate",
        percent(counters.answered, counters.ended)
    );
    println!(
        "{:<26}{:>11.1}s",
        "average talk time",
        counters.talk_ms as f64 / 1_000.0 / counters.answered.max(1) as f64
    );
    println!(
        "{:<26}{:>12.2}",
        "total cost",
        counters.cost_micros as f64 / 1e6
    );
    println!("{:<26}{:>11.1}%", "success rate", stats.success_rate);
    println!(
        "{:<26}{:>12.0}",
        "attempts per real second",
        counters.attempts as f64 / started.elapsed().as_secs_f64()
    );
    println!(
        "{:<26}{:>12}",
        "provider calls placed",
        provider.calls_placed()
    );
    println!(
        "{:<26}{:>12}",
        "most calls live at once",
        provider.max_live_seen()
    );
    println!(
        "{:<26}{:>12}",
        "counters equal a recount",
        if recount == counters { "yes" } else { "NO" }
    );
    // The same figures the dashboard's panels draw, from the same function.
    let statistics = batch_statistics(store.as_ref(), &spec, &batch_id, clock.now())
        .context("reading the demo batch's statistics")?;
    for line in breakdowns(&statistics) {
        println!("{line}");
    }
    if !finished {
        eprintln!("the demo did not finish within {} s", args.timeout);
    }
    if args.serve_after {
        println!(
            "dashboard still at http://{}/ ; dialing new batches until interrupted (ctrl-c)",
            server.address
        );
        server.wait_for_interrupt();
    }
    if let Some(runner) = runner {
        runner.stop();
    }
    server.stop();
    Ok(if finished && recount == counters {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The API and dashboard of the demo, served beside the dialing on a
/// runtime of their own.
struct DemoServer {
    runtime: tokio::runtime::Runtime,
    address: SocketAddr,
    /// The key as printed: the key itself when the demo made it up.
    key_shown: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl DemoServer {
    fn start(
        args: &DemoArgs,
        spec: &CampaignSpec,
        host: &Arc<PluginHost>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<DemoServer> {
        let (key, key_shown) = match &args.api_key {
            Some(key) if key.trim().is_empty() => {
                anyhow::bail!("--api-key (OUTDIAL_DEMO_API_KEY) is empty, expected a key")
            }
            Some(key) => (
                key.trim().to_string(),
                "from OUTDIAL_DEMO_API_KEY or --api-key".to_string(),
            ),
            None => {
                let key = random_key()?;
                (key.clone(), key)
            }
        };
        let config = demo_config()?;
        let workspaces = config
            .workspace_specs(&|name: &str| (name == "OUTDIAL_DEMO_API_KEY").then(|| key.clone()))
            .map_err(|diagnostics| anyhow::anyhow!("{diagnostics}"))?;
        let state = AppState::new(ApiContext {
            store,
            clock,
            workspaces,
            campaigns: vec![spec.clone()],
            settings: ApiSettings::default(),
            env: Arc::new(|name: &str| std::env::var(name).ok()),
            plugins: Some(PluginScope {
                config: Arc::new(config),
                catalog: host.clone(),
            }),
        })
        .context("setting up the demo's API")?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("outdial-api")
            .enable_all()
            .build()
            .context("starting the demo's API runtime")?;
        let bind = args
            .bind
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(bind))
            .with_context(|| format!("listening on {bind} (--bind, OUTDIAL_BIND)"))?;
        let address = listener.local_addr()?;
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = api::router(state.clone());
        let served = runtime.spawn(api::serve_until(listener, router, state, async move {
            let _ = stopped.await;
        }));
        Ok(DemoServer {
            runtime,
            address,
            key_shown,
            shutdown: Some(shutdown),
            served: Some(served),
        })
    }

    fn wait_for_interrupt(&self) {
        if let Err(err) = self.runtime.block_on(tokio::signal::ctrl_c()) {
            eprintln!("cannot listen for ctrl-c ({err}); stopping now");
        }
    }

    fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(served) = self.served.take() {
            // Open event streams never end on their own; give requests in
            // flight a moment, then drop the rest with the runtime.
            let _ = self
                .runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(1), served).await });
        }
        self.runtime.shutdown_timeout(Duration::from_millis(200));
    }
}

/// A fresh key of 128 random bits, as 32 hex digits.
fn random_key() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|err| anyhow::anyhow!("no randomness for the demo key: {err}"))?;
    Ok(format!("demo-{}", hex::encode(bytes)))
}

/// The demo campaign from the example config, tuned so a working day of
/// calling fits in seconds.
fn demo_config() -> anyhow::Result<Config> {
    Config::parse_str("examples/demo.toml", DEMO_CONFIG).map_err(|err| anyhow::anyhow!("{err}"))
}

fn demo_campaign(contacts: u32) -> anyhow::Result<CampaignSpec> {
    let mut spec = demo_config()?
        .campaign_specs()
        .map_err(|diagnostics| anyhow::anyhow!("{diagnostics}"))?
        .into_iter()
        .next()
        .context("the demo config declares a campaign")?;
    spec.concurrency = 500;
    spec.calls_per_second = 300.0;
    spec.max_attempts = 3;
    // Every day 08:00 to 21:00 on each contact's clock: from 16:00 UTC
    // the Americas and Europe are all open for four hours.
    spec.calling_window = CallingWindow {
        rules: vec![WindowRule::Range {
            days: (0..7).collect(),
            start_minute: 8 * 60,
            end_minute: 21 * 60,
        }],
    };
    // A goal and a budget the demo reaches for but never hits, so the
    // dashboard has their progress to show and every contact is dialed.
    if let Some(goal) = &mut spec.goal {
        goal.target = u64::from(contacts);
    }
    spec.budget_micros = Some(u64::from(contacts) * 250_000);
    // Callbacks an hour later, not the next day: the demo lives hours.
    spec.classifier_config = vec![("callback_delay".to_string(), "1h".to_string())];
    spec.retry_config = vec![
        ("base_delay".to_string(), "10m".to_string()),
        ("base_delay_no_answer".to_string(), "30m".to_string()),
        ("max_delay".to_string(), "1h".to_string()),
    ];
    Ok(spec)
}

/// The batch an earlier demo run left in the store, if any.
fn demo_batch(store: &dyn Store, spec: &CampaignSpec) -> anyhow::Result<Option<BatchRecord>> {
    let page = store.list_batches(&BatchQuery {
        workspace: spec.workspace.clone(),
        campaign_id: Some(spec.id.clone()),
        cursor: None,
        limit: 1,
    })?;
    Ok(page.items.into_iter().next())
}

fn prepare_data_dir(dir: &Path, resume: bool) -> anyhow::Result<()> {
    if dir.exists() {
        let is_demo = dir.join(DEMO_MARKER).exists();
        if resume && is_demo {
            return Ok(());
        }
        let is_empty = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .next()
            .is_none();
        if !is_demo && !is_empty {
            anyhow::bail!(
                "{} exists and is not a demo data directory; pick another with --data-dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(
        dir.join(DEMO_MARKER),
        "outdial demo data; wiped by every demo run\n",
    )
    .with_context(|| format!("marking {}", dir.display()))?;
    Ok(())
}

/// 16:00 UTC today, or tomorrow when that has passed.
fn next_afternoon(now: chrono::DateTime<chrono::Utc>) -> Millis {
    let mut day = now.date_naive();
    if now.hour() >= 16 {
        day = day.succ_opt().expect("dates do not run out");
    }
    let afternoon = day.and_hms_opt(16, 0, 0).expect("16:00 exists");
    chrono::Utc.from_utc_datetime(&afternoon).timestamp_millis()
}

/// Zones of the demo's contacts: (zone, number prefix, digits that follow).
const DEMO_ZONES: [(&str, &str, u32); 8] = [
    ("America/New_York", "+1212555", 4),
    ("America/Chicago", "+1312555", 4),
    ("America/Denver", "+1303555", 4),
    ("America/Los_Angeles", "+1213555", 4),
    ("Europe/London", "+4420794", 6),
    ("Europe/Berlin", "+4930901", 6),
    ("Europe/Madrid", "+3491123", 6),
    ("America/Sao_Paulo", "+5511987", 6),
];

fn generate_contacts(count: u32, spec: &CampaignSpec) -> Vec<NewContact> {
    (0..count)
        .map(|n| {
            let (zone, prefix, digits) = DEMO_ZONES[n as usize % DEMO_ZONES.len()];
            let number = (n / DEMO_ZONES.len() as u32) % 10u32.pow(digits);
            let phone = format!("{prefix}{number:0width$}", width = digits as usize);
            // Half the contacts state their zone; the rest have it
            // inferred from their number.
            let explicit = (n % 2 == 0).then_some(zone);
            let time_zone = resolve_time_zone(
                explicit,
                &phone,
                spec.time_zone_policy,
                &spec.default_time_zone,
            );
            NewContact {
                contact_id: format!("demo-{n:05}"),
                phone,
                name: Some(format!("Contact {n}")),
                time_zone: time_zone.name().to_string(),
                attributes: vec![(
                    "segment".to_string(),
                    ["new", "lapsed", "loyal"][n as usize % 3].to_string(),
                )],
                variant: None,
            }
        })
        .collect()
}

/// Dispositions named in the summary; the dashboard shows them all.
const TOP_DISPOSITIONS: usize = 5;

/// The summary's breakdowns: the top dispositions, each A/B variant and
/// each number of the pool, in the columns of the table above them.
fn breakdowns(statistics: &Statistics) -> Vec<String> {
    let rate = |part: f64, attempts: u64| {
        if attempts == 0 {
            "-".to_string()
        } else {
            format!("{:.1}%", part * 100.0)
        }
    };
    let mut lines = Vec::new();

    let classified: u64 = statistics.dispositions.iter().map(|d| d.count).sum();
    let mut dispositions: Vec<_> = statistics.dispositions.iter().collect();
    dispositions.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    lines.push(format!(
        "{:<26}{:>12}{:>14}",
        "top dispositions", "calls", "share"
    ));
    for disposition in dispositions.iter().take(TOP_DISPOSITIONS) {
        lines.push(format!(
            "{:<26}{:>12}{:>14}",
            format!("  {}", disposition.label),
            disposition.count,
            format!("{:.1}%", percent(disposition.count, classified))
        ));
    }
    if dispositions.is_empty() {
        lines.push("  none classified".to_string());
    }

    // Successes are calls that reached the goal's labels, as on the
    // dashboard's A/B panel.
    lines.push(format!(
        "{:<26}{:>12}{:>14}{:>14}{:>14}",
        "A/B variants", "calls", "answer rate", "successes", "success rate"
    ));
    for variant in &statistics.variants {
        lines.push(format!(
            "{:<26}{:>12}{:>14}{:>14}{:>14}",
            format!("  {}", variant.name),
            variant.attempts,
            rate(variant.answer_rate, variant.attempts),
            variant.successes,
            rate(variant.success_rate, variant.attempts)
        ));
    }
    if statistics.variants.is_empty() {
        lines.push("  none configured".to_string());
    }

    lines.push(format!(
        "{:<26}{:>12}{:>14}",
        "number pool", "calls", "answer rate"
    ));
    for number in &statistics.numbers {
        // As the dashboard's number pool panel names a number out of rotation.
        let state = if number.usable {
            ""
        } else if !number.enabled {
            " (disabled)"
        } else if number.rested_until.is_some() {
            " (resting)"
        } else {
            " (out)"
        };
        lines.push(format!(
            "{:<26}{:>12}{:>14}",
            format!("  {}{state}", number.number),
            number.attempts,
            rate(number.answer_rate, number.attempts)
        ));
    }
    if statistics.numbers.is_empty() {
        lines.push("  none configured".to_string());
    }
    lines
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}
