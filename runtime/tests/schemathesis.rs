//! schemathesis against a running `outdial run`: every operation of
//! `/v1/openapi.json` is generated from its schema and sent with a valid
//! API key, then again without one. Any 5xx, answer that does not match
//! the document, accepted invalid input or ignored auth fails the test with
//! schemathesis' own report. Without schemathesis installed the test says
//! so and skips (CI installs it: `.ci/run`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

#[path = "support/run_server.rs"]
mod run_server;

use run_server::{run_command, wait_until_listening};

const API_KEY: &str = "schemathesis-key";
/// The campaign of `examples/demo.toml` batches are created under.
const CAMPAIGN: &str = "demo-outreach";
/// The workspace of `examples/demo.toml`, which the key belongs to.
const WORKSPACE: &str = "demo";
/// Longest one schemathesis run may take before the test gives up on it: a
/// guard against a hung run, not a time limit. A keyed run takes about 30 s
/// on an idle machine, and took more than 240 s on a loaded CI machine.
const RUN_TIMEOUT: Duration = Duration::from_secs(900);
/// The version `.ci/run` installs; a different one still runs, with a note.
const PINNED: &str = "4.32.5";

/// How schemathesis is started here: `st`, `schemathesis` or
/// `python3 -m schemathesis`, whichever answers `--version`.
fn schemathesis() -> Option<(Vec<String>, String)> {
    let candidates: [&[&str]; 3] = [
        &["st"],
        &["schemathesis"],
        &["python3", "-m", "schemathesis"],
    ];
    candidates.iter().find_map(|command| {
        let output = Command::new(command[0])
            .args(&command[1..])
            .arg("--version")
            .output()
            .ok()?;
        output.status.success().then(|| {
            let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
            (
                command.iter().map(|part| part.to_string()).collect(),
                version,
            )
        })
    })
}

fn demo_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo.toml")
}

/// A running `outdial run`; killed when dropped.
struct Server {
    child: Child,
    address: String,
    log: PathBuf,
}

impl Server {
    fn start(data_dir: &Path, log: PathBuf) -> Server {
        let stderr = std::fs::File::create(&log).expect("server log created");
        let mut child = run_command(&demo_config(), data_dir)
            .env("OUTDIAL_DEMO_API_KEY", API_KEY)
            .stderr(stderr)
            .spawn()
            .expect("outdial run starts");
        let (url, _lines) = wait_until_listening(&mut child);
        let address = url.trim_start_matches("http://").to_string();
        Server {
            child,
            address,
            log,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// One request over a fresh connection; answers the status and body.
    fn request(&self, method: &str, path: &str, key: Option<&str>, body: &str) -> (u16, String) {
        let auth = key.map_or(String::new(), |key| {
            format!("Authorization: Bearer {key}\r\n")
        });
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{body}",
            host = self.address,
            length = body.len()
        );
        let mut stream = TcpStream::connect(&self.address).expect("connects to the server");
        stream.write_all(request.as_bytes()).expect("request sent");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("answer read");
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("an HTTP answer: {answer}"));
        let body = answer
            .split_once("\r\n\r\n")
            .map_or(String::new(), |(_, body)| body.to_string());
        (status, body)
    }

    /// Creates a batch of two contacts that starts far in the future, so
    /// the controls find it pending; answers its id.
    fn create_batch(&self) -> String {
        let body = r#"{"contacts": [{"phone": "+12125550100"}, {"phone": "+13125550101"}], "scheduled_start": "2099-01-01T00:00:00Z"}"#;
        let path = format!("/v1/campaigns/{CAMPAIGN}/batches");
        let (status, answer) = self.request("POST", &path, Some(API_KEY), body);
        assert_eq!(status, 201, "batch created: {answer}");
        let created: serde_json::Value = serde_json::from_str(&answer).expect("JSON answer");
        created["batch"]["batch_id"]
            .as_str()
            .expect("the batch's id")
            .to_string()
    }

