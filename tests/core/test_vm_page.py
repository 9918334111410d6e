"""vm_page_alloc's classes, the vm_paging_*() predicates, the wakeups and vm_wait (sys/vm/vm_page.c, vm_page2.h at 577b958f5e)."""

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ztui.core import vm_page as V
from ztui.core.copying import clone_kernel, encode
from ztui.core.kern_synch import tsleep
from ztui.core.state import SlabAllocFrame
from ztui.core.vm_page import (
    CHAN_FREE_COUNT,
    CHAN_PAGEOUT_PAGES_NEEDED,
    CHAN_PAGES_NEEDED,
    VM_ALLOC_INTERRUPT,
    VM_ALLOC_NORMAL,
    VM_ALLOC_QUICK,
    VM_ALLOC_SYSTEM,
    vm_page_alloc,
    vm_page_alloc_n,
    vm_page_free_toq,
    vm_wait,
)

from .helpers import two_gib_kernel

# 2 GiB: v_free_min 2685, reserved 1349, severe 1342, pageout_free_min 678,
# interrupt_free_min 342, paging_wait 5370, start 8055, target1 10740, target2 13425.


@pytest.mark.parametrize(
    "req,free,cache,ok",
    [
        (VM_ALLOC_QUICK, 1349, 0, True),
        (VM_ALLOC_QUICK, 1348, 5000, False),  # QUICK never uses the cache
        (VM_ALLOC_NORMAL, 1000, 349, True),  # drains cache until free >= reserved
        (VM_ALLOC_NORMAL, 1000, 348, False),
        (VM_ALLOC_NORMAL | VM_ALLOC_SYSTEM, 300, 43, True),  # free+cache > interrupt_free_min
        (VM_ALLOC_NORMAL | VM_ALLOC_SYSTEM, 300, 42, False),
        (VM_ALLOC_SYSTEM, 343, 0, True),
        (VM_ALLOC_SYSTEM, 343, 1, False),  # SYSTEM alone only dips while the cache is empty
        (VM_ALLOC_SYSTEM, 342, 0, False),
        (VM_ALLOC_SYSTEM | VM_ALLOC_INTERRUPT, 1, 0, True),
        (VM_ALLOC_SYSTEM | VM_ALLOC_INTERRUPT, 0, 100, False),
    ],
)
def test_vm_page_alloc_classes(req, free, cache, ok):
    """vm_page_alloc() (vm_page.c:2587-2664): the three-way test, then the cache reclaim for NORMAL."""
    k = two_gib_kernel(free, cache)
    before = k.vm_pageout_deficit
    assert vm_page_alloc(k, None, req) is ok
    assert k.vm_pageout_deficit == before + (0 if ok else 1)


def test_systhread_gets_system_added():
    """vm_page_alloc() (2578-2579): a TDF_SYSTHREAD caller's NORMAL request is NORMAL|SYSTEM."""
    k = two_gib_kernel(300, 43)
    pagedaemon = k.threads[0]
    assert pagedaemon.systhread
    assert vm_page_alloc(k, pagedaemon, VM_ALLOC_NORMAL)
    user = two_gib_kernel(300, 43)
    assert not vm_page_alloc(user, None, VM_ALLOC_NORMAL)


PREDICATES = [
    # predicate, args, (free, cache) just inside, just outside
    # severe 1342 > f+c can only hold with f < reserved 1349: severe is in effect "free below reserved"
    ("vm_paging_severe", (), (1348, 0), (1349, 0)),
    ("vm_paging_min_dnc", (16,), (1349, 1351), (1349, 1352)),  # 2685+16 > f+c
    ("vm_paging_wait", (), (1349, 4020), (1349, 4021)),
    ("vm_paging_start", (0,), (2685, 5369), (2685, 5370)),
    ("vm_paging_target1", (), (1349, 9390), (1349, 9391)),
    ("vm_paging_target2", (), (1349, 12075), (1349, 12076)),
]


@pytest.mark.parametrize("name,args,inside,outside", PREDICATES, ids=[p[0] for p in PREDICATES])
def test_each_paging_predicate_turns_at_its_threshold(name, args, inside, outside):
    """The vm_paging_*() inlines of vm_page2.h:79-297, on the free+cache side of each."""
    predicate = getattr(V, name)
    k = two_gib_kernel(0)
    for (free, cache), expect in ((inside, True), (outside, False)):
        k.free, k.cache = free, cache
        assert predicate(k, *args) is expect, (free, cache)


@pytest.mark.parametrize("name", ["vm_paging_severe", "vm_paging_min_dnc", "vm_paging_wait", "vm_paging_target1", "vm_paging_target2"])
def test_free_below_reserved_trips_every_predicate(name):
    """Each predicate is also true when v_free_count < v_free_reserved, whatever the cache holds."""
    k = two_gib_kernel(1348)
    k.cache = 10**6
    args = (0,) if name == "vm_paging_min_dnc" else ()
    assert getattr(V, name)(k, *args)
    k.free = 1349
    assert not getattr(V, name)(k, *args)


