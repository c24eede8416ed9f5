//! Places calls through a voice-AI platform: an AI assistant (agent) makes
//! the call, and the platform reports its end with the transcript, a
//! summary, the cost and the reason it ended.
//!
//! The wire shape, common to such platforms:
//!
//! - create call: `POST {api_base}/call` with a bearer token and a JSON body
//!   `{ assistantId, customer: { number }, phoneNumber: { number }, serverUrl,
//!   metadata: { attempt_id, ... }, assistantOverrides: { variableValues } }`,
//!   the attempt id also as the `Idempotency-Key` header; answered with
//!   `{ id, status }`;
//! - webhooks: JSON `{ type: "status-update" | "end-of-call-report", call:
//!   { id, metadata }, status, endedReason, transcript, summary, cost,
//!   durationSeconds }`, signed in `X-Signature: v1=<hex>`, an HMAC-SHA256
//!   over `"{timestamp}.{body}"` where the timestamp (Unix seconds) is the
//!   `X-Signature-Timestamp` header; a timestamp outside the tolerance
//!   window is refused, so a captured webhook cannot be replayed later;
//! - fetch call: `GET {api_base}/call/{id}`, answered with the call object.

use hmac::{Hmac, Mac};
use outdial_sdk::prelude::*;
use outdial_sdk::provider::{
    CallEvent, CallRequest, CallState, HttpRequest, HttpResponse, InboundWebhook, ProviderError,
    WebhookError,
};
use serde_json::{Map, Value, json};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Signature";
/// The header carrying the signing time, Unix seconds.
pub const TIMESTAMP_HEADER: &str = "X-Signature-Timestamp";
/// Wait before retrying a throttled request when the platform does not say.
const DEFAULT_RETRY_AFTER_MS: u64 = 1_000;

/// The voice-AI adapter, configured.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceAi {
    api_base: String,
    api_key: String,
    assistant_id: String,
    webhook_secret: String,
    tolerance_ms: i64,
}

impl Plugin for VoiceAi {
    fn metadata() -> Metadata {
        Metadata::provider_adapter("provider-voiceai", env!("CARGO_PKG_VERSION"))
            .key(
                "api_base",
                true,
                "Base URL of the platform's API, e.g. https://api.voice.example.",
            )
            .key(
                "api_key",
                true,
                "Bearer token of the platform's API. Give it as { env = \"VAR\" }.",
            )
            .key(
                "assistant_id",
                true,
                "The assistant (agent) that makes the calls; a call's \"assistant_id\" parameter overrides it.",
            )
            .key(
                "webhook_secret",
                true,
                "Secret the platform signs webhooks with (HMAC-SHA256). Give it as { env = \"VAR\" }.",
            )
            .key(
                "signature_tolerance",
                false,
                "How far a webhook's signing time may be from its arrival, e.g. \"5m\". Default: 5m.",
            )
    }

    fn configure(config: &Config) -> Result<Self, PluginError> {
        let api_base = config
            .required("api_base")?
            .trim()
            .trim_end_matches('/')
            .to_string();
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(PluginError::InvalidConfig(format!(
                "key \"api_base\" has value \"{api_base}\": expected an http or https URL"
            )));
        }
        let non_empty = |key: &str| -> Result<String, PluginError> {
            let value = config.required(key)?;
            if value.trim().is_empty() {
                return Err(PluginError::InvalidConfig(format!(
                    "key \"{key}\" is empty"
                )));
            }
            Ok(value.to_string())
        };
        let tolerance_ms = config.duration_ms_or("signature_tolerance", 5 * MINUTE_MS)?;
        if tolerance_ms <= 0 {
            return Err(PluginError::InvalidConfig(
                "key \"signature_tolerance\" must be longer than zero".to_string(),
            ));
        }
        Ok(VoiceAi {
            api_base,
            api_key: non_empty("api_key")?,
            assistant_id: non_empty("assistant_id")?,
            webhook_secret: non_empty("webhook_secret")?,
            tolerance_ms,
        })
    }
}

