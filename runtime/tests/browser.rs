//! The dashboard in a real browser: headless Chromium, driven over
//! WebDriver, against a running `outdial demo`. Screenshots land in
//! `target/browser-artifacts/`.
//!
//! Without Chromium and its driver installed each test says so and skips;
//! CI installs both, so CI never skips.

#[path = "browser/webdriver.rs"]
mod webdriver;

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use webdriver::{Browser, Installed};

const KEY: &str = "browser-test-key-0123456789";

/// One browser and one demo at a time: each is heavy on a small machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn artifact(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("browser-artifacts")
        .join(name)
}

fn browser_or_skip(test: &str) -> Option<Installed> {
    match webdriver::installed() {
        Ok(installed) => Some(installed),
        Err(why) => {
            eprintln!("SKIPPED {test}: {why}");
            None
        }
    }
}

/// `outdial demo`, serving on after its batch, with a known key.
struct Demo {
    child: Child,
    base: String,
    batch_id: String,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

impl Demo {
    /// A demo slow enough to watch: its batch dials for longer than any
    /// test looks at it.
    fn start(contacts: u32, time_scale: u32) -> Demo {
        let data = tempfile::tempdir().expect("a temporary directory");
        // OUTDIAL_BIN tests another build of the binary than cargo's own.
        let binary = std::env::var_os("OUTDIAL_BIN").map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_outdial")),
            PathBuf::from,
        );
        let mut child = Command::new(binary)
            .args(["demo", "--serve-after", "--timeout", "300"])
            .arg("--contacts")
            .arg(contacts.to_string())
            .arg("--time-scale")
            .arg(time_scale.to_string())
            .arg("--data-dir")
            .arg(data.path().join("demo"))
            .env("OUTDIAL_DEMO_API_KEY", KEY)
            .env_remove("OUTDIAL_BIND")
            .stdout(Stdio::piped())
            .stderr(
                std::fs::File::create(data.path().join("stderr.txt"))
                    .expect("a file for the demo's errors"),
            )
            .spawn()
            .expect("the outdial binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines, received) = std::sync::mpsc::channel();
        // Read every line, so the demo never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = lines.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut base = None;
        let mut batch_id = None;
        let mut printed = Vec::new();
        while base.is_none() || batch_id.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = received.recv_timeout(left).unwrap_or_else(|_| {
                let _ = child.kill();
                let errors =
                    std::fs::read_to_string(data.path().join("stderr.txt")).unwrap_or_default();
                panic!(
                    "the demo printed no dashboard address within 60 s; it printed:\n{}\n{errors}",
                    printed.join("\n")
                )
            });
            printed.push(line.clone());
            if let Some(rest) = line.strip_prefix("dashboard: ") {
                base = rest
                    .split_whitespace()
                    .next()
                    .map(|url| url.trim_end_matches('/').to_string());
            }
            if let Some(rest) = line.strip_prefix("batch ") {
                batch_id = rest.split(':').next().map(str::to_string);
            }
        }
        Demo {
            child,
            base: base.expect("an address"),
            batch_id: batch_id.expect("a batch"),
            http: outdial::net::http_client().build().expect("an HTTP client"),
            _data: data,
        }
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {KEY}"))
            .send()
            .await
            .expect("the demo answers");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        serde_json::from_str(&response.text().await.expect("a body")).expect("JSON")
    }

