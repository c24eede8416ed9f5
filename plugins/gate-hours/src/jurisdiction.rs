//! Whose law a number is called under: its country from the E.164 calling
//! code and, for the US, its state from the area code.
//!
//! A jurisdiction is written as an ISO 3166 code: "GB" for a country,
//! "US-FL" for a US state (ISO 3166-2). Numbers of the North American
//! plan (`+1`) are told apart by area code: Canada and the Caribbean
//! members by their own codes, anything else is the US, with the state
//! when the area code has one.

use std::collections::BTreeMap;

use crate::us_area_codes;

/// The jurisdictions a number is called under, the most specific first:
/// `["US-FL", "US"]` for a Miami number, `["GB"]` for a London one, and
/// none when the number's country is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Jurisdiction {
    chain: Vec<String>,
}

impl Jurisdiction {
    /// The jurisdiction of `phone`, an E.164 number ("+13055550100";
    /// spaces, dashes, dots and brackets are ignored), with `area_codes`
    /// overriding the built-in NANP table.
    pub(crate) fn of(phone: &str, area_codes: &BTreeMap<u16, String>) -> Jurisdiction {
        let chain = digits(phone)
            .and_then(|digits| key_of(&digits, area_codes))
            .map(|key| chain_of(&key))
            .unwrap_or_default();
        Jurisdiction { chain }
    }

    /// The codes from the most specific to the country.
    pub(crate) fn chain(&self) -> &[String] {
        &self.chain
    }

    /// True when `key` ("US" or "US-FL") is one of the number's.
    pub(crate) fn includes(&self, key: &str) -> bool {
        self.chain.iter().any(|own| own == key)
    }
}

/// `["US-FL", "US"]` for "US-FL", `["GB"]` for "GB".
fn chain_of(key: &str) -> Vec<String> {
    match key.split_once('-') {
        Some((country, _)) => vec![key.to_string(), country.to_string()],
        None => vec![key.to_string()],
    }
}

/// The digits after the `+`, or none when `phone` is not E.164.
fn digits(phone: &str) -> Option<String> {
    let rest = phone.trim().strip_prefix('+')?;
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    (7..=15).contains(&digits.len()).then_some(digits)
}

/// The most specific code of an E.164 number's digits.
fn key_of(digits: &str, area_codes: &BTreeMap<u16, String>) -> Option<String> {
    if let Some(national) = digits.strip_prefix('1') {
        return nanp(national, area_codes);
    }
    if let Some(national) = digits.strip_prefix('7') {
        // Kazakhstan shares +7 with Russia and holds its 6 and 7 ranges.
        let country = if national.starts_with(['6', '7']) {
            "KZ"
        } else {
            "RU"
        };
        return Some(country.to_string());
    }
    // Calling codes are prefix-free: the first match is the only one.
    (2..=3)
        .filter_map(|len| digits.get(..len))
        .find_map(|code| {
            CALLING_CODES
                .iter()
                .find(|(known, _)| *known == code)
                .map(|(_, country)| country.to_string())
        })
}

/// A `+1` number by its area code.
fn nanp(national: &str, area_codes: &BTreeMap<u16, String>) -> Option<String> {
    if national.len() != 10 {
        return None;
    }
    let npa: u16 = national[..3].parse().ok()?;
    if let Some(key) = area_codes.get(&npa) {
        return Some(key.clone());
    }
    if let Some(state) = us_area_codes::state_of(npa) {
        return Some(format!("US-{state}"));
    }
    if CANADA_AREA_CODES.binary_search(&npa).is_ok() {
        return Some("CA".to_string());
    }
    let caribbean = CARIBBEAN_AREA_CODES
        .iter()
        .find(|(code, _)| *code == npa)
        .map(|(_, country)| *country);
    Some(caribbean.unwrap_or("US").to_string())
}

