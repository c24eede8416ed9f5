//! An input summed up in one line for the text report, e.g. `50 attempts
//! (last busy), max 50, Europe/Berlin, now 2026-03-02T15:00:00Z` or `500
//! candidates, attempts 1 to 10, 9 time zones, now 2026-03-02T15:00:00Z`. The
//! input itself can run to megabytes (a 50-attempt history printed as JSON
//! is 20 kB); it goes to the JSON report and to the failing case's
//! `input.json` instead.

use serde_json::Value;

use super::case::{DEFAULT_NOW_MS, parse_time, show_duration, show_time};

/// The longest shape, in characters; a longer one is cut.
const SHAPE_CHARS: usize = 200;

/// The longest URL, phone number or id a shape quotes, in characters.
const QUOTED_CHARS: usize = 60;

/// An input in the case format (a built-in check's or an author's) in one
/// line: what kind of question it is and what in it is big or unusual.
pub(crate) fn shape(input: &Value) -> String {
    let line = if let Some(webhook) = input.get("webhook") {
        webhook_shape(webhook)
    } else if let Some(call) = input.get("place_call") {
        format!("place_call {}", call_shape(call))
    } else if let Some(answer) = input.get("place_call_response") {
        format!(
            "place_call_response {}, to place_call {}",
            response_shape(&answer["response"]),
            call_shape(&answer["call"])
        )
    } else if let Some(answer) = input.get("status_poll_response") {
        format!(
            "status_poll_response {}, for provider call {}",
            response_shape(&answer["response"]),
            quoted(&answer["provider_call_id"])
        )
    } else if let Some(candidates) = input.get("candidates") {
        gate_shape(input, items(candidates))
    } else if let Some(attempt) = input.get("attempt") {
        classify_shape(input, attempt)
    } else {
        retry_shape(input)
    };
    cut(&line.replace(['\n', '\r'], " "), SHAPE_CHARS)
}

fn retry_shape(input: &Value) -> String {
    let history = items(&input["history"]);
    let mut attempts = count(history.len(), "attempt");
    if let Some(last) = history.last() {
        attempts.push_str(&format!(" (last {})", outcome(last)));
    }
    let mut parts = vec![
        attempts,
        format!("max {}", input["max_attempts"].as_u64().unwrap_or(3)),
        time_zone(input),
        format!("now {}", show_time(now(input))),
    ];
    parts.extend(transcripts(history));
    let labelled = history
        .iter()
        .filter(|attempt| attempt["disposition"].is_object())
        .count();
    if labelled > 0 {
        parts.push(format!("{labelled} labelled"));
    }
    parts.join(", ")
}

fn classify_shape(input: &Value, attempt: &Value) -> String {
    let answered = attempt["outcome"] == "answered";
    let mut parts = vec![outcome(attempt)];
    let talk_default = if answered { 30_000 } else { 0 };
    let talk = attempt["talk_ms"].as_i64().unwrap_or(talk_default);
    let ring = attempt["ring_ms"].as_i64().unwrap_or(20_000);
    parts.push(format!(
        "ring {}, talk {}",
        show_duration(ring),
        show_duration(talk)
    ));
    if let Some(code) = attempt["sip_code"].as_u64() {
        parts.push(format!("SIP {code}"));
    }
    parts.push(match attempt["transcript"].as_str() {
        Some(text) => format!("transcript {}", size(text.len())),
        None => "no transcript".to_string(),
    });
    let previous = items(&input["previous"]);
    parts.push(format!("{} before", count(previous.len(), "attempt")));
    parts.extend(transcripts(previous).map(|line| format!("{line} before")));
    parts.push(time_zone(input));
    parts.push(format!("now {}", show_time(now(input))));
    parts.join(", ")
}

