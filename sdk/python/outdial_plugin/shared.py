"""The contract's shared types (`outdial:plugin/types`), which the bindings
of every world hold: a classifier or an adapter imports them from here (or
from the package) without loading the retry world's bindings."""

from outdial_wit.imports import types

CallOutcome = types.CallOutcome
MachineDetection = types.MachineDetection
Contact = types.Contact
Attempt = types.Attempt
Disposition = types.Disposition
LabelledAttempt = types.LabelledAttempt
