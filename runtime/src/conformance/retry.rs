//! The built-in suite for retry strategies.

use std::sync::Arc;

use serde_json::{Value, json};

use super::case::{
    self, Case, DEFAULT_NOW_MS, decision_json, retry_input_json, show_decision, show_time,
};
use super::check::{Check, CheckReport, Failure};
use super::{CheckBody, Suite};
use crate::plugin_host::{CallError, RetryPlugin, wit};

const CHECKS: [CheckBody<RetryPlugin>; 8] = [
    (
        "empty-history",
        "answers an empty history with a decision or a typed refusal",
        empty_history,
    ),
    (
        "every-outcome",
        "decides after every outcome and machine-detection result",
        every_outcome,
    ),
    (
        "never-in-the-past",
        "never schedules a call before the decision time, in any time zone",
        never_in_the_past,
    ),
    (
        "gives-up-at-max-attempts",
        "gives up once the attempt limit is used",
        gives_up_at_max_attempts,
    ),
    (
        "long-history",
        "decides on a 50-attempt history",
        long_history,
    ),
    (
        "transcripts",
        "handles unicode and 64 KB transcripts",
        transcripts,
    ),
    (
        "deterministic",
        "answers equal inputs equally, on warm and fresh instances",
        deterministic,
    ),
    (
        "limits",
        "stays within its CPU and memory limits on the heaviest input",
        limits,
    ),
];

pub(super) fn run(suite: &Suite<'_>) -> Vec<CheckReport> {
    suite.run_table(
        |host, source, config, limits| host.load_retry(source, config, limits),
        &CHECKS,
        run_case,
    )
}

/// Every outcome a strategy may see, with the detection result that
/// matters for answered calls.
const VARIANTS: [(wit::CallOutcome, wit::MachineDetection); 11] = [
    (wit::CallOutcome::Busy, wit::MachineDetection::NotRun),
    (wit::CallOutcome::NoAnswer, wit::MachineDetection::NotRun),
    (wit::CallOutcome::Failed, wit::MachineDetection::NotRun),
    (wit::CallOutcome::Canceled, wit::MachineDetection::NotRun),
    (wit::CallOutcome::Unknown, wit::MachineDetection::NotRun),
    (wit::CallOutcome::Answered, wit::MachineDetection::Human),
    (wit::CallOutcome::Answered, wit::MachineDetection::Machine),
    (
        wit::CallOutcome::Answered,
        wit::MachineDetection::CallScreening,
    ),
    (wit::CallOutcome::Answered, wit::MachineDetection::Fax),
    (wit::CallOutcome::Answered, wit::MachineDetection::Unknown),
    (wit::CallOutcome::Answered, wit::MachineDetection::NotRun),
];

/// One built-in input and how a failure names it.
struct Scenario {
    what: String,
    input: Arc<wit::RetryInput>,
}

fn attempt(
    number: u32,
    (outcome, detection): (wit::CallOutcome, wit::MachineDetection),
    ended_at: i64,
) -> wit::Attempt {
    let answered = outcome == wit::CallOutcome::Answered;
    let talk_ms = if answered { 35_000 } else { 0 };
    let started_at = ended_at - 20_000 - talk_ms as i64;
    wit::Attempt {
        id: format!("conformance-batch-7-{number}"),
        number,
        started_at,
        answered_at: answered.then_some(started_at + 20_000),
        ended_at,
        outcome,
        sip_code: match outcome {
            wit::CallOutcome::Busy => Some(486),
            wit::CallOutcome::NoAnswer => Some(480),
            wit::CallOutcome::Failed => Some(503),
            wit::CallOutcome::Canceled => Some(487),
            wit::CallOutcome::Answered => Some(200),
            wit::CallOutcome::Unknown => None,
        },
        talk_ms,
        ring_ms: 20_000,
        machine_detection: detection,
        transcript: None,
        cost_micros: Some(4_200),
        metadata: vec![("ended_reason".to_string(), "conformance".to_string())],
    }
}

