use crate::PluginError;
use crate::duration::{DURATION_EXPECTED, parse_duration_ms};

/// A plugin's configuration: the key/value pairs from the campaign config,
/// with typed accessors whose errors name the key and the bad value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    entries: Vec<(String, String)>,
}

impl Config {
    /// Wrap key/value pairs as the host hands them over.
    pub fn new(entries: Vec<(String, String)>) -> Self {
        Config { entries }
    }

    /// Build a config from literal pairs, for tests.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Config::new(
            pairs
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
        )
    }

    /// The raw value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    /// The value of `key` parsed as `T`, or `default` when it is not set.
    pub fn parse_or<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T, PluginError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|err| {
                PluginError::InvalidConfig(format!("key \"{key}\" has value \"{raw}\": {err}"))
            }),
        }
    }

    /// The value of `key` parsed as a duration such as "90s", "10m", "2h",
    /// "1d", "500ms" or "1h30m" (see [`crate::duration`]), in
    /// milliseconds; `default_ms` when not set.
    pub fn duration_ms_or(&self, key: &str, default_ms: i64) -> Result<i64, PluginError> {
        match self.get(key) {
            None => Ok(default_ms),
            Some(raw) => parse_duration_ms(raw).ok_or_else(|| {
                PluginError::InvalidConfig(format!(
                    "key \"{key}\" has value \"{raw}\": expected {DURATION_EXPECTED}"
                ))
            }),
        }
    }

    /// The value of `key`, or an error naming the missing key.
    pub fn required(&self, key: &str) -> Result<&str, PluginError> {
        self.get(key)
            .ok_or_else(|| PluginError::InvalidConfig(format!("key \"{key}\" is required")))
    }

    /// Every pair, in declaration order.
    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compound_duration_is_read_as_its_sum() {
        let config = Config::from_pairs(&[("base_delay", "1h30m")]);
        assert_eq!(config.duration_ms_or("base_delay", 0), Ok(5_400_000));
    }

    #[test]
    fn a_bad_value_is_refused_with_its_key_and_value() {
        let config = Config::from_pairs(&[("max_delay", "soon")]);
        let err = config.duration_ms_or("max_delay", 0).unwrap_err();
        assert_eq!(
            err,
            PluginError::InvalidConfig(
                "key \"max_delay\" has value \"soon\": expected a duration like \"90s\", \"10m\", \"2h\", \"1d\" or \"1h30m\""
                    .to_string()
            )
        );
    }

    #[test]
    fn the_last_value_of_a_repeated_key_wins() {
        let config = Config::from_pairs(&[("a", "1"), ("a", "2")]);
        assert_eq!(config.get("a"), Some("2"));
    }
}
