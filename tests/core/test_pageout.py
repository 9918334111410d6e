"""The pageout daemon and the emergency pager against sys/vm/vm_pageout.c at 577b958f5e."""

import pytest

from ztui.core.boot import boot
from ztui.core.frames import HANDLERS
from ztui.core.simulator import Simulator
from ztui.core.state import FlushFrame, IoReq, PageoutFrame
from ztui.core.swap_pager import swp_pager_async_iodone
from ztui.core.vm_page import CHAN_FREE_COUNT, CHAN_PAGES_NEEDED
from ztui.core.vm_page_queues import ACT_MAX, BUSY, DIRTY, HEAD, PMAP_REF, REFERENCED, WINATCFLS, act_count, with_act
from ztui.core.vm_pageout import (
    ACTIVE,
    CACHE,
    END,
    INACTIVE,
    PAGING_TARGET1,
    PASS,
    TOP,
    WOKE,
    max_launder,
)
from ztui.core.vmstats import compute_thresholds
from ztui.scenario.bundled import resolve_scenario
from ztui.scenario.load import load_scenario

from .helpers import put_pages, queue_pages, small_scenario, two_gib_kernel


def pager(pc: int, **fields):
    """An 8 MiB machine whose pagedaemon is about to run ``pc`` of a pass, with free below v_free_min."""
    k = boot(small_scenario(swapmeta="zalloc", procs=(("hog", (("alloc", 6), ("exit", 0))),)), 0)
    obj = k.objects[k.threads[-1].anon]
    pd = k.threads[0]
    frame = PageoutFrame(**{"pc": pc, "state": PAGING_TARGET1, "avail_shortage": 1000, "maxscan": 10_000, "launder": 10_000, **fields})
    pd.frames = [frame]
    k.cur = pd.tid
    k.slice_left = 1 << 20
    return k, obj, pd, frame


def low_memory(k):
    """Wire what is free down to v_free_min, so a pass has a shortage and stays short."""
    extra = k.free - k.th.v_free_min
    k.free -= extra
    k.wired += extra
    k.kernel_wired += extra


def run(k, t, f):
    return HANDLERS[type(f)](k, t, f)


# --- vm_pageout_page: the second chance, laundering, and leaving pages in place ----


@pytest.mark.parametrize("npass,laundered", [(0, False), (9, False), (10, True)])
def test_the_second_chance_lasts_while_pass_over_maxscan_divider_is_zero(npass, laundered):
    """vm_pageout_page (1148-1170) gets ``pass / MAXSCAN_DIVIDER`` (2533): 10 raw passes of second chance."""
    k, obj, pd, f = pager(INACTIVE, npass=npass)
    put_pages(k, "inactive", obj.oid, 0, 8, DIRTY)
    low_memory(k)
    run(k, pd, f)
    if laundered:
        assert isinstance(pd.frames[-1], FlushFrame)
    else:
        assert len(pd.frames) == 1
        assert queue_pages(k, "inactive")[-1] == (obj.oid, 7, DIRTY | WINATCFLS), "requeued at the tail"


@pytest.mark.parametrize(
    "pages,p10,expect",
    [
        # vm_max_launder = physmem/256 + 16; per sub-queue: /1024, doubled after 10 passes,
        # ceil(/10), at least 1, and vm_max_launder/16 + 1 once it reaches vm_max_launder/16.
        (2048, 0, 2),  # 8 MiB: 24 -> 0 -> 0 -> 1, and 1 >= 24/16 = 1 -> 2
        (524288, 0, 1),  # 2 GiB: 2064 -> 2 -> ceil(0.2) = 1
        (524288, 1, 1),  # doubled: 4 -> ceil(0.4) = 1
        (16777216, 0, 7),  # 64 GiB: 65552 -> 64 -> ceil(6.4) = 7
        (16777216, 1, 13),  # 128 -> ceil(12.8) = 13
    ],
)
def test_max_launder_per_sub_queue(pages, p10, expect):
    """vm_pageout_scan_inactive's launder limit (829-837)."""
    k = boot(small_scenario(), 0)
    k.th = compute_thresholds(pages)
    assert max_launder(k, p10) == expect


