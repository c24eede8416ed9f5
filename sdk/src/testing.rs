//! Builders for plugin unit tests: a contact, attempts, inputs and dial
//! candidates with sensible values, to be adjusted field by field.

use crate::classifier::ClassifyInput;
use crate::gate::{self, Candidate, PhoneHistory};
use crate::retry::{LocalTime, PolicyLimits, RetryInput};
use crate::{Attempt, CallOutcome, Contact, LabelledAttempt, MachineDetection, TimestampMs};

/// 2026-03-02 15:00:00 UTC, a Monday: the decision time of test inputs.
pub const TEST_NOW_MS: i64 = 1_772_463_600_000;

/// A contact in New York.
pub fn contact() -> Contact {
    Contact {
        id: "contact-1".to_string(),
        phone: "+12125550100".to_string(),
        time_zone: "America/New_York".to_string(),
        attributes: vec![("name".to_string(), "Ada".to_string())],
    }
}

/// Attempt number `number`, ended an hour before [`TEST_NOW_MS`] with
/// `outcome`, without a disposition.
pub fn attempt(number: u32, outcome: CallOutcome) -> LabelledAttempt {
    LabelledAttempt {
        attempt: plain_attempt(number, outcome),
        disposition: None,
    }
}

/// The bare attempt behind [`attempt`].
pub fn plain_attempt(number: u32, outcome: CallOutcome) -> Attempt {
    let answered = outcome == CallOutcome::Answered;
    let ended_at = TEST_NOW_MS - 3_600_000;
    Attempt {
        id: format!("attempt-{number}"),
        number,
        started_at: ended_at - 60_000,
        answered_at: answered.then_some(ended_at - 45_000),
        ended_at,
        outcome,
        sip_code: None,
        talk_ms: if answered { 45_000 } else { 0 },
        ring_ms: 15_000,
        machine_detection: if answered {
            MachineDetection::Human
        } else {
            MachineDetection::NotRun
        },
        transcript: None,
        cost_micros: None,
        metadata: Vec::new(),
    }
}

/// A retry input for [`contact`] at [`TEST_NOW_MS`] (10:00 in New York)
/// with an empty history; add attempts with [`RetryInput::push`].
pub fn retry_input(max_attempts: u32) -> RetryInput {
    RetryInput::new(
        contact(),
        TEST_NOW_MS,
        LocalTime {
            year: 2026,
            month: 3,
            day: 2,
            hour: 10,
            minute: 0,
            second: 0,
            weekday: 0,
            utc_offset_seconds: -5 * 3600,
        },
        PolicyLimits { max_attempts },
    )
}

/// A classification of `attempt` on [`contact`] with no earlier attempts;
/// add them with [`ClassifyInput::with_earlier`].
pub fn classify_input(attempt: Attempt) -> ClassifyInput {
    ClassifyInput::new(contact(), attempt)
}

/// The UTC offset of a test candidate's clock: New York's standard time,
/// UTC-5, all year. Test candidates do not follow daylight saving time, so
/// a local reading is always `now` minus five hours; a test of another
/// offset says so with [`Candidate::with_zone`].
pub const TEST_UTC_OFFSET_SECONDS: i32 = -5 * 3600;

/// A first dial of `phone` at `now_ms`: [`contact`] with that number, in
/// "America/New_York" read at [`TEST_UTC_OFFSET_SECONDS`], in campaign
/// "campaign-1" and batch "batch-1", with no earlier calls and on no list.
pub fn candidate(phone: &str, now_ms: TimestampMs) -> Candidate {
    Candidate {
        contact: Contact {
            phone: phone.to_string(),
            ..contact()
        },
        campaign_id: "campaign-1".to_string(),
        batch_id: "batch-1".to_string(),
        attempt_number: 1,
        now: now_ms,
        now_local: gate::LocalTime::from_utc(now_ms, TEST_UTC_OFFSET_SECONDS),
        history: PhoneHistory::default(),
        suppression_lists: Vec::new(),
    }
}

