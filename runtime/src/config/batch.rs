//! A batch's own settings, written as JSON in an upload, checked by the
//! same code as the config file's sections so the two never disagree.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_spanned::Spanned;

use super::Config;
use super::catalog::PluginCatalog;
use super::resolve::{Slot, check_policy_outside_config, check_window, scalar_text};
use super::schema::{HoursSection, PolicySection, WindowSection};
use crate::model::{BatchGate, BatchHours, BatchRetry, CampaignSpec};

/// A batch's working hours: the keys of a campaign's `[campaigns.window]`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursInput {
    /// "contact" (the contact's own zone, else the default) or "campaign"
    /// (always the default). Default: "contact".
    #[schema(example = "contact")]
    pub time_zone_policy: Option<String>,
    /// IANA zone used when nothing better is known. Default: "UTC".
    #[schema(example = "America/New_York")]
    pub default_time_zone: Option<String>,
    /// Open hours on the contact's clock. Default: none.
    #[serde(default)]
    pub hours: Vec<HoursRangeInput>,
    /// Cron expressions (5 fields, minute first, or 6 with seconds) whose
    /// matching minutes are open. Default: none. With neither `hours` nor
    /// `cron` the batch may be called at any time.
    #[serde(default)]
    #[schema(example = json!(["* 9-19 * * Mon-Fri"]))]
    pub cron: Vec<String>,
}

/// One range of open hours.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursRangeInput {
    /// Days of week: "mon-fri", "sat,sun", "daily". Default: "daily".
    #[schema(example = "mon-fri")]
    pub days: Option<String>,
    /// Local opening time "HH:MM".
    #[schema(example = "09:00")]
    pub start: String,
    /// Local closing time "HH:MM", exclusive, "24:00" for midnight.
    #[schema(example = "17:00")]
    pub end: String,
}

/// A batch's own retry strategy, in place of its campaign's: the
/// campaign's plugin with some keys set otherwise, or another plugin.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryInput {
    /// A `[[plugins]]` name or a built-in retry strategy
    /// ("retry-backoff", "retry-schedule"). Default: the campaign's.
    #[schema(example = "retry-schedule")]
    pub plugin: Option<String>,
    /// Keys the plugin declares. With the campaign's plugin they replace
    /// the campaign's values of those keys; with another plugin they are
    /// its whole config. Default: none.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, ConfigValue>, example = json!({"busy": "5m, 5m"}))]
    pub config: BTreeMap<String, serde_json::Value>,
}

/// A batch's own dial gate, in place of its campaign's: the campaign's
/// gate with some keys set otherwise, or another gate. A batch cannot go
/// without the gate its campaign has: null, like a missing `gate`, keeps
/// the campaign's.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GateInput {
    /// A `[[plugins]]` name or a built-in dial gate ("gate-hours").
    /// Default: the campaign's; required when the campaign has none.
    #[schema(example = "gate-hours")]
    pub plugin: Option<String>,
    /// Keys the plugin declares. With the campaign's plugin they replace
    /// the campaign's values of those keys; with another plugin they are
    /// its whole config. Default: none.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, ConfigValue>, example = json!({"blackout_dates": "2026-12-24, 2026-12-25"}))]
    pub config: BTreeMap<String, serde_json::Value>,
}

/// A plugin config value, handed to the plugin as text. Only its schema
/// is used: the values are read as JSON and checked as config is.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ConfigValue {
    Text(String),
    Number(f64),
    Flag(bool),
}

/// What a batch's plugin settings are checked against: the server's
/// config, whose `[[plugins]]` they may name, and the catalog that loads
/// and configures plugins as `outdial run` does.
#[derive(Clone)]
pub struct PluginScope {
    pub config: Arc<Config>,
    pub catalog: Arc<dyn PluginCatalog + Send + Sync>,
}

/// A bad value of a batch setting: the JSON path of the value (e.g.
/// `hours.hours[0].start`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{path}\": {message}")]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

/// Paths of the values of one input; a value's span is its index here,
/// so errors the config checker reports at a span come back as paths.
#[derive(Default)]
struct Paths(Vec<String>);

impl Paths {
    fn spanned<T>(&mut self, path: String, value: T) -> Spanned<T> {
        let index = self.0.len();
        self.0.push(path);
        Spanned::new(index..index + 1, value)
    }
}

