//! `outdial suppress ...`: a workspace's suppression (do-not-call) lists
//! through a running server's HTTP API, as `outdial batch` manages
//! batches.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use reqwest::Method;
use serde_json::{Value, json};

use super::batch::{API_KEY_ENV, Client, SERVER_ENV, table, text, time};

#[derive(Debug, clap::Args)]
pub(super) struct SuppressArgs {
    /// Base URL of a running `outdial run`.
    #[arg(long, global = true, env = SERVER_ENV, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// API key of the workspace the lists belong to.
    #[arg(long, global = true, env = API_KEY_ENV, hide_env_values = true)]
    api_key: Option<String>,
    #[command(subcommand)]
    command: SuppressCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SuppressCommand {
    /// The workspace's lists with their entry counts.
    #[command(after_help = "Examples:\n  outdial suppress list")]
    List,
    /// Create a list; it blocks dialing unless --informing.
    #[command(
        after_help = "Examples:\n  outdial suppress create litigators --description \"known litigators\"\n  outdial suppress create consent --informing"
    )]
    Create {
        /// Lowercase letters, digits, "-" and "_".
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// Only hand the list to the dial-gate plugin; do not block.
        #[arg(long)]
        informing: bool,
    },
    /// Add numbers to a list.
    #[command(
        after_help = "Examples:\n  outdial suppress add dnc-internal +14155550100 +14155550101 --reason \"asked not to be called\"\n  outdial suppress add consent 4155550100 --default-country US --expires 2026-12-31T00:00:00Z"
    )]
    Add {
        list: String,
        #[arg(required = true)]
        phones: Vec<String>,
        /// Why, kept with each entry.
        #[arg(long)]
        reason: Option<String>,
        /// When the entries stop suppressing: RFC 3339 or epoch milliseconds.
        #[arg(long)]
        expires: Option<String>,
        /// ISO 3166 country of numbers written without a country code.
        #[arg(long)]
        default_country: Option<String>,
    },
    /// Add the numbers of a CSV file (a phone column, optional expires_at
    /// and reason) to a list; a file with a bad row writes nothing.
    #[command(
        after_help = "Examples:\n  outdial suppress upload dnc-internal complaints.csv\n  outdial suppress upload litigators litigators.csv --default-country US"
    )]
    Upload {
        list: String,
        file: PathBuf,
        /// ISO 3166 country of numbers written without a country code.
        #[arg(long)]
        default_country: Option<String>,
    },
    /// Take numbers off a list.
    #[command(after_help = "Examples:\n  outdial suppress remove dnc-internal +14155550100")]
    Remove {
        list: String,
        #[arg(required = true)]
        phones: Vec<String>,
        /// ISO 3166 country of numbers written without a country code.
        #[arg(long)]
        default_country: Option<String>,
    },
    /// The lists a number is on now, and whether it is blocked.
    #[command(after_help = "Examples:\n  outdial suppress check +14155550100")]
    Check {
        phone: String,
        /// ISO 3166 country of a number written without a country code.
        #[arg(long)]
        default_country: Option<String>,
    },
    /// A list's entries, in phone order.
    #[command(
        after_help = "Examples:\n  outdial suppress entries dnc-internal\n  outdial suppress entries consent --limit 500"
    )]
    Entries {
        list: String,
        /// Most entries shown.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

pub(super) fn run(args: SuppressArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.server, args.api_key)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(execute(&client, args.command))
}

/// `default_country` as a query, when given.
fn country(default_country: Option<String>) -> Vec<(&'static str, String)> {
    default_country
        .map(|code| ("default_country", code))
        .into_iter()
        .collect()
}

/// A path segment with the characters a URL path cannot carry escaped.
fn segment(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace("%2B", "+")
}

