//! The `outdial` command line.

mod demo;
mod plugin;
mod validate;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Outbound call campaigns whose retry, disposition and provider policy
/// runs as sandboxed WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "outdial", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Dial a generated batch through the simulated provider and show it live.
    #[command(
        after_help = "Examples:\n  outdial demo\n  outdial demo --contacts 2000 --data-dir /tmp/outdial-demo"
    )]
    Demo(demo::DemoArgs),
    /// Check a config file (or a directory of them) and report every error.
    #[command(
        after_help = "Examples:\n  outdial validate examples/demo.toml\n  outdial validate config/"
    )]
    Validate {
        /// A `.toml` file or a directory of them.
        config: PathBuf,
    },
    /// Inspect and test plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
}

impl Cli {
    /// Run the command; errors carry their whole cause chain.
    pub fn run(self) -> anyhow::Result<std::process::ExitCode> {
        match self.command {
            Command::Demo(args) => demo::run(args),
            Command::Validate { config } => validate::run(&config),
            Command::Plugin(command) => plugin::run(command),
        }
    }
}
