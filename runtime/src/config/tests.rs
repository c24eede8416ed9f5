use std::path::PathBuf;

use super::*;
use crate::model::{NumberStrategy, TimeZonePolicy, WindowRule};

pub(super) fn info(
    kind: PluginKind,
    name: &str,
    keys: &[(&str, bool)],
    labels: &[&str],
) -> PluginInfo {
    PluginInfo {
        kind,
        name: name.to_string(),
        version: "0.1.0".to_string(),
        config_keys: keys
            .iter()
            .map(|(key, required)| ConfigKeyInfo {
                name: key.to_string(),
                required: *required,
                description: format!("the {key}"),
            })
            .collect(),
        labels: labels.iter().map(|label| label.to_string()).collect(),
    }
}

fn catalog() -> StaticCatalog {
    StaticCatalog::new()
        .with(
            PluginRef::Builtin("retry-backoff".into()),
            info(
                PluginKind::RetryStrategy,
                "retry-backoff",
                &[("base_delay", false), ("multiplier", false)],
                &[],
            ),
        )
        .with(
            PluginRef::Builtin("classify-rules".into()),
            info(
                PluginKind::DispositionClassifier,
                "classify-rules",
                &[("short_call", false)],
                &["interested", "not_interested", "voicemail"],
            ),
        )
        .with(
            PluginRef::Builtin("gate-hours".into()),
            info(
                PluginKind::DialGate,
                "gate-hours",
                &[("blackout_dates", false), ("hours", false)],
                &[],
            ),
        )
        .with(
            PluginRef::Path(PathBuf::from("conf/plugins/acme.wasm")),
            info(
                PluginKind::ProviderAdapter,
                "acme",
                &[("account", true), ("token", true)],
                &[],
            ),
        )
}

const VALID: &str = r#"
[server]
bind = "0.0.0.0:9000"
public_url = "https://dialer.example.com/"

