//! The built-in suite for dial gates. A gate is asked about a tick's
//! candidates in one call, so every check hands it calls as the engine
//! would: candidates sharing a decision time, of many time zones, attempts,
//! histories and lists.

use serde_json::Value;

use super::case::{
    self, Case, DEFAULT_NOW_MS, gate_input_json, gate_local_time, show_duration, show_time,
    show_verdict, verdicts_json,
};
use super::check::{Check, CheckReport, Failure};
use super::retry::{UNICODE_TEXT, any_answer, compare};
use super::shape::cut;
use super::{CheckBody, Suite};
use crate::plugin_host::{CallError, GatePlugin, wit};

const CHECKS: [CheckBody<GatePlugin>; 7] = [
    (
        "one-verdict-each",
        "answers each candidate with one verdict, in order, and an empty call with none",
        one_verdict_each,
    ),
    (
        "never-in-the-past",
        "never defers before the decision time, in any time zone or local time",
        never_in_the_past,
    ),
    (
        "reasons",
        "gives a reason with every defer and skip",
        reasons,
    ),
    (
        "unusual-input",
        "handles unicode and empty attributes, attempts 1 to 50 and large history counts",
        unusual_input,
    ),
    (
        "deterministic",
        "answers equal inputs equally, on warm and fresh instances",
        deterministic,
    ),
    (
        "batch-of-500",
        "decides 500 candidates in one call within its CPU deadline",
        batch_of_500,
    ),
    (
        "limits",
        "stays within its CPU and memory limits on the heaviest input",
        limits,
    ),
];

pub(super) fn run(suite: &Suite<'_>) -> Vec<CheckReport> {
    suite.run_table(
        |host, source, config, limits| host.load_gate(source, config, limits),
        &CHECKS,
        run_case,
    )
}

/// The most candidates the engine hands a gate in one call.
const CALL_SIZE: usize = 500;

/// One built-in call and how a failure names it.
struct Call {
    what: String,
    candidates: Vec<wit::Candidate>,
}

impl Call {
    fn new(what: impl Into<String>, candidates: Vec<wit::Candidate>) -> Call {
        Call {
            what: what.into(),
            candidates,
        }
    }

    /// The decision time the candidates share.
    fn now(&self) -> i64 {
        self.candidates
            .first()
            .map_or(DEFAULT_NOW_MS, |candidate| candidate.now)
    }

    fn input(&self) -> Value {
        gate_input_json(&self.candidates)
    }
}

/// A first attempt on contact `number`, who lives in `zone`, at `now`.
fn candidate(number: usize, now: i64, zone: &str) -> wit::Candidate {
    let tz: chrono_tz::Tz = zone.parse().expect("built-in time zones are valid");
    wit::Candidate {
        contact: wit::Contact {
            id: format!("conformance-contact-{number}"),
            phone: format!("+1212555{:04}", number % 10_000),
            time_zone: zone.to_string(),
            attributes: vec![("name".to_string(), "Ada".to_string())],
        },
        campaign_id: "conformance-campaign".to_string(),
        batch_id: "conformance-batch".to_string(),
        attempt_number: 1,
        now,
        now_local: gate_local_time(now, tz),
        history: no_calls(),
        suppression_lists: Vec::new(),
    }
}

fn no_calls() -> wit::PhoneHistory {
    wit::PhoneHistory {
        attempts_past_day: 0,
        attempts_past_week: 0,
        attempts_past_month: 0,
        last_attempt_at: None,
        last_label: None,
    }
}

/// `candidate` as attempt `attempt`, after `today` calls in the past day,
/// the last `ago` ms before now and labelled `label`; the past week and
/// month saw every earlier attempt.
fn called(
    mut candidate: wit::Candidate,
    attempt: u32,
    today: u32,
    ago: i64,
    label: &str,
) -> wit::Candidate {
    candidate.attempt_number = attempt;
    candidate.history = wit::PhoneHistory {
        attempts_past_day: today,
        attempts_past_week: attempt - 1,
        attempts_past_month: attempt - 1,
        last_attempt_at: Some(candidate.now - ago),
        last_label: Some(label.to_string()),
    };
    candidate
}

fn listed(mut candidate: wit::Candidate, lists: &[&str]) -> wit::Candidate {
    candidate.suppression_lists = lists.iter().map(|list| list.to_string()).collect();
    candidate
}

