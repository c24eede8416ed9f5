//! `outdial plugin list|inspect`.

use std::process::ExitCode;

use clap::Subcommand;

use crate::plugin_host::{PluginHost, PluginInfo, PluginSource, builtin_names};

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
}

pub(super) fn run(command: PluginCommand) -> anyhow::Result<ExitCode> {
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
    }
    Ok(ExitCode::SUCCESS)
}

fn print_info(info: &PluginInfo) {
    println!("name:     {}", info.name);
    println!("version:  {}", info.version);
    println!("kind:     {}", info.kind);
    println!("wit:      {}", info.wit);
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
