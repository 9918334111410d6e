"""Read a scenario file: TOML text -> frozen attrs Scenario, every problem at once.

A scenario file is data.  Loading parses TOML with tomllib and structures
it with cattrs; nothing in it is evaluated and no other file is read.

Every problem is one line, ``FILE: key.path: what was found; what is
allowed``, and all of them are reported at once: when a table fails to
structure, its good fields are salvaged so the rules across fields still
run on them, and a rule is only silenced when it depends on a value that
already has a problem.
"""

from __future__ import annotations

import difflib
import enum
import json
import tomllib
import typing
from pathlib import Path

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn

from ztui.core.vmstats import PAGE_SIZE, compute_thresholds, ordering_problems
from ztui.scenario.errors import InvalidValue, ScenarioError
from ztui.scenario.model import (
    Allocators,
    Duration,
    Expect,
    GiB,
    Interrupt,
    Machine,
    MiB,
    PageAmount,
    Phase,
    PhaseOp,
    Process,
    Rate,
    Run,
    Scenario,
    Size,
    Vm,
)
from ztui.scenario.units import (
    DURATION,
    PAGE_AMOUNT,
    RATE,
    SIZE,
    format_size,
    parse_duration,
    parse_page_amount,
    parse_rate,
    parse_size,
)

# A scenario is a few kilobytes; refuse to slurp a disk image by mistake.
MAX_FILE_BYTES = 1 * MiB
PHYSMEM_MIN = 1 * MiB
PHYSMEM_MAX = 64 * GiB
SWAP_MAX = 256 * GiB
NCPUS_MIN, NCPUS_MAX = 1, 64
HZ_MIN, HZ_MAX = 10, 1000
NICE_MIN, NICE_MAX = -20, 20  # PRIO_MIN, PRIO_MAX
KNOWN_EVENTS = ("oom-kill", "swap-full")
EM_MIN_RXD, EM_MAX_RXD = 256, 4096  # if_em.h: the RX descriptors hw.em.rxd allows
KMALLOC_OBJ_MAX = 128 * 1024 - 352 - 8  # one object after the slab header (malloc_mgt_init)
# Phases that take `pages` (required for the first three), `rate` and `time`.
NEEDS_PAGES = (PhaseOp.ALLOC, PhaseOp.READ, PhaseOp.FREE, PhaseOp.TOUCH)
TAKES_PAGES = (*NEEDS_PAGES, PhaseOp.CHURN)
TAKES_RATE = TAKES_PAGES
TAKES_TIME = (PhaseOp.SLEEP,)

KeyPath = tuple[str | int, ...]
Problem = tuple[KeyPath, str]  # where, and "what was found; what is allowed"

_FIELD_TYPES = typing.get_type_hints(Scenario)


def load_scenario(path: str | Path) -> Scenario:
    """The scenario in ``path``; raises ScenarioError listing every problem."""
    scenario, problems = _load(Path(path))
    if problems:
        raise ScenarioError(problems)
    return scenario


def check_scenario(path: str | Path) -> list[str]:
    """Every problem in ``path``, one line each; empty when it loads."""
    return _load(Path(path))[1]


def scenario_problems(scenario: Scenario) -> list[str]:
    """The cross-field rules ``ztui check`` applies, for a Scenario built in code (e.g. a sweep's)."""
    sections = {field.name: getattr(scenario, field.name) for field in attrs.fields(Scenario)}
    return [f"{_render(where)}: {what}" for where, what in _rule_problems(sections, set())]


def _load(path: Path) -> tuple[Scenario | None, list[str]]:
    try:
        text = _read_text(path)
        raw = _parse_toml(text)
    except _Unusable as exc:
        return None, [f"{path}: {exc}"]
    sections, failed, problems = _structure_sections(raw)
    problems += [rule for rule in _rule_problems(sections, failed) if not _overlaps(rule[0], failed)]
    order = {key: index for index, key in enumerate(raw)}
    problems.sort(key=lambda problem: order.get(problem[0][0], len(order)))  # file order, by section
    if problems:
        return None, [f"{path}: {_render(where)}: {what}" for where, what in problems]
    sections.setdefault("name", path.stem)
    sections.setdefault("description", _leading_comment(text))
    return Scenario(**sections), []


class _Unusable(Exception):
    """The file as a whole cannot be read as TOML."""


