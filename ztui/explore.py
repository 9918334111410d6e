"""Looking for deadlocks: random schedules by seed, exhaustive search, parameter sweeps.

* explore_seeds(): one run per seed under the seeded-random scheduler,
  spread over processes; the verdicts by seed range, the first seed that
  reaches each verdict, and a trace of it.
* explore_exhaustive(): a breadth-first search over the scheduler's
  choices (the workload itself is deterministic), deduplicating states,
  for the shortest schedule to deadlock, livelock or recursion, or a proof
  that none is reachable within the bounds.
* sweep(): a grid of scenario variants (``machine.swap=64m,128m``) run
  through any concurrent.futures executor.

Everything here is deterministic: the same arguments give the same
results whatever the number of jobs.
"""

from __future__ import annotations

import itertools
import math
import time
import types
import typing
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from enum import Enum

import attrs

from ztui.core.simulator import Simulator
from ztui.scenario.errors import InvalidValue
from ztui.scenario.load import scenario_problems
from ztui.scenario.model import Duration, Rate, Scenario, Scheduler, Size
from ztui.scenario.units import parse_duration, parse_rate, parse_size
from ztui.trace import CLOCK, Trace, record, trace_of_schedule

BAD_VERDICTS = ("deadlock", "livelock", "recursion")
VERDICTS = ("ok", *BAD_VERDICTS)
# Traces of search results are short: a hash every 16 decisions pins a
# divergence down closely for little space.
SEARCH_TRACE_HASH_EVERY = 16
# Seeds per task: big enough to amortise pickling, small enough for a live progress bar.
MAX_CHUNK = 250
SEED_RANGES = 10

Progress = Callable[[int, int, Counter], None]  # (runs done, runs in all, verdicts so far)


@attrs.frozen
class SeedRun:
    seed: int
    verdict: str
    step: int
    tick: int


def randomised(scenario: Scenario) -> Scenario:
    """The scenario under the seeded-random scheduler, so that seeds give different schedules."""
    return attrs.evolve(scenario, run=attrs.evolve(scenario.run, scheduler=Scheduler.RANDOM))


def run_seeds(scenario: Scenario, seeds: Sequence[int | None]) -> list[SeedRun]:
    """Run ``scenario`` once per seed (None: its own) to its verdict.

    A worker's task: module-level, so that it pickles.
    """
    out = []
    for seed in seeds:
        sim = Simulator.from_scenario(scenario, seed, log=False)
        verdict = sim.run()
        out.append(SeedRun(sim.seed, verdict.kind, sim.step_count, sim.tick))
    return out


def run_tasks(
    tasks: Sequence[tuple[Scenario, Sequence[int | None]]],
    *,
    jobs: int = 1,
    executor: Executor | None = None,
    on_task: Callable[[int, list[SeedRun]], None] | None = None,
) -> list[list[SeedRun]]:
    """run_seeds() on every (scenario, seeds) task, in order of the tasks.

    In this process when ``jobs`` is 1 and no executor is given; else on
    ``executor`` or a ProcessPoolExecutor of ``jobs`` processes.
    ``on_task(index, runs)`` is called as each task completes.
    """
    results: list[list[SeedRun] | None] = [None] * len(tasks)

    def done(index: int, runs: list[SeedRun]) -> None:
        results[index] = runs
        if on_task is not None:
            on_task(index, runs)

    if executor is None and jobs <= 1:
        for index, (scenario, seeds) in enumerate(tasks):
            done(index, run_seeds(scenario, seeds))
        return results
    own = executor is None
    pool = ProcessPoolExecutor(max_workers=jobs) if own else executor
    try:
        futures = {
            pool.submit(run_seeds, scenario, tuple(seeds)): i for i, (scenario, seeds) in enumerate(tasks)
        }
        for future in as_completed(futures):
            done(futures[future], future.result())
    finally:
        if own:
            pool.shutdown(cancel_futures=True)
    return results


# --- random schedules, one per seed ----------------------------------------------


@attrs.frozen
class SeedExploration:
    scenario: Scenario  # as run: under the random scheduler
    runs: tuple[SeedRun, ...]  # by seed
    traces: dict[str, Trace]  # verdict -> the trace of the first seed that reached it
    seconds: float

    def counts(self) -> Counter:
        return Counter(run.verdict for run in self.runs)

    def first_seeds(self) -> dict[str, int]:
        first: dict[str, int] = {}
        for run in self.runs:
            first.setdefault(run.verdict, run.seed)
        return first

    def ranges(self, count: int = SEED_RANGES) -> list[tuple[int, int, Counter]]:
        """(first seed, last seed, verdicts) for ``count`` consecutive ranges of the runs."""
        size = max(1, math.ceil(len(self.runs) / count))
        return [
            (part[0].seed, part[-1].seed, Counter(run.verdict for run in part))
            for part in (self.runs[i : i + size] for i in range(0, len(self.runs), size))
        ]


