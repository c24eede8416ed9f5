//! Dial gates: decide, right before each dial, whether it may happen.
//!
//! The host has already applied the campaign's calling window, its limits
//! and the blocking suppression lists; a gate adds the operator's own rules
//! (calling hours by jurisdiction, consent, how often a number may be
//! called). It is handed a tick's candidates together and answers one
//! [`Verdict`] per candidate, in order:
//!
//! - [`Verdict::Allow`]: the host dials now.
//! - [`Verdict::defer_until`]: the host sets the contact aside with the
//!   blocker `gate_deferred` and asks again at that time.
//! - [`Verdict::skip`]: the contact ends `skipped` with the reason.
//!
//! A gate that traps, overruns its deadline or answers an error, a
//! malformed list or fewer verdicts than candidates has every candidate of
//! that call deferred, and the host counts a plugin fault.
//!
//! A gate describes itself with a [`GateMetadata`] rather than the
//! [`crate::Metadata`] of the other kinds: the contract's `plugin-kind` has
//! three cases that released plugins rely on, so the gate world carries a
//! metadata record without a kind, and [`DialGate`] has its own
//! `metadata` and `configure` instead of the [`crate::Plugin`] trait.
//!
//! ```ignore
//! use outdial_sdk::prelude::*;
//!
//! struct NoSundays;
//!
//! impl DialGate for NoSundays {
//!     fn metadata() -> GateMetadata { GateMetadata::new("no-sundays", "0.1.0") }
//!     fn configure(_config: &Config) -> Result<Self, PluginError> { Ok(NoSundays) }
//!     fn check(&self, candidate: &Candidate) -> Result<Verdict, PluginError> {
//!         if candidate.now_local.weekday == 6 {
//!             // Monday 09:00 on the contact's own clock.
//!             return Ok(Verdict::defer_until(candidate.at_local(1, 9, 0), "no calls on Sunday"));
//!         }
//!         Ok(Verdict::Allow)
//!     }
//! }
//!
//! outdial_sdk::export_dial_gate!(NoSundays);
//! ```
//!
//! Its logic is tested natively with the builders of [`crate::testing`]:
//! `testing::candidate("+12125550100", TEST_NOW_MS).with_local(2026, 3, 8,
//! 10, 0)` is a New York number on a Sunday morning.

pub use crate::wit::gate_world::exports::outdial::plugin::gate::{
    Candidate, Deferral, GateMetadata, LocalTime, PhoneHistory, Verdict,
};
use crate::{Config, ConfigKey, DAY_MS, PluginError, TimestampMs};

/// A plugin that may refuse or defer a dial before it is made.
///
/// Unlike the other kinds it does not implement [`crate::Plugin`]: it says
/// what it is with a [`GateMetadata`], which has no kind.
pub trait DialGate: Sized + 'static {
    /// Name, version and the config keys the gate accepts.
    fn metadata() -> GateMetadata;

    /// Build the gate from its configuration, refusing bad values.
    fn configure(config: &Config) -> Result<Self, PluginError>;

    /// Decide on one dial about to be made.
    fn check(&self, candidate: &Candidate) -> Result<Verdict, PluginError>;

    /// Decide on a tick's candidates, one verdict each, in order. By
    /// default [`DialGate::check`] on each; override it to share work
    /// across the list. An error fails the whole call: the host then
    /// defers every candidate of it.
    fn check_all(&self, candidates: &[Candidate]) -> Result<Vec<Verdict>, PluginError> {
        candidates
            .iter()
            .map(|candidate| self.check(candidate))
            .collect()
    }
}

/// What the component answers the host for `candidates`:
/// [`DialGate::check_all`], refused when it does not hold exactly one
/// verdict per candidate, so the mistake is named in the plugin rather than
/// found by the host. A test checks a whole tick with it.
pub fn answer<G: DialGate>(
    gate: &G,
    candidates: &[Candidate],
) -> Result<Vec<Verdict>, PluginError> {
    let verdicts = gate.check_all(candidates)?;
    if verdicts.len() != candidates.len() {
        return Err(PluginError::Internal(format!(
            "the gate answered {} verdicts for {} candidates",
            verdicts.len(),
            candidates.len()
        )));
    }
    Ok(verdicts)
}

impl GateMetadata {
    /// Metadata of a gate with no config keys yet.
    pub fn new(name: &str, version: &str) -> Self {
        GateMetadata {
            name: name.to_string(),
            version: version.to_string(),
            config_keys: Vec::new(),
        }
    }

    /// Declare a config key the gate accepts.
    pub fn key(mut self, name: &str, required: bool, description: &str) -> Self {
        self.config_keys.push(ConfigKey {
            name: name.to_string(),
            required,
            description: description.to_string(),
        });
        self
    }
}

impl Verdict {
    /// Not now: the host asks again at `until`, which should be no earlier
    /// than the decision time.
    pub fn defer_until(until: TimestampMs, reason: impl Into<String>) -> Self {
        Verdict::Defer(Deferral {
            until,
            reason: reason.into(),
        })
    }

