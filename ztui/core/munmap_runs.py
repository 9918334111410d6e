"""Munmaps at once: a free phase's munmaps of its oldest pages, many in one dispatch.

A free phase (kern_proc.free_loop) takes one step per page: the munmap of
the process's oldest page (kern_proc.free_oldest), which puts a resident
page on PQ_FREE (vm_page_free_toq) and drops the page's swap.  Between two
such steps nothing moves but the page queues, the free count, swap space,
the object's lower end and the phase's count.  repeat_munmaps(), after a
munmap, walks the next ones at the free counts each would see, checks that
each takes the branches a plain munmap takes, and applies them in one go:
the state m page-by-page steps leave.

A munmap is plain when its page is not busy and not cached, gives no
swblock back and does not free swap while swap is nearly full
(churn_pairs.oldest_pages), and its vm_page_free_toq() refills no reserve,
owes no vm_page_free_wakeup() and leaves no per-CPU delta that could be
pushed.  The first one that is not (or the slice, the tick, an I/O
completion, the end of the phase or of the mapping) ends the run.
"""

from __future__ import annotations

from .churn_pairs import first_true, free_swap, free_toq_due, oldest_pages
from .kern_kmalloc import kobj_owner
from .kern_synch import charge, made_free, slice_room
from .state import Kernel, PhaseCfg, Thread
from .vm_object import ACTIVE, INACTIVE, pages_to_region_end, pindex_of, queue_take
from .vmstats import PCPU_SYNC, vmstats_free_add


def repeat_munmaps(k: Kernel, t: Thread, ph: PhaseCfg) -> None:
    """After a free phase's munmap: take the plain munmaps that follow, all at once."""
    room = munmaps_room(k, t, ph)
    if room <= 0:
        return
    obj = k.objects[t.anon]
    oldest = pindex_of(obj, obj.lo)
    resident, swapped = oldest_pages(k, obj, oldest, room)
    m = plain_munmaps(k, resident)
    if m <= 0:
        return
    freed = sum(resident[:m])
    for qname in (ACTIVE, INACTIVE):
        queue_take(k, qname, obj.oid, oldest, m)
    obj.resident -= freed
    if freed:
        vmstats_free_add(k, freed)
        made_free(k)
    free_swap(k, obj, [p for p in swapped if p < oldest + m])
    obj.lo += m
    t.done += m
    charge(k, m + 1)


def munmaps_room(k: Kernel, t: Thread, ph: PhaseCfg) -> int:
    """Munmaps that fit the slice, the tick and the next I/O completion (one step of slice_room
    is this dispatch's), the phase's pages, the mapping's end and the pages left to free."""
    if t.lowmemkill or kobj_owner(k, t):
        return 0  # a kill, a system call's kmalloc_obj: each step asks again
    obj = k.objects[t.anon]
    room = min(slice_room(k) - 1, ph.pages - t.done, obj.hi - obj.lo)
    if obj.region:
        room = min(room, pages_to_region_end(obj, obj.lo))
    return room


def plain_munmaps(k: Kernel, resident: list[bool]) -> int:
    """How many of the munmaps are plain at the free counts each sees (resident: each frees a page).

    Each resident page freed raises the free count by one, and every test
    that ends the run turns true only as the count rises (or, for the
    per-CPU delta, false), so the page that ends it is found by bisection.
    """
    frees = [j for j, frees_a_page in enumerate(resident) if frees_a_page]
    if not frees:
        return len(resident)
    if k.ncpus > 1 and k.gd_adj_free[k.curcpu] + 1 < -PCPU_SYNC:
        return frees[0]  # vmstats_free_add might push the delta (vmstats._pushed)
    n = first_true(len(frees), lambda i: free_toq_due(k, i + 1))  # the i-th free makes i + 1 pages
    return frees[n] if n < len(frees) else len(resident)
