//! Import: one upload of N contacts through the API, as CSV or as a JSON
//! body, from request to acknowledged batch, every contact checked (E.164,
//! time zone, duplicate phone numbers and ids) and stored durably.
//!
//! The request goes to the API's router in this process without a socket,
//! so the upload is in memory once, as the server holds it.
//!
//! Run: `cargo bench -p outdial-tests --bench import -- [--contacts N]
//! [--json]`.
//! Prints one JSON line, figures last.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use outdial::api::{self, ApiSettings, AppState, hash_key};
use outdial::clock::ManualClock;
use outdial::config::Config;
use outdial::store::{SledStore, Store, StoreConfig};
use tower::ServiceExt as _;

#[path = "support/mod.rs"]
mod support;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const API_KEY: &str = "bench-key-0123456789";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let contacts = support::number_flag(&args, "--contacts", 1_000_000);
    let json = args.iter().any(|arg| arg == "--json");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run(contacts, json));
}

async fn run(contacts: u64, json: bool) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store: Arc<dyn Store> = Arc::new(
        SledStore::open(&StoreConfig::new(dir.path().join("store"))).expect("the store opens"),
    );
    let config = Config::parse_str(
        "bench.toml",
        &format!(
            r#"
[[workspaces]]
id = "bench"
api_keys = [{{ id = "bench", sha256 = "{key}" }}]

[[campaigns]]
id = "bench"
workspace = "bench"
provider = {{ plugin = "simulated" }}
window = {{ default_time_zone = "America/New_York" }}
"#,
            key = hash_key(API_KEY)
        ),
    )
    .expect("the bench config parses");
    let settings = ApiSettings {
        max_upload_bytes: 256 * 1024 * 1024,
        max_contacts_per_batch: contacts as usize,
        ..ApiSettings::default()
    };
    let state = AppState::from_config(
        &config,
        None,
        store.clone(),
        Arc::new(ManualClock::new(support::START)),
        Arc::new(|_: &str| None),
        settings,
    )
    .expect("the API sets up");
    let router = api::router(state);

    let (body, content_type) = if json {
        (json_body(contacts), "application/json")
    } else {
        (csv(contacts), "text/csv")
    };
    let body_mib = body.len() as f64 / (1024.0 * 1024.0);
    let rss_before = support::memory_mib("VmRSS");
    let request = Request::post("/v1/campaigns/bench/batches?scheduled_start=2030-01-01T00:00:00Z")
        .header("content-type", content_type)
        .header("x-api-key", API_KEY)
        .body(Body::from(Bytes::from(body)))
        .expect("a request");
    let started = Instant::now();
    let response = router.oneshot(request).await.expect("the router answers");
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status();
    let answer = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the answer reads");
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let created: serde_json::Value = serde_json::from_slice(&answer).expect("JSON");
    assert_eq!(created["batch"]["counters"]["total"], contacts);
    let peak = support::memory_mib("VmHWM");
    println!(
        "{{\"bench\":\"import\",\"format\":\"{format}\",\"contacts\":{contacts},\"body_mib\":{body_mib:.1},\
         \"seconds\":{seconds:.2},\"contacts_per_s\":{rate:.0},\"rss_before_mib\":{rss_before:.1},\
         \"rss_end_mib\":{end:.1},\"peak_rss_mib\":{peak:.1}}}",
        format = if json { "json" } else { "csv" },
        rate = contacts as f64 / seconds,
        end = support::memory_mib("VmRSS"),
    );
}

/// The same contacts as [`csv`], as the `contacts` array of a JSON body.
fn json_body(contacts: u64) -> Vec<u8> {
    let mut text = String::with_capacity(contacts as usize * 150 + 64);
    text.push_str("{\"contacts\":[");
    for i in 0..contacts {
        if i > 0 {
            text.push(',');
        }
        let region = if i % 2 == 0 { "north" } else { "south" };
        text.push_str(&format!(
            "{{\"id\":\"c{i:07}\",\"phone\":\"+1212{:07}\",\"name\":\"Contact {i}\",\
             \"time_zone\":\"America/Chicago\",\"attributes\":{{\"plan\":\"gold\",\"region\":\"{region}\"}}}}",
            5_550_000 + i
        ));
    }
    text.push_str("]}");
    text.into_bytes()
}

/// `contacts` rows with an id, a phone number, a name, a time zone and
/// two attribute columns.
fn csv(contacts: u64) -> Vec<u8> {
    let mut text = String::with_capacity(contacts as usize * 70 + 64);
    text.push_str("id,phone,name,time_zone,plan,region\n");
    for i in 0..contacts {
        let region = if i % 2 == 0 { "north" } else { "south" };
        text.push_str(&format!(
            "c{i:07},+1212{:07},Contact {i},America/Chicago,gold,{region}\n",
            5_550_000 + i
        ));
    }
    text.into_bytes()
}
