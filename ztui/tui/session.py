"""What the TUI has open: a scenario file, its simulator and timeline; and what it could open."""

from __future__ import annotations

from pathlib import Path

import attrs

from ztui.core.simulator import Simulator
from ztui.core.snapshot import Snapshot
from ztui.core.timeline import Timeline
from ztui.scenario.bundled import bundled_scenarios, default_scenario_path
from ztui.scenario.load import load_scenario
from ztui.scenario.read import description_line
from ztui.scenario.model import USEC, Scenario
from ztui.trace import Trace, timeline_from_trace


@attrs.frozen
class ScenarioEntry:
    name: str
    path: Path
    description: str
    bundled: bool


def available_scenarios(cwd: Path | None = None) -> list[ScenarioEntry]:
    """The bundled scenarios, then any ./scenarios/*.toml that is not one of them."""
    entries = [ScenarioEntry(name, Path(path), description, True) for name, path, description in bundled_scenarios()]
    seen = {entry.path.resolve() for entry in entries}
    local = (cwd or Path.cwd()) / "scenarios"
    for path in sorted(local.glob("*.toml")) if local.is_dir() else ():
        if path.resolve() not in seen:
            entries.append(ScenarioEntry(path.stem, path, description_line(path), False))
    return entries


@attrs.define
class Session:
    path: Path
    seed: int | None
    scenario: Scenario
    timeline: Timeline

    @classmethod
    def open(cls, path: Path, seed: int | None) -> Session:
        """Load and start ``path``; raises ScenarioError with the problems ``ztui check`` reports."""
        scenario = load_scenario(path)
        return cls(path, seed, scenario, Timeline(Simulator.from_scenario(scenario, seed=seed)))

    @classmethod
    def from_trace(cls, trace: Trace) -> Session:
        """The trace's scenario and seed, followed to the trace's end; raises TraceError."""
        timeline = timeline_from_trace(trace)
        # A trace names no file ztui may open (it is untrusted input): reload starts the default.
        return cls(default_scenario_path(), trace.seed, trace.scenario, timeline)

    @property
    def sim(self) -> Simulator:
        return self.timeline.sim

    def progress(self, snapshot: Snapshot) -> float:
        """How far ``snapshot`` is toward the scenario's limits (max_steps, max_time), 0..1."""
        limits = self.scenario.run
        by_steps = snapshot.step / limits.max_steps if limits.max_steps else 0.0
        max_ticks = limits.max_time * snapshot.hz / USEC
        by_time = snapshot.tick / max_ticks if max_ticks else 0.0
        return min(max(by_steps, by_time), 1.0)
