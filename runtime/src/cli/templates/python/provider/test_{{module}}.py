import hashlib
import hmac
import json

import pytest

from outdial_plugin import Config, InvalidConfig
from outdial_plugin.provider import (
    Auth,
    BadSignature,
    CallRequest,
    CallState,
    HttpResponse,
    InboundWebhook,
    InvalidNumber,
    Malformed,
    Permanent,
    Throttled,
    Transient,
)
from outdial_plugin import CallOutcome, MachineDetection
from {{module}} import {{type}}

CONFIG = {"base_url": "https://api.provider.example/v1/", "api_key": "test-key", "webhook_secret": "test-secret"}
plugin = {{type}}(Config.of(**CONFIG))

CALL = CallRequest(
    attempt_id="batch-1-contact-7-1",
    to="+4930123456",
    caller="+12125550199",
    callback_url="https://dialer.example.com/v1/webhooks/providers/renewals",
    parameters=[("script", "welcome-v2")],
)


def response(status: int, body: str, headers=()) -> HttpResponse:
    return HttpResponse(status=status, headers=list(headers), body=body.encode())


def sign(body: str) -> str:
    return hmac.new(CONFIG["webhook_secret"].encode(), body.encode(), hashlib.sha256).hexdigest()


def webhook(body: str, signature=None) -> InboundWebhook:
    """A webhook as the provider sends it, signed with the secret unless `signature` says otherwise."""
    headers = [] if signature == "" else [("X-Signature", signature or sign(body))]
    return InboundWebhook("POST", CALL.callback_url, headers, body.encode(), 1_772_463_600_000)


def test_it_places_a_call_with_a_bearer_token_the_attempt_id_as_idempotency_key_and_a_json_body():
    request = plugin.build_place_call(CALL)
    assert (request.method, request.url) == ("POST", "https://api.provider.example/v1/calls")
    assert request.headers == [
        ("Authorization", "Bearer test-key"),
        ("Content-Type", "application/json"),
        ("Idempotency-Key", "batch-1-contact-7-1"),
    ]
    assert json.loads(request.body) == {
        "to": "+4930123456",
        "from": "+12125550199",
        "status_callback": CALL.callback_url,
        "reference": "batch-1-contact-7-1",
        "parameters": {"script": "welcome-v2"},
    }


@pytest.mark.parametrize("to", ["", "4930123456", "+0123456789", "+49 30 123456", "+４９30123456"])
def test_it_refuses_a_number_that_is_not_e164_before_calling_the_provider(to):
    with pytest.raises(InvalidNumber):
        plugin.build_place_call(CallRequest(CALL.attempt_id, to, CALL.caller, CALL.callback_url, []))


def test_it_reads_the_call_id_and_a_refusal_as_its_typed_error():
    assert plugin.parse_place_call(CALL, response(201, '{"id": "call-42", "status": "queued"}')) == "call-42"
    with pytest.raises(Throttled) as throttled:
        plugin.parse_place_call(CALL, response(429, "{}", [("Retry-After", "3")]))
    assert throttled.value.retry_after_ms == 3000
    with pytest.raises(Auth):
        plugin.parse_place_call(CALL, response(401, "{}"))
    with pytest.raises(Transient):
        plugin.parse_place_call(CALL, response(503, ""))
    with pytest.raises(Permanent):
        plugin.parse_place_call(CALL, response(200, "null"))


def test_it_reads_a_signed_webhook_as_a_call_event():
    body = '{"id":"call-42","reference":"batch-1-contact-7-1","status":"completed","answered_by":"machine","duration":21}'
    (event,) = plugin.parse_webhook(webhook(body))
    assert event.provider_call_id == "call-42"
    assert event.attempt_id == "batch-1-contact-7-1"
    assert (event.state, event.outcome) == (CallState.ENDED, CallOutcome.ANSWERED)
    assert event.machine_detection == MachineDetection.MACHINE
    assert event.talk_ms == 21_000
    (ringing,) = plugin.parse_webhook(webhook('{"id":"call-42","status":"ringing"}'))
    assert (ringing.state, ringing.outcome, ringing.talk_ms) == (CallState.RINGING, None, None)


def test_it_refuses_a_webhook_whose_signature_is_wrong_or_missing():
    body = '{"id":"call-42","status":"busy"}'
    with pytest.raises(BadSignature):
        plugin.parse_webhook(webhook(body, signature=sign('{"id":"call-43","status":"busy"}')))
    with pytest.raises(BadSignature):
        plugin.parse_webhook(webhook(body, signature=""))
    with pytest.raises(Malformed):
        plugin.parse_webhook(webhook("not json"))
    with pytest.raises(Malformed):
        plugin.parse_webhook(webhook('{"id":"call-42","status":["busy"]}'))


def test_it_polls_a_calls_status_and_reads_the_answer():
    request = plugin.build_status_poll("call/42")
    assert (request.method, request.url) == ("GET", "https://api.provider.example/v1/calls/call%2F42")
    event = plugin.parse_status_poll("call-42", response(200, '{"id":"call-42","status":"no-answer"}'))
    assert (event.state, event.outcome, event.talk_ms) == (CallState.ENDED, CallOutcome.NO_ANSWER, 0)


def test_it_refuses_a_config_without_its_required_keys_or_with_a_bad_url():
    with pytest.raises(InvalidConfig, match='key "webhook_secret" is required'):
        {{type}}(Config.of(base_url=CONFIG["base_url"], api_key="k"))
    with pytest.raises(InvalidConfig, match='key "base_url"'):
        {{type}}(Config.of(**{**CONFIG, "base_url": "api.provider.example"}))
