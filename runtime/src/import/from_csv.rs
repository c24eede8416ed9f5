//! Contacts from CSV with a header row.

use std::io::Read;

use super::{
    ID_ALIASES, ImportError, ImportFormat, ImportOptions, ImportReport, ImportSummary,
    ImportedContact, NAME_ALIASES, PHONE_ALIASES, RawContact, RowChecker, TIME_ZONE_ALIASES,
};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Phone,
    Name,
    TimeZone,
    Id,
    Attribute,
}

impl Role {
    fn describe(self) -> &'static str {
        match self {
            Role::Phone => "phone number",
            Role::Name => "name",
            Role::TimeZone => "time zone",
            Role::Id => "id",
            Role::Attribute => "attribute",
        }
    }
}

/// A header as compared against aliases: "Phone Number" → "phone_number".
fn normalize_header(raw: &str) -> String {
    raw.trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

fn role_of(header: &str) -> Role {
    let normalized = normalize_header(header);
    let is = |aliases: &[&str]| aliases.contains(&normalized.as_str());
    if is(PHONE_ALIASES) {
        Role::Phone
    } else if is(NAME_ALIASES) {
        Role::Name
    } else if is(TIME_ZONE_ALIASES) {
        Role::TimeZone
    } else if is(ID_ALIASES) {
        Role::Id
    } else {
        Role::Attribute
    }
}

/// Read contacts from CSV. The header maps columns: phone (phone,
/// phone_number, number, to), name, time zone (timezone, time_zone, tz),
/// id (id, external_id, contact_id); every other column becomes an
/// attribute. Rows are numbered as a spreadsheet shows them: the header is
/// row 1.
pub fn import_csv(input: impl Read, options: &ImportOptions) -> Result<ImportReport, ImportError> {
    ImportReport::collect(|sink| import_csv_into(input, options, sink))
}

/// [`import_csv`] handing each contact that passes to `sink` as it is
/// read, so a file of any length is never whole in memory. In strict
/// mode the sink sees contacts only until the first bad row: the file is
/// refused at its end.
pub fn import_csv_into(
    input: impl Read,
    options: &ImportOptions,
    sink: &mut dyn FnMut(ImportedContact),
) -> Result<ImportSummary, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        // Rows of other lengths are reported per row, not as a file error.
        .flexible(true)
        .from_reader(input);
    let mut records = reader.byte_records();

    let header = match records.next() {
        None => return Err(ImportError::Empty),
        Some(record) => record.map_err(|err| malformed(1, err))?,
    };
    let headers: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            let text = String::from_utf8_lossy(raw);
            // Spreadsheet exports often start with a byte order mark.
            let text = if index == 0 {
                text.trim_start_matches('\u{feff}')
            } else {
                &text
            };
            text.trim().to_string()
        })
        .collect();
    if headers.len() > options.max_columns {
        return Err(ImportError::TooManyColumns {
            found: headers.len(),
            max: options.max_columns,
        });
    }
    let mut roles = Vec::with_capacity(headers.len());
    for (index, header) in headers.iter().enumerate() {
        if header.is_empty() {
            return Err(ImportError::UnnamedColumn { index: index + 1 });
        }
        if headers[..index].iter().any(|earlier| earlier == header) {
            return Err(ImportError::DuplicateColumn(header.clone()));
        }
        let role = role_of(header);
        if role != Role::Attribute
            && let Some(earlier) = roles.iter().position(|known| *known == role)
        {
            return Err(ImportError::AmbiguousColumns {
                role: role.describe(),
                first: headers[earlier].clone(),
                second: header.clone(),
            });
        }
        roles.push(role);
    }
    if !roles.contains(&Role::Phone) {
        return Err(ImportError::NoPhoneColumn {
            found: headers
                .iter()
                .map(|h| format!("\"{h}\""))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }

    let mut checker = RowChecker::new(options, ImportFormat::Csv, sink);
    let mut count = 0usize;
    for (index, record) in records.enumerate() {
        let row = index + 2;
        let record = record.map_err(|err| malformed(row, err))?;
        count += 1;
        if count > options.max_rows {
            return Err(ImportError::TooManyRows {
                max: options.max_rows,
            });
        }
        if record.len() > headers.len() {
            let reason = format!(
                "the row has {} fields, expected at most {} (one per header column)",
                record.len(),
                headers.len()
            );
            let error = checker.error(row, None, None, reason);
            checker.reject(error);
            continue;
        }
        if record
            .iter()
            .all(|field| field.iter().all(u8::is_ascii_whitespace))
        {
            let error = checker.error(
                row,
                None,
                None,
                "the row is empty, expected a contact".to_string(),
            );
            checker.reject(error);
            continue;
        }
        let mut raw = RawContact {
            row,
            ..RawContact::default()
        };
        let mut bad = None;
        for (column, field) in record.iter().enumerate() {
            let header = &headers[column];
            let Ok(value) = std::str::from_utf8(field) else {
                bad = Some(checker.error(
                    row,
                    Some(header.clone()),
                    Some(&String::from_utf8_lossy(field)),
                    "the value is not UTF-8 text, expected the file saved as UTF-8".to_string(),
                ));
                break;
            };
            if value.len() > options.max_field_bytes {
                bad = Some(checker.error(
                    row,
                    Some(header.clone()),
                    Some(value),
                    format!(
                        "the value is {} bytes long, expected at most {}",
                        value.len(),
                        options.max_field_bytes
                    ),
                ));
                break;
            }
            let value = value.to_string();
            match roles[column] {
                Role::Phone => raw.phone = Some((header.clone(), value)),
                Role::Name => raw.name = Some(value),
                Role::TimeZone => raw.time_zone = Some((header.clone(), value)),
                Role::Id => raw.id = Some((header.clone(), value)),
                Role::Attribute => raw.attributes.push((header.clone(), value)),
            }
        }
        match bad {
            Some(error) => checker.reject(error),
            None => checker.check(raw),
        }
    }
    checker.finish()
}

fn malformed(row: usize, err: csv::Error) -> ImportError {
    let message = err.to_string().to_lowercase();
    match err.into_kind() {
        csv::ErrorKind::Io(io) => ImportError::Io(io),
        _ => ImportError::Malformed { row, message },
    }
}

#[cfg(test)]
mod tests {
    use super::super::ImportMode;
    use super::*;

    fn options(mode: ImportMode) -> ImportOptions {
        ImportOptions::new(mode)
            .with_default_country("US")
            .expect("US is a country")
    }

    fn strict(csv: &str) -> Result<ImportReport, ImportError> {
        import_csv(csv.as_bytes(), &options(ImportMode::Strict))
    }

    #[test]
    fn columns_map_by_alias_and_the_rest_become_attributes() {
        let report = strict("Phone Number,Name,TZ,External-ID,plan\n(415) 555-0100,Ada,America/Los_Angeles,c-1,gold\n")
            .unwrap();
        assert_eq!(report.contacts.len(), 1);
        let contact = &report.contacts[0];
        assert_eq!(contact.row, 2);
        assert_eq!(contact.phone, "+14155550100");
        assert_eq!(contact.name.as_deref(), Some("Ada"));
        assert_eq!(contact.time_zone.as_deref(), Some("America/Los_Angeles"));
        assert_eq!(contact.id.as_deref(), Some("c-1"));
        assert_eq!(
            contact.attributes,
            vec![("plan".to_string(), "gold".to_string())]
        );
    }

    #[test]
    fn strict_mode_rejects_the_file_and_lists_every_bad_row() {
        let err = strict("to,tz\n+14155550100,\n555,\n+14155550101,Mars/Base\n").unwrap_err();
        let ImportError::Rejected(errors) = err else {
            panic!("expected a rejection, got {err}");
        };
        assert_eq!(errors.iter().map(|e| e.row).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(errors[1].field.as_deref(), Some("tz"));
        assert_eq!(errors[1].value.as_deref(), Some("Mars/Base"));
    }

    #[test]
    fn skip_invalid_keeps_good_rows_and_lists_the_skipped_ones() {
        let csv = "phone\n+14155550100\nnot a number\n+14155550101\n";
        let report = import_csv(csv.as_bytes(), &options(ImportMode::SkipInvalid)).unwrap();
        assert_eq!(report.contacts.len(), 2);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].row, 3);
    }

    #[test]
    fn a_repeated_number_names_the_row_that_had_it_first() {
        let err = strict("phone\n+14155550100\n(415) 555-0100\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("row 3, column \"phone\": +14155550100 duplicates row 2"),
            "{err}"
        );
    }

    #[test]
    fn rows_with_too_many_fields_or_nothing_in_them_are_refused() {
        let err = strict("phone,name\n+14155550100,Ada,extra\n , \n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("row 2: the row has 3 fields, expected at most 2"),
            "{text}"
        );
        assert!(text.contains("row 3: the row is empty"), "{text}");
    }

    #[test]
    fn a_file_without_a_phone_column_is_refused_whole() {
        let err = strict("name,email\nAda,ada@example.com\n").unwrap_err();
        assert!(matches!(err, ImportError::NoPhoneColumn { .. }), "{err}");
    }

    #[test]
    fn two_columns_for_the_phone_are_ambiguous() {
        let err = strict("phone,to\n+14155550100,+14155550101\n").unwrap_err();
        assert!(matches!(err, ImportError::AmbiguousColumns { .. }), "{err}");
    }

    #[test]
    fn limits_on_rows_and_field_size_hold() {
        let mut options = options(ImportMode::Strict);
        options.max_rows = 1;
        let err =
            import_csv("phone\n+14155550100\n+14155550101\n".as_bytes(), &options).unwrap_err();
        assert!(matches!(err, ImportError::TooManyRows { max: 1 }), "{err}");

        let mut options = super::super::ImportOptions::new(ImportMode::Strict);
        options.max_field_bytes = 12;
        let err = import_csv(
            "phone,note\n+14155550100,a longer note\n".as_bytes(),
            &options,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("column \"note\": the value is 13 bytes long, expected at most 12"),
            "{err}"
        );
    }

    #[test]
    fn a_byte_order_mark_does_not_hide_the_first_header() {
        let report = strict("\u{feff}phone\n+14155550100\n").unwrap();
        assert_eq!(report.contacts[0].phone, "+14155550100");
    }
}