impl ProviderAdapter for VoiceAi {
    fn build_place_call(&self, call: &CallRequest) -> Result<HttpRequest, ProviderError> {
        if !is_e164(&call.to) {
            return Err(ProviderError::InvalidNumber(format!(
                "\"{}\" is not an E.164 number (\"+\", a country code and 6 to 14 more digits)",
                call.to
            )));
        }
        let mut assistant_id = self.assistant_id.as_str();
        let mut metadata = Map::new();
        metadata.insert("attempt_id".to_string(), json!(call.attempt_id));
        let mut variables = Map::new();
        for (key, value) in &call.parameters {
            if key == "assistant_id" || key == "agent_id" {
                assistant_id = value;
            } else {
                variables.insert(key.clone(), json!(value));
            }
        }
        let body = json!({
            "assistantId": assistant_id,
            "customer": { "number": call.to },
            "phoneNumber": { "number": call.caller },
            "serverUrl": call.callback_url,
            "metadata": metadata,
            "assistantOverrides": { "variableValues": variables },
        });
        Ok(HttpRequest {
            method: "POST".to_string(),
            url: format!("{}/call", self.api_base),
            headers: vec![
                ("Authorization".to_string(), self.bearer()),
                ("Content-Type".to_string(), "application/json".to_string()),
                ("Idempotency-Key".to_string(), call.attempt_id.clone()),
            ],
            body: body.to_string().into_bytes(),
        })
    }

    fn parse_place_call(
        &self,
        _call: &CallRequest,
        response: &HttpResponse,
    ) -> Result<String, ProviderError> {
        if !(200..300).contains(&response.status) {
            return Err(error_of(response));
        }
        let body = object_of(&response.body).map_err(ProviderError::Permanent)?;
        match body.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => Ok(id.to_string()),
            _ => Err(ProviderError::Permanent(
                "the platform accepted the call but its answer has no \"id\"".to_string(),
            )),
        }
    }

    fn parse_webhook(&self, webhook: &InboundWebhook) -> Result<Vec<CallEvent>, WebhookError> {
        let missing =
            |name: &str| WebhookError::BadSignature(format!("the {name} header is missing"));
        let signature = webhook
            .header(SIGNATURE_HEADER)
            .ok_or_else(|| missing(SIGNATURE_HEADER))?;
        let timestamp = webhook
            .header(TIMESTAMP_HEADER)
            .ok_or_else(|| missing(TIMESTAMP_HEADER))?;
        let signed_at_s: i64 = timestamp.trim().parse().map_err(|_| {
            WebhookError::BadSignature(format!(
                "{TIMESTAMP_HEADER} \"{timestamp}\" is not Unix seconds"
            ))
        })?;
        let skew_ms = (webhook.received_at - signed_at_s.saturating_mul(1_000)).abs();
        if skew_ms > self.tolerance_ms {
            return Err(WebhookError::BadSignature(format!(
                "signed {} s from its arrival, outside the {} s tolerance: a replay or a wrong clock",
                skew_ms / 1_000,
                self.tolerance_ms / 1_000
            )));
        }
        if !verify_signature(
            &self.webhook_secret,
            timestamp.trim(),
            &webhook.body,
            signature,
        ) {
            return Err(WebhookError::BadSignature(format!(
                "{SIGNATURE_HEADER} does not match the timestamp and body"
            )));
        }
        let body = object_of(&webhook.body).map_err(WebhookError::Malformed)?;
        let message = body
            .get("message")
            .and_then(Value::as_object)
            .unwrap_or(&body);
        let kind = message
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| WebhookError::Malformed("the webhook has no \"type\"".to_string()))?;
        let call = message
            .get("call")
            .and_then(Value::as_object)
            .ok_or_else(|| WebhookError::Malformed("the webhook has no \"call\"".to_string()))?;
        let status = match kind {
            "end-of-call-report" => "ended",
            "status-update" => message
                .get("status")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    WebhookError::Malformed("the status update has no \"status\"".to_string())
                })?,
            // Other message kinds (tool calls, transcripts in progress)
            // say nothing about the call's state.
            _ => return Ok(Vec::new()),
        };
        let mut event = event_of(call, message, status).map_err(WebhookError::Malformed)?;
        if event.attempt_id.is_none() {
            event.attempt_id = attempt_of(message);
        }
        Ok(vec![event])
    }

    fn build_status_poll(&self, provider_call_id: &str) -> Option<HttpRequest> {
        Some(HttpRequest {
            method: "GET".to_string(),
            url: format!(
                "{}/call/{}",
                self.api_base,
                form_urlencoded::byte_serialize(provider_call_id.as_bytes()).collect::<String>()
            ),
            headers: vec![("Authorization".to_string(), self.bearer())],
            body: Vec::new(),
        })
    }

    fn parse_status_poll(
        &self,
        provider_call_id: &str,
        response: &HttpResponse,
    ) -> Result<CallEvent, ProviderError> {
        if !(200..300).contains(&response.status) {
            return Err(error_of(response));
        }
        let body = object_of(&response.body).map_err(ProviderError::Permanent)?;
        let status = body.get("status").and_then(Value::as_str).ok_or_else(|| {
            ProviderError::Permanent(format!(
                "the answer about call {provider_call_id} has no \"status\""
            ))
        })?;
        event_of(&body, &body, status).map_err(ProviderError::Permanent)
    }
}

