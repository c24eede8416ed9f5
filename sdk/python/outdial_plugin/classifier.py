"""Disposition classifiers: say what an ended call means.

A classifier subclasses `Classifier`, declares every label it may return in
its `metadata` (the host refuses any other) and implements `classify`.
"""

from typing import ClassVar, List, Optional

from outdial_wit.imports import types

from .config import Config
from .metadata import Metadata

Contact = types.Contact
Attempt = types.Attempt
Disposition = types.Disposition
CallOutcome = types.CallOutcome
MachineDetection = types.MachineDetection


def disposition(
    label: str,
    terminal: bool = False,
    score: Optional[float] = None,
    sentiment: Optional[float] = None,
    follow_up_at: Optional[int] = None,
) -> Disposition:
    """A disposition: its label, whether it ends the contact, and what else is known."""
    return Disposition(label=label, terminal=terminal, score=score, sentiment=sentiment, follow_up_at=follow_up_at)


class Classifier:
    """Base of a disposition classifier: set `metadata` (with its labels),
    read the config in `__init__` and implement `classify`."""

    metadata: ClassVar[Metadata]

    def __init__(self, config: Config):
        pass

    def classify(self, contact: Contact, attempt: Attempt, previous: List[Attempt]) -> Disposition:
        """Label `attempt`, which just ended; `previous` holds the earlier
        attempts on the same contact, oldest first."""
        raise NotImplementedError(f"{type(self).__name__}.classify")