def _read_text(path: Path) -> str:
    if path.is_dir():
        raise _Unusable("is a directory, not a scenario file")
    if not path.exists():
        raise _Unusable("no such file")
    if not path.is_file():
        raise _Unusable("not a regular file")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _Unusable(f"{size} bytes; a scenario is at most {format_size(MAX_FILE_BYTES)}")
        data = path.read_bytes()
    except OSError as exc:
        raise _Unusable(f"cannot read: {exc.strerror}") from None
    if b"\0" in data:
        raise _Unusable("binary data (a NUL byte); a scenario is a TOML text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Unusable(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "a scenario is a TOML text file"
        ) from None
    if not text.strip():
        raise _Unusable("empty file; a scenario needs at least one [[process]] (see docs/scenarios.md)")
    return text


def _parse_toml(text: str) -> dict:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _Unusable(f"TOML syntax error: {exc}") from None
    if not raw:
        raise _Unusable("no settings, only comments; a scenario needs at least one [[process]]")
    return raw


def _leading_comment(text: str) -> str:
    """The comment block that opens the file, without the '#' marks."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.removeprefix("#").removeprefix(" ").rstrip())
    return "\n".join(lines).strip()


# --- structuring -------------------------------------------------------------


def _structure_sections(raw: dict) -> tuple[dict, set[KeyPath], list[Problem]]:
    """Structure each top-level key: (values, key paths that failed, problems).

    A key that fails keeps what could be salvaged of it in ``values``.
    """
    converter = _make_converter(_hz_for_ticks(raw))
    sections, failed, problems = {}, set(), []
    for key, value in raw.items():
        if key not in _FIELD_TYPES:
            failed.add((key,))
            problems.append(((key,), _unknown_key(key, Scenario, "at the top level")))
            continue
        try:
            sections[key] = converter.structure(value, _FIELD_TYPES[key])
        except Exception as exc:  # cattrs groups every field's error under one exception
            for where, leaf, type_ in _leaves(exc, (key,)):
                failed.add(where)
                problems.append(_describe_leaf(raw, where, leaf, type_))
            salvaged = _salvage(converter, value, _FIELD_TYPES[key])
            if salvaged is not None:
                sections[key] = salvaged
    return sections, failed, problems


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


def _overlaps(where: KeyPath, failed: set[KeyPath]) -> bool:
    """Whether a rule's verdict at ``where`` rests on a value that failed."""
    return any(where[: len(bad)] == bad or bad[: len(where)] == where for bad in failed)


def _hz_for_ticks(raw: dict) -> int:
    """The hz that converts "N ticks"; the default if [machine] hz is unusable."""
    machine = raw.get("machine")
    hz = machine.get("hz") if isinstance(machine, dict) else None
    if type(hz) is int and HZ_MIN <= hz <= HZ_MAX:
        return hz
    return Machine().hz


def _make_converter(hz: int) -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(Size, lambda value, _: parse_size(value))
    converter.register_structure_hook(PageAmount, lambda value, _: parse_page_amount(value))
    converter.register_structure_hook(Duration, lambda value, _: parse_duration(value, hz))
    converter.register_structure_hook(Rate, lambda value, _: parse_rate(value))
    # cattrs would coerce with int()/str(): "4" -> 4, 1.9 -> 1, 7 -> "7".
    converter.register_structure_hook(int, _strict(int, "an integer"))
    converter.register_structure_hook(str, _strict(str, "a string"))
    converter.register_structure_hook_factory(_is_enum, _enum_hook)
    converter.register_structure_hook_factory(_is_array, _array_hook)
    converter.register_structure_hook_factory(attrs.has, _table_hook)
    return converter


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
            raise InvalidValue(f"{_one_of(choices)}{_did_you_mean(value, choices)}")
        raise InvalidValue(f"expected a string, {_one_of(choices)}")

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
    fields = make_dict_structure_fn(cls, converter)

    def structure(value, _):
        if not isinstance(value, dict):
            raise InvalidValue(f"expected a table with keys {_key_list(cls)}")
        return fields(value, cls)

    return structure


# --- turning cattrs errors into lines ----------------------------------------


