"""Page allocation, freeing and waiting (sys/vm/vm_page.c, vm_page2.h).

vm_page_alloc never blocks; callers choose to vm_wait() and retry.  The
vm_paging_*() predicates read the global counters (the kernel reads a
per-CPU copy that can lag by ~1024*ncpus pages; reference §2.3 allows the
single global structure as a simplification).
"""

from __future__ import annotations

from .frames import emit
from .hazard import taken_below_severe
from .kern_synch import made_free, tsleep, wakeup
from .state import Kernel, Thread, ThreadKind
from .vm_object import take_cache_pages
from .vmstats import PCPU_SYNC, cpu_counts, push_due, vmstats_free_add, vmstats_rollup

VM_ALLOC_NORMAL = 0x01
VM_ALLOC_SYSTEM = 0x02
VM_ALLOC_INTERRUPT = 0x04
VM_ALLOC_QUICK = 0x10

vm_page_free_hysteresis = 16

CHAN_PAGES_NEEDED = "vm_pages_needed"
CHAN_PAGEOUT_PAGES_NEEDED = "vm_pageout_pages_needed"
CHAN_FREE_COUNT = "vmstats.v_free_count"


def class_name(req: int) -> str:
    names = [
        n
        for bit, n in (
            (VM_ALLOC_NORMAL, "NORMAL"),
            (VM_ALLOC_SYSTEM, "SYSTEM"),
            (VM_ALLOC_INTERRUPT, "INTERRUPT"),
            (VM_ALLOC_QUICK, "QUICK"),
        )
        if req & bit
    ]
    return "|".join(names) or "0"


# --- vm_page2.h predicates --------------------------------------------------
# Each reads the running CPU's copy of the counts (vmstats.cpu_counts).


def vm_paging_severe(k: Kernel) -> bool:
    """User faults must not allocate: free+cache below v_free_severe, or free below v_free_reserved."""
    th = k.th
    f, c = cpu_counts(k)
    return th.v_free_severe > f + c or th.v_free_reserved > f


def vm_paging_min_dnc(k: Kernel, n: int) -> bool:
    """Below v_free_min (plus ``n``, "do not count"): processes should wait; vm_paging_min() is n = 0."""
    th = k.th
    f, c = cpu_counts(k)
    return th.v_free_min + n > f + c or th.v_free_reserved > f


def vm_paging_min(k: Kernel) -> bool:
    return vm_paging_min_dnc(k, 0)


def nice_offset(k: Kernel, nice: int) -> int:
    """vm_paging_min_nice()'s trip-point offset (nice 0 is special-cased to 0)."""
    if nice == 0:
        return 0
    d = (k.th.v_paging_wait - k.th.v_free_min - 1) >> 1
    return (nice + 20) * d // 40


def vm_paging_min_nice(k: Kernel, nice: int) -> bool:
    """The trip point of vm_wait and vm_wait_pfault: v_free_min raised for nicer processes."""
    return vm_paging_min_dnc(k, nice_offset(k, nice))


def vm_paging_wait(k: Kernel) -> bool:
    """The pagedaemon wakes waiters at the end of a pass only when this is false."""
    th = k.th
    f, c = cpu_counts(k)
    return th.v_paging_wait > f + c or th.v_free_reserved > f


def vm_paging_start(k: Kernel, adj: int = 0) -> bool:
    """Paging should run: pagedaemon_wakeup's trigger and the idle daemon's check."""
    th = k.th
    f, c = cpu_counts(k)
    return th.v_paging_start > f + c + adj or th.v_free_min > f + adj or th.v_free_reserved > f


def vm_paging_target1(k: Kernel) -> bool:
    """Short of the pagedaemon's first target (PAGING_TARGET1); also the OOM kill's condition."""
    th = k.th
    f, c = cpu_counts(k)
    return th.v_paging_target1 > f + c or th.v_free_reserved > f


def vm_paging_target2(k: Kernel) -> bool:
    """Short of the second target: the inactive scan goes on until this is false."""
    th = k.th
    f, c = cpu_counts(k)
    return th.v_paging_target2 > f + c or th.v_free_reserved > f


def vm_paging_target1_count(k: Kernel) -> int:
    f, c = cpu_counts(k)
    return k.th.v_paging_target1 - (f + c)


def vm_paging_target2_count(k: Kernel) -> int:
    f, c = cpu_counts(k)
    return k.th.v_paging_target2 - (f + c)


