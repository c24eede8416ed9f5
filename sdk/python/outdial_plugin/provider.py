"""Provider adapters: speak a provider's HTTP API without doing I/O.

An adapter builds the requests the host sends (within the campaign's
egress allow-list) and reads the responses and webhooks the host hands
back. It refuses with the exceptions below, which reach the host as the
WIT's `provider-error` and `webhook-error` cases.
"""

from typing import ClassVar, List, Optional, Sequence, Tuple

from outdial_wit.exports import provider as wit_provider

from .config import Config
from .metadata import Metadata

HttpRequest = wit_provider.HttpRequest
HttpResponse = wit_provider.HttpResponse
CallRequest = wit_provider.CallRequest
CallEvent = wit_provider.CallEvent
CallState = wit_provider.CallState
InboundWebhook = wit_provider.InboundWebhook


class ProviderError(Exception):
    """Why the provider did not accept or answer a request."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_wit(self) -> wit_provider.ProviderError:
        return wit_provider.ProviderError_Permanent(self.message)


class Throttled(ProviderError):
    """Slow down; try again after `retry_after_ms`."""

    def __init__(self, retry_after_ms: int):
        super().__init__(f"throttled for {retry_after_ms} ms")
        self.retry_after_ms = retry_after_ms

    def to_wit(self) -> wit_provider.ProviderError:
        return wit_provider.ProviderError_Throttled(self.retry_after_ms)


class InvalidNumber(ProviderError):
    """The destination number is not valid; never retry it."""

    def to_wit(self) -> wit_provider.ProviderError:
        return wit_provider.ProviderError_InvalidNumber(self.message)


class Auth(ProviderError):
    """The credentials were refused."""

    def to_wit(self) -> wit_provider.ProviderError:
        return wit_provider.ProviderError_Auth(self.message)


class Transient(ProviderError):
    """A passing fault; the same request may succeed later."""

    def to_wit(self) -> wit_provider.ProviderError:
        return wit_provider.ProviderError_Transient(self.message)


class Permanent(ProviderError):
    """The request will never succeed."""


class WebhookError(Exception):
    """Why a webhook was refused."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_wit(self) -> wit_provider.WebhookError:
        return wit_provider.WebhookError_Malformed(self.message)


class BadSignature(WebhookError):
    """The signature is missing, wrong or too old."""

    def to_wit(self) -> wit_provider.WebhookError:
        return wit_provider.WebhookError_BadSignature(self.message)


class Malformed(WebhookError):
    """The body could not be understood."""


def header(headers: Sequence[Tuple[str, str]], name: str) -> Optional[str]:
    """The value of header `name` in `headers`, compared case-insensitively."""
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


class ProviderAdapter:
    """Base of a provider adapter: set `metadata`, read the config in
    `__init__` and implement the three required methods; status polling is
    optional."""

    metadata: ClassVar[Metadata]

    def __init__(self, config: Config):
        pass

    def build_place_call(self, call: CallRequest) -> HttpRequest:
        """Build the request that places `call`."""
        raise NotImplementedError(f"{type(self).__name__}.build_place_call")

    def parse_place_call(self, call: CallRequest, response: HttpResponse) -> str:
        """Read the provider's answer to the place-call request: its call id."""
        raise NotImplementedError(f"{type(self).__name__}.parse_place_call")

    def parse_webhook(self, webhook: InboundWebhook) -> List[CallEvent]:
        """Verify the signature of a status webhook and read its events."""
        raise NotImplementedError(f"{type(self).__name__}.parse_webhook")

    def build_status_poll(self, provider_call_id: str) -> Optional[HttpRequest]:
        """A request for a call's current state; None when the provider has no such API."""
        return None

    def parse_status_poll(self, provider_call_id: str, response: HttpResponse) -> CallEvent:
        """Read the answer to a status poll."""
        raise Permanent("this adapter cannot poll call status")
