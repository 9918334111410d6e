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
