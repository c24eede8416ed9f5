use super::*;

const SID: &str = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";
const TOKEN: &str = "12345";
const CALLBACK: &str = "https://outdial.example.com/v1/webhooks/providers/renewals";

fn adapter(extra: &[(&str, &str)]) -> Twilio {
    let mut pairs = vec![
        ("account_sid", SID),
        ("auth_token", TOKEN),
        ("twiml_url", "https://app.example.com/voice"),
    ];
    pairs.extend_from_slice(extra);
    Twilio::configure(&Config::from_pairs(&pairs)).expect("valid config")
}

fn call() -> CallRequest {
    CallRequest {
        attempt_id: "b1-7-2".to_string(),
        to: "+14155550100".to_string(),
        caller: "+12125550101".to_string(),
        callback_url: CALLBACK.to_string(),
        parameters: vec![("agent_id".to_string(), "renewal-discount".to_string())],
    }
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
    raw.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn callback(url: &str, params: &[(&str, &str)], token: &str) -> InboundWebhook {
    let params = pairs(params);
    let mut body = form_urlencoded::Serializer::new(String::new());
    for (key, value) in &params {
        body.append_pair(key, value);
    }
    InboundWebhook {
        method: "POST".to_string(),
        url: url.to_string(),
        headers: vec![
            (
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ),
            (
                "X-Twilio-Signature".to_string(),
                signature(token, url, &params),
            ),
        ],
        body: body.finish().into_bytes(),
        received_at: 1_700_000_000_000,
    }
}

#[test]
fn the_signature_matches_twilios_documented_example() {
    // Twilio's request-validation documentation: auth token 12345, this URL
    // and these parameters sign to GvWf1cFY/Q7PnoempGyD5oXAezc=.
    let params = pairs(&[
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675310"),
        ("Digits", "1234"),
        ("From", "+14158675310"),
        ("To", "+18005551212"),
    ]);
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    assert_eq!(
        signature("12345", url, &params),
        "GvWf1cFY/Q7PnoempGyD5oXAezc="
    );
    assert!(verify_signature(
        "12345",
        url,
        &params,
        "GvWf1cFY/Q7PnoempGyD5oXAezc="
    ));
    assert!(!verify_signature(
        "54321",
        url,
        &params,
        "GvWf1cFY/Q7PnoempGyD5oXAezc="
    ));
}

#[test]
fn the_create_call_request_is_a_basic_auth_form_post_to_the_calls_resource() {
    let request = adapter(&[("machine_detection", "DetectMessageEnd")])
        .build_place_call(&call())
        .expect("request");
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.url,
        format!("https://api.twilio.com/2010-04-01/Accounts/{SID}/Calls.json")
    );
    let auth = request
        .headers
        .iter()
        .find(|(k, _)| k == "Authorization")
        .map(|(_, v)| v.clone())
        .expect("authorization header");
    let decoded = BASE64
        .decode(auth.strip_prefix("Basic ").expect("basic auth"))
        .expect("base64");
    assert_eq!(decoded, format!("{SID}:{TOKEN}").as_bytes());
    let form: Vec<(String, String)> = form_urlencoded::parse(&request.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let value = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(value("To"), Some("+14155550100"));
    assert_eq!(value("From"), Some("+12125550101"));
    assert_eq!(
        value("Url"),
        Some("https://app.example.com/voice?agent_id=renewal-discount")
    );
    assert_eq!(
        value("StatusCallback"),
        Some(format!("{CALLBACK}?attempt_id=b1-7-2").as_str())
    );
    assert_eq!(value("MachineDetection"), Some("DetectMessageEnd"));
    let events: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "StatusCallbackEvent")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(events, ["initiated", "ringing", "answered", "completed"]);
}

#[test]
fn inline_twiml_is_sent_as_the_twiml_parameter() {
    let twilio = Twilio::configure(&Config::from_pairs(&[
        ("account_sid", SID),
        ("auth_token", TOKEN),
        ("twiml", "<Response><Say>Hello</Say></Response>"),
    ]))
    .expect("valid config");
    let request = twilio.build_place_call(&call()).expect("request");
    let body = String::from_utf8(request.body).expect("utf-8");
    assert!(
        body.contains("Twiml=%3CResponse%3E%3CSay%3EHello"),
        "{body}"
    );
    assert!(!body.contains("Url="), "{body}");
}

#[test]
fn a_created_call_answers_its_sid() {
    let body = r#"{"sid": "CAa1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4", "status": "queued", "to": "+14155550100"}"#;
    let sid = adapter(&[])
        .parse_place_call(&call(), &response(201, &[], body))
        .expect("sid");
    assert_eq!(sid, "CAa1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4");
}

