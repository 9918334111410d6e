"""Recording a trace: step a Simulator and keep every scheduling decision.

Replaying decision ``d`` calls ``step()`` when ``d`` is the thread the
scheduler would pick anyway (so a seeded-random scheduler draws exactly as
it did when recording) and ``step(d)`` otherwise (the caller chose: "you
are the scheduler").  TraceRecorder.step() follows the same rule, so both
sides make the same calls.  With ``exact`` (``"stepping": "exact"`` in the
file) every decision is one kernel step (``step(..., exact=True)``): how
the TUI saves a session, whose single steps and forced threads can fall
inside what a batched ``step()`` would take at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from ztui.core.simulator import Simulator
from ztui.core.snapshot import VerdictView
from ztui.input_files import SCENARIO, InputError, read_bytes
from ztui.scenario.model import Scenario
from ztui.trace.format import CLOCK, Trace, TraceError

# A state hash costs about 90 us on an 8 MiB machine and 4 ms on 2 GiB;
# every 4096 decisions keeps that a few percent of the run.
DEFAULT_HASH_EVERY = 4096
# TraceRecorder.run() asks should_stop() once per this many steps taken.
STOP_CHECK_EVERY = 1024


class TraceRecorder:
    """Steps a Simulator and records every decision; trace() returns the Trace so far.

    ``source`` is the scenario file the simulator's scenario came from: its
    name and sha256 go into the trace, for information only.
    """

    def __init__(
        self,
        sim: Simulator,
        *,
        hash_every: int = DEFAULT_HASH_EVERY,
        source: str | Path | None = None,
        exact: bool = False,
    ) -> None:
        """``exact`` records one kernel step per decision (see the module's docstring)."""
        if sim.step_count != 0:
            raise ValueError("a trace starts at step 0: record from a fresh Simulator")
        if hash_every < 1:
            raise ValueError("hash_every must be at least 1")
        self.sim = sim
        self.hash_every = hash_every
        self._source = None if source is None else str(source)
        self._source_sha256 = None if source is None else _sha256(Path(source))
        self.exact = exact
        self._runs: list[list[int]] = []
        self._count = 0
        self._hashes: list[str] = []

    def step(self, tid: int | None = None) -> bool:
        """One step; ``tid`` forces a thread as Simulator.step(tid) does.  False once a verdict stands."""
        sim = self.sim
        if sim.verdict is not None:
            return False
        pick = sim.next_tid()
        if tid is None or tid == pick:
            sim.step(exact=self.exact)
            self._append(CLOCK if pick is None else pick)
        else:
            sim.step(tid, exact=self.exact)
            self._append(tid)
        return True

    def run(
        self, max_steps: int | None = None, should_stop: Callable[[], bool] | None = None
    ) -> VerdictView | None:
        """Like Simulator.run(), recording every decision.

        Simulator.step() takes no cap, so the last batch of like actions may
        end a few steps past ``max_steps`` (Simulator.run() stops exactly).
        """
        sim = self.sim
        limit = None if max_steps is None else sim.step_count + max_steps
        taken = 0
        while sim.verdict is None and (limit is None or sim.step_count < limit):
            if should_stop is not None and taken % STOP_CHECK_EVERY == 0 and should_stop():
                break
            pick = sim.next_tid()
            sim.step(exact=self.exact)
            self._append(CLOCK if pick is None else pick)
            taken += 1
        return sim.verdict

    def trace(self) -> Trace:
        sim = self.sim
        return Trace(
            scenario=sim.scenario,
            seed=sim.seed,
            hash_every=self.hash_every,
            schedule=tuple((d, n) for d, n in self._runs),
            hashes=tuple(self._hashes),
            end_step=sim.step_count,
            end_tick=sim.tick,
            end_hash=sim.state_hash(),
            verdict=None if sim.verdict is None else sim.verdict.kind,
            source_name=self._source,
            source_sha256=self._source_sha256,
            exact=self.exact,
        )

    def _append(self, decision: int) -> None:
        runs = self._runs
        if runs and runs[-1][0] == decision:
            runs[-1][1] += 1
        else:
            runs.append([decision, 1])
        self._count += 1
        if self._count % self.hash_every == 0:
            self._hashes.append(self.sim.state_hash())


def record(
    sim: Simulator,
    max_steps: int | None = None,
    *,
    hash_every: int = DEFAULT_HASH_EVERY,
    source: str | Path | None = None,
) -> Trace:
    """Run ``sim`` (fresh) to its verdict or ``max_steps`` and return the trace."""
    recorder = TraceRecorder(sim, hash_every=hash_every, source=source)
    recorder.run(max_steps)
    return recorder.trace()


def trace_of_schedule(
    scenario: Scenario,
    seed: int,
    schedule: list[int] | tuple[int, ...],
    *,
    hash_every: int = DEFAULT_HASH_EVERY,
) -> Trace:
    """The trace of running ``scenario`` from the start with these decisions (e.g. a search's result)."""
    recorder = TraceRecorder(Simulator.from_scenario(scenario, seed, log=False), hash_every=hash_every)
    for decision in schedule:
        recorder.step(None if decision == CLOCK else decision)
    return recorder.trace()


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(read_bytes(path, SCENARIO)).hexdigest()
    except InputError as exc:
        raise TraceError(f"{path}: {exc}") from None