# --- allocation ---------------------------------------------------------------


def alloc_ok(k: Kernel, req: int) -> bool:
    """The success test at the top of vm_page_alloc's loop (vm_page.c:2587-2593), on this CPU's counts."""
    f, c = cpu_counts(k)
    th = k.th
    return (
        f >= th.v_free_reserved
        or (req & VM_ALLOC_INTERRUPT != 0 and f > 0)
        or (req & VM_ALLOC_SYSTEM != 0 and c == 0 and f > th.v_interrupt_free_min)
    )


def vm_page_alloc(k: Kernel, t: Thread | None, req: int) -> bool:
    """vm_page_alloc() (vm_page.c:2523-2720): take one page off PQ_FREE, or fail without sleeping.

    A NORMAL request that fails the test frees one PQ_CACHE page and tries
    again; TDF_SYSTHREAD callers get VM_ALLOC_SYSTEM added.  When the CPU's
    copy of the counts says yes but no page is left, the counts are rolled
    up and the test runs again (2676-2680).  The page is counted as wired
    by the caller, who decides where it goes.

    Simplification: a NORMAL request above v_free_reserved always takes a
    PQ_FREE page; the kernel's vm_page_select_free_or_cache may take a
    PQ_CACHE page of the same colour set instead, when that set's free
    queues are empty, which with F >= v_free_reserved free pages over 1024
    colours is rare (about e^(-F/32) for a 32-queue set), and then frees it
    and allocates it, leaving free+cache where a free page would.
    """
    if t is not None and t.systhread:
        req |= VM_ALLOC_SYSTEM
    while True:
        if alloc_ok(k, req):
            if k.free == 0:
                vmstats_rollup(k)
                continue
            if sum(cpu_counts(k)) < k.th.v_free_severe:
                taken_below_severe(k, t)
            vmstats_free_add(k, -1)
            pagedaemon_wakeup(k, t)
            return True
        if req & VM_ALLOC_NORMAL and k.cache > 0:  # vm_page_select_cache finds one if any exists
            reclaim_cache_page(k)
            continue
        if k.pageout_reserve and t is not None and is_pager(t):
            k.pageout_reserve -= 1  # mitigation "pageout-reserve"
            k.pageout_reserve_taken += 1
            if k.pageout_reserve == k.pageout_reserve_max - 1:
                emit(k, t, "vm_page", "vm_page_alloc: the first page from the pageout reserve")
            return True
        k.vm_pageout_deficit += 1
        pagedaemon_wakeup(k, t)
        return False


def vm_page_alloc_n(k: Kernel, t: Thread | None, req: int, n: int) -> int:
    """``n`` calls of vm_page_alloc(), ending at the first that fails: how many pages they got.

    Far from every threshold each call takes a PQ_FREE page and does
    nothing else, so then all ``n`` are taken at once (the state is the one
    the calls leave); otherwise they are made one by one.
    """
    if plain_allocations(k, t, n):
        vmstats_free_add(k, -n)
        return n
    got = 0
    while got < n and vm_page_alloc(k, t, req):
        got += 1
    return got


def plain_allocations(k: Kernel, t: Thread | None, n: int) -> bool:
    """Whether ``n`` allocations in a row each pass vm_page_alloc's first test and wake nobody.

    Every condition below grows truer as the counts fall, so it holds for
    every allocation if it holds after the last: the test's free >=
    v_free_reserved; a page left (no rollup); no page taken below
    v_free_severe (the hazard episodes count those); pagedaemon_wakeup's
    !vm_paging_start(); and no per-CPU push of the delta on the way.
    """
    th = k.th
    f, c = cpu_counts(k)
    low = f - n
    if k.free < n or low < th.v_free_reserved or low + 1 + c < th.v_free_severe:
        return False
    if (t is None or t.kind is not ThreadKind.PAGEDAEMON) and (low + c < th.v_paging_start or low < th.v_free_min):
        return False
    return k.ncpus == 1 or k.gd_adj_free[k.curcpu] - n >= -PCPU_SYNC or not push_due(k, low, c)


def reclaim_cache_page(k: Kernel) -> None:
    """vm_page_alloc's reclaim_cache_page (vm_page.c:2620-2652): a PQ_CACHE page goes to PQ_FREE.

    The kernel frees it only if vm_object_hold_try() gets the page's
    object, and deactivates it otherwise.  Object tokens are LWKT tokens,
    released while their holder sleeps, and model threads run one at a
    time, so the try never fails here.
    """
    take_cache_pages(k, 1)
    vm_page_free_toq(k, 1, source=False)