/// Checks `hours` (found at `field`) as a campaign's window is checked;
/// the first error, if any, names the JSON path of the value.
pub fn batch_hours(field: &str, hours: &HoursInput) -> Result<BatchHours, FieldError> {
    let mut paths = Paths::default();
    let section = WindowSection {
        time_zone_policy: hours
            .time_zone_policy
            .clone()
            .map(|value| paths.spanned(format!("{field}.time_zone_policy"), value)),
        default_time_zone: hours
            .default_time_zone
            .clone()
            .map(|value| paths.spanned(format!("{field}.default_time_zone"), value)),
        hours: hours
            .hours
            .iter()
            .enumerate()
            .map(|(index, range)| {
                let at = format!("{field}.hours[{index}]");
                let section = HoursSection {
                    days: range
                        .days
                        .clone()
                        .map(|days| paths.spanned(format!("{at}.days"), days)),
                    start: paths.spanned(format!("{at}.start"), range.start.clone()),
                    end: paths.spanned(format!("{at}.end"), range.end.clone()),
                };
                paths.spanned(at, section)
            })
            .collect(),
        cron: hours
            .cron
            .iter()
            .enumerate()
            .map(|(index, expression)| {
                paths.spanned(format!("{field}.cron[{index}]"), expression.clone())
            })
            .collect(),
    };
    let mut first: Option<FieldError> = None;
    let (calling_window, time_zone_policy, default_time_zone) =
        check_window(&section, &mut |span, message| {
            if first.is_none() {
                first = Some(FieldError {
                    path: paths.0.get(span.start).cloned().unwrap_or_default(),
                    message,
                });
            }
        });
    match first {
        Some(error) => Err(error),
        None => Ok(BatchHours {
            calling_window,
            time_zone_policy,
            default_time_zone,
        }),
    }
}

/// Checks `retry` (found at `field`) as a campaign's `retry` section is
/// checked, against the plugins of `scope`: the first error, if any, names
/// the JSON path of the value. Keys `retry` leaves out keep the campaign's
/// values when the plugin is the campaign's.
pub fn batch_retry(
    field: &str,
    retry: &RetryInput,
    campaign: &CampaignSpec,
    scope: &PluginScope,
) -> Result<BatchRetry, FieldError> {
    let (plugin, config) = batch_policy(
        field,
        Slot::Retry,
        (retry.plugin.as_deref(), &retry.config),
        Some((campaign.retry_plugin.as_str(), &campaign.retry_config)),
        scope,
    )?;
    Ok(BatchRetry {
        plugin,
        config,
        overridden: retry.config.keys().cloned().collect(),
    })
}

/// Checks `gate` (found at `field`) as a campaign's `gate` section is
/// checked, against the plugins of `scope`, as [`batch_retry`] does. The
/// gate must name a plugin when the campaign has none.
pub fn batch_gate(
    field: &str,
    gate: &GateInput,
    campaign: &CampaignSpec,
    scope: &PluginScope,
) -> Result<BatchGate, FieldError> {
    let campaigns = campaign
        .gate_plugin
        .as_deref()
        .map(|plugin| (plugin, campaign.gate_config.as_slice()));
    let (plugin, config) = batch_policy(
        field,
        Slot::Gate,
        (gate.plugin.as_deref(), &gate.config),
        campaigns,
        scope,
    )?;
    Ok(BatchGate {
        plugin,
        config,
        overridden: gate.config.keys().cloned().collect(),
    })
}