    /// Never: the contact ends `skipped` with `reason`.
    pub fn skip(reason: impl Into<String>) -> Self {
        Verdict::Skip(reason.into())
    }
}

impl Candidate {
    /// The contact's attribute `key` (the first, when several share it).
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.contact
            .attributes
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    /// True when the number is on the informing suppression list `name`.
    pub fn is_on_list(&self, name: &str) -> bool {
        self.suppression_lists.iter().any(|list| list == name)
    }

    /// The UTC instant of `hour:minute` on the contact's clock, `days_ahead`
    /// days from the local date of the decision, assuming the current UTC
    /// offset still holds then.
    pub fn at_local(&self, days_ahead: i64, hour: u8, minute: u8) -> TimestampMs {
        self.now_local.at_local(self.now, days_ahead, hour, minute)
    }
}

impl LocalTime {
    /// The reading at `utc_ms` of a clock `utc_offset_seconds` ahead of
    /// UTC, which never changes its offset.
    pub fn from_utc(utc_ms: TimestampMs, utc_offset_seconds: i32) -> Self {
        let local_ms = utc_ms + i64::from(utc_offset_seconds) * 1000;
        let days = local_ms.div_euclid(DAY_MS);
        let second_of_day = local_ms.rem_euclid(DAY_MS) / 1000;
        let (year, month, day) = civil_from_days(days);
        LocalTime {
            year,
            month,
            day,
            hour: (second_of_day / 3600) as u8,
            minute: (second_of_day / 60 % 60) as u8,
            second: (second_of_day % 60) as u8,
            weekday: weekday_of_days(days),
            utc_offset_seconds,
        }
    }

    /// The UTC instant of `hour:minute` local time, `days_ahead` days from
    /// this local date, assuming the current UTC offset still holds.
    pub fn at_local(
        &self,
        now_utc_ms: TimestampMs,
        days_ahead: i64,
        hour: u8,
        minute: u8,
    ) -> TimestampMs {
        let seconds_into_day =
            i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second);
        let midnight = now_utc_ms - seconds_into_day * 1000 - now_utc_ms.rem_euclid(1000);
        midnight + days_ahead * DAY_MS + (i64::from(hour) * 3600 + i64::from(minute) * 60) * 1000
    }

    /// Minutes since local midnight, 0 to 1439.
    pub fn minute_of_day(&self) -> u16 {
        u16::from(self.hour) * 60 + u16::from(self.minute)
    }
}

impl Default for PhoneHistory {
    /// A number never called before.
    fn default() -> Self {
        PhoneHistory {
            attempts_past_day: 0,
            attempts_past_week: 0,
            attempts_past_month: 0,
            last_attempt_at: None,
            last_label: None,
        }
    }
}

/// The date `days` days after 1970-01-01 as (year, month, day), in the
/// proleptic Gregorian calendar (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year as i32, month as u8, day as u8)
}

/// Days from 1970-01-01 to a date, the inverse of [`civil_from_days`]:
/// what local-date arithmetic (the day after, the days of a range) is
/// done in. `month` is 1 to 12; a day past the month's end counts on into
/// the next month, so a date is checked by reading it back.
pub fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// 0 for Monday to 6 for Sunday; 1970-01-01 was a Thursday.
fn weekday_of_days(days: i64) -> u8 {
    (days + 3).rem_euclid(7) as u8
}

