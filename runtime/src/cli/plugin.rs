//! `outdial plugin list|inspect|test|new`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

use super::new::{self, NewArgs};
use crate::conformance::{self, Format};
use crate::plugin_host::{PluginHost, PluginInfo, PluginLimits, PluginSource, builtin_names};

#[derive(Debug, Subcommand)]
pub(super) enum PluginCommand {
    /// List the plugins built into this binary.
    #[command(after_help = "Example:\n  outdial plugin list")]
    List,
    /// Load a plugin and show its kind, WIT version, sha256 and config keys.
    #[command(
        after_help = "Examples:\n  outdial plugin inspect retry-backoff\n  outdial plugin inspect target/wasm32-wasip2/release/my_plugin.wasm\n  outdial plugin inspect my_plugin.wasm --json"
    )]
    Inspect {
        /// A builtin plugin's name or a `.wasm` component file.
        plugin: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Prove that a plugin honours the contract of its kind: the built-in
    /// checks for its kind plus your own cases. Exits 1 when any check fails.
    #[command(after_help = TEST_EXAMPLES)]
    Test(TestArgs),
    /// Write a ready plugin project: the plugin, its native test, a
    /// conformance case and a README with the commands to test, build and
    /// prove it.
    #[command(
        after_help = "Examples:\n  outdial plugin new late-callback --kind retry\n  outdial plugin new call-labels --kind classifier --lang js\n  outdial plugin new my-carrier --kind provider --lang python --dir plugins/my-carrier"
    )]
    New(NewArgs),
}

const TEST_EXAMPLES: &str = "Examples:
  outdial plugin test target/wasm32-wasip2/release/my_plugin.wasm
  outdial plugin test my_plugin.wasm --cases conformance/
  outdial plugin test my_adapter.wasm --cases conformance/ --format junit > conformance.xml
  outdial plugin test retry-backoff --format json
  outdial plugin test my_plugin.wasm --failures failing-cases/

The cases folder holds one folder per case, each with input.json and
expected.json, and an optional config.json with the plugin config every
check runs with (tests/conformance/README.md in the outdial repository
describes the format). Each failing input is written as such a case
folder, under --failures or, for the text report, a new temp directory
it names; --cases on that directory runs them again.";

#[derive(Debug, clap::Args)]
pub(super) struct TestArgs {
    /// A `.wasm` component file or a builtin plugin's name.
    plugin: String,
    /// A folder of cases: one folder per case, and an optional config.json.
    #[arg(long, value_name = "DIR")]
    cases: Option<PathBuf>,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write each failing input as a case folder here (input.json,
    /// expected.json, config.json). Default with `--format text`: a new
    /// temp directory, named at the end of the report.
    #[arg(long, value_name = "DIR")]
    failures: Option<PathBuf>,
    /// CPU time one call may take, in milliseconds, as a campaign's `cpu_ms`.
    #[arg(long, default_value_t = 50)]
    cpu_ms: u64,
    /// Memory one instance may grow to, in MiB, as a campaign's `memory_mb`.
    #[arg(long, default_value_t = 32)]
    memory_mb: usize,
}

pub(super) fn run(command: PluginCommand) -> anyhow::Result<ExitCode> {
    if let PluginCommand::New(args) = &command {
        new::run(args)?;
        return Ok(ExitCode::SUCCESS);
    }
    let host = PluginHost::new()?;
    match command {
        PluginCommand::List => {
            for name in builtin_names() {
                let info = host.inspect(&PluginSource::Builtin(name.to_string()))?;
                println!(
                    "{:<16} {:<24} {} {}",
                    info.name,
                    info.kind.to_string(),
                    info.version,
                    &info.sha256[..12]
                );
            }
        }
        PluginCommand::Inspect { plugin, json } => {
            let source = PluginSource::parse(&plugin);
            let info = host.inspect(&source)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&info)?);
            } else {
                print_info(&info);
            }
        }
        PluginCommand::Test(args) => return test(&host, &args),
        PluginCommand::New(_) => unreachable!("answered before the host starts"),
    }
    Ok(ExitCode::SUCCESS)
}

fn test(host: &PluginHost, args: &TestArgs) -> anyhow::Result<ExitCode> {
    let options = conformance::Options {
        cases: args.cases.clone(),
        limits: PluginLimits {
            cpu_ms: args.cpu_ms,
            memory_bytes: args.memory_mb << 20,
        },
    };
    let mut report = conformance::run(host, &PluginSource::parse(&args.plugin), &options)
        .with_context(|| format!("cannot test {}", args.plugin))?;
    if report.failing_inputs() > 0 {
        // JSON and JUnit carry every input in full already, and a temp
        // directory no one is told about would only pile up.
        let dir = match (&args.failures, args.format) {
            (Some(dir), _) => Some(dir.clone()),
            (None, Format::Text) => Some(
                conformance::fresh_failures_dir()
                    .context("cannot create a temp directory for the failing inputs")?,
            ),
            (None, _) => None,
        };
        if let Some(dir) = dir {
            report.write_failures(&dir)?;
            if args.format != Format::Text {
                eprintln!("failing inputs written as cases to {}", dir.display());
            }
        }
    }
    print!("{}", report.render(args.format));
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_info(info: &PluginInfo) {
    println!("name:     {}", info.name);
    println!("version:  {}", info.version);
    println!("kind:     {}", info.kind);
    println!("wit:      {}", info.wit);
    if let Some(language) = &info.language {
        println!("language: {language}");
    }
    println!("sha256:   {}", info.sha256);
    println!("imports:  {}", info.imports.join(", "));
    if !info.labels.is_empty() {
        println!("labels:   {}", info.labels.join(", "));
    }
    println!("config:");
    for key in &info.config_keys {
        let required = if key.required { " (required)" } else { "" };
        println!("  {}{required}: {}", key.name, key.description);
    }
}