[[workspaces]]
id = "demo"
api_keys = [
  { id = "ci", sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" },
  { id = "ops", env = "OUTDIAL_OPS_KEY" },
]

[[plugins]]
name = "acme"
path = "plugins/acme.wasm"
cpu_ms = 20

[[campaigns]]
id = "spring"
workspace = "demo"
provider = { plugin = "acme", config = { account = "AC1", token = { env = "ACME_TOKEN" } }, allowed_hosts = ["api.acme.test"] }
retry = { plugin = "retry-backoff", config = { base_delay = "10m", multiplier = 1.5 } }
calls_per_second = 2
budget = 12.5
goal = { target = 10, success_labels = ["interested"] }
call_timeout = "20m"
window = { time_zone_policy = "campaign", default_time_zone = "Europe/Paris", hours = [ { days = "mon-fri", start = "09:00", end = "18:30" } ], cron = ["* 10-11 * * Sat"] }
numbers = { strategy = "weighted", pool = [ { number = "+14155550100", weight = 3 }, { number = "+442079460958", enabled = false } ] }
variants = [ { name = "A", parameters = { script = "short" } }, { name = "B", weight = 2 } ]
webhooks = [ { url = "https://hooks.example.com/outdial", secret = { env = "HOOK_SECRET" }, events = ["batch.*", "contact.completed"] } ]
"#;

fn parse(text: &str) -> Config {
    match Config::parse_str("conf/outdial.toml", text) {
        Ok(config) => config,
        Err(err) => panic!("parse failed:\n{err}"),
    }
}

fn problems(text: &str) -> String {
    match Config::parse_str("conf/outdial.toml", text) {
        Err(err) => err.to_string(),
        Ok(config) => match validate(&config, &catalog()) {
            Ok(()) => String::new(),
            Err(found) => found.to_string(),
        },
    }
}

#[test]
fn a_valid_config_resolves_into_campaign_specs_with_every_value() {
    let config = parse(VALID);
    validate(&config, &catalog()).expect("valid");
    let specs = config.campaign_specs().expect("resolves");
    let spec = &specs[0];
    assert_eq!(spec.provider, "acme");
    // The trailing slash goes: routes are appended to it.
    assert_eq!(
        config.server_settings().public_url.as_deref(),
        Some("https://dialer.example.com")
    );
    assert_eq!(
        spec.provider_config,
        vec![("account".to_string(), "AC1".to_string())]
    );
    assert_eq!(
        spec.provider_secrets,
        vec![("token".to_string(), "ACME_TOKEN".to_string())]
    );
    assert_eq!(
        spec.retry_config,
        vec![
            ("base_delay".to_string(), "10m".to_string()),
            ("multiplier".to_string(), "1.5".to_string())
        ]
    );
    assert_eq!(spec.classifier_plugin, "classify-rules");
    assert_eq!(spec.calls_per_second, 2.0);
    assert_eq!(spec.budget_micros, Some(12_500_000));
    assert_eq!(spec.call_timeout_ms, 20 * 60_000);
    assert_eq!(spec.time_zone_policy, TimeZonePolicy::Campaign);
    assert_eq!(spec.default_time_zone, "Europe/Paris");
    assert_eq!(
        spec.calling_window.rules,
        vec![
            WindowRule::Range {
                days: vec![0, 1, 2, 3, 4],
                start_minute: 540,
                end_minute: 1110
            },
            WindowRule::Cron {
                expression: "0 * 10-11 * * Sat".to_string()
            },
        ]
    );
    assert_eq!(spec.number_strategy, NumberStrategy::Weighted);
    assert_eq!(spec.numbers[0].weight, 3);
    assert!(!spec.numbers[1].enabled);
    assert_eq!(spec.variants[1].weight, 2);
    assert_eq!(
        spec.variants[0].parameters,
        vec![("script".to_string(), "short".to_string())]
    );
    assert_eq!(spec.webhooks[0].secret_env, "HOOK_SECRET");
    assert!(spec.webhooks[0].wants("batch.paused"));
    assert!(!spec.webhooks[0].wants("contact.failed"));
}

#[test]
fn omitted_fields_take_their_documented_defaults() {
    let config = parse(
        r#"
[[workspaces]]
id = "w"
[[campaigns]]
id = "c"
workspace = "w"
provider = { plugin = "simulated", config = { seed = 7, instant = true, outcomes = { busy = 20 } } }
"#,
    );
    validate(&config, &catalog()).expect("valid");
    let spec = config.campaign_specs().expect("resolves").remove(0);
    assert_eq!(spec.concurrency, 10);
    assert_eq!(spec.calls_per_second, 5.0);
    assert_eq!(spec.max_attempts, 3);
    assert_eq!(spec.call_timeout_ms, 15 * 60_000);
    assert_eq!(spec.max_consecutive_plugin_faults, 5);
    assert_eq!(spec.retry_plugin, "retry-backoff");
    assert_eq!(spec.default_time_zone, "UTC");
    assert!(spec.calling_window.rules.is_empty());
    assert_eq!(
        spec.provider_config,
        vec![
            ("instant".to_string(), "true".to_string()),
            ("outcomes.busy".to_string(), "20".to_string()),
            ("seed".to_string(), "7".to_string()),
        ]
    );
    let settings = config.server_settings();
    assert_eq!(settings.bind, "127.0.0.1:8080");
    assert_eq!(settings.data_dir, PathBuf::from("./outdial-data"));
}

#[test]
fn plugin_paths_resolve_against_the_config_file_and_builtins_get_default_limits() {
    let config = parse(VALID);
    let specs = config.plugin_specs();
    let acme = specs
        .iter()
        .find(|spec| spec.name == "acme")
        .expect("declared");
    assert_eq!(
        acme.source,
        PluginRef::Path(PathBuf::from("conf/plugins/acme.wasm"))
    );
    assert_eq!((acme.cpu_ms, acme.memory_mb), (20, 32));
    let classifier = specs
        .iter()
        .find(|spec| spec.name == "classify-rules")
        .expect("default");
    assert_eq!(
        classifier.source,
        PluginRef::Builtin("classify-rules".into())
    );
}

#[test]
fn a_serde_error_in_one_campaign_does_not_hide_another_campaigns_error() {
    let text = problems(
        r#"[[campaigns]]
id = "a"
workspace = "w"
provider = { plugin = "simulated" }
concurency = 3

[[campaigns]]
id = "b"
workspace = "w"
provider = { plugin = "simulated" }
max_attempts = "three"
"#,
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0]
            .starts_with("conf/outdial.toml:5:1: unknown field \"concurency\", expected one of"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("conf/outdial.toml:11:16: invalid type: string \"three\""),
        "{text}"
    );
}

#[test]
fn every_structural_error_of_a_campaign_is_reported_not_just_the_first() {
    let text = problems(
        r#"[[campaigns]]
id = "a"
workspace = "w"
provider = { plugin = "simulated" }
concurrency = "lots"
unknown_knob = 3
"#,
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(
        lines[0],
        "conf/outdial.toml:5:15: invalid type: string \"lots\", expected an integer"
    );
    assert!(
        lines[1]
            .starts_with("conf/outdial.toml:6:1: unknown field \"unknown_knob\", expected one of"),
        "{text}"
    );
}

#[test]
fn errors_in_nested_tables_are_reported_each_at_its_own_line() {
    let text = problems(
        r#"[[campaigns]]
id = "a"
workspace = "w"
provider = { plugin = "simulated", allowed_hosts = "api.example.com" }
numbers = { pool = [ { number = 1 }, { number = "+14155550100", weight = "x" } ] }

[campaigns.window]
hours = [ { start = "09:00", end = "18:00", day = "mon" } ]
cron = [5]

[[campaigns.variants]]
name = "A"
weight = "heavy"

[[campaigns.variants]]
weight = 2
"#,
    );
    let positions: Vec<&str> = text
        .lines()
        .map(|line| line.split(": ").next().expect("a position"))
        .collect();
    assert_eq!(
        positions,
        [
            "conf/outdial.toml:4:52",
            "conf/outdial.toml:5:33",
            "conf/outdial.toml:5:74",
            "conf/outdial.toml:8:45",
            "conf/outdial.toml:9:9",
            "conf/outdial.toml:13:10",
            "conf/outdial.toml:15:1",
        ],
        "{text}"
    );
    assert!(
        text.contains("15:1: missing field \"name\", expected it in this table"),
        "{text}"
    );
}

#[test]
fn a_required_key_of_the_wrong_type_is_not_also_reported_missing() {
    let text = problems(
        r#"[[campaigns]]
id = 5
workspace = "w"
provider = "simulated"
"#,
    );
    assert_eq!(
        text,
        "conf/outdial.toml:2:6: invalid type: integer \"5\", expected a string\n\
         conf/outdial.toml:4:12: invalid type: string \"simulated\", expected a table"
    );
}

#[test]
fn every_missing_field_of_a_table_is_reported() {
    let text = problems("[[campaigns]]\nconcurrency = 3\n[campaigns.goal]\n");
    assert_eq!(
        text,
        "conf/outdial.toml:1:1: missing field \"id\", expected it in this table\n\
         conf/outdial.toml:1:1: missing field \"provider\", expected it in this table\n\
         conf/outdial.toml:1:1: missing field \"workspace\", expected it in this table\n\
         conf/outdial.toml:3:1: missing field \"success_labels\", expected it in this table\n\
         conf/outdial.toml:3:1: missing field \"target\", expected it in this table"
    );
}

#[test]
fn an_array_of_tables_where_one_table_belongs_is_one_error() {
    // Taking the only item out leaves an empty array, too short for a
    // table read as a sequence: that follows from the repair, not the file.
    let text = problems(
        r#"[[campaigns]]
id = "a"
workspace = "w"
provider = { plugin = "simulated" }

[[campaigns.goal]]
target = 1
success_labels = []
"#,
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("conf/outdial.toml:6:1: "), "{text}");
}

#[test]
fn validation_collects_every_problem_with_its_position() {
    let text = problems(
        r#"[[workspaces]]
id = "w"

[[campaigns]]
id = "c"
workspace = "nope"
provider = { plugin = "simulated" }
retry = { plugin = "classify-rules" }
classifier = { plugin = "classify-rules", config = { shortcall = "5s" } }
concurrency = 0
call_timeout = "soon"
window = { default_time_zone = "Mars/Olympus", hours = [ { start = "20:00", end = "09:00" } ], cron = ["* 25 * * *"] }
numbers = { pool = [ { number = "555-0100" }, { number = "+14155550100", weight = 0 } ] }
goal = { target = 5, success_labels = ["happy"] }
"#,
    );
    let expected = [
        "conf/outdial.toml:6:13: unknown workspace \"nope\"",
        "conf/outdial.toml:8:20: plugin \"classify-rules\" is a disposition_classifier, expected a retry_strategy for retry",
        "conf/outdial.toml:9:54: plugin \"classify-rules\" has no config key \"shortcall\", expected one of \"short_call\"",
        "conf/outdial.toml:10:15: concurrency is 0, expected 1 to 10000",
        "conf/outdial.toml:11:16: call_timeout \"soon\" is not a duration",
        "conf/outdial.toml:12:32: unknown time zone \"Mars/Olympus\"",
        "conf/outdial.toml:12:58: start \"20:00\" is not before end \"09:00\"",
        "conf/outdial.toml:12:104: cron expression \"* 25 * * *\" is invalid (hours must be less than 23",
        "conf/outdial.toml:13:33: \"555-0100\" is not a valid E.164 number",
        "conf/outdial.toml:13:83: weight is 0, expected 1 to 1000000",
        "conf/outdial.toml:14:40: classifier \"classify-rules\" never returns label \"happy\"",
    ];
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{text}");
    for (line, expected) in lines.iter().zip(expected) {
        assert!(
            line.starts_with(expected),
            "{line}\n  expected to start with\n{expected}\nall:\n{text}"
        );
    }
}

#[test]
fn a_provider_plugin_needs_its_required_keys_and_allowed_hosts() {
    let text = problems(
        r#"[[workspaces]]
id = "w"
[[plugins]]
name = "acme"
path = "plugins/acme.wasm"
[[campaigns]]
id = "c"
workspace = "w"
provider = { plugin = "acme", config = { account = "x" } }
"#,
    );
    assert!(text.contains("9:12: plugin \"acme\" requires config key \"token\" (the token), expected it in provider.config"), "{text}");
    assert!(
        text.contains("9:12: provider plugin \"acme\" has no allowed_hosts"),
        "{text}"
    );
}

#[test]
fn duplicate_ids_across_files_name_both_places() {
    let first = "[[workspaces]]\nid = \"w\"\n".to_string();
    let second = "\n[[workspaces]]\nid = \"w\"\n".to_string();
    let config = Config::parse_files(vec![("a.toml".into(), first), ("b.toml".into(), second)])
        .expect("parses");
    let text = validate(&config, &catalog()).unwrap_err().to_string();
    assert_eq!(
        text,
        "b.toml:3:6: duplicate workspace id \"w\" (first defined at a.toml:2:6), expected each workspace id once"
    );
}

#[test]
fn a_directory_of_files_is_merged_in_name_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("10-workspaces.toml"),
        "[[workspaces]]\nid = \"w\"\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("20-campaigns.toml"),
        "[[campaigns]]\nid = \"c\"\nworkspace = \"w\"\nprovider = { plugin = \"simulated\" }\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not config").expect("write");
    let config = Config::load(dir.path()).expect("loads");
    assert_eq!(config.files.len(), 2);
    validate(&config, &catalog()).expect("valid");
    assert_eq!(config.campaign_specs().expect("resolves")[0].workspace, "w");
}