/// Export `$gate`, a [`DialGate`], as the component's implementation of the
/// `dial-gate` world. Expands to nothing outside Wasm, so the same crate
/// builds and tests natively.
#[macro_export]
macro_rules! export_dial_gate {
    ($gate:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::__private::wit::gate_world as bindings;

            struct OutdialExport;

            impl bindings::exports::outdial::plugin::gate::Guest for OutdialExport {
                fn describe() -> $crate::gate::GateMetadata {
                    $crate::__private::install_panic_hook();
                    <$gate as $crate::gate::DialGate>::metadata()
                }
                fn configure(config: Vec<(String, String)>) -> Result<(), $crate::PluginError> {
                    $crate::__private::configure_with(
                        config,
                        <$gate as $crate::gate::DialGate>::configure,
                    )
                }
                fn check(
                    candidates: Vec<$crate::gate::Candidate>,
                ) -> Result<Vec<$crate::gate::Verdict>, $crate::PluginError> {
                    $crate::__private::with_plugin(|gate: &$gate| {
                        $crate::gate::answer(gate, &candidates)
                    })
                }
            }

    bindings::export_gate_world!(OutdialExport with_types_in bindings);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TEST_NOW_MS, candidate};

    /// Defers every dial on a Sunday to Monday 09:00 and skips numbers on
    /// the list "never".
    struct NoSundays;

    impl DialGate for NoSundays {
        fn metadata() -> GateMetadata {
            GateMetadata::new("no-sundays", "0.1.0").key("list", false, "Skip this list.")
        }
        fn configure(_config: &Config) -> Result<Self, PluginError> {
            Ok(NoSundays)
        }
        fn check(&self, candidate: &Candidate) -> Result<Verdict, PluginError> {
            if candidate.is_on_list("never") {
                return Ok(Verdict::skip("on the list \"never\""));
            }
            if candidate.now_local.weekday == 6 {
                return Ok(Verdict::defer_until(
                    candidate.at_local(1, 9, 0),
                    "no calls on Sunday",
                ));
            }
            Ok(Verdict::Allow)
        }
    }

    /// Answers one verdict whatever it is asked.
    struct OneAnswer;

    impl DialGate for OneAnswer {
        fn metadata() -> GateMetadata {
            GateMetadata::new("one-answer", "0.1.0")
        }
        fn configure(_config: &Config) -> Result<Self, PluginError> {
            Ok(OneAnswer)
        }
        fn check(&self, _candidate: &Candidate) -> Result<Verdict, PluginError> {
            Ok(Verdict::Allow)
        }
        fn check_all(&self, _candidates: &[Candidate]) -> Result<Vec<Verdict>, PluginError> {
            Ok(vec![Verdict::Allow])
        }
    }

    #[test]
    fn a_gate_answers_one_verdict_per_candidate_in_order() {
        let monday = candidate("+12125550100", TEST_NOW_MS);
        let sunday = monday.clone().with_local(2026, 3, 8, 10, 30);
        let listed = monday.clone().with_lists(&["never"]);
        let verdicts = answer(&NoSundays, &[monday, sunday.clone(), listed]).unwrap();
        assert_eq!(
            verdicts,
            vec![
                Verdict::Allow,
                Verdict::defer_until(sunday.at_local(1, 9, 0), "no calls on Sunday"),
                Verdict::Skip("on the list \"never\"".to_string()),
            ]
        );
        let Verdict::Defer(deferral) = &verdicts[1] else {
            unreachable!()
        };
        assert_eq!(
            LocalTime::from_utc(deferral.until, sunday.now_local.utc_offset_seconds),
            LocalTime {
                year: 2026,
                month: 3,
                day: 9,
                hour: 9,
                minute: 0,
                second: 0,
                weekday: 0,
                utc_offset_seconds: -5 * 3600,
            }
        );
    }

    #[test]
    fn a_gate_that_answers_too_few_verdicts_is_refused_by_the_sdk() {
        let candidates = vec![candidate("+12125550100", TEST_NOW_MS); 3];
        assert_eq!(
            answer(&OneAnswer, &candidates),
            Err(PluginError::Internal(
                "the gate answered 1 verdicts for 3 candidates".to_string()
            ))
        );
        assert_eq!(
            answer(&OneAnswer, &candidates[..1]),
            Ok(vec![Verdict::Allow])
        );
    }

    #[test]
    fn gate_metadata_lists_its_keys_without_a_kind() {
        assert_eq!(
            NoSundays::metadata(),
            GateMetadata {
                name: "no-sundays".to_string(),
                version: "0.1.0".to_string(),
                config_keys: vec![ConfigKey {
                    name: "list".to_string(),
                    required: false,
                    description: "Skip this list.".to_string(),
                }],
            }
        );
    }

    #[test]
    fn a_fixed_offset_clock_reads_the_civil_date_time_and_weekday() {
        // 2026-03-02 15:00 UTC is 10:00 on Monday in New York (UTC-5).
        let reading = LocalTime::from_utc(TEST_NOW_MS, -5 * 3600);
        assert_eq!(
            (reading.year, reading.month, reading.day, reading.hour),
            (2026, 3, 2, 10)
        );
        assert_eq!(reading.weekday, 0);
        assert_eq!(reading.minute_of_day(), 600);
        // Half past midnight in Tokyo is still the day before in UTC.
        let tokyo = LocalTime::from_utc(TEST_NOW_MS + 9 * 3_600_000 + 1_800_000, 9 * 3600);
        assert_eq!(
            (tokyo.month, tokyo.day, tokyo.hour, tokyo.minute),
            (3, 3, 9, 30)
        );
        assert_eq!(tokyo.weekday, 1);
        // Before the epoch and across a leap day.
        let before = LocalTime::from_utc(-1, 0);
        assert_eq!((before.year, before.month, before.day), (1969, 12, 31));
        assert_eq!(before.weekday, 2, "1969-12-31 was a Wednesday");
        let leap = LocalTime::from_utc(days_from_civil(2028, 2, 29) * DAY_MS, 0);
        assert_eq!((leap.year, leap.month, leap.day), (2028, 2, 29));
    }

    #[test]
    fn civil_dates_and_day_numbers_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(
                days_from_civil(year, month, day),
                days,
                "{year}-{month}-{day}"
            );
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn a_candidate_reads_its_attributes_and_lists() {
        let candidate = candidate("+12125550100", TEST_NOW_MS)
            .with_attribute("consent", "yes")
            .with_lists(&["mornings-only"]);
        assert_eq!(candidate.attribute("consent"), Some("yes"));
        assert_eq!(candidate.attribute("line_type"), None);
        assert!(candidate.is_on_list("mornings-only"));
        assert!(!candidate.is_on_list("consent"));
    }
}
