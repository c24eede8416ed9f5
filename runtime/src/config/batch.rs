//! A batch's own settings, written as JSON in an upload, checked by the
//! same code as the config file's sections so the two never disagree.

use serde::Deserialize;
use serde_spanned::Spanned;

use super::resolve::check_window;
use super::schema::{HoursSection, WindowSection};
use crate::model::BatchHours;

/// A batch's working hours: the keys of a campaign's `[campaigns.window]`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursInput {
    /// "contact" (the contact's own zone, else the default) or "campaign"
    /// (always the default). Default: "contact".
    #[schema(example = "contact")]
    pub time_zone_policy: Option<String>,
    /// IANA zone used when nothing better is known. Default: "UTC".
    #[schema(example = "America/New_York")]
    pub default_time_zone: Option<String>,
    /// Open hours on the contact's clock. Default: none.
    #[serde(default)]
    pub hours: Vec<HoursRangeInput>,
    /// Cron expressions (5 fields, minute first, or 6 with seconds) whose
    /// matching minutes are open. Default: none. With neither `hours` nor
    /// `cron` the batch may be called at any time.
    #[serde(default)]
    #[schema(example = json!(["* 9-19 * * Mon-Fri"]))]
    pub cron: Vec<String>,
}

/// One range of open hours.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursRangeInput {
    /// Days of week: "mon-fri", "sat,sun", "daily". Default: "daily".
    #[schema(example = "mon-fri")]
    pub days: Option<String>,
    /// Local opening time "HH:MM".
    #[schema(example = "09:00")]
    pub start: String,
    /// Local closing time "HH:MM", exclusive, "24:00" for midnight.
    #[schema(example = "17:00")]
    pub end: String,
}

/// A bad value of a batch setting: the JSON path of the value (e.g.
/// `hours.hours[0].start`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{path}\": {message}")]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

/// Paths of the values of one input; a value's span is its index here,
/// so errors the config checker reports at a span come back as paths.
#[derive(Default)]
struct Paths(Vec<String>);

impl Paths {
    fn spanned<T>(&mut self, path: String, value: T) -> Spanned<T> {
        let index = self.0.len();
        self.0.push(path);
        Spanned::new(index..index + 1, value)
    }
}

/// Checks `hours` (found at `field`) as a campaign's window is checked;
/// the first error, if any, names the JSON path of the value.
pub fn batch_hours(field: &str, hours: &HoursInput) -> Result<BatchHours, FieldError> {
    let mut paths = Paths::default();
    let section = WindowSection {
        time_zone_policy: hours
            .time_zone_policy
            .clone()
            .map(|value| paths.spanned(format!("{field}.time_zone_policy"), value)),
        default_time_zone: hours
            .default_time_zone
            .clone()
            .map(|value| paths.spanned(format!("{field}.default_time_zone"), value)),
        hours: hours
            .hours
            .iter()
            .enumerate()
            .map(|(index, range)| {
                let at = format!("{field}.hours[{index}]");
                let section = HoursSection {
                    days: range
                        .days
                        .clone()
                        .map(|days| paths.spanned(format!("{at}.days"), days)),
                    start: paths.spanned(format!("{at}.start"), range.start.clone()),
                    end: paths.spanned(format!("{at}.end"), range.end.clone()),
                };
                paths.spanned(at, section)
            })
            .collect(),
        cron: hours
            .cron
            .iter()
            .enumerate()
            .map(|(index, expression)| {
                paths.spanned(format!("{field}.cron[{index}]"), expression.clone())
            })
            .collect(),
    };
    let mut first: Option<FieldError> = None;
    let (calling_window, time_zone_policy, default_time_zone) =
        check_window(&section, &mut |span, message| {
            if first.is_none() {
                first = Some(FieldError {
                    path: paths.0.get(span.start).cloned().unwrap_or_default(),
                    message,
                });
            }
        });
    match first {
        Some(error) => Err(error),
        None => Ok(BatchHours {
            calling_window,
            time_zone_policy,
            default_time_zone,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TimeZonePolicy, WindowRule};

    fn range(days: Option<&str>, start: &str, end: &str) -> HoursRangeInput {
        HoursRangeInput {
            days: days.map(str::to_string),
            start: start.to_string(),
            end: end.to_string(),
        }
    }

    #[test]
    fn batch_hours_are_read_as_a_campaign_window_is() {
        let hours = HoursInput {
            time_zone_policy: Some("campaign".to_string()),
            default_time_zone: Some("Europe/Paris".to_string()),
            hours: vec![range(Some("mon-fri"), "09:00", "12:00")],
            cron: Vec::new(),
        };
        let hours = batch_hours("hours", &hours).expect("valid hours");
        assert_eq!(hours.time_zone_policy, TimeZonePolicy::Campaign);
        assert_eq!(hours.default_time_zone, "Europe/Paris");
        assert_eq!(
            hours.calling_window.rules,
            vec![WindowRule::Range {
                days: vec![0, 1, 2, 3, 4],
                start_minute: 9 * 60,
                end_minute: 12 * 60,
            }]
        );
    }

    #[test]
    fn a_bad_batch_hours_value_is_named_by_its_json_path() {
        let bad = |hours: HoursInput| batch_hours("hours", &hours).expect_err("refused");
        let error = bad(HoursInput {
            hours: vec![range(None, "09:00", "12:00"), range(None, "9am", "12:00")],
            ..HoursInput::default()
        });
        assert_eq!(error.path, "hours.hours[1].start");
        assert!(error.message.contains("\"9am\" is not a time"), "{error}");
        let error = bad(HoursInput {
            hours: vec![range(Some("mon-fry"), "09:00", "12:00")],
            ..HoursInput::default()
        });
        assert_eq!(error.path, "hours.hours[0].days");
        let error = bad(HoursInput {
            hours: vec![range(None, "12:00", "09:00")],
            ..HoursInput::default()
        });
        assert_eq!(error.path, "hours.hours[0]");
        let error = bad(HoursInput {
            default_time_zone: Some("Mars/Olympus".to_string()),
            ..HoursInput::default()
        });
        assert_eq!(error.path, "hours.default_time_zone");
        let error = bad(HoursInput {
            time_zone_policy: Some("recipient".to_string()),
            ..HoursInput::default()
        });
        assert_eq!(error.path, "hours.time_zone_policy");
        let error = bad(HoursInput {
            cron: vec!["* 9-19 * *".to_string()],
            ..HoursInput::default()
        });
        assert_eq!(error.path, "hours.cron[0]");
    }
}
