//! The security suite: what an attacker outside, a tenant next door or a
//! hostile plugin could try, gathered in one place.
//!
//! Covered elsewhere, not repeated here:
//! - workspace isolation on every endpoint, and missing, forged and
//!   mismatched API keys: `api::another_workspaces_key_gets_404_or_403_on_every_endpoint`,
//!   `api::missing_forged_and_mismatched_keys_are_refused`;
//! - forged webhook signatures (wrong secret) for both adapters, a voice-AI
//!   report replayed a day later, a request outside the egress allow-list,
//!   and secrets kept out of logs, events and the store:
//!   `providers::a_batch_survives_every_fault` (both adapters) and
//!   `providers::a_request_outside_the_allow_list_is_refused_and_pauses_the_batch`;
//! - tampered, replayed and unsigned webhooks generated at random, at the
//!   adapter plugins: `bad_input`;
//! - plugin escapes (host files, environment, network, clock, endless
//!   loop, memory bomb, panic): `plugin_host::a_plugin_cannot_read_host_files`,
//!   `a_plugin_sees_no_environment_variables`,
//!   `a_plugin_that_wants_the_network_is_refused_at_load`,
//!   `the_clock_a_plugin_reads_is_the_decision_time_and_its_randomness_is_seeded`,
//!   `an_endless_loop_is_cut_off_at_its_cpu_deadline_while_others_keep_working`,
//!   `a_memory_bomb_hits_its_memory_cap`,
//!   `a_panicking_plugin_reports_its_panic_message_and_the_host_keeps_serving`.
//!
//! Here: tampered and replayed webhooks over HTTP, answered 401 and
//! counted, with nothing made durable; and no secret in any API answer or
//! export.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use outdial::api::{hash_key, routes};
use outdial::clock::{Clock, ManualClock};
use outdial::plugin_host::{PluginHost, PluginLimits, PluginSource};
use outdial::provider::http::HttpLimits;
use outdial::provider::secrets::Redactor;
use outdial::provider::webhooks::{WebhookEndpoints, router};
use outdial::provider::{AdapterProvider, AdapterSetup};
use outdial_tests::provider_sim::{twilio_signature, voiceai_signature};

use crate::api::{ACME_KEY, WEBHOOK_SECRET, concrete_routes, start, three_contacts};

/// 2026-03-02 15:00 UTC.
const NOW: i64 = 1_772_463_600_000;
const TWILIO_TOKEN: &str = "tw-token-9f8e7d6c5b4a";
const VOICEAI_SECRET: &str = "va-secret-1a2b3c4d5e6f";

/// One campaign's webhook endpoint over a real socket, in front of an
/// adapter plugin.
struct Endpoint {
    url: String,
    provider: Arc<AdapterProvider>,
    inbox: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn endpoint(adapter: &str, config: &[(&str, &str)], secret: &str) -> Endpoint {
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW));
    let endpoints = Arc::new(WebhookEndpoints::new(&base, clock.clone()));
    let config: Vec<(String, String)> = config
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    let plugin = PluginHost::new()
        .expect("plugin host")
        .load_adapter(
            &PluginSource::Builtin(adapter.to_string()),
            &config,
            PluginLimits::default(),
        )
        .expect("the adapter loads");
    let inbox = dir.path().join("inbox.jsonl");
    let provider = Arc::new(
        AdapterProvider::new(
            Arc::new(plugin),
            AdapterSetup {
                campaign_id: "renewals".to_string(),
                callback_url: endpoints.callback_url("renewals"),
                allowed_hosts: vec!["api.provider.example".to_string()],
                limits: HttpLimits::default(),
                inbox_path: inbox.clone(),
            },
            Redactor::new([secret.to_string()]),
            clock,
        )
        .expect("the adapter provider"),
    );
    endpoints.register(provider.clone());
    let app = router(endpoints.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Endpoint {
        url: endpoints.callback_url("renewals"),
        provider,
        inbox,
        _dir: dir,
    }
}

