//! A run's report as text for people, JSON for tools, or JUnit XML for CI
//! systems that show test results.

use std::fmt::Write as _;

use super::replay::folder_name;
use super::shape::{cut, shape};
use super::{CheckReport, Report};

/// Characters of a reason, expected or found per line of the text report,
/// and at most how many lines each gets: a failure reads as a short
/// account with no line over 140 characters. The JSON and JUnit reports
/// carry them whole.
const FIELD_WIDTH: usize = 120;
const FIELD_LINES: usize = 3;

/// Where a field's continuation lines start, under its first character.
const FIELD_INDENT: &str = "\n                ";

/// How to print a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// One line per check, a short account under each failure: the
    /// reason, the input's shape, what was expected and what was found.
    #[default]
    Text,
    /// The whole report as one JSON document.
    Json,
    /// JUnit XML: one test suite, one test case per check.
    Junit,
}

pub(super) fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => text(report),
        Format::Json => {
            serde_json::to_string_pretty(report).expect("a report always serializes") + "\n"
        }
        Format::Junit => junit(report),
    }
}

fn title(report: &Report) -> String {
    match (&report.name, &report.version, report.kind) {
        (Some(name), Some(version), Some(kind)) => format!("{name} {version} ({kind})"),
        _ => report.plugin.clone(),
    }
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

fn micros(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

/// Calls, latency and memory of a check, e.g. `12 calls, p50 3.1 µs, p99 9.0 µs, peak 1.1 MiB`.
fn measures(check: &CheckReport) -> Option<String> {
    let (Some(p50), Some(p99), Some(peak)) = (
        check.latency_p50_us,
        check.latency_p99_us,
        check.peak_memory_bytes,
    ) else {
        return None;
    };
    Some(format!(
        "{} calls, p50 {}, p99 {}, peak {}",
        check.calls,
        micros(p50),
        micros(p99),
        mib(peak)
    ))
}

fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "outdial plugin test: {}", title(report));
    if let Some(sha) = &report.sha256 {
        let _ = writeln!(
            out,
            "  file {}  sha256 {}",
            report.plugin,
            &sha[..sha.len().min(16)]
        );
    }
    let _ = writeln!(
        out,
        "  limits: {} ms CPU per call, {} memory per instance\n",
        report.cpu_ms,
        mib(report.memory_bytes)
    );
    let width = report
        .checks
        .iter()
        .map(|check| check.id.len())
        .max()
        .unwrap_or(0);
    for check in &report.checks {
        let status = if check.passed() { "PASS" } else { "FAIL" };
        let measured = measures(check)
            .map(|m| format!("  [{m}]"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{status}  {:<width$}  {}{measured}",
            check.id, check.title
        );
        if let Some(failure) = &check.failure {
            let _ = writeln!(out, "      reason:   {}", field(&failure.reason));
            if let Some(case) = &failure.case {
                // Bounded and on one line already.
                let _ = writeln!(out, "      input:    {}", shape(&case.input));
            }
            if let Some(expected) = &failure.expected {
                let _ = writeln!(out, "      expected: {}", field(expected));
            }
            if let Some(found) = &failure.found {
                let _ = writeln!(out, "      found:    {}", field(found));
            }
            if report.failures_dir.is_some() && failure.case.is_some() {
                let _ = writeln!(out, "      case:     {}/", folder_name(&check.id));
            }
        }
    }
    let failed = report.failures();
    let _ = writeln!(
        out,
        "\n{} passed, {failed} failed",
        report.checks.len() - failed
    );
    if let Some(dir) = &report.failures_dir {
        let _ = writeln!(out, "failing inputs written as cases to {}", dir.display());
    }
    out
}

/// A failure's field wrapped at spaces to `FIELD_WIDTH` (a longer word is
/// broken), on at most `FIELD_LINES` lines; the last line of a longer one
/// says how long it was.
fn field(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let total = text.chars().count();
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut width = 0;
    for word in text.split(' ') {
        let chars = word.chars().count();
        if width > 0 && width + 1 + chars > FIELD_WIDTH {
            lines.push(std::mem::take(&mut line));
            width = 0;
        }
        if width > 0 {
            line.push(' ');
            width += 1;
        }
        for c in word.chars() {
            if width == FIELD_WIDTH {
                lines.push(std::mem::take(&mut line));
                width = 0;
            }
            line.push(c);
            width += 1;
        }
    }
    lines.push(line);
    if lines.len() > FIELD_LINES {
        lines.truncate(FIELD_LINES);
        let note = format!(" ({total} characters; --format json shows all)");
        let last = &mut lines[FIELD_LINES - 1];
        *last = cut(last, FIELD_WIDTH - note.chars().count()) + &note;
    }
    lines.join(FIELD_INDENT)
}

fn junit(report: &Report) -> String {
    let seconds =
        |check: &CheckReport| check.latency_p50_us.unwrap_or(0.0) * check.calls as f64 / 1e6;
    let total: f64 = report.checks.iter().map(seconds).sum();
    let failures = report.failures();
    let kind = report
        .kind
        .map_or("unknown".to_string(), |kind| kind.to_string());
    let suite = xml(&title(report));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"outdial plugin test\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{total:.6}\">",
        report.checks.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{total:.6}\">",
        report.checks.len()
    );
    let _ = writeln!(out, "    <properties>");
    for (name, value) in [
        ("plugin", report.plugin.clone()),
        ("kind", kind.clone()),
        ("sha256", report.sha256.clone().unwrap_or_default()),
        ("cpu_ms", report.cpu_ms.to_string()),
        ("memory_bytes", report.memory_bytes.to_string()),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            xml(&value)
        );
    }
    let _ = writeln!(out, "    </properties>");
    for check in &report.checks {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"outdial.conformance.{}\" time=\"{:.6}\">",
            xml(&check.id),
            xml(&kind),
            seconds(check)
        );
        if let Some(failure) = &check.failure {
            let mut details = String::new();
            if let Some(input) = &failure.input {
                let _ = writeln!(details, "input: {input}");
            }
            if let Some(expected) = &failure.expected {
                let _ = writeln!(details, "expected: {expected}");
            }
            if let Some(found) = &failure.found {
                let _ = writeln!(details, "found: {found}");
            }
            let _ = write!(
                out,
                "\n      <failure message=\"{}\" type=\"{}\">{}</failure>",
                xml(&failure.reason),
                xml(&check.id),
                xml(&details)
            );
        }
        let _ = write!(
            out,
            "\n      <system-out>{}: {}</system-out>\n    </testcase>\n",
            xml(&check.title),
            xml(&measures(check).unwrap_or_else(|| "no plugin calls".to_string()))
        );
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Text escaped for XML, without the characters XML 1.0 cannot carry.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_field_wraps_at_spaces_and_stops_after_three_lines() {
        let short = "wants another call after 1 of 1 attempts";
        assert_eq!(field(short), short);
        let words = "word ".repeat(60);
        let wrapped = field(&words);
        assert_eq!(wrapped.lines().count(), 3, "{wrapped}");
        assert!(
            wrapped
                .lines()
                .all(|line| line.trim().chars().count() <= FIELD_WIDTH)
        );
        let long = field(&"x".repeat(20_000));
        assert_eq!(long.lines().count(), 3, "{long}");
        assert!(
            long.ends_with("… (20000 characters; --format json shows all)"),
            "{long}"
        );
        assert!(
            long.lines()
                .all(|line| line.chars().count() <= 16 + FIELD_WIDTH)
        );
    }

    #[test]
    fn xml_escapes_markup_and_drops_what_xml_cannot_carry() {
        assert_eq!(
            xml("a<b & \"c\"\u{0}d"),
            "a&lt;b &amp; &quot;c&quot;\u{fffd}d"
        );
    }
}