class Tally:
    """Counts verdicts as task results come in and reports progress (an ``on_task`` callback)."""

    def __init__(self, total: int, on_progress) -> None:
        self.total = total
        self.on_progress = on_progress
        self.finished = 0
        self.counts: Counter = Counter()

    def __call__(self, _: int, runs: list[SeedRun]) -> None:
        self.finished += len(runs)
        self.counts.update(run.verdict for run in runs)
        if self.on_progress is not None:
            self.on_progress(self.finished, self.total, self.counts)


def explore_seeds(
    scenario: Scenario,
    seeds: Iterable[int],
    jobs: int = 1,
    *,
    executor: Executor | None = None,
    on_progress: Progress | None = None,
) -> SeedExploration:
    """One run of ``scenario`` under the random scheduler per seed; see SeedExploration."""
    scenario = randomised(scenario)
    seeds = list(seeds)
    size = max(1, min(MAX_CHUNK, math.ceil(len(seeds) / (max(jobs, 1) * 8))))
    chunks = [seeds[i : i + size] for i in range(0, len(seeds), size)]
    tally = Tally(len(seeds), on_progress)

    started = time.perf_counter()
    results = run_tasks([(scenario, chunk) for chunk in chunks], jobs=jobs, executor=executor, on_task=tally)
    runs = tuple(run for chunk in results for run in chunk)
    exploration = SeedExploration(scenario, runs, {}, time.perf_counter() - started)
    traces = {
        verdict: record(
            Simulator.from_scenario(scenario, seed, log=False), hash_every=SEARCH_TRACE_HASH_EVERY
        )
        for verdict, seed in exploration.first_seeds().items()
    }
    return attrs.evolve(exploration, traces=traces)


# --- exhaustive search -------------------------------------------------------------


@attrs.frozen
class SearchProgress:
    generated: int
    distinct: int
    queued: int
    depth: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.distinct / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (
            f"{self.generated:,} states generated, {self.distinct:,} distinct, {self.queued:,} on queue,"
            f" depth {self.depth}, {self.rate:,.0f} states/s"
        )


@attrs.frozen
class SearchResult:
    scenario: Scenario
    seed: int
    max_depth: int
    max_preemptions: int | None
    verdict: str | None  # the bad verdict found, None if none
    schedule: tuple[int, ...]  # decisions reaching it (tid, or CLOCK)
    progress: SearchProgress  # the counts at the end
    depth_cut: bool  # states at max_depth were left unexpanded
    capped: bool  # stopped at max_states

    @property
    def exhausted(self) -> bool:
        """Every state reachable within the preemption bound was explored: a proof for this configuration."""
        return self.verdict is None and not self.depth_cut and not self.capped

    def bounds(self) -> str:
        preemptions = "any number of" if self.max_preemptions is None else f"at most {self.max_preemptions}"
        return f"{preemptions} preemptions"

    def summary(self) -> str:
        p = self.progress
        counts = f"{p.distinct:,} distinct states, {p.generated:,} generated, {p.seconds:.1f} s"
        if self.verdict is not None:
            return f"{self.verdict} reached in {len(self.schedule)} steps (the shortest schedule; {self.bounds()}); {counts}"
        if self.capped:
            return f"stopped at {p.distinct:,} states, depth {p.depth}: no verdict so far ({self.bounds()}); {counts}"
        if self.depth_cut:
            return f"no deadlock, livelock or recursion within {self.max_depth} steps ({self.bounds()}); {counts}"
        return (
            f"no deadlock, livelock or recursion is reachable: all {p.distinct:,} states explored"
            f" ({self.bounds()}, deepest {p.depth} steps); {counts}"
        )

    def collision_odds(self) -> float:
        """TLC's optimistic estimate that two distinct states shared a 64-bit fingerprint."""
        return self.progress.distinct * self.progress.generated / 2.0**64

    def trace(self) -> Trace:
        return trace_of_schedule(self.scenario, self.seed, self.schedule, hash_every=SEARCH_TRACE_HASH_EVERY)


