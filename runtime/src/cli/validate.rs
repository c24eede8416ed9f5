//! `outdial validate`: every mistake in a config, with its location.

use std::path::Path;
use std::process::ExitCode;

use crate::config::Config;
use crate::plugin_host::PluginHost;

pub(super) fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let config = match Config::load(path) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            return Ok(ExitCode::from(2));
        }
    };
    let host = PluginHost::new()?;
    match config.validate(&host) {
        Ok(()) => {
            println!("{}: ok", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            Ok(ExitCode::from(2))
        }
    }
}
