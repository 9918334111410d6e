"""User processes: the workload's phases, vm_fault, munmap and exit1.

Simplifications: a process has one anonymous object, faults its pages in
pindex order and frees them oldest first.  Only alloc and churn dirty
pages; a touch phase reads pages again (oldest first), so a paged-in page
stays clean with its swap copy, and no access-bit aging is modelled.  A
read phase brings file pages in clean (read-once data goes to the inactive
queue), with a synchronous read of file_read_latency every 32 pages.
"""

from __future__ import annotations

from .frames import CONT, DONE, call, emit, kernel_function
from .kern_synch import tsleep
from .state import DIRTY, DISK, ZOMB, Frame, Kernel, PhaseCfg, Thread
from .swap_pager import swap_page_free, swp_pager_meta_free_all
from .vm_map import (
    MAP_RESERVE_COUNT,
    vm_map_entry_create,
    vm_map_entry_dispose,
    vm_map_entry_release,
)
from .vm_object import enqueue, is_busy, new_object, queue_pages, remove_resident_page
from .vm_page import (
    VM_ALLOC_NORMAL,
    pagedaemon_wakeup,
    vm_page_alloc,
    vm_page_free_toq,
    vm_paging_min_nice,
    vm_paging_severe,
    vm_wait_pfault,
)
from .vm_pageout import charge, slice_room

READ_CLUSTER = 32
SWAP_READ_CLUSTER = 16  # the faulting page and the swapped pages after it, read together

# Frame pcs of the "user" frame
PHASE, FAULT, PFAULT_WOKE, FREE, EXIT, EXIT_REMOVE, MMAP_DONE, SLEPT, READ_DONE, TOUCH, SWAPIN_DONE = range(11)


FIRST_PID = 100


def phase_cfg(k: Kernel, t: Thread) -> PhaseCfg | None:
    phases = k.cfg.phases[t.pid - FIRST_PID]
    return phases[t.phase] if t.phase < len(phases) else None


def next_phase(k: Kernel, t: Thread, f: Frame) -> int:
    t.phase += 1
    t.done = 0
    t.phase_t0 = k.tick
    t.churn_free_next = False
    f.pc = PHASE
    k.progress_tick = k.tick
    return CONT


@kernel_function("user")
def user(k: Kernel, t: Thread, f: Frame) -> int:
    """A user process: runs its phases; every page it touches goes through vm_fault."""
    if t.lowmemkill and f.pc not in (EXIT, EXIT_REMOVE, SWAPIN_DONE):
        f.pc = EXIT
    return USER_PCS[f.pc](k, t, f)


def phase_start(k: Kernel, t: Thread, f: Frame) -> int:
    ph = phase_cfg(k, t)
    if ph is None:
        t.finished = True
        tsleep(k, t, "", "wait", 0)
        emit(k, t, "proc", f"{t.name}: workload complete")
        return DONE
    emit(k, t, "proc", f"{t.name}: phase {t.phase + 1}: {ph.op}")
    if ph.op in ("alloc", "read"):
        f.pc = MMAP_DONE
        return call(t, "vm_map_entry_reserve", MAP_RESERVE_COUNT)
    if ph.op == "sleep":
        tsleep(k, t, "", "nanslp", max(1, ph.ticks))
        f.pc = SLEPT
        return DONE
    if ph.op == "touch":
        t.touch_at = k.objects[t.anon].lo
    f.pc = {"churn": FAULT, "free": FREE, "exit": EXIT, "touch": TOUCH}[ph.op]
    return CONT


def mmap_done(k: Kernel, t: Thread, f: Frame) -> int:
    """vm_map_insert used one entry of the reservation; the rest is released."""
    vm_map_entry_release(k, t.cpu, vm_map_entry_create(k, t.cpu, t.rv))
    t.map_entries += 1
    f.pc = FAULT
    return CONT


def rate_allows(k: Kernel, t: Thread, ph: PhaseCfg) -> int:
    """Pages the phase's rate allows by the end of this tick, beyond those done."""
    if ph.rate <= 0:
        return 1 << 30
    return ph.rate * (k.tick - t.phase_t0 + 1) // k.hz - t.done


def wait_for_rate(k: Kernel, t: Thread, ph: PhaseCfg) -> int:
    """Pages the phase's rate allows now; if none, the process naps in user mode until it does."""
    allowed = rate_allows(k, t, ph)
    if allowed <= 0:
        wait = (t.done + 1) * k.hz // ph.rate + t.phase_t0 - k.tick
        tsleep(k, t, "", "", max(1, wait))
    return allowed


