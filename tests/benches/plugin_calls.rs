//! What a plugin call costs: a retry decision over a 5-attempt history, a
//! classification of a 2 KB transcript and a dial gate's verdicts on a
//! tick's candidates, each through the Wasm component (warm and fresh
//! instance) and through the same logic compiled natively.
//!
//! The same strategy and a classifier written in JavaScript and Python (the
//! examples under `examples/plugins/`) are measured on the same inputs when
//! their components have been built; a line says which were not.
//!
//! Run: `cargo bench -p outdial-tests --bench plugin_calls [-- --quick]
//! [--cpu-ms N]`. Prints one JSON line per benchmark, figures last.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use outdial::plugin_host::{PluginHost, PluginLimits, PluginSource, wit};
use outdial_sdk::prelude::*;

const NOW: i64 = 1_772_463_600_000;

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let (warm_calls, fresh_calls) = if quick {
        (20_000, 300)
    } else {
        (200_000, 3_000)
    };
    let host = PluginHost::new().expect("plugin host starts");
    // `--cpu-ms N` lengthens the per-call deadline (default: the product's
    // 50 ms). The deadline is set and checked on every call whatever its
    // length; a longer one only keeps a call that a busy machine
    // descheduled for 50 ms from aborting the run.
    let mut limits = PluginLimits::default();
    if let Some(cpu_ms) = flag_value("--cpu-ms") {
        limits.cpu_ms = cpu_ms.parse().expect("--cpu-ms takes milliseconds");
    }

    let retry = host
        .load_retry(&PluginSource::Builtin("retry-backoff".into()), &[], limits)
        .expect("retry-backoff loads");
    let retry_input = Arc::new(wasm_retry_input());
    let native_retry = retry_backoff::Backoff::configure(&Config::default()).expect("defaults");
    let native_retry_input = native_retry_input();
    // Same logic, same answer: the comparison is only fair if so.
    assert_eq!(
        format!("{:?}", retry.decide_raw(&retry_input).expect("decides")),
        format!(
            "{:?}",
            native_retry.decide(&native_retry_input).expect("decides")
        )
    );

    let classifier = host
        .load_classifier(&PluginSource::Builtin("classify-rules".into()), &[], limits)
        .expect("classify-rules loads");
    let classify_input = Arc::new(wasm_classify_input());
    let native_classifier = classify_rules::Rules::configure(&Config::default()).expect("defaults");
    let native_classify_input = native_classify_input();

    let retry_warm = measure(warm_calls, || {
        black_box(retry.decide_raw(black_box(&retry_input)).expect("decides"));
    });
    let retry_native = measure(warm_calls, || {
        black_box(
            native_retry
                .decide(black_box(&native_retry_input))
                .expect("decides"),
        );
    });
    let retry_fresh = measure(fresh_calls, || {
        black_box(
            retry
                .decide_fresh(black_box(&retry_input))
                .expect("decides"),
        );
    });
    report(
        "retry_decision_5_attempts",
        &retry_warm,
        &retry_native,
        &retry_fresh,
    );
    // The same call over a 1-attempt history: the difference to the
    // 5-attempt call is what each attempt of history costs to hand over,
    // the rest is the fixed cost of a call. Medians, which a descheduled
    // call on a busy machine does not move.
    let mut short_input = wasm_retry_input();
    short_input.history.drain(..4);
    let short_input = Arc::new(short_input);
    let retry_warm_short = measure(warm_calls, || {
        black_box(retry.decide_raw(black_box(&short_input)).expect("decides"));
    });
    let (p50_5, p50_1) = (
        retry_warm.percentile(0.50),
        retry_warm_short.percentile(0.50),
    );
    let per_attempt_ns = (p50_5 - p50_1) / 4.0;
    println!(
        "{{\"bench\":\"plugin_calls\",\"case\":\"retry_decision_cost_split\",\"warm_p50_1_attempt_us\":{:.3},\"per_attempt_of_history_us\":{:.3},\"fixed_per_call_us\":{:.3}}}",
        p50_1 / 1e3,
        per_attempt_ns / 1e3,
        (p50_1 - per_attempt_ns) / 1e3,
    );

    // The same input handed whole to a strategy built against WIT 0.1.0,
    // which only counts the attempts: the floor of what 0.1.0's handing
    // over of every attempt costs, next to 0.2.0's reading on demand. It
    // includes the host's copy of the input into 0.1.0's types.
    let legacy = host
        .load_retry(
            &PluginSource::File(outdial_tests::fixtures::LEGACY_RETRY.into()),
            &[],
            limits,
        )
        .expect("the 0.1.0 fixture loads");
    let legacy_warm = measure(warm_calls, || {
        black_box(legacy.decide_raw(black_box(&retry_input)).expect("decides"));
    });
    println!(
        "{{\"bench\":\"plugin_calls\",\"case\":\"retry_decision_wit_0_1_whole_history\",\"warm_mean_us\":{:.3},\"warm_p50_us\":{:.3},\"warm_p99_us\":{:.3},\"wit_0_1_vs_0_2_p50\":{:.1}}}",
        legacy_warm.mean_ns / 1e3,
        legacy_warm.percentile(0.50) / 1e3,
        legacy_warm.percentile(0.99) / 1e3,
        legacy_warm.percentile(0.50) / retry_warm.percentile(0.50).max(1.0),
    );

    let classify_warm = measure(warm_calls / 4, || {
        black_box(
            classifier
                .classify_raw(black_box(&classify_input))
                .expect("classifies"),
        );
    });
    let classify_native = measure(warm_calls / 4, || {
        black_box(
            native_classifier
                .classify(black_box(&native_classify_input))
                .expect("classifies"),
        );
    });
    let classify_fresh = measure(fresh_calls, || {
        black_box(
            classifier
                .classify_fresh(black_box(&classify_input))
                .expect("classifies"),
        );
    });
    report(
        "classify_2kb_transcript",
        &classify_warm,
        &classify_native,
        &classify_fresh,
    );

    measure_gate(&host, limits, warm_calls);

    let rust_answer = format!("{:?}", retry.decide_raw(&retry_input).expect("decides"));
    for (language, path) in RETRY_GUESTS {
        let Some(bytes) = built_component(language, path) else {
            continue;
        };
        let guest = host
            .load_retry(&PluginSource::File(path.into()), &[], limits)
            .unwrap_or_else(|error| panic!("{path}: {error}"));
        // The same strategy: the same answer, or the figures compare
        // different work.
        assert_eq!(
            format!("{:?}", guest.decide_raw(&retry_input).expect("decides")),
            rust_answer,
            "{language}'s retry-backoff answers as Rust's"
        );
        let warm = measure(warm_calls / 10, || {
            black_box(guest.decide_raw(black_box(&retry_input)).expect("decides"));
        });
        let fresh = measure(fresh_calls / 3, || {
            black_box(
                guest
                    .decide_fresh(black_box(&retry_input))
                    .expect("decides"),
            );
        });
        report_guest(
            "retry_decision_5_attempts",
            language,
            bytes,
            &warm,
            &fresh,
            &retry_warm,
        );
    }
    for (language, path) in CLASSIFIER_GUESTS {
        let Some(bytes) = built_component(language, path) else {
            continue;
        };
        let guest = host
            .load_classifier(&PluginSource::File(path.into()), &[], limits)
            .unwrap_or_else(|error| panic!("{path}: {error}"));
        let warm = measure(warm_calls / 40, || {
            black_box(
                guest
                    .classify_raw(black_box(&classify_input))
                    .expect("classifies"),
            );
        });
        let fresh = measure(fresh_calls / 3, || {
            black_box(
                guest
                    .classify_fresh(black_box(&classify_input))
                    .expect("classifies"),
            );
        });
        report_guest(
            "classify_2kb_transcript",
            language,
            bytes,
            &warm,
            &fresh,
            &classify_warm,
        );
    }
}

