"""struct vmstats: the page-count thresholds and counters (sys/sys/vmmeter.h).

The thresholds are computed exactly as vm_pageout_free_page_calc() and
vm_pageout_thread() compute them in sys/vm/vm_pageout.c; the predicates are
the vm_paging_*() inlines of sys/vm/vm_page2.h.  Integer arithmetic
throughout, as in the kernel.
"""

from __future__ import annotations

import attrs

PAGE_SIZE = 4096
PQ_L2_SIZE = 1024

# The thresholds, in the order `sysctl vm` users know them.
THRESHOLD_NAMES = (
    "v_free_min",
    "v_free_reserved",
    "v_free_severe",
    "v_pageout_free_min",
    "v_interrupt_free_min",
    "v_free_target",
    "v_paging_wait",
    "v_paging_start",
    "v_paging_target1",
    "v_paging_target2",
    "v_inactive_target",
)


@attrs.frozen
class Thresholds:
    """The configuration half of struct vmstats, plus vm_max_launder."""

    v_page_count: int
    v_free_min: int
    v_free_reserved: int
    v_free_severe: int
    v_pageout_free_min: int
    v_interrupt_free_min: int
    v_free_target: int
    v_paging_wait: int
    v_paging_start: int
    v_paging_target1: int
    v_paging_target2: int
    v_inactive_target: int
    vm_max_launder: int

    def as_dict(self) -> dict[str, int]:
        return attrs.asdict(self)


def vm_pageout_free_page_calc(v_page_count: int) -> dict[str, int]:
    """vm_pageout_free_page_calc(): the five reserve levels below v_free_min."""
    v_free_min = 64 + v_page_count // 200
    return {
        "v_free_min": v_free_min,
        "v_free_reserved": v_free_min * 4 // 8 + 7,
        "v_free_severe": v_free_min * 4 // 8 + 0,
        "v_pageout_free_min": v_free_min * 2 // 8 + 7,
        "v_interrupt_free_min": v_free_min * 1 // 8 + 7,
    }


def compute_thresholds(
    v_page_count: int,
    free_at_init: int | None = None,
    physmem_pages: int | None = None,
    overrides: dict[str, int] | None = None,
) -> Thresholds:
    """vm_pageout_thread()'s start-up: thresholds from v_page_count.

    ``free_at_init`` is v_free_count when the pagedaemon starts (it sets
    v_inactive_target = v_free_count/16); it defaults to v_page_count.
    ``overrides`` are sysctl settings applied afterwards, as an rc.conf
    `sysctl vm.v_free_min=...` would; derived values are not recomputed,
    exactly as in the kernel, where each sysctl is an independent knob.
    """
    free = v_page_count if free_at_init is None else free_at_init
    physmem = v_page_count if physmem_pages is None else physmem_pages
    values = vm_pageout_free_page_calc(v_page_count)
    v_free_min = values["v_free_min"]
    values.update(
        v_free_target=v_free_min * 2,
        v_paging_wait=v_free_min * 2,
        v_paging_start=v_free_min * 3,
        v_paging_target1=v_free_min * 4,
        v_paging_target2=v_free_min * 5,
        v_inactive_target=free // 16,
        vm_max_launder=physmem // 256 + 16,
    )
    values.update(overrides or {})
    return Thresholds(v_page_count=v_page_count, **values)


def ordering_problems(t: Thresholds) -> list[str]:
    """Orderings the kernel's paging logic relies on, as readable complaints.

    The source comments and e91e64c7af's message give
    reserved < min < wait < start < target1 < target2; severe sits just
    below reserved and the two wakeup levels sit below reserved.
    """
    chain = (
        ("v_interrupt_free_min", "v_pageout_free_min"),
        ("v_pageout_free_min", "v_free_reserved"),
        ("v_free_severe", "v_free_min"),
        ("v_free_reserved", "v_free_min"),
        ("v_free_min", "v_paging_wait"),
        ("v_paging_wait", "v_paging_start"),
        ("v_paging_start", "v_paging_target1"),
        ("v_paging_target1", "v_paging_target2"),
    )
    problems = []
    for low, high in chain:
        lo, hi = getattr(t, low), getattr(t, high)
        if not lo < hi:
            problems.append(f"{low} ({lo}) must be below {high} ({hi})")
    if t.v_paging_target2 >= t.v_page_count:
        problems.append(
            f"v_paging_target2 ({t.v_paging_target2}) must be below v_page_count ({t.v_page_count})"
        )
    return problems


