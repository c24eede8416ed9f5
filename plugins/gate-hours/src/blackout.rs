//! Local dates on which nobody is called: public holidays, a day of
//! mourning, the company's own days off.
//!
//! Written as a comma-separated list of dates (`2026-12-25`) or inclusive
//! runs of dates (`2026-12-24..2026-12-26`), each optionally for one
//! jurisdiction only (`US:2026-11-26`, `US-TX:2026-03-02`). A date is
//! the contact's local date, so a blackout follows each contact's clock.

use outdial_sdk::gate::{civil_from_days, days_from_civil};

use crate::jurisdiction::{self, Jurisdiction};

/// The longest run one entry may name, so a typo in a year cannot black
/// out a decade.
const LONGEST_RUN_DAYS: i64 = 366;

/// One date or run of dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blackout {
    /// The jurisdiction it is limited to, e.g. "US"; none for everyone.
    scope: Option<String>,
    /// Day numbers (days since 1970-01-01), both included.
    first: i64,
    last: i64,
}

impl Blackout {
    /// Why a dial on day `day` is deferred.
    pub(crate) fn reason(&self, day: i64) -> String {
        let (year, month, date) = civil_from_days(day);
        match &self.scope {
            Some(scope) => {
                format!("{year:04}-{month:02}-{date:02} is a blackout date for {scope}")
            }
            None => format!("{year:04}-{month:02}-{date:02} is a blackout date"),
        }
    }
}

/// Every blackout of the config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Blackouts {
    entries: Vec<Blackout>,
}

impl Blackouts {
    /// Read the list; the errors name each bad item.
    pub(crate) fn parse(text: &str) -> Result<Blackouts, Vec<String>> {
        let mut entries = Vec::new();
        let mut errors = Vec::new();
        for item in text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            match parse_item(item) {
                Ok(entry) => entries.push(entry),
                Err(error) => errors.push(error),
            }
        }
        if errors.is_empty() {
            Ok(Blackouts { entries })
        } else {
            Err(errors)
        }
    }

    /// The blackout that covers local day `day` for `jurisdiction`, if any.
    pub(crate) fn find(&self, day: i64, jurisdiction: &Jurisdiction) -> Option<&Blackout> {
        self.entries.iter().find(|entry| {
            (entry.first..=entry.last).contains(&day)
                && entry
                    .scope
                    .as_ref()
                    .is_none_or(|scope| jurisdiction.includes(scope))
        })
    }

    /// How many days the entries cover together, counting overlaps twice:
    /// a bound on how long a run of blacked-out days can be.
    pub(crate) fn days_covered(&self) -> i64 {
        self.entries
            .iter()
            .map(|entry| entry.last - entry.first + 1)
            .sum()
    }
}

/// "2026-12-25", "2026-12-24..2026-12-26" or "US:2026-11-26".
fn parse_item(item: &str) -> Result<Blackout, String> {
    let (scope, dates) = match item.split_once(':') {
        Some((scope, dates)) => {
            let scope = scope.trim().to_ascii_uppercase();
            jurisdiction::check_key(&scope).map_err(|error| format!("\"{item}\": {error}"))?;
            (Some(scope), dates.trim())
        }
        None => (None, item),
    };
    let (first, last) = match dates.split_once("..") {
        Some((first, last)) => (parse_date(first)?, parse_date(last)?),
        None => {
            let only = parse_date(dates)?;
            (only, only)
        }
    };
    if last < first {
        return Err(format!("\"{item}\" ends before it starts"));
    }
    if last - first >= LONGEST_RUN_DAYS {
        return Err(format!("\"{item}\" is longer than {LONGEST_RUN_DAYS} days"));
    }
    Ok(Blackout { scope, first, last })
}

