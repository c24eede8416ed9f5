//! Calling hours by jurisdiction, as a dial gate.
//!
//! Each candidate's jurisdiction comes from its number: the country from
//! the E.164 calling code and, for the US, the state from the area code
//! (`src/us_area_codes.rs`). Its allowed local hours come from a table
//! that is data, not code: [`settings::DEFAULT_HOURS`] (US federal 08:00-21:00,
//! the states known to be stricter, Canada) with the operator's `hours`
//! entries over it; a state's hours are narrowed to its country's, since
//! both laws apply. Numbers of a country without an entry get
//! `default_hours`. Inside the hours the dial is allowed; outside them, or
//! on a blackout date, it is deferred to the next local start of an
//! allowed window on a day that is not blacked out. A mobile line without
//! consent, when consent is asked for, is skipped.
//!
//! The defaults are a starting point, not legal advice. The config keys,
//! their syntax and the table are documented in `docs/compliance.md`.

mod blackout;
mod jurisdiction;
mod schedule;
pub mod settings;
mod us_area_codes;

use outdial_sdk::gate::days_from_civil;
use outdial_sdk::prelude::*;

use crate::jurisdiction::Jurisdiction;
use crate::schedule::Schedule;
use crate::settings::{MobileConsent, Settings};

/// The gate: the checked config.
pub struct CallingHours {
    settings: Settings,
}

impl DialGate for CallingHours {
    fn metadata() -> GateMetadata {
        GateMetadata::new("gate-hours", env!("CARGO_PKG_VERSION"))
            .key(
                "hours",
                false,
                "Calling hours by jurisdiction over the default table, e.g. \"US-FL=08:00-20:00; US-TX=Mon-Sat 09:00-21:00, Sun 12:00-21:00; GB=09:00-20:00\".",
            )
            .key(
                "default_hours",
                false,
                "Hours of numbers whose jurisdiction has no entry. Default: 08:00-21:00.",
            )
            .key(
                "blackout_dates",
                false,
                "Local dates nobody is called, e.g. \"2026-12-25, 2026-12-31..2027-01-01, US:2026-11-26\". Default: none.",
            )
            .key(
                "mobile_consent_attribute",
                false,
                "Contact attribute that must be true, yes, y or 1 before a mobile line is called. Default: consent not checked.",
            )
            .key(
                "mobile_consent_list",
                false,
                "Informing suppression list whose numbers have consented to calls on a mobile line. Default: none.",
            )
            .key(
                "line_type_attribute",
                false,
                "Contact attribute holding the line type; \"mobile\" lines need consent. Default: line_type.",
            )
            .key(
                "area_codes",
                false,
                "North American area codes placed before the built-in table, e.g. \"457=US-LA, 257=CA\". Default: none.",
            )
    }

    fn configure(config: &Config) -> Result<Self, PluginError> {
        Ok(CallingHours {
            settings: Settings::from_config(config)?,
        })
    }

    fn check(&self, candidate: &Candidate) -> Result<Verdict, PluginError> {
        // A skip is final, so it comes before any deferral.
        if let Some(consent) = &self.settings.mobile_consent
            && !has_consent(consent, candidate)
        {
            return Ok(Verdict::skip("no consent for mobile"));
        }
        check_reading(candidate)?;
        let jurisdiction = Jurisdiction::of(&candidate.contact.phone, &self.settings.area_codes);
        let hours = self.settings.hours_of(&jurisdiction);
        let local = &candidate.now_local;
        let today = days_from_civil(local.year, local.month, local.day);
        let second_of_day =
            u32::from(local.hour) * 3600 + u32::from(local.minute) * 60 + u32::from(local.second);
        let blackout = self.settings.blackouts.find(today, &jurisdiction);
        if blackout.is_none() && hours.is_open(local.weekday, second_of_day) {
            return Ok(Verdict::Allow);
        }
        let until = self.next_opening(candidate, today, hours, &jurisdiction)?;
        let reason = match blackout {
            Some(blackout) => blackout.reason(today),
            None => match jurisdiction.chain().first() {
                Some(key) => format!("outside calling hours for {key} ({hours} local)"),
                None => format!("outside calling hours ({hours} local)"),
            },
        };
        Ok(Verdict::defer_until(until.max(candidate.now), reason))
    }
}

