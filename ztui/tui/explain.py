"""The wait-for chain at one step, in kernel terms, from a Snapshot alone (no Textual)."""

from __future__ import annotations

from ztui.core.snapshot import Snapshot, ThreadView
from ztui.tui.panes.draw import seconds

# free+cache levels that change what the kernel does, lowest first (reference §1, §3.3).
LEVELS = (
    ("v_interrupt_free_min", "vm_page_alloc(NORMAL|SYSTEM) fails at or below this"),
    ("v_pageout_free_min", "the pagedaemon's vm_wait is woken early only above this"),
    ("v_free_severe", "vm_fault waits in vm_wait_pfault below this (vm_paging_severe), whatever its nice"),
    ("v_free_min", "nice-0 user faults wait in vm_wait_pfault below this"),
    ("v_paging_wait", "the pagedaemon wakes waiters only at or above this"),
    ("v_paging_start", "pagedaemon_wakeup() below this"),
    ("v_paging_target1", "pagedaemon goal, state TARGET1"),
    ("v_paging_target2", "pagedaemon goal, state TARGET2"),
)


def explain(snapshot: Snapshot) -> list[str]:
    """Lines saying who waits for what at this step: memory, allocators, then each blocked thread."""
    lines = [f"Step {snapshot.step}, t={seconds(snapshot.tick, snapshot.hz)}."]
    free_cache = snapshot.queues.get("free", 0) + snapshot.queues.get("cache", 0)
    lines.append(f"free+cache is {free_cache} pages (free {snapshot.queues.get('free', 0)}).")
    for name, meaning in LEVELS:
        level = snapshot.vmstats.get(name)
        if level is not None and free_cache < level:
            lines.append(f"  below {name} {level}: {meaning}.")
            break
    lines.append(f"pagedaemon state {snapshot.pagedaemon.get('state', '?')}, "
                 f"deficit {snapshot.pagedaemon.get('vm_pageout_deficit', 0)}.")
    lines += _allocator_lines(snapshot)
    verdict_threads = snapshot.verdict.threads if snapshot.verdict else ()
    blocked = sorted(
        (t for t in snapshot.threads if not t.runnable),
        key=lambda t: (t.name not in verdict_threads, verdict_threads.index(t.name) if t.name in verdict_threads else 0, t.tid),
    )
    if blocked:
        lines.append("")
        lines.append("Blocked threads (those in the verdict's chain first):")
        for thread in blocked:
            lines += _thread_lines(thread, snapshot.hz)
    runnable = [t.name for t in snapshot.threads if t.runnable]
    nxt = next((t.name for t in snapshot.threads if t.is_next), None)
    lines.append("")
    if runnable:
        lines.append(f"Runnable: {', '.join(runnable)}." + (f" The scheduler runs {nxt} next." if nxt else ""))
    else:
        lines.append("Nothing is runnable: only the clock can wake a thread.")
    if snapshot.verdict is not None:
        lines.append("")
        lines.append(f"Verdict {snapshot.verdict.kind.upper()}: {snapshot.verdict.headline}")
        lines += [f"  {i}. {line}" for i, line in enumerate(snapshot.verdict.explanation, 1)]
        if snapshot.verdict.why:
            lines += ["", "How close:", snapshot.verdict.why]
    return lines


def _allocator_lines(snapshot: Snapshot) -> list[str]:
    lines = []
    swapmeta = snapshot.swapmeta
    if swapmeta.kind == "kmalloc_obj":
        active = next((s for s in swapmeta.slabs if s.where == "active"), None)
        free_objects = f"{active.nfree} free objects in the active slab" if active else "no active slab"
        lines.append(f"SWAPMETA on kmalloc_obj: {free_objects}, {swapmeta.blank_slabs} blank slabs in gd_kmslab.")
    else:
        state = swapmeta.state
        lines.append(f"SWAPMETA on zalloc: zfreecnt {state.get('zfreecnt', '?')}, zfreemin {state.get('zfreemin', '?')}.")
    for assembly in swapmeta.assembling + snapshot.mapentry.refill:
        lines.append(f"{assembly.thread} holds {assembly.pages_held} of the {assembly.pages_needed} pages "
                     f"{assembly.function} needs.")
    for cpu in snapshot.mapentry.cpus:
        lines.append(f"cpu{cpu.cpu}: gd_vme_avail {cpu.gd_vme_avail}, cushion {cpu.cushion}.")
    if snapshot.mapentry.recursion_depth:
        lines.append(f"MAP ENTRY recursion depth {snapshot.mapentry.recursion_depth}.")
    return lines


def _thread_lines(thread: ThreadView, hz: int) -> list[str]:
    where = thread.function + (f" ({thread.progress})" if thread.progress else "")
    waits = f"sleeps on {thread.wchan} ({thread.wmesg})" if thread.wchan else f"state {thread.state}"
    slept = f" for {seconds(thread.slept_ticks, hz)}" if thread.slept_ticks else ""
    lines = [f"  {thread.name} {waits}{slept} in {where}."]
    if thread.blocked_reason:
        lines.append(f"      why: {thread.blocked_reason}")
    if thread.callpath:
        lines.append(f"      path: {' › '.join(thread.callpath)}")
    return lines
