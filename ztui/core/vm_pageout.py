"""The pageout daemon and the emergency pager (sys/vm/vm_pageout.c at 577b958f5e).

Both threads run vm_pageout_thread() (2207-2760): an inactive scan, an
active scan and a cache scan per pass, each pass seeing ``pass /
MAXSCAN_DIVIDER`` (2533, 2621, 2686).  One step examines one page, or a run
of pages that the kernel would treat alike, one after another.

Simplifications, each measured or argued not to move a verdict:

* One queue per type instead of PQ_L2_SIZE = 1024 colour sub-queues
  (vm_page_queues.py).  The per-sub-queue limits are summed: a scan looks
  at ``ceil(lcnt_q/10) + 1`` pages of each sub-queue, but not past its
  tail (881 and 1442; scan_budget), and the inactive scan's launder budget is ``1024`` credits of
  ``max_launder`` pages each, a cluster of n pages spending ``min(n,
  max_launder)`` of them: a sub-queue launders until its ``max_launder``
  pages are spent, so one cluster that crosses the limit ends it (829-837,
  1336).  PQAVERAGE's per-sub-queue share of the shortage (2531, 2620) is
  at least twice the shortage in sum, so it never binds before the
  shortage itself does.
* vm_pageout_scan_hold (PQ_HOLD races) and vm_pageout_page_stats are left
  out.  page_stats ages at most vm_pageout_stats_scan pages of one
  sub-queue per wakeup (at 2 GiB, 27 pages per 100 ms: 0.07 % of the
  active queue per second), and only while the active queue outweighs
  free+cache+inactive.
* References: a page is referenced by the pmap when its process touched
  it since the scan last looked (PMAP_REF, set by a touch phase) or when it
  lies in the process's working set (its newest ``working_set`` pages)
  while the process runs.
* The emergency pager passes over vnode pages in place, as the kernel
  does (vm_pageout.c:925-960, 1497-1515).
"""

from __future__ import annotations

from .frames import CONT, DONE, call, emit, kernel_function
from .kern_synch import STEP_UNITS, VISIT_UNITS, charge, made_free, made_progress, setrunnable, slice_room, time_uptime, tsleep, wakeup
from .state import PAGES_UNBOUNDED, ZOMB, FlushFrame, Kernel, PageoutFrame, Thread, ThreadKind
from .vm_object import ACTIVE as ACTIVE_Q
from .vm_object import (
    BLIST_MAX_ALLOC,
    find_page,
    index_of,
    queue_add,
    queue_set_flags,
    queue_take,
    take_cache_pages,
)
from .vm_object import CACHE as CACHE_Q
from .vm_object import INACTIVE as INACTIVE_Q
from .vm_page import (
    CHAN_FREE_COUNT,
    CHAN_PAGES_NEEDED,
    vm_page_free_toq,
    vm_page_free_wakeup,
    vm_paging_min_dnc,
    vm_paging_start,
    vm_paging_target1,
    vm_paging_target1_count,
    vm_paging_target2,
    vm_paging_target2_count,
    vm_paging_wait,
)
from .vm_page_queues import (
    ACT_ADVANCE,
    ACT_DECLINE,
    ACT_INIT,
    ACT_MAX,
    BUSY,
    DIRTY,
    HEAD,
    PMAP_REF,
    REFERENCED,
    WINATCFLS,
    act_count,
    with_act,
)
from .vmstats import cpu_counts, vmstats_rollup

PAGING_IDLE, PAGING_TARGET1, PAGING_TARGET2 = 0, 1, 2
STATE_NAMES = ("IDLE", "TARGET1", "TARGET2")
PQ_L2_SIZE = 1024
MAXSCAN_DIVIDER = 10
VM_CACHE_SCAN_MIN = 16
VM_EMERG_LAUNDER = 100
VM_FILEMEM_DECLINE = 2 * ACT_DECLINE
CHAN_UPTIME = "vm_pagedaemon_uptime"

