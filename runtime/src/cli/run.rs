//! `outdial run`: the API server and the dispatcher for every campaign of a
//! config, on the embedded store or a PostgreSQL database.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::api::{self, ApiSettings, AppState};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ServerOverrides, ServerSettings, StoreChoice};
use crate::dispatch::engine::{CampaignPolicy, Engine, EngineOptions};
use crate::dispatch::runner::Runner;
use crate::model::CampaignSpec;
use crate::plugin_host::{ConfigPlugins, PluginHost};
use crate::provider::http::HttpLimits;
use crate::provider::registry::{ProviderContext, providers_for};
use crate::store::{PostgresConfig, PostgresStore, SledStore, Store, StoreConfig};

/// How often the dispatcher looks for work.
const TICK: Duration = Duration::from_millis(20);

#[derive(Debug, clap::Args)]
pub(super) struct RunArgs {
    /// A `.toml` file or a directory of them.
    config: PathBuf,
    /// Address to listen on, "host:port"; beats OUTDIAL_BIND and the file.
    #[arg(long)]
    bind: Option<String>,
    /// Directory of the store; beats OUTDIAL_DATA_DIR and the file.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The store: "sled" (embedded, in the data directory) or a PostgreSQL
    /// URL; beats OUTDIAL_STORE and `[store]`.
    #[arg(long, value_name = "sled|URL")]
    store: Option<String>,
}

pub(super) fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            return Ok(ExitCode::from(2));
        }
    };
    let host = Arc::new(PluginHost::new()?);
    let env = |name: &str| std::env::var(name).ok();
    if let Err(found) = config
        .validate(host.as_ref())
        .and_then(|()| config.check_environment(&env))
    {
        eprintln!("{found}");
        return Ok(ExitCode::from(2));
    }
    let overrides = ServerOverrides {
        bind: args.bind,
        data_dir: args.data_dir,
    };
    let settings = overrides.apply(config.server_settings(), &env);
    let store_choice = match config.store_choice(args.store.as_deref(), &env) {
        Ok(choice) => choice,
        Err(found) => {
            eprintln!("{found}");
            return Ok(ExitCode::from(2));
        }
    };
    let specs = config
        .campaign_specs()
        .map_err(|found| anyhow::anyhow!("{found}"))?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(&config, &host, specs, &settings, &store_choice))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(
    config: &Config,
    host: &Arc<PluginHost>,
    specs: Vec<CampaignSpec>,
    settings: &ServerSettings,
    store_choice: &StoreChoice,
) -> anyhow::Result<()> {
    let plugins = ConfigPlugins::new(host.clone(), config);
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "creating the data directory {}",
            settings.data_dir.display()
        )
    })?;
    // The API's handle on the store, and the dispatcher's: on a shared
    // database the dispatcher's writes are fenced by the node's leases.
    let (store, dispatcher_store): (Arc<dyn Store>, Arc<dyn Store>) = match store_choice {
        StoreChoice::Sled => {
            let store_dir = settings.data_dir.join("store");
            let store: Arc<dyn Store> = Arc::new(
                SledStore::open(&StoreConfig::new(&store_dir))
                    .with_context(|| format!("opening the store in {}", store_dir.display()))?,
            );
            (store.clone(), store)
        }
        StoreChoice::Postgres {
            url,
            pool_size,
            lease_ttl_ms,
        } => {
            let mut postgres = PostgresConfig::new(url.clone());
            postgres.pool_size = *pool_size;
            postgres.lease_ttl = Duration::from_millis(*lease_ttl_ms);
            // Opening may wait on the database: not on this runtime's thread.
            let opened = tokio::task::spawn_blocking(move || PostgresStore::open(&postgres))
                .await
                .context("opening the PostgreSQL store")?;
            let opened = opened.context("opening the PostgreSQL store")?;
            println!("node {} on the shared database", opened.node_id());
            let fenced: Arc<dyn Store> = Arc::new(opened.fenced());
            (Arc::new(opened), fenced)
        }
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    let policies = specs
        .iter()
        .map(|spec| {
            let loaded = plugins.load_campaign(spec)?;
            let policy = CampaignPolicy::new(spec.clone(), loaded.retry, loaded.classifier);
            Ok(match loaded.gate {
                Some(gate) => policy.with_gate(gate),
                None => policy,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Each campaign's provider: the simulation, or its adapter plugin with
    // the HTTP executor, its secrets and its webhook inbox.
    let env = |name: &str| std::env::var(name).ok();
    let declared = config.plugin_specs();
    let providers = providers_for(
        &specs,
        &ProviderContext {
            host,
            plugins: &declared,
            env: &env,
            data_dir: &settings.data_dir,
            public_url: settings.public_url.as_deref(),
            http_limits: HttpLimits::default(),
            clock: clock.clone(),
        },
    )?;
    let mut engine = Engine::new(
        dispatcher_store,
        providers.provider(),
        policies,
        EngineOptions::default(),
        clock.now(),
    )?;
    engine.set_gate_loader(Arc::new(plugins.clone()));
    engine.set_retry_loader(Arc::new(plugins));
    // Calls left live by an earlier run are settled before anything new is
    // dialed, and before the API shows their batches.
    let recovered = engine.recover(clock.now()).await?;
    if recovered > 0 {
        println!("{recovered} calls left live by the earlier run reconciled");
    }

    let api_settings = ApiSettings {
        metrics: config
            .metrics_spec(&env)
            .map_err(|found| anyhow::anyhow!("{found}"))?,
        ..ApiSettings::default()
    };
    let env: api::EnvLookup = Arc::new(|name: &str| std::env::var(name).ok());
    let state = AppState::from_config(
        config,
        Some(host.clone()),
        store.clone(),
        clock.clone(),
        env,
        api_settings,
    )?;
    let listener = tokio::net::TcpListener::bind(&settings.bind)
        .await
        .with_context(|| format!("listening on {}", settings.bind))?;
    let address = listener.local_addr().context("reading the bound address")?;
    let runner = Runner::spawn(engine, clock.clone(), TICK).context("starting the dispatcher")?;
    println!(
        "outdial listening on http://{address} (campaigns: {}, data in {})",
        specs.len(),
        settings.data_dir.display()
    );
    // Whoever started the server may be waiting for the address.
    use std::io::Write as _;
    std::io::stdout().flush().ok();

    let router = api::router(state.clone()).merge(providers.webhook_router());
    let served = api::serve_until(listener, router, state, shutdown_signal()).await;
    println!("shutting down");
    // The runner's thread blocks on durable writes: stop it off the async
    // workers, then flush whatever the store still holds.
    tokio::task::spawn_blocking(move || runner.stop())
        .await
        .context("stopping the dispatcher")?;
    store.sync().context("syncing the store")?;
    served.context("serving the API")?;
    println!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
