"""`ztui bench`: throughput figures, medians of repeated runs in one process.

The core figure is the one issue 2 sets targets for: simulated kernel steps
per second and the wall time to the verdict on the 2 GiB SWAPMETA-on-
kmalloc_obj churn scenario, beside a plain SimPy model (one Container,
get/put/timeout) measured in the same run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from ztui.core.simulator import Simulator
from ztui.scenario.bundled import resolve_scenario
from ztui.scenario.load import load_scenario
from ztui.simpy_baseline import simpy_run

CORE_SCENARIO = "swapmeta-kmalloc-obj-churn"


def median_of(runs: int, fn: Callable[[], dict]) -> dict:
    return medians([fn() for _ in range(runs)])


def medians(results: list[dict]) -> dict:
    """Per key of the first result: the median of the numbers the results hold there (a run may
    have none: None), else the first result's value."""
    figures = {}
    for key, first in results[0].items():
        numbers = [v for r in results if isinstance(v := r[key], (int, float)) and not isinstance(v, bool)]
        figures[key] = statistics.median(numbers) if numbers else first
    return figures


def core_run(scenario_name: str = CORE_SCENARIO, log: bool = False) -> dict:
    scenario = load_scenario(resolve_scenario(scenario_name))
    sim = Simulator.from_scenario(scenario, log=log)
    calls = 0
    t0, cpu0 = time.perf_counter(), time.process_time()
    while sim.step():
        calls += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "scenario": scenario_name,
        "verdict": sim.verdict.kind if sim.verdict else None,
        "steps": sim.step_count,
        "step_calls": calls,
        "sim_time_s": sim.tick / sim.hz,
        "wall_s": wall,
        "steps_per_s": sim.step_count / wall,
        "steps_per_cpu_s": sim.step_count / cpu,
    }


def bench_core(runs: int = 3) -> dict:
    """Headless figures; ``ztui_logged`` keeps the event log on, as the TUI must."""
    return {
        "ztui": median_of(runs, core_run),
        "ztui_logged": median_of(runs, lambda: core_run(log=True)),
        "simpy": median_of(runs, simpy_run),
    }


def print_bench(figures: dict, console) -> None:
    from rich.table import Table

    core, simpy = figures["ztui"], figures["simpy"]
    table = Table(title="ztui bench (medians of repeated runs)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row(f"{core['scenario']}: verdict", core["verdict"])
    table.add_row("  simulated kernel steps", f"{core['steps']:,.0f} ({core['step_calls']:,.0f} step() calls)")
    table.add_row("  simulated time", f"{core['sim_time_s']:.2f} s")
    table.add_row("  wall time to verdict", f"{core['wall_s']:.3f} s")
    table.add_row("  steps/s", f"{core['steps_per_s']:,.0f}")
    table.add_row("  steps/s with the event log on", f"{figures['ztui_logged']['steps_per_s']:,.0f}")
    table.add_row("SimPy Container get/put/timeout: events/s", f"{simpy['events_per_s']:,.0f}")
    table.add_row("ztui steps/s / SimPy events/s", f"{core['steps_per_s'] / simpy['events_per_s']:.2f}")
    for section in ("tui", "startup", "exhaustive", "exhaustive_gib", "explore_seeds", "timeline", "memory", "scale", "cluster"):
        for key, value in figures.get(section, {}).items():
            table.add_row(f"{section}: {key}", f"{value:,.3f}" if isinstance(value, float) else str(value))
    console.print(table)