/// A history of `outcomes`, an hour apart, the last ending a minute before `now`.
fn history(
    outcomes: &[(wit::CallOutcome, wit::MachineDetection)],
    now: i64,
) -> Vec<wit::LabelledAttempt> {
    let len = outcomes.len();
    outcomes
        .iter()
        .enumerate()
        .map(|(index, variant)| wit::LabelledAttempt {
            attempt: attempt(
                index as u32 + 1,
                *variant,
                now - 60_000 - (len - 1 - index) as i64 * 3_600_000,
            ),
            disposition: None,
        })
        .collect()
}

fn input(
    history: Vec<wit::LabelledAttempt>,
    max_attempts: u32,
    now: i64,
    zone: &str,
) -> wit::RetryInput {
    let tz: chrono_tz::Tz = zone.parse().expect("built-in time zones are valid");
    wit::RetryInput {
        contact: wit::Contact {
            id: "conformance-contact".to_string(),
            phone: "+12125550100".to_string(),
            time_zone: zone.to_string(),
            attributes: vec![("name".to_string(), "Ada".to_string())],
        },
        history,
        limits: wit::PolicyLimits { max_attempts },
        now,
        now_local: case::local_time(now, tz),
    }
}

fn describe_last(input: &wit::RetryInput) -> String {
    match input.history.last() {
        Some(last) => format!(
            "after {} (attempt {} of {})",
            case::describe_attempt(&last.attempt),
            input.history.len(),
            input.limits.max_attempts
        ),
        None => "with an empty history".to_string(),
    }
}

/// Ask for a decision; any fault or refusal fails the check.
fn decide(
    plugin: &RetryPlugin,
    check: &mut Check,
    scenario: &Scenario,
    fresh: bool,
) -> Result<wit::Decision, Failure> {
    let answer = check.call(|| {
        if fresh {
            plugin.decide_fresh(&scenario.input)
        } else {
            plugin.decide_raw(&scenario.input)
        }
    });
    answer.map_err(|err| fault(scenario, &err))
}

fn fault(scenario: &Scenario, err: &CallError) -> Failure {
    let expected = match err {
        CallError::Plugin { .. } => "a decision: the input is valid",
        _ => "a decision within the plugin's limits",
    };
    Failure::new(format!("{}: {err}", scenario.what))
        .input(retry_input_json(&scenario.input))
        .expects(any_answer())
        .expected(expected)
        .found(err.to_string())
}

/// A case's expectation of any answer: neither a refusal nor a fault.
pub(super) fn any_answer() -> Value {
    json!({"error": null, "fault": null})
}

/// A case's expectation of a give-up, for any reason.
fn give_up() -> Value {
    json!({"give_up": {"any": true}})
}

/// A case's expectation of a time from now on, under the key the plugin
/// answered with; a give-up must have a reason, which a case cannot
/// require beyond being there.
fn not_in_the_past(decision: &wit::Decision) -> Value {
    let from_now = json!({"between": ["now", "now+36500d"]});
    match decision {
        wit::Decision::RetryAt(_) => json!({"retry_at": from_now}),
        wit::Decision::FollowUpAt(_) => json!({"follow_up_at": from_now}),
        wit::Decision::GiveUp(_) => give_up(),
    }
}

/// What every decision must satisfy: nothing scheduled before now, and a
/// give-up says why.
fn sound(scenario: &Scenario, decision: &wit::Decision) -> Result<(), Failure> {
    let now = scenario.input.now;
    let problem = match decision {
        wit::Decision::RetryAt(at) | wit::Decision::FollowUpAt(at) if *at < now => format!(
            "{}: scheduled the next call {} before the decision time {}",
            scenario.what,
            case::show_duration(now - at),
            show_time(now)
        ),
        wit::Decision::GiveUp(reason) if reason.trim().is_empty() => {
            format!("{}: gave up without a reason", scenario.what)
        }
        _ => return Ok(()),
    };
    Err(Failure::new(problem)
        .input(retry_input_json(&scenario.input))
        .expects(not_in_the_past(decision))
        .expected(format!(
            "a time at or after {} or a give-up with a reason",
            show_time(now)
        ))
        .found(show_decision(decision, now)))
}

fn scenario(input: wit::RetryInput) -> Scenario {
    Scenario {
        what: describe_last(&input),
        input: Arc::new(input),
    }
}

