"""zalloc for the SWAPMETA ZONE_INTERRUPT zone (sys/vm/vm_zone.c:89-160, 516-600 at 577b958f5e)."""

from ztui.core.boot import boot
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
