"""Retry strategies: decide, after an attempt has ended, when to dial again.

A strategy subclasses `RetryStrategy`, declares its `metadata`, reads its
config in `__init__` and answers `decide` with `RetryAt`, `FollowUpAt` or
`GiveUp`. The host clamps every decision to the calling window and the
attempt limit, so a strategy only has to express its intent.
"""

from typing import ClassVar, List, Optional

from outdial_wit.exports import retry as wit_retry
from outdial_wit.imports import retry_context as wit_context
from outdial_wit.imports import types

from .config import Config
from .duration import DAY_MS
from .errors import InvalidInput
from .metadata import Metadata

# The WIT's types, under the names authors use.
LocalTime = wit_retry.LocalTime
PolicyLimits = wit_retry.PolicyLimits
AttemptOutline = wit_context.AttemptOutline
DispositionOutline = wit_context.DispositionOutline
CallOutcome = types.CallOutcome
MachineDetection = types.MachineDetection
Contact = types.Contact
Attempt = types.Attempt
Disposition = types.Disposition
LabelledAttempt = types.LabelledAttempt

#: Dial again, not before `RetryAt(at_ms).value`.
RetryAt = wit_retry.Decision_RetryAt
#: Call back at a time agreed with the contact.
FollowUpAt = wit_retry.Decision_FollowUpAt
#: Stop calling this contact, for the given reason.
GiveUp = wit_retry.Decision_GiveUp
#: What to do next with the contact: one of the three above.
Decision = wit_retry.Decision


class RetryInput:
    """Everything a retry decision may depend on.

    `now`, `now_local`, `limits`, `attempts_made` and `seed` are fields. The
    attempts and the contact are read through methods: inside a component
    each asks the host for just what it returns, so a strategy pays only for
    what it reads; in a native test they come from what the test gave
    (`RetryInput.given`, `push`).
    """

    def __init__(
        self,
        now: int,
        now_local: LocalTime,
        limits: PolicyLimits,
        attempts_made: int,
        seed: int,
        contact: Optional[Contact] = None,
        history: Optional[List[LabelledAttempt]] = None,
    ):
        self.now = now
        self.now_local = now_local
        self.limits = limits
        self.attempts_made = attempts_made
        self.seed = seed
        # None for an input from the host, whose history is read on demand.
        self._contact = contact
        self._history = history
        self._last: Optional[AttemptOutline] = None
        self._last_read = False

    @classmethod
    def from_host(cls, wit_input: wit_retry.RetryInput) -> "RetryInput":
        """The input the host hands a component's `decide`."""
        return cls(wit_input.now, wit_input.now_local, wit_input.limits, wit_input.attempts_made, wit_input.seed)

    @classmethod
    def given(cls, contact: Contact, now: int, now_local: LocalTime, max_attempts: int) -> "RetryInput":
        """An input for a native test: `contact` with no attempts yet; add
        them with `push`."""
        return cls(now, now_local, PolicyLimits(max_attempts=max_attempts), 0, fnv1a(contact.id), contact, [])

    def push(self, attempt: LabelledAttempt) -> "RetryInput":
        """Add the attempt that ended last (tests only: the host's history is
        read-only). The seed follows the attempt's id, as the host derives it."""
        if self._history is None:
            raise RuntimeError("the history of a decision the host asked for is read-only")
        self._history.append(attempt)
        self.attempts_made = len(self._history)
        self.seed = fnv1a(attempt.attempt.id)
        self._last_read = False
        return self

    def attempts_exhausted(self) -> bool:
        """True when no further attempt is allowed."""
        return self.attempts_made >= self.limits.max_attempts

    def _given(self, number: int) -> Optional[LabelledAttempt]:
        assert self._history is not None
        return self._history[number - 1] if 1 <= number <= len(self._history) else None

    def outline(self, number: int) -> Optional[AttemptOutline]:
        """The outline of attempt `number` (1 is the first), if there is one."""
        if number < 1 or number > self.attempts_made:
            return None
        if self._history is None:
            return wit_context.outline(number)
        given = self._given(number)
        return None if given is None else outline_of(given)

    def last(self) -> Optional[AttemptOutline]:
        """The outline of the attempt that just ended, if any; read from the
        host at most once per decision."""
        if not self._last_read:
            self._last = self.outline(self.attempts_made)
            self._last_read = True
        return self._last

    def last_attempt(self) -> AttemptOutline:
        """The attempt that just ended; `InvalidInput` when there is none."""
        last = self.last()
        if last is None:
            raise InvalidInput("no attempt has been made")
        return last

    def outlines(self) -> List[AttemptOutline]:
        """The outlines of every attempt so far, oldest first."""
        if self._history is None:
            return wit_context.outlines()
        return [outline_of(given) for given in self._history]

    def label(self, number: int) -> Optional[str]:
        """The disposition label of attempt `number`, e.g. "voicemail", if it
        was classified."""
        if number < 1 or number > self.attempts_made:
            return None
        if self._history is None:
            return wit_context.label(number)
        given = self._given(number)
        return None if given is None or given.disposition is None else given.disposition.label

    def attempt(self, number: int) -> Optional[LabelledAttempt]:
        """Attempt `number` in full: its id, transcript, metadata and disposition."""
        if number < 1 or number > self.attempts_made:
            return None
        if self._history is None:
            return wit_context.attempt(number)
        return self._given(number)

    def contact(self) -> Contact:
        """The contact being decided on."""
        if self._contact is None:
            return wit_context.get_contact()
        return self._contact

    def settled_by_disposition_or_limit(self) -> Optional[Decision]:
        """What most strategies decide before their own logic: follow up when
        the contact asked for it, give up on a terminal disposition or when
        every attempt is used; None when the strategy has to decide."""
        last = self.last()
        if last is not None and last.disposition is not None:
            disposition = last.disposition
            if disposition.follow_up_at is not None:
                return FollowUpAt(max(disposition.follow_up_at, self.now))
            if disposition.terminal:
                label = self.label(last.number) or ""
                return GiveUp(f'disposition "{label}" is terminal')
        if self.attempts_exhausted():
            return GiveUp(f"{self.attempts_made} of {self.limits.max_attempts} attempts made")
        return None

    def at_local(self, days_ahead: int, hour: int, minute: int) -> int:
        """The UTC instant of `hour:minute` on the contact's clock, `days_ahead`
        days from its local date, assuming today's UTC offset still holds."""
        local = self.now_local
        seconds_into_day = local.hour * 3600 + local.minute * 60 + local.second
        midnight = self.now - seconds_into_day * 1000 - self.now % 1000
        return midnight + days_ahead * DAY_MS + (hour * 3600 + minute * 60) * 1000

    def __repr__(self) -> str:
        return (
            f"RetryInput(now={self.now}, attempts_made={self.attempts_made}, "
            f"max_attempts={self.limits.max_attempts}, seed={self.seed})"
        )