def explore_exhaustive(
    scenario: Scenario,
    max_depth: int,
    *,
    max_preemptions: int | None = 0,
    max_states: int | None = None,
    seed: int | None = None,
    on_progress: Callable[[SearchProgress], None] | None = None,
    progress_every: float = 1.0,
) -> SearchResult:
    """Breadth-first search over the scheduler's choices for the shortest way to a bad verdict.

    A step is one Simulator.step(tid), or a clock advance when no thread
    may run.  ``max_preemptions`` bounds the switches away from a thread
    that could have gone on running (CHESS's preemption bounding; the end
    of a time slice is such a switch); a thread that blocks or exits, or a
    clock tick, hands the CPU over for free, as DragonFly's LWKT does.
    None explores every interleaving.

    States are deduplicated by a 64-bit fingerprint (see _fingerprint); a
    state met again with fewer preemptions used is explored again.
    """
    bounded = max_preemptions is not None
    root = Simulator.from_scenario(scenario, seed, log=False)
    seen: dict[int, int] = {_fingerprint(root, None): 0}  # fingerprint -> fewest preemptions used
    parents: list[tuple[int, int]] = [(-1, CLOCK)]  # node -> (parent node, decision)
    queue: deque = deque([(root, 0, 0, None, 0)])  # (sim, node, depth, running tid, preemptions used)
    generated = 0
    depth = 0
    depth_cut = capped = False
    started = last_report = time.perf_counter()

    def progress() -> SearchProgress:
        return SearchProgress(generated, len(seen), len(queue), depth, time.perf_counter() - started)

    def result(verdict: str | None = None, node: int = 0) -> SearchResult:
        schedule = []
        while node > 0:
            node, decision = parents[node]
            schedule.append(decision)
        return SearchResult(
            root.scenario,
            root.seed,
            max_depth,
            max_preemptions,
            verdict,
            tuple(reversed(schedule)),
            progress(),
            depth_cut,
            capped,
        )

    while queue:
        sim, node, depth, running, used = queue.popleft()
        if depth >= max_depth:
            depth_cut = True
            continue
        choices = _choices(sim.runnable(), running, used, max_preemptions)
        for i, (decision, cost) in enumerate(choices):
            child = sim if i == len(choices) - 1 else sim.clone()  # the last child may reuse the parent
            child.step(None if decision == CLOCK else decision)
            generated += 1
            now_running = decision if bounded and decision != CLOCK else None
            fingerprint = _fingerprint(child, now_running)
            best = seen.get(fingerprint)
            if best is not None and best <= cost:
                continue
            seen[fingerprint] = cost
            parents.append((node, decision))
            verdict = child.verdict
            if verdict is None:
                queue.append((child, len(parents) - 1, depth + 1, now_running, cost))
            elif verdict.kind in BAD_VERDICTS:
                depth += 1
                return result(verdict.kind, len(parents) - 1)
        if max_states is not None and len(seen) >= max_states:
            capped = True
            break
        if on_progress is not None and time.perf_counter() - last_report >= progress_every:
            last_report = time.perf_counter()
            on_progress(progress())
    return result()


def _choices(
    runnable: tuple[int, ...], running: int | None, used: int, max_preemptions: int | None
) -> list[tuple[int, int]]:
    """(decision, preemptions used after it) for each choice the bound allows; the running thread first."""
    if not runnable:
        return [(CLOCK, used)]
    if max_preemptions is None or running is None or running not in runnable:
        return [(tid, used) for tid in runnable]
    out = [(running, used)]
    if used < max_preemptions:
        out.extend((tid, used + 1) for tid in runnable if tid != running)
    return out


def _fingerprint(sim: Simulator, running: int | None) -> int:
    """A 64-bit fingerprint of the search state: the machine state and, under a bound, the running thread.

    Under step(tid) the scheduler's own state is dead: leaving it out lets
    interleavings that reach the same machine state meet.
    """
    return hash((sim.state_key(scheduler=False), running))


# --- the steps of a schedule, TLC-style ----------------------------------------------


def describe_schedule(scenario: Scenario, seed: int, schedule: Sequence[int]) -> list[str]:
    """The schedule's states, TLC-style: the first in full, then only what each step changed.

    Consecutive steps of the same thread are shown as one.
    """
    sim = Simulator.from_scenario(scenario, seed)
    names = [t.name for t in sim.snapshot(events=0).threads]
    facts = _facts(sim)
    lines = ["State 1: <initial> (step 0, tick 0)", *(f"  {name} = {value}" for name, value in facts.items())]
    state = 1
    for decision, group in itertools.groupby(schedule):
        count = len(list(group))
        first_step = sim.step_count + 1
        for _ in range(count):
            sim.step(None if decision == CLOCK else decision)
        state += 1
        who = "clock advance" if decision == CLOCK else names[decision] + (f" x{count}" if count > 1 else "")
        span = (
            f"step {sim.step_count}"
            if sim.step_count == first_step
            else f"steps {first_step}-{sim.step_count}"
        )
        lines.append(f"State {state}: {who} ({span}, tick {sim.tick})")
        now = _facts(sim)
        lines.extend(
            f"  {name} = {value}   (was {facts.get(name, '-')})"
            for name, value in now.items()
            if facts.get(name) != value
        )
        lines.extend(
            f"  event: {e.thread or 'clock'}: {e.text}"
            for e in sim.events
            if e.step >= first_step and e.subsystem != "verdict"
        )
        facts = now
    if sim.verdict is not None:
        lines.append(f"Verdict: {sim.verdict.headline}")
        lines.extend(f"  {line}" for line in sim.verdict.explanation)
    return lines


