"""The machine state: plain mutable attrs data, copied and hashed as a whole.

Everything the simulation depends on lives here, so a Kernel can be
cloned (time travel, search), compared and hashed (state-space search,
trace checks).  Observers' data (event log, history) lives outside it, in
the Simulator.

Pages are not individual objects: the page queues (vm_page_queues.py)
hold runs of pages of one VM object, and the vmstats counters say how many
pages each queue holds.  A kernel function that can block is a Frame on
its thread's stack, one class per function, with the function's locals as
named fields.
"""

from __future__ import annotations

import enum
from collections import deque
from typing import ClassVar

import attrs

from .vm_page_queues import HEAD, PageQueue
from .vmstats import Thresholds

# "No bound" for a count of pages: more than the largest machine has (the loader's PHYSMEM_MAX, 1 TiB, is
# 2**28 pages; tests/test_scale_limits.py holds the two together).
PAGES_UNBOUNDED = 1 << 30

# Thread run states (ps STAT letters).
RUN = "R"
SLEEP = "S"
DISK = "D"  # uninterruptible: I/O or lock wait
ZOMB = "Z"


class ThreadKind(enum.StrEnum):
    PAGEDAEMON = "pagedaemon"
    EMERGPAGER = "emergpager"
    KMALLOC_POLLER = "kmalloc_poller"
    INTR = "intr"
    PROC = "proc"


class Verdict(enum.StrEnum):
    """What a run ended as; "" while it runs (see verdict.py for the rules)."""

    NONE = ""
    OK = "ok"
    DEADLOCK = "deadlock"
    LIVELOCK = "livelock"
    RECURSION = "recursion"
    LIMIT = "limit"


# --- frames: one class per modelled kernel function -------------------------


@attrs.define(slots=True)
class Frame:
    """One activation of a modelled kernel function; ``pc`` is where it resumes."""

    fn: ClassVar[str] = ""
    pc: int = 0


@attrs.define(slots=True)
class PageoutFrame(Frame):
    """vm_pageout_thread()'s loop, for the pagedaemon and the emergency pager."""

    fn: ClassVar[str] = "vm_pageout_thread"
    state: int = 0  # PAGING_IDLE / PAGING_TARGET1 / PAGING_TARGET2
    npass: int = 0  # the loop's `pass`; the scans see npass / MAXSCAN_DIVIDER
    avail_shortage: int = 0
    inactive_shortage: int = 0
    maxscan: int = 0  # pages the current scan may still look at
    launder: int = 0  # launder credits left in this inactive scan
    recycle: int = 0  # recycle_count: clean active pages cached while short
    imarker: tuple = HEAD  # the inactive scan's stack marker
    amarker: tuple = HEAD  # the persistent active-queue marker (markers[q].pact)


@attrs.define(slots=True)
class FlushFrame(Frame):
    """vm_pageout_flush() -> swap_pager_putpages() for one soft-busied cluster."""

    fn: ClassVar[str] = "vm_pageout_flush"
    oid: int = 0
    start: int = 0  # first pindex of the cluster
    count: int = 0
    done: int = 0  # pages of the cluster handled so far
    chunk: int = 0  # pages in the current chunk (nsw_cluster_max at most)
    built: int = 0  # pages of the chunk recorded by swp_pager_meta_build
    paged: int = 0  # pages written (VM_PAGER_PEND): vm_pageout_flush's numpagedout


@attrs.define(slots=True)
class MetaBuildFrame(Frame):
    """swp_pager_meta_build(object, pindex, swapblk)."""

    fn: ClassVar[str] = "swp_pager_meta_build"
    oid: int = 0
    pindex: int = 0


@attrs.define(slots=True)
class KmallocObjFrame(Frame):
    """_kmalloc_obj(size, type, flags)."""

    fn: ClassVar[str] = "kmalloc_obj"
    ktype: int = 0  # index into Config.ktype_names
    flags: int = 0  # the caller's M_* flags