/// `candidate` with `attributes`, in the order a case reads them back in
/// (by key), so a failing call written as a case is the same call.
fn with_attributes(mut candidate: wit::Candidate, attributes: &[(&str, &str)]) -> wit::Candidate {
    let mut attributes: Vec<(String, String)> = attributes
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    attributes.sort();
    candidate.contact.attributes = attributes;
    candidate
}

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// The kinds of candidate a gate weighs, for a call at `now` in `zone`,
/// numbered from `first_number`: a first attempt, a third after two calls
/// today (the last unanswered an hour ago), a fourth after three today,
/// one on informing lists, and a twelfth two days after the eleventh.
fn variants(first_number: usize, now: i64, zone: &str) -> Vec<wit::Candidate> {
    let at = |offset: usize| candidate(first_number + offset, now, zone);
    vec![
        at(0),
        called(at(1), 3, 2, HOUR_MS, "no_answer"),
        called(at(2), 4, 3, 10 * MINUTE_MS, "voicemail"),
        listed(at(3), &["consent-given", "mornings-only"]),
        called(at(4), 12, 0, 2 * DAY_MS, "busy"),
    ]
}

/// Decision times that trip up date arithmetic: a weekday afternoon in
/// UTC, a Sunday evening in the Americas, both sides of New York's spring
/// gap and its repeated autumn hour, a second before London's clocks go
/// forward, Lord Howe's half-hour fall back, Chatham's spring gap, a leap
/// day, and the first and last seconds the engine may see.
const HARD_NOWS: [i64; 12] = [
    DEFAULT_NOW_MS,
    1_772_418_600_000, // 2026-03-02T02:30:00Z, 21:30 Sunday in New York
    1_772_951_400_000, // 2026-03-08T06:30:00Z, 01:30 in New York before the gap
    1_772_955_000_000, // 2026-03-08T07:30:00Z, 03:30 EDT just after it
    1_793_511_000_000, // 2026-11-01T05:30:00Z, 01:30 EDT
    1_793_514_600_000, // 2026-11-01T06:30:00Z, 01:30 EST, the hour repeated
    1_774_745_999_000, // 2026-03-29T00:59:59Z, a second before BST in London
    1_775_313_900_000, // 2026-04-04T14:45:00Z, 01:45 on Lord Howe, then again
    1_790_430_300_000, // 2026-09-26T13:45:00Z, 02:30 in Chatham, 15 min before its gap
    1_835_479_800_000, // 2028-02-29T23:30:00Z, a leap day's last half hour
    946_684_800_000,   // 2000-01-01T00:00:00Z
    4_102_444_799_000, // 2099-12-31T23:59:59Z
];

/// Zones with offsets of whole, half and quarter hours, 30-minute DST,
/// both ends of the date line, and none.
const ZONES: [&str; 9] = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "UTC",
];

/// One call per decision time, every kind of candidate in every zone.
fn grid() -> Vec<Call> {
    HARD_NOWS
        .iter()
        .map(|&now| {
            let candidates = ZONES
                .iter()
                .enumerate()
                .flat_map(|(index, zone)| variants(index * 5 + 1, now, zone))
                .collect();
            Call::new(format!("at {}", show_time(now)), candidates)
        })
        .collect()
}

/// Eight candidates a gate tells apart at 15:00 UTC: a first attempt at
/// 10:00 in New York, 7:00 in Los Angeles, 20:30 in Kolkata and midnight in
/// Tokyo, a twelfth attempt, one on a list, one called three times today
/// and a second attempt in London.
fn mixed() -> Call {
    let now = DEFAULT_NOW_MS;
    let candidates = vec![
        candidate(1, now, "America/New_York"),
        candidate(2, now, "America/Los_Angeles"),
        candidate(3, now, "Asia/Kolkata"),
        candidate(4, now, "Asia/Tokyo"),
        called(
            candidate(5, now, "America/New_York"),
            12,
            0,
            25 * HOUR_MS,
            "no_answer",
        ),
        listed(candidate(6, now, "America/New_York"), &["revoked-consent"]),
        called(
            candidate(7, now, "America/New_York"),
            4,
            3,
            20 * MINUTE_MS,
            "busy",
        ),
        called(
            candidate(8, now, "Europe/London"),
            2,
            0,
            26 * HOUR_MS,
            "no_answer",
        ),
    ];
    Call::new("on a call of 8 mixed candidates", candidates)
}