impl CallingHours {
    /// The start of the first allowed window after the decision time on a
    /// local day that is not blacked out.
    ///
    /// The instant is taken at the current UTC offset. The host asks again
    /// at that time, so a daylight-saving change in between only costs one
    /// extra question when the clock went back (the gate is asked an hour
    /// early and defers again) and starts the window an hour late when it
    /// went forward: never a dial outside the hours.
    fn next_opening(
        &self,
        candidate: &Candidate,
        today: i64,
        hours: &Schedule,
        jurisdiction: &Jurisdiction,
    ) -> Result<TimestampMs, PluginError> {
        // Every week has an open day (configure refuses hours that open
        // none), so this many days always reach a start.
        let horizon = self.settings.blackouts.days_covered() + 8;
        for days_ahead in 0..horizon {
            if self
                .settings
                .blackouts
                .find(today + days_ahead, jurisdiction)
                .is_some()
            {
                continue;
            }
            let weekday = ((i64::from(candidate.now_local.weekday) + days_ahead) % 7) as u8;
            for window in hours.windows(weekday) {
                let hour = (window.start / 60) as u8;
                let minute = (window.start % 60) as u8;
                let start = candidate.at_local(days_ahead, hour, minute);
                if start > candidate.now {
                    return Ok(start);
                }
            }
        }
        Err(PluginError::Internal(format!(
            "no calling hours for {} within {horizon} days",
            candidate.contact.phone
        )))
    }
}

/// True unless the contact's line is mobile and it has not consented.
fn has_consent(consent: &MobileConsent, candidate: &Candidate) -> bool {
    let mobile = candidate
        .attribute(&consent.line_type_attribute)
        .is_some_and(|line| line.trim().eq_ignore_ascii_case("mobile"));
    let by_attribute = consent
        .attribute
        .as_deref()
        .and_then(|name| candidate.attribute(name))
        .is_some_and(truthy);
    let by_list = consent
        .list
        .as_deref()
        .is_some_and(|list| candidate.is_on_list(list));
    !mobile || by_attribute || by_list
}

/// "true", "yes", "y" or "1", in any case.
fn truthy(value: &str) -> bool {
    ["true", "yes", "y", "1"]
        .iter()
        .any(|yes| value.trim().eq_ignore_ascii_case(yes))
}

/// Refuses a local reading that is no time on a calendar: the host's
/// mistake, which no verdict could answer.
fn check_reading(candidate: &Candidate) -> Result<(), PluginError> {
    let local = &candidate.now_local;
    let valid = (1..=12).contains(&local.month)
        && (1..=31).contains(&local.day)
        && local.hour < 24
        && local.minute < 60
        && local.second < 61
        && local.weekday < 7;
    if valid {
        Ok(())
    } else {
        Err(PluginError::InvalidInput(format!(
            "contact {}: the local time {:04}-{:02}-{:02} {:02}:{:02}:{:02} (weekday {}) is no reading",
            candidate.contact.id,
            local.year,
            local.month,
            local.day,
            local.hour,
            local.minute,
            local.second,
            local.weekday
        )))
    }
}

outdial_sdk::export_dial_gate!(CallingHours);

#[cfg(test)]
mod tests {
    use outdial_sdk::gate::{LocalTime, answer};
    use outdial_sdk::testing::{TEST_NOW_MS, candidate};

    use super::*;

    const NEW_YORK: &str = "+12125550100";
    const MIAMI: &str = "+13055550100";
    const HOUSTON: &str = "+17135550100";
    const HARTFORD: &str = "+18605550100";
    const TORONTO: &str = "+14165550100";
    const LONDON: &str = "+442071234567";

    fn gate(pairs: &[(&str, &str)]) -> CallingHours {
        CallingHours::configure(&Config::from_pairs(pairs)).expect("valid config")
    }

    /// A dial of `phone` when its clock (UTC-5 unless changed) reads this.
    fn at(phone: &str, year: i32, month: u8, day: u8, hour: u8, minute: u8) -> Candidate {
        candidate(phone, TEST_NOW_MS).with_local(year, month, day, hour, minute)
    }

    /// The local reading of a deferral, and its reason.
    fn deferred(gate: &CallingHours, candidate: &Candidate) -> ((u8, u8, u8, u8), String) {
        match gate.check(candidate).unwrap() {
            Verdict::Defer(deferral) => {
                assert!(deferral.until > candidate.now, "{deferral:?}");
                let local =
                    LocalTime::from_utc(deferral.until, candidate.now_local.utc_offset_seconds);
                (
                    (local.month, local.day, local.hour, local.minute),
                    deferral.reason,
                )
            }
            other => panic!("expected a deferral, got {other:?}"),
        }
    }

    fn allowed(gate: &CallingHours, candidate: &Candidate) -> bool {
        gate.check(candidate).unwrap() == Verdict::Allow
    }

