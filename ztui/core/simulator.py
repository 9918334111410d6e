"""Simulator: the public face of the core (see docs/architecture.md).

It owns one Kernel (the whole state) plus observer data that is not
state: the event log, the hazard episodes, the run's low-water mark and,
when asked for (record_history()), the step-indexed history the TUI draws.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import attrs

from ztui.scenario.model import USEC, Scenario, Scheduler

from . import (  # noqa: F401  (register kernel functions)
    intr,
    kern_kmalloc,
    kern_proc,
    kern_slaballoc,
    swap_pager,
    vfs_bio,
    vm_kern,
    vm_map,
    vm_pageout,
    vm_zone,
)
from .boot import boot
from .copying import clone_kernel, fingerprint, state_digest
from .explain import explain
from .frames import CONT, HANDLERS
from .hazard_report import hazard_view, keep_closest, open_episodes, why
from .history import DEFAULT_CAPACITY, HistoryView, StepHistory
from .invariants import assert_invariants
from .kern_synch import (
    RUN,
    STEP_UNITS,
    fire_timeouts,
    io_channel,
    next_event_tick,
    next_io,
    now,
    pick_random,
    pick_round_robin,
    wakeup,
)
from .snapshot import EventView, HazardView, LowWaterView, Snapshot, VerdictView
from .state import Kernel, Thread, Verdict
from .verdict import check_stuck, workload_complete
from .views import build_snapshot
from .vmstats import hardclock_rollup

EVENT_LOG_MAX = 5000


class Simulator:
    def __init__(self, scenario: Scenario, kernel: Kernel, seed: int, check_every: int = 0) -> None:
        self.scenario = scenario
        self.check_every = check_every  # debug: assert the invariants every N events (0: never)
        self._unchecked = 0
        self.seed = seed
        self.k = kernel
        self.random = scenario.run.scheduler is Scheduler.RANDOM
        self.max_steps = scenario.run.max_steps
        self.max_ticks = scenario.run.max_time * kernel.hz // USEC
        kernel.step_cap = self.max_steps  # no batch runs past the scenario's limit
        self.events: deque[EventView] = deque(maxlen=EVENT_LOG_MAX)
        self.hazards: list[HazardView] = []  # the closest approaches so far (hazard_report.KEEP)
        self.hazard_count = 0
        self.low_cover: HazardView | None = None  # the episode that spanned the low-water step, if any
        self.step_history: StepHistory | None = None
        self.passed_verdict: VerdictView | None = None  # a livelock the user chose to step past
        self._verdict: VerdictView | None = None

    @classmethod
    def from_scenario(
        cls, scenario: Scenario, seed: int | None = None, log: bool = True, check_every: int = 0
    ) -> Simulator:
        seed = scenario.run.seed if seed is None else seed
        k = boot(scenario, seed)
        if not log:
            k.log = k.hazlog = k.lowwater = None
        sim = cls(scenario, k, seed, check_every)
        if check_every:
            assert_invariants(k)
        return sim

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
        if k.verdict or k.tick_units >= k.tick_budget:
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
        """The state as a hashable value, for search (copying.fingerprint): the step counter is left out.

        ``scheduler=False`` also leaves out the round-robin cursor and the
        PRNG, which are dead state when every step names its thread.
        """
        k = self.k
        saved = k.step, k.rr_last, k.rng
        k.step = 0
        if not scheduler:
            k.rr_last, k.rng = -1, 0
        try:
            return fingerprint(k)
        finally:
            k.step, k.rr_last, k.rng = saved

    def keep_fingerprints(self) -> None:
        """From now on (and in clones), state_key() reads each page queue's run-hash sum (PageQueue.fp)."""
        for q in self.k.queues.values():
            q.keep_fp()

    def clone(self) -> Simulator:
        twin = Simulator(self.scenario, clone_kernel(self.k), self.seed, self.check_every)
        twin.events = deque(self.events, maxlen=EVENT_LOG_MAX)
        twin.hazards, twin.hazard_count, twin.low_cover = list(self.hazards), self.hazard_count, self.low_cover
        twin._verdict = self._verdict
        twin.passed_verdict = self.passed_verdict
        twin.step_history = self.step_history  # shared, not copied: a clone's past is the same run
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
        self.k.verdict = Verdict.NONE

    def record_history(self, capacity: int = DEFAULT_CAPACITY) -> StepHistory:
        """Turn on the step-indexed history (see ztui.core.history); clones share it.

        Off by default: with it on, a step call whose step count reaches the
        next sample's takes one (StepHistory.sample).
        """
        if self.step_history is None:
            self.step_history = StepHistory(self.k, capacity)
        return self.step_history

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
        if tid is None and cur is not None and cur.state == RUN and k.slice_left > 0 and k.tick_units < k.tick_budget:
            k.curcpu, k.actor = cur.cpu, cur.tid
            run_thread(k, cur)  # the running thread goes on in its time slice
            k.slice_left -= 1
            return self._end_step()
        ready = [t for t in k.threads if t.state == RUN]
        if not ready or k.tick_units >= k.tick_budget:
            if tid is not None:
                raise ValueError(f"thread {tid} cannot run now: the clock must advance first")
            self._advance_clock(bool(ready))
            return self._end_step(clock=True)
        else:
            if tid is None:
                t = self._pick(ready, advance=True)
            else:
                t = k.threads[tid]
                if t.state != RUN:
                    raise ValueError(f"thread {tid} ({t.name}) is not runnable")
            if t.tid != k.cur or k.slice_left <= 0:  # a new time slice, also for the thread re-picked
                k.cur = t.tid
                k.rr_last = t.tid
                k.slice_left = k.cfg.quantum
            k.curcpu, k.actor = t.cpu, t.tid
            run_thread(k, t)
            k.slice_left -= 1
        return self._end_step()

    def _end_step(self, clock: bool = False) -> bool:
        """Count the step; the verdict rules run once per clock tick, and at once when a step sets one."""
        k = self.k
        k.step += 1
        if not clock:
            k.tick_units += STEP_UNITS
        if k.log:
            self._drain_log()
        if k.hazlog:
            self._drain_hazards()
        if (k.io or k.reads) and next_io(k) <= now(k):
            self._complete_io()
        if self.check_every:
            self._unchecked += 1
            if self._unchecked >= self.check_every:
                self._unchecked = 0
                assert_invariants(k)
        if k.verdict or clock or k.step >= self.max_steps:
            self._check_verdict()
        history = self.step_history
        if history is not None and k.step >= history.next_at:
            history.sample(k)
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
        """hardclock: the next tick if the CPU is busy, else straight to the next timed event.

        An idle machine whose next event is an I/O completion within this
        tick moves to it without a new tick.
        """
        k = self.k
        if busy:
            new = k.tick + 1
        else:
            new = next_event_tick(k)
            io = next_io(k)
            if io >= 0 and (new < 0 or io < new * k.tick_budget):
                if io < (k.tick + 1) * k.tick_budget:
                    k.tick_units = max(k.tick_units, io - k.tick * k.tick_budget)
                    self._complete_io()
                    return
                new = io // k.tick_budget
            if new < 0:
                k.verdict = Verdict.DEADLOCK
                return
        new = min(new, max(self.max_ticks, k.tick + 1))  # stop the clock at run.max_time
        k.tick = new
        k.tick_units = 0
        k.curcpu, k.actor = 0, -1  # interrupts and callouts
        hardclock_rollup(k)
        self._complete_io()
        if k.sockbuf:
            intr.soreceive(k)
        if k.cfg.kobjs:
            kern_kmalloc.kobj_expire(k)
        fire_timeouts(k)

    def _complete_io(self) -> None:
        """biodone for every write and read whose time has come, in interrupt context."""
        k = self.k
        t = now(k)
        saved = k.curcpu, k.actor
        k.curcpu, k.actor = 0, -1
        while k.io and k.io[0].done_at <= t:
            swap_pager.swp_pager_async_iodone(k, k.io.pop(0))
        while k.reads and k.reads[0].done_at <= t:
            wakeup(k, io_channel(k.reads.pop(0).tid))
        k.curcpu, k.actor = saved

    def _drain_log(self) -> None:
        k = self.k
        names, log = k.threads, k.log
        assert log is not None
        for step, tid, sub, text in log:
            name = names[tid].name if tid >= 0 else ""
            self.events.append(EventView(step, k.tick, name, sub, text))
        log.clear()

    def _drain_hazards(self) -> None:
        hazlog = self.k.hazlog
        assert hazlog is not None
        self.hazard_count += len(hazlog)
        new = [hazard_view(r) for r in hazlog]
        self.hazards = keep_closest(self.hazards, new)
        self._cover_low_water(new)
        hazlog.clear()

    def _cover_low_water(self, episodes: list[HazardView]) -> None:
        """Remember the closest of the episodes that spanned the low-water step (a newer low forgets it)."""
        low = self.k.lowwater
        if low is None:
            return
        cover = self.low_cover if self.low_cover and self.low_cover.step <= low[2] <= self.low_cover.end_step else None
        for h in episodes:
            if h.step <= low[2] <= h.end_step and (cover is None or h.lowest_margin < cover.lowest_margin):
                cover = h
        self.low_cover = cover

    def _low_water(self, open_now: list[HazardView]) -> LowWaterView | None:
        low = self.k.lowwater
        if low is None or low[0] >= 1 << 62:
            return None
        self._cover_low_water(open_now)
        return LowWaterView(low[0], low[2], low[1], self.low_cover)

    def _check_verdict(self) -> None:
        k = self.k
        if not k.verdict:
            if workload_complete(k):
                k.verdict = Verdict.OK
            else:
                k.verdict = check_stuck(k)
                if k.verdict is Verdict.LIVELOCK and self.passed_verdict is not None:
                    k.verdict = Verdict.NONE  # the user is watching this livelock on purpose
                if not k.verdict and (k.step >= self.max_steps or k.tick >= self.max_ticks):
                    k.verdict = Verdict.LIMIT
            if not k.verdict:
                return
        view = explain(self, k)
        still_open = open_episodes(k)
        hazards = tuple(keep_closest(self.hazards, still_open))
        low_water = self._low_water(still_open)
        self._verdict = attrs.evolve(
            view,
            hazards=hazards,
            hazard_count=self.hazard_count + len(still_open),
            low_water=low_water,
            why=why(k, view, hazards, self.hazard_count + len(still_open), low_water),
        )
        if k.log is not None:
            self.events.append(EventView(k.step, k.tick, "", "verdict", self._verdict.headline))


def run_thread(k: Kernel, t: Thread) -> None:
    """Run ``t``'s top frame until it does a unit of work or blocks."""
    frames = t.frames
    while frames and HANDLERS[type(frames[-1])](k, t, frames[-1]) == CONT:
        if k.verdict:
            return
