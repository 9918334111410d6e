"""The scenario: an experiment on the DragonFly VM, as plain frozen data.

A scenario file (TOML) is structured onto these classes by
ztui.scenario.load.  Quantities are held in base units once parsed:
sizes in bytes, durations in microseconds, rates in bytes per second.
The simulator converts them to pages and ticks.
"""

from __future__ import annotations

import enum

import attrs

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
USEC = 1_000_000


class Size(int):
    """A number of bytes, written "2g", "512m", "64k", "4096 pages" or bytes."""


class PageAmount(Size):
    """A phase's amount of memory: like a Size, but a bare integer counts pages."""


class Duration(int):
    """Microseconds, written "30s", "250ms", "500us" or "10 ticks"."""


class Rate(int):
    """Bytes per second, written "100m/s" or "2000 pages/s"."""


class AllocatorKind(enum.Enum):
    ZALLOC = "zalloc"
    KMALLOC_OBJ = "kmalloc_obj"


class Mitigation(enum.Enum):
    """Fixes a kernel developer would try on kmalloc_obj (reference §8.7, §14)."""

    # _kmalloc_obj passes the caller's M_USE_RESERVE|M_USE_INTERRUPT_RESERVE
    # through to kmem_slab_alloc, as generic _kmalloc already does (§9.2).
    PASS_RESERVE_FLAGS = "pass-reserve-flags"
    # Keep one pre-formatted slab per type, used only when a new slab cannot
    # be had (Dillon's "at least one reserved slab per zone", §14).
    RESERVED_SLAB = "reserved-slab"
    # A pool of pages that only the pageout path may take (what the comment on
    # v_pageout_free_min promises but the code does not do, §11).
    PAGEOUT_RESERVE = "pageout-reserve"
    # kmem_slab_alloc gives back the pages it holds and returns NULL when it
    # cannot finish, instead of hold-and-wait (the zalloc contract, §8.7.4).
    NO_HOLD_AND_WAIT = "no-hold-and-wait"
    # kmem_slab_alloc uses vm_map_entry_kreserve/krelease, as its own comment
    # says it would have to for map entries (§9.7.7, §10.5 fix (i)).
    SLAB_KRESERVE = "slab-kreserve"
    # FreeBSD's answer (sys/vm/swap_pager.c swp_pager_meta_build): swblocks are
    # allocated M_NOWAIT, never waiting for a slab; only the pageout daemons may
    # take objects from a reserve set aside at boot, which frees refill; when
    # it is empty: "swap blk zone exhausted", an OOM kill, and a 10-tick pause.
    NOWAIT_RESERVE = "nowait-reserve"


class Scheduler(enum.Enum):
    ROUND_ROBIN = "round-robin"
    RANDOM = "random"


class PhaseOp(enum.Enum):
    ALLOC = "alloc"  # fault in and dirty anonymous pages
    READ = "read"  # read file pages: clean and reclaimable
    CHURN = "churn"  # allocate one new anonymous page, free one old one
    TOUCH = "touch"  # read anonymous pages again, oldest first: swapped-out ones are paged in
    FREE = "free"  # free anonymous pages (munmap), oldest first
    EXIT = "exit"  # exit1(): frees everything, needs map entries
    SLEEP = "sleep"  # tsleep for a while


class Verdict(enum.Enum):
    OK = "ok"
    DEADLOCK = "deadlock"
    LIVELOCK = "livelock"
    RECURSION = "recursion"
    LIMIT = "limit"


@attrs.frozen
class Machine:
    physmem: Size = Size(16 * MiB)
    swap: Size = Size(16 * MiB)
    ncpus: int = 1
    hz: int = 100
    # None: the kernel default vm_dma_reserved = min(128 MiB, physmem/16).
    dma_reserved: Size | None = None
    # Wired kernel memory at boot (kernel image, page tables, buffers).
    # None: 1/16 of physmem, a rough figure for a small kernel.
    kernel_wired: Size | None = None
    # CPU speed: kernel steps (page faults, pages scanned, ...) one CPU
    # runs per tick; a busy CPU lets simulated time advance.
    steps_per_tick: int = 2000


@attrs.frozen
class Vm:
    """Threshold overrides by sysctl name; None keeps the computed value."""

    v_free_min: int | None = None
    v_free_reserved: int | None = None
    v_free_severe: int | None = None
    v_pageout_free_min: int | None = None
    v_interrupt_free_min: int | None = None
    v_free_target: int | None = None
    v_paging_wait: int | None = None
    v_paging_start: int | None = None
    v_paging_target1: int | None = None
    v_paging_target2: int | None = None
    v_inactive_target: int | None = None
    vm_max_launder: int | None = None

    def overrides(self) -> dict[str, int]:
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}


