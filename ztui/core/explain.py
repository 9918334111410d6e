"""The verdict in kernel terms: each stuck thread's chain of waits, and what would have had to change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .callpath import callpath
from .kern_slaballoc import assembling_pages
from .snapshot import VerdictView
from .state import RUN, Kernel, Thread, ThreadKind, Verdict
from .verdict import PAGERS, partial, stuck_at_limit, wedged, window_ticks
from .vm_page import nice_offset
from .vm_page_queues import DIRTY

if TYPE_CHECKING:
    from .simulator import Simulator


def fc(k: Kernel) -> int:
    return k.free + k.cache


def page_class_need(k: Kernel, t: Thread, where: str) -> str:
    th = k.th
    if t.systhread:
        return (
            f"{where}: vm_page_alloc NORMAL|SYSTEM succeeds only while free+cache > "
            f"v_interrupt_free_min {th.v_interrupt_free_min}; free+cache is {fc(k)}"
        )
    return (
        f"{where}: vm_page_alloc NORMAL succeeds only while free+cache >= "
        f"v_free_reserved {th.v_free_reserved}; free+cache is {fc(k)}"
    )


def innermost(k: Kernel, t: Thread) -> str:
    path = callpath(t, k)
    return path[-1] if path else "-"


def wait_chain(k: Kernel, t: Thread) -> list[str]:
    """Why ``t`` is where it is, innermost first."""
    lines = []
    if t.state != RUN:
        doing = f"sleeps on {t.wchan or 'a timer'} (wmesg {t.wmesg or '-'}) in {innermost(k, t)}"
    elif t.timed_out:
        doing = f"woke from a timed sleep (vm_wait's 1 s) and retries in {innermost(k, t)}"
    else:
        doing = f"is runnable in {innermost(k, t)}"
    lines.append(f"{t.name} {doing}")
    for f in reversed(t.frames):
        reason = frame_reason(k, t, f)
        if reason:
            lines.extend(reason)
            break
    if t.kind is ThreadKind.PROC and any(f.fn == "vm_map_entry_reserve" for f in t.frames):
        lines.append(f"it needs map entries first: gd_vme_avail on cpu{t.cpu} is {k.gd_vme_avail[t.cpu]}")
    return lines


def frame_reason(k: Kernel, t: Thread, f) -> list[str]:
    """What the innermost telling frame of ``t`` waits for; [] to look further out."""
    if f.fn == "kmem_slab_alloc":
        what = f"a kmalloc_obj slab for {k.cfg.ktype_names[f.ktype]} (kmem_slab_alloc, M_WAITOK)"
        if f.held:
            held = f"it holds {f.held} of 32 pages of {what} and waits for page {f.held + 1}: hold-and-wait"
        else:
            held = f"it needs the first of 32 pages of {what} and holds none yet"
        return [held, page_class_need(k, t, "kmem_slab_alloc")]
    if f.fn == "kmem_alloc3":
        return [
            f"it holds {f.held} of {f.npages} pages of a MAP ENTRY zone refill (kmem_alloc3 -> vm_page_grab blocks)",
            page_class_need(k, t, "vm_page_grab"),
        ]
    if f.fn == "swp_pager_meta_build" and k.swapmeta_kind == "zalloc":
        z = k.zones["SWAPMETA"]
        return [
            f"zalloc(SWAPMETA) returned NULL: no page for the refill (its first 4 pages need free > 0; free is {k.free})"
            f" and the zfreemin stock is {z.zfreecnt}"
        ]
    if f.fn == "vm_pageout_flush" and t.wmesg == "wswbuf2":
        return ["all 4 async swap-write pbufs (nsw_wcount_async) are in flight"]
    if f.fn == "zalloc" and t.wmesg == "zgetlk":
        return [f"{k.threads[k.zones['MAP ENTRY'].zgetlk].name} holds zgetlk while it refills the MAP ENTRY zone"]
    if f.fn == "user":
        return user_reason(k, t)
    return []


def user_reason(k: Kernel, t: Thread) -> list[str]:
    th = k.th
    if t.wmesg == "pfault":
        trip = th.v_free_min + nice_offset(k, t.nice)
        return [
            f"vm_fault allocates only while !vm_paging_severe(): needs free+cache >= v_free_severe {th.v_free_severe}"
            f" and free >= v_free_reserved {th.v_free_reserved}; free {k.free}, cache {k.cache}"
            f" (vm_wait_pfault trip point for nice {t.nice}: {trip})"
        ]
    if t.wmesg in ("vmopar", "vmpfw", "objtrm1", "objtrm2"):
        return ["a page of its memory is soft-busied by a pageout cluster that has not been written"]
    return []


def clean_inactive(k: Kernel) -> int:
    return sum(count for _, count, flags in k.queues["inactive"].runs.values() if not flags & DIRTY)


def explain(sim: Simulator, k: Kernel) -> VerdictView:
    kind = k.verdict
    if kind is Verdict.RECURSION:
        return explain_recursion(k)
    if kind is Verdict.OK:
        return explain_ok(k)
    if kind is Verdict.LIMIT:
        return explain_limit(k)
    return explain_wedge(k, kind)


def explain_recursion(k: Kernel) -> VerdictView:
    t = next(t for t in k.threads if sum(f.fn == "vm_map_entry_reserve" for f in t.frames) >= 3)
    path = " -> ".join(f.fn for f in t.frames)
    headline = f"recursion: {t.name}: vm_map_entry_reserve -> kmalloc_obj(MAP ENTRY) -> kmem_slab_alloc -> vm_map_entry_reserve ..."
    chain = (
        f"{t.name}: {path}",
        f"<- vm_map_entry_reserve found gd_vme_avail {k.gd_vme_avail[t.cpu]} < 4 and asked kmalloc_obj(MAP ENTRY) for an entry",
        "<- kmalloc_obj had no slab with a free object, so it called kmem_slab_alloc",
        "<- kmem_slab_alloc calls vm_map_entry_reserve(MAP_RESERVE_COUNT) before it maps the slab, and nothing was credited yet",
        "<- each level sees the same state: the nesting never ends (stack overflow); zalloc avoids it with kmem_alloc3(KM_KRESERVE)",
    )
    return VerdictView("recursion", k.step, k.tick, headline, chain, (t.name,), ("gd_vme_avail", "MAP ENTRY"))


def outcome_lines(k: Kernel) -> list[str]:
    lines = []
    if k.oom_kills:
        lines.append(f"the OOM killer killed {k.oom_kills} process(es) on the way")
    lines.append(f"free+cache {fc(k)}, swap {k.swap_total - k.swap_free}/{k.swap_total} pages used")
    return lines


def explain_ok(k: Kernel) -> VerdictView:
    return VerdictView("ok", k.step, k.tick, "ok: every process finished its workload", tuple(outcome_lines(k)), (), ())


def explain_limit(k: Kernel) -> VerdictView:
    stuck = stuck_at_limit(k)
    where = f"{k.step} steps, {k.tick / k.hz:.1f} s"
    if not stuck:
        headline = f"limit: the run stopped at its limit ({where}) with work left, every thread still making progress"
        return VerdictView("limit", k.step, k.tick, headline, tuple(outcome_lines(k)), (), ())
    names = ", ".join(t.name for t in stuck)
    longest = max(k.tick - t.progress_tick for t in stuck) / k.hz
    headline = (
        f"limit: stuck at the limit ({where}): {names} made no progress for up to {longest:.1f} s,"
        f" less than the {window_ticks(k) / k.hz:.0f} s that would prove a wedge"
    )
    chain = [line for t in stuck for line in thread_lines(k, t)] + outcome_lines(k)
    return VerdictView("limit", k.step, k.tick, headline, tuple(chain), tuple(t.name for t in stuck), ("free+cache",))


def thread_lines(k: Kernel, t: Thread) -> list[str]:
    lines = wait_chain(k, t)
    return [lines[0] + (": " + "; ".join(lines[1:]) if len(lines) > 1 else "")]


def explain_wedge(k: Kernel, kind: Verdict) -> VerdictView:
    th = k.th
    window = window_ticks(k)
    stuck = wedged(k, window)
    running = partial(k, stuck)
    chain: list[str] = []
    resources = ["free+cache"]
    pagers = [t for t in stuck if t.kind in PAGERS]
    for t in pagers:
        chain.extend(("" if i == 0 else "<- ") + line for i, line in enumerate(wait_chain(k, t)))
    if pagers:
        chain.append(
            f"<- free+cache {fc(k)} will not rise: only the pagedaemon and the emergency pager turn dirty pages into"
            f" free ones, and {' and '.join(t.name for t in pagers)} {'is' if len(pagers) == 1 else 'are'} waiting;"
            f" clean inactive pages left: {clean_inactive(k)}"
        )
        if any(f.fn == "kmem_slab_alloc" for t in pagers for f in t.frames):
            resources.append("SWAPMETA")
    for t in stuck:
        if t.kind not in PAGERS:
            chain.extend(thread_lines(k, t))
    chain.extend(context_lines(k))
    if running:
        chain.append(
            f"still running, outside the wedge: {', '.join(t.name for t in running)}"
            " (their work frees nothing the wedged threads wait for)"
        )
    names = ", ".join(t.name for t in stuck)
    plural = len(running) != 1
    scope = f" (partial: {len(running)} other thread{'s' if plural else ''} still run{'' if plural else 's'})" if running else ""
    if kind is Verdict.LIVELOCK:
        headline = (
            f"livelock{scope}: {names} made no progress for {window / k.hz:.0f} s; they wake only on timeouts"
            f" (vm_wait's 1 s) and block again; free+cache {fc(k)} (v_interrupt_free_min {th.v_interrupt_free_min})"
        )
    else:
        headline = f"deadlock{scope}: {names or 'every thread'} can never run again; free+cache {fc(k)}"
    if k.sockbuf_clusters:
        resources.append("em0")
    if k.swap_pager_full:
        resources.append("swap")
    return VerdictView(kind.value, k.step, k.tick, headline, tuple(chain), tuple(t.name for t in stuck), tuple(resources))


def context_lines(k: Kernel) -> list[str]:
    """What else holds memory or matters to the wedge."""
    th = k.th
    lines = []
    if k.sockbuf_clusters:
        reader = k.cfg.intr_consumer
        who = f"; their reader {k.threads[reader].name} is blocked in the kernel and reads none" if reader >= 0 else ""
        lines.append(
            f"em0's packets hold {k.sockbuf_clusters} mbuf clusters in the socket buffer (at most"
            f" {k.cfg.intr_sockbuf}){who}; new zones need VM_ALLOC_SYSTEM pages, which stop at"
            f" v_interrupt_free_min {th.v_interrupt_free_min}"
        )
    if k.swap_pager_full:
        lines.append("swap is full (swap_pager_full): the OOM killer needs the primary pager's loop to run")
    busy = sum(obj.pip for obj in k.objects.values())
    if busy:
        lines.append(f"{busy} dirty pages are soft-busied in pageout clusters whose swblocks are not built; each pager holds a pbuf")
    held = sum(assembling_pages(t) for t in k.threads)
    if held:
        lines.append(f"{held} pages are held by unfinished slab/zone refills")
    return lines

