//! `outdial run` as a real process on an ephemeral port, driven by the
//! `outdial batch` commands, then restarted on the same data directory;
//! and `outdial demo`'s final summary.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "support/run_server.rs"]
mod run_server;

use run_server::{run_command, wait_until_listening};

const BINARY: &str = env!("CARGO_BIN_EXE_outdial");
const API_KEY: &str = "cli-test-key";

fn sha256_hex(text: &str) -> String {
    outdial::api::hash_key(text)
}

/// A campaign whose simulated calls last milliseconds and always end final
/// on their one attempt (nobody answers, so no callback is scheduled).
fn write_config(dir: &Path) -> PathBuf {
    write_campaign_config(
        dir,
        "concurrency = 4\ncalls_per_second = 50",
        "seed = 7, time_scale = 500.0, outcomes = { human = 0, call_screening = 0 }",
    )
}

/// A config of one campaign of one attempt per contact, dialing every
/// hour, with its `limits` and simulated provider `simulation`.
fn write_campaign_config(dir: &Path, limits: &str, simulation: &str) -> PathBuf {
    let path = dir.join("outdial.toml");
    let config = format!(
        r#"
[server]
bind = "127.0.0.1:1"

[[workspaces]]
id = "acme"
name = "Acme"
api_keys = [{{ id = "ops", sha256 = "{hash}" }}]

[[campaigns]]
id = "renewals"
workspace = "acme"
{limits}
max_attempts = 1

[campaigns.provider]
plugin = "simulated"
config = {{ {simulation} }}

[campaigns.window]
default_time_zone = "America/New_York"
hours = [{{ days = "daily", start = "00:00", end = "24:00" }}]
"#,
        hash = sha256_hex(API_KEY)
    );
    std::fs::write(&path, config).expect("config written");
    path
}

/// A running `outdial run`; killed if the test fails before stopping it.
struct Server {
    child: Child,
    url: String,
    lines: mpsc::Receiver<String>,
}

impl Server {
    fn start(config: &Path, data_dir: &Path) -> Server {
        Server::start_with(config, data_dir, &[])
    }

    fn start_with(config: &Path, data_dir: &Path, env: &[(&str, &str)]) -> Server {
        Server::spawn(run_command(config, data_dir).envs(env.iter().copied()))
    }

    /// On the PostgreSQL database at `url` rather than the data directory.
    fn start_on(config: &Path, data_dir: &Path, url: &str) -> Server {
        Server::spawn(run_command(config, data_dir).args(["--store", url]))
    }

    fn spawn(command: &mut Command) -> Server {
        let mut child = command
            .stderr(Stdio::inherit())
            .spawn()
            .expect("outdial run starts");
        let (url, lines) = wait_until_listening(&mut child);
        Server { child, url, lines }
    }

