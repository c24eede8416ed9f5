import pytest

from outdial_plugin import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    CallOutcome,
    Config,
    FollowUpAt,
    GiveUp,
    InvalidConfig,
    RetryAt,
    disposition,
)
from outdial_plugin.testing import TEST_NOW_MS, attempt, retry_input
from {{module}} import {{type}}


def strategy(**config: str) -> {{type}}:
    return {{type}}(Config.of(**config))


def test_it_waits_the_default_delay_after_no_answer():
    input = retry_input(3).push(attempt(1, CallOutcome.NO_ANSWER))
    assert strategy().decide(input) == RetryAt(TEST_NOW_MS + 15 * MINUTE_MS)


def test_it_waits_the_configured_delays_the_busy_one_after_a_busy_line():
    plugin = strategy(delay="1h", busy_delay="5m")
    unanswered = retry_input(3).push(attempt(1, CallOutcome.NO_ANSWER))
    busy = retry_input(3).push(attempt(1, CallOutcome.BUSY))
    assert plugin.decide(unanswered) == RetryAt(TEST_NOW_MS + HOUR_MS)
    assert plugin.decide(busy) == RetryAt(TEST_NOW_MS + 5 * MINUTE_MS)


def test_it_gives_up_when_the_attempt_limit_is_reached():
    input = retry_input(2).push(attempt(1, CallOutcome.BUSY)).push(attempt(2, CallOutcome.NO_ANSWER))
    assert strategy().decide(input) == GiveUp("2 of 2 attempts made")


def test_it_honours_the_disposition_a_requested_callback_and_a_terminal_label():
    callback = disposition("callback_requested", follow_up_at=TEST_NOW_MS + DAY_MS)
    input = retry_input(5).push(attempt(1, CallOutcome.ANSWERED, callback))
    assert strategy().decide(input) == FollowUpAt(TEST_NOW_MS + DAY_MS)
    refused = retry_input(5).push(attempt(1, CallOutcome.ANSWERED, disposition("do_not_call", terminal=True)))
    assert isinstance(strategy().decide(refused), GiveUp)


def test_it_refuses_a_delay_it_cannot_read_naming_the_key():
    with pytest.raises(InvalidConfig, match='key "delay"'):
        strategy(delay="soon")