#[test]
fn secrets_are_never_plain_text_and_missing_variables_are_reported_at_start_up() {
    let config = parse(VALID);
    let env = |name: &str| (name == "OUTDIAL_OPS_KEY").then(|| "test".to_string());
    let text = config.check_environment(&env).unwrap_err().to_string();
    assert!(
        text.contains("environment variable \"ACME_TOKEN\" is not set"),
        "{text}"
    );
    assert!(
        text.contains("environment variable \"HOOK_SECRET\" is not set"),
        "{text}"
    );
    let workspaces = config.workspace_specs(&env).expect("keys resolve");
    // sha256("test"): the env key is hashed like the literal one.
    assert_eq!(
        workspaces[0].api_keys[0].sha256,
        workspaces[0].api_keys[1].sha256
    );

    let text =
        problems("[[workspaces]]\nid = \"w\"\napi_keys = [ { id = \"k\", key = \"hunter2\" } ]\n");
    assert!(text.starts_with("conf/outdial.toml:3:26: unknown field \"key\", expected one of \"id\", \"sha256\", \"env\""), "{text}");
}

#[test]
fn campaign_specs_refuse_values_that_validation_would_refuse() {
    let config = parse(
        "[[workspaces]]\nid = \"w\"\n[[campaigns]]\nid = \"c\"\nworkspace = \"w\"\nprovider = { plugin = \"simulated\" }\ncall_timeout = \"10 minutes\"\n",
    );
    let text = config.campaign_specs().unwrap_err().to_string();
    assert!(
        text.starts_with("conf/outdial.toml:7:16: call_timeout \"10 minutes\" is not a duration"),
        "{text}"
    );
}

