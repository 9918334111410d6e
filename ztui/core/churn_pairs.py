"""Churn pairs at once: a churning process's faults and munmaps, many in one dispatch.

A churn phase alternates a vm_fault on a new page (kern_proc.vm_fault)
with the munmap of its oldest page (kern_proc.free_oldest).  A pair's
fault takes a PQ_FREE page; its munmap gives one back if the oldest page
is resident, or only frees its swap if the pagedaemon already paged it
out.  So from one pair to the next the free count stays or falls by one,
and nothing else moves but the page queues, the object's ends, swap space
and the phase's count.  repeat_churn_pairs(), at the end of a pair, walks
the next pairs at the counts each would see, checks that each takes the
branches a plain pair takes, and applies them in one go: the state 2m
page-by-page steps leave.

A pair is plain when its fault passes vm_fault's and vm_page_alloc's tests
on a PQ_FREE page, pushes no per-CPU delta and kicks the pagedaemon only
by counting (vm_pages_needed), and its munmap refills no reserve, owes no
vm_page_free_wakeup() and empties no swblock.  The first pair that is not
(or the slice, the tick, an I/O completion, the end of the phase or of the
mapping) ends the run; the thread then goes on step by step.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from itertools import accumulate

from .kern_kmalloc import kobj_owner
from .kern_synch import charge, made_free, sleeping_on, slice_room
from .state import Kernel, PhaseCfg, Thread, VmObject
from .swap_pager import swp_pager_freeswapspace
from .vm_object import ACTIVE, CACHE, INACTIVE, pages_to_region_end, pindex_of, queue_add, queue_take
from .vm_page import (
    CHAN_PAGES_NEEDED,
    VM_ALLOC_NORMAL,
    alloc_ok,
    free_count_wake_due,
    pageout_pages_wake_due,
    pageout_reserve_refill,
    vm_paging_min,
    vm_paging_severe,
    vm_paging_start,
)
from .vm_page_queues import ACT_INIT, BUSY, with_act
from .vmstats import PCPU_SYNC, free_counts_moved, vmstats_free_add


def repeat_churn_pairs(k: Kernel, t: Thread, ph: PhaseCfg, faulted_flags: int) -> None:
    """After the munmap that ends a pair: take the plain pairs that follow, all at once."""
    room = pairs_room(k, t, ph)
    if room <= 0:
        return
    obj = k.objects[t.anon]
    oldest = pindex_of(obj, obj.lo)
    resident, swapped = oldest_pages(k, obj, oldest, room)
    m, kicks, low = plain_pairs(k, resident)
    if m <= 0:
        return
    resident, swapped = resident[:m], [p for p in swapped if p < oldest + m]
    queue_add(k, ACTIVE, obj.oid, pindex_of(obj, obj.hi), m, with_act(faulted_flags, ACT_INIT))
    for qname in (ACTIVE, INACTIVE):
        queue_take(k, qname, obj.oid, oldest, m)
    freed = sum(resident)
    obj.resident += m - freed
    obj.hi += m
    obj.lo += m
    t.done += 2 * m
    if m > freed:
        vmstats_free_add(k, freed - m)
    if freed:
        made_free(k)
    if low is not None and k.lowwater is not None:
        k.lowwater[:] = low
    free_swap(k, obj, swapped)
    k.vm_pages_needed += kicks
    charge(k, 2 * m + 1)


def pairs_room(k: Kernel, t: Thread, ph: PhaseCfg) -> int:
    """Whole pairs that fit the slice, the tick and the next I/O completion (slice_room, one
    step of which is this dispatch's), the phase's pages (its test runs before each step),
    the mapping the faults fill and the pages already there for the munmaps to take."""
    if ph.rate > 0 or kobj_owner(k, t) or t.lowmemkill:
        return 0  # a rate's allowance, a system call's kmalloc_obj, a kill: each step asks again
    obj = k.objects[t.anon]
    room = (slice_room(k) - 1) // 2
    if ph.pages >= 0:
        room = min(room, (ph.pages - t.done) // 2)
    if obj.region:
        room = min(room, obj.mapped - obj.hi, pages_to_region_end(obj, obj.lo))
    return min(room, obj.hi - obj.lo)


def oldest_pages(k: Kernel, obj: VmObject, oldest: int, room: int) -> tuple[list[bool], list[int]]:
    """The first pages from ``oldest`` whose munmap is plain: for each, whether it is resident
    (active or inactive and not busy: freed to PQ_FREE), and the pindexes of those with swap.

    The list ends before a busy page (the munmap sleeps), a cached one (it
    moves v_cache_count), a swapped one while swap is nearly full (freeing
    it changes swp_sizecheck's flags) and one whose swap is the last of its
    swblock (the swblock is freed).
    """
    resident = [False] * room
    for qname in (ACTIVE, INACTIVE):
        for start, count, flags in k.queues[qname].pieces(obj.oid, oldest, room):
            if flags & BUSY:
                room = min(room, start - oldest)
            resident[start - oldest : start - oldest + count] = [True] * count
    for start, _, _ in k.queues[CACHE].pieces(obj.oid, oldest, room):
        room = min(room, start - oldest)
    swapped = []
    masks: dict[int, int] = {}
    for p in swapped_pages(obj.swb, oldest, room):
        blk, bit = p >> 5, 1 << (p & 31)
        mask = masks.get(blk, obj.swb[blk]) & ~bit
        if k.swap_free < k.nswap_lowat or not mask:
            room = p - oldest
            break
        masks[blk] = mask
        swapped.append(p)
    return resident[:room], swapped


def swapped_pages(swb: dict[int, int], start: int, count: int) -> list[int]:
    """The pindexes in [start, start+count) that have swap space, in order."""
    end = start + count
    found = []
    for blk in range(start >> 5, (end + 31) >> 5):
        mask = swb.get(blk, 0)
        base = blk << 5
        for bit in range(max(start - base, 0), min(end - base, 32)):
            if mask >> bit & 1:
                found.append(base + bit)
    return found


def plain_pairs(k: Kernel, resident: list[bool]) -> tuple[int, int, list | None]:
    """How many of the pairs are plain at the counts each sees; what their pagedaemon_wakeup()s
    add to vm_pages_needed; the low-water mark they leave (None: unchanged).

    Pair j sees the free count less gone[j], the pairs before it that gave
    no page back.  gone only grows, and each test that ends the run turns
    true only as the count falls (a munmap's wakeup or refill only as it
    rises, so only the first munmap that frees a page can owe one), and so
    does a kick: the pair that ends the run, and the first that kicks, are
    found by bisection.
    """
    gone = list(accumulate((not frees_a_page for frees_a_page in resident), initial=0))
    m = first_true(len(resident), lambda j: pair_stops(k, gone[j]))
    first_free = next((j for j in range(m) if resident[j]), m)
    if first_free < m and free_toq_due(k, -gone[first_free]):
        m = first_free
    if m == 0:
        return 0, 0, None
    kicks = m - first_true(m, lambda j: kick_at(k, gone[j]) > 0)
    return m, kicks, low_water_mark(k, gone, m)


def first_true(n: int, test: Callable[[int], bool]) -> int:
    """The first of 0..n-1 where ``test``, false and then true, turns true (n if never).

    The ends are tried first: most runs end at the slice (never true) or
    kick at every pair (true at once).
    """
    if n == 0 or not test(n - 1):
        return n
    if test(0):
        return 0
    return bisect_left(range(1, n - 1), True, key=test) + 1


def free_toq_due(k: Kernel, moved: int) -> bool:
    """Would vm_page_free_toq() refill the reserve or owe a vm_page_free_wakeup() with the free count
    ``moved`` pages from where it is (the page it frees counted)?"""
    with free_counts_moved(k, moved):
        return bool(pageout_reserve_refill(k) or pageout_pages_wake_due(k) or free_count_wake_due(k))


def pair_stops(k: Kernel, gone: int) -> bool:
    """Does a pair that sees ``gone`` pages fewer fail vm_fault's or vm_page_alloc's tests, push
    its per-CPU delta, or wake the pagedaemon (not only count a kick)?"""
    with free_counts_moved(k, -gone):
        if vm_paging_severe(k) or not alloc_ok(k, VM_ALLOC_NORMAL) or k.free <= 0:
            return True
    if k.ncpus > 1 and k.gd_adj_free[k.curcpu] - gone - 1 < -PCPU_SYNC:
        return True
    return kick_at(k, gone) < 0


def kick_at(k: Kernel, gone: int) -> int:
    """pagedaemon_kicks() after the fault of a pair that sees ``gone`` pages fewer."""
    with free_counts_moved(k, -gone - 1):
        return pagedaemon_kicks(k)


def low_water_mark(k: Kernel, gone: list[int], m: int) -> list | None:
    """The low-water mark after m pairs: the lowest free+cache after a fault, at the first fault
    that reached it; None if it is no lower than the mark (or v_free_min)."""
    low = k.lowwater
    if low is None:
        return None
    pages = k.free - gone[m - 1] - 1 + k.cache
    if pages >= min(low[0], k.th.v_free_min):
        return None
    first = bisect_left(gone, gone[m - 1], 0, m)
    return [pages, k.tick, k.step + 1 + 2 * first]  # the step of that pair's fault


def pagedaemon_kicks(k: Kernel) -> int:
    """What pagedaemon_wakeup() adds to vm_pages_needed at the counts now: 0 or 1; -1 if it wakes someone."""
    if not vm_paging_start(k, 0):
        return 0
    if k.vm_pages_needed <= 1:
        return 0 if k.vm_pages_needed == 1 and not sleeping_on(k, CHAN_PAGES_NEEDED) else -1
    return 1 if vm_paging_min(k) else 0


def free_swap(k: Kernel, obj: VmObject, pages: list[int]) -> None:
    """swap_page_free() of each page: none empties its swblock (oldest_pages), swap is not nearly full."""
    if not pages:
        return
    for p in pages:
        obj.swb[p >> 5] &= ~(1 << (p & 31))
    swp_pager_freeswapspace(k, len(pages))