/// Whether `key` names a jurisdiction numbers can be found in, and if not,
/// why: a typo such as "UK" would otherwise match no number, silently.
pub(crate) fn check_key(key: &str) -> Result<(), String> {
    let known_country = |country: &str| {
        ["US", "CA", "RU", "KZ"].contains(&country)
            || CALLING_CODES.iter().any(|(_, known)| *known == country)
            || CARIBBEAN_AREA_CODES
                .iter()
                .any(|(_, known)| *known == country)
    };
    match key.split_once('-') {
        None if known_country(key) => Ok(()),
        None => Err(format!(
            "unknown jurisdiction \"{key}\" (a country code such as \"GB\", or a US state such as \"US-FL\")"
        )),
        Some(("US", state)) if us_area_codes::is_state(state) => Ok(()),
        Some(("US", _)) => Err(format!("unknown US state \"{key}\"")),
        Some(_) => Err(format!(
            "\"{key}\" is never matched: only US states are told apart within a country"
        )),
    }
}

/// True when `key` (already checked) is in the North American plan: the
/// US or a state of it, Canada, or a Caribbean member.
pub(crate) fn is_nanp(key: &str) -> bool {
    let country = key.split_once('-').map_or(key, |(country, _)| country);
    country == "US"
        || country == "CA"
        || CARIBBEAN_AREA_CODES
            .iter()
            .any(|(_, known)| *known == country)
}

/// Calling codes of two and three digits and their countries. +1 and +7
/// are read by the code above.
const CALLING_CODES: &[(&str, &str)] = &[
    ("20", "EG"),
    ("27", "ZA"),
    ("30", "GR"),
    ("31", "NL"),
    ("32", "BE"),
    ("33", "FR"),
    ("34", "ES"),
    ("36", "HU"),
    ("39", "IT"),
    ("40", "RO"),
    ("41", "CH"),
    ("43", "AT"),
    ("44", "GB"),
    ("45", "DK"),
    ("46", "SE"),
    ("47", "NO"),
    ("48", "PL"),
    ("49", "DE"),
    ("51", "PE"),
    ("52", "MX"),
    ("54", "AR"),
    ("55", "BR"),
    ("56", "CL"),
    ("57", "CO"),
    ("60", "MY"),
    ("61", "AU"),
    ("62", "ID"),
    ("63", "PH"),
    ("64", "NZ"),
    ("65", "SG"),
    ("66", "TH"),
    ("81", "JP"),
    ("82", "KR"),
    ("84", "VN"),
    ("86", "CN"),
    ("90", "TR"),
    ("91", "IN"),
    ("92", "PK"),
    ("234", "NG"),
    ("254", "KE"),
    ("351", "PT"),
    ("352", "LU"),
    ("353", "IE"),
    ("358", "FI"),
    ("420", "CZ"),
    ("852", "HK"),
    ("966", "SA"),
    ("971", "AE"),
    ("972", "IL"),
];

/// Canada's area codes, ascending.
const CANADA_AREA_CODES: &[u16] = &[
    204, 226, 236, 249, 250, 263, 289, 306, 343, 354, 365, 367, 368, 382, 403, 416, 418, 428, 431,
    437, 438, 450, 468, 474, 506, 514, 519, 548, 579, 581, 584, 587, 604, 613, 639, 647, 672, 683,
    705, 709, 742, 753, 778, 780, 782, 807, 819, 825, 867, 873, 879, 902, 905, 942,
];