    /// SIGTERM, as a process manager stops it; answers what it printed.
    fn stop(mut self) -> Vec<String> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM sent");
        let exit = self.child.wait().expect("the server exits");
        assert!(exit.success(), "a clean shutdown exits 0, got {exit}");
        // The reader thread may not have passed on the last lines yet when
        // the process is gone; it closes the channel at the pipe's end.
        self.lines.iter().collect()
    }

    fn batch(&self, args: &[&str]) -> Output {
        self.batch_as(API_KEY, args)
    }

    fn suppress(&self, args: &[&str]) -> Output {
        Command::new(BINARY)
            .arg("suppress")
            .args(args)
            .env("OUTDIAL_SERVER", &self.url)
            .env("OUTDIAL_API_KEY", API_KEY)
            .output()
            .expect("outdial suppress runs")
    }

    fn batch_as(&self, key: &str, args: &[&str]) -> Output {
        Command::new(BINARY)
            .arg("batch")
            .args(args)
            .env("OUTDIAL_SERVER", &self.url)
            .env("OUTDIAL_API_KEY", key)
            .output()
            .expect("outdial batch runs")
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

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The batch id `outdial batch create` printed.
fn batch_id_in(created: &str) -> String {
    created
        .split_whitespace()
        .find(|word| word.starts_with("btc_"))
        .expect("the batch id is printed")
        .to_string()
}

/// Succeeded, or the test fails showing what the command said.
fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

const CONTACTS: &str = "phone,name,time_zone,plan\n\
+12125550101,Ann,America/New_York,gold\n\
+13125550102,Bob,America/Chicago,silver\n\
not-a-phone,Cy,,gold\n\
+14155550104,Di,,bronze\n";

#[test]
fn a_batch_is_created_controlled_watched_and_exported_through_a_running_server_and_survives_a_restart()
 {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path());
    let data_dir = dir.path().join("data");
    let csv = dir.path().join("contacts.csv");
    std::fs::write(&csv, CONTACTS).expect("csv written");
    let csv = csv.to_str().expect("utf-8 path");

    let server = Server::start(&config, &data_dir);

    // A file with a bad row is refused whole, naming the row.
    let refused = server.batch(&["create", "--campaign", "renewals", csv]);
    assert!(!refused.status.success(), "a bad row refuses the file");
    let error = stderr(&refused);
    assert!(error.contains("invalid_contacts"), "{error}");
    assert!(error.contains("row 4, column \"phone\""), "{error}");
    assert!(
        ok(server.batch(&["list"])).contains("no batches"),
        "nothing was written"
    );

    // With --skip-invalid the good rows make a batch and the bad one is listed.
    let created = ok(server.batch(&[
        "create",
        "--campaign",
        "renewals",
        csv,
        "--skip-invalid",
        "--scheduled-start",
        "2099-01-01T00:00:00Z",
    ]));
    assert!(created.contains("created: 3 contacts"), "{created}");
    assert!(created.contains("1 rows skipped"), "{created}");
    assert!(created.contains("row 4"), "{created}");
    let batch = batch_id_in(&created);

    let status = ok(server.batch(&["status", &batch]));
    assert!(status.contains("pending"), "{status}");
    let shown = ok(server.batch(&["show", &batch]));
    assert!(
        shown.contains("contacts.csv, 4 rows: 3 valid, 1 invalid"),
        "the batch keeps what its upload was: {shown}"
    );
    assert!(ok(server.batch(&["list"])).contains(&batch));

    let paused = ok(server.batch(&["pause", &batch, "--reason", "list check"]));
    assert!(
        paused.contains("is paused (operator_paused: list check)"),
        "{paused}"
    );
    let resumed = ok(server.batch(&["resume", &batch]));
    assert!(resumed.contains("is pending"), "{resumed}");
    let dispatched = ok(server.batch(&["dispatch", &batch]));
    assert!(dispatched.contains("is in_progress"), "{dispatched}");

    let watched = ok(server.batch(&["watch", &batch, "--interval", "100ms", "--timeout", "40s"]));
    assert!(watched.contains("completed"), "{watched}");

    let export_path = dir.path().join("results.csv");
    ok(server.batch(&["export", &batch, "-o", export_path.to_str().expect("utf-8")]));
    let exported = std::fs::read_to_string(&export_path).expect("export written");
    let rows: Vec<&str> = exported.lines().collect();
    assert_eq!(
        rows.len(),
        4,
        "a header and one row per contact:\n{exported}"
    );
    assert!(rows[0].starts_with("seq,contact_id,phone"), "{}", rows[0]);
    for phone in ["+12125550101", "+13125550102", "+14155550104"] {
        assert_eq!(
            rows.iter().filter(|row| row.contains(phone)).count(),
            1,
            "{phone} once in:\n{exported}"
        );
    }
    assert_eq!(
        ok(server.batch(&["export", &batch])),
        exported,
        "standard output carries the same export"
    );

    let said = server.stop();
    assert!(said.iter().any(|line| line == "stopped"), "{said:?}");

    // The same data directory after a restart still holds the final batch.
    let server = Server::start(&config, &data_dir);
    let shown = ok(server.batch(&["show", &batch]));
    assert!(shown.contains("completed"), "{shown}");
    assert!(
        shown
            .lines()
            .any(|line| line.starts_with("contacts") && line.trim_end().ends_with(" 3")),
        "{shown}"
    );
    server.stop();
}

