"""The pageout daemon and the emergency pager (sys/vm/vm_pageout.c).

One step examines one page, or a run of like pages when the pager runs
alone and no wakeup threshold lies inside the run.  Simplifications (the
single queue of vm_object.py aside): act_count aging and
vm_pageout_page_stats are not modelled, so the active scan deactivates
every page it meets; the per-sub-queue launder budget is summed into one
per-pass budget of vm_max_launder pages (doubled after the first pass);
the emergency pager passes over vnode pages by taking the oldest anonymous
head instead of walking past them with a marker.
"""

from __future__ import annotations

from .frames import CONT, DONE, call, emit, kernel_function
from .kern_synch import setrunnable, tsleep, wakeup
from .state import DIRTY, WINATCFLS, Frame, Kernel, Thread
from .vm_object import ACTIVE as ACTIVE_Q
from .vm_object import CACHE as CACHE_Q
from .vm_object import INACTIVE as INACTIVE_Q
from .vm_object import dequeue_head, move_head, oldest, take_oldest_cache_page
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

PAGING_IDLE, PAGING_TARGET1, PAGING_TARGET2 = 0, 1, 2
STATE_NAMES = ("IDLE", "TARGET1", "TARGET2")
PQ_L2_SIZE = 1024
VM_CACHE_SCAN_MIN = 16
VM_EMERG_LAUNDER = 100
BLIST_MAX_ALLOC = 64
CHAN_UPTIME = "vm_pagedaemon_uptime"

# Frame pcs of vm_pageout_thread
TOP, PASS, INACTIVE, ACTIVE_BEGIN, ACTIVE, CACHE, END, WOKE = range(8)
PC_FUNCTION = {
    TOP: "vm_pageout_thread",
    WOKE: "vm_pageout_thread",
    PASS: "vm_pageout_thread",
    INACTIVE: "vm_pageout_scan_inactive",
    ACTIVE_BEGIN: "vm_pageout_scan_active",
    ACTIVE: "vm_pageout_scan_active",
    CACHE: "vm_pageout_scan_cache",
    END: "vm_pageout_scan_cache",
}


def slice_room(k: Kernel) -> int:
    """Steps the running thread may still take back to back: the rest of its slice and tick."""
    return max(1, min(k.slice_left, k.steps_per_tick * k.ncpus - k.tick_steps, k.step_cap - k.step))


def charge(k: Kernel, n: int) -> None:
    """Count a run of n like actions as n steps (the dispatcher counts one)."""
    k.step += n - 1
    k.tick_steps += n - 1
    k.slice_left -= n - 1


def wakeup_distance(k: Kernel) -> int:
    """Pages that may enter PQ_FREE/PQ_CACHE before vm_page_free_wakeup or a scan stop acts."""
    th = k.th
    fc = k.free + k.cache
    d = 1 << 30
    if k.vm_pageout_pages_needed:
        d = min(d, th.v_pageout_free_min - fc)
    if k.free >= th.v_free_reserved:
        d = min(d, th.v_paging_target2 - fc)
        if k.vm_pages_waiting:
            d = min(d, th.v_free_min + 16 - fc)
    return max(1, d)


def is_ep(t: Thread) -> bool:
    return t.kind == "emergpager"


@kernel_function("vm_pageout_thread")
def vm_pageout_thread(k: Kernel, t: Thread, f: Frame) -> int:
    """vm_pageout_thread(): the primary pager's loop, or the emergency pager's.

    Locals: a=avail_shortage, b=pages left to scan, c=launder budget,
    d=paging state (IDLE/TARGET1/TARGET2), e=pass, g=inactive_shortage.
    """
    return PAGER_PCS[f.pc](k, t, f)