/// A batch's plugin of `slot` and its whole config, checked: `given` is
/// the plugin and keys the batch names, `campaigns` the campaign's plugin
/// and config of that slot, whose values are kept for the keys the batch
/// leaves out when the plugin is the same. `given`'s plugin, else the
/// campaign's, is checked.
fn batch_policy(
    field: &str,
    slot: Slot,
    given: (Option<&str>, &BTreeMap<String, serde_json::Value>),
    campaigns: Option<(&str, &[(String, String)])>,
    scope: &PluginScope,
) -> Result<(String, BTreeMap<String, String>), FieldError> {
    let (given_plugin, given_config) = given;
    let mut paths = Paths::default();
    let whole = paths.spanned(field.to_string(), ()).span();
    let plugin = match (given_plugin, campaigns) {
        (Some(plugin), _) => paths.spanned(format!("{field}.plugin"), plugin.to_string()),
        (None, Some((plugin, _))) => paths.spanned(field.to_string(), plugin.to_string()),
        (None, None) => {
            return Err(FieldError {
                path: field.to_string(),
                message: format!(
                    "the campaign has no {} to set keys of, expected a \"plugin\"",
                    slot.section()
                ),
            });
        }
    };
    let mut config = BTreeMap::new();
    if let Some((campaign_plugin, campaign_config)) = campaigns
        && plugin.get_ref() == campaign_plugin
    {
        for (key, value) in campaign_config {
            let at = format!("{field}.config.{key}");
            config.insert(
                paths.spanned(at.clone(), key.clone()),
                paths.spanned(at, toml::Value::String(value.clone())),
            );
        }
    }
    for (key, value) in given_config {
        let at = format!("{field}.config.{key}");
        let value = toml_value(value).ok_or_else(|| FieldError {
            path: at.clone(),
            message: format!(
                "{}.config key \"{key}\" is null, expected a string, number or boolean",
                slot.section()
            ),
        })?;
        // A key replaced keeps one entry: keys compare by name alone.
        config.remove(&Spanned::new(0..0, key.clone()));
        config.insert(
            paths.spanned(at.clone(), key.clone()),
            paths.spanned(at, value),
        );
    }
    let section = PolicySection {
        plugin: plugin.clone(),
        config,
    };
    let problems =
        check_policy_outside_config(&scope.config, scope.catalog.as_ref(), slot, &section, whole);
    if let Some((index, message)) = problems.into_iter().next() {
        return Err(FieldError {
            path: paths
                .0
                .get(index)
                .cloned()
                .unwrap_or_else(|| field.to_string()),
            message,
        });
    }
    Ok((
        plugin.into_inner(),
        section
            .config
            .iter()
            .filter_map(|(key, value)| Some((key.get_ref().clone(), scalar_text(value.get_ref())?)))
            .collect(),
    ))
}

