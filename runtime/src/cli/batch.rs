//! `outdial batch ...`: batches managed through a running server's HTTP
//! API, so the commands work against a remote deployment as well as a
//! local one and never open the store a server is using.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

/// Environment variable naming the server.
pub const SERVER_ENV: &str = "OUTDIAL_SERVER";
/// Environment variable holding the API key.
pub const API_KEY_ENV: &str = "OUTDIAL_API_KEY";

#[derive(Debug, clap::Args)]
pub(super) struct BatchArgs {
    /// Base URL of a running `outdial run`.
    #[arg(long, global = true, env = SERVER_ENV, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// API key of the workspace the batches belong to.
    #[arg(long, global = true, env = API_KEY_ENV, hide_env_values = true)]
    api_key: Option<String>,
    #[command(subcommand)]
    command: BatchCommand,
}

#[derive(Debug, clap::Subcommand)]
enum BatchCommand {
    /// Upload a CSV of contacts as a new batch of a campaign.
    #[command(after_help = "Examples:
  outdial batch create --campaign spring-renewals contacts.csv
  outdial batch create --campaign spring-renewals contacts.csv --skip-invalid --default-country US
  outdial batch create --campaign spring-renewals contacts.csv --scheduled-start 2026-03-02T09:00:00Z --budget 50 --goal 100 --goal-label interested")]
    Create(Box<CreateArgs>),
    /// List batches, newest first.
    #[command(after_help = "Examples:
  outdial batch list
  outdial batch list --campaign spring-renewals --status in_progress")]
    List {
        /// Only batches of this campaign.
        #[arg(long)]
        campaign: Option<String>,
        /// Only batches with this status (pending, in_progress, paused, completed, cancelled, expired).
        #[arg(long)]
        status: Option<String>,
        /// Most batches shown.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// A batch's settings and counters.
    #[command(after_help = "Examples:\n  outdial batch show btc_0123456789abcdef")]
    Show { batch: String },
    /// A batch's progress: waiting, active, completed, failed.
    #[command(after_help = "Examples:\n  outdial batch status btc_0123456789abcdef")]
    Status { batch: String },
    /// Follow a batch with a live progress bar until it is final.
    #[command(
        after_help = "Examples:\n  outdial batch watch btc_0123456789abcdef\n  outdial batch watch btc_0123456789abcdef --interval 2s --timeout 1h"
    )]
    Watch {
        batch: String,
        /// Time between two looks.
        #[arg(long, default_value = "500ms", value_parser = parse_interval)]
        interval: Duration,
        /// Give up (exit 1) after this long; default: never.
        #[arg(long, value_parser = parse_interval)]
        timeout: Option<Duration>,
    },
    /// Stop dialing a batch's contacts until it is resumed.
    #[command(
        after_help = "Examples:\n  outdial batch pause btc_0123456789abcdef --reason \"script review\""
    )]
    Pause(ControlArgs),
    /// Dial a paused batch again.
    #[command(after_help = "Examples:\n  outdial batch resume btc_0123456789abcdef")]
    Resume(ControlArgs),
    /// End a batch for good; its waiting contacts are skipped.
    #[command(
        after_help = "Examples:\n  outdial batch cancel btc_0123456789abcdef --reason \"wrong list\""
    )]
    Cancel(ControlArgs),
    /// Start a pending batch now, ahead of its scheduled start.
    #[command(after_help = "Examples:\n  outdial batch dispatch btc_0123456789abcdef")]
    Dispatch(ControlArgs),
    /// Write a batch's contacts, one CSV row each, with their outcomes; or
    /// its attempts, or its transcripts.
    #[command(
        after_help = "Examples:\n  outdial batch export btc_0123456789abcdef > results.csv\n  outdial batch export btc_0123456789abcdef -o results.csv\n  outdial batch export btc_0123456789abcdef --attempts -o attempts.csv\n  outdial batch export btc_0123456789abcdef --transcripts -o transcripts.jsonl"
    )]
    Export {
        batch: String,
        /// Write here instead of to standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Every attempt, one CSV row each, with its call status.
        #[arg(long, conflicts_with = "transcripts")]
        attempts: bool,
        /// Every transcript, one JSON line each.
        #[arg(long)]
        transcripts: bool,
    },
}