def test_paging_start_also_trips_below_v_free_min_free():
    """vm_paging_start() (vm_page2.h:206-217): v_free_min > free + adj, even with plenty of cache."""
    k = two_gib_kernel(2684)
    k.cache = 10**6
    assert V.vm_paging_start(k, 0)
    k.free = 2685
    assert not V.vm_paging_start(k, 0)
    assert V.vm_paging_start(k, -1)


def test_the_pagedaemons_wakeup_fires_at_v_pageout_free_min():
    """vm_page_free_wakeup() (vm_page.c:3099-3130): the pagers' channel at free+cache >= v_pageout_free_min."""
    k = two_gib_kernel(600)
    pagedaemon = k.threads[0]
    assert vm_wait(k, pagedaemon, 0)
    assert (pagedaemon.wchan, pagedaemon.wake_tick - k.tick) == (CHAN_PAGEOUT_PAGES_NEEDED, k.hz)
    vm_page_free_toq(k, 77)  # 677: still one short
    assert pagedaemon.state == "S" and k.vm_pageout_pages_needed
    vm_page_free_toq(k, 1)
    assert pagedaemon.state == "R" and not pagedaemon.timed_out and not k.vm_pageout_pages_needed


def test_a_users_vm_wait_is_woken_once_free_cache_passes_min_plus_hysteresis():
    """vm_page_free_wakeup(): vm_pages_waiting sleepers wake when !vm_paging_min_dnc(16) (free+cache >= 2701)."""
    k = two_gib_kernel(1349)
    user = k.threads[-1]
    assert vm_wait(k, user, 0)
    assert user.wchan == CHAN_FREE_COUNT and k.vm_pages_waiting == 1
    vm_page_free_toq(k, 2701 - 1349 - 1)
    assert user.state == "S"
    vm_page_free_toq(k, 1)
    assert user.state == "R" and not user.timed_out and k.vm_pages_waiting == 0


def test_vm_wait_returns_at_once_above_the_trip_point():
    """vm_wait() (2922-2979): a pager sleeps only while vm_paging_min(); a nice-0 user while min_nice(1)."""
    k = two_gib_kernel(1349)
    k.cache = 2685 - 1349  # free+cache = v_free_min: vm_paging_min() is false
    assert not vm_wait(k, k.threads[0], 0)
    k.cache = 3389 - 1349 - 1  # nice+1 trip point is 3389 at 2 GiB
    assert vm_wait(k, k.threads[-1], 0)


# --- vm_page_alloc_n: n allocations at once where each would only take a page -----------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ncpus=st.sampled_from([1, 2, 4]),
    free=st.integers(0, 14_000),  # across every 2 GiB threshold up to v_paging_target2 (13425)
    lag=st.integers(-1500, 1500),  # the running CPU's copy of free, off the true count
    cache=st.integers(0, 400),
    adj=st.integers(-1100, 0),  # its delta, either side of -PCPU_SYNC (1024) less a zone's 32 pages
    n=st.integers(1, 40),
    who=st.sampled_from(["none", "pagedaemon", "process"]),
    req=st.sampled_from([VM_ALLOC_SYSTEM, VM_ALLOC_SYSTEM | VM_ALLOC_NORMAL | VM_ALLOC_INTERRUPT, VM_ALLOC_NORMAL]),
    high_severe=st.booleans(),
)
# The copy says plenty while the true count runs out: vm_page_alloc rolls the counts up.
@example(ncpus=2, free=10, lag=1400, cache=0, adj=0, n=30, who="pagedaemon", req=VM_ALLOC_SYSTEM, high_severe=False)
# The 25th page takes the delta below -PCPU_SYNC with paging near: it is pushed to the global.
@example(ncpus=2, free=9000, lag=0, cache=0, adj=-1000, n=32, who="none", req=VM_ALLOC_SYSTEM, high_severe=False)
# v_free_severe raised above v_free_reserved: the pagedaemon's last pages count in the emergency pager's episode.
@example(ncpus=1, free=1960, lag=0, cache=0, adj=0, n=32, who="pagedaemon", req=VM_ALLOC_SYSTEM, high_severe=True)
# Plenty of cache, free below v_free_min: vm_paging_start() holds, each page wakes the pagedaemon.
@example(ncpus=1, free=2700, lag=0, cache=6000, adj=0, n=32, who="none", req=VM_ALLOC_SYSTEM, high_severe=False)
def test_vm_page_alloc_n_leaves_the_state_n_single_allocations_leave(
    ncpus, free, lag, cache, adj, n, who, req, high_severe
):
    k = two_gib_kernel(free, cache, ncpus=ncpus)
    if high_severe:  # the order rules allow v_free_severe anywhere below v_free_min (2685)
        k.th = attrs.evolve(k.th, v_free_severe=k.th.v_free_reserved + 600)
    if ncpus > 1:
        k.gd_free[k.curcpu], k.gd_cache[k.curcpu] = max(0, free + lag), cache
        k.gd_adj_free[k.curcpu] = adj
    pagedaemon, emergpager = k.threads[0], k.threads[1]
    emergpager.frames.append(SlabAllocFrame(t0=0))  # an open hazard episode counts pages others take below severe
    t = {"none": None, "pagedaemon": pagedaemon, "process": k.threads[-1]}[who]
    twin = clone_kernel(k)
    twin_t = None if t is None else twin.threads[t.tid]
    got = 0
    while got < n and vm_page_alloc(twin, twin_t, req):
        got += 1
    assert vm_page_alloc_n(k, t, req, n) == got
    assert encode(k) == encode(twin) and k.lowwater == twin.lowwater