    /// A POST of `body` as `content_type`, answered as JSON; it must
    /// succeed.
    async fn post(&self, path: &str, content_type: &str, body: String) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {KEY}"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("the demo answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        assert!(status.is_success(), "POST {path}: {status}: {text}");
        serde_json::from_str(&text).expect("JSON")
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Signs in on the dashboard's front page.
async fn sign_in(browser: &Browser, demo: &Demo) {
    browser.goto(&format!("{}/", demo.base)).await;
    let key = browser.find("#api-key").await;
    browser.type_into(&key, KEY).await;
    browser.click_on("#sign-in-button").await;
    browser.find("#batches tbody tr[data-batch]").await;
}

/// Opens the demo batch's page from the batches list.
async fn open_demo_batch(browser: &Browser, demo: &Demo) {
    sign_in(browser, demo).await;
    // The list is redrawn every few seconds; a redrawn link is found again.
    browser
        .click_on(&format!("#batches a.batch-link[href$='{}']", demo.batch_id))
        .await;
    browser
        .wait_until("the batch page to load", async || {
            browser.text_of("#batch-id").await == demo.batch_id
                && browser.text_of("#batch-status").await != "\u{2026}"
        })
        .await;
}

fn number(text: &str) -> u64 {
    text.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_page_follows_the_demo_live_with_every_panel_filled() {
    let Some(installed) = browser_or_skip("the_batch_page_follows_the_demo_live") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let demo = Demo::start(3_000, 150);
    let browser = Browser::start(&installed, 1440, 2700).await;
    open_demo_batch(&browser, &demo).await;

    // The attempts counter moves without the page being reloaded.
    let mut first = 0;
    browser
        .wait_until("the first attempts", async || {
            first = number(&browser.text_of("#kpi-attempts .value").await);
            first > 0
        })
        .await;
    let marker = browser
        .script("window.__notReloaded = true; return true;")
        .await;
    assert_eq!(marker, true);
    browser
        .wait_until("the attempts KPI to grow", async || {
            number(&browser.text_of("#kpi-attempts .value").await) > first
        })
        .await;
    assert_eq!(
        browser
            .script("return window.__notReloaded === true;")
            .await,
        true,
        "the page reloaded instead of updating in place"
    );
    assert_eq!(browser.text_of("#live").await, "live");

    // Wait for enough calls that every panel has something to show.
    browser
        .wait_until(
            "recent calls and a second refresh of the statistics",
            async || {
                browser.find_all("#recent tbody tr").await.len() >= 5
                    && number(&browser.text_of("#kpi-attempts .value").await) > first + 200
            },
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    browser.screenshot(&artifact("batch-page-live.png")).await;
    assert_no_garbage(&browser).await;
    // At 1,440 pixels wide the wide tables show every column.
    for table in [
        "#health-windows",
        "#variants table",
        "#numbers table",
        "#tasks",
    ] {
        assert_fits_its_panel(&browser, table).await;
    }

    let stats = demo
        .get(&format!("/v1/batches/{}/stats", demo.batch_id))
        .await;
    let progress = browser.text_of("#kpi-progress .value").await;
    assert!(progress.ends_with('%'), "progress shows {progress:?}");
    assert_ne!(browser.text_of("#kpi-answer-rate .value").await, "\u{2014}");
    assert_ne!(browser.text_of("#kpi-duration .value").await, "\u{2014}");
    assert_ne!(browser.text_of("#kpi-cost .value").await, "\u{2014}");
    let budget = browser.text_of("#kpi-budget .value").await;
    assert!(budget.ends_with('%'), "the demo's budget shows {budget:?}");
    assert!(browser.find_all("#statuses .chip").await.len() >= 10);
    assert!(
        !browser
            .find_all("#health-windows tbody tr")
            .await
            .is_empty()
    );
    assert!(
        browser
            .text_of("#health-verdict")
            .await
            .starts_with("Dialing")
    );
    assert!(browser.find_all("#tasks tbody tr[data-seq]").await.len() == 50);
    // Statistics the server reports are drawn; the ones it does not are
    // shown as a dash, never as a made-up zero.
    for (field, panel, drawn) in [
        ("timeline", "#timeline", "#timeline svg polyline"),
        ("dispositions", "#dispositions", "#dispositions .hbar"),
        ("average_sentiment", "#sentiment", "#sentiment-value"),
        ("retries", "#retries", "#retries table"),
        ("variants", "#variants", "#variants table"),
        ("numbers", "#numbers", "#numbers table"),
    ] {
        let reported = find_field(&stats, field).is_some_and(|value| match value {
            Value::Array(items) => !items.is_empty(),
            Value::Null => false,
            _ => true,
        });
        let shown = !browser.find_all(drawn).await.is_empty();
        assert_eq!(
            shown, reported,
            "{panel}: the server reports {field}: {reported}"
        );
        if !reported {
            assert!(browser.text_of(panel).await.starts_with('\u{2014}'));
        }
    }
    browser.close().await;
}

/// Nothing on the page shows a value the script failed to format.
async fn assert_no_garbage(browser: &Browser) {
    let text = browser.text_of("body").await;
    for garbage in ["[object", "undefined", "NaN", "Infinity"] {
        assert!(
            !text.contains(garbage),
            "the page shows {garbage:?}:\n{text}"
        );
    }
}

/// The table, and the panel around it, show every column without scrolling
/// sideways.
async fn assert_fits_its_panel(browser: &Browser, table: &str) {
    let widths = browser
        .script(&format!(
            "const table = document.querySelector({table:?});
             if (!table) return null;
             const panel = table.closest('.card');
             return {{
               viewport: document.documentElement.clientWidth,
               box: [table.parentElement.scrollWidth, table.parentElement.clientWidth],
               panel: [panel.scrollWidth, panel.clientWidth],
             }};"
        ))
        .await;
    assert!(
        widths["viewport"]
            .as_u64()
            .is_some_and(|width| width >= 1400),
        "the window is not 1,440 pixels wide: {widths}"
    );
    for part in ["box", "panel"] {
        let (scroll, client) = (widths[part][0].as_u64(), widths[part][1].as_u64());
        assert!(
            scroll.is_some() && scroll <= client,
            "{table} overflows its {part} sideways (scroll and client widths): {widths}"
        );
    }
}

/// A field of the statistics, at the top or one object down.
fn find_field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    object.get(name).or_else(|| {
        object
            .values()
            .filter(|inner| inner.is_object())
            .find_map(|inner| inner.get(name))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pause_button_pauses_the_batch_and_the_api_agrees() {
    let Some(installed) = browser_or_skip("the_pause_button_pauses_the_batch") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let demo = Demo::start(3_000, 100);
    let browser = Browser::start(&installed, 1440, 1600).await;
    open_demo_batch(&browser, &demo).await;
    let batch_path = format!("/v1/batches/{}", demo.batch_id);
    assert_eq!(demo.get(&batch_path).await["status"], "in_progress");

    browser.click_on("#btn-pause").await;
    browser
        .wait_until("the page to show the batch paused", async || {
            browser.text_of("#batch-status").await == "paused"
        })
        .await;
    let batch = demo.get(&batch_path).await;
    assert_eq!(batch["status"], "paused");
    assert_eq!(batch["status_by"], "api_key:demo-key");
    browser
        .wait_until("the queue health to name the pause", async || {
            browser
                .text_of("#health-verdict")
                .await
                .contains("batch paused")
        })
        .await;
    // The pause banner says when, by whom and the way out.
    browser
        .wait_until("the pause banner to name who paused", async || {
            let banner = browser.text_of("#batch-banner").await;
            banner.contains("Paused") && banner.contains("api_key:demo-key")
        })
        .await;
    assert!(
        browser
            .text_of("#batch-banner")
            .await
            .contains("Resume to dial again")
    );
    browser.screenshot(&artifact("batch-paused.png")).await;
    assert!(
        browser
            .script("return document.getElementById('btn-pause').disabled;")
            .await
            == true
    );

    browser.click_on("#btn-resume").await;
    browser
        .wait_until("the page to show the batch dialing again", async || {
            browser.text_of("#batch-status").await == "in_progress"
        })
        .await;
    assert_eq!(demo.get(&batch_path).await["status"], "in_progress");
    assert!(
        browser
            .script("return document.getElementById('batch-banner').hidden;")
            .await
            == true,
        "no banner once the batch dials again"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_with_a_bad_row_is_flagged_before_anything_is_created() {
    let Some(installed) = browser_or_skip("a_csv_with_a_bad_row_is_flagged") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let demo = Demo::start(200, 2000);
    let browser = Browser::start(&installed, 1440, 1600).await;
    sign_in(&browser, &demo).await;

    let dir = tempfile::tempdir().expect("a temporary directory");
    let csv = dir.path().join("contacts.csv");
    std::fs::write(
        &csv,
        "phone,name\n+12125550101,Ada\nnot-a-phone,Bad Row\n+12125550102,Grace\n",
    )
    .expect("the CSV is written");
    let file = browser.find("#upload-file").await;
    browser
        .type_into(&file, csv.to_str().expect("a UTF-8 path"))
        .await;
    // The batch backs off from its own base delay, the campaign's plugin
    // keeping its other keys.
    let retry_config = browser.find("#upload-retry-config").await;
    browser.type_into(&retry_config, "base_delay=90s").await;
    browser.click_on("#upload-validate").await;

    let bad = browser.find("#upload-bad-rows tr.bad-row").await;
    let flagged = browser.text(&bad).await;
    assert!(flagged.contains("not-a-phone"), "flagged row: {flagged}");
    assert_eq!(
        browser.find_all("#upload-bad-rows tr.bad-row").await.len(),
        1
    );
    let summary = browser.text_of("#upload-summary").await;
    assert!(
        summary.contains("2 valid") && summary.contains("1 invalid"),
        "summary: {summary}"
    );
    let retry = browser.text_of("#upload-retry-summary").await;
    assert!(
        retry.contains("retry-backoff") && retry.contains("base_delay=90s"),
        "retry: {retry}"
    );
    browser.screenshot(&artifact("upload-preview.png")).await;
    let batches = demo.get("/v1/batches").await;
    assert_eq!(
        batches["batches"].as_array().map(Vec::len),
        Some(1),
        "the preview created a batch"
    );

    browser.click_on("#upload-commit").await;
    browser
        .wait_until("the new batch's page", async || {
            let id = browser.text_of("#batch-id").await;
            !id.is_empty() && id != demo.batch_id
        })
        .await;
    let created = browser.text_of("#batch-id").await;
    let batch = demo.get(&format!("/v1/batches/{created}")).await;
    assert_eq!(
        batch["counters"]["total"], 2,
        "only the good rows are created"
    );
    // The new batch's page shows what the upload was.
    browser
        .wait_until("the upload card", async || {
            let card = browser.text_of("#upload-card").await;
            card.contains("contacts.csv") && card.contains("2 valid") && card.contains("1 invalid")
        })
        .await;
    assert_eq!(batch["upload"]["file_name"], "contacts.csv");
    // The preview said which strategy would decide retries; the batch has
    // it, and its page says so.
    assert_eq!(batch["retry"]["plugin"], "retry-backoff");
    assert_eq!(batch["retry"]["config"]["base_delay"], "90s");
    assert_eq!(
        batch["retry"]["overridden"],
        serde_json::json!(["base_delay"])
    );
    let own = browser.text_of("#batch-own-retry").await;
    assert!(
        own.contains("retry-backoff") && own.contains("base_delay=90s"),
        "own settings: {own}"
    );
    browser.close().await;
}

/// How many batches the API lists.
async fn batch_count(demo: &Demo) -> usize {
    demo.get("/v1/batches").await["batches"]
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_uploaded_with_its_own_dial_gate_makes_a_batch_screened_by_it() {
    let Some(installed) = browser_or_skip("a_csv_uploaded_with_its_own_dial_gate") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let demo = Demo::start(200, 2000);
    let browser = Browser::start(&installed, 1440, 1600).await;
    sign_in(&browser, &demo).await;

    let dir = tempfile::tempdir().expect("a temporary directory");
    let csv = dir.path().join("gated.csv");
    std::fs::write(&csv, "phone,name\n+12125550111,Ada\n+12125550112,Grace\n")
        .expect("the CSV is written");
    let file = browser.find("#upload-file").await;
    browser
        .type_into(&file, csv.to_str().expect("a UTF-8 path"))
        .await;
    let plugin = browser.find("#upload-gate-plugin").await;
    browser.type_into(&plugin, "gate-hours").await;
    // A value may itself hold "=": the pair splits at its first.
    let config = browser.find("#upload-gate-config").await;
    browser.type_into(&config, "hours=US=00:00-24:00").await;
    browser.click_on("#upload-validate").await;

    let summary = browser.find("#upload-gate-summary").await;
    let screened = browser.text(&summary).await;
    assert!(
        screened.contains("Dials screened by gate-hours")
            && screened.contains("hours=US=00:00-24:00"),
        "gate summary: {screened}"
    );
    assert_eq!(browser.text_of("#upload-retry-summary").await, "");

    browser.click_on("#upload-commit").await;
    browser
        .wait_until("the new batch's page", async || {
            let id = browser.text_of("#batch-id").await;
            !id.is_empty() && id != demo.batch_id
        })
        .await;
    let created = browser.text_of("#batch-id").await;
    let batch = demo.get(&format!("/v1/batches/{created}")).await;
    assert_eq!(batch["gate"]["plugin"], "gate-hours");
    assert_eq!(batch["gate"]["config"]["hours"], "US=00:00-24:00");
    assert_eq!(batch["gate"]["overridden"], serde_json::json!(["hours"]));
    assert_eq!(batch["retry"], Value::Null, "the campaign's retry applies");
    let debug = demo.get(&format!("/v1/batches/{created}/debug")).await;
    assert_eq!(debug["plugins"]["gate_from"], "batch");
    browser
        .wait_until("the batch's own gate", async || {
            !browser.find_all("#batch-own-gate").await.is_empty()
        })
        .await;
    let own = browser.text_of("#batch-own-gate").await;
    assert!(
        own.contains("gate-hours") && own.contains("hours=US=00:00-24:00"),
        "own settings: {own}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dial_gate_that_is_no_gate_is_refused_in_the_upload_form_and_nothing_is_created() {
    let Some(installed) = browser_or_skip("a_dial_gate_that_is_no_gate_is_refused") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let demo = Demo::start(200, 2000);
    let browser = Browser::start(&installed, 1440, 1600).await;
    sign_in(&browser, &demo).await;
    let before = batch_count(&demo).await;

    let rows = browser.find("#upload-text").await;
    browser
        .type_into(&rows, "phone,name\n+12125550121,Ada\n")
        .await;
    // A retry strategy where a dial gate belongs.
    let plugin = browser.find("#upload-gate-plugin").await;
    browser.type_into(&plugin, "retry-backoff").await;
    browser.click_on("#upload-validate").await;
    browser
        .wait_until("the refusal", async || {
            !browser.text_of("#upload-error").await.is_empty()
        })
        .await;
    let refused = browser.text_of("#upload-error").await;
    assert!(
        refused.contains("\"gate.plugin\"") && refused.contains("expected a dial_gate for gate"),
        "refusal: {refused}"
    );
    assert!(browser.find_all("#upload-summary").await.is_empty());
    assert_eq!(
        browser
            .script("return document.getElementById('upload-commit').disabled;")
            .await,
        true,
        "a refused upload cannot be created"
    );

    // A plugin the server does not load is refused by name.
    browser
        .script("document.getElementById('upload-gate-plugin').value = ''; return true;")
        .await;
    browser.type_into(&plugin, "gate-nowhere").await;
    browser.click_on("#upload-validate").await;
    browser
        .wait_until("the refusal of an unknown gate", async || {
            browser
                .text_of("#upload-error")
                .await
                .contains("unknown plugin \"gate-nowhere\"")
        })
        .await;
    browser
        .screenshot(&artifact("upload-gate-refused.png"))
        .await;
    assert_eq!(batch_count(&demo).await, before, "a batch was created");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_row_opens_its_debug_drawer_with_attempts_and_events() {
    let Some(installed) = browser_or_skip("a_contact_row_opens_its_debug_drawer") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let demo = Demo::start(1_000, 2000);
    let browser = Browser::start(&installed, 1440, 1600).await;
    open_demo_batch(&browser, &demo).await;

    // The table stops following the batch, so the row clicked stays put,
    // and shows only contacts that were dialed: they have attempts.
    browser.click_on("#tasks-follow").await;
    browser
        .wait_until("the status filter", async || {
            browser
                .find_all("#filter-status option[value='completed']")
                .await
                .len()
                == 1
        })
        .await;
    let mut seq = String::new();
    browser
        .wait_until("a completed contact in the table", async || {
            let first = browser
                .script(
                    "const s = document.getElementById('filter-status');
                     if (s.value !== 'completed') { s.value = 'completed'; s.dispatchEvent(new Event('change')); }
                     const row = document.querySelector('#tasks tbody tr[data-seq]');
                     return row ? [row.dataset.seq, row.textContent] : null;",
                )
                .await;
            match first.as_array() {
                Some(row) if row[1].as_str().is_some_and(|text| text.contains("completed")) => {
                    seq = row[0].as_str().unwrap_or_default().to_string();
                    true
                }
                _ => false,
            }
        })
        .await;
    // The table is drawn anew as the counters change; the row is found
    // again if it was between finding and clicking.
    browser
        .click_on(&format!("#tasks tbody tr[data-seq='{seq}']"))
        .await;
    browser
        .wait_until("the drawer's attempts", async || {
            !browser
                .find_all("#drawer-attempts tbody tr")
                .await
                .is_empty()
        })
        .await;
    assert_eq!(
        browser
            .script("return document.getElementById('drawer').hidden;")
            .await,
        false
    );
    let detail = demo
        .get(&format!("/v1/batches/{}/contacts/{seq}", demo.batch_id))
        .await;
    let attempts = detail["attempts"].as_array().map_or(0, Vec::len);
    assert!(attempts >= 1);
    assert_eq!(
        browser.find_all("#drawer-attempts tbody tr").await.len(),
        attempts
    );
    // Attempts read against their limit, follow-ups apart: "2/3", or
    // "3/3 + 1/1 follow-up".
    let counted = |field: &str| detail[field].as_u64().unwrap_or(0);
    let mut dials = format!("{}/{}", counted("attempts_made"), counted("max_attempts"));
    if counted("followups_made") > 0 {
        dials += &format!(
            " + {}/{} follow-up",
            counted("followups_made"),
            counted("max_followups")
        );
    }
    let shown = browser
        .script(
            "const dt = [...document.querySelectorAll('#drawer dt')].find((d) => d.textContent === 'Attempts');
             return dt ? dt.nextElementSibling.textContent : null;",
        )
        .await;
    assert!(
        shown
            .as_str()
            .is_some_and(|text| text.starts_with(&format!("{dials} dialed"))),
        "the drawer shows {shown}, expected {dials} dialed"
    );
    let events = browser.find_all("#drawer-events li").await.len();
    assert_eq!(Some(events), detail["events"].as_array().map(Vec::len));
    assert!(events >= 1);
    let title = browser.text_of("#drawer-title").await;
    assert!(
        title.contains(detail["contact_id"].as_str().unwrap_or("?")),
        "title {title}"
    );
    // The tasks table shows what the monitoring guide lists: attempts
    // against their limit, system retries, score, talk and last attempted.
    let script = format!(
        "const heads = [...document.querySelectorAll('#tasks thead th')].map((th) => th.dataset.sort);
         const row = document.querySelector(\"#tasks tbody tr[data-seq='{seq}']\");
         if (!row) return null;
         const cell = (key) => row.children[heads.indexOf(key)]?.textContent ?? null;
         return [cell('system_retries'), cell('score'), cell('talk'), cell('last')];"
    );
    let mut cells = Vec::new();
    browser
        .wait_until("the dialed contact's row", async || {
            cells = browser
                .script(&script)
                .await
                .as_array()
                .map(|cells| {
                    cells
                        .iter()
                        .filter_map(|cell| cell.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            cells.len() == 4
        })
        .await;
    assert!(
        cells[3].starts_with("20"),
        "a dialed contact shows when it was last attempted: {cells:?}"
    );
    browser.screenshot(&artifact("contact-drawer.png")).await;
    assert_no_garbage(&browser).await;

    browser.click_on("#drawer-close").await;
    assert_eq!(
        browser
            .script("return document.getElementById('drawer').hidden;")
            .await,
        true
    );
    browser.close().await;
}

/// Opens a page of the dashboard by its address, as a bookmark would.
async fn open_page(browser: &Browser, demo: &Demo, hash: &str) {
    sign_in(browser, demo).await;
    browser.goto(&format!("{}/{hash}", demo.base)).await;
}

/// The entries of a suppression list, as the API pages them.
async fn list_entries(demo: &Demo, list: &str) -> Vec<Value> {
    demo.get(&format!("/v1/suppression-lists/{list}/entries"))
        .await["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suppression_page_creates_a_list_and_adds_checks_and_removes_a_number() {
    let Some(installed) = browser_or_skip("the_suppression_page_creates_a_list") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let demo = Demo::start(200, 2000);
    let browser = Browser::start(&installed, 1440, 1600).await;
    sign_in(&browser, &demo).await;

    // The top bar leads to the lists; dnc-internal is always among them.
    browser.click_on("#nav-suppression").await;
    browser
        .find("#lists tbody tr[data-list='dnc-internal']")
        .await;

    let name = browser.find("#list-name").await;
    browser.type_into(&name, "litigators").await;
    let description = browser.find("#list-description").await;
    browser.type_into(&description, "Known litigators").await;
    browser
        .click(&browser.find("#list-create-button").await)
        .await;
    browser
        .wait_until("the new list's page", async || {
            browser.text_of("#list-title").await == "litigators"
                && browser.text_of("#list-entries").await == "0"
        })
        .await;
    let list = demo.get("/v1/suppression-lists/litigators").await;
    assert_eq!(list["blocks"], true, "a list blocks unless told otherwise");
    assert_eq!(list["description"], "Known litigators");
    browser
        .find("#lists tbody tr[data-list='litigators']")
        .await;

    // A number the API refuses is named with its field, and nothing is
    // written.
    let phone = browser.find("#entry-phone").await;
    browser.type_into(&phone, "not-a-phone").await;
    browser.click_on("#entry-add").await;
    browser
        .wait_until("the refusal", async || {
            browser
                .text_of("#entry-error")
                .await
                .contains("entries[0].phone")
        })
        .await;
    assert!(list_entries(&demo, "litigators").await.is_empty());

    let phone = browser.find("#entry-phone").await;
    browser
        .script("document.getElementById('entry-phone').value = ''; return true;")
        .await;
    browser.type_into(&phone, "+14155550123").await;
    let expires = browser.find("#entry-expires").await;
    browser.type_into(&expires, "2030-01-01T00:00:00Z").await;
    let reason = browser.find("#entry-reason").await;
    browser.type_into(&reason, "sued twice").await;
    browser.click_on("#entry-add").await;
    let row = browser
        .find("#entries tbody tr[data-phone='+14155550123']")
        .await;
    let shown = browser.text(&row).await;
    assert!(
        shown.contains("sued twice") && shown.contains("2030-01-01 00:00:00 UTC"),
        "the entry shows {shown}"
    );
    assert_eq!(browser.text_of("#entry-error").await, "");
    let entries = list_entries(&demo, "litigators").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["phone"], "+14155550123");
    assert_eq!(entries[0]["reason"], "sued twice");
    assert_eq!(entries[0]["expires_at"], 1_893_456_000_000_i64);
    browser
        .wait_until("the entry count", async || {
            browser.text_of("#list-entries").await == "1"
        })
        .await;

    // The check names the list the number is on, as the API does.
    let check = browser.find("#check-phone").await;
    browser.type_into(&check, "+14155550123").await;
    browser.click_on("#check-button").await;
    browser
        .find("#check-lists tbody tr[data-list='litigators']")
        .await;
    assert!(
        browser
            .text_of("#check-verdict")
            .await
            .contains("is blocked")
    );
    let checked = demo.get("/v1/suppressions/%2B14155550123").await;
    assert_eq!(checked["blocked"], true);
    assert_eq!(checked["lists"][0]["list"], "litigators");
    browser.screenshot(&artifact("suppression-list.png")).await;
    assert_no_garbage(&browser).await;

    browser
        .click_on("#entries tbody tr[data-phone='+14155550123'] button.remove")
        .await;
    browser
        .click_on("#entries tbody tr[data-phone='+14155550123'] button.confirm-remove")
        .await;
    browser
        .wait_until("the list to be empty", async || {
            browser
                .find_all("#entries tbody tr[data-phone]")
                .await
                .is_empty()
                && browser.text_of("#list-entries").await == "0"
        })
        .await;
    assert!(list_entries(&demo, "litigators").await.is_empty());
    browser.click_on("#check-button").await;
    browser
        .wait_until("the check to find no list", async || {
            browser
                .text_of("#check-verdict")
                .await
                .contains("on no list")
        })
        .await;
    let checked = demo.get("/v1/suppressions/%2B14155550123").await;
    assert_eq!(checked["blocked"], false);
    assert_eq!(checked["lists"], serde_json::json!([]));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_number_asks_first_and_only_a_confirmation_takes_it_off() {
    let Some(installed) = browser_or_skip("removing_a_number_asks_first") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let demo = Demo::start(200, 2000);
    demo.post(
        "/v1/suppression-lists",
        "application/json",
        r#"{"name": "litigators"}"#.to_string(),
    )
    .await;
    demo.post(
        "/v1/suppression-lists/litigators/entries",
        "application/json",
        r#"{"entries": [{"phone": "+14155550140"}, {"phone": "+14155550141"}]}"#.to_string(),
    )
    .await;
    let browser = Browser::start(&installed, 1440, 1600).await;
    open_page(&browser, &demo, "#/suppression/litigators").await;
    let row = "#entries tbody tr[data-phone='+14155550140']";
    browser.find(row).await;

    // The first click only asks, naming the number and the list.
    browser.click_on(&format!("{row} button.remove")).await;
    let question = browser.find(&format!("{row} .confirm")).await;
    assert_eq!(
        browser.text(&question).await,
        "Remove +14155550140 from litigators?"
    );
    browser
        .screenshot(&artifact("suppression-remove-confirm.png"))
        .await;
    assert_eq!(list_entries(&demo, "litigators").await.len(), 2);

    // Cancelling puts the button back and keeps the number.
    browser
        .click_on(&format!("{row} button.cancel-remove"))
        .await;
    browser.find(&format!("{row} button.remove")).await;
    assert!(
        browser
            .find_all(&format!("{row} .confirm"))
            .await
            .is_empty()
    );
    assert_eq!(list_entries(&demo, "litigators").await.len(), 2);

    // Confirming takes that number off, and only it.
    browser.click_on(&format!("{row} button.remove")).await;
    browser
        .click_on(&format!("{row} button.confirm-remove"))
        .await;
    browser
        .wait_until("the number to leave the page", async || {
            browser.find_all(row).await.is_empty() && browser.text_of("#list-entries").await == "1"
        })
        .await;
    let left: Vec<Value> = list_entries(&demo, "litigators")
        .await
        .into_iter()
        .map(|entry| entry["phone"].clone())
        .collect();
    assert_eq!(left, vec![serde_json::json!("+14155550141")]);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suppression_upload_with_a_bad_row_shows_the_row_and_writes_nothing() {
    let Some(installed) = browser_or_skip("a_suppression_upload_with_a_bad_row") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let demo = Demo::start(200, 2000);
    demo.post(
        "/v1/suppression-lists",
        "application/json",
        r#"{"name": "consent", "blocks": false}"#.to_string(),
    )
    .await;
    let browser = Browser::start(&installed, 1440, 1600).await;
    open_page(&browser, &demo, "#/suppression/consent").await;
    browser
        .wait_until("the list's page", async || {
            browser.text_of("#list-kind-shown").await == "informing"
        })
        .await;

    let dir = tempfile::tempdir().expect("a temporary directory");
    let bad = dir.path().join("consent.csv");
    std::fs::write(
        &bad,
        "phone,reason\n+14155550130,said yes\nnot-a-phone,said yes\n+14155550131,said yes\n",
    )
    .expect("the CSV is written");
    let file = browser.find("#entries-file").await;
    browser
        .type_into(&file, bad.to_str().expect("a UTF-8 path"))
        .await;
    browser.click_on("#entries-upload").await;

    let flagged = browser.find("#entries-bad-rows tr.bad-row").await;
    let text = browser.text(&flagged).await;
    assert!(
        text.contains("not-a-phone") && text.contains("phone"),
        "flagged row: {text}"
    );
    assert_eq!(
        browser.find_all("#entries-bad-rows tr.bad-row").await.len(),
        1
    );
    // Rows are numbered as a spreadsheet shows them, the header being 1.
    assert_eq!(
        browser
            .script("return document.querySelector('#entries-bad-rows tr.bad-row').dataset.row;")
            .await,
        "3"
    );
    let refused = browser.text_of("#entries-upload-error").await;
    assert!(
        refused.contains("consent.csv") && refused.contains("nothing was written"),
        "refusal: {refused}"
    );
    browser
        .screenshot(&artifact("suppression-upload-refused.png"))
        .await;
    assert!(list_entries(&demo, "consent").await.is_empty());
    assert_eq!(
        demo.get("/v1/suppression-lists/consent").await["entries"],
        0
    );
    assert_eq!(
        demo.get("/v1/suppressions/%2B14155550130").await["lists"],
        serde_json::json!([])
    );

    // The same file with the bad row fixed is written whole.
    let good = dir.path().join("consent-fixed.csv");
    std::fs::write(
        &good,
        "phone,reason\n+14155550130,said yes\n+14155550132,said yes\n+14155550131,said yes\n",
    )
    .expect("the CSV is written");
    browser
        .script("document.getElementById('entries-file').value = ''; return true;")
        .await;
    let file = browser.find("#entries-file").await;
    browser
        .type_into(&file, good.to_str().expect("a UTF-8 path"))
        .await;
    browser.click_on("#entries-upload").await;
    browser
        .wait_until("the upload's summary", async || {
            browser
                .text_of("#entries-upload-summary")
                .await
                .contains("3 added")
        })
        .await;
    browser
        .wait_until("the three entries", async || {
            browser
                .find_all("#entries tbody tr[data-phone]")
                .await
                .len()
                == 3
        })
        .await;
    assert_eq!(list_entries(&demo, "consent").await.len(), 3);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_health_counts_the_contacts_a_blocking_list_kept_from_dialing() {
    let Some(installed) = browser_or_skip("queue_health_counts_the_suppressed") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    // Slow enough that New York's calling window stays open for minutes.
    let demo = Demo::start(200, 300);
    let on_list = ["+12125550201", "+12125550202", "+12125550203"];
    let entries: Vec<Value> = on_list
        .iter()
        .map(|phone| serde_json::json!({"phone": phone, "reason": "asked not to be called"}))
        .collect();
    demo.post(
        "/v1/suppression-lists/dnc-internal/entries",
        "application/json",
        serde_json::json!({ "entries": entries }).to_string(),
    )
    .await;
    let created = demo
        .post(
            "/v1/campaigns/demo-outreach/batches",
            "text/csv",
            "phone,name\n+12125550201,Ada\n+12125550204,Grace\n+12125550202,Alan\n+12125550205,Edsger\n+12125550203,Barbara\n"
                .to_string(),
        )
        .await;
    let batch_id = created["batch"]["batch_id"]
        .as_str()
        .expect("the new batch's id")
        .to_string();
    let debug_path = format!("/v1/batches/{batch_id}/debug");
    let deadline = Instant::now() + Duration::from_secs(60);
    let suppressed = loop {
        let debug = demo.get(&debug_path).await;
        let suppressed = &debug["queue"]["compliance"]["suppressed"];
        if suppressed.as_u64() == Some(on_list.len() as u64) {
            break debug["queue"]["compliance"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "the engine skipped no listed number within 60 s: {debug}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let browser = Browser::start(&installed, 1440, 2400).await;
    open_page(&browser, &demo, &format!("#/batches/{batch_id}")).await;
    browser
        .wait_until("the queue health's compliance", async || {
            number(&browser.text_of("#health-suppressed").await) == 3
        })
        .await;
    assert_eq!(suppressed["suppressed"], 3);
    assert!(
        browser
            .text_of("#health-suppressed")
            .await
            .contains("on a blocking list")
    );
    // The demo has no dial gate and no frequency cap: each says so.
    for (id, field) in [
        ("#health-capped", "frequency_capped"),
        ("#health-deferred", "gate_deferred"),
        ("#health-gate-skipped", "gate_skipped"),
    ] {
        assert_eq!(suppressed[field], 0, "{field}");
        assert_eq!(browser.text_of(id).await, "none", "{id}");
    }
    assert_eq!(browser.text_of("#health-gate").await, "none");

    // Every blocker can be filtered on, the compliance ones included.
    for blocker in ["gate_deferred", "frequency_capped"] {
        assert_eq!(
            browser
                .find_all(&format!("#filter-blocker option[value='{blocker}']"))
                .await
                .len(),
            1,
            "{blocker}"
        );
    }
    // A skipped contact shows why in the table and in its drawer.
    browser.click_on("#tasks-follow").await;
    browser
        .wait_until("the skipped contacts", async || {
            let rows = browser
                .script(
                    "const s = document.getElementById('filter-status');
                     if (s.value !== 'skipped') { s.value = 'skipped'; s.dispatchEvent(new Event('change')); }
                     return [...document.querySelectorAll('#tasks tbody tr[data-seq]')].map((row) => row.textContent);",
                )
                .await;
            rows.as_array().is_some_and(|rows| {
                rows.len() == 3
                    && rows.iter().all(|row| {
                        row.as_str()
                            .is_some_and(|text| text.contains("suppressed:dnc-internal"))
                    })
            })
        })
        .await;
    browser
        .screenshot(&artifact("queue-health-compliance.png"))
        .await;
    let seq = browser
        .script("return document.querySelector('#tasks tbody tr[data-seq]').dataset.seq;")
        .await;
    let seq = seq.as_str().expect("a contact's number").to_string();
    browser
        .click(
            &browser
                .find(&format!("#tasks tbody tr[data-seq='{seq}']"))
                .await,
        )
        .await;
    browser
        .wait_until("the drawer's final reason", async || {
            browser
                .text_of("#drawer-facts")
                .await
                .contains("suppressed:dnc-internal")
        })
        .await;
    let contact = demo
        .get(&format!("/v1/batches/{batch_id}/contacts/{seq}"))
        .await;
    assert_eq!(contact["final_reason"], "suppressed:dnc-internal");
    assert!(on_list.contains(&contact["phone"].as_str().unwrap_or_default()));
    assert_no_garbage(&browser).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_with_its_own_dial_gate_names_it_on_its_page() {
    let Some(installed) = browser_or_skip("a_batch_with_its_own_dial_gate") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let demo = Demo::start(200, 300);
    let created = demo
        .post(
            "/v1/campaigns/demo-outreach/batches",
            "application/json",
            serde_json::json!({
                "contacts": [{"phone": "+12125550301", "name": "Ada"}],
                "gate": {"plugin": "gate-hours", "config": {"hours": "US=00:00-24:00"}},
            })
            .to_string(),
        )
        .await;
    let batch_id = created["batch"]["batch_id"]
        .as_str()
        .expect("the new batch's id")
        .to_string();
    let debug = demo.get(&format!("/v1/batches/{batch_id}/debug")).await;
    assert_eq!(debug["plugins"]["gate"], "gate-hours");
    assert_eq!(debug["plugins"]["gate_from"], "batch");

    let browser = Browser::start(&installed, 1440, 2400).await;
    open_page(&browser, &demo, &format!("#/batches/{batch_id}")).await;
    browser
        .wait_until("the batch's own gate", async || {
            !browser.find_all("#batch-own-gate").await.is_empty()
        })
        .await;
    let own = browser.text_of("#batch-own-gate").await;
    assert!(
        own.contains("gate-hours") && own.contains("hours=US=00:00-24:00"),
        "own settings: {own}"
    );
    browser
        .wait_until("the queue health's gate", async || {
            browser.text_of("#health-gate").await == "gate-hours (the batch's own)"
        })
        .await;
    browser.close().await;
}
