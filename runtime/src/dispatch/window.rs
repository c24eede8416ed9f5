//! Calling windows, evaluated on the contact's local clock.
//!
//! A window is open at an instant when the contact's local wall-clock time
//! at that instant matches one of its rules. Local time is what matters to
//! the person being called, so daylight-saving changes are handled the way
//! a wall clock handles them: on a spring-forward day the skipped local
//! times simply never happen (a window that opens inside the gap opens when
//! the clocks jump past its start), and on a fall-back day the repeated
//! hour is open twice when the rules cover it.

use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, Offset, TimeZone, Timelike};
use chrono_tz::Tz;

use crate::model::{CallingWindow, DAY_MS, HOUR_MS, MINUTE_MS, Millis, WindowRule};

/// How far ahead `next_open` and `next_close` look.
pub const SEARCH_HORIZON_MS: Millis = 14 * DAY_MS;

/// Minutes in a day: the exclusive upper bound of a range rule.
const MINUTES_PER_DAY: u16 = 24 * 60;

/// Offsets are sampled this often to find daylight-saving transitions;
/// zones never change offset twice within it.
const TRANSITION_SAMPLE_MS: Millis = 6 * HOUR_MS;

/// Why a calling window cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("rules[{rule}]: day {day} is out of range (0 = monday to 6 = sunday)")]
    DayOutOfRange { rule: usize, day: u8 },
    #[error("rules[{rule}]: a range rule must list at least one day")]
    NoDays { rule: usize },
    #[error("rules[{rule}]: {which} minute {minute} is out of range (0 to {max})")]
    MinuteOutOfRange {
        rule: usize,
        which: &'static str,
        minute: u16,
        max: u16,
    },
    #[error("rules[{rule}]: start minute {start} equals end minute {end}, so the range is empty")]
    EmptyRange { rule: usize, start: u16, end: u16 },
    #[error(
        "rules[{rule}]: cron expression \"{expression}\" has {fields} fields (expected 5: minute hour day-of-month month day-of-week, or 6 to 7 with seconds first and an optional year)"
    )]
    CronFieldCount {
        rule: usize,
        expression: String,
        fields: usize,
    },
    #[error(
        "rules[{rule}]: cron expression \"{expression}\" gives the day of week as a number; write names such as MON-FRI, since cron dialects disagree on which number is sunday"
    )]
    NumericCronWeekday { rule: usize, expression: String },
    #[error("rules[{rule}]: invalid cron expression \"{expression}\": {reason}")]
    InvalidCron {
        rule: usize,
        expression: String,
        reason: String,
    },
}

impl WindowError {
    /// Index of the offending rule in `CallingWindow::rules`.
    pub fn rule(&self) -> usize {
        match self {
            WindowError::DayOutOfRange { rule, .. }
            | WindowError::NoDays { rule }
            | WindowError::MinuteOutOfRange { rule, .. }
            | WindowError::EmptyRange { rule, .. }
            | WindowError::CronFieldCount { rule, .. }
            | WindowError::NumericCronWeekday { rule, .. }
            | WindowError::InvalidCron { rule, .. } => *rule,
        }
    }
}

/// A calling window with its rules validated and cron expressions parsed,
/// ready to be evaluated many times.
#[derive(Debug, Clone)]
pub struct CompiledWindow {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
enum Rule {
    Segment(Segment),
    Cron(Box<cron::Schedule>),
}

/// Part of a range rule that lies within one local day. Overnight ranges
/// are split into two segments, one on each side of midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    /// Bit `d` set when weekday `d` (0 = Monday) is included.
    days: u8,
    /// Minutes after local midnight, start inclusive.
    start: u16,
    /// Minutes after local midnight, end exclusive, at most 1440.
    end: u16,
}

