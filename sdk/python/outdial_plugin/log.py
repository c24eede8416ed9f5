"""Log lines that reach the host's log under the plugin's name.

Inside a component they go to the host's `log` import; natively (tests) to
standard error.
"""

import sys
from enum import Enum


class Level(Enum):
    TRACE = "trace"
    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"


IN_COMPONENT = sys.platform == "wasi"


def log(level: Level, message: str) -> None:
    """Write one line to the host's log."""
    if IN_COMPONENT:
        from outdial_wit.imports import host

        host.log(host.LogLevel[level.name], message)
    else:
        print(f"[{level.name}] {message}", file=sys.stderr)


def debug(message: str) -> None:
    log(Level.DEBUG, message)


def info(message: str) -> None:
    log(Level.INFO, message)


def warn(message: str) -> None:
    log(Level.WARN, message)


def error(message: str) -> None:
    log(Level.ERROR, message)
