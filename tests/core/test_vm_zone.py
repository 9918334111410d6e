"""zalloc for the SWAPMETA ZONE_INTERRUPT zone, the MAP ENTRY zone's refill and kmem_alloc3
(sys/vm/vm_zone.c:89-160, 516-706, vm_kern.c at 577b958f5e)."""

from ztui.core.boot import boot
from ztui.core.frames import HANDLERS
from ztui.core.kern_synch import tsleep
from ztui.core.state import KmemAlloc3Frame, ZallocFrame
from ztui.core.vm_zone import zalloc_interrupt

from .helpers import small_scenario


def test_swapmeta_zone_geometry_on_2_gib():
    """swap_pager_swap_init (swap_pager.c:393-466): maxswzone 1 GiB / 304-byte swblocks, items of 320 bytes."""
    k = boot(small_scenario(physmem_mib=2048, swapmeta="zalloc"), 0)
    z = k.zones["SWAPMETA"]
    assert (z.zsize, z.zfreemin, z.zpagemax) == (320, 12, 275942)
    assert z.ztotal == 409  # one 32-page refill at zinit: 32 * 4096 // 320


def test_zalloc_hands_out_its_zfreemin_stock_when_no_page_can_be_had():
    """zget (vm_zone.c:590-600): no new page, but zfreecnt > 0: an item from below zfreemin."""
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    z = k.zones["SWAPMETA"]
    z.zfreecnt = z.zfreemin
    k.free, k.cache = 0, 0
    assert zalloc_interrupt(k, k.threads[0], z)
    assert z.zfreecnt == z.zfreemin - 1
    z.zfreecnt = 0
    assert not zalloc_interrupt(k, k.threads[0], z)


def test_zalloc_refill_takes_the_last_free_page_with_interrupt():
    """zget (vm_zone.c:548-560): the first four pages of a refill are SYSTEM|INTERRUPT|NORMAL."""
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    z = k.zones["SWAPMETA"]
    z.zfreecnt = z.zfreemin
    k.free, k.cache = 1, 0
    assert zalloc_interrupt(k, k.threads[0], z)
    assert k.free == 0 and z.zpagecount == 33


def test_zalloc_refill_stops_at_the_first_page_it_cannot_get():
    """Pages 5..32 are NORMAL|SYSTEM: with free just above v_interrupt_free_min the refill stops there."""
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    z = k.zones["SWAPMETA"]
    z.zfreecnt = z.zfreemin
    imin = k.th.v_interrupt_free_min
    k.free, k.cache = imin + 2, 0
    zalloc_interrupt(k, k.threads[0], z)
    assert z.zpagecount == 32 + 4, "four INTERRUPT pages, then free stood at imin - 2 for NORMAL|SYSTEM"
    assert k.free == imin - 2


def test_a_zone_interrupt_refill_wires_its_pages():
    """zget (vm_zone.c:548-590): up to ZONE_MAXPGLOAD pages mapped and wired, their items added."""
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    z = k.zones["SWAPMETA"]
    z.zfreecnt = z.zfreemin
    wired, free, pages = k.wired, k.free, z.zpagecount
    assert zalloc_interrupt(k, k.threads[0], z)
    assert (k.wired - wired, free - k.free, z.zpagecount - pages) == (32, 32, 32)


def test_the_map_entry_zone_refill_wakes_the_zgetlk_waiters_and_renormalises_avail():
    """zget(ZONE_SPECIAL) after kmem_alloc3 (vm_zone.c:624-706): gd_vme_avail back to 2 from the new items,
    zgetlk released and its sleepers woken before any timeout."""
    k = boot(small_scenario(procs=(("a", (("alloc", 1), ("exit", 0))), ("b", (("alloc", 1), ("exit", 0))))), 0)
    refiller, waiter = k.threads[-1], k.threads[-2]
    z = k.zones["MAP ENTRY"]
    z.zgetlk = refiller.tid
    tsleep(k, waiter, "zgetlk", "zgetlk", 0)
    cpu = refiller.cpu
    k.gd_vme_avail[cpu] = 0
    base = k.gd_vme_base[cpu]
    refiller.frames.append(ZallocFrame(pc=1))
    HANDLERS[ZallocFrame](k, refiller, refiller.frames[-1])
    assert (k.gd_vme_avail[cpu], k.gd_vme_base[cpu]) == (2, base + 2)
    assert z.zgetlk == -1 and waiter.state == "R" and not waiter.timed_out


def test_kmem_alloc3_takes_its_entry_from_the_cushion_and_wires_each_page():
    """kmem_alloc3(KM_KRESERVE) (vm_kern.c:207-295): kreserve 4, one entry used, 3 krelease'd; npages pages wired."""
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    t = k.threads[-1]
    avail, base, wired = k.gd_vme_avail[t.cpu], k.gd_vme_base[t.cpu], k.wired
    t.frames.append(KmemAlloc3Frame(npages=4))
    HANDLERS[KmemAlloc3Frame](k, t, t.frames[-1])
    assert (k.gd_vme_avail[t.cpu], k.gd_vme_base[t.cpu]) == (avail - 1, base - 1)
    while isinstance(t.frames[-1], KmemAlloc3Frame):
        HANDLERS[KmemAlloc3Frame](k, t, t.frames[-1])
    assert (t.rv, k.wired - wired) == (1, 4)
