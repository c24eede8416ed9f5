"""{{name}}: a disposition classifier that labels an ended call by how the
network ended it and who answered."""

from typing import List

from outdial_plugin import (
    Attempt,
    CallOutcome,
    Classifier,
    Config,
    Contact,
    Disposition,
    MachineDetection,
    Metadata,
    disposition,
)

#: Every label this classifier may return; the host refuses any other.
LABELS = ["human_answered", "voicemail", "busy", "no_answer", "failed"]

# A machine, a fax or a call-screening assistant is not the person.
NOT_THE_PERSON = (MachineDetection.MACHINE, MachineDetection.FAX, MachineDetection.CALL_SCREENING)


def boolean(text: str) -> bool:
    """A config value read as "true" or "false"."""
    if text not in ("true", "false"):
        raise ValueError("expected true or false")
    return text == "true"


class {{type}}(Classifier):
    metadata = (
        Metadata.classifier("{{name}}", "0.1.0")
        .labels(LABELS)
        .key("voicemail_is_terminal", "Whether reaching voicemail ends the contact. Default: false.")
        .key("human_answered_is_terminal", "Whether reaching a person ends the contact. Default: true.")
    )

    def __init__(self, config: Config):
        self.voicemail_is_terminal = config.parse("voicemail_is_terminal", False, boolean)
        self.human_answered_is_terminal = config.parse("human_answered_is_terminal", True, boolean)

    def classify(self, contact: Contact, attempt: Attempt, previous: List[Attempt]) -> Disposition:
        if attempt.outcome == CallOutcome.ANSWERED:
            if attempt.machine_detection in NOT_THE_PERSON:
                return disposition("voicemail", terminal=self.voicemail_is_terminal)
            return disposition("human_answered", terminal=self.human_answered_is_terminal)
        if attempt.outcome == CallOutcome.BUSY:
            return disposition("busy")
        if attempt.outcome == CallOutcome.NO_ANSWER:
            return disposition("no_answer")
        # Failed, canceled or unknown: worth another try.
        return disposition("failed")