def test_a_cluster_spends_at_most_one_sub_queues_budget():
    """A sub-queue launders until its max_launder pages are spent: a 36-page cluster ends it (1336-1340)."""
    k, obj, pd, f = pager(INACTIVE, npass=10)
    put_pages(k, "inactive", obj.oid, 64, 36, DIRTY | WINATCFLS)
    low_memory(k)
    credits = f.launder
    run(k, pd, f)
    while len(pd.frames) > 1:
        run(k, pd, pd.frames[-1])
    run(k, pd, f)  # back in the scan: vm_pageout_flush's count is accounted
    assert f.launder == credits - max_launder(k, 1)


def test_the_cluster_is_the_dirty_pages_around_the_page_in_its_aligned_block():
    """vm_pageout_clean_helper (313-459): a 64-page aligned block, backwards then forwards, dirty inactive
    or active pages only; a clean page ends it; pages are soft-busied where they lie."""
    k, obj, pd, f = pager(INACTIVE, npass=10)
    oid = obj.oid
    put_pages(k, "inactive", oid, 70, 20, DIRTY | WINATCFLS)  # the page met first: 70
    put_pages(k, "active", oid, 64, 6, with_act(DIRTY, 7))  # dirty active neighbours join
    put_pages(k, "inactive", oid, 60, 4, DIRTY)  # outside the aligned block [64, 128)
    put_pages(k, "inactive", oid, 90, 1, 0)  # a clean page ends the forward scan
    put_pages(k, "inactive", oid, 91, 10, DIRTY)
    low_memory(k)
    order_before = [(o, p) for o, p, _ in queue_pages(k, "inactive")]
    run(k, pd, f)
    flush = pd.frames[-1]
    assert (flush.start, flush.count) == (64, 26)
    assert obj.pip == 26
    assert [(o, p) for o, p, _ in queue_pages(k, "inactive")] == order_before, "nothing moved"
    busy = {p for o, p, fl in queue_pages(k, "inactive") + queue_pages(k, "active") if fl & BUSY}
    assert busy == set(range(64, 90))


def test_a_finished_write_leaves_the_pages_clean_where_they_were():
    """swp_pager_async_iodone (swap_pager.c:2057-2077): clean, in place; the next scan, from the head, caches them first."""
    k, obj, pd, f = pager(INACTIVE, npass=10)
    put_pages(k, "inactive", obj.oid, 0, 16, DIRTY | WINATCFLS)
    put_pages(k, "inactive", obj.oid, 100, 16, 0)  # clean pages queued after them
    low_memory(k)
    run(k, pd, f)
    flush = pd.frames[-1]
    while len(pd.frames) > 1:
        run(k, pd, pd.frames[-1])
    assert len(k.io) == 1 and k.io[0].count == 16
    swp_pager_async_iodone(k, k.io.pop())
    pages = queue_pages(k, "inactive")
    assert pages[0] == (obj.oid, 0, WINATCFLS), "clean, still at the head"
    assert obj.pip == 0 and flush.paged == 16
    f.pc, f.imarker, f.avail_shortage = INACTIVE, HEAD, 1000
    run(k, pd, f)
    assert queue_pages(k, "cache")[0][:2] == (obj.oid, 0), "the next scan caches them first"


def test_under_severe_an_active_page_of_the_cluster_is_deactivated_at_iodone():
    """swp_pager_async_iodone: vm_page_deactivate if vm_paging_severe(); a no-op for an inactive page."""
    k, obj, pd, f = pager(INACTIVE)
    put_pages(k, "active", obj.oid, 0, 4, with_act(DIRTY | BUSY | WINATCFLS, 5))
    put_pages(k, "inactive", obj.oid, 4, 4, DIRTY | BUSY | WINATCFLS)
    obj.pip = 8
    k.free = k.th.v_free_reserved - 1  # severe
    k.pbufs_free -= 1
    swp_pager_async_iodone(k, IoReq(0, obj.oid, 0, 8))
    assert queue_pages(k, "active") == []
    assert [p for _, p, _ in queue_pages(k, "inactive")] == [4, 5, 6, 7, 0, 1, 2, 3], "to the inactive tail"


