//! The gate's config, read and checked once per instance: every bad key is
//! reported together, each naming the key and the part that is wrong.

use std::collections::BTreeMap;

use outdial_sdk::{Config, PluginError};

use crate::blackout::Blackouts;
use crate::jurisdiction::{self, Jurisdiction};
use crate::schedule::Schedule;

/// The law as data: calling hours by jurisdiction, in the syntax of the
/// `hours` key, before the operator's own entries replace any of them.
///
/// A starting point drawn from the rules as commonly summarised in 2025,
/// not legal advice: holidays, Sunday bans and rules for particular call
/// types are left to `blackout_dates` and the operator's own entries.
pub const DEFAULT_HOURS: &[(&str, &str)] = &[
    // TCPA, 47 CFR 64.1200(c)(1): no solicitation before 8 a.m. or after
    // 9 p.m. at the called party's location.
    ("US", "08:00-21:00"),
    // Connecticut's 2023 telemarketing amendments.
    ("US-CT", "09:00-20:00"),
    // Florida Telephone Solicitation Act, Fla. Stat. 501.616.
    ("US-FL", "08:00-20:00"),
    // Maryland Stop the Spam Calls Act (2023).
    ("US-MD", "08:00-20:00"),
    // Oklahoma Telephone Solicitation Act, Okla. Stat. tit. 15, 775C.4.
    ("US-OK", "08:00-20:00"),
    // Tex. Bus. & Com. Code 301.051: noon on Sundays.
    ("US-TX", "Mon-Sat 09:00-21:00, Sun 12:00-21:00"),
    // RCW 80.36.390 as amended in 2023.
    ("US-WA", "08:00-20:00"),
    // CRTC Unsolicited Telecommunications Rules, telemarketing.
    ("CA", "Mon-Fri 09:00-21:30, Sat-Sun 10:00-18:00"),
];

/// Hours of a number whose jurisdiction has no entry.
pub const DEFAULT_DEFAULT_HOURS: &str = "08:00-21:00";

/// The contact attribute holding the line type, unless configured.
pub const DEFAULT_LINE_TYPE_ATTRIBUTE: &str = "line_type";

/// The checked config.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The hours in force per jurisdiction with an entry: a state's already
    /// narrowed to its country's, since both laws apply.
    pub(crate) hours: BTreeMap<String, Schedule>,
    /// The hours where no jurisdiction of a number has an entry.
    pub(crate) default_hours: Schedule,
    pub(crate) blackouts: Blackouts,
    /// NANP area codes placed by the operator, before the built-in table.
    pub(crate) area_codes: BTreeMap<u16, String>,
    /// Set when mobile lines need consent.
    pub(crate) mobile_consent: Option<MobileConsent>,
}

/// How a contact shows consent to be called on a mobile line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MobileConsent {
    /// The attribute naming the line type; "mobile" lines need consent.
    pub(crate) line_type_attribute: String,
    /// An attribute whose truthy value is consent.
    pub(crate) attribute: Option<String>,
    /// An informing list whose numbers have consented.
    pub(crate) list: Option<String>,
}