#[test]
fn syntax_errors_are_reported_with_their_position() {
    let text = problems("[[workspaces]]\nid = \"w\nname = 3\n");
    assert!(text.starts_with("conf/outdial.toml:2:"), "{text}");
    let text = problems("[serve]\nbind = \"x\"\n");
    assert_eq!(
        text,
        "conf/outdial.toml:1:2: unknown section \"serve\", expected \"server\", \"store\", \"workspaces\", \"plugins\" or \"campaigns\""
    );
}

const METRICS_BEHIND_A_KEY: &str = r#"[server]
metrics = "key"
metrics_key = { env = "OUTDIAL_METRICS_KEY" }
metrics_labels = []
"#;

#[test]
fn metrics_are_public_and_labelled_by_workspace_and_campaign_by_default() {
    let config = parse(VALID);
    let spec = config.metrics_spec(&|_| None).expect("no key is needed");
    assert_eq!(spec.key_sha256, None);
    assert_eq!(
        spec.labels,
        MetricsLabels {
            workspace: true,
            campaign: true
        }
    );
}

#[test]
fn a_metrics_key_is_read_from_the_environment_and_kept_only_as_its_hash() {
    let config = parse(METRICS_BEHIND_A_KEY);
    validate(&config, &catalog()).expect("valid");
    let env = |name: &str| (name == "OUTDIAL_METRICS_KEY").then(|| "scrape-me".to_string());
    config.check_environment(&env).expect("the key is set");
    let spec = config.metrics_spec(&env).expect("resolves");
    assert_eq!(
        spec.key_sha256.map(hex::encode),
        Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            b"scrape-me"
        )))
    );
    assert_eq!(
        spec.labels,
        MetricsLabels {
            workspace: false,
            campaign: false
        }
    );
}