/// A gate's call: how many candidates, their attempts, zones, lists and
/// the largest attributes, and the decision time.
fn gate_shape(input: &Value, candidates: &[Value]) -> String {
    let mut parts = vec![count(candidates.len(), "candidate")];
    let attempts: Vec<u64> = candidates
        .iter()
        .map(|candidate| candidate["attempt_number"].as_u64().unwrap_or(1))
        .collect();
    if let (Some(low), Some(high)) = (attempts.iter().min(), attempts.iter().max()) {
        parts.push(if low == high {
            format!("attempt {low}")
        } else {
            format!("attempts {low} to {high}")
        });
    }
    let mut zones: Vec<&str> = candidates
        .iter()
        .map(|candidate| {
            candidate["contact"]["time_zone"]
                .as_str()
                .unwrap_or("America/New_York")
        })
        .collect();
    zones.sort_unstable();
    zones.dedup();
    match zones.len() {
        0 => {}
        1..=3 => parts.push(
            zones
                .iter()
                .map(|zone| cut(zone, QUOTED_CHARS))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        n => parts.push(format!("{n} time zones")),
    }
    let listed = candidates
        .iter()
        .filter(|candidate| !items(&candidate["suppression_lists"]).is_empty())
        .count();
    if listed > 0 {
        parts.push(format!("{listed} on suppression lists"));
    }
    let largest = candidates
        .iter()
        .map(|candidate| match &candidate["contact"]["attributes"] {
            Value::Object(map) => map
                .iter()
                .map(|(key, value)| key.len() + value.as_str().map_or(0, str::len))
                .sum(),
            _ => 0,
        })
        .max()
        .unwrap_or(0);
    if largest >= 1024 {
        parts.push(format!("attributes up to {}", size(largest)));
    }
    parts.push(format!("now {}", show_time(now(input))));
    parts.join(", ")
}

fn webhook_shape(webhook: &Value) -> String {
    let headers = match &webhook["headers"] {
        Value::Object(map) => map.len(),
        Value::Array(pairs) => pairs.len(),
        _ => 0,
    };
    let body = webhook["body"].as_str().unwrap_or("");
    let received = webhook
        .get("received_at")
        .and_then(|at| parse_time(at, DEFAULT_NOW_MS).ok())
        .unwrap_or(DEFAULT_NOW_MS);
    format!(
        "webhook {} {}, {}, body {}{}, received {}",
        webhook["method"].as_str().unwrap_or("POST"),
        quoted(&webhook["url"]),
        count(headers, "header"),
        size(body.len()),
        body_kind(body),
        show_time(received)
    )
}

fn call_shape(call: &Value) -> String {
    let parameters: Vec<&str> = match &call["parameters"] {
        Value::Object(map) => map.values().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut line = format!(
        "to {}, attempt {}, {}",
        quoted(&call["to"]),
        quoted(&call["attempt_id"]),
        count(parameters.len(), "parameter")
    );
    let bytes: usize = parameters.iter().map(|value| value.len()).sum();
    if bytes > 0 {
        line.push_str(&format!(" ({} of values)", size(bytes)));
    }
    line
}

fn response_shape(response: &Value) -> String {
    let body = response["body"].as_str().unwrap_or("");
    format!(
        "HTTP {}, body {}{}",
        response["status"],
        size(body.len()),
        body_kind(body)
    )
}

/// ` JSON` or ` form` when a body reads as one.
fn body_kind(body: &str) -> &'static str {
    if body.is_empty() {
        ""
    } else if serde_json::from_str::<Value>(body).is_ok() {
        " JSON"
    } else if super::case::parse_form(body).is_some() {
        " form"
    } else {
        ""
    }
}

/// How an attempt ended, e.g. `busy` or `answered by machine`.
fn outcome(attempt: &Value) -> String {
    let outcome = attempt["outcome"].as_str().unwrap_or("unknown");
    if outcome != "answered" {
        return outcome.replace('_', " ");
    }
    match attempt["machine_detection"].as_str().unwrap_or("human") {
        "not_run" => "answered, detection not run".to_string(),
        "unknown" => "answered, detection unknown".to_string(),
        other => format!("answered by {}", other.replace('_', " ")),
    }
}

/// `transcripts on 50 (largest 64.0 KB)`, when any attempt has one.
fn transcripts(attempts: &[Value]) -> Option<String> {
    let lengths: Vec<usize> = attempts
        .iter()
        .filter_map(|attempt| attempt["transcript"].as_str())
        .map(str::len)
        .collect();
    let largest = lengths.iter().max()?;
    Some(format!(
        "transcripts on {} (largest {})",
        lengths.len(),
        size(*largest)
    ))
}

fn time_zone(input: &Value) -> String {
    input["contact"]["time_zone"]
        .as_str()
        .map_or("America/New_York".to_string(), |zone| {
            cut(zone, QUOTED_CHARS)
        })
}

fn now(input: &Value) -> i64 {
    input
        .get("now")
        .and_then(|now| parse_time(now, DEFAULT_NOW_MS).ok())
        .unwrap_or(DEFAULT_NOW_MS)
}

fn items(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

fn count(n: usize, noun: &str) -> String {
    match n {
        0 => format!("no {noun}s"),
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// A byte count for people: `312 B`, `64.0 KB`, `1.0 MB` (powers of 1024,
/// as the suite's titles say "64 KB transcripts").
fn size(bytes: usize) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

/// A string value quoted and cut short; anything else as JSON.
fn quoted(value: &Value) -> String {
    match value {
        Value::String(text) => format!("{:?}", cut(text, QUOTED_CHARS)),
        Value::Null => "(none)".to_string(),
        other => cut(&other.to_string(), QUOTED_CHARS),
    }
}

/// `text` cut to `max` characters, ending in `…` when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_retry_input_reads_as_its_attempts_limit_zone_and_now() {
        let history: Vec<Value> = (0..50)
            .map(|n| json!({"outcome": if n % 2 == 0 { "no_answer" } else { "busy" }, "transcript": "x".repeat(n)}))
            .collect();
        let input = json!({
            "contact": {"time_zone": "Europe/Berlin"},
            "history": history,
            "max_attempts": 50,
            "now": "2026-03-02T15:00:00Z",
        });
        assert_eq!(
            shape(&input),
            "50 attempts (last busy), max 50, Europe/Berlin, now 2026-03-02T15:00:00Z, transcripts on 50 (largest 49 B)"
        );
        assert_eq!(
            shape(&json!({})),
            "no attempts, max 3, America/New_York, now 2026-03-02T15:00:00Z"
        );
    }

    #[test]
    fn a_classifier_input_reads_as_its_outcome_durations_and_transcript_length() {
        let input = json!({
            "attempt": {"outcome": "answered", "machine_detection": "machine", "talk_ms": 42_000, "transcript": "yes ".repeat(16 * 1024)},
            "previous": [{"outcome": "busy"}],
        });
        assert_eq!(
            shape(&input),
            "answered by machine, ring 20s, talk 42s, transcript 64.0 KB, 1 attempt before, America/New_York, now 2026-03-02T15:00:00Z"
        );
    }

    #[test]
    fn an_adapter_input_reads_as_what_it_asks_and_how_big_its_body_is() {
        let webhook = json!({"webhook": {
            "url": "https://outdial.example/hooks/provider",
            "headers": [["x-signature", "abc"], ["content-type", "application/json"]],
            "body": format!("{{\"events\": [{}", "7".repeat(1 << 20)),
        }});
        assert_eq!(
            shape(&webhook),
            "webhook POST \"https://outdial.example/hooks/provider\", 2 headers, body 1.0 MB, received 2026-03-02T15:00:00Z"
        );
        let call = json!({"place_call": {"to": "+44 ☎ 20", "attempt_id": "b-1", "parameters": {"context": "x".repeat(64 * 1024)}}});
        assert_eq!(
            shape(&call),
            "place_call to \"+44 ☎ 20\", attempt \"b-1\", 1 parameter (64.0 KB of values)"
        );
    }

    #[test]
    fn a_gate_call_reads_as_its_candidates_attempts_zones_and_lists() {
        let zones = ["Asia/Kolkata", "UTC", "Europe/London", "Pacific/Chatham"];
        let candidates: Vec<Value> = (1..=50)
            .map(|n| {
                json!({
                    "contact": {"time_zone": zones[n % 4],
                                "attributes": {"note": "x".repeat(n * 100)}},
                    "attempt_number": n,
                    "suppression_lists": if n % 10 == 0 { json!(["mornings-only"]) } else { json!([]) },
                })
            })
            .collect();
        assert_eq!(
            shape(&json!({"candidates": candidates, "now": "2026-03-08T06:30:00Z"})),
            "50 candidates, attempts 1 to 50, 4 time zones, 5 on suppression lists, attributes up to 4.9 KB, now 2026-03-08T06:30:00Z"
        );
        assert_eq!(
            shape(&json!({"candidates": [{}, {"contact": {"time_zone": "UTC"}}]})),
            "2 candidates, attempt 1, America/New_York, UTC, now 2026-03-02T15:00:00Z"
        );
        assert_eq!(
            shape(&json!({"candidates": []})),
            "no candidates, now 2026-03-02T15:00:00Z"
        );
    }

    #[test]
    fn a_shape_never_runs_past_its_bound() {
        let input =
            json!({"place_call": {"to": "9".repeat(10_000), "attempt_id": "a\nb".repeat(5_000)}});
        let line = shape(&input);
        assert!(line.chars().count() <= SHAPE_CHARS, "{line}");
        assert!(!line.contains('\n'));
    }
}
