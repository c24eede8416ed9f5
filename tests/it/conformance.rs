//! The conformance harness: first-party plugins and the example pass,
//! every hostile fixture fails with a reason a plugin author understands,
//! adapters are held to their recorded webhooks, the text report gives a
//! short account of each failure and writes its input as a case that fails
//! again, and the JUnit report loads in a JUnit parser.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use outdial::conformance::{self, Format, Options, Origin, Report};
use outdial::plugin_host::{PluginHost, PluginLimits, PluginSource};
use outdial_tests::fixtures;

fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| PluginHost::new().expect("the plugin host starts"))
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

fn run(source: PluginSource, cases: Option<PathBuf>) -> Report {
    run_with_limits(source, cases, PluginLimits::default())
}

fn run_with_limits(source: PluginSource, cases: Option<PathBuf>, limits: PluginLimits) -> Report {
    let options = Options { cases, limits };
    conformance::run(host(), &source, &options).expect("the cases directory reads")
}

fn fixture(path: &str) -> Report {
    run(PluginSource::File(path.into()), None)
}

fn adapter_cases() -> PathBuf {
    workspace().join("tests/fixtures/adapter/conformance")
}

/// The reason the check `id` failed, failing the test if it passed.
fn reason(report: &Report, id: &str) -> String {
    let check = report
        .check(id)
        .unwrap_or_else(|| panic!("no check {id} in {}", report.render(Format::Text)));
    let failure = check
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("check {id} passed: {}", report.render(Format::Text)));
    failure.reason.clone()
}

fn assert_passes(report: &Report) {
    assert!(report.passed(), "{}", report.render(Format::Text));
}

#[test]
fn every_first_party_plugin_passes_its_built_in_suite_and_its_own_cases() {
    for name in ["retry-backoff", "retry-schedule", "classify-rules"] {
        let cases = workspace().join("plugins").join(name).join("conformance");
        let report = run(PluginSource::Builtin(name.to_string()), Some(cases));
        assert_passes(&report);
        let own_cases = report
            .checks
            .iter()
            .filter(|check| check.id.starts_with("case:"))
            .count();
        assert!(own_cases >= 5, "{name} ships {own_cases} cases");
        assert!(
            report
                .check("deterministic")
                .is_some_and(|check| check.calls > 10)
        );
    }
    // The adapters' cases hold recorded, validly signed webhooks: the
    // tampering and replay checks run on them.
    for name in ["provider-twilio", "provider-voiceai"] {
        let cases = workspace().join("plugins").join(name).join("conformance");
        let report = run(PluginSource::Builtin(name.to_string()), Some(cases));
        assert_passes(&report);
        let own_cases = report
            .checks
            .iter()
            .filter(|check| check.id.starts_with("case:"))
            .count();
        assert!(own_cases >= 5, "{name} ships {own_cases} cases");
        for built_in in [
            "place-call-e164",
            "malformed-number",
            "tampered-signature",
            "duplicates-and-reordering",
        ] {
            assert!(
                report.check(built_in).is_some_and(|check| check.calls > 0),
                "{name}: {built_in} did not run"
            );
        }
    }
}

#[test]
fn a_plugin_that_traps_fails_with_its_panic_message() {
    let report = fixture(fixtures::TRAP);
    let reason = reason(&report, "every-outcome");
    assert!(
        reason.starts_with(
            "after a busy attempt (attempt 1 of 5): plugin fixture-trap trapped: panicked"
        ),
        "{reason}"
    );
    assert!(
        reason.contains("deliberate failure deciding on conformance-contact"),
        "{reason}"
    );
}

#[test]
fn a_plugin_that_loops_forever_fails_at_its_cpu_deadline() {
    let report = fixture(fixtures::ENDLESS_LOOP);
    assert!(
        reason(&report, "limits")
            .ends_with("plugin fixture-endless-loop exceeded its CPU deadline of 50 ms"),
        "{}",
        reason(&report, "limits")
    );
    assert!(!report.passed());
}

