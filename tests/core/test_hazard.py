"""Hazard episodes, margins, the low-water mark and the report's paragraph (core/hazard.py, hazard_report.py)."""

import attrs

from ztui.core import hazard
from ztui.core.hazard_report import hazard_view, open_episodes
from ztui.core.kern_kmalloc import KMALLOC_SLAB_PAGES
from ztui.core.simulator import Simulator
from ztui.core.vm_page import VM_ALLOC_INTERRUPT, vm_page_alloc

from .helpers import k_free_above_imin, pagedaemon_in_kmalloc_obj, small_scenario, steps


def test_a_slab_with_exactly_its_32_pages_to_have_completes_at_margin_zero():
    """A pager's NORMAL|SYSTEM page is had while free > v_interrupt_free_min (vm_page.c:2587-2593): 32 above it is enough."""
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(KMALLOC_SLAB_PAGES))
    steps(k, pd, 200)
    assert len(pd.frames) == 1, "the swblock was allocated"
    (episode,) = [hazard_view(r) for r in k.hazlog]
    assert episode.lowest_margin == 0 and episode.pages_to_wedge == 1
    assert episode.pages_needed_then == KMALLOC_SLAB_PAGES and episode.outcome == "completed"
    assert episode.floor == k.th.v_interrupt_free_min + 1


def test_one_page_fewer_and_the_slab_waits_at_margin_minus_one():
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(KMALLOC_SLAB_PAGES - 1))
    steps(k, pd, 200)
    assert pd.wmesg == "VMWait" and not k.hazlog, "still open"
    (episode,) = open_episodes(k)
    assert episode.lowest_margin == -1 and episode.pages_to_wedge == 0
    assert episode.outcome == f"open, {KMALLOC_SLAB_PAGES - 1} of {KMALLOC_SLAB_PAGES} pages held"


def test_pages_others_take_below_v_free_severe_are_counted_against_an_open_episode():
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(KMALLOC_SLAB_PAGES - 1))
    steps(k, pd, 200)
    assert k.free < k.th.v_free_severe
    k.curcpu, k.actor = 0, -1
    assert vm_page_alloc(k, None, VM_ALLOC_INTERRUPT)  # an mbuf cluster's page, from interrupt context
    (episode,) = open_episodes(k)
    assert episode.taken_below_severe == (("em0 mbuf zones (kmalloc M_NOWAIT)", 1),)


def test_an_interrupt_class_refill_needs_one_free_page():
    """zget for ZONE_INTERRUPT: VM_ALLOC_INTERRUPT takes a page while free > 0, so its floor is 1."""
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=10)
    assert hazard.floor_of(k, pd, VM_ALLOC_INTERRUPT) == ("1 (VM_ALLOC_INTERRUPT: any free page)", 1)


def test_the_low_water_mark_is_the_lowest_free_cache_of_every_step():
    """Observed at every step by hand, below v_free_min: the Simulator's mark must agree."""
    scenario = small_scenario(procs=(("hog", (("alloc", 12), ("exit", 0))),))
    sim = Simulator.from_scenario(scenario)
    k = sim.k
    lowest = (k.free + k.cache, -1)
    while sim.step():
        if k.free + k.cache < lowest[0]:
            lowest = (k.free + k.cache, k.step)
    low = sim.verdict.low_water
    assert lowest[0] < k.th.v_free_min
    assert low is not None and low.pages == lowest[0]


def test_the_low_water_names_the_slab_being_assembled_then():
    """A pager waiting in kmem_slab_alloc with the last pages taken: the low water falls inside its episode."""
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(KMALLOC_SLAB_PAGES - 1))
    steps(k, pd, 200)
    low = sim._low_water(open_episodes(k))
    assert low.pages == k.free + k.cache == k.th.v_interrupt_free_min
    assert low.during is not None and low.during.thread == "pagedaemon"
    assert "kmem_slab_alloc" in low.during.allocation


def test_a_run_that_never_falls_below_v_free_min_has_no_low_water():
    sim = Simulator.from_scenario(small_scenario(procs=(("sh", (("alloc", 1), ("exit", 0))),)))
    verdict = sim.run()
    assert verdict.kind == "ok" and verdict.low_water is None
    assert "never fell below v_free_min" in verdict.why