fn empty_history(plugin: &RetryPlugin, check: &mut Check) -> Result<(), Failure> {
    let scenario = scenario(input(Vec::new(), 3, DEFAULT_NOW_MS, "America/New_York"));
    match check.call(|| plugin.decide_raw(&scenario.input)) {
        Ok(decision) => sound(&scenario, &decision),
        // A typed refusal is a fine answer to a history the host never sends.
        Err(CallError::Plugin { .. }) => Ok(()),
        Err(err) => Err(fault(&scenario, &err)
            .expects(json!({"fault": null}))
            .expected("a decision or a typed plugin error")),
    }
}

fn every_outcome(plugin: &RetryPlugin, check: &mut Check) -> Result<(), Failure> {
    for variant in VARIANTS {
        let scenario = scenario(input(
            history(&[variant], DEFAULT_NOW_MS),
            5,
            DEFAULT_NOW_MS,
            "America/New_York",
        ));
        let decision = decide(plugin, check, &scenario, false)?;
        sound(&scenario, &decision)?;
    }
    Ok(())
}

/// Decision times that trip up date arithmetic: the usual, the night New
/// York springs forward, the hour it repeats in autumn, 2000 and 2099.
const HARD_NOWS: [i64; 5] = [
    DEFAULT_NOW_MS,
    1_772_951_400_000, // 2026-03-08T06:30:00Z, 01:30 in New York before the gap
    1_793_511_000_000, // 2026-11-01T05:30:00Z, 01:30 EDT, repeated an hour later
    946_684_800_000,   // 2000-01-01T00:00:00Z
    4_102_444_799_000, // 2099-12-31T23:59:59Z
];

const ZONES: [&str; 5] = [
    "America/New_York",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "Pacific/Honolulu",
    "UTC",
];

fn never_in_the_past(plugin: &RetryPlugin, check: &mut Check) -> Result<(), Failure> {
    for now in HARD_NOWS {
        for zone in ZONES {
            for variant in VARIANTS {
                // Just ended, and ended a month ago after two others.
                let recent = input(history(&[variant], now), 5, now, zone);
                let mut stale = input(
                    history(&[VARIANTS[0], VARIANTS[1], variant], now),
                    5,
                    now,
                    zone,
                );
                for labelled in &mut stale.history {
                    labelled.attempt.ended_at -= 30 * 86_400_000;
                    labelled.attempt.started_at -= 30 * 86_400_000;
                    labelled.attempt.answered_at =
                        labelled.attempt.answered_at.map(|at| at - 30 * 86_400_000);
                }
                for input in [recent, stale] {
                    let mut scenario = scenario(input);
                    scenario.what = format!("{} at {} in {zone}", scenario.what, show_time(now));
                    let decision = decide(plugin, check, &scenario, false)?;
                    sound(&scenario, &decision)?;
                }
            }
        }
    }
    // A callback time the contact asked for that has already passed.
    let mut asked = input(
        history(&[VARIANTS[5]], DEFAULT_NOW_MS),
        5,
        DEFAULT_NOW_MS,
        "America/New_York",
    );
    asked.history[0].disposition = Some(wit::Disposition {
        label: "callback_requested".to_string(),
        terminal: false,
        score: Some(0.6),
        sentiment: None,
        follow_up_at: Some(DEFAULT_NOW_MS - 3_600_000),
    });
    let scenario = Scenario {
        what: "after a callback request whose time has passed".to_string(),
        input: Arc::new(asked),
    };
    let decision = decide(plugin, check, &scenario, false)?;
    sound(&scenario, &decision)
}

fn gives_up_at_max_attempts(plugin: &RetryPlugin, check: &mut Check) -> Result<(), Failure> {
    for max_attempts in 1..=5u32 {
        for (index, variant) in VARIANTS.iter().enumerate() {
            let outcomes: Vec<_> = (0..max_attempts as usize)
                .map(|n| VARIANTS[(index + n) % VARIANTS.len()])
                .rev()
                .collect();
            debug_assert_eq!(outcomes.last(), Some(variant));
            let mut history = history(&outcomes, DEFAULT_NOW_MS);
            // A label that does not end the contact by itself.
            if let Some(last) = history.last_mut() {
                last.disposition = Some(wit::Disposition {
                    label: "no_answer".to_string(),
                    terminal: false,
                    score: None,
                    sentiment: None,
                    follow_up_at: None,
                });
            }
            let scenario = scenario(input(
                history,
                max_attempts,
                DEFAULT_NOW_MS,
                "America/New_York",
            ));
            let decision = decide(plugin, check, &scenario, false)?;
            if !matches!(decision, wit::Decision::GiveUp(_)) {
                return Err(Failure::new(format!(
                    "{}: wants another call after {max_attempts} of {max_attempts} attempts",
                    scenario.what
                ))
                .input(retry_input_json(&scenario.input))
                .expects(give_up())
                .expected("give up")
                .found(show_decision(&decision, scenario.input.now)));
            }
        }
    }
    Ok(())
}