#[test]
fn an_unset_or_empty_metrics_key_variable_stops_the_start_at_the_variable() {
    let config = parse(METRICS_BEHIND_A_KEY);
    let expected = "conf/outdial.toml:3:23: environment variable \"OUTDIAL_METRICS_KEY\" is not set, expected it to hold the metrics key";
    for env in [None, Some(String::new())] {
        let lookup = |_: &str| env.clone();
        let found = config.check_environment(&lookup).unwrap_err().to_string();
        assert_eq!(found, expected);
        let found = config.metrics_spec(&lookup).unwrap_err().to_string();
        assert_eq!(found, expected);
    }
}

#[test]
fn key_access_without_a_metrics_key_is_refused_at_the_setting_not_served_publicly() {
    let text = "[server]\nmetrics = \"key\"\n";
    assert_eq!(
        problems(text),
        "conf/outdial.toml:2:11: metrics = \"key\" needs metrics_key, expected the environment variable holding the scrapers' key, e.g. metrics_key = { env = \"OUTDIAL_METRICS_KEY\" }"
    );
    let found = parse(text)
        .metrics_spec(&|_| Some("anything".to_string()))
        .unwrap_err()
        .to_string();
    assert!(found.starts_with("conf/outdial.toml:2:11: "), "{found}");
}