@attrs.define(slots=True)
class SlabAllocFrame(Frame):
    """kmem_slab_alloc(128K, 128K, flags) for a kmalloc_obj slab."""

    fn: ClassVar[str] = "kmem_slab_alloc"
    flags: int = 0  # M_* flags
    ktype: int = 0
    held: int = 0  # pages of the slab allocated so far
    count: int = 0  # the map-entry reservation left
    # the hazard episode (hazard.py): start, lowest margin and the pages needed then, the true free+cache
    # then (the margin reads the CPU's copy), pages others took below severe
    t0: int = -1
    s0: int = 0
    low_margin: int = PAGES_UNBOUNDED
    low_need: int = 0
    low_true: int = 0
    below: dict = attrs.Factory(dict)


@attrs.define(slots=True)
class KmemAlloc3Frame(Frame):
    """kmem_alloc3(kernel_map, size, KM_KRESERVE): the MAP ENTRY zone's refill."""

    fn: ClassVar[str] = "kmem_alloc3"
    npages: int = 0
    held: int = 0
    t0: int = -1  # the hazard episode, as in SlabAllocFrame
    s0: int = 0
    low_margin: int = PAGES_UNBOUNDED
    low_need: int = 0
    low_true: int = 0
    below: dict = attrs.Factory(dict)


@attrs.define(slots=True)
class ReserveFrame(Frame):
    """vm_map_entry_reserve(count)."""

    fn: ClassVar[str] = "vm_map_entry_reserve"
    count: int = 0


@attrs.define(slots=True)
class ZallocFrame(Frame):
    """zalloc(mapentzone), whose zget may block."""

    fn: ClassVar[str] = "zalloc"


@attrs.define(slots=True)
class UserFrame(Frame):
    """A user process: its phases, and the syscalls and faults they make."""

    fn: ClassVar[str] = "user"
    kobj: int = -1  # the kmalloc_obj type whose object the process is allocating
    pindex: int = 0  # the page a swap-in or a buffer read is for
    npages: int = 0  # pages the buffer being filled holds
    attempt: int = 0  # bio_page_alloc's next try (vfs_bio.TRY_*)


@attrs.define(slots=True)
class PollerFrame(Frame):
    fn: ClassVar[str] = "kmalloc_poller_thread"


@attrs.define(slots=True)
class IthreadFrame(Frame):
    """The em0 receive interrupt thread."""

    fn: ClassVar[str] = "ithread"
    dropping: int = 0  # packets dropped in the current streak


FRAME_CLASSES = (
    PageoutFrame,
    FlushFrame,
    MetaBuildFrame,
    KmallocObjFrame,
    SlabAllocFrame,
    KmemAlloc3Frame,
    ReserveFrame,
    ZallocFrame,
    UserFrame,
    PollerFrame,
    IthreadFrame,
)


@attrs.define(slots=True)
class Thread:
    tid: int
    name: str
    kind: ThreadKind
    cpu: int = 0
    nice: int = 0
    systhread: bool = False  # TDF_SYSTHREAD
    state: str = RUN
    wchan: str = ""
    wmesg: str = ""
    wake_tick: int = -1  # tsleep timeout, -1 for none
    slept_at: int = 0
    timed_out: bool = False
    progress_tick: int = 0  # the last tick it did a unit of its work (verdict.py)
    freed_tick: int = -(10**9)  # the last tick it put pages on PQ_FREE or PQ_CACHE
    frames: list[Frame] = attrs.Factory(list)
    rv: int = 0  # return value of the last callee
    # User processes (kind PROC).
    pid: int = 0
    phase: int = 0
    done: int = 0  # pages handled in the current phase
    phase_t0: int = 0  # tick the phase started
    anon: int = -1  # object id of the process's anonymous memory
    vnode: int = -1  # object id of the file it reads
    lowmemkill: bool = False  # P_LOWMEMKILL
    churn_free_next: bool = False
    map_entries: int = 0  # vm_map entries the process's map holds
    touch_at: int = 0  # the next page a touch phase reads
    finished: bool = False  # ran out of phases (or exited)


