//! Contact import: CSV and JSON contacts into validated, normalized rows.
//!
//! Every row is checked (phone number to E.164 in a default country, time
//! zone, field sizes, duplicates within the batch) and every bad row is
//! reported with its row number and reason. [`ImportMode::Strict`] refuses
//! the whole file when any row is bad; [`ImportMode::SkipInvalid`] keeps
//! the good rows and lists the skipped ones — never silently.

mod from_csv;
mod from_json;

use std::collections::HashMap;
use std::fmt;

pub use crate::phone::{PhoneError, is_e164, normalize_phone, parse_country};
pub use from_csv::{import_csv, import_csv_into};
pub use from_json::{JsonContact, import_json, import_json_into};

use phonenumber::country::Id as CountryId;

use crate::text_key::{TextKey, TextKeys};

/// Most rows in one import, by default.
pub const DEFAULT_MAX_ROWS: usize = 1_000_000;
/// Most bytes in one field, by default.
pub const DEFAULT_MAX_FIELD_BYTES: usize = 4_096;
/// Most columns in a CSV file, by default.
pub const DEFAULT_MAX_COLUMNS: usize = 256;
/// Longest bad value quoted in an error, in characters.
const QUOTE_LIMIT: usize = 60;

/// What to do with a file that has bad rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    /// Refuse the whole file, listing every bad row.
    #[default]
    Strict,
    /// Import the good rows and list the skipped ones.
    SkipInvalid,
}

/// How contacts are read and checked.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub mode: ImportMode,
    /// Country that national numbers ("(415) 555-0100") belong to. Without
    /// one, only international forms ("+1 415 ...") are accepted.
    pub default_country: Option<CountryId>,
    /// Most contacts in one file. Default: 1,000,000.
    pub max_rows: usize,
    /// Most bytes in one field. Default: 4096.
    pub max_field_bytes: usize,
    /// Most columns in a CSV header. Default: 256.
    pub max_columns: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            mode: ImportMode::Strict,
            default_country: None,
            max_rows: DEFAULT_MAX_ROWS,
            max_field_bytes: DEFAULT_MAX_FIELD_BYTES,
            max_columns: DEFAULT_MAX_COLUMNS,
        }
    }
}

impl ImportOptions {
    /// Options with `mode` and the default limits.
    pub fn new(mode: ImportMode) -> Self {
        ImportOptions {
            mode,
            ..ImportOptions::default()
        }
    }

    /// Read national numbers in `country`, an ISO 3166 code like "US".
    pub fn with_default_country(mut self, country: &str) -> Result<Self, ImportError> {
        self.default_country = Some(
            parse_country(country)
                .ok_or_else(|| ImportError::UnknownCountry(country.to_string()))?,
        );
        Ok(self)
    }
}

/// A contact that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedContact {
    /// CSV: the spreadsheet row (the header is row 1, the first contact
    /// row 2). JSON: the index in the array, as in `contacts[3]`.
    pub row: usize,
    /// The external id, if the file had one.
    pub id: Option<String>,
    /// E.164.
    pub phone: String,
    pub name: Option<String>,
    /// IANA zone, when the file gave one.
    pub time_zone: Option<String>,
    /// Every other column, in file order (JSON: key order).
    pub attributes: Vec<(String, String)>,
}

/// Which kind of file an error is about; decides how its place is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Csv,
    Json,
}

/// Why one row was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Numbered as [`ImportedContact::row`].
    pub row: usize,
    /// CSV: the column header. JSON: the field path, e.g. `contacts[3].phone`.
    /// None when the whole row is at fault.
    pub field: Option<String>,
    /// The offending value, shortened when long.
    pub value: Option<String>,
    /// What is wrong, lowercase.
    pub reason: String,
    pub format: ImportFormat,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.format, &self.field) {
            (ImportFormat::Csv, Some(column)) => {
                write!(f, "row {}, column \"{column}\": {}", self.row, self.reason)
            }
            (ImportFormat::Csv, None) => write!(f, "row {}: {}", self.row, self.reason),
            (ImportFormat::Json, Some(path)) => write!(f, "{path}: {}", self.reason),
            (ImportFormat::Json, None) => write!(f, "contacts[{}]: {}", self.row, self.reason),
        }
    }
}

/// The outcome of an import that was not refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub contacts: Vec<ImportedContact>,
    /// Rows left out under [`ImportMode::SkipInvalid`]; always empty in
    /// strict mode.
    pub skipped: Vec<RowError>,
}