@attrs.frozen
class KmallocObj:
    """Another kmalloc_obj type (vnodes, namecache, vm_objects...): it shares gd_kmslab's
    blank slabs and kmem_slab_alloc with SWAPMETA, and the poller's attention."""

    name: str
    # sizeof the structure; kmalloc_obj rounds it to a cache line.
    size: Size
    # The process whose system calls allocate them (M_INTWAIT: it may block for a slab).
    owner: str
    # Objects allocated per second while the owner runs.
    rate: int
    # How long each lives; None: until its owner exits.
    lifetime: Duration | None = None


@attrs.frozen
class Allocators:
    swapmeta: AllocatorKind = AllocatorKind.ZALLOC
    mapentry: AllocatorKind = AllocatorKind.ZALLOC
    mitigations: tuple[Mitigation, ...] = ()
    # Blank slabs in the per-CPU gd_kmslab cache at start.
    kmslab_cache: int = 0
    # Static MAP ENTRY boot pool (zbootinit); the kernel's is MAX_MAPENT = 9216.
    mapent_boot: int = 9216
    # Malloc types kmalloc_poller_thread visits, one per wakeup (kern.kzone_pollfreq = 1 a
    # second); a 2021 GENERIC kernel defines some 190.  The modelled types are among them.
    poll_types: int = 190
    kmalloc_obj: tuple[KmallocObj, ...] = ()


@attrs.frozen
class Io:
    swap_write_latency: Duration = Duration(10_000)
    # File pages are read synchronously; the reader sleeps this long per page run.
    file_read_latency: Duration = Duration(1_000)
    # A fault on a swapped-out page waits this long for swap_pager_getpages.
    swap_read_latency: Duration = Duration(5_000)


@attrs.frozen
class Interrupt:
    """Network receive on em0: 2 KiB mbuf clusters from kmalloc(M_NOWAIT), VM_ALLOC_SYSTEM pages."""

    rate: Rate = Rate(0)
    # How long the reader takes to read a received packet out of its socket.
    hold: Duration = Duration(20_000)
    # The process that reads the received data: it reads only while it is
    # not blocked in the kernel; None reads every packet after ``hold``.
    consumer: str | None = None
    # hw.em.rxd: RX descriptors, each holding a cluster from boot on (EM_DEFAULT_RXD).
    ring: int = 512
    # What the reader's socket buffers hold at most before packets are dropped (SB_MAX).
    sockbuf: Size = Size(512 * KiB)


@attrs.frozen
class Phase:
    op: PhaseOp
    # alloc/read/free: how much; churn: how many allocate-one/free-one pairs.
    # None for churn means "until the run ends".  A bare integer counts pages.
    pages: PageAmount | None = None
    # None: as fast as the process can fault.
    rate: Rate | None = None
    # sleep: for how long.
    time: Duration | None = None


@attrs.frozen
class Process:
    name: str
    nice: int = 0
    phases: tuple[Phase, ...] = ()
    # Size of each anonymous mapping (a VM object of its own); None: one mapping
    # per alloc phase.  A browser's many small mappings make swblocks sparse.
    region: Size | None = None
    # The newest memory the process keeps using: the pmap marks it referenced
    # whenever the pageout daemon looks, so act_count keeps it active.
    working_set: Size = Size(0)


@attrs.frozen
class Run:
    seed: int = 0
    scheduler: Scheduler = Scheduler.ROUND_ROBIN
    # Time slice: steps a thread keeps the CPU before the scheduler picks
    # again (it gives the CPU up earlier when it sleeps).
    quantum: int = 64
    max_steps: int = 50_000_000
    max_time: Duration = Duration(300 * USEC)
    # Livelock: no page reaches PQ_FREE or PQ_CACHE, no process makes
    # progress, and only timeouts wake threads, for this long.
    livelock_window: Duration = Duration(30 * USEC)


@attrs.frozen
class Expect:
    verdict: Verdict | None = None
    events: tuple[str, ...] = ()


@attrs.frozen
class Scenario:
    name: str = ""
    description: str = ""
    machine: Machine = Machine()
    vm: Vm = Vm()
    allocators: Allocators = Allocators()
    io: Io = Io()
    interrupt: Interrupt = Interrupt()
    process: tuple[Process, ...] = ()
    run: Run = Run()
    expect: Expect = Expect()