#[test]
fn a_plugin_that_allocates_without_bound_fails_at_its_memory_cap_and_shows_its_peak() {
    // The deadline is the other limit: on a busy machine, filling 32 MiB
    // page by page can take longer than the default 50 ms of wall time.
    let limits = PluginLimits {
        cpu_ms: 5_000,
        ..PluginLimits::default()
    };
    let report = run_with_limits(
        PluginSource::File(fixtures::MEMORY_BOMB.into()),
        None,
        limits,
    );
    let reason = reason(&report, "every-outcome");
    assert!(
        reason.ends_with("plugin fixture-memory-bomb exceeded its memory limit of 33554432 bytes"),
        "{reason}"
    );
    let peak = report
        .check("every-outcome")
        .and_then(|check| check.peak_memory_bytes)
        .expect("measured");
    assert!(peak > 16 << 20 && peak <= 32 << 20, "peak {peak}");
}

#[test]
fn a_plugin_built_for_a_future_wit_version_fails_the_world_check() {
    let report = fixture(fixtures::FUTURE_VERSION);
    let reason = reason(&report, "world");
    assert!(reason.contains("exports \"outdial:plugin/retry@0.9.0\", a plugin world version this outdial does not support"), "{reason}");
    assert_eq!(report.checks.len(), 1, "nothing else can run");
}

#[test]
fn a_plugin_that_reads_a_file_fails_because_it_gets_none() {
    let reason = reason(&fixture(fixtures::READS_FILE), "every-outcome");
    assert!(
        reason.contains("plugin fixture-reads-file returned an error: cannot open /etc/hostname"),
        "{reason}"
    );
}

#[test]
fn a_plugin_that_reads_the_environment_fails_because_it_sees_none() {
    let reason = reason(&fixture(fixtures::READS_ENV), "every-outcome");
    assert!(
        reason.contains(
            "OUTDIAL_FIXTURE_SECRET: environment variable not found; 0 variables visible"
        ),
        "{reason}"
    );
}

#[test]
fn a_plugin_that_wants_a_socket_fails_the_imports_check() {
    let reason = reason(&fixture(fixtures::OPENS_SOCKET), "imports");
    assert!(reason.contains("imports \"wasi:sockets/"), "{reason}");
    assert!(
        reason.contains("which outdial does not provide"),
        "{reason}"
    );
}

#[test]
fn a_plugin_whose_answer_depends_on_std_randomness_is_caught_as_nondeterministic() {
    let report = fixture(fixtures::READS_CLOCK);
    let reason = reason(&report, "deterministic");
    assert!(
        reason.starts_with("equal inputs got different answers after a busy attempt"),
        "{reason}"
    );
    // Its clock reads are the decision time, so only determinism fails.
    assert_eq!(report.failures(), 1, "{}", report.render(Format::Text));
}

#[test]
fn a_plugin_that_keeps_hidden_state_is_caught_as_nondeterministic() {
    let report = fixture(fixtures::HIDDEN_STATE);
    let reason = reason(&report, "deterministic");
    assert!(reason.contains("a fresh instance said retry at 2026-03-02T15:01:00Z (now+1m), then a warm instance said retry at"), "{reason}");
    assert!(
        reason.contains("a plugin must keep no state between calls"),
        "{reason}"
    );
    let reason = self::reason(&report, "gives-up-at-max-attempts");
    assert!(
        reason.contains("wants another call after 1 of 1 attempts"),
        "{reason}"
    );
}

#[test]
fn the_adapter_fixture_passes_the_adapter_suite_and_reads_its_recorded_webhooks() {
    let report = run(
        PluginSource::File(fixtures::ADAPTER.into()),
        Some(adapter_cases()),
    );
    assert_passes(&report);
    for id in [
        "place-call-e164",
        "malformed-number",
        "webhook-fixtures",
        "tampered-signature",
        "duplicates-and-reordering",
        "case:webhook-answered-by-a-person",
    ] {
        assert!(report.check(id).is_some(), "{id} ran");
    }
}

/// A copy of the adapter fixture's cases with another config.json.
fn adapter_cases_with(config: &str, keep_cases: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("config.json"), config).expect("write config");
    if keep_cases {
        for entry in std::fs::read_dir(adapter_cases()).expect("cases").flatten() {
            if entry.path().is_dir() {
                let target = dir.path().join(entry.file_name());
                std::fs::create_dir(&target).expect("case dir");
                for file in std::fs::read_dir(entry.path()).expect("case").flatten() {
                    std::fs::copy(file.path(), target.join(file.file_name())).expect("copy");
                }
            }
        }
    }
    dir
}

