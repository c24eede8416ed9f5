//! The plugin conformance harness: proves, before any campaign runs a
//! plugin, that it honours the contract of its kind.
//!
//! [`run`] loads a plugin through the [`PluginHost`], detects its kind from
//! the world it exports, runs the built-in suite for that kind and then the
//! author's own cases (a folder per case, see `tests/conformance/README.md`),
//! and reports every check with the input that failed, what was expected,
//! and the latency and memory of the calls it made. [`Report::write_failures`]
//! writes each failing input back as a case folder. `outdial plugin test`
//! is these functions with a printer; tests call them directly.

mod adapter;
mod case;
mod check;
mod classifier;
mod gate;
mod replay;
mod report;
mod retry;
mod shape;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use case::CaseSetError;
pub use check::{CheckReport, Failure, Origin};
pub use replay::{CaseFiles, WriteError, fresh_dir as fresh_failures_dir};
pub use report::Format;

use crate::plugin_host::{
    LoadError, PluginHost, PluginInfo, PluginKind, PluginLimits, PluginSource, import_is_offered,
};
use case::{CaseSet, PluginConfig};
use check::Check;

/// What to run a plugin against.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The author's cases: a folder of case folders, with an optional
    /// `config.json` holding the plugin config every check runs with.
    pub cases: Option<PathBuf>,
    /// The limits every call runs under, as a campaign would set them.
    pub limits: PluginLimits,
}

/// Everything a run found out.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The plugin as given: a file path or a builtin name.
    pub plugin: String,
    /// The plugin's own name, when it could describe itself.
    pub name: Option<String>,
    pub version: Option<String>,
    pub kind: Option<PluginKind>,
    pub sha256: Option<String>,
    pub cpu_ms: u64,
    pub memory_bytes: usize,
    pub checks: Vec<CheckReport>,
    /// Where [`Report::write_failures`] wrote the failing inputs as cases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures_dir: Option<PathBuf>,
    /// The config the built-in checks ran with, written beside the failing
    /// cases; never printed, as it may hold a signing key.
    #[serde(skip)]
    suite_config: PluginConfig,
}

impl Report {
    /// True when every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(CheckReport::passed)
    }

    /// How many checks failed.
    pub fn failures(&self) -> usize {
        self.checks.iter().filter(|check| !check.passed()).count()
    }

    /// The check with this id.
    pub fn check(&self, id: &str) -> Option<&CheckReport> {
        self.checks.iter().find(|check| check.id == id)
    }

    /// The report in `format`.
    pub fn render(&self, format: Format) -> String {
        report::render(self, format)
    }

    /// How many failed checks have an input to write as a case.
    pub fn failing_inputs(&self) -> usize {
        self.failing_cases().count()
    }

    /// Write every failing input as a case folder under `dir` (named after
    /// its check, with `input.json`, `expected.json` and `config.json`),
    /// and the suite's `config.json` beside them, so `--cases dir` runs
    /// them again. Writes nothing when no failure has an input; the text
    /// report names `dir` once something was written.
    pub fn write_failures(&mut self, dir: &Path) -> Result<(), WriteError> {
        let cases: Vec<(&str, &CaseFiles)> = self.failing_cases().collect();
        if cases.is_empty() {
            return Ok(());
        }
        replay::write(dir, &self.suite_config, &cases)?;
        self.failures_dir = Some(dir.to_path_buf());
        Ok(())
    }

    fn failing_cases(&self) -> impl Iterator<Item = (&str, &CaseFiles)> {
        self.checks.iter().filter_map(|check| {
            let case = check.failure.as_ref()?.case.as_deref()?;
            Some((check.id.as_str(), case))
        })
    }
}