def test_dirty_pages_past_the_launder_budget_and_busy_pages_stay_in_place():
    """vm_pageout_page's last case (1380-1385) and a failed busy_try (907-912): vm_page_wakeup only."""
    k, obj, pd, f = pager(INACTIVE, npass=10, launder=0)
    put_pages(k, "inactive", obj.oid, 0, 8, DIRTY | WINATCFLS)
    put_pages(k, "inactive", obj.oid, 8, 8, DIRTY | WINATCFLS | BUSY)
    obj.pip = 8
    low_memory(k)
    before = queue_pages(k, "inactive")
    scanned = f.maxscan
    run(k, pd, f)
    run(k, pd, f)
    assert queue_pages(k, "inactive") == before
    assert f.imarker == (f.imarker[0], obj.oid, 16) and scanned - f.maxscan == 16


def test_a_referenced_inactive_page_is_reactivated_with_act_count():
    """vm_pageout_page (1071-1110): pmap-referenced -> vm_page_activate, act_count += actcount + ACT_ADVANCE."""
    k, obj, pd, f = pager(INACTIVE)
    put_pages(k, "inactive", obj.oid, 0, 2, DIRTY | PMAP_REF)
    put_pages(k, "inactive", obj.oid, 2, 2, DIRTY | REFERENCED)
    low_memory(k)
    run(k, pd, f)
    run(k, pd, f)
    acts = [act_count(fl) for _, _, fl in queue_pages(k, "active")]
    assert acts == [5 + 1 + 3, 5 + 1 + 3, 5 + 0 + 3 + 1, 5 + 0 + 3 + 1]


def test_the_inactive_scan_stops_at_v_paging_target2_with_full_completion():
    """vm_pageout_scan_inactive (1008-1017): !vm_paging_target2() ends the scan, delta = avail_shortage."""
    k, obj, pd, f = pager(INACTIVE)
    put_pages(k, "inactive", obj.oid, 0, 50, 0)
    k.free = k.th.v_paging_target2 - 10
    run(k, pd, f)
    assert f.avail_shortage == 0 and k.free + k.cache == k.th.v_paging_target2


# --- vm_pageout_scan_active: act_count aging ---------------------------------------


@pytest.mark.parametrize("npass,act,deactivated", [(0, 1, False), (0, 0, True), (30, 4, False), (30, 3, True)])
def test_an_active_page_is_deactivated_once_act_count_falls_below_pass_over_10_plus_1(npass, act, deactivated):
    """vm_pageout_scan_active (1572-1590): act_count -= ACT_DECLINE, deactivate if act_count < pass + 1."""
    k, obj, pd, f = pager(ACTIVE, npass=npass, inactive_shortage=100, maxscan=4)
    put_pages(k, "active", obj.oid, 0, 4, with_act(DIRTY, act + 1))
    low_memory(k)
    f.avail_shortage = 0  # deactivate, do not cache
    run(k, pd, f)
    if deactivated:
        assert [p for _, p, _ in queue_pages(k, "inactive")] == [0, 1, 2, 3]
    else:
        assert [act_count(fl) for _, _, fl in queue_pages(k, "active")] == [act] * 4


def test_a_referenced_active_page_gains_act_count_and_keeps_its_place():
    """vm_pageout_scan_active (1540-1568): actcount = PG_REFERENCED + pmap; act += ACT_ADVANCE + actcount, at most ACT_MAX."""
    k, obj, pd, f = pager(ACTIVE, inactive_shortage=100, maxscan=4)
    put_pages(k, "active", obj.oid, 0, 2, with_act(REFERENCED | PMAP_REF, 5))
    put_pages(k, "active", obj.oid, 2, 2, with_act(PMAP_REF, 63))
    low_memory(k)
    run(k, pd, f)
    pages = queue_pages(k, "active")
    assert [(p, act_count(fl), fl & (REFERENCED | PMAP_REF)) for _, p, fl in pages] == [
        (0, 10, 0), (1, 10, 0), (2, ACT_MAX, 0), (3, ACT_MAX, 0)
    ]


def test_a_pass_looks_at_no_page_twice():
    """scan_budget: ceil(n/10) + 1 per sub-queue, at most the sub-queue's pages (881, 1442)."""
    from ztui.core.vm_pageout import scan_budget

    assert scan_budget(500) == 500, "under one page per sub-queue: every page once"
    assert scan_budget(2048) == 2048, "two per sub-queue: ceil(2/10) + 1 = 2"
    assert scan_budget(3072) == 2048, "three per sub-queue: two of them"
    assert scan_budget(102400) == 1024 * 11, "100 per sub-queue: 10 + 1"


