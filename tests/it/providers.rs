//! Batches dialed through the provider-adapter plugins against the provider
//! simulator on loopback, with every fault injected: throttling, server
//! errors, slow answers, lost, duplicated and reordered callbacks, forged
//! signatures, a request outside the egress allow-list.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use outdial::clock::{Clock, ScaledClock};
use outdial::dispatch::engine::{CampaignPolicy, Engine, EngineOptions};
use outdial::dispatch::runner::Runner;
use outdial::model::{
    Attempt, BatchStatus, CallingWindow, CampaignSpec, ContactStatus, FromNumber, MINUTE_MS,
    Millis, NumberStrategy, SECOND_MS, TimeZonePolicy,
};
use outdial::plugin_host::{PluginHost, PluginLimits, PluginSource};
use outdial::provider::http::HttpLimits;
use outdial::provider::secrets::with_secrets;
use outdial::provider::simulated::{Intent, OutcomeMix, Span};
use outdial::provider::webhooks::{WebhookEndpoints, router};
use outdial::provider::{AdapterProvider, AdapterSetup, SimulationConfig};
use outdial::reporting::progress::{BatchProgress, BatchStatistics};
use outdial::store::{ContactQuery, NewBatch, NewContact, SledStore, Store, StoreConfig};
use outdial_tests::provider_sim::{
    Api, Faults, ProviderSim, SimSetup, twilio_signature, voiceai_signature,
};

/// Simulated milliseconds per real millisecond, for the runtime and the
/// simulator alike.
const TIME_SCALE: f64 = 400.0;
/// Wed 2025-01-15 12:00 UTC; the campaign's window is always open anyway.
const START: Millis = 1_736_942_400_000;
const CAMPAIGN: &str = "renewals";
const CONCURRENCY: u32 = 20;
const CALLS_PER_SECOND: f64 = 4.0;
/// Numbers the simulator refuses as invalid start with this.
const INVALID_PREFIX: &str = "+1999";

/// Everything written through `tracing` during the tests, so a test can
/// search it for a secret.
fn captured_logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,cranelift=warn,wasmtime=warn,hyper=info,hyper_util=info,reqwest=info,h2=info,rustls=info,sled=info",
            ))
            .with_writer(move || LogWriter(logs))
            .with_ansi(false)
            .finish();
        // Another module may have set one first; then that one captures.
        let _ = tracing::subscriber::set_global_default(subscriber);
        logs
    })
}

struct LogWriter(&'static Mutex<Vec<u8>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn spec(adapter: &str) -> CampaignSpec {
    CampaignSpec {
        id: CAMPAIGN.to_string(),
        workspace: "sales".to_string(),
        concurrency: CONCURRENCY,
        calls_per_second: CALLS_PER_SECOND,
        max_attempts: 3,
        max_followups: 1,
        calling_window: CallingWindow::default(),
        time_zone_policy: TimeZonePolicy::Campaign,
        default_time_zone: "America/New_York".to_string(),
        retry_plugin: "retry-backoff".to_string(),
        retry_config: vec![
            ("base_delay".to_string(), "1m".to_string()),
            ("max_delay".to_string(), "3m".to_string()),
        ],
        classifier_plugin: "classify-rules".to_string(),
        // Phrase lists tuned to the campaign's script, as an operator would.
        classifier_config: [
            ("callback_delay", "2m"),
            (
                "do_not_call_phrases",
                "stop calling|do not call|don't call|remove me|unsubscribe|no more calls",
            ),
            ("wrong_number_phrases", "wrong number|wrong person|no one by that name"),
            (
                "callback_phrases",
                "call me back|call back|try me again|in a meeting|not a good time",
            ),
            (
                "not_interested_phrases",
                "not interested|no thanks|don't need|too expensive|going to pass|happy with them|not looking|don't have time",
            ),
            (
                "interested_phrases",
                "interested|sign me up|sounds good|yes please|go ahead|hear more|schedule the appointment",
            ),
        ]
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect(),
        provider: adapter.to_string(),
        provider_config: Vec::new(),
        allowed_hosts: Vec::new(),
        // Longer than any scripted call, so only a lost final event
        // reaches it.
        call_timeout_ms: 5 * MINUTE_MS,
        numbers: vec![FromNumber {
            number: "+12125550101".to_string(),
            weight: 1,
            enabled: true,
            rested_until: None,
        }],
        number_strategy: NumberStrategy::RoundRobin,
        budget_micros: None,
        cost_per_minute_micros: None,
        goal: None,
        variants: Vec::new(),
        max_consecutive_plugin_faults: 5,
        provider_secrets: Vec::new(),
        webhooks: Vec::new(),
        gate_plugin: None,
        gate_config: Vec::new(),
        suppress_on: vec!["do_not_call".to_string()],
        frequency_caps: Vec::new(),
    }
}

