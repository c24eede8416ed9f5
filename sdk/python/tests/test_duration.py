"""The duration grammar must accept and refuse exactly what sdk/src/duration.rs does."""

import pytest

from outdial_plugin.duration import DURATION_EXPECTED, duration_ms, parse_duration_ms


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("500ms", 500),
        ("90s", 90_000),
        ("10m", 600_000),
        ("10min", 600_000),
        ("2h", 7_200_000),
        ("1d", 86_400_000),
    ],
)
def test_every_unit_parses_alone(raw, expected):
    assert parse_duration_ms(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1h30m", 5_400_000),
        ("1d 12h", 129_600_000),
        ("2m30s500ms", 150_500),
        # Whitespace around the whole value and around a unit is trimmed, as
        # Rust's str::trim does.
        ("  10m\n", 600_000),
        ("1 h", 3_600_000),
        ("1h 30m", 5_400_000),
        ("\u00a05m\u3000", 300_000),
        # Leading zeros and a zero amount are numbers like any other.
        ("007m", 420_000),
        ("0s", 0),
        # The largest sum that fits an i64 of milliseconds.
        ("9223372036854775807ms", 2**63 - 1),
    ],
)
def test_sums_and_spacing_add_up(raw, expected):
    assert parse_duration_ms(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        # The Rust test's refusals, one for one.
        "",
        "10",
        "m",
        "ten minutes",
        "3w",
        "-5m",
        "1.5h",
        "3 weeks",
        "1h30",
        "99999999999999999d",
        # And more of the same rules.
        "   ",
        "+5m",
        "5 m s",
        "5M",
        "5mins",
        "1_000ms",
        "9223372036854775808ms",
        "9223372036854775807ms1ms",
        # Digits of other scripts are not ASCII digits.
        "\u0665m",
        # U+001F is whitespace to Python's strip() but not to Rust's trim().
        "\u001f5m",
    ],
)
def test_anything_else_is_refused(raw):
    assert parse_duration_ms(raw) is None


def test_a_duration_written_in_code_names_the_bad_value():
    assert duration_ms("1h30m") == 5_400_000
    with pytest.raises(ValueError, match='"soon" is not a duration like'):
        duration_ms("soon")
    assert DURATION_EXPECTED == 'a duration like "90s", "10m", "2h", "1d" or "1h30m"'
