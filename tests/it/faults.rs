//! Faults outside the dispatcher: a webhook receiver down for hours of
//! virtual time while a batch runs. (Provider faults: `providers`; store,
//! plugin and lost-event faults: the engine's tests in virtual time.)

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use outdial::api::{self, ApiSettings, AppState, hash_key};
use outdial::clock::{Clock, ManualClock};
use outdial::config::Config;
use outdial::dispatch::engine::{CampaignPolicy, Engine, EngineOptions};
use outdial::model::{BatchStatus, HOUR_MS, JournalEvent, MINUTE_MS, Millis, SECOND_MS};
use outdial::provider::SimulatedProvider;
use outdial::provider::SimulationConfig;
use outdial::store::{Durability, NewBatch, NewContact, SledStore, Store, StoreConfig};
use reqwest::StatusCode;
use serde_json::Value;

/// Monday 2025-06-02 00:00 UTC.
const T0: Millis = 1_748_822_400_000;
const KEY: &str = "faults-key-0123456789";
const SECRET: &str = "whsec-faults";
const CONTACTS: usize = 20;
/// Journal events kept once every endpoint has them: small, so pruning has
/// something to prune while the receiver is down.
const KEEP_JOURNAL: u64 = 10;

/// A webhook receiver that refuses while down and records every try.
#[derive(Clone, Default)]
struct Receiver {
    down: Arc<AtomicBool>,
    delivered: Arc<Mutex<Vec<Value>>>,
    refused_ids: Arc<Mutex<Vec<String>>>,
}

