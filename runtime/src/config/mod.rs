//! Runtime configuration files: parsing, validation with exact locations,
//! and resolution into the model's [`CampaignSpec`]s.
//!
//! A config is one TOML file or a directory of `*.toml` files merged. It
//! is read in three steps that each report every problem they find, as
//! `file:line:col: what is wrong, expected what`:
//! 1. [`Config::load`] parses (syntax, unknown and missing keys, wrong types);
//! 2. [`validate`] checks meaning (references, numbers, zones, plugins);
//! 3. [`Config::campaign_specs`] resolves campaigns with defaults applied.
//!
//! The format itself is documented on the structs of [`schema`].

mod batch;
mod catalog;
mod diagnostics;
mod overrides;
mod resolve;
pub mod schema;
pub mod simulation;
mod values;

use std::borrow::Cow;
use std::cmp::Reverse;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_spanned::Spanned;
use toml::de::{DeArray, DeTable, DeValue, ValueDeserializer};

pub use batch::{
    FieldError, GateInput, HoursInput, HoursRangeInput, PluginScope, RetryInput, batch_gate,
    batch_hours, batch_retry,
};
pub use catalog::{
    BUILTIN_PLUGINS, ConfigKeyInfo, ConfigureFailure, PluginCatalog, PluginInfo, PluginKind,
    PluginRef, SIMULATED_PROVIDER, SandboxLimits, StaticCatalog,
};
pub use diagnostics::{Diagnostic, Diagnostics, Location, SourceFile};
pub use overrides::{DATABASE_URL_ENV, STORE_ENV, ServerOverrides, ServerSettings, StoreChoice};
pub use resolve::{ApiKeySpec, MetricsLabels, MetricsSpec, PluginSpec, WorkspaceSpec, validate};
pub use values::{DURATION_EXPECTED, parse_duration_ms};

use crate::model::CampaignSpec;
use diagnostics::Reporter;
use schema::{CampaignSection, PluginSection, ServerSection, StoreSection, WorkspaceSection};

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
    /// `[store]` sections; more than one across files is an error.
    pub store: Vec<Sourced<StoreSection>>,
    pub workspaces: Vec<Sourced<WorkspaceSection>>,
    pub plugins: Vec<Sourced<PluginSection>>,
    pub campaigns: Vec<Sourced<CampaignSection>>,
}

