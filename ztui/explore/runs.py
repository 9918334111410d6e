"""One run per seed: the task every executor runs, and the verdict names."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import attrs

from ztui.core.simulator import Simulator
from ztui.scenario.model import Scenario, Scheduler

BAD_VERDICTS = ("deadlock", "livelock", "recursion")
VERDICTS = ("ok", *BAD_VERDICTS, "limit")  # "limit": the run stopped at its limits with work left


def shown_verdicts(counts: Counter) -> tuple[str, ...]:
    """The verdict columns a table needs: ok always, the others where some run has them."""
    return tuple(v for v in VERDICTS if v == "ok" or counts[v])


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
        assert verdict is not None, "a run without max_steps ends with a verdict"
        out.append(SeedRun(sim.seed, verdict.kind, sim.step_count, sim.tick))
    return out
