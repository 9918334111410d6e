"""Sizes, durations and rates written the way people write them.

Sizes use binary units ("1m" is 1 MiB, "1mb" too) and pages of 4 KiB.
Unit names are case-insensitive and a space may separate the number from
the unit; a decimal number is fine as long as the result is whole
("1.5g", but not "1.5 bytes").  A bare integer is bytes for a size and
bytes per second for a rate.  A duration always needs a unit, because a
bare "30" could mean seconds or ticks; "ticks" are converted with the
machine's hz.
"""

from __future__ import annotations

import re
from fractions import Fraction

import attrs

from ztui.core.vmstats import PAGE_SIZE
from ztui.scenario.errors import InvalidValue
from ztui.scenario.model import USEC, Duration, GiB, KiB, MiB, PageAmount, Rate, Size

TiB = 1024 * GiB


@attrs.frozen
class QuantityKind:
    """How one kind of quantity is written, for parsing and for error messages."""

    name: str  # "size", "duration" or "rate"
    forms: str  # the accepted spellings, for error messages
    base: str  # the base unit the result counts
    int_unit: int | None  # what a bare TOML integer means; None: a unit is required


SIZE = QuantityKind(
    "size", '"2g", "512m", "64k", "4096 pages", "1 page" or an integer number of bytes', "bytes", 1
)
PAGE_AMOUNT = QuantityKind(
    "size", '"6m", "64k", "1536 pages", "1 page" or an integer number of pages', "bytes", PAGE_SIZE
)
DURATION = QuantityKind("duration", '"30s", "250ms", "500us" or "10 ticks"', "microseconds", None)
RATE = QuantityKind(
    "rate", '"100m/s", "2000 pages/s" or an integer number of bytes per second', "bytes per second", 1
)

SIZE_UNITS = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    **dict.fromkeys(("k", "kb", "kib"), KiB),
    **dict.fromkeys(("m", "mb", "mib"), MiB),
    **dict.fromkeys(("g", "gb", "gib"), GiB),
    **dict.fromkeys(("t", "tb", "tib"), TiB),
    "page": PAGE_SIZE,
    "pages": PAGE_SIZE,
}
DURATION_UNITS = {"s": USEC, "sec": USEC, "ms": USEC // 1000, "us": 1}
TICK_UNITS = ("tick", "ticks")

_QUANTITY = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)\s*([a-z]*)\s*")
_PER_SECOND = re.compile(r"(.*?)\s*/\s*s(?:ec)?\s*")


def parse_size(value: object) -> Size:
    """Bytes from "2g", "512m", "64k", "4096 pages", "1 page" or an int of bytes."""
    return Size(_quantity(value, SIZE_UNITS, SIZE))


def parse_page_amount(value: object) -> PageAmount:
    """Bytes from "6m", "1536 pages" or an int of pages (a phase's ``pages``)."""
    return PageAmount(_quantity(value, SIZE_UNITS, PAGE_AMOUNT))


def parse_duration(value: object, hz: int = 100) -> Duration:
    """Microseconds from "30s", "250ms", "500us" or "10 ticks" (at ``hz``)."""
    units = {**DURATION_UNITS, **dict.fromkeys(TICK_UNITS, Fraction(USEC, hz))}
    return Duration(_quantity(value, units, DURATION))


def parse_rate(value: object) -> Rate:
    """Bytes per second from "100m/s", "2000 pages/s" or an int of bytes/s."""
    if isinstance(value, str):
        match = _PER_SECOND.fullmatch(value)
        if match is None:
            raise InvalidValue(f"expected a rate: {RATE.forms}")
        value = match.group(1)
    return Rate(_quantity(value, SIZE_UNITS, RATE))


def _quantity(value: object, units: dict, kind: QuantityKind) -> int:
    """Parse number-and-unit ``value`` to an int count of ``kind.base``.

    Ticks rarely divide a second evenly (hz=300), so they round to the
    nearest microsecond; any other unit must give a whole count.
    """
    if isinstance(value, int) and not isinstance(value, bool) and kind.int_unit is not None:
        amount = Fraction(value * kind.int_unit)
    elif isinstance(value, str):
        match = _QUANTITY.fullmatch(value.lower())
        if match is None or match.group(2) not in units:
            raise InvalidValue(f"expected a {kind.name}: {kind.forms}")
        number, unit = match.groups()
        amount = Fraction(number) * units[unit]
        if unit in TICK_UNITS:
            amount = Fraction(round(amount))
    else:
        raise InvalidValue(f"expected a {kind.name}: {kind.forms}")
    if amount < 0:
        raise InvalidValue(f"a {kind.name} cannot be negative")
    if amount.denominator != 1:
        raise InvalidValue(f"not a whole number of {kind.base}")
    return int(amount)


def format_size(nbytes: int) -> str:
    """The shortest exact spelling parse_size accepts: 2147483648 -> "2g"."""
    for suffix, unit in (("t", TiB), ("g", GiB), ("m", MiB), ("k", KiB)):
        if nbytes and nbytes % unit == 0:
            return f"{nbytes // unit}{suffix}"
    return f"{nbytes} bytes"
