"""Breakpoints: run or fast-forward until a condition starts to hold.  No Textual here.

A breakpoint is written as text (the palette takes it, a saved trace keeps it):

    free+cache < 100              free+cache falls below a number of pages...
    free+cache < v_free_min       ...or below a threshold, by its kernel name
    pagedaemon in kmem_slab_alloc a thread (or "any") enters a kernel function
    emergpager on vmwait          a thread (or "any") starts to sleep on a wmesg or wchan
    slab starts                   a kmalloc_obj slab starts to be assembled (any in kmem_slab_alloc)
    margin < 50                   a pager's allocation has fewer pages to spare (the hazard report's margin)

It fires on the step where its condition becomes true (an edge, like a
watchpoint): one that already holds when a run starts waits until it stops
holding and holds again.  Conditions read the kernel state after each
step, so a run with breakpoints takes exact steps (slower than a
fast-forward without any, which applies runs of like steps at once).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs

from ztui.core.hazard import open_margin
from ztui.core.state import Kernel
from ztui.core.views import free_cache, in_function, sleeps_on
from ztui.core.vmstats import THRESHOLD_NAMES

ANY = "any"
_FREE_CACHE = re.compile(r"free\+cache\s*<\s*(\w+)$")
_THREAD = re.compile(r"(\S+)\s+(in|on)\s+(\S+)$")
_MARGIN = re.compile(r"margin\s*<\s*(-?\d+)$")
SLAB_STARTS = "slab starts"
SLAB_FUNCTION = "kmem_slab_alloc"


class BreakpointError(ValueError):
    """Text that is not a breakpoint; the message says what is allowed."""


@attrs.frozen
class Breakpoint:
    text: str  # as the user wrote it, normalised
    condition: Callable[[Kernel], bool] = attrs.field(eq=False, repr=False)

    def holds(self, k: Kernel) -> bool:
        return self.condition(k)


def parse(text: str, thread_names: tuple[str, ...] = (), vmstats: dict | None = None) -> Breakpoint:
    """The breakpoint ``text`` describes; BreakpointError says what is wrong with it."""
    text = " ".join(text.split())
    if text == SLAB_STARTS:
        return Breakpoint(text, lambda k: in_function(k, None, SLAB_FUNCTION))
    match = _FREE_CACHE.match(text)
    if match:
        level = match.group(1)
        if level.isdigit():
            pages = int(level)
        elif level in THRESHOLD_NAMES and vmstats is not None:
            pages = int(vmstats[level])
        else:
            raise BreakpointError(f"{level!r} is not a page count or a threshold ({', '.join(THRESHOLD_NAMES)})")
        return Breakpoint(text, lambda k: free_cache(k) < pages)
    match = _MARGIN.match(text)
    if match:
        pages = int(match.group(1))
        return Breakpoint(text, lambda k: (margin := open_margin(k)) is not None and margin < pages)
    match = _THREAD.match(text)
    if match:
        name, how, what = match.groups()
        tid = None
        if name != ANY:
            if name not in thread_names:
                raise BreakpointError(f"no thread {name!r}; threads: {', '.join(thread_names)} (or {ANY})")
            tid = thread_names.index(name)
        test = in_function if how == "in" else sleeps_on
        return Breakpoint(text, lambda k: test(k, tid, what))
    raise BreakpointError(
        f"{text!r} is not a breakpoint; write one of: free+cache < PAGES or THRESHOLD, "
        f"THREAD in FUNCTION, THREAD on WMESG or WCHAN (THREAD may be {ANY}), {SLAB_STARTS}, margin < PAGES"
    )


class Watch:
    """Breakpoints armed for one run: step() after each step says which one fired, if any."""

    def __init__(self, breakpoints: tuple[Breakpoint, ...], k: Kernel) -> None:
        self.breakpoints = breakpoints
        self._held = [bp.holds(k) for bp in breakpoints]

    def fired(self, k: Kernel) -> Breakpoint | None:
        hit = None
        for i, bp in enumerate(self.breakpoints):
            now = bp.holds(k)
            if now and not self._held[i] and hit is None:
                hit = bp
            self._held[i] = now
        return hit
