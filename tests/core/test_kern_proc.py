"""User processes: vm_fault, touch, munmap, exit, and the workload options (sys/vm/vm_fault.c at 577b958f5e)."""

import attrs

from ztui.core.boot import boot
from ztui.core.frames import HANDLERS
from ztui.core.kern_proc import TOUCH, rate_allows
from ztui.core.simulator import Simulator
from ztui.core.state import PhaseCfg
from ztui.core.vm_object import pindex_of
from ztui.core.vm_page_queues import ACT_INIT, DIRTY, PMAP_REF, REFERENCED, act_count
from ztui.scenario.model import Rate, Size

from .helpers import put_pages, queue_pages, small_scenario


def with_process(scenario, **changes):
    return attrs.evolve(scenario, process=tuple(attrs.evolve(p, **changes) for p in scenario.process))


def test_a_new_page_is_faulted_in_active_referenced_and_dirty():
    """vm_fault: vm_page_alloc (act_count 0), vm_page_activate (ACT_INIT), PG_REFERENCED (vm_fault.c:707, 1330)."""
    sim = Simulator.from_scenario(small_scenario(procs=(("hog", (("alloc", 1), ("exit", 0))),)))
    hog = sim.k.threads[-1]
    while hog.done == 0 or hog.phase != 0:
        sim.step()
    (_, p, flags), *_ = queue_pages(sim.k, "active")
    assert flags & DIRTY and flags & REFERENCED and act_count(flags) == ACT_INIT


def test_no_page_is_allocated_for_a_fault_while_severe():
    """vm_fault (1738-1758): !vm_paging_severe() or vm_wait_pfault and KERN_TRY_AGAIN."""
    k = boot(small_scenario(procs=(("hog", (("alloc", 1), ("exit", 0))),)), 0)
    hog = k.threads[-1]
    hog.frames[0].pc = 1  # FAULT
    k.free = k.th.v_free_reserved - 1
    before = k.free
    HANDLERS[type(hog.frames[0])](k, hog, hog.frames[0])
    assert k.free == before and hog.wmesg == "pfault"


def test_a_cached_page_touched_while_severe_is_activated_and_the_fault_still_waits():
    """vm_fault (1620-1645): a PQ_CACHE page is reactivated, then vm_wait_pfault, KERN_TRY_AGAIN."""
    k = boot(small_scenario(procs=(("hog", (("touch", 1), ("exit", 0))),)), 0)
    hog = k.threads[-1]
    obj = k.objects[hog.anon]
    put_pages(k, "cache", obj.oid, 0, 4, 0)
    obj.lo, obj.hi = 0, 4
    f = hog.frames[0]
    f.pc = TOUCH
    k.free = k.th.v_free_reserved - 1  # severe
    HANDLERS[type(f)](k, hog, f)
    assert [p for _, p, _ in queue_pages(k, "active")] == [0]
    assert hog.wmesg == "pfault" and hog.done == 0


def test_touching_an_active_page_only_marks_it_referenced():
    """A resident, mapped page: the hardware sets the accessed bit; no fault, no queue move."""
    k = boot(small_scenario(procs=(("hog", (("touch", 1), ("exit", 0))),)), 0)
    hog = k.threads[-1]
    obj = k.objects[hog.anon]
    put_pages(k, "active", obj.oid, 0, 4, DIRTY)
    obj.hi = 4
    hog.frames[0].pc = TOUCH
    HANDLERS[type(hog.frames[0])](k, hog, hog.frames[0])
    assert queue_pages(k, "active") == [(obj.oid, 0, DIRTY | PMAP_REF), (obj.oid, 1, DIRTY), (obj.oid, 2, DIRTY), (obj.oid, 3, DIRTY)]


def test_mappings_of_a_region_each_start_on_their_own_swblock():
    """region: many small VM objects; swblocks are per object and 32-pindex range (swap_pager.c:2335-2400)."""
    scenario = with_process(
        small_scenario(physmem_mib=8, swapmeta="zalloc", procs=(("tabs", (("alloc", 10), ("exit", 0))),)), region=Size(8 * 4096)
    )
    k = boot(scenario, 0)
    obj = k.objects[k.threads[-1].anon]
    assert [pindex_of(obj, i) for i in (0, 7, 8, 15, 16)] == [0, 7, 64, 71, 128]
    sim = Simulator.from_scenario(scenario, check_every=1)
    tabs = sim.k.threads[-1]
    while tabs.phase == 0 and sim.step():
        pass
    obj = sim.k.objects[tabs.anon]
    swapped = sum(bin(m).count("1") for m in obj.swb.values())
    assert swapped and swapped / len(obj.swb) <= 8, "at most 8 swapped pages per swblock"
    assert tabs.map_entries == 10 * 256 // 8, "each mapping has its map entry"


