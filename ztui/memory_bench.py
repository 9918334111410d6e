"""`ztui bench --memory`: resident memory after long runs, each probe in a fresh process.

* simulator: a bare Simulator (event log on, as the TUI has it) after
  ``steps`` steps of a churning machine that never reaches a verdict: the
  baseline;
* timeline: the same run under a Timeline (what the TUI's fast-forward
  does), with its checkpoints and its estimate of them;
* exhaustive: an exhaustive search with every interleaving
  (``--max-preemptions all``) of the smallest teaching scenario, run until
  it stops at its default memory budget; against the process's RSS
  before the search.

Run as ``python -m ztui.memory_bench PROBE [STEPS]``, a probe prints one
JSON object.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

from ztui.bench import median_of
from ztui.memory import peak_rss_bytes, rss_bytes
from ztui.scenario.model import USEC, Duration, Machine, MiB, PageAmount, Phase, PhaseOp, Process, Run, Scenario, Size

MEMORY_STEPS = 40_000_000  # the length of the run in which issue 10 saw a Timeline grow from 39 to 74 MB
EXHAUSTIVE_SCENARIO = "teach-swapmeta-kmalloc-obj"


def churning_machine(steps: int) -> Scenario:
    """64 MiB, 60 MiB faulted in, then churn under pressure (swapping) until ``steps``: no verdict before."""
    return Scenario(
        name="memory-bench-churn",
        machine=Machine(physmem=Size(64 * MiB), swap=Size(64 * MiB)),
        process=(
            Process("churner", phases=(Phase(PhaseOp.ALLOC, pages=PageAmount(60 * MiB)), Phase(PhaseOp.CHURN))),
        ),
        run=Run(max_steps=steps, max_time=Duration(10**9 * USEC)),
    )


def bench_memory(runs: int = 3, steps: int = MEMORY_STEPS) -> dict:
    """Medians over ``runs`` fresh processes of each probe; ratios against the baseline of the same run."""
    simulator = median_of(runs, lambda: _probe("simulator", steps))
    timeline = median_of(runs, lambda: _probe("timeline", steps))
    exhaustive = median_of(runs, lambda: _probe("exhaustive"))
    return {
        "steps": timeline["steps"],  # the run's limit: the machine never reaches a verdict before it
        "simulator_rss_mb": simulator["rss_mb"],
        "timeline_rss_mb": timeline["rss_mb"],
        "timeline_vs_simulator": timeline["rss_mb"] / simulator["rss_mb"],
        "timeline_checkpoints": timeline["checkpoints"],
        "timeline_estimate_mb": timeline["estimate_mb"],
        "timeline_budget_mb": timeline["budget_mb"],
        "exhaustive_budget_mb": exhaustive["budget_mb"],
        "exhaustive_rss_before_mb": exhaustive["rss_before_mb"],
        "exhaustive_peak_rss_mb": exhaustive["peak_rss_mb"],
        "exhaustive_growth_vs_budget": (exhaustive["peak_rss_mb"] - exhaustive["rss_before_mb"])
        / exhaustive["budget_mb"],
        "exhaustive_states": exhaustive["distinct"],
        "exhaustive_stopped_at_budget": exhaustive["out_of_memory"],
    }


def _probe(name: str, steps: int | None = None) -> dict:
    command = [sys.executable, "-m", "ztui.memory_bench", name, *([] if steps is None else [str(steps)])]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def _simulator(steps: int) -> dict:
    from ztui.core.simulator import Simulator

    sim = Simulator.from_scenario(churning_machine(steps))
    sim.run()
    return {"rss_mb": rss_bytes() / MiB, "steps": sim.step_count}


def _timeline(steps: int) -> dict:
    from ztui.core.simulator import Simulator
    from ztui.core.timeline import Timeline

    timeline = Timeline(Simulator.from_scenario(churning_machine(steps)))
    timeline.run()
    return {
        "rss_mb": rss_bytes() / MiB,
        "steps": timeline.step_count,
        "checkpoints": len(timeline.checkpoint_steps),
        "estimate_mb": timeline.memory_estimate / MiB,
        "budget_mb": timeline.memory_budget / MiB,
    }


def _exhaustive() -> dict:
    from ztui.explore.exhaustive import DEFAULT_MAX_MEMORY, explore_exhaustive
    from ztui.scenario.bundled import SCENARIO_DIR
    from ztui.scenario.load import load_scenario

    scenario = load_scenario(SCENARIO_DIR / f"{EXHAUSTIVE_SCENARIO}.toml")
    before = rss_bytes()
    result = explore_exhaustive(scenario, 10**9, max_preemptions=None)
    peak = peak_rss_bytes()
    return {
        "budget_mb": DEFAULT_MAX_MEMORY / MiB,
        "rss_before_mb": before / MiB,
        "peak_rss_mb": peak / MiB,
        "distinct": result.progress.distinct,
        "out_of_memory": result.out_of_memory,
    }


if __name__ == "__main__":
    probe, *args = sys.argv[1:]
    probes: dict[str, Callable[..., dict]] = {"simulator": _simulator, "timeline": _timeline, "exhaustive": _exhaustive}
    figures = probes[probe](*map(int, args))
    print(json.dumps(figures))
