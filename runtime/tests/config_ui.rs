//! Snapshot tests of error output: every `tests/ui/invalid/*.toml` and
//! `tests/ui/csv/*.csv` is checked against the `.err` file beside it.
//! Run with `OUTDIAL_BLESS=1` to rewrite the `.err` files after an
//! intended change to the messages, then review the diff.

#[path = "ui/catalog.rs"]
mod catalog;

use std::fs::File;
use std::path::{Path, PathBuf};

use outdial::config::{Config, validate};
use outdial::import::{ImportMode, ImportOptions, import_csv};

fn cases(dir: &str, extension: &str) -> Vec<PathBuf> {
    // Relative paths, so messages print as `tests/ui/...` on any machine:
    // cargo runs integration tests from the package directory.
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("cannot list {dir}: {err}"))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .collect();
    cases.sort();
    cases
}

/// Compare `actual` with the `.err` file of `case`, or rewrite it when
/// blessing. Returns a description of the mismatch, if any.
fn check_snapshot(case: &Path, actual: &str) -> Option<String> {
    let expected_path = case.with_extension("err");
    let actual = format!("{}\n", actual.trim_end());
    if std::env::var("OUTDIAL_BLESS").is_ok_and(|value| value == "1") {
        std::fs::write(&expected_path, &actual).expect("write snapshot");
        return None;
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    (expected != actual).then(|| {
        format!(
            "{}:\n--- expected ({})\n{expected}--- actual\n{actual}",
            case.display(),
            expected_path.display()
        )
    })
}

fn config_output(case: &Path) -> String {
    match Config::load(case) {
        Err(err) => err.to_string(),
        Ok(config) => match validate(&config, &catalog::TestCatalog) {
            Err(found) => found.to_string(),
            Ok(()) => "this config is valid, expected it to be refused".to_string(),
        },
    }
}

fn csv_output(case: &Path) -> String {
    // Small limits so the limit cases stay small files.
    let mut options = ImportOptions::new(ImportMode::Strict)
        .with_default_country("US")
        .expect("US is a country");
    options.max_rows = 20;
    options.max_field_bytes = 64;
    let file = File::open(case).expect("open case");
    match import_csv(file, &options) {
        Err(err) => err.to_string(),
        Ok(report) => format!(
            "this file was accepted with {} contacts, expected it to be refused",
            report.contacts.len()
        ),
    }
}

fn run(dir: &str, extension: &str, output: fn(&Path) -> String, at_least: usize) {
    let cases = cases(dir, extension);
    assert!(
        cases.len() >= at_least,
        "expected at least {at_least} cases in {dir}, found {}",
        cases.len()
    );
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check_snapshot(case, &output(case)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} snapshots differ (OUTDIAL_BLESS=1 rewrites them):\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_invalid_config_is_refused_with_the_expected_messages() {
    run("tests/ui/invalid", "toml", config_output, 12);
}

#[test]
fn every_bad_contact_file_is_refused_with_the_expected_messages() {
    run("tests/ui/csv", "csv", csv_output, 6);
}
