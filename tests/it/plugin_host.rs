//! The plugin host loads, checks, sandboxes and calls plugins; hostile
//! plugins get clear errors while every other call keeps working.

use std::sync::{Arc, OnceLock};

use outdial::plugin_host::{
    CallError, LoadError, PluginHost, PluginKind, PluginLimits, PluginSource, RetryPlugin, wit,
};
use outdial_tests::fixtures;

/// One host for the whole test binary, as in the runtime.
fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| PluginHost::new().expect("the plugin host starts"))
}

fn builtin(name: &str) -> PluginSource {
    PluginSource::Builtin(name.to_string())
}

fn file(path: &str) -> PluginSource {
    PluginSource::File(path.into())
}

fn limits() -> PluginLimits {
    PluginLimits {
        cpu_ms: 50,
        memory_bytes: 16 << 20,
    }
}

fn load_retry(source: PluginSource) -> RetryPlugin {
    host()
        .load_retry(&source, &[], limits())
        .unwrap_or_else(|err| panic!("{} loads: {err}", source.display_name()))
}

const NOW: i64 = 1_772_463_600_000;

fn attempt(number: u32, outcome: wit::CallOutcome) -> wit::Attempt {
    wit::Attempt {
        id: format!("btc_test-7-{number}"),
        number,
        started_at: NOW - 120_000,
        answered_at: None,
        ended_at: NOW - 60_000,
        outcome,
        sip_code: None,
        talk_ms: 0,
        ring_ms: 30_000,
        machine_detection: wit::MachineDetection::NotRun,
        transcript: None,
        cost_micros: Some(7_000),
        metadata: Vec::new(),
    }
}

fn contact() -> wit::Contact {
    wit::Contact {
        id: "contact-1".to_string(),
        phone: "+12125550100".to_string(),
        time_zone: "America/New_York".to_string(),
        attributes: vec![("name".to_string(), "Ada".to_string())],
    }
}

fn retry_input(outcomes: &[wit::CallOutcome]) -> Arc<wit::RetryInput> {
    Arc::new(wit::RetryInput {
        contact: contact(),
        history: outcomes
            .iter()
            .enumerate()
            .map(|(index, outcome)| wit::LabelledAttempt {
                attempt: attempt(index as u32 + 1, *outcome),
                disposition: None,
            })
            .collect(),
        limits: wit::PolicyLimits { max_attempts: 5 },
        now: NOW,
        now_local: wit::LocalTime {
            year: 2026,
            month: 3,
            day: 2,
            hour: 10,
            minute: 0,
            second: 0,
            weekday: 0,
            utc_offset_seconds: -5 * 3600,
        },
    })
}

#[test]
fn every_first_party_plugin_loads_and_describes_itself() {
    let expected = [
        ("retry-backoff", PluginKind::RetryStrategy),
        ("retry-schedule", PluginKind::RetryStrategy),
        ("classify-rules", PluginKind::DispositionClassifier),
        ("gate-hours", PluginKind::DialGate),
    ];
    for (name, kind) in expected {
        let info = host().inspect(&builtin(name)).expect("builtin loads");
        assert_eq!(info.name, name);
        assert_eq!(info.kind, kind);
        assert_eq!(info.wit, "outdial:plugin@0.4.0");
        assert_eq!(info.sha256.len(), 64, "sha256 in hex");
        assert!(!info.config_keys.is_empty(), "{name} declares its config");
        assert!(
            info.imports
                .iter()
                .all(|import| !import.starts_with("wasi:sockets")),
            "{name} imports {:?}",
            info.imports
        );
    }
    let classifier = host().inspect(&builtin("classify-rules")).unwrap();
    assert!(classifier.labels.contains(&"voicemail".to_string()));
}

#[test]
fn a_plugin_checked_then_loaded_by_one_host_is_compiled_once() {
    // A host of its own, so other tests' plugins do not count.
    let host = PluginHost::new().expect("the plugin host starts");
    let checked = host.inspect(&builtin("retry-backoff")).expect("it loads");
    assert_eq!(host.compiled_components(), 1);
    let loaded = host
        .load_retry(&builtin("retry-backoff"), &[], limits())
        .expect("it loads again");
    assert_eq!(loaded.info().sha256, checked.sha256);
    assert_eq!(
        host.compiled_components(),
        1,
        "the same bytes, compiled once"
    );
    host.inspect(&builtin("classify-rules"))
        .expect("another plugin loads");
    assert_eq!(host.compiled_components(), 2);
}