/// gate-hours' verdicts on calls of 1, 64 and 500 candidates (the most
/// the engine hands in one call): what a call costs, and each candidate.
fn measure_gate(host: &PluginHost, limits: PluginLimits, warm_calls: usize) {
    let config = [(
        "blackout_dates".to_string(),
        "2026-12-25, 2027-01-01".to_string(),
    )];
    let gate = host
        .load_gate(&PluginSource::Builtin("gate-hours".into()), &config, limits)
        .expect("gate-hours loads");
    let native = gate_hours::CallingHours::configure(&Config::new(config.to_vec()))
        .expect("the config is valid");
    for size in [1usize, 64, 500] {
        let native_candidates: Vec<Candidate> = (0..size).map(gate_candidate).collect();
        let wasm_candidates: Vec<wit::Candidate> =
            native_candidates.iter().map(wasm_candidate).collect();
        // Same logic, same answer.
        assert_eq!(
            format!("{:?}", gate.check_raw(&wasm_candidates).expect("checks")),
            format!(
                "{:?}",
                native.check_all(&native_candidates).expect("checks")
            )
        );
        let calls = (warm_calls / size).clamp(200, 50_000);
        let warm = measure(calls, || {
            black_box(gate.check_raw(black_box(&wasm_candidates)).expect("checks"));
        });
        let native_sample = measure(calls, || {
            black_box(
                native
                    .check_all(black_box(&native_candidates))
                    .expect("checks"),
            );
        });
        let fresh = measure(calls.min(1_000), || {
            black_box(
                gate.check_fresh(black_box(&wasm_candidates))
                    .expect("checks"),
            );
        });
        report(
            &format!("gate_check_{size}_candidates"),
            &warm,
            &native_sample,
            &fresh,
        );
        println!(
            "{{\"bench\":\"plugin_calls\",\"case\":\"gate_check_per_candidate\",\"candidates\":{size},\"warm_p50_us_per_candidate\":{:.3},\"native_p50_us_per_candidate\":{:.3}}}",
            warm.percentile(0.50) / 1e3 / size as f64,
            native_sample.percentile(0.50) / 1e3 / size as f64,
        );
    }
}