/// Run the built-in suite for the plugin's kind and the author's cases.
/// Only a cases directory that cannot be read at all is an error; every
/// problem with the plugin or a single case is a failed check.
pub fn run(
    host: &PluginHost,
    source: &PluginSource,
    options: &Options,
) -> Result<Report, CaseSetError> {
    let cases = match &options.cases {
        Some(dir) => CaseSet::load(dir)?,
        None => CaseSet::default(),
    };
    let mut report = Report {
        plugin: source.display_name(),
        name: None,
        version: None,
        kind: None,
        sha256: None,
        cpu_ms: options.limits.cpu_ms,
        memory_bytes: options.limits.memory_bytes,
        checks: Vec::new(),
        failures_dir: None,
        suite_config: cases.config.clone(),
    };
    let info = match host.inspect(source) {
        Ok(info) => info,
        Err(err) => {
            report.checks.push(refused_at_load(&err));
            return Ok(report);
        }
    };
    report.name = Some(info.name.clone());
    report.version = Some(info.version.clone());
    report.kind = Some(info.kind);
    report.sha256 = Some(info.sha256.clone());
    report.checks.push(world_check());
    report.checks.push(imports_check(&info));
    report.checks.push(metadata_check(&info));
    let suite = Suite {
        host,
        source,
        limits: options.limits,
        cases: &cases,
    };
    report.checks.extend(match info.kind {
        PluginKind::RetryStrategy => retry::run(&suite),
        PluginKind::DispositionClassifier => classifier::run(&suite, &info),
        PluginKind::ProviderAdapter => adapter::run(&suite),
        PluginKind::DialGate => gate::run(&suite),
    });
    for check in &mut report.checks {
        if let Some(failing) = check.failure.as_mut().and_then(|f| f.case.as_mut()) {
            failing.config = config_of_check(&cases, &check.id).clone();
        }
    }
    Ok(report)
}

/// The config a check ran with: an author's case's own, or the set's.
fn config_of_check<'a>(set: &'a CaseSet, id: &str) -> &'a PluginConfig {
    id.strip_prefix("case:")
        .and_then(|name| set.cases.iter().find(|case| case.name == name))
        .map_or(&set.config, |case| config_of(set, case))
}

/// A built-in check of a kind whose checks are a table: its id, its
/// title, and its body, run on the plugin.
pub(crate) type CheckBody<P> = (
    &'static str,
    &'static str,
    fn(&P, &mut Check) -> Result<(), Failure>,
);

/// What a kind's suite runs with.
pub(crate) struct Suite<'a> {
    pub(crate) host: &'a PluginHost,
    pub(crate) source: &'a PluginSource,
    pub(crate) limits: PluginLimits,
    pub(crate) cases: &'a CaseSet,
}

impl Suite<'_> {
    /// Load the plugin with `config` through `load`, as the `config` check:
    /// the suite's config must be accepted.
    pub(crate) fn load<P>(
        &self,
        config: &PluginConfig,
        load: impl FnOnce(
            &PluginHost,
            &PluginSource,
            &PluginConfig,
            PluginLimits,
        ) -> Result<P, LoadError>,
    ) -> Result<P, Failure> {
        load(self.host, self.source, config, self.limits).map_err(|err| {
            let hint = if self.cases.config.is_empty() {
                " (give the plugin's config in config.json of the cases directory)"
            } else {
                ""
            };
            Failure::new(format!(
                "the plugin did not load with the suite's config: {err}{hint}"
            ))
            .expected("the config in config.json accepted")
            .found(err.to_string())
        })
    }

    /// A kind whose built-in checks are a table: the config check (the
    /// plugin loads with the suite's config), each check of `checks` on
    /// that instance, then each of the author's cases.
    pub(crate) fn run_table<P>(
        &self,
        load: impl FnOnce(
            &PluginHost,
            &PluginSource,
            &PluginConfig,
            PluginLimits,
        ) -> Result<P, LoadError>,
        checks: &[CheckBody<P>],
        run_case: fn(&Suite<'_>, &P, &case::Case) -> CheckReport,
    ) -> Vec<CheckReport> {
        let config = Check::built_in("config", "loads and configures with the suite's config");
        let plugin = match self.load(&self.cases.config, load) {
            Ok(plugin) => plugin,
            Err(failure) => return vec![config.finish(Err(failure))],
        };
        let mut reports = vec![config.finish(Ok(()))];
        for (id, title, body) in checks {
            let mut check = Check::built_in(id, title);
            let outcome = body(&plugin, &mut check);
            reports.push(check.finish(outcome));
        }
        for case in &self.cases.cases {
            reports.push(run_case(self, &plugin, case));
        }
        reports
    }

    /// The plugin loaded with a case's own config, when the case has one;
    /// `None` when the suite's instance serves the case.
    pub(crate) fn load_for_case<P>(
        &self,
        case: &case::Case,
        load: impl FnOnce(
            &PluginHost,
            &PluginSource,
            &PluginConfig,
            PluginLimits,
        ) -> Result<P, LoadError>,
    ) -> Result<Option<P>, Failure> {
        match &case.config {
            Some(config) => self.load(config, load).map(Some),
            None => Ok(None),
        }
    }
}

