"""What the TUI has open: a scenario file, its simulator and timeline; and what it could open."""

from __future__ import annotations

from pathlib import Path

import attrs

from ztui.core.simulator import Simulator
from ztui.core.timeline import Timeline
from ztui.scenario.bundled import bundled_scenarios
from ztui.scenario.load import load_scenario
from ztui.scenario.model import Scenario
from ztui.scenario.read import description_line
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
    """``source_file`` is the scenario file it was loaded from; None for a trace's embedded scenario.

    A trace's ``source.path`` is never read: a trace names no file ztui opens.
    """

    seed: int | None
    scenario: Scenario
    timeline: Timeline
    source_file: Path | None = None

    @classmethod
    def open(cls, path: Path, seed: int | None) -> Session:
        """Load and start ``path``; raises ScenarioError with the problems ``ztui check`` reports."""
        return cls.start(load_scenario(path), seed, path)

    @classmethod
    def start(cls, scenario: Scenario, seed: int | None, source_file: Path | None = None) -> Session:
        return cls(seed, scenario, Timeline(recording(Simulator.from_scenario(scenario, seed=seed))), source_file)

    @classmethod
    def from_trace(cls, trace: Trace) -> Session:
        """The trace's scenario and seed, followed to the trace's end; raises TraceError."""
        timeline = timeline_from_trace(trace, recording(Simulator.from_scenario(trace.scenario, trace.seed)))
        return cls(trace.seed, trace.scenario, timeline)

    @property
    def sim(self) -> Simulator:
        return self.timeline.sim


@attrs.frozen
class TracePoint:
    """Where a session stands, as saving a trace needs it: what to replay, and what it must reach."""

    seed: int
    forced: dict[int, int]  # Timeline.forced: step count -> the thread the user chose there
    passed_verdict: bool  # the user stepped on past a livelock
    step: int
    state_hash: str

    @classmethod
    def of(cls, session: Session) -> TracePoint:
        sim = session.sim
        return cls(sim.seed, session.timeline.forced, sim.passed_verdict is not None, sim.step_count,
                   sim.state_hash())


@attrs.frozen
class Opened:
    """What the UI keeps of the open session (the simulator itself is in ztui.tui.simserver)."""

    scenario: Scenario
    seed: int | None
    source_file: Path | None = None  # None for a trace's embedded scenario


def recording(sim: Simulator) -> Simulator:
    """The TUI's simulators record the step history its chart and timeline draw."""
    sim.record_history()
    return sim
