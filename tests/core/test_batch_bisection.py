"""The batches find where a run ends by bisection (churn_pairs.plain_pairs, munmap_runs.plain_munmaps):
the same answer as walking the pairs or munmaps one by one at the counts each sees."""

from hypothesis import given, settings
from hypothesis import strategies as st

from ztui.core.churn_pairs import first_true, pagedaemon_kicks, plain_pairs
from ztui.core.munmap_runs import plain_munmaps
from ztui.core.vm_page import (
    VM_ALLOC_NORMAL,
    alloc_ok,
    free_count_wake_due,
    pageout_pages_wake_due,
    pageout_reserve_refill,
    vm_paging_severe,
)
from ztui.core.vmstats import PCPU_SYNC, free_counts_moved

from .helpers import two_gib_kernel


def walked_pairs(k, resident):
    """Pair by pair, as each pair's fault and munmap would test them."""
    adj = k.gd_adj_free[k.curcpu] if k.ncpus > 1 else 0
    low, new_low, kicks, gone = k.lowwater, None, 0, 0
    for j, frees_a_page in enumerate(resident):
        with free_counts_moved(k, -gone):
            if vm_paging_severe(k) or not alloc_ok(k, VM_ALLOC_NORMAL) or k.free <= 0:
                return j, kicks, new_low
            if frees_a_page and (pageout_reserve_refill(k) or pageout_pages_wake_due(k) or free_count_wake_due(k)):
                return j, kicks, new_low
        if k.ncpus > 1 and adj - gone - 1 < -PCPU_SYNC:
            return j, kicks, new_low
        with free_counts_moved(k, -gone - 1):
            kick, pages = pagedaemon_kicks(k), k.free + k.cache
        if kick < 0:
            return j, kicks, new_low
        kicks += kick
        if low is not None and pages < min((new_low or low)[0], k.th.v_free_min):
            new_low = [pages, k.tick, k.step + 1 + 2 * j]
        gone += not frees_a_page
    return len(resident), kicks, new_low


def walked_munmaps(k, resident):
    adj = k.gd_adj_free[k.curcpu] if k.ncpus > 1 else 0
    freed = 0
    for j, frees_a_page in enumerate(resident):
        if not frees_a_page:
            continue
        if adj + freed + 1 < -PCPU_SYNC:
            return j
        with free_counts_moved(k, freed + 1):
            if pageout_reserve_refill(k) or pageout_pages_wake_due(k) or free_count_wake_due(k):
                return j
        freed += 1
    return len(resident)


def machine(ncpus, free_at, adj, needed, waiting, pager_waiting, reserve_short, low):
    """A kernel whose free count sits ``free_at`` pages from v_free_min, with the waiters given."""
    k = two_gib_kernel(free=100_000, ncpus=ncpus, mitigations=("pageout-reserve",))
    k.free = k.th.v_free_min + free_at
    if ncpus > 1:
        k.curcpu = 0
        k.gd_free[0], k.gd_cache[0] = k.free, k.cache
        k.gd_adj_free[0] = adj
    k.vm_pages_needed, k.vm_pages_waiting, k.vm_pageout_pages_needed = needed, waiting, pager_waiting
    k.pageout_reserve = k.pageout_reserve_max - reserve_short
    k.lowwater = None if low is None else [k.th.v_free_min + low, 3, 40]
    k.step, k.tick = 500, 9
    return k


situations = st.tuples(
    st.sampled_from([1, 2]),
    st.integers(-1400, 1200),  # around v_free_reserved, v_free_min, v_paging_start and the wakeup levels
    st.integers(-PCPU_SYNC - 40, PCPU_SYNC),
    st.integers(0, 3),
    st.integers(0, 1),
    st.integers(0, 1),
    st.sampled_from([0, 0, 1]),
    st.one_of(st.none(), st.integers(-1400, 1200)),
)
pages = st.lists(st.booleans(), max_size=120)


@settings(max_examples=400, deadline=None)
@given(situations, pages)
def test_bisected_pairs_end_where_walking_them_ends(situation, resident):
    k = machine(*situation)
    assert plain_pairs(k, resident) == walked_pairs(k, resident)


@settings(max_examples=400, deadline=None)
@given(situations, pages)
def test_bisected_munmaps_end_where_walking_them_ends(situation, resident):
    k = machine(*situation)
    assert plain_munmaps(k, resident) == walked_munmaps(k, resident)


def test_first_true_finds_where_a_monotone_test_turns_true_trying_the_ends_first():
    for n in range(8):
        for turn in range(n + 1):
            calls = []

            def test(j, turn=turn, calls=calls):
                calls.append(j)
                return j >= turn

            assert first_true(n, test) == turn
            if n and turn in (0, n):
                assert len(calls) <= 2, "a run that never or always stops costs one or two tests"