def fault_loop(k: Kernel, t: Thread, f: Frame) -> int:
    ph = phase_cfg(k, t)
    if 0 <= ph.pages <= t.done:
        return next_phase(k, t, f)
    allowed = wait_for_rate(k, t, ph)
    if allowed <= 0:
        return DONE
    if ph.op == "churn" and t.churn_free_next:
        if not free_oldest(k, t):
            return DONE
        t.churn_free_next = False
        t.done += 1
        return DONE
    return vm_fault(k, t, f, ph, allowed)


def fault_batch(k: Kernel, t: Thread, ph: PhaseCfg, allowed: int) -> int:
    """Faults that may be taken at once: alone, and no paging threshold in reach."""
    th = k.th
    headroom = min(
        k.free - max(th.v_free_min, th.v_free_reserved),
        k.free + k.cache - th.v_paging_start,
    )
    if headroom <= 1 or ph.op == "churn":
        return 1
    left = ph.pages - t.done if ph.pages >= 0 else 1 << 30
    if ph.op == "read":
        left = min(left, READ_CLUSTER - t.done % READ_CLUSTER)
    return max(1, min(headroom, left, allowed, slice_room(k)))


def vm_fault(k: Kernel, t: Thread, f: Frame, ph: PhaseCfg, allowed: int) -> int:
    """vm_fault(): allocate only when !vm_paging_severe(), else vm_wait_pfault()."""
    if vm_paging_severe(k) or not vm_page_alloc(k, t, VM_ALLOC_NORMAL):
        return vm_wait_pfault_loop(k, t, f)
    n = fault_batch(k, t, ph, allowed)
    if n > 1:
        k.free -= n - 1
        charge(k, n)
    place_pages(k, t, ph, n)
    t.done += n
    k.progress_tick = k.tick
    if ph.op == "churn":
        t.churn_free_next = True
    if ph.op == "read" and t.done % READ_CLUSTER == 0:
        tsleep(k, t, "bio", "biord", max(1, k.cfg.file_read_ticks), DISK)
        f.pc = READ_DONE
    return DONE


def place_pages(k: Kernel, t: Thread, ph: PhaseCfg, n: int) -> None:
    if ph.op == "read":
        obj = k.objects[t.vnode]
        enqueue(k, obj.inactive, obj.hi, n, 0)
        k.inactive += n
    else:
        obj = k.objects[t.anon]
        enqueue(k, obj.active, obj.hi, n, DIRTY)
        k.active += n
    obj.hi += n
    obj.resident += n


def vm_wait_pfault_loop(k: Kernel, t: Thread, f: Frame) -> int:
    """vm_wait_pfault(): sleep ~110 ms if below the nice trip point; loop while severe."""
    if not vm_paging_min_nice(k, t.nice):
        return DONE  # KERN_TRY_AGAIN at once
    vm_wait_pfault(k, t)
    f.pc = PFAULT_WOKE
    return DONE


def pfault_woke(k: Kernel, t: Thread, f: Frame) -> int:
    if vm_paging_severe(k):
        vm_wait_pfault(k, t)
        return DONE
    f.pc = TOUCH if phase_cfg(k, t).op == "touch" else FAULT
    return CONT


def touch_loop(k: Kernel, t: Thread, f: Frame) -> int:
    """Read the next live page again: a reference if resident, vm_page_activate from the
    inactive or cache queue, or a fault that pages it in from swap (swap_pager_getpages)."""
    ph = phase_cfg(k, t)
    obj = k.objects[t.anon]
    if t.done >= ph.pages or obj.lo >= obj.hi:
        return next_phase(k, t, f)
    if wait_for_rate(k, t, ph) <= 0:
        return DONE
    p = t.touch_at if obj.lo <= t.touch_at < obj.hi else obj.lo
    if is_busy(obj, p):
        tsleep(k, t, f"busy:{obj.oid}", "vmpfw", 0, DISK)
        return DONE
    qname, flags = remove_resident_page(k, obj, p)
    if qname:
        enqueue(k, obj.active, p, 1, flags)
        k.active += 1
        obj.resident += 1
        if qname == "cache":
            pagedaemon_wakeup(k, t)
        return touched(k, t, p)
    if not swapped(obj, p):
        return touched(k, t, p)  # never dirtied, never swapped: nothing to read
    if vm_paging_severe(k) or not vm_page_alloc(k, t, VM_ALLOC_NORMAL):
        return vm_wait_pfault_loop(k, t, f)
    n = 1
    while n < SWAP_READ_CLUSTER and readahead_ok(obj, p + n) and vm_page_alloc(k, t, VM_ALLOC_NORMAL):
        n += 1
    k.wired += n
    k.swapin_pages += n  # PQ_NONE while the read runs: no scan can see them
    tsleep(k, t, "", "swread", k.cfg.swap_read_ticks, DISK)
    f.a, f.b, f.pc = p, n, SWAPIN_DONE
    return DONE


