//! The built-in suite for provider adapters. Adapters are sans-IO, so
//! every check feeds them requests, responses and webhooks directly; the
//! webhooks are the author's recorded ones from the cases.

use serde_json::{Value, json};

use super::Suite;
use super::case::{
    self, AdapterInput, Case, DEFAULT_NOW_MS, adapter_input_json, event_json, percent_decode,
    provider_error_json, request_json, webhook_error_json,
};
use super::check::{Check, CheckReport, Failure};
use super::retry::compare;
use crate::plugin_host::{AdapterPlugin, CallError, wit};

pub(super) fn run(suite: &Suite<'_>) -> Vec<CheckReport> {
    let config = Check::built_in("config", "loads and configures with the suite's config");
    let plugin = match suite.load(&suite.cases.config, |host, source, config, limits| {
        host.load_adapter(source, config, limits)
    }) {
        Ok(plugin) => plugin,
        Err(failure) => return vec![config.finish(Err(failure))],
    };
    let mut reports = vec![config.finish(Ok(()))];
    let recorded = recorded_webhooks(suite);

    let mut check = Check::built_in(
        "place-call-e164",
        "builds a well-formed request for E.164 numbers of ten countries",
    );
    let outcome = place_call_e164(&plugin, &mut check);
    reports.push(check.finish(outcome));

    let mut check = Check::built_in(
        "malformed-number",
        "refuses a malformed number with invalid-number",
    );
    let outcome = malformed_number(&plugin, &mut check);
    reports.push(check.finish(outcome));

    let check = Check::built_in(
        "webhook-fixtures",
        "ships recorded webhooks (cases with a webhook input and the events expected)",
    );
    let outcome = if recorded.is_empty() {
        Err(Failure::new(
            "no recorded webhook among the cases: add a case folder whose input.json is {\"webhook\": {...}} as the provider sent it, and whose expected.json lists the events, then pass the folder above it with --cases",
        ))
    } else {
        Ok(())
    };
    reports.push(check.finish(outcome));

    let mut check = Check::built_in(
        "tampered-signature",
        "rejects a recorded webhook once it is tampered with",
    );
    let outcome = tampered_signature(&plugin, &mut check, &recorded);
    reports.push(check.finish(outcome));

    let mut check = Check::built_in(
        "duplicates-and-reordering",
        "reads duplicated and reordered webhooks as it reads them once, in order",
    );
    let outcome = duplicates_and_reordering(&plugin, &mut check, &recorded);
    reports.push(check.finish(outcome));

    let mut check = Check::built_in(
        "limits",
        "stays within its CPU and memory limits on the heaviest input",
    );
    let outcome = limits(&plugin, &mut check, &recorded);
    reports.push(check.finish(outcome));

    for case in &suite.cases.cases {
        reports.push(run_case(suite, &plugin, case));
    }
    reports
}

/// A recorded webhook from a case that runs with the suite's config and
/// expects events.
struct Recorded {
    case: String,
    webhook: wit::InboundWebhook,
}

fn recorded_webhooks(suite: &Suite<'_>) -> Vec<Recorded> {
    suite
        .cases
        .cases
        .iter()
        .filter(|case| case.config.is_none())
        .filter(|case| matches!(&case.expected, Ok(Value::Object(expected)) if expected.contains_key("events")))
        .filter_map(|case| {
            let input = case.input.as_ref().ok()?;
            match case::adapter_input(input, &case.dir.join("input.json")) {
                Ok((AdapterInput::Webhook(webhook), _)) => Some(Recorded {
                    case: case.name.clone(),
                    webhook,
                }),
                _ => None,
            }
        })
        .collect()
}

/// Numbers in E.164 from ten numbering plans, each a valid example number.
const NUMBERS: [(&str, &str); 10] = [
    ("+12015550123", "the United States"),
    ("+16135550123", "Canada"),
    ("+441212345678", "the United Kingdom"),
    ("+4930123456", "Germany"),
    ("+33123456789", "France"),
    ("+81312345678", "Japan"),
    ("+551123456789", "Brazil"),
    ("+61212345678", "Australia"),
    ("+911123456789", "India"),
    ("+27101234567", "South Africa"),
];

/// Numbers no provider can dial.
const MALFORMED: [&str; 8] = [
    "",
    "not a number",
    "+",
    "12015550123",
    "+0123456789",
    "+12015550123456789",
    "+1201555x123",
    "+44 ☎ 20",
];

fn call_to(to: &str) -> wit::CallRequest {
    wit::CallRequest {
        attempt_id: "conformance-batch-9-1".to_string(),
        to: to.to_string(),
        caller: "+12015550199".to_string(),
        callback_url: "https://outdial.example/hooks/provider?attempt=conformance-batch-9-1"
            .to_string(),
        parameters: vec![("script".to_string(), "welcome-v2".to_string())],
    }
}