/// Ask for verdicts; a fault, a refusal or a wrong number of verdicts
/// fails the check, since no verdict of such an answer can be used.
fn ask(
    plugin: &GatePlugin,
    check: &mut Check,
    call: &Call,
    fresh: bool,
) -> Result<Vec<wit::Verdict>, Failure> {
    let verdicts = check
        .call(|| plugin.check_unchecked(&call.candidates, fresh))
        .map_err(|err| fault(call, &err))?;
    let wanted = call.candidates.len();
    if verdicts.len() != wanted {
        return Err(Failure::new(format!(
            "{}: answered {} for {}; the engine needs exactly one per candidate, in their order",
            call.what,
            count(verdicts.len(), "verdict"),
            count(wanted, "candidate")
        ))
        .input(call.input())
        .expects(any_answer())
        .expected(count(wanted, "verdict"))
        .found(format!(
            "{}: {}",
            count(verdicts.len(), "verdict"),
            show_verdicts(&verdicts, call.now())
        )));
    }
    Ok(verdicts)
}

fn fault(call: &Call, err: &CallError) -> Failure {
    let wanted = count(call.candidates.len(), "verdict");
    let expected = match err {
        CallError::Plugin { .. } => format!("{wanted}: every candidate is valid"),
        _ => format!("{wanted} within the plugin's limits"),
    };
    Failure::new(format!("{}: {err}", call.what))
        .input(call.input())
        .expects(any_answer())
        .expected(expected)
        .found(err.to_string())
}

