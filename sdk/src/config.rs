use crate::PluginError;

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
    /// "1d" or "500ms", in milliseconds; `default_ms` when not set.
    pub fn duration_ms_or(&self, key: &str, default_ms: i64) -> Result<i64, PluginError> {
        match self.get(key) {
            None => Ok(default_ms),
            Some(raw) => parse_duration_ms(raw).ok_or_else(|| {
                PluginError::InvalidConfig(format!(
                    "key \"{key}\" has value \"{raw}\": expected a duration like \"90s\", \"10m\", \"2h\" or \"1d\""
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

/// Parse "500ms", "90s", "10m", "2h" or "1d" into milliseconds.
pub fn parse_duration_ms(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = raw.split_at(split);
    let number: i64 = number.parse().ok()?;
    let unit_ms = match unit.trim() {
        "ms" => 1,
        "s" => crate::SECOND_MS,
        "m" | "min" => crate::MINUTE_MS,
        "h" => crate::HOUR_MS,
        "d" => crate::DAY_MS,
        _ => return None,
    };
    number.checked_mul(unit_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit() {
        assert_eq!(parse_duration_ms("500ms"), Some(500));
        assert_eq!(parse_duration_ms("90s"), Some(90_000));
        assert_eq!(parse_duration_ms("10m"), Some(600_000));
        assert_eq!(parse_duration_ms("2h"), Some(7_200_000));
        assert_eq!(parse_duration_ms("1d"), Some(86_400_000));
        assert_eq!(parse_duration_ms("10"), None);
        assert_eq!(parse_duration_ms("m"), None);
        assert_eq!(parse_duration_ms("3 weeks"), None);
    }

    #[test]
    fn a_bad_value_is_refused_with_its_key_and_value() {
        let config = Config::from_pairs(&[("max_delay", "soon")]);
        let err = config.duration_ms_or("max_delay", 0).unwrap_err();
        assert_eq!(
            err,
            PluginError::InvalidConfig(
                "key \"max_delay\" has value \"soon\": expected a duration like \"90s\", \"10m\", \"2h\" or \"1d\""
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
