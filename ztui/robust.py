"""Is a verdict robust?  Move each of a scenario's numbers and see where the verdict still holds.

Every size, rate and latency of the machine and the workload (and the
counts that are workload, not method: blank slabs, RX descriptors, object
rates) is scaled by each factor around 1 while the others stay put; each
variant runs to its verdict.  For each parameter the report gives the
verdicts and the interval around the scenario's own value over which the
verdict is the scenario's.  The run settings ([run]: limits, window,
scheduler) and [expect] are the method, not the experiment, and are left
alone, as are hz and ncpus, which are not quantities a ±25 % makes sense of.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterator, Sequence

import attrs

from ztui.core.simulator import Simulator
from ztui.scenario.model import Duration, PageAmount, Rate, Scenario, Size

FACTORS = (0.75, 0.875, 1.125, 1.25)
LEFT_ALONE = frozenset({"run", "expect", "name", "description", "hz", "ncpus", "nice"})
INT_KEYS = frozenset({"kmslab_cache", "ring", "rate", "steps_per_tick", "mapent_boot", "poll_types"})
PAGE = 4096

Path = tuple[str | int, ...]


@attrs.frozen
class Variant:
    factor: float
    value: str  # as a scenario file would write it
    verdict: str  # the run's verdict, or "invalid: ..." when the machine would not pass `ztui check`


@attrs.frozen
class ParameterResult:
    key: str  # e.g. "process[chrome].phases[0].pages"
    value: str
    variants: tuple[Variant, ...]
    holds: tuple[float, float]  # the factors between which the verdict is the scenario's

    def robust(self) -> bool:
        return self.holds == (min(FACTORS), max(FACTORS))


@attrs.frozen
class RobustResult:
    verdict: str  # the scenario's own verdict
    parameters: tuple[ParameterResult, ...]


def numeric_fields(scenario: Scenario) -> Iterator[tuple[Path, str, object]]:
    """(path, display key, value) of every quantity a robustness sweep moves.

    A quantity of something the scenario does not use (the NIC without a
    receive rate, a read latency without a read phase) is left out."""
    ops = {ph.op.value for p in scenario.process for ph in p.phases}
    unused: set[Path] = set()
    if not scenario.interrupt.rate:
        unused.add(("interrupt",))
    if "read" not in ops:
        unused.add(("io", "file_read_latency"))
    if "touch" not in ops:
        unused.add(("io", "swap_read_latency"))
    for path, key, value in _walk(scenario, (), ""):
        if not any(path[: len(u)] == u for u in unused):
            yield path, key, value


def key_pattern(glob: str) -> re.Pattern[str]:
    """A --only glob: `*` matches any run of characters; brackets and dots are literal, as keys have them."""
    return re.compile(".*".join(re.escape(part) for part in glob.split("*")))


def chosen_fields(scenario: Scenario, only: Sequence[str] = ()) -> list[tuple[Path, str, object]]:
    """numeric_fields() whose key matches one of the ``only`` globs (all of them without any)."""
    patterns = [key_pattern(glob) for glob in only]
    return [f for f in numeric_fields(scenario) if not patterns or any(p.fullmatch(f[1]) for p in patterns)]


def _walk(node, path: Path, key: str) -> Iterator[tuple[Path, str, object]]:
    hints = typing.get_type_hints(type(node))
    for field in attrs.fields(type(node)):
        name = field.name
        if name in LEFT_ALONE:
            continue
        value = getattr(node, name)
        sub, subkey = (*path, name), f"{key}.{name}" if key else name
        if attrs.has(type(value)):
            yield from _walk(value, sub, subkey)
        elif isinstance(value, tuple) and value and attrs.has(type(value[0])):
            for i, item in enumerate(value):
                yield from _walk(item, (*sub, i), f"{subkey}[{getattr(item, 'name', i)}]")
        elif _movable(hints.get(name), value, name):
            yield sub, subkey, value


def _movable(kind, value, name: str) -> bool:
    if value is None or isinstance(value, bool) or not isinstance(value, int) or value == 0:
        return False
    return isinstance(value, (Size, Duration, Rate)) or name in INT_KEYS


def scaled(value: int, factor: float) -> int:
    """The value times ``factor``, at least 1: whole pages for a size in pages, bytes for one that is not
    (an object's size: 160 bytes of namecache entry must not become a page)."""
    if isinstance(value, Size) and value % PAGE == 0:
        pages = max(1, round(value * factor / PAGE))
        return type(value)(pages * PAGE)
    return type(value)(max(1, round(value * factor)))


def replace(node, path: Path, value):
    """``node`` with the field at ``path`` set to ``value`` (frozen attrs all the way down)."""
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(node)
        items[head] = replace(items[head], rest, value) if rest else value
        return tuple(items)
    inner = getattr(node, head)
    return attrs.evolve(node, **{head: replace(inner, rest, value) if rest else value})


def written(value) -> str:
    """A value as a scenario file writes it."""
    if isinstance(value, PageAmount | Size):
        if value % PAGE:
            return f"{int(value)} bytes"
        return f"{value // PAGE} pages" if value % (1 << 20) else f"{value >> 20}m"
    if isinstance(value, Duration):
        return f"{value / 1e6:g}s"
    if isinstance(value, Rate):
        return f"{value / (1 << 20):g}m/s"
    return str(value)


def run_verdict(scenario: Scenario) -> str:
    sim = Simulator.from_scenario(scenario, log=False)
    verdict = sim.run()
    return verdict.kind if verdict else "limit"


def robust(
    scenario: Scenario,
    factors: Sequence[float] = FACTORS,
    runner: Callable[[list[Scenario]], list[str]] | None = None,
    problems: Callable[[Scenario], list[str]] | None = None,
    only: Sequence[str] = (),
) -> RobustResult:
    """Move each quantity (those ``only`` names, or all) by each factor; ``runner`` runs a batch to its verdicts."""
    runner = runner or (lambda batch: [run_verdict(s) for s in batch])
    problems = problems or (lambda s: [])
    fields = chosen_fields(scenario, only)
    variants = [scenario]
    slots: list[tuple[str, float, Scenario, str]] = []
    for path, key, value in fields:
        for factor in factors:
            variant = replace(scenario, path, scaled(value, factor))  # type: ignore[arg-type]  # a movable quantity
            wrong = problems(variant)
            slots.append((key, factor, variant, wrong[0] if wrong else ""))
            if not wrong:
                variants.append(variant)
    verdicts = iter(runner(variants))
    base = next(verdicts)
    results: dict[str, list[Variant]] = {key: [] for _, key, _ in fields}
    for (key, factor, variant, why_invalid), (path, _, _) in zip(slots, (f for f in fields for _ in factors)):
        verdict = f"invalid: {why_invalid}" if why_invalid else next(verdicts)
        results[key].append(Variant(factor, written(_at(variant, path)), verdict))
    return RobustResult(
        base,
        tuple(
            ParameterResult(key, written(value), tuple(results[key]), holding(results[key], base))
            for _, key, value in fields
        ),
    )


def _at(node, path: Path):
    for step in path:
        node = node[step] if isinstance(step, int) else getattr(node, step)
    return node


def holding(variants: list[Variant], base: str) -> tuple[float, float]:
    """The factors, nearest 1 outwards on each side, up to which the verdict stays ``base``."""
    low = high = 1.0
    for v in sorted((v for v in variants if v.factor < 1), key=lambda v: -v.factor):
        if v.verdict != base:
            break
        low = v.factor
    for v in sorted((v for v in variants if v.factor > 1), key=lambda v: v.factor):
        if v.verdict != base:
            break
        high = v.factor
    return low, high