# Frame pcs of vm_pageout_thread
TOP, PASS, INACTIVE, ACTIVE_BEGIN, ACTIVE, CACHE_BEGIN, CACHE, END, WOKE, LAUNDERED = range(10)
PC_FUNCTION = {
    LAUNDERED: "vm_pageout_scan_inactive",
    TOP: "vm_pageout_thread",
    WOKE: "vm_pageout_thread",
    PASS: "vm_pageout_thread",
    INACTIVE: "vm_pageout_scan_inactive",
    ACTIVE_BEGIN: "vm_pageout_scan_active",
    ACTIVE: "vm_pageout_scan_active",
    CACHE_BEGIN: "vm_pageout_thread",
    CACHE: "vm_pageout_scan_cache",
    END: "vm_pageout_scan_cache",
}


def wakeup_distance(k: Kernel) -> int:
    """Pages that may enter PQ_FREE/PQ_CACHE before vm_page_free_wakeup or a scan stop acts."""
    th = k.th
    free, cache = cpu_counts(k)
    fc = free + cache
    d = PAGES_UNBOUNDED
    if k.vm_pageout_pages_needed:
        d = min(d, th.v_pageout_free_min - fc)
    if free >= th.v_free_reserved:
        d = min(d, th.v_paging_target2 - fc)
        if k.vm_pages_waiting:
            d = min(d, th.v_free_min + 16 - fc)
    return max(1, d)


