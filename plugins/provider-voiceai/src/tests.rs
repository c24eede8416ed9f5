use super::*;

const SECRET: &str = "whsec-test-secret";
const NOW_MS: i64 = 1_700_000_000_000;

fn adapter() -> VoiceAi {
    VoiceAi::configure(&Config::from_pairs(&[
        ("api_base", "https://api.voice.example/"),
        ("api_key", "vk-test-key"),
        ("assistant_id", "asst-renewals"),
        ("webhook_secret", SECRET),
    ]))
    .expect("valid config")
}

fn call() -> CallRequest {
    CallRequest {
        attempt_id: "b1-3-1".to_string(),
        to: "+14155550100".to_string(),
        caller: "+12125550101".to_string(),
        callback_url: "https://outdial.example.com/v1/webhooks/providers/renewals".to_string(),
        parameters: vec![
            ("agent_id".to_string(), "asst-discount".to_string()),
            ("offer".to_string(), "20%".to_string()),
        ],
    }
}

fn webhook(body: &str, signed_at_s: i64, received_at: i64, secret: &str) -> InboundWebhook {
    let timestamp = signed_at_s.to_string();
    InboundWebhook {
        method: "POST".to_string(),
        url: "https://outdial.example.com/v1/webhooks/providers/renewals".to_string(),
        headers: vec![
            ("content-type".to_string(), "application/json".to_string()),
            (
                "x-signature".to_string(),
                signature(secret, &timestamp, body.as_bytes()),
            ),
            ("x-signature-timestamp".to_string(), timestamp),
        ],
        body: body.as_bytes().to_vec(),
        received_at,
    }
}

const END_OF_CALL: &str = r#"{"message": {"type": "end-of-call-report",
  "call": {"id": "call-9f2", "metadata": {"attempt_id": "b1-3-1"}},
  "endedReason": "customer-ended-call",
  "transcript": "AI: Hi, this is Ana about your renewal. User: Sounds good, sign me up.",
  "summary": "The customer agreed to renew.",
  "cost": 0.0825,
  "durationSeconds": 41.5}}"#;

#[test]
fn the_create_call_request_is_bearer_authenticated_json_with_the_assistant() {
    let request = adapter().build_place_call(&call()).expect("request");
    assert_eq!(request.method, "POST");
    assert_eq!(request.url, "https://api.voice.example/call");
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("Authorization"), Some("Bearer vk-test-key"));
    assert_eq!(header("Idempotency-Key"), Some("b1-3-1"));
    let body: Value = serde_json::from_slice(&request.body).expect("json");
    assert_eq!(body["assistantId"], "asst-discount");
    assert_eq!(body["customer"]["number"], "+14155550100");
    assert_eq!(body["phoneNumber"]["number"], "+12125550101");
    assert_eq!(body["metadata"]["attempt_id"], "b1-3-1");
    assert_eq!(body["assistantOverrides"]["variableValues"]["offer"], "20%");
}

#[test]
fn a_created_call_answers_its_id_and_refusals_are_typed() {
    let ok = HttpResponse {
        status: 201,
        headers: Vec::new(),
        body: br#"{"id": "call-9f2", "status": "queued"}"#.to_vec(),
    };
    assert_eq!(
        adapter().parse_place_call(&call(), &ok).expect("id"),
        "call-9f2"
    );
    let refused = |status, headers: Vec<(String, String)>, body: &str| {
        adapter()
            .parse_place_call(
                &call(),
                &HttpResponse {
                    status,
                    headers,
                    body: body.as_bytes().to_vec(),
                },
            )
            .expect_err("refused")
    };
    assert_eq!(
        refused(429, vec![("retry-after".to_string(), "2".to_string())], ""),
        ProviderError::Throttled(2_000)
    );
    assert!(matches!(
        refused(
            400,
            Vec::new(),
            r#"{"error": {"type": "invalid_phone_number", "message": "customer.number is not E.164"}}"#
        ),
        ProviderError::InvalidNumber(_)
    ));
    assert!(matches!(
        refused(401, Vec::new(), "{}"),
        ProviderError::Auth(_)
    ));
    assert!(matches!(
        refused(502, Vec::new(), "bad gateway"),
        ProviderError::Transient(_)
    ));
    assert!(matches!(
        refused(422, Vec::new(), r#"{"message": "assistant not found"}"#),
        ProviderError::Permanent(_)
    ));
}

#[test]
fn an_end_of_call_report_carries_transcript_summary_cost_and_reason() {
    let events = adapter()
        .parse_webhook(&webhook(END_OF_CALL, NOW_MS / 1_000, NOW_MS, SECRET))
        .expect("verified");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.provider_call_id, "call-9f2");
    assert_eq!(event.attempt_id.as_deref(), Some("b1-3-1"));
    assert_eq!(event.state, CallState::Ended);
    assert_eq!(event.outcome, Some(CallOutcome::Answered));
    assert_eq!(event.machine_detection, MachineDetection::Human);
    assert_eq!(event.talk_ms, Some(41_500));
    assert_eq!(event.cost_micros, Some(82_500));
    assert!(
        event
            .transcript
            .as_deref()
            .is_some_and(|t| t.contains("sign me up"))
    );
    assert!(event.metadata.contains(&(
        "summary".to_string(),
        "The customer agreed to renew.".to_string()
    )));
    assert!(event.metadata.contains(&(
        "ended_reason".to_string(),
        "customer-ended-call".to_string()
    )));
}