/// The top-level keys a file may have.
const SECTIONS: &str = "\"server\", \"store\", \"workspaces\", \"plugins\" or \"campaigns\"";

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
                "store" => {
                    if let Some(section) = deserialize_one(file, value, errors) {
                        self.store.push(section);
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

    /// Every environment variable the config reads (API keys, the metrics
    /// key, provider secrets, webhook secrets) that `env` does not have, at
    /// the place it is named. Run at start-up, not by [`validate`], so a
    /// config can be checked on a machine without the secrets.
    pub fn check_environment(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), Diagnostics> {
        resolve::check_environment(self, env)
    }

    /// Who may read `/metrics` and its series' labels, defaults applied;
    /// the scrapers' key is read through `env` and kept as its hash. Fails
    /// where [`validate`] would, and on a key variable that is unset.
    pub fn metrics_spec(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<MetricsSpec, Diagnostics> {
        resolve::metrics_spec(self, env)
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

    /// The store this node opens: `flag` (`--store`), else `OUTDIAL_STORE`,
    /// else `[store]`, whose URL is read through `env` now. Either "sled"
    /// or a PostgreSQL URL; fails naming the flag, variable or place.
    pub fn store_choice(
        &self,
        flag: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<StoreChoice, Diagnostics> {
        resolve::store_choice(self, flag, env)
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

/// How many times one section is read again after a repair, to find its
/// next structural error. Far more than a hand-written table holds; the
/// bound only guards against a repair that would not converge.
const MAX_ROUNDS: usize = 256;

/// Deserialize one table into `T`, recording every serde error with its
/// place. Serde stops at the first error, so after each one the section is
/// repaired (the offending key taken out, a missing one filled in, see
/// [`Repair`]) and read again, until it reads or nothing more can be done.
fn deserialize_one<T: for<'de> Deserialize<'de>>(
    file: usize,
    value: Spanned<DeValue<'_>>,
    errors: &mut Vec<(Location, String)>,
) -> Option<Sourced<T>> {
    let span = value.span();
    let mut repair = Repair::new(value);
    let mut failed = false;
    for _ in 0..MAX_ROUNDS {
        let error = match T::deserialize(ValueDeserializer::from(repair.value.clone())) {
            Ok(item) if !failed => return Some(Sourced { file, span, item }),
            Ok(_) => return None,
            Err(error) => error,
        };
        if !repair.caused(&error) {
            errors.push(serde_error(file, &error, span.clone()));
            failed = true;
        }
        if !repair.fix(&error) {
            break;
        }
    }
    // The first round had no repair to blame, so an error is recorded.
    None
}

/// Spans from here up are made up for placeholders; no file is this long.
const PLACEHOLDER_SPANS: usize = usize::MAX / 2;

/// A section being repaired so that deserializing it again gets past the
/// error just reported and on to the next one.
///
/// An error is placed by its span: a key's span for an unknown field, a
/// value's for a wrong type, a table's for a missing field. A bad key or
/// array item is taken out; a missing field gets a placeholder value, tried
/// in each TOML type until one is accepted, so the fields after it are
/// checked too. Errors that only follow from these repairs (the field just
/// taken out is now missing, an array of tables read as a table is now too
/// short, a placeholder has the wrong type) are not reported.
struct Repair<'i> {
    value: Spanned<DeValue<'i>>,
    /// Keys taken out, with the span of the table they were in.
    removed: Vec<(Range<usize>, String)>,
    /// Spans of the arrays items were taken out of.
    shrunk: Vec<Range<usize>>,
    /// Placeholders by the start of their span, with the shape they have.
    placeholders: Vec<(usize, usize)>,
}

/// A step from a table or an array down to one of its values.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

impl<'i> Repair<'i> {
    fn new(value: Spanned<DeValue<'i>>) -> Self {
        Repair {
            value,
            removed: Vec::new(),
            shrunk: Vec::new(),
            placeholders: Vec::new(),
        }
    }

    /// True when `error` only follows from an earlier repair.
    fn caused(&self, error: &toml::de::Error) -> bool {
        let Some(span) = error.span() else {
            return false;
        };
        if span.start >= PLACEHOLDER_SPANS {
            return true;
        }
        if error.message().starts_with("invalid length") && self.shrunk.contains(&span) {
            return true;
        }
        missing_field(error).is_some_and(|field| {
            self.removed
                .iter()
                .any(|(table, key)| *table == span && key == field)
        })
    }

    /// Change the section so that `error` does not come back; false when
    /// it cannot be placed, so the section is given up.
    fn fix(&mut self, error: &toml::de::Error) -> bool {
        let Some(span) = error.span() else {
            return false;
        };
        if let Some(field) = missing_field(error) {
            return self.fill(&span, field);
        }
        if span.start >= PLACEHOLDER_SPANS {
            return self.reshape(&span);
        }
        self.take_out(&span)
    }

    /// Give the table at `span` a placeholder for `field`.
    fn fill(&mut self, span: &Range<usize>, field: &str) -> bool {
        let Some(path) = nodes(&self.value)
            .into_iter()
            .filter(|node| node.value.span() == *span)
            .filter(|node| {
                matches!(node.value.get_ref(), DeValue::Table(table) if !table.contains_key(field))
            })
            .max_by_key(|node| node.path.len())
            .map(|node| node.path)
        else {
            return false;
        };
        let start = PLACEHOLDER_SPANS + self.placeholders.len();
        let Some(DeValue::Table(table)) = node_mut(&mut self.value, &path).map(Spanned::get_mut)
        else {
            return false;
        };
        table.insert(
            Spanned::new(start..start, Cow::Owned(field.to_string())),
            Spanned::new(start..start, placeholder_shape(0)),
        );
        self.placeholders.push((start, 0));
        true
    }

    /// Give the placeholder at `span` the next shape, if one is left.
    fn reshape(&mut self, span: &Range<usize>) -> bool {
        let Some((_, shape)) = self
            .placeholders
            .iter_mut()
            .find(|(start, _)| *start == span.start)
        else {
            return false;
        };
        *shape += 1;
        if *shape >= PLACEHOLDER_SHAPES {
            return false;
        }
        let value = placeholder_shape(*shape);
        let Some(path) = nodes(&self.value)
            .into_iter()
            .find(|node| !node.path.is_empty() && node.value.span() == *span)
            .map(|node| node.path)
        else {
            return false;
        };
        match node_mut(&mut self.value, &path) {
            Some(node) => {
                *node = Spanned::new(span.clone(), value);
                true
            }
            None => false,
        }
    }

    /// Take out the key or array item that `span` points at: the smallest
    /// one whose key or value holds the span, the deepest on a tie (an
    /// array of tables has the span of its first table, and an error there
    /// is more often about that table).
    fn take_out(&mut self, span: &Range<usize>) -> bool {
        let holds = |outer: &Range<usize>| outer.start <= span.start && span.end <= outer.end;
        let Some(mut path) = nodes(&self.value)
            .into_iter()
            .filter(|node| !node.path.is_empty())
            .filter_map(|node| {
                let size = [node.key.clone(), Some(node.value.span())]
                    .into_iter()
                    .flatten()
                    .filter(holds)
                    .map(|outer| outer.len())
                    .min()?;
                Some((size, Reverse(node.path.len()), node.path))
            })
            .min_by_key(|(size, depth, _)| (*size, *depth))
            .map(|(_, _, path)| path)
        else {
            return false;
        };
        let Some(last) = path.pop() else {
            return false;
        };
        let Some(parent) = node_mut(&mut self.value, &path) else {
            return false;
        };
        let parent_span = parent.span();
        match (parent.get_mut(), last) {
            (DeValue::Table(table), Step::Key(key)) => {
                table.remove(key.as_str());
                self.removed.push((parent_span, key));
                true
            }
            (DeValue::Array(array), Step::Index(index)) => {
                let items = std::mem::replace(array, DeArray::new());
                *array = items
                    .into_iter()
                    .enumerate()
                    .filter(|(at, _)| *at != index)
                    .map(|(_, item)| item)
                    .collect();
                self.shrunk.push(parent_span);
                true
            }
            _ => false,
        }
    }
}

/// The field a "missing field" error names.
fn missing_field(error: &toml::de::Error) -> Option<&str> {
    error
        .message()
        .strip_prefix("missing field `")?
        .strip_suffix('`')
}

/// How many shapes a placeholder can take: see [`placeholder_shape`].
const PLACEHOLDER_SHAPES: usize = 6;

/// A placeholder value of each TOML type, in the order they are tried.
fn placeholder_shape(index: usize) -> DeValue<'static> {
    match index {
        0 => DeValue::String(Cow::Borrowed("")),
        1 => DeValue::Integer(Default::default()),
        2 => DeValue::Float(Default::default()),
        3 => DeValue::Boolean(false),
        4 => DeValue::Table(DeTable::new()),
        _ => DeValue::Array(DeArray::new()),
    }
}

/// A value somewhere in a section, as a candidate for what an error is
/// about.
struct Node<'v, 'i> {
    /// From the section down to the value; empty for the section itself.
    path: Vec<Step>,
    /// The span of its key, when it is a value in a table.
    key: Option<Range<usize>>,
    value: &'v Spanned<DeValue<'i>>,
}

/// `value` and every value under it, shallowest first.
fn nodes<'v, 'i>(value: &'v Spanned<DeValue<'i>>) -> Vec<Node<'v, 'i>> {
    let mut found = vec![Node {
        path: Vec::new(),
        key: None,
        value,
    }];
    let mut next = 0;
    while let Some(node) = found.get(next) {
        let (path, value) = (node.path.clone(), node.value);
        next += 1;
        let child = |step: Step, key, value| {
            let mut path = path.clone();
            path.push(step);
            Node { path, key, value }
        };
        match value.get_ref() {
            DeValue::Table(table) => found.extend(table.iter().map(|(key, value)| {
                child(
                    Step::Key(key.get_ref().to_string()),
                    Some(key.span()),
                    value,
                )
            })),
            DeValue::Array(array) => found.extend(
                array
                    .iter()
                    .enumerate()
                    .map(|(index, value)| child(Step::Index(index), None, value)),
            ),
            _ => {}
        }
    }
    found
}

/// The value at `path` under `value`.
fn node_mut<'v, 'i>(
    mut value: &'v mut Spanned<DeValue<'i>>,
    path: &[Step],
) -> Option<&'v mut Spanned<DeValue<'i>>> {
    for step in path {
        value = match (value.get_mut(), step) {
            (DeValue::Table(table), Step::Key(key)) => table.get_mut(key.as_str())?,
            (DeValue::Array(array), Step::Index(index)) => array.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(value)
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
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
    ] {
        if let Some(stripped) = message.strip_suffix(rust) {
            message = format!("{stripped}{toml}");
        }
    }
    if let Some((stripped, name)) = message.rsplit_once("expected struct ")
        && name.chars().all(|c| c.is_ascii_alphanumeric())
    {
        message = format!("{stripped}expected a table");
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
