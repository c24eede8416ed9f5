//! Parsers for the small value languages inside config strings: durations,
//! clock times, day lists, cron expressions, time zones, hosts.

use std::str::FromStr;

pub use outdial_sdk::duration::{DURATION_EXPECTED, parse_duration_ms};

/// Parse a local clock time "HH:MM" (up to "24:00") into minutes after
/// midnight.
pub fn parse_clock(raw: &str) -> Option<u16> {
    let (hours, minutes) = raw.trim().split_once(':')?;
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return None;
    }
    let hours: u16 = hours.parse().ok()?;
    let minutes: u16 = minutes.parse().ok()?;
    let total = hours.checked_mul(60)?.checked_add(minutes)?;
    (minutes < 60 && total <= 24 * 60).then_some(total)
}

const DAY_NAMES: [(&str, &str); 7] = [
    ("mon", "monday"),
    ("tue", "tuesday"),
    ("wed", "wednesday"),
    ("thu", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
];

fn day_index(raw: &str) -> Option<u8> {
    let raw = raw.trim().to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .position(|(short, long)| raw == *short || raw == *long)
        .and_then(|index| u8::try_from(index).ok())
}

/// Parse a day list such as "mon-fri", "sat,sun", "fri-mon", "daily",
/// "weekdays" or "weekends" into sorted day numbers, 0 = Monday.
pub fn parse_days(raw: &str) -> Result<Vec<u8>, String> {
    let mut days = Vec::new();
    for part in raw.split(',') {
        let part = part.trim().to_ascii_lowercase();
        match part.as_str() {
            "daily" | "*" | "all" => days.extend(0..7),
            "weekdays" => days.extend(0..5),
            "weekends" => days.extend(5..7),
            _ => match part.split_once('-') {
                Some((from, to)) => {
                    let from = day_index(from).ok_or_else(|| format!("\"{}\"", from.trim()))?;
                    let to = day_index(to).ok_or_else(|| format!("\"{}\"", to.trim()))?;
                    // A range may wrap over the week's end, e.g. "fri-mon".
                    let mut day = from;
                    loop {
                        days.push(day);
                        if day == to {
                            break;
                        }
                        day = (day + 1) % 7;
                    }
                }
                None => days.push(day_index(&part).ok_or_else(|| format!("\"{part}\""))?),
            },
        }
    }
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

/// Check a cron expression and return it in the `cron` crate's form
/// (seconds first): a classic 5-field expression gets a "0" seconds field.
pub fn normalize_cron(raw: &str) -> Result<String, String> {
    let fields = raw.split_whitespace().count();
    let normalized = match fields {
        5 => format!("0 {}", raw.split_whitespace().collect::<Vec<_>>().join(" ")),
        6 | 7 => raw.split_whitespace().collect::<Vec<_>>().join(" "),
        1 => return Err("it has 1 field".to_string()),
        other => return Err(format!("it has {other} fields")),
    };
    cron::Schedule::from_str(&normalized)
        .map(|_| normalized)
        .map_err(|err| {
            // The parser's message draws a caret under the bad field on
            // lines of its own; the last line says what is wrong.
            let text = err.to_string();
            let last = text
                .lines()
                .rev()
                .find(|line| !line.trim().is_empty())
                .unwrap_or_default();
            let last = last.trim().trim_end_matches('.');
            let mut reason = last.to_string();
            if let Some(first) = last.get(..1) {
                reason.replace_range(..1, &first.to_lowercase());
            }
            reason
        })
}

/// True when `raw` names an IANA time zone.
pub fn is_time_zone(raw: &str) -> bool {
    chrono_tz::Tz::from_str(raw).is_ok()
}

/// True for a name an environment variable can have.
pub fn is_env_name(raw: &str) -> bool {
    let mut chars = raw.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// True for an id usable in URLs and file names: letters, digits, "-",
/// "_" and ".", starting with a letter or digit, at most 64 characters.
pub fn is_identifier(raw: &str) -> bool {
    raw.len() <= 64
        && raw
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// True for an egress allow-list entry: a host name, optionally with a
/// leading "*." wildcard and a ":port".
pub fn is_host_pattern(raw: &str) -> bool {
    let (host, port) = match raw.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (raw, None),
    };
    if port.is_some_and(|port| port.parse::<u16>().map_or(true, |port| port == 0)) {
        return false;
    }
    let host = host.strip_prefix("*.").unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// True for a listen address "host:port" with a non-empty host.
pub fn is_bind_address(raw: &str) -> bool {
    if raw.parse::<std::net::SocketAddr>().is_ok() {
        return true;
    }
    match raw.rsplit_once(':') {
        Some((host, port)) => {
            port.parse::<u16>().is_ok() && is_host_pattern(host) && !host.starts_with("*.")
        }
        None => false,
    }
}

/// True for an "http://" or "https://" URL with a host.
pub fn is_webhook_url(raw: &str) -> bool {
    let Some(rest) = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let bracketed_ipv6 = host.starts_with('[');
    !raw.chars().any(char::is_whitespace)
        && (bracketed_ipv6 || is_host_pattern(host))
        && !host.starts_with("*.")
}

/// True for a URL providers can be told to call back under: http(s),
/// a host, and nothing after the path that a route could not be appended
/// to (query, fragment); no credentials, which would end up in logs.
pub fn is_public_base_url(raw: &str) -> bool {
    let Some(rest) = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
    else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    is_webhook_url(raw) && !raw.contains(['?', '#']) && !authority.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_run_from_midnight_to_midnight() {
        assert_eq!(parse_clock("09:00"), Some(540));
        assert_eq!(parse_clock("9:30"), Some(570));
        assert_eq!(parse_clock("24:00"), Some(1440));
        for bad in ["24:01", "12:60", "noon", "12", "12:5", "-1:00"] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
    }

    #[test]
    fn day_lists_accept_ranges_lists_and_names() {
        assert_eq!(parse_days("mon-fri"), Ok(vec![0, 1, 2, 3, 4]));
        assert_eq!(parse_days("Sat, sun"), Ok(vec![5, 6]));
        assert_eq!(parse_days("fri-mon"), Ok(vec![0, 4, 5, 6]));
        assert_eq!(parse_days("daily"), Ok((0..7).collect()));
        assert_eq!(parse_days("mon-fir"), Err("\"fir\"".to_string()));
    }

    #[test]
    fn five_field_cron_expressions_gain_a_seconds_field() {
        assert_eq!(
            normalize_cron("* 9-19 * * Mon-Fri"),
            Ok("0 * 9-19 * * Mon-Fri".to_string())
        );
        assert!(normalize_cron("0 * 9-19 * * Mon-Fri").is_ok());
        assert!(normalize_cron("* 25 * * *").is_err());
        assert!(normalize_cron("every day").is_err());
    }

    #[test]
    fn hosts_urls_and_bind_addresses_are_recognised() {
        assert!(is_host_pattern("api.twilio.com"));
        assert!(is_host_pattern("*.twilio.com:443"));
        assert!(!is_host_pattern("https://api.twilio.com"));
        assert!(!is_host_pattern("api.twilio.com/2010"));
        assert!(is_webhook_url("https://hooks.example.com/outdial?x=1"));
        assert!(is_webhook_url("http://127.0.0.1:9000/hook"));
        assert!(!is_webhook_url("ftp://example.com"));
        assert!(!is_webhook_url("https:///path"));
        assert!(is_bind_address("127.0.0.1:8080"));
        assert!(is_bind_address("[::1]:8080"));
        assert!(is_bind_address("localhost:8080"));
        assert!(!is_bind_address("8080"));
        assert!(!is_bind_address("localhost:http"));
    }

    #[test]
    fn time_zones_and_names_are_checked() {
        assert!(is_time_zone("America/New_York"));
        assert!(!is_time_zone("America/Gotham"));
        assert!(is_env_name("TWILIO_TOKEN"));
        assert!(!is_env_name("1TOKEN"));
        assert!(is_identifier("demo-outreach"));
        assert!(!is_identifier("demo outreach"));
    }
}