#[test]
fn an_adapter_that_skips_signature_checks_fails_the_tampered_signature_check() {
    let cases = adapter_cases_with(
        r#"{"account": "AC-conformance", "signing_key": "whsec-conformance", "skip_signature_check": "true"}"#,
        true,
    );
    let report = run(
        PluginSource::File(fixtures::ADAPTER.into()),
        Some(cases.path().to_path_buf()),
    );
    let reason = reason(&report, "tampered-signature");
    assert!(
        reason.starts_with("case webhook-answered-by-a-person with byte"),
        "{reason}"
    );
    assert!(
        reason.ends_with("the tampered webhook was not rejected as bad-signature"),
        "{reason}"
    );
    assert!(report.check("place-call-e164").expect("ran").passed());
}

#[test]
fn an_adapter_without_recorded_webhooks_is_told_to_add_them() {
    let cases = adapter_cases_with(r#"{"account": "AC-1", "signing_key": "k"}"#, false);
    let report = run(
        PluginSource::File(fixtures::ADAPTER.into()),
        Some(cases.path().to_path_buf()),
    );
    assert!(reason(&report, "webhook-fixtures").starts_with("no recorded webhook among the cases"));
    assert!(
        report
            .check("malformed-number")
            .is_some_and(|check| check.passed())
    );
}

#[test]
fn an_adapter_without_its_required_config_fails_the_config_check() {
    let report = run(PluginSource::File(fixtures::ADAPTER.into()), None);
    let reason = reason(&report, "config");
    assert!(
        reason.contains("plugin fixture-adapter requires config key \"account\""),
        "{reason}"
    );
    assert!(
        reason.contains("give the plugin's config in config.json of the cases directory"),
        "{reason}"
    );
}

#[test]
fn a_case_whose_answer_differs_shows_where_with_the_input_and_both_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let case = dir.path().join("busy-waits-eleven-minutes");
    std::fs::create_dir(&case).expect("case dir");
    std::fs::write(
        case.join("input.json"),
        r#"{"history": [{"outcome": "busy"}], "max_attempts": 5}"#,
    )
    .expect("input");
    std::fs::write(case.join("expected.json"), r#"{"retry_at": "now+11m"}"#).expect("expected");
    let report = run(
        PluginSource::Builtin("retry-schedule".to_string()),
        Some(dir.path().to_path_buf()),
    );
    let check = report.check("case:busy-waits-eleven-minutes").expect("ran");
    let failure = check.failure.as_ref().expect("fails");
    assert_eq!(
        failure.reason,
        "the answer differs from expected.json at retry_at: expected 2026-03-02T15:11:00Z (1772464260000), found 2026-03-02T15:10:00Z (1772464200000)"
    );
    assert_eq!(
        failure.expected.as_deref(),
        Some(r#"{"retry_at":"now+11m"}"#)
    );
    assert_eq!(
        failure.found.as_deref(),
        Some(r#"{"retry_at":"2026-03-02T15:10:00Z"}"#)
    );
    assert!(
        failure
            .input
            .as_ref()
            .is_some_and(|input| input["history"][0]["outcome"] == "busy")
    );
    assert_eq!(report.failures(), 1);
}

#[test]
fn a_case_file_with_a_typo_fails_naming_the_file_and_the_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let case = dir.path().join("typo");
    std::fs::create_dir(&case).expect("case dir");
    std::fs::write(case.join("input.json"), r#"{"histroy": []}"#).expect("input");
    std::fs::write(case.join("expected.json"), r#"{"give_up": "x"}"#).expect("expected");
    let report = run(
        PluginSource::Builtin("retry-backoff".to_string()),
        Some(dir.path().to_path_buf()),
    );
    let reason = reason(&report, "case:typo");
    assert!(
        reason.contains("typo/input.json: unknown field `histroy`, expected one of"),
        "{reason}"
    );
}

#[test]
fn junit_output_loads_in_a_junit_parser_with_one_test_case_per_check() {
    let report = fixture(fixtures::HIDDEN_STATE);
    let xml = report.render(Format::Junit);
    let parsed =
        junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes())).expect("valid JUnit XML");
    assert_eq!(parsed.suites.len(), 1);
    let suite = &parsed.suites[0];
    assert_eq!(suite.name, "fixture-hidden-state 0.1.0 (retry-strategy)");
    assert_eq!(suite.tests as usize, report.checks.len());
    assert_eq!(suite.failures as usize, report.failures());
    assert_eq!(suite.cases.len(), report.checks.len());
    let failed: Vec<&str> = suite
        .cases
        .iter()
        .filter(|case| matches!(case.status, junit_parser::TestStatus::Failure(_)))
        .map(|case| case.original_name.as_str())
        .collect();
    let expected: Vec<&str> = report
        .checks
        .iter()
        .filter(|check| !check.passed())
        .map(|check| check.id.as_str())
        .collect();
    assert_eq!(failed, expected);
    assert!(failed.contains(&"deterministic"));
    let junit_parser::TestStatus::Failure(failure) = &suite
        .cases
        .iter()
        .find(|case| case.original_name == "deterministic")
        .expect("present")
        .status
    else {
        unreachable!("filtered above")
    };
    assert!(
        failure
            .message
            .starts_with("equal inputs got different answers"),
        "{}",
        failure.message
    );
    assert!(failure.text.contains("input: {"), "{}", failure.text);
}

/// The longest line the text report may print: a failure is an account to
/// read, its input goes to a case folder.
const LINE_BOUND: usize = 300;

fn assert_lines_within_bound(text: &str) {
    for line in text.lines() {
        let chars = line.chars().count();
        assert!(
            chars <= LINE_BOUND,
            "a line of {chars} characters: {}…",
            line.chars().take(160).collect::<String>()
        );
    }
}

/// The lines the text report prints for the check `id`.
fn account<'a>(text: &'a str, id: &str) -> Vec<&'a str> {
    let mut lines = text
        .lines()
        .skip_while(|line| !line.starts_with(&format!("FAIL  {id} ")));
    let head = lines
        .next()
        .unwrap_or_else(|| panic!("no failure of {id} in {text}"));
    std::iter::once(head)
        .chain(lines.take_while(|line| line.starts_with("      ")))
        .collect()
}