fn count(n: usize, noun: &str) -> String {
    match n {
        0 => format!("no {noun}s"),
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// Verdicts for people, the first few of a long list.
fn show_verdicts(verdicts: &[wit::Verdict], now: i64) -> String {
    const SHOWN: usize = 5;
    let mut shown: Vec<String> = verdicts
        .iter()
        .take(SHOWN)
        .map(|verdict| show_verdict(verdict, now))
        .collect();
    if verdicts.len() > SHOWN {
        shown.push(format!("… {} more", verdicts.len() - SHOWN));
    }
    format!("[{}]", shown.join(", "))
}

/// A candidate in a few words, by its place in `input.json`:
/// `candidates[3] (Asia/Kolkata, 20:30 Mon 2026-03-02 local, attempt 1, on
/// mornings-only)`.
fn describe(index: usize, candidate: &wit::Candidate) -> String {
    const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let local = candidate.now_local;
    let mut line = format!(
        "candidates[{index}] ({}, {:02}:{:02} {} {}-{:02}-{:02} local, attempt {}",
        candidate.contact.time_zone,
        local.hour,
        local.minute,
        WEEKDAYS.get(usize::from(local.weekday)).unwrap_or(&"?"),
        local.year,
        local.month,
        local.day,
        candidate.attempt_number
    );
    if !candidate.suppression_lists.is_empty() {
        let lists = candidate.suppression_lists.join(", ");
        line.push_str(&format!(", on {}", cut(&lists, 60)));
    }
    line.push(')');
    line
}

/// What the contract asks of each verdict: no deferral before the decision
/// time (when `past`), and a reason with every defer and skip (when
/// `reasons`). A case cannot say more than that the answer is within the
/// contract: the host turns an answer that breaks it into a fault.
fn judge(call: &Call, verdicts: &[wit::Verdict], past: bool, reasons: bool) -> Result<(), Failure> {
    for (index, (candidate, verdict)) in call.candidates.iter().zip(verdicts).enumerate() {
        let now = candidate.now;
        let (problem, expected) = match verdict {
            wit::Verdict::Defer(deferral) if past && deferral.until < now => (
                format!(
                    "deferred {} to {}, {} before the decision time {}",
                    describe(index, candidate),
                    show_time(deferral.until),
                    show_duration(now - deferral.until),
                    show_time(now)
                ),
                format!("a deferral until {} or later", show_time(now)),
            ),
            wit::Verdict::Defer(deferral) if reasons && deferral.reason.trim().is_empty() => (
                format!("deferred {} without a reason", describe(index, candidate)),
                reason_expected(),
            ),
            wit::Verdict::Skip(reason) if reasons && reason.trim().is_empty() => (
                format!("skipped {} without a reason", describe(index, candidate)),
                reason_expected(),
            ),
            _ => continue,
        };
        return Err(Failure::new(format!("{}: {problem}", call.what))
            .input(call.input())
            .expects(any_answer())
            .expected(expected)
            .found(show_verdict(verdict, now)));
    }
    Ok(())
}

fn reason_expected() -> String {
    "a reason the operator reads in the contact's log, e.g. \"outside calling hours\"".to_string()
}

fn one_verdict_each(plugin: &GatePlugin, check: &mut Check) -> Result<(), Failure> {
    ask(
        plugin,
        check,
        &Call::new("on an empty call", Vec::new()),
        false,
    )?;
    let call = mixed();
    let together = ask(plugin, check, &call, false)?;
    // Which candidates share a call is up to the engine's ticks, so each
    // verdict must be the one its candidate gets alone: that is also how
    // the order is told.
    let mut alone = Vec::with_capacity(call.candidates.len());
    for (index, candidate) in call.candidates.iter().enumerate() {
        let single = Call::new(
            format!("on {} alone", describe(index, candidate)),
            vec![candidate.clone()],
        );
        alone.extend(ask(plugin, check, &single, false)?);
    }
    let now = call.now();
    let Some(index) = (0..alone.len()).find(|&index| alone[index] != together[index]) else {
        return Ok(());
    };
    let expected = verdicts_json(&alone);
    Err(Failure::new(format!(
        "{}: {} got {} in the call but {} alone; verdicts must come in the candidates' order, and one candidate's must not depend on the others in its call",
        call.what,
        describe(index, &call.candidates[index]),
        show_verdict(&together[index], now),
        show_verdict(&alone[index], now)
    ))
    .input(call.input())
    .expects(case::readable_times(&expected))
    .expected(format!(
        "the verdicts each candidate got alone: {}",
        show_verdicts(&alone, now)
    ))
    .found(show_verdicts(&together, now)))
}

fn never_in_the_past(plugin: &GatePlugin, check: &mut Check) -> Result<(), Failure> {
    for call in grid() {
        let verdicts = ask(plugin, check, &call, false)?;
        judge(&call, &verdicts, true, false)?;
    }
    Ok(())
}

fn reasons(plugin: &GatePlugin, check: &mut Check) -> Result<(), Failure> {
    for call in std::iter::once(mixed()).chain(grid()) {
        let verdicts = ask(plugin, check, &call, false)?;
        judge(&call, &verdicts, false, true)?;
    }
    Ok(())
}

/// Calls of what a campaign's uploads and histories may hold: unicode,
/// empty attributes and lists, attempts 1 to 50, large history counts.
fn unusual_calls() -> [Call; 4] {
    let now = DEFAULT_NOW_MS;
    let mut unicode = vec![
        with_attributes(
            candidate(1, now, "Asia/Tokyo"),
            &[
                ("name", "山田 花子"),
                ("note", UNICODE_TEXT),
                ("名前", "花子"),
            ],
        ),
        listed(
            with_attributes(
                candidate(2, now, "Europe/Zurich"),
                &[("city", "Zürich"), ("name", "Zoë Ångström")],
            ),
            &["rappel-demandé", "📵"],
        ),
        with_attributes(
            candidate(3, now, "Asia/Riyadh"),
            &[("name", "مرحبا"), ("\u{202e}key", "\u{200b}")],
        ),
    ];
    unicode[0].contact.id = "contact-ñ-👋🏽".to_string();
    unicode[1].history.last_label = Some("rappel_demandé".to_string());
    let mut empty = vec![
        with_attributes(candidate(1, now, "America/Chicago"), &[]),
        with_attributes(
            candidate(2, now, "America/Chicago"),
            &[("", ""), ("name", "")],
        ),
        listed(candidate(3, now, "America/Chicago"), &[""]),
    ];
    empty[2].history.last_label = Some(String::new());
    let attempts = (1..=50u32)
        .map(|number| {
            let candidate = candidate(number as usize, now, "America/Denver");
            match number {
                1 => candidate,
                _ => called(candidate, number, (number - 1).min(3), HOUR_MS, "no_answer"),
            }
        })
        .collect();
    let large = |number: usize, day: u32, week: u32, month: u32, last: Option<i64>| {
        let mut candidate = candidate(number, now, "America/New_York");
        candidate.attempt_number = 7;
        candidate.history = wit::PhoneHistory {
            attempts_past_day: day,
            attempts_past_week: week,
            attempts_past_month: month,
            last_attempt_at: last,
            last_label: Some("busy".to_string()),
        };
        candidate
    };
    let counts = vec![
        large(1, 10_000, 70_000, 300_000, Some(now - 1_000)),
        large(2, u32::MAX, u32::MAX, u32::MAX, Some(946_684_800_000)),
        large(3, 65_535, 65_536, 1_000_000, None),
    ];
    [
        Call::new("on candidates with unicode attributes and lists", unicode),
        Call::new("on candidates with empty attributes and lists", empty),
        Call::new("on attempts 1 to 50", attempts),
        Call::new("on histories with large counts", counts),
    ]
}

fn unusual_input(plugin: &GatePlugin, check: &mut Check) -> Result<(), Failure> {
    for call in unusual_calls() {
        let verdicts = ask(plugin, check, &call, false)?;
        judge(&call, &verdicts, true, true)?;
    }
    Ok(())
}

fn deterministic(plugin: &GatePlugin, check: &mut Check) -> Result<(), Failure> {
    let [unicode, _, attempts, _] = unusual_calls();
    // The night New York springs forward.
    let spring_forward = grid().swap_remove(2);
    let calls = [mixed(), spring_forward, unicode, attempts];
    for call in &calls {
        let first = ask(plugin, check, call, true)?;
        for round in 1..=3 {
            for fresh in [false, true] {
                let again = ask(plugin, check, call, fresh)?;
                let Some(index) = (0..first.len()).find(|&index| again[index] != first[index])
                else {
                    continue;
                };
                let now = call.now();
                let instance = if fresh { "a fresh" } else { "a warm" };
                return Err(Failure::new(format!(
                    "equal inputs got different answers {}: for {} a fresh instance said {}, then {instance} instance said {} (round {round}); a plugin must keep no state between calls and read nothing but its input",
                    call.what,
                    describe(index, &call.candidates[index]),
                    show_verdict(&first[index], now),
                    show_verdict(&again[index], now),
                ))
                .input(call.input())
                .expects(case::readable_times(&verdicts_json(&first)))
                .expected(show_verdicts(&first, now))
                .found(show_verdicts(&again, now)));
            }
        }
    }
    Ok(())
}

/// A full call: every kind of candidate in every zone, over and over,
/// each contact once.
fn five_hundred() -> Vec<wit::Candidate> {
    let kinds = variants(1, DEFAULT_NOW_MS, ZONES[0]).len();
    (0..CALL_SIZE)
        .map(|index| {
            let zone = ZONES[(index / kinds) % ZONES.len()];
            let kind = index % kinds;
            variants(index - kind + 1, DEFAULT_NOW_MS, zone).swap_remove(kind)
        })
        .collect()
}

fn batch_of_500(plugin: &GatePlugin, check: &mut Check) -> Result<(), Failure> {
    let call = Call::new(
        format!("on a call of {CALL_SIZE} candidates"),
        five_hundred(),
    );
    let verdicts = ask(plugin, check, &call, false)?;
    judge(&call, &verdicts, true, true)
}

/// Columns of an upload row on each candidate of the heaviest call,
/// besides a 2 KB note and a line of mixed scripts.
const HEAVY_COLUMNS: usize = 6;

/// Informing lists each candidate of the heaviest call is on.
const HEAVY_LISTS: usize = 8;

/// The heaviest call: 500 candidates with long attributes and many lists,
/// about 1.3 MB in 15,000 strings. The strings more than the bytes are
/// what the host pays to hand over, an allocation in the guest each: a
/// gate that reads nothing answers this in 2 to 5 ms during a parallel
/// test run, while 16 attributes and 32 lists each (36,000 strings) took
/// 8 ms warm and 15 ms fresh on an idle machine and once 62 ms, past the
/// default deadline, during the test run.
fn heaviest() -> Vec<wit::Candidate> {
    let note = "words ".repeat(2 * 1024 / 6);
    let lists: Vec<String> = (1..=HEAVY_LISTS)
        .map(|n| format!("informing-list-{n:02}"))
        .collect();
    five_hundred()
        .into_iter()
        .map(|mut candidate| {
            let mut attributes: Vec<(String, String)> = (1..=HEAVY_COLUMNS)
                .map(|n| {
                    (
                        format!("column_{n:02}"),
                        format!("value {n} of the upload row"),
                    )
                })
                .collect();
            attributes.push(("note".to_string(), note.clone()));
            attributes.push(("summary".to_string(), UNICODE_TEXT.to_string()));
            attributes.sort();
            candidate.contact.attributes = attributes;
            candidate.suppression_lists.extend(lists.iter().cloned());
            candidate.history.last_label = Some("callback_requested_by_the_contact".to_string());
            candidate
        })
        .collect()
}

fn limits(plugin: &GatePlugin, check: &mut Check) -> Result<(), Failure> {
    let call = Call::new(
        format!(
            "on {CALL_SIZE} candidates with {} attributes (2 KB of notes) and {HEAVY_LISTS} lists each",
            HEAVY_COLUMNS + 2
        ),
        heaviest(),
    );
    for fresh in [true, false] {
        let verdicts = ask(plugin, check, &call, fresh)?;
        judge(&call, &verdicts, true, true)?;
    }
    Ok(())
}

fn run_case(suite: &Suite<'_>, plugin: &GatePlugin, case: &Case) -> CheckReport {
    let mut check = Check::case(&case.name);
    let outcome = run_case_body(suite, plugin, case, &mut check);
    check.finish(outcome)
}

fn run_case_body(
    suite: &Suite<'_>,
    suite_plugin: &GatePlugin,
    case: &Case,
    check: &mut Check,
) -> Result<(), Failure> {
    let raw_input = case.input.clone().map_err(Failure::new)?;
    let raw_expected = case.expected.clone().map_err(Failure::new)?;
    let (candidates, now) =
        case::gate_input(&raw_input, &case.dir.join("input.json")).map_err(Failure::new)?;
    let own = suite.load_for_case(case, |host, source, config, limits| {
        host.load_gate(source, config, limits)
    })?;
    let plugin = own.as_ref().unwrap_or(suite_plugin);
    // The host's own contract check applies to cases as in production.
    let answer = match check.call(|| plugin.check_raw(&candidates)) {
        Ok(verdicts) => verdicts_json(&verdicts),
        Err(err) => case::fault_json(&err),
    };
    compare(case, raw_input, raw_expected, &answer, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_call_reads_back_from_its_case_as_the_same_call() {
        let file = std::path::Path::new("input.json");
        let calls = std::iter::once(mixed())
            .chain(grid())
            .chain(unusual_calls())
            .chain([Call::new("heaviest", heaviest())]);
        for call in calls {
            let (again, now) = case::gate_input(&call.input(), file).expect("reads");
            assert_eq!(now, call.now(), "{}", call.what);
            assert!(
                again == call.candidates,
                "{} reads back otherwise",
                call.what
            );
        }
    }

    #[test]
    fn a_full_call_has_every_kind_of_candidate_in_every_zone_once_per_contact() {
        let call = five_hundred();
        assert_eq!(call.len(), CALL_SIZE);
        let mut ids: Vec<&str> = call.iter().map(|c| c.contact.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CALL_SIZE);
        for zone in ZONES {
            assert!(call.iter().any(|c| c.contact.time_zone == zone), "{zone}");
        }
        assert!(call.iter().any(|c| c.attempt_number == 12));
        assert!(call.iter().any(|c| !c.suppression_lists.is_empty()));
    }

    #[test]
    fn the_grid_covers_both_sides_of_each_dst_edge() {
        let local = |now: i64, zone: &str| {
            let tz: chrono_tz::Tz = zone.parse().expect("valid");
            gate_local_time(now, tz)
        };
        // 01:30 EST, then 03:30 EDT an hour later: the gap between.
        assert_eq!(local(HARD_NOWS[2], "America/New_York").hour, 1);
        assert_eq!(local(HARD_NOWS[3], "America/New_York").hour, 3);
        // 01:30 twice in November, an hour apart, at two offsets.
        let (first, again) = (
            local(HARD_NOWS[4], "America/New_York"),
            local(HARD_NOWS[5], "America/New_York"),
        );
        assert_eq!((first.hour, first.minute), (again.hour, again.minute));
        assert_ne!(first.utc_offset_seconds, again.utc_offset_seconds);
        assert_eq!(
            local(HARD_NOWS[7], "Australia/Lord_Howe").utc_offset_seconds,
            39_600
        );
        assert_eq!(
            local(HARD_NOWS[8], "Pacific/Chatham").utc_offset_seconds,
            45_900
        );
    }

    #[test]
    fn a_verdict_list_reads_as_its_first_few_verdicts() {
        let verdicts = vec![wit::Verdict::Allow; 7];
        assert_eq!(
            show_verdicts(&verdicts, 0),
            "[allow, allow, allow, allow, allow, … 2 more]"
        );
        assert_eq!(count(0, "verdict"), "no verdicts");
        assert_eq!(count(1, "candidate"), "1 candidate");
    }
}