#[test]
fn a_wasm_decision_equals_the_same_logic_run_natively() {
    use outdial_sdk_native::*;
    let plugin = host()
        .load_retry(
            &builtin("retry-backoff"),
            &[("base_delay".to_string(), "7m".to_string())],
            limits(),
        )
        .expect("loads");
    let input = retry_input(&[wit::CallOutcome::Busy, wit::CallOutcome::NoAnswer]);
    let from_wasm = plugin.decide_raw(&input).expect("decides");
    let from_native = native_backoff_decision(&input, &[("base_delay", "7m")]);
    assert_eq!(format!("{from_wasm:?}"), from_native);
}

/// The same plugin compiled natively, through its rlib.
mod outdial_sdk_native {
    use super::wit;
    use outdial_sdk::prelude::*;

    pub fn native_backoff_decision(input: &wit::RetryInput, config: &[(&str, &str)]) -> String {
        let plugin = retry_backoff::Backoff::configure(&Config::from_pairs(config)).unwrap();
        let mut native = outdial_sdk::testing::retry_input(input.limits.max_attempts);
        native.now = input.now;
        for labelled in &input.history {
            let outcome = match labelled.attempt.outcome {
                wit::CallOutcome::Busy => CallOutcome::Busy,
                wit::CallOutcome::NoAnswer => CallOutcome::NoAnswer,
                _ => CallOutcome::Failed,
            };
            let mut attempt = outdial_sdk::testing::attempt(labelled.attempt.number, outcome);
            attempt.attempt.id = labelled.attempt.id.clone();
            native.push(attempt);
        }
        format!("{:?}", plugin.decide(&native).unwrap())
    }
}

#[test]
fn a_panicking_plugin_reports_its_panic_message_and_the_host_keeps_serving() {
    let trap = load_retry(file(fixtures::TRAP));
    let healthy = load_retry(builtin("retry-backoff"));
    for _ in 0..3 {
        let err = trap
            .decide_raw(&retry_input(&[wit::CallOutcome::Busy]))
            .unwrap_err();
        match &err {
            CallError::Trap { plugin, message } => {
                assert_eq!(plugin, "fixture-trap");
                assert!(
                    message.contains("deliberate failure deciding on contact-1"),
                    "{message}"
                );
            }
            other => panic!("expected a trap, got {other:?}"),
        }
        healthy
            .decide_raw(&retry_input(&[wit::CallOutcome::Busy]))
            .expect("a healthy plugin keeps answering");
    }
}

#[test]
fn a_plugin_slower_to_start_than_its_call_deadline_still_loads_and_answers() {
    // Describing and configuring it take hundreds of milliseconds, as any
    // plugin's start may on a busy machine; only its calls are held to
    // the 50 ms deadline. A server restarting after a crash on a loaded
    // machine failed to start this way.
    let slow = load_retry(file(fixtures::SLOW_START));
    slow.decide_raw(&retry_input(&[wit::CallOutcome::Busy]))
        .expect("a call answers within its deadline");
}

#[test]
fn an_endless_loop_is_cut_off_at_its_cpu_deadline_while_others_keep_working() {
    let endless = Arc::new(load_retry(file(fixtures::ENDLESS_LOOP)));
    let looping = {
        let endless = endless.clone();
        std::thread::spawn(move || endless.decide_raw(&retry_input(&[wit::CallOutcome::Busy])))
    };
    let healthy = load_retry(builtin("retry-backoff"));
    for _ in 0..100 {
        healthy
            .decide_raw(&retry_input(&[wit::CallOutcome::NoAnswer]))
            .expect("answers while another plugin spins");
    }
    let err = looping
        .join()
        .expect("the calling thread survives")
        .unwrap_err();
    assert_eq!(
        err,
        CallError::Deadline {
            plugin: "fixture-endless-loop".to_string(),
            cpu_ms: 50
        }
    );
    assert_eq!(
        err.to_string(),
        "plugin fixture-endless-loop exceeded its CPU deadline of 50 ms"
    );
}

