//! Places calls through Twilio's Programmable Voice REST API and reads its
//! status callbacks, as publicly documented:
//!
//! - create call: `POST /2010-04-01/Accounts/{AccountSid}/Calls.json`, a
//!   form body (`To`, `From`, `Url` or `Twiml`, `StatusCallback`,
//!   `StatusCallbackEvent`, `MachineDetection`), basic auth with the
//!   account SID and auth token;
//! - status callbacks: form-encoded `CallSid`, `CallStatus`, `CallDuration`,
//!   `AnsweredBy`, `SipResponseCode`, signed in `X-Twilio-Signature`
//!   (HMAC-SHA1 with the auth token over the full URL followed by every
//!   form parameter, sorted by name, as name then value; base64);
//! - fetch call: `GET /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`.
//!
//! The attempt id travels in the status callback URL's query
//! (`attempt_id=...`), so every callback names the attempt it is about.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use outdial_sdk::prelude::*;
use outdial_sdk::provider::{
    CallEvent, CallRequest, CallState, HttpRequest, HttpResponse, InboundWebhook, ProviderError,
    WebhookError,
};

/// Where Twilio's REST API lives.
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";
/// The query parameter of the status callback URL that carries the attempt id.
pub const ATTEMPT_PARAM: &str = "attempt_id";
/// The largest status callback body read.
const MAX_CALLBACK_BYTES: usize = 64 * 1024;
/// Wait before retrying a throttled request when Twilio does not say.
const DEFAULT_RETRY_AFTER_MS: u64 = 1_000;
/// Twilio error codes that mean the destination number is unusable.
const INVALID_NUMBER_CODES: [u64; 6] = [21211, 21214, 21217, 21215, 13223, 13224];

/// The Twilio adapter, configured.
#[derive(Debug, Clone, PartialEq)]
pub struct Twilio {
    account_sid: String,
    auth_token: String,
    api_base: String,
    answer: Answer,
    machine_detection: Option<String>,
    ring_timeout_s: Option<u32>,
}

/// What Twilio runs when the call is answered.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    /// Fetch TwiML from this URL.
    Url(String),
    /// These TwiML instructions.
    Twiml(String),
}

impl Plugin for Twilio {
    fn metadata() -> Metadata {
        Metadata::provider_adapter("provider-twilio", env!("CARGO_PKG_VERSION"))
            .key("account_sid", true, "Twilio account SID (AC...).")
            .key(
                "auth_token",
                true,
                "Twilio auth token: authenticates API requests and signs status callbacks. Give it as { env = \"VAR\" }.",
            )
            .key(
                "api_base",
                false,
                "Base URL of the REST API. Default: https://api.twilio.com.",
            )
            .key(
                "twiml_url",
                false,
                "URL Twilio fetches TwiML from when the call is answered; a call's parameters are added to its query. One of twiml_url or twiml is required.",
            )
            .key(
                "twiml",
                false,
                "TwiML instructions run when the call is answered, instead of twiml_url.",
            )
            .key(
                "machine_detection",
                false,
                "Answering machine detection: \"Enable\" or \"DetectMessageEnd\". Default: off.",
            )
            .key(
                "ring_timeout",
                false,
                "Seconds to let the phone ring before giving up (5 to 600). Default: Twilio's (60).",
            )
    }