async fn start_receiver() -> (Receiver, String) {
    let receiver = Receiver::default();
    let shared = receiver.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let shared = shared.clone();
                async move {
                    let id = headers["x-outdial-event-id"].to_str().unwrap().to_string();
                    if shared.down.load(Ordering::SeqCst) {
                        shared.refused_ids.lock().unwrap().push(id);
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let event: Value = serde_json::from_slice(&body).unwrap();
                    assert_eq!(event["id"], id.as_str(), "the header names the event");
                    shared.delivered.lock().unwrap().push(event);
                    StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (receiver, url)
}

fn config(webhook_url: &str) -> Config {
    let text = format!(
        r#"
[[workspaces]]
id = "acme"
api_keys = [{{ id = "ops", sha256 = "{hash}" }}]

[[campaigns]]
id = "spring"
workspace = "acme"
concurrency = 4
calls_per_second = 5
max_attempts = 2
provider = {{ plugin = "simulated" }}
window = {{ default_time_zone = "UTC", hours = [{{ days = "daily", start = "00:00", end = "24:00" }}] }}
webhooks = [{{ url = "{webhook_url}", secret = {{ env = "SPRING_HOOK_SECRET" }} }}]
"#,
        hash = hash_key(KEY),
    );
    Config::parse_str("faults.toml", &text).expect("the test config parses")
}

struct Rig {
    store: Arc<SledStore>,
    clock: ManualClock,
    engine: Engine,
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn rig(webhook_url: &str) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let mut store_config = StoreConfig::new(dir.path().join("db"));
    store_config.durability = Durability::Relaxed;
    let store = Arc::new(SledStore::open(&store_config).unwrap());
    let clock = ManualClock::new(T0);
    let config = config(webhook_url);
    let mut settings = ApiSettings::default();
    settings.webhooks.poll_interval = Duration::from_millis(2);
    settings.webhooks.keep_journal = KEEP_JOURNAL;
    let state = AppState::from_config(
        &config,
        None,
        store.clone(),
        Arc::new(clock.clone()),
        Arc::new(|name: &str| (name == "SPRING_HOOK_SECRET").then(|| SECRET.to_string())),
        settings,
    )
    .expect("the API sets up");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(api::serve_until(
        listener,
        api::router(state.clone()),
        state,
        async {
            let _ = stop.await;
        },
    ));
    let spec = config.campaign_specs().expect("campaign specs").remove(0);
    let provider = Arc::new(SimulatedProvider::new(SimulationConfig {
        seed: 3,
        ..SimulationConfig::default()
    }));
    let engine = Engine::new(
        store.clone(),
        provider,
        vec![CampaignPolicy::builtin(spec)],
        EngineOptions::default(),
        T0,
    )
    .expect("engine");
    Rig {
        store,
        clock,
        engine,
        base,
        client: outdial::net::http_client()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        _dir: dir,
        _shutdown: shutdown,
    }
}

impl Rig {
    /// Ticks the engine every `step` of virtual time until `until`, giving
    /// the deliverer real time to look at the clock now and then.
    async fn run(&mut self, until: Millis, step: Millis) {
        let mut ticks = 0u32;
        while self.clock.now() < until {
            self.clock.advance(step);
            self.engine.tick(self.clock.now()).await.expect("tick");
            ticks += 1;
            if ticks.is_multiple_of(20) {
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        }
    }

    fn create_batch(&self) -> String {
        self.store
            .create_batch(NewBatch {
                workspace: "acme".to_string(),
                campaign_id: "spring".to_string(),
                created_at: self.clock.now(),
                created_by: "test".to_string(),
                contacts: (0..CONTACTS)
                    .map(|i| NewContact {
                        contact_id: format!("c{i}"),
                        phone: format!("+1212555{i:04}"),
                        ..NewContact::default()
                    })
                    .collect(),
                ..NewBatch::default()
            })
            .expect("batch created")
            .batch
            .id
    }

    fn journal(&self) -> Vec<JournalEvent> {
        self.store.journal(0, 1_000_000).expect("journal")
    }

    async fn endpoint(&self) -> Value {
        let response = self
            .client
            .get(format!("{}/v1/campaigns/spring/webhooks", self.base))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let hooks: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        hooks["endpoints"][0].clone()
    }
}

async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_receiver_down_for_six_hours_gets_every_event_once_in_order_after() {
    let (receiver, url) = start_receiver().await;
    receiver.down.store(true, Ordering::SeqCst);
    let mut rig = rig(&url).await;
    let batch = rig.create_batch();

    // The batch runs to its end while the receiver refuses everything.
    rig.run(T0 + 2 * HOUR_MS, 5 * SECOND_MS).await;
    let record = rig.store.require_batch(&batch).unwrap();
    assert_eq!(record.status, BatchStatus::Completed, "{record:?}");
    let counters = rig.store.batch_counters(&batch).unwrap();
    assert_eq!(counters.finished(), CONTACTS as u64);
    assert_eq!(rig.store.recount(&batch).unwrap(), counters);
    // ...and the clock goes on to six hours, the deliverer retrying on its
    // backoff (10 s doubling to 1 h).
    rig.run(T0 + 6 * HOUR_MS, MINUTE_MS).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let refused: Vec<String> = receiver.refused_ids.lock().unwrap().clone();
    assert!(refused.len() >= 8, "{} tries while down", refused.len());
    assert!(receiver.delivered.lock().unwrap().is_empty());
    let first = JournalEvent {
        seq: 1,
        kind: outdial::model::EventKind::BatchCreated,
        workspace: String::new(),
        campaign_id: String::new(),
        batch_id: String::new(),
        at: 0,
        data: Value::Null,
    }
    .id();
    assert!(
        refused.iter().all(|id| *id == first),
        "every try was of the first event, under its one id: {refused:?}"
    );
    let endpoint = rig.endpoint().await;
    assert_eq!(
        endpoint["enabled"], true,
        "six hours is not a day: {endpoint}"
    );
    assert_eq!(endpoint["delivered"], 0);

    // Nothing was pruned although the journal is far past what it keeps.
    let journal = rig.journal();
    let head = rig.store.journal_head().unwrap();
    assert!(head > 5 * KEEP_JOURNAL, "{head} events");
    assert_eq!(journal.len() as u64, head, "no undelivered event pruned");
    assert_eq!(journal[0].seq, 1);
    let kinds: HashSet<&str> = journal.iter().map(|event| event.kind.as_str()).collect();
    for kind in [
        "batch.created",
        "batch.started",
        "call.started",
        "call.ended",
        "contact.finalized",
        "batch.completed",
    ] {
        assert!(kinds.contains(kind), "{kind} journaled: {kinds:?}");
    }

    // Back up: the next try (at most an hour later) delivers everything.
    receiver.down.store(false, Ordering::SeqCst);
    rig.clock.advance(HOUR_MS);
    wait_for("every event delivered", Duration::from_secs(30), || {
        receiver.delivered.lock().unwrap().len() >= journal.len()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let delivered = receiver.delivered.lock().unwrap().clone();
    let delivered_ids: Vec<String> = delivered
        .iter()
        .map(|event| event["id"].as_str().unwrap().to_string())
        .collect();
    let journal_ids: Vec<String> = journal.iter().map(JournalEvent::id).collect();
    assert_eq!(
        delivered_ids, journal_ids,
        "each event once, in journal order"
    );
    for (event, journaled) in delivered.iter().zip(&journal) {
        assert_eq!(event["type"], journaled.kind.as_str());
        assert_eq!(event["batch_id"], journaled.batch_id.as_str());
    }
    let endpoint = rig.endpoint().await;
    assert_eq!(endpoint["delivered"], journal.len() as u64);

    // Delivered, the journal is pruned down to what it keeps for streams.
    wait_for("the journal pruned", Duration::from_secs(10), || {
        rig.journal().first().is_some_and(|event| event.seq > 1)
    })
    .await;
    assert!(rig.journal().len() as u64 >= KEEP_JOURNAL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_disabled_after_a_day_down_keeps_its_events_and_gets_them_once_re_enabled() {
    let (receiver, url) = start_receiver().await;
    receiver.down.store(true, Ordering::SeqCst);
    let mut rig = rig(&url).await;
    let batch = rig.create_batch();
    rig.run(T0 + 2 * HOUR_MS, 5 * SECOND_MS).await;
    assert_eq!(
        rig.store.require_batch(&batch).unwrap().status,
        BatchStatus::Completed
    );
    // Past a day of failures the endpoint is disabled, with its reason.
    rig.run(T0 + 26 * HOUR_MS, 10 * MINUTE_MS).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let endpoint = loop {
        let endpoint = rig.endpoint().await;
        if endpoint["enabled"] == false {
            break endpoint;
        }
        assert!(Instant::now() < deadline, "never disabled: {endpoint}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(endpoint["enabled"], false);
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("503"),
        "{endpoint}"
    );
    // A second batch while it is disabled: the journal grows far past what
    // it keeps, the pruner runs, and still drops nothing the endpoint lacks.
    let second = rig.create_batch();
    rig.run(T0 + 28 * HOUR_MS, 5 * SECOND_MS).await;
    assert_eq!(
        rig.store.require_batch(&second).unwrap().status,
        BatchStatus::Completed
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let journal = rig.journal();
    let head = rig.store.journal_head().unwrap();
    assert!(head > 10 * KEEP_JOURNAL, "{head} events");
    assert_eq!(journal.len() as u64, head, "no undelivered event pruned");

    // Re-enabled, it resumes where it stopped: every event, once, in order.
    receiver.down.store(false, Ordering::SeqCst);
    let id = endpoint["id"].as_str().unwrap().to_string();
    let response = rig
        .client
        .post(format!(
            "{}/v1/campaigns/spring/webhooks/{id}/enable",
            rig.base
        ))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    wait_for("every event delivered", Duration::from_secs(30), || {
        receiver.delivered.lock().unwrap().len() >= journal.len()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let delivered_ids: Vec<String> = receiver
        .delivered
        .lock()
        .unwrap()
        .iter()
        .map(|event| event["id"].as_str().unwrap().to_string())
        .collect();
    let journal_ids: Vec<String> = journal.iter().map(JournalEvent::id).collect();
    assert_eq!(
        delivered_ids, journal_ids,
        "each event once, in journal order"
    );
    let batches: Vec<String> = receiver
        .delivered
        .lock()
        .unwrap()
        .iter()
        .map(|event| event["batch_id"].as_str().unwrap().to_string())
        .collect();
    let first_of_second = batches.iter().position(|b| *b == second).unwrap();
    assert!(
        batches[..first_of_second].iter().all(|b| *b == batch),
        "the first batch's events come before the second's"
    );
}