impl Settings {
    /// Read every key of `config`, or refuse it with every error found.
    pub(crate) fn from_config(config: &Config) -> Result<Settings, PluginError> {
        let mut errors = Vec::new();

        let mut table = BTreeMap::new();
        for (key, rule) in DEFAULT_HOURS {
            let schedule = Schedule::parse(rule).expect("the default table is tested to parse");
            table.insert((*key).to_string(), schedule);
        }
        if let Some(text) = config.get("hours") {
            match parse_hours(text) {
                Ok(entries) => table.extend(entries),
                Err(bad) => errors.extend(bad.into_iter().map(|e| format!("key \"hours\": {e}"))),
            }
        }
        let hours = in_force(&table).unwrap_or_else(|bad| {
            errors.extend(bad.into_iter().map(|e| format!("key \"hours\": {e}")));
            BTreeMap::new()
        });

        let default_text = config.get("default_hours").unwrap_or(DEFAULT_DEFAULT_HOURS);
        let default_hours = match Schedule::parse(default_text) {
            Ok(schedule) if schedule.is_closed() => {
                errors.push(format!(
                    "key \"default_hours\": \"{}\" opens on no day",
                    default_text.trim()
                ));
                schedule
            }
            Ok(schedule) => schedule,
            Err(error) => {
                errors.push(format!("key \"default_hours\": {error}"));
                Schedule::parse(DEFAULT_DEFAULT_HOURS).expect("the default hours parse")
            }
        };

        let blackouts = Blackouts::parse(config.get("blackout_dates").unwrap_or(""))
            .unwrap_or_else(|bad| {
                errors.extend(
                    bad.into_iter()
                        .map(|e| format!("key \"blackout_dates\": {e}")),
                );
                Blackouts::default()
            });

        let area_codes =
            parse_area_codes(config.get("area_codes").unwrap_or("")).unwrap_or_else(|bad| {
                errors.extend(bad.into_iter().map(|e| format!("key \"area_codes\": {e}")));
                BTreeMap::new()
            });

        let mut name = |key: &str| match config.get(key).map(str::trim) {
            Some("") => {
                errors.push(format!("key \"{key}\" is empty"));
                None
            }
            value => value.map(str::to_string),
        };
        let attribute = name("mobile_consent_attribute");
        let list = name("mobile_consent_list");
        let line_type_attribute =
            name("line_type_attribute").unwrap_or_else(|| DEFAULT_LINE_TYPE_ATTRIBUTE.to_string());
        let mobile_consent = (attribute.is_some() || list.is_some()).then_some(MobileConsent {
            line_type_attribute,
            attribute,
            list,
        });

        if !errors.is_empty() {
            return Err(PluginError::InvalidConfig(errors.join("; ")));
        }
        Ok(Settings {
            hours,
            default_hours,
            blackouts,
            area_codes,
            mobile_consent,
        })
    }

    /// The hours a number is called in: the entry of its most specific
    /// jurisdiction that has one, else the default hours.
    pub(crate) fn hours_of(&self, jurisdiction: &Jurisdiction) -> &Schedule {
        jurisdiction
            .chain()
            .iter()
            .find_map(|key| self.hours.get(key))
            .unwrap_or(&self.default_hours)
    }
}

