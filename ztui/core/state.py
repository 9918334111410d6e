"""The machine state: plain mutable attrs data, copied and hashed as a whole.

Everything the simulation depends on lives here, so a Kernel can be
cloned (time travel, search), compared and hashed (state-space search,
trace checks).  Observers' data (event log, history) lives outside it, in
the Simulator.

Pages are not individual objects: each VM object keeps its resident pages
as runs (start pindex, count, flags, seq) on per-object queues, and the
global vmstats counters say how many pages each queue holds.  ``seq`` is the
global enqueue order, so the pageout scan can always take the oldest head
across objects, which is what one global LRU queue would give.
"""

from __future__ import annotations

from collections import deque

import attrs

from .vmstats import Thresholds

# Run flags on the inactive queue (vm_page.h PG_* bits, as far as ztui needs them).
DIRTY = 1
WINATCFLS = 2  # the dirty page has had its second chance

# Thread run states (ps STAT letters).
RUN = "R"
SLEEP = "S"
DISK = "D"  # uninterruptible: I/O or lock wait
ZOMB = "Z"


@attrs.define(slots=True)
class Frame:
    """One activation of a modelled kernel function.

    ``pc`` is the resume point inside the function; a..g are its integer
    locals, documented by each handler.
    """

    fn: str
    pc: int = 0
    a: int = 0
    b: int = 0
    c: int = 0
    d: int = 0
    e: int = 0
    g: int = 0


@attrs.define(slots=True)
class Thread:
    tid: int
    name: str
    kind: str  # "pagedaemon", "emergpager", "kmalloc_poller", "proc", "intr"
    cpu: int = 0
    nice: int = 0
    systhread: bool = False  # TDF_SYSTHREAD
    state: str = RUN
    wchan: str = ""
    wmesg: str = ""
    wake_tick: int = -1  # tsleep timeout, -1 for none
    slept_at: int = 0
    timed_out: bool = False
    frames: list[Frame] = attrs.Factory(list)
    rv: int = 0  # return value of the last callee
    # User processes (kind "proc").
    pid: int = 0
    phase: int = 0
    done: int = 0  # pages handled in the current phase
    phase_t0: int = 0  # tick the phase started
    anon: int = -1  # object id of the process's anonymous memory
    vnode: int = -1  # object id of the file it reads
    lowmemkill: bool = False  # P_LOWMEMKILL
    churn_free_next: bool = False
    map_entries: int = 0  # vm_map entries the process's map holds
    touch_at: int = 0  # the next pindex a touch phase reads
    finished: bool = False  # ran out of phases (or exited)


@attrs.define(slots=True)
class VmObject:
    oid: int
    kind: str  # "anon" (OBJT_DEFAULT/OBJT_SWAP) or "vnode"
    owner: str
    lo: int = 0  # lowest live pindex (anon memory is freed oldest first)
    hi: int = 0  # next pindex to fault in
    resident: int = 0
    active: deque = attrs.Factory(deque)  # runs (start, count, flags, seq)
    inactive: deque = attrs.Factory(deque)
    cache: deque = attrs.Factory(deque)
    busy: list = attrs.Factory(list)  # (start, count): soft-busied for pageout
    swb: dict = attrs.Factory(dict)  # swblock index -> 32-bit mask of pages with swap
    swb_slab: dict = attrs.Factory(dict)  # swblock index -> kmalloc_obj slab id


@attrs.define(slots=True)
class Slab:
    sid: int
    ncount: int
    nfree: int
    where: str  # "active", "alternate", "partial", "full", "empty"
    cpu: int = 0
    full_since: int = 0  # tick it entered the global full list (exis_freeable)


@attrs.define(slots=True)
class KmallocType:
    """A kmalloc_obj type (struct malloc_type with KSF_OBJSIZE)."""

    name: str  # "SWAPMETA" or "MAP ENTRY"
    objsize: int
    ncount: int  # objects per slab (malloc_mgt_init)
    active: list[int] = attrs.Factory(list)  # per CPU, slab id or -1
    alternate: list[int] = attrs.Factory(list)
    partial: list[int] = attrs.Factory(list)
    full: list[int] = attrs.Factory(list)
    empty: list[int] = attrs.Factory(list)
    inuse: int = 0
    reserved_slab: int = 0  # mitigation "reserved-slab": formatted spare slabs held aside


@attrs.define(slots=True)
class Zone:
    """A vm_zone (sys/vm/vm_zone.h); per-CPU and global pools are merged."""

    name: str
    zsize: int
    interrupt: bool  # ZONE_INTERRUPT: KVA reserved up front, refill never blocks
    zfreecnt: int = 0
    zfreemin: int = 0
    ztotal: int = 0
    zpagecount: int = 0
    zpagemax: int = 0  # 0 = unlimited
    zbytes: int = 0  # bytes mapped by refills (items may span pages)
    zgetlk: int = -1  # tid holding the refill lock, -1 if free
    inuse: int = 0