impl CompiledWindow {
    /// Validate `window` and compile its rules.
    pub fn new(window: &CallingWindow) -> Result<CompiledWindow, WindowError> {
        let mut rules = Vec::with_capacity(window.rules.len());
        for (index, rule) in window.rules.iter().enumerate() {
            match rule {
                WindowRule::Range {
                    days,
                    start_minute,
                    end_minute,
                } => compile_range(index, days, *start_minute, *end_minute, &mut rules)?,
                WindowRule::Cron { expression } => {
                    rules.push(Rule::Cron(Box::new(compile_cron(index, expression)?)));
                }
            }
        }
        Ok(CompiledWindow { rules })
    }

    /// A window with no rules, open at every instant.
    pub fn always_open() -> CompiledWindow {
        CompiledWindow { rules: Vec::new() }
    }

    /// True when the window has no rules and so never closes.
    pub fn is_always_open(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether calling is allowed at `at` for a contact in `tz`.
    pub fn is_open(&self, tz: Tz, at: Millis) -> bool {
        if self.rules.is_empty() {
            return true;
        }
        let Some(local) = local_time(tz, at) else {
            return false;
        };
        self.rules.iter().any(|rule| rule.contains(tz, at, &local))
    }

    /// The first instant at or after `at` when the window is open, looking
    /// up to [`SEARCH_HORIZON_MS`] ahead; `None` if it does not open in that
    /// time.
    pub fn next_open(&self, tz: Tz, at: Millis) -> Option<Millis> {
        if self.is_open(tz, at) {
            return Some(at);
        }
        let local = local_time(tz, at)?;
        let horizon = at.checked_add(SEARCH_HORIZON_MS)?;
        let transitions = transitions(tz, at, horizon);
        self.rules
            .iter()
            .filter_map(|rule| rule.next_open(tz, at, &local, horizon, &transitions))
            .min()
    }

    /// The first instant at or after `at` when the window is closed: `at`
    /// itself when it is closed already, `None` when it stays open for the
    /// next [`SEARCH_HORIZON_MS`] (an empty window never closes).
    pub fn next_close(&self, tz: Tz, at: Millis) -> Option<Millis> {
        if self.rules.is_empty() {
            return None;
        }
        let horizon = at.checked_add(SEARCH_HORIZON_MS)?;
        let transitions = transitions(tz, at, horizon);
        let mut t = at;
        // Each round moves `t` to where every rule open at `t` has closed;
        // another rule may have opened meanwhile, hence the loop.
        loop {
            let local = local_time(tz, t)?;
            let mut latest_close: Option<Millis> = None;
            for rule in self
                .rules
                .iter()
                .filter(|rule| rule.contains(tz, t, &local))
            {
                let close = rule.next_close(tz, t, &local, horizon, &transitions)?;
                latest_close = Some(latest_close.map_or(close, |latest| latest.max(close)));
            }
            match latest_close {
                None => return Some(t),
                Some(close) if close > horizon => return None,
                Some(close) => t = close,
            }
        }
    }
}

fn compile_range(
    index: usize,
    days: &[u8],
    start: u16,
    end: u16,
    rules: &mut Vec<Rule>,
) -> Result<(), WindowError> {
    if days.is_empty() {
        return Err(WindowError::NoDays { rule: index });
    }
    let mut mask = 0u8;
    for &day in days {
        if day > 6 {
            return Err(WindowError::DayOutOfRange { rule: index, day });
        }
        mask |= 1 << day;
    }
    if start >= MINUTES_PER_DAY {
        return Err(WindowError::MinuteOutOfRange {
            rule: index,
            which: "start",
            minute: start,
            max: MINUTES_PER_DAY - 1,
        });
    }
    if end > MINUTES_PER_DAY {
        return Err(WindowError::MinuteOutOfRange {
            rule: index,
            which: "end",
            minute: end,
            max: MINUTES_PER_DAY,
        });
    }
    if start == end {
        return Err(WindowError::EmptyRange {
            rule: index,
            start,
            end,
        });
    }
    if start < end {
        rules.push(Rule::Segment(Segment {
            days: mask,
            start,
            end,
        }));
    } else {
        // Overnight, e.g. 22:00-02:00: the evening belongs to the listed
        // days, the small hours to the days after them.
        rules.push(Rule::Segment(Segment {
            days: mask,
            start,
            end: MINUTES_PER_DAY,
        }));
        if end > 0 {
            let next_days = ((mask << 1) | (mask >> 6)) & 0x7f;
            rules.push(Rule::Segment(Segment {
                days: next_days,
                start: 0,
                end,
            }));
        }
    }
    Ok(())
}

/// Parse a cron expression whose matching minutes are open. Five fields
/// are standard cron; six or seven are the `cron` crate's own form with
/// seconds first, whose seconds are ignored because a window is open for
/// whole minutes.
fn compile_cron(index: usize, expression: &str) -> Result<cron::Schedule, WindowError> {
    let trimmed = expression.trim();
    let normalized = if trimmed.starts_with('@') {
        trimmed.to_string()
    } else {
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        let (rest, weekday) = match fields.len() {
            5 => (&fields[..], fields[4]),
            6 | 7 => (&fields[1..], fields[5]),
            count => {
                return Err(WindowError::CronFieldCount {
                    rule: index,
                    expression: expression.to_string(),
                    fields: count,
                });
            }
        };
        // Standard cron counts Sunday as 0, the `cron` crate as 1: a bare
        // number would silently shift every window by a day.
        let numeric = weekday.split(',').any(|part| {
            let base = part.split('/').next().unwrap_or(part);
            base.chars().any(|c| c.is_ascii_digit())
        });
        if numeric {
            return Err(WindowError::NumericCronWeekday {
                rule: index,
                expression: expression.to_string(),
            });
        }
        format!("0 {}", rest.join(" "))
    };
    cron::Schedule::from_str(&normalized).map_err(|err| WindowError::InvalidCron {
        rule: index,
        expression: expression.to_string(),
        reason: err.to_string(),
    })
}

impl Rule {
    fn contains(&self, tz: Tz, at: Millis, local: &DateTime<Tz>) -> bool {
        match self {
            Rule::Segment(segment) => segment.contains(local),
            Rule::Cron(schedule) => cron_contains(schedule, tz, at),
        }
    }

