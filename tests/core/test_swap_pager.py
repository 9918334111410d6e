"""swap_pager_putpages, swp_pager_meta_build and swap space (sys/vm/swap_pager.c at 577b958f5e)."""

from ztui.core.boot import boot
from ztui.core.frames import HANDLERS
from ztui.core.simulator import Simulator
from ztui.core.state import FlushFrame, MetaBuildFrame
from ztui.core.swap_pager import NSW_CLUSTER_MAX, swap_page_free, swap_zone_exhausted, swp_sizecheck
from ztui.core.vm_page_queues import BUSY, DIRTY, WINATCFLS
from ztui.scenario.bundled import resolve_scenario
from ztui.scenario.load import load_scenario

from .helpers import put_pages, queue_pages, small_scenario


def flushing(count: int, swap_pages: int | None = None):
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    obj = k.objects[k.threads[-1].anon]
    put_pages(k, "inactive", obj.oid, 0, count, DIRTY | WINATCFLS | BUSY)
    obj.pip = count
    if swap_pages is not None:
        k.swap_free = swap_pages
    pd = k.threads[0]
    pd.frames.append(FlushFrame(oid=obj.oid, start=0, count=count))
    return k, obj, pd


def drive(k, t, limit=10_000):
    for _ in range(limit):
        if len(t.frames) == 1 or t.state != "R":
            return
        HANDLERS[type(t.frames[-1])](k, t, t.frames[-1])


def test_writes_go_out_in_chunks_of_nsw_cluster_max_with_four_pbufs():
    """swap_pager_putpages (1679-1682): n = min(BLIST_MAX_ALLOC, count - i, nsw_cluster_max = 16);
    getpbuf_kva(&nsw_wcount_async) with 4 pbufs: at most 64 pages in flight."""
    assert NSW_CLUSTER_MAX == 16
    k, obj, pd = flushing(64 + 16)
    drive(k, pd)
    assert [io.count for io in k.io] == [16, 16, 16, 16]
    assert pd.wmesg == "wswbuf2", "the fifth chunk waits for a pbuf"
    assert sum(io.count for io in k.io) == 64


def test_with_swap_full_the_pages_stay_dirty_where_they_are():
    """VM_PAGER_FAIL (swap_pager.c:1672-1676, vm_pageout.c:566-578): left dirty in the inactive queue."""
    k, obj, pd = flushing(16, swap_pages=0)
    before = [(o, p) for o, p, _ in queue_pages(k, "inactive")]
    drive(k, pd)
    assert len(pd.frames) == 1 and pd.rv == 0, "vm_pageout_flush paged nothing out"
    assert [(o, p) for o, p, _ in queue_pages(k, "inactive")] == before
    assert all(fl == DIRTY | WINATCFLS for _, _, fl in queue_pages(k, "inactive"))
    assert obj.pip == 0 and k.swap_pager_full


def test_swap_space_is_halved_until_it_fits():
    """swap_pager_putpages (1662-1670): while the blist says no and n > 4, n >>= 1."""
    k, obj, pd = flushing(16, swap_pages=5)
    drive(k, pd, limit=30)
    assert k.io[0].count == 4 and k.swap_free == 1


def test_a_page_that_already_has_swap_gives_its_old_block_back():
    """swp_pager_meta_build (2378-2391): a slot already assigned is freed before the new block is stored."""
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    obj = k.objects[k.threads[-1].anon]
    obj.swb[0] = 1 << 5  # page 5 has a block from an earlier pageout
    k.zones["SWAPMETA"].inuse += 1
    k.swap_free -= 2  # the old block, and the new one putpages just took
    pd = k.threads[0]
    pd.frames.append(MetaBuildFrame(oid=obj.oid, pindex=5))
    HANDLERS[MetaBuildFrame](k, pd, pd.frames[-1])
    assert obj.swb[0] == 1 << 5 and k.swap_free == k.swap_total - 1


def test_swapping_in_reads_one_page_per_fault():
    """vm.swap_burst_read is 0 (swap_pager.c:171): swap_pager_getpage reads the faulting page alone."""
    scenario = small_scenario(swapmeta="zalloc", procs=(("hog", (("alloc", 10), ("touch", 2), ("exit", 0))),))
    sim = Simulator.from_scenario(scenario, check_every=1)  # a page read back is unwired: conservation holds
    hog = sim.k.threads[-1]
    reads = 0
    while sim.step():
        if hog.wmesg == "swread":
            reads += 1
            obj = sim.k.objects[hog.anon]
            page = hog.frames[-1].pindex
            assert obj.swb[page >> 5] >> (page & 31) & 1, "the page being read has its swap copy"
            assert sim.k.swapin_pages == 1
    assert reads > 0, "nothing was paged back in"
    assert sim.verdict.kind == "ok"


def test_at_most_four_async_swap_writes_are_in_flight_in_a_whole_run():
    sim = Simulator.from_scenario(load_scenario(resolve_scenario("teach-swapmeta-zalloc")), log=False)
    peak = 0
    while sim.step():
        assert len(sim.k.io) <= 4
        peak = max(peak, len(sim.k.io))
    assert peak >= 2


def test_swap_is_almost_full_below_nswap_lowat():
    """swp_sizecheck() (swap_pager.c:299-315): swap_pager_almost_full below nswap_lowat, cleared above nswap_hiwat."""
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    k.swap_free = k.nswap_lowat
    swp_sizecheck(k)
    assert not k.swap_pager_almost_full
    k.swap_free = k.nswap_lowat - 1
    swp_sizecheck(k)
    assert k.swap_pager_almost_full


def test_freeing_a_swblocks_last_page_frees_the_swblock():
    """swp_pager_meta_ctl(SWM_FREE): the block goes back to swap, and an empty swblock to its zone."""
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    obj = k.objects[k.threads[-1].anon]
    z = k.zones["SWAPMETA"]
    obj.swb[0] = 0b11
    z.zfreecnt, z.inuse = z.zfreecnt - 1, z.inuse + 1
    free, zfree, swap = z.zfreecnt, z.inuse, k.swap_free
    swap_page_free(k, obj, 0)
    assert obj.swb == {0: 0b10} and (z.zfreecnt, k.swap_free) == (free, swap + 1)
    swap_page_free(k, obj, 1)
    assert obj.swb == {} and (z.zfreecnt, z.inuse, k.swap_free) == (free + 1, zfree - 1, swap + 2)


def test_the_swap_zone_exhausted_kills_the_biggest_process_and_pauses():
    """nowait-reserve, FreeBSD's way (swap_pager.c swp_pager_meta_build): vm_pageout_oom(VM_OOM_SWAPZ), pause("swzonxb", 10)."""
    k = boot(small_scenario(mitigations=("nowait-reserve",)), 0)
    pd, victim = k.threads[0], k.threads[-1]
    swap_zone_exhausted(k, pd)
    assert k.oom_kills == 1 and victim.lowmemkill
    assert (pd.wmesg, pd.wake_tick - k.tick) == ("swzonxb", 10)
