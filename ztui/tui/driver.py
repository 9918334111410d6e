"""Running the simulator for the UI: jobs, slices and a bounded publish rate.

The simulator's server (ztui.tui.simserver) calls Driver.run(job).  The
driver advances the job in short slices (about ``slice_s`` of simulation
each) and asks ``cancelled()`` between them, so a request from the UI
waits at most one slice, and hands a frozen Snapshot to ``publish`` at
most ``frame_s`` apart.

With breakpoints (a Watch), a job takes exact steps and asks the watch
after each one, so it stops on the very step a condition starts to hold.

No Textual here, so the loop can be tested and benchmarked on its own;
the clock and the sleep are parameters, so tests drive time by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from ztui.core.snapshot import Snapshot
from ztui.core.timeline import Timeline
from ztui.core.views import unit_of_work
from ztui.tui.breakpoints import Breakpoint, Watch


class Job(Protocol):
    def advance(self, timeline: Timeline, max_steps: int) -> bool:
        """Do at most ``max_steps`` steps of work; True when the job is finished."""

    def steps_due(self, now: float) -> int | None:
        """Steps allowed right now by the job's pace; None for as many as possible."""


class Watched:
    """A job that may stop at a breakpoint: ``hit`` is the one that fired."""

    def __init__(self, watch: Watch | None = None) -> None:
        self.watch = watch
        self.hit: Breakpoint | None = None

    def run(self, timeline: Timeline, max_steps: int) -> bool:
        """Up to ``max_steps`` steps; True if a verdict stands or a breakpoint fired."""
        if self.watch is None:
            timeline.run(max_steps=max_steps)
            return timeline.verdict is not None
        for _ in range(max_steps):
            if timeline.verdict is not None:
                return True
            timeline.step()
            self.hit = self.watch.fired(timeline.sim.k)
            if self.hit is not None:
                return True
        return timeline.verdict is not None


class FastForward(Watched):
    """Run flat out until a verdict (or the scenario's limits, which give one), or a breakpoint."""

    def advance(self, timeline: Timeline, max_steps: int) -> bool:
        return self.run(timeline, max_steps)

    def steps_due(self, now: float) -> int | None:
        return None


class PacedRun(Watched):
    """Run at ``steps_per_s`` until a verdict or a breakpoint; the pace is re-read so the speed keys act at once."""

    def __init__(self, steps_per_s: Callable[[], float], clock: Callable[[], float] = time.perf_counter,
                 watch: Watch | None = None) -> None:
        super().__init__(watch)
        self._speed = steps_per_s
        self._clock = clock
        self._since = clock()
        self._taken = 0
        self._pace = steps_per_s()

    def advance(self, timeline: Timeline, max_steps: int) -> bool:
        before = timeline.step_count
        finished = self.run(timeline, max_steps)
        self._taken += timeline.step_count - before
        return finished

    def steps_due(self, now: float) -> int | None:
        pace = self._speed()
        if pace != self._pace:  # speed changed: start counting afresh
            self._pace, self._since, self._taken = pace, now, 0
        if pace == float("inf"):
            return None
        # Never bank more than a fifth of a second, so a stall does not become a burst.
        due = int((now - self._since) * pace) - self._taken
        backlog = max(1, int(pace / 5))
        if due > backlog:
            self._taken += due - backlog
            due = backlog
        return due


class GoTo:
    """Reach step ``target``: backwards at once (a checkpoint and a short replay), forwards in slices."""

    def __init__(self, target: int) -> None:
        self.target = target

    def advance(self, timeline: Timeline, max_steps: int) -> bool:
        if self.target < timeline.step_count:
            timeline.goto(self.target)
        else:
            timeline.run(max_steps=min(max_steps, self.target - timeline.step_count))
        return timeline.step_count >= self.target or timeline.verdict is not None

    def steps_due(self, now: float) -> int | None:
        return None


class RunThread:
    """Thread ``tid`` takes every step until it blocks or finishes a unit of work.

    A unit of work ends when the kernel call it was in returns (its stack
    gets shallower than when it started) or, for a thread at its outermost
    frame, when its phase changes.  The clock advances when it must.
    ``reason`` says why it stopped: "blocked", "done", "verdict" or "limit".
    """

    def __init__(self, tid: int, limit: int = 100_000) -> None:
        self.tid = tid
        self.limit = limit
        self.steps = 0
        self.reason = ""
        self._start: tuple[bool, int, int] | None = None

    def advance(self, timeline: Timeline, max_steps: int) -> bool:
        sim = timeline.sim
        if self._start is None:
            self._start = unit_of_work(sim.k, self.tid)
        _, depth, phase = self._start
        for _ in range(max_steps):
            if sim.verdict is not None:
                self.reason = "verdict"
                return True
            if self.tid in sim.runnable():
                timeline.step(self.tid)
                self.steps += 1
            elif sim.next_tid() is None and unit_of_work(sim.k, self.tid)[0]:
                timeline.step()  # the clock must advance before it can run again
            else:
                self.reason = "blocked"
                return True
            sim = timeline.sim
            runnable, now_depth, now_phase = unit_of_work(sim.k, self.tid)
            if not runnable:
                self.reason = "blocked"
                return True
            if now_depth < depth or (depth <= 1 and now_phase != phase):
                self.reason = "done"
                return True
            if self.steps >= self.limit:
                self.reason = "limit"
                return True
        return False

    def steps_due(self, now: float) -> int | None:
        return None


class Driver:
    def __init__(
        self,
        timeline: Timeline,
        publish: Callable[[Snapshot], None],
        *,
        frame_s: float = 1 / 30,
        slice_s: float = 0.005,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeline = timeline
        self._publish = publish
        self._frame_s = frame_s
        self._slice_s = slice_s
        self._clock = clock
        self._sleep = sleep
        self._steps_per_slice = 64  # adapted from the measured rate

    def run(self, job: Job, cancelled: Callable[[], bool]) -> bool:
        """Advance ``job`` until it finishes (True) or ``cancelled()`` (False)."""
        last_publish = self._clock()
        finished = False
        while not cancelled():
            now = self._clock()
            due = job.steps_due(now)
            if due is not None and due <= 0:
                self._sleep(min(self._frame_s, self._slice_s * 2))
                continue
            chunk = self._steps_per_slice if due is None else min(due, self._steps_per_slice)
            before = self.timeline.step_count
            started = self._clock()
            finished = job.advance(self.timeline, chunk)
            elapsed = self._clock() - started
            self._adapt(self.timeline.step_count - before, elapsed)
            now = self._clock()
            if finished or now - last_publish >= self._frame_s:
                self._publish(self.timeline.sim.snapshot())
                last_publish = now
            if finished:
                break
        return finished

    def _adapt(self, done: int, elapsed: float) -> None:
        if done <= 0 or elapsed <= 0:
            return
        rate = done / elapsed
        self._steps_per_slice = max(1, min(1 << 20, int(rate * self._slice_s)))
