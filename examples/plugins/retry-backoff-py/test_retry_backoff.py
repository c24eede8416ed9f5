"""The strategy's logic, natively: the Rust plugin's unit tests, and the
conformance case folders read the way `outdial plugin test` reads them."""

import json
from pathlib import Path

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
    MachineDetection,
    RetryAt,
    disposition,
    parse_duration_ms,
)
from outdial_plugin.testing import TEST_NOW_MS, attempt, contact, retry_input
from retry_backoff import Backoff

CASES = Path(__file__).parent / "conformance"


def backoff(**config: str) -> Backoff:
    return Backoff(Config.of(**config))


def test_the_delay_doubles_with_each_attempt_up_to_the_maximum():
    plugin = backoff(base_delay="10m", jitter="0", max_delay="30m")
    input = retry_input(5)
    delays = []
    for number in range(1, 5):
        input.push(attempt(number, CallOutcome.NO_ANSWER))
        decision = plugin.decide(input)
        assert isinstance(decision, RetryAt), decision
        delays.append(decision.value - input.now)
    assert delays == [10 * MINUTE_MS, 20 * MINUTE_MS, 30 * MINUTE_MS, 30 * MINUTE_MS]


def test_each_outcome_uses_its_own_base_delay():
    plugin = backoff(base_delay_busy="2m", base_delay_no_answer="1h", jitter="0")
    busy = retry_input(3).push(attempt(1, CallOutcome.BUSY))
    unanswered = retry_input(3).push(attempt(1, CallOutcome.NO_ANSWER))
    assert plugin.decide(busy) == RetryAt(busy.now + 2 * MINUTE_MS)
    assert plugin.decide(unanswered) == RetryAt(unanswered.now + HOUR_MS)


def test_jitter_stays_within_its_fraction_and_repeats_for_the_same_attempt():
    plugin = backoff(base_delay="10m", jitter="0.5")
    for n in range(200):
        last = attempt(1, CallOutcome.BUSY)
        last.attempt.id = f"attempt-{n}"
        input = retry_input(3).push(last)
        first = plugin.decide(input)
        assert first == plugin.decide(input)
        assert 5 * MINUTE_MS <= first.value - input.now <= 15 * MINUTE_MS


def test_it_gives_up_when_attempts_are_exhausted_or_the_disposition_is_terminal():
    plugin = backoff()
    used = retry_input(2).push(attempt(1, CallOutcome.BUSY)).push(attempt(2, CallOutcome.BUSY))
    assert isinstance(plugin.decide(used), GiveUp)
    terminal = retry_input(5).push(attempt(1, CallOutcome.ANSWERED, disposition("do_not_call", terminal=True)))
    assert plugin.decide(terminal) == GiveUp('disposition "do_not_call" is terminal')


def test_a_requested_callback_becomes_a_follow_up():
    plugin = backoff()
    callback = disposition("callback_requested", follow_up_at=TEST_NOW_MS + DAY_MS)
    input = retry_input(5).push(attempt(1, CallOutcome.ANSWERED, callback))
    assert plugin.decide(input) == FollowUpAt(TEST_NOW_MS + DAY_MS)


def test_bad_config_values_are_refused_with_their_key():
    with pytest.raises(InvalidConfig, match="jitter"):
        backoff(jitter="2")
    with pytest.raises(InvalidConfig, match="max_delay"):
        backoff(max_delay="often")
    with pytest.raises(InvalidConfig, match="multiplier"):
        backoff(multiplier="0.5")


def test_the_metadata_declares_the_rust_plugins_config_keys():
    keys = [key.name for key in Backoff.metadata.to_wit().config_keys]
    assert keys == [
        "base_delay",
        "base_delay_busy",
        "base_delay_no_answer",
        "base_delay_voicemail",
        "base_delay_call_screening",
        "base_delay_failed",
        "base_delay_answered",
        "multiplier",
        "max_delay",
        "jitter",
    ]


# The conformance cases, read as tests/conformance/README.md describes
# them, as far as these cases use the format.


def case_time(value, now: int) -> int:
    if isinstance(value, int):
        return value
    if value == "now":
        return now
    if value.startswith("now+"):
        return now + parse_duration_ms(value[4:])
    if value.startswith("now-"):
        return now - parse_duration_ms(value[4:])
    raise ValueError(f"unsupported time {value!r} in a case")


def case_input(spec: dict):
    now = TEST_NOW_MS
    input = retry_input(spec.get("max_attempts", 3))
    history = spec["history"]
    for number, given in enumerate(history, start=1):
        labelled = attempt(number, CallOutcome[given["outcome"].upper()])
        # Attempts end an hour apart, the last a minute before now.
        labelled.attempt.ended_at = now - 60_000 - (len(history) - number) * HOUR_MS
        labelled.attempt.id = given.get("id", f"{contact().id}-{number}")
        labelled.attempt.sip_code = given.get("sip_code")
        if "machine_detection" in given:
            labelled.attempt.machine_detection = MachineDetection[given["machine_detection"].upper()]
        if "disposition" in given:
            spec_disposition = given["disposition"]
            follow_up = spec_disposition.get("follow_up_at")
            labelled.disposition = disposition(
                spec_disposition["label"],
                terminal=spec_disposition.get("terminal", False),
                follow_up_at=None if follow_up is None else case_time(follow_up, now),
            )
        input.push(labelled)
    return input


def matches(expected, found, now: int) -> bool:
    if isinstance(expected, dict) and "contains" in expected:
        return expected["contains"] in found
    if isinstance(expected, dict) and "between" in expected:
        low, high = (case_time(bound, now) for bound in expected["between"])
        return low <= found <= high
    return case_time(expected, now) == found if isinstance(found, int) else expected == found


@pytest.mark.parametrize("case", sorted(path.name for path in CASES.iterdir() if path.is_dir()))
def test_conformance_case(case):
    folder = CASES / case
    config_file = folder / "config.json" if (folder / "config.json").exists() else CASES / "config.json"
    plugin = Backoff(Config(list(json.loads(config_file.read_text()).items())))
    input = case_input(json.loads((folder / "input.json").read_text()))
    ((answer, expected),) = json.loads((folder / "expected.json").read_text()).items()
    decision = plugin.decide(input)
    kinds = {RetryAt: "retry_at", FollowUpAt: "follow_up_at", GiveUp: "give_up"}
    assert kinds[type(decision)] == answer, decision
    assert matches(expected, decision.value, input.now), decision