    #[test]
    fn a_new_york_number_is_called_from_eight_until_just_before_nine() {
        let gate = gate(&[]);
        assert!(allowed(&gate, &at(NEW_YORK, 2026, 3, 2, 8, 0)));
        assert!(allowed(&gate, &at(NEW_YORK, 2026, 3, 2, 20, 59)));
        assert_eq!(
            deferred(&gate, &at(NEW_YORK, 2026, 3, 2, 7, 59)),
            (
                (3, 2, 8, 0),
                "outside calling hours for US-NY (08:00-21:00 local)".to_string()
            )
        );
        assert_eq!(
            deferred(&gate, &at(NEW_YORK, 2026, 3, 2, 21, 0)).0,
            (3, 3, 8, 0)
        );
    }

    #[test]
    fn a_deferral_lands_exactly_on_the_start_even_a_millisecond_before_it() {
        let gate = gate(&[]);
        let mut early = at(NEW_YORK, 2026, 3, 2, 8, 0);
        let eight = early.now;
        early.now -= 1;
        early.now_local = LocalTime::from_utc(early.now, early.now_local.utc_offset_seconds);
        assert_eq!(
            gate.check(&early).unwrap(),
            Verdict::defer_until(eight, "outside calling hours for US-NY (08:00-21:00 local)")
        );
    }

    #[test]
    fn florida_stops_at_eight_in_the_evening_where_new_york_goes_on() {
        let gate = gate(&[]);
        assert!(allowed(&gate, &at(MIAMI, 2026, 3, 2, 19, 59)));
        assert!(allowed(&gate, &at(NEW_YORK, 2026, 3, 2, 20, 30)));
        assert_eq!(
            deferred(&gate, &at(MIAMI, 2026, 3, 2, 20, 0)),
            (
                (3, 3, 8, 0),
                "outside calling hours for US-FL (08:00-20:00 local)".to_string()
            )
        );
    }

    #[test]
    fn connecticut_waits_until_nine() {
        let gate = gate(&[]);
        assert_eq!(
            deferred(&gate, &at(HARTFORD, 2026, 3, 2, 8, 30)),
            (
                (3, 2, 9, 0),
                "outside calling hours for US-CT (09:00-20:00 local)".to_string()
            )
        );
    }

    #[test]
    fn texas_after_saturday_evening_waits_for_sunday_noon() {
        let gate = gate(&[]);
        let reason = "outside calling hours for US-TX (Mon-Sat 09:00-21:00, Sun 12:00-21:00 local)";
        assert!(allowed(&gate, &at(HOUSTON, 2026, 3, 7, 20, 59)));
        assert_eq!(
            deferred(&gate, &at(HOUSTON, 2026, 3, 7, 21, 0)),
            ((3, 8, 12, 0), reason.to_string())
        );
        assert_eq!(
            deferred(&gate, &at(HOUSTON, 2026, 3, 8, 9, 30)).0,
            (3, 8, 12, 0)
        );
        assert!(allowed(&gate, &at(HOUSTON, 2026, 3, 8, 12, 0)));
        assert_eq!(
            deferred(&gate, &at(HOUSTON, 2026, 3, 8, 21, 0)).0,
            (3, 9, 9, 0)
        );
    }

    #[test]
    fn canada_keeps_shorter_weekend_hours() {
        let gate = gate(&[]);
        assert!(allowed(&gate, &at(TORONTO, 2026, 3, 6, 21, 29)));
        assert_eq!(
            deferred(&gate, &at(TORONTO, 2026, 3, 6, 21, 30)).0,
            (3, 7, 10, 0)
        );
        assert_eq!(
            deferred(&gate, &at(TORONTO, 2026, 3, 7, 18, 0)).0,
            (3, 8, 10, 0)
        );
    }

    #[test]
    fn a_country_without_an_entry_gets_the_default_hours() {
        let london = |hour| {
            candidate(LONDON, TEST_NOW_MS)
                .with_zone("Europe/London", 0)
                .with_local(2026, 3, 2, hour, 0)
        };
        assert_eq!(
            deferred(&gate(&[]), &london(21)),
            (
                (3, 3, 8, 0),
                "outside calling hours for GB (08:00-21:00 local)".to_string()
            )
        );
        let shorter = gate(&[("default_hours", "10:00-16:00")]);
        assert_eq!(deferred(&shorter, &london(9)).0, (3, 2, 10, 0));
        assert!(
            allowed(&shorter, &at(NEW_YORK, 2026, 3, 2, 9, 0)),
            "US has its own"
        );
        let british = gate(&[("hours", "GB=09:00-20:00")]);
        assert_eq!(deferred(&british, &london(20)).0, (3, 3, 9, 0));
    }