fn fifty(max_attempts: u32) -> wit::RetryInput {
    let outcomes: Vec<_> = (0..50).map(|n| VARIANTS[n % VARIANTS.len()]).collect();
    input(
        history(&outcomes, DEFAULT_NOW_MS),
        max_attempts,
        DEFAULT_NOW_MS,
        "Europe/Berlin",
    )
}

fn long_history(plugin: &RetryPlugin, check: &mut Check) -> Result<(), Failure> {
    let open = scenario(fifty(60));
    let decision = decide(plugin, check, &open, false)?;
    sound(&open, &decision)?;
    let used = scenario(fifty(50));
    let decision = decide(plugin, check, &used, false)?;
    if !matches!(decision, wit::Decision::GiveUp(_)) {
        return Err(Failure::new(format!(
            "{}: wants another call after 50 of 50 attempts",
            used.what
        ))
        .input(retry_input_json(&used.input))
        .expects(give_up())
        .expected("give up")
        .found(show_decision(&decision, used.input.now)));
    }
    Ok(())
}

/// Text that breaks naive string handling: combining marks, right-to-left
/// and zero-width characters, astral emoji, a NUL.
pub(super) const UNICODE_TEXT: &str = "Grüße — 你好 — مرحبا — e\u{301}te\u{301} — \u{202e}gnp.exe\u{202c} — \u{200b}\u{feff} — 👋🏽👨‍👩‍👧 — \u{0} — ok";

/// Transcripts of 64 KiB: ASCII and four-byte characters.
pub(super) fn big_transcripts() -> [String; 2] {
    ["yes ".repeat(16 * 1024), "😀".repeat(16 * 1024)]
}

fn transcripts(plugin: &RetryPlugin, check: &mut Check) -> Result<(), Failure> {
    let [ascii, emoji] = big_transcripts();
    let texts = [
        ("a unicode transcript", UNICODE_TEXT.to_string()),
        ("a 64 KB transcript", ascii),
        ("a 64 KB transcript of emoji", emoji),
    ];
    for (what, text) in texts {
        let mut input = input(
            history(&[VARIANTS[1], VARIANTS[5]], DEFAULT_NOW_MS),
            5,
            DEFAULT_NOW_MS,
            "Asia/Tokyo",
        );
        input
            .contact
            .attributes
            .push(("名前".to_string(), UNICODE_TEXT.to_string()));
        if let Some(last) = input.history.last_mut() {
            last.attempt.transcript = Some(text);
            last.attempt
                .metadata
                .push(("summary".to_string(), UNICODE_TEXT.to_string()));
        }
        let scenario = Scenario {
            what: format!("after an answered attempt with {what}"),
            input: Arc::new(input),
        };
        let decision = decide(plugin, check, &scenario, false)?;
        sound(&scenario, &decision)?;
    }
    Ok(())
}

