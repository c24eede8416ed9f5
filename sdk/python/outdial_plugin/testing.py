"""Builders for native plugin tests: a contact, attempts and inputs with
sensible values, to be adjusted field by field (as the Rust SDK's
`outdial_sdk::testing`)."""

from typing import Optional

from outdial_wit.imports import types

from .retry import LocalTime, RetryInput

#: 2026-03-02 15:00:00 UTC, a Monday: the decision time of test inputs.
TEST_NOW_MS = 1_772_463_600_000


def contact() -> types.Contact:
    """A contact in New York."""
    return types.Contact(id="contact-1", phone="+12125550100", time_zone="America/New_York", attributes=[("name", "Ada")])


def plain_attempt(number: int, outcome: types.CallOutcome) -> types.Attempt:
    """Attempt `number`, ended an hour before `TEST_NOW_MS` with `outcome`."""
    answered = outcome == types.CallOutcome.ANSWERED
    ended_at = TEST_NOW_MS - 3_600_000
    return types.Attempt(
        id=f"attempt-{number}",
        number=number,
        started_at=ended_at - 60_000,
        answered_at=ended_at - 45_000 if answered else None,
        ended_at=ended_at,
        outcome=outcome,
        sip_code=None,
        talk_ms=45_000 if answered else 0,
        ring_ms=15_000,
        machine_detection=types.MachineDetection.HUMAN if answered else types.MachineDetection.NOT_RUN,
        transcript=None,
        cost_micros=None,
        metadata=[],
    )


def attempt(
    number: int, outcome: types.CallOutcome, disposition: Optional[types.Disposition] = None
) -> types.LabelledAttempt:
    """`plain_attempt` with its disposition, if any."""
    return types.LabelledAttempt(attempt=plain_attempt(number, outcome), disposition=disposition)


def retry_input(max_attempts: int) -> RetryInput:
    """A retry input for `contact()` at `TEST_NOW_MS` (10:00 in New York)
    with no attempts; add them with `RetryInput.push`."""
    local = LocalTime(year=2026, month=3, day=2, hour=10, minute=0, second=0, weekday=0, utc_offset_seconds=-5 * 3600)
    return RetryInput.given(contact(), TEST_NOW_MS, local, max_attempts)