def vm_page_free_toq(k: Kernel, n: int = 1, source: bool = True) -> None:
    """vm_page_free_toq(): ``n`` pages enter PQ_FREE (counted by the caller's queue).

    ``source`` is False when the thread only gives back pages it just took
    (a failed all-or-nothing allocation, a cache page reclaimed for
    itself): that is no supply of memory for anyone else (verdict.py).
    """
    vmstats_free_add(k, n)
    if source:
        made_free(k)
    refill = pageout_reserve_refill(k)
    if refill:
        k.pageout_reserve += refill
        vmstats_free_add(k, -refill)
    vm_page_free_wakeup(k)


def pageout_reserve_refill(k: Kernel) -> int:
    """Mitigation "pageout-reserve": the free pages above v_free_min that go back into the reserve."""
    if k.pageout_reserve < k.pageout_reserve_max and k.free >= k.th.v_free_min:
        return min(k.pageout_reserve_max - k.pageout_reserve, k.free - k.th.v_free_min)
    return 0


def vm_page_free_wakeup(k: Kernel) -> None:
    """vm_page_free_wakeup(): run on every page entering PQ_FREE or PQ_CACHE."""
    if pageout_pages_wake_due(k):
        k.vm_pageout_pages_needed = 0
        wakeup(k, CHAN_PAGEOUT_PAGES_NEEDED)
    if free_count_wake_due(k):
        k.vm_pages_waiting = 0
        wakeup(k, CHAN_FREE_COUNT)


def pageout_pages_wake_due(k: Kernel) -> bool:
    """A pager waits in vm_wait and free+cache is back to v_pageout_free_min."""
    return bool(k.vm_pageout_pages_needed) and sum(cpu_counts(k)) >= k.th.v_pageout_free_min


def free_count_wake_due(k: Kernel) -> bool:
    """Processes wait in vm_wait and the counts are past v_free_min plus the hysteresis, or at target1."""
    return bool(k.vm_pages_waiting) and (
        not vm_paging_min_dnc(k, vm_page_free_hysteresis) or not vm_paging_target1(k)
    )


def pagedaemon_wakeup(k: Kernel, t: Thread | None) -> None:
    """pagedaemon_wakeup(): kick the primary pager once paging should start."""
    if not vm_paging_start(k, 0) or (t is not None and t.kind is ThreadKind.PAGEDAEMON):
        return
    if k.vm_pages_needed <= 1:
        k.vm_pages_needed = 1
        wakeup(k, CHAN_PAGES_NEEDED)
    elif vm_paging_min(k):
        k.vm_pages_needed += 1


# --- waiting ----------------------------------------------------------------------


def is_pager(t: Thread) -> bool:
    """curthread == pagethread || curthread == emergpager: vm_wait's own branch."""
    return t.kind is ThreadKind.PAGEDAEMON or t.kind is ThreadKind.EMERGPAGER


def vm_wait(k: Kernel, t: Thread, timo: int = 0) -> bool:
    """vm_wait(): sleep up to ``timo`` ticks (0 = hz) for free pages.

    Returns True if the thread went to sleep; False if the trip point was
    not met, in which case the caller's retry loop just spins.
    """
    if timo == 0:
        timo = k.hz
    if is_pager(t):
        if vm_paging_min(k):
            k.vm_pageout_pages_needed = 1
            tsleep(k, t, CHAN_PAGEOUT_PAGES_NEEDED, "VMWait", timo)
            return True
        return False
    if vm_paging_min_nice(k, t.nice + 1):
        if k.vm_pages_needed <= 1:
            k.vm_pages_needed += 1
            wakeup(k, CHAN_PAGES_NEEDED)
        k.vm_pages_waiting += 1
        tsleep(k, t, CHAN_FREE_COUNT, "vmwait", timo)
        return True
    return False


def vm_wait_pfault(k: Kernel, t: Thread) -> None:
    """vm_wait_pfault(): one ~110 ms sleep; the fault path loops while severe."""
    if k.vm_pages_needed <= 1:
        k.vm_pages_needed += 1
        wakeup(k, CHAN_PAGES_NEEDED)
    k.vm_pages_waiting += 1
    tsleep(k, t, CHAN_FREE_COUNT, "pfault", k.hz // 10 + 1)