    fn configure(config: &Config) -> Result<Self, PluginError> {
        let account_sid = config.required("account_sid")?.trim().to_string();
        if !account_sid.starts_with("AC") || account_sid.len() < 4 {
            return Err(PluginError::InvalidConfig(format!(
                "key \"account_sid\" has value \"{account_sid}\": expected an account SID starting with \"AC\""
            )));
        }
        let auth_token = config.required("auth_token")?.to_string();
        if auth_token.is_empty() {
            return Err(PluginError::InvalidConfig(
                "key \"auth_token\" is empty, expected the account's auth token".to_string(),
            ));
        }
        let api_base = config
            .get("api_base")
            .unwrap_or(DEFAULT_API_BASE)
            .trim_end_matches('/')
            .to_string();
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(PluginError::InvalidConfig(format!(
                "key \"api_base\" has value \"{api_base}\": expected an http or https URL"
            )));
        }
        let answer = match (config.get("twiml_url"), config.get("twiml")) {
            (Some(url), None) => Answer::Url(url.to_string()),
            (None, Some(twiml)) => Answer::Twiml(twiml.to_string()),
            (Some(_), Some(_)) => {
                return Err(PluginError::InvalidConfig(
                    "keys \"twiml_url\" and \"twiml\" are both set, expected one of them"
                        .to_string(),
                ));
            }
            (None, None) => {
                return Err(PluginError::InvalidConfig(
                    "neither \"twiml_url\" nor \"twiml\" is set, expected one: what the call does when answered"
                        .to_string(),
                ));
            }
        };
        let machine_detection = match config.get("machine_detection") {
            None => None,
            Some(mode @ ("Enable" | "DetectMessageEnd")) => Some(mode.to_string()),
            Some(other) => {
                return Err(PluginError::InvalidConfig(format!(
                    "key \"machine_detection\" has value \"{other}\": expected \"Enable\" or \"DetectMessageEnd\""
                )));
            }
        };
        let ring_timeout_s = match config.get("ring_timeout") {
            None => None,
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(seconds) if (5..=600).contains(&seconds) => Some(seconds),
                _ => {
                    return Err(PluginError::InvalidConfig(format!(
                        "key \"ring_timeout\" has value \"{raw}\": expected whole seconds from 5 to 600"
                    )));
                }
            },
        };
        Ok(Twilio {
            account_sid,
            auth_token,
            api_base,
            answer,
            machine_detection,
            ring_timeout_s,
        })
    }
}