fn scripts(seed: u64) -> SimulationConfig {
    SimulationConfig {
        seed,
        outcomes: OutcomeMix {
            human: 40,
            voicemail: 20,
            call_screening: 5,
            busy: 15,
            no_answer: 15,
            failed: 5,
        },
        ring_seconds: Span::new(3, 15),
        no_answer_ring_seconds: Span::new(20, 30),
        talk_seconds: Span::new(20, 90),
        voicemail_seconds: Span::new(10, 25),
        screening_seconds: Span::new(5, 15),
        placement_latency_ms: Span::new(200, 1_500),
        ..SimulationConfig::default()
    }
}

fn contacts(count: usize) -> Vec<NewContact> {
    (0..count)
        .map(|n| NewContact {
            contact_id: format!("c-{n:04}"),
            // One in fifty is a number the provider refuses as invalid.
            phone: if n % 50 == 7 {
                format!("{INVALID_PREFIX}555{n:04}")
            } else {
                format!("+1415555{n:04}")
            },
            name: None,
            time_zone: "America/New_York".to_string(),
            attributes: Vec::new(),
            variant: None,
        })
        .collect()
}

/// The provider credentials of one run: each secret is unique, so finding
/// it anywhere is a leak of this run.
struct Secrets {
    account: String,
    token: String,
    webhook_secret: String,
}

impl Secrets {
    fn new(api: Api) -> Self {
        let nonce = std::process::id();
        Secrets {
            account: format!("AC{nonce:08x}0123456789abcdef0123456789"),
            token: format!("tok-{api:?}-{nonce}-Zq81xVb2Lm"),
            webhook_secret: format!("whsec-{api:?}-{nonce}-Kp4Rt7Yc"),
        }
    }

    /// The environment the runtime reads secrets from.
    fn env(&self, name: &str) -> Option<String> {
        match name {
            "PROVIDER_TOKEN" => Some(self.token.clone()),
            "PROVIDER_WEBHOOK_SECRET" => Some(self.webhook_secret.clone()),
            _ => None,
        }
    }
}

