//! The built-in suite for disposition classifiers.

use serde_json::json;

use super::Suite;
use super::case::{
    self, Case, ClassifyInput, DEFAULT_NOW_MS, classify_input_json, disposition_json,
};
use super::check::{Check, CheckReport, Failure};
use super::retry::{UNICODE_TEXT, any_answer, big_transcripts, compare};
use crate::plugin_host::{CallError, ClassifierPlugin, PluginInfo, wit};

pub(super) fn run(suite: &Suite<'_>, info: &PluginInfo) -> Vec<CheckReport> {
    let config = Check::built_in("config", "loads and configures with the suite's config");
    let plugin = match suite.load(&suite.cases.config, |host, source, config, limits| {
        host.load_classifier(source, config, limits)
    }) {
        Ok(plugin) => plugin,
        Err(failure) => return vec![config.finish(Err(failure))],
    };
    let mut reports = vec![config.finish(Ok(()))];
    let grid = grid();

    let mut check = Check::built_in(
        "every-outcome",
        "labels every outcome, detection result and transcript",
    );
    let answers = answer_all(&plugin, &mut check, &grid);
    let answered = answers.as_ref().map(|_| ()).map_err(Clone::clone);
    reports.push(check.finish(answered));

    // The next two judge the answers the grid got; with none, they cannot pass.
    let judged =
        |judge: &dyn Fn(&Scenario, &wit::Disposition) -> Result<(), Failure>| match &answers {
            Ok(answers) => grid
                .iter()
                .zip(answers)
                .try_for_each(|(scenario, disposition)| judge(scenario, disposition)),
            Err(_) => Err(Failure::new("no answers to judge: see every-outcome")),
        };
    let labels = Check::built_in("declared-labels", "labels only with labels it declares");
    reports.push(labels.finish(judged(&|scenario, disposition| {
        declared(info, scenario, disposition)
    })));
    let ranges = Check::built_in(
        "score-and-sentiment",
        "score within 0 to 1, sentiment within -1 to 1, follow-up not before the call ended",
    );
    reports.push(ranges.finish(judged(&in_range)));

    type Body = fn(&ClassifierPlugin, &mut Check) -> Result<(), Failure>;
    let others: [(&str, &str, Body); 4] = [
        (
            "long-history",
            "labels an attempt with 50 previous ones",
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
    for (id, title, body) in others {
        let mut check = Check::built_in(id, title);
        let outcome = body(&plugin, &mut check);
        reports.push(check.finish(outcome));
    }
    for case in &suite.cases.cases {
        reports.push(run_case(suite, &plugin, case));
    }
    reports
}

struct Scenario {
    what: String,
    input: ClassifyInput,
}

fn contact() -> wit::Contact {
    wit::Contact {
        id: "conformance-contact".to_string(),
        phone: "+442071838750".to_string(),
        time_zone: "Europe/London".to_string(),
        attributes: vec![("name".to_string(), "Grace".to_string())],
    }
}

fn attempt(
    number: u32,
    outcome: wit::CallOutcome,
    detection: wit::MachineDetection,
    ended_at: i64,
) -> wit::Attempt {
    let answered = outcome == wit::CallOutcome::Answered;
    let talk_ms = if answered { 42_000 } else { 0 };
    let started_at = ended_at - 18_000 - talk_ms as i64;
    wit::Attempt {
        id: format!("conformance-batch-3-{number}"),
        number,
        started_at,
        answered_at: answered.then_some(started_at + 18_000),
        ended_at,
        outcome,
        sip_code: None,
        talk_ms,
        ring_ms: 18_000,
        machine_detection: detection,
        transcript: None,
        cost_micros: Some(3_100),
        metadata: Vec::new(),
    }
}

const OUTCOMES: [wit::CallOutcome; 6] = [
    wit::CallOutcome::Answered,
    wit::CallOutcome::Busy,
    wit::CallOutcome::NoAnswer,
    wit::CallOutcome::Failed,
    wit::CallOutcome::Canceled,
    wit::CallOutcome::Unknown,
];

const DETECTIONS: [wit::MachineDetection; 6] = [
    wit::MachineDetection::NotRun,
    wit::MachineDetection::Human,
    wit::MachineDetection::Machine,
    wit::MachineDetection::CallScreening,
    wit::MachineDetection::Fax,
    wit::MachineDetection::Unknown,
];

/// Phrases of every intent a call may end with, and none.
const TRANSCRIPTS: [Option<&str>; 7] = [
    None,
    Some(""),
    Some("Yes, that sounds good, tell me more."),
    Some("Please stop calling me."),
    Some("Not a good time, call me back tomorrow."),
    Some("Sorry, wrong number."),
    Some("No thanks, not interested."),
];

/// Every outcome with every detection result, answered calls with every
/// transcript, and failures with common SIP codes.
fn grid() -> Vec<Scenario> {
    let mut grid = Vec::new();
    for outcome in OUTCOMES {
        for detection in DETECTIONS {
            let transcripts: &[Option<&str>] = if outcome == wit::CallOutcome::Answered {
                &TRANSCRIPTS
            } else {
                &TRANSCRIPTS[..1]
            };
            for transcript in transcripts {
                let mut attempt = attempt(1, outcome, detection, DEFAULT_NOW_MS);
                attempt.transcript = transcript.map(str::to_string);
                grid.push(scenario(attempt, Vec::new()));
            }
        }
    }
    for sip_code in [404, 408, 480, 486, 503, 603, 604] {
        let mut failed = attempt(
            1,
            wit::CallOutcome::Failed,
            wit::MachineDetection::NotRun,
            DEFAULT_NOW_MS,
        );
        failed.sip_code = Some(sip_code);
        grid.push(scenario(failed, Vec::new()));
    }
    grid
}

fn scenario(attempt: wit::Attempt, previous: Vec<wit::Attempt>) -> Scenario {
    let mut what = case::describe_attempt(&attempt);
    if let Some(code) = attempt.sip_code {
        what.push_str(&format!(" with SIP code {code}"));
    }
    if let Some(transcript) = &attempt.transcript {
        what.push_str(&format!(" saying {:?}", shorten(transcript)));
    }
    if !previous.is_empty() {
        what.push_str(&format!(" after {} earlier attempts", previous.len()));
    }
    Scenario {
        what: format!("for {what}"),
        input: ClassifyInput {
            contact: contact(),
            attempt,
            previous,
        },
    }
}

fn shorten(text: &str) -> String {
    if text.len() <= 60 {
        text.to_string()
    } else {
        format!(
            "{}… ({} bytes)",
            text.chars().take(24).collect::<String>(),
            text.len()
        )
    }
}

fn classify(
    plugin: &ClassifierPlugin,
    check: &mut Check,
    scenario: &Scenario,
    fresh: bool,
) -> Result<wit::Disposition, Failure> {
    let input = scenario.input.to_host();
    check
        .call(|| plugin.classify_unchecked(&input, fresh))
        .map_err(|err| fault(scenario, &err))
}

fn fault(scenario: &Scenario, err: &CallError) -> Failure {
    Failure::new(format!("{}: {err}", scenario.what))
        .input(classify_input_json(&scenario.input))
        .expects(any_answer())
        .expected("a disposition")
        .found(err.to_string())
}

fn answer_all(
    plugin: &ClassifierPlugin,
    check: &mut Check,
    grid: &[Scenario],
) -> Result<Vec<wit::Disposition>, Failure> {
    grid.iter()
        .map(|scenario| classify(plugin, check, scenario, false))
        .collect()
}

fn declared(
    info: &PluginInfo,
    scenario: &Scenario,
    disposition: &wit::Disposition,
) -> Result<(), Failure> {
    if info.labels.contains(&disposition.label) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{}: label \"{}\" is not among the labels the plugin declares",
        scenario.what, disposition.label
    ))
    .input(classify_input_json(&scenario.input))
    .expects(json!({"label": {"one_of": info.labels}}))
    .expected(format!("one of {}", info.labels.join(", ")))
    .found(disposition_json(disposition).to_string()))
}