# --- the per-CPU copies (reference §2.3) -----------------------------------------
#
# Each CPU reads its own copy, gd->gd_vmstats, and records its changes in
# gd->gd_vmstats_adj; the global vmstats gets the deltas at each hardclock
# (kern_clock.c:833-835, vmstats_rollup_cpu in vm_meter.c:595-619) or when
# a CPU's free or cache delta falls below -1024 while paging is near
# (vm_page.c:1055-1066).  Every vm_paging_*() predicate and vm_page_alloc's
# test read the copy (vm_page2.h:79-297, vm_page.c:2587-2593).  A CPU sees
# its own allocations at once and the others' only at its next hardclock
# (the push at -1024 goes to the global, not to the other copies), so
# faults on N CPUs overshoot a threshold by what the other N - 1 take
# within a tick: four CPUs faulting flat out take free+cache from
# v_paging_start to 0 in one tick (swapmeta-kmalloc-obj-storm).  Only
# v_free_count and v_cache_count are kept per CPU here: they are what the
# predicates read.  With one CPU the copy is always the count itself.

PCPU_SYNC = 1024


def cpu_counts(k) -> tuple[int, int]:
    """(v_free_count, v_cache_count) as the running CPU sees them."""
    if k.ncpus == 1:
        return k.free, k.cache
    c = k.curcpu
    return k.gd_free[c], k.gd_cache[c]


def vmstats_free_add(k, n: int) -> None:
    """Add ``n`` (negative: remove) to v_free_count, on the running CPU."""
    k.free += n
    if k.ncpus > 1:
        c = k.curcpu
        k.gd_free[c] += n
        k.gd_adj_free[c] = _pushed(k, k.gd_adj_free[c] + n)
    if n < 0 and k.lowwater is not None:
        note_low_water(k)


def vmstats_cache_add(k, n: int) -> None:
    k.cache += n
    if k.ncpus > 1:
        c = k.curcpu
        k.gd_cache[c] += n
        k.gd_adj_cache[c] = _pushed(k, k.gd_adj_cache[c] + n)
    if n < 0 and k.lowwater is not None:
        note_low_water(k)


class free_counts_moved:  # named as a function: it is used as one, in `with`
    """For reading predicates only: the running CPU's v_free_count as if ``n`` pages had moved.

    Nothing else sees the move: no delta, no push, no low-water mark.  A
    class, not a @contextmanager generator: the batches' bisections enter
    it millions of times, and a generator costs 2.5 times as much (0.85 against 0.34 µs).
    """

    __slots__ = ("k", "n")

    def __init__(self, k, n: int) -> None:
        self.k, self.n = k, n

    def __enter__(self) -> None:
        k = self.k
        k.free += self.n
        if k.ncpus > 1:
            k.gd_free[k.curcpu] += self.n

    def __exit__(self, *exc) -> None:
        k = self.k
        k.free -= self.n
        if k.ncpus > 1:
            k.gd_free[k.curcpu] -= self.n


def note_low_water(k) -> None:
    """Observer: keep the lowest true free+cache of the run once it is below v_free_min."""
    pages = k.free + k.cache
    low = k.lowwater
    if pages < low[0] and pages < k.th.v_free_min:
        low[0], low[1], low[2] = pages, k.tick, k.step


def _pushed(k, adj: int) -> int:
    """The delta left on the CPU: pushed to the global (0) if very negative while paging is near."""
    if adj < -PCPU_SYNC and push_due(k, *cpu_counts(k)):
        return 0
    return adj


def push_due(k, f: int, c: int) -> bool:
    """Paging is near enough, at these counts, that a CPU's delta below -PCPU_SYNC goes to the global."""
    th = k.th
    adjust = -PCPU_SYNC * k.ncpus
    return th.v_paging_start > f + c + adjust or th.v_free_min > f + adjust or th.v_free_reserved > f


def global_counts(k) -> tuple[int, int]:
    """The global vmstats: the true counts less what the CPUs have not rolled up."""
    return k.free - sum(k.gd_adj_free), k.cache - sum(k.gd_adj_cache)


def vmstats_rollup_cpu(k, c: int) -> None:
    """vmstats_rollup_cpu() then the copy-back, as hardclock does on CPU c."""
    k.gd_adj_free[c] = 0
    k.gd_adj_cache[c] = 0
    k.gd_free[c], k.gd_cache[c] = global_counts(k)


def vmstats_rollup(k) -> None:
    """vmstats_rollup(): every CPU's deltas go to the global; the running CPU's copy is refreshed."""
    if k.ncpus == 1:
        return
    for c in range(k.ncpus):
        k.gd_adj_free[c] = 0
        k.gd_adj_cache[c] = 0
    k.gd_free[k.curcpu], k.gd_cache[k.curcpu] = k.free, k.cache


def hardclock_rollup(k) -> None:
    """Each CPU's hardclock of this tick, in CPU order."""
    if k.ncpus > 1:
        for c in range(k.ncpus):
            vmstats_rollup_cpu(k, c)
