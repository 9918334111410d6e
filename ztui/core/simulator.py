"""Simulator: the public face of the core (see docs/architecture.md).

It owns one Kernel (the whole state) plus observer data that is not
state: the event log, the free+cache history and, when asked for
(record_history()), the step-indexed history the TUI draws.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from ztui.scenario.model import USEC, Scenario, Scheduler

from . import (  # noqa: F401  (register kernel functions)
    intr,
    kern_kmalloc,
    kern_proc,
    kern_slaballoc,
    swap_pager,
    vm_kern,
    vm_map,
    vm_pageout,
    vm_zone,
)
from .boot import boot
from .copying import clone_kernel, encode, state_digest
from .frames import CONT, HANDLERS
from .history import DEFAULT_CAPACITY, HistoryView, StepHistory
from .kern_synch import (
    RUN,
    fire_timeouts,
    next_event_tick,
    pick_random,
    pick_round_robin,
)
from .snapshot import EventView, Snapshot, VerdictView
from .state import Kernel, Thread
from .verdict import check_stuck, explain, workload_complete
from .views import build_snapshot

EVENT_LOG_MAX = 5000
HISTORY_MAX = 4096


class Simulator:
    def __init__(self, scenario: Scenario, kernel: Kernel, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self.k = kernel
        self.random = scenario.run.scheduler is Scheduler.RANDOM
        self.max_steps = scenario.run.max_steps
        self.max_ticks = scenario.run.max_time * kernel.hz // USEC
        kernel.step_cap = self.max_steps  # no batch runs past the scenario's limit
        self.events: deque[EventView] = deque(maxlen=EVENT_LOG_MAX)
        self.history: list[tuple[int, int]] = [(0, kernel.free + kernel.cache)]
        self.step_history: StepHistory | None = None
        self.passed_verdict: VerdictView | None = None  # a livelock the user chose to step past
        self._verdict: VerdictView | None = None

    @classmethod
    def from_scenario(cls, scenario: Scenario, seed: int | None = None, log: bool = True) -> Simulator:
        seed = scenario.run.seed if seed is None else seed
        k = boot(scenario, seed)
        if not log:
            k.log = None
        return cls(scenario, k, seed)

    # --- reading ----------------------------------------------------------

    @property
    def step_count(self) -> int:
        return self.k.step

    @property
    def tick(self) -> int:
        return self.k.tick

    @property
    def hz(self) -> int:
        return self.k.hz

    @property
    def verdict(self) -> VerdictView | None:
        return self._verdict

    @property
    def thresholds(self):
        return self.k.th

    def runnable(self) -> tuple[int, ...]:
        """Thread ids the scheduler may run now; empty when the clock must advance."""
        k = self.k
        if k.verdict or k.tick_steps >= k.steps_per_tick * k.ncpus:
            return ()
        return tuple(t.tid for t in k.threads if t.state == RUN)

    def next_tid(self) -> int | None:
        ready = [self.k.threads[i] for i in self.runnable()]
        if not ready:
            return None
        return self._pick(ready, advance=False).tid

    def history_view(self) -> HistoryView | None:
        return None if self.step_history is None else self.step_history.view()

    def snapshot(self, events: int = 200) -> Snapshot:
        tail = tuple(self.events)[-events:] if events else ()
        return build_snapshot(self, tail)

    def state_hash(self) -> str:
        return state_digest(self.k)

    def state_key(self, scheduler: bool = True) -> tuple:
        """The state as a hashable value, for search: the step counter is left out.

        ``scheduler=False`` also leaves out the round-robin cursor and the
        PRNG, which are dead state when every step names its thread.
        """
        k = self.k
        saved = k.step, k.rr_last, k.rng
        k.step = 0
        if not scheduler:
            k.rr_last, k.rng = -1, 0
        try:
            return encode(k)
        finally:
            k.step, k.rr_last, k.rng = saved

    def clone(self) -> Simulator:
        twin = Simulator(self.scenario, clone_kernel(self.k), self.seed)
        twin.events = deque(self.events, maxlen=EVENT_LOG_MAX)
        twin.history = list(self.history)
        twin._verdict = self._verdict
        twin.passed_verdict = self.passed_verdict
        if self.step_history is not None:  # shared, not copied: a clone's past is the same run
            twin._use_history(self.step_history)
        return twin

    def step_past_verdict(self) -> None:
        """Let the run go on after a livelock, to watch it spin; later livelocks are not verdicts.

        A deadlock, a recursion or the end of the run (ok) leaves nothing to
        step: only a livelock can be passed.  The verdict stays known as
        ``passed_verdict``.
        """
        if self._verdict is None or self._verdict.kind != "livelock":
            raise ValueError("only a livelock can be stepped past")
        self.passed_verdict = self._verdict
        self._verdict = None
        self.k.verdict = ""

    def record_history(self, capacity: int = DEFAULT_CAPACITY) -> StepHistory:
        """Turn on the step-indexed history (see ztui.core.history); clones share it.

        Off by default: with it on, every step call also checks whether a
        sample is due, which the headless paths should not pay for.
        """
        if self.step_history is None:
            self._use_history(StepHistory(self.k, capacity))
        return self.step_history

    def _use_history(self, history: StepHistory) -> None:
        self.step_history = history
        self._end_step = self._end_step_recorded  # an instance attribute: the class's path stays as it was

    def _end_step_recorded(self) -> bool:
        Simulator._end_step(self)
        if self.k.step >= self.step_history.next_at:
            self.step_history.sample(self.k)
        return True

    # --- stepping ------------------------------------------------------------

    def step(self, tid: int | None = None, exact: bool = False) -> bool:
        """One event: a thread's step, or the clock advancing.  False once a verdict stands.

        A thread may apply a run of like actions at once (see
        docs/architecture.md); ``exact`` limits this call to one kernel step.
        """
        if self._verdict is not None:
            return False
        k = self.k
        if exact:
            k.step_cap = k.step + 1
            try:
                return self.step(tid)
            finally:
                k.step_cap = self.max_steps
        cur = k.threads[k.cur] if k.cur >= 0 else None
        if tid is None and cur is not None and cur.state == RUN and k.slice_left > 0 and (
            k.tick_steps < k.steps_per_tick * k.ncpus
        ):
            run_thread(k, cur)  # the running thread goes on in its time slice
            k.slice_left -= 1
            return self._end_step()
        ready = [t for t in k.threads if t.state == RUN]
        if not ready or k.tick_steps >= k.steps_per_tick * k.ncpus:
            if tid is not None:
                raise ValueError(f"thread {tid} cannot run now: the clock must advance first")
            self._advance_clock(bool(ready))
        else:
            if tid is None:
                t = self._pick(ready, advance=True)
            else:
                t = k.threads[tid]
                if t.state != RUN:
                    raise ValueError(f"thread {tid} ({t.name}) is not runnable")
            if t.tid != k.cur:
                k.cur = t.tid
                k.rr_last = t.tid
                k.slice_left = k.cfg.quantum
            run_thread(k, t)
            k.slice_left -= 1
        return self._end_step()

    def _end_step(self) -> bool:
        k = self.k
        k.step += 1
        k.tick_steps += 1
        if k.log:
            self._drain_log()
        if k.verdict or k.tick_steps == 1 or k.step >= self.max_steps:
            self._check_verdict()
        return True

    def run(
        self,
        max_steps: int | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> VerdictView | None:
        """Step until a verdict, the scenario's limits, ``max_steps`` more steps or ``should_stop()``."""
        limit = self.max_steps if max_steps is None else min(self.max_steps, self.k.step + max_steps)
        k = self.k
        k.step_cap = limit
        calls = 0
        try:
            while self._verdict is None and k.step < limit:
                calls += 1
                if should_stop is not None and calls % 1024 == 0 and should_stop():
                    break
                self.step()
        finally:
            k.step_cap = self.max_steps
        return self._verdict

    def _pick(self, ready: list[Thread], advance: bool) -> Thread:
        """The running thread keeps the CPU for its slice; then round-robin or a seeded draw."""
        k = self.k
        if k.slice_left > 0 and k.cur >= 0 and k.threads[k.cur].state == RUN:
            return k.threads[k.cur]
        if self.random:
            return pick_random(self.k, ready, advance)
        return pick_round_robin(self.k, ready)

    def _advance_clock(self, busy: bool) -> None:
        """hardclock: the next tick if the CPU is busy, else straight to the next timed event."""
        k = self.k
        if busy:
            new = k.tick + 1
        else:
            new = next_event_tick(k)
            if new < 0:
                k.verdict = "deadlock"
                return
        new = min(new, max(self.max_ticks, k.tick + 1))  # stop the clock at run.max_time
        k.tick = new
        k.tick_steps = 0
        done = [io for io in k.io if io.done_tick <= new]
        if done:
            k.io = [io for io in k.io if io.done_tick > new]
            for io in done:
                swap_pager.swp_pager_async_iodone(k, io)
        if k.intr_held:
            intr.netisr_release(k)
        fire_timeouts(k)
        self._record_history()

    def _record_history(self) -> None:
        k = self.k
        h = self.history
        if h[-1][0] != k.tick:
            h.append((k.tick, k.free + k.cache))
            if len(h) > HISTORY_MAX:
                del h[: HISTORY_MAX // 2 : 2]  # thin the older half

    def _drain_log(self) -> None:
        k = self.k
        names = k.threads
        for step, tid, sub, text in k.log:
            name = names[tid].name if tid >= 0 else ""
            self.events.append(EventView(step, k.tick, name, sub, text))
        k.log.clear()

    def _check_verdict(self) -> None:
        k = self.k
        if not k.verdict:
            if workload_complete(k):
                k.verdict = "ok"
            elif k.step >= self.max_steps or k.tick >= self.max_ticks:
                k.verdict = "ok"
            else:
                k.verdict = check_stuck(k)
                if k.verdict == "livelock" and self.passed_verdict is not None:
                    k.verdict = ""  # the user is watching this livelock on purpose
            if not k.verdict:
                return
        self._verdict = explain(self, k)
        if k.log is not None:
            self.events.append(EventView(k.step, k.tick, "", "verdict", self._verdict.headline))


def run_thread(k: Kernel, t: Thread) -> None:
    """Run ``t``'s top frame until it does a unit of work or blocks."""
    frames = t.frames
    while frames and HANDLERS[frames[-1].fn](k, t, frames[-1]) == CONT:
        if k.verdict:
            return
