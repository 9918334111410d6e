"""User processes: the workload's phases, vm_fault, read(2), munmap and exit1.

A process's anonymous memory is one VmObject (with ``region``, many
mappings, see vm_object.py), faulted in page order and freed oldest
first.  Only alloc and churn dirty pages; a touch phase reads pages again,
oldest first: a resident page is referenced, a cached one reactivated, a
swapped-out one paged in.  A read phase reads its file through the buffer
cache (vfs_bio.py).

vm_fault (sys/vm/vm_fault.c): a new page is allocated only while
!vm_paging_severe() (1738-1758), activated with PG_REFERENCED
(vm_page_activate: act_count ACT_INIT).  A page found on PQ_CACHE while
severe is activated and the fault still waits in vm_wait_pfault
(1620-1645).  Swap-in reads one page per fault: vm.swap_burst_read is 0 by
default (swap_pager.c:171, 1388-1392).
"""

from __future__ import annotations

from .churn_pairs import repeat_churn_pairs
from .frames import CONT, DONE, call, emit, kernel_function
from .kern_kmalloc import M_INTWAIT, M_ZERO, kobj_allocate_from_slabs, kobj_due, kobj_owner_exit, kobj_record
from .kern_synch import charge, made_progress, slice_room, start_read, tsleep
from .munmap_runs import repeat_munmaps
from .state import DISK, PAGES_UNBOUNDED, ZOMB, Kernel, KmallocObjFrame, PhaseCfg, ReserveFrame, Thread, UserFrame
from .swap_pager import object_channel, swap_page_free, swp_pager_meta_free_all
from .vfs_bio import BUF_PAGES, bio_page_alloc, brelse_pages
from .vm_map import (
    MAP_RESERVE_COUNT,
    vm_map_entry_create,
    vm_map_entry_dispose,
    vm_map_entry_release,
)
from .vm_object import (
    ACTIVE,
    CACHE,
    drop_object_pages,
    find_page,
    new_object,
    pages_to_region_end,
    pindex_of,
    queue_add,
    queue_set_flags,
    queue_take,
)
from .vm_page import (
    VM_ALLOC_NORMAL,
    pagedaemon_wakeup,
    vm_page_alloc,
    vm_page_free_toq,
    vm_paging_min_nice,
    vm_paging_severe,
    vm_wait,
    vm_wait_pfault,
)
from .vm_page_queues import ACT_INIT, BUSY, DIRTY, PMAP_REF, REFERENCED, act_count, with_act
from .vmstats import PCPU_SYNC, cpu_counts, vmstats_free_add

FIRST_PID = 100

# Frame pcs of the user frame
(
    PHASE,
    FAULT,
    PFAULT_WOKE,
    FREE,
    EXIT,
    EXIT_REMOVE,
    MMAP_DONE,
    SLEPT,
    READ,
    READ_DONE,
    TOUCH,
    SWAPIN_DONE,
) = range(12)

FAULTED = DIRTY | REFERENCED | PMAP_REF  # a page just written by its process


def phase_cfg(k: Kernel, t: Thread) -> PhaseCfg | None:
    phases = k.cfg.procs[t.pid - FIRST_PID].phases
    return phases[t.phase] if t.phase < len(phases) else None


def current_phase(k: Kernel, t: Thread) -> PhaseCfg:
    """The phase a process is running (its user frame is past the last one only at exit)."""
    return k.cfg.procs[t.pid - FIRST_PID].phases[t.phase]


def next_phase(k: Kernel, t: Thread, f: UserFrame) -> int:
    t.phase += 1
    t.done = 0
    t.phase_t0 = k.tick
    t.churn_free_next = False
    f.pc = PHASE
    made_progress(k)
    return CONT


# Where a process may stop between two pages of its work to allocate kernel objects
WORKING = frozenset({FAULT, READ, TOUCH, FREE})