def test_the_active_scans_marker_persists_across_passes_and_wraps():
    """markers[q].pact (1442-1660): a pass looks at lcnt/10 + 1 pages from where the last stopped."""
    k, obj, pd, f = pager(ACTIVE, inactive_shortage=100, maxscan=3)
    put_pages(k, "active", obj.oid, 0, 5, with_act(0, 50))
    low_memory(k)
    f.avail_shortage = 0
    run(k, pd, f)
    assert f.amarker[2] == 3
    f.maxscan = 3
    run(k, pd, f)
    assert f.amarker[2] == 1, "two to the end, then the head again"
    assert [act_count(fl) for _, _, fl in queue_pages(k, "active")] == [48, 49, 49, 49, 49]


# --- the OOM kill -------------------------------------------------------------------


@pytest.mark.parametrize("npass,killed", [(19, False), (20, True)])
def test_the_oom_kill_needs_twenty_short_passes(npass, killed):
    """vm_pageout_scan_cache (1813-1838): swap_pager_full && pass > 1 with pass = raw / MAXSCAN_DIVIDER."""
    k, obj, pd, f = pager(END, npass=npass)
    put_pages(k, "active", obj.oid, 0, 50, DIRTY)
    low_memory(k)
    k.swap_pager_full = 2
    run(k, pd, f)
    assert k.oom_kills == int(killed)
    assert k.threads[-1].lowmemkill is killed


def test_a_dying_victim_is_picked_again_and_not_counted_twice():
    """vm_pageout_scan_callback (1843-1895) does not skip P_LOWMEMKILL."""
    k, obj, pd, f = pager(END, npass=20)
    put_pages(k, "active", obj.oid, 0, 50, DIRTY)
    low_memory(k)
    k.swap_pager_full = 2
    run(k, pd, f)
    f.pc, f.avail_shortage = END, 1000
    k.tick += k.hz
    run(k, pd, f)
    assert k.oom_kills == 1 and k.last_kill_tick == k.tick


# --- the main loop: both pagers, the emergency pager's trigger ----------------------


@pytest.mark.parametrize("tick,runs", [(299, False), (300, True)])
def test_the_emergency_pager_runs_after_two_whole_seconds_of_time_uptime(tick, runs):
    """(int)(time_uptime - vm_pagedaemon_uptime) < 2 (2417): whole seconds, so 1 to 2 s of stall."""
    k = boot(small_scenario(), 0)
    ep = k.threads[1]
    f = ep.frames[0]
    f.pc = WOKE
    k.vm_pages_needed = 1
    k.vm_pagedaemon_uptime = 1  # refreshed at time_uptime 1 (tick 100..199)
    k.tick = tick
    run(k, ep, f)
    assert (f.pc != TOP) is runs


def test_the_emergency_pager_also_runs_the_end_of_pass_update():
    """Both threads run vm_pageout_thread's end of pass (2693-2760): idle at target2, waking waiters."""
    k = boot(small_scenario(), 0)
    ep = k.threads[1]
    f = ep.frames[0]
    f.pc, f.avail_shortage = END, 0
    k.vm_pages_needed = 2
    user = k.threads[-1]
    user.state, user.wchan, user.wmesg, user.wake_tick = "S", CHAN_FREE_COUNT, "vmwait", k.tick + 100
    run(k, ep, f)
    assert k.vm_pages_needed == 0 and user.state == "R"


