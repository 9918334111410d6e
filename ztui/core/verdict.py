"""Verdicts, and the chain of waits that explains them in kernel terms.

The rules (checked at every clock tick):

* ``recursion``: vm_map_entry_reserve re-entered itself 3 deep with
  nothing credited in between; each level sees the same state, so the
  nesting cannot end (set in vm_map.py).
* ``deadlock``: no thread can run and nothing timed is pending; or every
  thread with work to do sleeps without a timeout, no I/O or receive
  buffer is outstanding, and the other threads are idle daemons, whose
  runs cannot wake a timeout-less sleeper.
* ``livelock``: for ``run.livelock_window`` of simulated time no page
  was cached, freed by a pager or an exit, laundered, written, faulted
  in or unmapped, and no slab or zone refill completed, while some
  process with work left is not in a voluntary sleep.  Threads still
  wake on timeouts (vm_wait's 1 s) but make no progress.  The window
  must exceed every timeout in the model (1 s), and the default is 30 s.
* ``ok``: every process finished its phases and the pagers are idle, or
  the run reached its step or time limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .kern_slaballoc import assembling_pages
from .snapshot import VerdictView
from .state import RUN, ZOMB, Kernel, Thread
from .vm_page_queues import DIRTY
from .vm_page import nice_offset

if TYPE_CHECKING:
    from .simulator import Simulator

VOLUNTARY = ("nanslp", "", "wait")


def voluntary_sleep(t: Thread) -> bool:
    return t.state != RUN and t.wchan == "" and t.wmesg in VOLUNTARY


def has_work(t: Thread) -> bool:
    return t.kind == "proc" and not t.finished and t.state != ZOMB


def workload_complete(k: Kernel) -> bool:
    procs = [t for t in k.threads if t.kind == "proc"]
    return bool(procs) and all(t.finished for t in procs) and not k.io and k.vm_pages_needed == 0


def idle_daemon(k: Kernel, t: Thread) -> bool:
    if t.kind in ("kmalloc_poller", "intr"):
        return True
    if t.kind in ("pagedaemon", "emergpager"):
        return t.wmesg == "psleep" and k.vm_pages_needed == 0
    return False


def check_stuck(k: Kernel) -> str:
    if deadlocked(k):
        return "deadlock"
    if k.tick - k.progress_tick >= k.cfg.livelock_ticks and any(
        has_work(t) and not voluntary_sleep(t) for t in k.threads
    ):
        return "livelock"
    return ""


def deadlocked(k: Kernel) -> bool:
    """Nothing runs, nothing is in flight, and every thread with work sleeps without a timeout."""
    threads = k.threads
    return (
        not k.io
        and not k.sockbuf
        and not any(t.state == RUN for t in threads)
        and any(has_work(t) for t in threads)
        and all(t.finished or t.state == ZOMB or t.wake_tick < 0 or idle_daemon(k, t) for t in threads)
    )


# --- explanation -------------------------------------------------------------


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


def wait_chain(k: Kernel, t: Thread) -> list[str]:
    """Why ``t`` is where it is, innermost first."""
    names = [f.fn for f in t.frames]
    lines = []
    if t.state != RUN:
        doing = f"sleeps on {t.wchan or 'a timer'} (wmesg {t.wmesg or '-'}) in {innermost(k, t)}"
    elif t.timed_out:
        doing = f"woke from a timed sleep (vm_wait's 1 s) and retries in {innermost(k, t)}"
    else:
        doing = f"is runnable in {innermost(k, t)}"
    lines.append(f"{t.name} {doing}")
    for f in reversed(t.frames):
        if f.fn == "kmem_slab_alloc":
            what = f"a kmalloc_obj slab for {k.cfg.ktype_names[f.ktype]} (kmem_slab_alloc, M_WAITOK)"
            if f.held:
                lines.append(f"it holds {f.held} of 32 pages of {what} and waits for page {f.held + 1}: hold-and-wait")
            else:
                lines.append(f"it needs the first of 32 pages of {what} and holds none yet")
            lines.append(page_class_need(k, t, "kmem_slab_alloc"))
            break
        if f.fn == "kmem_alloc3":
            lines.append(f"it holds {f.held} of {f.npages} pages of a MAP ENTRY zone refill (kmem_alloc3 -> vm_page_grab blocks)")
            lines.append(page_class_need(k, t, "vm_page_grab"))
            break
        if f.fn == "swp_pager_meta_build" and k.swapmeta_kind == "zalloc":
            z = k.zones["SWAPMETA"]
            lines.append(
                f"zalloc(SWAPMETA) returned NULL: no page for the refill (its first 4 pages need free > 0; free is {k.free})"
                f" and the zfreemin stock is {z.zfreecnt}"
            )
            break
        if f.fn == "vm_pageout_flush" and t.wmesg == "wswbuf2":
            lines.append(f"all {4} async swap-write pbufs (nsw_wcount_async) are in flight")
            break
        if f.fn == "zalloc" and t.wmesg == "zgetlk":
            holder = k.zones["MAP ENTRY"].zgetlk
            lines.append(f"{k.threads[holder].name} holds zgetlk while it refills the MAP ENTRY zone")
            break
        if f.fn == "user":
            lines.extend(user_reason(k, t))
            break
    if t.kind == "proc" and "vm_map_entry_reserve" in names:
        lines.append(f"it needs map entries first: gd_vme_avail on cpu{t.cpu} is {k.gd_vme_avail[t.cpu]}")
    return lines


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


def innermost(k: Kernel, t: Thread) -> str:
    from .views import callpath  # views imports this module

    path = callpath(t, k)
    return path[-1] if path else "-"


def stuck_pagers(k: Kernel) -> list[Thread]:
    """Pagers caught inside a pass (a timeout may just have made them runnable again)."""
    return [t for t in k.threads if t.kind in ("pagedaemon", "emergpager") and len(t.frames) > 1]


def clean_inactive(k: Kernel) -> int:
    return sum(count for _, count, flags in k.queues["inactive"].runs.values() if not flags & DIRTY)


def explain(sim: Simulator, k: Kernel) -> VerdictView:
    kind = k.verdict
    th = k.th
    chain: list[str] = []
    threads: list[str] = []
    resources: list[str] = ["free+cache"]
    if kind == "recursion":
        t = next(t for t in k.threads if sum(f.fn == "vm_map_entry_reserve" for f in t.frames) >= 3)  # noqa: E501
        path = " -> ".join(f.fn for f in t.frames)
        headline = f"recursion: {t.name}: vm_map_entry_reserve -> kmalloc_obj(MAP ENTRY) -> kmem_slab_alloc -> vm_map_entry_reserve ..."
        chain = [
            f"{t.name}: {path}",
            f"<- vm_map_entry_reserve found gd_vme_avail {k.gd_vme_avail[t.cpu]} < 4 and asked kmalloc_obj(MAP ENTRY) for an entry",
            "<- kmalloc_obj had no slab with a free object, so it called kmem_slab_alloc",
            "<- kmem_slab_alloc calls vm_map_entry_reserve(MAP_RESERVE_COUNT) before it maps the slab, and nothing was credited yet",
            "<- each level sees the same state: the nesting never ends (stack overflow); zalloc avoids it with kmem_alloc3(KM_KRESERVE)",
        ]
        return VerdictView(kind, k.step, k.tick, headline, tuple(chain), (t.name,), ("gd_vme_avail", "MAP ENTRY"))
    if kind == "ok":
        if workload_complete(k):
            headline = "ok: every process finished its workload"
        else:
            headline = f"ok: ran to the limit ({k.step} steps, {k.tick / k.hz:.1f} s)"
        if k.oom_kills:
            chain.append(f"the OOM killer killed {k.oom_kills} process(es) on the way")
        chain.append(f"free+cache {fc(k)}, swap {k.swap_total - k.swap_free}/{k.swap_total} pages used")
        return VerdictView(kind, k.step, k.tick, headline, tuple(chain), (), ())
    pagers = stuck_pagers(k)
    for t in pagers:
        chain.extend(("" if i == 0 else "<- ") + line for i, line in enumerate(wait_chain(k, t)))
        threads.append(t.name)
    if pagers:
        chain.append(
            f"<- free+cache {fc(k)} will not rise: only the pagedaemon and the emergency pager turn dirty pages into"
            f" free ones, and {' and '.join(t.name for t in pagers)} {'is' if len(pagers) == 1 else 'are'} waiting;"
            f" clean inactive pages left: {clean_inactive(k)}"
        )
        if any("kmem_slab_alloc" in (f.fn for f in t.frames) for t in pagers):
            resources.append("SWAPMETA")
    blocked = [t for t in k.threads if has_work(t) and not voluntary_sleep(t)]
    for t in blocked:
        lines = wait_chain(k, t)
        chain.append(lines[0] + (": " + "; ".join(lines[1:]) if len(lines) > 1 else ""))
        threads.append(t.name)
    if k.sockbuf_clusters:
        reader = k.cfg.intr_consumer
        who = f"; their reader {k.threads[reader].name} is blocked in the kernel and reads none" if reader >= 0 else ""
        chain.append(
            f"em0's packets hold {k.sockbuf_clusters} mbuf clusters in the socket buffer (at most"
            f" {k.cfg.intr_sockbuf}){who}; new zones need VM_ALLOC_SYSTEM pages, which stop at"
            f" v_interrupt_free_min {th.v_interrupt_free_min}"
        )
        resources.append("em0")
    if k.swap_pager_full:
        chain.append("swap is full (swap_pager_full): the OOM killer needs the primary pager's loop to run")
        resources.append("swap")
    busy = sum(obj.pip for obj in k.objects.values())
    if busy:
        chain.append(f"{busy} dirty pages are soft-busied in pageout clusters whose swblocks are not built; each pager holds a pbuf")
    held = sum(assembling_pages(t) for t in k.threads)
    if held:
        chain.append(f"{held} pages are held by unfinished slab/zone refills")
    window = k.cfg.livelock_ticks / k.hz
    if kind == "livelock":
        headline = (
            f"livelock: no progress for {window:.0f} s; threads wake only on timeouts"
            f" (vm_wait's 1 s) and block again; free+cache {fc(k)} (v_interrupt_free_min {th.v_interrupt_free_min})"
        )
    else:
        headline = f"deadlock: no thread can ever run again; free+cache {fc(k)}"
    return VerdictView(kind, k.step, k.tick, headline, tuple(chain), tuple(dict.fromkeys(threads)), tuple(resources))
