"""Sizes, durations and rates as scenario authors write them."""

import pytest

from ztui.scenario.errors import InvalidValue
from ztui.scenario.model import Duration, GiB, KiB, MiB, Rate, Size
from ztui.scenario.units import format_size, parse_duration, parse_rate, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2g", 2 * GiB),
        ("512m", 512 * MiB),
        ("64k", 64 * KiB),
        ("4096 pages", 4096 * 4096),
        ("1 page", 4096),
        ("2G", 2 * GiB),
        ("2 GiB", 2 * GiB),
        ("2gb", 2 * GiB),
        (" 16 MiB ", 16 * MiB),
        ("1.5g", 3 * GiB // 2),
        ("100 bytes", 100),
        ("4096", 4096),
        (8192, 8192),
        ("0", 0),
    ],
)
def test_size_spellings(text, expected):
    size = parse_size(text)
    assert size == expected
    assert type(size) is Size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", 30_000_000),
        ("250ms", 250_000),
        ("500us", 500),
        ("0.5 s", 500_000),
        ("10 ticks", 100_000),
        ("1 tick", 10_000),
        ("2 MS", 2_000),
    ],
)
def test_duration_spellings(text, expected):
    duration = parse_duration(text)
    assert duration == expected
    assert type(duration) is Duration


def test_ticks_follow_hz_and_round_to_the_microsecond():
    assert parse_duration("10 ticks", hz=1000) == 10_000
    assert parse_duration("1 tick", hz=300) == 3_333


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100m/s", 100 * MiB),
        ("2000 pages/s", 2000 * 4096),
        ("1 page / s", 4096),
        ("64k/sec", 64 * KiB),
        (1000, 1000),
    ],
)
def test_rate_spellings(text, expected):
    rate = parse_rate(text)
    assert rate == expected
    assert type(rate) is Rate


@pytest.mark.parametrize("value", ["2x", "", "g", "2 g g", "1e9", 2.5, True, [1], "2 pagez"])
def test_bad_size_lists_the_accepted_forms(value):
    with pytest.raises(InvalidValue, match='expected a size: "2g", "512m", "64k", "4096 pages", "1 page"'):
        parse_size(value)


@pytest.mark.parametrize("value", ["-2g", -1, "-1 page"])
def test_negative_size(value):
    with pytest.raises(InvalidValue, match="a size cannot be negative"):
        parse_size(value)


def test_fraction_of_a_byte():
    with pytest.raises(InvalidValue, match="not a whole number of bytes"):
        parse_size("1.5 bytes")


@pytest.mark.parametrize("value", ["30", 30, "5m", "1 hour", "-"])
def test_duration_needs_a_unit(value):
    with pytest.raises(InvalidValue, match='expected a duration: "30s", "250ms", "500us" or "10 ticks"'):
        parse_duration(value)


def test_fraction_of_a_microsecond():
    with pytest.raises(InvalidValue, match="not a whole number of microseconds"):
        parse_duration("1.5us")


@pytest.mark.parametrize("value", ["100m", "100m/min", "fast", 1.5])
def test_bad_rate_lists_the_accepted_forms(value):
    with pytest.raises(InvalidValue, match='expected a rate: "100m/s", "2000 pages/s"'):
        parse_rate(value)


def test_negative_rate():
    with pytest.raises(InvalidValue, match="a rate cannot be negative"):
        parse_rate("-1m/s")


@pytest.mark.parametrize(
    ("nbytes", "text"), [(2 * GiB, "2g"), (1536 * MiB, "1536m"), (6 * KiB, "6k"), (100, "100 bytes")]
)
def test_format_size_round_trips(nbytes, text):
    assert format_size(nbytes) == text
    assert parse_size(text) == nbytes
