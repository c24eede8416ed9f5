//! Runtime configuration files: parsing, validation with exact locations,
//! and resolution into the model's [`CampaignSpec`]s.
//!
//! A config is one TOML file or a directory of `*.toml` files merged. It
//! is read in three steps that each report every problem they find, as
//! `file:line:col: what is wrong, expected what`:
//! 1. [`Config::load`] parses (syntax, unknown keys, wrong types);
//! 2. [`validate`] checks meaning (references, numbers, zones, plugins);
//! 3. [`Config::campaign_specs`] resolves campaigns with defaults applied.
//!
//! The format itself is documented on the structs of [`schema`].

mod catalog;
mod diagnostics;
mod overrides;
mod resolve;
pub mod schema;
mod values;

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

pub use catalog::{
    BUILTIN_PLUGINS, ConfigKeyInfo, ConfigureFailure, PluginCatalog, PluginInfo, PluginKind,
    PluginRef, SIMULATED_PROVIDER, SandboxLimits, StaticCatalog,
};
pub use diagnostics::{Diagnostic, Diagnostics, Location, SourceFile};
pub use overrides::{ServerOverrides, ServerSettings};
pub use resolve::{ApiKeySpec, PluginSpec, WorkspaceSpec, validate};
pub use values::parse_duration_ms;

use crate::model::CampaignSpec;
use diagnostics::Reporter;
use schema::{CampaignSection, PluginSection, ServerSection, WorkspaceSection};

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config \"{path}\": {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config directory \"{0}\" holds no *.toml files")]
    EmptyDirectory(PathBuf),
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl From<Diagnostics> for ConfigError {
    fn from(found: Diagnostics) -> Self {
        ConfigError::Invalid(found)
    }
}

/// A section parsed from one of the config's files, with where it was.
#[derive(Debug, Clone)]
pub struct Sourced<T> {
    /// Index into [`Config::files`].
    pub file: usize,
    /// Byte range of the section in that file.
    pub span: Range<usize>,
    pub item: T,
}

impl<T> Sourced<T> {
    /// Where the section starts.
    pub fn location(&self) -> Location {
        Location::new(self.file, self.span.clone())
    }
}

/// A parsed config: every section of every file, not yet validated.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The files read, in the order they were merged.
    pub files: Vec<SourceFile>,
    /// `[server]` sections; more than one across files is an error.
    pub server: Vec<Sourced<ServerSection>>,
    pub workspaces: Vec<Sourced<WorkspaceSection>>,
    pub plugins: Vec<Sourced<PluginSection>>,
    pub campaigns: Vec<Sourced<CampaignSection>>,
}

/// The top-level keys a file may have.
const SECTIONS: &str = "\"server\", \"workspaces\", \"plugins\" or \"campaigns\"";