#[test]
fn a_metrics_key_without_key_access_is_refused_rather_than_ignored() {
    assert_eq!(
        problems("[server]\nmetrics_key = { env = \"9KEY\" }\n"),
        "conf/outdial.toml:2:15: metrics_key is set but metrics is \"public\" (the default), expected metrics = \"key\" to require the key, or no metrics_key\n\
         conf/outdial.toml:2:23: \"9KEY\" is not an environment variable name, expected letters, digits and \"_\", not starting with a digit"
    );
}

#[test]
fn unknown_metrics_access_and_labels_are_refused_naming_the_allowed_ones() {
    let text = "[server]\nmetrics = \"private\"\nmetrics_labels = [\"workspace\", \"tenant\", \"workspace\"]\n";
    assert_eq!(
        problems(text),
        "conf/outdial.toml:2:11: unknown metrics access \"private\", expected \"public\" or \"key\"\n\
         conf/outdial.toml:3:32: unknown metrics label \"tenant\", expected \"workspace\" or \"campaign\"\n\
         conf/outdial.toml:3:42: duplicate metrics label \"workspace\" (first defined at conf/outdial.toml:3:19), expected each metrics label once"
    );
    assert!(parse(text).metrics_spec(&|_| None).is_err());
}

#[test]
fn one_metrics_label_keeps_that_label_only() {
    let config = parse("[server]\nmetrics_labels = [\"workspace\"]\n");
    validate(&config, &catalog()).expect("valid");
    assert_eq!(
        config.metrics_spec(&|_| None).expect("resolves").labels,
        MetricsLabels {
            workspace: true,
            campaign: false
        }
    );
}

#[test]
fn a_gate_suppress_on_labels_and_frequency_caps_resolve_into_the_spec() {
    let config = parse(
        r#"[[workspaces]]
id = "w"
frequency_caps = [ { max_attempts = 3, period = "24h" } ]

[[campaigns]]
id = "c"
workspace = "w"
provider = { plugin = "simulated" }
gate = { plugin = "gate-hours", config = { blackout_dates = "2026-12-25" } }
suppress_on = ["not_interested"]
frequency_caps = [ { max_attempts = 1, period = "1h" } ]

[[campaigns]]
id = "plain"
workspace = "w"
provider = { plugin = "simulated" }
"#,
    );
    assert_eq!(validate(&config, &catalog()), Ok(()));
    let specs = config.campaign_specs().expect("specs");
    let gated = &specs[0];
    assert_eq!(gated.gate_plugin.as_deref(), Some("gate-hours"));
    assert_eq!(
        gated.gate_config,
        vec![("blackout_dates".to_string(), "2026-12-25".to_string())]
    );
    assert_eq!(gated.suppress_on, vec!["not_interested".to_string()]);
    let hour = 60 * 60 * 1000;
    assert_eq!(
        gated.frequency_caps,
        vec![
            crate::model::FrequencyCap {
                max_attempts: 3,
                period_ms: 24 * hour,
            },
            crate::model::FrequencyCap {
                max_attempts: 1,
                period_ms: hour,
            },
        ],
        "the workspace's caps, then the campaign's own"
    );
    let plain = &specs[1];
    assert_eq!(plain.gate_plugin, None);
    assert_eq!(plain.suppress_on, vec!["do_not_call".to_string()]);
    assert_eq!(plain.frequency_caps.len(), 1, "the workspace's cap applies");
}