/// What `batch export` writes.
#[derive(Debug, Clone, Copy)]
enum Report {
    Contacts,
    Attempts,
    Transcripts,
}

#[derive(Debug, clap::Args)]
struct CreateArgs {
    /// Campaign the batch belongs to.
    #[arg(long)]
    campaign: String,
    /// CSV with a header row: phone, and optionally id, name, time_zone and
    /// any other column (kept as an attribute).
    contacts: PathBuf,
    /// Keep the good rows and list the bad ones; by default a file with a
    /// bad row is refused whole.
    #[arg(long)]
    skip_invalid: bool,
    /// ISO 3166 country of numbers written without a country code.
    #[arg(long)]
    default_country: Option<String>,
    /// No dial before this RFC 3339 time.
    #[arg(long)]
    scheduled_start: Option<String>,
    /// The batch expires at this RFC 3339 time.
    #[arg(long)]
    end_at: Option<String>,
    /// Override of the campaign's concurrency.
    #[arg(long)]
    concurrency: Option<u32>,
    /// Override of the campaign's calls per second.
    #[arg(long)]
    calls_per_second: Option<f64>,
    /// Override of the campaign's attempts per contact.
    #[arg(long)]
    max_attempts: Option<u32>,
    /// Override of the campaign's follow-ups past the attempts, dialed
    /// only when the person asked to be called back.
    #[arg(long)]
    max_followups: Option<u32>,
    /// Caller ids of this batch instead of the campaign's pool, comma
    /// separated, each optionally with a weight: +12125550100:2,+13125550100
    #[arg(long)]
    numbers: Option<String>,
    /// How this batch picks caller ids: round_robin, weighted, sticky or same_country.
    #[arg(long)]
    number_strategy: Option<String>,
    /// Spending limit of this batch, in currency units.
    #[arg(long)]
    budget: Option<f64>,
    /// Contacts reaching a success label after which the batch completes.
    #[arg(long)]
    goal: Option<u64>,
    /// A label counting toward --goal; repeat for more.
    #[arg(long = "goal-label", requires = "goal")]
    goal_labels: Vec<String>,
    /// Working hours of this batch instead of the campaign's window, as
    /// JSON with the keys of `[campaigns.window]`:
    /// '{"hours":[{"days":"mon-fri","start":"09:00","end":"17:00"}]}'
    #[arg(long)]
    hours: Option<String>,
    /// Retry strategy of this batch instead of the campaign's, as JSON:
    /// '{"config":{"base_delay":"2m"}}' sets keys of the campaign's
    /// plugin, '{"plugin":"retry-schedule","config":{"busy":"5m"}}' names
    /// another.
    #[arg(long)]
    retry: Option<String>,
    /// Dial gate of this batch instead of the campaign's, as JSON:
    /// '{"config":{"blackout_dates":"2026-12-24"}}' sets keys of the
    /// campaign's gate, '{"plugin":"gate-hours","config":{}}' names
    /// another. A batch cannot go without its campaign's gate.
    #[arg(long)]
    gate: Option<String>,
    /// A retried create with the same key makes no second batch.
    #[arg(long)]
    idempotency_key: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ControlArgs {
    batch: String,
    /// Why, recorded with the status change.
    #[arg(long)]
    reason: Option<String>,
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    match crate::config::parse_duration_ms(text) {
        Some(ms) if ms > 0 => Ok(Duration::from_millis(ms as u64)),
        _ => Err(format!(
            "\"{text}\" is not a positive duration, expected e.g. 500ms, 2s or 1h"
        )),
    }
}

pub(super) fn run(args: BatchArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.server, args.api_key)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(client.execute(args.command))
}

/// A failed API call, shown with the API's code and message.
#[derive(Debug, thiserror::Error)]
#[error("{status} {code}: {message}{rows}")]
struct ApiFailure {
    status: StatusCode,
    code: String,
    message: String,
    /// Bad rows of a refused upload, one per line.
    rows: String,
}