/// Build the request for `call`; a fault fails the check, and its case
/// expects `expects`.
fn place_call(
    plugin: &AdapterPlugin,
    check: &mut Check,
    call: &wit::CallRequest,
    expects: fn() -> Value,
) -> Result<Result<wit::HttpRequest, wit::ProviderError>, Failure> {
    check
        .call(|| plugin.build_place_call(call, DEFAULT_NOW_MS))
        .map_err(|err| {
            Failure::new(format!("building the request for {}: {err}", call.to))
                .input(adapter_input_json(&AdapterInput::PlaceCall(call.clone())))
                .expects(expects())
                .found(err.to_string())
        })
}

/// A case's expectation of a request, whatever it holds: the checks of a
/// well-formed request go beyond what a case can say.
fn a_request() -> Value {
    json!({"request": {"any": true}})
}

fn an_invalid_number() -> Value {
    json!({"error": {"invalid_number": {"any": true}}})
}

/// A case's expectation of an answer, request or refusal, but no fault.
fn no_fault() -> Value {
    json!({"fault": null})
}

fn place_call_e164(plugin: &AdapterPlugin, check: &mut Check) -> Result<(), Failure> {
    for (number, country) in NUMBERS {
        let call = call_to(number);
        let input = || adapter_input_json(&AdapterInput::PlaceCall(call.clone()));
        let request = match place_call(plugin, check, &call, a_request)? {
            Ok(request) => request,
            Err(error) => {
                return Err(
                    Failure::new(format!("refused {number}, a valid number in {country}"))
                        .input(input())
                        .expects(a_request())
                        .expected("a request")
                        .found(provider_error_json(&error).to_string()),
                );
            }
        };
        if let Err(problem) = well_formed(&request, &call) {
            return Err(Failure::new(format!(
                "the request for {number} ({country}) is not well-formed: {problem}"
            ))
            .input(input())
            .expects(a_request())
            .expected("a well-formed HTTP request carrying the number and the attempt id")
            .found(case::humanize(&request_json(&request)).to_string()));
        }
        let again = place_call(plugin, check, &call, a_request)?;
        if again.as_ref() != Ok(&request) {
            return Err(Failure::new(format!(
                "built two different requests for the same call to {number}"
            ))
            .input(input())
            .expects(json!({"request": case::readable_times(&request_json(&request))}))
            .expected(case::humanize(&request_json(&request)).to_string())
            .found(format!("{again:?}")));
        }
    }
    Ok(())
}

/// What a request must be for the host to send it: a method, an absolute
/// http(s) URL, clean headers, a body its content type describes, and the
/// destination and attempt id somewhere the provider reads them.
fn well_formed(request: &wit::HttpRequest, call: &wit::CallRequest) -> Result<(), String> {
    if request.method.is_empty() || !request.method.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "method \"{}\" is not an HTTP method such as POST",
            request.method
        ));
    }
    let Some(rest) = request
        .url
        .strip_prefix("https://")
        .or_else(|| request.url.strip_prefix("http://"))
    else {
        return Err(format!(
            "url \"{}\" is not an absolute http(s) URL",
            request.url
        ));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty()
        || request
            .url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "url \"{}\" has no host or contains spaces or control characters",
            request.url
        ));
    }
    const TOKEN_PUNCTUATION: &str = "!#$%&'*+-.^_`|~";
    for (name, value) in &request.headers {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || TOKEN_PUNCTUATION.contains(c))
        {
            return Err(format!("header name {name:?} is not an HTTP token"));
        }
        if value.contains(['\r', '\n', '\0']) {
            return Err(format!(
                "header {name} has a line break or NUL in its value"
            ));
        }
    }
    let content_type = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.to_ascii_lowercase());
    let body = String::from_utf8_lossy(&request.body);
    match content_type.as_deref() {
        Some(kind) if kind.contains("json") => {
            serde_json::from_slice::<Value>(&request.body)
                .map_err(|err| format!("the body is declared JSON but does not parse: {err}"))?;
        }
        Some(kind) if kind.contains("x-www-form-urlencoded") => {
            case::parse_form(&body)
                .ok_or("the body is declared a form but does not decode as one")?;
        }
        None if !request.body.is_empty() => {
            return Err("the request has a body but no content-type header".to_string());
        }
        _ => {}
    }
    let carried = format!(
        "{} {} {} {}",
        percent_decode(&request.url).unwrap_or_else(|| request.url.clone()),
        request
            .headers
            .iter()
            .map(|(_, value)| value.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        body,
        percent_decode(&body).unwrap_or_default(),
    );
    let digits = call.to.trim_start_matches('+');
    if !carried.contains(digits) {
        return Err(format!(
            "the number {} appears nowhere in the URL, headers or body",
            call.to
        ));
    }
    if !carried.contains(&call.attempt_id) {
        return Err(format!(
            "the attempt id \"{}\" (the idempotency key) appears nowhere in the URL, headers or body",
            call.attempt_id
        ));
    }
    Ok(())
}

