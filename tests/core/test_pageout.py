"""The pageout daemon, the emergency pager, the poller and the map-entry zone, against the reference."""

from ztui.core.boot import boot
from ztui.core.frames import HANDLERS
from ztui.core.kern_kmalloc import KMALLOC_SLAB_PAGES, kmalloc_poller_thread, new_slab
from ztui.core.simulator import Simulator
from ztui.core.state import DIRTY, WINATCFLS, Frame
from ztui.core.vm_object import enqueue
from ztui.core.vm_pageout import INACTIVE
from ztui.scenario.bundled import resolve_scenario
from ztui.scenario.load import load_scenario

from .helpers import small_scenario


def pager_with_dirty_pages(count: int, flags: int):
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    obj = k.objects[k.threads[-1].anon]
    enqueue(k, obj.inactive, 0, count, flags)
    obj.hi = obj.resident = count
    k.inactive += count
    k.wired += k.free - count - k.th.v_free_min  # below v_free_min: the scan has work to do
    k.free = k.th.v_free_min
    pagedaemon = k.threads[0]
    frame = Frame("vm_pageout_thread", INACTIVE, a=1000, b=1000, c=1000, e=0)
    pagedaemon.frames = [frame]
    return k, obj, pagedaemon, frame


def test_a_dirty_page_first_gets_a_second_chance_without_io():
    k, obj, pagedaemon, frame = pager_with_dirty_pages(10, DIRTY)
    k.slice_left = 1  # one page per step
    HANDLERS["vm_pageout_thread"](k, pagedaemon, frame)
    assert obj.inactive[-1][:3] == (0, 1, DIRTY | WINATCFLS)
    assert len(pagedaemon.frames) == 1 and not k.io


def test_a_second_chance_page_is_laundered_in_a_cluster_of_at_most_64():
    k, obj, pagedaemon, frame = pager_with_dirty_pages(100, DIRTY | WINATCFLS)
    HANDLERS["vm_pageout_thread"](k, pagedaemon, frame)
    flush = pagedaemon.frames[-1]
    assert flush.fn == "vm_pageout_flush"
    assert (flush.b, flush.c) == (0, 64)
    assert obj.busy == [(0, 64)]
    assert k.inactive == 100  # soft-busied pages stay counted as inactive


def test_at_most_four_async_swap_writes_are_in_flight():
    sim = Simulator.from_scenario(load_scenario(resolve_scenario("teach-swapmeta-zalloc")), log=False)
    peak = 0
    while sim.step():
        k = sim.k
        holding = sum(1 for t in k.threads for f in t.frames if f.fn == "vm_pageout_flush" and f.pc in (2, 3, 4))
        assert 4 - k.pbufs_free == len(k.io) + holding
        peak = max(peak, len(k.io))
    assert 1 <= peak <= 4


def test_the_emergency_pager_takes_over_only_after_a_two_second_stall():
    sim = Simulator.from_scenario(load_scenario(resolve_scenario("teach-swapmeta-kmalloc-obj")), log=False)
    emergpager = sim.k.threads[1]
    while sim.step() and len(emergpager.frames) == 1:
        pass
    assert len(emergpager.frames) > 1, "the emergency pager never ran a pass"
    assert sim.k.tick - sim.k.vm_pagedaemon_uptime >= 2 * sim.hz


def test_a_pager_in_vm_wait_sleeps_on_its_own_channel_for_at_most_a_second():
    sim = Simulator.from_scenario(load_scenario(resolve_scenario("teach-swapmeta-kmalloc-obj")), log=False)
    pagedaemon = sim.k.threads[0]
    while sim.step() and pagedaemon.wmesg != "VMWait":
        pass
    assert pagedaemon.wchan == "vm_pageout_pages_needed"
    assert pagedaemon.wake_tick - pagedaemon.slept_at == sim.hz


def test_the_oom_killer_kills_the_biggest_process_once_swap_is_full():
    sim = Simulator.from_scenario(load_scenario(resolve_scenario("teach-oom-kill")))
    sim.run()
    kills = [e for e in sim.events if e.subsystem == "oom"]
    assert kills and kills[0].thread == "pagedaemon"
    assert "(leaky)" in kills[0].text and "out of swap space" in kills[0].text
    ticks = [e.tick for e in kills]
    assert all(b - a >= sim.hz for a, b in zip(ticks, ticks[1:]))


def test_the_poller_retires_at_most_four_free_slabs_and_keeps_four():
    k = boot(small_scenario(), 0)
    ty = k.ktypes["SWAPMETA"]
    for _ in range(10):
        sid = new_slab(k, ty, 0)
        k.slabs[sid].where = "full"
        ty.full.append(sid)
    k.slab_pages += 10 * KMALLOC_SLAB_PAGES
    k.wired += 10 * KMALLOC_SLAB_PAGES
    k.tick = 10 * k.hz
    poller = k.threads[2]
    frame = Frame("kmalloc_poller_thread", 1)
    kmalloc_poller_thread(k, poller, frame)
    assert len(ty.full) == 6 and k.kmslab_free[0] == 4
    kmalloc_poller_thread(k, poller, Frame("kmalloc_poller_thread", 1))
    assert len(ty.full) == 4 and k.kmslab_free[0] == 6


def test_a_map_entry_zone_refill_uses_the_cushion_and_renormalises_avail():
    scenario = small_scenario(swapmeta="zalloc", procs=(("sh", (("alloc", 1), ("alloc", 1), ("exit", 0))),))
    import attrs

    scenario = attrs.evolve(scenario, allocators=attrs.evolve(scenario.allocators, mapent_boot=31))
    sim = Simulator.from_scenario(scenario)
    sim.run()
    z = sim.k.zones["MAP ENTRY"]
    assert z.zpagecount == 32, "one kmem_alloc3 refill of 32 pages"
    assert z.ztotal == 31 + 32 * 4096 // z.zsize
    assert any("kmem_alloc3 refill" in e.text for e in sim.events)
    assert sim.verdict.kind == "ok"


def test_touching_swapped_out_pages_reads_them_back_clean_with_their_swap_copy():
    scenario = small_scenario(
        physmem_mib=8,
        swap_mib=8,
        swapmeta="zalloc",
        procs=(("hog", (("alloc", 7), ("touch", 2), ("exit", 0))),),
    )
    sim = Simulator.from_scenario(scenario)
    hog = sim.k.threads[-1]
    reads = 0
    while sim.step():
        if hog.wmesg == "swread":
            reads += 1
            obj = sim.k.objects[hog.anon]
            page = hog.frames[-1].a
            assert obj.swb[page >> 5] >> (page & 31) & 1, "the page being read has its swap copy"
            assert 1 <= sim.k.swapin_pages == hog.frames[-1].b <= 16, "a cluster of at most 16 pages"
    assert reads > 0, "nothing was paged back in"
    assert sim.verdict.kind == "ok"