pub(super) struct Client {
    http: reqwest::Client,
    base: Url,
    api_key: Option<String>,
}

impl Client {
    pub(super) fn new(server: &str, api_key: Option<String>) -> anyhow::Result<Client> {
        let mut base = Url::parse(server).with_context(|| {
            format!("--server \"{server}\" is not a URL, expected e.g. http://127.0.0.1:8080")
        })?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = crate::net::http_client()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .context("building the HTTP client")?;
        Ok(Client {
            http,
            base,
            api_key: api_key.filter(|key| !key.is_empty()),
        })
    }

    pub(super) fn url(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Url> {
        let mut url = self
            .base
            .join(path.trim_start_matches('/'))
            .with_context(|| format!("building the URL of {path}"))?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        Ok(url)
    }

    pub(super) async fn send(
        &self,
        method: Method,
        url: Url,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
        headers: &[(&str, String)],
    ) -> anyhow::Result<reqwest::Response> {
        let mut request = self.http.request(method.clone(), url.clone());
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        if let Some(content_type) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.map_err(|err| {
            let why = if err.is_connect() {
                "cannot connect"
            } else if err.is_timeout() {
                "timed out"
            } else {
                "request failed"
            };
            anyhow::anyhow!(
                "{why}: {method} {url} (is `outdial run` serving at {}? set --server or {SERVER_ENV})",
                self.base
            )
            .context(format!("{err:#}"))
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(failure(response).await.into())
    }

    pub(super) async fn json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = self.url(path, query)?;
        let body = body.map(|body| body.to_string().into_bytes());
        let content_type = body.as_ref().map(|_| "application/json");
        let response = self.send(method, url, content_type, body, &[]).await?;
        let bytes = response.bytes().await.context("reading the answer")?;
        serde_json::from_slice(&bytes).context("the answer is not JSON")
    }

    async fn execute(&self, command: BatchCommand) -> anyhow::Result<ExitCode> {
        match command {
            BatchCommand::Create(args) => self.create(*args).await,
            BatchCommand::List {
                campaign,
                status,
                limit,
            } => self.list(campaign, status, limit).await,
            BatchCommand::Show { batch } => {
                let view = self
                    .json(Method::GET, &format!("v1/batches/{batch}"), &[], None)
                    .await?;
                print!("{}", show_table(&view));
                Ok(ExitCode::SUCCESS)
            }
            BatchCommand::Status { batch } => {
                let progress = self
                    .json(
                        Method::GET,
                        &format!("v1/batches/{batch}/status"),
                        &[],
                        None,
                    )
                    .await?;
                print!("{}", status_table(&batch, &progress));
                Ok(ExitCode::SUCCESS)
            }
            BatchCommand::Watch {
                batch,
                interval,
                timeout,
            } => self.watch(&batch, interval, timeout).await,
            BatchCommand::Pause(args) => self.control("pause", args).await,
            BatchCommand::Resume(args) => self.control("resume", args).await,
            BatchCommand::Cancel(args) => self.control("cancel", args).await,
            BatchCommand::Dispatch(args) => self.control("dispatch", args).await,
            BatchCommand::Export {
                batch,
                output,
                attempts,
                transcripts,
            } => {
                let report = if attempts {
                    Report::Attempts
                } else if transcripts {
                    Report::Transcripts
                } else {
                    Report::Contacts
                };
                self.export(&batch, report, output).await
            }
        }
    }

    async fn create(&self, args: CreateArgs) -> anyhow::Result<ExitCode> {
        let csv = std::fs::read(&args.contacts)
            .with_context(|| format!("reading {}", args.contacts.display()))?;
        let mut query: Vec<(&str, String)> = Vec::new();
        if args.skip_invalid {
            query.push(("skip_invalid", "true".to_string()));
        }
        let optional: [(&str, Option<String>); 14] = [
            ("default_country", args.default_country),
            ("scheduled_start", args.scheduled_start),
            ("end_at", args.end_at),
            ("concurrency", args.concurrency.map(|n| n.to_string())),
            (
                "calls_per_second",
                args.calls_per_second.map(|n| n.to_string()),
            ),
            ("max_attempts", args.max_attempts.map(|n| n.to_string())),
            ("max_followups", args.max_followups.map(|n| n.to_string())),
            ("numbers", args.numbers),
            ("number_strategy", args.number_strategy),
            ("budget", args.budget.map(|n| n.to_string())),
            ("goal", args.goal.map(|n| n.to_string())),
            ("hours", args.hours),
            ("retry", args.retry),
            ("gate", args.gate),
        ];
        query.extend(
            optional
                .into_iter()
                .filter_map(|(name, value)| Some((name, value?))),
        );
        if !args.goal_labels.is_empty() {
            query.push(("goal_labels", args.goal_labels.join(",")));
        }
        // The batch keeps the file's name with its upload's counts.
        if let Some(name) = args.contacts.file_name().and_then(|name| name.to_str()) {
            query.push(("file_name", name.to_string()));
        }
        let url = self.url(&format!("v1/campaigns/{}/batches", args.campaign), &query)?;
        let headers: Vec<(&str, String)> = args
            .idempotency_key
            .map(|key| ("idempotency-key", key))
            .into_iter()
            .collect();
        let response = self
            .send(Method::POST, url, Some("text/csv"), Some(csv), &headers)
            .await?;
        let created: Value =
            serde_json::from_slice(&response.bytes().await?).context("the answer is not JSON")?;
        let batch = &created["batch"];
        let verb = if created["created"].as_bool() == Some(false) {
            "already existed"
        } else {
            "created"
        };
        println!(
            "batch {} {verb}: {} contacts, campaign {}, status {}",
            text(&batch["batch_id"]),
            text(&batch["counters"]["total"]),
            text(&batch["campaign_id"]),
            text(&batch["status"]),
        );
        if let Some(skipped) = created["skipped"]
            .as_array()
            .filter(|rows| !rows.is_empty())
        {
            println!("{} rows skipped:", skipped.len());
            for row in skipped {
                println!("  {}", text(&row["message"]));
            }
        }
        Ok(ExitCode::SUCCESS)
    }

    async fn list(
        &self,
        campaign: Option<String>,
        status: Option<String>,
        limit: usize,
    ) -> anyhow::Result<ExitCode> {
        let mut rows = Vec::new();
        let mut cursor: Option<String> = None;
        while rows.len() < limit {
            let mut query = vec![("limit", (limit - rows.len()).min(100).to_string())];
            query.extend(campaign.clone().map(|c| ("campaign", c)));
            query.extend(status.clone().map(|s| ("status", s)));
            query.extend(cursor.clone().map(|c| ("cursor", c)));
            let page = self.json(Method::GET, "v1/batches", &query, None).await?;
            for batch in page["batches"].as_array().into_iter().flatten() {
                rows.push(vec![
                    text(&batch["batch_id"]),
                    text(&batch["campaign_id"]),
                    text(&batch["status"]),
                    text(&batch["counters"]["total"]),
                    text(&batch["counters"]["finished"]),
                    text(&batch["counters"]["live"]),
                    time(&batch["created_at"]),
                ]);
            }
            cursor = page["next_cursor"].as_str().map(str::to_string);
            if cursor.is_none() {
                break;
            }
        }
        if rows.is_empty() {
            println!("no batches");
        } else {
            print!(
                "{}",
                table(
                    &[
                        "BATCH", "CAMPAIGN", "STATUS", "CONTACTS", "FINAL", "LIVE", "CREATED"
                    ],
                    &rows
                )
            );
        }
        Ok(ExitCode::SUCCESS)
    }

    async fn watch(
        &self,
        batch: &str,
        interval: Duration,
        timeout: Option<Duration>,
    ) -> anyhow::Result<ExitCode> {
        let path = format!("v1/batches/{batch}/status");
        let started = std::time::Instant::now();
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} final  {msg}  ETA {eta}",
            )
            .expect("the template is valid"),
        );
        let last = loop {
            let progress = self.json(Method::GET, &path, &[], None).await?;
            let total = number(&progress["total"]);
            let finished =
                total.saturating_sub(number(&progress["waiting"]) + number(&progress["active"]));
            bar.set_length(total);
            bar.set_position(finished);
            bar.set_message(format!(
                "{}  active {}  waiting {}  completed {}  failed {}",
                text(&progress["status"]),
                number(&progress["active"]),
                number(&progress["waiting"]),
                number(&progress["completed"]),
                number(&progress["failed"]),
            ));
            if progress["isComplete"].as_bool() == Some(true) {
                break Some(progress);
            }
            if timeout.is_some_and(|limit| started.elapsed() >= limit) {
                break None;
            }
            tokio::time::sleep(interval).await;
        };
        bar.finish();
        match last {
            Some(progress) => {
                print!("{}", status_table(batch, &progress));
                Ok(ExitCode::SUCCESS)
            }
            None => {
                eprintln!("batch {batch} is not final after {:.0?}", started.elapsed());
                Ok(ExitCode::FAILURE)
            }
        }
    }

    async fn control(&self, action: &str, args: ControlArgs) -> anyhow::Result<ExitCode> {
        let body = match args.reason {
            Some(reason) => serde_json::json!({ "reason": reason }),
            None => serde_json::json!({}),
        };
        let view = self
            .json(
                Method::POST,
                &format!("v1/batches/{}/{action}", args.batch),
                &[],
                Some(body),
            )
            .await?;
        let reason = view["status_reason"]
            .as_str()
            .map(|reason| format!(" ({reason})"))
            .unwrap_or_default();
        println!(
            "batch {} is {}{reason}",
            text(&view["batch_id"]),
            text(&view["status"])
        );
        Ok(ExitCode::SUCCESS)
    }

    async fn export(
        &self,
        batch: &str,
        report: Report,
        output: Option<PathBuf>,
    ) -> anyhow::Result<ExitCode> {
        let (file, what, header_rows) = match report {
            Report::Contacts => ("export.csv", "contacts", 1),
            Report::Attempts => ("attempts.csv", "attempts", 1),
            Report::Transcripts => ("transcripts.jsonl", "transcripts", 0),
        };
        let url = self.url(&format!("v1/batches/{batch}/{file}"), &[])?;
        let mut response = self.send(Method::GET, url, None, None, &[]).await?;
        // Written to a temporary file beside the target and renamed at the
        // end, so a broken download never leaves a half file under its name.
        let (mut sink, partial): (Box<dyn std::io::Write>, Option<(PathBuf, PathBuf)>) =
            match &output {
                Some(path) => {
                    let temporary = path.with_extension("partial");
                    let file = std::fs::File::create(&temporary)
                        .with_context(|| format!("creating {}", temporary.display()))?;
                    (
                        Box::new(std::io::BufWriter::new(file)),
                        Some((temporary, path.clone())),
                    )
                }
                None => (Box::new(std::io::stdout().lock()), None),
            };
        let mut rows: u64 = 0;
        while let Some(chunk) = response
            .chunk()
            .await
            .context("reading the export from the server")?
        {
            rows += chunk.iter().filter(|byte| **byte == b'\n').count() as u64;
            sink.write_all(&chunk).context("writing the export")?;
        }
        sink.flush().context("writing the export")?;
        drop(sink);
        if let Some((temporary, path)) = partial {
            std::fs::rename(&temporary, &path)
                .with_context(|| format!("moving the export to {}", path.display()))?;
            eprintln!(
                "{} {what} written to {}",
                rows.saturating_sub(header_rows),
                path.display()
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The API's error body as an [`ApiFailure`].
async fn failure(response: reqwest::Response) -> ApiFailure {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let error = parsed.as_ref().map(|value| &value["error"]);
    match error.filter(|error| error.is_object()) {
        Some(error) => {
            let message = text(&error["message"]);
            // The message may already list the rows; each is shown once.
            let rows: String = error["rows"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|row| text(&row["message"]))
                .filter(|row| !message.contains(row.as_str()))
                .map(|row| format!("\n  {row}"))
                .collect();
            ApiFailure {
                status,
                code: text(&error["code"]),
                message,
                rows,
            }
        }
        None => ApiFailure {
            status,
            code: "unexpected_answer".to_string(),
            message: String::from_utf8_lossy(&body).chars().take(500).collect(),
            rows: String::new(),
        },
    }
}

/// A JSON value as a table cell: strings without quotes, null as "-".
pub(super) fn text(value: &Value) -> String {
    match value {
        Value::Null => "-".to_string(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn number(value: &Value) -> u64 {
    value.as_u64().unwrap_or(0)
}

/// Epoch milliseconds as an RFC 3339 time.
pub(super) fn time(value: &Value) -> String {
    value
        .as_i64()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "-".to_string())
}

/// Rows under a header, columns padded to their widest cell.
pub(super) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (index, cell) in cells.enumerate() {
            if index > 0 {
                out.push_str("  ");
            }
            out.push_str(&format!("{cell:<width$}", width = widths[index]));
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(&mut header.iter().copied());
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

/// Two columns: a name and its value.
fn pairs(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(name, value)| format!("{name:<width$}  {value}\n"))
        .collect()
}

/// "contacts.csv, 4 rows: 3 valid, 1 invalid", or a dash for a JSON create.
fn uploaded_from(upload: &Value) -> String {
    if upload.is_null() {
        return text(upload);
    }
    format!(
        "{}, {} rows: {} valid, {} invalid",
        upload["file_name"].as_str().unwrap_or("a CSV"),
        text(&upload["rows"]),
        text(&upload["valid"]),
        text(&upload["invalid"])
    )
}

/// A batch's own retry strategy or dial gate as "retry-schedule (busy=5m;
/// no_answer=1h)", or a dash when the campaign's applies.
fn own_plugin(setting: &Value) -> String {
    let Some(plugin) = setting["plugin"].as_str() else {
        return text(setting);
    };
    let config: Vec<String> = setting["config"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| format!("{key}={}", text(value)))
        .collect();
    if config.is_empty() {
        plugin.to_string()
    } else {
        format!("{plugin} ({})", config.join("; "))
    }
}

/// A batch's own hours as "mon,tue 09:00-17:00", or a dash when the
/// campaign's window applies.
fn working_hours(hours: &Value) -> String {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let Some(rules) = hours["calling_window"]["rules"].as_array() else {
        return text(hours);
    };
    let clock = |minute: &Value| {
        let minute = number(minute);
        format!("{:02}:{:02}", minute / 60, minute % 60)
    };
    let rules: Vec<String> = rules
        .iter()
        .map(|rule| match rule["expression"].as_str() {
            Some(cron) => format!("cron {cron}"),
            None => {
                let days: Vec<&str> = rule["days"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|day| DAYS.get(number(day) as usize).copied())
                    .collect();
                format!(
                    "{} {}-{}",
                    days.join(","),
                    clock(&rule["start_minute"]),
                    clock(&rule["end_minute"])
                )
            }
        })
        .collect();
    let rules = if rules.is_empty() {
        "any time".to_string()
    } else {
        rules.join("; ")
    };
    format!(
        "{rules}, zones by {} (default {})",
        text(&hours["time_zone_policy"]),
        text(&hours["default_time_zone"])
    )
}

fn show_table(view: &Value) -> String {
    let counters = &view["counters"];
    let mut rows = vec![
        ("batch", text(&view["batch_id"])),
        ("campaign", text(&view["campaign_id"])),
        ("status", text(&view["status"])),
        ("status reason", text(&view["status_reason"])),
        ("created", time(&view["created_at"])),
        ("created by", text(&view["created_by"])),
        ("scheduled start", time(&view["scheduled_start"])),
        ("end at", time(&view["end_at"])),
        ("started", time(&view["started_at"])),
        ("completed", time(&view["completed_at"])),
        ("concurrency", text(&view["concurrency_limit"])),
        ("calls per second", text(&view["calls_per_second"])),
        ("max attempts", text(&view["max_retries_override"])),
        ("max follow-ups", text(&view["max_followups"])),
        ("number strategy", text(&view["number_strategy"])),
        ("budget micros", text(&view["budget_micros"])),
        ("goal", text(&view["goal"])),
        ("working hours", working_hours(&view["hours"])),
        ("retry strategy", own_plugin(&view["retry"])),
        ("dial gate", own_plugin(&view["gate"])),
        ("uploaded from", uploaded_from(&view["upload"])),
        ("contacts", text(&counters["total"])),
        ("attempts", text(&counters["attempts"])),
        ("answered", text(&counters["answered"])),
        (
            "answer rate %",
            format!("{:.1}", counters["answer_rate"].as_f64().unwrap_or(0.0)),
        ),
        ("cost micros", text(&counters["cost_micros"])),
    ];
    if let Some(statuses) = counters["by_status"].as_object() {
        for (status, count) in statuses {
            rows.push((status.as_str(), text(count)));
        }
    }
    pairs(&rows)
}

fn status_table(batch: &str, progress: &Value) -> String {
    pairs(&[
        ("batch", batch.to_string()),
        ("status", text(&progress["status"])),
        ("complete", text(&progress["isComplete"])),
        ("total", text(&progress["total"])),
        ("waiting", text(&progress["waiting"])),
        ("active", text(&progress["active"])),
        ("completed", text(&progress["completed"])),
        ("failed", text(&progress["failed"])),
        ("started", time(&progress["startTime"])),
        ("finished", time(&progress["completedTime"])),
        (
            "average call (s)",
            format!(
                "{:.1}",
                progress["averageCallDuration"].as_f64().unwrap_or(0.0)
            ),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_pads_every_column_to_its_widest_cell() {
        let rendered = table(
            &["BATCH", "STATUS"],
            &[
                vec!["btc_1".to_string(), "in_progress".to_string()],
                vec!["btc_22".to_string(), "paused".to_string()],
            ],
        );
        assert_eq!(
            rendered,
            "BATCH   STATUS\nbtc_1   in_progress\nbtc_22  paused\n"
        );
    }

    #[test]
    fn a_batchs_own_hours_retry_strategy_and_gate_are_shown_as_an_operator_writes_them() {
        let view = serde_json::json!({
            "hours": {
                "calling_window": {"rules": [
                    {"kind": "range", "days": [0, 1, 2, 3, 4], "start_minute": 540, "end_minute": 1020},
                    {"kind": "cron", "expression": "0 * 10-11 * * Sat"}
                ]},
                "time_zone_policy": "contact",
                "default_time_zone": "America/Chicago"
            },
            "retry": {"plugin": "retry-schedule", "config": {"busy": "5m, 5m", "no_answer": "1h"}, "overridden": ["busy"]},
            "gate": {"plugin": "gate-hours", "config": {"blackout_dates": "2026-12-24"}, "overridden": ["blackout_dates"]}
        });
        let shown = show_table(&view);
        assert!(
            shown.contains(
                "working hours     mon,tue,wed,thu,fri 09:00-17:00; cron 0 * 10-11 * * Sat, zones by contact (default America/Chicago)"
            ),
            "{shown}"
        );
        assert!(
            shown.contains("retry strategy    retry-schedule (busy=5m, 5m; no_answer=1h)"),
            "{shown}"
        );
        assert!(
            shown.contains("dial gate         gate-hours (blackout_dates=2026-12-24)"),
            "{shown}"
        );
        let campaigns =
            show_table(&serde_json::json!({"hours": null, "retry": null, "gate": null}));
        assert!(campaigns.contains("working hours     -"), "{campaigns}");
        assert!(campaigns.contains("retry strategy    -"), "{campaigns}");
        assert!(campaigns.contains("dial gate         -"), "{campaigns}");
    }

    #[test]
    fn epoch_milliseconds_are_shown_as_utc_times() {
        assert_eq!(
            time(&serde_json::json!(1_700_000_000_000_i64)),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(time(&Value::Null), "-");
    }

    #[test]
    fn an_interval_must_be_a_positive_duration() {
        assert_eq!(parse_interval("2s"), Ok(Duration::from_secs(2)));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("soon").is_err());
    }

    #[test]
    fn a_server_that_is_not_a_url_is_named_in_the_error() {
        let error = Client::new("127.0.0.1 8080", None)
            .err()
            .expect("not a URL");
        assert!(format!("{error:#}").contains("--server \"127.0.0.1 8080\""));
    }
}