fn has_line(account: &[&str], line: &str) -> bool {
    account.iter().any(|shown| shown.starts_with(line))
}

#[test]
fn a_failure_on_a_fifty_attempt_history_reads_as_a_short_account_with_the_input_shape() {
    let report = fixture(fixtures::HIDDEN_STATE);
    let text = report.render(Format::Text);
    assert_lines_within_bound(&text);
    let account = account(&text, "long-history");
    assert!(
        has_line(
            &account,
            "      input:    50 attempts (last answered by human), max 50, Europe/Berlin, now 2026-03-02T15:00:00Z"
        ),
        "{account:#?}"
    );
    assert!(
        has_line(&account, "      expected: give up"),
        "{account:#?}"
    );
    assert!(
        has_line(&account, "      found:    retry at 2026-03-"),
        "{account:#?}"
    );
    // The JSON report keeps the whole input, for tools.
    let json: serde_json::Value =
        serde_json::from_str(&report.render(Format::Json)).expect("JSON report");
    let check = json["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|check| check["id"] == "long-history"))
        .expect("long-history reported");
    assert_eq!(
        check["failure"]["input"]["history"]
            .as_array()
            .map(Vec::len),
        Some(50)
    );
}

#[test]
fn no_text_line_runs_long_whatever_the_plugin_fails_on() {
    let cases = adapter_cases_with(
        r#"{"account": "AC-conformance", "signing_key": "whsec-conformance", "skip_signature_check": "true"}"#,
        true,
    );
    let adapter = run(
        PluginSource::File(fixtures::ADAPTER.into()),
        Some(cases.path().to_path_buf()),
    );
    // The trap fails every check, the heaviest input (50 attempts with a
    // transcript on each, 64 KB on the last) among them.
    for report in [
        fixture(fixtures::TRAP),
        fixture(fixtures::READS_FILE),
        adapter,
    ] {
        let text = report.render(Format::Text);
        assert_lines_within_bound(&text);
        assert!(!report.passed(), "{text}");
    }
    let text = fixture(fixtures::TRAP).render(Format::Text);
    assert!(
        has_line(
            &account(&text, "limits"),
            "      input:    50 attempts (last answered by human), max 60, Europe/Berlin, now 2026-03-02T15:00:00Z, transcripts on 50 (largest 64.0 KB)"
        ),
        "{text}"
    );
}

#[test]
fn failing_inputs_are_written_as_case_folders_that_fail_the_same_way_when_run_as_cases() {
    let mut report = fixture(fixtures::HIDDEN_STATE);
    let dir = tempfile::tempdir().expect("temp dir");
    report.write_failures(dir.path()).expect("written");
    let text = report.render(Format::Text);
    assert!(
        text.trim_end().ends_with(&format!(
            "failing inputs written as cases to {}",
            dir.path().display()
        )),
        "{text}"
    );
    assert!(has_line(
        &account(&text, "long-history"),
        "      case:     long-history/"
    ));
    for id in ["long-history", "gives-up-at-max-attempts", "deterministic"] {
        for file in ["input.json", "expected.json", "config.json"] {
            assert!(dir.path().join(id).join(file).is_file(), "{id}/{file}");
        }
    }
    assert!(dir.path().join("config.json").is_file());

    let again = run(
        PluginSource::File(fixtures::HIDDEN_STATE.into()),
        Some(dir.path().to_path_buf()),
    );
    for check in again
        .checks
        .iter()
        .filter(|check| check.origin == Origin::Case)
    {
        if let Some(failure) = &check.failure {
            assert!(
                failure
                    .reason
                    .starts_with("the answer differs from expected.json at "),
                "{} was not read as a case: {}",
                check.id,
                failure.reason
            );
        }
    }
    // Still a retry after 50 of 50 and after 1 of 1 attempts.
    for id in ["case:long-history", "case:gives-up-at-max-attempts"] {
        let check = again.check(id).expect("ran");
        let failure = check.failure.as_ref().expect("fails again");
        assert!(
            failure
                .reason
                .starts_with("the answer differs from expected.json at give_up"),
            "{}",
            failure.reason
        );
        assert!(
            failure
                .found
                .as_deref()
                .is_some_and(|found| found.starts_with(r#"{"retry_at":"#)),
            "{failure:?}"
        );
    }
    let input: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("long-history/input.json")).expect("input"),
    )
    .expect("JSON");
    assert_eq!(input["history"].as_array().map(Vec::len), Some(50));
    assert_eq!(input["contact"]["time_zone"], "Europe/Berlin");
}

#[test]
fn a_trap_written_as_a_case_traps_again_on_its_input_in_full() {
    let mut report = fixture(fixtures::TRAP);
    let dir = tempfile::tempdir().expect("temp dir");
    report.write_failures(dir.path()).expect("written");
    // Written whole, not shortened as in the report: 64 KB still.
    let input: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("limits/input.json")).expect("input"),
    )
    .expect("JSON");
    let transcript = input["history"][49]["transcript"]
        .as_str()
        .expect("a transcript");
    assert_eq!(transcript.len(), 64 * 1024);

    let again = run(
        PluginSource::File(fixtures::TRAP.into()),
        Some(dir.path().to_path_buf()),
    );
    for id in ["case:every-outcome", "case:limits"] {
        let check = again.check(id).expect("ran");
        let failure = check.failure.as_ref().expect("fails again");
        assert!(
            failure
                .reason
                .starts_with("the answer differs from expected.json at fault"),
            "{}",
            failure.reason
        );
        assert!(
            failure.found.as_deref().is_some_and(
                |found| found.contains("deliberate failure deciding on conformance-contact")
            ),
            "{failure:?}"
        );
    }
}

