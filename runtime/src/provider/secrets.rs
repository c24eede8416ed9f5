//! Provider secrets: referenced in config by environment variable, read
//! when the provider is set up, handed to the adapter plugin as config, and
//! kept out of everything outdial writes — logs, events, the store, API
//! answers — by a [`Redactor`] applied to every text that comes back from
//! the adapter or the network.

use std::borrow::Cow;

use crate::model::CampaignSpec;

/// What replaces a secret in any text outdial writes.
pub const REDACTED: &str = "[redacted]";

/// A secret the environment does not provide.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "campaign \"{campaign}\": provider secret \"{key}\" reads environment variable {variable}, which is not set or empty"
)]
pub struct MissingSecret {
    pub campaign: String,
    pub key: String,
    pub variable: String,
}

/// The provider config of `spec` with its secrets filled in from `env`
/// (usually `|name| std::env::var(name).ok()`), and a redactor for them.
pub fn provider_config(
    spec: &CampaignSpec,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Vec<(String, String)>, Redactor), MissingSecret> {
    with_secrets(&spec.id, &spec.provider_config, &spec.provider_secrets, env)
}

/// `config` with each `(key, variable)` of `secrets` read from `env`.
pub fn with_secrets(
    campaign: &str,
    config: &[(String, String)],
    secrets: &[(String, String)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Vec<(String, String)>, Redactor), MissingSecret> {
    let mut config = config.to_vec();
    let mut values = Vec::new();
    for (key, variable) in secrets {
        let value = env(variable)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| MissingSecret {
                campaign: campaign.to_string(),
                key: key.clone(),
                variable: variable.clone(),
            })?;
        config.retain(|(name, _)| name != key);
        config.push((key.clone(), value.clone()));
        values.push(value);
    }
    Ok((config, Redactor::new(values)))
}

/// Replaces known secret values, and the forms they travel in, with
/// [`REDACTED`].
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret that contains another is replaced whole.
    needles: Vec<String>,
}

impl Redactor {
    /// A redactor for `secrets`: each as written and form-encoded.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut needles = Vec::new();
        for secret in secrets {
            if secret.is_empty() {
                continue;
            }
            let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            if encoded != secret {
                needles.push(encoded);
            }
            needles.push(secret);
        }
        needles.sort_by_key(|needle| std::cmp::Reverse(needle.len()));
        needles.dedup();
        Redactor { needles }
    }

    /// True when there is nothing to hide.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every secret replaced.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self
            .needles
            .iter()
            .any(|needle| text.contains(needle.as_str()))
        {
            return Cow::Borrowed(text);
        }
        let mut clean = text.to_string();
        for needle in &self.needles {
            if clean.contains(needle.as_str()) {
                clean = clean.replace(needle.as_str(), REDACTED);
            }
        }
        Cow::Owned(clean)
    }

    /// Redact every value of key/value pairs in place.
    pub fn redact_pairs(&self, pairs: &mut [(String, String)]) {
        for (_, value) in pairs {
            if let Cow::Owned(clean) = self.redact(value) {
                *value = clean;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_their_encoded_forms_are_redacted() {
        let redactor = Redactor::new(["tok/en+1".to_string(), "abc".to_string()]);
        assert_eq!(
            redactor.redact("auth tok/en+1 and tok%2Fen%2B1, abc"),
            "auth [redacted] and [redacted], [redacted]"
        );
        assert!(matches!(redactor.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_secret_containing_another_is_replaced_whole() {
        let redactor = Redactor::new(["ab".to_string(), "xxabxx".to_string()]);
        assert_eq!(redactor.redact("=xxabxx="), "=[redacted]=");
    }

    #[test]
    fn secrets_come_from_the_environment_and_a_missing_one_is_named() {
        let config = vec![("account_sid".to_string(), "AC1".to_string())];
        let secrets = vec![("auth_token".to_string(), "TWILIO_TOKEN".to_string())];
        let (config_with, redactor) = with_secrets("renewals", &config, &secrets, &|name| {
            (name == "TWILIO_TOKEN").then(|| "s3cr3t".to_string())
        })
        .expect("resolved");
        let config = config_with;
        assert!(config.contains(&("auth_token".to_string(), "s3cr3t".to_string())));
        assert_eq!(redactor.redact("s3cr3t"), REDACTED);
        let err = with_secrets(
            "renewals",
            &[],
            &[("auth_token".to_string(), "TWILIO_TOKEN".to_string())],
            &|_| None,
        )
        .expect_err("missing");
        assert_eq!(
            err.to_string(),
            "campaign \"renewals\": provider secret \"auth_token\" reads environment variable TWILIO_TOKEN, which is not set or empty"
        );
    }
}