def top(k: Kernel, t: Thread, f: Frame) -> int:
    if is_ep(t):
        # The emergency pager naps on vm_pagedaemon_uptime: 1 s while paging is wanted, else 10 s.
        tsleep(k, t, CHAN_UPTIME, "psleep", k.hz if k.vm_pages_needed else 10 * k.hz)
        f.pc = WOKE
        return DONE
    if k.vm_pages_needed == 0:
        tsleep(k, t, CHAN_PAGES_NEEDED, "psleep", k.hz // 10)
        f.pc = WOKE
        return DONE
    f.pc = PASS
    return CONT


def woke(k: Kernel, t: Thread, f: Frame) -> int:
    if is_ep(t):
        if k.vm_pages_needed == 0 or k.tick - k.vm_pagedaemon_uptime < 2 * k.hz:
            f.pc = TOP
            return DONE
        emit(k, t, "pageout", f"emergpager: primary pager stalled {(k.tick - k.vm_pagedaemon_uptime) / k.hz:.1f}s, taking over")
        f.pc = PASS
        return CONT
    if t.timed_out and not vm_paging_start(k, 0) and k.vm_pages_needed == 0:
        f.pc = TOP
        return DONE
    k.vm_pagedaemon_uptime = k.tick
    if k.vm_pages_needed == 0:
        k.vm_pages_needed = 1
    f.d = PAGING_TARGET1
    wakeup(k, CHAN_UPTIME)
    emit(k, t, "pageout", f"pagedaemon: woken, paging to TARGET1 (free+cache {k.free + k.cache}, v_paging_start {k.th.v_paging_start})")
    f.pc = PASS
    return CONT


def pass_begin(k: Kernel, t: Thread, f: Frame) -> int:
    if not is_ep(t):
        k.vm_pagedaemon_uptime = k.tick
    short = vm_paging_target1_count(k) if f.d == PAGING_TARGET1 else vm_paging_target2_count(k)
    f.a = short + k.vm_pageout_deficit
    k.vm_pageout_deficit = 0
    f.b = min(k.inactive, k.inactive // 10 + PQ_L2_SIZE)
    f.c = max(1, k.th.vm_max_launder) * (2 if f.e else 1)
    f.pc = INACTIVE if f.a > 0 else ACTIVE_BEGIN
    return CONT


def scan_inactive(k: Kernel, t: Thread, f: Frame) -> int:
    """vm_pageout_scan_inactive() + vm_pageout_page(): one page (or a like run) per step."""
    ep = is_ep(t)
    obj = oldest(k, "inactive", anon_only=ep) if f.a > 0 and f.b > 0 else None
    if obj is None or (not vm_paging_target2(k) and not vm_paging_min_dnc(k, 16)):
        f.pc = ACTIVE_BEGIN
        return CONT
    start, count, flags, _ = obj.inactive[0]
    if not flags & DIRTY:  # clean: vm_page_cache()
        n = move_head(k, obj, INACTIVE_Q, CACHE_Q, min(count, f.a, f.b, slice_room(k), wakeup_distance(k)), 0)
        f.a -= n
        f.b -= n
        charge(k, n)
        k.progress_tick = k.tick
        vm_page_free_wakeup(k)
        return DONE
    if not flags & WINATCFLS and f.e == 0:  # second chance: requeue at the tail
        n = move_head(k, obj, INACTIVE_Q, INACTIVE_Q, min(count, f.b, slice_room(k)), DIRTY | WINATCFLS)
        f.b -= n
        charge(k, n)
        return DONE
    if f.c <= 0:  # dirty, no launder budget left: leave it (moves past it)
        n = move_head(k, obj, INACTIVE_Q, INACTIVE_Q, min(count, f.b, slice_room(k)))
        f.b -= n
        charge(k, n)
        return DONE
    # launder: vm_pageout_clean_helper() clusters up to 64 pages, then vm_pageout_flush()
    s, n, _ = dequeue_head(obj.inactive, min(count, BLIST_MAX_ALLOC))
    obj.busy.append((s, n))
    f.c -= n
    f.a -= n
    f.b -= n
    k.progress_tick = k.tick
    return call(t, "vm_pageout_flush", obj.oid, s, n)


def active_begin(k: Kernel, t: Thread, f: Frame) -> int:
    if not is_ep(t):
        k.vm_pagedaemon_uptime = k.tick
    target = k.th.v_inactive_target
    g = target - k.inactive
    if f.a > 0:
        g += min(2 * f.a, target // 10)
    if is_ep(t):
        g = max(g, VM_EMERG_LAUNDER)
    f.g = g
    f.b = min(k.active, k.active // 10 + PQ_L2_SIZE)
    f.pc = ACTIVE if g > 0 else CACHE
    return CONT


def scan_active(k: Kernel, t: Thread, f: Frame) -> int:
    """vm_pageout_scan_active(): deactivate (or, while short, cache clean pages)."""
    ep = is_ep(t)
    obj = oldest(k, "active", anon_only=ep) if f.b > 0 else None
    if obj is None or (f.g <= 0 and f.a <= 0) or k.inactive > k.th.v_inactive_target:
        f.pc = CACHE
        return CONT
    start, count, flags, _ = obj.active[0]
    # stop where page-by-page would: once inactive passes its target
    n = min(count, f.b, slice_room(k), max(f.g, 1), k.th.v_inactive_target - k.inactive + 1)
    if f.a > 0 and not flags & DIRTY:  # recycle: clean pages straight to PQ_CACHE
        n = move_head(k, obj, ACTIVE_Q, CACHE_Q, min(n, f.a, wakeup_distance(k)))
        f.a -= n
        vm_page_free_wakeup(k)
    else:
        n = move_head(k, obj, ACTIVE_Q, INACTIVE_Q, n)
    f.g -= n
    f.b -= n
    charge(k, n)
    k.progress_tick = k.tick
    return DONE


def scan_cache(k: Kernel, t: Thread, f: Frame) -> int:
    """vm_pageout_scan_cache(): PQ_CACHE -> PQ_FREE up to v_free_target."""
    th = k.th
    if (k.free < th.v_free_target or k.free < th.v_free_min) and k.cache > VM_CACHE_SCAN_MIN:
        n = min(
            k.cache - VM_CACHE_SCAN_MIN,
            max(th.v_free_target, th.v_free_min) - k.free,
            slice_room(k),
        )
        if k.vm_pages_waiting and k.free < th.v_free_reserved:
            n = min(n, th.v_free_reserved - k.free)  # the free path's wakeup may fire there
        for _ in range(n):
            take_oldest_cache_page(k)
        k.cache -= n
        vm_page_free_toq(k, n)
        charge(k, n)
        return DONE
    f.pc = END
    return CONT


def pass_end(k: Kernel, t: Thread, f: Frame) -> int:
    ep = is_ep(t)
    if not ep:
        k.vm_pagedaemon_uptime = k.tick
        oom_kill_check(k, t, f)
    f.pc = TOP
    if ep:
        return DONE
    if f.a > 0:
        f.e += 1
        if k.vm_pages_needed and k.swap_pager_full:
            tsleep(k, t, "pdelay", "pdelay", k.hz // 5)
            f.pc = PASS
        return DONE
    f.e = 0
    if vm_paging_start(k, 0) or vm_paging_min_dnc(k, 16):
        f.d = PAGING_TARGET1
        k.vm_pages_needed = 2
        if not vm_paging_wait(k):
            wakeup(k, CHAN_FREE_COUNT)
    elif k.vm_pages_needed:
        if vm_paging_target1(k):
            f.d = PAGING_TARGET1
        elif vm_paging_target2(k):
            f.d = PAGING_TARGET2
        else:
            k.vm_pages_needed = 0
            f.d = PAGING_IDLE
            emit(k, t, "pageout", f"pagedaemon: free+cache {k.free + k.cache} reached v_paging_target2, idle")
        wakeup(k, CHAN_FREE_COUNT)
    return DONE


def oom_kill_check(k: Kernel, t: Thread, f: Frame) -> None:
    """The kill at the end of vm_pageout_scan_cache: primary pager only, swap full, 1/s."""
    if not (k.swap_pager_full and f.e > 1 and f.a > 0 and vm_paging_target1(k)):
        return
    if k.tick - k.last_kill_tick < k.hz:
        return
    victims = [p for p in k.threads if p.kind == "proc" and not p.finished and not p.lowmemkill]
    if not victims:
        return
    victim = max(victims, key=lambda p: (process_size(k, p), -p.tid))
    k.last_kill_tick = k.tick
    k.oom_kills += 1
    victim.lowmemkill = True
    victim.nice = -20
    emit(k, t, "oom", f"pid {victim.pid} ({victim.name}), uid 0, was killed: out of swap space")
    if victim.state != "R" and victim.wchan in (CHAN_FREE_COUNT, ""):
        setrunnable(victim)
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
    ACTIVE_BEGIN: active_begin,
    ACTIVE: scan_active,
    CACHE: scan_cache,
    END: pass_end,
}
