"""Structuring: a plain dict (from TOML, or a trace's JSON) onto the frozen attrs Scenario.

Every field's type is checked strictly (cattrs would coerce "4" to 4 and
1.9 to 1) and quantities are parsed by ztui.scenario.units.  When a table
fails to structure, its good fields are salvaged so that the rules across
fields (ztui.scenario.rules) still run on them.

Two spellings of quantities exist: a file's (``"2g"``, ``"30s"``; a bare
integer is bytes, or pages in a phase) and a trace's (bare integers in
base units: bytes, microseconds, bytes per second).  Everything else is
the same code for both.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn

from ztui.scenario.errors import InvalidValue
from ztui.scenario.messages import (
    KeyPath,
    Problem,
    bad,
    did_you_mean,
    key_list,
    missing,
    one_of,
    quoted,
    table_name,
)
from ztui.scenario.model import Duration, Machine, PageAmount, Rate, Scenario, Size
from ztui.scenario.units import (
    DURATION,
    PAGE_AMOUNT,
    RATE,
    SIZE,
    parse_duration,
    parse_page_amount,
    parse_rate,
    parse_size,
)

HZ_MIN, HZ_MAX = 10, 1000
FIELD_TYPES = typing.get_type_hints(Scenario)
_QUANTITY_KINDS = {Size: SIZE, PageAmount: PAGE_AMOUNT, Duration: DURATION, Rate: RATE}
_BASE_UNITS = {Size: "bytes", PageAmount: "bytes", Duration: "microseconds", Rate: "bytes per second"}


class Spelling(enum.Enum):
    FILE = "file"  # "2g", "30s": a scenario file
    BASE_UNITS = "base units"  # integers: a trace's embedded scenario


def structure_sections(raw: dict, spelling: Spelling = Spelling.FILE) -> tuple[dict, set[KeyPath], list[Problem]]:
    """Structure each top-level key: (values, key paths that failed, problems).

    A key that fails keeps what could be salvaged of it in ``values``.
    """
    converter = _make_converter(_hz_for_ticks(raw), spelling)
    sections: dict = {}
    failed: set[KeyPath] = set()
    problems: list[Problem] = []
    for key, value in raw.items():
        if key not in FIELD_TYPES:
            failed.add((key,))
            problems.append(((key,), unknown_key(key, Scenario, "at the top level")))
            continue
        try:
            sections[key] = converter.structure(value, FIELD_TYPES[key])
        except Exception as exc:  # cattrs groups every field's error under one exception
            for where, leaf, type_ in _leaves(exc, (key,)):
                failed.add(where)
                problems.append(_describe_leaf(raw, where, leaf, type_))
            salvaged = _salvage(converter, value, FIELD_TYPES[key])
            if salvaged is not None:
                sections[key] = salvaged
    return sections, failed, problems


def unknown_key(key: str, cls: type, place: str) -> str:
    names = [field.name for field in attrs.fields(cls)]
    return f"unknown key{did_you_mean(key, names)}; allowed {place}: {key_list(cls)}"


def _salvage(converter: cattrs.Converter, value, type_):
    """What structures of a value that did not: good fields kept, bad ones
    back to their defaults, bad array items None; None if nothing is left."""
    try:
        return converter.structure(value, type_)
    except Exception:  # reported already; only the good parts matter here
        pass
    if attrs.has(type_) and isinstance(value, dict):
        hints = typing.get_type_hints(type_)
        kept = {}
        for field in attrs.fields(type_):
            if field.name in value:
                kept[field.name] = _salvage(converter, value[field.name], hints[field.name])
            if kept.get(field.name) is None and field.default is attrs.NOTHING:
                return None
        return type_(**{name: item for name, item in kept.items() if item is not None})
    if _is_array(type_) and isinstance(value, list):
        return tuple(_salvage(converter, item, typing.get_args(type_)[0]) for item in value)
    return None


def _hz_for_ticks(raw: dict) -> int:
    """The hz that converts "N ticks"; the default if [machine] hz is unusable."""
    machine = raw.get("machine")
    hz = machine.get("hz") if isinstance(machine, dict) else None
    if type(hz) is int and HZ_MIN <= hz <= HZ_MAX:
        return hz
    return Machine().hz


def _make_converter(hz: int, spelling: Spelling) -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    if spelling is Spelling.FILE:
        converter.register_structure_hook(Size, lambda value, _: parse_size(value))
        converter.register_structure_hook(PageAmount, lambda value, _: parse_page_amount(value))
        converter.register_structure_hook(Duration, lambda value, _: parse_duration(value, hz))
        converter.register_structure_hook(Rate, lambda value, _: parse_rate(value))
    else:
        for kind, unit in _BASE_UNITS.items():
            converter.register_structure_hook(kind, _base_units(kind, unit))
    # cattrs would coerce with int()/str(): "4" -> 4, 1.9 -> 1, 7 -> "7".
    converter.register_structure_hook(int, _strict(int, "an integer"))
    converter.register_structure_hook(str, _strict(str, "a string"))
    converter.register_structure_hook_factory(_is_enum, _enum_hook)
    converter.register_structure_hook_factory(_is_array, _array_hook)
    converter.register_structure_hook_factory(attrs.has, _table_hook)
    return converter


def _base_units(kind: type, unit: str):
    def structure(value, _):
        if type(value) is not int or value < 0:
            raise InvalidValue(f"expected a whole number of {unit}, at least 0")
        return kind(value)

    return structure


def _strict(kind: type, expected: str):
    def structure(value, _):
        if type(value) is not kind:
            raise InvalidValue(f"expected {expected}")
        return value

    return structure


def _is_enum(type_) -> bool:
    return isinstance(type_, type) and issubclass(type_, enum.Enum)


def _enum_hook(enum_type: type[enum.Enum]):
    choices = [member.value for member in enum_type]

    def structure(value, _):
        if value in choices:
            return enum_type(value)
        if isinstance(value, str):
            raise InvalidValue(f"{one_of(choices)}{did_you_mean(value, choices)}")
        raise InvalidValue(f"expected a string, {one_of(choices)}")

    return structure


def _is_array(type_) -> bool:
    return typing.get_origin(type_) is tuple and typing.get_args(type_)[1:] == (Ellipsis,)


def _array_hook(type_, converter: cattrs.Converter):
    # cattrs iterates any iterable: a string would become its characters
    # and a [process] table its keys.
    items = homogenous_tuple_structure_factory(type_, converter)
    item_type = typing.get_args(type_)[0]
    noun = "an array of tables, each written [[name]]" if attrs.has(item_type) else "an array"

    def structure(value, _):
        if not isinstance(value, list):
            raise InvalidValue(f"expected {noun}")
        return items(value, type_)

    return structure


def _table_hook(cls: type, converter: cattrs.Converter):
    fields: Callable[[dict, type], object] = make_dict_structure_fn(cls, converter)

    def structure(value, _):
        if not isinstance(value, dict):
            raise InvalidValue(f"expected a table with keys {key_list(cls)}")
        return fields(value, cls)

    return structure


# --- turning cattrs errors into lines ----------------------------------------


def _leaves(exc: BaseException, where: KeyPath, type_=None):
    """(key path, exception, expected type) for each failure in a cattrs error tree."""
    if isinstance(exc, (ClassValidationError, IterableValidationError)):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            key = note.name if isinstance(note, AttributeValidationNote) else note.index
            yield from _leaves(sub, (*where, key), note.type)
        for sub in without:
            yield from _leaves(sub, where, exc.cl)
    elif isinstance(exc, ForbiddenExtraKeysError):
        for key in sorted(exc.extra_fields):
            yield (*where, key), exc, exc.cl
    else:
        yield where, exc, type_


def _describe_leaf(raw: dict, where: KeyPath, exc: BaseException, type_) -> Problem:
    if isinstance(exc, ForbiddenExtraKeysError):
        return where, unknown_key(str(where[-1]), exc.cl, f"in {table_name(where[:-1])}")
    if isinstance(exc, KeyError):
        return missing(where, f"required: {_expected(type_)}")
    found = _found(raw, where)
    if isinstance(exc, InvalidValue):
        return where, f"found {found}; {exc}"
    return bad(where, found, f"expected {_expected(type_)}")


def _expected(type_) -> str:
    if typing.get_origin(type_) in (typing.Union, type(int | None)):
        type_ = next(arg for arg in typing.get_args(type_) if arg is not type(None))
    if type_ in _QUANTITY_KINDS:
        return f"a {_QUANTITY_KINDS[type_].name}: {_QUANTITY_KINDS[type_].forms}"
    if _is_enum(type_):
        return one_of([member.value for member in type_])
    if attrs.has(type_):
        return f"a table with keys {key_list(type_)}"
    if _is_array(type_):
        return "an array"
    return {int: "an integer", str: "a string"}.get(type_, str(type_))


def _found(raw: dict, where: KeyPath) -> str:
    value = raw
    for key in where:
        value = value[key]
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, (str, int, float)):
        return quoted(value)
    return f"a TOML {type(value).__name__}"