/// The memory bomb with the usual memory cap and a CPU deadline it cannot
/// reach first: what its tests prove is the cap, and on a loaded machine
/// filling 16 MiB page by page can take more than 50 ms of wall time.
fn load_memory_bomb() -> RetryPlugin {
    let limits = PluginLimits {
        cpu_ms: 5_000,
        ..limits()
    };
    host()
        .load_retry(&file(fixtures::MEMORY_BOMB), &[], limits)
        .expect("the memory bomb loads")
}

#[test]
fn a_memory_bomb_hits_its_memory_cap() {
    let bomb = load_memory_bomb();
    let err = bomb
        .decide_raw(&retry_input(&[wit::CallOutcome::Busy]))
        .unwrap_err();
    assert_eq!(
        err,
        CallError::MemoryExceeded {
            plugin: "fixture-memory-bomb".to_string(),
            limit_bytes: 16 << 20
        }
    );
}

#[test]
fn a_memory_bomb_hits_its_cap_on_every_new_instance_and_leaves_memory_clean_for_others() {
    // Each faulted instance is dropped and its pool slot recycled with the
    // bomb's memory reset: the cap holds every time, and a healthy plugin
    // answers in between.
    let bomb = load_memory_bomb();
    let healthy = load_retry(builtin("retry-backoff"));
    let expected = healthy
        .decide_raw(&retry_input(&[wit::CallOutcome::Busy]))
        .expect("decides");
    for _ in 0..5 {
        let err = bomb
            .decide_raw(&retry_input(&[wit::CallOutcome::Busy]))
            .unwrap_err();
        assert!(
            matches!(err, CallError::MemoryExceeded { limit_bytes, .. } if limit_bytes == 16 << 20),
            "{err:?}"
        );
        assert_eq!(
            healthy
                .decide_fresh(&retry_input(&[wit::CallOutcome::Busy]))
                .expect("a fresh instance decides"),
            expected
        );
    }
}

#[test]
fn every_fresh_instance_starts_from_the_plugins_initial_memory() {
    // The fixture counts its calls in a static: a warm instance remembers,
    // so its answers grow by a minute each time...
    let counting = load_retry(file(fixtures::HIDDEN_STATE));
    let input = retry_input(&[wit::CallOutcome::Busy]);
    let warm: Vec<wit::Decision> = (0..3)
        .map(|_| counting.decide_raw(&input).expect("decides"))
        .collect();
    assert_eq!(
        warm,
        [1, 2, 3].map(|minutes| wit::Decision::RetryAt(NOW + minutes * 60_000))
    );
    // ...while a new instance, though it reuses a slot of memory another
    // instance of the same plugin wrote to, starts counting from zero. More
    // instances than the host keeps alive at once, one after another: each
    // dropped instance gives its slot back.
    for _ in 0..1_200 {
        assert_eq!(
            counting.decide_fresh(&input).expect("decides"),
            wit::Decision::RetryAt(NOW + 60_000)
        );
    }
}

#[test]
fn a_plugin_built_for_an_unknown_wit_version_is_refused_naming_both_versions() {
    let err = host()
        .load_retry(&file(fixtures::FUTURE_VERSION), &[], limits())
        .err()
        .expect("refused");
    let message = err.to_string();
    assert!(
        matches!(err, LoadError::UnsupportedVersion { .. }),
        "{message}"
    );
    assert!(message.contains("fixture_future_version.wasm"), "{message}");
    assert!(
        message.contains("\"outdial:plugin/retry@0.9.0\""),
        "{message}"
    );
    assert!(
        message.contains("supported: outdial:plugin/retry@0.4.0"),
        "{message}"
    );
    for older in [
        "outdial:plugin/gate@0.4.0",
        "outdial:plugin/retry@0.3.0",
        "outdial:plugin/retry@0.2.0",
        "outdial:plugin/retry@0.1.0",
    ] {
        assert!(
            message.contains(older),
            "the older versions it still loads are named too: {message}"
        );
    }
}

