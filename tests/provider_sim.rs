//! A provider simulator on loopback that speaks two HTTP APIs:
//!
//! - Twilio's Programmable Voice (create call, fetch call, form-encoded
//!   status callbacks signed with `X-Twilio-Signature`), authenticated
//!   with an account SID and auth token;
//! - a voice-AI platform's (bearer token, JSON create call with an
//!   idempotency key, JSON status updates and end-of-call reports signed
//!   with HMAC-SHA256 over `timestamp.body`).
//!
//! Calls play out like the in-process simulated provider's (its scripts:
//! outcome, ring and talk time, transcript, cost), in real time divided by
//! the time scale. Faults are injected by seeded dice per attempt and try:
//! 429 with Retry-After, 5xx, slow answers, and lost, duplicated and
//! reordered callbacks. A call log records every accepted call by attempt
//! id and when it was accepted, and the simulator counts live calls and
//! create-call requests it is still answering.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use outdial::clock::Clock;
use outdial::model::{MachineDetection, Millis};
use outdial::provider::simulated::{CallScript, ScriptedOutcome};
use outdial::provider::{SimulatedProvider, SimulationConfig};
use serde_json::json;

/// Which API a simulator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Twilio,
    VoiceAi,
}

/// Faults to inject, as probabilities per request or call.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Create-call requests answered 429 with `Retry-After`.
    pub throttle_rate: f64,
    /// The `Retry-After` of a 429, in seconds.
    pub retry_after_s: u64,
    /// Create-call requests answered 500 or 503.
    pub server_error_rate: f64,
    /// Create-call requests answered only after `slow_answer`, the call
    /// placed only then: a client that gave up before has no call.
    pub slow_rate: f64,
    /// Create-call requests whose call is placed at once and whose answer
    /// comes only after `slow_answer`: a client that gave up has a call
    /// it does not know the id of.
    pub late_answer_rate: f64,
    pub slow_answer: Duration,
    /// Calls whose final callback is never sent (a poll still tells).
    pub lost_final_rate: f64,
    /// Calls whose final callback is sent twice.
    pub duplicate_rate: f64,
    /// Calls whose final callback overtakes the answered one.
    pub reorder_rate: f64,
}

impl Faults {
    /// No faults at all.
    pub fn none() -> Self {
        Faults {
            throttle_rate: 0.0,
            retry_after_s: 1,
            server_error_rate: 0.0,
            slow_rate: 0.0,
            late_answer_rate: 0.0,
            slow_answer: Duration::ZERO,
            lost_final_rate: 0.0,
            duplicate_rate: 0.0,
            reorder_rate: 0.0,
        }
    }

    /// Every fault, each often enough to happen many times in a batch.
    pub fn all() -> Self {
        Faults {
            throttle_rate: 0.06,
            retry_after_s: 1,
            server_error_rate: 0.06,
            slow_rate: 0.03,
            late_answer_rate: 0.0,
            slow_answer: Duration::from_millis(150),
            lost_final_rate: 0.05,
            duplicate_rate: 0.08,
            reorder_rate: 0.08,
        }
    }
}

/// How a simulator is set up.
#[derive(Debug, Clone)]
pub struct SimSetup {
    pub api: Api,
    /// Twilio: the account SID. Voice AI: unused.
    pub account: String,
    /// Twilio: the auth token. Voice AI: the API key.
    pub credential: String,
    /// Voice AI: the webhook signing secret.
    pub webhook_secret: String,
    /// The call scripts: outcome mix, durations, transcripts, seed.
    pub scripts: SimulationConfig,
    /// Simulated milliseconds per real millisecond (the runtime's clock
    /// runs at the same scale).
    pub time_scale: f64,
    /// Numbers starting with this are refused as invalid.
    pub invalid_prefix: String,
    pub faults: Faults,
}

/// What the simulator saw, for assertions.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    /// Accepted calls per attempt id.
    pub calls_per_attempt: HashMap<String, u32>,
    /// Every accepted call in order: its attempt id and the simulator's
    /// clock time it was accepted at.
    pub placements: Vec<(String, Millis)>,
    /// Create-call requests, accepted or not.
    pub requests: u64,
    /// Requests refused for bad credentials.
    pub unauthorized: u64,
    pub throttled: u64,
    pub server_errors: u64,
    pub slow: u64,
    /// Slow requests whose client still waited when the answer came; the
    /// others were dropped with the connection, their call never placed.
    pub slow_answered: u64,
    /// Calls placed whose answer was held back by `late_answer_rate`.
    pub late_answers: Vec<String>,
    pub invalid_numbers: u64,
    pub lost_finals: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub polls: u64,
    /// Callbacks the runtime did not answer 2xx, after retries.
    pub undelivered: u64,
}

