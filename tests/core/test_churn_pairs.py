"""Churn pairs at once (core/churn_pairs.py): the state page-by-page stepping gives, and where a run of pairs ends."""

import attrs
import pytest

from ztui.bench_scale import scaled
from ztui.core import kern_proc
from ztui.core.churn_pairs import oldest_pages, pairs_room, plain_pairs, repeat_churn_pairs, swapped_pages
from ztui.core.kern_proc import FAULTED
from ztui.core.state import KobjCfg, PhaseCfg
from ztui.core.vm_object import ACTIVE, CACHE, INACTIVE
from ztui.core.vm_page import CHAN_PAGES_NEEDED
from ztui.core.vm_page_queues import ACT_INIT, ACT_SHIFT, BUSY, DIRTY
from ztui.core.vmstats import PCPU_SYNC
from ztui.scenario.bundled import resolve_scenario
from ztui.scenario.load import load_scenario
from ztui.scenario.model import Scheduler

from .helpers import MiB, assert_batches_step_like_single_steps, put_pages, queue_pages, two_gib_kernel

CHECK_EVERY = 5000


def churn_machine(ncpus: int, scheduler: str):
    """The bundled 2 GiB churn scenario at 32 MiB: fill, then churn while the pagedaemon pages out.

    One blank slab in gd_kmslab: without it two CPUs never get to churn (the pagedaemon is stuck in the fill).
    """
    scenario = scaled(load_scenario(resolve_scenario("swapmeta-kmalloc-obj-churn")), 32 * MiB)
    return attrs.evolve(
        scenario,
        machine=attrs.evolve(scenario.machine, ncpus=ncpus),
        allocators=attrs.evolve(scenario.allocators, kmslab_cache=1),
        run=attrs.evolve(scenario.run, scheduler=Scheduler(scheduler)),
    )


