from ztui.core.boot import boot
from ztui.core.vm_page import nice_offset
from ztui.core.vmstats import compute_thresholds, ordering_problems

from .helpers import small_scenario


def test_two_gib_thresholds_match_the_reference():
    t = compute_thresholds(524288)
    assert (t.v_free_min, t.v_free_reserved, t.v_free_severe) == (2685, 1349, 1342)
    assert (t.v_pageout_free_min, t.v_interrupt_free_min) == (678, 342)
    assert t.v_free_target == t.v_paging_wait == 5370
    assert (t.v_paging_start, t.v_paging_target1, t.v_paging_target2) == (8055, 10740, 13425)
    assert t.vm_max_launder == 2064


def test_32gb_box_matches_the_pageout_refactor_commit_message():
    t = compute_thresholds(8071042)
    assert t.v_free_min == 40419
    assert t.v_free_reserved == 20216
    assert (t.v_paging_wait, t.v_paging_start, t.v_paging_target1, t.v_paging_target2) == (
        80838,
        121257,
        161676,
        202095,
    )


def test_inactive_target_uses_free_count_at_pagedaemon_start():
    assert compute_thresholds(524288, free_at_init=440000).v_inactive_target == 27500


def test_sysctl_override_is_applied_without_recomputing_the_rest():
    t = compute_thresholds(524288, overrides={"v_free_min": 3000})
    assert t.v_free_min == 3000 and t.v_free_reserved == 1349


def test_nice_trip_points_for_2_gib():
    k = boot(small_scenario(), 0)
    k.th = compute_thresholds(524288)
    trips = {n: k.th.v_free_min + nice_offset(k, n) for n in (0, 1, 10, 20, -1, -20)}
    assert trips == {0: 2685, 1: 3389, 10: 3691, 20: 4027, -1: 3322, -20: 2685}


def test_default_ordering_is_sane_and_a_broken_override_is_reported():
    assert ordering_problems(compute_thresholds(524288)) == []
    problems = ordering_problems(compute_thresholds(524288, overrides={"v_paging_start": 100}))
    assert any("v_paging_wait" in p and "v_paging_start" in p for p in problems)


# --- per-CPU copies (vm_page2.h:79-297, vm_page.c:1036-1066, kern_clock.c:833-835) ---

from ztui.core.vm_page import VM_ALLOC_NORMAL, VM_ALLOC_QUICK, vm_page_alloc, vm_paging_severe  # noqa: E402
from ztui.core.vmstats import global_counts, hardclock_rollup, vmstats_rollup  # noqa: E402


def two_cpus():
    k = boot(small_scenario(ncpus=2), 0)
    return k


def test_a_cpu_does_not_see_another_cpus_allocations_until_hardclock():
    k = two_cpus()
    k.curcpu = 0
    free = k.free
    for _ in range(100):
        assert vm_page_alloc(k, None, VM_ALLOC_NORMAL)
    assert k.gd_free == [free - 100, free], "cpu1's copy still has the pages"
    k.curcpu = 1
    assert not vm_paging_severe(k) or k.gd_free[1] < k.th.v_free_reserved
    hardclock_rollup(k)
    assert k.gd_free == [free - 100, free - 100] and global_counts(k)[0] == free - 100


def test_faults_on_two_cpus_overshoot_v_free_reserved():
    """Each CPU allocates against its own copy: together they take free below v_free_reserved, which one CPU
    alone (vm_page_alloc's test, vm_page.c:2587) would not."""
    k = two_cpus()
    reserved = k.th.v_free_reserved
    extra = k.free - (reserved + 10)
    k.free -= extra
    k.wired += extra
    k.kernel_wired += extra
    k.gd_free = [k.free, k.free]
    taken = 0
    for cpu in (0, 1):
        k.curcpu = cpu
        while vm_page_alloc(k, None, VM_ALLOC_QUICK):  # free >= v_free_reserved only
            taken += 1
    assert taken == 2 * 11 and k.free == reserved + 10 - 22


def test_a_large_negative_delta_is_pushed_at_once_when_paging_is_near():
    """vm_page.c:1055-1066: a CPU's delta below -1024 goes to the global while vm_paging_start(-1024*ncpus)."""
    k = boot(small_scenario(physmem_mib=16, ncpus=2), 0)
    k.curcpu = 0
    n = 0
    while global_counts(k)[0] == k.gd_free[1] and n < 3000:
        assert vm_page_alloc(k, None, VM_ALLOC_NORMAL)
        n += 1
    # 16 MiB boots with 3584 free; vm_paging_start(-2048) first holds below 252 + 2048 free, after
    # 1285 pages, when the delta (-1285) is already past -1024: it is pushed then, not before
    assert n == 1285 and k.gd_adj_free[0] == 0


def test_the_pagedaemons_rollup_refreshes_its_own_copy():
    k = two_cpus()
    k.curcpu = 1
    vm_page_alloc(k, None, VM_ALLOC_NORMAL)
    k.curcpu = 0
    vmstats_rollup(k)
    assert k.gd_free[0] == k.free and k.gd_adj_free == [0, 0]