@kernel_function(UserFrame)
def user(k: Kernel, t: Thread, f: UserFrame) -> int:
    """A user process: runs its phases; every page it touches goes through vm_fault,
    and its system calls allocate the kmalloc_obj objects the workload gives it."""
    if f.kobj >= 0:  # kmalloc_obj returned
        if t.rv < 0:  # NULL (only a mitigation's kmem_slab_alloc gives up): wait and try again
            f.kobj = -1
            vm_wait(k, t, 0)
            return DONE
        kobj_record(k, f.kobj, t.rv, 1)
        f.kobj = -1
    if t.lowmemkill and f.pc not in (EXIT, EXIT_REMOVE, SWAPIN_DONE, READ_DONE):
        f.pc = EXIT
    if f.pc in WORKING and k.cfg.kobjs:
        i = kobj_due(k, t)
        if i >= 0 and not kobj_allocate_from_slabs(k, t, i):
            f.kobj = i
            return call(t, KmallocObjFrame(ktype=k.cfg.kobjs[i].ktype, flags=M_INTWAIT | M_ZERO))
    return USER_PCS[f.pc](k, t, f)


def phase_start(k: Kernel, t: Thread, f: UserFrame) -> int:
    ph = phase_cfg(k, t)
    if ph is None:
        t.finished = True
        tsleep(k, t, "", "wait", 0)
        emit(k, t, "proc", f"{t.name}: workload complete")
        return DONE
    emit(k, t, "proc", f"{t.name}: phase {t.phase + 1}: {ph.op}")
    if ph.op == "sleep":
        tsleep(k, t, "", "nanslp", max(1, ph.ticks))
        f.pc = SLEPT
        return DONE
    if ph.op == "touch":
        t.touch_at = k.objects[t.anon].lo
    if ph.op == "read" or (ph.op == "alloc" and not k.objects[t.anon].region):
        return mmap(t, f)
    f.pc = {"alloc": FAULT, "churn": FAULT, "free": FREE, "exit": EXIT, "touch": TOUCH, "read": READ}[ph.op]
    return CONT


def mmap(t: Thread, f: UserFrame) -> int:
    """sys_mmap -> vm_map_find: a map entry from the per-CPU reserve first."""
    f.pc = MMAP_DONE
    return call(t, ReserveFrame(count=MAP_RESERVE_COUNT))


def mmap_done(k: Kernel, t: Thread, f: UserFrame) -> int:
    """vm_map_insert used one entry of the reservation; the rest is released."""
    vm_map_entry_release(k, t.cpu, vm_map_entry_create(k, t.cpu, t.rv))
    t.map_entries += 1
    op = current_phase(k, t).op
    obj = k.objects[t.anon]
    if obj.region and op != "read":
        obj.mapped += obj.region
    f.pc = READ if op == "read" else FAULT
    return CONT