    fn next_open(
        &self,
        tz: Tz,
        at: Millis,
        local: &DateTime<Tz>,
        horizon: Millis,
        transitions: &[Millis],
    ) -> Option<Millis> {
        match self {
            Rule::Segment(segment) => {
                // The window opens either when local time reaches a start
                // edge, or when a clock change jumps local time into it.
                let edges = segment.edge_instants(tz, local.date_naive(), segment.start);
                edges
                    .into_iter()
                    .chain(transitions.iter().copied())
                    .filter(|&t| t >= at && t <= horizon)
                    .filter(|&t| local_time(tz, t).is_some_and(|l| segment.contains(&l)))
                    .min()
            }
            Rule::Cron(schedule) => {
                // The cron crate walks local dates forward and so skips the
                // second pass through a repeated hour; restarting it at each
                // transition finds minutes there too.
                std::iter::once(at)
                    .chain(transitions.iter().copied())
                    .filter_map(|from| cron_next_match(schedule, tz, from, horizon))
                    .min()
            }
        }
    }

    fn next_close(
        &self,
        tz: Tz,
        at: Millis,
        local: &DateTime<Tz>,
        horizon: Millis,
        transitions: &[Millis],
    ) -> Option<Millis> {
        match self {
            Rule::Segment(segment) => {
                let edges = segment.edge_instants(tz, local.date_naive(), segment.end);
                edges
                    .into_iter()
                    .chain(transitions.iter().copied())
                    .filter(|&t| t > at && t <= horizon)
                    .filter(|&t| local_time(tz, t).is_some_and(|l| !segment.contains(&l)))
                    .min()
            }
            Rule::Cron(schedule) => {
                // Matching minutes are contiguous runs; walk the run in UTC
                // minutes, which stays correct across clock changes.
                let mut minute = floor_minute(at);
                loop {
                    minute += MINUTE_MS;
                    if minute > horizon {
                        return None;
                    }
                    if !cron_contains(schedule, tz, minute) {
                        return Some(minute);
                    }
                }
            }
        }
    }
}

impl Segment {
    fn contains(&self, local: &DateTime<Tz>) -> bool {
        let weekday = local.weekday().num_days_from_monday();
        let minute = (local.hour() * 60 + local.minute()) as u16;
        self.days & (1 << weekday) != 0 && self.start <= minute && minute < self.end
    }