impl VoiceAi {
    fn bearer(&self) -> String {
        format!("Bearer {}", self.api_key)
    }
}

/// The `X-Signature` value for `body` signed at `timestamp` (Unix seconds).
pub fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let bytes = mac_of(secret, timestamp, body).finalize().into_bytes();
    format!("v1={}", hex(&bytes))
}

/// Whether `claimed` signs `body` at `timestamp`, compared in constant time.
pub fn verify_signature(secret: &str, timestamp: &str, body: &[u8], claimed: &str) -> bool {
    let Some(digest) = claimed.trim().strip_prefix("v1=").and_then(unhex) else {
        return false;
    };
    mac_of(secret, timestamp, body)
        .verify_slice(&digest)
        .is_ok()
}

fn mac_of(secret: &str, timestamp: &str, body: &[u8]) -> Hmac<sha2::Sha256> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

/// The attempt id the call was created with, from its metadata.
fn attempt_of(object: &Map<String, Value>) -> Option<String> {
    object
        .get("metadata")
        .and_then(|metadata| metadata.get("attempt_id"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A normalized event: `call` holds the id and metadata, `report` the
/// end-of-call fields (the same object for a fetched call).
fn event_of(
    call: &Map<String, Value>,
    report: &Map<String, Value>,
    status: &str,
) -> Result<CallEvent, String> {
    let id = call
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or("the call has no \"id\"")?;
    let text = |name: &str| report.get(name).and_then(Value::as_str);
    let mut event = CallEvent {
        provider_call_id: id.to_string(),
        attempt_id: attempt_of(call),
        state: CallState::Queued,
        at: None,
        outcome: None,
        sip_code: None,
        talk_ms: None,
        machine_detection: MachineDetection::NotRun,
        transcript: None,
        cost_micros: None,
        metadata: Vec::new(),
    };
    event.state = match status {
        "queued" | "scheduled" => CallState::Queued,
        "ringing" => CallState::Ringing,
        "in-progress" | "forwarding" => CallState::InProgress,
        "ended" => CallState::Ended,
        other => return Err(format!("call status \"{other}\" is not understood")),
    };
    if event.state != CallState::Ended {
        return Ok(event);
    }
    let reason = text("endedReason").unwrap_or("unknown");
    let (outcome, detection) = ending_of(reason);
    event.outcome = Some(outcome);
    event.machine_detection = detection;
    event.talk_ms = Some(match report.get("durationSeconds") {
        None | Some(Value::Null) => 0,
        Some(value) => {
            let seconds = value
                .as_f64()
                .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
                .ok_or_else(|| format!("durationSeconds {value} is not a duration"))?;
            if outcome == CallOutcome::Answered {
                (seconds * 1_000.0).round() as u64
            } else {
                0
            }
        }
    });
    event.transcript = text("transcript")
        .filter(|transcript| !transcript.is_empty())
        .map(str::to_string);
    event.cost_micros = match report.get("cost") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_f64()
                .filter(|cost| cost.is_finite() && *cost >= 0.0)
                .map(|cost| (cost * 1e6).round() as u64)
                .ok_or_else(|| format!("cost {value} is not an amount"))?,
        ),
    };
    event.sip_code = report
        .get("sipCode")
        .and_then(Value::as_u64)
        .and_then(|code| u16::try_from(code).ok());
    event
        .metadata
        .push(("ended_reason".to_string(), reason.to_string()));
    if let Some(summary) = text("summary") {
        event
            .metadata
            .push(("summary".to_string(), summary.to_string()));
    }
    Ok(event)
}

/// How a call ended and who answered, from the platform's ended reason.
fn ending_of(reason: &str) -> (CallOutcome, MachineDetection) {
    match reason {
        "customer-ended-call"
        | "assistant-ended-call"
        | "assistant-said-end-call-phrase"
        | "assistant-forwarded-call"
        | "exceeded-max-duration"
        | "silence-timed-out" => (CallOutcome::Answered, MachineDetection::Human),
        "voicemail" => (CallOutcome::Answered, MachineDetection::Machine),
        "call-screening" => (CallOutcome::Answered, MachineDetection::CallScreening),
        "customer-busy" => (CallOutcome::Busy, MachineDetection::NotRun),
        "customer-did-not-answer" => (CallOutcome::NoAnswer, MachineDetection::NotRun),
        "canceled" => (CallOutcome::Canceled, MachineDetection::NotRun),
        _ => (CallOutcome::Failed, MachineDetection::NotRun),
    }
}

/// The typed error of a refused request.
fn error_of(response: &HttpResponse) -> ProviderError {
    let body = object_of(&response.body).unwrap_or_default();
    let error = body.get("error").and_then(Value::as_object);
    let kind = error
        .and_then(|error| error.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let message = error
        .and_then(|error| error.get("message"))
        .or_else(|| body.get("message"))
        .and_then(Value::as_str)
        .map_or_else(
            || format!("the platform answered HTTP {}", response.status),
            |message| format!("the platform answered HTTP {}: {message}", response.status),
        );
    match response.status {
        429 => ProviderError::Throttled(retry_after_ms(response)),
        401 | 403 => ProviderError::Auth(message),
        _ if kind == "invalid_phone_number" => ProviderError::InvalidNumber(message),
        408 | 500..=599 => ProviderError::Transient(message),
        _ => ProviderError::Permanent(message),
    }
}

fn retry_after_ms(response: &HttpResponse) -> u64 {
    response
        .header("Retry-After")
        .and_then(|raw| raw.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .map_or(DEFAULT_RETRY_AFTER_MS, |seconds| {
            ((seconds * 1_000.0) as u64).max(1)
        })
}

fn object_of(body: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("the body is JSON but not an object".to_string()),
        Err(err) => Err(format!("the body is not JSON: {err}")),
    }
}

outdial_sdk::export_provider_adapter!(VoiceAi);

/// E.164: "+", then 7 to 15 digits, the first not 0. Anything else would be
/// refused by the provider after a round trip, or dialed as something else.
pub fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

#[cfg(test)]
mod tests;
