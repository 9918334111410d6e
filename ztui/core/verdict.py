"""When a run is over, and why: the verdict rules (explain.py says it in kernel terms).

The rules, checked at every clock tick:

* ``recursion``: vm_map_entry_reserve re-entered itself 3 deep with
  nothing credited in between; each level sees the same state, so the
  nesting cannot end (set in vm_map.py).
* A **wedge**: a set of threads that have work to do, have made no
  progress for the window, and wait only on one another.  Progress is a
  thread's own unit of work: a page faulted, read, touched or freed; for a
  pager a page cached, freed or deactivated, a cluster laundered, a process
  killed; a page added to a slab or zone refill it will keep.  A thread
  whose wait has a live source is not wedged, and the sources are found
  as a fixpoint over the candidates:

  - memory (vm_wait, vm_wait_pfault, a page of a slab or refill, a pager
    scanning with nothing to take): a pager outside the set still in a
    pass, or a thread outside it that freed pages or put pages on PQ_CACHE
    within the window;
  - a pbuf (getpbuf_kva): any swap write in flight;
  - a page busy with pageout (vm_page_sleep_busy, vm_object_pip_wait): its
    write in flight, or the pager building that write outside the set;
  - zgetlk: its holder outside the set.

  A thread waiting for its own read (swread, biord) is never a candidate:
  its I/O completes.  Every wedged thread waiting on a timed sleep makes
  the verdict ``livelock`` (DragonFly's vm_wait always times out: the
  wedged threads retry every second, forever); ``deadlock`` when none of
  them will ever wake.  The verdict is *partial* when threads outside the
  wedge still run (they are named), and the wedge is still a wedge.
* ``deadlock`` also when no thread can run and nothing timed is pending.
* ``ok``: every process finished its phases and the pagers are idle.
* ``limit``: the run reached its step or time limit with work left; the
  explanation names any thread already without progress for a shorter
  time (stuck at the limit).

The window is run.livelock_window, but never shorter than the longest
latency the scenario configures plus 3 s (the emergency pager's 2 s and
vm_wait's 1 s): a slow device is waiting, not a wedge.
"""

from __future__ import annotations

from .kern_synch import VOLUNTARY
from .state import RUN, ZOMB, FlushFrame, Kernel, PageoutFrame, Thread, ThreadKind, Verdict
from .vm_pageout import TOP, WOKE

OWN_IO = frozenset({"swread", "biord"})
MEMORY_WAITS = frozenset({"pfault", "vmwait", "VMWait", "swzonxb"})
BUSY_WAITS = frozenset({"vmpfw", "vmopar", "objtrm1", "objtrm2"})
PAGERS = (ThreadKind.PAGEDAEMON, ThreadKind.EMERGPAGER)


def voluntary_sleep(t: Thread) -> bool:
    return t.state != RUN and t.wchan == "" and t.wmesg in VOLUNTARY


def in_pass(t: Thread) -> bool:
    """A pager inside a pageout pass, or between two short ones (pdelay)."""
    f = t.frames[0]
    return isinstance(f, PageoutFrame) and (len(t.frames) > 1 or f.pc not in (TOP, WOKE) or t.wmesg == "pdelay")


def has_work(t: Thread) -> bool:
    """A process with phases left, or a pager in a pass: threads that can be stuck."""
    if t.kind is ThreadKind.PROC:
        return not t.finished and t.state != ZOMB
    return t.kind in PAGERS and in_pass(t)


def workload_complete(k: Kernel) -> bool:
    procs = [t for t in k.threads if t.kind is ThreadKind.PROC]
    return bool(procs) and all(t.finished for t in procs) and not k.io and not k.reads and k.vm_pages_needed == 0


def floor_ticks(k: Kernel) -> int:
    """The shortest window that can judge a thread: the longest configured latency plus 3 s."""
    return k.cfg.longest_latency_ticks + 3 * k.hz


def window_ticks(k: Kernel) -> int:
    """run.livelock_window, never shorter than floor_ticks."""
    return max(k.cfg.livelock_ticks, floor_ticks(k))


def waits_on(t: Thread) -> str:
    """What ``t`` waits for: "memory", "pbuf", "busy", "zgetlk", "io" or "voluntary"."""
    if t.state == RUN:
        return "memory"  # retrying an allocation, or a pager scanning with nothing to take
    if t.wmesg in MEMORY_WAITS or t.wmesg == "pdelay":
        return "memory"
    if t.wmesg == "wswbuf2":
        return "pbuf"
    if t.wmesg in BUSY_WAITS:
        return "busy"
    if t.wmesg == "zgetlk":
        return "zgetlk"
    if t.wmesg in OWN_IO:
        return "io"
    return "voluntary"


def wedged(k: Kernel, window: int) -> list[Thread]:
    """The threads with work, no progress for ``window`` ticks, and no live source for their wait."""
    now = k.tick
    cand = {
        t.tid
        for t in k.threads
        if has_work(t) and now - t.progress_tick >= window and waits_on(t) not in ("io", "voluntary")
    }
    changed = True
    while changed:
        changed = False
        for tid in sorted(cand):
            if live_source(k, k.threads[tid], cand, window):
                cand.discard(tid)
                changed = True
    return [k.threads[tid] for tid in sorted(cand)]


def live_source(k: Kernel, t: Thread, cand: set[int], window: int) -> bool:
    """Can something outside the candidates still end ``t``'s wait?"""
    wait = waits_on(t)
    if wait == "pbuf":
        return bool(k.io)
    if wait == "busy":
        obj = int(t.wchan.split(":")[1])
        if any(io.oid == obj for io in k.io):
            return True
        return any(
            isinstance(f, FlushFrame) and f.oid == obj and u.tid not in cand for u in k.threads for f in u.frames
        )
    if wait == "zgetlk":
        return k.zones["MAP ENTRY"].zgetlk not in cand
    # memory
    for u in k.threads:
        if u.tid in cand or u.tid == t.tid:
            continue
        if u.kind in PAGERS and in_pass(u):
            return True
        if k.tick - u.freed_tick < window:
            return True
    return t.kind in PAGERS and bool(k.io)  # a scanning pager will cache the pages being written


def check_stuck(k: Kernel) -> Verdict:
    """The wedge verdict at this tick, or Verdict.NONE."""
    if deadlocked(k):
        return Verdict.DEADLOCK
    stuck = wedged(k, window_ticks(k))
    if not stuck:
        return Verdict.NONE
    if all(t.state != RUN and t.wake_tick < 0 for t in stuck):
        return Verdict.DEADLOCK
    return Verdict.LIVELOCK


def partial(k: Kernel, stuck: list[Thread]) -> list[Thread]:
    """Threads with work that are not in the wedge: they still run."""
    ids = {t.tid for t in stuck}
    return [t for t in k.threads if has_work(t) and t.tid not in ids]


def deadlocked(k: Kernel) -> bool:
    """Nothing runs, nothing is in flight, and every thread with work sleeps without a timeout."""
    threads = k.threads
    return (
        not k.io
        and not k.reads
        and not k.sockbuf
        and not any(t.state == RUN for t in threads)
        and any(has_work(t) for t in threads)
        and all(t.wake_tick < 0 or not has_work(t) for t in threads)
    )


def stuck_at_limit(k: Kernel) -> list[Thread]:
    """At the limit: the threads already without progress for the shortest window that can judge them."""
    return wedged(k, floor_ticks(k))