fn deterministic(plugin: &RetryPlugin, check: &mut Check) -> Result<(), Failure> {
    let mut callback = input(
        history(&[VARIANTS[5]], DEFAULT_NOW_MS),
        5,
        DEFAULT_NOW_MS,
        "America/Chicago",
    );
    callback.history[0].disposition = Some(wit::Disposition {
        label: "callback_requested".to_string(),
        terminal: false,
        score: None,
        sentiment: None,
        follow_up_at: Some(DEFAULT_NOW_MS + 86_400_000),
    });
    let inputs = [
        input(
            history(&[VARIANTS[0]], DEFAULT_NOW_MS),
            5,
            DEFAULT_NOW_MS,
            "America/New_York",
        ),
        input(
            history(&[VARIANTS[1], VARIANTS[1]], DEFAULT_NOW_MS),
            5,
            DEFAULT_NOW_MS,
            "Europe/Paris",
        ),
        input(
            history(&[VARIANTS[6]], DEFAULT_NOW_MS),
            5,
            DEFAULT_NOW_MS,
            "Australia/Sydney",
        ),
        input(
            history(&[VARIANTS[2], VARIANTS[0], VARIANTS[2]], DEFAULT_NOW_MS),
            5,
            DEFAULT_NOW_MS,
            "UTC",
        ),
        callback,
        fifty(60),
    ];
    for input in inputs {
        let scenario = scenario(input);
        let first = decide(plugin, check, &scenario, true)?;
        for round in 1..=4 {
            for fresh in [false, true] {
                let again = decide(plugin, check, &scenario, fresh)?;
                if again != first {
                    let instance = if fresh { "a fresh" } else { "a warm" };
                    return Err(Failure::new(format!(
                        "equal inputs got different answers {}: a fresh instance said {}, then {instance} instance said {} (round {round}); a plugin must keep no state between calls and read nothing but its input",
                        scenario.what,
                        show_decision(&first, scenario.input.now),
                        show_decision(&again, scenario.input.now),
                    ))
                    .input(retry_input_json(&scenario.input))
                    .expects(case::readable_times(&decision_json(&first)))
                    .expected(show_decision(&first, scenario.input.now))
                    .found(show_decision(&again, scenario.input.now)));
                }
            }
        }
    }
    Ok(())
}

fn limits(plugin: &RetryPlugin, check: &mut Check) -> Result<(), Failure> {
    let mut heavy = fifty(60);
    for labelled in &mut heavy.history {
        labelled.attempt.transcript = Some("words ".repeat(700));
    }
    if let Some(last) = heavy.history.last_mut() {
        last.attempt.transcript = Some(big_transcripts()[0].clone());
    }
    let scenario = Scenario {
        what: "on a 50-attempt history with a transcript on every attempt".to_string(),
        input: Arc::new(heavy),
    };
    for fresh in [true, false] {
        let decision = decide(plugin, check, &scenario, fresh)?;
        sound(&scenario, &decision)?;
    }
    Ok(())
}

fn run_case(suite: &Suite<'_>, plugin: &RetryPlugin, case: &Case) -> CheckReport {
    let mut check = Check::case(&case.name);
    let outcome = run_case_body(suite, plugin, case, &mut check);
    check.finish(outcome)
}

fn run_case_body(
    suite: &Suite<'_>,
    suite_plugin: &RetryPlugin,
    case: &Case,
    check: &mut Check,
) -> Result<(), Failure> {
    let raw_input = case.input.clone().map_err(Failure::new)?;
    let raw_expected = case.expected.clone().map_err(Failure::new)?;
    let (input, now) =
        case::retry_input(&raw_input, &case.dir.join("input.json")).map_err(Failure::new)?;
    let own = suite.load_for_case(case, |host, source, config, limits| {
        host.load_retry(source, config, limits)
    })?;
    let plugin = own.as_ref().unwrap_or(suite_plugin);
    let input = Arc::new(input);
    let answer = match check.call(|| plugin.decide_raw(&input)) {
        Ok(decision) => decision_json(&decision),
        Err(err) => case::fault_json(&err),
    };
    compare(case, raw_input, raw_expected, &answer, now)
}

/// Match an answer against a case's `expected.json`.
pub(super) fn compare(
    case: &Case,
    input: Value,
    expected: Value,
    answer: &Value,
    now: i64,
) -> Result<(), Failure> {
    let mut resolved = expected.clone();
    case::resolve_times(&mut resolved, now).map_err(|problem| {
        Failure::new(format!(
            "{}: {problem}",
            case.dir.join("expected.json").display()
        ))
    })?;
    case::matches(&resolved, answer).map_err(|difference| {
        Failure::new(format!(
            "the answer differs from expected.json at {difference}"
        ))
        .input(input)
        .expects(expected.clone())
        .expected(expected.to_string())
        .found(case::humanize(answer).to_string())
    })
}
