//! A config with two campaigns — one simulated, one dialing through the
//! Twilio adapter against the provider simulator on loopback — read,
//! turned into providers, and run by one engine, with the API and the
//! provider webhooks served together on one socket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use outdial::api::{self, ApiSettings, AppState, hash_key};
use outdial::clock::{Clock, ScaledClock};
use outdial::config::Config;
use outdial::dispatch::engine::{CampaignPolicy, Engine, EngineOptions};
use outdial::dispatch::runner::Runner;
use outdial::model::{BatchStatus, CampaignSpec, Millis, SECOND_MS};
use outdial::plugin_host::{PluginHost, PluginLimits, PluginSource};
use outdial::provider::http::HttpLimits;
use outdial::provider::simulated::{OutcomeMix, Span};
use outdial::provider::{ProviderContext, Providers, SimulationConfig, providers_for};
use outdial::store::{ContactQuery, NewBatch, NewContact, SledStore, Store, StoreConfig};
use outdial_tests::provider_sim::{Api, Faults, ProviderSim, SimSetup, twilio_signature};

const TIME_SCALE: f64 = 400.0;
/// Wed 2025-01-15 12:00 UTC.
const START: Millis = 1_736_942_400_000;
const ACCOUNT: &str = "AC5e7f00000000000000000000000000aa";
const TOKEN: &str = "wiring-token-Hq2Vt9";
const API_KEY: &str = "wiring-api-key-0123456789";

/// The config as an operator would write it, pointed at the simulator
/// and this server's loopback address.
fn config_text(public_url: &str, sim: &ProviderSim) -> String {
    format!(
        r#"
[server]
public_url = "{public_url}"

[[workspaces]]
id = "sales"
api_keys = [{{ id = "ops", sha256 = "{key}" }}]

[[campaigns]]
id = "renewals"
workspace = "sales"
concurrency = 10
calls_per_second = 10
max_attempts = 2
retry = {{ plugin = "retry-backoff", config = {{ base_delay = "1m", max_delay = "2m" }} }}
classifier = {{ plugin = "classify-rules", config = {{ callback_delay = "2m" }} }}

[campaigns.provider]
plugin = "provider-twilio"
allowed_hosts = ["{sim_host}"]
config = {{ account_sid = "{ACCOUNT}", auth_token = {{ env = "WIRING_TWILIO_TOKEN" }}, api_base = "{sim_base}", twiml_url = "https://voice.example.com/twiml" }}

[[campaigns]]
id = "demo"
workspace = "sales"
concurrency = 10
calls_per_second = 10
max_attempts = 2
retry = {{ plugin = "retry-backoff", config = {{ base_delay = "1m", max_delay = "2m" }} }}
classifier = {{ plugin = "classify-rules", config = {{ callback_delay = "2m" }} }}
provider = {{ plugin = "simulated", config = {{ seed = 5 }} }}
"#,
        key = hash_key(API_KEY),
        sim_host = sim.host(),
        sim_base = sim.base_url(),
    )
}

fn env(name: &str) -> Option<String> {
    (name == "WIRING_TWILIO_TOKEN").then(|| TOKEN.to_string())
}

