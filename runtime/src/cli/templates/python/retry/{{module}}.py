"""{{name}}: a retry strategy that waits a fixed delay before each new
attempt (a shorter one after a busy line) and gives up at the limit."""

from outdial_plugin import MINUTE_MS, CallOutcome, Config, Decision, Metadata, RetryAt, RetryInput, RetryStrategy


class {{type}}(RetryStrategy):
    metadata = (
        Metadata.retry_strategy("{{name}}", "0.1.0")
        .key("delay", "Wait before each retry. Default: 15m.")
        .key("busy_delay", "Wait after a busy line, which frees up sooner. Default: delay.")
    )

    def __init__(self, config: Config):
        self.delay_ms = config.duration_ms("delay", 15 * MINUTE_MS)
        self.busy_delay_ms = config.duration_ms("busy_delay", self.delay_ms)

    def decide(self, input: RetryInput) -> Decision:
        last = input.last_attempt()
        # A callback the contact asked for, a terminal disposition or the
        # attempt limit decides before the delay does.
        settled = input.settled_by_disposition_or_limit()
        if settled is not None:
            return settled
        delay_ms = self.busy_delay_ms if last.outcome == CallOutcome.BUSY else self.delay_ms
        return RetryAt(input.now + delay_ms)