impl Config {
    /// Read and parse a config file, or every `*.toml` file of a directory
    /// in name order. Reports every syntax and type error found, each with
    /// its location; meaning is checked by [`validate`].
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let read_error = |source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        };
        let metadata = std::fs::metadata(path).map_err(read_error)?;
        let paths = if metadata.is_dir() {
            let mut paths = Vec::new();
            for entry in std::fs::read_dir(path).map_err(read_error)? {
                let entry_path = entry.map_err(read_error)?.path();
                if entry_path.extension().is_some_and(|ext| ext == "toml") && entry_path.is_file() {
                    paths.push(entry_path);
                }
            }
            paths.sort();
            if paths.is_empty() {
                return Err(ConfigError::EmptyDirectory(path.to_path_buf()));
            }
            paths
        } else {
            vec![path.to_path_buf()]
        };
        let mut sources = Vec::with_capacity(paths.len());
        for file in paths {
            let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Read {
                path: file.clone(),
                source,
            })?;
            sources.push((file, text));
        }
        Config::parse_files(sources)
    }

    /// Parse one file's text; `path` is used in messages and to resolve
    /// plugin paths.
    pub fn parse_str(path: impl Into<PathBuf>, text: &str) -> Result<Config, ConfigError> {
        Config::parse_files(vec![(path.into(), text.to_string())])
    }

    /// Parse several files' texts as one merged config.
    pub fn parse_files(files: Vec<(PathBuf, String)>) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let mut errors: Vec<(Location, String)> = Vec::new();
        for (path, text) in files {
            let file = config.files.len();
            config.files.push(SourceFile::new(path, &text));
            config.parse_file(file, &text, &mut errors);
        }
        let mut reporter = Reporter::new(&config.files);
        for (at, message) in errors {
            reporter.error(at, message);
        }
        reporter.finish().into_result()?;
        Ok(config)
    }

    fn parse_file(&mut self, file: usize, text: &str, errors: &mut Vec<(Location, String)>) {
        let (document, syntax_errors) = DeTable::parse_recoverable(text);
        if !syntax_errors.is_empty() {
            // Sections after a syntax error may be half-read: report the
            // syntax errors alone rather than what follows from them.
            for error in syntax_errors {
                errors.push(serde_error(file, &error, 0..0));
            }
            return;
        }
        for (key, value) in document.into_inner() {
            let key_span = key.span();
            match key.get_ref().as_ref() {
                "server" => {
                    if let Some(section) = deserialize_one(file, value, errors) {
                        self.server.push(section);
                    }
                }
                "workspaces" => {
                    self.workspaces
                        .extend(deserialize_list(file, "workspaces", value, errors))
                }
                "plugins" => self
                    .plugins
                    .extend(deserialize_list(file, "plugins", value, errors)),
                "campaigns" => {
                    self.campaigns
                        .extend(deserialize_list(file, "campaigns", value, errors))
                }
                other => errors.push((
                    Location::new(file, key_span),
                    format!("unknown section \"{other}\", expected {SECTIONS}"),
                )),
            }
        }
    }

    /// Check meaning against `catalog`; see [`validate`].
    pub fn validate(&self, catalog: &dyn PluginCatalog) -> Result<(), Diagnostics> {
        validate(self, catalog)
    }

    /// Every campaign with all defaults applied. Fails with the same
    /// value errors as [`validate`] (bad durations, numbers, zones...), so
    /// a spec never carries a silently replaced value; plugin checks need
    /// a catalog and are left to [`validate`].
    pub fn campaign_specs(&self) -> Result<Vec<CampaignSpec>, Diagnostics> {
        resolve::campaign_specs(self)
    }

    /// Every plugin campaigns use, by the name campaigns refer to it with:
    /// declared `[[plugins]]` and built-ins named directly.
    pub fn plugin_specs(&self) -> Vec<PluginSpec> {
        resolve::plugin_specs(self)
    }

    /// Workspaces with their API keys as sha256 hex; keys given as
    /// environment variables are read through `env` and hashed.
    pub fn workspace_specs(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<WorkspaceSpec>, Diagnostics> {
        resolve::workspace_specs(self, env)
    }

    /// Every environment variable the config reads (API keys, provider
    /// secrets, webhook secrets) that `env` does not have, at the place it
    /// is named. Run at start-up, not by [`validate`], so a config can be
    /// checked on a machine without the secrets.
    pub fn check_environment(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), Diagnostics> {
        resolve::check_environment(self, env)
    }

    /// The `[server]` settings from the file, defaults applied.
    pub fn server_settings(&self) -> ServerSettings {
        let mut settings = ServerSettings::default();
        if let Some(server) = self.server.first() {
            if let Some(bind) = &server.item.bind {
                settings.bind = bind.get_ref().clone();
            }
            if let Some(data_dir) = &server.item.data_dir {
                settings.data_dir = PathBuf::from(data_dir.get_ref());
            }
            if let Some(public_url) = &server.item.public_url {
                settings.public_url = Some(public_url.get_ref().trim_end_matches('/').to_string());
            }
        }
        settings
    }

    /// The directory of the file at `file`, which its relative paths are
    /// resolved against.
    pub fn base_dir(&self, file: usize) -> PathBuf {
        self.files
            .get(file)
            .and_then(|source| source.path.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

/// Deserialize one table into `T`, recording a serde error at its place.
fn deserialize_one<T: for<'de> Deserialize<'de>>(
    file: usize,
    value: Spanned<DeValue<'_>>,
    errors: &mut Vec<(Location, String)>,
) -> Option<Sourced<T>> {
    let span = value.span();
    match T::deserialize(ValueDeserializer::from(value)) {
        Ok(item) => Some(Sourced { file, span, item }),
        Err(error) => {
            errors.push(serde_error(file, &error, span));
            None
        }
    }
}

/// Deserialize each entry of an array of tables separately, so an error in
/// one entry does not hide the errors of the others.
fn deserialize_list<T: for<'de> Deserialize<'de>>(
    file: usize,
    section: &str,
    value: Spanned<DeValue<'_>>,
    errors: &mut Vec<(Location, String)>,
) -> Vec<Sourced<T>> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Array(items) => items
            .into_iter()
            .filter_map(|item| deserialize_one(file, item, errors))
            .collect(),
        other => {
            errors.push((
                Location::new(file, span),
                format!(
                    "\"{section}\" is a {}, expected an array of tables ([[{section}]])",
                    other.type_str()
                ),
            ));
            Vec::new()
        }
    }
}

/// A toml/serde error as a located message in house style: double quotes
/// instead of backticks.
fn serde_error(file: usize, error: &toml::de::Error, fallback: Range<usize>) -> (Location, String) {
    let span = error.span().unwrap_or(fallback);
    let mut message = requote(error.message().trim());
    // Serde names Rust types; operators know TOML's.
    for (rust, toml) in [
        ("expected i64", "expected an integer"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
    ] {
        if let Some(stripped) = message.strip_suffix(rust) {
            message = format!("{stripped}{toml}");
        }
    }
    if let Some(first) = message.get(..1) {
        // House style: messages start lowercase.
        let lower = first.to_lowercase();
        message.replace_range(..1, &lower);
    }
    if message.starts_with("missing field") {
        message.push_str(", expected it in this table");
    }
    (Location::new(file, span), message)
}

/// Backtick-quoted words as double-quoted ones, the house style; a quote
/// character itself is shown in single quotes.
pub(crate) fn requote(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let rest: Vec<&str> = parts.collect();
    for (index, part) in rest.iter().enumerate() {
        // Odd parts sit inside backticks, provided a closing one follows.
        if index % 2 == 0 && index + 1 < rest.len() {
            let quote = if part.contains('"') { '\'' } else { '"' };
            out.push(quote);
            out.push_str(part);
            out.push(quote);
        } else if index % 2 == 0 {
            out.push('`');
            out.push_str(part);
        } else {
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests;
