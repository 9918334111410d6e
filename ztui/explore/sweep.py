"""Sweeps: a grid of scenario variants (``--param machine.swap=64m,128m``), each run through an executor."""

from __future__ import annotations

import itertools
import time
import types
import typing
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from enum import Enum

import attrs

from ztui.explore.executors import CLUSTER_WIDTH, ParamError, Progress, Tally, run_tasks, seed_ranges
from ztui.explore.runs import SeedRun, randomised
from ztui.scenario.errors import InvalidValue
from ztui.scenario.load import scenario_problems
from ztui.scenario.model import Duration, Rate, Scenario, Size
from ztui.scenario.units import parse_duration, parse_rate, parse_size


@attrs.frozen
class SweepPoint:
    values: tuple[tuple[str, str], ...]  # (dotted key, value as written)
    runs: tuple[SeedRun, ...]

    def counts(self) -> Counter:
        return Counter(run.verdict for run in self.runs)


@attrs.frozen
class SweepResult:
    keys: tuple[str, ...]
    points: tuple[SweepPoint, ...]
    seconds: float

    def rows(self) -> list[dict]:
        """One flat row per run: the parameters, seed, verdict, step and tick."""
        return [
            {
                **dict(point.values),
                "seed": run.seed,
                "verdict": run.verdict,
                "step": run.step,
                "tick": run.tick,
            }
            for point in self.points
            for run in point.runs
        ]


def parse_param(text: str) -> tuple[str, tuple[str, ...]]:
    """``"machine.swap=64m,128m"`` -> ("machine.swap", ("64m", "128m"))."""
    key, sep, values = text.partition("=")
    items = tuple(v.strip() for v in values.split(","))
    if not sep or not key.strip() or not all(items):
        raise ParamError(f"{text!r}: expected KEY=V1,V2,... e.g. machine.swap=64m,128m")
    return key.strip(), items


def override(scenario: Scenario, key: str, raw: str) -> Scenario:
    """The scenario with the table key ``section.field`` set to ``raw``, parsed by the field's type."""
    section, _, name = key.partition(".")
    tables = _tables()
    if section not in tables or "." in name:
        raise ParamError(
            f"{key}: not a scenario key; tables: {', '.join(sorted(tables))} (e.g. machine.swap)"
        )
    fields = typing.get_type_hints(tables[section])
    if name not in fields:
        raise ParamError(f"{key}: no such key in [{section}]; keys: {', '.join(fields)}")
    try:
        value = _parse_value(raw, fields[name], scenario.machine.hz)
    except (InvalidValue, ValueError) as exc:
        raise ParamError(f"{key}={raw}: {exc}") from None
    table = attrs.evolve(getattr(scenario, section), **{name: value})
    return attrs.evolve(scenario, **{section: table})


def _tables() -> dict[str, type]:
    """The scenario's tables ([machine], [run], ...): the sections a --param may set."""
    hints = typing.get_type_hints(Scenario)
    return {name: kind for name, kind in hints.items() if attrs.has(kind)}


def _parse_value(raw: str, kind, hz: int):
    if typing.get_origin(kind) in (typing.Union, types.UnionType):  # "Size | None"
        inner = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return None if raw.lower() == "none" else _parse_value(raw, inner[0], hz)
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        return () if raw.lower() == "none" else tuple(_parse_value(part, item, hz) for part in raw.split("+"))
    parsers: dict[object, Callable[[str], object]] = {
        Size: parse_size,
        Duration: lambda v: parse_duration(v, hz),
        Rate: parse_rate,
        int: int,
        str: str,
    }
    if kind in parsers:
        return parsers[kind](raw)
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(raw)
        except ValueError:
            raise ValueError(f"expected one of {', '.join(m.value for m in kind)}") from None
    raise ValueError(f"cannot sweep a {getattr(kind, '__name__', kind)}")


def sweep(
    scenario: Scenario,
    params: Sequence[tuple[str, Sequence[str]]],
    seeds: int = 1,
    *,
    jobs: int = 1,
    executor: Executor | None = None,
    on_progress: Progress | None = None,
) -> SweepResult:
    """Run every combination of ``params`` values, ``seeds`` runs each.

    One seed runs the scenario as written (its own seed and scheduler);
    several run seeds 0..N-1 under the random scheduler, since under
    round-robin every seed gives the same run.  Every grid point must pass
    ``ztui check``'s rules (its boot included) before anything runs.
    """
    keys = tuple(key for key, _ in params)
    if len(set(keys)) != len(keys):
        raise ParamError(f"a key is given twice: {', '.join(keys)}")
    grid = list(itertools.product(*(values for _, values in params)))
    variants = []
    for combo in grid:
        variant = scenario
        for key, raw in zip(keys, combo):
            variant = override(variant, key, raw)
        problems = scenario_problems(variant)
        if problems:
            where = ", ".join(f"{k}={v}" for k, v in zip(keys, combo))
            raise ParamError(f"{where}: {problems[0]}")
        variants.append(randomised(variant) if seeds > 1 else variant)
    seed_list = list(range(seeds)) if seeds > 1 else [None]
    tally = Tally(len(grid) * len(seed_list), on_progress)

    started = time.perf_counter()
    ranges = seed_ranges(seed_list, CLUSTER_WIDTH if executor is not None else jobs)
    tasks = [(v, seed_range) for v in variants for seed_range in ranges]
    results = run_tasks(tasks, jobs=jobs, executor=executor, on_task=tally)
    per_variant = [
        tuple(run for runs in results[i : i + len(ranges)] for run in runs) for i in range(0, len(results), len(ranges))
    ]
    points = tuple(SweepPoint(tuple(zip(keys, combo)), runs) for combo, runs in zip(grid, per_variant))
    return SweepResult(keys, points, time.perf_counter() - started)