def _leaves(exc: BaseException, where: KeyPath, type_=None):
    """(key path, exception, expected type) for each failure in a cattrs error tree."""
    if isinstance(exc, (ClassValidationError, IterableValidationError)):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            key = note.name if isinstance(exc, ClassValidationError) else note.index
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
        return where, _unknown_key(where[-1], exc.cl, f"in {_table_name(where[:-1])}")
    if isinstance(exc, KeyError):
        return _missing(where, f"required: {_expected(type_)}")
    found = _found(raw, where)
    if isinstance(exc, InvalidValue):
        return where, f"found {found}; {exc}"
    return where, f"found {found}; expected {_expected(type_)}"


def _unknown_key(key: str, cls: type, place: str) -> str:
    names = [field.name for field in attrs.fields(cls)]
    return f"unknown key{_did_you_mean(key, names)}; allowed {place}: {_key_list(cls)}"


def _expected(type_) -> str:
    if typing.get_origin(type_) in (typing.Union, type(int | None)):
        type_ = next(arg for arg in typing.get_args(type_) if arg is not type(None))
    kinds = {Size: SIZE, PageAmount: PAGE_AMOUNT, Duration: DURATION, Rate: RATE}
    if type_ in kinds:
        return f"a {kinds[type_].name}: {kinds[type_].forms}"
    if _is_enum(type_):
        return _one_of([member.value for member in type_])
    if attrs.has(type_):
        return f"a table with keys {_key_list(type_)}"
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
    if isinstance(value, (str, int, float)):
        return json.dumps(value, ensure_ascii=False)
    return f"a TOML {type(value).__name__}"


def _one_of(choices: list[str]) -> str:
    return "one of " + ", ".join(json.dumps(choice) for choice in choices)


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _key_list(cls: type) -> str:
    return ", ".join(field.name for field in attrs.fields(cls))


def _table_name(where: KeyPath) -> str:
    return f"[{_render(where)}]" if where else "at the top level"


def _render(where: KeyPath) -> str:
    text = ""
    for key in where:
        text += f"[{key}]" if isinstance(key, int) else f".{key}"
    return text.removeprefix(".")


# --- rules across fields ------------------------------------------------------


def _rule_problems(sections: dict, failed: set[KeyPath]) -> list[Problem]:
    """Rules no single field's type expresses, on what structured or was salvaged."""
    parts = {field.name: sections.get(field.name, field.default) for field in attrs.fields(Scenario)}
    machine_problems = _machine_problems(parts["machine"])
    problems = list(machine_problems)
    # The thresholds derive from physmem: judge them on a sound machine only.
    if not machine_problems and not _overlaps(("machine",), failed):
        problems += _threshold_problems(parts["machine"], parts["vm"])
    problems += _allocator_problems(parts["allocators"])
    for index, process in _present(parts["process"]):
        problems += _process_problems(("process", index), process)
    # The consumer and the kmalloc_obj owners name processes: judge them once every name is known.
    if not _overlaps(("process",), failed):
        problems += _consumer_problems(parts["interrupt"], parts["process"])
        problems += _kmalloc_obj_problems(parts["allocators"], parts["process"])
    problems += _interrupt_problems(parts["interrupt"])
    problems += _run_problems(parts["run"])
    problems += _expect_problems(parts["expect"])
    if parts["name"] == "" and "name" in sections:
        problems.append(_bad(("name",), '""', "leave name out to use the file name"))
    return problems


def _present(items: tuple) -> list[tuple[int, object]]:
    """(index, item) for the items of a salvaged array that structured."""
    return [(index, item) for index, item in enumerate(items) if item is not None]