#[test]
fn servers_on_postgres_keep_their_batches_in_the_shared_database_not_their_data_directories() {
    let database = outdial_tests::database_or_skip!();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path());
    let csv = dir.path().join("contacts.csv");
    std::fs::write(&csv, CONTACTS).expect("csv written");
    let csv = csv.to_str().expect("utf-8 path");

    let server = Server::start_on(&config, &dir.path().join("first"), database.url());
    // Held back until dispatched, so the engine cannot start it first.
    let created = ok(server.batch(&[
        "create",
        "--campaign",
        "renewals",
        csv,
        "--skip-invalid",
        "--scheduled-start",
        "2099-01-01T00:00:00Z",
    ]));
    let batch = batch_id_in(&created);
    ok(server.batch(&["dispatch", &batch]));
    let watched = ok(server.batch(&["watch", &batch, "--interval", "100ms", "--timeout", "40s"]));
    assert!(watched.contains("completed"), "{watched}");

    // A second node on the same database serves the same batches.
    let second = Server::start_on(&config, &dir.path().join("second"), database.url());
    let shown = ok(second.batch(&["show", &batch]));
    assert!(shown.contains("completed"), "{shown}");
    second.stop();
    server.stop();

    // A fresh data directory: what the batch was, the database answers.
    let server = Server::start_on(&config, &dir.path().join("third"), database.url());
    let shown = ok(server.batch(&["show", &batch]));
    assert!(shown.contains("completed"), "{shown}");
    assert!(
        shown
            .lines()
            .any(|line| line.starts_with("contacts") && line.trim_end().ends_with(" 3")),
        "{shown}"
    );
    server.stop();
}

/// A batch's progress as `outdial batch status` prints it.
struct Progress {
    status: String,
    complete: bool,
    /// Contacts final: completed or failed.
    finished: u64,
}

impl Progress {
    /// The batch's progress, or `None` while the server cannot answer.
    fn of(server: &Server, batch: &str) -> Option<Progress> {
        let output = server.batch(&["status", batch]);
        if !output.status.success() {
            return None;
        }
        let said = stdout(&output);
        let field = |name: &str| {
            said.lines()
                .find_map(|line| {
                    let (key, value) = line.split_once(char::is_whitespace)?;
                    (key == name).then(|| value.trim().to_string())
                })
                .unwrap_or_default()
        };
        let count = |name: &str| field(name).parse::<u64>().unwrap_or(0);
        Some(Progress {
            status: field("status"),
            complete: field("complete") == "true",
            finished: count("completed") + count("failed"),
        })
    }
}

/// Every status the batch was seen in, the first time it had more than
/// `finished` contacts final (once those of calls already live were not
/// enough), and its last progress, polled until then
/// (or until it is complete, with `to_the_end`) or until `limit` has
/// passed.
struct Watched {
    statuses: std::collections::BTreeSet<String>,
    moved_on_at: Option<Instant>,
    last: Option<Progress>,
}

