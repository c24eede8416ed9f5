//! The plugin's conformance cases, run natively: each folder's candidates
//! must get exactly the verdicts of its `expected.json`. The component
//! itself is run against the same folders by `outdial plugin test`.

use std::path::Path;

use gate_hours::CallingHours;
use outdial_sdk::Config;
use outdial_sdk::Contact;
use outdial_sdk::gate::{Candidate, DialGate, LocalTime, PhoneHistory, Verdict, answer};
use serde_json::Value;

#[test]
fn every_conformance_case_gets_its_expected_verdicts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("the conformance folder")
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 4, "{cases:?}");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let config = match std::fs::read_to_string(case.join("config.json")) {
            Ok(text) => config_of(&json(&text)),
            Err(_) => Config::default(),
        };
        let gate = CallingHours::configure(&config).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let input = json(&std::fs::read_to_string(case.join("input.json")).unwrap());
        let expected = json(&std::fs::read_to_string(case.join("expected.json")).unwrap());
        let candidates: Vec<Candidate> = input["candidates"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no candidates"))
            .iter()
            .map(|candidate| candidate_of(candidate, int(&input["now"])))
            .collect();
        let verdicts: Vec<Verdict> = expected["verdicts"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no verdicts"))
            .iter()
            .map(verdict_of)
            .collect();
        assert_eq!(answer(&gate, &candidates), Ok(verdicts), "case {name}");
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("valid JSON")
}

fn config_of(value: &Value) -> Config {
    let pairs = value
        .as_object()
        .expect("config.json is an object")
        .iter()
        .map(|(key, value)| (key.clone(), text(value)))
        .collect();
    Config::new(pairs)
}

fn text(value: &Value) -> String {
    value.as_str().expect("a string").to_string()
}

fn int(value: &Value) -> i64 {
    value.as_i64().expect("an integer")
}

/// The decision time `now` on `zone`'s clock, as the host hands it.
fn local_time(now: i64, zone: &str) -> LocalTime {
    use chrono::{Datelike, Offset, TimeZone, Timelike};
    let zone: chrono_tz::Tz = zone.parse().expect("a time zone");
    let local = zone.timestamp_millis_opt(now).single().expect("an instant");
    LocalTime {
        year: local.year(),
        month: local.month() as u8,
        day: local.day() as u8,
        hour: local.hour() as u8,
        minute: local.minute() as u8,
        second: local.second() as u8,
        weekday: local.weekday().num_days_from_monday() as u8,
        utc_offset_seconds: local.offset().fix().local_minus_utc(),
    }
}

/// A candidate of a case at the case's `now`, as `outdial plugin test`
/// reads it.
fn candidate_of(value: &Value, now: i64) -> Candidate {
    let contact = &value["contact"];
    let history = &value["history"];
    Candidate {
        contact: Contact {
            id: text(&contact["id"]),
            phone: text(&contact["phone"]),
            time_zone: text(&contact["time_zone"]),
            attributes: contact["attributes"]
                .as_object()
                .expect("attributes are an object")
                .iter()
                .map(|(key, value)| (key.clone(), text(value)))
                .collect(),
        },
        campaign_id: text(&value["campaign_id"]),
        batch_id: text(&value["batch_id"]),
        attempt_number: int(&value["attempt_number"]) as u32,
        now,
        now_local: local_time(now, contact["time_zone"].as_str().expect("a zone")),
        history: PhoneHistory {
            attempts_past_day: int(&history["attempts_past_day"]) as u32,
            attempts_past_week: int(&history["attempts_past_week"]) as u32,
            attempts_past_month: int(&history["attempts_past_month"]) as u32,
            last_attempt_at: history["last_attempt_at"].as_i64(),
            last_label: history["last_label"].as_str().map(str::to_string),
        },
        suppression_lists: value["suppression_lists"]
            .as_array()
            .expect("lists are an array")
            .iter()
            .map(text)
            .collect(),
    }
}

fn verdict_of(value: &Value) -> Verdict {
    match value["verdict"].as_str() {
        Some("allow") => Verdict::Allow,
        Some("defer") => Verdict::defer_until(int(&value["until"]), text(&value["reason"])),
        Some("skip") => Verdict::skip(text(&value["reason"])),
        other => panic!("unknown verdict {other:?}"),
    }
}