class RetryStrategy:
    """Base of a retry strategy: set `metadata`, read the config in
    `__init__` (raise `InvalidConfig` to refuse it) and implement `decide`."""

    metadata: ClassVar[Metadata]

    def __init__(self, config: Config):
        pass

    def decide(self, input: RetryInput) -> Decision:
        """Decide after the last attempt of `input` has ended."""
        raise NotImplementedError(f"{type(self).__name__}.decide")


def outline_of(labelled: LabelledAttempt) -> AttemptOutline:
    """The outline of a whole attempt, as the host makes it."""
    attempt = labelled.attempt
    disposition = labelled.disposition
    return AttemptOutline(
        number=attempt.number,
        started_at=attempt.started_at,
        answered_at=attempt.answered_at,
        ended_at=attempt.ended_at,
        outcome=attempt.outcome,
        sip_code=attempt.sip_code,
        talk_ms=attempt.talk_ms,
        ring_ms=attempt.ring_ms,
        machine_detection=attempt.machine_detection,
        cost_micros=attempt.cost_micros,
        disposition=None
        if disposition is None
        else DispositionOutline(
            terminal=disposition.terminal,
            score=disposition.score,
            sentiment=disposition.sentiment,
            follow_up_at=disposition.follow_up_at,
        ),
    )


#: Outcome groups, in the order `outcome_group` numbers them.
OUTCOME_GROUPS = ("busy", "no_answer", "voicemail", "call_screening", "failed", "answered")


def outcome_group(attempt: AttemptOutline) -> int:
    """Index of the outcome group an attempt belongs to, the way strategies
    usually tell outcomes apart: 0 busy, 1 no answer, 2 voicemail (or fax),
    3 call screening, 4 failed (or canceled, unknown), 5 answered by a
    person. `OUTCOME_GROUPS[i]` names group i."""
    outcome = attempt.outcome
    if outcome == CallOutcome.BUSY:
        return 0
    if outcome == CallOutcome.NO_ANSWER:
        return 1
    if outcome == CallOutcome.ANSWERED:
        detection = attempt.machine_detection
        if detection in (MachineDetection.MACHINE, MachineDetection.FAX):
            return 2
        if detection == MachineDetection.CALL_SCREENING:
            return 3
        return 5
    return 4


def fnv1a(key: str) -> int:
    """FNV-1a of `key`'s UTF-8 bytes: the host derives a decision's seed the same way."""
    hash_value = 0xCBF29CE484222325
    for byte in key.encode("utf-8"):
        hash_value ^= byte
        hash_value = (hash_value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return hash_value


def unit_interval(seed: int) -> float:
    """A number in [0, 1) from the top 53 bits of `seed`: jitter that repeats
    whenever the same decision is asked again."""
    return (seed >> 11) / float(1 << 53)
