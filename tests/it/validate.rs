//! `outdial validate` configures every plugin in its sandbox exactly as
//! `outdial run` loads it, so a config it accepts is a config that runs.

use std::sync::OnceLock;

use outdial::config::{Config, validate};
use outdial::plugin_host::{PluginHost, PluginLimits, PluginSource};

fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| PluginHost::new().expect("the plugin host starts"))
}

fn campaign_with(retry_config: &str, plugins: &str) -> Config {
    let text = format!(
        r#"[[workspaces]]
id = "demo"
{plugins}
[[campaigns]]
id = "spring"
workspace = "demo"
provider = {{ plugin = "simulated" }}

[campaigns.retry]
plugin = "retry-backoff"
config = {retry_config}
"#
    );
    Config::parse_str("campaigns.toml", &text).expect("the config parses")
}

#[test]
fn a_value_the_plugin_refuses_is_reported_by_validate_at_the_value() {
    let config = campaign_with(r#"{ base_delay = "soon" }"#, "");
    let found = validate(&config, host())
        .expect_err("retry-backoff refuses \"soon\"")
        .to_string();
    assert_eq!(
        found.trim_end(),
        "campaigns.toml:11:25: plugin \"retry-backoff\" refused its config: key \"base_delay\" \
         has value \"soon\": expected a duration like \"90s\", \"10m\", \"2h\", \"1d\" or \"1h30m\""
    );
}

#[test]
fn a_compound_duration_validates_and_loads_the_same_way() {
    let config = campaign_with(r#"{ base_delay = "1h30m", max_delay = "1d 12h" }"#, "");
    validate(&config, host()).expect("validate accepts compound durations");
    let spec = &config.campaign_specs().expect("the campaign resolves")[0];
    host()
        .load_retry(
            &PluginSource::Builtin(spec.retry_plugin.clone()),
            &spec.retry_config,
            PluginLimits::default(),
        )
        .expect("run loads the plugin with the config validate accepted");
}

#[test]
fn every_refusal_of_every_campaign_is_reported_in_one_run() {
    let text = r#"[[workspaces]]
id = "demo"

[[campaigns]]
id = "spring"
workspace = "demo"
provider = { plugin = "simulated" }
retry = { plugin = "retry-backoff", config = { max_delay = "later" } }

[[campaigns]]
id = "autumn"
workspace = "demo"
provider = { plugin = "simulated" }
retry = { plugin = "retry-backoff", config = { base_delay = "whenever" } }
"#;
    let config = Config::parse_str("two.toml", text).expect("the config parses");
    let found = validate(&config, host())
        .expect_err("both configs are refused")
        .to_string();
    assert!(found.contains("two.toml:8:"), "{found}");
    assert!(found.contains("\"later\""), "{found}");
    assert!(found.contains("two.toml:14:"), "{found}");
    assert!(found.contains("\"whenever\""), "{found}");
}
