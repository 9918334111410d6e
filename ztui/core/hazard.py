"""Hazards: a pager allocating from a path only the pagers' own work can feed ("lockdep for reclaim").

Linux's lockdep reports a lock-order inversion the first time both orders
are seen, without waiting for the deadlock.  The reclaim analogue: every
time a pageout daemon asks for pages it cannot get unless pages are freed
(a kmalloc_obj slab from kmem_slab_alloc, a MAP ENTRY refill from
kmem_alloc3, a zalloc refill), the allocation is an episode with a
*margin*: the pages it could still spare, free+cache less the floor of
its page class (the lowest free+cache a page is had at) less the pages it
still needs, plus one, at its lowest while it ran.  A margin below zero
is a wait (the wedge's first step); a margin of m means m + 1 more pages
taken by others while it ran would have made it wait.  The
pages others did take below v_free_severe meanwhile are counted by who
took them.

An episode lives in its frame (SlabAllocFrame, KmemAlloc3Frame) while it
runs and is written to Kernel.hazlog, observer data like the event log,
when it ends.
"""

from __future__ import annotations

from .state import Kernel, KmemAlloc3Frame, SlabAllocFrame, Thread, ThreadKind
from .vmstats import cpu_counts

VM_ALLOC_NORMAL = 0x01
VM_ALLOC_SYSTEM = 0x02
VM_ALLOC_INTERRUPT = 0x04
PAGERS = (ThreadKind.PAGEDAEMON, ThreadKind.EMERGPAGER)
EPISODES = (SlabAllocFrame, KmemAlloc3Frame)


def floor_of(k: Kernel, t: Thread, req: int) -> tuple[str, int]:
    """The lowest free+cache a page of class ``req`` can be had at, as (name, pages):
    the pages that must remain (vm_page_alloc's test, vm_page.c:2587-2664)."""
    return class_floor(k, req | (VM_ALLOC_SYSTEM if t.systhread else 0))


def class_floor(k: Kernel, req: int) -> tuple[str, int]:
    """floor_of() for a page class as vm_page_alloc sees it (SYSTEM already added for a TDF_SYSTHREAD)."""
    th = k.th
    if req & VM_ALLOC_INTERRUPT:
        return "1 (VM_ALLOC_INTERRUPT: any free page)", 1
    if req & VM_ALLOC_SYSTEM:
        return "v_interrupt_free_min + 1", th.v_interrupt_free_min + 1
    return "v_free_reserved", th.v_free_reserved


def sample(k: Kernel, t: Thread, f, need: int, req: int) -> None:
    """Before a page of an episode: the margin now, kept if it is the lowest yet."""
    if t.kind not in PAGERS:
        return
    if f.t0 < 0:
        f.t0, f.s0 = k.tick, k.step
    _, floor = floor_of(k, t, req)
    margin = sum(cpu_counts(k)) - floor - need + 1  # the last page is had at free+cache == floor
    if margin < f.low_margin:
        f.low_margin, f.low_need, f.low_true = margin, need, k.free + k.cache


def open_margin(k: Kernel) -> int | None:
    """The lowest margin of the pagers' allocations running now (see above); None when none runs.

    For a breakpoint that stops a run as a pager's allocation comes within a
    given number of pages of waiting."""
    margins = [
        f.low_margin
        for t in k.threads
        if t.kind in PAGERS
        for f in t.frames
        if isinstance(f, EPISODES) and f.t0 >= 0
    ]
    return min(margins) if margins else None


def taken_below_severe(k: Kernel, t: Thread | None) -> None:
    """A page was just taken below v_free_severe: every other open episode counts it, by who took it.

    Episode bookkeeping is state (it is in the frames), kept whether or not
    the hazard log is on, so that a run hashes alike either way."""
    label = consumer(k, t)
    for u in k.threads:
        if u is t or u.kind not in PAGERS:
            continue
        for f in u.frames:
            if isinstance(f, EPISODES) and f.t0 >= 0:
                f.below[label] = f.below.get(label, 0) + 1


def consumer(k: Kernel, t: Thread | None) -> str:
    if t is None or t.kind is ThreadKind.INTR:
        return "em0 mbuf zones (kmalloc M_NOWAIT)"
    if t.kind is ThreadKind.PROC:
        return f"{t.name}'s buffer-cache reads (bio_page_alloc NORMAL|SYSTEM)"
    for f in reversed(t.frames):
        if isinstance(f, EPISODES):
            return f"{t.name}'s {'kmem_slab_alloc' if isinstance(f, SlabAllocFrame) else 'kmem_alloc3'}"
    return f"{t.name}'s zalloc refills"


def end(k: Kernel, t: Thread, f, what: str, pages: int, req: int, outcome: str) -> None:
    """The episode is over: write it to the hazard log."""
    if t.kind not in PAGERS or f.t0 < 0 or k.hazlog is None:
        return
    from .callpath import callpath  # callpath reads frames of every kind; this module is below them

    name, floor = floor_of(k, t, req)
    k.hazlog.append(
        (callpath(t, k), f.s0, f.t0, k.step, k.tick, what, pages, req | (VM_ALLOC_SYSTEM if t.systhread else 0),
         name, floor, f.low_margin, f.low_need, f.low_true, tuple(sorted(f.below.items())), outcome, t.name)
    )


def zone_refill(k: Kernel, t: Thread, got: int, want: int) -> None:
    """zget for ZONE_INTERRUPT by a pager: a one-step episode; its first page needs free > 0."""
    if t.kind not in PAGERS or k.hazlog is None:
        return
    from .callpath import callpath

    free, _ = cpu_counts(k)
    margin = free + got - 1  # free before the refill took its pages, over the floor of 1, for the one page needed
    k.hazlog.append(
        (callpath(t, k), k.step, k.tick, k.step, k.tick, "zalloc(SWAPMETA) refill (one page suffices)", 1,
         VM_ALLOC_SYSTEM | VM_ALLOC_INTERRUPT | VM_ALLOC_NORMAL, "1 (VM_ALLOC_INTERRUPT: any free page)", 1, margin, 1,
         k.free + k.cache + got, (),
         "completed" if got else "zfreemin stock" if margin >= 0 else "NULL", t.name)
    )
