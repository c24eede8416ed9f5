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
/// "0044...") need none.
pub fn normalize_phone(
    raw: &str,
    default_country: Option<CountryId>,
) -> Result<String, PhoneError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    if !international && default_country.is_none() {
        return Err(PhoneError::NoCountry(trimmed.to_string()));
    }
    let number = phonenumber::parse(default_country, trimmed)
        .map_err(|_| PhoneError::Unparsable(trimmed.to_string()))?;
    if !phonenumber::is_valid(&number) {
        return Err(PhoneError::Invalid(trimmed.to_string()));
    }
    Ok(number.format().mode(Mode::E164).to_string())
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
