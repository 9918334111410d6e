"""Random schedules, one per seed: the verdicts by seed range and a trace of the first seed of each."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import Executor

import attrs

from ztui.core.simulator import Simulator
from ztui.explore.executors import CLUSTER_WIDTH, Progress, Tally, run_tasks, seed_ranges
from ztui.explore.runs import SeedRun, randomised
from ztui.scenario.model import Scenario
from ztui.trace import Trace, record

# Traces of search results are short: a hash every 16 decisions pins a
# divergence down closely for little space.
SEARCH_TRACE_HASH_EVERY = 16
SEED_RANGES = 10


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
    chunks = seed_ranges(seeds, CLUSTER_WIDTH if executor is not None else jobs)
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
