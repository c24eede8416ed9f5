//! The HTTP API over a real socket: every endpoint, workspace isolation,
//! bad input, idempotency, live events and signed webhooks with retries.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use outdial::api::{self, ApiSettings, AppState, hash_key, routes};
use outdial::clock::ManualClock;
use outdial::config::Config;
use outdial::model::{Blocker, HOUR_MS, SECOND_MS};
use outdial::plugin_host::PluginHost;
use outdial::reporting::health::queue_health;
use outdial::store::{BlockerUpdate, SledStore, Store, StoreConfig};
use outdial_tests::answer_check::AnswerCheck;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

const T0: i64 = 1_750_000_000_000;
pub(super) const ACME_KEY: &str = "acme-key-0123456789";
const GLOBEX_KEY: &str = "globex-key-9876543210";
pub(super) const WEBHOOK_SECRET: &str = "whsec-test-secret";

/// One delivery as the receiver got it: headers and body.
type Delivery = (axum::http::HeaderMap, Vec<u8>);

/// A loopback webhook receiver that can be taken down.
#[derive(Clone, Default)]
struct Receiver {
    down: Arc<AtomicBool>,
    received: Arc<Mutex<Vec<Delivery>>>,
    refused: Arc<Mutex<u32>>,
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
                    if shared.down.load(Ordering::SeqCst) {
                        *shared.refused.lock().unwrap() += 1;
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    shared
                        .received
                        .lock()
                        .unwrap()
                        .push((headers, body.to_vec()));
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

pub(super) struct Server {
    base: String,
    /// Every answer of the server, checked against its OpenAPI document.
    answers: Arc<AnswerCheck>,
    client: reqwest::Client,
    clock: ManualClock,
    pub(super) store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

fn config(webhook_url: &str) -> Config {
    let text = format!(
        r#"
[[workspaces]]
id = "acme"
api_keys = [{{ id = "acme-ops", sha256 = "{acme}" }}]

[[workspaces]]
id = "globex"
api_keys = [{{ id = "globex-ops", sha256 = "{globex}" }}]

[[plugins]]
name = "ladder"
builtin = "retry-schedule"

[[campaigns]]
id = "spring"
workspace = "acme"
concurrency = 4
provider = {{ plugin = "simulated" }}
window = {{ default_time_zone = "America/New_York" }}
webhooks = [{{ url = "{webhook_url}", secret = {{ env = "SPRING_HOOK_SECRET" }}, events = ["batch.*", "contact.finalized"] }}]

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

/// One plugin host for every test server: each host reserves its own
/// instance slots and runs its own deadline thread.
fn plugin_host() -> Arc<PluginHost> {
    static HOST: std::sync::OnceLock<Arc<PluginHost>> = std::sync::OnceLock::new();
    HOST.get_or_init(|| Arc::new(PluginHost::new().expect("the plugin host starts")))
        .clone()
}

pub(super) async fn start(webhook_url: &str) -> Server {
    start_with_upload_limit(webhook_url, 64 * 1024).await
}

async fn start_with_upload_limit(webhook_url: &str, max_upload_bytes: usize) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SledStore::open(&StoreConfig::new(dir.path().join("db"))).unwrap());
    let clock = ManualClock::new(T0);
    let config = config(webhook_url);
    let mut settings = ApiSettings {
        max_json_bytes: 4 * 1024,
        max_upload_bytes,
        events_poll_interval: Duration::from_millis(20),
        ..ApiSettings::default()
    };
    settings.webhooks.poll_interval = Duration::from_millis(20);
    let state = AppState::from_config(
        &config,
        Some(plugin_host()),
        store.clone(),
        Arc::new(clock.clone()),
        Arc::new(|name: &str| (name == "SPRING_HOOK_SECRET").then(|| WEBHOOK_SECRET.to_string())),
        settings,
    )
    .expect("the API sets up");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
    let answers = AnswerCheck::new(routes::openapi());
    let router = answers.wrap(api::router(state.clone()));
    tokio::spawn(api::serve_until(listener, router, state, async {
        let _ = stop.await;
    }));
    Server {
        base,
        answers,
        client: outdial::net::http_client()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        clock,
        store,
        _dir: dir,
        _shutdown: shutdown,
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.answers.assert_clean();
        }
    }
}

impl Server {
    pub(super) fn get(&self, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
    }

    pub(super) fn post(&self, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .header("x-api-key", key)
    }

    pub(super) fn delete(&self, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.client
            .delete(format!("{}{path}", self.base))
            .header("x-api-key", key)
    }

    /// A request of `method` to `path` with `key`.
    fn request(&self, method: routes::Method, path: &str, key: &str) -> reqwest::RequestBuilder {
        match method {
            routes::Method::Get => self.get(path, key),
            routes::Method::Post => self.post(path, key),
            routes::Method::Delete => self.delete(path, key),
        }
    }

    pub(super) async fn create_batch(&self, contacts: Value) -> Value {
        let response = self
            .post("/v1/campaigns/spring/batches", ACME_KEY)
            .header("content-type", "application/json")
            .body(json!({ "contacts": contacts }).to_string())
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// A batch create with `setting` set to `value`, both in a JSON body
    /// and as a CSV upload's query parameter, is refused as an invalid
    /// parameter whose message holds `names`.
    async fn assert_batch_setting_refused(&self, setting: &str, value: &Value, names: &str) {
        for csv in [false, true] {
            let request = if csv {
                self.post(
                    &format!(
                        "/v1/campaigns/spring/batches?{setting}={}",
                        url_encoded(&value.to_string())
                    ),
                    ACME_KEY,
                )
                .header("content-type", "text/csv")
                .body("phone\n+12125550101\n")
            } else {
                self.post("/v1/campaigns/spring/batches", ACME_KEY)
                    .json(&json!({"contacts": three_contacts(), setting: value}))
            };
            let (status, body) = json_of(request.send().await.unwrap()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(body["error"]["code"], "invalid_parameter", "{body}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(names),
                "\"{message}\" does not name {names}"
            );
        }
    }

    /// The batch's queue health, as `/debug` answers it.
    async fn debug(&self, batch_id: &str) -> Value {
        let (status, body) = json_of(
            self.get(&format!("/v1/batches/{batch_id}/debug"), ACME_KEY)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// JSON request bodies, without the client's json feature.
trait JsonBody {
    fn json(self, value: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json(self, value: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }
}

pub(super) async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// A refused upload leaves no batch behind and no journal event after
/// `journal_head`, the head before it.
async fn assert_refused_upload_left_nothing(server: &Server, journal_head: u64) {
    let (_, page) = json_of(server.get("/v1/batches", ACME_KEY).send().await.unwrap()).await;
    assert_eq!(
        page["batches"],
        json!([]),
        "no batch is left of the refused upload"
    );
    assert_eq!(server.store.journal_head().unwrap(), journal_head);
}

pub(super) fn three_contacts() -> Value {
    json!([
        {"phone": "+12125550101", "name": "Ada", "id": "c-1"},
        {"phone": "+12125550102", "name": "Grace", "id": "c-2"},
        {"phone": "+442079460958", "name": "Alan", "id": "c-3", "time_zone": "Europe/London"},
    ])
}

/// Every operation of the API's router; the provider webhook is served by
/// its own router beside it, which the wiring tests reach.
pub(super) fn api_routes() -> Vec<routes::Route> {
    routes::routes()
        .into_iter()
        .filter(|route| route.path != routes::PROVIDER_WEBHOOK)
        .collect()
}

/// Every route with its path parameters filled for `batch`, contact 0,
/// the list every workspace has and a number.
pub(super) fn concrete_routes(batch: &str, endpoint: &str) -> Vec<(routes::Method, String)> {
    api_routes()
        .iter()
        .map(|route| {
            let path = route
                .path
                .replace("{campaign_id}", "spring")
                .replace("{batch_id}", batch)
                .replace("{seq}", "0")
                .replace("{endpoint_id}", endpoint)
                .replace("{list}", "dnc-internal")
                .replace("{phone}", "+12125550101");
            (route.method, path)
        })
        .collect()
}

/// The operation `operation_id` of the document.
fn operation<'a>(document: &'a Value, operation_id: &str) -> &'a Value {
    document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .find(|operation| operation["operationId"] == operation_id)
        .unwrap_or_else(|| panic!("no operation {operation_id}"))
}

/// `schema`, or the component it refers to.
fn resolved<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &document["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn query_parameter<'a>(operation: &'a Value, name: &str) -> &'a Value {
    operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == name && parameter["in"] == "query")
        .unwrap_or_else(|| panic!("no query parameter {name}"))
}

/// What schemathesis found: the document said any string or any JSON
/// where the handlers take an enum, a number, a boolean or an object, so
/// schema-valid requests were refused with 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_says_what_each_parameter_and_body_takes_and_the_handlers_agree() {
    let server = start("http://127.0.0.1:9/hook").await;
    let (_, document) = json_of(server.get("/v1/openapi.json", "").send().await.unwrap()).await;
    let created = server.create_batch(three_contacts()).await;
    let batch = created["batch"]["batch_id"].as_str().unwrap().to_string();

    // Every status the document lists filters; a status it does not list is refused.
    let list_batches = operation(&document, "list_batches");
    let statuses = resolved(
        &document,
        &query_parameter(list_batches, "status")["schema"],
    )["enum"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(statuses.len(), 6);
    for status in &statuses {
        let path = format!("/v1/batches?status={}", status.as_str().unwrap());
        let response = server.get(&path, ACME_KEY).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let response = server
        .get("/v1/batches?status=", ACME_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let list_contacts = operation(&document, "list_contacts");
    for name in ["status", "blocker"] {
        let values = resolved(&document, &query_parameter(list_contacts, name)["schema"])["enum"]
            .as_array()
            .unwrap()
            .clone();
        assert!(!values.is_empty(), "{name} is an enum");
        for value in values {
            let path = format!(
                "/v1/batches/{batch}/contacts?{name}={}",
                value.as_str().unwrap()
            );
            let response = server.get(&path, ACME_KEY).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
        }
    }
    let limit = &query_parameter(list_contacts, "limit")["schema"];
    assert_eq!(limit["minimum"], 1);
    assert_eq!(limit["maximum"], 1000);
    // A batch as answered has every field the document requires of one.
    let get_batch = operation(&document, "get_batch");
    assert_eq!(
        get_batch["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/BatchView"
    );
    let (_, answered) = json_of(
        server
            .get(&format!("/v1/batches/{batch}"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    for field in document["components"]["schemas"]["BatchRecord"]["required"]
        .as_array()
        .unwrap()
    {
        let field = field.as_str().unwrap();
        assert!(
            answered.get(field).is_some(),
            "{field} missing from {answered}"
        );
    }
    // ...and no field the document does not name.
    let mut drifted = answered.clone();
    drifted["bogus"] = json!(1);
    let refused = server.answers.check(
        "get",
        &format!("/v1/batches/{batch}"),
        200,
        "application/json",
        Some(drifted.to_string().as_bytes()),
    );
    assert!(refused.unwrap_err().contains("bogus"));
    let create = operation(&document, "create_batch");
    assert_eq!(
        query_parameter(create, "skip_invalid")["schema"]["type"],
        "boolean"
    );
    assert!(
        create["responses"]["201"].is_object(),
        "a create answers 201"
    );

    // A control's body is an object with an optional reason: `null` is
    // outside the schema and refused, `{}` is inside and accepted.
    let pause = operation(&document, "pause_batch");
    assert_eq!(pause["requestBody"]["required"], false);
    let body = resolved(
        &document,
        &pause["requestBody"]["content"]["application/json"]["schema"],
    );
    assert_eq!(body["type"], "object");
    assert_eq!(body["additionalProperties"], false);
    assert_eq!(body["properties"]["reason"]["maxLength"], 500);
    assert_eq!(
        body["properties"]["reason"]["type"],
        json!(["string", "null"])
    );
    let path = format!("/v1/batches/{batch}/pause");
    let refused = server
        .post(&path, ACME_KEY)
        .json(&Value::Null)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let paused = server
        .post(&path, ACME_KEY)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), StatusCode::OK);
    let cancel = format!("/v1/batches/{batch}/cancel");
    let cancelled = server
        .post(&cancel, ACME_KEY)
        .json(&json!({"reason": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        cancelled.status(),
        StatusCode::OK,
        "a null reason is no reason"
    );
}

/// The answer check that wraps every test server refuses what the
/// document does not describe, so drift cannot pass unnoticed.
#[test]
fn an_answer_outside_the_document_is_caught() {
    let answers = AnswerCheck::new(routes::openapi());
    let batch = |body: &Value| {
        answers.check(
            "get",
            "/v1/batches/btc_1",
            200,
            "application/json",
            Some(body.to_string().as_bytes()),
        )
    };
    let error = batch(&json!({"id": 7})).unwrap_err();
    assert!(
        error.contains("get /v1/batches/{batch_id} answered 200"),
        "{error}"
    );
    let undocumented_status = answers.check(
        "get",
        "/v1/batches/btc_1",
        418,
        "application/json",
        Some(b"{}"),
    );
    assert!(undocumented_status.unwrap_err().contains("not documented"));
    let wrong_type = answers.check(
        "get",
        "/v1/batches/btc_1/export.csv",
        200,
        "text/html",
        None,
    );
    assert!(wrong_type.unwrap_err().contains("content type"));
    let unknown_field = answers.check(
        "get",
        "/v1/batches/btc_1",
        404,
        "application/json",
        Some(br#"{"error": {"code": "batch_not_found", "message": "gone", "extra": 1}}"#),
    );
    assert!(unknown_field.unwrap_err().contains("extra"));
    let wrong_code = answers.check(
        "get",
        "/v1/batches/btc_1",
        404,
        "application/json",
        Some(br#"{"error": {"code": "invalid_parameter", "message": "gone"}}"#),
    );
    assert!(
        wrong_code.is_err(),
        "a 404 carries only the codes answered with 404"
    );
}

/// What schemathesis found next: a JSON array was read as the object it
/// lists the fields of (`[null]` as `{"reason": null}`) and accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_body_that_is_not_an_object_is_refused_naming_what_was_expected() {
    let server = start("http://127.0.0.1:9/hook").await;
    let created = server.create_batch(three_contacts()).await;
    let batch = created["batch"]["batch_id"].as_str().unwrap().to_string();
    for body in [json!([null]), json!(["why"]), json!("pause"), json!(7)] {
        let path = format!("/v1/batches/{batch}/pause");
        let (status, answer) = json_of(
            server
                .post(&path, ACME_KEY)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} answered {answer}");
        assert_eq!(answer["error"]["code"], "invalid_body");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains("expected a JSON object"), "{message}");
    }
    let (status, answer) = json_of(
        server
            .post("/v1/campaigns/spring/batches", ACME_KEY)
            .json(&json!([three_contacts()]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_body");
    let (_, batch_now) = json_of(
        server
            .get(&format!("/v1/batches/{batch}"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(batch_now["status"], "pending", "nothing was paused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_exactly_the_routes_that_answer() {
    let server = start("http://127.0.0.1:9/hook").await;
    let (status, document) =
        json_of(server.get("/v1/openapi.json", "").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    assert_eq!(
        &document,
        routes::openapi(),
        "the served document is the built one"
    );
    let routed: BTreeSet<(String, String)> = routes::routes()
        .iter()
        .map(|route| (route.method.as_str().to_string(), route.path.clone()))
        .collect();
    assert_eq!(documented, routed);
    // Served by the provider webhooks' router beside the API, and
    // documented with it.
    assert!(documented.contains(&(
        routes::Method::Post.as_str().to_string(),
        routes::PROVIDER_WEBHOOK.to_string(),
    )));
    // Every documented route reaches a handler: an unknown route would be
    // answered "route_not_found", a wrong method "method_not_allowed".
    for (method, path) in concrete_routes("btc_missing", "whk_missing") {
        let response = server
            .request(method, &path, ACME_KEY)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .unwrap();
        if response.status().is_success() {
            continue;
        }
        let (status, body) = json_of(response).await;
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            code != "route_not_found" && code != "method_not_allowed" && !code.is_empty(),
            "{method:?} {path} answered {status} {body}"
        );
    }
    let (status, body) = json_of(
        server
            .get("/v1/nothing-here", ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "route_not_found");
}

/// Graine's batch object: its names, its flat counters, its times, with
/// outdial's richer fields beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_answered_under_the_seed_names() {
    let server = start("http://127.0.0.1:9/hook").await;
    let response = server
        .post("/v1/campaigns/spring/batches", ACME_KEY)
        .json(&json!({
            "contacts": three_contacts(),
            "concurrency": 2,
            "max_attempts": 5,
            "scheduled_start": T0 + HOUR_MS,
        }))
        .send()
        .await
        .unwrap();
    let (status, created) = json_of(response).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let batch = &created["batch"];
    assert!(batch["batch_id"].as_str().unwrap().starts_with("btc_"));
    assert_eq!(batch["campaign_id"], "spring");
    assert_eq!(batch["organization_id"], "acme");
    assert_eq!(batch["status"], "pending");
    assert_eq!(batch["total_contacts"], 3);
    assert_eq!(batch["concurrency_limit"], 2);
    assert_eq!(batch["max_retries_override"], 5);
    assert_eq!(batch["scheduled_start"], T0 + HOUR_MS);
    assert_eq!(batch["created_at"], T0);
    assert_eq!(batch["updated_at"], T0);
    for renamed in ["id", "workspace", "concurrency", "max_attempts"] {
        assert!(
            batch.get(renamed).is_none(),
            "{renamed} is still in {batch}"
        );
    }
    let counters = &batch["counters"];
    for (name, count) in [
        ("pending", 3),
        ("dispatched", 0),
        ("in_flight", 0),
        ("retrying", 0),
        ("completed", 0),
        ("failed", 0),
        ("busy", 0),
        ("no_answer", 0),
    ] {
        assert_eq!(counters[name], count, "counters.{name} of {counters}");
    }
    assert_eq!(
        counters["by_status"]["pending"], 3,
        "the richer counters stay"
    );

    // A change moves `updated_at` to when it happened.
    server.clock.advance(SECOND_MS);
    let id = batch["batch_id"].as_str().unwrap();
    let (_, paused) = json_of(
        server
            .post(&format!("/v1/batches/{id}/pause"), ACME_KEY)
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(paused["updated_at"], T0 + SECOND_MS, "{paused}");
    assert_eq!(paused["created_at"], T0);
}

/// The monitoring guide's CSV metadata card: a batch created from a CSV
/// keeps what the upload was; a JSON create has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_made_from_a_csv_keeps_what_the_upload_was() {
    let server = start("http://127.0.0.1:9/hook").await;
    let csv = "phone,name\n+12125550101,Ada\nnot-a-phone,Bad\n+12125550102,Grace\nnope,Worse\n";
    let (status, created) = json_of(
        server
            .post(
                "/v1/campaigns/spring/batches?skip_invalid=true&file_name=renewals.csv",
                ACME_KEY,
            )
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let upload = &created["batch"]["upload"];
    assert_eq!(upload["file_name"], "renewals.csv");
    assert_eq!(upload["bytes"], csv.len());
    assert_eq!(
        (&upload["rows"], &upload["valid"], &upload["invalid"]),
        (&json!(4), &json!(2), &json!(2)),
        "{upload}"
    );
    let skipped: Vec<u64> = created["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["row"].as_u64().unwrap())
        .collect();
    assert_eq!(upload["skipped_rows"], json!(skipped));
    assert_eq!(upload["uploaded_by"], "api_key:acme-ops");
    assert_eq!(upload["uploaded_at"], T0);
    let id = created["batch"]["batch_id"].as_str().unwrap();
    let (_, read) = json_of(
        server
            .get(&format!("/v1/batches/{id}"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(&read["upload"], upload, "kept with the batch");

    let json_created = server.create_batch(three_contacts()).await;
    assert_eq!(json_created["batch"]["upload"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_the_workspace_that_owns_the_batch() {
    let server = start("http://127.0.0.1:9/hook").await;
    let created = server.create_batch(three_contacts()).await;
    let batch = created["batch"]["batch_id"].as_str().unwrap().to_string();
    assert_eq!(created["batch"]["counters"]["total"], 3);
    assert_eq!(created["batch"]["status"], "pending");

    let csv = "phone,name,tz\n+12125550111,Lin,America/New_York\n+12125550112,Kay,\n";
    let response = server
        .post(
            "/v1/campaigns/spring/batches?concurrency=2&scheduled_start=2030-01-01T09:00:00Z",
            ACME_KEY,
        )
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let (status, csv_batch) = json_of(response).await;
    assert_eq!(status, StatusCode::CREATED, "{csv_batch}");
    assert_eq!(csv_batch["batch"]["concurrency_limit"], 2);
    assert_eq!(csv_batch["batch"]["scheduled_start"], 1_893_488_400_000_i64);

    let (_, campaigns) = json_of(server.get("/v1/campaigns", ACME_KEY).send().await.unwrap()).await;
    let ids: Vec<&str> = campaigns["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["spring"]);
    let (status, campaign) = json_of(
        server
            .get("/v1/campaigns/spring", ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(campaign["concurrency"], 4);
    let (_, stats) = json_of(
        server
            .get("/v1/campaigns/spring/stats", ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stats["total"], 5);
    assert_eq!(stats["metrics"]["scope"], "campaign", "{stats}");
    assert!(stats["metrics"]["dispositions"].is_array(), "{stats}");

    let (_, page) = json_of(
        server
            .get("/v1/batches?limit=1", ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["batches"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    let (_, second) = json_of(
        server
            .get(&format!("/v1/batches?limit=1&cursor={cursor}"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(second["batches"].as_array().unwrap().len(), 1);
    assert_ne!(
        second["batches"][0]["batch_id"],
        page["batches"][0]["batch_id"]
    );
    let (_, pending) = json_of(
        server
            .get("/v1/batches?campaign=spring&status=pending", ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(pending["batches"].as_array().unwrap().len(), 2);

    let (_, one) = json_of(
        server
            .get(&format!("/v1/batches/{batch}"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(one["counters"]["by_status"]["pending"], 3);
    let (_, progress) = json_of(
        server
            .get(&format!("/v1/batches/{batch}/status"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    for field in [
        "status",
        "isComplete",
        "waiting",
        "active",
        "completed",
        "failed",
        "total",
        "startTime",
        "lastCompletedTime",
        "completedTime",
        "averageCallDuration",
        "recent_calls",
    ] {
        assert!(
            progress.get(field).is_some(),
            "progress lacks {field}: {progress}"
        );
    }
    assert_eq!(progress["waiting"], 3);
    let (_, statistics) = json_of(
        server
            .get(&format!("/v1/batches/{batch}/stats"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(statistics["metrics"]["scope"], "batch", "{statistics}");
    assert!(statistics["metrics"]["timeline"].is_array(), "{statistics}");
    for field in [
        "total",
        "processed",
        "succeeded",
        "failed",
        "pending",
        "percentComplete",
        "successRate",
        "callsPerSecond",
        "estimatedTimeRemaining",
        "elapsedTime",
        "counters",
    ] {
        assert!(
            statistics.get(field).is_some(),
            "stats lack {field}: {statistics}"
        );
    }

    let (status, skipped) = json_of(
        server
            .post(&format!("/v1/batches/{batch}/contacts/1/skip"), ACME_KEY)
            .json(&json!({"reason": "asked not to"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{skipped}");
    assert_eq!(skipped["status"], "skipped");
    assert_eq!(skipped["final_reason"], "operator_skipped: asked not to");
    let (_, contacts) = json_of(
        server
            .get(
                &format!("/v1/batches/{batch}/contacts?status=pending"),
                ACME_KEY,
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    let seqs: Vec<u64> = contacts["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [0, 2]);
    let (_, held) = json_of(
        server
            .get(
                &format!("/v1/batches/{batch}/contacts?blocker=scheduled_start&limit=1"),
                ACME_KEY,
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(held["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(held["contacts"][0]["effective_blocker"], "scheduled_start");
    let (_, detail) = json_of(
        server
            .get(&format!("/v1/batches/{batch}/contacts/1"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(detail["events"][0]["kind"], "skipped");
    assert!(detail["attempts"].as_array().unwrap().is_empty());
    // Processed counts contacts past their first dial, the skipped one
    // among them; with pending it makes the total.
    let (_, statistics) = json_of(
        server
            .get(&format!("/v1/batches/{batch}/stats"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (
            &statistics["processed"],
            &statistics["pending"],
            &statistics["total"]
        ),
        (&json!(1), &json!(2), &json!(3)),
        "{statistics}"
    );

    let (status, paused) = json_of(
        server
            .post(&format!("/v1/batches/{batch}/pause"), ACME_KEY)
            .json(&json!({"reason": "carrier maintenance"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(paused["status"], "paused");
    assert_eq!(
        paused["status_reason"],
        "operator_paused: carrier maintenance"
    );
    assert_eq!(paused["status_by"], "api_key:acme-ops");
    let (status, again) = json_of(
        server
            .post(&format!("/v1/batches/{batch}/pause"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, again["status"].as_str()),
        (StatusCode::OK, Some("paused")),
        "pause is idempotent"
    );
    let (_, debug) = json_of(
        server
            .get(&format!("/v1/batches/{batch}/debug"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(debug["batch_blocker"], "batch_paused");
    assert_eq!(debug["queue"]["batch_id"], batch.as_str(), "{debug}");
    assert_eq!(debug["queue"]["status"], "paused", "{debug}");
    assert_eq!(debug["queue"]["batch_blocker"], "batch_paused", "{debug}");
    assert_eq!(debug["effective"]["concurrency"], 4);
    let zones: Vec<&str> = debug["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["time_zone"].as_str().unwrap())
        .collect();
    assert!(
        zones.contains(&"Europe/London") && zones.contains(&"America/New_York"),
        "{debug}"
    );
    let (_, resumed) = json_of(
        server
            .post(&format!("/v1/batches/{batch}/resume"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(resumed["status"], "in_progress");
    let (status, dispatched) = json_of(
        server
            .post(&format!("/v1/batches/{batch}/dispatch"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, dispatched["status"].as_str()),
        (StatusCode::OK, Some("in_progress"))
    );

    let response = server
        .get(&format!("/v1/batches/{batch}/export.csv"), ACME_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let export = response.text().await.unwrap();
    let lines: Vec<&str> = export.lines().collect();
    assert_eq!(lines.len(), 4, "{export}");
    assert!(lines[0].starts_with("seq,contact_id,phone,name,time_zone,status,blocker,disposition,attempts,last_outcome,talk_seconds,cost,from_number,variant"));
    assert!(
        lines[2].starts_with("1,c-2,+12125550102,Grace,America/New_York,skipped,"),
        "{export}"
    );

    let (status, cancelled) = json_of(
        server
            .post(&format!("/v1/batches/{batch}/cancel"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    assert_eq!(cancelled["counters"]["by_status"]["skipped"], 3);

    let (status, preview) = json_of(
        server
            .post("/v1/campaigns/spring/batches/preview", ACME_KEY)
            .header("content-type", "text/csv")
            .body("phone,name\n+12125550121,Ok\nnot-a-number,Bad\n")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        (preview["valid"].as_u64(), preview["invalid"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(preview["rows"][0]["row"], 3);
    assert_eq!(preview["rows"][0]["field"], "phone");
    assert_eq!(preview["sample"][0]["time_zone"], "America/New_York");

    let (status, webhooks) = json_of(
        server
            .get("/v1/campaigns/spring/webhooks", ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(webhooks["endpoints"].as_array().unwrap().len(), 1);

    let response = server.get("/healthz", "").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let metrics = server
        .get("/metrics", "")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "outdial_contacts{workspace=\"acme\",campaign=\"spring\",status=\"skipped\"} 3"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("route=\"/v1/batches/{batch_id}/pause\",status=\"200\"} 2"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_workspaces_key_gets_404_or_403_on_every_endpoint() {
    let server = start("http://127.0.0.1:9/hook").await;
    let created = server.create_batch(three_contacts()).await;
    let batch = created["batch"]["batch_id"].as_str().unwrap().to_string();
    let (_, hooks) = json_of(
        server
            .get("/v1/campaigns/spring/webhooks", ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let endpoint = hooks["endpoints"][0]["id"].as_str().unwrap().to_string();
    let before = server.store.journal_head().unwrap();
    let mut checked = 0;
    for (route, (method, path)) in api_routes().iter().zip(concrete_routes(&batch, &endpoint)) {
        if !route.auth {
            continue;
        }
        if route.path.starts_with("/v1/suppression") {
            // Every workspace has lists of its own, dnc-internal among
            // them: a key reaches its own, never another's (see
            // suppression::a_workspace_reads_and_writes_only_its_own_lists).
            checked += 1;
            continue;
        }
        let request = server.request(method, &path, GLOBEX_KEY);
        let (status, body) = json_of(request.send().await.unwrap()).await;
        if matches!(route.operation.as_str(), "list_campaigns" | "list_batches") {
            // Listings answer globex its own, which holds nothing of acme's.
            assert_eq!(status, StatusCode::OK, "{path}");
            let text = body.to_string();
            assert!(
                !text.contains("spring") && !text.contains(&batch),
                "{path}: {text}"
            );
            checked += 1;
            continue;
        }
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
            "{method:?} {path} answered globex {status} {body}"
        );
        checked += 1;
        // Claiming acme's workspace with globex's key is refused too.
        let claimed = server
            .client
            .get(format!("{}{path}", server.base))
            .header("x-api-key", GLOBEX_KEY)
            .header("x-workspace-id", "acme")
            .send()
            .await
            .unwrap();
        assert!(
            matches!(
                claimed.status(),
                StatusCode::FORBIDDEN | StatusCode::METHOD_NOT_ALLOWED
            ),
            "{path}"
        );
    }
    assert_eq!(checked, api_routes().iter().filter(|r| r.auth).count());
    assert_eq!(
        server.store.journal_head().unwrap(),
        before,
        "nothing was changed"
    );
    let (_, own) = json_of(
        server
            .get(&format!("/v1/batches/{batch}"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(own["status"], "pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_forged_and_mismatched_keys_are_refused() {
    let server = start("http://127.0.0.1:9/hook").await;
    let (status, body) = json_of(
        server
            .client
            .get(format!("{}/v1/batches", server.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (status, _) = json_of(
        server
            .get("/v1/batches", "acme-key-0123456788")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = json_of(
        server
            .get("/v1/batches", ACME_KEY)
            .header("x-workspace-id", "globex")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("workspace_mismatch"))
    );
    let (status, _) = json_of(
        server
            .get("/v1/batches", ACME_KEY)
            .header("x-workspace-id", "acme")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// Two different keys in one request, one in each header, are refused:
/// acting as either would let a proxy's key silently stand in for the
/// caller's. The same key in both headers is one key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_with_two_different_keys_is_refused_as_ambiguous() {
    let server = start("http://127.0.0.1:9/hook").await;
    for other in [GLOBEX_KEY, "acme-key-0123456788"] {
        let (status, body) = json_of(
            server
                .get("/v1/batches", ACME_KEY)
                .header("x-api-key", other)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("ambiguous_credentials")),
            "bearer {ACME_KEY} with x-api-key {other}"
        );
    }
    let (status, body) = json_of(
        server
            .get("/v1/batches", ACME_KEY)
            .header("x-api-key", ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_4xx_and_nothing_is_written() {
    let server = start("http://127.0.0.1:9/hook").await;
    let created = server.create_batch(three_contacts()).await;
    let batch = created["batch"]["batch_id"].as_str().unwrap().to_string();
    server
        .post(&format!("/v1/batches/{batch}/cancel"), ACME_KEY)
        .send()
        .await
        .unwrap();
    let head = server.store.journal_head().unwrap();
    let create = |body: String, kind: &str| {
        server
            .post("/v1/campaigns/spring/batches", ACME_KEY)
            .header("content-type", kind)
            .body(body)
    };
    let cases: Vec<(reqwest::RequestBuilder, StatusCode, &str, &str)> = vec![
        (
            create("x".repeat(70 * 1024), "text/csv"),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "larger",
        ),
        (
            create("{\"contacts\": [".to_string(), "application/json"),
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "EOF",
        ),
        (
            create(
                json!({"contacts": three_contacts(), "colour": "red"}).to_string(),
                "application/json",
            ),
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "unknown field \"colour\"",
        ),
        (
            create(
                json!({"contacts": [{"phone": "+12125550101"}, {"phone": "12"}]}).to_string(),
                "application/json",
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_contacts",
            "contacts[1].phone",
        ),
        (
            create("phone\n+12125550101\nnope\n".to_string(), "text/csv"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_contacts",
            "row 3, column \"phone\"",
        ),
        (
            create(
                json!({"contacts": three_contacts(), "concurrency": 0}).to_string(),
                "application/json",
            ),
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "\"concurrency\" is 0",
        ),
        (
            create(
                json!({"contacts": three_contacts(), "scheduled_start": "next tuesday"})
                    .to_string(),
                "application/json",
            ),
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "RFC 3339",
        ),
        (
            create("<xml/>".to_string(), "application/xml"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "text/csv",
        ),
        (
            server
                .post("/v1/campaigns/winter/batches", ACME_KEY)
                .json(&json!({"contacts": three_contacts()})),
            StatusCode::NOT_FOUND,
            "campaign_not_found",
            "\"winter\"",
        ),
        (
            server
                .post("/v1/campaigns/spring/batches?colour=red", ACME_KEY)
                .header("content-type", "text/csv")
                .body("phone\n+12125550101\n"),
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "colour",
        ),
        (
            server.get("/v1/batches/btc_nope", ACME_KEY),
            StatusCode::NOT_FOUND,
            "batch_not_found",
            "\"btc_nope\"",
        ),
        (
            server.get(&format!("/v1/batches/{batch}/contacts/99"), ACME_KEY),
            StatusCode::NOT_FOUND,
            "contact_not_found",
            "99",
        ),
        (
            server.get(&format!("/v1/batches/{batch}/contacts/abc"), ACME_KEY),
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "abc",
        ),
        (
            server.get("/v1/batches?limit=5000", ACME_KEY),
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "1 to 1000",
        ),
        (
            server.get("/v1/batches?cursor=zz", ACME_KEY),
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
            "zz",
        ),
        (
            server.get(
                &format!("/v1/batches/{batch}/contacts?status=sleeping"),
                ACME_KEY,
            ),
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "sleeping",
        ),
        (
            server.post(&format!("/v1/batches/{batch}/resume"), ACME_KEY),
            StatusCode::CONFLICT,
            "illegal_transition",
            "cancelled",
        ),
        (
            server.post(&format!("/v1/batches/{batch}/pause"), ACME_KEY),
            StatusCode::CONFLICT,
            "illegal_transition",
            "cancelled",
        ),
        (
            server.post(&format!("/v1/batches/{batch}/dispatch"), ACME_KEY),
            StatusCode::CONFLICT,
            "illegal_transition",
            "cancelled",
        ),
        (
            server
                .post(&format!("/v1/batches/{batch}/pause"), ACME_KEY)
                .header("content-type", "application/json")
                .body("{\"why\": 1}"),
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "unknown field \"why\"",
        ),
        (
            server
                .post(&format!("/v1/batches/{batch}/pause"), ACME_KEY)
                .header("content-type", "application/json")
                .body(format!("{{\"reason\": \"{}\"}}", "x".repeat(5000))),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "larger",
        ),
    ];
    for (request, status, code, names) in cases {
        let (got, body) = json_of(request.send().await.unwrap()).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(names),
            "\"{message}\" does not name {names}"
        );
    }
    assert_eq!(
        server.store.journal_head().unwrap(),
        head,
        "nothing was written"
    );
    let (_, page) = json_of(server.get("/v1/batches", ACME_KEY).send().await.unwrap()).await;
    assert_eq!(page["batches"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_create_answers_the_same_batch_and_a_different_body_is_409() {
    let server = start("http://127.0.0.1:9/hook").await;
    let send = |contacts: Value| {
        server
            .post("/v1/campaigns/spring/batches", ACME_KEY)
            .header("idempotency-key", "upload-42")
            .json(&json!({ "contacts": contacts }))
            .send()
    };
    let (first_status, first) = json_of(send(three_contacts()).await.unwrap()).await;
    let (second_status, second) = json_of(send(three_contacts()).await.unwrap()).await;
    assert_eq!(
        (first_status, second_status),
        (StatusCode::CREATED, StatusCode::OK)
    );
    assert_eq!(first["batch"]["batch_id"], second["batch"]["batch_id"]);
    assert_eq!(second["created"], false);
    let (status, conflict) = json_of(send(json!([{"phone": "+12125550199"}])).await.unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(conflict["error"]["code"], "idempotency_conflict");
    let (_, page) = json_of(server.get("/v1/batches", ACME_KEY).send().await.unwrap()).await;
    assert_eq!(page["batches"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_of_many_chunks_is_stored_whole_and_a_bad_row_near_its_end_leaves_nothing() {
    let server = start_with_upload_limit("http://127.0.0.1:9/hook", 4 * 1024 * 1024).await;
    let rows = 25_000;
    let csv = |bad_row: Option<usize>| {
        let mut text = String::from("phone,plan\n");
        for i in 0..rows {
            if Some(i) == bad_row {
                text.push_str("nope,gold\n");
            } else {
                text.push_str(&format!("+1212{:07},gold\n", 5_550_000 + i));
            }
        }
        text
    };
    let upload = |body: String| {
        server
            .post("/v1/campaigns/spring/batches", ACME_KEY)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let head = server.store.journal_head().unwrap();

    // Two chunks of contacts are stored before the bad row is read.
    let (status, refused) = json_of(upload(csv(Some(24_000))).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_contacts");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("row 24002, column \"phone\""), "{message}");
    assert_refused_upload_left_nothing(&server, head).await;

    let (status, created) = json_of(upload(csv(None)).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let batch = created["batch"]["batch_id"].as_str().unwrap();
    assert_eq!(created["batch"]["counters"]["total"], rows);
    let last = server
        .store
        .contact(batch, rows as u64 - 1)
        .unwrap()
        .expect("the last row is stored");
    assert_eq!(last.phone, format!("+1212{:07}", 5_550_000 + rows - 1));
    assert_eq!(last.contact_id, format!("row-{}", rows + 1));
    let counters = server.store.batch_counters(batch).unwrap();
    assert_eq!(counters, server.store.recount(batch).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_upload_of_many_chunks_is_read_as_it_goes_and_a_bad_contact_near_its_end_leaves_nothing()
 {
    let server = start_with_upload_limit("http://127.0.0.1:9/hook", 4 * 1024 * 1024).await;
    let rows = 25_000;
    // The batch options come after the contacts, so the body is read past
    // the array the importer reads on its own.
    let body = |bad_row: Option<usize>| {
        let contacts: Vec<serde_json::Value> = (0..rows)
            .map(|i| {
                let phone = if Some(i) == bad_row {
                    "nope".to_string()
                } else {
                    format!("+1212{:07}", 5_550_000 + i)
                };
                json!({"phone": phone, "id": format!("c{i}"), "attributes": {"plan": "gold"}})
            })
            .collect();
        json!({"contacts": contacts, "max_attempts": 2}).to_string()
    };
    let upload = |body: String| {
        server
            .post("/v1/campaigns/spring/batches", ACME_KEY)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let head = server.store.journal_head().unwrap();

    let (status, refused) = json_of(upload(body(Some(24_000))).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("contacts[24000].phone"), "{message}");
    assert_refused_upload_left_nothing(&server, head).await;

    let (status, created) = json_of(upload(body(None)).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["batch"]["counters"]["total"], rows);
    assert_eq!(created["batch"]["max_retries_override"], 2, "{created}");
    let batch = created["batch"]["batch_id"].as_str().unwrap();
    let last = server
        .store
        .contact(batch, rows as u64 - 1)
        .unwrap()
        .expect("the last contact is stored");
    assert_eq!(last.contact_id, format!("c{}", rows - 1));
    assert_eq!(last.attributes, [("plan".to_string(), "gold".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_carries_its_own_number_pool_budget_and_goal() {
    let server = start("http://127.0.0.1:9/hook").await;
    let (status, created) = json_of(
        server
            .post("/v1/campaigns/spring/batches", ACME_KEY)
            .json(&json!({
                "contacts": three_contacts(),
                "numbers": [{"number": "+12125550199", "weight": 3}, {"number": "+13125550199"}],
                "number_strategy": "weighted",
                "budget": 12.5,
                "goal": {"target": 2, "success_labels": ["interested"]},
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let batch = &created["batch"];
    assert_eq!(batch["numbers"][0]["number"], "+12125550199");
    assert_eq!(batch["numbers"][0]["weight"], 3);
    assert_eq!(batch["numbers"][1]["weight"], 1);
    assert_eq!(batch["number_strategy"], "weighted");
    assert_eq!(batch["budget_micros"], 12_500_000);
    assert_eq!(batch["goal"]["target"], 2);

    // The same overrides on a CSV upload, as query parameters.
    let (status, created) = json_of(
        server
            .post(
                "/v1/campaigns/spring/batches?numbers=%2B12125550198:2,%2B13125550198&number_strategy=sticky&budget=3&goal=1&goal_labels=interested,callback_requested",
                ACME_KEY,
            )
            .header("content-type", "text/csv")
            .body("phone\n+12125550101\n")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let batch = &created["batch"];
    assert_eq!(batch["numbers"][0]["weight"], 2);
    assert_eq!(batch["numbers"][1]["number"], "+13125550198");
    assert_eq!(batch["number_strategy"], "sticky");
    assert_eq!(batch["budget_micros"], 3_000_000);
    assert_eq!(
        batch["goal"]["success_labels"],
        json!(["interested", "callback_requested"])
    );

    // Bad overrides are refused by name, and nothing is written.
    for (body, named) in [
        (
            json!({"contacts": three_contacts(), "numbers": [{"number": "555-0100"}]}),
            "\"numbers\"",
        ),
        (
            json!({"contacts": three_contacts(), "numbers": []}),
            "\"numbers\" is empty",
        ),
        (
            json!({"contacts": three_contacts(), "budget": -1}),
            "\"budget\"",
        ),
        (
            json!({"contacts": three_contacts(), "goal": {"target": 0, "success_labels": ["interested"]}}),
            "\"goal\" target is 0",
        ),
    ] {
        let (status, refused) = json_of(
            server
                .post("/v1/campaigns/spring/batches", ACME_KEY)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{message}");
    }
    let (_, page) = json_of(server.get("/v1/batches", ACME_KEY).send().await.unwrap()).await;
    assert_eq!(page["batches"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_webhook_endpoint_is_enabled_and_tried() {
    // Nothing listens on port 9: the try fails to connect, which shows the
    // deliverer attempted https rather than refusing the scheme.
    let server = start("https://127.0.0.1:9/hook").await;
    server.create_batch(three_contacts()).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let endpoint = loop {
        let (_, hooks) = json_of(
            server
                .get("/v1/campaigns/spring/webhooks", ACME_KEY)
                .send()
                .await
                .unwrap(),
        )
        .await;
        let endpoint = hooks["endpoints"][0].clone();
        if endpoint["recent_tries"]
            .as_array()
            .is_some_and(|tries| !tries.is_empty())
        {
            break endpoint;
        }
        assert!(Instant::now() < deadline, "never tried: {hooks}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(endpoint["enabled"], true, "{endpoint}");
    assert_eq!(endpoint["disabled_reason"], Value::Null, "{endpoint}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_tells_of_a_pause_as_it_happens() {
    let server = start("http://127.0.0.1:9/hook").await;
    let created = server.create_batch(three_contacts()).await;
    let batch = created["batch"]["batch_id"].as_str().unwrap().to_string();
    let mut stream = server
        .get(&format!("/v1/batches/{batch}/events"), ACME_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut paused = false;
    while !seen.contains("event: batch.paused") {
        assert!(
            Instant::now() < deadline,
            "no batch.paused event in: {seen}"
        );
        if seen.contains("event: progress") && !paused {
            server
                .post(&format!("/v1/batches/{batch}/pause"), ACME_KEY)
                .send()
                .await
                .unwrap();
            paused = true;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("id: evt_"), "{seen}");
    assert!(seen.contains("\"status\":\"paused\""), "{seen}");
}

fn verify(headers: &axum::http::HeaderMap, body: &[u8]) -> bool {
    let signature = headers["x-outdial-signature"].to_str().unwrap();
    let timestamp = headers["x-outdial-timestamp"].to_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    );
    signature == expected
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_and_retried_with_backoff_after_the_receiver_was_down() {
    let (receiver, url) = start_receiver().await;
    let server = start(&url).await;
    receiver.down.store(true, Ordering::SeqCst);
    let created = server.create_batch(three_contacts()).await;
    let batch = created["batch"]["batch_id"].as_str().unwrap().to_string();
    server
        .post(&format!("/v1/batches/{batch}/contacts/2/skip"), ACME_KEY)
        .send()
        .await
        .unwrap();

    // The first event fails once, then waits for the backoff in virtual time.
    wait_for("the first refused try", || {
        *receiver.refused.lock().unwrap() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        *receiver.refused.lock().unwrap(),
        1,
        "no retry before the backoff"
    );
    server.clock.advance(10 * SECOND_MS);
    wait_for("the second refused try", || {
        *receiver.refused.lock().unwrap() == 2
    })
    .await;
    server.clock.advance(15 * SECOND_MS);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        *receiver.refused.lock().unwrap(),
        2,
        "the second wait is doubled to 20 s"
    );

    receiver.down.store(false, Ordering::SeqCst);
    server.clock.advance(5 * SECOND_MS);
    wait_for("both events", || {
        receiver.received.lock().unwrap().len() == 2
    })
    .await;
    let received = receiver.received.lock().unwrap().clone();
    let kinds: Vec<String> = received
        .iter()
        .map(|(headers, body)| {
            assert!(
                verify(headers, body),
                "a bad signature on {}",
                String::from_utf8_lossy(body)
            );
            let event: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(headers["x-outdial-event-id"].to_str().unwrap(), event["id"]);
            assert_eq!(event["batch_id"], batch.as_str());
            event["type"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(kinds, ["batch.created", "contact.finalized"]);

    let deadline = Instant::now() + Duration::from_secs(10);
    let hooks = loop {
        let (_, hooks) = json_of(
            server
                .get("/v1/campaigns/spring/webhooks", ACME_KEY)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if hooks["endpoints"][0]["delivered"] == 2 {
            break hooks;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries never recorded: {hooks}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let endpoint = &hooks["endpoints"][0];
    assert_eq!(endpoint["enabled"], true);
    assert_eq!(endpoint["delivered"], 2);
    let tries: Vec<(bool, u64)> = endpoint["recent_tries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["succeeded"].as_bool().unwrap(),
                t["attempt"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tries, [(true, 1), (true, 3), (false, 2), (false, 1)]);

    // An endpoint down for longer than a day is disabled, with the reason.
    receiver.down.store(true, Ordering::SeqCst);
    // Read before the pause: its event may be tried and refused before the
    // pause request is even answered.
    let refused = *receiver.refused.lock().unwrap();
    server
        .post(&format!("/v1/batches/{batch}/pause"), ACME_KEY)
        .send()
        .await
        .unwrap();
    wait_for("a refused pause event", || {
        *receiver.refused.lock().unwrap() > refused
    })
    .await;
    for _ in 0..30 {
        server.clock.advance(HOUR_MS);
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let endpoint = loop {
        let (_, hooks) = json_of(
            server
                .get("/v1/campaigns/spring/webhooks", ACME_KEY)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if hooks["endpoints"][0]["enabled"] == false {
            break hooks["endpoints"][0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "the endpoint was never disabled: {hooks}"
        );
        server.clock.advance(HOUR_MS);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let reason = endpoint["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("503"), "{reason}");

    // Re-enabled, it delivers the held event.
    receiver.down.store(false, Ordering::SeqCst);
    let id = endpoint["id"].as_str().unwrap();
    let (status, _) = json_of(
        server
            .post(
                &format!("/v1/campaigns/spring/webhooks/{id}/enable"),
                ACME_KEY,
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    wait_for("the pause event", || {
        receiver.received.lock().unwrap().len() == 3
    })
    .await;
    let (headers, body) = receiver.received.lock().unwrap()[2].clone();
    assert!(verify(&headers, &body));
    assert_eq!(headers["x-outdial-event"], "batch.paused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_carries_its_own_working_hours_shown_on_the_batch_and_in_debug() {
    let server = start("http://127.0.0.1:9/hook").await;
    let hours = json!({
        "time_zone_policy": "campaign",
        "default_time_zone": "America/Chicago",
        "hours": [{"days": "mon-fri", "start": "10:00", "end": "12:00"}],
    });
    let (status, created) = json_of(
        server
            .post("/v1/campaigns/spring/batches", ACME_KEY)
            .json(&json!({"contacts": three_contacts(), "hours": hours}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let batch = &created["batch"];
    assert_eq!(batch["hours"]["time_zone_policy"], "campaign");
    assert_eq!(batch["hours"]["default_time_zone"], "America/Chicago");
    assert_eq!(
        batch["hours"]["calling_window"]["rules"],
        json!([{"kind": "range", "days": [0, 1, 2, 3, 4], "start_minute": 600, "end_minute": 720}])
    );
    let id = batch["batch_id"].as_str().unwrap();
    let contacts = server.store.list_contacts(&outdial::store::ContactQuery {
        batch_id: id.to_string(),
        limit: 10,
        ..Default::default()
    });
    for contact in contacts.unwrap().items {
        assert_eq!(
            contact.time_zone, "America/Chicago",
            "the batch's zone policy"
        );
    }
    let (status, debug) = json_of(
        server
            .get(&format!("/v1/batches/{id}/debug"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{debug}");
    assert_eq!(debug["effective"]["hours_from"], "batch");
    assert_eq!(debug["queue"]["hours_from"], "batch");
    assert_eq!(debug["windows"][0]["time_zone"], "America/Chicago");

    // The same hours on a CSV upload, as a query parameter holding JSON.
    let query = url_encoded(&hours.to_string());
    let (status, created) = json_of(
        server
            .post(
                &format!("/v1/campaigns/spring/batches?hours={query}"),
                ACME_KEY,
            )
            .header("content-type", "text/csv")
            .body("phone\n+12125550101\n")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["batch"]["hours"], batch["hours"]);

    // A batch without hours takes the campaign's.
    let plain = server.create_batch(three_contacts()).await;
    assert_eq!(plain["batch"]["hours"], Value::Null);
    let id = plain["batch"]["batch_id"].as_str().unwrap();
    let (_, debug) = json_of(
        server
            .get(&format!("/v1/batches/{id}/debug"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(debug["effective"]["hours_from"], "campaign");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_carries_its_own_retry_strategy_shown_on_the_batch_and_in_debug() {
    let server = start("http://127.0.0.1:9/hook").await;
    // The campaign's plugin with one key of its own.
    let (status, created) = json_of(
        server
            .post("/v1/campaigns/spring/batches", ACME_KEY)
            .json(&json!({"contacts": three_contacts(), "retry": {"config": {"base_delay": "2m"}}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["batch"]["retry"],
        json!({"plugin": "retry-backoff", "config": {"base_delay": "2m"}, "overridden": ["base_delay"]})
    );
    let id = created["batch"]["batch_id"].as_str().unwrap();
    let debug = server.debug(id).await;
    assert_eq!(debug["plugins"]["retry"], "retry-backoff");
    assert_eq!(debug["plugins"]["retry_from"], "batch");
    assert_eq!(
        debug["plugins"]["retry_config"],
        json!({"base_delay": "2m"})
    );
    assert_eq!(debug["queue"]["retry_from"], "batch");
    assert_eq!(debug["queue"]["retry_plugin"], "retry-backoff");

    // Another plugin, named by its [[plugins]] entry, on a CSV upload; a
    // preview shows it checked before anything is created.
    let retry = json!({"plugin": "ladder", "config": {"busy": "5m, 5m", "no_answer": "1h"}});
    for path in ["batches/preview", "batches"] {
        let (status, answer) = json_of(
            server
                .post(
                    &format!(
                        "/v1/campaigns/spring/{path}?retry={}",
                        url_encoded(&retry.to_string())
                    ),
                    ACME_KEY,
                )
                .header("content-type", "text/csv")
                .body("phone\n+12125550101\n")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(status.is_success(), "{answer}");
        let checked = if path == "batches" {
            &answer["batch"]["retry"]
        } else {
            &answer["options"]["retry"]
        };
        assert_eq!(checked["plugin"], "ladder", "{answer}");
        assert_eq!(
            checked["config"],
            json!({"busy": "5m, 5m", "no_answer": "1h"}),
            "the campaign's config is not the ladder's"
        );
    }

    // A batch without one takes the campaign's.
    let plain = server.create_batch(three_contacts()).await;
    assert_eq!(plain["batch"]["retry"], Value::Null);
    let debug = server
        .debug(plain["batch"]["batch_id"].as_str().unwrap())
        .await;
    assert_eq!(debug["plugins"]["retry_from"], "campaign");
    assert_eq!(debug["queue"]["retry_from"], "campaign");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_answers_the_windows_limits_and_blockers_of_queue_health() {
    let server = start("http://127.0.0.1:9/hook").await;
    // Limits and hours of the batch's own, and contacts the dispatcher
    // held, so that each part has something to say.
    let hours = json!({
        "default_time_zone": "America/Chicago",
        "hours": [{"days": "mon-fri", "start": "10:00", "end": "12:00"}],
    });
    let (status, created) = json_of(
        server
            .post("/v1/campaigns/spring/batches", ACME_KEY)
            .json(&json!({
                "contacts": three_contacts(),
                "concurrency": 2,
                "calls_per_second": 50,
                "max_attempts": 2,
                "hours": hours,
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["batch"]["batch_id"].as_str().unwrap();
    let held = |seq, blocker| BlockerUpdate {
        seq,
        blocker: Some(blocker),
        next_eligible_at: None,
        note: None,
        plugin_fault: false,
        reason: None,
    };
    server
        .store
        .set_blockers(
            id,
            vec![
                held(0, Blocker::OutsideWindow),
                held(2, Blocker::RateLimited),
            ],
            T0,
        )
        .unwrap();

    let debug = server.debug(id).await;
    let spec = config("http://127.0.0.1:9/hook")
        .campaign_specs()
        .unwrap()
        .into_iter()
        .find(|spec| spec.id == "spring")
        .unwrap();
    let now = debug["now"].as_i64().unwrap();
    let health = queue_health(server.store.as_ref(), &spec, id, now).unwrap();
    let health = serde_json::to_value(&health).unwrap();
    assert_eq!(debug["queue"], health);
    for part in [
        "windows",
        "effective",
        "blockers",
        "batch_blocker",
        "next_eligible_at",
    ] {
        assert_eq!(debug[part], health[part], "{part}");
    }
    assert_eq!(debug["live_calls"], health["live"]);
    assert_eq!(debug["free_slots"], health["concurrency"]["free"]);
    assert_eq!(debug["plugins"]["retry_from"], health["retry_from"]);
    // What they say, so that equal does not mean equally empty.
    assert_eq!(debug["effective"]["concurrency"], 2);
    assert_eq!(debug["effective"]["concurrency_from"], "batch");
    assert_eq!(debug["effective"]["max_attempts"], 2);
    assert_eq!(debug["effective"]["hours_from"], "batch");
    assert!(!debug["windows"].as_array().unwrap().is_empty(), "{debug}");
    assert_eq!(debug["blockers"].as_array().unwrap().len(), 2, "{debug}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_retry_strategy_is_refused_as_config_would_be_naming_the_field() {
    let server = start("http://127.0.0.1:9/hook").await;
    let head = server.store.journal_head().unwrap();
    let cases = [
        (
            json!({"plugin": "retry-fancy"}),
            "\"retry.plugin\": unknown plugin \"retry-fancy\"",
        ),
        (
            json!({"plugin": "classify-rules"}),
            "\"retry.plugin\": plugin \"classify-rules\" is a disposition_classifier, expected a retry_strategy",
        ),
        (
            json!({"config": {"base_dely": "2m"}}),
            "\"retry.config.base_dely\": plugin \"retry-backoff\" has no config key \"base_dely\"",
        ),
        (
            json!({"config": {"multiplier": 500}}),
            "\"retry.config.multiplier\": plugin \"retry-backoff\" refused its config: key \"multiplier\" has value \"500\"",
        ),
        (
            json!({"plugin": "ladder", "config": {"busy": "soon"}}),
            "\"retry.config.busy\": plugin \"ladder\" refused its config: key \"busy\" has value \"soon\"",
        ),
        (
            json!({"config": {"base_delay": ["2m"]}}),
            "\"retry.config.base_delay\": retry.config key \"base_delay\" is an array, expected a string, number or boolean",
        ),
    ];
    for (retry, names) in cases {
        server
            .assert_batch_setting_refused("retry", &retry, names)
            .await;
    }
    assert_refused_upload_left_nothing(&server, head).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_carries_its_own_dial_gate_shown_on_the_batch_and_in_debug() {
    let server = start("http://127.0.0.1:9/hook").await;
    // The campaign has no gate; the batch brings the first-party one.
    let gate = json!({"plugin": "gate-hours", "config": {"blackout_dates": "2026-12-24"}});
    let (status, created) = json_of(
        server
            .post("/v1/campaigns/spring/batches", ACME_KEY)
            .json(&json!({"contacts": three_contacts(), "gate": gate}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let shown = json!({
        "plugin": "gate-hours",
        "config": {"blackout_dates": "2026-12-24"},
        "overridden": ["blackout_dates"],
    });
    assert_eq!(created["batch"]["gate"], shown);
    let id = created["batch"]["batch_id"].as_str().unwrap();
    let (status, read) = json_of(
        server
            .get(&format!("/v1/batches/{id}"), ACME_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["gate"], shown, "the store kept it");
    let debug = server.debug(id).await;
    assert_eq!(debug["plugins"]["gate"], "gate-hours");
    assert_eq!(debug["plugins"]["gate_from"], "batch");
    assert_eq!(
        debug["plugins"]["gate_config"],
        json!({"blackout_dates": "2026-12-24"})
    );
    assert_eq!(debug["queue"]["compliance"]["gate_plugin"], "gate-hours");
    assert_eq!(debug["queue"]["compliance"]["gate_from"], "batch");

    // The same gate on a CSV upload, checked by a preview before anything
    // is created.
    for path in ["batches/preview", "batches"] {
        let (status, answer) = json_of(
            server
                .post(
                    &format!(
                        "/v1/campaigns/spring/{path}?gate={}",
                        url_encoded(&gate.to_string())
                    ),
                    ACME_KEY,
                )
                .header("content-type", "text/csv")
                .body("phone\n+12125550101\n")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(status.is_success(), "{answer}");
        let checked = if path == "batches" {
            &answer["batch"]["gate"]
        } else {
            &answer["options"]["gate"]
        };
        assert_eq!(checked, &shown, "{answer}");
    }

    // Null, like every field, is no setting of the batch's own: it cannot
    // turn a gate off.
    let (status, plain) = json_of(
        server
            .post("/v1/campaigns/spring/batches", ACME_KEY)
            .json(&json!({"contacts": three_contacts(), "gate": null}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{plain}");
    assert_eq!(plain["batch"]["gate"], Value::Null);
    let debug = server
        .debug(plain["batch"]["batch_id"].as_str().unwrap())
        .await;
    assert_eq!(debug["plugins"]["gate"], Value::Null);
    assert_eq!(debug["plugins"]["gate_from"], "campaign");
    assert_eq!(debug["queue"]["compliance"]["gate_from"], "campaign");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_dial_gate_is_refused_as_config_would_be_naming_the_field() {
    let server = start("http://127.0.0.1:9/hook").await;
    let head = server.store.journal_head().unwrap();
    let cases = [
        (
            json!({"plugin": "gate-nowhere"}),
            "\"gate.plugin\": unknown plugin \"gate-nowhere\"",
        ),
        (
            json!({"plugin": "classify-rules"}),
            "\"gate.plugin\": plugin \"classify-rules\" is a disposition_classifier, expected a dial_gate for gate",
        ),
        (
            json!({"plugin": "ladder"}),
            "\"gate.plugin\": plugin \"ladder\" is a retry_strategy, expected a dial_gate for gate",
        ),
        (
            json!({"plugin": "gate-hours", "config": {"curfew": "22:00"}}),
            "\"gate.config.curfew\": plugin \"gate-hours\" has no config key \"curfew\"",
        ),
        (
            json!({"plugin": "gate-hours", "config": {"blackout_dates": "someday"}}),
            "\"gate.config.blackout_dates\": plugin \"gate-hours\" refused its config: key \"blackout_dates\"",
        ),
        (
            json!({"config": {"blackout_dates": "2026-12-24"}}),
            "\"gate\": the campaign has no gate to set keys of, expected a \"plugin\"",
        ),
    ];
    for (gate, names) in cases {
        server
            .assert_batch_setting_refused("gate", &gate, names)
            .await;
    }
    assert_refused_upload_left_nothing(&server, head).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_working_hours_are_refused_naming_the_field_and_nothing_is_stored() {
    let server = start("http://127.0.0.1:9/hook").await;
    let head = server.store.journal_head().unwrap();
    let cases = [
        (
            json!({"hours": [{"start": "09:00", "end": "9pm"}]}),
            "\"hours.hours[0].end\": end \"9pm\" is not a time",
        ),
        (
            json!({"hours": [{"days": "mon-fri", "start": "09:00", "end": "17:00"}, {"days": "sun-fun", "start": "09:00", "end": "12:00"}]}),
            "\"hours.hours[1].days\": unknown day",
        ),
        (
            json!({"hours": [{"start": "18:00", "end": "09:00"}]}),
            "\"hours.hours[0]\": start \"18:00\" is not before end \"09:00\"",
        ),
        (
            json!({"default_time_zone": "Mars/Olympus"}),
            "\"hours.default_time_zone\": unknown time zone \"Mars/Olympus\"",
        ),
        (
            json!({"time_zone_policy": "recipient"}),
            "\"hours.time_zone_policy\": unknown time_zone_policy \"recipient\"",
        ),
        (
            json!({"cron": ["* 9-17 * *"]}),
            "\"hours.cron[0]\": cron expression",
        ),
    ];
    for (hours, names) in cases {
        server
            .assert_batch_setting_refused("hours", &hours, names)
            .await;
    }
    let (status, body) = json_of(
        server
            .post("/v1/campaigns/spring/batches?hours=%7Bnot-json", ACME_KEY)
            .header("content-type", "text/csv")
            .body("phone\n+12125550101\n")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("\"hours\": ")
    );
    assert_refused_upload_left_nothing(&server, head).await;
}

/// `text` as a query parameter value.
fn url_encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Every test the seed-features table cites exists, so no row of it is
/// backed by a test that was renamed or removed.
#[test]
fn every_test_the_seed_features_table_cites_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let table = std::fs::read_to_string(root.join("docs/seed-features.md")).unwrap();
    let cited: BTreeSet<&str> = table
        .split('`')
        .filter(|word| word.matches('_').count() >= 4 && !word.contains(' '))
        .collect();
    assert!(cited.len() >= 10, "{cited:?}");
    let mut sources = String::new();
    let mut folders = vec![root.join("runtime"), root.join("tests")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() && !path.ends_with("target") {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                sources += &std::fs::read_to_string(&path).unwrap();
            }
        }
    }
    for name in cited {
        assert!(
            sources.contains(&format!("fn {name}(")),
            "docs/seed-features.md cites {name}, which is no test"
        );
    }
}
