//! Phone numbers to E.164, with a default country for national forms.

use phonenumber::Mode;
use phonenumber::country::Id as CountryId;

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error("\"{0}\" is not a phone number")]
    Unparsable(String),
    #[error("\"{0}\" is not a valid phone number for its country")]
    Invalid(String),
    #[error("\"{0}\" has no country code and no default country is set")]
    NoCountry(String),
}

/// Parse a default country given as an ISO 3166 code such as "US" or "gb".
pub fn parse_country(raw: &str) -> Option<CountryId> {
    raw.trim().to_ascii_uppercase().parse().ok()
}

/// The number in E.164 ("+14155550100"). National forms ("(415) 555-0100")
/// are read in `default_country`; international forms ("+44 20 7946 0958",
/// "0044...", or the default country's own prefix such as "011" in the US)
/// give the same number whatever the default.
pub fn normalize_phone(
    raw: &str,
    default_country: Option<CountryId>,
) -> Result<String, PhoneError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    // A number with its country code is parsed with no region: given one,
    // phonenumber 0.3 reads the digits after the country code with that
    // region's national prefix and lengths, so under US "+49 151 23456789"
    // lost its trunk-like "1" and became another German number, and Paris'
    // "+33 1..." was refused. "00" is the international prefix of most of
    // the world; without a region the crate knows none, so it becomes "+".
    // The first reading that is a valid number wins: "0011 49..." is not
    // "+11 49..." but, in Australia, "+49...".
    let mut readings: Vec<(Option<CountryId>, String)> = Vec::with_capacity(2);
    if trimmed.starts_with('+') {
        readings.push((None, trimmed.to_string()));
    } else {
        if let Some(rest) = trimmed.strip_prefix("00") {
            readings.push((None, format!("+{rest}")));
        }
        if let Some(country) = default_country {
            match after_international_prefix(trimmed, country) {
                Some(international) => readings.push((None, international)),
                None if readings.is_empty() => readings.push((Some(country), trimmed.to_string())),
                None => {}
            }
        }
    }
    let mut refusal = PhoneError::NoCountry(trimmed.to_string());
    for (index, (region, text)) in readings.into_iter().enumerate() {
        let error = match phonenumber::parse(region, &text) {
            Ok(number) if phonenumber::is_valid(&number) => {
                return Ok(number.format().mode(Mode::E164).to_string());
            }
            Ok(_) => PhoneError::Invalid(trimmed.to_string()),
            Err(_) => PhoneError::Unparsable(trimmed.to_string()),
        };
        // The refusal named is the one of the plainest reading.
        if index == 0 {
            refusal = error;
        }
    }
    Err(refusal)
}

/// "+" and the digits after `country`'s own international prefix ("011" in
/// the US, "0011" in Australia) when `raw` starts with it: such a number is
/// international too, and read with the default country's rules it loses
/// digits as a "+" number did.
fn after_international_prefix(raw: &str, country: CountryId) -> Option<String> {
    if raw.chars().any(char::is_alphabetic) {
        // A vanity number: left to the crate, which spells letters as digits.
        return None;
    }
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let prefix = phonenumber::metadata::DATABASE
        .by_id(country.as_ref())?
        .international_prefix()?
        .find(&digits)?;
    let rest = &digits[prefix.end()..];
    // As libphonenumber: no country code starts with 0.
    (prefix.start() == 0 && !rest.is_empty() && !rest.starts_with('0')).then(|| format!("+{rest}"))
}