fn in_range(scenario: &Scenario, disposition: &wit::Disposition) -> Result<(), Failure> {
    let ended_at = scenario.input.attempt.ended_at;
    // What a case can say of each: a range, or a label with a letter in it.
    let (problem, expects) = if let Some(score) = disposition
        .score
        .filter(|score| !(0.0..=1.0).contains(score))
    {
        (
            format!("score {score} is outside 0 to 1"),
            json!({"score": {"between": [0, 1]}}),
        )
    } else if let Some(sentiment) = disposition
        .sentiment
        .filter(|sentiment| !(-1.0..=1.0).contains(sentiment))
    {
        (
            format!("sentiment {sentiment} is outside -1 to 1"),
            json!({"sentiment": {"between": [-1, 1]}}),
        )
    } else if let Some(at) = disposition.follow_up_at.filter(|at| *at < ended_at) {
        (
            format!(
                "follow-up at {} is {} before the call ended",
                case::show_time(at),
                case::show_duration(ended_at - at)
            ),
            json!({"follow_up_at": {"between": ["now", "now+36500d"]}}),
        )
    } else if disposition.label.trim().is_empty() {
        (
            "the label is empty".to_string(),
            json!({"label": {"any": true}}),
        )
    } else {
        return Ok(());
    };
    Err(Failure::new(format!("{}: {problem}", scenario.what))
        .input(classify_input_json(&scenario.input))
        .expects(expects)
        .expected("score in 0..=1, sentiment in -1..=1, follow-up at or after the end of the call")
        .found(case::humanize(&disposition_json(disposition)).to_string()))
}

