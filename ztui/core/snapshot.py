"""Frozen, plain-data views of the simulator, for the TUI and the reports.

A Snapshot is built by Simulator.snapshot() and never changes afterwards,
so it can be handed to another thread (the TUI's render loop) safely.
Nothing here refers back to live simulator state.
"""

from __future__ import annotations

import attrs

from .history import HistoryView


@attrs.frozen
class EventView:
    step: int
    tick: int
    thread: str  # thread name, "" for the clock
    subsystem: str  # "vm_page", "pageout", "swap", "zalloc", "kmalloc", "vm_map", "proc", "intr", "sched", "verdict"
    text: str  # one kernel-style line


@attrs.frozen
class ThreadView:
    tid: int
    name: str
    state: str  # ps(1) STAT letter: "R" runnable, "S" sleeping, "D" waiting on I/O or a lock, "Z" exited
    wchan: str  # wait channel by kernel name, e.g. "vm_pageout_pages_needed"; "" when runnable
    wmesg: str  # tsleep message, e.g. "vmwait", "pfault", "psleep", "pgtblk"; "" when runnable
    function: str  # innermost kernel function, e.g. "kmem_slab_alloc"
    progress: str  # e.g. "page 7 of 32"; "" when nothing to say
    slept_ticks: int  # how long it has been asleep; 0 when runnable
    callpath: tuple[str, ...]  # outermost first, e.g. ("vm_pageout_thread", "vm_pageout_scan_inactive", ...)
    blocked_reason: str  # why it cannot run, in kernel terms; "" when runnable
    nice: int
    runnable: bool
    is_next: bool  # the scheduler would run this thread next


@attrs.frozen
class SlabView:
    """One kmalloc_obj slab."""

    sid: int
    where: str  # "active", "alternate", "partial", "full", "empty" (kernel's inverted names)
    nfree: int
    ncount: int


@attrs.frozen
class AssemblyView:
    """A slab or zone refill being put together page by page."""

    thread: str
    function: str  # "kmem_slab_alloc" or "kmem_alloc3"
    pages_held: int
    pages_needed: int


@attrs.frozen
class AllocatorView:
    """SWAPMETA's or MAP ENTRY's backing allocator."""

    zone: str  # "SWAPMETA" or "MAP ENTRY"
    kind: str  # "zalloc" or "kmalloc_obj"
    geometry: dict  # e.g. {"objects_per_slab": 398, "objsize": 320} or {"items_per_page": 12.8, "zsize": 320}
    state: dict  # counters by kernel name, e.g. {"zfreecnt": 3, "zfreemin": 12, "zpagecount": 5, "zpagemax": 100}
    in_use: int  # objects handed out
    slabs: tuple[SlabView, ...] = ()  # kmalloc_obj only
    blank_slabs: int = 0  # kmalloc_obj: gd_kmslab.free_count
    assembling: tuple[AssemblyView, ...] = ()


@attrs.frozen
class CpuVmeView:
    cpu: int
    gd_vme_avail: int
    gd_vme_base: int  # entries on the per-CPU free list
    cushion: int  # the hidden H of reference §10.2: base - avail - outstanding


@attrs.frozen
class MapEntryView:
    cpus: tuple[CpuVmeView, ...]
    zone: AllocatorView
    refill: tuple[AssemblyView, ...]  # a MAP ENTRY zone refill (kmem_alloc3) in progress
    recursion_depth: int  # nesting of vm_map_entry_reserve -> kmalloc_obj -> kmem_slab_alloc


