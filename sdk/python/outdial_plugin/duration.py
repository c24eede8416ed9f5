"""The one duration grammar of outdial, as `sdk/src/duration.rs` reads it:
the host's config, the conformance cases and every plugin read "1h30m" the
same way, so a value accepted by one is accepted by all.
"""

from typing import Optional

SECOND_MS = 1_000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

#: What a duration looks like, for messages.
DURATION_EXPECTED = 'a duration like "90s", "10m", "2h", "1d" or "1h30m"'

_UNIT_MS = {"ms": 1, "s": SECOND_MS, "m": MINUTE_MS, "min": MINUTE_MS, "h": HOUR_MS, "d": DAY_MS}

# The Rust parser sums into an i64 and refuses on overflow.
_I64_MAX = 2**63 - 1

# Rust's `str::trim` strips the Unicode White_Space property, which differs
# from Python's `str.strip()` (that also strips U+001C..U+001F), so the set
# is spelled out to refuse exactly what the host refuses.
_RUST_WHITESPACE = (
    "\u0009\u000a\u000b\u000c\u000d\u0020\u0085\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def _is_ascii_digit(char: str) -> bool:
    # Not `str.isdigit()`: that accepts other scripts' digits, Rust does not.
    return "0" <= char <= "9"


def _trim(text: str) -> str:
    return text.strip(_RUST_WHITESPACE)


def parse_duration_ms(raw: str) -> Optional[int]:
    """Parse "500ms", "90s", "10m" (or "10min"), "2h", "1d", or a sum of them
    such as "1h30m" or "1d 12h", into milliseconds. `None` for anything
    else: no unit, an unknown unit, a sign, a fraction, or an overflow.
    """
    rest = _trim(raw)
    if not rest:
        return None
    total = 0
    while rest:
        digits = next((i for i, char in enumerate(rest) if not _is_ascii_digit(char)), None)
        if digits is None or digits == 0:
            # Digits without a unit, or a unit without digits.
            return None
        number = int(rest[:digits])
        rest = rest[digits:]
        unit_len = next((i for i, char in enumerate(rest) if _is_ascii_digit(char)), len(rest))
        unit_ms = _UNIT_MS.get(_trim(rest[:unit_len]))
        if unit_ms is None:
            return None
        total += number * unit_ms
        if number * unit_ms > _I64_MAX or total > _I64_MAX:
            return None
        rest = rest[unit_len:]
    return total


def duration_ms(raw: str) -> int:
    """Like `parse_duration_ms`, for values written in code: a `ValueError`
    naming the value instead of `None`."""
    parsed = parse_duration_ms(raw)
    if parsed is None:
        raise ValueError(f'"{raw}" is not {DURATION_EXPECTED}')
    return parsed