/// A JSON config value as the config file would have written it; null has
/// no such form.
fn toml_value(value: &serde_json::Value) -> Option<toml::Value> {
    Some(match value {
        serde_json::Value::Null => return None,
        serde_json::Value::Bool(flag) => toml::Value::Boolean(*flag),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(integer) => toml::Value::Integer(integer),
            None => toml::Value::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(text) => toml::Value::String(text.clone()),
        serde_json::Value::Array(items) => {
            toml::Value::Array(items.iter().filter_map(toml_value).collect())
        }
        serde_json::Value::Object(fields) => toml::Value::Table(
            fields
                .iter()
                .filter_map(|(key, value)| Some((key.clone(), toml_value(value)?)))
                .collect(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TimeZonePolicy, WindowRule};

    fn range(days: Option<&str>, start: &str, end: &str) -> HoursRangeInput {
        HoursRangeInput {
            days: days.map(str::to_string),
            start: start.to_string(),
            end: end.to_string(),
        }
    }

    #[test]
    fn batch_hours_are_read_as_a_campaign_window_is() {
        let hours = HoursInput {
            time_zone_policy: Some("campaign".to_string()),
            default_time_zone: Some("Europe/Paris".to_string()),
            hours: vec![range(Some("mon-fri"), "09:00", "12:00")],
            cron: Vec::new(),
        };
        let hours = batch_hours("hours", &hours).expect("valid hours");
        assert_eq!(hours.time_zone_policy, TimeZonePolicy::Campaign);
        assert_eq!(hours.default_time_zone, "Europe/Paris");
        assert_eq!(
            hours.calling_window.rules,
            vec![WindowRule::Range {
                days: vec![0, 1, 2, 3, 4],
                start_minute: 9 * 60,
                end_minute: 12 * 60,
            }]
        );
    }

    #[test]
    fn a_bad_batch_hours_value_is_named_by_its_json_path() {
        let bad = |hours: HoursInput| batch_hours("hours", &hours).expect_err("refused");
        let error = bad(HoursInput {
            hours: vec![range(None, "09:00", "12:00"), range(None, "9am", "12:00")],
            ..HoursInput::default()
        });
        assert_eq!(error.path, "hours.hours[1].start");
        assert!(error.message.contains("\"9am\" is not a time"), "{error}");
        let error = bad(HoursInput {
            hours: vec![range(Some("mon-fry"), "09:00", "12:00")],
            ..HoursInput::default()
        });
        assert_eq!(error.path, "hours.hours[0].days");
        let error = bad(HoursInput {
            hours: vec![range(None, "12:00", "09:00")],
            ..HoursInput::default()
        });
        assert_eq!(error.path, "hours.hours[0]");
        let error = bad(HoursInput {
            default_time_zone: Some("Mars/Olympus".to_string()),
            ..HoursInput::default()
        });
        assert_eq!(error.path, "hours.default_time_zone");
        let error = bad(HoursInput {
            time_zone_policy: Some("recipient".to_string()),
            ..HoursInput::default()
        });
        assert_eq!(error.path, "hours.time_zone_policy");
        let error = bad(HoursInput {
            cron: vec!["* 9-19 * *".to_string()],
            ..HoursInput::default()
        });
        assert_eq!(error.path, "hours.cron[0]");
    }
}

/// A catalog that knows what its `StaticCatalog` knows and refuses one
/// value of one key at `configure`, as a real plugin refuses a value it
/// cannot read.
#[cfg(test)]
struct Refusing {
    catalog: crate::config::StaticCatalog,
    /// The key, the value refused, and why.
    refused: (&'static str, &'static str, &'static str),
}

#[cfg(test)]
impl Refusing {
    fn new(
        catalog: crate::config::StaticCatalog,
        refused: (&'static str, &'static str, &'static str),
    ) -> Refusing {
        Refusing { catalog, refused }
    }
}

#[cfg(test)]
impl PluginCatalog for Refusing {
    fn describe(
        &self,
        plugin: &crate::config::PluginRef,
    ) -> Result<crate::config::PluginInfo, String> {
        self.catalog.describe(plugin)
    }

    fn configure(
        &self,
        _plugin: &crate::config::PluginRef,
        _kind: crate::config::PluginKind,
        config: &[(String, String)],
        _limits: crate::config::SandboxLimits,
    ) -> Result<(), crate::config::ConfigureFailure> {
        let (key, value, why) = self.refused;
        if config.iter().any(|(k, v)| k == key && v == value) {
            return Err(crate::config::ConfigureFailure::Refused(format!(
                "key \"{key}\" has value \"{value}\": {why}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod retry_tests {
    use super::*;
    use crate::config::tests::info;
    use crate::config::{PluginKind, PluginRef, StaticCatalog};

    /// The ladder strategy refuses a `busy` of "never".
    const KEY_REFUSED: (&str, &str, &str) = ("busy", "never", "not a step");

    /// A server whose campaign backs off from a 10 minute base, and which
    /// declares a ladder plugin that needs its `busy` key.
    fn scope() -> (PluginScope, CampaignSpec) {
        let catalog = StaticCatalog::new()
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
                PluginRef::Builtin("retry-schedule".into()),
                info(
                    PluginKind::RetryStrategy,
                    "retry-schedule",
                    &[("busy", true), ("no_answer", false)],
                    &[],
                ),
            )
            .with(
                PluginRef::Builtin("classify-rules".into()),
                info(
                    PluginKind::DispositionClassifier,
                    "classify-rules",
                    &[],
                    &[],
                ),
            );
        let config = Config::parse_str(
            "outdial.toml",
            r#"
[[workspaces]]
id = "acme"

[[plugins]]
name = "ladder"
builtin = "retry-schedule"

[[campaigns]]
id = "spring"
workspace = "acme"
provider = { plugin = "simulated" }
retry = { plugin = "retry-backoff", config = { base_delay = "10m", multiplier = 2 } }
"#,
        )
        .expect("parses");
        let spec = config.campaign_specs().expect("valid").remove(0);
        let scope = PluginScope {
            config: Arc::new(config),
            catalog: Arc::new(Refusing::new(catalog, KEY_REFUSED)),
        };
        (scope, spec)
    }

    fn retry(plugin: Option<&str>, config: serde_json::Value) -> RetryInput {
        RetryInput {
            plugin: plugin.map(str::to_string),
            config: serde_json::from_value(config).expect("an object"),
        }
    }

    #[test]
    fn a_batch_retry_of_the_campaigns_plugin_keeps_the_values_it_does_not_set() {
        let (scope, campaign) = scope();
        let checked = batch_retry(
            "retry",
            &retry(None, serde_json::json!({"base_delay": "2m"})),
            &campaign,
            &scope,
        )
        .expect("accepted");
        assert_eq!(checked.plugin, "retry-backoff");
        assert_eq!(
            checked.config_pairs(),
            vec![
                ("base_delay".to_string(), "2m".to_string()),
                ("multiplier".to_string(), "2".to_string())
            ]
        );
        assert_eq!(checked.overridden, vec!["base_delay".to_string()]);
    }

    #[test]
    fn a_batch_retry_of_another_plugin_takes_only_its_own_config() {
        let (scope, campaign) = scope();
        let checked = batch_retry(
            "retry",
            &retry(
                Some("ladder"),
                serde_json::json!({"busy": "5m, 5m", "no_answer": 3600}),
            ),
            &campaign,
            &scope,
        )
        .expect("accepted");
        assert_eq!(checked.plugin, "ladder");
        assert_eq!(
            checked.config_pairs(),
            vec![
                ("busy".to_string(), "5m, 5m".to_string()),
                ("no_answer".to_string(), "3600".to_string())
            ]
        );
    }

    #[test]
    fn a_bad_batch_retry_is_refused_as_the_config_would_be_at_its_json_path() {
        let (scope, campaign) = scope();
        let refused = |plugin: Option<&str>, config: serde_json::Value| {
            batch_retry("retry", &retry(plugin, config), &campaign, &scope).expect_err("refused")
        };
        let error = refused(Some("retry-fancy"), serde_json::json!({}));
        assert_eq!(error.path, "retry.plugin");
        assert!(
            error.message.contains("unknown plugin \"retry-fancy\""),
            "{error}"
        );
        let error = refused(Some("classify-rules"), serde_json::json!({}));
        assert_eq!(error.path, "retry.plugin");
        assert!(
            error
                .message
                .contains("is a disposition_classifier, expected a retry_strategy"),
            "{error}"
        );
        let error = refused(None, serde_json::json!({"base_dely": "1m"}));
        assert_eq!(error.path, "retry.config.base_dely");
        assert!(
            error.message.contains("has no config key \"base_dely\""),
            "{error}"
        );
        let error = refused(Some("ladder"), serde_json::json!({"no_answer": "1h"}));
        assert_eq!(error.path, "retry");
        assert!(
            error.message.contains("requires config key \"busy\""),
            "{error}"
        );
        let error = refused(Some("ladder"), serde_json::json!({"busy": ["5m"]}));
        assert_eq!(error.path, "retry.config.busy");
        assert!(error.message.contains("is an array"), "{error}");
        let error = refused(Some("ladder"), serde_json::json!({"busy": null}));
        assert_eq!(error.path, "retry.config.busy");
        let error = refused(Some("ladder"), serde_json::json!({"busy": "never"}));
        assert_eq!(error.path, "retry.config.busy");
        assert!(error.message.contains("refused its config"), "{error}");
    }
}

#[cfg(test)]
mod gate_tests {
    use super::*;
    use crate::config::tests::info;
    use crate::config::{PluginKind, PluginRef, StaticCatalog};

    /// The hours gate refuses a `blackout_dates` of "someday".
    const KEY_REFUSED: (&str, &str, &str) = ("blackout_dates", "someday", "not a date");

    /// A server whose campaign "spring" is gated by the hours gate with
    /// its own hours and a blackout date, whose campaign "autumn" has no
    /// gate, and which declares the hours gate again as "holidays".
    fn scope() -> (PluginScope, CampaignSpec, CampaignSpec) {
        let catalog = StaticCatalog::new()
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
                PluginRef::Builtin("retry-backoff".into()),
                info(
                    PluginKind::RetryStrategy,
                    "retry-backoff",
                    &[("base_delay", false)],
                    &[],
                ),
            )
            .with(
                PluginRef::Builtin("classify-rules".into()),
                info(
                    PluginKind::DispositionClassifier,
                    "classify-rules",
                    &[],
                    &[],
                ),
            );
        let config = Config::parse_str(
            "outdial.toml",
            r#"
[[workspaces]]
id = "acme"

[[plugins]]
name = "holidays"
builtin = "gate-hours"

[[campaigns]]
id = "spring"
workspace = "acme"
provider = { plugin = "simulated" }
gate = { plugin = "gate-hours", config = { hours = "US=09:00-20:00", blackout_dates = "2026-12-25" } }

[[campaigns]]
id = "autumn"
workspace = "acme"
provider = { plugin = "simulated" }
"#,
        )
        .expect("parses");
        let mut specs = config.campaign_specs().expect("valid");
        let autumn = specs.pop().expect("two campaigns");
        let spring = specs.pop().expect("two campaigns");
        let scope = PluginScope {
            config: Arc::new(config),
            catalog: Arc::new(Refusing::new(catalog, KEY_REFUSED)),
        };
        (scope, spring, autumn)
    }

    fn gate(plugin: Option<&str>, config: serde_json::Value) -> GateInput {
        GateInput {
            plugin: plugin.map(str::to_string),
            config: serde_json::from_value(config).expect("an object"),
        }
    }

    #[test]
    fn a_batch_gate_of_the_campaigns_plugin_keeps_the_values_it_does_not_set() {
        let (scope, spring, _) = scope();
        let checked = batch_gate(
            "gate",
            &gate(None, serde_json::json!({"blackout_dates": "2026-12-24"})),
            &spring,
            &scope,
        )
        .expect("accepted");
        assert_eq!(checked.plugin, "gate-hours");
        assert_eq!(
            checked.config_pairs(),
            vec![
                ("blackout_dates".to_string(), "2026-12-24".to_string()),
                ("hours".to_string(), "US=09:00-20:00".to_string())
            ]
        );
        assert_eq!(checked.overridden, vec!["blackout_dates".to_string()]);
    }

    #[test]
    fn a_batch_gate_of_another_plugin_takes_only_its_own_config() {
        let (scope, spring, _) = scope();
        let checked = batch_gate(
            "gate",
            &gate(
                Some("holidays"),
                serde_json::json!({"blackout_dates": "2026-12-24"}),
            ),
            &spring,
            &scope,
        )
        .expect("accepted");
        assert_eq!(checked.plugin, "holidays");
        assert_eq!(
            checked.config_pairs(),
            vec![("blackout_dates".to_string(), "2026-12-24".to_string())]
        );
    }

    #[test]
    fn a_batch_may_name_a_gate_when_its_campaign_has_none() {
        let (scope, _, autumn) = scope();
        let checked = batch_gate(
            "gate",
            &gate(Some("gate-hours"), serde_json::json!({})),
            &autumn,
            &scope,
        )
        .expect("accepted");
        assert_eq!(checked.plugin, "gate-hours");
        assert!(checked.config.is_empty());
        let error = batch_gate(
            "gate",
            &gate(None, serde_json::json!({"hours": "US=09:00-17:00"})),
            &autumn,
            &scope,
        )
        .expect_err("no gate to set keys of");
        assert_eq!(error.path, "gate");
        assert!(
            error.message.contains("the campaign has no gate"),
            "{error}"
        );
    }

    #[test]
    fn a_bad_batch_gate_is_refused_as_the_config_would_be_at_its_json_path() {
        let (scope, spring, _) = scope();
        let refused = |plugin: Option<&str>, config: serde_json::Value| {
            batch_gate("gate", &gate(plugin, config), &spring, &scope).expect_err("refused")
        };
        let error = refused(Some("gate-nowhere"), serde_json::json!({}));
        assert_eq!(error.path, "gate.plugin");
        assert!(
            error.message.contains("unknown plugin \"gate-nowhere\""),
            "{error}"
        );
        for other in ["retry-backoff", "classify-rules"] {
            let error = refused(Some(other), serde_json::json!({}));
            assert_eq!(error.path, "gate.plugin");
            assert!(
                error.message.contains("expected a dial_gate for gate"),
                "{error}"
            );
        }
        let error = refused(None, serde_json::json!({"curfew": "22:00"}));
        assert_eq!(error.path, "gate.config.curfew");
        assert!(
            error
                .message
                .contains("plugin \"gate-hours\" has no config key \"curfew\""),
            "{error}"
        );
        let error = refused(None, serde_json::json!({"hours": null}));
        assert_eq!(error.path, "gate.config.hours");
        assert!(
            error.message.contains("gate.config key \"hours\" is null"),
            "{error}"
        );
        let error = refused(None, serde_json::json!({"blackout_dates": "someday"}));
        assert_eq!(error.path, "gate.config.blackout_dates");
        assert!(error.message.contains("refused its config"), "{error}");
    }
}