impl ProviderAdapter for Twilio {
    fn build_place_call(&self, call: &CallRequest) -> Result<HttpRequest, ProviderError> {
        if !is_e164(&call.to) {
            return Err(ProviderError::InvalidNumber(format!(
                "\"{}\" is not an E.164 number (\"+\", a country code and 6 to 14 more digits)",
                call.to
            )));
        }
        let callback = with_query(&call.callback_url, &[(ATTEMPT_PARAM, &call.attempt_id)]);
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("To", &call.to);
        form.append_pair("From", &call.caller);
        match &self.answer {
            Answer::Url(url) => {
                let extra: Vec<(&str, &str)> = call
                    .parameters
                    .iter()
                    .map(|(key, value)| (key.as_str(), value.as_str()))
                    .collect();
                form.append_pair("Url", &with_query(url, &extra));
            }
            Answer::Twiml(twiml) => {
                form.append_pair("Twiml", twiml);
            }
        }
        form.append_pair("StatusCallback", &callback);
        form.append_pair("StatusCallbackMethod", "POST");
        for event in ["initiated", "ringing", "answered", "completed"] {
            form.append_pair("StatusCallbackEvent", event);
        }
        if let Some(mode) = &self.machine_detection {
            form.append_pair("MachineDetection", mode);
        }
        if let Some(seconds) = self.ring_timeout_s {
            form.append_pair("Timeout", &seconds.to_string());
        }
        Ok(HttpRequest {
            method: "POST".to_string(),
            url: format!(
                "{}/2010-04-01/Accounts/{}/Calls.json",
                self.api_base, self.account_sid
            ),
            headers: vec![
                ("Authorization".to_string(), self.basic_auth()),
                (
                    "Content-Type".to_string(),
                    "application/x-www-form-urlencoded".to_string(),
                ),
                ("Accept".to_string(), "application/json".to_string()),
            ],
            body: form.finish().into_bytes(),
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
        let body = json_object(&response.body).map_err(ProviderError::Permanent)?;
        match body.get("sid").and_then(|sid| sid.as_str()) {
            Some(sid) if !sid.is_empty() => Ok(sid.to_string()),
            _ => Err(ProviderError::Permanent(
                "Twilio accepted the call but its answer has no \"sid\"".to_string(),
            )),
        }
    }

    fn parse_webhook(&self, webhook: &InboundWebhook) -> Result<Vec<CallEvent>, WebhookError> {
        // A status callback is a few hundred bytes; anything far larger is
        // not Twilio's, and checking its signature would only burn CPU.
        if webhook.body.len() > MAX_CALLBACK_BYTES {
            return Err(WebhookError::Malformed(format!(
                "the callback body is {} bytes, more than the {MAX_CALLBACK_BYTES} a status callback can be",
                webhook.body.len()
            )));
        }
        let signature = webhook.header("X-Twilio-Signature").ok_or_else(|| {
            WebhookError::BadSignature("the X-Twilio-Signature header is missing".to_string())
        })?;
        let params: Vec<(String, String)> = form_urlencoded::parse(&webhook.body)
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        let verified = signed_urls(&webhook.url)
            .iter()
            .any(|url| verify_signature(&self.auth_token, url, &params, signature));
        if !verified {
            return Err(WebhookError::BadSignature(
                "X-Twilio-Signature does not match the URL and parameters".to_string(),
            ));
        }
        let param = |name: &str| {
            params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        if let Some(account) = param("AccountSid")
            && account != self.account_sid
        {
            return Err(WebhookError::Malformed(format!(
                "the callback is for account \"{account}\", not this campaign's"
            )));
        }
        let call_sid = param("CallSid")
            .filter(|sid| !sid.is_empty())
            .ok_or_else(|| WebhookError::Malformed("the callback has no CallSid".to_string()))?;
        let status = param("CallStatus")
            .ok_or_else(|| WebhookError::Malformed("the callback has no CallStatus".to_string()))?;
        let mut event = event_of(call_sid, status, param("CallDuration"), param("AnsweredBy"))
            .map_err(WebhookError::Malformed)?;
        event.attempt_id = query_param(&webhook.url, ATTEMPT_PARAM);
        if let Some(code) = param("SipResponseCode") {
            event.sip_code = Some(code.trim().parse().map_err(|_| {
                WebhookError::Malformed(format!("SipResponseCode \"{code}\" is not a number"))
            })?);
        }
        if let Some(error_code) = param("ErrorCode") {
            event
                .metadata
                .push(("twilio_error_code".to_string(), error_code.to_string()));
        }
        Ok(vec![event])
    }

    fn build_status_poll(&self, provider_call_id: &str) -> Option<HttpRequest> {
        Some(HttpRequest {
            method: "GET".to_string(),
            url: format!(
                "{}/2010-04-01/Accounts/{}/Calls/{}.json",
                self.api_base,
                self.account_sid,
                form_urlencoded::byte_serialize(provider_call_id.as_bytes()).collect::<String>()
            ),
            headers: vec![
                ("Authorization".to_string(), self.basic_auth()),
                ("Accept".to_string(), "application/json".to_string()),
            ],
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
        let body = json_object(&response.body).map_err(ProviderError::Permanent)?;
        let text = |name: &str| body.get(name).and_then(|value| value.as_str());
        let sid = text("sid").unwrap_or(provider_call_id);
        let status = text("status").ok_or_else(|| {
            ProviderError::Permanent(format!("the answer about call {sid} has no \"status\""))
        })?;
        let mut event = event_of(sid, status, text("duration"), text("answered_by"))
            .map_err(ProviderError::Permanent)?;
        // Twilio reports the price as a negative amount once the call is
        // billed, e.g. "-0.01500".
        if let Some(price) = text("price") {
            event.cost_micros = micros_of(price);
            if let Some(unit) = text("price_unit") {
                event
                    .metadata
                    .push(("price_unit".to_string(), unit.to_string()));
            }
        }
        Ok(event)
    }
}

impl Twilio {
    fn basic_auth(&self) -> String {
        let pair = format!("{}:{}", self.account_sid, self.auth_token);
        format!("Basic {}", BASE64.encode(pair))
    }
}

/// The `X-Twilio-Signature` of a request to `url` with form `params`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    BASE64.encode(mac_of(auth_token, url, params).finalize().into_bytes())
}

/// Whether `claimed` is the signature of `url` and `params`, compared in
/// constant time.
pub fn verify_signature(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    claimed: &str,
) -> bool {
    let Ok(claimed) = BASE64.decode(claimed.trim()) else {
        return false;
    };
    mac_of(auth_token, url, params)
        .verify_slice(&claimed)
        .is_ok()
}

fn mac_of(auth_token: &str, url: &str, params: &[(String, String)]) -> Hmac<sha1::Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(url.as_bytes());
    for (key, value) in sorted {
        mac.update(key.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The URLs Twilio may have signed for `url`: as received, and with a
/// default port added or removed (Twilio's own validators accept both).
fn signed_urls(url: &str) -> Vec<String> {
    let mut urls = vec![url.to_string()];
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        let Some(rest) = url.strip_prefix(scheme) else {
            continue;
        };
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        if let Some(host) = authority.strip_suffix(port) {
            urls.push(format!("{scheme}{host}{path}"));
        } else if !authority.contains(':') {
            urls.push(format!("{scheme}{authority}{port}{path}"));
        }
    }
    urls
}

/// A normalized event from Twilio's call status and its details.
fn event_of(
    call_sid: &str,
    status: &str,
    duration_s: Option<&str>,
    answered_by: Option<&str>,
) -> Result<CallEvent, String> {
    let (state, outcome) = match status {
        "queued" | "initiated" => (CallState::Queued, None),
        "ringing" => (CallState::Ringing, None),
        "in-progress" => (CallState::InProgress, None),
        "completed" => (CallState::Ended, Some(CallOutcome::Answered)),
        "busy" => (CallState::Ended, Some(CallOutcome::Busy)),
        "no-answer" => (CallState::Ended, Some(CallOutcome::NoAnswer)),
        "failed" => (CallState::Ended, Some(CallOutcome::Failed)),
        "canceled" => (CallState::Ended, Some(CallOutcome::Canceled)),
        other => {
            return Err(format!(
                "call status \"{other}\" is not one Twilio documents"
            ));
        }
    };
    let talk_ms = match (state, duration_s) {
        (CallState::Ended, Some(raw)) if outcome == Some(CallOutcome::Answered) => {
            let seconds: u64 = raw
                .trim()
                .parse()
                .map_err(|_| format!("call duration \"{raw}\" is not whole seconds"))?;
            Some(seconds * 1_000)
        }
        (CallState::Ended, _) => Some(0),
        _ => None,
    };
    let machine_detection = match answered_by {
        None | Some("") => MachineDetection::NotRun,
        Some("human") => MachineDetection::Human,
        Some("fax") => MachineDetection::Fax,
        Some(machine) if machine.starts_with("machine") => MachineDetection::Machine,
        Some(_) => MachineDetection::Unknown,
    };
    let mut metadata = vec![("twilio_status".to_string(), status.to_string())];
    if let Some(by) = answered_by.filter(|by| !by.is_empty()) {
        metadata.push(("answered_by".to_string(), by.to_string()));
    }
    Ok(CallEvent {
        provider_call_id: call_sid.to_string(),
        attempt_id: None,
        state,
        at: None,
        outcome,
        sip_code: None,
        talk_ms,
        machine_detection,
        transcript: None,
        cost_micros: None,
        metadata,
    })
}

/// The typed error of a refused request, from its status and Twilio's
/// JSON error body (`code`, `message`).
fn error_of(response: &HttpResponse) -> ProviderError {
    let body = json_object(&response.body).unwrap_or_default();
    let code = body.get("code").and_then(|code| code.as_u64());
    let message = body
        .get("message")
        .and_then(|message| message.as_str())
        .map_or_else(
            || format!("Twilio answered HTTP {}", response.status),
            |message| match code {
                Some(code) => format!("Twilio error {code}: {message}"),
                None => format!("Twilio: {message}"),
            },
        );
    match response.status {
        429 => ProviderError::Throttled(retry_after_ms(response)),
        401 | 403 => ProviderError::Auth(message),
        _ if code.is_some_and(|code| INVALID_NUMBER_CODES.contains(&code)) => {
            ProviderError::InvalidNumber(message)
        }
        408 | 500..=599 => ProviderError::Transient(message),
        _ => ProviderError::Permanent(message),
    }
}

/// `Retry-After` in milliseconds (it counts seconds), or a default.
fn retry_after_ms(response: &HttpResponse) -> u64 {
    response
        .header("Retry-After")
        .and_then(|raw| raw.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .map_or(DEFAULT_RETRY_AFTER_MS, |seconds| {
            ((seconds * 1_000.0) as u64).max(1)
        })
}

fn json_object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err("Twilio's answer is JSON but not an object".to_string()),
        Err(err) => Err(format!("Twilio's answer is not JSON: {err}")),
    }
}

/// "-0.01500" → 15000 millionths.
fn micros_of(price: &str) -> Option<u64> {
    let price = price.trim().trim_start_matches('-');
    let (whole, fraction) = price.split_once('.').unwrap_or((price, ""));
    let whole: u64 = whole.parse().ok()?;
    let mut digits: String = fraction.chars().take(6).collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    while digits.len() < 6 {
        digits.push('0');
    }
    Some(whole * 1_000_000 + digits.parse::<u64>().ok()?)
}

/// `url` with `pairs` appended to its query.
fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return url.to_string();
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        query.append_pair(key, value);
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", query.finish())
}

/// The value of query parameter `name` in `url`.
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

outdial_sdk::export_provider_adapter!(Twilio);

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
