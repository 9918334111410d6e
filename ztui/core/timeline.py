"""Time travel over a Simulator: checkpoints plus deterministic replay.

The simulator is deterministic given its scenario, its seed and the
threads a caller forced ("you are the scheduler"), so any earlier state is
rebuilt by restoring an earlier clone and running forward, re-applying
the forced choices where they were made.

Positions are step counts (Simulator.step_count), the number users see.
step() is exactly one kernel step, and Simulator.run(max_steps=n) never
lets a batch of like actions pass the step it must stop at; the core
guarantees that batching gives the states page-by-page stepping gives.  So
goto(n) lands exactly on step n (or on the verdict, if it comes first).

What is kept:

* forced choices, only where the caller chose another thread than the
  scheduler would have, keyed by the step count before the step.
  Forcing the scheduler's own pick is the scheduler's step (a
  seeded-random scheduler draws as usual), so it needs no record;
* checkpoints: a clone at the first state at or after every multiple of
  ``interval`` steps, holding only the last CHECKPOINT_EVENTS events (what
  a snapshot shows).  Past ``capacity`` of them, or past their share of
  the memory budget, the interval doubles and every other one goes, so
  they stay evenly spread and a jump replays at most ``interval`` steps
  after restoring one.

The memory budget (``memory_budget``, DEFAULT_MEMORY_BUDGET = 64 MiB)
bounds both: three quarters for checkpoints, each costed on its own (the
size of a clone less what every clone shares, ztui.memory.clone_cost,
measured now and then and scaled by the page runs in between: see
_cost); one quarter for forced choices at
FORCED_CHOICE_BYTES each.  At the checkpoints' limit jumps get slower
(more replay), never wrong.  At the forced choices' limit the timeline
forgets its oldest half: the origin moves forward to a checkpoint, and
going back stops there (or, if the choices are in the recorded future,
the far half of that future is dropped).

Going back keeps the future: forward() after back() replays the same
steps, until the caller forces another thread than the recorded one, which
drops the old future from there on.

No Textual here: the TUI drives this class from one thread at a time.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable

import attrs

from ztui.memory import clone_cost
from ztui.scenario.model import MiB

from .simulator import Simulator
from .snapshot import VerdictView

DEFAULT_MEMORY_BUDGET = 64 * MiB
CHECKPOINT_SHARE = 0.75  # of the budget; forced choices get the rest
# A forced choice: a dict entry, a sorted-list slot and the step's int (measured ~92 bytes; rounded up).
FORCED_CHOICE_BYTES = 128
CHECKPOINT_EVENTS = 200  # Simulator.snapshot()'s default window
MEASURE_GROWTH = 8  # a checkpoint's cost is measured again once the step count has grown this much


@attrs.frozen
class Checkpoint:
    step: int  # the clone's step count
    boundary: int  # the multiple of the interval it stands for (the origin for the first)
    sim: Simulator  # never stepped: restoring clones it
    bytes: int  # its estimated cost (Timeline._cost)


class Timeline:
    def __init__(
        self,
        sim: Simulator,
        *,
        interval: int = 4096,
        capacity: int = 128,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
    ) -> None:
        if interval < 1 or capacity < 2 or memory_budget < 1:
            raise ValueError("interval must be >= 1, capacity >= 2 and memory_budget >= 1")
        self.sim = sim
        self.interval = interval
        self.capacity = capacity
        self.memory_budget = memory_budget
        self.origin = sim.step_count  # the earliest reachable state: where the timeline began
        self._calibration: tuple[int, int] | None = None  # the last measure: (bytes, page runs)
        self._measure_at = sim.step_count  # the next checkpoint at or past this step is measured
        self._checkpoints = [self._checkpoint(sim.step_count)]
        self._forced: dict[int, int] = {}
        self._forced_steps: list[int] = []  # the keys of _forced, sorted

    # --- reading --------------------------------------------------------------

    @property
    def step_count(self) -> int:
        return self.sim.step_count

    @property
    def verdict(self) -> VerdictView | None:
        return self.sim.verdict

    @property
    def checkpoint_steps(self) -> tuple[int, ...]:
        return tuple(c.step for c in self._checkpoints)

    @property
    def forced(self) -> dict[int, int]:
        """Step count before the step -> the thread the caller forced there."""
        return dict(self._forced)

    @property
    def memory_estimate(self) -> int:
        """Estimated bytes held by the checkpoints and the forced choices (bounded by memory_budget)."""
        return self._checkpoints_bytes() + len(self._forced) * FORCED_CHOICE_BYTES

    def _checkpoints_bytes(self) -> int:
        return sum(c.bytes for c in self._checkpoints)

    # --- moving -----------------------------------------------------------------

    def step(self, tid: int | None = None) -> bool:
        """One step: the recorded future's, or the scheduler's; ``tid`` forces a thread.

        Raises ValueError if ``tid`` cannot run now.  False once a verdict stands.
        """
        sim = self.sim
        if sim.verdict is not None:
            return False
        here = sim.step_count
        recorded = self._forced.get(here)
        if tid is not None and tid != recorded:
            tid = self._choose(here, tid, recorded)
        elif tid is None:
            tid = recorded
        sim.step(tid, exact=True)
        self._checkpoint_if_due()
        return True

    def follow(self, tid: int | None) -> None:
        """Take one recorded step() decision (a trace's): a thread, or None for the scheduler's pick.

        Such a step may cover a run of like actions.  A forced thread is
        remembered as one exact step: replay lets its time slice continue,
        which gives the same run.
        """
        here = self.sim.step_count
        if tid is not None and tid != self.sim.next_tid():
            self._force(here, tid)
        self.sim.step(tid)
        self._checkpoint_if_due()

    def forward(self, n: int = 1) -> None:
        """To ``n`` steps ahead (or the verdict)."""
        self.goto(self.sim.step_count + n)

    def back(self, n: int = 1) -> None:
        """To ``n`` steps back (or the origin)."""
        self.goto(max(self.sim.step_count - n, self.origin))

    def goto(self, step: int) -> None:
        """To step ``step``, backwards or forwards: see the module's docstring."""
        target = max(step, self.origin)
        checkpoint = self._checkpoint_at_or_before(target)
        if not checkpoint.step <= self.sim.step_count <= target:
            passed = self.sim.passed_verdict
            self.sim = checkpoint.sim.clone()
            self.sim.passed_verdict = passed  # stepping on past a livelock holds for the whole timeline
        self._run_until(target)

    def run(
        self, max_steps: int | None = None, should_stop: Callable[[], bool] | None = None
    ) -> VerdictView | None:
        """Like Simulator.run(), keeping checkpoints and replaying recorded choices."""
        target = None if max_steps is None else self.sim.step_count + max_steps
        self._run_until(target, should_stop)
        return self.sim.verdict

    # --- inside -------------------------------------------------------------------

    def _choose(self, here: int, tid: int, recorded: int | None) -> int | None:
        """The caller forces ``tid`` at ``here``: record it; None if it is the scheduler's pick."""
        sim = self.sim
        pick = sim.next_tid()
        if pick is None:
            raise ValueError(f"thread {tid} cannot run now: the clock must advance first")
        if tid != pick and tid not in sim.runnable():
            raise ValueError(f"thread {tid} is not runnable")
        choice = None if tid == pick else tid
        if choice != recorded:  # another branch from here: the old future is gone
            self._drop_future(here)
            if choice is not None:
                self._force(here, choice)
        return choice

    def _force(self, here: int, tid: int) -> None:
        self._forced[here] = tid
        insort(self._forced_steps, here)
        if len(self._forced) * FORCED_CHOICE_BYTES > self.memory_budget * (1 - CHECKPOINT_SHARE):
            self._forget_half_of_the_choices()

    def _forget_half_of_the_choices(self) -> None:
        """At the forced choices' budget: forget the older half of the past, or the far half of the future."""
        here = self.sim.step_count
        middle = self._forced_steps[len(self._forced_steps) // 2]
        if middle >= here:  # the choices are mostly the recorded future
            self._drop_future(middle)
            return
        later = [c for c in self._checkpoints if middle < c.step <= here]
        origin = later[0] if later else self._checkpoint(here)
        self.origin = origin.step
        self._checkpoints = [origin, *(c for c in self._checkpoints if c.step > origin.step)]
        cut = bisect_left(self._forced_steps, origin.step)
        for step in self._forced_steps[:cut]:
            del self._forced[step]
        del self._forced_steps[:cut]

    def _drop_future(self, here: int) -> None:
        cut = bisect_right(self._forced_steps, here - 1)
        for step in self._forced_steps[cut:]:
            del self._forced[step]
        del self._forced_steps[cut:]
        del self._checkpoints[bisect_right(self._checkpoints, here, key=_step) :]

    def _run_until(self, target: int | None, should_stop: Callable[[], bool] | None = None) -> None:
        """Forward to step ``target`` (None: the verdict), stopping at checkpoints and choices."""
        sim = self.sim
        while sim.verdict is None and (target is None or sim.step_count < target):
            if should_stop is not None and should_stop():
                return
            here = sim.step_count
            forced = self._forced.get(here)
            if forced is not None:
                sim.step(forced, exact=True)
            else:
                stop = here - here % self.interval + self.interval
                i = bisect_right(self._forced_steps, here)
                if i < len(self._forced_steps):
                    stop = min(stop, self._forced_steps[i])
                if target is not None:
                    stop = min(stop, target)
                sim.run(max_steps=stop - here)  # lands exactly on stop: see the module's docstring
            self._checkpoint_if_due()

    def _checkpoint_if_due(self) -> None:
        sim = self.sim
        step = sim.step_count
        boundary = step - step % self.interval
        if boundary <= self.origin:
            return
        i = bisect_right(self._checkpoints, step, key=_step)
        if self._checkpoints[i - 1].boundary >= boundary:
            return  # this stretch has its checkpoint (we are replaying it)
        self._checkpoints.insert(i, self._checkpoint(boundary))
        budget = self.memory_budget * CHECKPOINT_SHARE
        while len(self._checkpoints) > self.capacity or (
            len(self._checkpoints) > 2 and self._checkpoints_bytes() > budget
        ):
            self.interval *= 2
            first, *rest = self._checkpoints
            self._checkpoints = [first, *(c for c in rest if c.boundary % self.interval == 0)]

    def _checkpoint(self, boundary: int) -> Checkpoint:
        """A checkpoint of the current state, with the events a snapshot shows and no more."""
        clone = self.sim.clone()
        while len(clone.events) > CHECKPOINT_EVENTS:
            clone.events.popleft()
        return Checkpoint(clone.step_count, boundary, clone, self._cost(clone))

    def _cost(self, clone: Simulator) -> int:
        """A clone's bytes: measured (clone_cost), or scaled from the last measure by its page runs.

        Page runs are most of a big state (measured on seed-2g-chrome-buildkernel:
        340-610 bytes a run, 12 k runs growing to 88 k as the queues fragment,
        4 MB to 33 MB a clone).  A measure walks the whole clone (40-70 ms at
        2 GiB), so it is taken again only when the step count has grown
        MEASURE_GROWTH-fold or the runs have halved or doubled since.
        Measured against clone_cost at every 100-250 k steps of the bundled
        2 GiB scenarios: 0.76-1.0 of the truth (0.79-1.0 measuring at every
        doubling of the steps, which costs the churn 12 walks, not 8; one
        size for all, measured at step 0 and when the interval doubled, was
        0.01).
        """
        runs = page_runs(clone)
        calibration = self._calibration
        if calibration is not None and clone.step_count < self._measure_at:
            measured, measured_runs = calibration
            if measured_runs // 2 <= runs <= 2 * measured_runs:
                return measured * (runs + 1) // (measured_runs + 1)
        measured = clone_cost(clone)
        self._calibration = measured, runs
        self._measure_at = max(MEASURE_GROWTH * clone.step_count, clone.step_count + self.interval)
        return measured

    def _checkpoint_at_or_before(self, step: int) -> Checkpoint:
        return self._checkpoints[bisect_right(self._checkpoints, step, key=_step) - 1]


def _step(checkpoint: Checkpoint) -> int:
    return checkpoint.step


def page_runs(sim: Simulator) -> int:
    """Runs on the page queues: what a state's size follows (see Timeline._cost)."""
    return sum(len(queue.runs) for queue in sim.k.queues.values())