fn watch(
    server: &Server,
    batch: &str,
    finished: u64,
    concurrency: u64,
    to_the_end: bool,
    limit: Duration,
) -> Watched {
    let deadline = Instant::now() + limit;
    let mut watched = Watched {
        statuses: Default::default(),
        moved_on_at: None,
        last: None,
    };
    while Instant::now() < deadline {
        if let Some(progress) = Progress::of(server, batch) {
            watched.statuses.insert(progress.status.clone());
            if progress.finished > finished + concurrency && watched.moved_on_at.is_none() {
                watched.moved_on_at = Some(Instant::now());
            }
            let done = progress.complete || (!to_the_end && watched.moved_on_at.is_some());
            watched.last = Some(progress);
            if done {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    watched
}

#[test]
fn a_batch_dialing_through_a_database_restart_finishes_without_an_operator_and_dials_nobody_twice()
{
    use outdial::model::{BatchStatus, EventKind};
    use outdial::provider::simulated::{call_log_path, placements_in_call_log};
    use outdial::store::{ContactQuery, PostgresConfig, PostgresStore, Store};

    const CONTACTS: u64 = 400;
    const CONCURRENCY: u64 = 10;
    let cluster = outdial_tests::own_cluster_or_skip!();
    let dir = tempfile::tempdir().expect("temp dir");
    // Nobody answers: each call rings for 25 to 45 simulated seconds, 250
    // to 450 ms of the clock, and ends the contact on its one attempt. Ten
    // at a time, the batch takes some 15 s: long enough for two restarts.
    let config = write_campaign_config(
        dir.path(),
        &format!("concurrency = {CONCURRENCY}\ncalls_per_second = 50"),
        "seed = 7, time_scale = 100.0, outcomes = { human = 0, voicemail = 0, \
         call_screening = 0, busy = 0, failed = 0, no_answer = 1 }",
    );
    let csv = dir.path().join("contacts.csv");
    let rows: String = (0..CONTACTS)
        .map(|i| format!("+1212555{:04},Contact {i}\n", 1000 + i))
        .collect();
    std::fs::write(&csv, format!("phone,name\n{rows}")).expect("csv written");

    let server = Server::start_on(&config, &dir.path().join("data"), cluster.url());
    // Held back until dispatched, so the engine cannot start it first.
    let created = ok(server.batch(&[
        "create",
        "--campaign",
        "renewals",
        csv.to_str().expect("utf-8 path"),
        "--scheduled-start",
        "2099-01-01T00:00:00Z",
    ]));
    let batch = batch_id_in(&created);
    ok(server.batch(&["dispatch", &batch]));

    let mut statuses = std::collections::BTreeSet::new();
    let started = Instant::now();
    for restart in 1..=2 {
        // Dialing, calls live: some contacts final, most still to go.
        let before = loop {
            let progress = Progress::of(&server, &batch);
            if let Some(progress) = &progress {
                statuses.insert(progress.status.clone());
                if progress.finished >= restart * 40 {
                    break progress.finished;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the batch is dialing before restart {restart}; statuses seen: {statuses:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(before < CONTACTS / 2, "the restart comes mid-batch");
        let restarting = Instant::now();
        cluster.restart();
        let restarted = restarting.elapsed();
        let watched = watch(
            &server,
            &batch,
            before,
            CONCURRENCY,
            restart == 2,
            Duration::from_secs(120),
        );
        statuses.extend(watched.statuses);
        let moved_on = watched.moved_on_at.unwrap_or_else(|| {
            panic!("the batch dials again after restart {restart}; statuses seen: {statuses:?}")
        });
        eprintln!(
            "restart {restart}: the database was down for {restarted:?}, \
             the batch dialed again {:?} after it was back",
            moved_on.saturating_duration_since(restarting + restarted)
        );
        if restart == 2 {
            let last = watched.last.expect("the batch's progress was read");
            assert!(
                last.complete,
                "the batch finished by itself, within 120 s of the restart; \
                 it is {} with {} of {CONTACTS} final",
                last.status, last.finished
            );
        }
    }
    eprintln!("the batch finished {:?} after dispatch", started.elapsed());
    assert!(
        !statuses.contains("paused"),
        "the batch never waited for an operator: {statuses:?}"
    );
    server.stop();

    let store = PostgresStore::open(&PostgresConfig::new(cluster.url()))
        .expect("the store opens once the server has stopped");
    let record = store.batch(&batch).expect("read").expect("the batch");
    assert_eq!(record.status, BatchStatus::Completed, "{record:?}");
    let paused: Vec<_> = store
        .journal(0, 100_000)
        .expect("journal")
        .into_iter()
        .filter(|event| event.batch_id == batch && event.kind == EventKind::BatchPaused)
        .collect();
    assert!(paused.is_empty(), "the batch was never paused: {paused:?}");
    let contacts = store
        .list_contacts(&ContactQuery {
            batch_id: batch.clone(),
            limit: 1_000,
            ..ContactQuery::default()
        })
        .expect("contacts")
        .items;
    assert_eq!(contacts.len() as u64, CONTACTS);
    assert!(
        contacts.iter().all(|contact| contact.status.is_final()),
        "every contact is final"
    );
    assert_eq!(
        store.batch_counters(&batch).expect("counters"),
        store.recount(&batch).expect("recount"),
        "the counters are what the contacts add up to"
    );
    assert!(store.live_attempts().expect("live").is_empty());
    let mut seen = std::collections::HashSet::new();
    for contact in &contacts {
        for attempt in store.attempts(&batch, contact.seq).expect("attempts") {
            assert!(attempt.ended_at.is_some(), "{attempt:?}");
            assert!(seen.insert(attempt.id.clone()), "{} twice", attempt.id);
        }
    }
    assert!(seen.len() as u64 >= CONTACTS, "every contact was dialed");
    // What the provider was asked, by its own log of placed calls.
    let log = call_log_path(dir.path().join("data/providers/renewals"));
    let placed = placements_in_call_log(&log).expect("the call log reads");
    assert!(placed.len() as u64 >= CONTACTS, "{} placed", placed.len());
    for (attempt, count) in &placed {
        assert_eq!(*count, 1, "{attempt} placed {count} times");
        assert!(seen.contains(attempt), "{attempt} placed but not stored");
    }
}

#[test]
fn a_store_flag_naming_neither_sled_nor_a_database_is_refused_before_serving() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path());
    let output = run_command(&config, &dir.path().join("data"))
        .args(["--store", "mysql://root:secret@db/outdial"])
        .stderr(Stdio::piped())
        .output()
        .expect("outdial run runs");
    assert_eq!(output.status.code(), Some(2), "a usage error exits 2");
    let error = stderr(&output);
    assert!(error.contains("--store"), "{error}");
    assert!(
        !error.contains("secret"),
        "the URL's password is not shown: {error}"
    );
    assert!(
        !dir.path().join("data").join("store").exists(),
        "no store was made"
    );
}

#[test]
fn suppression_lists_are_managed_through_a_running_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path());
    let server = Server::start(&config, &dir.path().join("data"));

    let created = ok(server.suppress(&["create", "consent", "--informing"]));
    assert_eq!(created.trim(), "list consent created (informing)");
    let added = ok(server.suppress(&[
        "add",
        "dnc-internal",
        "+12125550101",
        "(312) 555-0102",
        "--default-country",
        "US",
        "--reason",
        "asked not to be called",
    ]));
    assert_eq!(added.trim(), "dnc-internal: 2 added, 0 updated");
    let file = dir.path().join("complaints.csv");
    std::fs::write(
        &file,
        "phone,reason\n+14155550103,complaint\n+12125550101,again\n",
    )
    .expect("file written");
    let uploaded = ok(server.suppress(&["upload", "dnc-internal", file.to_str().unwrap()]));
    assert_eq!(uploaded.trim(), "dnc-internal: 1 added, 1 updated");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "phone\n+14155550104\nnot-a-phone\n").expect("file written");
    let refused = server.suppress(&["upload", "dnc-internal", bad.to_str().unwrap()]);
    assert!(!refused.status.success());
    let error = stderr(&refused);
    assert!(
        error.contains("422 Unprocessable Entity invalid_entries"),
        "{error}"
    );
    assert!(error.contains("row 3, column \"phone\""), "{error}");

    let lists = ok(server.suppress(&["list"]));
    let rows: Vec<Vec<&str>> = lists
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["LIST", "KIND", "ENTRIES", "DESCRIPTION"]);
    assert_eq!(rows[1][..3], ["consent", "informs", "0"]);
    assert_eq!(rows[2][..3], ["dnc-internal", "blocks", "3"]);

    let blocked = server.suppress(&["check", "+12125550101"]);
    assert_eq!(blocked.status.code(), Some(1), "a blocked number exits 1");
    let said = stdout(&blocked);
    assert!(said.starts_with("+12125550101 is blocked\n"), "{said}");
    assert!(said.contains("dnc-internal  blocks  again"), "{said}");

    let entries = ok(server.suppress(&["entries", "dnc-internal"]));
    let phones: Vec<&str> = entries
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(phones, ["+12125550101", "+13125550102", "+14155550103"]);

    let removed = ok(server.suppress(&["remove", "dnc-internal", "+12125550101"]));
    assert_eq!(removed.trim(), "1 removed from dnc-internal");
    let free = ok(server.suppress(&["check", "+12125550101"]));
    assert_eq!(free.trim(), "+12125550101 is not blocked");
    server.stop();
}

#[test]
fn an_unreachable_server_is_named_in_the_error() {
    // Port 9 (discard) is closed on test machines; nothing listens there.
    let output = Command::new(BINARY)
        .args(["batch", "list", "--server", "http://127.0.0.1:9"])
        .env("OUTDIAL_API_KEY", API_KEY)
        .output()
        .expect("outdial batch runs");
    assert!(!output.status.success());
    let error = stderr(&output);
    assert!(error.contains("cannot connect"), "{error}");
    assert!(error.contains("http://127.0.0.1:9/"), "{error}");
}

#[test]
fn an_unknown_batch_is_reported_with_the_api_code() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path());
    let server = Server::start(&config, &dir.path().join("data"));
    let output = server.batch(&["show", "btc_0000000000000000"]);
    assert!(!output.status.success());
    let error = stderr(&output);
    assert!(error.contains("404 Not Found batch_not_found"), "{error}");
    server.stop();
}