#[test]
fn ended_reasons_map_to_outcomes() {
    assert_eq!(
        ending_of("voicemail"),
        (CallOutcome::Answered, MachineDetection::Machine)
    );
    assert_eq!(
        ending_of("call-screening"),
        (CallOutcome::Answered, MachineDetection::CallScreening)
    );
    assert_eq!(ending_of("customer-busy").0, CallOutcome::Busy);
    assert_eq!(
        ending_of("customer-did-not-answer").0,
        CallOutcome::NoAnswer
    );
    assert_eq!(
        ending_of("pipeline-error-openai-llm-failed").0,
        CallOutcome::Failed
    );
}

#[test]
fn a_status_update_becomes_a_ringing_or_answered_event() {
    let body = r#"{"message": {"type": "status-update", "status": "in-progress", "call": {"id": "call-9f2", "metadata": {"attempt_id": "b1-3-1"}}}}"#;
    let events = adapter()
        .parse_webhook(&webhook(body, NOW_MS / 1_000, NOW_MS, SECRET))
        .expect("verified");
    assert_eq!(events[0].state, CallState::InProgress);
    assert_eq!(events[0].outcome, None);
}

#[test]
fn a_forged_or_tampered_webhook_is_refused() {
    let forged = webhook(END_OF_CALL, NOW_MS / 1_000, NOW_MS, "guessed-secret");
    assert!(matches!(
        adapter().parse_webhook(&forged),
        Err(WebhookError::BadSignature(_))
    ));
    let mut tampered = webhook(END_OF_CALL, NOW_MS / 1_000, NOW_MS, SECRET);
    tampered.body = END_OF_CALL.replace("0.0825", "0.0001").into_bytes();
    assert!(matches!(
        adapter().parse_webhook(&tampered),
        Err(WebhookError::BadSignature(_))
    ));
    let mut unsigned = webhook(END_OF_CALL, NOW_MS / 1_000, NOW_MS, SECRET);
    unsigned.headers.retain(|(k, _)| k != "x-signature");
    assert!(matches!(
        adapter().parse_webhook(&unsigned),
        Err(WebhookError::BadSignature(_))
    ));
}

#[test]
fn a_replay_outside_the_tolerance_window_is_refused() {
    let six_minutes_ago = NOW_MS / 1_000 - 6 * 60;
    let replayed = webhook(END_OF_CALL, six_minutes_ago, NOW_MS, SECRET);
    assert!(matches!(
        adapter().parse_webhook(&replayed),
        Err(WebhookError::BadSignature(message)) if message.contains("tolerance")
    ));
    let four_minutes_ago = NOW_MS / 1_000 - 4 * 60;
    assert!(
        adapter()
            .parse_webhook(&webhook(END_OF_CALL, four_minutes_ago, NOW_MS, SECRET))
            .is_ok()
    );
}

#[test]
fn a_fetched_call_is_read_like_a_report() {
    let poll = adapter().build_status_poll("call-9f2").expect("poll");
    assert_eq!(poll.url, "https://api.voice.example/call/call-9f2");
    let body = r#"{"id": "call-9f2", "status": "ended", "endedReason": "customer-did-not-answer",
        "metadata": {"attempt_id": "b1-3-1"}, "cost": 0, "durationSeconds": 0}"#;
    let event = adapter()
        .parse_status_poll(
            "call-9f2",
            &HttpResponse {
                status: 200,
                headers: Vec::new(),
                body: body.as_bytes().to_vec(),
            },
        )
        .expect("event");
    assert_eq!(event.outcome, Some(CallOutcome::NoAnswer));
    assert_eq!(event.attempt_id.as_deref(), Some("b1-3-1"));
}

#[test]
fn signatures_round_trip_and_hex_is_strict() {
    let signed = signature(SECRET, "1700000000", b"{}");
    assert!(signed.starts_with("v1=") && signed.len() == 3 + 64);
    assert!(verify_signature(SECRET, "1700000000", b"{}", &signed));
    assert!(!verify_signature(SECRET, "1700000001", b"{}", &signed));
    assert!(!verify_signature(SECRET, "1700000000", b"{}", "v1=zz"));
    assert_eq!(unhex("0aff"), Some(vec![0x0a, 0xff]));
    assert_eq!(unhex("0af"), None);
}
