"""`ztui bench --scale`: the 2 GiB churn workload at larger sizes, each in a fresh process.

scaled() multiplies every amount of memory in a scenario (physmem, swap,
each phase's pages) by one factor and leaves rates and times alone, so the
machine does the same work per page at every size; the run's limits (steps,
simulated time) grow by the same factor, so that a larger run is not cut
short by the limits its 2 GiB original was given.  Each size runs in a
process of its own (`python -m ztui.bench_scale GIB`: imports, loading and
the run to the verdict, the whole process a user waits for), timed by the
children's CPU seconds (resource.getrusage).
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys

import attrs

from ztui.scenario.model import Duration, GiB, PageAmount, Scenario, Size

SCALE_SCENARIO = "swapmeta-kmalloc-obj-churn"
SCALE_SIZES_GIB = (2, 8, 32, 64)
LARGE_GIB = 256  # measured too when one run of it ends within two minutes


def scaled(scenario: Scenario, physmem: int) -> Scenario:
    """``scenario`` with physmem set to ``physmem``, and swap, every phase's pages and the run's limits scaled alike."""
    base = scenario.machine.physmem

    def scale(amount: int) -> int:
        return amount * physmem // base

    machine = attrs.evolve(scenario.machine, physmem=Size(physmem), swap=Size(scale(scenario.machine.swap)))
    processes = tuple(
        attrs.evolve(
            process,
            phases=tuple(
                phase if phase.pages is None else attrs.evolve(phase, pages=PageAmount(scale(phase.pages)))
                for phase in process.phases
            ),
        )
        for process in scenario.process
    )
    run = attrs.evolve(
        scenario.run, max_steps=scale(scenario.run.max_steps), max_time=Duration(scale(scenario.run.max_time))
    )
    return attrs.evolve(
        scenario, name=f"{scenario.name}-{physmem // GiB}g", machine=machine, process=processes, run=run
    )


def run_scaled(gib: int) -> dict:
    """The churn workload at ``gib`` GiB to its verdict, in this process: what bench_scale() runs in each child."""
    from ztui.core.simulator import Simulator
    from ztui.scenario.bundled import resolve_scenario
    from ztui.scenario.load import load_scenario

    scenario = scaled(load_scenario(resolve_scenario(SCALE_SCENARIO)), gib * GiB)
    sim = Simulator.from_scenario(scenario, log=False)
    verdict = sim.run()
    return {"verdict": verdict.kind if verdict else "limit", "steps": sim.step_count}


def child_cpu_s(gib: int, timeout: float | None = None) -> tuple[float, dict] | None:
    """CPU seconds (user + system) of one whole child process running ``gib`` GiB and its result;
    None past ``timeout`` wall seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ztui.bench_scale", str(gib)], capture_output=True, text=True, check=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, json.loads(done.stdout)


def _finished(timed: tuple[float, dict] | None) -> tuple[float, dict]:
    assert timed is not None, "only a run with a timeout can be cut short"
    return timed


def bench_scale(runs: int, large_timeout: float = 120.0) -> dict:
    """Median CPU seconds per size and the ratio to the smallest; LARGE_GIB too if one run of it ends within two minutes."""
    figures: dict[str, str | float] = {}
    sizes = list(SCALE_SIZES_GIB)
    timings: dict[int, list[float]] = {}
    for gib in sizes:
        timings[gib] = []
        for _ in range(runs):
            cpu, result = _finished(child_cpu_s(gib))
            timings[gib].append(cpu)
        figures[f"{gib} GiB: verdict, steps"] = f"{result['verdict']}, {result['steps']:,}"
    first = child_cpu_s(LARGE_GIB, timeout=large_timeout)
    if first is None:
        figures[f"{LARGE_GIB} GiB"] = f"not finished within {large_timeout:.0f} s"
    else:
        timings[LARGE_GIB] = [first[0], *(_finished(child_cpu_s(LARGE_GIB))[0] for _ in range(runs - 1))]
        figures[f"{LARGE_GIB} GiB: verdict, steps"] = f"{first[1]['verdict']}, {first[1]['steps']:,}"
    base = statistics.median(timings[sizes[0]])
    for gib, cpus in timings.items():
        figures[f"{gib} GiB: CPU s (whole process)"] = statistics.median(cpus)
        figures[f"{gib} GiB: / {sizes[0]} GiB"] = statistics.median(cpus) / base
    return figures


if __name__ == "__main__":
    print(json.dumps(run_scaled(int(sys.argv[1]))))