#[test]
fn the_demo_example_config_runs_with_its_key_from_the_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/demo.toml");
    let server = Server::start_with(
        &config,
        &dir.path().join("data"),
        &[("OUTDIAL_DEMO_API_KEY", "demo-secret")],
    );
    let listed = ok(server.batch_as("demo-secret", &["list", "--campaign", "demo-outreach"]));
    assert!(listed.contains("no batches"), "{listed}");
    let refused = server.batch_as("another-key", &["list"]);
    assert!(
        stderr(&refused).contains("401 Unauthorized unauthorized"),
        "{}",
        stderr(&refused)
    );
    server.stop();
}

#[test]
fn a_config_naming_an_unset_key_variable_is_refused_before_serving() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/demo.toml");
    let output = Command::new(BINARY)
        .arg("run")
        .arg(&config)
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env_remove("OUTDIAL_DEMO_API_KEY")
        .output()
        .expect("outdial run runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let error = stderr(&output);
    assert!(error.contains("OUTDIAL_DEMO_API_KEY"), "{error}");
    assert!(error.contains("demo.toml:"), "the place is named: {error}");
    assert!(!dir.path().join("data").exists(), "nothing was written");
}

/// The lines indented under `header` in the demo's summary.
fn section<'a>(summary: &'a str, header: &str) -> Vec<&'a str> {
    summary
        .lines()
        .skip_while(|line| !line.starts_with(header))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .collect()
}