/// A runtime with one campaign dialing through `api`'s adapter against a
/// simulator, and its webhook endpoint served on loopback.
struct Rig {
    _dir: tempfile::TempDir,
    store: Arc<SledStore>,
    provider: Arc<AdapterProvider>,
    sim: ProviderSim,
    policy: CampaignPolicy,
    clock: Arc<dyn Clock>,
    webhook_base: String,
    secrets: Secrets,
    inbox_path: std::path::PathBuf,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn rig(api: Api, faults: Faults, api_base_override: Option<&str>) -> Rig {
    rig_with(api, faults, api_base_override, HttpLimits::default()).await
}

async fn rig_with(
    api: Api,
    faults: Faults,
    api_base_override: Option<&str>,
    http_limits: HttpLimits,
) -> Rig {
    captured_logs();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(
        SledStore::open(&StoreConfig::new(dir.path().join("store"))).expect("store opens"),
    );
    let clock: Arc<dyn Clock> = Arc::new(ScaledClock::new(START, TIME_SCALE));
    let secrets = Secrets::new(api);
    let sim = ProviderSim::start(
        SimSetup {
            api,
            account: secrets.account.clone(),
            credential: secrets.token.clone(),
            webhook_secret: secrets.webhook_secret.clone(),
            scripts: scripts(match api {
                Api::Twilio => 11,
                Api::VoiceAi => 23,
            }),
            time_scale: TIME_SCALE,
            invalid_prefix: INVALID_PREFIX.to_string(),
            faults,
        },
        clock.clone(),
    )
    .await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let webhook_base = format!("http://{}", listener.local_addr().expect("bound"));
    let endpoints = Arc::new(WebhookEndpoints::new(&webhook_base, clock.clone()));
    let server_router = router(endpoints.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, server_router)
            .await
            .expect("webhooks served");
    });

    let api_base = api_base_override.map_or_else(|| sim.base_url(), str::to_string);
    let (name, config, secret_refs) = match api {
        Api::Twilio => (
            "provider-twilio",
            vec![
                ("account_sid".to_string(), secrets.account.clone()),
                ("api_base".to_string(), api_base),
                (
                    "twiml_url".to_string(),
                    "https://app.example.com/voice".to_string(),
                ),
                ("machine_detection".to_string(), "Enable".to_string()),
            ],
            vec![("auth_token".to_string(), "PROVIDER_TOKEN".to_string())],
        ),
        Api::VoiceAi => (
            "provider-voiceai",
            vec![
                ("api_base".to_string(), api_base),
                ("assistant_id".to_string(), "asst-renewals".to_string()),
                ("signature_tolerance".to_string(), "1h".to_string()),
            ],
            vec![
                ("api_key".to_string(), "PROVIDER_TOKEN".to_string()),
                (
                    "webhook_secret".to_string(),
                    "PROVIDER_WEBHOOK_SECRET".to_string(),
                ),
            ],
        ),
    };
    let mut spec = spec(name);
    spec.provider_config = config;
    spec.provider_secrets = secret_refs;
    spec.allowed_hosts = vec![sim.host()];
    let (config, redactor) = with_secrets(
        CAMPAIGN,
        &spec.provider_config,
        &spec.provider_secrets,
        &|var| secrets.env(var),
    )
    .expect("secrets resolve");

    let host = PluginHost::new().expect("plugin host");
    let limits = PluginLimits::default();
    let adapter = host
        .load_adapter(&PluginSource::Builtin(name.to_string()), &config, limits)
        .expect("adapter loads");
    let inbox_path = dir.path().join("inbox").join(format!("{CAMPAIGN}.jsonl"));
    let provider = Arc::new(
        AdapterProvider::new(
            Arc::new(adapter),
            AdapterSetup {
                campaign_id: CAMPAIGN.to_string(),
                callback_url: endpoints.callback_url(CAMPAIGN),
                allowed_hosts: spec.allowed_hosts.clone(),
                limits: http_limits,
                inbox_path: inbox_path.clone(),
            },
            redactor,
            clock.clone(),
        )
        .expect("adapter provider"),
    );
    endpoints.register(provider.clone());
    let retry = host
        .load_retry(
            &PluginSource::Builtin(spec.retry_plugin.clone()),
            &spec.retry_config,
            limits,
        )
        .expect("retry plugin loads");
    let classifier = host
        .load_classifier(
            &PluginSource::Builtin(spec.classifier_plugin.clone()),
            &spec.classifier_config,
            limits,
        )
        .expect("classifier loads");
    let policy = CampaignPolicy {
        spec,
        retry: Arc::new(retry),
        classifier: Arc::new(classifier),
        gate: None,
    };
    Rig {
        _dir: dir,
        store,
        provider,
        sim,
        policy,
        clock,
        webhook_base,
        secrets,
        inbox_path,
        server,
    }
}

impl Rig {
    fn create_batch(&self, count: usize) -> String {
        self.store
            .create_batch(NewBatch {
                workspace: self.policy.spec.workspace.clone(),
                campaign_id: CAMPAIGN.to_string(),
                created_at: self.clock.now(),
                created_by: "providers-test".to_string(),
                contacts: contacts(count),
                ..NewBatch::default()
            })
            .expect("batch created")
            .batch
            .id
    }

    fn start(&self) -> Runner {
        let engine = Engine::new(
            self.store.clone(),
            self.provider.clone(),
            vec![self.policy.clone()],
            EngineOptions {
                scan_limit: 256,
                transient_backoff_ms: 2 * SECOND_MS,
                ..EngineOptions::default()
            },
            self.clock.now(),
        )
        .expect("engine");
        Runner::spawn(engine, self.clock.clone(), Duration::from_millis(2)).expect("runner")
    }