/// Adjustments of a test [`candidate`], one field at a time.
impl Candidate {
    /// The same candidate at the instant its clock reads
    /// `year-month-day hour:minute:00`, at its current UTC offset.
    ///
    /// # Panics
    ///
    /// When the reading is no time of day on a calendar date.
    pub fn with_local(mut self, year: i32, month: u8, day: u8, hour: u8, minute: u8) -> Self {
        let valid_day = (1..=12).contains(&month)
            && day >= 1
            && gate::civil_from_days(gate::days_from_civil(year, month, day)) == (year, month, day);
        assert!(
            valid_day && hour < 24 && minute < 60,
            "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} is no local reading"
        );
        let offset = self.now_local.utc_offset_seconds;
        let local_seconds = gate::days_from_civil(year, month, day) * 86_400
            + i64::from(hour) * 3600
            + i64::from(minute) * 60;
        self.now = (local_seconds - i64::from(offset)) * 1000;
        self.now_local = gate::LocalTime::from_utc(self.now, offset);
        self
    }

    /// The same instant on the clock of `time_zone`, read at a fixed
    /// `utc_offset_seconds`.
    pub fn with_zone(mut self, time_zone: &str, utc_offset_seconds: i32) -> Self {
        self.contact.time_zone = time_zone.to_string();
        self.now_local = gate::LocalTime::from_utc(self.now, utc_offset_seconds);
        self
    }

    /// The number's calls across the workspace.
    pub fn with_history(mut self, history: PhoneHistory) -> Self {
        self.history = history;
        self
    }

    /// The contact's attribute `key` set to `value`, replacing an earlier
    /// value of the same key.
    pub fn with_attribute(mut self, key: &str, value: &str) -> Self {
        let attributes = &mut self.contact.attributes;
        attributes.retain(|(name, _)| name != key);
        attributes.push((key.to_string(), value.to_string()));
        self
    }

    /// The informing suppression lists the number is on.
    pub fn with_lists(mut self, lists: &[&str]) -> Self {
        self.suppression_lists = lists.iter().map(|list| list.to_string()).collect();
        self
    }

    /// The attempt this dial would be: 1 for the first.
    pub fn with_attempt(mut self, number: u32) -> Self {
        self.attempt_number = number;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DAY_MS, HOUR_MS};

    #[test]
    fn a_test_candidate_is_a_first_dial_in_new_york_at_the_given_time() {
        let candidate = candidate("+13055550100", TEST_NOW_MS);
        assert_eq!(candidate.contact.phone, "+13055550100");
        assert_eq!(candidate.contact.time_zone, "America/New_York");
        assert_eq!(candidate.attempt_number, 1);
        assert_eq!(candidate.now, TEST_NOW_MS);
        assert_eq!((candidate.now_local.day, candidate.now_local.hour), (2, 10));
        assert_eq!(candidate.now_local.weekday, 0, "2026-03-02 is a Monday");
        assert_eq!(candidate.history, PhoneHistory::default());
        assert!(candidate.suppression_lists.is_empty());
    }

    #[test]
    fn setting_the_local_reading_moves_the_instant_with_it() {
        let saturday_evening =
            candidate("+13055550100", TEST_NOW_MS).with_local(2026, 3, 7, 20, 59);
        assert_eq!(saturday_evening.now_local.weekday, 5);
        assert_eq!(saturday_evening.now_local.minute_of_day(), 20 * 60 + 59);
        assert_eq!(
            saturday_evening.now,
            TEST_NOW_MS + 5 * DAY_MS + 10 * HOUR_MS + 59 * 60_000
        );
    }

    #[test]
    fn another_zone_reads_the_same_instant_on_its_own_clock() {
        let los_angeles = candidate("+13105550100", TEST_NOW_MS)
            .with_zone("America/Los_Angeles", -8 * 3600)
            .with_history(PhoneHistory {
                attempts_past_day: 2,
                ..PhoneHistory::default()
            })
            .with_attempt(3)
            .with_attribute("name", "Grace");
        assert_eq!(los_angeles.now, TEST_NOW_MS);
        assert_eq!(los_angeles.now_local.hour, 7);
        assert_eq!(los_angeles.history.attempts_past_day, 2);
        assert_eq!(los_angeles.attempt_number, 3);
        assert_eq!(
            los_angeles.contact.attributes,
            vec![("name".to_string(), "Grace".to_string())]
        );
    }

    #[test]
    #[should_panic(expected = "2026-02-30 09:00 is no local reading")]
    fn a_reading_on_no_calendar_date_is_refused() {
        let _ = candidate("+13055550100", TEST_NOW_MS).with_local(2026, 2, 30, 9, 0);
    }
}