async fn execute(client: &Client, command: SuppressCommand) -> anyhow::Result<ExitCode> {
    match command {
        SuppressCommand::List => {
            let answer = client
                .json(Method::GET, "v1/suppression-lists", &[], None)
                .await?;
            let rows: Vec<Vec<String>> = answer["lists"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|list| {
                    vec![
                        text(&list["name"]),
                        if list["blocks"] == json!(true) {
                            "blocks"
                        } else {
                            "informs"
                        }
                        .to_string(),
                        text(&list["entries"]),
                        text(&list["description"]),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(&["LIST", "KIND", "ENTRIES", "DESCRIPTION"], &rows)
            );
        }
        SuppressCommand::Create {
            name,
            description,
            informing,
        } => {
            let body = json!({"name": name, "description": description, "blocks": !informing});
            let list = client
                .json(Method::POST, "v1/suppression-lists", &[], Some(body))
                .await?;
            println!(
                "list {} created ({})",
                text(&list["name"]),
                if informing { "informing" } else { "blocking" }
            );
        }
        SuppressCommand::Add {
            list,
            phones,
            reason,
            expires,
            default_country,
        } => {
            let expires_at = expires.map(|at| match at.parse::<i64>() {
                Ok(millis) => json!(millis),
                Err(_) => json!(at),
            });
            let entries: Vec<Value> = phones
                .iter()
                .map(|phone| json!({"phone": phone, "reason": reason, "expires_at": expires_at}))
                .collect();
            let path = format!("v1/suppression-lists/{}/entries", segment(&list));
            let answer = client
                .json(
                    Method::POST,
                    &path,
                    &country(default_country),
                    Some(json!({ "entries": entries })),
                )
                .await?;
            print_added(&answer);
        }
        SuppressCommand::Upload {
            list,
            file,
            default_country,
        } => {
            let csv =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let path = format!("v1/suppression-lists/{}/entries/upload", segment(&list));
            let url = client.url(&path, &country(default_country))?;
            let response = client
                .send(Method::POST, url, Some("text/csv"), Some(csv), &[])
                .await?;
            let answer: Value = serde_json::from_slice(&response.bytes().await?)
                .context("the answer is not JSON")?;
            print_added(&answer);
        }
        SuppressCommand::Remove {
            list,
            phones,
            default_country,
        } => {
            let path = format!("v1/suppression-lists/{}/entries/remove", segment(&list));
            let answer = client
                .json(
                    Method::POST,
                    &path,
                    &country(default_country),
                    Some(json!({ "phones": phones })),
                )
                .await?;
            println!(
                "{} removed from {}",
                text(&answer["removed"]),
                text(&answer["list"])
            );
        }
        SuppressCommand::Check {
            phone,
            default_country,
        } => {
            let path = format!("v1/suppressions/{}", segment(&phone));
            let answer = client
                .json(Method::GET, &path, &country(default_country), None)
                .await?;
            let lists = answer["lists"].as_array().cloned().unwrap_or_default();
            let verdict = if answer["blocked"] == json!(true) {
                "blocked"
            } else {
                "not blocked"
            };
            println!("{} is {verdict}", text(&answer["phone"]));
            let rows: Vec<Vec<String>> = lists
                .iter()
                .map(|hit| {
                    vec![
                        text(&hit["list"]),
                        if hit["blocks"] == json!(true) {
                            "blocks"
                        } else {
                            "informs"
                        }
                        .to_string(),
                        text(&hit["reason"]),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                print!("{}", table(&["LIST", "KIND", "REASON"], &rows));
            }
            // Scripts branch on the exit code: 0 dialable, 1 blocked.
            if answer["blocked"] == json!(true) {
                return Ok(ExitCode::from(1));
            }
        }
        SuppressCommand::Entries { list, limit } => {
            let path = format!("v1/suppression-lists/{}/entries", segment(&list));
            let mut rows = Vec::new();
            let mut cursor: Option<String> = None;
            while rows.len() < limit {
                let mut query = vec![("limit", (limit - rows.len()).min(1000).to_string())];
                query.extend(cursor.clone().map(|c| ("cursor", c)));
                let page = client.json(Method::GET, &path, &query, None).await?;
                for entry in page["entries"].as_array().into_iter().flatten() {
                    rows.push(vec![
                        text(&entry["phone"]),
                        time(&entry["added_at"]),
                        time(&entry["expires_at"]),
                        text(&entry["added_by"]),
                        text(&entry["reason"]),
                    ]);
                }
                cursor = page["next_cursor"].as_str().map(str::to_string);
                if cursor.is_none() {
                    break;
                }
            }
            print!(
                "{}",
                table(&["PHONE", "ADDED", "EXPIRES", "BY", "REASON"], &rows)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_added(answer: &Value) {
    println!(
        "{}: {} added, {} updated",
        text(&answer["list"]),
        text(&answer["added"]),
        text(&answer["updated"])
    );
}