def test_a_wedged_run_says_which_allocation_waits_and_how_many_pages_short():
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(KMALLOC_SLAB_PAGES - 1))
    verdict = sim.run()
    assert verdict.kind == "livelock"
    floor = k.th.v_interrupt_free_min + 1
    assert verdict.why.startswith("Why it wedged: pagedaemon is in kmalloc_obj slab for SWAPMETA (kmem_slab_alloc")
    needed, found = floor + KMALLOC_SLAB_PAGES - 1, floor + KMALLOC_SLAB_PAGES - 2
    assert f"needed take free+cache {needed} or more; it found {found}, 1 short" in verdict.why


def test_the_count_includes_the_episodes_still_open_at_the_verdict():
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(KMALLOC_SLAB_PAGES - 1))
    verdict = sim.run()
    assert verdict.hazard_count >= len([h for h in verdict.hazards if h.outcome.startswith("open")]) == 1


def test_a_run_that_never_swaps_says_no_swblock_was_needed():
    sim = Simulator.from_scenario(small_scenario(procs=(("sh", (("alloc", 1), ("exit", 0))),)))
    assert sim.run().why.startswith("Why it survived: nothing was swapped out, so SWAPMETA never needed a swblock.")


def test_a_slab_that_had_to_wait_and_was_rescued_says_so():
    """Margin below zero yet completed: the pager waited in vm_wait until someone freed memory."""
    from ztui.core.hazard_report import _why_kmalloc_obj
    from ztui.core.vm_page import vm_page_free_toq

    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(KMALLOC_SLAB_PAGES - 1))
    steps(k, pd, 200)
    assert pd.wmesg == "VMWait"
    k.wired -= 8  # a process frees 8 pages (page conservation: they were counted as wired)
    k.kernel_wired -= 8
    vm_page_free_toq(k, 8)
    k.tick += k.hz  # vm_wait's timeout
    pd.state, pd.wchan, pd.wmesg = "R", "", ""
    steps(k, pd, 200)
    (episode,) = [hazard_view(r) for r in k.hazlog]
    assert episode.lowest_margin == -1 and episode.outcome == "completed"
    text = _why_kmalloc_obj(k, (episode,))
    assert "had to wait: it was 1 page short with 32 of its 32 to go, and waited 1.00 s in vm_wait" in text


def test_a_pager_short_only_on_its_cpus_stale_copy_is_told_apart():
    """The margin reads the running CPU's copy (vm_page_alloc does); the episode also keeps the true count."""
    from ztui.core.hazard_report import _why_kmalloc_obj

    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(KMALLOC_SLAB_PAGES - 1), ncpus=2)
    k.gd_free = [k.free, k.free]
    k.wired -= 100  # another CPU freed 100 pages; CPU 0's copy has not seen them
    k.kernel_wired -= 100
    k.free += 100
    k.gd_free[1] += 100
    k.gd_adj_free[1] += 100
    steps(k, pd, 200)
    assert pd.wmesg == "VMWait", "it waits, on CPU 0's copy"
    (episode,) = open_episodes(k)
    assert episode.lowest_margin == -1 and episode.true_free_cache == k_free_above_imin(KMALLOC_SLAB_PAGES - 1) + 100
    assert episode.stale_view
    waited = attrs.evolve(episode, outcome="completed", end_tick=episode.tick + k.hz)
    assert "in vm_wait for memory that was there" in _why_kmalloc_obj(k, (waited,))
    short = attrs.evolve(waited, true_free_cache=waited.true_free_cache - 100)
    assert not short.stale_view and "memory that was there" not in _why_kmalloc_obj(k, (short,))


def test_a_slab_begun_at_the_low_water_mark_meets_its_own_class_floor():
    """Without a mitigation a pager's slab pages are NORMAL|SYSTEM (floor v_interrupt_free_min + 1); with
    pass-reserve-flags M_INTWAIT reaches kmem_slab_alloc and they are INTERRUPT (floor 1)."""
    from ztui.core.hazard_report import low_water_text
    from ztui.core.snapshot import LowWaterView

    plain = Simulator.from_scenario(small_scenario()).k
    flags = Simulator.from_scenario(small_scenario(mitigations=("pass-reserve-flags",))).k
    imin = plain.th.v_interrupt_free_min
    low = LowWaterView(pages=imin + 10, step=1, tick=0, during=None)
    assert "would have got 10 of its 32 pages (a pager's NORMAL|SYSTEM pages are had while free+cache >= " \
        f"v_interrupt_free_min + 1, {imin + 1})" in low_water_text(plain, low)
    assert f"would have got {imin + 10} of its 32 pages (a pager's NORMAL|SYSTEM|INTERRUPT pages are had while" \
        " free+cache >= 1 (VM_ALLOC_INTERRUPT: any free page))" in low_water_text(flags, low)
