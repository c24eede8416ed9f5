"""Write outdial policy plugins in Python.

A plugin is a class that subclasses `RetryStrategy`, `Classifier` or
`ProviderAdapter`, sets `metadata` and reads its config in `__init__`:

    from outdial_plugin import Config, GiveUp, Metadata, RetryAt, RetryStrategy, MINUTE_MS

    class TenMinutes(RetryStrategy):
        metadata = Metadata.retry_strategy("ten-minutes", "0.1.0")

        def decide(self, input):
            if input.attempts_exhausted():
                return GiveUp("done")
            return RetryAt(input.now + 10 * MINUTE_MS)

`python -m outdial_plugin.build my_plugin.py --kind retry -o plugin.wasm`
makes the component; the logic is plain Python, so pytest exercises it
natively.

Names are loaded on first use: a retry strategy's component carries only
the bindings of its own world, so importing this package must not load the
other kinds' modules.
"""

from typing import TYPE_CHECKING

from .duration import DAY_MS, DURATION_EXPECTED, HOUR_MS, MINUTE_MS, SECOND_MS, duration_ms, parse_duration_ms

# Each public name and the module that defines it.
_LAZY = {
    "Config": "config",
    "in_range": "config",
    "PluginError": "errors",
    "InvalidConfig": "errors",
    "InvalidInput": "errors",
    "Internal": "errors",
    "Metadata": "metadata",
    "PluginKind": "metadata",
    "RetryStrategy": "retry",
    "RetryInput": "retry",
    "Decision": "retry",
    "RetryAt": "retry",
    "FollowUpAt": "retry",
    "GiveUp": "retry",
    "LocalTime": "retry",
    "PolicyLimits": "retry",
    "AttemptOutline": "retry",
    "DispositionOutline": "retry",
    "CallOutcome": "shared",
    "MachineDetection": "shared",
    "Contact": "shared",
    "Attempt": "shared",
    "Disposition": "shared",
    "LabelledAttempt": "shared",
    "outcome_group": "retry",
    "OUTCOME_GROUPS": "retry",
    "unit_interval": "retry",
    "Classifier": "classifier",
    "disposition": "classifier",
    "ProviderAdapter": "provider",
}

__all__ = sorted(
    [*_LAZY, "DAY_MS", "DURATION_EXPECTED", "HOUR_MS", "MINUTE_MS", "SECOND_MS", "duration_ms", "parse_duration_ms"]
)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'outdial_plugin' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from . import log
    from .classifier import Classifier, disposition
    from .config import Config, in_range
    from .errors import Internal, InvalidConfig, InvalidInput, PluginError
    from .metadata import Metadata, PluginKind
    from .provider import ProviderAdapter
    from .retry import (
        OUTCOME_GROUPS,
        AttemptOutline,
        Decision,
        DispositionOutline,
        FollowUpAt,
        GiveUp,
        LocalTime,
        PolicyLimits,
        RetryAt,
        RetryInput,
        RetryStrategy,
        outcome_group,
        unit_interval,
    )
    from .shared import Attempt, CallOutcome, Contact, Disposition, LabelledAttempt, MachineDetection