fn malformed_number(plugin: &AdapterPlugin, check: &mut Check) -> Result<(), Failure> {
    for number in MALFORMED {
        let call = call_to(number);
        let found = match place_call(plugin, check, &call, an_invalid_number)? {
            Err(wit::ProviderError::InvalidNumber(_)) => continue,
            Err(other) => provider_error_json(&other).to_string(),
            Ok(request) => case::humanize(&json!({"request": request_json(&request)})).to_string(),
        };
        return Err(Failure::new(format!(
            "{number:?} is no E.164 number, but it was not refused as invalid-number"
        ))
        .input(adapter_input_json(&AdapterInput::PlaceCall(call)))
        .expects(an_invalid_number())
        .expected("{\"invalid_number\": ...}")
        .found(found));
    }
    Ok(())
}

/// Read `webhook`; a fault fails the check, and its case expects no fault.
fn parse(
    plugin: &AdapterPlugin,
    check: &mut Check,
    what: &str,
    webhook: &wit::InboundWebhook,
) -> Result<Result<Vec<wit::CallEvent>, wit::WebhookError>, Failure> {
    check.call(|| plugin.parse_webhook(webhook)).map_err(|err| {
        Failure::new(format!("{what}: {err}"))
            .input(adapter_input_json(&AdapterInput::Webhook(webhook.clone())))
            .expects(no_fault())
            .found(err.to_string())
    })
}

/// The webhook with the last letter or digit of its body changed to
/// another of the same kind, so it still parses but no longer matches its
/// signature; `None` when the body has neither.
fn tamper_body(webhook: &wit::InboundWebhook) -> Option<(wit::InboundWebhook, String)> {
    let index = webhook.body.iter().rposition(u8::is_ascii_alphanumeric)?;
    let old = webhook.body[index];
    let new = match old {
        b'9' => b'0',
        b'z' => b'a',
        b'Z' => b'A',
        other => other + 1,
    };
    let mut tampered = webhook.clone();
    tampered.body[index] = new;
    Some((
        tampered,
        format!(
            "byte {index} of the body changed from '{}' to '{}'",
            old as char, new as char
        ),
    ))
}

/// The webhook without any header that names a signature.
fn strip_signature(webhook: &wit::InboundWebhook) -> Option<(wit::InboundWebhook, String)> {
    let mut stripped = webhook.clone();
    stripped
        .headers
        .retain(|(name, _)| !name.to_ascii_lowercase().contains("signature"));
    let removed: Vec<&str> = webhook
        .headers
        .iter()
        .filter(|(name, _)| name.to_ascii_lowercase().contains("signature"))
        .map(|(name, _)| name.as_str())
        .collect();
    (!removed.is_empty()).then(|| (stripped, format!("header {} removed", removed.join(", "))))
}

fn tampered_signature(
    plugin: &AdapterPlugin,
    check: &mut Check,
    recorded: &[Recorded],
) -> Result<(), Failure> {
    if recorded.is_empty() {
        return Err(Failure::new(
            "no recorded webhook to tamper with: see webhook-fixtures",
        ));
    }
    for fixture in recorded {
        for (tampered, how) in [
            tamper_body(&fixture.webhook),
            strip_signature(&fixture.webhook),
        ]
        .into_iter()
        .flatten()
        {
            let what = format!("case {} with {how}", fixture.case);
            let found = match parse(plugin, check, &what, &tampered)? {
                Err(wit::WebhookError::BadSignature(_)) => continue,
                Err(other) => format!(
                    "{} (verify the signature before reading the body)",
                    webhook_error_json(&other)
                ),
                Ok(events) => format!("accepted, with {} events", events.len()),
            };
            return Err(Failure::new(format!(
                "{what}: the tampered webhook was not rejected as bad-signature"
            ))
            .input(adapter_input_json(&AdapterInput::Webhook(tampered)))
            .expects(json!({"error": {"bad_signature": {"any": true}}}))
            .expected("{\"bad_signature\": ...}")
            .found(found));
        }
    }
    Ok(())
}