struct Call {
    attempt_id: String,
    callback_url: String,
    script: CallScript,
    /// Clock time of placement.
    placed_at: Millis,
}

struct Shared {
    setup: SimSetup,
    scripts: SimulatedProvider,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    log: Mutex<CallLog>,
    calls: Mutex<HashMap<String, Call>>,
    idempotency: Mutex<HashMap<String, String>>,
    tries: Mutex<HashMap<String, u32>>,
    live: AtomicU64,
    max_live: AtomicU64,
    next_call: AtomicU64,
    /// Create-call requests received and not answered yet.
    creating: AtomicU64,
}

/// Serves `router` on a free loopback port for as long as the returned
/// task runs.
pub async fn serve_on_loopback(router: Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("bound");
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("a loopback server serves");
    });
    (addr, server)
}

/// A running simulator.
pub struct ProviderSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for ProviderSim {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl ProviderSim {
    /// Start a simulator on a free loopback port, on the current runtime.
    pub async fn start(setup: SimSetup, clock: Arc<dyn Clock>) -> ProviderSim {
        let scripts = SimulatedProvider::new(setup.scripts.clone());
        let shared = Arc::new(Shared {
            setup,
            scripts,
            clock,
            http: outdial::net::http_client()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client"),
            log: Mutex::new(CallLog::default()),
            calls: Mutex::new(HashMap::new()),
            idempotency: Mutex::new(HashMap::new()),
            tries: Mutex::new(HashMap::new()),
            live: AtomicU64::new(0),
            max_live: AtomicU64::new(0),
            next_call: AtomicU64::new(1),
            creating: AtomicU64::new(0),
        });
        let router = Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Calls.json",
                post(twilio_create),
            )
            .route(
                "/2010-04-01/Accounts/{account}/Calls/{call}",
                get(twilio_fetch),
            )
            .route("/call", post(voiceai_create))
            .route("/call/{call}", get(voiceai_fetch))
            .with_state(shared.clone());
        let (addr, server) = serve_on_loopback(router).await;
        ProviderSim {
            addr,
            shared,
            server,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`, as an allow-list entry.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// A copy of the call log.
    pub fn log(&self) -> CallLog {
        lock(&self.shared.log).clone()
    }

    /// Calls live right now, by the simulator's account.
    pub fn live_calls(&self) -> u64 {
        self.shared.live.load(Ordering::SeqCst)
    }

    /// The most calls that were live at once.
    pub fn max_live(&self) -> u64 {
        self.shared.max_live.load(Ordering::SeqCst)
    }

    /// Create-call requests received and not answered yet: a dial in
    /// flight.
    pub fn creates_in_flight(&self) -> u64 {
        self.shared.creating.load(Ordering::SeqCst)
    }

    /// The script an attempt's call plays.
    pub fn script(&self, attempt_id: &str) -> CallScript {
        self.shared.scripts.script(attempt_id)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Counts a create-call request from its arrival until it is answered, or
/// until its caller hangs up and the handler is dropped.
struct Creating(Arc<Shared>);

impl Creating {
    fn start(shared: &Arc<Shared>) -> Creating {
        shared.creating.fetch_add(1, Ordering::SeqCst);
        Creating(shared.clone())
    }
}

impl Drop for Creating {
    fn drop(&mut self) {
        self.0.creating.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A deterministic draw in [0, 1) for `key`.
fn dice(seed: u64, key: &str) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // SplitMix64 finaliser, so neighbouring keys spread out.
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// A refusal before the call exists, decided by the dice.
enum Refusal {
    Throttle,
    ServerError,
}

impl Shared {
    fn roll(&self, attempt_id: &str, what: &str) -> f64 {
        dice(self.setup.scripts.seed, &format!("{what}/{attempt_id}"))
    }

    /// Faults before the call is accepted; `Some` ends the request.
    async fn before_accept(&self, attempt_id: &str) -> Option<Refusal> {
        let try_number = {
            let mut tries = lock(&self.tries);
            let n = tries.entry(attempt_id.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        let faults = &self.setup.faults;
        let roll = dice(
            self.setup.scripts.seed,
            &format!("refuse/{attempt_id}/{try_number}"),
        );
        if roll < faults.throttle_rate {
            lock(&self.log).throttled += 1;
            return Some(Refusal::Throttle);
        }
        if roll < faults.throttle_rate + faults.server_error_rate {
            lock(&self.log).server_errors += 1;
            return Some(Refusal::ServerError);
        }
        if self.roll(&format!("{attempt_id}/{try_number}"), "slow") < faults.slow_rate {
            lock(&self.log).slow += 1;
            tokio::time::sleep(faults.slow_answer).await;
            // Reached only when the client did not give up first: on a
            // machine busy enough, its timer fires after the answer came.
            lock(&self.log).slow_answered += 1;
        }
        None
    }

    /// [`accept`](Self::accept), then hold the answer back for the calls
    /// `late_answer_rate` picks.
    async fn accept_and_answer(self: &Arc<Self>, attempt_id: &str, callback_url: String) -> String {
        let call_id = self.accept(attempt_id, callback_url);
        let faults = &self.setup.faults;
        if self.roll(attempt_id, "late") < faults.late_answer_rate {
            lock(&self.log).late_answers.push(attempt_id.to_string());
            tokio::time::sleep(faults.slow_answer).await;
        }
        call_id
    }

    /// Record an accepted call and play it out; answers its id.
    fn accept(self: &Arc<Self>, attempt_id: &str, callback_url: String) -> String {
        let prefix = match self.setup.api {
            Api::Twilio => "CA",
            Api::VoiceAi => "call-",
        };
        let call_id = format!(
            "{prefix}{:032x}",
            self.next_call.fetch_add(1, Ordering::SeqCst)
        );
        let placed_at = self.clock.now();
        {
            let mut log = lock(&self.log);
            *log.calls_per_attempt
                .entry(attempt_id.to_string())
                .or_insert(0) += 1;
            log.placements.push((attempt_id.to_string(), placed_at));
        }
        let script = self.scripts.script(attempt_id);
        let live = self.live.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_live.fetch_max(live, Ordering::SeqCst);
        lock(&self.calls).insert(
            call_id.clone(),
            Call {
                attempt_id: attempt_id.to_string(),
                callback_url,
                script,
                placed_at,
            },
        );
        let shared = self.clone();
        let id = call_id.clone();
        tokio::spawn(async move { shared.play(id).await });
        call_id
    }

    fn real(&self, simulated_ms: u64) -> Duration {
        Duration::from_micros((simulated_ms as f64 * 1_000.0 / self.setup.time_scale) as u64)
    }

    /// Send the call's callbacks at their times, with the injected faults.
    async fn play(self: Arc<Self>, call_id: String) {
        let (attempt_id, script) = {
            let calls = lock(&self.calls);
            let call = &calls[&call_id];
            (call.attempt_id.clone(), call.script.clone())
        };
        let answered = matches!(
            script.outcome,
            ScriptedOutcome::Human | ScriptedOutcome::Voicemail | ScriptedOutcome::CallScreening
        );
        let faults = &self.setup.faults;
        let lost = self.roll(&attempt_id, "lost") < faults.lost_final_rate;
        let duplicate = !lost && self.roll(&attempt_id, "duplicate") < faults.duplicate_rate;
        let reorder = answered && self.roll(&attempt_id, "reorder") < faults.reorder_rate;

        tokio::time::sleep(self.real(script.latency_ms)).await;
        self.deliver(&call_id, Stage::Ringing).await;
        if answered {
            tokio::time::sleep(self.real(script.ring_ms)).await;
            if !reorder {
                self.deliver(&call_id, Stage::Answered).await;
            }
        } else {
            tokio::time::sleep(self.real(script.ring_ms)).await;
        }
        tokio::time::sleep(self.real(script.talk_ms)).await;
        // The call is over before anyone hears of it.
        self.live.fetch_sub(1, Ordering::SeqCst);
        if lost {
            lock(&self.log).lost_finals += 1;
        } else {
            self.deliver(&call_id, Stage::Ended).await;
            if duplicate {
                lock(&self.log).duplicated += 1;
                self.deliver(&call_id, Stage::Ended).await;
            }
        }
        if reorder {
            lock(&self.log).reordered += 1;
            self.deliver(&call_id, Stage::Answered).await;
        }
    }

    /// Post one callback, retrying a few times when not answered 2xx.
    async fn deliver(&self, call_id: &str, stage: Stage) {
        let Some(callback) = self.callback(call_id, stage) else {
            return;
        };
        for attempt in 0..4 {
            let mut request = self.http.post(&callback.url).body(callback.body.clone());
            for (name, value) in &callback.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => return,
                _ => tokio::time::sleep(Duration::from_millis(20 << attempt)).await,
            }
        }
        lock(&self.log).undelivered += 1;
    }

    /// The URL, headers and body of a callback, signed.
    fn callback(&self, call_id: &str, stage: Stage) -> Option<Callback> {
        let calls = lock(&self.calls);
        let call = calls.get(call_id)?;
        Some(match self.setup.api {
            Api::Twilio => {
                let params = twilio_params(&self.setup.account, call_id, &call.script, stage);
                let mut form = form_urlencoded::Serializer::new(String::new());
                for (key, value) in &params {
                    form.append_pair(key, value);
                }
                let signature =
                    twilio_signature(&self.setup.credential, &call.callback_url, &params);
                Callback {
                    url: call.callback_url.clone(),
                    headers: vec![
                        (
                            "Content-Type".to_string(),
                            "application/x-www-form-urlencoded".to_string(),
                        ),
                        ("X-Twilio-Signature".to_string(), signature),
                    ],
                    body: form.finish().into_bytes(),
                }
            }
            Api::VoiceAi => {
                let message = voiceai_message(call_id, call, stage);
                let body = json!({ "message": message }).to_string().into_bytes();
                let timestamp = (self.clock.now() / 1_000).to_string();
                let signature = voiceai_signature(&self.setup.webhook_secret, &timestamp, &body);
                Callback {
                    url: call.callback_url.clone(),
                    headers: vec![
                        ("Content-Type".to_string(), "application/json".to_string()),
                        ("X-Signature".to_string(), signature),
                        ("X-Signature-Timestamp".to_string(), timestamp),
                    ],
                    body,
                }
            }
        })
    }

    /// Where a call stands now, by its script.
    fn stage_now(&self, call: &Call) -> Stage {
        // The runtime's clock runs at the scripts' scale: its milliseconds
        // are simulated ones.
        let elapsed_simulated = (self.clock.now() - call.placed_at).max(0) as u64;
        let script = &call.script;
        let rang = script.latency_ms;
        let answered = rang + script.ring_ms;
        let ended = answered + script.talk_ms;
        if elapsed_simulated >= ended {
            Stage::Ended
        } else if elapsed_simulated >= answered
            && matches!(
                script.outcome,
                ScriptedOutcome::Human
                    | ScriptedOutcome::Voicemail
                    | ScriptedOutcome::CallScreening
            )
        {
            Stage::Answered
        } else if elapsed_simulated >= rang {
            Stage::Ringing
        } else {
            Stage::Queued
        }
    }
}

/// A callback ready to post: URL, headers, body.
struct Callback {
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Queued,
    Ringing,
    Answered,
    Ended,
}

/// The `X-Twilio-Signature` of `params` posted to `url`.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()).expect("any key length");
    mac.update(url.as_bytes());
    for (key, value) in sorted {
        mac.update(key.as_bytes());
        mac.update(value.as_bytes());
    }
    BASE64.encode(mac.finalize().into_bytes())
}

/// The `X-Signature` of a voice-AI webhook body signed at `timestamp`.
pub fn voiceai_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn twilio_status(script: &CallScript, stage: Stage) -> &'static str {
    match stage {
        Stage::Queued => "queued",
        Stage::Ringing => "ringing",
        Stage::Answered => "in-progress",
        Stage::Ended => match script.outcome {
            ScriptedOutcome::Human
            | ScriptedOutcome::Voicemail
            | ScriptedOutcome::CallScreening => "completed",
            ScriptedOutcome::Busy => "busy",
            ScriptedOutcome::NoAnswer => "no-answer",
            ScriptedOutcome::Failed => "failed",
        },
    }
}

fn twilio_answered_by(script: &CallScript) -> Option<&'static str> {
    match script.machine_detection {
        MachineDetection::Human => Some("human"),
        MachineDetection::Machine => Some("machine_end_beep"),
        MachineDetection::Fax => Some("fax"),
        MachineDetection::CallScreening | MachineDetection::Unknown => Some("unknown"),
        MachineDetection::NotRun => None,
    }
}

fn twilio_params(
    account: &str,
    call_id: &str,
    script: &CallScript,
    stage: Stage,
) -> Vec<(String, String)> {
    let mut params = vec![
        ("AccountSid".to_string(), account.to_string()),
        ("CallSid".to_string(), call_id.to_string()),
        (
            "CallStatus".to_string(),
            twilio_status(script, stage).to_string(),
        ),
        ("ApiVersion".to_string(), "2010-04-01".to_string()),
    ];
    if stage == Stage::Ended {
        params.push((
            "CallDuration".to_string(),
            script.talk_ms.div_ceil(1_000).to_string(),
        ));
        params.push(("SipResponseCode".to_string(), script.sip_code.to_string()));
        if let Some(by) = twilio_answered_by(script) {
            params.push(("AnsweredBy".to_string(), by.to_string()));
        }
    }
    params
}

fn voiceai_reason(script: &CallScript) -> &'static str {
    match script.outcome {
        ScriptedOutcome::Human => "customer-ended-call",
        ScriptedOutcome::Voicemail => "voicemail",
        ScriptedOutcome::CallScreening => "call-screening",
        ScriptedOutcome::Busy => "customer-busy",
        ScriptedOutcome::NoAnswer => "customer-did-not-answer",
        ScriptedOutcome::Failed => "phone-call-provider-failed-to-connect",
    }
}

fn voiceai_call(call_id: &str, call: &Call, stage: Stage) -> serde_json::Value {
    let status = match stage {
        Stage::Queued => "queued",
        Stage::Ringing => "ringing",
        Stage::Answered => "in-progress",
        Stage::Ended => "ended",
    };
    let mut object = json!({
        "id": call_id,
        "status": status,
        "metadata": { "attempt_id": call.attempt_id },
    });
    if stage == Stage::Ended {
        let script = &call.script;
        object["endedReason"] = json!(voiceai_reason(script));
        object["transcript"] = json!(script.transcript.unwrap_or(""));
        object["summary"] = json!(format!("{:?} call", script.outcome));
        object["cost"] = json!(script.cost_micros as f64 / 1e6);
        object["durationSeconds"] = json!(script.talk_ms as f64 / 1_000.0);
        object["sipCode"] = json!(script.sip_code);
    }
    object
}

fn voiceai_message(call_id: &str, call: &Call, stage: Stage) -> serde_json::Value {
    let object = voiceai_call(call_id, call, stage);
    match stage {
        Stage::Ended => {
            let mut message = object.clone();
            message["type"] = json!("end-of-call-report");
            message["call"] =
                json!({ "id": call_id, "metadata": { "attempt_id": call.attempt_id } });
            message
        }
        _ => json!({
            "type": "status-update",
            "status": object["status"],
            "call": { "id": call_id, "metadata": { "attempt_id": call.attempt_id } },
        }),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        [("Content-Type", "application/json")],
        json!({ "code": code, "message": message, "status": status.as_u16() }).to_string(),
    )
        .into_response()
}

fn twilio_authorized(shared: &Shared, account: &str, headers: &HeaderMap) -> bool {
    let expected = format!(
        "Basic {}",
        BASE64.encode(format!(
            "{}:{}",
            shared.setup.account, shared.setup.credential
        ))
    );
    account == shared.setup.account && header(headers, "authorization") == Some(expected.as_str())
}

async fn twilio_create(
    State(shared): State<Arc<Shared>>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _creating = Creating::start(&shared);
    lock(&shared.log).requests += 1;
    if !twilio_authorized(&shared, &account, &headers) {
        lock(&shared.log).unauthorized += 1;
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let (Some(to), Some(_from), Some(callback)) =
        (field("To"), field("From"), field("StatusCallback"))
    else {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21201,
            "To, From and StatusCallback are required",
        );
    };
    if field("Url").is_none() && field("Twiml").is_none() {
        return twilio_error(StatusCode::BAD_REQUEST, 21205, "Url or Twiml is required");
    }
    let Some(attempt_id) = callback.split_once('?').and_then(|(_, query)| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "attempt_id")
            .map(|(_, v)| v.into_owned())
    }) else {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21609,
            "StatusCallback names no attempt",
        );
    };
    if to.starts_with(&shared.setup.invalid_prefix) {
        lock(&shared.log).invalid_numbers += 1;
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    match shared.before_accept(&attempt_id).await {
        Some(Refusal::Throttle) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    ("Retry-After", shared.setup.faults.retry_after_s.to_string()),
                    ("Content-Type", "application/json".to_string()),
                ],
                json!({ "code": 20429, "message": "Too Many Requests" }).to_string(),
            )
                .into_response();
        }
        Some(Refusal::ServerError) => {
            return twilio_error(
                StatusCode::SERVICE_UNAVAILABLE,
                20500,
                "Service Unavailable",
            );
        }
        None => {}
    }
    let call_id = shared.accept_and_answer(&attempt_id, callback).await;
    (
        StatusCode::CREATED,
        [("Content-Type", "application/json")],
        json!({ "sid": call_id, "status": "queued", "to": to }).to_string(),
    )
        .into_response()
}

async fn twilio_fetch(
    State(shared): State<Arc<Shared>>,
    Path((account, call)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !twilio_authorized(&shared, &account, &headers) {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    lock(&shared.log).polls += 1;
    let call_id = call.trim_end_matches(".json");
    let calls = lock(&shared.calls);
    let Some(record) = calls.get(call_id) else {
        return twilio_error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        );
    };
    let stage = shared.stage_now(record);
    let script = &record.script;
    let mut body = json!({
        "sid": call_id,
        "status": twilio_status(script, stage),
        "duration": if stage == Stage::Ended { Some(script.talk_ms.div_ceil(1_000).to_string()) } else { None },
        "answered_by": if stage == Stage::Ended { twilio_answered_by(script) } else { None },
        "price": null,
        "price_unit": "USD",
    });
    if stage == Stage::Ended {
        body["price"] = json!(format!("-{:.5}", script.cost_micros as f64 / 1e6));
    }
    (
        StatusCode::OK,
        [("Content-Type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn voiceai_authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    header(headers, "authorization") == Some(format!("Bearer {}", shared.setup.credential).as_str())
}

fn voiceai_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        [("Content-Type", "application/json")],
        json!({ "error": { "type": kind, "message": message } }).to_string(),
    )
        .into_response()
}

async fn voiceai_create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _creating = Creating::start(&shared);
    lock(&shared.log).requests += 1;
    if !voiceai_authorized(&shared, &headers) {
        lock(&shared.log).unauthorized += 1;
        return voiceai_error(StatusCode::UNAUTHORIZED, "unauthorized", "invalid API key");
    }
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return voiceai_error(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the body is not JSON",
        );
    };
    let to = request["customer"]["number"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let callback = request["serverUrl"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(attempt_id) = request["metadata"]["attempt_id"]
        .as_str()
        .map(str::to_string)
    else {
        return voiceai_error(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "metadata.attempt_id is required",
        );
    };
    if request["assistantId"].as_str().is_none_or(str::is_empty) || callback.is_empty() {
        return voiceai_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "assistantId and serverUrl are required",
        );
    }
    let key = header(&headers, "idempotency-key").map(str::to_string);
    if let Some(key) = &key
        && let Some(call_id) = lock(&shared.idempotency).get(key).cloned()
    {
        // The same request again: the same call, nothing new placed.
        return (
            StatusCode::CREATED,
            [("Content-Type", "application/json")],
            json!({ "id": call_id, "status": "queued" }).to_string(),
        )
            .into_response();
    }
    if to.starts_with(&shared.setup.invalid_prefix) {
        lock(&shared.log).invalid_numbers += 1;
        return voiceai_error(
            StatusCode::BAD_REQUEST,
            "invalid_phone_number",
            &format!("customer.number {to} is not a valid phone number"),
        );
    }
    match shared.before_accept(&attempt_id).await {
        Some(Refusal::Throttle) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("Retry-After", shared.setup.faults.retry_after_s.to_string())],
                "rate limited",
            )
                .into_response();
        }
        Some(Refusal::ServerError) => {
            return voiceai_error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "try again");
        }
        None => {}
    }
    let call_id = shared.accept_and_answer(&attempt_id, callback).await;
    if let Some(key) = key {
        lock(&shared.idempotency).insert(key, call_id.clone());
    }
    (
        StatusCode::CREATED,
        [("Content-Type", "application/json")],
        json!({ "id": call_id, "status": "queued" }).to_string(),
    )
        .into_response()
}

async fn voiceai_fetch(
    State(shared): State<Arc<Shared>>,
    Path(call): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !voiceai_authorized(&shared, &headers) {
        return voiceai_error(StatusCode::UNAUTHORIZED, "unauthorized", "invalid API key");
    }
    lock(&shared.log).polls += 1;
    let calls = lock(&shared.calls);
    let Some(record) = calls.get(&call) else {
        return voiceai_error(StatusCode::NOT_FOUND, "not_found", "no such call");
    };
    let body = voiceai_call(&call, record, shared.stage_now(record));
    (
        StatusCode::OK,
        [("Content-Type", "application/json")],
        body.to_string(),
    )
        .into_response()
}