#[test]
fn a_wrong_gate_bad_labels_and_bad_caps_are_reported_at_their_place() {
    let text = problems(
        r#"[[workspaces]]
id = "w"
frequency_caps = [ { max_attempts = 0, period = "24h" } ]

[[campaigns]]
id = "c"
workspace = "w"
provider = { plugin = "simulated" }
gate = { plugin = "retry-backoff" }
suppress_on = ["stop_calling"]
frequency_caps = [ { max_attempts = 2, period = "45d" }, { max_attempts = 2, period = "often" } ]

[[campaigns]]
id = "d"
workspace = "w"
provider = { plugin = "simulated" }
gate = { plugin = "gate-hours", config = { curfew = "22:00" } }
"#,
    );
    let expected = [
        "conf/outdial.toml:3:37: frequency cap max_attempts is 0, expected 1 to 1000",
        "conf/outdial.toml:9:19: plugin \"retry-backoff\" is a retry_strategy, expected a dial_gate for gate",
        "conf/outdial.toml:10:16: classifier \"classify-rules\" never returns label \"stop_calling\"",
        "conf/outdial.toml:11:49: frequency cap period \"45d\" is longer than 30 days",
        "conf/outdial.toml:11:87: frequency cap period \"often\" is not a duration",
        "conf/outdial.toml:17:44: plugin \"gate-hours\" has no config key \"curfew\"",
    ];
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{text}");
    for (line, expected) in lines.iter().zip(expected) {
        assert!(
            line.starts_with(expected),
            "{line}\n  expected to start with\n{expected}\nall:\n{text}"
        );
    }
}

const POSTGRES_STORE: &str = r#"[store]
backend = "postgres"
url = { env = "DIALER_DB" }
pool_size = 16
lease_ttl = "3s"
"#;

fn postgres(url: &str, pool_size: usize, lease_ttl_ms: u64) -> StoreChoice {
    StoreChoice::Postgres {
        url: url.to_string(),
        pool_size,
        lease_ttl_ms,
    }
}

#[test]
fn the_store_is_the_embedded_one_unless_a_flag_the_environment_or_the_file_says_postgres() {
    let none = |_: &str| None;
    assert_eq!(
        parse(VALID).store_choice(None, &none).unwrap(),
        StoreChoice::Sled
    );

    let config = parse(POSTGRES_STORE);
    validate(&config, &catalog()).expect("valid");
    let env = |name: &str| match name {
        "DIALER_DB" => Some("postgres://file@db/outdial".to_string()),
        STORE_ENV => Some("postgresql://env@db/outdial".to_string()),
        _ => None,
    };
    let file_only = |name: &str| env(name).filter(|_| name != STORE_ENV);
    assert_eq!(
        config.store_choice(None, &file_only).unwrap(),
        postgres("postgres://file@db/outdial", 16, 3_000)
    );
    assert_eq!(
        config.store_choice(None, &env).unwrap(),
        postgres("postgresql://env@db/outdial", 16, 3_000)
    );
    assert_eq!(
        config
            .store_choice(Some("postgres://flag@db/outdial"), &env)
            .unwrap(),
        postgres("postgres://flag@db/outdial", 16, 3_000)
    );
    assert_eq!(
        config.store_choice(Some("sled"), &env).unwrap(),
        StoreChoice::Sled
    );
}

#[test]
fn a_postgres_store_reads_outdial_database_url_when_the_file_names_no_variable() {
    let config = parse("[store]\nbackend = \"postgres\"\n");
    let env = |name: &str| (name == DATABASE_URL_ENV).then(|| "postgres://db/outdial".to_string());
    assert_eq!(
        config.store_choice(None, &env).unwrap(),
        postgres("postgres://db/outdial", 8, 8_000)
    );
    assert_eq!(
        config
            .store_choice(None, &|_| None)
            .unwrap_err()
            .to_string(),
        "conf/outdial.toml:2:11: environment variable \"OUTDIAL_DATABASE_URL\" is not set, expected it to hold the PostgreSQL URL of [store]"
    );
}

