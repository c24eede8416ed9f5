//! The simulated provider's settings: how its network behaves, read from a
//! campaign's `[campaigns.provider]` section when `plugin = "simulated"`.
//! They are config, so the config checker reads them here; the simulator
//! itself (`provider::simulated`) plays them out.

use serde::{Deserialize, Serialize};

/// An inclusive range `min..=max` of a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    pub min: u64,
    pub max: u64,
}

impl Span {
    /// A range from `min` to `max`, both included.
    pub const fn new(min: u64, max: u64) -> Self {
        Span { min, max }
    }
}

/// Relative weights of how simulated calls end. Only ratios matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutcomeMix {
    /// A person answers and talks. Default: 45.
    pub human: u32,
    /// A voicemail box answers. Default: 20.
    pub voicemail: u32,
    /// A call-screening assistant answers. Default: 5.
    pub call_screening: u32,
    /// The line is busy (SIP 486). Default: 8.
    pub busy: u32,
    /// Nobody answers before the network gives up (SIP 480). Default: 17.
    pub no_answer: u32,
    /// The network fails the call with one of `failure_sip_codes`. Default: 5.
    pub failed: u32,
}

impl Default for OutcomeMix {
    fn default() -> Self {
        OutcomeMix {
            human: 45,
            voicemail: 20,
            call_screening: 5,
            busy: 8,
            no_answer: 17,
            failed: 5,
        }
    }
}

impl OutcomeMix {
    /// Every call answered by a person who talks: for runs that must not
    /// depend on which outcomes a batch's random ids draw.
    pub const EVERY_CALL_ANSWERED: OutcomeMix = OutcomeMix {
        human: 1,
        voicemail: 0,
        call_screening: 0,
        busy: 0,
        no_answer: 0,
        failed: 0,
    };

    /// The sum of the weights.
    pub fn total(&self) -> u64 {
        [
            self.human,
            self.voicemail,
            self.call_screening,
            self.busy,
            self.no_answer,
            self.failed,
        ]
        .iter()
        .map(|w| u64::from(*w))
        .sum()
    }
}

/// How the simulated network behaves. Durations in the script are
/// simulated time; `time_scale` says how fast they pass on the clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulationConfig {
    /// Seed every call's script derives from, with its attempt id. Default: 0.
    pub seed: u64,
    /// Relative weights of how calls end. Default: see [`OutcomeMix`].
    pub outcomes: OutcomeMix,
    /// SIP codes a failed call ends with, one picked evenly. Default: 404, 480, 503.
    pub failure_sip_codes: Vec<u16>,
    /// Seconds an answered call rings first. Default: 3 to 20.
    pub ring_seconds: Span,
    /// Seconds an unanswered call rings before the network gives up. Default: 25 to 45.
    pub no_answer_ring_seconds: Span,
    /// Seconds of conversation when a person answers. Default: 30 to 120.
    pub talk_seconds: Span,
    /// Seconds a voicemail greeting and message take. Default: 15 to 45.
    pub voicemail_seconds: Span,
    /// Seconds a call-screening assistant keeps the line. Default: 5 to 15.
    pub screening_seconds: Span,
    /// Milliseconds from placing a call to it ringing, or failing. Default: 100 to 800.
    pub placement_latency_ms: Span,
    /// Price of answered talk time per minute, in millionths of the
    /// currency unit, billed per started second. Default: 13000.
    pub cost_per_minute_micros: u64,
    /// Whether answered calls carry a transcript from the built-in corpus. Default: true.
    pub transcripts: bool,
    /// Share of placements refused with a transient failure, 0 to 1. Default: 0.
    pub transient_failure_rate: f64,
    /// Share of placements refused as throttled, 0 to 1. Default: 0.
    pub throttle_rate: f64,
    /// `retry_after_ms` reported with a random throttle. Default: 1000.
    pub throttle_retry_after_ms: u64,
    /// Most placements accepted per second of clock time; the rest are
    /// throttled until the next second. Default: unlimited.
    pub max_calls_per_second: Option<u32>,
    /// Destinations starting with any of these are refused as invalid. Default: none.
    pub invalid_number_prefixes: Vec<String>,
    /// Refuse destinations that are not `+` and 7 to 15 digits. Default: true.
    pub reject_malformed_numbers: bool,
    /// Share of calls whose final event is never delivered, so only
    /// `poll_status` learns how they ended, 0 to 1. Default: 0.
    pub lost_final_event_rate: f64,
    /// Deliver every event at the moment the call is placed; the script's
    /// durations are still reported. For throughput benchmarks. Default: false.
    pub instant: bool,
    /// How much faster than real time calls play out: 100 makes a 60 s
    /// call last 600 ms of clock time. Default: 1.
    pub time_scale: f64,
    /// How long after placing a call the simulator still knows it, as a
    /// provider keeps idempotency keys for a while: placing its attempt id
    /// again within this answers the same call, and `poll_status` and the
    /// simulator's `calls_placed_for` find it; later, neither
    /// does. Keeps a long run's memory bounded. Default: for good.
    pub call_memory_ms: Option<u64>,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            seed: 0,
            outcomes: OutcomeMix::default(),
            failure_sip_codes: vec![404, 480, 503],
            ring_seconds: Span::new(3, 20),
            no_answer_ring_seconds: Span::new(25, 45),
            talk_seconds: Span::new(30, 120),
            voicemail_seconds: Span::new(15, 45),
            screening_seconds: Span::new(5, 15),
            placement_latency_ms: Span::new(100, 800),
            cost_per_minute_micros: 13_000,
            transcripts: true,
            transient_failure_rate: 0.0,
            throttle_rate: 0.0,
            throttle_retry_after_ms: 1_000,
            max_calls_per_second: None,
            invalid_number_prefixes: Vec::new(),
            reject_malformed_numbers: true,
            lost_final_event_rate: 0.0,
            instant: false,
            time_scale: 1.0,
            call_memory_ms: None,
        }
    }
}

