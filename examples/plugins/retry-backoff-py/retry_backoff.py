"""Exponential backoff with a base delay per outcome and deterministic
jitter seeded from the attempt id, so equal inputs give equal answers: the
first-party `retry-backoff` plugin, in Python, passing the same
conformance cases."""

from outdial_plugin import (
    HOUR_MS,
    MINUTE_MS,
    OUTCOME_GROUPS,
    Config,
    Decision,
    Metadata,
    RetryAt,
    RetryInput,
    RetryStrategy,
    in_range,
    outcome_group,
    unit_interval,
)

_BASE_DELAY_HELP = {
    "busy": "Base delay after a busy line. Default: base_delay.",
    "no_answer": "Base delay after no answer. Default: base_delay.",
    "voicemail": "Base delay after voicemail. Default: base_delay.",
    "call_screening": "Base delay after call screening. Default: base_delay.",
    "failed": "Base delay after a failed call. Default: base_delay.",
    "answered": "Base delay after a non-terminal answered call. Default: base_delay.",
}


def _metadata() -> Metadata:
    metadata = Metadata.retry_strategy("retry-backoff-py", "0.1.0").key(
        "base_delay", "Delay before the first retry. Default: 5m."
    )
    for group in OUTCOME_GROUPS:
        metadata.key(f"base_delay_{group}", _BASE_DELAY_HELP[group])
    return (
        metadata.key("multiplier", "Growth factor per further attempt. Default: 2.")
        .key("max_delay", "Upper bound of any delay. Default: 4h.")
        .key("jitter", "Random spread as a fraction of the delay, 0 to 1. Default: 0.2.")
    )


class Backoff(RetryStrategy):
    metadata = _metadata()

    def __init__(self, config: Config):
        base = config.duration_ms("base_delay", 5 * MINUTE_MS)
        # Base delay per outcome group, in milliseconds, indexed as outcome_group().
        self.base_ms = [config.duration_ms(f"base_delay_{group}", base) for group in OUTCOME_GROUPS]
        self.multiplier = in_range("multiplier", config.number("multiplier", 2.0), 1, 100)
        self.jitter = in_range("jitter", config.number("jitter", 0.2), 0, 1)
        self.max_delay_ms = config.duration_ms("max_delay", 4 * HOUR_MS)

    def decide(self, input: RetryInput) -> Decision:
        last = input.last_attempt()
        settled = input.settled_by_disposition_or_limit()
        if settled is not None:
            return settled
        base = float(self.base_ms[outcome_group(last)])
        exponent = min(max(input.attempts_made - 1, 0), 60)
        delay = min(base * self.multiplier**exponent, float(self.max_delay_ms))
        # Spread retries over [delay * (1 - jitter), delay * (1 + jitter)],
        # seeded from the attempt id so the decision is reproducible.
        spread = (unit_interval(input.seed) * 2.0 - 1.0) * self.jitter
        delay = min(max(delay * (1.0 + spread), 0.0), float(self.max_delay_ms))
        return RetryAt(input.now + int(delay))
