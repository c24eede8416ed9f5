//! Weekly calling hours: which local times of which weekdays a dial may
//! start, written compactly, e.g. "Mon-Sat 09:00-21:00, Sun 12:00-21:00".
//!
//! A rule is parts separated by commas. A part is a time range
//! `HH:MM-HH:MM`, optionally after a day (`Sun`) or a run of days
//! (`Mon-Fri`, `Fri-Mon` wraps), or `closed` after days. A part without
//! days covers every day no other part names; a day that no part covers is
//! closed. A day may have several ranges ("09:00-12:00, 13:00-17:00"). A
//! range includes its start and excludes its end: "08:00-21:00" allows a
//! dial from 08:00:00 to 20:59:59, and "24:00" ends a range at midnight.
//! A range cannot cross midnight; split it over two days instead.

use std::fmt;

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MINUTES_PER_DAY: u16 = 24 * 60;

/// What a time range looks like, for messages.
const RANGE_EXPECTED: &str = "a time range like \"08:00-21:00\"";

/// A stretch of one day, in minutes since local midnight: `start` included,
/// `end` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Window {
    pub(crate) start: u16,
    pub(crate) end: u16,
}

impl Window {
    /// True when the second `second_of_day` of the day lies inside.
    fn contains(&self, second_of_day: u32) -> bool {
        u32::from(self.start) * 60 <= second_of_day && second_of_day < u32::from(self.end) * 60
    }
}

/// What the parts of a rule said about a day so far.
#[derive(Debug, Default)]
enum Hours {
    #[default]
    Unnamed,
    Closed,
    Open(Vec<Window>),
}

/// The allowed windows of each weekday, Monday first; each day's sorted
/// and without overlaps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Schedule {
    days: [Vec<Window>; 7],
}

impl Schedule {
    /// Read a rule; the error names the part that is wrong.
    pub(crate) fn parse(text: &str) -> Result<Schedule, String> {
        let mut named: [Hours; 7] = Default::default();
        let mut other_days = Hours::Unnamed;
        for part in text.split(',') {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("\"{}\" has an empty part", text.trim()));
            }
            let (days, hours) = match part.split_once(char::is_whitespace) {
                Some((first, rest)) if parse_days(first).is_some() => {
                    (parse_days(first), rest.trim())
                }
                _ if parse_days(part).is_some() => {
                    return Err(format!("\"{part}\" names days but no hours"));
                }
                Some((first, _)) if first.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                    return Err(format!(
                        "\"{first}\" is not a day or a run of days like \"Mon-Fri\""
                    ));
                }
                _ => (None, part),
            };
            let window = if hours.eq_ignore_ascii_case("closed") {
                None
            } else {
                Some(parse_window(hours)?)
            };
            let slots: Vec<&mut Hours> = match days {
                Some(days) => named
                    .iter_mut()
                    .zip(days)
                    .filter_map(|(slot, named)| named.then_some(slot))
                    .collect(),
                None => vec![&mut other_days],
            };
            for slot in slots {
                *slot = match (std::mem::take(slot), window) {
                    (Hours::Unnamed | Hours::Closed, None) => Hours::Closed,
                    (Hours::Unnamed, Some(window)) => Hours::Open(vec![window]),
                    (Hours::Open(mut windows), Some(window)) => {
                        windows.push(window);
                        Hours::Open(windows)
                    }
                    (Hours::Closed, Some(_)) | (Hours::Open(_), None) => {
                        return Err(format!("\"{part}\" closes a day another part opens"));
                    }
                };
            }
        }
        let days = named.map(|hours| {
            let mut windows = match hours {
                Hours::Unnamed => match &other_days {
                    Hours::Open(windows) => windows.clone(),
                    Hours::Unnamed | Hours::Closed => Vec::new(),
                },
                Hours::Closed => Vec::new(),
                Hours::Open(windows) => windows,
            };
            windows.sort();
            merge(windows)
        });
        Ok(Schedule { days })
    }

    /// The windows of `weekday`, 0 for Monday to 6 for Sunday.
    pub(crate) fn windows(&self, weekday: u8) -> &[Window] {
        &self.days[usize::from(weekday % 7)]
    }

    /// True when a dial may start at second `second_of_day` of `weekday`.
    pub(crate) fn is_open(&self, weekday: u8, second_of_day: u32) -> bool {
        self.windows(weekday)
            .iter()
            .any(|window| window.contains(second_of_day))
    }

    /// True when no day has a window: nobody could ever be called.
    pub(crate) fn is_closed(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }

    /// The times both schedules allow: the law of a state and of its
    /// country both apply to a dial.
    pub(crate) fn intersect(&self, other: &Schedule) -> Schedule {
        let days = std::array::from_fn(|day| {
            let mut both = Vec::new();
            for a in &self.days[day] {
                for b in &other.days[day] {
                    let start = a.start.max(b.start);
                    let end = a.end.min(b.end);
                    if start < end {
                        both.push(Window { start, end });
                    }
                }
            }
            both.sort();
            merge(both)
        });
        Schedule { days }
    }
}