#[test]
fn a_retry_strategy_built_against_wit_0_1_is_handed_the_whole_history_and_still_decides() {
    let plugin = host()
        .load_retry(&file(fixtures::LEGACY_RETRY), &[], limits())
        .expect("a 0.1.0 retry strategy loads");
    assert_eq!(plugin.info().wit, "outdial:plugin@0.1.0");
    assert_eq!(plugin.info().kind, PluginKind::RetryStrategy);
    let input = retry_input(&[
        wit::CallOutcome::Busy,
        wit::CallOutcome::NoAnswer,
        wit::CallOutcome::Busy,
    ]);
    // One minute per attempt it was handed: all three reached it.
    let expected = wit::Decision::RetryAt(NOW + 3 * 60_000);
    assert_eq!(plugin.decide_raw(&input).expect("decides"), expected);
    assert_eq!(plugin.decide_fresh(&input).expect("decides"), expected);
}

/// A classification of `attempt` on [`contact`] after `earlier`.
fn classify_input(attempt: wit::Attempt, earlier: Vec<wit::Attempt>) -> Arc<wit::ClassifyInput> {
    Arc::new(wit::ClassifyInput::new(contact(), attempt, earlier))
}

#[test]
fn plugins_built_against_wit_0_3_read_their_context_under_its_0_3_names() {
    let classifier = host()
        .load_classifier(&file(fixtures::CLASSIFIER_0_3), &[], limits())
        .expect("a 0.3.0 classifier loads");
    assert_eq!(classifier.info().wit, "outdial:plugin@0.3.0");
    let answered = classifier
        .classify_raw(&classify_input(
            attempt(3, wit::CallOutcome::Answered),
            vec![
                attempt(1, wit::CallOutcome::Busy),
                attempt(2, wit::CallOutcome::NoAnswer),
            ],
        ))
        .expect("classifies");
    assert_eq!(answered.label, "answered");
    assert_eq!(
        answered.score,
        Some(1.0 / 3.0),
        "it read two earlier attempts"
    );

    let retry = host()
        .load_retry(&file(fixtures::RETRY_0_3), &[], limits())
        .expect("a 0.3.0 retry strategy loads");
    assert_eq!(retry.info().wit, "outdial:plugin@0.3.0");
    let input = retry_input(&[wit::CallOutcome::Busy, wit::CallOutcome::NoAnswer]);
    let attempts = input.history.len() as i64;
    let expected = wit::Decision::RetryAt(input.now + attempts * 60_000);
    assert_eq!(retry.decide_raw(&input).expect("decides"), expected);
    assert_eq!(retry.decide_fresh(&input).expect("decides"), expected);
}

#[test]
fn classifiers_built_against_wit_0_1_and_0_2_are_handed_the_whole_input_under_the_same_checks() {
    for (fixture, version) in [
        (fixtures::LEGACY_CLASSIFIER, "outdial:plugin@0.1.0"),
        (fixtures::CLASSIFIER_0_2, "outdial:plugin@0.2.0"),
    ] {
        let plugin = host()
            .load_classifier(&file(fixture), &[], limits())
            .unwrap_or_else(|err| panic!("a {version} classifier loads: {err}"));
        assert_eq!(plugin.info().wit, version);
        assert_eq!(plugin.info().labels, ["answered", "unanswered"]);
        let answered = plugin
            .classify_raw(&classify_input(
                attempt(2, wit::CallOutcome::Answered),
                vec![attempt(1, wit::CallOutcome::Busy)],
            ))
            .expect("classifies");
        assert_eq!(answered.label, "answered", "{version}");
        assert!(answered.terminal, "{version}");
        assert_eq!(
            answered.score,
            Some(0.5),
            "{version}: it saw the one earlier attempt"
        );
        let unanswered = plugin
            .classify_fresh(&classify_input(
                attempt(1, wit::CallOutcome::NoAnswer),
                Vec::new(),
            ))
            .expect("classifies");
        assert_eq!(unanswered.label, "unanswered", "{version}");
    }
}