/// A mix of US states, Canada and the UK, inside and outside hours, some
/// mobile, at 14:00 UTC on a Tuesday.
fn gate_candidate(index: usize) -> Candidate {
    const PHONES: [&str; 6] = [
        "+12125550100",
        "+13055550101",
        "+15125550102",
        "+14165550103",
        "+442079460958",
        "+12065550104",
    ];
    let mut candidate = outdial_sdk::testing::candidate(PHONES[index % PHONES.len()], NOW)
        .with_attribute(
            "line_type",
            if index.is_multiple_of(3) {
                "mobile"
            } else {
                "landline"
            },
        )
        .with_attempt(1 + (index % 4) as u32);
    candidate.contact.id = format!("contact-{index}");
    candidate
}

fn wasm_candidate(candidate: &Candidate) -> wit::Candidate {
    let local = candidate.now_local;
    let history = &candidate.history;
    wit::Candidate {
        contact: wasm_contact(&candidate.contact),
        campaign_id: candidate.campaign_id.clone(),
        batch_id: candidate.batch_id.clone(),
        attempt_number: candidate.attempt_number,
        now: candidate.now,
        now_local: wit::GateLocalTime {
            year: local.year,
            month: local.month,
            day: local.day,
            hour: local.hour,
            minute: local.minute,
            second: local.second,
            weekday: local.weekday,
            utc_offset_seconds: local.utc_offset_seconds,
        },
        history: wit::PhoneHistory {
            attempts_past_day: history.attempts_past_day,
            attempts_past_week: history.attempts_past_week,
            attempts_past_month: history.attempts_past_month,
            last_attempt_at: history.last_attempt_at,
            last_label: history.last_label.clone(),
        },
        suppression_lists: candidate.suppression_lists.clone(),
    }
}

/// The first-party retry strategy written in the other guest languages.
const RETRY_GUESTS: [(&str, &str); 2] = [
    (
        "javascript",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/plugins/retry-backoff-js/plugin.wasm"
        ),
    ),
    (
        "python",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/plugins/retry-backoff-py/plugin.wasm"
        ),
    ),
];

/// Classifiers in the other guest languages: a subset of classify-rules'
/// rules, so the same input but not the same work.
const CLASSIFIER_GUESTS: [(&str, &str); 1] = [(
    "javascript",
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/plugins/classify-js/plugin.wasm"
    ),
)];