/// The outcome of an import whose contacts went to a sink as they passed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// How many contacts passed every check.
    pub accepted: usize,
    /// Rows left out under [`ImportMode::SkipInvalid`]; always empty in
    /// strict mode.
    pub skipped: Vec<RowError>,
}

/// Why a file was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} invalid, nothing was imported:\n{}", plural(.0.len(), "row is", "rows are"), lines(.0))]
    Rejected(Vec<RowError>),
    #[error("the file has no phone column, expected a header named one of {aliases} (found {found})", aliases = quoted(PHONE_ALIASES))]
    NoPhoneColumn { found: String },
    #[error("columns \"{first}\" and \"{second}\" both hold the {role}, expected only one of them")]
    AmbiguousColumns {
        role: &'static str,
        first: String,
        second: String,
    },
    #[error("column {index} has no header, expected a name for every column")]
    UnnamedColumn { index: usize },
    #[error("column \"{0}\" appears twice in the header, expected unique column names")]
    DuplicateColumn(String),
    #[error("the header has {found} columns, expected at most {max}")]
    TooManyColumns { found: usize, max: usize },
    #[error("the file has more than {max} contacts, expected at most {max} per import: split it")]
    TooManyRows { max: usize },
    #[error("the file is empty, expected a header row and contacts")]
    Empty,
    #[error("row {row}: {message}")]
    Malformed { row: usize, message: String },
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}")]
    Shape(String),
    #[error("unknown country \"{0}\", expected an ISO 3166 code like \"US\" or \"GB\"")]
    UnknownCountry(String),
    #[error("cannot read contacts: {0}")]
    Io(#[from] std::io::Error),
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

fn lines(errors: &[RowError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn quoted(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("\"{item}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Header names that hold the phone number.
pub const PHONE_ALIASES: &[&str] = &["phone", "phone_number", "number", "to"];
/// Header names that hold the contact's name.
pub const NAME_ALIASES: &[&str] = &["name", "full_name"];
/// Header names that hold the time zone.
pub const TIME_ZONE_ALIASES: &[&str] = &["timezone", "time_zone", "tz"];
/// Header names that hold the external id.
pub const ID_ALIASES: &[&str] = &["id", "external_id", "contact_id"];

/// A value quoted for a message, shortened when long.
pub(crate) fn shorten(value: &str) -> String {
    if value.chars().count() <= QUOTE_LIMIT {
        value.to_string()
    } else {
        let head: String = value.chars().take(QUOTE_LIMIT).collect();
        format!("{head}...")
    }
}

/// One contact's fields as read, before checking.
#[derive(Debug, Default)]
pub(crate) struct RawContact {
    pub row: usize,
    pub id: Option<(String, String)>,
    pub phone: Option<(String, String)>,
    pub name: Option<String>,
    pub time_zone: Option<(String, String)>,
    pub attributes: Vec<(String, String)>,
}

/// Checks rows one by one, remembers what the batch already holds, and
/// hands each contact that passes to a sink.
pub(crate) struct RowChecker<'a> {
    options: &'a ImportOptions,
    format: ImportFormat,
    /// Phone numbers and ids seen so far, by key: a million-row file's
    /// duplicate checks then hold keys, not copies of every value.
    keys: TextKeys,
    phones: HashMap<TextKey, usize>,
    ids: HashMap<TextKey, usize>,
    sink: &'a mut dyn FnMut(ImportedContact),
    accepted: usize,
    pub errors: Vec<RowError>,
}

impl<'a> RowChecker<'a> {
    pub(crate) fn new(
        options: &'a ImportOptions,
        format: ImportFormat,
        sink: &'a mut dyn FnMut(ImportedContact),
    ) -> Self {
        RowChecker {
            options,
            format,
            keys: TextKeys::new(),
            phones: HashMap::new(),
            ids: HashMap::new(),
            sink,
            accepted: 0,
            errors: Vec::new(),
        }
    }

    /// A row error in this file's format.
    pub(crate) fn error(
        &self,
        row: usize,
        field: Option<String>,
        value: Option<&str>,
        reason: String,
    ) -> RowError {
        RowError {
            row,
            field,
            value: value.map(shorten),
            reason,
            format: self.format,
        }
    }

    /// How an earlier row is named in a duplicate message.
    fn name_row(&self, row: usize) -> String {
        match self.format {
            ImportFormat::Csv => format!("row {row}"),
            ImportFormat::Json => format!("contacts[{row}]"),
        }
    }

    /// Record that a row was refused.
    pub(crate) fn reject(&mut self, error: RowError) {
        self.errors.push(error);
    }

    /// Check a row and keep it, or record why not. The first problem of a
    /// row is reported: later ones often follow from it.
    pub(crate) fn check(&mut self, raw: RawContact) {
        let row = raw.row;
        let (phone_field, phone_raw) = match raw.phone {
            Some((field, value)) if !value.trim().is_empty() => (field, value),
            blank => {
                let field = blank.map(|(field, _)| field);
                let reason =
                    "the phone number is missing, expected a number in every row".to_string();
                let error = self.error(row, field, None, reason);
                return self.reject(error);
            }
        };
        let phone = match normalize_phone(&phone_raw, self.options.default_country) {
            Ok(phone) => phone,
            Err(why) => {
                let expected = if self.options.default_country.is_some() {
                    "expected a number in the default country or with a \"+\" country code"
                } else {
                    "expected an international number like \"+14155550100\""
                };
                let error = self.error(
                    row,
                    Some(phone_field),
                    Some(&phone_raw),
                    format!("{why}, {expected}"),
                );
                return self.reject(error);
            }
        };
        let time_zone = match raw.time_zone.filter(|(_, value)| !value.trim().is_empty()) {
            None => None,
            Some((field, zone)) => {
                let zone = zone.trim().to_string();
                if zone.parse::<chrono_tz::Tz>().is_err() {
                    let reason = format!(
                        "unknown time zone \"{}\", expected an IANA zone name like \"America/New_York\"",
                        shorten(&zone)
                    );
                    let error = self.error(row, Some(field), Some(&zone), reason);
                    return self.reject(error);
                }
                Some(zone)
            }
        };
        let id = raw
            .id
            .map(|(field, id)| (field, id.trim().to_string()))
            .filter(|(_, id)| !id.is_empty());
        let id_key = id.as_ref().map(|(_, id)| self.keys.key(id));
        if let Some((field, id)) = &id
            && let Some(first) = id_key.and_then(|key| self.ids.get(&key))
        {
            let reason = format!(
                "id \"{}\" duplicates {}, expected unique ids",
                shorten(id),
                self.name_row(*first)
            );
            let error = self.error(row, Some(field.clone()), Some(id), reason);
            return self.reject(error);
        }
        let phone_key = self.keys.key(&phone);
        if let Some(first) = self.phones.get(&phone_key) {
            let reason = format!(
                "{phone} duplicates {}, expected each number once per batch",
                self.name_row(*first)
            );
            let error = self.error(row, Some(phone_field), Some(&phone_raw), reason);
            return self.reject(error);
        }
        self.phones.insert(phone_key, row);
        if let Some(key) = id_key {
            self.ids.insert(key, row);
        }
        self.accepted += 1;
        if self.options.mode == ImportMode::Strict && !self.errors.is_empty() {
            // The file is refused at its end: nobody needs this contact.
            return;
        }
        (self.sink)(ImportedContact {
            row,
            id: id.map(|(_, id)| id),
            phone,
            name: raw
                .name
                .map(|name| name.trim().to_string())
                .filter(|name| !name.is_empty()),
            time_zone,
            attributes: raw.attributes,
        });
    }

    /// The import's outcome under the configured mode.
    pub(crate) fn finish(mut self) -> Result<ImportSummary, ImportError> {
        self.errors.sort_by_key(|error| error.row);
        match self.options.mode {
            ImportMode::Strict if !self.errors.is_empty() => {
                Err(ImportError::Rejected(self.errors))
            }
            _ => Ok(ImportSummary {
                accepted: self.accepted,
                skipped: self.errors,
            }),
        }
    }
}

impl ImportReport {
    /// Runs `import` with a sink that keeps every contact.
    pub(crate) fn collect(
        import: impl FnOnce(&mut dyn FnMut(ImportedContact)) -> Result<ImportSummary, ImportError>,
    ) -> Result<ImportReport, ImportError> {
        let mut contacts = Vec::new();
        let summary = import(&mut |contact| contacts.push(contact))?;
        Ok(ImportReport {
            contacts,
            skipped: summary.skipped,
        })
    }
}