@attrs.define(slots=True)
class IoReq:
    """An async swap write (swap_pager_putpages -> swp_pager_async_iodone)."""

    done_tick: int
    oid: int
    start: int
    count: int


@attrs.frozen
class PhaseCfg:
    op: str  # alloc, read, churn, free, exit, sleep
    pages: int  # -1: unbounded (churn)
    rate: int  # pages per second, 0 = as fast as the CPU allows
    ticks: int  # sleep length


@attrs.frozen
class Config:
    """What the scenario fixed at boot; shared, never mutated."""

    swap_write_ticks: int
    file_read_ticks: int
    swap_read_ticks: int
    intr_rate: int  # pages per second
    intr_hold_ticks: int
    intr_consumer: int  # tid of the process reading the data, -1 for none
    livelock_ticks: int
    quantum: int  # steps per time slice
    phases: tuple[tuple[PhaseCfg, ...], ...]  # per process, by pid order


@attrs.define(slots=True)
class Kernel:
    th: Thresholds
    cfg: Config
    hz: int
    ncpus: int
    steps_per_tick: int
    tick: int = 0
    step: int = 0
    tick_steps: int = 0  # steps taken in the current tick
    rng: int = 1  # xorshift64 state
    rr_last: int = -1  # round-robin cursor
    cur: int = -1  # thread holding the CPU
    slice_left: int = 0  # steps left in its time slice
    seq: int = 0  # queue enqueue order
    # vmstats counters
    free: int = 0
    cache: int = 0
    inactive: int = 0
    active: int = 0
    wired: int = 0  # v_wire_count without the DMA reserve
    dma: int = 0
    kernel_wired: int = 0
    pageout_reserve: int = 0  # mitigation "pageout-reserve": pages set aside
    pageout_reserve_max: int = 0
    # pageout daemon
    vm_pages_needed: int = 0
    vm_pages_waiting: int = 0
    vm_pageout_pages_needed: int = 0
    vm_pageout_deficit: int = 0
    vm_pagedaemon_uptime: int = 0  # tick the primary last showed progress
    last_kill_tick: int = -(10**9)
    # swap
    swap_total: int = 0
    swap_free: int = 0
    swap_pager_full: int = 0
    swap_pager_almost_full: int = 0
    nswap_lowat: int = 0
    nswap_hiwat: int = 0
    pbufs_free: int = 4  # nsw_wcount_async
    io: list[IoReq] = attrs.Factory(list)
    # allocators
    swapmeta_kind: str = "zalloc"
    mapentry_kind: str = "zalloc"
    mitigations: frozenset = frozenset()
    zones: dict[str, Zone] = attrs.Factory(dict)
    ktypes: dict[str, KmallocType] = attrs.Factory(dict)
    slabs: dict[int, Slab] = attrs.Factory(dict)
    next_sid: int = 0
    kmslab_free: list[int] = attrs.Factory(list)  # per CPU gd_kmslab.free_count
    slab_pages: int = 0  # pages in formatted slabs and blank slabs
    poll_rotor: int = 0
    # map entries, per CPU
    gd_vme_avail: list[int] = attrs.Factory(list)
    gd_vme_base: list[int] = attrs.Factory(list)
    # interrupt receive buffers: (release_tick, pages)
    intr_held: deque = attrs.Factory(deque)
    intr_pages: int = 0
    swapin_pages: int = 0  # pages allocated for swap reads still in progress (busy, PQ_NONE)
    intr_dropped: int = 0
    # threads and objects
    threads: list[Thread] = attrs.Factory(list)
    objects: dict[int, VmObject] = attrs.Factory(dict)
    next_oid: int = 0
    # progress, for the livelock rule
    progress_tick: int = 0
    oom_kills: int = 0
    verdict: str = ""  # set once: "deadlock", "livelock", "recursion", "ok"
    # The step at which the caller wants to stop: batches never run past it.
    # A stopping point, not state: cutting a batch short changes nothing else.
    step_cap: int = attrs.field(default=1 << 62, eq=False, repr=False)
    swap_full_events: int = 0
    # Observer data, not state: events since the Simulator last drained them,
    # as (step, tid, subsystem, text); None turns logging off (search, benchmarks).
    log: list | None = attrs.field(factory=list, eq=False, repr=False)

    def page_total(self) -> int:
        """Every page is in exactly one of these places (page conservation)."""
        return (
            self.free
            + self.cache
            + self.inactive
            + self.active
            + self.wired
            + self.dma
            + self.pageout_reserve
        )
