//! `outdial run`: the API server and the dispatcher for every campaign of a
//! config, on one embedded store.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;

use crate::api::{self, ApiSettings, AppState};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, PluginRef, SIMULATED_PROVIDER, ServerOverrides, ServerSettings};
use crate::dispatch::engine::{CampaignPolicy, Engine, EngineOptions};
use crate::dispatch::runner::Runner;
use crate::model::CampaignSpec;
use crate::plugin_host::{PluginHost, PluginLimits, PluginSource};
use crate::provider::simulated::{SimulatedProvider, SimulationConfig};
use crate::provider::{BoxFuture, PlaceCall, Provider, ProviderEvent, ProviderFailure};
use crate::store::{AttemptKey, SledStore, Store, StoreConfig};

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
}

pub(super) fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            return Ok(ExitCode::from(2));
        }
    };
    let host = PluginHost::new()?;
    let env = |name: &str| std::env::var(name).ok();
    if let Err(found) = config
        .validate(&host)
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
    let specs = config
        .campaign_specs()
        .map_err(|found| anyhow::anyhow!("{found}"))?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(&config, &host, specs, &settings))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(
    config: &Config,
    host: &PluginHost,
    specs: Vec<CampaignSpec>,
    settings: &ServerSettings,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "creating the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let store_dir = settings.data_dir.join("store");
    let store: Arc<dyn Store> = Arc::new(
        SledStore::open(&StoreConfig::new(&store_dir))
            .with_context(|| format!("opening the store in {}", store_dir.display()))?,
    );
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    let mut policies = Vec::with_capacity(specs.len());
    let mut providers = HashMap::new();
    for spec in &specs {
        policies.push(load_policy(config, host, spec)?);
        providers.insert(
            (spec.workspace.clone(), spec.id.clone()),
            campaign_provider(spec, &settings.data_dir)?,
        );
    }
    let provider = CampaignProviders::router(store.clone(), providers);
    let mut engine = Engine::new(
        store.clone(),
        provider,
        policies,
        EngineOptions::default(),
        clock.now(),
    )?;
    // Calls left live by an earlier run are settled before anything new is
    // dialed, and before the API shows their batches.
    let recovered = engine.recover(clock.now()).await?;
    if recovered > 0 {
        println!("{recovered} calls left live by the earlier run reconciled");
    }

    let env: api::EnvLookup = Arc::new(|name: &str| std::env::var(name).ok());
    let state = AppState::from_config(
        config,
        store.clone(),
        clock.clone(),
        env,
        ApiSettings::default(),
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

    let router = api::router(state.clone());
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

/// Where a plugin a campaign names comes from, and its limits.
fn plugin_source(config: &Config, name: &str) -> (PluginSource, PluginLimits) {
    let declared = config
        .plugin_specs()
        .into_iter()
        .find(|plugin| plugin.name == name);
    match declared {
        Some(plugin) => {
            let source = match plugin.source {
                PluginRef::Builtin(builtin) => PluginSource::Builtin(builtin),
                PluginRef::Path(path) => PluginSource::File(path),
            };
            let limits = PluginLimits {
                cpu_ms: plugin.cpu_ms,
                memory_bytes: usize::try_from(plugin.memory_mb << 20).unwrap_or(usize::MAX),
            };
            (source, limits)
        }
        None => (
            PluginSource::Builtin(name.to_string()),
            PluginLimits::default(),
        ),
    }
}

fn load_policy(
    config: &Config,
    host: &PluginHost,
    spec: &CampaignSpec,
) -> anyhow::Result<CampaignPolicy> {
    let (source, limits) = plugin_source(config, &spec.retry_plugin);
    let retry = host
        .load_retry(&source, &spec.retry_config, limits)
        .with_context(|| {
            format!(
                "loading retry plugin \"{}\" of campaign \"{}\"",
                spec.retry_plugin, spec.id
            )
        })?;
    let (source, limits) = plugin_source(config, &spec.classifier_plugin);
    let classifier = host
        .load_classifier(&source, &spec.classifier_config, limits)
        .with_context(|| {
            format!(
                "loading classifier plugin \"{}\" of campaign \"{}\"",
                spec.classifier_plugin, spec.id
            )
        })?;
    Ok(CampaignPolicy {
        spec: spec.clone(),
        retry: Arc::new(retry),
        classifier: Arc::new(classifier),
    })
}

/// The provider that places a campaign's calls. This is the one place a
/// campaign's `provider.plugin` becomes a [`Provider`].
pub fn campaign_provider(
    spec: &CampaignSpec,
    data_dir: &Path,
) -> anyhow::Result<Arc<dyn Provider>> {
    if spec.provider == SIMULATED_PROVIDER {
        let simulation =
            SimulationConfig::from_pairs(&spec.provider_config).with_context(|| {
                format!(
                    "campaign \"{}\": the simulated provider's config is invalid",
                    spec.id
                )
            })?;
        // Every placed attempt is logged per campaign, so a restarted
        // server never lets the simulation place an attempt twice.
        let log_dir = data_dir.join("simulated");
        std::fs::create_dir_all(&log_dir)
            .with_context(|| format!("creating {}", log_dir.display()))?;
        let log = log_dir.join(format!("{}.{}.log", spec.workspace, spec.id));
        let provider = SimulatedProvider::new(simulation)
            .with_call_log(&log)
            .with_context(|| format!("opening the simulated call log {}", log.display()))?;
        return Ok(Arc::new(provider));
    }
    anyhow::bail!(
        "campaign \"{}\": provider \"{}\" cannot place calls in this build, expected provider \"{SIMULATED_PROVIDER}\"",
        spec.id,
        spec.provider
    )
}

type CampaignKey = (String, String);

/// Routes each call to its campaign's provider: the engine speaks to one
/// [`Provider`], campaigns may each have their own.
struct CampaignProviders {
    store: Arc<dyn Store>,
    by_campaign: HashMap<CampaignKey, Arc<dyn Provider>>,
    /// Campaign of each batch seen, so a call costs one store read per batch.
    batches: Mutex<HashMap<String, CampaignKey>>,
}

impl CampaignProviders {
    /// A router over each campaign's provider.
    fn router(
        store: Arc<dyn Store>,
        by_campaign: HashMap<CampaignKey, Arc<dyn Provider>>,
    ) -> Arc<dyn Provider> {
        Arc::new(CampaignProviders {
            store,
            by_campaign,
            batches: Mutex::new(HashMap::new()),
        })
    }

    fn for_batch(&self, batch_id: &str) -> Result<&Arc<dyn Provider>, ProviderFailure> {
        let cached = self
            .batches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(batch_id)
            .cloned();
        let campaign = match cached {
            Some(campaign) => campaign,
            None => {
                let batch = self
                    .store
                    .batch(batch_id)
                    .map_err(|err| ProviderFailure::Transient(err.to_string()))?
                    .ok_or_else(|| {
                        ProviderFailure::Permanent(format!("batch \"{batch_id}\" is unknown"))
                    })?;
                let campaign = (batch.workspace, batch.campaign_id);
                self.batches
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .insert(batch_id.to_string(), campaign.clone());
                campaign
            }
        };
        self.by_campaign.get(&campaign).ok_or_else(|| {
            ProviderFailure::Permanent(format!(
                "campaign \"{}\" of batch \"{batch_id}\" has no provider",
                campaign.1
            ))
        })
    }
}

impl Provider for CampaignProviders {
    fn name(&self) -> &str {
        match self.by_campaign.values().next() {
            Some(only) if self.by_campaign.len() == 1 => only.name(),
            _ => "per campaign",
        }
    }

    fn place_call(
        &self,
        call: PlaceCall,
        now: crate::model::Millis,
    ) -> BoxFuture<'_, Result<String, ProviderFailure>> {
        match self.for_batch(&call.batch_id) {
            Ok(provider) => provider.place_call(call, now),
            Err(failure) => Box::pin(async move { Err(failure) }),
        }
    }

    fn drain_events(&self, now: crate::model::Millis) -> Vec<ProviderEvent> {
        self.by_campaign
            .values()
            .flat_map(|provider| provider.drain_events(now))
            .collect()
    }

    fn poll_status(
        &self,
        provider_call_id: &str,
        attempt_id: &str,
    ) -> Option<BoxFuture<'_, Result<Option<ProviderEvent>, ProviderFailure>>> {
        let key = AttemptKey::parse(attempt_id).ok()?;
        self.for_batch(&key.batch_id)
            .ok()?
            .poll_status(provider_call_id, attempt_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewBatch, NewContact};

    fn specs() -> Vec<CampaignSpec> {
        let config = Config::parse_str(
            "test.toml",
            r#"
[[workspaces]]
id = "acme"
api_keys = [{ id = "ops", env = "ACME_KEY" }]

[[plugins]]
name = "provider-acme"
path = "provider-acme.wasm"

[[campaigns]]
id = "north"
workspace = "acme"
provider = { plugin = "simulated", config = { seed = 1 } }

[[campaigns]]
id = "south"
workspace = "acme"
provider = { plugin = "simulated", config = { seed = 2 } }

[[campaigns]]
id = "west"
workspace = "acme"
provider = { plugin = "provider-acme", allowed_hosts = ["api.acme.example"] }
"#,
        )
        .expect("parses");
        config.campaign_specs().expect("resolves")
    }

    #[test]
    fn a_campaign_with_an_adapter_provider_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let west = specs().pop().expect("west");
        let error = campaign_provider(&west, dir.path())
            .err()
            .expect("no adapter providers yet");
        assert_eq!(
            error.to_string(),
            "campaign \"west\": provider \"provider-acme\" cannot place calls in this build, expected provider \"simulated\""
        );
    }

    #[test]
    fn a_bad_simulation_setting_names_its_campaign() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut north = specs().remove(0);
        north.provider_config = vec![("time_scale".to_string(), "-2".to_string())];
        let error = campaign_provider(&north, dir.path())
            .err()
            .expect("a negative time scale is refused");
        let message = format!("{error:#}");
        assert!(message.starts_with("campaign \"north\""), "{message}");
        assert!(message.contains("time_scale = -2"), "{message}");
    }

    #[tokio::test]
    async fn each_call_goes_to_the_provider_of_its_batch_campaign() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store: Arc<dyn Store> = Arc::new(
            SledStore::open(&StoreConfig::new(dir.path().join("store"))).expect("store opens"),
        );
        let specs = specs();
        let mut simulated = HashMap::new();
        let mut providers: HashMap<CampaignKey, Arc<dyn Provider>> = HashMap::new();
        for spec in &specs[..2] {
            let provider = Arc::new(SimulatedProvider::new(
                SimulationConfig::from_pairs(&spec.provider_config).expect("valid"),
            ));
            simulated.insert(spec.id.clone(), provider.clone());
            providers.insert((spec.workspace.clone(), spec.id.clone()), provider);
        }
        let batch = |campaign: &str| {
            store
                .create_batch(NewBatch {
                    workspace: "acme".to_string(),
                    campaign_id: campaign.to_string(),
                    created_by: "test".to_string(),
                    contacts: vec![NewContact {
                        contact_id: "c".to_string(),
                        phone: "+12125550101".to_string(),
                        time_zone: "UTC".to_string(),
                        ..NewContact::default()
                    }],
                    ..NewBatch::default()
                })
                .expect("batch created")
                .batch
                .id
        };
        let south_batch = batch("south");
        let west_batch = batch("west");
        let router = CampaignProviders::router(store.clone(), providers);
        let call = |batch_id: &str| PlaceCall {
            attempt_id: format!("{batch_id}-0-1"),
            batch_id: batch_id.to_string(),
            contact_id: "c".to_string(),
            to: "+12125550101".to_string(),
            from: "+13125550100".to_string(),
            parameters: Vec::new(),
        };

        router
            .place_call(call(&south_batch), 0)
            .await
            .expect("south places the call");
        assert_eq!(simulated["south"].calls_placed(), 1);
        assert_eq!(simulated["north"].calls_placed(), 0);

        let refused = router
            .place_call(call(&west_batch), 0)
            .await
            .expect_err("west has no provider");
        assert!(
            matches!(&refused, ProviderFailure::Permanent(why) if why.contains("\"west\"")),
            "{refused:?}"
        );
        let unknown = router
            .place_call(call("btc_ffffffffffffffff"), 0)
            .await
            .expect_err("an unknown batch");
        assert!(
            matches!(unknown, ProviderFailure::Permanent(_)),
            "{unknown:?}"
        );
    }
}