    /// Waits until the batch is final or `status` is reached.
    async fn wait_for(&self, batch_id: &str, done: impl Fn(BatchStatus) -> bool, limit: Duration) {
        let started = Instant::now();
        loop {
            let batch = self.store.require_batch(batch_id).expect("batch");
            if done(batch.status) {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "batch {batch_id} still {} after {limit:?}: {:?}",
                batch.status,
                self.store.batch_counters(batch_id).expect("counters")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn all_contacts(&self, batch_id: &str) -> Vec<outdial::store::ContactDetail> {
        let mut details = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .store
                .list_contacts(&ContactQuery {
                    batch_id: batch_id.to_string(),
                    status: None,
                    cursor,
                    limit: 200,
                })
                .expect("contacts listed");
            for contact in page.items {
                details.push(
                    self.store
                        .contact_detail(batch_id, contact.seq)
                        .expect("detail")
                        .expect("the contact exists"),
                );
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return details,
            }
        }
    }

    /// Post a webhook signed with the wrong secret; answers the status.
    async fn post_forged(&self) -> u16 {
        let url = format!(
            "{}/v1/webhooks/providers/{CAMPAIGN}?attempt_id=x-0-1",
            self.webhook_base
        );
        let client = outdial::net::http_client().build().expect("an HTTP client");
        let request = match self.sim_api() {
            Api::Twilio => {
                let params = vec![
                    ("CallSid".to_string(), "CA0".to_string()),
                    ("CallStatus".to_string(), "completed".to_string()),
                ];
                client
                    .post(&url)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header(
                        "X-Twilio-Signature",
                        twilio_signature("guessed-token", &url, &params),
                    )
                    .body("CallSid=CA0&CallStatus=completed")
            }
            Api::VoiceAi => {
                let body = br#"{"message":{"type":"end-of-call-report","call":{"id":"call-0","metadata":{"attempt_id":"x-0-1"}},"endedReason":"customer-ended-call"}}"#;
                let timestamp = (self.clock.now() / 1_000).to_string();
                client
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .header(
                        "X-Signature",
                        voiceai_signature("guessed", &timestamp, body),
                    )
                    .header("X-Signature-Timestamp", timestamp)
                    .body(body.to_vec())
            }
        };
        request
            .send()
            .await
            .expect("webhook answered")
            .status()
            .as_u16()
    }

    /// A correctly signed voice-AI webhook signed a day ago; answers the
    /// status.
    async fn post_replayed_voiceai(&self) -> u16 {
        let url = format!("{}/v1/webhooks/providers/{CAMPAIGN}", self.webhook_base);
        let body = br#"{"message":{"type":"end-of-call-report","call":{"id":"call-0","metadata":{"attempt_id":"x-0-1"}},"endedReason":"customer-ended-call"}}"#;
        let timestamp = ((self.clock.now() - 24 * 60 * MINUTE_MS) / 1_000).to_string();
        outdial::net::http_client()
            .build()
            .expect("an HTTP client")
            .post(&url)
            .header("Content-Type", "application/json")
            .header(
                "X-Signature",
                voiceai_signature(&self.secrets.webhook_secret, &timestamp, body),
            )
            .header("X-Signature-Timestamp", timestamp)
            .body(body.to_vec())
            .send()
            .await
            .expect("webhook answered")
            .status()
            .as_u16()
    }

    fn sim_api(&self) -> Api {
        if self.policy.spec.provider == "provider-twilio" {
            Api::Twilio
        } else {
            Api::VoiceAi
        }
    }
}

/// The most attempts started in any window of `window_ms`.
fn busiest_window(mut starts: Vec<Millis>, window_ms: Millis) -> usize {
    starts.sort_unstable();
    let mut most = 0;
    let mut first = 0;
    for last in 0..starts.len() {
        while starts[last] - starts[first] >= window_ms {
            first += 1;
        }
        most = most.max(last - first + 1);
    }
    most
}

/// The batch run and every check of it, for one adapter.
async fn a_batch_survives_every_fault(api: Api) {
    const CONTACTS: usize = 500;
    let rig = rig(api, Faults::all(), None).await;
    let batch_id = rig.create_batch(CONTACTS);
    let runner = rig.start();

    // Forged signatures while the batch runs: refused and counted.
    for _ in 0..3 {
        assert_eq!(rig.post_forged().await, 401);
    }
    if api == Api::VoiceAi {
        assert_eq!(rig.post_replayed_voiceai().await, 401);
    }

    let started = Instant::now();
    rig.wait_for(&batch_id, BatchStatus::is_final, Duration::from_secs(45))
        .await;
    runner.stop();
    let took = started.elapsed();
    let stats = rig.provider.stats();
    let expected_refusals = if api == Api::VoiceAi { 4 } else { 3 };
    assert_eq!(
        stats.webhooks_bad_signature.load(Ordering::SeqCst),
        expected_refusals
    );

    // Every contact reached a terminal status, and the counters agree.
    let batch = rig.store.require_batch(&batch_id).expect("batch");
    assert_eq!(batch.status, BatchStatus::Completed);
    let counters = rig.store.batch_counters(&batch_id).expect("counters");
    assert_eq!(counters.total, CONTACTS as u64);
    assert_eq!(counters.finished(), counters.total);
    assert_eq!(rig.store.recount(&batch_id).expect("recount"), counters);

    let details = rig.all_contacts(&batch_id);
    assert_eq!(details.len(), CONTACTS);
    for detail in &details {
        assert!(
            detail.contact.status.is_final(),
            "{} is {}",
            detail.contact.contact_id,
            detail.contact.status
        );
        assert!(detail.contact.live_attempt_id.is_none());
    }

    // Invalid numbers end the contact at once, without retries.
    for detail in details
        .iter()
        .filter(|d| d.contact.phone.starts_with(INVALID_PREFIX))
    {
        assert_eq!(detail.contact.status, ContactStatus::Failed);
        assert!(
            detail
                .contact
                .final_reason
                .as_deref()
                .is_some_and(|reason| reason.starts_with("invalid_number")),
            "{:?}",
            detail.contact.final_reason
        );
        assert_eq!(detail.contact.attempts_made, 1);
    }

    // At most one call per attempt id, and every call was an attempt.
    let log = rig.sim.log();
    let attempts: Vec<&Attempt> = details.iter().flat_map(|d| d.attempts.iter()).collect();
    for (attempt_id, calls) in &log.calls_per_attempt {
        assert_eq!(*calls, 1, "attempt {attempt_id} was placed {calls} times");
        assert!(attempts.iter().any(|a| &a.id == attempt_id));
    }
    // Every fault really happened.
    assert!(log.throttled > 0, "{log:?}");
    assert!(log.server_errors > 0, "{log:?}");
    assert!(log.slow > 0, "{log:?}");
    assert!(log.lost_finals > 0, "{log:?}");
    assert!(log.duplicated > 0, "{log:?}");
    assert!(log.reordered > 0, "{log:?}");
    assert!(log.polls > 0, "lost final events are asked about: {log:?}");
    assert_eq!(log.unauthorized, 0);
    assert_eq!(log.undelivered, 0, "{log:?}");
    eprintln!(
        "{api:?}: {CONTACTS} contacts, {} attempts, {} calls in {took:?}; {} throttled, {} server errors, {} slow, {} lost, {} duplicated, {} reordered, {} polls; at most {} live",
        attempts.len(),
        log.calls_per_attempt.len(),
        log.throttled,
        log.server_errors,
        log.slow,
        log.lost_finals,
        log.duplicated,
        log.reordered,
        log.polls,
        rig.sim.max_live()
    );

    // Each refusal became the right kind of system retry, which does not
    // count against the attempt limit: a 429 pauses dialing
    // (provider_throttled), a 5xx backs off.
    let ended_for = |reason: &str| {
        attempts
            .iter()
            .filter(|a| a.reason() == Some(reason))
            .count() as u64
    };
    assert_eq!(ended_for("provider_throttled"), log.throttled);
    assert_eq!(ended_for("provider_transient_failure"), log.server_errors);
    let system_retry = |a: &Attempt| {
        matches!(
            a.reason(),
            Some("provider_throttled" | "provider_transient_failure")
        )
    };
    for detail in &details {
        let counted = detail.attempts.iter().filter(|a| !system_retry(a)).count();
        let followups = detail
            .attempts
            .iter()
            .filter(|a| !system_retry(a) && a.followup)
            .count();
        // A follow-up past the attempts is counted apart from them.
        assert_eq!(
            detail.contact.attempts_made as usize,
            counted - followups,
            "{:?}",
            detail.contact
        );
        assert_eq!(detail.contact.followups_made as usize, followups);
        assert!(
            detail.contact.attempts_made <= 3 && detail.contact.followups_made <= 1,
            "past its limits: {:?}",
            detail.contact
        );
        assert_eq!(
            detail.contact.system_retries as usize,
            detail.attempts.len() - counted
        );
    }

    // Limits held: the simulator never saw more live calls than the
    // concurrency, and dials never outran the token bucket.
    assert!(
        rig.sim.max_live() <= u64::from(CONCURRENCY),
        "{}",
        rig.sim.max_live()
    );
    assert!(rig.sim.max_live() > 1);
    let starts: Vec<Millis> = attempts.iter().map(|a| a.started_at).collect();
    let window_ms = 10 * SECOND_MS;
    let burst = CALLS_PER_SECOND.max(1.0) as usize;
    let allowed = burst + (CALLS_PER_SECOND * (window_ms / SECOND_MS) as f64) as usize;
    assert!(
        busiest_window(starts, window_ms) <= allowed,
        "more than {allowed} dials in {window_ms} ms"
    );

    // Lost final events were recovered through the status poll, not
    // guessed: no attempt ended as lost.
    assert!(
        !attempts
            .iter()
            .any(|a| a.reason() == Some("lost_final_event")),
        "a status poll answers every lost final event"
    );

    // Transcript-based classification, end to end: each transcript the
    // platform reported reached the classifier intact, and human answers
    // are labelled by what the person said. The rules classifier works on
    // keywords, so a phrasing outside its lists may slip; nine in ten must
    // be read right.
    if api == Api::VoiceAi {
        let mut judged = 0;
        let mut agreed = 0;
        for attempt in attempts.iter().filter(|a| a.transcript.is_some()) {
            let script = rig.sim.script(&attempt.id);
            assert_eq!(attempt.transcript.as_deref(), script.transcript);
            let label = attempt
                .disposition
                .as_ref()
                .map(|d| d.label.as_str())
                .unwrap_or("");
            let expected = match script.intent {
                Some(Intent::Interested) => "interested",
                Some(Intent::NotInterested) => "not_interested",
                Some(Intent::DoNotCall) => "do_not_call",
                Some(Intent::WrongNumber) => "wrong_number",
                Some(Intent::Callback) => "callback_requested",
                _ => continue,
            };
            judged += 1;
            if label == expected {
                agreed += 1;
            }
        }
        assert!(judged > 20, "only {judged} transcripts with an intent");
        assert!(
            agreed * 10 >= judged * 9,
            "{agreed} of {judged} transcripts labelled by their intent"
        );
        eprintln!("transcripts labelled by their intent: {agreed} of {judged}");
    }

    // No secret anywhere: logs, events, attempts, progress and statistics.
    let now = rig.clock.now();
    let progress = BatchProgress::new(
        &batch,
        &counters,
        rig.store.recent_calls(&batch_id, 50).expect("recent calls"),
    );
    let statistics = BatchStatistics::new(&batch, &counters, now);
    let mut answers = serde_json::to_string(&progress).expect("json");
    answers.push_str(&serde_json::to_string(&statistics).expect("json"));
    for detail in &details {
        answers.push_str(&serde_json::to_string(&detail.contact).expect("json"));
        answers.push_str(&serde_json::to_string(&detail.attempts).expect("json"));
        answers.push_str(&serde_json::to_string(&detail.events).expect("json"));
    }
    let logs = String::from_utf8_lossy(&captured_logs().lock().expect("logs")).into_owned();
    for secret in [&rig.secrets.token, &rig.secrets.webhook_secret] {
        assert!(
            !answers.contains(secret.as_str()),
            "a secret reached the store"
        );
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs");
    }
    assert!(!logs.is_empty(), "logs were captured");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_contacts_through_twilio_survive_every_fault() {
    a_batch_survives_every_fault(Api::Twilio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_contacts_through_the_voice_ai_platform_survive_every_fault() {
    a_batch_survives_every_fault(Api::VoiceAi).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_outside_the_allow_list_is_refused_and_pauses_the_batch() {
    // The adapter is pointed at a host the campaign does not allow; the
    // simulator (which is allowed) must hear nothing.
    let rig = rig(Api::Twilio, Faults::none(), Some("http://127.0.0.2:9")).await;
    let batch_id = rig.create_batch(20);
    let runner = rig.start();
    rig.wait_for(
        &batch_id,
        |status| status == BatchStatus::Paused,
        Duration::from_secs(20),
    )
    .await;
    runner.stop();
    let batch = rig.store.require_batch(&batch_id).expect("batch");
    assert_eq!(batch.status_reason.as_deref(), Some("plugin_faulted"));
    let stats = rig.provider.stats();
    assert!(stats.egress_refused.load(Ordering::SeqCst) >= 5);
    assert_eq!(rig.sim.log().requests, 0);
    // The contacts wait, none is lost or failed for the misconfiguration.
    let counters = rig.store.batch_counters(&batch_id).expect("counters");
    assert_eq!(counters.status(ContactStatus::Failed), 0);
    assert_eq!(rig.store.recount(&batch_id).expect("recount"), counters);
    let refused = rig
        .all_contacts(&batch_id)
        .into_iter()
        .flat_map(|d| d.attempts)
        .find(|a| a.reason() == Some("provider_plugin_fault"))
        .expect("an attempt records the refusal");
    assert!(
        refused.metadata.iter().any(|(k, v)| k == "detail"
            && v.contains("127.0.0.2:9")
            && v.contains("allowed_hosts")),
        "{:?}",
        refused.metadata
    );
    let logs = String::from_utf8_lossy(&captured_logs().lock().expect("logs")).into_owned();
    assert!(!logs.contains(rig.secrets.token.as_str()));
    assert!(logs.contains("adapter request refused"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_is_answered_only_once_its_events_are_on_disk() {
    let rig = rig(Api::Twilio, Faults::none(), None).await;
    let url = format!(
        "{}/v1/webhooks/providers/{CAMPAIGN}?attempt_id=btc_x-4-1",
        rig.webhook_base
    );
    let params = vec![
        ("AccountSid".to_string(), rig.secrets.account.clone()),
        ("CallSid".to_string(), "CA77".to_string()),
        ("CallStatus".to_string(), "busy".to_string()),
        ("SipResponseCode".to_string(), "486".to_string()),
    ];
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (key, value) in &params {
        form.append_pair(key, value);
    }
    let body = form.finish();
    let client = outdial::net::http_client().build().expect("an HTTP client");
    let post = |url: String, body: String, signature: String| {
        client
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", signature)
            .body(body)
            .send()
    };
    let signature = twilio_signature(&rig.secrets.token, &url, &params);
    // The same callback twice, as a provider retrying it would send.
    for _ in 0..2 {
        let answer = post(url.clone(), body.clone(), signature.clone())
            .await
            .expect("answered");
        assert_eq!(answer.status().as_u16(), 200);
    }
    // What was answered 200 is on disk: a fresh reader of the inbox file
    // finds both copies (the engine ignores the second one).
    let on_disk = outdial::provider::inbox::Inbox::open(&rig.inbox_path)
        .expect("inbox reopens")
        .drain();
    assert_eq!(on_disk.len(), 2);
    assert_eq!(on_disk[0].attempt_id, "btc_x-4-1");
    assert_eq!(on_disk[0].provider_call_id, "CA77");
    assert!(matches!(
        &on_disk[0].kind,
        outdial::provider::CallEventKind::Ended(end)
            if end.outcome == outdial::model::CallOutcome::Busy && end.sip_code == Some(486)
    ));

    // A tampered body, an unknown campaign and a signed but unreadable
    // callback are refused, each with its own status.
    let tampered = body.replace("busy", "completed");
    let answer = post(url.clone(), tampered, signature.clone())
        .await
        .expect("answered");
    assert_eq!(answer.status().as_u16(), 401);
    let elsewhere = url.replace(CAMPAIGN, "no-such-campaign");
    let answer = post(elsewhere, body.clone(), signature)
        .await
        .expect("answered");
    assert_eq!(answer.status().as_u16(), 404);
    let unreadable = vec![("AccountSid".to_string(), rig.secrets.account.clone())];
    let answer = post(
        url.clone(),
        format!("AccountSid={}", rig.secrets.account),
        twilio_signature(&rig.secrets.token, &url, &unreadable),
    )
    .await
    .expect("answered");
    assert_eq!(answer.status().as_u16(), 400);
    let stats = rig.provider.stats();
    assert_eq!(stats.webhooks_accepted.load(Ordering::SeqCst), 2);
    assert_eq!(stats.webhooks_bad_signature.load(Ordering::SeqCst), 1);
    assert_eq!(stats.webhooks_malformed.load(Ordering::SeqCst), 1);
}

/// A create-call request the provider does not answer within the host's
/// timeout may have placed the call or not: the host cannot tell. Either
/// way the contact is not dialed again while that call may ring: a call
/// that exists is known by its callbacks and ends as they say; one that
/// never came to be ends as `placement_unknown` at the call timeout, and
/// counts as an attempt. No attempt is ever placed twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_placements_are_waited_for_and_no_contact_is_called_while_a_call_may_ring() {
    const CONTACTS: usize = 60;
    let faults = Faults {
        slow_rate: 0.15,
        late_answer_rate: 0.15,
        slow_answer: Duration::from_millis(600),
        ..Faults::none()
    };
    let limits = HttpLimits {
        timeout: Duration::from_millis(150),
        ..HttpLimits::default()
    };
    let rig = rig_with(Api::Twilio, faults, None, limits).await;
    let batch_id = rig.create_batch(CONTACTS);
    let runner = rig.start();
    rig.wait_for(&batch_id, BatchStatus::is_final, Duration::from_secs(60))
        .await;
    runner.stop();

    let batch = rig.store.require_batch(&batch_id).expect("batch");
    assert_eq!(batch.status, BatchStatus::Completed);
    let counters = rig.store.batch_counters(&batch_id).expect("counters");
    assert_eq!(counters.finished(), CONTACTS as u64);
    assert_eq!(rig.store.recount(&batch_id).expect("recount"), counters);
    let log = rig.sim.log();
    assert!(log.slow > 0 && !log.late_answers.is_empty(), "{log:?}");
    let details = rig.all_contacts(&batch_id);
    let mut unknown = 0;
    for detail in &details {
        let attempts = &detail.attempts;
        for attempt in attempts {
            let calls = log.calls_per_attempt.get(&attempt.id).copied().unwrap_or(0);
            assert!(
                calls <= 1,
                "attempt {} was placed {calls} times",
                attempt.id
            );
            assert_ne!(
                attempt.reason(),
                Some("provider_transient_failure"),
                "a timeout is never retried at once"
            );
            if attempt.reason() == Some("placement_unknown") {
                unknown += 1;
                assert_eq!(calls, 0, "{} had a call and was not told", attempt.id);
                assert!(!attempt.system_retry, "it may have been a call: it counts");
            }
            if log.late_answers.contains(&attempt.id) {
                assert!(
                    attempt.provider_call_id.is_some(),
                    "the callbacks of {} named its call",
                    attempt.id
                );
                assert_ne!(attempt.reason(), Some("placement_unknown"));
            }
        }
        for pair in attempts.windows(2) {
            assert!(
                pair[1].started_at >= pair[0].ended_at.expect("ended"),
                "{} was dialed while {} could still ring",
                pair[1].id,
                pair[0].id
            );
        }
        let counted = attempts.iter().filter(|a| !a.system_retry).count();
        assert_eq!(detail.contact.attempts_made as usize, counted);
        assert!(detail.contact.status.is_final());
    }
    assert_eq!(
        unknown as u64,
        log.slow - log.slow_answered,
        "every request that timed out before a call was placed: {log:?}"
    );
}
