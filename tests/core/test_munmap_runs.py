"""Munmaps at once (core/munmap_runs.py): the state page-by-page stepping gives, and where a run of munmaps ends."""

import attrs
import pytest

from ztui.core import kern_proc
from ztui.core.munmap_runs import munmaps_room, plain_munmaps, repeat_munmaps
from ztui.core.state import KobjCfg, PhaseCfg
from ztui.core.vm_object import ACTIVE, INACTIVE
from ztui.core.vm_page import vm_page_free_hysteresis
from ztui.core.vm_page_queues import DIRTY
from ztui.core.vmstats import PCPU_SYNC
from ztui.scenario.load import load_scenario

from .helpers import assert_batches_step_like_single_steps, put_pages, queue_pages, two_gib_kernel

CHECK_EVERY = 2000
FREE = PhaseCfg("free", 1000, 0, 0)


def freeing_machine(tmp_path, ncpus: int, scheduler: str):
    """32 MiB and 8 MiB of swap: four processes fill it and free what they filled while the others
    still fault, so munmaps meet paged-out, busy and inactive pages and processes asleep in
    vm_wait (all but the two-CPU random schedule page out 448 pages and have waiters)."""
    phases = (
        '[{ op = "alloc", pages = "8m" }, { op = "free", pages = "3m" }, { op = "alloc", pages = "3m" },'
        ' { op = "free", pages = "8m" }, { op = "exit" }]'
    )
    processes = "".join(f'[[process]]\nname = "p{i}"\nphases = {phases}\n\n' for i in range(4))
    path = tmp_path / "munmap-runs.toml"
    path.write_text(
        'name = "munmap-runs"\n\n[machine]\nphysmem = "32m"\nswap = "8m"\n'
        f'ncpus = {ncpus}\n\n[run]\nscheduler = "{scheduler}"\n\n{processes}'
    )
    return load_scenario(path)


@pytest.mark.parametrize("ncpus", [1, 2])
@pytest.mark.parametrize("scheduler", ["round-robin", "random"])
def test_munmaps_at_once_leave_the_states_of_page_by_page_steps(monkeypatch, tmp_path, ncpus, scheduler):
    taken = []
    repeat = kern_proc.repeat_munmaps

    def counted(k, t, ph):
        before = k.step
        repeat(k, t, ph)
        taken.append(k.step - before)

    monkeypatch.setattr(kern_proc, "repeat_munmaps", counted)
    assert_batches_step_like_single_steps(freeing_machine(tmp_path, ncpus, scheduler), CHECK_EVERY)
    assert sum(taken) > 10_000, "the free phases took their munmaps in runs"


# --- where a run of munmaps ends: hand-built states (two_gib_kernel: v_free_min 2685, v_free_reserved 1349) ---


def freer(**kw):
    k = two_gib_kernel(free=100_000, **kw)
    t = k.threads[-1]
    k.cur = k.actor = t.tid
    return k, t, k.objects[t.anon]


def test_a_munmap_that_owes_a_wakeup_ends_the_run_but_one_that_frees_no_page_owes_none():
    k, _, _ = freer()
    k.vm_pages_waiting = 1  # and free is far above v_free_min: vm_page_free_wakeup would wake them
    assert plain_munmaps(k, [False, False, True, False]) == 2
    k.vm_pages_waiting = 0
    assert plain_munmaps(k, [False, False, True, False]) == 4


def test_munmaps_stop_at_the_page_that_brings_free_past_the_hysteresis():
    k, _, _ = freer()
    k.vm_pages_waiting = 1
    k.free = k.th.v_free_min + vm_page_free_hysteresis - 3  # still waiting after two more pages
    assert plain_munmaps(k, [True] * 5) == 2
    assert plain_munmaps(k, [False, True, False, True, True, False, True]) == 4, "the third page freed"