def _facts(sim: Simulator) -> dict[str, str]:
    """The state as name -> value, in the kernel's names, for diffing."""
    snap = sim.snapshot(events=0)
    facts = {f"vmstats.{name}": str(value) for name, value in snap.queues.items()}
    facts.update((f"swap.{name}", str(value)) for name, value in snap.swap.items())
    facts.update((f"pagedaemon.{name}", str(value)) for name, value in snap.pagedaemon.items())
    for allocator in (snap.swapmeta, snap.mapentry.zone):
        prefix = f"{allocator.zone} ({allocator.kind})"
        facts[f"{prefix}.in_use"] = str(allocator.in_use)
        facts.update(
            (f"{prefix}.{name}", str(value) if value != "" else "-")
            for name, value in allocator.state.items()
        )
        for a in allocator.assembling:
            facts[f"{prefix}.{a.function}[{a.thread}]"] = f"{a.pages_held}/{a.pages_needed} pages"
    for cpu in snap.mapentry.cpus:
        facts[f"gd_vme_avail[cpu{cpu.cpu}]"] = str(cpu.gd_vme_avail)
    for t in snap.threads:
        where = " ".join(x for x in (t.function, t.progress) if x)
        waiting = f" on {t.wchan} ({t.wmesg})" if t.wchan or t.wmesg else ""
        facts[f"thread {t.name}"] = f"{t.state}{waiting} in {where}"
    return facts


# --- sweeps ---------------------------------------------------------------------


class ParamError(ValueError):
    """A --param that cannot be applied; the message is one line."""


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
    parsers = {
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
    round-robin every seed gives the same run.
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
        _check_boots(variant, keys, combo)
        variants.append(randomised(variant) if seeds > 1 else variant)
    seed_list = list(range(seeds)) if seeds > 1 else [None]
    tally = Tally(len(grid) * len(seed_list), on_progress)

    started = time.perf_counter()
    results = run_tasks([(v, seed_list) for v in variants], jobs=jobs, executor=executor, on_task=tally)
    points = tuple(SweepPoint(tuple(zip(keys, combo)), tuple(runs)) for combo, runs in zip(grid, results))
    return SweepResult(keys, points, time.perf_counter() - started)


def _check_boots(variant: Scenario, keys: tuple[str, ...], combo: tuple[str, ...]) -> None:
    """Catch a machine ``ztui check`` would refuse or the simulator cannot build, here, not in a worker."""
    where = ", ".join(f"{k}={v}" for k, v in zip(keys, combo))
    problems = scenario_problems(variant)
    if problems:
        raise ParamError(f"{where}: {problems[0]}")
    try:
        Simulator.from_scenario(variant, log=False)
    except Exception as exc:  # noqa: BLE001  (user values reach the core here; any failure means unusable)
        raise ParamError(
            f"{where}: the simulator cannot boot this machine ({type(exc).__name__}: {exc})"
        ) from None


# --- executors ---------------------------------------------------------------------


def make_executor(kind: str, address: str | None = None) -> Executor | None:
    """The executor `ztui sweep --executor` names; None for local (processes if --jobs > 1).

    Dask and Ray are optional extras, imported only here.  Their workers
    must have ztui installed.
    """
    if kind == "local":
        return None
    if kind == "dask":
        try:
            from distributed import Client
        except ImportError:
            raise ParamError("--executor dask needs the dask extra: pip install 'ztui[dask]'") from None
        return Client(address).get_executor()
    if kind == "ray":
        try:
            import ray
        except ImportError:
            raise ParamError("--executor ray needs the ray extra: pip install 'ztui[ray]'") from None
        ray.init(address=address, ignore_reinit_error=True)
        return RayExecutor()
    raise ParamError(f"unknown executor {kind!r}; expected local, dask or ray")


class RayExecutor(Executor):
    """concurrent.futures on Ray tasks: Ray ships no Executor, but an ObjectRef gives a Future."""

    def __init__(self) -> None:
        import ray

        self._ray = ray
        self._remote: dict[Callable, object] = {}

    def submit(self, fn, /, *args, **kwargs):
        remote = self._remote.get(fn)
        if remote is None:
            remote = self._remote[fn] = self._ray.remote(fn)
        return remote.remote(*args, **kwargs).future()