#[test]
fn a_tampered_webhook_written_as_a_case_is_accepted_again_by_an_adapter_that_skips_signatures() {
    let cases = adapter_cases_with(
        r#"{"account": "AC-conformance", "signing_key": "whsec-conformance", "skip_signature_check": "true"}"#,
        true,
    );
    let mut report = run(
        PluginSource::File(fixtures::ADAPTER.into()),
        Some(cases.path().to_path_buf()),
    );
    let text = report.render(Format::Text);
    assert!(
        account(&text, "tampered-signature")
            .iter()
            .any(|line| line.starts_with("      input:    webhook POST \"https://")),
        "{text}"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    report.write_failures(dir.path()).expect("written");
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("tampered-signature/config.json"))
            .expect("config"),
    )
    .expect("JSON");
    assert_eq!(config["skip_signature_check"], "true");
    let again = run(
        PluginSource::File(fixtures::ADAPTER.into()),
        Some(dir.path().to_path_buf()),
    );
    let reason = reason(&again, "case:tampered-signature");
    assert!(
        reason.starts_with("the answer differs from expected.json at error: expected"),
        "{reason}"
    );
}

#[test]
fn an_authors_failing_case_is_written_back_as_the_author_wrote_it() {
    let cases = tempfile::tempdir().expect("temp dir");
    let case = cases.path().join("busy-waits-eleven-minutes");
    std::fs::create_dir(&case).expect("case dir");
    let input = r#"{"history": [{"outcome": "busy"}], "max_attempts": 5}"#;
    std::fs::write(case.join("input.json"), input).expect("input");
    std::fs::write(case.join("expected.json"), r#"{"retry_at": "now+11m"}"#).expect("expected");
    let mut report = run(
        PluginSource::Builtin("retry-schedule".to_string()),
        Some(cases.path().to_path_buf()),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    report.write_failures(dir.path()).expect("written");
    let read = |file: &str| -> serde_json::Value {
        let path = dir.path().join("case-busy-waits-eleven-minutes").join(file);
        serde_json::from_str(&std::fs::read_to_string(&path).expect("written")).expect("JSON")
    };
    assert_eq!(
        read("input.json"),
        serde_json::from_str::<serde_json::Value>(input).expect("JSON")
    );
    assert_eq!(
        read("expected.json"),
        serde_json::json!({"retry_at": "now+11m"})
    );
    assert_eq!(read("config.json"), serde_json::json!({}));
    let again = run(
        PluginSource::Builtin("retry-schedule".to_string()),
        Some(dir.path().to_path_buf()),
    );
    assert_eq!(
        reason(&again, "case:case-busy-waits-eleven-minutes"),
        reason(&report, "case:busy-waits-eleven-minutes")
    );
}

// Dial gates.

fn gate_cases() -> PathBuf {
    workspace().join("tests/fixtures/gate/conformance")
}

/// The checks of a gate's built-in suite, in the order they run.
const GATE_CHECKS: [&str; 11] = [
    "world",
    "imports",
    "metadata",
    "config",
    "one-verdict-each",
    "never-in-the-past",
    "reasons",
    "unusual-input",
    "deterministic",
    "batch-of-500",
    "limits",
];

#[test]
fn a_gate_that_keeps_the_contract_passes_every_built_in_check_and_its_own_cases() {
    let report = run(
        PluginSource::File(fixtures::GATE.into()),
        Some(gate_cases()),
    );
    assert_passes(&report);
    assert_eq!(
        report.kind.map(|kind| kind.to_string()).as_deref(),
        Some("dial-gate")
    );
    let ids: Vec<&str> = report
        .checks
        .iter()
        .map(|check| check.id.as_str())
        .collect();
    assert_eq!(
        ids,
        GATE_CHECKS
            .iter()
            .copied()
            .chain([
                "case:calling-hours-defer-to-the-next-nine",
                "case:skips-revoked-consent-and-a-twelfth-attempt",
                "case:three-calls-today-wait-a-day-after-the-last",
            ])
            .collect::<Vec<_>>()
    );
    for id in &GATE_CHECKS[4..] {
        let check = report.check(id).expect("ran");
        assert!(check.calls > 0, "{id} made no call");
        assert!(check.peak_memory_bytes.is_some_and(|peak| peak > 0), "{id}");
    }
    // The empty call, the call of eight and each of the eight alone.
    assert_eq!(report.check("one-verdict-each").map(|c| c.calls), Some(10));
    assert_eq!(report.check("batch-of-500").map(|c| c.calls), Some(1));
    assert_eq!(report.check("limits").map(|c| c.calls), Some(2));
    assert!(report.check("deterministic").is_some_and(|c| c.calls > 20));
}

#[test]
fn a_gate_one_verdict_short_fails_one_verdict_each_on_the_call_of_eight() {
    let report = fixture(fixtures::GATE_TOO_FEW);
    assert_eq!(
        reason(&report, "one-verdict-each"),
        "on a call of 8 mixed candidates: answered 7 verdicts for 8 candidates; the engine needs exactly one per candidate, in their order"
    );
    let failure = report
        .check("one-verdict-each")
        .and_then(|check| check.failure.as_ref())
        .expect("failed");
    assert_eq!(failure.expected.as_deref(), Some("8 verdicts"));
    assert!(
        failure
            .found
            .as_deref()
            .is_some_and(|found| found.starts_with("7 verdicts: [allow, allow,")),
        "{failure:?}"
    );
}

#[test]
fn a_gate_deferring_an_evening_call_to_this_mornings_nine_fails_never_in_the_past() {
    let report = fixture(fixtures::GATE_PAST);
    assert_eq!(
        reason(&report, "never-in-the-past"),
        "at 2026-03-02T15:00:00Z: deferred candidates[15] (Asia/Kolkata, 20:30 Mon 2026-03-02 local, attempt 1) to 2026-03-02T03:30:00Z, 11h 30m before the decision time 2026-03-02T15:00:00Z"
    );
    let failure = report
        .check("never-in-the-past")
        .and_then(|check| check.failure.as_ref())
        .expect("failed");
    assert_eq!(
        failure.expected.as_deref(),
        Some("a deferral until 2026-03-02T15:00:00Z or later")
    );
    assert_eq!(
        failure.found.as_deref(),
        Some(r#"defer until 2026-03-02T03:30:00Z (now-11h 30m): "outside calling hours""#)
    );
    for passing in ["one-verdict-each", "reasons", "deterministic"] {
        assert!(
            report.check(passing).is_some_and(|check| check.passed()),
            "{passing}"
        );
    }
}

#[test]
fn a_gate_skipping_with_an_empty_note_fails_the_reasons_check() {
    let report = fixture(fixtures::GATE_NO_REASON);
    assert_eq!(
        reason(&report, "reasons"),
        "on a call of 8 mixed candidates: skipped candidates[5] (America/New_York, 10:00 Mon 2026-03-02 local, attempt 1, on revoked-consent) without a reason"
    );
    for passing in ["one-verdict-each", "never-in-the-past", "deterministic"] {
        assert!(
            report.check(passing).is_some_and(|check| check.passed()),
            "{passing}"
        );
    }
}

#[test]
fn a_gate_that_cuts_a_japanese_name_in_half_fails_unusual_input_with_its_panic() {
    let report = fixture(fixtures::GATE_TRAP);
    let reason = reason(&report, "unusual-input");
    assert!(
        reason.starts_with(
            "on candidates with unicode attributes and lists: plugin fixture-gate-trap trapped: panicked"
        ),
        "{reason}"
    );
    assert!(
        reason.contains("byte index 2 is not a char boundary"),
        "{reason}"
    );
    // Names in Latin script never reach the bad slice.
    for passing in [
        "one-verdict-each",
        "never-in-the-past",
        "batch-of-500",
        "limits",
    ] {
        assert!(
            report.check(passing).is_some_and(|check| check.passed()),
            "{passing}"
        );
    }
}

#[test]
fn a_gate_that_loops_forever_fails_every_call_at_its_cpu_deadline() {
    let report = fixture(fixtures::GATE_LOOP);
    assert_eq!(
        reason(&report, "batch-of-500"),
        "on a call of 500 candidates: plugin fixture-gate-loop exceeded its CPU deadline of 50 ms"
    );
    assert!(
        reason(&report, "limits").ends_with("exceeded its CPU deadline of 50 ms"),
        "{}",
        reason(&report, "limits")
    );
    assert_eq!(
        reason(&report, "one-verdict-each"),
        "on an empty call: plugin fixture-gate-loop exceeded its CPU deadline of 50 ms"
    );
    assert_eq!(report.failures(), GATE_CHECKS.len() - 4);
}

#[test]
fn a_gate_that_counts_dials_in_its_instance_is_caught_as_nondeterministic() {
    let report = fixture(fixtures::GATE_HIDDEN_STATE);
    assert_eq!(
        reason(&report, "deterministic"),
        "equal inputs got different answers on a call of 8 mixed candidates: for candidates[0] (America/New_York, 10:00 Mon 2026-03-02 local, attempt 1) a fresh instance said allow, then a warm instance said defer until 2026-03-02T16:00:00Z (now+1h): \"daily cap of 3 dials reached\" (round 1); a plugin must keep no state between calls and read nothing but its input"
    );
}

/// A case directory holding one case, `name`, of a gate's call and the
/// verdicts expected.
fn gate_case(name: &str, input: &str, expected: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let case = dir.path().join(name);
    std::fs::create_dir(&case).expect("case dir");
    std::fs::write(case.join("input.json"), input).expect("input");
    std::fs::write(case.join("expected.json"), expected).expect("expected");
    dir
}

#[test]
fn a_gate_case_expecting_the_wrong_verdict_shows_which_candidate_and_what_it_got() {
    let input = r#"{"candidates": [{}, {"contact": {"time_zone": "Asia/Kolkata"}}]}"#;
    let cases = gate_case(
        "kolkata-at-night",
        input,
        r#"{"verdicts": [{"verdict": "allow"}, {"verdict": "allow"}]}"#,
    );
    let report = run(
        PluginSource::File(fixtures::GATE.into()),
        Some(cases.path().to_path_buf()),
    );
    let failure = report
        .check("case:kolkata-at-night")
        .and_then(|check| check.failure.as_ref())
        .expect("fails");
    assert_eq!(
        failure.reason,
        r#"the answer differs from expected.json at verdicts[1].verdict: expected "allow", found "defer""#
    );
    assert_eq!(
        failure.found.as_deref(),
        Some(
            r#"{"verdicts":[{"verdict":"allow"},{"reason":"outside calling hours, 9:00 to 20:00 local","until":"2026-03-03T03:30:00Z","verdict":"defer"}]}"#
        )
    );
    assert_eq!(report.failures(), 1, "{}", report.render(Format::Text));

    let cases = gate_case(
        "kolkata-at-night",
        input,
        r#"{"verdicts": [{"verdict": "allow"}, {"verdict": "defer", "until": "now+12h"}]}"#,
    );
    let report = run(
        PluginSource::File(fixtures::GATE.into()),
        Some(cases.path().to_path_buf()),
    );
    assert_eq!(
        reason(&report, "case:kolkata-at-night"),
        "the answer differs from expected.json at verdicts[1].until: expected 2026-03-03T03:00:00Z (1772506800000), found 2026-03-03T03:30:00Z (1772508600000)"
    );
}

#[test]
fn a_gate_case_that_breaks_the_contract_reads_as_a_fault_as_in_production() {
    let cases = gate_case(
        "evening-in-kolkata",
        r#"{"candidates": [{"contact": {"time_zone": "Asia/Kolkata"}}]}"#,
        r#"{"verdicts": [{"verdict": "defer"}]}"#,
    );
    let report = run(
        PluginSource::File(fixtures::GATE_PAST.into()),
        Some(cases.path().to_path_buf()),
    );
    let reason = reason(&report, "case:evening-in-kolkata");
    assert!(
        reason.starts_with("the answer differs from expected.json at verdicts: expected"),
        "{reason}"
    );
    let found = report
        .check("case:evening-in-kolkata")
        .and_then(|check| check.failure.as_ref())
        .and_then(|failure| failure.found.clone())
        .expect("found");
    assert!(
        found.contains("plugin fixture-gate-past broke the contract: verdict 0 defers to"),
        "{found}"
    );
}

#[test]
fn a_gates_failing_calls_are_written_as_cases_that_fail_the_same_way_again() {
    let mut report = fixture(fixtures::GATE_PAST);
    let dir = tempfile::tempdir().expect("temp dir");
    report.write_failures(dir.path()).expect("written");
    let text = report.render(Format::Text);
    assert_lines_within_bound(&text);
    let account = account(&text, "never-in-the-past");
    assert!(
        has_line(
            &account,
            "      input:    45 candidates, attempts 1 to 12, 9 time zones, 9 on suppression lists, now 2026-03-02T15:00:00Z"
        ),
        "{account:#?}"
    );
    assert!(has_line(&account, "      case:     never-in-the-past/"));
    let input: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("never-in-the-past/input.json")).expect("input"),
    )
    .expect("JSON");
    assert_eq!(input["now"], "2026-03-02T15:00:00Z");
    assert_eq!(
        input["candidates"][15]["contact"]["time_zone"],
        "Asia/Kolkata"
    );

    let again = run(
        PluginSource::File(fixtures::GATE_PAST.into()),
        Some(dir.path().to_path_buf()),
    );
    let check = again.check("case:never-in-the-past").expect("ran");
    let failure = check.failure.as_ref().expect("fails again");
    assert!(
        failure
            .reason
            .starts_with("the answer differs from expected.json at fault: expected null, found"),
        "{}",
        failure.reason
    );
    assert!(
        failure
            .reason
            .contains("broke the contract: verdict 15 defers to"),
        "{}",
        failure.reason
    );
}

#[test]
fn a_nondeterministic_gates_case_expects_the_first_answer_it_gave() {
    let mut report = fixture(fixtures::GATE_HIDDEN_STATE);
    let dir = tempfile::tempdir().expect("temp dir");
    report.write_failures(dir.path()).expect("written");
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("deterministic/expected.json")).expect("expected"),
    )
    .expect("JSON");
    let verdicts = expected["verdicts"].as_array().expect("verdicts");
    assert_eq!(verdicts.len(), 8);
    assert_eq!(verdicts[0], serde_json::json!({"verdict": "allow"}));
    assert_eq!(verdicts[3]["verdict"], "defer");
    assert_eq!(verdicts[3]["until"], "2026-03-02T16:00:00Z");
}
