"""RetryInput, decisions and the helpers strategies share, natively."""

from outdial_plugin import (
    DAY_MS,
    MINUTE_MS,
    CallOutcome,
    Config,
    FollowUpAt,
    GiveUp,
    MachineDetection,
    Metadata,
    PluginKind,
    RetryAt,
    RetryInput,
    RetryStrategy,
    disposition,
    outcome_group,
    unit_interval,
)
from outdial_plugin.retry import fnv1a, outline_of
from outdial_plugin.testing import TEST_NOW_MS, attempt, plain_attempt, retry_input


class FixedDelay(RetryStrategy):
    """The hello-world strategy of docs/plugins-python.md."""

    metadata = Metadata.retry_strategy("fixed-delay", "0.1.0").key("delay", "Wait before each retry. Default: 15m.")

    def __init__(self, config: Config):
        self.delay_ms = config.duration_ms("delay", 15 * MINUTE_MS)

    def decide(self, input: RetryInput):
        if input.attempts_exhausted():
            return GiveUp("done")
        return RetryAt(input.now + self.delay_ms)


def test_the_hello_world_strategy_decides():
    plugin = FixedDelay(Config.of(delay="20m"))
    input = retry_input(2).push(attempt(1, CallOutcome.NO_ANSWER))
    assert plugin.decide(input) == RetryAt(TEST_NOW_MS + 20 * MINUTE_MS)
    input.push(attempt(2, CallOutcome.BUSY))
    assert plugin.decide(input) == GiveUp("done")


def test_metadata_becomes_the_wit_record():
    wit = FixedDelay.metadata.to_wit()
    assert (wit.name, wit.version, wit.kind) == ("fixed-delay", "0.1.0", PluginKind.RETRY_STRATEGY)
    assert [(key.name, key.required) for key in wit.config_keys] == [("delay", False)]
    assert wit.labels == []
    classifier = Metadata.classifier("rules", "1.0.0").labels(["busy", "voicemail"]).key("token", "API token.", required=True)
    assert classifier.to_wit().labels == ["busy", "voicemail"]
    assert classifier.to_wit().config_keys[0].required is True


def test_an_input_reads_the_attempts_it_was_given():
    input = retry_input(5)
    assert input.last() is None and input.outlines() == [] and input.outline(1) is None
    input.push(attempt(1, CallOutcome.BUSY))
    input.push(attempt(2, CallOutcome.ANSWERED, disposition("voicemail")))
    assert input.attempts_made == 2
    assert [outline.number for outline in input.outlines()] == [1, 2]
    assert input.last().outcome == CallOutcome.ANSWERED
    assert input.label(2) == "voicemail" and input.label(1) is None and input.label(3) is None
    assert input.attempt(1).attempt.id == "attempt-1"
    assert input.outline(0) is None and input.attempt(3) is None
    assert input.contact().time_zone == "America/New_York"


def test_the_seed_is_the_hosts_fnv1a_of_the_last_attempt_id():
    # FNV-1a 64 reference values.
    assert fnv1a("") == 0xCBF29CE484222325
    assert fnv1a("a") == 0xAF63DC4C8601EC8C
    input = retry_input(3)
    assert input.seed == fnv1a("contact-1")
    input.push(attempt(1, CallOutcome.BUSY))
    assert input.seed == fnv1a("attempt-1")
    assert 0.0 <= unit_interval(input.seed) < 1.0
    assert unit_interval(0) == 0.0 and unit_interval(2**64 - 1) < 1.0


def test_a_requested_callback_is_followed_up_never_in_the_past():
    input = retry_input(5).push(attempt(1, CallOutcome.ANSWERED, disposition("callback_requested", follow_up_at=TEST_NOW_MS + DAY_MS)))
    assert input.settled_by_disposition_or_limit() == FollowUpAt(TEST_NOW_MS + DAY_MS)
    past = retry_input(5).push(attempt(1, CallOutcome.ANSWERED, disposition("callback_requested", follow_up_at=TEST_NOW_MS - DAY_MS)))
    assert past.settled_by_disposition_or_limit() == FollowUpAt(TEST_NOW_MS)


def test_a_terminal_disposition_or_the_limit_settles_the_decision():
    terminal = retry_input(5).push(attempt(1, CallOutcome.ANSWERED, disposition("do_not_call", terminal=True)))
    assert terminal.settled_by_disposition_or_limit() == GiveUp('disposition "do_not_call" is terminal')
    used = retry_input(2).push(attempt(1, CallOutcome.BUSY)).push(attempt(2, CallOutcome.BUSY))
    assert used.settled_by_disposition_or_limit() == GiveUp("2 of 2 attempts made")
    open_input = retry_input(3).push(attempt(1, CallOutcome.BUSY))
    assert open_input.settled_by_disposition_or_limit() is None


def test_last_attempt_refuses_an_empty_history():
    import pytest

    from outdial_plugin import InvalidInput

    with pytest.raises(InvalidInput, match="no attempt has been made"):
        retry_input(3).last_attempt()


def test_outcome_groups_match_the_rust_sdk():
    def group(outcome, detection=None):
        plain = plain_attempt(1, outcome)
        if detection is not None:
            plain.machine_detection = detection
        from outdial_plugin import LabelledAttempt

        return outcome_group(outline_of(LabelledAttempt(attempt=plain, disposition=None)))

    assert group(CallOutcome.BUSY) == 0
    assert group(CallOutcome.NO_ANSWER) == 1
    assert group(CallOutcome.ANSWERED, MachineDetection.MACHINE) == 2
    assert group(CallOutcome.ANSWERED, MachineDetection.FAX) == 2
    assert group(CallOutcome.ANSWERED, MachineDetection.CALL_SCREENING) == 3
    assert group(CallOutcome.FAILED) == 4
    assert group(CallOutcome.CANCELED) == 4
    assert group(CallOutcome.UNKNOWN) == 4
    assert group(CallOutcome.ANSWERED, MachineDetection.HUMAN) == 5
    assert group(CallOutcome.ANSWERED, MachineDetection.UNKNOWN) == 5


def test_a_local_time_is_turned_into_an_instant():
    # 10:00 in New York at TEST_NOW_MS; 10:00 tomorrow is a day later.
    input = retry_input(3)
    assert input.at_local(1, 10, 0) == TEST_NOW_MS + DAY_MS
    assert input.at_local(0, 9, 30) == TEST_NOW_MS - 30 * MINUTE_MS
