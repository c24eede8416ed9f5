//! The `outdial` command line.

mod batch;
mod demo;
mod new;
mod plugin;
mod run;
mod suppress;
mod validate;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Outbound call campaigns whose retry, disposition and provider policy
/// runs as sandboxed WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(
    name = "outdial",
    version,
    propagate_version = true,
    after_help = "Examples:\n  outdial demo\n  outdial validate examples/demo.toml\n  outdial run examples/demo.toml\n  outdial batch create --campaign demo-outreach contacts.csv"
)]
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
    /// Serve the HTTP API and dial every campaign of a config.
    #[command(
        after_help = "Examples:\n  outdial run examples/demo.toml\n  outdial run config/ --bind 0.0.0.0:8080 --data-dir /var/lib/outdial\n  OUTDIAL_BIND=127.0.0.1:9000 outdial run examples/production.toml"
    )]
    Run(run::RunArgs),
    /// Create, follow, control and export batches through a running server's API.
    #[command(
        after_help = "Examples:\n  outdial batch create --campaign demo-outreach contacts.csv\n  outdial batch watch btc_0123456789abcdef\n  OUTDIAL_SERVER=https://outdial.example.com OUTDIAL_API_KEY=... outdial batch list"
    )]
    Batch(batch::BatchArgs),
    /// Manage the workspace's suppression (do-not-call) lists through a running server's API.
    #[command(
        after_help = "Examples:\n  outdial suppress add dnc-internal +14155550100 --reason \"asked not to be called\"\n  outdial suppress upload dnc-internal complaints.csv\n  outdial suppress check +14155550100"
    )]
    Suppress(suppress::SuppressArgs),
    /// Inspect and test plugins.
    #[command(
        subcommand,
        after_help = "Examples:\n  outdial plugin list\n  outdial plugin inspect retry-backoff\n  outdial plugin test my_plugin.wasm --cases conformance/\n  outdial plugin new late-callback --kind retry --lang js"
    )]
    Plugin(plugin::PluginCommand),
    /// Print the HTTP API's OpenAPI 3.1 document, as `/v1/openapi.json` serves it.
    #[command(after_help = "Examples:\n  outdial openapi > docs/openapi.json")]
    Openapi,
}

impl Cli {
    /// Run the command; errors carry their whole cause chain.
    pub fn run(self) -> anyhow::Result<std::process::ExitCode> {
        match self.command {
            Command::Demo(args) => demo::run(args),
            Command::Validate { config } => validate::run(&config),
            Command::Run(args) => run::run(args),
            Command::Batch(args) => batch::run(args),
            Command::Suppress(args) => suppress::run(args),
            Command::Plugin(command) => plugin::run(command),
            Command::Openapi => {
                let document = serde_json::to_string_pretty(crate::api::routes::openapi())?;
                println!("{document}");
                Ok(std::process::ExitCode::SUCCESS)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every command path, e.g. ["outdial", "batch", "create"].
    fn command_paths(command: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(path.clone());
        for sub in command.get_subcommands() {
            let mut next = path.clone();
            next.push(sub.get_name().to_string());
            command_paths(sub, next, out);
        }
    }

    #[test]
    fn every_command_help_shows_an_example_of_that_command() {
        let root = Cli::command();
        let mut paths = Vec::new();
        command_paths(&root, vec!["outdial".to_string()], &mut paths);
        assert!(paths.len() > 15, "found only {paths:?}");
        for path in paths {
            // The built-in `help` command documents itself.
            if path.iter().any(|name| name == "help") {
                continue;
            }
            let mut command = Cli::command();
            let mut target = &mut command;
            for name in &path[1..] {
                target = target
                    .find_subcommand_mut(name)
                    .unwrap_or_else(|| panic!("{name} of {path:?}"));
            }
            let help = target.render_long_help().to_string();
            let example = format!("\n  {}", path.join(" "));
            assert!(
                help.contains("Example") && help.contains(&example),
                "`{} --help` shows no example line starting with \"{}\":\n{help}",
                path.join(" "),
                example.trim()
            );
        }
    }
}
