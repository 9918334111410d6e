"""Benchmarks of the search and time-travel tools: each returns a dict of figures.

Figures are medians over ``repeats`` runs.  `ztui bench` prints them; the
targets (issue 5) are in the dicts too, so a report can compare:

* bench_exhaustive(): distinct states per second of the exhaustive search on
  the smallest teaching scenario, one core (target >= 50,000);
* bench_exhaustive_gib(): the same search rooted at a 2 GiB state (the
  churn scenario at step 4,000,000, thousands of runs on PQ_ACTIVE), and
  what one fingerprint of that state costs beside its exact encoding;
* bench_explore_seeds(): wall time of a 10,000-seed exploration with 2 jobs
  (target < 60 s);
* bench_timeline(): back and goto latency at step 1,000,000 of a 2 GiB
  machine (target < 100 ms each), and what the checkpoints cost in memory.
"""

from __future__ import annotations

import functools
import pickle
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable

from ztui.core.simulator import Simulator
from ztui.core.timeline import Timeline
from ztui.explore.exhaustive import explore_exhaustive
from ztui.explore.seeds import explore_seeds
from ztui.scenario.bundled import SCENARIO_DIR
from ztui.scenario.load import load_scenario
from ztui.scenario.model import Scenario

SMALLEST_TEACHING = "teach-swapmeta-kmalloc-obj"
GIB_STATE = ("swapmeta-kmalloc-obj-churn", 4_000_000)  # a scenario and the step of its 2 GiB state
# The seed's 2 GiB machine: it runs well past a million steps before its verdict.
TWO_GIB = "seed-2g-chrome-buildkernel"


def bundled(name: str) -> Scenario:
    return load_scenario(SCENARIO_DIR / f"{name}.toml")


def bench_exhaustive(scenario: Scenario | None = None, max_states: int = 50_000, repeats: int = 3) -> dict:
    """Exhaustive search (no preemptions) from the start, capped at ``max_states``."""
    scenario = scenario or bundled(SMALLEST_TEACHING)
    results = [
        explore_exhaustive(scenario, 10**9, max_preemptions=0, max_states=max_states) for _ in range(repeats)
    ]
    last = results[-1]
    return {
        "scenario": scenario.name,
        "distinct_states": last.progress.distinct,
        "generated_states": last.progress.generated,
        "seconds": statistics.median(r.progress.seconds for r in results),
        "distinct_states_per_s": statistics.median(r.progress.rate for r in results),
        "target_distinct_states_per_s": 50_000,
        "verdict_found": last.verdict,
    }


def bench_exhaustive_gib(max_states: int = 3000, repeats: int = 3) -> dict:
    """Exhaustive search (no preemptions) from a 2 GiB state mid-run, capped at ``max_states``."""
    name, at = GIB_STATE
    scenario = bundled(name)
    root = Simulator.from_scenario(scenario, log=False)
    root.run(max_steps=at)
    runs = [explore_exhaustive(scenario, 10**9, max_preemptions=0, max_states=max_states, root=root) for _ in range(repeats)]
    searching = root.clone()
    searching.keep_fingerprints()
    return {
        "scenario": f"{name} at step {root.step_count:,}",
        "active runs": len(root.k.queues["active"].runs),
        "distinct_states": runs[-1].progress.distinct,
        "distinct_states_per_s": statistics.median(r.progress.rate for r in runs),
        "fingerprint µs": median_us(lambda: hash(searching.state_key(scheduler=False)), repeats),
        "exact encoding µs": median_us(lambda: hash(root.state_key(scheduler=False)), repeats),
    }


def median_us(action: Callable[[], object], repeats: int, calls: int = 200) -> float:
    """Median over ``repeats`` of the mean microseconds of ``calls`` calls of ``action``."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            action()
        times.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(times)


def bench_explore_seeds(
    scenario: Scenario | None = None, seeds: int = 10_000, jobs: int = 2, repeats: int = 1
) -> dict:
    """Random-schedule exploration of ``seeds`` seeds on ``jobs`` processes (one repeat by default: ~40 s)."""
    scenario = scenario or bundled(SMALLEST_TEACHING)
    results = [explore_seeds(scenario, range(seeds), jobs) for _ in range(repeats)]
    seconds = statistics.median(r.seconds for r in results)
    return {
        "scenario": scenario.name,
        "seeds": seeds,
        "jobs": jobs,
        "seconds": seconds,
        "seeds_per_s": seeds / seconds,
        "target_seconds": 60,
        "verdicts": dict(results[-1].counts()),
    }


def bench_timeline(
    scenario: Scenario | None = None, at: int = 1_000_000, jumps: int = 20, repeats: int = 3
) -> dict:
    """Run to step ``at`` under a Timeline, then time goto() between the end and ``jumps`` random
    steps (both ways) and back(1), back(1000) from the end, ``repeats`` times each."""
    scenario = scenario or bundled(TWO_GIB)
    sim = Simulator.from_scenario(scenario)
    timeline = Timeline(sim)
    started = time.perf_counter()
    timeline.run(max_steps=at)
    run_seconds = time.perf_counter() - started
    end = timeline.step_count
    rng = random.Random(5)
    targets = [rng.randrange(end) for _ in range(jumps)]

    def from_end(action: Callable[[], None]) -> float:
        timeline.goto(end)
        return _ms(action)

    def from_target(target: int) -> float:
        timeline.goto(target)
        return _ms(lambda: timeline.goto(end))

    goto_back_ms = [from_end(functools.partial(timeline.goto, t)) for t in targets]
    goto_forward_ms = [from_target(t) for t in targets]
    back1_ms = [from_end(lambda: timeline.back(1)) for _ in range(repeats)]
    back1000_ms = [from_end(lambda: timeline.back(1000)) for _ in range(repeats)]
    each, pickled = _checkpoint_cost(timeline)
    count = len(timeline.checkpoint_steps)
    return {
        "scenario": scenario.name,
        "step": end,
        "run_to_step_s": run_seconds,
        "goto_back_ms_median": statistics.median(goto_back_ms),
        "goto_back_ms_max": max(goto_back_ms),
        "goto_forward_ms_median": statistics.median(goto_forward_ms),
        "goto_forward_ms_max": max(goto_forward_ms),
        "back1_ms_median": statistics.median(back1_ms),
        "back1000_ms_median": statistics.median(back1000_ms),
        "target_ms": 100,
        "checkpoints": count,
        "checkpoint_interval_steps": timeline.interval,
        "checkpoint_bytes_each": each,
        "checkpoint_bytes_total": each * count,
        "checkpoint_pickled_bytes_each": pickled,
    }


def _ms(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def _checkpoint_cost(timeline: Timeline) -> tuple[int, int]:
    """Bytes one checkpoint holds (tracemalloc, on a fresh clone of the current state), and pickled."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        clone = timeline.sim.clone()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return held, len(pickle.dumps(clone.k))