def test_a_short_pass_with_swap_full_sleeps_in_pdelay_on_vm_pages_needed():
    """2711-2717: tsleep(&vm_pages_needed, hz/5, "pdelay"), so pagedaemon_wakeup can end it early."""
    k, obj, pd, f = pager(END)
    low_memory(k)
    k.swap_pager_full, k.vm_pages_needed = 2, 1
    run(k, pd, f)
    assert (pd.wchan, pd.wmesg, pd.wake_tick - k.tick) == (CHAN_PAGES_NEEDED, "pdelay", k.hz // 5)
    assert f.npass == 1


def test_the_cache_scan_frees_cache_pages_up_to_v_free_target():
    """vm_pageout_scan_cache (1690-1760): while free < v_free_target and cache > VM_CACHE_SCAN_MIN."""
    k, obj, pd, f = pager(CACHE)
    put_pages(k, "cache", obj.oid, 0, 200, 0)
    low_memory(k)
    target = k.th.v_free_target
    while f.pc == CACHE:
        run(k, pd, f)
    assert k.free == min(target, k.free) and (k.free == target or k.cache == 16)


def test_the_emergency_pager_takes_over_from_a_wedged_primary():
    """vm_pageout.c:2399-2420: the 8 MiB teaching wedge stalls the primary in kmem_slab_alloc; the emergency pager runs."""
    sim = Simulator.from_scenario(load_scenario(resolve_scenario("teach-swapmeta-kmalloc-obj")), log=False)
    emergpager = sim.k.threads[1]
    while sim.step() and len(emergpager.frames) == 1:
        pass
    assert len(emergpager.frames) > 1, "the emergency pager never ran a pass"
    assert sim.tick // sim.hz - sim.k.vm_pagedaemon_uptime >= 2


@pytest.mark.parametrize("free_cache,woken", [(5369, False), (5370, True), (8054, True)])
def test_a_pass_ending_between_paging_wait_and_paging_start_wakes_the_vm_waiters(free_cache, woken):
    """End of pass (2727-2735): still short of v_paging_start, so TARGET1 again, but !vm_paging_wait() wakes
    the vm_wait sleepers at once (2 GiB: v_paging_wait 5370, v_paging_start 8055)."""
    k = two_gib_kernel(1349, free_cache - 1349)
    pd = k.threads[0]
    f = pd.frames[0]
    f.pc, f.avail_shortage = END, 0
    user = k.threads[-1]
    user.state, user.wchan, user.wmesg, user.wake_tick = "S", CHAN_FREE_COUNT, "vmwait", k.tick + 100
    run(k, pd, f)
    assert (f.state, k.vm_pages_needed) == (PAGING_TARGET1, 2)
    assert (user.state == "R" and not user.timed_out) is woken


def test_the_cache_scan_keeps_vm_cache_scan_min_pages():
    """vm_pageout_scan_cache (1690-1760): it stops with VM_CACHE_SCAN_MIN (16) pages still cached."""
    k, obj, pd, f = pager(CACHE)
    put_pages(k, "cache", obj.oid, 0, 40, 0)
    low_memory(k)
    while f.pc == CACHE:
        run(k, pd, f)
    assert k.cache == 16 and k.free < k.th.v_free_target


def test_caching_clean_pages_wakes_a_vm_wait_sleeper_before_its_timeout():
    """vm_page_cache() runs vm_page_free_wakeup: once free+cache passes v_free_min + 16 the sleeper wakes, mid-scan."""
    k, obj, pd, f = pager(INACTIVE)
    put_pages(k, "inactive", obj.oid, 0, 40, 0)
    low_memory(k)
    user = k.threads[-1]
    user.state, user.wchan, user.wmesg, user.wake_tick = "S", CHAN_FREE_COUNT, "vmwait", k.tick + 100
    k.vm_pages_waiting = 1
    while f.pc == INACTIVE and user.state == "S":
        run(k, pd, f)
    assert user.state == "R" and not user.timed_out and f.pc == INACTIVE
    assert k.free + k.cache == k.th.v_free_min + 16


def test_an_oom_kill_ends_its_victims_sleep_in_user_mode():
    """killproc's SIGKILL interrupts a nanosleep: the victim runs, to exit."""
    k, obj, pd, f = pager(END, npass=20)
    put_pages(k, "active", obj.oid, 0, 50, DIRTY)
    low_memory(k)
    k.swap_pager_full = 2
    victim = k.threads[-1]
    victim.state, victim.wchan, victim.wmesg, victim.wake_tick = "S", "", "nanslp", k.tick + 1000
    run(k, pd, f)
    assert victim.lowmemkill and victim.state == "R"


def test_a_pass_adds_the_allocations_that_failed_to_its_shortage():
    """vm_pageout_scan (2492-2500): avail_shortage = target1 shortfall + vm_pageout_deficit, which is then reset."""
    k, obj, pd, f = pager(PASS, state=PAGING_TARGET1)
    low_memory(k)
    k.vm_pageout_deficit = 5
    run(k, pd, f)
    assert f.avail_shortage == k.th.v_paging_target1 - (k.free + k.cache) + 5 and k.vm_pageout_deficit == 0