#[test]
fn a_provider_adapter_built_against_wit_0_1_places_calls_and_reads_webhooks() {
    let adapter = host()
        .load_adapter(&file(fixtures::LEGACY_ADAPTER), &[], limits())
        .expect("a 0.1.0 adapter loads");
    assert_eq!(adapter.info().wit, "outdial:plugin@0.1.0");
    let call = wit::CallRequest {
        attempt_id: "att-7".to_string(),
        to: "+12125550100".to_string(),
        caller: "+12125550199".to_string(),
        callback_url: "https://hooks.example/calls".to_string(),
        parameters: Vec::new(),
    };
    let request = adapter
        .build_place_call(&call, NOW)
        .expect("answers")
        .expect("builds");
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.headers,
        [("idempotency-key".to_string(), "att-7".to_string())]
    );
    assert_eq!(request.body, br#"{"to":"+12125550100"}"#);
    let response = |status: u16, body: &str| wit::HttpResponse {
        status,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    };
    assert_eq!(
        adapter
            .parse_place_call(&call, &response(201, "call-9"), NOW)
            .unwrap(),
        Ok("call-9".to_string())
    );
    assert_eq!(
        adapter
            .parse_place_call(&call, &response(429, ""), NOW)
            .unwrap(),
        Err(wit::ProviderError::Throttled(1_000))
    );
    let webhook = |body: &str| wit::InboundWebhook {
        method: "POST".to_string(),
        url: "https://hooks.example/calls".to_string(),
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
        received_at: NOW,
    };
    let events = adapter
        .parse_webhook(&webhook("call-9 ringing"))
        .unwrap()
        .expect("reads");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].provider_call_id, "call-9");
    assert_eq!(events[0].state, wit::CallState::Ringing);
    assert_eq!(events[0].at, Some(NOW));
    assert!(matches!(
        adapter.parse_webhook(&webhook("gibberish")).unwrap(),
        Err(wit::WebhookError::Malformed(_))
    ));
    assert_eq!(adapter.build_status_poll("call-9", NOW).unwrap(), None);
}

#[test]
fn a_retry_strategy_reads_the_label_of_a_terminal_disposition_through_its_context() {
    let plugin = host()
        .load_retry(&builtin("retry-backoff"), &[], limits())
        .expect("loads");
    let mut input = wit::RetryInput::clone(&retry_input(&[wit::CallOutcome::Answered]));
    input.history[0].disposition = Some(wit::Disposition {
        label: "do_not_call".to_string(),
        terminal: true,
        score: None,
        sentiment: None,
        follow_up_at: None,
    });
    assert_eq!(
        plugin.decide_raw(&Arc::new(input)).expect("decides"),
        wit::Decision::GiveUp("disposition \"do_not_call\" is terminal".to_string())
    );
}

#[test]
fn files_that_are_not_components_get_their_own_messages() {
    let core_module = PluginSource::Bytes {
        name: "core.wasm".to_string(),
        bytes: b"\0asm\x01\0\0\0".to_vec(),
    };
    assert_eq!(
        host().inspect(&core_module).unwrap_err().to_string(),
        "core.wasm is a core WebAssembly module, not a component: build it for wasm32-wasip2 with the outdial SDK"
    );
    let text = PluginSource::Bytes {
        name: "notes.txt".to_string(),
        bytes: b"hello, plugin".to_vec(),
    };
    assert_eq!(
        host().inspect(&text).unwrap_err().to_string(),
        "notes.txt is not a WebAssembly file"
    );
    let missing = host().inspect(&file("no/such/plugin.wasm")).unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("cannot read plugin no/such/plugin.wasm")
    );
}

#[test]
fn a_plugin_cannot_read_host_files() {
    let plugin = load_retry(file(fixtures::READS_FILE));
    let err = plugin
        .decide_raw(&retry_input(&[wit::CallOutcome::Busy]))
        .unwrap_err();
    let CallError::Plugin { message, .. } = err else {
        panic!("expected the plugin to report its failure, got {err:?}")
    };
    assert!(
        message.starts_with("cannot open /etc/hostname"),
        "{message}"
    );
}

#[test]
fn a_plugin_sees_no_environment_variables() {
    // SAFETY-free: the variable is only read by the plugin, which must not see it.
    let plugin = load_retry(file(fixtures::READS_ENV));
    let err = plugin
        .decide_raw(&retry_input(&[wit::CallOutcome::Busy]))
        .unwrap_err();
    let CallError::Plugin { message, .. } = err else {
        panic!("expected the plugin to report its failure, got {err:?}")
    };
    assert!(message.contains("0 variables visible"), "{message}");
}