/// The component's size, or `None` (said on a line) when it was not built.
fn built_component(language: &str, path: &str) -> Option<u64> {
    match std::fs::metadata(path) {
        Ok(meta) => Some(meta.len()),
        Err(_) => {
            println!(
                "{{\"bench\":\"plugin_calls\",\"skipped\":\"{language}\",\"why\":\"{path} is not built; see docs/plugins-{language}.md\"}}"
            );
            None
        }
    }
}

fn report_guest(
    name: &str,
    language: &str,
    component_bytes: u64,
    warm: &Sample,
    fresh: &Sample,
    rust_warm: &Sample,
) {
    println!(
        "{{\"bench\":\"plugin_calls\",\"case\":\"{name}\",\"language\":\"{language}\",\"component_kib\":{},\"warm_p50_us\":{:.3},\"warm_p99_us\":{:.3},\"fresh_p50_us\":{:.1},\"fresh_p99_us\":{:.1},\"warm_p50_vs_rust\":{:.1}}}",
        component_bytes / 1024,
        warm.percentile(0.50) / 1e3,
        warm.percentile(0.99) / 1e3,
        fresh.percentile(0.50) / 1e3,
        fresh.percentile(0.99) / 1e3,
        warm.percentile(0.50) / rust_warm.percentile(0.50).max(1.0),
    );
}

/// The value after `flag` on the command line, if given.
fn flag_value(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == flag)
        .map(|at| args.get(at + 1).cloned().expect("the flag takes a value"))
}

/// Per-call latencies, sorted.
struct Sample {
    sorted_ns: Vec<u64>,
    mean_ns: f64,
}

impl Sample {
    fn percentile(&self, p: f64) -> f64 {
        let index = ((self.sorted_ns.len() - 1) as f64 * p).round() as usize;
        self.sorted_ns[index] as f64
    }
}

fn measure(calls: usize, mut call: impl FnMut()) -> Sample {
    for _ in 0..calls / 10 {
        call();
    }
    let mut latencies = Vec::with_capacity(calls);
    let started = Instant::now();
    for _ in 0..calls {
        let begin = Instant::now();
        call();
        latencies.push(begin.elapsed().as_nanos() as u64);
    }
    let total: Duration = started.elapsed();
    latencies.sort_unstable();
    Sample {
        sorted_ns: latencies,
        mean_ns: total.as_nanos() as f64 / calls as f64,
    }
}

fn report(name: &str, warm: &Sample, native: &Sample, fresh: &Sample) {
    println!(
        "{{\"bench\":\"plugin_calls\",\"case\":\"{name}\",\"warm_mean_us\":{:.3},\"warm_p50_us\":{:.3},\"warm_p99_us\":{:.3},\"native_mean_us\":{:.3},\"native_p50_us\":{:.3},\"wasm_vs_native\":{:.1},\"wasm_vs_native_p50\":{:.1},\"fresh_p50_us\":{:.1},\"fresh_p99_us\":{:.1}}}",
        warm.mean_ns / 1e3,
        warm.percentile(0.50) / 1e3,
        warm.percentile(0.99) / 1e3,
        native.mean_ns / 1e3,
        native.percentile(0.50) / 1e3,
        warm.mean_ns / native.mean_ns.max(1.0),
        // Medians too: a call descheduled for milliseconds moves a mean of
        // sub-microsecond calls, not a median.
        warm.percentile(0.50) / native.percentile(0.50).max(1.0),
        fresh.percentile(0.50) / 1e3,
        fresh.percentile(0.99) / 1e3,
    );
}

const OUTCOMES: [CallOutcome; 5] = [
    CallOutcome::NoAnswer,
    CallOutcome::Busy,
    CallOutcome::NoAnswer,
    CallOutcome::Failed,
    CallOutcome::NoAnswer,
];

/// The five attempts of the retry decision, each classified as the engine
/// classifies every ended attempt.
fn history() -> Vec<LabelledAttempt> {
    OUTCOMES
        .iter()
        .enumerate()
        .map(|(index, outcome)| {
            let mut labelled = outdial_sdk::testing::attempt(index as u32 + 1, *outcome);
            let label = match outcome {
                CallOutcome::Busy => "busy",
                CallOutcome::NoAnswer => "no_answer",
                _ => "failed",
            };
            labelled.disposition = Some(Disposition::new(label, false));
            labelled
        })
        .collect()
}

