import pytest

from outdial_plugin import Config, InvalidConfig
from outdial_plugin.classifier import CallOutcome, MachineDetection
from outdial_plugin.testing import contact, plain_attempt
from {{module}} import LABELS, {{type}}


def classify(attempt, **config: str):
    return {{type}}(Config.of(**config)).classify(contact(), attempt, [])


def answered_by(detection: MachineDetection):
    attempt = plain_attempt(1, CallOutcome.ANSWERED)
    attempt.machine_detection = detection
    return attempt


def test_a_person_answering_ends_the_contact_unless_configured_otherwise():
    person = classify(answered_by(MachineDetection.HUMAN))
    assert (person.label, person.terminal) == ("human_answered", True)
    assert classify(answered_by(MachineDetection.HUMAN), human_answered_is_terminal="false").terminal is False


@pytest.mark.parametrize("detection", [MachineDetection.MACHINE, MachineDetection.FAX, MachineDetection.CALL_SCREENING])
def test_a_machine_a_fax_or_call_screening_is_voicemail(detection):
    assert classify(answered_by(detection)).label == "voicemail"
    assert classify(answered_by(detection)).terminal is False
    assert classify(answered_by(detection), voicemail_is_terminal="true").terminal is True


@pytest.mark.parametrize(
    "outcome, label",
    [
        (CallOutcome.BUSY, "busy"),
        (CallOutcome.NO_ANSWER, "no_answer"),
        (CallOutcome.FAILED, "failed"),
        (CallOutcome.CANCELED, "failed"),
        (CallOutcome.UNKNOWN, "failed"),
    ],
)
def test_unanswered_calls_are_labelled_and_retried(outcome, label):
    found = classify(plain_attempt(1, outcome))
    assert (found.label, found.terminal) == (label, False)


def test_every_label_it_returns_is_declared():
    assert {{type}}.metadata.to_wit().labels == LABELS


def test_it_refuses_a_flag_that_is_not_true_or_false_naming_the_key():
    with pytest.raises(InvalidConfig, match='key "voicemail_is_terminal"'):
        classify(plain_attempt(1, CallOutcome.BUSY), voicemail_is_terminal="yes")