/// Writes the schedule back in the rule syntax, shortest form first:
/// "08:00-20:00" when every day is alike, else runs of alike days,
/// leaving out the closed ones.
impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.days.iter().all(|day| *day == self.days[0]) {
            return match self.days[0].as_slice() {
                [] => f.write_str("closed"),
                windows => write_windows(f, None, windows),
            };
        }
        let mut first = true;
        let mut day = 0;
        while day < 7 {
            let mut last = day;
            while last + 1 < 7 && self.days[last + 1] == self.days[day] {
                last += 1;
            }
            if !self.days[day].is_empty() {
                if !first {
                    f.write_str(", ")?;
                }
                first = false;
                let run = if last == day {
                    DAY_NAMES[day].to_string()
                } else {
                    format!("{}-{}", DAY_NAMES[day], DAY_NAMES[last])
                };
                write_windows(f, Some(&run), &self.days[day])?;
            }
            day = last + 1;
        }
        Ok(())
    }
}

fn write_windows(
    f: &mut fmt::Formatter<'_>,
    days: Option<&str>,
    windows: &[Window],
) -> fmt::Result {
    for (index, window) in windows.iter().enumerate() {
        if index > 0 {
            f.write_str(", ")?;
        }
        if let Some(days) = days {
            write!(f, "{days} ")?;
        }
        write!(f, "{}-{}", clock(window.start), clock(window.end))?;
    }
    Ok(())
}

/// "08:00" for minute 480.
pub(crate) fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// Sorted windows with touching or overlapping ones joined.
fn merge(windows: Vec<Window>) -> Vec<Window> {
    let mut merged: Vec<Window> = Vec::with_capacity(windows.len());
    for window in windows {
        match merged.last_mut() {
            Some(last) if window.start <= last.end => last.end = last.end.max(window.end),
            _ => merged.push(window),
        }
    }
    merged
}

/// The days of "Mon", "Sat-Sun" or "Fri-Mon" (case-insensitive), as a
/// mask indexed Monday first.
fn parse_days(text: &str) -> Option<[bool; 7]> {
    let day = |name: &str| {
        DAY_NAMES
            .iter()
            .position(|known| known.eq_ignore_ascii_case(name.trim()))
    };
    let (first, last) = match text.split_once('-') {
        Some((first, last)) => (day(first)?, day(last)?),
        None => {
            let only = day(text)?;
            (only, only)
        }
    };
    let mut mask = [false; 7];
    let mut current = first;
    loop {
        mask[current] = true;
        if current == last {
            return Some(mask);
        }
        current = (current + 1) % 7;
    }
}

/// "08:00-21:00" as a window; the error quotes the range.
fn parse_window(text: &str) -> Result<Window, String> {
    let bad = || format!("\"{text}\" is not {RANGE_EXPECTED}");
    let (start, end) = text.split_once('-').ok_or_else(bad)?;
    let start = parse_clock(start).ok_or_else(bad)?;
    let end = parse_clock(end).ok_or_else(bad)?;
    if start >= end {
        return Err(format!(
            "\"{text}\" ends before it starts (a range cannot cross midnight)"
        ));
    }
    Ok(Window { start, end })
}