def test_a_pager_in_vm_wait_is_woken_at_v_pageout_free_min():
    k, _, _ = freer()
    k.vm_pageout_pages_needed = 1
    k.free = k.th.v_pageout_free_min - 2
    assert plain_munmaps(k, [True] * 5) == 1  # the second page brings free+cache to v_pageout_free_min


def test_a_reserve_to_refill_ends_the_run():
    k, _, _ = freer(mitigations=("pageout-reserve",))
    k.pageout_reserve = k.pageout_reserve_max - 1
    assert plain_munmaps(k, [True] * 5) == 0
    k.pageout_reserve = k.pageout_reserve_max
    assert plain_munmaps(k, [True] * 5) == 5


def test_a_per_cpu_delta_that_could_be_pushed_ends_the_run():
    k, _, _ = freer(ncpus=2)
    k.curcpu = 0
    k.gd_free[0], k.gd_cache[0] = k.free, k.cache
    k.gd_adj_free[0] = -PCPU_SYNC - 2
    assert plain_munmaps(k, [True] * 5) == 0  # the first page leaves it below -PCPU_SYNC: a push may be due
    k.gd_adj_free[0] = -PCPU_SYNC - 1
    assert plain_munmaps(k, [True] * 5) == 5


def test_no_run_for_a_process_that_owes_kmalloc_obj_objects_or_was_killed():
    k, t, obj = freer()
    obj.hi, k.slice_left = 100, 64
    assert munmaps_room(k, t, FREE) == min(63, 100)
    t.lowmemkill = True
    assert munmaps_room(k, t, FREE) == 0
    t.lowmemkill = False
    k.cfg = attrs.evolve(k.cfg, kobjs=(KobjCfg(ktype=0, owner=t.tid, rate=10, lifetime=5),))
    assert munmaps_room(k, t, FREE) == 0
    k.cfg = attrs.evolve(k.cfg, kobjs=(KobjCfg(ktype=0, owner=t.tid + 1, rate=10, lifetime=5),))
    assert munmaps_room(k, t, FREE) == 63, "another process's objects are no reason to stop"


def test_the_run_ends_with_the_phase_and_with_the_mapping():
    k, t, obj = freer()
    obj.hi, k.slice_left = 100, 64
    t.done = 990
    assert munmaps_room(k, t, FREE) == 10
    t.done, obj.lo = 0, 95
    assert munmaps_room(k, t, FREE) == 5


def test_resident_pages_are_freed_and_the_others_only_leave_the_object():
    k, t, obj = freer()
    put_pages(k, ACTIVE, obj.oid, 0, 4, DIRTY)
    put_pages(k, INACTIVE, obj.oid, 6, 2, DIRTY)
    obj.hi, obj.lo, k.slice_left, k.step, k.tick, t.freed_tick = 10, 0, 64, 50, 7, 0
    free = k.free
    repeat_munmaps(k, t, FREE)
    assert (obj.lo, obj.resident, k.free - free, t.done, k.step) == (10, 0, 6, 10, 60)  # the dispatcher counts the step before these
    assert queue_pages(k, ACTIVE) == queue_pages(k, INACTIVE) == []
    assert t.freed_tick == 7, "it gave pages back: a source of memory this tick (verdict.py)"


def test_a_run_cut_short_frees_only_its_own_pages_swap():
    k, t, obj = freer()
    put_pages(k, ACTIVE, obj.oid, 4, 1, DIRTY)
    swapped = [0, 1, 2, 3, 5, 6, 7, 8, 9, 31]  # page 31 keeps the swblock from emptying
    obj.swb = {0: sum(1 << p for p in swapped)}
    k.swap_free = k.swap_total - len(swapped)
    obj.hi, obj.lo, k.slice_left = 10, 0, 64
    k.vm_pages_waiting = 1  # freeing page 4 would wake them: the run ends before it
    repeat_munmaps(k, t, FREE)
    assert obj.lo == 4
    assert obj.swb == {0: sum(1 << p for p in swapped[4:])}
    assert k.swap_free == k.swap_total - 6
