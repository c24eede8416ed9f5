"""The component's side of the WIT: the classes componentize-py exports,
serving the author's plugin class. Imported only by the entry module the
build command generates; native tests never need it."""

import sys
import traceback
from typing import Any, Callable, Optional, TypeVar

from componentize_py_types import Err
from outdial_wit.imports import host

from .config import Config
from .errors import PluginError

R = TypeVar("R")

# The configured plugin: components are single-threaded instances, and the
# host configures each once before any other call but `describe`.
_configured: Optional[Any] = None
# Output is forwarded to the host's log only while the host is calling in:
# at build time (pre-initialisation) there is no host to write to.
_serving = False


class _HostLogWriter:
    """Stands in for stdout/stderr, which `--stub-wasi` turns into traps:
    each line written reaches the host's log instead."""

    def __init__(self, level: "host.LogLevel"):
        self._level = level
        self._pending = ""

    def write(self, text: str) -> int:
        if not _serving:
            return len(text)
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            host.log(self._level, line)
        return len(text)

    def flush(self) -> None:
        if _serving and self._pending:
            host.log(self._level, self._pending)
            self._pending = ""

    def isatty(self) -> bool:
        return False


if sys.platform == "wasi":
    sys.stdout = _HostLogWriter(host.LogLevel.INFO)
    sys.stderr = _HostLogWriter(host.LogLevel.WARN)


def _serve(call: Callable[[], R], refusal: type = PluginError) -> R:
    """Run one call from the host: a refusal becomes the WIT error it maps
    to; any other exception is reported to the host as a panic and traps
    the instance, so the host drops it."""
    global _serving
    _serving = True
    try:
        return call()
    except refusal as err:
        raise Err(err.to_wit())  # type: ignore[attr-defined]
    except Err:
        raise
    except BaseException as err:
        host.report_panic(_describe_exception(err))
        raise
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        _serving = False


def _describe_exception(err: BaseException) -> str:
    """The exception and where it was raised, one frame a line. Not
    `traceback.format_exc()`: that reads the source lines from files, and a
    component's file system is a trapping stub."""
    frames = [
        f'  File "{frame.f_code.co_filename}", line {line}, in {frame.f_code.co_name}'
        for frame, line in traceback.walk_tb(err.__traceback__)
    ]
    return "\n".join(["Traceback (most recent call last):", *frames, f"{type(err).__name__}: {err}"])


def _configure(plugin_class: type, config: Any) -> None:
    global _configured
    _configured = None
    _configured = plugin_class(Config(config))


def _plugin() -> Any:
    if _configured is None:
        raise RuntimeError("plugin called before `configure` succeeded")
    return _configured


def retry_export(plugin_class: type) -> type:
    """The `Retry` class of the retry-strategy world, serving `plugin_class`."""
    from .retry import RetryInput

    class Retry:
        def describe(self):
            return _serve(lambda: plugin_class.metadata.to_wit())

        def configure(self, config):
            _serve(lambda: _configure(plugin_class, config))

        def decide(self, input):
            return _serve(lambda: _plugin().decide(RetryInput.from_host(input)))

    return Retry


def classifier_export(plugin_class: type) -> type:
    """The `Classifier` class of the disposition-classifier world."""

    class Classifier:
        def describe(self):
            return _serve(lambda: plugin_class.metadata.to_wit())

        def configure(self, config):
            _serve(lambda: _configure(plugin_class, config))

        def classify(self, contact, attempt, previous):
            return _serve(lambda: _plugin().classify(contact, attempt, previous))

    return Classifier


def provider_export(plugin_class: type) -> type:
    """The `Provider` class of the provider-adapter world."""
    from .provider import ProviderError, WebhookError

    class Provider:
        def describe(self):
            return _serve(lambda: plugin_class.metadata.to_wit())

        def configure(self, config):
            _serve(lambda: _configure(plugin_class, config))

        def build_place_call(self, call):
            return _serve(lambda: _plugin().build_place_call(call), ProviderError)

        def parse_place_call(self, call, response):
            return _serve(lambda: _plugin().parse_place_call(call, response), ProviderError)

        def parse_webhook(self, webhook):
            return _serve(lambda: _plugin().parse_webhook(webhook), WebhookError)

        def build_status_poll(self, provider_call_id):
            return _serve(lambda: _plugin().build_status_poll(provider_call_id))

        def parse_status_poll(self, provider_call_id, response):
            return _serve(lambda: _plugin().parse_status_poll(provider_call_id, response), ProviderError)

    return Provider