def test_a_working_set_stays_active_while_the_rest_is_paged_out():
    """act_count (vm_pageout.c:1540-1590): pages the process keeps using are referenced at each look."""
    scenario = small_scenario(physmem_mib=8, swap_mib=16, swapmeta="zalloc", procs=(("db", (("alloc", 10), ("exit", 0))),))
    sim = Simulator.from_scenario(with_process(scenario, working_set=Size(1 << 20)))
    k = sim.k
    db = k.threads[-1]
    while db.phase == 0 and sim.step():
        pass
    assert db.phase == 1, "the alloc phase finished"
    obj = k.objects[db.anon]
    hot = set(range(obj.hi - 256, obj.hi))
    resident_hot = {p for o, p, _ in queue_pages(k, "active") + queue_pages(k, "inactive") if o == obj.oid and p in hot}
    assert len(resident_hot) == 256, "the newest MiB is all resident"
    assert len(obj.swb) > 0, "older pages went to swap"


def test_a_rate_is_kept_while_running_and_not_made_up_after_a_sleep():
    """rate_allows: page demand is bounded by the CPU time a process gets; a second asleep is not made up."""
    k = boot(small_scenario(procs=(("hog", (("alloc", 8), ("exit", 0))),)), 0)
    hog = k.threads[-1]
    phase = PhaseCfg("alloc", 2048, 10_000, 0)  # 100 pages a tick at hz 100
    hog.phase_t0, hog.done = k.tick, 0
    assert rate_allows(k, hog, phase) == 100
    k.tick += 49
    hog.done = 4900  # kept up: exactly the average rate
    assert rate_allows(k, hog, phase) == 100
    k.tick += 100  # then asleep in vm_wait for a second
    allowed = rate_allows(k, hog, phase)
    assert 100 <= allowed <= 201, allowed  # one to two ticks' worth, not a second's
    hog.done += allowed
    k.tick += 1
    assert 100 <= rate_allows(k, hog, phase) <= 201  # and on at its rate, not faster
    for _ in range(50):  # a process that keeps up is never short of its tick's worth
        hog.done += rate_allows(k, hog, phase) - 100
        k.tick += 1
        assert rate_allows(k, hog, phase) >= 100


def test_a_rate_above_what_the_cpu_can_fault_runs_as_unthrottled():
    """The allowance never runs short for a CPU-bound process: the run is the unthrottled one, step for step."""
    base = small_scenario(physmem_mib=64, swap_mib=64, procs=(("hog", (("alloc", 96), ("exit", 0))),))
    per_tick = base.machine.steps_per_tick * 3 // 2  # half again what one CPU can fault in a tick
    rate = Rate(per_tick * base.machine.hz * 4096)
    hog = base.process[0]
    fast = attrs.evolve(base, process=(attrs.evolve(hog, phases=(attrs.evolve(hog.phases[0], rate=rate), hog.phases[1])),))
    runs = [Simulator.from_scenario(s, log=False) for s in (base, fast)]
    verdicts = [sim.run() for sim in runs]
    assert verdicts[0].kind == verdicts[1].kind and runs[0].step_count == runs[1].step_count


def test_exit_gives_every_map_entry_back():
    """exit1 -> vm_map_remove: vm_map_entry_dispose of each mapping, then the reservation released; the
    hidden cushion (base - avail, 265 at boot) is whole again, and every entry the CPU's cache took from the
    zone is back on it (base = boot's + the zone's items in use - entries created + entries disposed)."""
    scenario = small_scenario(swapmeta="zalloc", procs=(("sh", (("alloc", 1), ("alloc", 1), ("exit", 0))),))
    sim = Simulator.from_scenario(scenario)
    k = sim.k
    z = k.zones["MAP ENTRY"]
    cushion, base, inuse = k.gd_vme_base[0] - k.gd_vme_avail[0], k.gd_vme_base[0], z.inuse
    assert sim.run().kind == "ok"
    assert k.gd_vme_base[0] - k.gd_vme_avail[0] == cushion
    assert k.gd_vme_base[0] == base + z.inuse - inuse
    assert k.threads[-1].map_entries == 0
