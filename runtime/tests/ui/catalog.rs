//! A plugin catalog for tests: the built-in plugins as they describe
//! themselves (provider-voiceai aside), and a provider-twilio adapter at any path ending in
//! `provider-twilio.wasm`, so configs can be checked without loading Wasm.

use outdial::config::{ConfigKeyInfo, PluginCatalog, PluginInfo, PluginKind, PluginRef};

/// Knows the built-in plugins and provider-twilio.
pub struct TestCatalog;

fn info(kind: PluginKind, name: &str, keys: &[(&str, bool)], labels: &[&str]) -> PluginInfo {
    PluginInfo {
        kind,
        name: name.to_string(),
        version: "0.1.0".to_string(),
        config_keys: keys
            .iter()
            .map(|(key, required)| ConfigKeyInfo {
                name: key.to_string(),
                required: *required,
                description: format!("{key} of {name}"),
            })
            .collect(),
        labels: labels.iter().map(|label| label.to_string()).collect(),
    }
}

impl PluginCatalog for TestCatalog {
    fn describe(&self, plugin: &PluginRef) -> Result<PluginInfo, String> {
        match plugin {
            PluginRef::Builtin(name) => match name.as_str() {
                "retry-backoff" => Ok(info(
                    PluginKind::RetryStrategy,
                    name,
                    &[
                        ("base_delay", false),
                        ("base_delay_busy", false),
                        ("base_delay_no_answer", false),
                        ("base_delay_voicemail", false),
                        ("base_delay_call_screening", false),
                        ("base_delay_failed", false),
                        ("base_delay_answered", false),
                        ("multiplier", false),
                        ("max_delay", false),
                        ("jitter", false),
                    ],
                    &[],
                )),
                "retry-schedule" => Ok(info(
                    PluginKind::RetryStrategy,
                    name,
                    &[
                        ("busy", false),
                        ("no_answer", false),
                        ("voicemail", false),
                        ("call_screening", false),
                        ("failed", false),
                        ("answered", false),
                    ],
                    &[],
                )),
                "classify-rules" => Ok(info(
                    PluginKind::DispositionClassifier,
                    name,
                    &[
                        ("callback_delay", false),
                        ("voicemail_is_terminal", false),
                        ("short_call", false),
                        ("do_not_call_phrases", false),
                        ("wrong_number_phrases", false),
                        ("callback_phrases", false),
                        ("not_interested_phrases", false),
                        ("interested_phrases", false),
                    ],
                    &[
                        "human_answered",
                        "voicemail",
                        "call_screening",
                        "busy",
                        "no_answer",
                        "failed",
                        "wrong_number",
                        "do_not_call",
                        "interested",
                        "not_interested",
                        "callback_requested",
                    ],
                )),
                "provider-twilio" => Ok(info(
                    PluginKind::ProviderAdapter,
                    name,
                    &[
                        ("account_sid", true),
                        ("auth_token", true),
                        ("api_base", false),
                        ("twiml_url", false),
                        ("twiml", false),
                        ("machine_detection", false),
                        ("ring_timeout", false),
                    ],
                    &[],
                )),
                other => Err(format!("no built-in plugin named \"{other}\"")),
            },
            PluginRef::Path(path) if path.ends_with("provider-twilio.wasm") => Ok(info(
                PluginKind::ProviderAdapter,
                "provider-twilio",
                &[
                    ("account_sid", true),
                    ("auth_token", true),
                    ("status_callback_base", false),
                    ("machine_detection", false),
                ],
                &[],
            )),
            PluginRef::Path(path) => {
                Err(format!("cannot read \"{}\": no such file", path.display()))
            }
        }
    }
}
