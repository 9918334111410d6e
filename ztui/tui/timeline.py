"""Time travel over a deterministic Simulator: checkpoints and replay.

The simulator is deterministic given its scenario, its seed and the
scheduling choices the user made ("you are the scheduler"), so any earlier
step can be rebuilt by restoring an earlier clone and running forward,
applying the recorded choices at the steps where they were made.

Going back keeps the future: stepping or running forward again follows
the recorded choices (a trace opened at its end can be walked both ways).
The future is forgotten only when the user forces a different thread.

Checkpoints are taken by compute time, not by step count: whatever the
speed of a scenario, rebuilding a step then replays at most about
``replay_budget_s`` of simulation.  Their number is bounded by thinning the
older half, so the recent past stays cheap to reach and the distant past
costs more.

No Textual here: the TUI drives this class under a lock, from its key
handlers or from its worker thread, never from both at once.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable

from ztui.core.simulator import Simulator
from ztui.trace import CLOCK


class Timeline:
    def __init__(
        self,
        sim: Simulator,
        *,
        replay_budget_s: float = 0.05,
        capacity: int = 48,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.sim = sim
        self._replay_budget_s = replay_budget_s
        self._capacity = capacity
        self._clock = clock
        # (step_count, frozen clone), in step order; the first is the start and is never dropped.
        self._checkpoints: list[tuple[int, Simulator]] = []
        # step_count before a forced step -> the thread forced there (one exact step).
        self._choices: dict[int, int] = {}
        self._compute_s = 0.0  # simulation time spent since the last checkpoint
        self._clone_cost_s = 0.0
        self._checkpoint()

    @property
    def step_count(self) -> int:
        return self.sim.step_count

    @property
    def checkpoint_steps(self) -> tuple[int, ...]:
        return tuple(step for step, _ in self._checkpoints)

    def step(self, tid: int | None = None) -> bool:
        """One kernel step; ``tid`` forces a thread, None follows the recorded future or the scheduler."""
        here = self.sim.step_count
        recorded = self._choices.get(here)
        if tid is None:
            tid = recorded
        elif tid != (recorded if recorded is not None else self.sim.next_tid()):
            self._forget_after(here)
        if tid is not None and tid != self.sim.next_tid():
            self._choices[here] = tid
        started = self._clock()
        alive = self.sim.step(tid=tid, exact=True)
        self._account(self._clock() - started)
        return alive

    def follow(self, decisions: Iterable[int]) -> None:
        """Re-run a trace's decisions (ztui.trace: a tid, or CLOCK for a clock advance).

        A decision is one step() call, which may cover a run of like steps;
        only the start of a run forced away from the scheduler's pick is a
        choice to remember: the rest of the run is that thread's time slice,
        which replay reproduces by itself.
        """
        for decision in decisions:
            started = self._clock()
            if decision != CLOCK and decision != self.sim.next_tid():
                self._choices[self.sim.step_count] = decision
                self.sim.step(decision)
            else:
                self.sim.step()
            self._account(self._clock() - started)

    def advance(self, max_steps: int) -> None:
        """Run forward for at most ``max_steps`` steps, following the recorded future."""
        self.replay_toward(self.sim.step_count + max_steps, max_steps)

    def start_trip(self, target: int) -> None:
        """Prepare to reach ``target``: backwards, restore the last checkpoint at or before it."""
        if target >= self.sim.step_count:
            return
        at = max(i for i, (step, _) in enumerate(self._checkpoints) if step <= max(target, 0))
        self.sim = self._checkpoints[at][1].clone()
        self._compute_s = 0.0

    def replay_toward(self, target: int, max_steps: int) -> bool:
        """Run toward ``target`` (after start_trip), replaying the recorded choices; True once there."""
        budget = max_steps
        while budget > 0 and self.sim.step_count < target and self.sim.verdict is None:
            here = self.sim.step_count
            if here in self._choices:
                self.step()
            else:
                next_choice = min((s for s in self._choices if s > here), default=target)
                started = self._clock()
                self.sim.run(max_steps=min(here + budget, next_choice, target) - here)
                self._account(self._clock() - started)
            if self.sim.step_count == here:
                return True  # the scenario's limits: nothing more to run
            budget -= self.sim.step_count - here
        return self.sim.step_count >= target or self.sim.verdict is not None

    def go_to(self, target: int) -> None:
        """Jump to step ``target``."""
        self.start_trip(target)
        while not self.replay_toward(target, max_steps=1 << 20):
            pass

    def step_back(self) -> None:
        self.go_to(self.sim.step_count - 1)

    def _forget_after(self, here: int) -> None:
        """A new choice at ``here``: the old future no longer happens."""
        self._choices = {s: c for s, c in self._choices.items() if s < here}
        self._checkpoints = [cp for cp in self._checkpoints if cp[0] <= here]

    def _account(self, seconds: float) -> None:
        self._compute_s += seconds
        # A checkpoint costs a clone; spacing them by 20 clone-times keeps that under 5 %.
        if self._compute_s >= max(self._replay_budget_s, 20 * self._clone_cost_s):
            self._checkpoint()

    def _checkpoint(self) -> None:
        self._compute_s = 0.0
        if self._checkpoints and self._checkpoints[-1][0] >= self.sim.step_count:
            return  # replaying a known stretch: its checkpoints are already there
        started = self._clock()
        self._checkpoints.append((self.sim.step_count, self.sim.clone()))
        self._clone_cost_s = self._clock() - started
        if len(self._checkpoints) > self._capacity:
            self._thin_older_half()

    def _thin_older_half(self) -> None:
        half = len(self._checkpoints) // 2
        older = self._checkpoints[:half]
        kept = older[:1] + older[2::2]  # always keep the start
        self._checkpoints = kept + self._checkpoints[half:]