fn native_retry_input() -> RetryInput {
    let mut input = outdial_sdk::testing::retry_input(8);
    input.now = NOW;
    for labelled in history() {
        input.push(labelled);
    }
    input
}

fn wasm_retry_input() -> wit::RetryInput {
    let native = native_retry_input();
    wit::RetryInput {
        contact: wasm_contact(&outdial_sdk::testing::contact()),
        history: history()
            .iter()
            .map(|labelled| wit::LabelledAttempt {
                attempt: wasm_attempt(&labelled.attempt),
                disposition: labelled
                    .disposition
                    .as_ref()
                    .map(|disposition| wit::Disposition {
                        label: disposition.label.clone(),
                        terminal: disposition.terminal,
                        score: disposition.score,
                        sentiment: disposition.sentiment,
                        follow_up_at: disposition.follow_up_at,
                    }),
            })
            .collect(),
        limits: wit::PolicyLimits {
            max_attempts: native.limits.max_attempts,
        },
        now: native.now,
        now_local: wit::LocalTime {
            year: native.now_local.year,
            month: native.now_local.month,
            day: native.now_local.day,
            hour: native.now_local.hour,
            minute: native.now_local.minute,
            second: native.now_local.second,
            weekday: native.now_local.weekday,
            utc_offset_seconds: native.now_local.utc_offset_seconds,
        },
    }
}

fn transcript_2kb() -> String {
    let sentence = "Agent: Hi, this is Sam calling about your energy plan. Customer: Oh right, I was wondering about that, what does it cost? ";
    let mut text = String::new();
    while text.len() < 2048 {
        text.push_str(sentence);
    }
    text.push_str("Customer: Sounds good, tell me more.");
    text
}

fn answered_with_2kb_transcript() -> Attempt {
    let mut attempt = outdial_sdk::testing::plain_attempt(1, CallOutcome::Answered);
    attempt.transcript = Some(transcript_2kb());
    attempt
}

fn native_classify_input() -> ClassifyInput {
    outdial_sdk::testing::classify_input(answered_with_2kb_transcript())
}

fn wasm_classify_input() -> wit::ClassifyInput {
    wit::ClassifyInput::new(
        wasm_contact(&outdial_sdk::testing::contact()),
        wasm_attempt(&answered_with_2kb_transcript()),
        Vec::new(),
    )
}

fn wasm_contact(contact: &Contact) -> wit::Contact {
    wit::Contact {
        id: contact.id.clone(),
        phone: contact.phone.clone(),
        time_zone: contact.time_zone.clone(),
        attributes: contact.attributes.clone(),
    }
}

fn wasm_attempt(attempt: &Attempt) -> wit::Attempt {
    wit::Attempt {
        id: attempt.id.clone(),
        number: attempt.number,
        started_at: attempt.started_at,
        answered_at: attempt.answered_at,
        ended_at: attempt.ended_at,
        outcome: match attempt.outcome {
            CallOutcome::Answered => wit::CallOutcome::Answered,
            CallOutcome::Busy => wit::CallOutcome::Busy,
            CallOutcome::NoAnswer => wit::CallOutcome::NoAnswer,
            CallOutcome::Failed => wit::CallOutcome::Failed,
            CallOutcome::Canceled => wit::CallOutcome::Canceled,
            CallOutcome::Unknown => wit::CallOutcome::Unknown,
        },
        sip_code: attempt.sip_code,
        talk_ms: attempt.talk_ms,
        ring_ms: attempt.ring_ms,
        machine_detection: match attempt.machine_detection {
            MachineDetection::Human => wit::MachineDetection::Human,
            MachineDetection::Machine => wit::MachineDetection::Machine,
            MachineDetection::CallScreening => wit::MachineDetection::CallScreening,
            MachineDetection::Fax => wit::MachineDetection::Fax,
            MachineDetection::Unknown => wit::MachineDetection::Unknown,
            MachineDetection::NotRun => wit::MachineDetection::NotRun,
        },
        transcript: attempt.transcript.clone(),
        cost_micros: attempt.cost_micros,
        metadata: attempt.metadata.clone(),
    }
}