#[test]
fn an_unset_store_url_variable_stops_the_start_at_the_variable_unless_a_flag_chooses_the_store() {
    let config = parse(POSTGRES_STORE);
    assert_eq!(
        config
            .store_choice(None, &|_| None)
            .unwrap_err()
            .to_string(),
        "conf/outdial.toml:3:15: environment variable \"DIALER_DB\" is not set, expected it to hold the PostgreSQL URL of [store]"
    );
    let not_a_url = |_: &str| Some("mysql://db".to_string());
    assert_eq!(
        config
            .store_choice(None, &|name| not_a_url(name)
                .filter(|_| name == "DIALER_DB"))
            .unwrap_err()
            .to_string(),
        "conf/outdial.toml:3:15: environment variable \"DIALER_DB\" does not hold a PostgreSQL connection string, expected \"postgres://user:password@host:port/database\" or \"host=... dbname=...\""
    );
    assert_eq!(
        config.store_choice(Some("sled"), &|_| None).unwrap(),
        StoreChoice::Sled
    );
}

#[test]
fn a_store_flag_that_is_neither_sled_nor_a_connection_string_is_refused_without_showing_it() {
    let found = parse(VALID)
        .store_choice(Some("mysql://root:hunter2@db/x"), &|_| None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        found,
        "--store: neither \"sled\" nor a PostgreSQL connection string, expected \"sled\", \"postgres://user:password@host:port/database\" or \"host=... dbname=...\""
    );
    let keywords = "host=/run/postgresql dbname=outdial user=dialer";
    assert_eq!(
        parse(VALID)
            .store_choice(Some(keywords), &|_| None)
            .unwrap(),
        postgres(keywords, 8, 8_000)
    );
}

#[test]
fn store_settings_that_cannot_work_are_refused_each_at_its_place() {
    assert_eq!(
        problems("[store]\nbackend = \"mysql\"\n"),
        "conf/outdial.toml:2:11: unknown store backend \"mysql\", expected \"sled\" or \"postgres\""
    );
    assert_eq!(
        problems("[store]\nurl = { env = \"DB\" }\npool_size = 4\n"),
        "conf/outdial.toml:2:7: url is set but the backend is \"sled\", which keeps its state in server.data_dir, expected backend = \"postgres\" or no url\n\
         conf/outdial.toml:3:13: pool_size is set but the backend is \"sled\", expected backend = \"postgres\" or no pool_size"
    );
    assert_eq!(
        problems("[store]\nbackend = \"postgres\"\npool_size = 0\nurl = { env = \"1DB\" }\n"),
        "conf/outdial.toml:3:13: pool_size 0 is out of range, expected 1 to 64 connections\n\
         conf/outdial.toml:4:15: \"1DB\" is not an environment variable name, expected letters, digits and \"_\", not starting with a digit"
    );
    assert_eq!(
        problems("[store]\nbackend = \"postgres\"\nlease_ttl = \"1s\"\n"),
        "conf/outdial.toml:3:13: lease_ttl \"1s\" is out of range, expected \"2s\" to \"60s\""
    );
    assert_eq!(
        problems("[store]\nbackend = \"postgres\"\nlease_ttl = \"soon\"\n"),
        format!(
            "conf/outdial.toml:3:13: lease_ttl \"soon\" is not a duration, expected {}",
            super::values::DURATION_EXPECTED
        )
    );
    assert_eq!(
        problems("[store]\nlease_ttl = \"5s\"\n"),
        "conf/outdial.toml:2:13: lease_ttl is set but the backend is \"sled\", which one node owns, expected backend = \"postgres\" or no lease_ttl"
    );
    let files = vec![
        (
            PathBuf::from("conf/a.toml"),
            "[store]\nbackend = \"sled\"\n".to_string(),
        ),
        (
            PathBuf::from("conf/b.toml"),
            "[store]\nbackend = \"postgres\"\n".to_string(),
        ),
    ];
    let found = validate(&Config::parse_files(files).unwrap(), &catalog())
        .unwrap_err()
        .to_string();
    assert_eq!(
        found,
        "conf/b.toml:1:1: duplicate [store] section (first defined at conf/a.toml:1:1), expected one [store] across all files"
    );
    assert_eq!(
        problems("[store]\ndir = \"x\"\n"),
        "conf/outdial.toml:2:1: unknown field \"dir\", expected one of \"backend\", \"url\", \"pool_size\", \"lease_ttl\""
    );
}