/// "US=08:00-21:00; US-FL=08:00-20:00" as entries by jurisdiction.
fn parse_hours(text: &str) -> Result<BTreeMap<String, Schedule>, Vec<String>> {
    let mut entries = BTreeMap::new();
    let mut errors = Vec::new();
    for entry in text
        .split(';')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
    {
        let Some((key, rule)) = entry.split_once('=') else {
            errors.push(format!(
                "entry \"{entry}\" is not JURISDICTION=HOURS, e.g. \"US-FL=08:00-20:00\""
            ));
            continue;
        };
        let key = key.trim().to_ascii_uppercase();
        let parsed = jurisdiction::check_key(&key).and_then(|()| Schedule::parse(rule));
        match parsed {
            Ok(schedule) if schedule.is_closed() => errors.push(format!(
                "entry \"{entry}\" opens on no day (to never call a number, put it on a blocking suppression list)"
            )),
            Ok(schedule) => {
                if entries.insert(key.clone(), schedule).is_some() {
                    errors.push(format!("{key} is given twice"));
                }
            }
            Err(error) => errors.push(format!("entry \"{entry}\": {error}")),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

/// Each entry narrowed to its country's, refusing one left with no hours.
fn in_force(table: &BTreeMap<String, Schedule>) -> Result<BTreeMap<String, Schedule>, Vec<String>> {
    let mut hours = BTreeMap::new();
    let mut errors = Vec::new();
    for (key, schedule) in table {
        let country = key.split_once('-').map(|(country, _)| country);
        let narrowed = match country.and_then(|country| table.get(country).map(|c| (country, c))) {
            Some((country, country_hours)) => {
                let both = schedule.intersect(country_hours);
                if both.is_closed() {
                    errors.push(format!(
                        "{key} ({schedule}) and {country} ({country_hours}) leave no calling hours for {key}"
                    ));
                }
                both
            }
            None => schedule.clone(),
        };
        hours.insert(key.clone(), narrowed);
    }
    if errors.is_empty() {
        Ok(hours)
    } else {
        Err(errors)
    }
}

/// "457=US-LA, 683=CA" as area codes and their jurisdictions.
fn parse_area_codes(text: &str) -> Result<BTreeMap<u16, String>, Vec<String>> {
    let mut codes = BTreeMap::new();
    let mut errors = Vec::new();
    for item in text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let Some((code, key)) = item.split_once('=') else {
            errors.push(format!(
                "\"{item}\" is not AREA_CODE=JURISDICTION, e.g. \"457=US-LA\""
            ));
            continue;
        };
        let code = code.trim();
        let key = key.trim().to_ascii_uppercase();
        let npa = (code.len() == 3
            && code.bytes().all(|b| b.is_ascii_digit())
            && !code.starts_with(['0', '1']))
        .then(|| code.parse::<u16>().ok())
        .flatten();
        let Some(npa) = npa else {
            errors.push(format!(
                "\"{item}\": \"{code}\" is not an area code like \"457\""
            ));
            continue;
        };
        if let Err(error) = jurisdiction::check_key(&key) {
            errors.push(format!("\"{item}\": {error}"));
        } else if !jurisdiction::is_nanp(&key) {
            errors.push(format!(
                "\"{item}\": {key} is not in the North American numbering plan"
            ));
        } else {
            codes.insert(npa, key);
        }
    }
    if errors.is_empty() {
        Ok(codes)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_config(&Config::from_pairs(pairs)).expect("valid config")
    }

    fn refusal(pairs: &[(&str, &str)]) -> String {
        match Settings::from_config(&Config::from_pairs(pairs)) {
            Err(PluginError::InvalidConfig(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn hours(settings: &Settings, key: &str) -> String {
        settings.hours[key].to_string()
    }

    #[test]
    fn the_default_table_parses_and_names_only_known_jurisdictions() {
        for (key, rule) in DEFAULT_HOURS {
            assert_eq!(jurisdiction::check_key(key), Ok(()), "{key}");
            let schedule = Schedule::parse(rule).unwrap();
            assert_eq!(schedule.to_string(), *rule, "{key} is written canonically");
        }
        let settings = settings(&[]);
        assert_eq!(hours(&settings, "US"), "08:00-21:00");
        assert_eq!(hours(&settings, "US-FL"), "08:00-20:00");
        assert_eq!(hours(&settings, "US-CT"), "09:00-20:00");
        assert_eq!(
            hours(&settings, "US-TX"),
            "Mon-Sat 09:00-21:00, Sun 12:00-21:00"
        );
        assert_eq!(settings.default_hours.to_string(), "08:00-21:00");
        assert_eq!(settings.mobile_consent, None);
    }

    #[test]
    fn an_entry_replaces_the_default_of_its_jurisdiction_and_adds_new_ones() {
        let settings = settings(&[(
            "hours",
            "us-fl = 08:00-21:00; GB=09:00-20:00; US-TX=Mon-Sat 09:00-21:00, Sun 12:00-21:00;",
        )]);
        assert_eq!(hours(&settings, "US-FL"), "08:00-21:00");
        assert_eq!(hours(&settings, "GB"), "09:00-20:00");
        assert_eq!(hours(&settings, "US-MD"), "08:00-20:00", "untouched");
    }

    #[test]
    fn a_narrower_country_entry_narrows_its_states_too() {
        let settings = settings(&[("hours", "US=10:00-18:00")]);
        assert_eq!(hours(&settings, "US-FL"), "10:00-18:00");
        assert_eq!(
            hours(&settings, "US-TX"),
            "Mon-Sat 10:00-18:00, Sun 12:00-18:00"
        );
    }

    #[test]
    fn consent_is_checked_only_when_an_attribute_or_a_list_is_named() {
        let by_attribute = settings(&[("mobile_consent_attribute", "consent")]);
        assert_eq!(
            by_attribute.mobile_consent,
            Some(MobileConsent {
                line_type_attribute: "line_type".to_string(),
                attribute: Some("consent".to_string()),
                list: None,
            })
        );
        let by_list = settings(&[
            ("mobile_consent_list", "consent-given"),
            ("line_type_attribute", "phone_type"),
        ]);
        let consent = by_list.mobile_consent.unwrap();
        assert_eq!(consent.list.as_deref(), Some("consent-given"));
        assert_eq!(consent.line_type_attribute, "phone_type");
    }

    #[test]
    fn area_codes_are_read_and_checked() {
        let settings = settings(&[("area_codes", "457=US-LA, 257=ca")]);
        assert_eq!(settings.area_codes[&457], "US-LA");
        assert_eq!(settings.area_codes[&257], "CA");
        assert_eq!(
            refusal(&[("area_codes", "45=US-LA, 457=GB, 457, 123=US")]),
            [
                "key \"area_codes\": \"45=US-LA\": \"45\" is not an area code like \"457\"",
                "key \"area_codes\": \"457=GB\": GB is not in the North American numbering plan",
                "key \"area_codes\": \"457\" is not AREA_CODE=JURISDICTION, e.g. \"457=US-LA\"",
                "key \"area_codes\": \"123=US\": \"123\" is not an area code like \"457\"",
            ]
            .join("; ")
        );
    }

    #[test]
    fn bad_hours_are_refused_naming_the_key_and_the_entry() {
        assert_eq!(
            refusal(&[("hours", "US-TX=Mon-Sat 9-21; UK=09:00-20:00; US-FL; GB=closed")]),
            [
                "key \"hours\": entry \"US-TX=Mon-Sat 9-21\": \"9-21\" is not a time range like \"08:00-21:00\"",
                "key \"hours\": entry \"UK=09:00-20:00\": unknown jurisdiction \"UK\" (a country code such as \"GB\", or a US state such as \"US-FL\")",
                "key \"hours\": entry \"US-FL\" is not JURISDICTION=HOURS, e.g. \"US-FL=08:00-20:00\"",
                "key \"hours\": entry \"GB=closed\" opens on no day (to never call a number, put it on a blocking suppression list)",
            ]
            .join("; ")
        );
        assert_eq!(
            refusal(&[("hours", "GB=09:00-17:00; gb=10:00-16:00")]),
            "key \"hours\": GB is given twice"
        );
    }

    #[test]
    fn a_state_left_without_hours_by_its_country_is_refused() {
        assert_eq!(
            refusal(&[("hours", "US=08:00-12:00; US-CT=13:00-20:00")]),
            "key \"hours\": US-CT (13:00-20:00) and US (08:00-12:00) leave no calling hours for US-CT"
        );
    }

    #[test]
    fn every_bad_key_is_reported_at_once() {
        let message = refusal(&[
            ("default_hours", "always"),
            ("blackout_dates", "2026-12-25, Christmas"),
            ("mobile_consent_attribute", " "),
            ("hours", "US=8-21"),
        ]);
        assert_eq!(
            message,
            [
                "key \"hours\": entry \"US=8-21\": \"8-21\" is not a time range like \"08:00-21:00\"",
                "key \"default_hours\": \"always\" is not a time range like \"08:00-21:00\"",
                "key \"blackout_dates\": \"Christmas\" is not a date like \"2026-12-25\"",
                "key \"mobile_consent_attribute\" is empty",
            ]
            .join("; ")
        );
        assert_eq!(
            refusal(&[("default_hours", "Mon-Sun closed")]),
            "key \"default_hours\": \"Mon-Sun closed\" opens on no day"
        );
    }
}
