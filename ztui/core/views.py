"""Build frozen Snapshots (snapshot.py) from the live Kernel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .callpath import callpath
from .explain import wait_chain
from .kern_proc import FIRST_PID, phase_cfg
from .kern_slaballoc import assembling_pages
from .snapshot import (
    AllocatorView,
    AssemblyView,
    CpuVmeView,
    EventView,
    MapEntryView,
    SlabView,
    Snapshot,
    ThreadView,
    WorkloadView,
)
from .state import RUN, FlushFrame, Kernel, KmemAlloc3Frame, PageoutFrame, ReserveFrame, SlabAllocFrame, Thread
from .vm_pageout import STATE_NAMES
from .vmstats import THRESHOLD_NAMES

if TYPE_CHECKING:
    from .simulator import Simulator

def progress(k: Kernel, t: Thread) -> str:
    for f in reversed(t.frames):
        if isinstance(f, SlabAllocFrame):
            return f"page {f.held + 1} of 32" if f.held < 32 else "mapping"
        if isinstance(f, KmemAlloc3Frame):
            return f"page {f.held + 1} of {f.npages}"
        if isinstance(f, FlushFrame):
            cluster = f"pages {f.start}-{f.start + f.count - 1}"
            return f"{cluster}, chunk page {f.built} of {f.chunk}" if f.pc >= 2 else cluster
        if isinstance(f, ReserveFrame):
            return f"gd_vme_avail {k.gd_vme_avail[t.cpu]}, want {f.count}"
        if isinstance(f, PageoutFrame):
            return f"{STATE_NAMES[f.state]}, pass {f.npass}, shortage {f.avail_shortage}"
        if f.fn == "user":
            ph = phase_cfg(k, t)
            if ph is None:
                return "done"
            total = "" if ph.pages < 0 else f"/{ph.pages}"
            n = len(k.cfg.procs[t.pid - FIRST_PID].phases)
            return f"phase {t.phase + 1}/{n} {ph.op} {t.done}{total}"
    return ""


def blocked_reason(k: Kernel, t: Thread) -> str:
    if t.state == RUN:
        return ""
    lines = wait_chain(k, t)
    return "; ".join(lines[1:]) if len(lines) > 1 else f"sleeping in {t.wmesg or 'user mode'}"


def thread_views(sim: Simulator) -> tuple[ThreadView, ...]:
    k = sim.k
    nxt = sim.next_tid()
    out = []
    for t in k.threads:
        path = callpath(t, k)
        out.append(
            ThreadView(
                tid=t.tid,
                name=t.name,
                state=t.state,
                wchan=t.wchan,
                wmesg=t.wmesg,
                function=path[-1] if path else "-",
                progress=progress(k, t),
                slept_ticks=0 if t.state == RUN else k.tick - t.slept_at,
                callpath=path,
                blocked_reason=blocked_reason(k, t),
                nice=t.nice,
                runnable=t.state == RUN,
                is_next=t.tid == nxt,
            )
        )
    return tuple(out)


def assemblies(k: Kernel, fn: str) -> tuple[AssemblyView, ...]:
    out = []
    for t in k.threads:
        for f in t.frames:
            if isinstance(f, (SlabAllocFrame, KmemAlloc3Frame)) and f.fn == fn and f.pc >= 1:
                out.append(AssemblyView(t.name, fn, f.held, 32))
    return tuple(out)


def zone_view(k: Kernel, name: str) -> AllocatorView:
    z = k.zones[name]
    return AllocatorView(
        zone=name,
        kind="zalloc",
        geometry={"zsize": z.zsize, "items_per_page": round(4096 / z.zsize, 2), "interrupt": z.interrupt},
        state={
            "zfreecnt": z.zfreecnt,
            "zfreemin": z.zfreemin,
            "ztotal": z.ztotal,
            "zpagecount": z.zpagecount,
            "zpagemax": z.zpagemax,
            "zgetlk": k.threads[z.zgetlk].name if z.zgetlk >= 0 else "",
        },
        in_use=z.inuse,
        assembling=assemblies(k, "kmem_alloc3") if not z.interrupt else (),
    )


def ktype_view(k: Kernel, name: str) -> AllocatorView:
    ty = k.ktypes[name]
    slabs = tuple(
        SlabView(s.sid, s.where, s.nfree, s.ncount)
        for s in sorted(k.slabs.values(), key=lambda s: s.sid)
        if slab_of(ty, s.sid)
    )
    return AllocatorView(
        zone=name,
        kind="kmalloc_obj",
        geometry={"objsize": ty.objsize, "objects_per_slab": ty.ncount, "slab_pages": 32},
        state={
            "inuse": ty.inuse,
            "slabs": len(slabs),
            "partial": len(ty.partial),
            "full": len(ty.full),
            "empty": len(ty.empty),
            "reserved_slab": ty.reserved_slab,
            "reserve_taken": ty.reserve_taken,
        },
        in_use=ty.inuse,
        slabs=slabs,
        blank_slabs=sum(k.kmslab_free),
        assembling=tuple(
            a for a in assemblies(k, "kmem_slab_alloc") if slab_type_of(k, a.thread) == k.cfg.ktype_names.index(name)
        ),
    )


def slab_of(ty, sid: int) -> bool:
    return sid in ty.active or sid in ty.alternate or sid in ty.partial or sid in ty.full or sid in ty.empty


def slab_type_of(k: Kernel, thread_name: str) -> int:
    for t in k.threads:
        if t.name == thread_name:
            for f in reversed(t.frames):
                if isinstance(f, SlabAllocFrame):
                    return f.ktype
    return -1


def allocator_view(k: Kernel, name: str) -> AllocatorView:
    return zone_view(k, name) if name in k.zones else ktype_view(k, name)


def vmstats_dict(k: Kernel) -> dict:
    d = {name: getattr(k.th, name) for name in THRESHOLD_NAMES}
    d.update(
        v_page_count=k.th.v_page_count,
        vm_max_launder=k.th.vm_max_launder,
        v_free_count=k.free,
        v_cache_count=k.cache,
        v_inactive_count=k.inactive,
        v_active_count=k.active,
        v_wire_count=k.wired + k.dma,
        v_dma_pages=k.dma,
        vm_pageout_deficit=k.vm_pageout_deficit,
        vm_pages_needed=k.vm_pages_needed,
        vm_pages_waiting=k.vm_pages_waiting,
        vm_pageout_pages_needed=k.vm_pageout_pages_needed,
    )
    return d


def pagedaemon_dict(k: Kernel) -> dict:
    f = k.threads[0].frames[0]
    assert isinstance(f, PageoutFrame)
    out = {
        "state": STATE_NAMES[f.state],
        "vm_pages_needed": k.vm_pages_needed,
        "vm_pageout_deficit": k.vm_pageout_deficit,
        "pass": f.npass,
    }
    if k.pageout_reserve_max:  # mitigation "pageout-reserve"
        out["pageout_reserve"] = k.pageout_reserve
        out["pageout_reserve_taken"] = k.pageout_reserve_taken
    return out


def build_snapshot(sim: Simulator, events: tuple[EventView, ...]) -> Snapshot:
    k = sim.k
    held = sum(assembling_pages(t) for t in k.threads)
    mapentry_zone = allocator_view(k, "MAP ENTRY")
    depth = max((sum(f.fn == "vm_map_entry_reserve" for f in t.frames) for t in k.threads), default=0)
    return Snapshot(
        scenario=sim.scenario.name,
        seed=sim.seed,
        step=k.step,
        tick=k.tick,
        hz=k.hz,
        vmstats=vmstats_dict(k),
        queues={
            "free": k.free,
            "cache": k.cache,
            "inactive": k.inactive,
            "active": k.active,
            "wired": k.wired + k.dma + k.pageout_reserve,
            "held_by_refills": held,
        },
        pagedaemon=pagedaemon_dict(k),
        swap={
            "total": k.swap_total,
            "used": k.swap_total - k.swap_free,
            "full": bool(k.swap_pager_full),
            "almost_full": bool(k.swap_pager_almost_full),
            "writes_in_flight": len(k.io),
            "pbufs_free": k.pbufs_free,
        },
        swapmeta=allocator_view(k, "SWAPMETA"),
        mapentry=MapEntryView(
            cpus=tuple(
                CpuVmeView(cpu, k.gd_vme_avail[cpu], k.gd_vme_base[cpu], cushion(k, cpu)) for cpu in range(k.ncpus)
            ),
            zone=mapentry_zone,
            refill=assemblies(k, "kmem_alloc3"),
            recursion_depth=depth,
        ),
        threads=thread_views(sim),
        events=events,
        verdict=sim.verdict,
        counters={"oom-kill": k.oom_kills, "swap-full": k.swap_full_events, "packets-dropped": k.intr_dropped},
        workload=workload_view(k),
        step_history=sim.history_view(),
        passed_verdict=sim.passed_verdict,
    )


def workload_view(k: Kernel) -> WorkloadView:
    """Phases and pages the processes have done; a finished (or killed) process counts as done."""
    phases_done = phases_total = pages_done = pages_total = 0
    for t in k.threads:
        if t.kind != "proc":
            continue
        phases = k.cfg.procs[t.pid - FIRST_PID].phases
        counted = [p.pages for p in phases if p.pages >= 0]
        phases_total += len(phases)
        pages_total += sum(counted)
        if t.finished or t.phase >= len(phases):
            phases_done += len(phases)
            pages_done += sum(counted)
            continue
        phases_done += t.phase
        pages_done += sum(p.pages for p in phases[: t.phase] if p.pages >= 0)
        if phases[t.phase].pages >= 0:
            pages_done += min(t.done, phases[t.phase].pages)
    return WorkloadView(phases_done, phases_total, pages_done, pages_total)


def cushion(k: Kernel, cpu: int) -> int:
    """H = base - avail - outstanding reservations (reference §10.2)."""
    outstanding = 0
    for t in k.threads:
        if t.cpu != cpu:
            continue
        for f in t.frames:
            if isinstance(f, SlabAllocFrame) and f.pc >= 2:
                outstanding += f.count
    return k.gd_vme_base[cpu] - k.gd_vme_avail[cpu] - outstanding


# Conditions on the live state for the TUI's breakpoints: cheap enough to ask after every step.
def free_cache(k: Kernel) -> int:
    return k.free + k.cache


def in_function(k: Kernel, tid: int | None, function: str) -> bool:
    """Thread ``tid`` (None: any thread) has ``function`` on its stack."""
    threads = k.threads if tid is None else (k.threads[tid],)
    return any(f.fn == function for t in threads for f in t.frames)


def sleeps_on(k: Kernel, tid: int | None, channel: str) -> bool:
    """Thread ``tid`` (None: any thread) sleeps with ``channel`` as its wmesg or wchan."""
    threads = k.threads if tid is None else (k.threads[tid],)
    return any(t.state != RUN and channel in (t.wmesg, t.wchan) for t in threads)


def unit_of_work(k: Kernel, tid: int) -> tuple[bool, int, int]:
    """(runnable, call depth, phase) of thread ``tid``: what "until it blocks or finishes a unit
    of work" watches (the TUI's scheduler mode)."""
    t = k.threads[tid]
    return t.state == RUN, len(t.frames), t.phase
