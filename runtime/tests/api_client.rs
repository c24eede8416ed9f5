//! The TypeScript client of `examples/api-client`, generated from a running
//! server's `/v1/openapi.json`, type-checked and run through a batch's
//! whole flow against that server. A document that does not describe the
//! real API fails the build (wrong types) or the flow (wrong answers).
//! Without node, npm or the example's installed packages the test says so
//! and skips (CI installs them: `.ci/run`).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

#[path = "support/run_server.rs"]
mod run_server;

use run_server::{run_command, wait_until_listening};

const API_KEY: &str = "api-client-key";
/// The campaign of `examples/demo.toml` the flow creates its batch under.
const CAMPAIGN: &str = "demo-outreach";

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/api-client")
}

fn demo_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo.toml")
}

/// Why the test cannot run here, if it cannot.
fn missing_tools() -> Option<String> {
    for tool in ["node", "npm"] {
        let answers = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success());
        if !answers {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    if !example_dir().join("node_modules").is_dir() {
        return Some(
            "examples/api-client has no node_modules: run `npm ci` in examples/api-client".into(),
        );
    }
    None
}

/// A running `outdial run`; killed when dropped.
struct Server {
    child: Child,
    url: String,
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
        Server { child, url, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
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

/// What one npm script did.
struct Step {
    status: ExitStatus,
    output: String,
    took: Duration,
}

/// `npm run SCRIPT` in the example against `server`, to the end or
/// `timeout`. Its output goes to a file, so a long one cannot block it.
fn npm_run(script: &str, server: &Server, logs: &Path, timeout: Duration) -> Step {
    let log = logs.join(format!("{script}.log"));
    let file = std::fs::File::create(&log).expect("step log created");
    let started = Instant::now();
    let mut child = Command::new("npm")
        .args(["run", "--silent", script])
        .current_dir(example_dir())
        .env("OUTDIAL_URL", &server.url)
        .env("OUTDIAL_API_KEY", API_KEY)
        .env("OUTDIAL_CAMPAIGN", CAMPAIGN)
        .env("NO_COLOR", "1")
        .env("NPM_CONFIG_UPDATE_NOTIFIER", "false")
        .stdout(file.try_clone().expect("step log shared"))
        .stderr(file)
        // A group of its own: npm runs the script in a shell that starts
        // node, and a timeout must stop all of them.
        .process_group(0)
        .spawn()
        .unwrap_or_else(|error| panic!("npm run {script} starts: {error}"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("npm waited on") {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!(
                "npm run {script} ran longer than {timeout:?}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Step {
        status,
        output: std::fs::read_to_string(&log).unwrap_or_default(),
        took: started.elapsed(),
    }
}

#[test]
fn a_client_generated_from_the_openapi_document_runs_the_whole_flow() {
    if let Some(reason) = missing_tools() {
        eprintln!("SKIPPED: {reason}");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(&dir.path().join("data"), dir.path().join("server.log"));
    let steps = [
        // The document, as the running server serves it, into types.
        ("generate", Duration::from_secs(60)),
        // Type-checks the flow against them: a wrong document fails here.
        ("build", Duration::from_secs(120)),
        // The flow against the server: a wrong answer fails here.
        ("flow", Duration::from_secs(60)),
    ];
    for (script, timeout) in steps {
        let step = npm_run(script, &server, dir.path(), timeout);
        eprintln!("npm run {script}: {} in {:?}", step.status, step.took);
        assert!(
            step.status.success(),
            "npm run {script} failed ({}):\n{}\nserver log:\n{}",
            step.status,
            step.output,
            server.log()
        );
        if script == "flow" {
            eprint!("{}", step.output);
            assert!(
                step.output.contains("flow passed"),
                "the flow printed no summary:\n{}",
                step.output
            );
        }
    }
    assert!(
        !server.log().contains("panicked"),
        "the server panicked:\n{}",
        server.log()
    );
}