/// Both campaigns' providers, the API and webhooks on one socket.
struct Wired {
    _dir: tempfile::TempDir,
    store: Arc<SledStore>,
    clock: Arc<dyn Clock>,
    sim: ProviderSim,
    specs: Vec<CampaignSpec>,
    providers: Providers,
    host: PluginHost,
    base: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn wire() -> Wired {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(
        SledStore::open(&StoreConfig::new(dir.path().join("store"))).expect("store opens"),
    );
    let clock: Arc<dyn Clock> = Arc::new(ScaledClock::new(START, TIME_SCALE));
    let sim = ProviderSim::start(
        SimSetup {
            api: Api::Twilio,
            account: ACCOUNT.to_string(),
            credential: TOKEN.to_string(),
            webhook_secret: String::new(),
            scripts: SimulationConfig {
                seed: 17,
                outcomes: OutcomeMix {
                    human: 50,
                    voicemail: 10,
                    call_screening: 0,
                    busy: 20,
                    no_answer: 15,
                    failed: 5,
                },
                ring_seconds: Span::new(3, 10),
                no_answer_ring_seconds: Span::new(20, 30),
                talk_seconds: Span::new(20, 60),
                voicemail_seconds: Span::new(10, 20),
                placement_latency_ms: Span::new(100, 500),
                ..SimulationConfig::default()
            },
            time_scale: TIME_SCALE,
            invalid_prefix: "+1999".to_string(),
            faults: Faults::none(),
        },
        clock.clone(),
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound"));

    let config = Config::parse_str("outdial.toml", &config_text(&base, &sim)).expect("parses");
    let specs = config.campaign_specs().expect("the campaigns resolve");
    let settings = config.server_settings();
    let host = PluginHost::new().expect("plugin host");
    let providers = providers_for(
        &specs,
        &ProviderContext {
            host: &host,
            plugins: &config.plugin_specs(),
            env: &env,
            data_dir: dir.path(),
            public_url: settings.public_url.as_deref(),
            http_limits: HttpLimits::default(),
            clock: clock.clone(),
        },
    )
    .expect("the providers set up");

    let state = AppState::from_config(
        &config,
        None,
        store.clone(),
        clock.clone(),
        Arc::new(env),
        ApiSettings::default(),
    )
    .expect("the API sets up");
    let router = api::router(state.clone()).merge(providers.webhook_router());
    let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(api::serve_until(listener, router, state, async {
        let _ = stop.await;
    }));
    Wired {
        _dir: dir,
        store,
        clock,
        sim,
        specs,
        providers,
        host,
        base,
        _shutdown: shutdown,
    }
}

impl Wired {
    fn policies(&self) -> Vec<CampaignPolicy> {
        self.specs
            .iter()
            .map(|spec| CampaignPolicy {
                spec: spec.clone(),
                retry: Arc::new(
                    self.host
                        .load_retry(
                            &PluginSource::Builtin(spec.retry_plugin.clone()),
                            &spec.retry_config,
                            PluginLimits::default(),
                        )
                        .expect("retry plugin loads"),
                ),
                classifier: Arc::new(
                    self.host
                        .load_classifier(
                            &PluginSource::Builtin(spec.classifier_plugin.clone()),
                            &spec.classifier_config,
                            PluginLimits::default(),
                        )
                        .expect("classifier loads"),
                ),
                gate: None,
            })
            .collect()
    }

    fn create_batch(&self, campaign: &str, count: usize) -> String {
        let contacts = (0..count)
            .map(|n| NewContact {
                contact_id: format!("{campaign}-{n:03}"),
                phone: format!("+1415555{n:04}"),
                name: None,
                time_zone: "UTC".to_string(),
                attributes: Vec::new(),
                variant: None,
            })
            .collect();
        self.store
            .create_batch(NewBatch {
                workspace: "sales".to_string(),
                campaign_id: campaign.to_string(),
                created_at: self.clock.now(),
                created_by: "wiring-test".to_string(),
                contacts,
                ..NewBatch::default()
            })
            .expect("batch created")
            .batch
            .id
    }

    async fn wait_until_final(&self, batch_id: &str, limit: Duration) {
        let started = Instant::now();
        loop {
            let batch = self.store.require_batch(batch_id).expect("batch");
            if batch.status.is_final() {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "batch {batch_id} of {} still {} after {limit:?}: {:?}",
                batch.campaign_id,
                batch.status,
                self.store.batch_counters(batch_id).expect("counters"),
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The provider call ids of every attempt of `batch_id`.
    fn call_ids(&self, batch_id: &str) -> Vec<(String, Option<String>)> {
        let page = self
            .store
            .list_contacts(&ContactQuery {
                batch_id: batch_id.to_string(),
                status: None,
                cursor: None,
                limit: 500,
            })
            .expect("contacts listed");
        page.items
            .iter()
            .flat_map(|contact| {
                self.store
                    .contact_detail(batch_id, contact.seq)
                    .expect("detail")
                    .expect("the contact exists")
                    .attempts
            })
            .map(|attempt| (attempt.id, attempt.provider_call_id))
            .collect()
    }

    fn webhook_url(&self, campaign: &str, attempt_id: &str) -> String {
        format!(
            "{}/v1/webhooks/providers/{campaign}?attempt_id={attempt_id}",
            self.base
        )
    }

    async fn post_twilio(&self, url: &str, token: &str, params: &[(&str, &str)]) -> u16 {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        outdial::net::http_client()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client")
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", twilio_signature(token, url, &params))
            .body(body)
            .send()
            .await
            .expect("answered")
            .status()
            .as_u16()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_and_a_twilio_campaign_dial_through_one_engine() {
    const CONTACTS: usize = 40;
    let wired = wire().await;
    let renewals = wired.create_batch("renewals", CONTACTS);
    let demo = wired.create_batch("demo", CONTACTS);
    let engine = Engine::new(
        wired.store.clone(),
        wired.providers.provider(),
        wired.policies(),
        EngineOptions {
            scan_limit: 256,
            transient_backoff_ms: 2 * SECOND_MS,
            ..EngineOptions::default()
        },
        wired.clock.now(),
    )
    .expect("engine");
    let runner =
        Runner::spawn(engine, wired.clock.clone(), Duration::from_millis(2)).expect("runner");
    wired
        .wait_until_final(&renewals, Duration::from_secs(45))
        .await;
    wired.wait_until_final(&demo, Duration::from_secs(45)).await;
    runner.stop();

    for batch_id in [&renewals, &demo] {
        let batch = wired.store.require_batch(batch_id).expect("batch");
        assert_eq!(batch.status, BatchStatus::Completed);
        let counters = wired.store.batch_counters(batch_id).expect("counters");
        assert_eq!(counters.total, CONTACTS as u64);
        assert_eq!(counters.finished(), counters.total);
    }

    // The Twilio campaign's calls went to the simulator, each once, and
    // came back through the webhook endpoint on the API's socket.
    let log = wired.sim.log();
    let renewal_calls = wired.call_ids(&renewals);
    assert!(renewal_calls.len() >= CONTACTS);
    for (attempt_id, call_id) in &renewal_calls {
        assert_eq!(
            log.calls_per_attempt.get(attempt_id),
            Some(&1),
            "{attempt_id}"
        );
        assert!(
            call_id.as_deref().is_some_and(|id| id.starts_with("CA")),
            "{attempt_id} has call id {call_id:?}"
        );
    }
    let adapter = wired.providers.adapter("renewals").expect("an adapter");
    let accepted = adapter
        .stats()
        .webhooks_accepted
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        accepted >= renewal_calls.len() as u64,
        "{accepted} webhooks for {} calls",
        renewal_calls.len()
    );

    // The simulated campaign never reached the simulator on loopback.
    let demo_calls = wired.call_ids(&demo);
    assert!(demo_calls.len() >= CONTACTS);
    for (attempt_id, call_id) in &demo_calls {
        assert!(!log.calls_per_attempt.contains_key(attempt_id));
        assert!(
            call_id.as_deref().is_some_and(|id| !id.starts_with("CA")),
            "{attempt_id} has call id {call_id:?}"
        );
    }
    assert_eq!(
        log.calls_per_attempt.len(),
        renewal_calls.len(),
        "every call the simulator saw is a renewals attempt"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_and_the_provider_webhooks_answer_on_one_socket() {
    let wired = wire().await;
    let client = outdial::net::http_client()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client");

    // The API is there, behind its keys.
    let campaigns = client
        .get(format!("{}/v1/campaigns", wired.base))
        .bearer_auth(API_KEY)
        .send()
        .await
        .expect("answered");
    assert_eq!(campaigns.status().as_u16(), 200);
    let unauthenticated = client
        .get(format!("{}/v1/campaigns", wired.base))
        .send()
        .await
        .expect("answered");
    assert_eq!(unauthenticated.status().as_u16(), 401);

    // A callback signed with the campaign's auth token is accepted and
    // its event waits in the inbox for the engine.
    let callback = [
        ("AccountSid", ACCOUNT),
        ("CallSid", "CA00000000000000000000000000000001"),
        ("CallStatus", "ringing"),
    ];
    let url = wired.webhook_url("renewals", "b1-1-1");
    assert_eq!(wired.post_twilio(&url, TOKEN, &callback).await, 200);
    let events = wired.providers.provider().drain_events(wired.clock.now());
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].attempt_id, "b1-1-1");
    assert_eq!(
        events[0].provider_call_id,
        "CA00000000000000000000000000000001"
    );

    // One signed with a guessed token is refused, and nothing is kept.
    assert_eq!(
        wired.post_twilio(&url, "guessed-token", &callback).await,
        401
    );
    // A simulated campaign receives no provider webhooks.
    let demo_url = wired.webhook_url("demo", "b2-1-1");
    assert_eq!(wired.post_twilio(&demo_url, TOKEN, &callback).await, 404);
    assert!(
        wired
            .providers
            .provider()
            .drain_events(wired.clock.now())
            .is_empty()
    );
    let adapter = wired.providers.adapter("renewals").expect("an adapter");
    assert_eq!(
        adapter
            .stats()
            .webhooks_bad_signature
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}
