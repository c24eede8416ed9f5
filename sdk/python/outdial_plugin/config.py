"""A plugin's configuration, with typed readers whose errors name the key
and the bad value, as the Rust SDK's `Config`."""

import math
import re
from typing import Callable, List, Optional, Sequence, Tuple, TypeVar

from .duration import DURATION_EXPECTED, parse_duration_ms
from .errors import InvalidConfig

T = TypeVar("T")

# What Rust's `f64::from_str` accepts (the Rust SDK reads numbers with it):
# no underscores, no hex, unlike Python's `float()`.
_NUMBER = re.compile(r"[+-]?(inf|infinity|nan|(\d+\.?\d*|\.\d+)(e[+-]?\d+)?)", re.IGNORECASE)
_INTEGER = re.compile(r"[+-]?\d+")


class Config:
    """The key/value pairs of the campaign's `config = { ... }`, in the order
    they were declared; the last value of a repeated key wins."""

    def __init__(self, entries: Sequence[Tuple[str, str]] = ()):
        self._entries: List[Tuple[str, str]] = [(key, value) for key, value in entries]

    @classmethod
    def of(cls, **values: str) -> "Config":
        """A config from keyword arguments, for tests: `Config.of(jitter="0")`."""
        return cls(list(values.items()))

    def get(self, key: str) -> Optional[str]:
        """The raw value of `key`, or None when it is not set."""
        for name, value in reversed(self._entries):
            if name == key:
                return value
        return None

    def entries(self) -> List[Tuple[str, str]]:
        """Every pair, in declaration order."""
        return list(self._entries)

    def required(self, key: str) -> str:
        """The value of `key`; `InvalidConfig` naming the key when it is missing."""
        value = self.get(key)
        if value is None:
            raise InvalidConfig(f'key "{key}" is required')
        return value

    def string(self, key: str, default: str) -> str:
        """The value of `key`, or `default` when it is not set."""
        value = self.get(key)
        return default if value is None else value

    def duration_ms(self, key: str, default: int) -> int:
        """The value of `key` read as a duration such as "90s", "10m", "2h",
        "1d", "500ms" or "1h30m", in milliseconds; `default` (milliseconds)
        when it is not set."""
        raw = self.get(key)
        if raw is None:
            return default
        parsed = parse_duration_ms(raw)
        if parsed is None:
            raise InvalidConfig(f'key "{key}" has value "{raw}": expected {DURATION_EXPECTED}')
        return parsed

    def number(self, key: str, default: float) -> float:
        """The value of `key` as a float, or `default` when it is not set."""
        return self.parse(key, default, _parse_number)

    def integer(self, key: str, default: int) -> int:
        """The value of `key` as an integer, or `default` when it is not set."""
        return self.parse(key, default, _parse_integer)

    def parse(self, key: str, default: T, parser: Callable[[str], T]) -> T:
        """The value of `key` read by `parser` (after trimming whitespace), or
        `default` when it is not set. A `ValueError` from `parser` becomes an
        `InvalidConfig` naming the key and the value."""
        raw = self.get(key)
        if raw is None:
            return default
        try:
            return parser(raw.strip())
        except ValueError as err:
            raise InvalidConfig(f'key "{key}" has value "{raw}": {err}') from None

    def __repr__(self) -> str:
        return f"Config({self._entries!r})"


def _parse_number(text: str) -> float:
    if not _NUMBER.fullmatch(text):
        raise ValueError("expected a number")
    return float(text)


def _parse_integer(text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise ValueError("expected an integer")
    return int(text)


def in_range(key: str, value: float, low: float, high: float) -> float:
    """`value` when it lies in [low, high]; `InvalidConfig` naming `key` and
    the range otherwise (NaN is never in range)."""
    if math.isnan(value) or not low <= value <= high:
        raise InvalidConfig(f'key "{key}" has value "{_plain(value)}": expected {_plain(low)} to {_plain(high)}')
    return value


def _plain(number: float) -> str:
    # "2" rather than "2.0", as the Rust plugins print their numbers.
    return str(int(number)) if float(number).is_integer() else str(number)