def scan_budget(lcnt: int) -> int:
    """Pages one pass of a scan looks at: ``ceil(n/10) + 1`` per colour sub-queue, but no page twice
    (881, 1442: a sub-queue's scan ends at its tail), the queue's pages spread evenly over the 1024."""
    per, extra = divmod(lcnt, PQ_L2_SIZE)

    def looked_at(n: int) -> int:
        return min(n, -(-n // MAXSCAN_DIVIDER) + 1)

    return extra * looked_at(per + 1) + (PQ_L2_SIZE - extra) * looked_at(per)


def is_ep(t: Thread) -> bool:
    return t.kind is ThreadKind.EMERGPAGER


def max_launder(k: Kernel, p: int) -> int:
    """vm_pageout_scan_inactive's per-sub-queue launder limit for ``pass / MAXSCAN_DIVIDER`` = p (829-837)."""
    vm_max_launder = k.th.vm_max_launder
    n = vm_max_launder // PQ_L2_SIZE
    if p:
        n *= 2
    n = (n + MAXSCAN_DIVIDER - 1) // MAXSCAN_DIVIDER
    if n <= 1:
        n = 1
    if n >= vm_max_launder // 16:
        n = vm_max_launder // 16 + 1
    return n


@kernel_function(PageoutFrame)
def vm_pageout_thread(k: Kernel, t: Thread, f: PageoutFrame) -> int:
    """vm_pageout_thread() (vm_pageout.c:2207-2760): the primary pager's loop, or the emergency pager's."""
    return PAGER_PCS[f.pc](k, t, f)


def top(k: Kernel, t: Thread, f: PageoutFrame) -> int:
    """The wait at the top of the loop (2398-2467)."""
    if is_ep(t):
        tsleep(k, t, CHAN_UPTIME, "psleep", k.hz if k.vm_pages_needed else 10 * k.hz)
        f.pc = WOKE
        return DONE
    if k.vm_pages_needed == 0:
        tsleep(k, t, CHAN_PAGES_NEEDED, "psleep", k.hz // 10)  # vm_pageout_stats_ticks
        f.pc = WOKE
        return DONE
    f.pc = PASS
    return CONT


def woke(k: Kernel, t: Thread, f: PageoutFrame) -> int:
    if is_ep(t):
        # Runs only while paging is wanted and the primary has not shown
        # progress for 2 whole seconds of time_uptime (2413-2420).
        stalled = time_uptime(k) - k.vm_pagedaemon_uptime
        if k.vm_pages_needed == 0 or stalled < 2:
            f.npass = 0
            f.pc = TOP
            return CONT
        emit(k, t, "pageout", f"emergpager: primary pager shows no progress for {stalled} s, taking over")
        f.pc = PASS
        return CONT
    if t.timed_out and not vm_paging_start(k, 0) and k.vm_pages_needed == 0:
        f.pc = TOP
        return CONT
    k.vm_pagedaemon_uptime = time_uptime(k)
    k.vm_pages_needed = 1
    f.state = PAGING_TARGET1
    wakeup(k, CHAN_UPTIME)
    emit(k, t, "pageout", f"pagedaemon: woken, paging to TARGET1 (free+cache {k.free + k.cache}, v_paging_start {k.th.v_paging_start})")
    f.pc = PASS
    return CONT


def note_progress(k: Kernel, t: Thread) -> None:
    """vmstats_rollup() at each stage of a pass; the primary also refreshes vm_pagedaemon_uptime,
    which the emergency pager watches."""
    vmstats_rollup(k)
    if not is_ep(t):
        k.vm_pagedaemon_uptime = time_uptime(k)


def pass_begin(k: Kernel, t: Thread, f: PageoutFrame) -> int:
    """avail_shortage for this pass, then the inactive scan (2492-2575)."""
    note_progress(k, t)
    short = vm_paging_target1_count(k) if f.state == PAGING_TARGET1 else vm_paging_target2_count(k)
    f.avail_shortage = short + k.vm_pageout_deficit
    k.vm_pageout_deficit = 0
    f.recycle = 0
    if f.avail_shortage > 0:
        f.maxscan = scan_budget(k.inactive)
        f.launder = PQ_L2_SIZE * max_launder(k, f.npass // MAXSCAN_DIVIDER)
        f.imarker = HEAD
        f.pc = INACTIVE
    else:
        f.pc = ACTIVE_BEGIN
    return CONT


def referenced_pages(k: Kernel, oid: int, start: int, count: int, flags: int) -> tuple[bool, int]:
    """pmap_ts_referenced() for a run: (referenced?, how many pages from ``start`` share the answer)."""
    if flags & PMAP_REF:
        return True, count
    obj = k.objects[oid]
    if obj.kind != "anon" or not obj.working_set or k.threads[obj.owner].finished:
        return False, count
    i = index_of(obj, start)
    hot = obj.hi - obj.working_set
    if i >= hot:
        return True, count
    return False, min(count, hot - i)


def scan_inactive(k: Kernel, t: Thread, f: PageoutFrame) -> int:
    """vm_pageout_scan_inactive() + vm_pageout_page() (806-1390): one page, or a like run, per step."""
    run = k.queues[INACTIVE_Q].first_at(f.imarker) if f.avail_shortage > 0 and f.maxscan > 0 else None
    if run is None:
        f.pc = ACTIVE_BEGIN
        return CONT
    seq, oid, start, count, flags = run
    n = min(count, f.maxscan, slice_room(k, VISIT_UNITS))
    if flags & BUSY or (is_ep(t) and k.objects[oid].kind == "vnode"):
        return pass_over(k, f, INACTIVE_Q, oid, start + n, n)  # busy pages are not reordered (907-912)
    pmap_ref, n = referenced_pages(k, oid, start, n, flags)
    units = VISIT_UNITS
    if pmap_ref or flags & REFERENCED:
        reactivate(k, oid, start, n, flags, pmap_ref)
    elif not flags & DIRTY:
        n = min(n, f.avail_shortage, wakeup_distance(k), slice_room(k))
        vm_page_cache(k, INACTIVE_Q, oid, start, n)
        f.avail_shortage -= n
        units = STEP_UNITS
    elif not flags & WINATCFLS and f.npass // MAXSCAN_DIVIDER == 0:
        # The second chance: dirty pages cycle through the queue twice (1148-1170).
        queue_take(k, INACTIVE_Q, oid, start, n)
        queue_add(k, INACTIVE_Q, oid, start, n, flags | WINATCFLS)
    elif f.launder > 0:
        f.maxscan -= 1
        return vm_pageout_clean_helper(k, t, f, oid, start, flags)
    else:
        return pass_over(k, f, INACTIVE_Q, oid, start + n, n)  # dirty, no launder budget left: left in place
    f.maxscan -= n
    charge(k, n, units)
    inactive_scan_stop_check(k, f)
    return DONE


def inactive_scan_stop_check(k: Kernel, f: PageoutFrame) -> None:
    """Once free+cache reaches v_paging_target2 the scan stops, reporting full completion (1008-1017)."""
    if not vm_paging_target2(k):
        f.avail_shortage = 0


def pass_over(k: Kernel, f: PageoutFrame, qname: str, oid: int, end: int, n: int) -> int:
    """Leave ``n`` pages, up to ``end``, where they are; the scan's marker moves past them."""
    run = k.queues[qname].find(oid, end - 1)
    assert run is not None, "the pages passed over are on the queue"
    seq = run[1]
    marker = (seq, oid, end)
    if qname == INACTIVE_Q:
        f.imarker = marker
    else:
        f.amarker = marker
    f.maxscan -= n
    charge(k, n, VISIT_UNITS)
    return DONE


def reactivate(k: Kernel, oid: int, start: int, n: int, flags: int, pmap_ref: bool) -> None:
    """vm_page_activate() of a page referenced while inactive (1071-1110).

    act_count is raised to ACT_INIT, then by the references seen plus
    ACT_ADVANCE, plus one more when PG_REFERENCED was set.
    """
    act = max(act_count(flags), ACT_INIT) + int(pmap_ref) + ACT_ADVANCE + (1 if flags & REFERENCED else 0)
    queue_take(k, INACTIVE_Q, oid, start, n)
    queue_add(k, ACTIVE_Q, oid, start, n, with_act(flags & ~(REFERENCED | PMAP_REF), act))


def vm_page_cache(k: Kernel, src: str, oid: int, start: int, n: int) -> None:
    """vm_page_cache(): clean pages leave their queue for PQ_CACHE, unmapped (vm_page.c:3480)."""
    for s, _, m, flags in queue_take(k, src, oid, start, n):
        queue_add(k, CACHE_Q, oid, s, m, flags & ~(WINATCFLS | PMAP_REF | REFERENCED))
    vm_page_free_wakeup(k)
    made_free(k)


def cluster_page_ok(k: Kernel, oid: int, p: int) -> tuple[str, int, int, int] | None:
    """Can page ``p`` join a pageout cluster?  (queue, run start, run count, flags) if so (351-377).

    Dirty, not busy, and on PQ_INACTIVE or (OBJPC_ALLOW_ACTIVE) PQ_ACTIVE.
    """
    found = find_page(k, oid, p)
    if found is None:
        return None
    qname, (start, _, count, flags) = found
    if qname == CACHE_Q or flags & BUSY or not flags & DIRTY:
        return None
    return qname, start, count, flags


def vm_pageout_clean_helper(k: Kernel, t: Thread, f: PageoutFrame, oid: int, pindex: int, flags: int) -> int:
    """vm_pageout_clean_helper() (313-459): cluster the page with its dirty neighbours, then flush.

    The cluster lies within the BLIST_MAX_ALLOC-aligned block of the page:
    backwards first, then forwards, up to the first page that cannot join.
    Every page is soft-busied where it lies and takes the page's
    PG_WINATCFLS and act_count.
    """
    base = pindex - pindex % BLIST_MAX_ALLOC
    lo = pindex
    while lo > base:
        ok = cluster_page_ok(k, oid, lo - 1)
        if ok is None:
            break
        lo = max(base, ok[1])
    hi = pindex + 1
    while hi < base + BLIST_MAX_ALLOC:
        ok = cluster_page_ok(k, oid, hi)
        if ok is None:
            break
        hi = min(base + BLIST_MAX_ALLOC, ok[1] + ok[2])
    act = act_count(flags)
    p = lo
    while p < hi:
        ok = cluster_page_ok(k, oid, p)
        assert ok is not None, "every page in [lo, hi) was found fit above"
        qname, start, count, run_flags = ok
        end = min(hi, start + count)
        queue_set_flags(k, qname, oid, p, end - p, with_act(run_flags | BUSY | WINATCFLS, act))
        p = end
    n = hi - lo
    k.objects[oid].pip += n  # vm_object_pip_add
    made_progress(k)
    f.pc = LAUNDERED
    return call(t, FlushFrame(oid=oid, start=lo, count=n))


def laundered(k: Kernel, t: Thread, f: PageoutFrame) -> int:
    """vm_pageout_flush() returned how many pages it paged out (OK or PEND): they count
    against the shortage and the launder budget (1371-1373); failed ones do not."""
    count = t.rv
    f.avail_shortage -= count
    f.launder -= min(count, max_launder(k, f.npass // MAXSCAN_DIVIDER))
    f.pc = INACTIVE
    inactive_scan_stop_check(k, f)
    return DONE


def active_begin(k: Kernel, t: Thread, f: PageoutFrame) -> int:
    """inactive_shortage, then the active scan (2585-2680)."""
    note_progress(k, t)
    target = k.th.v_inactive_target
    shortage = target - k.inactive
    if f.avail_shortage > 0:
        shortage += min(2 * f.avail_shortage, target // 10)
    if is_ep(t):
        shortage = max(shortage, VM_EMERG_LAUNDER)
    f.inactive_shortage = shortage
    f.maxscan = scan_budget(k.active)
    f.pc = ACTIVE if shortage > 0 else CACHE_BEGIN
    return CONT


def scan_active(k: Kernel, t: Thread, f: PageoutFrame) -> int:
    """vm_pageout_scan_active() (1405-1660): act_count aging; deactivate, or cache while short.

    Pages that stay active (referenced, or act_count still at or above
    ``pass / MAXSCAN_DIVIDER + 1``) keep their place: one step may age many
    of them, then a step deactivates the next run that ran out.
    """
    if f.maxscan <= 0 or (f.inactive_shortage <= 0 and f.avail_shortage <= 0) or k.inactive > k.th.v_inactive_target:
        f.pc = CACHE_BEGIN
        return CONT
    q = k.queues[ACTIVE_Q]
    budget = min(f.maxscan, slice_room(k, VISIT_UNITS))
    threshold = f.npass // MAXSCAN_DIVIDER + 1
    aged = 0
    while aged < budget:
        run = q.first_at(f.amarker)
        if run is None:
            if f.amarker == HEAD:
                break  # nothing active at all
            f.amarker = HEAD  # the marker went off the end: back to the head
            continue
        seq, oid, start, count, flags = run
        n = min(count, budget - aged)
        obj = k.objects[oid]
        if not (flags & BUSY or (is_ep(t) and obj.kind == "vnode")):
            referenced, n = referenced_pages(k, oid, start, n, flags)
            actcount = (1 if flags & REFERENCED else 0) + (1 if referenced else 0)
            act = act_count(flags)
            if actcount:
                act = min(act + ACT_ADVANCE + actcount, ACT_MAX)
            else:
                act -= min(act, VM_FILEMEM_DECLINE if obj.kind == "vnode" else ACT_DECLINE)
                if act < threshold:
                    if aged:
                        break  # deactivate in a step of its own
                    deactivate_batch(k, f, oid, start, n, with_act(flags, act))
                    return DONE
            queue_set_flags(k, ACTIVE_Q, oid, start, n, with_act(flags & ~(REFERENCED | PMAP_REF), act))
        f.amarker = (seq, oid, start + n)
        aged += n
    if aged == 0:
        f.pc = CACHE_BEGIN
        return CONT
    f.maxscan -= aged
    charge(k, aged, VISIT_UNITS)
    return DONE


def deactivate_batch(k: Kernel, f: PageoutFrame, oid: int, start: int, n: int, flags: int) -> None:
    """Deactivate pages whose act_count ran out: to PQ_CACHE if clean while still short, else PQ_INACTIVE (1584-1620)."""
    th = k.th
    n = min(n, slice_room(k), max(f.inactive_shortage, f.avail_shortage, 1), th.v_inactive_target - k.inactive + 1)
    short = f.avail_shortage > 0
    if short:
        n = min(n, f.avail_shortage)
    if short and not flags & DIRTY:
        n = min(n, wakeup_distance(k))
        vm_page_cache(k, ACTIVE_Q, oid, start, n)
        f.recycle += n
    else:
        if short:
            f.recycle += n
        queue_take(k, ACTIVE_Q, oid, start, n)
        queue_add(k, INACTIVE_Q, oid, start, n, flags & ~WINATCFLS)
    f.inactive_shortage -= n
    f.avail_shortage -= n
    f.maxscan -= n
    charge(k, n)
    made_progress(k)


def cache_begin(k: Kernel, t: Thread, f: PageoutFrame) -> int:
    """The rollup before the cache scan (2683-2685)."""
    note_progress(k, t)
    f.pc = CACHE
    return CONT


def scan_cache(k: Kernel, t: Thread, f: PageoutFrame) -> int:
    """vm_pageout_scan_cache() (1673-1770): PQ_CACHE -> PQ_FREE up to v_free_target.

    Simplification: the kernel's loop tests the global vmstats, which sees
    the pager's own frees only at the next hardclock, so it may go on
    converting cache pages to free ones for the rest of that tick; this
    loop reads the pager's CPU copy and stops at the target.  free+cache is
    the same either way; only a SYSTEM-only allocation (an mbuf page), which
    needs v_cache_count == 0 below v_free_reserved, could tell the
    difference, and it would find more free pages in the kernel, not fewer.
    """
    th = k.th
    free, cache = cpu_counts(k)
    if (free < th.v_free_target or free < th.v_free_min) and cache > VM_CACHE_SCAN_MIN and k.cache > VM_CACHE_SCAN_MIN:
        n = min(
            min(cache, k.cache) - VM_CACHE_SCAN_MIN,
            max(th.v_free_target, th.v_free_min) - free,
            slice_room(k),
        )
        if k.vm_pages_waiting and free < th.v_free_reserved:
            n = min(n, th.v_free_reserved - free)  # the free path's wakeup may fire there
        take_cache_pages(k, n)
        vm_page_free_toq(k, n)
        charge(k, n)
        return DONE
    f.pc = END
    return CONT


def pass_end(k: Kernel, t: Thread, f: PageoutFrame) -> int:
    """The OOM check, then the end of the pass, which both pagers run (1810-1840, 2693-2760)."""
    if not is_ep(t):
        oom_kill_check(k, t, f)
    f.pc = TOP
    if f.avail_shortage > 0:
        f.npass += 1
        if k.vm_pages_needed and k.swap_pager_full:
            tsleep(k, t, CHAN_PAGES_NEEDED, "pdelay", k.hz // 5)
        return DONE
    f.npass = 0
    if vm_paging_start(k, 0) or vm_paging_min_dnc(k, 16):
        f.state = PAGING_TARGET1
        k.vm_pages_needed = 2
        if not vm_paging_wait(k):
            wakeup(k, CHAN_FREE_COUNT)
    elif k.vm_pages_needed:
        if vm_paging_target1(k):
            f.state = PAGING_TARGET1
            k.vm_pages_needed = 2
        elif vm_paging_target2(k):
            f.state = PAGING_TARGET2
            k.vm_pages_needed = 2
        else:
            k.vm_pages_needed = 0
            emit(k, t, "pageout", f"{t.name}: free+cache {k.free + k.cache} reached v_paging_target2, idle")
        wakeup(k, CHAN_FREE_COUNT)
    return DONE


def oom_kill_check(k: Kernel, t: Thread, f: PageoutFrame) -> None:
    """The kill at the end of vm_pageout_scan_cache (1810-1840): primary pager only, at most once a second.

    It needs swap_pager_full, ``pass / MAXSCAN_DIVIDER > 1`` (20 short passes
    in a row), a shortage left and free+cache below target1.
    """
    if not (k.swap_pager_full and f.npass // MAXSCAN_DIVIDER > 1 and f.avail_shortage > 0 and vm_paging_target1(k)):
        return
    if k.tick - k.last_kill_tick < k.hz:
        return
    k.last_kill_tick = k.tick
    kill_biggest(k, t, "out of swap space")


def kill_biggest(k: Kernel, t: Thread, why: str) -> None:
    """killproc() of the process with the most anonymous plus swapped pages.

    vm_pageout_scan_callback (1843-1895) skips no process that is still
    running, so one already killed but not yet exited may be picked again.
    """
    victims = [p for p in k.threads if p.kind is ThreadKind.PROC and p.state != ZOMB and not p.finished]
    if not victims:
        return
    victim = max(victims, key=lambda p: (process_size(k, p), -p.tid))
    if not victim.lowmemkill:
        k.oom_kills += 1
        emit(k, t, "oom", f"pid {victim.pid} ({victim.name}), uid 0, was killed: {why}")
    victim.lowmemkill = True
    victim.nice = -20
    made_progress(k)
    if victim.state != "R" and victim.wchan == "":
        setrunnable(victim)  # SIGKILL interrupts a sleep in user mode or nanosleep
    wakeup(k, CHAN_FREE_COUNT)


def process_size(k: Kernel, p: Thread) -> int:
    """vmspace_anonymous_count + vmspace_swap_count."""
    obj = k.objects.get(p.anon)
    if obj is None:
        return 0
    return obj.resident + sum(bin(m).count("1") for m in obj.swb.values())


PAGER_PCS = {
    TOP: top,
    WOKE: woke,
    PASS: pass_begin,
    INACTIVE: scan_inactive,
    LAUNDERED: laundered,
    ACTIVE_BEGIN: active_begin,
    ACTIVE: scan_active,
    CACHE_BEGIN: cache_begin,
    CACHE: scan_cache,
    END: pass_end,
}