#[test]
fn a_plugin_that_wants_the_network_is_refused_at_load() {
    let err = host()
        .load_retry(&file(fixtures::OPENS_SOCKET), &[], limits())
        .err()
        .expect("refused");
    let LoadError::ForbiddenImport { import, .. } = &err else {
        panic!("expected a refused import, got {err}")
    };
    assert!(import.starts_with("wasi:sockets/"), "{import}");
    assert!(
        err.to_string().contains("which outdial does not provide"),
        "{err}"
    );
}

#[test]
fn the_clock_a_plugin_reads_is_the_decision_time_and_its_randomness_is_seeded() {
    let plugin = load_retry(file(fixtures::READS_CLOCK));
    let input = retry_input(&[wit::CallOutcome::Busy]);
    let first = plugin.decide_raw(&input).expect("answers");
    let wit::Decision::GiveUp(report) = &first else {
        panic!("unexpected {first:?}")
    };
    assert!(report.starts_with(&format!("clock={NOW} ")), "{report}");
    // Each new instance starts from the same seed, so it answers the same;
    // a warm instance's std hash-map keys have moved on (the conformance
    // harness flags plugins whose answers depend on that).
    let fresh = plugin.decide_fresh(&input).expect("answers");
    assert_eq!(plugin.decide_fresh(&input).unwrap(), fresh);
    let later = NOW + 60_000;
    let mut input_later = wit::RetryInput::clone(&input);
    input_later.now = later;
    let input_later = Arc::new(input_later);
    let wit::Decision::GiveUp(report) = plugin.decide_raw(&input_later).unwrap() else {
        panic!("unexpected answer")
    };
    assert!(report.starts_with(&format!("clock={later} ")), "{report}");
}

#[test]
fn config_keys_are_checked_against_what_the_plugin_declares() {
    let unknown = host()
        .load_retry(
            &builtin("retry-backoff"),
            &[("base_dealy".to_string(), "5m".to_string())],
            limits(),
        )
        .err()
        .expect("refused");
    let message = unknown.to_string();
    assert!(
        message.starts_with(
            "plugin retry-backoff does not accept config key \"base_dealy\" (accepted: base_delay, "
        ),
        "{message}"
    );
    let refused = host()
        .load_retry(
            &builtin("retry-backoff"),
            &[("jitter".to_string(), "2".to_string())],
            limits(),
        )
        .err()
        .expect("refused");
    assert_eq!(
        refused.to_string(),
        "plugin retry-backoff refused its config: invalid config: key \"jitter\" has value \"2\": expected 0 to 1"
    );
}

#[test]
fn a_plugin_of_the_wrong_kind_is_refused() {
    let err = host()
        .load_retry(&builtin("classify-rules"), &[], limits())
        .err()
        .expect("refused");
    assert_eq!(
        err.to_string(),
        "classify-rules is a disposition-classifier plugin, but a retry-strategy was expected here"
    );
}

#[test]
fn many_threads_share_one_plugin_and_each_gets_its_own_answer() {
    let plugin = Arc::new(load_retry(builtin("retry-schedule")));
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let plugin = plugin.clone();
            std::thread::spawn(move || {
                for n in 0..200 {
                    let outcome = if (thread + n) % 2 == 0 {
                        wit::CallOutcome::Busy
                    } else {
                        wit::CallOutcome::Failed
                    };
                    let decision = plugin
                        .decide_raw(&retry_input(&[outcome]))
                        .expect("decides");
                    let expected = match outcome {
                        wit::CallOutcome::Busy => NOW + 10 * 60_000,
                        _ => NOW + 15 * 60_000,
                    };
                    assert_eq!(decision, wit::Decision::RetryAt(expected));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("no thread panics");
    }
}

#[test]
fn classify_rules_labels_an_eager_answer_as_interested() {
    let classifier = host()
        .load_classifier(&builtin("classify-rules"), &[], limits())
        .expect("loads");
    let mut answered = attempt(1, wit::CallOutcome::Answered);
    answered.machine_detection = wit::MachineDetection::Human;
    answered.talk_ms = 40_000;
    answered.transcript = Some("Sounds good, tell me more".to_string());
    let disposition = classifier
        .classify_raw(&classify_input(answered, Vec::new()))
        .expect("classifies");
    assert_eq!(disposition.label, "interested");
    assert!(disposition.terminal);
    assert_eq!(classifier.info().wit, "outdial:plugin@0.4.0");
}