fn history(count: u32) -> Vec<wit::Attempt> {
    (1..=count)
        .map(|number| {
            let (outcome, detection) = match number % 3 {
                0 => (wit::CallOutcome::Busy, wit::MachineDetection::NotRun),
                1 => (wit::CallOutcome::NoAnswer, wit::MachineDetection::NotRun),
                _ => (wit::CallOutcome::Answered, wit::MachineDetection::Machine),
            };
            attempt(
                number,
                outcome,
                detection,
                DEFAULT_NOW_MS - i64::from(count + 1 - number) * 3_600_000,
            )
        })
        .collect()
}

fn long_history(plugin: &ClassifierPlugin, check: &mut Check) -> Result<(), Failure> {
    let mut last = attempt(
        51,
        wit::CallOutcome::Answered,
        wit::MachineDetection::Human,
        DEFAULT_NOW_MS,
    );
    last.transcript = Some("Sure, sounds good.".to_string());
    let scenario = scenario(last, history(50));
    let disposition = classify(plugin, check, &scenario, false)?;
    in_range(&scenario, &disposition)
}

fn transcripts(plugin: &ClassifierPlugin, check: &mut Check) -> Result<(), Failure> {
    let [ascii, emoji] = big_transcripts();
    for text in [UNICODE_TEXT.to_string(), ascii, emoji] {
        let mut answered = attempt(
            2,
            wit::CallOutcome::Answered,
            wit::MachineDetection::Human,
            DEFAULT_NOW_MS,
        );
        answered.transcript = Some(text);
        answered
            .metadata
            .push(("summary".to_string(), UNICODE_TEXT.to_string()));
        let mut scenario = scenario(answered, history(1));
        scenario
            .input
            .contact
            .attributes
            .push(("名前".to_string(), UNICODE_TEXT.to_string()));
        let disposition = classify(plugin, check, &scenario, false)?;
        in_range(&scenario, &disposition)?;
    }
    Ok(())
}

fn deterministic(plugin: &ClassifierPlugin, check: &mut Check) -> Result<(), Failure> {
    let grid = grid();
    // Every fifth scenario of the grid, which covers every outcome.
    for scenario in grid.iter().step_by(5) {
        let first = classify(plugin, check, scenario, true)?;
        for round in 1..=3 {
            for fresh in [false, true] {
                let again = classify(plugin, check, scenario, fresh)?;
                if again != first {
                    let instance = if fresh { "a fresh" } else { "a warm" };
                    return Err(Failure::new(format!(
                        "equal inputs got different answers {}: a fresh instance said {}, then {instance} instance said {} (round {round}); a plugin must keep no state between calls and read nothing but its input",
                        scenario.what,
                        disposition_json(&first),
                        disposition_json(&again),
                    ))
                    .input(classify_input_json(&scenario.input))
                    .expects(case::readable_times(&disposition_json(&first)))
                    .expected(disposition_json(&first).to_string())
                    .found(disposition_json(&again).to_string()));
                }
            }
        }
    }
    Ok(())
}

fn limits(plugin: &ClassifierPlugin, check: &mut Check) -> Result<(), Failure> {
    let mut previous = history(50);
    for attempt in &mut previous {
        attempt.transcript = Some("words ".repeat(700));
    }
    let mut last = attempt(
        51,
        wit::CallOutcome::Answered,
        wit::MachineDetection::Human,
        DEFAULT_NOW_MS,
    );
    last.transcript = Some(big_transcripts()[0].clone());
    let scenario = scenario(last, previous);
    for fresh in [true, false] {
        let disposition = classify(plugin, check, &scenario, fresh)?;
        in_range(&scenario, &disposition)?;
    }
    Ok(())
}

fn run_case(suite: &Suite<'_>, plugin: &ClassifierPlugin, case: &Case) -> CheckReport {
    let mut check = Check::case(&case.name);
    let outcome = run_case_body(suite, plugin, case, &mut check);
    check.finish(outcome)
}

fn run_case_body(
    suite: &Suite<'_>,
    suite_plugin: &ClassifierPlugin,
    case: &Case,
    check: &mut Check,
) -> Result<(), Failure> {
    let raw_input = case.input.clone().map_err(Failure::new)?;
    let raw_expected = case.expected.clone().map_err(Failure::new)?;
    let (input, now) =
        case::classify_input(&raw_input, &case.dir.join("input.json")).map_err(Failure::new)?;
    let own = suite.load_for_case(case, |host, source, config, limits| {
        host.load_classifier(source, config, limits)
    })?;
    let plugin = own.as_ref().unwrap_or(suite_plugin);
    // The host's own contract check applies to cases as in production.
    let handed = input.to_host();
    let answer = match check.call(|| plugin.classify_raw(&handed)) {
        Ok(disposition) => disposition_json(&disposition),
        Err(err) => case::fault_json(&err),
    };
    compare(case, raw_input, raw_expected, &answer, now)
}