def _machine_problems(machine: Machine) -> list[Problem]:
    problems = []
    physmem, swap = format_size(machine.physmem), format_size(machine.swap)
    if machine.physmem < PHYSMEM_MIN:
        problems.append(_bad(("machine", "physmem"), physmem, f"must be at least {format_size(PHYSMEM_MIN)}"))
    elif machine.physmem > PHYSMEM_MAX:
        limit = f"the model holds at most {format_size(PHYSMEM_MAX)}"
        problems.append(_bad(("machine", "physmem"), physmem, limit))
    if machine.swap == 0:
        problems.append(_bad(("machine", "swap"), "0", "must be more than zero"))
    elif machine.swap > SWAP_MAX:
        problems.append(_bad(("machine", "swap"), swap, f"the model holds at most {format_size(SWAP_MAX)}"))
    problems += _in_range(("machine", "ncpus"), machine.ncpus, NCPUS_MIN, NCPUS_MAX)
    problems += _in_range(("machine", "hz"), machine.hz, HZ_MIN, HZ_MAX)
    problems += _in_range(("machine", "steps_per_tick"), machine.steps_per_tick, 1, None)
    # The defaults documented on Machine: vm_dma_reserved and a rough kernel size.
    dma = machine.dma_reserved if machine.dma_reserved is not None else min(128 * MiB, machine.physmem // 16)
    wired = machine.kernel_wired if machine.kernel_wired is not None else machine.physmem // 16
    if not problems and dma + wired >= machine.physmem:
        found = f"dma_reserved {format_size(dma)} + kernel_wired {format_size(wired)}"
        allowed = f"must be less than physmem {physmem}, or no page is ever free"
        problems.append(_bad(("machine",), found, allowed))
    return problems


def _threshold_problems(machine: Machine, vm: Vm) -> list[Problem]:
    overrides = vm.overrides()
    problems = [
        _bad(("vm", name), str(value), "a page count cannot be negative")
        for name, value in overrides.items()
        if value < 0
    ]
    if problems:
        return problems
    thresholds = compute_thresholds(machine.physmem // PAGE_SIZE, overrides=overrides)
    # With no overrides the order can only break because physmem is tiny.
    where = ("vm",) if overrides else ("machine", "physmem")
    return [(where, f"threshold order broken: {text}") for text in ordering_problems(thresholds)]


def _allocator_problems(allocators: Allocators) -> list[Problem]:
    problems = _in_range(("allocators", "kmslab_cache"), allocators.kmslab_cache, 0, None)
    problems += _in_range(("allocators", "mapent_boot"), allocators.mapent_boot, 0, None)
    seen = set()
    for index, mitigation in _present(allocators.mitigations):
        if mitigation in seen:
            where = ("allocators", "mitigations", index)
            problems.append(_bad(where, f'"{mitigation.value}" again', "list each mitigation once"))
        seen.add(mitigation)
    return problems


def _process_problems(where: KeyPath, process: Process) -> list[Problem]:
    problems = []
    if not process.name:
        problems.append(_bad((*where, "name"), '""', "a name needs at least one character"))
    problems += _in_range((*where, "nice"), process.nice, NICE_MIN, NICE_MAX)
    if process.region is not None and (process.region == 0 or process.region % PAGE_SIZE):
        problems.append(_bad((*where, "region"), format_size(process.region), "whole pages of 4k, more than zero"))
    if process.working_set % PAGE_SIZE:
        problems.append(_bad((*where, "working_set"), format_size(process.working_set), "whole pages of 4k"))
    if not process.phases:
        example = 'phases = [{op = "alloc", pages = "6m"}]'
        problems.append(_missing((*where, "phases"), f"a process needs at least one phase, e.g. {example}"))
    exited = False
    for index, phase in _present(process.phases):
        at = (*where, "phases", index)
        if exited:
            found = f'"{phase.op.value}" after "exit"'
            problems.append(_bad((*at, "op"), found, '"exit" must be the last phase'))
        problems += _phase_problems(at, phase)
        exited = exited or phase.op is PhaseOp.EXIT
    return problems


def _phase_problems(where: KeyPath, phase: Phase) -> list[Problem]:
    op = phase.op.value
    problems = []
    if phase.pages is None and phase.op in NEEDS_PAGES:
        problems.append(_missing((*where, "pages"), f'"{op}" needs pages, e.g. pages = "6m"'))
    problems += _unused((*where, "pages"), phase.pages, phase.op, TAKES_PAGES)
    problems += _unused((*where, "rate"), phase.rate, phase.op, TAKES_RATE)
    problems += _unused((*where, "time"), phase.time, phase.op, TAKES_TIME)
    if phase.op is PhaseOp.SLEEP and phase.time is None:
        problems.append(_missing((*where, "time"), '"sleep" needs time, e.g. time = "2s"'))
    if phase.pages is not None and phase.op in TAKES_PAGES:
        if phase.pages == 0:
            problems.append(_bad((*where, "pages"), "0", "must be more than zero"))
        elif phase.pages % PAGE_SIZE:
            allowed = "must be whole pages of 4k (a bare integer counts pages, e.g. pages = 1536)"
            problems.append(_bad((*where, "pages"), f"{phase.pages} bytes", allowed))
    if phase.rate == 0 and phase.op in TAKES_RATE:
        hint = "leave rate out to go as fast as the process can fault"
        problems.append(_bad((*where, "rate"), "0", f"must be more than zero; {hint}"))
    if phase.time == 0 and phase.op in TAKES_TIME:
        problems.append(_bad((*where, "time"), "0", "must be more than zero"))
    return problems


def _unused(where: KeyPath, value, op: PhaseOp, takers: tuple[PhaseOp, ...]) -> list[Problem]:
    if value is None or op in takers:
        return []
    names = ", ".join(f'"{taker.value}"' for taker in takers)
    return [_bad(where, f'{where[-1]} on "{op.value}"', f"only {names} take {where[-1]}")]


def _consumer_problems(interrupt: Interrupt, processes: tuple[Process, ...]) -> list[Problem]:
    names = [process.name for process in processes]
    if interrupt.consumer is None or interrupt.consumer in names:
        return []
    quoted = ", ".join(json.dumps(name) for name in names)
    allowed = f"the name of a [[process]]: {quoted}" if names else "there is no [[process]] to name"
    found = json.dumps(interrupt.consumer) + _did_you_mean(interrupt.consumer, names)
    return [_bad(("interrupt", "consumer"), found, allowed)]


def _kmalloc_obj_problems(allocators: Allocators, processes: tuple[Process, ...]) -> list[Problem]:
    """Each workload kmalloc_obj type: a new name, a size that fits a slab, a positive rate, an owner that exists."""
    names = [process.name for process in processes]
    problems: list[Problem] = []
    seen = {"SWAPMETA", "MAP ENTRY"}
    for index, obj in _present(allocators.kmalloc_obj):
        at = ("allocators", "kmalloc_obj", index)
        if not obj.name or obj.name in seen:
            problems.append(_bad((*at, "name"), json.dumps(obj.name), "a name of its own, not SWAPMETA, MAP ENTRY or one already used"))
        seen.add(obj.name)
        if not 1 <= obj.size <= KMALLOC_OBJ_MAX:
            problems.append(_bad((*at, "size"), format_size(obj.size), f"1 byte to {format_size(KMALLOC_OBJ_MAX)}, so a 128k slab holds one"))
        problems += _in_range((*at, "rate"), obj.rate, 1, None)
        if obj.lifetime == 0:
            problems.append(_bad((*at, "lifetime"), "0", "more than zero; leave it out to keep them until the owner exits"))
        if obj.owner not in names:
            found = json.dumps(obj.owner) + _did_you_mean(obj.owner, names)
            problems.append(_bad((*at, "owner"), found, "the name of a [[process]]"))
    return problems


def _interrupt_problems(interrupt: Interrupt) -> list[Problem]:
    problems = _in_range(("interrupt", "ring"), interrupt.ring, EM_MIN_RXD, EM_MAX_RXD)
    if interrupt.sockbuf < 2048:
        problems.append(_bad(("interrupt", "sockbuf"), format_size(interrupt.sockbuf), "at least one 2k mbuf cluster"))
    return problems


def _run_problems(run: Run) -> list[Problem]:
    problems = _in_range(("run", "max_steps"), run.max_steps, 1, None)
    problems += _in_range(("run", "quantum"), run.quantum, 1, None)
    for name in ("max_time", "livelock_window"):
        if getattr(run, name) == 0:
            problems.append(_bad(("run", name), "0", "must be more than zero"))
    return problems


def _expect_problems(expect: Expect) -> list[Problem]:
    known = list(KNOWN_EVENTS)
    return [
        _bad(("expect", "events", index), f'"{event}"', _one_of(known) + _did_you_mean(event, known))
        for index, event in _present(expect.events)
        if event not in KNOWN_EVENTS
    ]


def _in_range(where: KeyPath, value: int, low: int, high: int | None) -> list[Problem]:
    if value < low:
        allowed = f"must be at least {low}" if high is None else f"allowed: {low} to {high}"
    elif high is not None and value > high:
        allowed = f"allowed: {low} to {high}"
    else:
        return []
    return [_bad(where, str(value), allowed)]


def _bad(where: KeyPath, found: str, allowed: str) -> Problem:
    return where, f"found {found}; {allowed}"


def _missing(where: KeyPath, needed: str) -> Problem:
    return where, f"missing; {needed}"
