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
            .map(candidate_of)
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

fn candidate_of(value: &Value) -> Candidate {
    let contact = &value["contact"];
    let local = &value["now_local"];
    let history = &value["history"];
    let small = |field: &str| int(&local[field]) as u8;
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
        now: int(&value["now"]),
        now_local: LocalTime {
            year: int(&local["year"]) as i32,
            month: small("month"),
            day: small("day"),
            hour: small("hour"),
            minute: small("minute"),
            second: small("second"),
            weekday: small("weekday"),
            utc_offset_seconds: int(&local["utc_offset_seconds"]) as i32,
        },
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