/// Why a simulation config is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimulationConfigError {
    #[error("{field} = {value} is not a share between 0 and 1")]
    NotAShare { field: &'static str, value: f64 },
    #[error("time_scale = {0} must be a positive number")]
    TimeScale(f64),
    #[error("{field} has min {min} above max {max}")]
    EmptySpan {
        field: &'static str,
        min: u64,
        max: u64,
    },
    #[error("outcomes weigh nothing: at least one weight must be above 0")]
    NoOutcomes,
    #[error("failure_sip_codes is empty but outcomes.failed is {0}")]
    NoFailureCodes(u32),
    #[error("failure_sip_codes has {0}, which is not a SIP final response code (300 to 699)")]
    BadSipCode(u16),
    #[error("max_calls_per_second = 0 would refuse every call")]
    ZeroRateLimit,
    #[error("invalid simulation setting \"{key}\" = \"{value}\": {reason}")]
    Setting {
        key: String,
        value: String,
        reason: String,
    },
    #[error("invalid simulation config: {0}")]
    Parse(String),
}

impl SimulationConfig {
    /// Check every setting, so a bad config is refused before a campaign starts.
    pub fn validate(&self) -> Result<(), SimulationConfigError> {
        for (field, value) in [
            ("transient_failure_rate", self.transient_failure_rate),
            ("throttle_rate", self.throttle_rate),
            ("lost_final_event_rate", self.lost_final_event_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(SimulationConfigError::NotAShare { field, value });
            }
        }
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(SimulationConfigError::TimeScale(self.time_scale));
        }
        for (field, span) in [
            ("ring_seconds", self.ring_seconds),
            ("no_answer_ring_seconds", self.no_answer_ring_seconds),
            ("talk_seconds", self.talk_seconds),
            ("voicemail_seconds", self.voicemail_seconds),
            ("screening_seconds", self.screening_seconds),
            ("placement_latency_ms", self.placement_latency_ms),
        ] {
            if span.min > span.max {
                return Err(SimulationConfigError::EmptySpan {
                    field,
                    min: span.min,
                    max: span.max,
                });
            }
        }
        if self.outcomes.total() == 0 {
            return Err(SimulationConfigError::NoOutcomes);
        }
        if self.outcomes.failed > 0 && self.failure_sip_codes.is_empty() {
            return Err(SimulationConfigError::NoFailureCodes(self.outcomes.failed));
        }
        if let Some(code) = self
            .failure_sip_codes
            .iter()
            .find(|code| !(300..=699).contains(*code))
        {
            return Err(SimulationConfigError::BadSipCode(*code));
        }
        if self.max_calls_per_second == Some(0) {
            return Err(SimulationConfigError::ZeroRateLimit);
        }
        Ok(())
    }

    /// Build a config from a campaign's `provider_config` pairs. Dotted keys
    /// reach into nested settings (`outcomes.human`, `talk_seconds.max`);
    /// values are JSON (numbers, booleans, arrays) or else plain strings.
    /// Unset settings keep their defaults; the result is validated.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, SimulationConfigError> {
        // Start from the defaults as a tree, so that setting one field of a
        // nested table keeps the others.
        let mut root = serde_json::to_value(SimulationConfig::default())
            .map_err(|err| SimulationConfigError::Parse(err.to_string()))?;
        for (key, raw) in pairs {
            let value = serde_json::from_str::<serde_json::Value>(raw)
                .unwrap_or_else(|_| serde_json::Value::String(raw.clone()));
            let mut node = &mut root;
            let mut parts = key.split('.').peekable();
            while let Some(part) = parts.next() {
                let serde_json::Value::Object(map) = node else {
                    return Err(SimulationConfigError::Setting {
                        key: key.clone(),
                        value: raw.clone(),
                        reason: format!("\"{part}\" is inside a setting that is not a table"),
                    });
                };
                if parts.peek().is_none() {
                    map.insert(part.to_string(), value);
                    break;
                }
                node = map
                    .entry(part.to_string())
                    .or_insert_with(|| serde_json::Value::Object(Default::default()));
            }
        }
        let config: SimulationConfig = serde_json::from_value(root)
            .map_err(|err| SimulationConfigError::Parse(err.to_string()))?;
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_apply_to_missing_fields_and_unknown_fields_are_refused() {
        let config: SimulationConfig =
            serde_json::from_str(r#"{"seed": 3, "talk_seconds": {"min": 10, "max": 20}}"#)
                .expect("valid json");
        assert_eq!(config.seed, 3);
        assert_eq!(config.talk_seconds, Span::new(10, 20));
        assert_eq!(
            config.ring_seconds,
            SimulationConfig::default().ring_seconds
        );
        assert!(serde_json::from_str::<SimulationConfig>(r#"{"sed": 3}"#).is_err());
    }

    #[test]
    fn config_from_pairs_reaches_nested_settings() {
        let pairs = [
            ("seed", "42"),
            ("outcomes.human", "100"),
            ("talk_seconds.max", "60"),
            ("instant", "true"),
            ("invalid_number_prefixes", r#"["+1555"]"#),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let config = SimulationConfig::from_pairs(&pairs).expect("valid pairs");
        assert_eq!(config.seed, 42);
        assert_eq!(config.outcomes.human, 100);
        assert_eq!(config.outcomes.voicemail, 20);
        assert_eq!(config.talk_seconds, Span::new(30, 60));
        assert!(config.instant);
        assert_eq!(config.invalid_number_prefixes, ["+1555"]);

        let bad = [("time_scale".to_string(), "-1".to_string())];
        assert_eq!(
            SimulationConfig::from_pairs(&bad)
                .expect_err("negative scale")
                .to_string(),
            "time_scale = -1 must be a positive number"
        );
        let unknown = [("colour".to_string(), "blue".to_string())];
        assert!(SimulationConfig::from_pairs(&unknown).is_err());
    }

    #[test]
    fn invalid_configs_are_refused_with_the_bad_value() {
        let err = SimulationConfig {
            throttle_rate: 1.5,
            ..Default::default()
        }
        .validate()
        .expect_err("out of range");
        assert_eq!(
            err.to_string(),
            "throttle_rate = 1.5 is not a share between 0 and 1"
        );
        let err = SimulationConfig {
            talk_seconds: Span::new(90, 30),
            ..Default::default()
        }
        .validate()
        .expect_err("empty span");
        assert_eq!(err.to_string(), "talk_seconds has min 90 above max 30");
        let err = SimulationConfig {
            failure_sip_codes: vec![404, 200],
            ..Default::default()
        }
        .validate()
        .expect_err("not a failure code");
        assert_eq!(
            err.to_string(),
            "failure_sip_codes has 200, which is not a SIP final response code (300 to 699)"
        );
    }
}