/// True when `raw` is already a valid number written in E.164.
pub fn is_e164(raw: &str) -> bool {
    raw.starts_with('+') && normalize_phone(raw, None).is_ok_and(|normalized| normalized == raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Option<CountryId> {
        parse_country("us")
    }

    #[test]
    fn national_numbers_are_read_in_the_default_country() {
        assert_eq!(
            normalize_phone("(415) 555-0100", us()).unwrap(),
            "+14155550100"
        );
        assert_eq!(
            normalize_phone("415.555.0100", us()).unwrap(),
            "+14155550100"
        );
        assert_eq!(
            normalize_phone("020 7946 0958", parse_country("GB")).unwrap(),
            "+442079460958"
        );
    }

    #[test]
    fn international_numbers_ignore_the_default_country() {
        assert_eq!(
            normalize_phone("+44 20 7946 0958", us()).unwrap(),
            "+442079460958"
        );
        assert_eq!(
            normalize_phone("+14155550100", None).unwrap(),
            "+14155550100"
        );
    }

    /// Written forms of valid numbers from 27 countries, with their E.164.
    /// Many national numbers here begin with the digits a default country
    /// strips as its national or trunk prefix ("1" in the US, "0" in GB, DE
    /// and AU), which is how a default country used to change them.
    const VALID_INTERNATIONAL: &[(&str, &str)] = &[
        ("+33144556677", "+33144556677"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+5511987654321", "+5511987654321"),
        ("+55 (11) 2345-6789", "+551123456789"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+44 7400 123456", "+447400123456"),
        ("+49 30 123456", "+4930123456"),
        ("+49 151 23456789", "+4915123456789"),
        ("+61 2 1234 5678", "+61212345678"),
        ("+61 412 345 678", "+61412345678"),
        ("+1 201-555-0123", "+12015550123"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("+1 506 234 5678", "+15062345678"),
        ("+81 3-1234-5678", "+81312345678"),
        ("+81 90-1234-5678", "+819012345678"),
        ("+91 74104 10123", "+917410410123"),
        ("+91 81234 56789", "+918123456789"),
        ("+86 10 1234 5678", "+861012345678"),
        ("+86 131 2345 6789", "+8613123456789"),
        ("+39 02 1234 5678", "+390212345678"),
        ("+39 06 6982", "+39066982"),
        ("+39 312 345 6789", "+393123456789"),
        ("+34 612 34 56 78", "+34612345678"),
        ("+31 10 123 4567", "+31101234567"),
        ("+31 6 12345678", "+31612345678"),
        ("+52 222 123 4567", "+522221234567"),
        ("+27 10 123 4567", "+27101234567"),
        ("+27 71 123 4567", "+27711234567"),
        ("+54 11 2345-6789", "+541123456789"),
        ("+54 9 11 2345-6789", "+5491123456789"),
        ("+82 10-2000-0000", "+821020000000"),
        ("+82 2-212-3456", "+8222123456"),
        ("+20 100 123 4567", "+201001234567"),
        ("+46 8 123 456", "+468123456"),
        ("+41 21 234 56 78", "+41212345678"),
        ("+64 3 234 5678", "+6432345678"),
        ("+234 802 123 4567", "+2348021234567"),
        ("+254 712 123456", "+254712123456"),
        ("+90 501 234 5678", "+905012345678"),
        ("+65 8123 4567", "+6581234567"),
        ("+353 85 012 3456", "+353850123456"),
        ("+48 512 345 678", "+48512345678"),
        ("0033 1 44 55 66 77", "+33144556677"),
        ("0044 20 7946 0958", "+442079460958"),
        ("0061 412 345 678", "+61412345678"),
        ("001 415 555 0100", "+14155550100"),
    ];

    #[test]
    fn the_default_countrys_own_international_prefix_counts_as_a_plus() {
        for (written, default, e164) in [
            ("011 49 151 23456789", "US", "+4915123456789"),
            ("011 33 1 44 55 66 77", "CA", "+33144556677"),
            ("0011 49 151 23456789", "AU", "+4915123456789"),
            ("010 55 11 98765 4321", "JP", "+5511987654321"),
        ] {
            assert_eq!(
                normalize_phone(written, parse_country(default)).as_deref(),
                Ok(e164),
                "{written} in {default}"
            );
        }
    }

    /// International forms that must stay refused whatever the default.
    const INVALID_INTERNATIONAL: &[&str] = &[
        // Too short.
        "+33 1 44",
        "+1 415 555",
        "0049 30",
        // Wrong length for their country.
        "+33 1 44 55 66 77 8",
        "+44 20 7946 095",
        "+61 412 345 67",
        "+5511 98765 432",
        "0039 312 345 6789 0",
        // Unassigned country codes.
        "+999 123 456 789",
        "+969 1234 5678",
        "0096 912 345 678",
        // Letters.
        "+33 one four four",
        "+44 n/a",
    ];

    fn defaults() -> [Option<CountryId>; 5] {
        [
            None,
            us(),
            parse_country("GB"),
            parse_country("DE"),
            parse_country("AU"),
        ]
    }

    #[test]
    fn international_numbers_give_the_same_e164_under_every_default_country() {
        let mut wrong = Vec::new();
        for (written, e164) in VALID_INTERNATIONAL {
            for default in defaults() {
                let got = normalize_phone(written, default);
                if got.as_deref() != Ok(*e164) {
                    wrong.push(format!(
                        "{written:?} with {default:?}: {got:?}, want {e164}"
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn the_table_of_valid_numbers_spans_fifteen_countries_or_more() {
        let countries: std::collections::BTreeSet<_> = VALID_INTERNATIONAL
            .iter()
            .map(|(_, e164)| {
                let number = phonenumber::parse(None, e164).expect("the table holds E.164");
                number.country().id().map(|id| id.as_ref().to_string())
            })
            .collect();
        assert!(VALID_INTERNATIONAL.len() >= 30);
        assert!(countries.len() >= 15, "{countries:?}");
    }

    #[test]
    fn impossible_international_numbers_are_refused_under_every_default_country() {
        let mut accepted = Vec::new();
        for written in INVALID_INTERNATIONAL {
            for default in defaults() {
                if let Ok(e164) = normalize_phone(written, default) {
                    accepted.push(format!("{written:?} with {default:?}: {e164}"));
                }
            }
        }
        assert!(accepted.is_empty(), "{}", accepted.join("\n"));
    }

    #[test]
    fn numbers_that_cannot_exist_are_refused_with_the_value() {
        assert_eq!(
            normalize_phone("12", us()),
            Err(PhoneError::Unparsable("12".into()))
        );
        assert_eq!(
            normalize_phone("+1 415 555", us()),
            Err(PhoneError::Invalid("+1 415 555".into()))
        );
        assert_eq!(normalize_phone("  ", us()), Err(PhoneError::Empty));
        assert_eq!(
            normalize_phone("4155550100", None),
            Err(PhoneError::NoCountry("4155550100".into()))
        );
    }

    #[test]
    fn only_exact_e164_counts_as_e164() {
        assert!(is_e164("+14155550100"));
        assert!(!is_e164("+1 415 555 0100"));
        assert!(!is_e164("14155550100"));
        assert!(!is_e164("+1415555"));
    }
}