    fn batch_status(&self, batch: &str) -> String {
        let (status, answer) =
            self.request("GET", &format!("/v1/batches/{batch}"), Some(API_KEY), "");
        assert_eq!(status, 200, "{answer}");
        let batch: serde_json::Value = serde_json::from_str(&answer).expect("JSON answer");
        batch["status"].as_str().expect("a status").to_string()
    }

    /// Every operation the document says needs a key answers 401
    /// `unauthorized` without one, and changes nothing.
    fn assert_keyless_requests_are_refused(&self, batch: &str) {
        let (status, document) = self.request("GET", "/v1/openapi.json", None, "");
        assert_eq!(status, 200);
        let document: serde_json::Value = serde_json::from_str(&document).expect("JSON");
        let before = self.batch_status(batch);
        let mut checked = 0;
        for (path, item) in document["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("operations") {
                // An empty requirement among the options: no key needed.
                let public = operation
                    .get("security")
                    .unwrap_or(&document["security"])
                    .as_array()
                    .is_some_and(|options| {
                        options
                            .iter()
                            .any(|option| option == &serde_json::json!({}))
                    });
                if public {
                    continue;
                }
                let concrete = path
                    .replace("{campaign_id}", CAMPAIGN)
                    .replace("{batch_id}", batch)
                    .replace("{endpoint_id}", "whk_0")
                    .replace("{seq}", "0");
                let (status, answer) = self.request(&method.to_uppercase(), &concrete, None, "{}");
                assert_eq!(status, 401, "{method} {concrete} without a key: {answer}");
                assert!(answer.contains("\"unauthorized\""), "{answer}");
                checked += 1;
            }
        }
        assert!(checked >= 20, "{checked} operations checked");
        assert_eq!(self.batch_status(batch), before, "nothing changed");
    }

    /// The server is still running and logged no panic.
    fn assert_unhurt(&mut self) {
        assert!(
            matches!(self.child.try_wait(), Ok(None)),
            "the server exited"
        );
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The run's settings: real ids for the path parameters so requests reach
/// the handlers, a separate batch for cancel (which is for good), a bound
/// on the event stream, and which answers count as accepting valid input.
fn config_file(dir: &Path, batch: &str, cancelled_batch: &str, key: Option<&str>) -> PathBuf {
    let path = dir.join(format!("schemathesis-{}.toml", key.is_some()));
    // With a key, every scheme of the document gets it: the bearer and
    // x-api-key carry the same key (two different ones are refused as
    // ambiguous), and x-workspace-id names its workspace.
    let auth = key.map_or(String::new(), |key| {
        format!(
            r#"
[auth.openapi.bearer]
bearer = "{key}"

[auth.openapi.apiKey]
api_key = "{key}"

[auth.openapi.workspace]
api_key = "{WORKSPACE}"
"#
        )
    });
    // Without a key, schemathesis makes up credentials: two made-up keys,
    // one in each header, are refused as ambiguous (400).
    let ambiguous = if key.is_some() { "" } else { r#""400", "# };
    let config = format!(
        r#"
# Schema-valid input may still be refused on what a schema cannot say:
# 401 without a key, 404 for another workspace's or an unknown id, 409 for
# an illegal transition, 422 for contacts that are not valid numbers.
[checks.positive_data_acceptance]
expected-statuses = [{ambiguous}"2xx", "401", "403", "404", "409", "422"]

[parameters]
"path.campaign_id" = "{CAMPAIGN}"
"path.batch_id" = "{batch}"

# Rules across fields (end_at after the start), numbering plans of caller
# ids, the country list and opaque page cursors are checked by the
# handlers with 400 invalid_parameter / invalid_cursor naming the field.
[[operations]]
include-operation-id = ["create_batch", "preview_batch", "list_batches"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422"]

[[operations]]
include-operation-id = "cancel_batch"
parameters = {{ "path.batch_id" = "{cancelled_batch}" }}

[[operations]]
include-operation-id = "batch_events"
max-stream-events = 3
{auth}"#
    );
    std::fs::write(&path, config).expect("config written");
    path
}

/// Runs schemathesis to the end (or `RUN_TIMEOUT`); answers its output.
fn run(command: &[String], config: &Path, url: &str, key: Option<&str>, examples: u32) -> Output {
    let args: Vec<String> = vec![
        "--config-file".into(),
        config.display().to_string(),
        "run".into(),
        format!("{url}/v1/openapi.json"),
        "--checks".into(),
        "all".into(),
        // Bounded for CI: examples per operation; hypothesis' deadline is
        // off in schemathesis 4 by default (no timed assertion here).
        "--max-examples".into(),
        examples.to_string(),
        "--seed".into(),
        "20261204".into(),
        // One worker: hypothesis' lambda descriptions are not thread-safe.
        "--workers".into(),
        "1".into(),
        "--request-timeout".into(),
        "10".into(),
        "--no-color".into(),
    ];
    // Output goes to files: a report longer than a pipe's buffer would
    // block schemathesis while this waits for it.
    let dir = config.parent().expect("config in a dir");
    let stdout_path = dir.join(format!("schemathesis-{}.out", key.is_some()));
    let stderr_path = dir.join(format!("schemathesis-{}.err", key.is_some()));
    let mut child = Command::new(&command[0])
        .args(&command[1..])
        .args(&args)
        .current_dir(dir)
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("schemathesis starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("schemathesis waited on") {
            break status;
        }
        if started.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let server_log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            let server_tail: Vec<&str> = server_log.lines().rev().take(40).collect();
            panic!(
                "schemathesis ran longer than {RUN_TIMEOUT:?}:\n{}\nthe server's last log lines:\n{}",
                std::fs::read_to_string(&stdout_path).unwrap_or_default(),
                server_tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    Output {
        status,
        stdout: std::fs::read(&stdout_path).expect("stdout read"),
        stderr: std::fs::read(&stderr_path).expect("stderr read"),
    }
}

fn assert_passed(what: &str, output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis {what} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // Every operation of the document was exercised.
    let tested = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("Tested:"))
        .map(str::trim);
    let selected = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("Selected:"))
        .and_then(|rest| rest.trim().split('/').next())
        .map(str::trim);
    assert!(
        tested.is_some(),
        "no summary of tested operations:\n{stdout}"
    );
    assert_eq!(tested, selected, "every operation tested:\n{stdout}");
}

#[test]
fn every_api_operation_survives_schemathesis_with_and_without_a_key() {
    let Some((command, version)) = schemathesis() else {
        eprintln!(
            "SKIPPED: schemathesis is not installed (no `st`, `schemathesis` or \
             `python3 -m schemathesis`); install it with `pip install schemathesis=={PINNED}`"
        );
        return;
    };
    if !version.contains(PINNED) {
        eprintln!("note: running {version}; CI pins schemathesis {PINNED}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = Server::start(&dir.path().join("data"), dir.path().join("server.log"));
    let batch = server.create_batch();
    let cancelled = server.create_batch();
    let keyed_config = config_file(dir.path(), &batch, &cancelled, Some(API_KEY));
    let keyless_config = config_file(dir.path(), &batch, &cancelled, None);
    // Before schemathesis moves it: a pending batch that a keyless pause,
    // cancel or dispatch would visibly change.
    server.assert_keyless_requests_are_refused(&batch);

    let keyed = run(&command, &keyed_config, &server.url(), Some(API_KEY), 25);
    assert_passed("with the API key", &keyed);
    server.assert_unhurt();

    let keyless = run(&command, &keyless_config, &server.url(), None, 5);
    assert_passed("without a key", &keyless);
    server.assert_unhurt();
}