/// "2026-12-25" as a day number; the error quotes the date.
fn parse_date(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let bad = || format!("\"{text}\" is not a date like \"2026-12-25\"");
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return Err(bad());
    };
    let number = |part: &str, len: usize| {
        (part.len() == len && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u16>().ok())
            .flatten()
    };
    let (Some(year), Some(month), Some(day)) = (number(year, 4), number(month, 2), number(day, 2))
    else {
        return Err(bad());
    };
    let (year, month, day) = (i32::from(year), month as u8, day as u8);
    let days = days_from_civil(year, month, day);
    // February 30 would count on into March: only a real date reads back.
    if !(1..=12).contains(&month) || civil_from_days(days) != (year, month, day) {
        return Err(bad());
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn day(text: &str) -> i64 {
        parse_date(text).unwrap()
    }

    fn jurisdiction(phone: &str) -> Jurisdiction {
        Jurisdiction::of(phone, &BTreeMap::new())
    }

    #[test]
    fn dates_and_runs_black_out_every_day_they_name() {
        let blackouts = Blackouts::parse("2026-12-25, 2026-12-30..2027-01-01,").unwrap();
        let miami = jurisdiction("+13055550100");
        for date in ["2026-12-25", "2026-12-30", "2026-12-31", "2027-01-01"] {
            assert!(blackouts.find(day(date), &miami).is_some(), "{date}");
        }
        for date in ["2026-12-24", "2026-12-26", "2026-12-29", "2027-01-02"] {
            assert!(blackouts.find(day(date), &miami).is_none(), "{date}");
        }
        assert_eq!(blackouts.days_covered(), 4);
    }

    #[test]
    fn a_scoped_date_holds_only_within_its_jurisdiction() {
        let blackouts = Blackouts::parse("us:2026-11-26, US-TX:2026-03-02").unwrap();
        let thanksgiving = day("2026-11-26");
        assert!(
            blackouts
                .find(thanksgiving, &jurisdiction("+13055550100"))
                .is_some()
        );
        assert!(
            blackouts
                .find(thanksgiving, &jurisdiction("+442071234567"))
                .is_none()
        );
        let texas_day = day("2026-03-02");
        assert!(
            blackouts
                .find(texas_day, &jurisdiction("+17135550100"))
                .is_some()
        );
        assert!(
            blackouts
                .find(texas_day, &jurisdiction("+13055550100"))
                .is_none()
        );
    }

    #[test]
    fn the_reason_names_the_local_date_and_the_scope() {
        let blackouts = Blackouts::parse("2026-12-25, US:2026-11-26").unwrap();
        let miami = jurisdiction("+13055550100");
        let christmas = day("2026-12-25");
        let thanksgiving = day("2026-11-26");
        assert_eq!(
            blackouts.find(christmas, &miami).unwrap().reason(christmas),
            "2026-12-25 is a blackout date"
        );
        assert_eq!(
            blackouts
                .find(thanksgiving, &miami)
                .unwrap()
                .reason(thanksgiving),
            "2026-11-26 is a blackout date for US"
        );
    }

    #[test]
    fn an_empty_list_blacks_out_nothing() {
        assert_eq!(Blackouts::parse(" "), Ok(Blackouts::default()));
    }

    #[test]
    fn every_bad_item_is_refused_by_name() {
        let errors = Blackouts::parse(
            "2026-02-30, 2026-13-01, 26-12-25, 2026-12-25.., UK:2026-12-25, 2026-12-26..2026-12-24, 2026-01-01..2027-06-30, 2026-12-25",
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "\"2026-02-30\" is not a date like \"2026-12-25\"",
                "\"2026-13-01\" is not a date like \"2026-12-25\"",
                "\"26-12-25\" is not a date like \"2026-12-25\"",
                "\"\" is not a date like \"2026-12-25\"",
                "\"UK:2026-12-25\": unknown jurisdiction \"UK\" (a country code such as \"GB\", or a US state such as \"US-FL\")",
                "\"2026-12-26..2026-12-24\" ends before it starts",
                "\"2026-01-01..2027-06-30\" is longer than 366 days",
            ]
        );
    }
}