impl Endpoint {
    async fn post(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> u16 {
        let mut request = outdial::net::http_client()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client")
            .post(url)
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request
            .send()
            .await
            .expect("the endpoint answers")
            .status()
            .as_u16()
    }

    fn refused_as_badly_signed(&self) -> u64 {
        self.provider
            .stats()
            .webhooks_bad_signature
            .load(Ordering::Relaxed)
    }

    fn accepted(&self) -> u64 {
        self.provider
            .stats()
            .webhooks_accepted
            .load(Ordering::Relaxed)
    }

    /// Lines made durable in the inbox.
    fn inbox_lines(&self) -> usize {
        std::fs::read_to_string(&self.inbox).map_or(0, |text| text.lines().count())
    }
}

fn form(params: &[(String, String)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_and_replayed_twilio_callbacks_are_answered_401_and_nothing_is_kept() {
    let endpoint = endpoint(
        "provider-twilio",
        &[
            ("account_sid", "AC77"),
            ("auth_token", TWILIO_TOKEN),
            ("api_base", "https://api.provider.example"),
            ("twiml_url", "https://app.example.com/voice"),
        ],
        TWILIO_TOKEN,
    )
    .await;
    let url = format!("{}?attempt_id=b1-0-1", endpoint.url);
    let params: Vec<(String, String)> = [
        ("AccountSid", "AC77"),
        ("CallSid", "CA1"),
        ("CallStatus", "completed"),
        ("CallDuration", "42"),
    ]
    .iter()
    .map(|(key, value)| (key.to_string(), value.to_string()))
    .collect();
    let signed = |url: &str| {
        vec![
            (
                "content-type",
                "application/x-www-form-urlencoded".to_string(),
            ),
            (
                "x-twilio-signature",
                twilio_signature(TWILIO_TOKEN, url, &params),
            ),
        ]
    };

    // The genuine callback is accepted: the refusals below are about the
    // changes, not the setup.
    assert_eq!(endpoint.post(&url, &signed(&url), form(&params)).await, 200);
    assert_eq!(endpoint.accepted(), 1);
    let kept = endpoint.inbox_lines();
    assert!(kept > 0, "the genuine callback is on disk");

    // Its outcome rewritten: busy instead of completed.
    let mut rewritten = params.clone();
    rewritten[2].1 = "busy".to_string();
    assert_eq!(
        endpoint.post(&url, &signed(&url), form(&rewritten)).await,
        401
    );
    // Its duration inflated, a parameter appended.
    let mut padded = params.clone();
    padded.push(("CallDuration".to_string(), "9999".to_string()));
    assert_eq!(endpoint.post(&url, &signed(&url), form(&padded)).await, 401);
    // Replayed against another attempt of the same campaign.
    let other = format!("{}?attempt_id=b1-7-1", endpoint.url);
    assert_eq!(
        endpoint.post(&other, &signed(&url), form(&params)).await,
        401
    );
    // Its signature header dropped.
    assert_eq!(
        endpoint.post(&url, &signed(&url)[..1], form(&params)).await,
        401
    );

    assert_eq!(endpoint.refused_as_badly_signed(), 4);
    assert_eq!(endpoint.accepted(), 1);
    assert_eq!(
        endpoint.inbox_lines(),
        kept,
        "a refused callback left a trace"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_and_replayed_voiceai_reports_are_answered_401_and_nothing_is_kept() {
    let endpoint = endpoint(
        "provider-voiceai",
        &[
            ("api_base", "https://api.provider.example"),
            ("api_key", "va-api-key"),
            ("assistant_id", "asst-1"),
            ("webhook_secret", VOICEAI_SECRET),
        ],
        VOICEAI_SECRET,
    )
    .await;
    let body = br#"{"message":{"type":"end-of-call-report","call":{"id":"call-1","metadata":{"attempt_id":"b1-0-1"}},"endedReason":"customer-ended-call","transcript":"yes, renew it","cost":0.12}}"#.to_vec();
    let signed = |timestamp: i64, body: &[u8]| {
        let timestamp = timestamp.to_string();
        vec![
            ("content-type", "application/json".to_string()),
            (
                "x-signature",
                voiceai_signature(VOICEAI_SECRET, &timestamp, body),
            ),
            ("x-signature-timestamp", timestamp),
        ]
    };
    let now_s = NOW / 1_000;

    assert_eq!(
        endpoint
            .post(&endpoint.url, &signed(now_s, &body), body.clone())
            .await,
        200
    );
    let kept = endpoint.inbox_lines();
    assert!(kept > 0, "the genuine report is on disk");

    // The transcript rewritten after signing.
    let rewritten = String::from_utf8(body.clone())
        .unwrap()
        .replace("yes, renew it", "no, cancel it")
        .into_bytes();
    assert_eq!(
        endpoint
            .post(&endpoint.url, &signed(now_s, &body), rewritten)
            .await,
        401
    );
    // Replayed with a fresh timestamp but the old signature.
    let mut restamped = signed(now_s, &body);
    restamped[2].1 = (now_s + 60).to_string();
    assert_eq!(
        endpoint.post(&endpoint.url, &restamped, body.clone()).await,
        401
    );
    // Genuinely signed an hour ago, or an hour ahead: outside the tolerance.
    for signed_at in [now_s - 3_600, now_s + 3_600] {
        assert_eq!(
            endpoint
                .post(&endpoint.url, &signed(signed_at, &body), body.clone())
                .await,
            401
        );
    }

    assert_eq!(endpoint.refused_as_badly_signed(), 4);
    assert_eq!(endpoint.accepted(), 1);
    assert_eq!(
        endpoint.inbox_lines(),
        kept,
        "a refused report left a trace"
    );
}

/// The answer of one GET, as text; an event stream is read for a moment.
async fn answer_of(response: reqwest::Response) -> String {
    let streams = response
        .headers()
        .get("content-type")
        .is_some_and(|kind| kind.as_bytes().starts_with(b"text/event-stream"));
    if !streams {
        return response.text().await.expect("a readable answer");
    }
    let mut response = response;
    let mut text = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, response.chunk()).await {
        text.extend_from_slice(&chunk);
    }
    String::from_utf8_lossy(&text).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_in_any_api_answer_or_export() {
    let server = start("http://127.0.0.1:9/hook").await;
    let created = server.create_batch(three_contacts()).await;
    let batch = created["batch"]["batch_id"].as_str().unwrap().to_string();
    let (_, webhooks) = {
        let response = server
            .get("/v1/campaigns/spring/webhooks", ACME_KEY)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    };
    let endpoint_id = serde_json::from_str::<serde_json::Value>(&webhooks)
        .ok()
        .and_then(|value| {
            value.as_object()?.values().find_map(|list| {
                list.as_array()?
                    .first()?
                    .get("id")?
                    .as_str()
                    .map(str::to_string)
            })
        })
        .unwrap_or_else(|| panic!("no webhook endpoint listed: {webhooks}"));

    let mut read = 0;
    for (method, path) in concrete_routes(&batch, &endpoint_id) {
        if method != routes::Method::Get {
            continue;
        }
        let response = server.get(&path, ACME_KEY).send().await.unwrap();
        let status = response.status();
        let answer = answer_of(response).await;
        assert!(
            status.is_success(),
            "GET {path} answered {status}: {answer}"
        );
        for (what, secret) in [
            ("the outbound webhook secret", WEBHOOK_SECRET.to_string()),
            ("the API key", ACME_KEY.to_string()),
            ("the API key's hash", hash_key(ACME_KEY)),
        ] {
            assert!(
                !answer.contains(&secret),
                "GET {path} shows {what}: {answer}"
            );
        }
        read += 1;
    }
    assert!(read >= 10, "only {read} GET endpoints were read");

    // The search above read real content: the export holds every contact.
    let export = server
        .get(&format!("/v1/batches/{batch}/export.csv"), ACME_KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        export.lines().count() == 4,
        "a header and three rows: {export}"
    );
}
