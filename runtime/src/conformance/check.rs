//! One check while it runs: the plugin calls it makes, timed and with the
//! memory of the instance that served each, and the first failure.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use super::case;
use super::replay::CaseFiles;
use crate::plugin_host::last_call_memory_bytes;

/// Where a check comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The built-in suite for the plugin's kind.
    BuiltIn,
    /// One of the author's case folders.
    Case,
}

/// Why a check failed: what went wrong, on which input, what was expected
/// and what the plugin did instead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// One sentence: what the plugin did wrong.
    pub reason: String,
    /// The input that failed, in the case format (long strings shortened).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// What the contract or the case expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the plugin answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// The input in full as an author case, which `--failures` writes out.
    /// Boxed: a check's body returns `Result<(), Failure>` at every step.
    #[serde(skip)]
    pub case: Option<Box<CaseFiles>>,
}

impl Failure {
    /// A failure with just a reason.
    pub(crate) fn new(reason: impl Into<String>) -> Failure {
        // One line, so reports stay one line per field (panic messages
        // carry their location on a line of its own).
        Failure {
            reason: reason.into().replace('\n', " "),
            input: None,
            expected: None,
            found: None,
            case: None,
        }
    }

    /// The input that failed, in full and in the case format. Until
    /// [`Failure::expects`] says otherwise, its case expects no fault.
    pub(crate) fn input(mut self, input: Value) -> Failure {
        self.input = Some(case::shorten_strings(&input));
        self.case = Some(Box::new(CaseFiles {
            input,
            expected: json!({"fault": null}),
            config: Vec::new(),
        }));
        self
    }

    /// What the failing input's case expects (`expected.json`): what the
    /// check expected, as far as a case can say it. Call after `input`.
    pub(crate) fn expects(mut self, expected: Value) -> Failure {
        debug_assert!(self.case.is_some(), "expects() follows input()");
        if let Some(case) = &mut self.case {
            case.expected = expected;
        }
        self
    }

    pub(crate) fn expected(mut self, expected: impl Into<String>) -> Failure {
        self.expected = Some(expected.into());
        self
    }

    pub(crate) fn found(mut self, found: impl Into<String>) -> Failure {
        self.found = Some(found.into());
        self
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// A short stable id, e.g. `never-in-the-past` or `case:busy-twice`.
    pub id: String,
    /// What the check proves, in a few words.
    pub title: String,
    pub origin: Origin,
    /// `None` when the check passed.
    pub failure: Option<Failure>,
    /// Plugin calls the check made.
    pub calls: usize,
    /// Median wall time of one call, in microseconds.
    pub latency_p50_us: Option<f64>,
    /// 99th-percentile wall time of one call, in microseconds.
    pub latency_p99_us: Option<f64>,
    /// The most linear memory an instance serving the check held, in bytes.
    pub peak_memory_bytes: Option<usize>,
}

impl CheckReport {
    /// Whether the check passed.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// A check being run.
pub(crate) struct Check {
    id: String,
    title: String,
    origin: Origin,
    samples: Vec<Duration>,
    peak_memory: usize,
}

impl Check {
    pub(crate) fn built_in(id: &str, title: &str) -> Check {
        Check {
            id: id.to_string(),
            title: title.to_string(),
            origin: Origin::BuiltIn,
            samples: Vec::new(),
            peak_memory: 0,
        }
    }

    pub(crate) fn case(name: &str) -> Check {
        Check {
            id: format!("case:{name}"),
            title: format!("the author's case {name}"),
            origin: Origin::Case,
            samples: Vec::new(),
            peak_memory: 0,
        }
    }

    /// Make one plugin call, timing it and noting its instance's memory.
    pub(crate) fn call<R>(&mut self, call: impl FnOnce() -> R) -> R {
        let started = Instant::now();
        let answer = call();
        self.samples.push(started.elapsed());
        self.peak_memory = self.peak_memory.max(last_call_memory_bytes());
        answer
    }

    /// End the check with the outcome of its body.
    pub(crate) fn finish(self, outcome: Result<(), Failure>) -> CheckReport {
        let mut micros: Vec<f64> = self
            .samples
            .iter()
            .map(|sample| sample.as_secs_f64() * 1e6)
            .collect();
        micros.sort_by(f64::total_cmp);
        CheckReport {
            id: self.id,
            title: self.title,
            origin: self.origin,
            failure: outcome.err(),
            calls: micros.len(),
            latency_p50_us: percentile(&micros, 0.50),
            latency_p99_us: percentile(&micros, 0.99),
            peak_memory_bytes: (!self.samples.is_empty()).then_some(self.peak_memory),
        }
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], share: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (share * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&samples, 0.50), Some(50.0));
        assert_eq!(percentile(&samples, 0.99), Some(99.0));
        assert_eq!(percentile(&[7.0], 0.99), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
