//! The one duration grammar of outdial: the host's config, the conformance
//! cases and every plugin read `"1h30m"` the same way.

use crate::{DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS};

/// What a duration looks like, for messages.
pub const DURATION_EXPECTED: &str = "a duration like \"90s\", \"10m\", \"2h\", \"1d\" or \"1h30m\"";

/// Parse "500ms", "90s", "10m" (or "10min"), "2h", "1d", or a sum of them
/// such as "1h30m" or "1d 12h", into milliseconds. `None` for anything
/// else: no unit, an unknown unit, a sign, a fraction, or an overflow.
pub fn parse_duration_ms(raw: &str) -> Option<i64> {
    let mut rest = raw.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let number: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_ms = match rest[..unit_len].trim() {
            "ms" => 1,
            "s" => SECOND_MS,
            "m" | "min" => MINUTE_MS,
            "h" => HOUR_MS,
            "d" => DAY_MS,
            _ => return None,
        };
        total = total.checked_add(number.checked_mul(unit_ms)?)?;
        rest = &rest[unit_len..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_parses_alone() {
        assert_eq!(parse_duration_ms("500ms"), Some(500));
        assert_eq!(parse_duration_ms("90s"), Some(90_000));
        assert_eq!(parse_duration_ms("10m"), Some(600_000));
        assert_eq!(parse_duration_ms("10min"), Some(600_000));
        assert_eq!(parse_duration_ms("2h"), Some(7_200_000));
        assert_eq!(parse_duration_ms("1d"), Some(86_400_000));
    }

    #[test]
    fn sums_of_units_add_up() {
        assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration_ms("1d 12h"), Some(129_600_000));
        assert_eq!(parse_duration_ms("2m30s500ms"), Some(150_500));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "10",
            "m",
            "ten minutes",
            "3w",
            "-5m",
            "1.5h",
            "3 weeks",
            "1h30",
            "99999999999999999d",
        ] {
            assert_eq!(parse_duration_ms(bad), None, "{bad:?}");
        }
    }
}
