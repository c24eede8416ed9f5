//! `/metrics` over a real socket: public by default, behind its own key
//! when `[server] metrics = "key"`, and with the workspace and campaign
//! labels chosen by `[server] metrics_labels`.

use std::sync::Arc;
use std::time::Duration;

use outdial::api::{self, ApiSettings, AppState, hash_key};
use outdial::clock::ManualClock;
use outdial::config::Config;
use outdial::store::{SledStore, Store, StoreConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const T0: i64 = 1_750_000_000_000;
const ACME_KEY: &str = "acme-key-0123456789";
const GLOBEX_KEY: &str = "globex-key-9876543210";
const METRICS_KEY: &str = "scraper-key-24680";

const KEY_PROTECTED: &str = r#"[server]
metrics = "key"
metrics_key = { env = "OUTDIAL_METRICS_KEY" }
"#;

struct Server {
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// Two workspaces: acme with campaigns "spring" and "summer", globex with
/// "autumn"; `server` is the config's `[server]` section, if any.
fn config(server: &str) -> Config {
    let text = format!(
        r#"{server}
[[workspaces]]
id = "acme"
api_keys = [{{ id = "acme-ops", sha256 = "{acme}" }}]

[[workspaces]]
id = "globex"
api_keys = [{{ id = "globex-ops", sha256 = "{globex}" }}]

[[campaigns]]
id = "spring"
workspace = "acme"
provider = {{ plugin = "simulated" }}

[[campaigns]]
id = "summer"
workspace = "acme"
provider = {{ plugin = "simulated" }}

[[campaigns]]
id = "autumn"
workspace = "globex"
provider = {{ plugin = "simulated" }}
"#,
        acme = hash_key(ACME_KEY),
        globex = hash_key(GLOBEX_KEY),
    );
    Config::parse_str("test.toml", &text).expect("the test config parses")
}

/// The API of `config(server)`, its settings built from the config the way
/// `outdial run` builds them.
async fn start(server: &str) -> Server {
    let config = config(server);
    let env = |name: &str| (name == "OUTDIAL_METRICS_KEY").then(|| METRICS_KEY.to_string());
    let settings = ApiSettings {
        metrics: config
            .metrics_spec(&env)
            .expect("the metrics settings resolve"),
        ..ApiSettings::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SledStore::open(&StoreConfig::new(dir.path().join("db"))).unwrap());
    let state = AppState::from_config(
        &config,
        None,
        store,
        Arc::new(ManualClock::new(T0)),
        Arc::new(env),
        settings,
    )
    .expect("the API sets up");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
    let router = api::router(state.clone());
    tokio::spawn(api::serve_until(listener, router, state, async {
        let _ = stop.await;
    }));
    Server {
        base,
        client: outdial::net::http_client()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        _dir: dir,
        _shutdown: shutdown,
    }
}

impl Server {
    fn metrics(&self) -> reqwest::RequestBuilder {
        self.client.get(format!("{}/metrics", self.base))
    }

    async fn scrape(&self, bearer: Option<&str>) -> (StatusCode, String) {
        let mut request = self.metrics();
        if let Some(key) = bearer {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// A batch of `count` contacts in `campaign`, made with `key`; returns
    /// its id.
    async fn batch(&self, campaign: &str, key: &str, count: usize) -> String {
        let contacts: Vec<Value> = (0..count)
            .map(|n| json!({"phone": format!("+1212555{:04}", 100 + n), "id": format!("c-{n}")}))
            .collect();
        let response = self
            .client
            .post(format!("{}/v1/campaigns/{campaign}/batches", self.base))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(json!({ "contacts": contacts }).to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["batch"]["batch_id"].as_str().unwrap().to_string()
    }

    async fn skip(&self, batch: &str, seq: u32, key: &str) {
        let response = self
            .client
            .post(format!(
                "{}/v1/batches/{batch}/contacts/{seq}/skip",
                self.base
            ))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    /// spring: 3 contacts, one skipped; summer: 2; autumn: 4, one skipped.
    async fn fill(&self) {
        let spring = self.batch("spring", ACME_KEY, 3).await;
        self.skip(&spring, 0, ACME_KEY).await;
        self.batch("summer", ACME_KEY, 2).await;
        let autumn = self.batch("autumn", GLOBEX_KEY, 4).await;
        self.skip(&autumn, 3, GLOBEX_KEY).await;
    }
}

/// The refusal's code and message, after checking it is the API's error.
fn refusal(status: StatusCode, body: &str) -> (String, String) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let body: Value = serde_json::from_str(body).expect("the refusal is JSON");
    (
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// The series of `name`, exactly: `name{...} value` or `name value`.
fn series<'a>(body: &'a str, name: &str) -> Vec<&'a str> {
    body.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(['{', ' ']))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_public_by_default() {
    let server = start("").await;
    server.fill().await;
    let (status, body) = server.scrape(None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains(
            "outdial_contacts{workspace=\"acme\",campaign=\"spring\",status=\"skipped\"} 1"
        ),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_metrics_key_a_scrape_without_a_key_is_refused_with_401() {
    let server = start(KEY_PROTECTED).await;
    let (status, body) = server.scrape(None).await;
    let (code, message) = refusal(status, &body);
    assert_eq!(code, "unauthorized");
    assert_eq!(
        message,
        "/metrics needs the metrics key, expected an \"Authorization: Bearer <key>\" header"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_metrics_key_a_wrong_key_is_refused_with_401() {
    let server = start(KEY_PROTECTED).await;
    let (status, body) = server.scrape(Some("scraper-key-24681")).await;
    let (code, message) = refusal(status, &body);
    assert_eq!(code, "unauthorized");
    assert_eq!(message, "the metrics key is not valid");
    let response = server
        .metrics()
        .header("authorization", format!("Basic {METRICS_KEY}"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let (_, message) = refusal(status, &response.text().await.unwrap());
    assert_eq!(
        message,
        "the authorization header is not a bearer token, expected \"Bearer <key>\""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_metrics_key_an_api_key_does_not_open_metrics() {
    let server = start(KEY_PROTECTED).await;
    let (status, body) = server.scrape(Some(ACME_KEY)).await;
    assert_eq!(refusal(status, &body).1, "the metrics key is not valid");
    let response = server
        .metrics()
        .header("x-api-key", ACME_KEY)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let (code, _) = refusal(status, &response.text().await.unwrap());
    assert_eq!(code, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_metrics_key_the_metrics_key_opens_metrics() {
    let server = start(KEY_PROTECTED).await;
    server.fill().await;
    let (status, body) = server.scrape(Some(METRICS_KEY)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains(
            "outdial_contacts{workspace=\"globex\",campaign=\"autumn\",status=\"pending\"} 3"
        ),
        "{body}"
    );
    // Prometheus may send the scheme in any case.
    let response = server
        .metrics()
        .header("authorization", format!("bearer {METRICS_KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_key_grants_nothing_but_metrics() {
    let server = start(KEY_PROTECTED).await;
    let response = server
        .client
        .get(format!("{}/v1/campaigns", server.base))
        .bearer_auth(METRICS_KEY)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let (_, message) = refusal(status, &response.text().await.unwrap());
    assert_eq!(message, "the API key is not valid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_labels_no_series_names_a_workspace_or_campaign_and_repeats_are_summed() {
    let server = start("[server]\nmetrics_labels = []\n").await;
    server.fill().await;
    let (status, body) = server.scrape(None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.contains("workspace="), "{body}");
    assert!(!body.contains("campaign="), "{body}");
    // 2 + 2 + 3 pending and 1 + 1 skipped across the three campaigns.
    assert!(
        body.contains("\noutdial_contacts{status=\"pending\"} 7\n"),
        "{body}"
    );
    assert!(
        body.contains("\noutdial_contacts{status=\"skipped\"} 2\n"),
        "{body}"
    );
    assert_eq!(
        series(&body, "outdial_contacts").len(),
        outdial::model::ContactStatus::ALL.len(),
        "{body}"
    );
    for name in [
        "outdial_attempts_total",
        "outdial_answered_total",
        "outdial_plugin_faults_total",
        "outdial_talk_seconds_total",
        "outdial_cost_micros_total",
    ] {
        assert_eq!(series(&body, name), vec![format!("{name} 0")], "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_only_the_workspace_label_the_campaigns_of_a_workspace_are_summed() {
    let server = start("[server]\nmetrics_labels = [\"workspace\"]\n").await;
    server.fill().await;
    let (status, body) = server.scrape(None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.contains("campaign="), "{body}");
    for expected in [
        "outdial_contacts{workspace=\"acme\",status=\"pending\"} 4",
        "outdial_contacts{workspace=\"acme\",status=\"skipped\"} 1",
        "outdial_contacts{workspace=\"globex\",status=\"pending\"} 3",
        "outdial_contacts{workspace=\"globex\",status=\"skipped\"} 1",
        "outdial_attempts_total{workspace=\"acme\"} 0",
        "outdial_attempts_total{workspace=\"globex\"} 0",
    ] {
        assert!(
            body.lines().any(|line| line == expected),
            "{expected}\n{body}"
        );
    }
    assert_eq!(series(&body, "outdial_attempts_total").len(), 2, "{body}");
}