@attrs.define(slots=True)
class VmObject:
    """A vm_object: anonymous memory (OBJT_DEFAULT/OBJT_SWAP) or a file (OBJT_VNODE).

    ``lo``/``hi`` count the object's pages in the order they were faulted
    in (anonymous memory is freed oldest first); ``region`` > 0 spreads them
    over mappings of that many pages, each a VM object of its own (see
    vm_object.pindex_of).
    """

    oid: int
    kind: str  # "anon" or "vnode"
    owner: int  # tid of the process it belongs to
    region: int = 0
    working_set: int = 0  # the owner's newest pages it keeps using (referenced at every look)
    mapped: int = 0  # with region: pages the process has mmap()ed so far
    lo: int = 0
    hi: int = 0
    resident: int = 0
    pip: int = 0  # paging_in_progress: pages in pageout I/O
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
    reserve: int = -1  # mitigation "nowait-reserve": the slab only the pagers may take from
    reserve_taken: int = 0  # nowait-reserve: objects the pagers took from it
    slabs_from_blank: int = 0  # slabs formed from gd_kmslab's blank slabs
    slabs_allocated: int = 0  # slabs formed from kmem_slab_alloc
    # A workload type's live objects, oldest first: (free tick, slab id, count); -1: until exit
    live: deque = attrs.Factory(deque)
    allocated: int = 0  # objects the owner has allocated so far


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

    done_at: int  # kern_synch.now() when it completes
    oid: int
    start: int
    count: int


@attrs.define(slots=True)
class ReadReq:
    """A process's read in flight (biowait, swap_pager_getpages): it wakes the reader when done."""

    done_at: int
    tid: int


@attrs.frozen
class PhaseCfg:
    op: str  # alloc, read, churn, touch, free, exit, sleep
    pages: int  # -1: unbounded (churn)
    rate: int  # pages per second, 0 = as fast as the CPU allows
    ticks: int  # sleep length


@attrs.frozen
class KobjCfg:
    """A workload's kmalloc_obj type: who allocates it, how fast, for how long."""

    ktype: int  # index into Config.ktype_names
    owner: int  # tid
    rate: int  # objects per second
    lifetime: int  # ticks, -1: until the owner exits


@attrs.frozen
class ProcCfg:
    phases: tuple[PhaseCfg, ...]
    region: int  # pages per anonymous mapping (0: one mapping)
    working_set: int  # newest pages the process keeps using


@attrs.frozen
class Config:
    """What the scenario fixed at boot; shared, never mutated."""

    swap_write_units: int  # latencies in CPU units (kern_synch): a tick is Kernel.tick_budget of them
    file_read_units: int
    swap_read_units: int
    longest_latency_ticks: int  # the longest configured latency, rounded up to ticks (verdict.py)
    intr_rate: int  # packets (2 KiB mbuf clusters) per second
    intr_hold_ticks: int  # how long the reader takes to read a packet
    intr_consumer: int  # tid of the process reading the data, -1 for none
    intr_ring: int  # RX descriptors (hw.em.rxd), one cluster each
    intr_sockbuf: int  # clusters the reader's socket buffer holds at most
    livelock_ticks: int
    quantum: int  # steps per time slice
    procs: tuple[ProcCfg, ...]  # per process, by pid order
    ktype_names: tuple[str, ...] = ("SWAPMETA", "MAP ENTRY")  # kmalloc_obj types by index
    kobjs: tuple[KobjCfg, ...] = ()
    poll_types: int = 190


def _queues() -> dict[str, PageQueue]:
    return {name: PageQueue(name) for name in ("active", "inactive", "cache")}


