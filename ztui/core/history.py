"""Observer data for the TUI's chart and thread timeline: a step-indexed, bounded history.

Not machine state (nothing here is hashed, and clones share one history)
and off by default: Simulator.record_history() turns it on, and only then
does a step call pay for it (one comparison, and a sample every ``every``
steps).

Samples are taken at most once per ``every`` steps; past ``capacity``
samples every other one goes and ``every`` doubles, so they stay evenly
spread over the run and memory stays bounded.  Going back in time keeps
them: a replay of steps already sampled takes no new samples (the run is
deterministic), so the chart still shows the future the user left.  Only
when the user makes another future (forces a thread) does the caller
rewind() it away.  The sample list is only ever appended to; thinning and
rewinding build a new list, so a HistoryView handed to another thread (a
Snapshot's) never sees its first ``count`` samples change.
"""

from __future__ import annotations

from itertools import islice
from typing import NamedTuple

import attrs

from .kern_proc import FIRST_PID
from .state import RUN, Kernel

# 1024-2048 samples kept: at least 4x the dots of the widest chart (a 256-column pane is 512
# braille dots), 10-20 a column for the thread timeline's majority.  Sampling costs what is
# taken, not what is kept: each doubling of ``every`` takes capacity/2 more.  On the 2 GiB
# churn (5.3 M steps) 4096 took 24.8 k samples, 2048 takes 13.5 k.
DEFAULT_CAPACITY = 2048
FAULT_OPS = frozenset({"alloc", "churn", "touch", "read"})


@attrs.frozen
class LaneState:
    """What a thread was doing at a sample, as the timeline colours it."""

    state: str  # ps STAT letter: R, S, D, Z
    running: bool  # it took the step the sample follows
    wmesg: str  # tsleep message when asleep, "" otherwise
    function: str  # its innermost kernel function (the top frame), "" when it has none


class Sample(NamedTuple):
    """A tuple, not an attrs class: the 2 GiB churn builds 13.5 k, and the garbage collector
    stops tracking a tuple of ints (an attrs instance it scans at every collection)."""

    step: int
    time_us: int  # simulated time; busy steps within a tick spread evenly over it
    free: int
    cache: int
    inactive: int
    active: int
    swap_used: int
    slab_pages: int  # pages in formatted and blank kmalloc_obj slabs (grows by 32 per slab assembled)
    faulted: int  # pages the processes' phases have handled so far (faults, reads, churn)
    lanes: tuple[int, ...]  # per thread (by tid), an index into HistoryView.states

    @property
    def free_cache(self) -> int:
        return self.free + self.cache


@attrs.frozen(eq=False)
class HistoryView:
    """The samples up to ``count``, frozen for a Snapshot; compare with ``key``."""

    samples: list[Sample]  # shared with the recorder: read only [:count]
    count: int
    states: list[LaneState]  # shared, append-only
    threads: tuple[str, ...]  # lane names, by tid
    every: int  # steps between samples now

    @property
    def key(self) -> tuple:
        return id(self.samples), self.count, len(self.states)

    def __iter__(self):
        return islice(self.samples, self.count)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> Sample:
        if not -self.count <= i < self.count:
            raise IndexError(i)
        return self.samples[i % self.count]


class StepHistory:
    def __init__(self, k: Kernel, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 16:
            raise ValueError("capacity must be at least 16")
        self.capacity = capacity
        self.every = 1
        self.samples: list[Sample] = []
        self.states: list[LaneState] = []
        self._codes: dict[tuple[str, bool, str, str], int] = {}  # LaneState's fields -> its index
        self.next_at = k.step
        self.threads = tuple(t.name for t in k.threads)
        # Per process thread, per phase: (pages its earlier phases handled, whether it counts its own), for ``faulted``.
        phases = [_phase_pages(p.phases) for p in k.cfg.procs]
        self._proc_phases = [(t.tid, phases[t.pid - FIRST_PID]) for t in k.threads if t.kind == "proc"]
        self.sample(k)

    def sample(self, k: Kernel) -> None:
        samples = self.samples
        if samples and samples[-1].step >= k.step:  # a replay of sampled steps: they are known
            self.next_at = samples[-1].step + 1
            return
        samples.append(self._take(k))
        if len(samples) > self.capacity:
            self.every *= 2
            self.samples = samples[::2]
        self.next_at = k.step + self.every

    def rewind(self, step: int) -> None:
        """Forget the samples after ``step``: the caller is about to make another future."""
        kept = [s for s in self.samples if s.step <= step]
        if len(kept) != len(self.samples):
            self.samples = kept
        self.next_at = step + 1

    def view(self) -> HistoryView:
        return HistoryView(self.samples, len(self.samples), self.states, self.threads, self.every)

    def _take(self, k: Kernel) -> Sample:
        budget = k.tick_budget
        time_us = (k.tick * budget + min(k.tick_units, budget)) * 1_000_000 // (k.hz * budget)
        # Positional: a NamedTuple built by keyword costs twice as much.
        return Sample(k.step, time_us, k.free, k.cache, k.inactive, k.active, k.swap_total - k.swap_free,
                      k.slab_pages, self._faulted(k), self._lanes(k))

    def _lanes(self, k: Kernel) -> tuple[int, ...]:
        """Each thread's LaneState as its code; keyed by a plain tuple, so a state seen before builds no object."""
        codes, cur = self._codes, k.cur
        lanes = []
        for t in k.threads:
            asleep = t.state != RUN
            key = (t.state, t.tid == cur and not asleep, t.wmesg if asleep else "", t.frames[-1].fn if t.frames else "")
            code = codes.get(key)
            if code is None:
                code = codes[key] = len(self.states)
                self.states.append(LaneState(*key))
            lanes.append(code)
        return tuple(lanes)

    def _faulted(self, k: Kernel) -> int:
        total = 0
        threads = k.threads
        for tid, phases in self._proc_phases:
            t = threads[tid]
            before, counted = phases[min(t.phase, len(phases) - 1)]
            total += before + t.done if counted else before
        return total


def _phase_pages(phases) -> list[tuple[int, bool]]:
    """Per phase, and one past the last: the pages the phases before it handled, and whether it is a fault phase."""
    out, total = [], 0
    for phase in phases:
        counted = phase.op in FAULT_OPS
        out.append((total, counted))
        if counted and phase.pages > 0:
            total += phase.pages
    out.append((total, False))
    return out
