"""{{name}}: a provider adapter for a JSON call API. It builds the requests
the host sends and reads what comes back; it does no I/O itself.

The wire shape, to adapt to your provider's:
- place a call: POST {base_url}/calls with a bearer token and
  {to, from, status_callback, reference, parameters}, answered with {id};
- webhooks: the call object {id, reference, status, answered_by, duration,
  sip_code}, signed in X-Signature: the hex HMAC-SHA256 of the body under
  webhook_secret;
- status poll: GET {base_url}/calls/{id}, answered with the call object.
"""

import hashlib
import hmac
import json
import math
import re
from typing import Callable, List, Optional
from urllib.parse import quote

from outdial_plugin import CallOutcome, Config, InvalidConfig, MachineDetection, Metadata, ProviderAdapter
from outdial_plugin.provider import (
    Auth,
    BadSignature,
    CallEvent,
    CallRequest,
    CallState,
    HttpRequest,
    HttpResponse,
    InboundWebhook,
    InvalidNumber,
    Malformed,
    Permanent,
    Throttled,
    Transient,
    header,
)

SIGNATURE_HEADER = "X-Signature"

# E.164: "+", then 7 to 15 digits, the first not 0.
E164 = re.compile(r"\+[1-9][0-9]{6,14}")

# The provider's call statuses, as outdial's call states and outcomes.
STATES = {"queued": CallState.QUEUED, "ringing": CallState.RINGING, "in-progress": CallState.IN_PROGRESS}
OUTCOMES = {
    "completed": CallOutcome.ANSWERED,
    "busy": CallOutcome.BUSY,
    "no-answer": CallOutcome.NO_ANSWER,
    "failed": CallOutcome.FAILED,
    "canceled": CallOutcome.CANCELED,
}
DETECTIONS = {"human": MachineDetection.HUMAN, "machine": MachineDetection.MACHINE}


class {{type}}(ProviderAdapter):
    metadata = (
        Metadata.provider_adapter("{{name}}", "0.1.0")
        .key("base_url", "Base URL of the provider's API, e.g. https://api.provider.example/v1.", required=True)
        .key("api_key", 'Bearer token for the API. Give it as { env = "VAR" }.', required=True)
        .key(
            "webhook_secret",
            'Key the provider signs webhooks with (HMAC-SHA256). Give it as { env = "VAR" }.',
            required=True,
        )
    )

    def __init__(self, config: Config):
        self.base_url = config.required("base_url").strip().rstrip("/")
        if not re.match(r"https?://[^/]", self.base_url):
            raise InvalidConfig(f'key "base_url" has value "{self.base_url}": expected an http or https URL')
        self.authorization = f"Bearer {config.required('api_key')}"
        self.webhook_key = config.required("webhook_secret").encode()

    def build_place_call(self, call: CallRequest) -> HttpRequest:
        if not E164.fullmatch(call.to):
            raise InvalidNumber(f'"{call.to}" is not an E.164 number')
        body = {
            "to": call.to,
            "from": call.caller,
            "status_callback": call.callback_url,
            "reference": call.attempt_id,
            "parameters": dict(call.parameters),
        }
        headers = [
            ("Authorization", self.authorization),
            ("Content-Type", "application/json"),
            # The attempt id keeps a resent request from placing a second call.
            ("Idempotency-Key", call.attempt_id),
        ]
        return HttpRequest("POST", f"{self.base_url}/calls", headers, json.dumps(body).encode())

    def parse_place_call(self, call: CallRequest, response: HttpResponse) -> str:
        answer = read_response(response)
        call_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(call_id, str) or not call_id:
            raise Permanent('the provider accepted the call but its answer has no "id"')
        return call_id

    def parse_webhook(self, webhook: InboundWebhook) -> List[CallEvent]:
        # Verify before reading: a body without the right signature is not the provider's.
        signature = header(webhook.headers, SIGNATURE_HEADER)
        if signature is None:
            raise BadSignature(f"the {SIGNATURE_HEADER} header is missing")
        expected = hmac.new(self.webhook_key, webhook.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
            raise BadSignature(f"{SIGNATURE_HEADER} does not match the body")
        try:
            call = json.loads(webhook.body)
        except ValueError:
            raise Malformed("the body is not JSON") from None
        return [event_of(call, Malformed)]

    def build_status_poll(self, provider_call_id: str) -> Optional[HttpRequest]:
        url = f"{self.base_url}/calls/{quote(provider_call_id, safe='')}"
        return HttpRequest("GET", url, [("Authorization", self.authorization)], b"")

    def parse_status_poll(self, provider_call_id: str, response: HttpResponse) -> CallEvent:
        return event_of(read_response(response), Permanent)


def read_response(response: HttpResponse):
    """The JSON of a successful answer, or the typed error of a refused one."""
    status = response.status
    if status == 429:
        # Retry-After in seconds; a second when it is missing or a date, an hour at most.
        seconds = (header(response.headers, "Retry-After") or "").strip()
        raise Throttled(min(int(seconds), 3600) * 1000 if seconds.isdecimal() else 1000)
    if status in (401, 403):
        raise Auth(f"the provider answered HTTP {status}")
    if status == 408 or status >= 500:
        raise Transient(f"the provider answered HTTP {status}")
    if not 200 <= status <= 299:
        raise Permanent(f"the provider answered HTTP {status}")
    try:
        return json.loads(response.body)
    except ValueError:
        raise Permanent("the provider's answer is not JSON") from None


def event_of(call, refusal: Callable[[str], Exception]) -> CallEvent:
    """The call object that webhooks and status polls carry, as a call event;
    `refusal(message)` makes the error for one that cannot be read."""
    if not isinstance(call, dict) or not isinstance(call.get("id"), str) or not call["id"]:
        raise refusal('the call has no "id"')
    status = call.get("status")
    if not isinstance(status, str) or (status not in OUTCOMES and status not in STATES):
        raise refusal(f"call status {json.dumps(status)} is not understood")
    outcome = OUTCOMES.get(status)
    answered = outcome == CallOutcome.ANSWERED
    duration = call.get("duration")
    # Seconds as milliseconds; a day at most, which no call lasts.
    talk_ms = 0
    if answered and isinstance(duration, (int, float)) and math.isfinite(duration) and 0 < duration <= 86_400:
        talk_ms = round(duration * 1000)
    detection = MachineDetection.NOT_RUN
    if answered:
        detection = DETECTIONS.get(str(call.get("answered_by")), MachineDetection.NOT_RUN)
    sip_code = call.get("sip_code")
    reference = call.get("reference")
    return CallEvent(
        provider_call_id=call["id"],
        attempt_id=reference if isinstance(reference, str) else None,
        state=STATES.get(status, CallState.ENDED),
        at=None,
        outcome=outcome,
        sip_code=sip_code if isinstance(sip_code, int) and 100 <= sip_code <= 699 else None,
        # Talk time is known once the call has ended.
        talk_ms=None if outcome is None else talk_ms,
        machine_detection=detection,
        transcript=None,
        cost_micros=None,
        metadata=[("status", status)],
    )