/// "8:00", "08:00" or "24:00" as minutes since midnight.
fn parse_clock(text: &str) -> Option<u16> {
    let (hour, minute) = text.trim().split_once(':')?;
    let digits = |part: &str, len: std::ops::RangeInclusive<usize>| {
        (len.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u16>().ok())
            .flatten()
    };
    let hour = digits(hour, 1..=2)?;
    let minute = digits(minute, 2..=2)?;
    let at = hour * 60 + minute;
    (minute < 60 && at <= MINUTES_PER_DAY).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(start: &str, end: &str) -> Window {
        Window {
            start: parse_clock(start).unwrap(),
            end: parse_clock(end).unwrap(),
        }
    }

    #[test]
    fn a_plain_range_holds_every_day() {
        let schedule = Schedule::parse("08:00-21:00").unwrap();
        for day in 0..7 {
            assert_eq!(schedule.windows(day), [window("08:00", "21:00")]);
        }
        assert_eq!(schedule.to_string(), "08:00-21:00");
    }

    #[test]
    fn a_range_includes_its_start_and_excludes_its_end() {
        let schedule = Schedule::parse("08:00-21:00").unwrap();
        assert!(!schedule.is_open(0, 8 * 3600 - 1));
        assert!(schedule.is_open(0, 8 * 3600));
        assert!(schedule.is_open(0, 21 * 3600 - 1));
        assert!(!schedule.is_open(0, 21 * 3600));
    }

    #[test]
    fn days_get_their_own_ranges_and_unnamed_days_are_closed() {
        let texas = Schedule::parse("Mon-Sat 09:00-21:00, Sun 12:00-21:00").unwrap();
        assert_eq!(texas.windows(5), [window("09:00", "21:00")]);
        assert_eq!(texas.windows(6), [window("12:00", "21:00")]);
        assert_eq!(texas.to_string(), "Mon-Sat 09:00-21:00, Sun 12:00-21:00");

        let weekdays = Schedule::parse("mon-fri 9:00-17:00").unwrap();
        assert!(weekdays.windows(5).is_empty() && weekdays.windows(6).is_empty());
        assert_eq!(weekdays.to_string(), "Mon-Fri 09:00-17:00");
    }

    #[test]
    fn a_part_without_days_covers_the_days_no_other_part_names() {
        let schedule = Schedule::parse("09:00-21:00, Sun 12:00-21:00, Sat closed").unwrap();
        assert_eq!(schedule.windows(0), [window("09:00", "21:00")]);
        assert!(schedule.windows(5).is_empty());
        assert_eq!(schedule.windows(6), [window("12:00", "21:00")]);
        assert_eq!(schedule.to_string(), "Mon-Fri 09:00-21:00, Sun 12:00-21:00");
    }

    #[test]
    fn a_run_of_days_may_wrap_past_sunday() {
        let schedule = Schedule::parse("Fri-Mon 10:00-14:00").unwrap();
        let open: Vec<bool> = (0..7)
            .map(|day| !schedule.windows(day).is_empty())
            .collect();
        assert_eq!(open, [true, false, false, false, true, true, true]);
    }

    #[test]
    fn several_ranges_of_a_day_are_kept_apart_and_overlapping_ones_joined() {
        let schedule = Schedule::parse("09:00-12:00, 13:00-17:00, 16:00-18:00").unwrap();
        assert_eq!(
            schedule.windows(2),
            [window("09:00", "12:00"), window("13:00", "18:00")]
        );
        assert_eq!(schedule.to_string(), "09:00-12:00, 13:00-18:00");
        assert!(!schedule.is_open(2, 12 * 3600 + 30 * 60));
    }

    #[test]
    fn the_written_form_reads_back_as_the_same_schedule() {
        for rule in [
            "08:00-21:00",
            "Mon-Fri 09:00-21:30, Sat-Sun 10:00-18:00",
            "Mon-Sat 08:00-20:00",
            "Mon 09:00-12:00, Mon 13:00-17:00, Wed 00:00-24:00",
            "Sun 12:00-21:00, 09:00-21:00",
        ] {
            let schedule = Schedule::parse(rule).unwrap();
            assert_eq!(
                Schedule::parse(&schedule.to_string()).unwrap(),
                schedule,
                "{rule} written as {schedule}"
            );
        }
    }

    #[test]
    fn the_intersection_keeps_what_both_allow() {
        let country = Schedule::parse("08:00-21:00").unwrap();
        let state = Schedule::parse("Mon-Sat 09:00-22:00, Sun 12:00-20:00").unwrap();
        assert_eq!(
            country.intersect(&state),
            Schedule::parse("Mon-Sat 09:00-21:00, Sun 12:00-20:00").unwrap()
        );
        let mornings = Schedule::parse("08:00-12:00").unwrap();
        let evenings = Schedule::parse("13:00-20:00").unwrap();
        assert!(mornings.intersect(&evenings).is_closed());
    }

    #[test]
    fn a_malformed_rule_is_refused_naming_the_bad_part() {
        for (rule, message) in [
            ("9-21", "\"9-21\" is not a time range like \"08:00-21:00\""),
            ("08:00-25:00", "\"08:00-25:00\" is not a time range"),
            ("08:60-21:00", "\"08:60-21:00\" is not a time range"),
            ("21:00-08:00", "\"21:00-08:00\" ends before it starts"),
            ("Mon-Fri", "\"Mon-Fri\" names days but no hours"),
            (
                "Mon-Fry 09:00-17:00",
                "\"Mon-Fry\" is not a day or a run of days like \"Mon-Fri\"",
            ),
            (
                "Sunday 12:00-21:00",
                "\"Sunday\" is not a day or a run of days",
            ),
            ("08:00-21:00,", "has an empty part"),
            ("Sun 10:00-12:00, Sun closed", "\"Sun closed\" closes a day"),
            (
                "Sun closed, Sun 10:00-12:00",
                "\"Sun 10:00-12:00\" closes a day",
            ),
        ] {
            let error = Schedule::parse(rule).unwrap_err();
            assert!(error.contains(message), "{rule}: {error}");
        }
    }

    #[test]
    fn a_rule_that_opens_no_day_is_closed() {
        assert!(Schedule::parse("Mon-Sun closed").unwrap().is_closed());
        assert!(Schedule::parse("closed").unwrap().is_closed());
        assert_eq!(Schedule::parse("closed").unwrap().to_string(), "closed");
    }
}