fn duplicates_and_reordering(
    plugin: &AdapterPlugin,
    check: &mut Check,
    recorded: &[Recorded],
) -> Result<(), Failure> {
    if recorded.is_empty() {
        return Err(Failure::new(
            "no recorded webhooks to replay: see webhook-fixtures",
        ));
    }
    let first: Vec<_> = recorded
        .iter()
        .map(|fixture| {
            parse(
                plugin,
                check,
                &format!("case {}", fixture.case),
                &fixture.webhook,
            )
        })
        .collect::<Result<_, _>>()?;
    // Reversed, then each delivered twice in a row.
    let replays = recorded
        .iter()
        .zip(&first)
        .rev()
        .map(|pair| (pair, "delivered in reverse order"))
        .chain(recorded.iter().zip(&first).flat_map(|pair| {
            [
                (pair, "delivered"),
                (pair, "delivered again, as a duplicate"),
            ]
        }));
    for ((fixture, expected), how) in replays {
        let what = format!("case {} {how}", fixture.case);
        let again = parse(plugin, check, &what, &fixture.webhook)?;
        if &again != expected {
            let show = |answer: &Result<Vec<wit::CallEvent>, wit::WebhookError>| match answer {
                Ok(events) => {
                    case::humanize(&Value::Array(events.iter().map(event_json).collect()))
                        .to_string()
                }
                Err(error) => webhook_error_json(error).to_string(),
            };
            let first_answer = match expected {
                Ok(events) => json!({"events": events.iter().map(event_json).collect::<Vec<_>>()}),
                Err(error) => json!({"error": webhook_error_json(error)}),
            };
            return Err(Failure::new(format!(
                "{what}: read differently than the first time; an adapter must keep no state between webhooks"
            ))
            .input(adapter_input_json(&AdapterInput::Webhook(fixture.webhook.clone())))
            .expects(case::readable_times(&first_answer))
            .expected(show(expected))
            .found(show(&again)));
        }
    }
    Ok(())
}

fn limits(plugin: &AdapterPlugin, check: &mut Check, recorded: &[Recorded]) -> Result<(), Failure> {
    let mut call = call_to(NUMBERS[0].0);
    call.parameters
        .push(("context".to_string(), "x".repeat(64 * 1024)));
    // Any typed answer will do: only a fault fails.
    let _request_or_refusal = place_call(plugin, check, &call, no_fault)?;
    let mut flood = recorded
        .first()
        .map(|fixture| fixture.webhook.clone())
        .unwrap_or(wit::InboundWebhook {
            method: "POST".to_string(),
            url: "https://outdial.example/hooks/provider".to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            received_at: DEFAULT_NOW_MS,
        });
    flood.body = b"{\"events\": [".to_vec();
    flood.body.extend(std::iter::repeat_n(b'7', 1 << 20));
    let _events_or_refusal = parse(plugin, check, "a 1 MiB webhook body", &flood)?;
    Ok(())
}

fn run_case(suite: &Suite<'_>, plugin: &AdapterPlugin, case: &Case) -> CheckReport {
    let mut check = Check::case(&case.name);
    let outcome = run_case_body(suite, plugin, case, &mut check);
    check.finish(outcome)
}

fn run_case_body(
    suite: &Suite<'_>,
    suite_plugin: &AdapterPlugin,
    case: &Case,
    check: &mut Check,
) -> Result<(), Failure> {
    let raw_input = case.input.clone().map_err(Failure::new)?;
    let raw_expected = case.expected.clone().map_err(Failure::new)?;
    let (input, now) =
        case::adapter_input(&raw_input, &case.dir.join("input.json")).map_err(Failure::new)?;
    let own = suite.load_for_case(case, |host, source, config, limits| {
        host.load_adapter(source, config, limits)
    })?;
    let plugin = own.as_ref().unwrap_or(suite_plugin);
    let answer = check.call(|| answer(plugin, &input, now));
    compare(case, raw_input, raw_expected, &answer, now)
}

/// Ask the adapter what the input asks and put the answer in the case format.
fn answer(plugin: &AdapterPlugin, input: &AdapterInput, now: i64) -> Value {
    let answered: Result<Value, CallError> = match input {
        AdapterInput::Webhook(webhook) => {
            plugin.parse_webhook(webhook).map(|answer| match answer {
                Ok(events) => json!({"events": events.iter().map(event_json).collect::<Vec<_>>()}),
                Err(error) => json!({"error": webhook_error_json(&error)}),
            })
        }
        AdapterInput::PlaceCall(call) => {
            plugin
                .build_place_call(call, now)
                .map(|answer| match answer {
                    Ok(request) => json!({"request": request_json(&request)}),
                    Err(error) => json!({"error": provider_error_json(&error)}),
                })
        }
        AdapterInput::PlaceCallResponse(call, response) => plugin
            .parse_place_call(call, response, now)
            .map(|answer| match answer {
                Ok(id) => json!({"provider_call_id": id}),
                Err(error) => json!({"error": provider_error_json(&error)}),
            }),
        AdapterInput::StatusPollResponse(id, response) => plugin
            .parse_status_poll(id, response, now)
            .map(|answer| match answer {
                Ok(event) => json!({"event": event_json(&event)}),
                Err(error) => json!({"error": provider_error_json(&error)}),
            }),
    };
    answered.unwrap_or_else(|err| case::fault_json(&err))
}