    #[test]
    fn a_number_of_no_known_country_gets_the_default_hours() {
        assert_eq!(
            deferred(&gate(&[]), &at("+3801234567", 2026, 3, 2, 22, 0)),
            (
                (3, 3, 8, 0),
                "outside calling hours (08:00-21:00 local)".to_string()
            )
        );
    }

    #[test]
    fn an_operator_entry_relaxes_or_narrows_a_jurisdiction() {
        let relaxed = gate(&[("hours", "US-FL=08:00-21:00")]);
        assert!(allowed(&relaxed, &at(MIAMI, 2026, 3, 2, 20, 30)));
        let narrowed = gate(&[("hours", "US=10:00-18:00")]);
        assert_eq!(
            deferred(&narrowed, &at(MIAMI, 2026, 3, 2, 9, 0)).0,
            (3, 2, 10, 0)
        );
    }

    #[test]
    fn a_configured_area_code_places_a_new_overlay() {
        let gate = gate(&[("area_codes", "457=US-FL")]);
        assert_eq!(
            deferred(&gate, &at("+14575550100", 2026, 3, 2, 20, 30)).1,
            "outside calling hours for US-FL (08:00-20:00 local)"
        );
    }

    #[test]
    fn a_blackout_date_defers_to_the_first_start_of_the_next_open_day() {
        let gate = gate(&[("blackout_dates", "2026-12-25")]);
        assert_eq!(
            deferred(&gate, &at(NEW_YORK, 2026, 12, 25, 10, 0)),
            ((12, 26, 8, 0), "2026-12-25 is a blackout date".to_string())
        );
        assert!(allowed(&gate, &at(NEW_YORK, 2026, 12, 24, 20, 59)));
    }

    #[test]
    fn a_run_of_blackout_days_is_passed_over_whole() {
        let gate = gate(&[("blackout_dates", "2026-12-24..2026-12-26, 2026-12-27")]);
        assert_eq!(
            deferred(&gate, &at(NEW_YORK, 2026, 12, 24, 10, 0)),
            ((12, 28, 8, 0), "2026-12-24 is a blackout date".to_string())
        );
        assert_eq!(
            deferred(&gate, &at(NEW_YORK, 2026, 12, 23, 21, 30)),
            (
                (12, 28, 8, 0),
                "outside calling hours for US-NY (08:00-21:00 local)".to_string()
            )
        );
    }

    #[test]
    fn a_blackout_saturday_in_texas_waits_for_sunday_noon() {
        let gate = gate(&[("blackout_dates", "2026-03-07")]);
        assert_eq!(
            deferred(&gate, &at(HOUSTON, 2026, 3, 6, 21, 0)).0,
            (3, 8, 12, 0)
        );
    }

    #[test]
    fn a_scoped_blackout_spares_other_jurisdictions() {
        let gate = gate(&[("blackout_dates", "US:2026-11-26")]);
        assert_eq!(
            deferred(&gate, &at(NEW_YORK, 2026, 11, 26, 10, 0)),
            (
                (11, 27, 8, 0),
                "2026-11-26 is a blackout date for US".to_string()
            )
        );
        assert!(allowed(&gate, &at(TORONTO, 2026, 11, 26, 10, 0)));
    }

    #[test]
    fn a_mobile_line_without_consent_is_skipped() {
        let gate = gate(&[("mobile_consent_attribute", "consent")]);
        let mobile = at(NEW_YORK, 2026, 3, 2, 10, 0).with_attribute("line_type", "Mobile");
        assert_eq!(
            gate.check(&mobile).unwrap(),
            Verdict::Skip("no consent for mobile".to_string())
        );
        let refused = mobile.clone().with_attribute("consent", "no");
        assert_eq!(
            gate.check(&refused).unwrap(),
            Verdict::skip("no consent for mobile")
        );
        for yes in ["true", "YES", "y", "1"] {
            let consented = mobile.clone().with_attribute("consent", yes);
            assert!(allowed(&gate, &consented), "{yes}");
        }
        let landline = at(NEW_YORK, 2026, 3, 2, 10, 0).with_attribute("line_type", "landline");
        assert!(allowed(&gate, &landline));
        let unknown_line = at(NEW_YORK, 2026, 3, 2, 10, 0);
        assert!(allowed(&gate, &unknown_line));
    }