    /// Every instant at which local time reads `minute` on an included day,
    /// from the day before `from` to the end of the search horizon. Local
    /// times in a spring-forward gap have no instant; ones in a fall-back
    /// hour have two.
    fn edge_instants(&self, tz: Tz, from: NaiveDate, minute: u16) -> Vec<Millis> {
        let mut instants = Vec::new();
        let horizon_days = SEARCH_HORIZON_MS / DAY_MS + 1;
        for offset in -1..=horizon_days {
            let Some(date) = from.checked_add_signed(Duration::days(offset)) else {
                continue;
            };
            if self.days & (1 << date.weekday().num_days_from_monday()) == 0 {
                continue;
            }
            let Some(midnight) = date.and_hms_opt(0, 0, 0) else {
                continue;
            };
            let wall = midnight + Duration::minutes(i64::from(minute));
            match tz.from_local_datetime(&wall) {
                LocalResult::Single(t) => instants.push(t.timestamp_millis()),
                LocalResult::Ambiguous(first, second) => {
                    instants.push(first.timestamp_millis());
                    instants.push(second.timestamp_millis());
                }
                // The transition itself is a candidate of its own.
                LocalResult::None => {}
            }
        }
        instants
    }
}

fn local_time(tz: Tz, at: Millis) -> Option<DateTime<Tz>> {
    DateTime::from_timestamp_millis(at).map(|utc| utc.with_timezone(&tz))
}

fn floor_minute(at: Millis) -> Millis {
    at - at.rem_euclid(MINUTE_MS)
}

/// Whether the local minute containing `at` matches the schedule. Every
/// zone in use today has whole-minute offsets, so flooring in UTC floors
/// the local time too.
fn cron_contains(schedule: &cron::Schedule, tz: Tz, at: Millis) -> bool {
    local_time(tz, floor_minute(at)).is_some_and(|local| schedule.includes(local))
}

/// The first instant at or after `from` inside a matching minute, if one
/// starts before `horizon`.
fn cron_next_match(
    schedule: &cron::Schedule,
    tz: Tz,
    from: Millis,
    horizon: Millis,
) -> Option<Millis> {
    if cron_contains(schedule, tz, from) {
        return Some(from);
    }
    let start = local_time(tz, from)?;
    schedule
        .after(&start)
        .map(|t| t.timestamp_millis())
        // An ambiguous local time yields its earlier instant first, which
        // can lie before `from` when `from` is in the repeated hour.
        .skip_while(|&t| t < from)
        .take_while(|&t| t <= horizon)
        .next()
}

fn utc_offset_seconds(tz: Tz, at: Millis) -> Option<i32> {
    let utc = DateTime::from_timestamp_millis(at)?;
    Some(
        tz.offset_from_utc_datetime(&utc.naive_utc())
            .fix()
            .local_minus_utc(),
    )
}

/// Instants in `(from, to]` at which `tz` changes its UTC offset.
fn transitions(tz: Tz, from: Millis, to: Millis) -> Vec<Millis> {
    let mut found = Vec::new();
    let Some(mut previous) = utc_offset_seconds(tz, from) else {
        return found;
    };
    let mut lo = from;
    while lo < to {
        let hi = (lo + TRANSITION_SAMPLE_MS).min(to);
        let Some(offset) = utc_offset_seconds(tz, hi) else {
            break;
        };
        if offset != previous {
            // Bisect to the first millisecond with the new offset.
            let (mut a, mut b) = (lo, hi);
            while b - a > 1 {
                let mid = a + (b - a) / 2;
                if utc_offset_seconds(tz, mid) == Some(previous) {
                    a = mid;
                } else {
                    b = mid;
                }
            }
            found.push(b);
            previous = offset;
        }
        lo = hi;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use chrono_tz::America::{Los_Angeles, New_York};
    use chrono_tz::Europe::Berlin;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("a valid UTC time")
            .timestamp_millis()
    }

    fn range(days: &[u8], start: u16, end: u16) -> WindowRule {
        WindowRule::Range {
            days: days.to_vec(),
            start_minute: start,
            end_minute: end,
        }
    }

    fn cron(expression: &str) -> WindowRule {
        WindowRule::Cron {
            expression: expression.to_string(),
        }
    }

    fn window(rules: Vec<WindowRule>) -> CompiledWindow {
        CompiledWindow::new(&CallingWindow { rules }).expect("a valid window")
    }

    fn error(rules: Vec<WindowRule>) -> String {
        CompiledWindow::new(&CallingWindow { rules })
            .expect_err("an invalid window")
            .to_string()
    }

    const EVERY_DAY: &[u8] = &[0, 1, 2, 3, 4, 5, 6];
    const WEEKDAYS: &[u8] = &[0, 1, 2, 3, 4];

    #[test]
    fn an_empty_window_is_always_open_and_never_closes() {
        let w = window(vec![]);
        let at = utc(2024, 6, 1, 3, 0);
        assert!(w.is_always_open());
        assert!(w.is_open(New_York, at));
        assert_eq!(w.next_open(New_York, at), Some(at));
        assert_eq!(w.next_close(New_York, at), None);
    }

    #[test]
    fn a_range_is_open_from_its_start_minute_and_closed_at_its_end_minute() {
        let w = window(vec![range(WEEKDAYS, 9 * 60, 17 * 60)]);
        // Monday 2024-06-03; New York is UTC-4 in summer.
        assert!(!w.is_open(New_York, utc(2024, 6, 3, 12, 59)));
        assert!(w.is_open(New_York, utc(2024, 6, 3, 13, 0)));
        assert!(w.is_open(New_York, utc(2024, 6, 3, 20, 59)));
        assert!(!w.is_open(New_York, utc(2024, 6, 3, 21, 0)));
        // Saturday.
        assert!(!w.is_open(New_York, utc(2024, 6, 8, 15, 0)));
    }

    #[test]
    fn the_same_utc_instant_is_open_in_new_york_and_closed_in_los_angeles() {
        let w = window(vec![range(EVERY_DAY, 9 * 60, 21 * 60)]);
        let at = utc(2024, 6, 3, 14, 0); // 10:00 EDT, 07:00 PDT
        assert!(w.is_open(New_York, at));
        assert!(!w.is_open(Los_Angeles, at));
        assert_eq!(w.next_open(Los_Angeles, at), Some(utc(2024, 6, 3, 16, 0)));
        assert_eq!(w.next_close(New_York, at), Some(utc(2024, 6, 4, 1, 0)));
        assert_eq!(w.next_close(Los_Angeles, at), Some(at));
    }

    #[test]
    fn next_open_skips_the_weekend() {
        let w = window(vec![range(WEEKDAYS, 9 * 60, 17 * 60)]);
        // Friday 2024-06-07 18:00 EDT.
        let friday_evening = utc(2024, 6, 7, 22, 0);
        assert_eq!(
            w.next_open(New_York, friday_evening),
            Some(utc(2024, 6, 10, 13, 0))
        );
    }

    #[test]
    fn next_open_returns_now_when_already_open() {
        let w = window(vec![range(WEEKDAYS, 9 * 60, 17 * 60)]);
        let at = utc(2024, 6, 3, 15, 17) + 123;
        assert_eq!(w.next_open(New_York, at), Some(at));
    }

    #[test]
    fn a_window_opening_in_the_spring_forward_gap_opens_when_clocks_jump() {
        // New York: 2024-03-10 02:00 EST becomes 03:00 EDT at 07:00 UTC.
        let w = window(vec![range(EVERY_DAY, 2 * 60 + 30, 5 * 60)]);
        let before = utc(2024, 3, 10, 6, 0); // 01:00 EST
        assert_eq!(w.next_open(New_York, before), Some(utc(2024, 3, 10, 7, 0)));
        assert!(!w.is_open(New_York, utc(2024, 3, 10, 6, 59)));
        assert!(w.is_open(New_York, utc(2024, 3, 10, 7, 0)));
        // It closes at 05:00 EDT.
        assert_eq!(
            w.next_close(New_York, utc(2024, 3, 10, 7, 0)),
            Some(utc(2024, 3, 10, 9, 0))
        );
    }

    #[test]
    fn a_business_day_window_follows_local_time_across_spring_forward() {
        let w = window(vec![range(EVERY_DAY, 9 * 60, 17 * 60)]);
        // Saturday before the change: 09:00 EST is 14:00 UTC.
        assert_eq!(
            w.next_open(New_York, utc(2024, 3, 9, 12, 0)),
            Some(utc(2024, 3, 9, 14, 0))
        );
        // Sunday after the change: 09:00 EDT is 13:00 UTC.
        assert_eq!(
            w.next_open(New_York, utc(2024, 3, 10, 3, 0)),
            Some(utc(2024, 3, 10, 13, 0))
        );
        assert_eq!(
            w.next_close(New_York, utc(2024, 3, 10, 13, 0)),
            Some(utc(2024, 3, 10, 21, 0))
        );
    }

    #[test]
    fn a_window_inside_the_repeated_hour_opens_twice_on_fall_back_day() {
        // New York: 2024-11-03 02:00 EDT becomes 01:00 EST at 06:00 UTC.
        let w = window(vec![range(EVERY_DAY, 60, 90)]);
        let first_open = utc(2024, 11, 3, 5, 0); // 01:00 EDT
        assert_eq!(
            w.next_open(New_York, utc(2024, 11, 3, 4, 0)),
            Some(first_open)
        );
        assert_eq!(
            w.next_close(New_York, first_open),
            Some(utc(2024, 11, 3, 5, 30))
        );
        // 01:00 EST, the second time the clock reads 01:00.
        assert_eq!(
            w.next_open(New_York, utc(2024, 11, 3, 5, 30)),
            Some(utc(2024, 11, 3, 6, 0))
        );
        assert_eq!(
            w.next_close(New_York, utc(2024, 11, 3, 6, 0)),
            Some(utc(2024, 11, 3, 6, 30))
        );
    }

    #[test]
    fn a_window_closes_when_fall_back_turns_the_clock_out_of_it() {
        // 01:30-03:00 local: at 06:00 UTC the clock goes from 02:00 EDT
        // back to 01:00 EST, before the window's start.
        let w = window(vec![range(EVERY_DAY, 90, 180)]);
        assert_eq!(
            w.next_close(New_York, utc(2024, 11, 3, 5, 45)),
            Some(utc(2024, 11, 3, 6, 0))
        );
        assert_eq!(
            w.next_open(New_York, utc(2024, 11, 3, 6, 0)),
            Some(utc(2024, 11, 3, 6, 30))
        );
        assert_eq!(
            w.next_close(New_York, utc(2024, 11, 3, 6, 30)),
            Some(utc(2024, 11, 3, 8, 0))
        );
    }

    #[test]
    fn a_window_entirely_inside_the_berlin_spring_gap_waits_for_the_next_day() {
        // Berlin: 2024-03-31 02:00 CET becomes 03:00 CEST at 01:00 UTC, so
        // 02:15-02:45 never happens that day.
        let w = window(vec![range(EVERY_DAY, 2 * 60 + 15, 2 * 60 + 45)]);
        assert_eq!(
            w.next_open(Berlin, utc(2024, 3, 30, 23, 0)),
            Some(utc(2024, 4, 1, 0, 15))
        );
    }

    #[test]
    fn berlin_evening_hours_keep_local_time_across_fall_back() {
        // Berlin: 2024-10-27 03:00 CEST becomes 02:00 CET at 01:00 UTC.
        let w = window(vec![range(EVERY_DAY, 18 * 60, 20 * 60)]);
        // Saturday, CEST: 18:00 local is 16:00 UTC.
        assert_eq!(
            w.next_open(Berlin, utc(2024, 10, 26, 12, 0)),
            Some(utc(2024, 10, 26, 16, 0))
        );
        // Sunday, CET: 18:00 local is 17:00 UTC.
        assert_eq!(
            w.next_open(Berlin, utc(2024, 10, 27, 12, 0)),
            Some(utc(2024, 10, 27, 17, 0))
        );
        // The repeated 02:xx hour is open on both passes.
        let night = window(vec![range(EVERY_DAY, 2 * 60, 3 * 60)]);
        assert!(night.is_open(Berlin, utc(2024, 10, 27, 0, 30))); // 02:30 CEST
        assert!(night.is_open(Berlin, utc(2024, 10, 27, 1, 30))); // 02:30 CET
        assert_eq!(
            night.next_close(Berlin, utc(2024, 10, 27, 0, 0)),
            Some(utc(2024, 10, 27, 2, 0))
        );
    }

    #[test]
    fn an_overnight_range_is_open_across_midnight_on_the_following_day() {
        // Monday 22:00 to Tuesday 02:00, in UTC for clarity.
        let w = window(vec![range(&[0], 22 * 60, 2 * 60)]);
        let tz = Tz::UTC;
        assert!(w.is_open(tz, utc(2024, 6, 3, 23, 0)));
        assert!(w.is_open(tz, utc(2024, 6, 4, 1, 59)));
        assert!(!w.is_open(tz, utc(2024, 6, 4, 2, 0)));
        // Sunday night is not Monday night.
        assert!(!w.is_open(tz, utc(2024, 6, 3, 1, 0)));
        assert_eq!(
            w.next_close(tz, utc(2024, 6, 3, 22, 0)),
            Some(utc(2024, 6, 4, 2, 0))
        );
        assert_eq!(
            w.next_open(tz, utc(2024, 6, 4, 2, 0)),
            Some(utc(2024, 6, 10, 22, 0))
        );
    }

    #[test]
    fn overlapping_rules_close_only_when_all_of_them_have_closed() {
        let w = window(vec![
            range(EVERY_DAY, 9 * 60, 12 * 60),
            range(EVERY_DAY, 11 * 60, 14 * 60),
            range(EVERY_DAY, 14 * 60, 15 * 60),
        ]);
        assert_eq!(
            w.next_close(Tz::UTC, utc(2024, 6, 3, 9, 0)),
            Some(utc(2024, 6, 3, 15, 0))
        );
    }

    #[test]
    fn a_cron_window_opens_on_matching_local_minutes() {
        let w = window(vec![cron("* 9-16 * * MON-FRI")]);
        assert!(w.is_open(New_York, utc(2024, 6, 3, 13, 30))); // Mon 09:30 EDT
        assert!(!w.is_open(New_York, utc(2024, 6, 3, 21, 0))); // Mon 17:00 EDT
        assert!(!w.is_open(New_York, utc(2024, 6, 8, 14, 0))); // Saturday
        assert_eq!(
            w.next_open(New_York, utc(2024, 6, 7, 21, 0) + 5),
            Some(utc(2024, 6, 10, 13, 0))
        );
        assert_eq!(
            w.next_close(New_York, utc(2024, 6, 3, 13, 30)),
            Some(utc(2024, 6, 3, 21, 0))
        );
    }

    #[test]
    fn a_cron_window_with_seconds_ignores_them() {
        let w = window(vec![cron("30 * 9-16 * * MON-FRI")]);
        assert!(w.is_open(New_York, utc(2024, 6, 3, 13, 30) + 10_000));
    }

    #[test]
    fn a_cron_window_covers_both_passes_of_the_repeated_hour() {
        let w = window(vec![cron("* 1 * * *")]);
        // 01:xx EDT then 01:xx EST: one continuous two-hour opening.
        assert_eq!(
            w.next_close(New_York, utc(2024, 11, 3, 5, 0)),
            Some(utc(2024, 11, 3, 7, 0))
        );
        let half_past = window(vec![cron("30 1 * * *")]);
        // From 01:45 EDT the next 01:30 is 01:30 EST, the same night.
        assert_eq!(
            half_past.next_open(New_York, utc(2024, 11, 3, 5, 45)),
            Some(utc(2024, 11, 3, 6, 30))
        );
    }

    #[test]
    fn a_cron_window_on_skipped_minutes_waits_for_the_next_day() {
        let w = window(vec![cron("* 2 * * *")]);
        // 02:xx does not exist in New York on 2024-03-10.
        assert_eq!(
            w.next_open(New_York, utc(2024, 3, 10, 6, 30)),
            Some(utc(2024, 3, 11, 6, 0))
        );
    }

    #[test]
    fn a_window_that_never_opens_has_no_next_open() {
        let w = window(vec![cron("0 0 30 FEB *")]);
        assert_eq!(w.next_open(Tz::UTC, utc(2024, 1, 1, 0, 0)), None);
        assert_eq!(
            w.next_close(Tz::UTC, utc(2024, 1, 1, 0, 0)),
            Some(utc(2024, 1, 1, 0, 0))
        );
    }

    #[test]
    fn a_window_open_every_minute_does_not_close_within_the_horizon() {
        let w = window(vec![range(EVERY_DAY, 0, MINUTES_PER_DAY)]);
        assert_eq!(w.next_close(Berlin, utc(2024, 3, 30, 0, 0)), None);
    }

    #[test]
    fn range_and_cron_rules_combine_as_a_union() {
        let w = window(vec![
            range(&[5], 10 * 60, 12 * 60),
            cron("* 9-16 * * MON-FRI"),
        ]);
        // Friday 17:00 UTC: next is Saturday 10:00 from the range rule.
        assert_eq!(
            w.next_open(Tz::UTC, utc(2024, 6, 7, 17, 0)),
            Some(utc(2024, 6, 8, 10, 0))
        );
    }

    #[test]
    fn invalid_rules_are_reported_with_the_bad_value() {
        assert_eq!(
            error(vec![range(&[0, 7], 60, 120)]),
            "rules[0]: day 7 is out of range (0 = monday to 6 = sunday)"
        );
        assert_eq!(
            error(vec![range(&[0], 60, 120), range(&[0], 60, 1441)]),
            "rules[1]: end minute 1441 is out of range (0 to 1440)"
        );
        assert_eq!(
            error(vec![range(&[0], 1440, 60)]),
            "rules[0]: start minute 1440 is out of range (0 to 1439)"
        );
        assert_eq!(
            error(vec![range(&[0], 60, 60)]),
            "rules[0]: start minute 60 equals end minute 60, so the range is empty"
        );
        assert_eq!(
            error(vec![range(&[], 60, 120)]),
            "rules[0]: a range rule must list at least one day"
        );
        assert_eq!(
            error(vec![cron("* 9-17 * * 1-5")]),
            "rules[0]: cron expression \"* 9-17 * * 1-5\" gives the day of week as a number; \
             write names such as MON-FRI, since cron dialects disagree on which number is sunday"
        );
        assert!(
            error(vec![cron("* * *")])
                .starts_with("rules[0]: cron expression \"* * *\" has 3 fields")
        );
        assert!(
            error(vec![cron("* 25 * * *")])
                .starts_with("rules[0]: invalid cron expression \"* 25 * * *\": ")
        );
    }

    #[test]
    fn errors_name_their_rule_index() {
        let err = CompiledWindow::new(&CallingWindow {
            rules: vec![range(&[0], 60, 120), cron("nonsense")],
        })
        .expect_err("an invalid window");
        assert_eq!(err.rule(), 1);
    }

    #[test]
    fn transitions_are_found_to_the_millisecond() {
        let found = transitions(New_York, utc(2024, 3, 1, 0, 0), utc(2024, 3, 15, 0, 0));
        assert_eq!(found, vec![utc(2024, 3, 10, 7, 0)]);
        assert!(transitions(Tz::UTC, utc(2024, 3, 1, 0, 0), utc(2024, 3, 15, 0, 0)).is_empty());
    }
}