def test_vm_page_alloc_n_far_from_the_thresholds_is_one_change():
    """The case the batch is for: nothing but the count moves (no wakeup, no deficit, no episode count)."""
    k = two_gib_kernel(20_000)
    assert V.plain_allocations(k, None, 32)
    assert vm_page_alloc_n(k, None, VM_ALLOC_SYSTEM, 32) == 32 and k.free == 20_000 - 32
    near = two_gib_kernel(8055 + 31)  # v_paging_start: the 32nd page would wake the pagedaemon
    assert not V.plain_allocations(near, None, 32) and V.plain_allocations(near, None, 31)
    # Paging near enough for a push, but the CPU's delta stays above -PCPU_SYNC: still one change.
    pushing = two_gib_kernel(9000, ncpus=2)
    pushing.gd_free[pushing.curcpu], pushing.gd_adj_free[pushing.curcpu] = 9000, -10
    assert V.push_due(pushing, 9000 - 32, 0) and V.plain_allocations(pushing, None, 32)


def test_a_users_vm_wait_wakes_the_sleeping_pagedaemon_before_its_timeout():
    """vm_wait() (2952-2962), the user path: vm_pages_needed 0 -> 1 and wakeup(&vm_pages_needed), ending psleep early."""
    k = two_gib_kernel(1349)
    pagedaemon, user = k.threads[0], k.threads[-1]
    tsleep(k, pagedaemon, CHAN_PAGES_NEEDED, "psleep", k.hz // 10)
    k.vm_pages_needed = 0
    assert vm_wait(k, user, 0)
    assert pagedaemon.state == "R" and not pagedaemon.timed_out
    assert (k.vm_pages_needed, k.vm_pages_waiting) == (1, 1)
    assert (user.wchan, user.wmesg, user.wake_tick - k.tick) == (CHAN_FREE_COUNT, "vmwait", k.hz)


def test_paging_severe_turns_at_v_free_severe_when_a_sysctl_sets_it_above_v_free_reserved():
    """By default severe (1342) sits below reserved (1349), so "free below reserved" decides; vm.v_free_severe may be set above it."""
    k = two_gib_kernel(0)
    k.th = attrs.evolve(k.th, v_free_severe=2000)
    k.free, k.cache = 1500, 499
    assert V.vm_paging_severe(k)
    k.cache = 500
    assert not V.vm_paging_severe(k)


@pytest.mark.parametrize(
    "nice,free_cache,waits",
    [
        # vm_paging_min_nice: d = (v_paging_wait - v_free_min - 1) >> 1 = (5370 - 2685 - 1) >> 1 = 1342,
        # and v_free_min rises by (nice + 20) * d / 40 for nice != 0
        (0, 2684, True), (0, 2685, False),
        (1, 2685 + 704 - 1, True), (1, 2685 + 704, False),  # 21 * 1342 // 40 = 704
        (20, 2685 + 1342 - 1, True), (20, 2685 + 1342, False),  # 40 * 1342 // 40
        (-20, 2684, True), (-20, 2685, False),  # offset 0
    ],
)
def test_the_nice_trip_point_of_vm_wait(nice, free_cache, waits):
    k = two_gib_kernel(1349, free_cache - 1349)
    assert V.vm_paging_min_nice(k, nice) is waits


def test_an_allocation_while_paging_is_wanted_wakes_the_pagedaemon_again():
    """pagedaemon_wakeup() (vm_page.c:2750-2770): vm_pages_needed 1 or less: set it to 1 and wakeup; above: count."""
    k = two_gib_kernel(5000)
    pagedaemon = k.threads[0]
    k.vm_pages_needed = 1
    tsleep(k, pagedaemon, CHAN_PAGES_NEEDED, "psleep", k.hz // 10)
    assert vm_page_alloc(k, None, VM_ALLOC_NORMAL)
    assert pagedaemon.state == "R" and not pagedaemon.timed_out and k.vm_pages_needed == 1


def test_a_fault_waits_about_110_ms():
    """vm_wait_pfault(): tsleep(&vmstats.v_free_count, 0, "pfault", hz / 10 + 1)."""
    k = two_gib_kernel(1000)
    user = k.threads[-1]
    V.vm_wait_pfault(k, user)
    assert (user.wchan, user.wmesg, user.wake_tick - k.tick) == (CHAN_FREE_COUNT, "pfault", 11)