    #[test]
    fn consent_may_come_from_an_informing_list_and_another_attribute() {
        let gate = gate(&[
            ("mobile_consent_list", "consent-given"),
            ("line_type_attribute", "phone_type"),
        ]);
        let mobile = at(NEW_YORK, 2026, 3, 2, 10, 0).with_attribute("phone_type", "mobile");
        assert_eq!(
            gate.check(&mobile).unwrap(),
            Verdict::skip("no consent for mobile")
        );
        assert!(allowed(&gate, &mobile.with_lists(&["consent-given"])));
    }

    #[test]
    fn without_a_consent_key_mobile_lines_are_called_like_any_other() {
        let mobile = at(NEW_YORK, 2026, 3, 2, 10, 0).with_attribute("line_type", "mobile");
        assert!(allowed(&gate(&[]), &mobile));
    }

    #[test]
    fn missing_consent_skips_even_outside_calling_hours() {
        let gate = gate(&[("mobile_consent_attribute", "consent")]);
        let late = at(MIAMI, 2026, 3, 2, 23, 0).with_attribute("line_type", "mobile");
        assert_eq!(
            gate.check(&late).unwrap(),
            Verdict::skip("no consent for mobile")
        );
    }

    #[test]
    fn a_tick_is_answered_one_verdict_per_candidate_in_order() {
        let gate = gate(&[("mobile_consent_attribute", "consent")]);
        let tick = [
            at(NEW_YORK, 2026, 3, 2, 20, 30),
            at(MIAMI, 2026, 3, 2, 20, 30),
            at(NEW_YORK, 2026, 3, 2, 20, 30).with_attribute("line_type", "mobile"),
        ];
        let verdicts = answer(&gate, &tick).unwrap();
        assert_eq!(verdicts.len(), 3);
        assert_eq!(verdicts[0], Verdict::Allow);
        assert!(matches!(verdicts[1], Verdict::Defer(_)));
        assert_eq!(verdicts[2], Verdict::skip("no consent for mobile"));
    }

    #[test]
    fn asking_again_at_any_deferral_time_allows_the_dial() {
        let gate = gate(&[("blackout_dates", "2026-03-04, 2026-03-10..2026-03-11")]);
        for phone in [NEW_YORK, MIAMI, HOUSTON, HARTFORD, TORONTO, LONDON] {
            let mut now = candidate(phone, TEST_NOW_MS)
                .with_local(2026, 3, 2, 0, 0)
                .now;
            let end = now + 14 * DAY_MS;
            while now < end {
                let asked = candidate(phone, now);
                if let Verdict::Defer(deferral) = gate.check(&asked).unwrap() {
                    assert!(deferral.until > now, "{phone} at {now}");
                    let again = candidate(phone, deferral.until);
                    assert_eq!(
                        gate.check(&again).unwrap(),
                        Verdict::Allow,
                        "{phone} deferred at {:?} to {:?}",
                        asked.now_local,
                        again.now_local
                    );
                    // Not a minute earlier would have done.
                    let before = candidate(phone, deferral.until - MINUTE_MS);
                    assert_ne!(gate.check(&before).unwrap(), Verdict::Allow);
                }
                now += 7 * MINUTE_MS;
            }
        }
    }

    #[test]
    fn a_local_reading_that_is_no_time_is_refused_as_bad_input() {
        let mut candidate = at(NEW_YORK, 2026, 3, 2, 10, 0);
        candidate.now_local.weekday = 7;
        assert!(matches!(
            gate(&[]).check(&candidate),
            Err(PluginError::InvalidInput(message)) if message.contains("weekday 7")
        ));
    }

    #[test]
    fn bad_config_is_refused_naming_the_key() {
        let refused = CallingHours::configure(&Config::from_pairs(&[(
            "blackout_dates",
            "2026-12-25, next friday",
        )]));
        assert!(matches!(
            refused,
            Err(PluginError::InvalidConfig(message))
                if message == "key \"blackout_dates\": \"next friday\" is not a date like \"2026-12-25\""
        ));
    }

    #[test]
    fn the_metadata_declares_every_key_the_gate_reads() {
        let metadata = CallingHours::metadata();
        assert_eq!(metadata.name, "gate-hours");
        let keys: Vec<&str> = metadata
            .config_keys
            .iter()
            .map(|key| key.name.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "hours",
                "default_hours",
                "blackout_dates",
                "mobile_consent_attribute",
                "mobile_consent_list",
                "line_type_attribute",
                "area_codes",
            ]
        );
        assert!(metadata.config_keys.iter().all(|key| !key.required));
    }
}