#[test]
fn refusals_become_typed_errors() {
    let twilio = adapter(&[]);
    let parse = |status, headers: &[(&str, &str)], body| {
        twilio
            .parse_place_call(&call(), &response(status, headers, body))
            .expect_err("refused")
    };
    assert_eq!(
        parse(
            429,
            &[("Retry-After", "3")],
            r#"{"code": 20429, "message": "Too Many Requests"}"#
        ),
        ProviderError::Throttled(3_000)
    );
    assert_eq!(parse(429, &[], ""), ProviderError::Throttled(1_000));
    assert!(matches!(
        parse(400, &[], r#"{"code": 21211, "message": "The 'To' number +1555 is not a valid phone number.", "status": 400}"#),
        ProviderError::InvalidNumber(message) if message.contains("21211")
    ));
    assert!(matches!(
        parse(401, &[], r#"{"code": 20003, "message": "Authenticate"}"#),
        ProviderError::Auth(_)
    ));
    assert!(matches!(
        parse(503, &[], "Service Unavailable"),
        ProviderError::Transient(_)
    ));
    assert!(matches!(
        parse(
            400,
            &[],
            r#"{"code": 21205, "message": "Url is not a valid URL"}"#
        ),
        ProviderError::Permanent(_)
    ));
}

#[test]
fn a_signed_completed_callback_becomes_an_ended_event_for_its_attempt() {
    let url = format!("{CALLBACK}?attempt_id=b1-7-2");
    let webhook = callback(
        &url,
        &[
            ("AccountSid", SID),
            ("CallSid", "CA42"),
            ("CallStatus", "completed"),
            ("CallDuration", "37"),
            ("AnsweredBy", "machine_end_beep"),
            ("SipResponseCode", "200"),
        ],
        TOKEN,
    );
    let events = adapter(&[]).parse_webhook(&webhook).expect("verified");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.provider_call_id, "CA42");
    assert_eq!(event.attempt_id.as_deref(), Some("b1-7-2"));
    assert_eq!(event.state, CallState::Ended);
    assert_eq!(event.outcome, Some(CallOutcome::Answered));
    assert_eq!(event.talk_ms, Some(37_000));
    assert_eq!(event.sip_code, Some(200));
    assert_eq!(event.machine_detection, MachineDetection::Machine);
}

#[test]
fn every_documented_call_status_is_understood() {
    let cases = [
        ("queued", CallState::Queued, None),
        ("ringing", CallState::Ringing, None),
        ("in-progress", CallState::InProgress, None),
        ("completed", CallState::Ended, Some(CallOutcome::Answered)),
        ("busy", CallState::Ended, Some(CallOutcome::Busy)),
        ("no-answer", CallState::Ended, Some(CallOutcome::NoAnswer)),
        ("failed", CallState::Ended, Some(CallOutcome::Failed)),
        ("canceled", CallState::Ended, Some(CallOutcome::Canceled)),
    ];
    for (status, state, outcome) in cases {
        let event = event_of("CA1", status, None, None).expect(status);
        assert_eq!((event.state, event.outcome), (state, outcome), "{status}");
    }
    assert!(event_of("CA1", "exploded", None, None).is_err());
}

#[test]
fn a_forged_or_unsigned_callback_is_refused() {
    let url = format!("{CALLBACK}?attempt_id=b1-7-2");
    let params = [("CallSid", "CA42"), ("CallStatus", "completed")];
    let forged = callback(&url, &params, "not-the-token");
    assert!(matches!(
        adapter(&[]).parse_webhook(&forged),
        Err(WebhookError::BadSignature(_))
    ));
    let mut tampered = callback(&url, &params, TOKEN);
    tampered.url = format!("{CALLBACK}?attempt_id=b1-8-1");
    assert!(matches!(
        adapter(&[]).parse_webhook(&tampered),
        Err(WebhookError::BadSignature(_))
    ));
    let mut unsigned = callback(&url, &params, TOKEN);
    unsigned.headers.retain(|(k, _)| k != "X-Twilio-Signature");
    assert!(matches!(
        adapter(&[]).parse_webhook(&unsigned),
        Err(WebhookError::BadSignature(_))
    ));
}

#[test]
fn a_url_signed_with_the_default_port_verifies_without_it() {
    let signed = "https://outdial.example.com:443/v1/webhooks/providers/renewals?attempt_id=b1-1-1";
    let mut webhook = callback(
        signed,
        &[("CallSid", "CA1"), ("CallStatus", "ringing")],
        TOKEN,
    );
    webhook.url =
        "https://outdial.example.com/v1/webhooks/providers/renewals?attempt_id=b1-1-1".to_string();
    assert!(adapter(&[]).parse_webhook(&webhook).is_ok());
}

#[test]
fn a_status_poll_fetches_the_call_and_reads_its_price() {
    let twilio = adapter(&[]);
    let request = twilio.build_status_poll("CA42").expect("poll supported");
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.url,
        format!("https://api.twilio.com/2010-04-01/Accounts/{SID}/Calls/CA42.json")
    );
    let body = r#"{"sid": "CA42", "status": "no-answer", "duration": "0", "answered_by": null, "price": "-0.01500", "price_unit": "USD"}"#;
    let event = twilio
        .parse_status_poll("CA42", &response(200, &[], body))
        .expect("event");
    assert_eq!(event.state, CallState::Ended);
    assert_eq!(event.outcome, Some(CallOutcome::NoAnswer));
    assert_eq!(event.cost_micros, Some(15_000));
    assert_eq!(event.machine_detection, MachineDetection::NotRun);
}

#[test]
fn bad_config_is_refused_with_the_key_named() {
    let refuse = |pairs: &[(&str, &str)]| match Twilio::configure(&Config::from_pairs(pairs)) {
        Err(PluginError::InvalidConfig(message)) => message,
        other => panic!("expected a config error, got {other:?}"),
    };
    assert!(refuse(&[("auth_token", TOKEN), ("twiml", "<Response/>")]).contains("account_sid"));
    assert!(
        refuse(&[
            ("account_sid", "XX1"),
            ("auth_token", TOKEN),
            ("twiml", "<Response/>")
        ])
        .contains("account_sid")
    );
    assert!(refuse(&[("account_sid", SID), ("auth_token", TOKEN)]).contains("twiml"));
    assert!(
        refuse(&[
            ("account_sid", SID),
            ("auth_token", TOKEN),
            ("twiml", "<Response/>"),
            ("machine_detection", "Maybe")
        ])
        .contains("machine_detection")
    );
}