def readahead_ok(obj, p: int) -> bool:
    """A page worth reading along: swapped out, not resident, not busy."""
    return (
        p < obj.hi
        and swapped(obj, p)
        and not is_busy(obj, p)
        and not any(s <= p < s + c for q in (obj.active, obj.inactive, obj.cache) for s, c, _, _ in q)
    )


def swapin_done(k: Kernel, t: Thread, f: Frame) -> int:
    """swap_pager_getpages finished: the pages are valid, clean, and keep their swap copy
    (PG_SWAPPED); the faulting page is active, the read-ahead ones are deactivated."""
    obj = k.objects[t.anon]
    p, n = f.a, f.b
    k.wired -= n
    k.swapin_pages -= n
    enqueue(k, obj.active, p, 1, 0)
    k.active += 1
    if n > 1:
        enqueue(k, obj.inactive, p + 1, n - 1, 0)
        k.inactive += n - 1
    obj.resident += n
    f.pc = TOUCH
    return touched(k, t, p)


def touched(k: Kernel, t: Thread, p: int) -> int:
    t.touch_at = p + 1
    t.done += 1
    k.progress_tick = k.tick
    return DONE


def swapped(obj, p: int) -> bool:
    return bool(obj.swb.get(p >> 5, 0) >> (p & 31) & 1)


def free_oldest(k: Kernel, t: Thread) -> bool:
    """munmap of the oldest page; False if it is busy with a pageout write (we sleep)."""
    obj = k.objects[t.anon]
    p = obj.lo
    if p >= obj.hi:
        return True
    if is_busy(obj, p):
        tsleep(k, t, f"busy:{obj.oid}", "vmopar", 0, DISK)
        return False
    if remove_resident_page(k, obj, p)[0]:
        vm_page_free_toq(k, 1)
    swap_page_free(k, obj, p)
    obj.lo += 1
    k.progress_tick = k.tick
    return True


def free_loop(k: Kernel, t: Thread, f: Frame) -> int:
    ph = phase_cfg(k, t)
    obj = k.objects[t.anon]
    if t.done >= ph.pages or obj.lo >= obj.hi:
        return next_phase(k, t, f)
    if free_oldest(k, t):
        t.done += 1
    return DONE


def exit_begin(k: Kernel, t: Thread, f: Frame) -> int:
    """exit1() -> vmspace_terminate(): wait for pageout I/O, then vm_map_remove."""
    obj = k.objects[t.anon]
    if obj.busy:
        tsleep(k, t, f"busy:{obj.oid}", "objtrm1", 0, DISK)
        return DONE
    f.pc = EXIT_REMOVE
    return call(t, "vm_map_entry_reserve", MAP_RESERVE_COUNT)


def exit_remove(k: Kernel, t: Thread, f: Frame) -> int:
    obj = k.objects[t.anon]
    if obj.busy:  # a pager laundered more while we waited for map entries
        tsleep(k, t, f"busy:{obj.oid}", "objtrm2", 0, DISK)
        return DONE
    freed = 0
    for qname in ("active", "inactive", "cache"):
        q = getattr(obj, qname)
        n = queue_pages(q)
        q.clear()
        setattr(k, qname, getattr(k, qname) - n)
        freed += n
    obj.resident = 0
    swp_pager_meta_free_all(k, obj)
    obj.lo = obj.hi
    count = vm_map_entry_dispose(k, t.cpu, t.rv, t.map_entries)
    t.map_entries = 0
    vm_map_entry_release(k, t.cpu, count)
    vm_page_free_toq(k, freed)
    t.state = ZOMB
    t.finished = True
    t.frames.clear()
    k.progress_tick = k.tick
    emit(k, t, "proc", f"{t.name}: exit1: vmspace_terminate freed {freed} pages")
    return DONE


def slept(k: Kernel, t: Thread, f: Frame) -> int:
    return next_phase(k, t, f)


def read_done(k: Kernel, t: Thread, f: Frame) -> int:
    f.pc = FAULT
    return CONT


USER_PCS = {
    PHASE: phase_start,
    FAULT: fault_loop,
    PFAULT_WOKE: pfault_woke,
    FREE: free_loop,
    EXIT: exit_begin,
    EXIT_REMOVE: exit_remove,
    MMAP_DONE: mmap_done,
    SLEPT: slept,
    READ_DONE: read_done,
    TOUCH: touch_loop,
    SWAPIN_DONE: swapin_done,
}


def spawn_objects(k: Kernel, t: Thread) -> None:
    t.anon = new_object(k, "anon", t.name).oid
    t.vnode = new_object(k, "vnode", t.name).oid