#[test]
fn the_demo_summary_names_the_top_dispositions_each_variant_and_each_pool_number() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A small batch in fast virtual time: a few seconds of real time.
    let output = Command::new(BINARY)
        .args(["demo", "--contacts", "300", "--time-scale", "20000"])
        .arg("--data-dir")
        .arg(dir.path().join("demo"))
        .env_remove("OUTDIAL_DATA_DIR")
        .env_remove("OUTDIAL_BIND")
        .env_remove("OUTDIAL_DEMO_API_KEY")
        .output()
        .expect("outdial demo runs");
    let summary = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{summary}\n{}", stderr(&output));

    let dispositions = section(&summary, "top dispositions");
    assert!((1..=5).contains(&dispositions.len()), "{summary}");
    for line in &dispositions {
        assert!(
            line.ends_with('%'),
            "a disposition without its share: {line}"
        );
    }

    let variants = section(&summary, "A/B variants");
    for name in ["A", "B"] {
        let line = variants
            .iter()
            .find(|line| line.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no line for variant {name}:\n{summary}"));
        let columns: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            columns.len(),
            5,
            "name, calls, answer rate, successes, success rate: {line}"
        );
        assert!(
            columns[1].parse::<u64>().is_ok_and(|calls| calls > 0),
            "{line}"
        );
        assert!(columns[2].ends_with('%'), "{line}");
        assert!(columns[3].parse::<u64>().is_ok(), "{line}");
        assert!(columns[4].ends_with('%'), "{line}");
    }

    let pool = section(&summary, "number pool");
    let dialed = pool
        .iter()
        .find(|line| line.trim_start().starts_with("+12125550100"))
        .unwrap_or_else(|| panic!("the pool's first number is missing:\n{summary}"));
    let columns: Vec<&str> = dialed.split_whitespace().collect();
    assert!(
        columns[1].parse::<u64>().is_ok_and(|calls| calls > 0),
        "{dialed}"
    );
    assert!(columns[2].ends_with('%'), "{dialed}");
    assert!(
        pool.iter()
            .any(|line| line.contains("+61291234567 (disabled)")),
        "the disabled number is named as such:\n{summary}"
    );
}