/// The check a load failure belongs to, failed with the host's message.
fn refused_at_load(err: &LoadError) -> CheckReport {
    let (id, title) = match err {
        LoadError::ForbiddenImport { .. } => ("imports", "imports only what the host offers"),
        LoadError::Describe { .. } => (
            "metadata",
            "metadata and declared config are present and consistent",
        ),
        _ => (
            "world",
            "is a component of a supported plugin world and WIT version",
        ),
    };
    Check::built_in(id, title).finish(Err(Failure::new(err.to_string())))
}

/// The host checked world and version while loading; reaching here is the pass.
fn world_check() -> CheckReport {
    Check::built_in(
        "world",
        "is a component of a supported plugin world and WIT version",
    )
    .finish(Ok(()))
}

fn imports_check(info: &PluginInfo) -> CheckReport {
    let check = Check::built_in("imports", "imports only what the host offers");
    let outcome = match info
        .imports
        .iter()
        .find(|import| !import_is_offered(import))
    {
        Some(import) => Err(Failure::new(format!(
            "it imports \"{import}\", which outdial does not provide"
        ))),
        None => Ok(()),
    };
    check.finish(outcome)
}

fn metadata_check(info: &PluginInfo) -> CheckReport {
    let check = Check::built_in(
        "metadata",
        "metadata and declared config are present and consistent",
    );
    check.finish(metadata_problems(info).map_err(|problem| {
        Failure::new(problem)
            .found(serde_json::to_string(&MetadataView::of(info)).unwrap_or_default())
    }))
}

/// The metadata a plugin declared, as shown in a failure.
#[derive(Serialize)]
struct MetadataView<'a> {
    name: &'a str,
    version: &'a str,
    config_keys: Vec<&'a str>,
    labels: &'a [String],
}

impl<'a> MetadataView<'a> {
    fn of(info: &'a PluginInfo) -> Self {
        MetadataView {
            name: &info.name,
            version: &info.version,
            config_keys: info
                .config_keys
                .iter()
                .map(|key| key.name.as_str())
                .collect(),
            labels: &info.labels,
        }
    }
}

fn metadata_problems(info: &PluginInfo) -> Result<(), String> {
    if !is_identifier(&info.name) {
        return Err(format!(
            "name \"{}\" is not a plugin name: use lowercase letters, digits, - and _",
            info.name
        ));
    }
    if !is_semver(&info.version) {
        return Err(format!(
            "version \"{}\" is not a semantic version such as 1.2.0",
            info.version
        ));
    }
    for (index, key) in info.config_keys.iter().enumerate() {
        if !is_identifier(&key.name) {
            return Err(format!(
                "config key \"{}\" is not a key name: use lowercase letters, digits, - and _",
                key.name
            ));
        }
        if key.description.trim().is_empty() {
            return Err(format!(
                "config key \"{}\" has no description: say what it does, its unit and default",
                key.name
            ));
        }
        if info.config_keys[..index]
            .iter()
            .any(|earlier| earlier.name == key.name)
        {
            return Err(format!("config key \"{}\" is declared twice", key.name));
        }
    }
    match info.kind {
        PluginKind::DispositionClassifier => {
            if info.labels.is_empty() {
                return Err(
                    "a classifier must declare every label it may return (Metadata::labels)"
                        .to_string(),
                );
            }
            for (index, label) in info.labels.iter().enumerate() {
                if !is_identifier(label) {
                    return Err(format!("label \"{label}\" is not snake_case"));
                }
                if info.labels[..index].contains(label) {
                    return Err(format!("label \"{label}\" is declared twice"));
                }
            }
        }
        _ if !info.labels.is_empty() => {
            return Err(format!(
                "a {} declares labels ({}); only classifiers return labels",
                info.kind,
                info.labels.join(", ")
            ));
        }
        _ => {}
    }
    Ok(())
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn is_semver(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
}

/// The config a case runs with: its own, or the set's.
pub(crate) fn config_of<'a>(set: &'a CaseSet, case: &'a case::Case) -> &'a PluginConfig {
    case.config.as_ref().unwrap_or(&set.config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_must_be_semantic() {
        assert!(is_semver("0.1.0"));
        assert!(is_semver("1.20.3-beta.1"));
        assert!(!is_semver("1.0"));
        assert!(!is_semver("v1.0.0"));
    }
}