@attrs.frozen
class HazardView:
    """A pager's allocation that only the pagers' own work can feed (core/hazard.py), and how close it came."""

    thread: str
    where: tuple[str, ...]  # the call path when it ended, outermost first
    step: int  # when it began
    tick: int
    end_step: int
    end_tick: int
    allocation: str  # e.g. "kmalloc_obj slab for SWAPMETA (kmem_slab_alloc, 32 pages)"
    pages: int  # pages it needed in all
    page_class: str  # e.g. "NORMAL|SYSTEM"
    floor_name: str  # e.g. "v_interrupt_free_min"
    floor: int  # pages that had to remain: free+cache must stay at or above it
    lowest_margin: int  # free+cache - floor - pages still needed + 1, at its lowest; < 0: it had to wait
    pages_needed_then: int
    true_free_cache: int  # free+cache as it was at the lowest margin (the margin reads the running CPU's copy)
    taken_below_severe: tuple[tuple[str, int], ...]  # (who, pages) others took below v_free_severe meanwhile
    outcome: str  # "completed", "gave up (...)", "open" (still running at the verdict), ...

    @property
    def stale_view(self) -> bool:
        """Short only on the CPU's copy of the counts: the true free+cache would have been enough."""
        return self.lowest_margin < 0 <= self.true_free_cache - self.floor - self.pages_needed_then + 1

    @property
    def pages_to_wedge(self) -> int:
        """Pages others would have had to take, below v_free_severe, for this allocation to wait."""
        return max(0, self.lowest_margin + 1)


@attrs.frozen
class LowWaterView:
    """The lowest free+cache of the run (counted once below v_free_min), and what the pagers were doing then."""

    pages: int
    step: int
    tick: int
    during: HazardView | None  # the pager allocation running at that step, if any


@attrs.frozen
class VerdictView:
    kind: str  # "ok", "limit", "deadlock", "livelock", "recursion"
    step: int
    tick: int
    headline: str  # one line
    explanation: tuple[str, ...]  # the chain of waits, outermost cause last
    threads: tuple[str, ...]  # thread names in the chain (the wedged threads), for highlighting
    resources: tuple[str, ...]  # e.g. "free+cache", "SWAPMETA", "gd_vme_avail", "pbuf"
    hazards: tuple[HazardView, ...] = ()  # the closest approaches, closest first
    hazard_count: int = 0  # every hazard episode of the run
    why: str = ""  # one paragraph: why the run survived, or why it wedged
    low_water: LowWaterView | None = None  # None: free+cache never fell below v_free_min

    @property
    def closest(self) -> HazardView | None:
        return self.hazards[0] if self.hazards else None


@attrs.frozen
class WorkloadView:
    """How much of the processes' work is done: what a run's progress is measured against."""

    phases_done: int
    phases_total: int
    pages_done: int  # pages handled in phases with a page count (alloc, read, churn, touch, free)
    pages_total: int  # their pages; unbounded churn is left out

    @property
    def fraction(self) -> float:
        """0..1: pages done if the phases have page counts, else phases done."""
        if self.pages_total:
            return min(self.pages_done / self.pages_total, 1.0)
        return self.phases_done / self.phases_total if self.phases_total else 1.0


@attrs.frozen
class Snapshot:
    scenario: str
    seed: int
    step: int
    tick: int
    hz: int
    vmstats: dict  # every threshold and counter by kernel name (v_free_count, v_cache_count, ...)
    queues: dict  # page counts for the bars: free, cache, inactive, active, wired (wired includes dma)
    pagedaemon: dict  # {"state": "IDLE"|"TARGET1"|"TARGET2", "vm_pages_needed", "vm_pageout_deficit", "pass"}
    swap: dict  # {"total", "used", "full", "almost_full", "writes_in_flight", "pbufs_free"} in pages
    swapmeta: AllocatorView
    mapentry: MapEntryView
    threads: tuple[ThreadView, ...]
    events: tuple[EventView, ...]  # the most recent events, oldest first
    verdict: VerdictView | None
    counters: dict = attrs.field(factory=dict)  # whole-run event counts: {"oom-kill": n, "swap-full": n}
    workload: WorkloadView | None = None
    step_history: HistoryView | None = None  # when the simulator records one (Simulator.record_history)
    passed_verdict: VerdictView | None = None  # a livelock the user stepped past (Simulator.step_past_verdict)

    @property
    def sim_time_s(self) -> float:
        return self.tick / self.hz
