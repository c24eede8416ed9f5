"""Why a plugin refuses a call, as exceptions.

A plugin raises these; the SDK hands them to the host as the WIT's
`plugin-error` variant. Any other exception is a bug: the SDK reports it to
the host and the instance traps, as a panic does in a Rust plugin.
"""

from outdial_wit.imports import types


class PluginError(Exception):
    """Base of the refusals the host understands; raised as is, it is an
    `internal` error."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_wit(self) -> types.PluginError:
        """The WIT `plugin-error` case this refusal is sent to the host as."""
        return types.PluginError_Internal(self.message)


class InvalidConfig(PluginError):
    """The config handed to the plugin is unusable."""

    def to_wit(self) -> types.PluginError:
        return types.PluginError_InvalidConfig(self.message)


class InvalidInput(PluginError):
    """An input is outside what the plugin can decide on."""

    def to_wit(self) -> types.PluginError:
        return types.PluginError_InvalidInput(self.message)


class Internal(PluginError):
    """Anything else that went wrong inside the plugin."""