@attrs.define(slots=True)
class Kernel:
    th: Thresholds
    cfg: Config
    hz: int
    ncpus: int
    steps_per_tick: int
    tick: int = 0
    step: int = 0
    tick_budget: int = 0  # CPU time a tick holds, in kern_synch units
    tick_units: int = 0  # CPU time used in the current tick
    rng: int = 1  # xorshift64 state
    rr_last: int = -1  # round-robin cursor
    cur: int = -1  # thread holding the CPU
    slice_left: int = 0  # steps left in its time slice
    seq: int = 0  # queue order of the next run put at a queue's tail
    queues: dict[str, PageQueue] = attrs.Factory(_queues)
    curcpu: int = 0  # the CPU the running thread is on (0 for interrupts and callouts)
    # vmstats counters (the true counts; vmstats.py keeps each CPU's copy when ncpus > 1)
    gd_free: list[int] = attrs.Factory(list)
    gd_cache: list[int] = attrs.Factory(list)
    gd_adj_free: list[int] = attrs.Factory(list)
    gd_adj_cache: list[int] = attrs.Factory(list)
    free: int = 0
    cache: int = 0
    inactive: int = 0
    active: int = 0
    wired: int = 0  # v_wire_count without the DMA reserve
    dma: int = 0
    kernel_wired: int = 0
    pageout_reserve: int = 0  # mitigation "pageout-reserve": pages set aside
    pageout_reserve_max: int = 0
    pageout_reserve_taken: int = 0  # pages the pagers have taken from it
    # pageout daemon
    vm_pages_needed: int = 0
    vm_pages_waiting: int = 0
    vm_pageout_pages_needed: int = 0
    vm_pageout_deficit: int = 0
    vm_pagedaemon_uptime: int = 0  # time_uptime (whole seconds) the primary last showed progress
    last_kill_tick: int = -(10**9)
    # swap
    swap_total: int = 0
    swap_free: int = 0
    swap_pager_full: int = 0
    swap_pager_almost_full: int = 0
    nswap_lowat: int = 0
    nswap_hiwat: int = 0
    pbufs_free: int = 4  # nsw_wcount_async
    io: list[IoReq] = attrs.Factory(list)  # swap writes in flight, by completion
    reads: list[ReadReq] = attrs.Factory(list)  # process reads in flight, by completion
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
    # network receive: kmalloc(M_MBUFCL) zones of 64 clusters, clusters in use
    # (the RX ring and the socket buffer), and the socket buffer as (read_tick, clusters)
    nic_zones: int = 0
    nic_clusters: int = 0
    sockbuf: deque = attrs.Factory(deque)
    sockbuf_clusters: int = 0
    swapin_pages: int = 0  # pages allocated for swap reads still in progress (busy, PQ_NONE)
    bio_pages: int = 0  # pages wired in buffer-cache buffers under I/O
    intr_dropped: int = 0
    # threads and objects
    threads: list[Thread] = attrs.Factory(list)
    objects: dict[int, VmObject] = attrs.Factory(dict)
    next_oid: int = 0
    actor: int = -1  # the thread running now; -1 while the clock's interrupts and callouts run
    oom_kills: int = 0
    verdict: Verdict = Verdict.NONE
    # The step at which the caller wants to stop: batches never run past it.
    # A stopping point, not state: cutting a batch short changes nothing else.
    step_cap: int = attrs.field(default=1 << 62, eq=False, repr=False)
    swap_full_events: int = 0
    # Observer data, not state: events since the Simulator last drained them,
    # as (step, tid, subsystem, text); None turns logging off (search, benchmarks).
    log: list | None = attrs.field(factory=list, eq=False, repr=False)
    # Observer data too: finished hazard episodes (hazard.py), drained by the Simulator.
    hazlog: list | None = attrs.field(factory=list, eq=False, repr=False)
    # Observer data too: the lowest free+cache yet, once below v_free_min, as [pages, tick, step].
    lowwater: list | None = attrs.field(factory=lambda: [1 << 62, 0, 0], eq=False, repr=False)

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
