//! `outdial run` nodes on one PostgreSQL database, started and stopped by
//! a test: their API through `outdial batch`, and the attempt ids their
//! simulated providers placed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::run_server::{run_command, wait_until_listening};

const BINARY: &str = env!("CARGO_BIN_EXE_outdial");
/// The operator's key in the tests' configs.
pub const API_KEY: &str = "nodes-operator-key";

/// A campaign of the nodes' config: one attempt per contact, no
/// follow-ups, the simulated provider at `time_scale`.
pub struct CampaignSetup {
    pub id: &'static str,
    pub seed: u64,
    pub concurrency: u32,
    pub calls_per_second: u32,
    pub time_scale: f64,
    pub call_timeout: &'static str,
}

/// Writes `outdial.toml` for nodes on PostgreSQL with leases of 2 s and
/// `campaigns`, and `contacts.csv` with `contacts` numbers of
/// `number_prefix`; answers the config's path.
pub fn write_config(
    dir: &Path,
    campaigns: &[CampaignSetup],
    number_prefix: &str,
    contacts: usize,
) -> PathBuf {
    let campaigns: String = campaigns
        .iter()
        .map(|campaign| {
            format!(
                r#"
[[campaigns]]
id = "{id}"
workspace = "acme"
concurrency = {concurrency}
calls_per_second = {calls_per_second}
max_attempts = 1
max_followups = 0
call_timeout = "{call_timeout}"

[campaigns.provider]
plugin = "simulated"
config = {{ seed = {seed}, time_scale = {time_scale:?} }}

[campaigns.window]
default_time_zone = "America/New_York"
hours = [{{ days = "daily", start = "00:00", end = "24:00" }}]
"#,
                id = campaign.id,
                concurrency = campaign.concurrency,
                calls_per_second = campaign.calls_per_second,
                call_timeout = campaign.call_timeout,
                seed = campaign.seed,
                time_scale = campaign.time_scale,
            )
        })
        .collect();
    let config = format!(
        r#"
[server]
bind = "127.0.0.1:1"

[store]
backend = "postgres"
lease_ttl = "2s"

[[workspaces]]
id = "acme"
name = "Acme"
api_keys = [{{ id = "ops", sha256 = "{hash}" }}]
{campaigns}"#,
        hash = outdial::api::hash_key(API_KEY)
    );
    let path = dir.join("outdial.toml");
    std::fs::write(&path, config).expect("config written");
    let csv: String = std::iter::once("phone,name".to_string())
        .chain((0..contacts).map(|i| format!("{number_prefix}{i:04},Contact {i}")))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("contacts.csv"), csv).expect("csv written");
    path
}

pub struct Node {
    pub child: Child,
    pub url: String,
    pub data_dir: PathBuf,
    /// What the node prints, read on; dropped, its pipe would close under
    /// the node's next line.
    _lines: mpsc::Receiver<String>,
}

impl Node {
    pub fn start(config: &Path, data_dir: PathBuf, database: &str) -> Node {
        let mut child = run_command(config, &data_dir)
            .args(["--store", database])
            .stderr(Stdio::inherit())
            .spawn()
            .expect("outdial run starts");
        let (url, lines) = wait_until_listening(&mut child);
        Node {
            child,
            url,
            data_dir,
            _lines: lines,
        }
    }

    pub fn batch(&self, args: &[&str]) -> Output {
        Command::new(BINARY)
            .arg("batch")
            .args(args)
            .env("OUTDIAL_SERVER", &self.url)
            .env("OUTDIAL_API_KEY", API_KEY)
            .output()
            .expect("outdial batch runs")
    }

    /// Uploads `csv` as a batch of `campaign` through this node, which
    /// starts it; answers its id.
    pub fn create_batch(&self, campaign: &str, csv: &Path) -> String {
        let created = ok(self.batch(&[
            "create",
            "--campaign",
            campaign,
            csv.to_str().expect("utf-8 path"),
        ]));
        created
            .split_whitespace()
            .find(|word| word.starts_with("btc_"))
            .expect("the batch id is printed")
            .to_string()
    }

    /// The attempt ids this node's provider placed, in order.
    pub fn placed(&self) -> Vec<String> {
        placed_in(&self.data_dir)
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "{signal} sent");
    }

    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    pub fn stop(mut self) {
        self.signal("-TERM");
        let exit = self.child.wait().expect("the server exits");
        assert!(exit.success(), "a clean shutdown exits 0, got {exit}");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The attempt ids the providers of the node with `data_dir` placed, each
/// campaign's in order; the logs outlive the node.
pub fn placed_in(data_dir: &Path) -> Vec<String> {
    let Ok(campaigns) = std::fs::read_dir(data_dir.join("providers")) else {
        return Vec::new();
    };
    let mut placed = Vec::new();
    for campaign in campaigns.flatten() {
        let log = std::fs::read_to_string(campaign.path().join("simulated-calls.log"));
        // A line is the placement's time and the attempt id.
        placed.extend(log.unwrap_or_default().lines().filter_map(|line| {
            line.split('\t')
                .next_back()
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_string)
        }));
    }
    placed
}

/// Succeeded, or the test fails showing what the command said.
pub fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn wait_for(what: &str, bound: Duration, done: impl Fn() -> bool) -> Duration {
    let began = Instant::now();
    while !done() {
        assert!(began.elapsed() < bound, "{what}: not within {bound:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    began.elapsed()
}