/// The other countries of the plan.
const CARIBBEAN_AREA_CODES: &[(u16, &str)] = &[
    (242, "BS"),
    (246, "BB"),
    (264, "AI"),
    (268, "AG"),
    (284, "VG"),
    (345, "KY"),
    (441, "BM"),
    (473, "GD"),
    (649, "TC"),
    (658, "JM"),
    (664, "MS"),
    (721, "SX"),
    (758, "LC"),
    (767, "DM"),
    (784, "VC"),
    (809, "DO"),
    (829, "DO"),
    (849, "DO"),
    (868, "TT"),
    (869, "KN"),
    (876, "JM"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(phone: &str) -> Vec<String> {
        Jurisdiction::of(phone, &BTreeMap::new()).chain().to_vec()
    }

    #[test]
    fn a_us_number_is_under_its_state_and_the_us() {
        assert_eq!(chain("+13055550100"), ["US-FL", "US"]);
        assert_eq!(chain("+1 (212) 555-0100"), ["US-NY", "US"]);
        assert_eq!(chain("+17135550100"), ["US-TX", "US"]);
        assert_eq!(chain("+17875550100"), ["US-PR", "US"]);
    }

    #[test]
    fn toll_free_and_unlisted_nanp_numbers_are_the_us_without_a_state() {
        assert_eq!(chain("+18005550100"), ["US"]);
        assert_eq!(chain("+15005550100"), ["US"]);
    }

    #[test]
    fn canada_and_the_caribbean_are_told_apart_by_area_code() {
        assert_eq!(chain("+14165550100"), ["CA"]);
        assert_eq!(chain("+16045550100"), ["CA"]);
        assert_eq!(chain("+18765550100"), ["JM"]);
        assert_eq!(chain("+18095550100"), ["DO"]);
        assert_eq!(chain("+14415550100"), ["BM"]);
    }

    #[test]
    fn other_countries_are_found_by_calling_code() {
        assert_eq!(chain("+442071234567"), ["GB"]);
        assert_eq!(chain("+33142685300"), ["FR"]);
        assert_eq!(chain("+4930123456"), ["DE"]);
        assert_eq!(chain("+353212345678"), ["IE"]);
        assert_eq!(chain("+351212345678"), ["PT"]);
        assert_eq!(chain("+61212345678"), ["AU"]);
        assert_eq!(chain("+74951234567"), ["RU"]);
        assert_eq!(chain("+77012345678"), ["KZ"]);
    }

    #[test]
    fn a_number_that_is_not_e164_or_from_an_unlisted_country_has_no_jurisdiction() {
        for phone in [
            "13055550100",
            "+1305555010",
            "+1305555x0100",
            "",
            "+",
            "+3801234567",
        ] {
            assert!(chain(phone).is_empty(), "{phone:?}");
        }
    }

    #[test]
    fn configured_area_codes_come_before_the_table() {
        let area_codes = BTreeMap::from([(457, "US-LA".to_string()), (305, "US-GA".to_string())]);
        let of = |phone| Jurisdiction::of(phone, &area_codes).chain().to_vec();
        assert_eq!(of("+14575550100"), ["US-LA", "US"]);
        assert_eq!(of("+13055550100"), ["US-GA", "US"]);
    }

    #[test]
    fn only_jurisdictions_a_number_can_be_under_are_accepted() {
        for good in ["US", "US-FL", "US-DC", "US-PR", "CA", "GB", "JM", "KZ"] {
            assert_eq!(check_key(good), Ok(()), "{good}");
        }
        assert!(
            check_key("UK")
                .unwrap_err()
                .contains("unknown jurisdiction \"UK\"")
        );
        assert!(check_key("US-XX").unwrap_err().contains("unknown US state"));
        assert!(check_key("CA-QC").unwrap_err().contains("never matched"));
    }

    #[test]
    fn the_nanp_tables_are_ascending_and_share_no_code() {
        assert!(CANADA_AREA_CODES.windows(2).all(|pair| pair[0] < pair[1]));
        for code in CANADA_AREA_CODES {
            assert_eq!(us_area_codes::state_of(*code), None, "{code}");
        }
        for (code, country) in CARIBBEAN_AREA_CODES {
            assert_eq!(us_area_codes::state_of(*code), None, "{code}");
            assert!(CANADA_AREA_CODES.binary_search(code).is_err(), "{country}");
        }
    }
}
