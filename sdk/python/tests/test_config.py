import pytest

from outdial_plugin import Config, InvalidConfig, in_range


def test_a_compound_duration_is_read_as_its_sum():
    assert Config([("base_delay", "1h30m")]).duration_ms("base_delay", 0) == 5_400_000


def test_a_missing_key_gives_the_default():
    config = Config()
    assert config.duration_ms("delay", 900_000) == 900_000
    assert config.number("multiplier", 2.0) == 2.0
    assert config.integer("retries", 3) == 3
    assert config.string("label", "none") == "none"


def test_a_bad_duration_is_refused_with_its_key_and_value():
    with pytest.raises(InvalidConfig) as refused:
        Config.of(max_delay="soon").duration_ms("max_delay", 0)
    assert refused.value.message == (
        'key "max_delay" has value "soon": expected a duration like "90s", "10m", "2h", "1d" or "1h30m"'
    )


def test_numbers_are_read_as_rust_reads_f64():
    assert Config.of(jitter=" 0.25 ").number("jitter", 0.0) == 0.25
    assert Config.of(jitter="1e-1").number("jitter", 0.0) == 0.1
    assert Config.of(jitter=".5").number("jitter", 0.0) == 0.5
    for bad in ["", "lots", "1_0", "0x10", "1,5"]:
        with pytest.raises(InvalidConfig, match=f'key "jitter" has value "{bad}": expected a number'):
            Config.of(jitter=bad).number("jitter", 0.0)


def test_integers_refuse_fractions():
    assert Config.of(n="-4").integer("n", 0) == -4
    with pytest.raises(InvalidConfig, match='key "n" has value "4.5": expected an integer'):
        Config.of(n="4.5").integer("n", 0)


def test_a_custom_parser_error_names_the_key():
    def weekday(text: str) -> int:
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        if text not in days:
            raise ValueError(f"expected one of {', '.join(days)}")
        return days.index(text)

    assert Config.of(day="wed").parse("day", 0, weekday) == 2
    with pytest.raises(InvalidConfig, match='key "day" has value "someday": expected one of mon'):
        Config.of(day="someday").parse("day", 0, weekday)


def test_a_required_key_is_named_when_missing():
    assert Config.of(token="abc").required("token") == "abc"
    with pytest.raises(InvalidConfig, match='key "token" is required'):
        Config().required("token")


def test_the_last_value_of_a_repeated_key_wins():
    config = Config([("a", "1"), ("a", "2")])
    assert config.get("a") == "2"
    assert config.entries() == [("a", "1"), ("a", "2")]


def test_a_value_out_of_range_names_the_key_and_the_range():
    assert in_range("jitter", 0.5, 0, 1) == 0.5
    with pytest.raises(InvalidConfig, match='key "jitter" has value "2": expected 0 to 1'):
        in_range("jitter", 2.0, 0, 1)
    with pytest.raises(InvalidConfig, match="expected 1 to 100"):
        in_range("multiplier", float("nan"), 1, 100)


def test_refusals_map_to_the_wit_error_cases():
    from outdial_wit.imports import types

    from outdial_plugin import Internal, InvalidInput, PluginError

    assert InvalidConfig("x").to_wit() == types.PluginError_InvalidConfig("x")
    assert InvalidInput("y").to_wit() == types.PluginError_InvalidInput("y")
    assert Internal("z").to_wit() == types.PluginError_Internal("z")
    assert PluginError("w").to_wit() == types.PluginError_Internal("w")
