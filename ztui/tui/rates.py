"""Rates over the last simulated second, as `systat -vm` shows them, from the step history.  No Textual.

Faults count the pages the processes' phases handled; swap-outs the growth
of swap in use; slabs the kmalloc_obj slabs assembled (32 pages each); free
and cache are net changes.  The kernel model keeps no cumulative counters
of pages freed, cached or laundered, so those flows show as net changes.
"""

from __future__ import annotations

from bisect import bisect_right

import attrs

from ztui.core.history import HistoryView
from ztui.tui.panes.plot import sample_at

WINDOW_US = 1_000_000
SLAB_PAGES = 32


@attrs.frozen
class Rates:
    seconds: float  # the window they are measured over (shorter at the start of a run)
    faults: float  # pages per second
    free: float  # net change per second
    cache: float
    swapout: float  # pages written to swap per second (growth of swap in use)
    slabs: float  # slabs assembled per second


def rates_at(view: HistoryView | None, step: int, window_us: int = WINDOW_US) -> Rates | None:
    """Rates over the ``window_us`` of simulated time before ``step``; None before any time has passed."""
    if view is None or not len(view):
        return None
    now = sample_at(view, step)
    if now is None:
        return None
    i = bisect_right(view, now.time_us - window_us, key=_time_of)
    earlier = view[i - 1] if i else view[0]
    seconds = (now.time_us - earlier.time_us) / 1e6
    if seconds <= 0:
        return None
    per_s = lambda a, b: (a - b) / seconds  # noqa: E731
    return Rates(
        seconds=seconds,
        faults=per_s(now.faulted, earlier.faulted),
        free=per_s(now.free, earlier.free),
        cache=per_s(now.cache, earlier.cache),
        swapout=max(per_s(now.swap_used, earlier.swap_used), 0.0),
        slabs=max(per_s(now.slab_pages, earlier.slab_pages), 0.0) / SLAB_PAGES,
    )


def _time_of(sample) -> int:
    return sample.time_us