@pytest.mark.parametrize("ncpus", [1, 2])
@pytest.mark.parametrize("scheduler", ["round-robin", "random"])
def test_pairs_at_once_leave_the_states_of_page_by_page_steps(monkeypatch, ncpus, scheduler):
    taken = []
    repeat = kern_proc.repeat_churn_pairs

    def counted(k, t, ph, flags):
        before = k.step
        repeat(k, t, ph, flags)
        taken.append((k.step - before) // 2)

    monkeypatch.setattr(kern_proc, "repeat_churn_pairs", counted)
    assert_batches_step_like_single_steps(churn_machine(ncpus, scheduler), CHECK_EVERY)
    assert sum(taken) > 1500, "the churn phase took its pairs in runs"


# --- where a run of pairs ends: hand-built states (two_gib_kernel: v_free_min 2685, v_free_reserved 1349) ---


def churner(**kw):
    k = two_gib_kernel(free=100_000, **kw)
    return k, k.objects[k.threads[-1].anon]


def test_oldest_pages_end_before_a_busy_or_a_cached_page():
    k, obj = churner()
    put_pages(k, ACTIVE, obj.oid, 0, 4, DIRTY)
    put_pages(k, ACTIVE, obj.oid, 4, 1, DIRTY | BUSY)
    put_pages(k, ACTIVE, obj.oid, 5, 5, DIRTY)
    assert oldest_pages(k, obj, 0, 10) == ([True] * 4, [])
    k, obj = churner()
    put_pages(k, INACTIVE, obj.oid, 0, 4, DIRTY)
    put_pages(k, CACHE, obj.oid, 6, 1, 0)
    obj.hi = 10
    assert oldest_pages(k, obj, 0, 10) == ([True] * 4 + [False] * 2, [])


def test_oldest_pages_end_before_the_last_swap_of_a_swblock_or_when_swap_is_nearly_full():
    k, obj = churner()
    obj.hi = 10
    obj.swb = {0: 0b110 | 1 << 20}
    assert oldest_pages(k, obj, 0, 10) == ([False] * 10, [1, 2])  # page 20 keeps the swblock
    obj.swb = {0: 0b110}
    assert oldest_pages(k, obj, 0, 10) == ([False] * 2, [1])  # freeing page 2 would free the swblock
    obj.swb = {0: 0b110 | 1 << 20}
    k.swap_free = k.nswap_lowat - 1
    assert oldest_pages(k, obj, 0, 10) == ([False], [])


def test_swapped_pages_reads_the_bits_across_swblocks():
    assert swapped_pages({0: 1 << 31, 1: 0b101}, 30, 5) == [31, 32, 34]
    assert swapped_pages({0: 0b1}, 1, 0) == []


def test_pairs_that_do_not_give_a_page_back_stop_at_v_free_reserved():
    k, _ = churner()
    k.free, k.vm_pages_needed = k.th.v_free_reserved + 3, 2  # the pagedaemon has been kicked
    assert plain_pairs(k, [False] * 10)[0] == 4  # the fifth fault would find free below v_free_reserved
    assert plain_pairs(k, [True] * 10)[0] == 10  # each munmap gives the page back


def test_each_fault_below_v_free_min_counts_a_pagedaemon_kick():
    k, _ = churner()
    k.vm_pages_needed = 2
    k.free = k.th.v_free_min - 100
    assert plain_pairs(k, [False] * 5)[:2] == (5, 5)
    k.free = k.th.v_paging_start + 10
    assert plain_pairs(k, [False] * 5)[:2] == (5, 0)


def test_a_pagedaemon_wakeup_that_wakes_ends_the_run():
    k, _ = churner()
    k.free = k.th.v_paging_start - 10  # paging should start
    k.vm_pages_needed = 0
    assert plain_pairs(k, [True] * 5)[0] == 0
    k.vm_pages_needed = 1
    assert plain_pairs(k, [True] * 5)[:2] == (5, 0)
    daemon = k.threads[0]
    daemon.state, daemon.wchan = "S", CHAN_PAGES_NEEDED
    assert plain_pairs(k, [True] * 5)[0] == 0


def test_a_munmap_that_owes_a_wakeup_ends_the_run_but_a_swapped_out_page_owes_none():
    k, _ = churner()
    k.vm_pages_waiting = 1  # and free is far above v_free_min: vm_page_free_wakeup would wake them
    assert plain_pairs(k, [False, False, True, False])[0] == 2


def test_the_low_water_mark_is_the_lowest_fault_with_its_step():
    k, _ = churner()
    k.free, k.step, k.tick, k.vm_pages_needed = 2000, 100, 7, 2
    k.lowwater = [1 << 62, 0, 0]
    assert plain_pairs(k, [False, True, True]) == (3, 3, [1998, 7, 103])  # pair 1: the same count again is no new low


def test_a_per_cpu_delta_about_to_be_pushed_ends_the_run():
    k, _ = churner(ncpus=2)
    k.curcpu = 0
    k.gd_free[0], k.gd_cache[0] = k.free, k.cache
    k.gd_adj_free[0] = -PCPU_SYNC + 2
    k.free = k.gd_free[0] = k.th.v_paging_start + 100  # no paging yet: no kick
    assert plain_pairs(k, [False] * 5)[0] == 2  # the third fault would take the delta to -1025


def test_pairs_whose_pages_were_paged_out_take_a_page_each_and_leave_the_lowest_mark():
    """Ten pairs whose oldest pages are gone (paged out, swap already freed): ten pages fewer, in one dispatch."""
    k, obj = churner()
    t = k.threads[-1]
    k.cur = k.actor = t.tid
    k.slice_left, k.vm_pages_needed = 64, 2
    k.free, k.step = 2000, 100
    k.lowwater = [1 << 62, 0, 0]
    obj.hi = 10
    repeat_churn_pairs(k, t, PhaseCfg("churn", -1, 0, 0), FAULTED)
    assert (obj.lo, obj.hi, k.free, k.step, k.vm_pages_needed) == (10, 20, 1990, 120, 12)
    assert queue_pages(k, ACTIVE) == [(obj.oid, p, FAULTED | ACT_INIT << ACT_SHIFT) for p in range(10, 20)]
    assert k.lowwater == [1990, k.tick, 100 + 1 + 2 * 9]  # the last pair's fault


def test_no_run_of_pairs_for_a_process_that_owes_kmalloc_obj_objects():
    k, obj = churner()
    t = k.threads[-1]
    obj.hi, k.slice_left = 100, 64
    churn = PhaseCfg("churn", -1, 0, 0)
    assert pairs_room(k, t, churn) == 31
    k.cfg = attrs.evolve(k.cfg, kobjs=(KobjCfg(ktype=0, owner=t.tid, rate=10, lifetime=5),))
    assert pairs_room(k, t, churn) == 0, "its system calls are due at any step"
    k.cfg = attrs.evolve(k.cfg, kobjs=(KobjCfg(ktype=0, owner=t.tid + 1, rate=10, lifetime=5),))
    assert pairs_room(k, t, churn) == 31