def rate_allows(k: Kernel, t: Thread, ph: PhaseCfg) -> int:
    """Pages the phase's rate allows by the end of this tick, beyond those done.

    A process that fell behind (it slept in vm_wait or on a read) goes on at
    its rate; it does not catch up.  A compiler's or a browser's page demand
    is bounded by the CPU time it gets, and time asleep is not made up: the
    backlog beyond two ticks' worth is forgiven by moving the phase's start
    (the allowance then covers one to two ticks).  A rate above what the CPU
    can fault is the same as none.
    """
    if ph.rate <= 0:
        return PAGES_UNBOUNDED
    allowed = ph.rate * (k.tick - t.phase_t0 + 1) // k.hz - t.done
    per_tick = max(1, ph.rate // k.hz)
    if allowed > 2 * per_tick:
        behind = -(-(t.done + per_tick) * k.hz // ph.rate)  # ticks whose allowance covers done + one tick
        t.phase_t0 = k.tick + 1 - behind
        allowed = ph.rate * (k.tick - t.phase_t0 + 1) // k.hz - t.done  # one to two ticks' worth
    return allowed


def wait_for_rate(k: Kernel, t: Thread, ph: PhaseCfg) -> int:
    """Pages the phase's rate allows now; if none, the process naps in user mode until it does."""
    allowed = rate_allows(k, t, ph)
    if allowed <= 0:
        wait = (t.done + 1) * k.hz // ph.rate + t.phase_t0 - k.tick
        tsleep(k, t, "", "", max(1, wait))
    return allowed


def fault_loop(k: Kernel, t: Thread, f: UserFrame) -> int:
    ph = current_phase(k, t)
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
        repeat_churn_pairs(k, t, ph, FAULTED)
        return DONE
    obj = k.objects[t.anon]
    if obj.region and obj.hi >= obj.mapped:
        return mmap(t, f)  # the next page starts a new mapping
    return vm_fault(k, t, f, ph, allowed)


def fault_batch(k: Kernel, t: Thread, ph: PhaseCfg, allowed: int) -> int:
    """Faults that may be taken at once: no paging threshold in reach, within one mapping."""
    th = k.th
    free, cache = cpu_counts(k)
    headroom = min(
        free - max(th.v_free_min, th.v_free_reserved),
        free + cache - th.v_paging_start,
        k.free - 1,
    )
    if k.ncpus > 1:
        # The CPU's free delta is pushed to the global once it passes -PCPU_SYNC (vmstats._pushed): page by
        # page that may happen only at the batch's last page, so the batch's deltas add up alike.
        headroom = min(headroom, k.gd_adj_free[k.curcpu] + PCPU_SYNC + 2)
    if headroom <= 1 or ph.op == "churn":
        return 1
    obj = k.objects[t.anon]
    left = ph.pages - t.done if ph.pages >= 0 else PAGES_UNBOUNDED
    return max(1, min(headroom, left, allowed, slice_room(k), pages_to_region_end(obj, obj.hi)))


def vm_fault(k: Kernel, t: Thread, f: UserFrame, ph: PhaseCfg, allowed: int) -> int:
    """vm_fault() on a new anonymous page: allocate only when !vm_paging_severe(), else vm_wait_pfault()."""
    if vm_paging_severe(k) or not vm_page_alloc(k, t, VM_ALLOC_NORMAL):
        return vm_wait_pfault_loop(k, t, f)
    n = fault_batch(k, t, ph, allowed)
    if n > 1:
        vmstats_free_add(k, 1 - n)
        charge(k, n)
    obj = k.objects[t.anon]
    queue_add(k, ACTIVE, obj.oid, pindex_of(obj, obj.hi), n, with_act(FAULTED, ACT_INIT))
    obj.hi += n
    obj.resident += n
    t.done += n
    made_progress(k)
    if ph.op == "churn":
        t.churn_free_next = True
    return DONE


def vm_wait_pfault_loop(k: Kernel, t: Thread, f: UserFrame) -> int:
    """vm_wait_pfault(): sleep ~110 ms if below the nice trip point; loop while severe."""
    if not vm_paging_min_nice(k, t.nice):
        return DONE  # KERN_TRY_AGAIN at once
    vm_wait_pfault(k, t)
    f.pc = PFAULT_WOKE
    return DONE


def pfault_woke(k: Kernel, t: Thread, f: UserFrame) -> int:
    if vm_paging_severe(k) and not t.lowmemkill:
        vm_wait_pfault(k, t)
        return DONE
    f.pc = TOUCH if current_phase(k, t).op == "touch" else FAULT
    return CONT


# --- read(2) through the buffer cache ------------------------------------------


def read_loop(k: Kernel, t: Thread, f: UserFrame) -> int:
    """sys_read -> bread: fill a buffer page by page (allocbuf), then read it."""
    ph = current_phase(k, t)
    if f.npages == 0 and ph.pages <= t.done:
        return next_phase(k, t, f)
    if f.npages == 0 and wait_for_rate(k, t, ph) <= 0:
        return DONE
    obj = k.objects[t.vnode]
    want = min(BUF_PAGES, ph.pages - t.done)
    if f.npages == 0:
        f.pindex = obj.hi
    got, f.attempt = bio_page_alloc(k, t, f.attempt, want - f.npages)
    if not got:
        return DONE
    k.wired += 1
    k.bio_pages += 1
    f.npages += 1
    if f.npages < want:
        return DONE
    start_read(k, t, k.cfg.file_read_units, "biord")
    f.pc = READ_DONE
    return DONE


def read_done(k: Kernel, t: Thread, f: UserFrame) -> int:
    """biodone; the data is copied out and the buffer released."""
    obj = k.objects[t.vnode]
    brelse_pages(k, obj.oid, f.pindex, f.npages)
    obj.hi += f.npages
    obj.resident += f.npages
    t.done += f.npages
    f.npages = 0
    made_progress(k)
    f.pc = READ
    return CONT


# --- touch: using pages again ----------------------------------------------------


def touch_loop(k: Kernel, t: Thread, f: UserFrame) -> int:
    """Read the next live page again: the pmap marks a resident page referenced, a
    page on PQ_INACTIVE or PQ_CACHE faults and is reactivated, a swapped-out
    page faults and is read back (swap_pager_getpages)."""
    ph = current_phase(k, t)
    obj = k.objects[t.anon]
    if t.done >= ph.pages or obj.lo >= obj.hi:
        return next_phase(k, t, f)
    if wait_for_rate(k, t, ph) <= 0:
        return DONE
    i = t.touch_at if obj.lo <= t.touch_at < obj.hi else obj.lo
    p = pindex_of(obj, i)
    found = find_page(k, obj.oid, p)
    if found is not None:
        qname, (_, _, _, flags) = found
        if flags & BUSY:
            tsleep(k, t, object_channel(obj.oid), "vmpfw", 0, DISK)
            return DONE
        if qname == ACTIVE:
            queue_set_flags(k, ACTIVE, obj.oid, p, 1, flags | PMAP_REF)
            return touched(k, t, i)
        reactivate_page(k, t, qname, obj.oid, p, flags)
        if qname == CACHE and vm_paging_severe(k):
            return vm_wait_pfault_loop(k, t, f)  # KERN_TRY_AGAIN; the page is active now
        return touched(k, t, i)
    if not swapped(obj, p):
        return touched(k, t, i)  # never dirtied, never swapped: nothing to read
    if vm_paging_severe(k) or not vm_page_alloc(k, t, VM_ALLOC_NORMAL):
        return vm_wait_pfault_loop(k, t, f)
    k.wired += 1
    k.swapin_pages += 1  # busy, PQ_NONE while the read runs: no scan can see it
    start_read(k, t, k.cfg.swap_read_units, "swread")
    f.pindex, f.pc = i, SWAPIN_DONE
    return DONE


def reactivate_page(k: Kernel, t: Thread, qname: str, oid: int, p: int, flags: int) -> None:
    """vm_page_activate() from PQ_INACTIVE or PQ_CACHE, as the fault maps the page again."""
    queue_take(k, qname, oid, p, 1)
    queue_add(k, ACTIVE, oid, p, 1, with_act(flags | REFERENCED | PMAP_REF, max(act_count(flags), ACT_INIT)))
    if qname == CACHE:
        pagedaemon_wakeup(k, t)


def swapin_done(k: Kernel, t: Thread, f: UserFrame) -> int:
    """swap_pager_getpages finished: the page is valid, clean, keeps its swap copy (PG_SWAPPED), and is active."""
    obj = k.objects[t.anon]
    k.wired -= 1
    k.swapin_pages -= 1
    queue_add(k, ACTIVE, obj.oid, pindex_of(obj, f.pindex), 1, with_act(REFERENCED | PMAP_REF, ACT_INIT))
    obj.resident += 1
    f.pc = TOUCH
    return touched(k, t, f.pindex)


def touched(k: Kernel, t: Thread, i: int) -> int:
    t.touch_at = i + 1
    t.done += 1
    made_progress(k)
    return DONE


def swapped(obj, p: int) -> bool:
    return bool(obj.swb.get(p >> 5, 0) >> (p & 31) & 1)


# --- munmap and exit ---------------------------------------------------------------


def free_oldest(k: Kernel, t: Thread) -> bool:
    """munmap of the oldest page; False if it is busy with a pageout write (we sleep)."""
    obj = k.objects[t.anon]
    if obj.lo >= obj.hi:
        return True
    p = pindex_of(obj, obj.lo)
    found = find_page(k, obj.oid, p)
    if found is not None:
        qname, (_, _, _, flags) = found
        if flags & BUSY:
            tsleep(k, t, object_channel(obj.oid), "vmopar", 0, DISK)
            return False
        queue_take(k, qname, obj.oid, p, 1)
        obj.resident -= 1
        vm_page_free_toq(k, 1)
    swap_page_free(k, obj, p)
    obj.lo += 1
    made_progress(k)
    return True


def free_loop(k: Kernel, t: Thread, f: UserFrame) -> int:
    ph = current_phase(k, t)
    obj = k.objects[t.anon]
    if t.done >= ph.pages or obj.lo >= obj.hi:
        return next_phase(k, t, f)
    if free_oldest(k, t):
        t.done += 1
        repeat_munmaps(k, t, ph)
    return DONE


def exit_begin(k: Kernel, t: Thread, f: UserFrame) -> int:
    """exit1() -> vmspace_terminate(): wait for pageout I/O (vm_object_pip_wait), then vm_map_remove."""
    obj = k.objects[t.anon]
    if obj.pip:
        tsleep(k, t, object_channel(obj.oid), "objtrm1", 0, DISK)
        return DONE
    f.pc = EXIT_REMOVE
    return call(t, ReserveFrame(count=MAP_RESERVE_COUNT))


def exit_remove(k: Kernel, t: Thread, f: UserFrame) -> int:
    obj = k.objects[t.anon]
    if obj.pip:  # a pager laundered more while we waited for map entries
        tsleep(k, t, object_channel(obj.oid), "objtrm2", 0, DISK)
        return DONE
    freed = drop_object_pages(k, obj)  # the file's pages stay cached with its vnode
    swp_pager_meta_free_all(k, obj)
    kobj_owner_exit(k, t)
    obj.lo = obj.hi
    count = vm_map_entry_dispose(k, t.cpu, t.rv, t.map_entries)
    t.map_entries = 0
    vm_map_entry_release(k, t.cpu, count)
    vm_page_free_toq(k, freed)
    t.state = ZOMB
    t.finished = True
    t.frames.clear()
    made_progress(k)
    emit(k, t, "proc", f"{t.name}: exit1: vmspace_terminate freed {freed} pages")
    return DONE


def slept(k: Kernel, t: Thread, f: UserFrame) -> int:
    return next_phase(k, t, f)


USER_PCS = {
    PHASE: phase_start,
    FAULT: fault_loop,
    PFAULT_WOKE: pfault_woke,
    FREE: free_loop,
    EXIT: exit_begin,
    EXIT_REMOVE: exit_remove,
    MMAP_DONE: mmap_done,
    SLEPT: slept,
    READ: read_loop,
    READ_DONE: read_done,
    TOUCH: touch_loop,
    SWAPIN_DONE: swapin_done,
}


def spawn_objects(k: Kernel, t: Thread, region: int, working_set: int) -> None:
    anon = new_object(k, "anon", t.tid, region)
    anon.working_set = working_set
    t.anon = anon.oid
    t.vnode = new_object(k, "vnode", t.tid).oid

