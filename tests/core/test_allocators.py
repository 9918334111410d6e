import pytest

from ztui.core.boot import boot
from ztui.core.kern_kmalloc import (
    kfree_obj,
    malloc_mgt_init_count,
    new_slab,
    rotate_in,
    try_existing_slabs,
)
from ztui.core.vm_map import MAP_RESERVE_COUNT
from ztui.core.vm_object import enqueue
from ztui.core.vm_page import (
    VM_ALLOC_INTERRUPT,
    VM_ALLOC_NORMAL,
    VM_ALLOC_QUICK,
    VM_ALLOC_SYSTEM,
    vm_page_alloc,
)
from ztui.core.vm_zone import zalloc_interrupt
from ztui.core.vmstats import compute_thresholds

from .helpers import small_scenario


@pytest.mark.parametrize(
    "objsize,count",
    [(64, 1815), (128, 961), (192, 653), (256, 495), (320, 398), (384, 333), (512, 251), (1024, 126), (4096, 31)],
)
def test_objects_per_slab_follow_malloc_mgt_init(objsize, count):
    assert malloc_mgt_init_count(objsize) == count


def two_gib_kernel(free, cache):
    """2 GiB thresholds, with ``cache`` clean file pages on PQ_CACHE."""
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    k.th = compute_thresholds(524288)
    vnode = k.objects[k.threads[-1].vnode]
    if cache:
        enqueue(k, vnode.cache, 0, cache, 0)
    vnode.resident = cache
    k.free, k.cache = free, cache
    return k


@pytest.mark.parametrize(
    "req,free,cache,ok",
    [
        (VM_ALLOC_QUICK, 1349, 0, True),
        (VM_ALLOC_QUICK, 1348, 5000, False),  # QUICK never uses the cache
        (VM_ALLOC_NORMAL, 1000, 349, True),  # drains cache until free >= reserved
        (VM_ALLOC_NORMAL, 1000, 348, False),
        (VM_ALLOC_NORMAL | VM_ALLOC_SYSTEM, 300, 43, True),  # free+cache > interrupt_free_min
        (VM_ALLOC_NORMAL | VM_ALLOC_SYSTEM, 300, 42, False),
        (VM_ALLOC_SYSTEM, 343, 0, True),
        (VM_ALLOC_SYSTEM, 343, 1, False),  # SYSTEM alone only dips while the cache is empty
        (VM_ALLOC_SYSTEM | VM_ALLOC_INTERRUPT, 1, 0, True),
        (VM_ALLOC_SYSTEM | VM_ALLOC_INTERRUPT, 0, 100, False),
    ],
)
def test_vm_page_alloc_classes(req, free, cache, ok):
    k = two_gib_kernel(free, cache)
    before = k.vm_pageout_deficit
    assert vm_page_alloc(k, None, req) is ok
    assert k.vm_pageout_deficit == before + (0 if ok else 1)


def test_systhread_gets_system_added():
    k = two_gib_kernel(300, 43)
    pagedaemon = k.threads[0]
    assert pagedaemon.systhread
    assert vm_page_alloc(k, pagedaemon, VM_ALLOC_NORMAL)
    user = two_gib_kernel(300, 43)
    assert not vm_page_alloc(user, None, VM_ALLOC_NORMAL)


def test_swapmeta_zone_geometry_on_2_gib():
    k = boot(small_scenario(physmem_mib=2048, swapmeta="zalloc"), 0)
    z = k.zones["SWAPMETA"]
    assert (z.zsize, z.zfreemin, z.zpagemax) == (320, 12, 275942)
    assert z.ztotal == 409  # one 32-page refill at zinit: 131072 / 320


def test_zalloc_hands_out_its_zfreemin_stock_when_no_page_can_be_had():
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    z = k.zones["SWAPMETA"]
    z.zfreecnt = z.zfreemin
    k.free, k.cache = 0, 0
    assert zalloc_interrupt(k, k.threads[0], z)
    assert z.zfreecnt == z.zfreemin - 1
    z.zfreecnt = 0
    assert not zalloc_interrupt(k, k.threads[0], z)


def test_zalloc_refill_takes_the_last_free_page_with_interrupt():
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    z = k.zones["SWAPMETA"]
    z.zfreecnt = z.zfreemin
    k.free, k.cache = 1, 0
    assert zalloc_interrupt(k, k.threads[0], z)
    assert k.free == 0 and z.zpagecount == 33


def test_kfree_into_a_slab_on_the_empty_list_is_seen_only_after_a_poll():
    k = boot(small_scenario(), 0)
    ty = k.ktypes["SWAPMETA"]
    first = new_slab(k, ty, 0)
    rotate_in(k, ty, 0, first)
    k.slabs[first].nfree = 0
    second = new_slab(k, ty, 0)
    rotate_in(k, ty, 0, second)
    third = new_slab(k, ty, 0)
    rotate_in(k, ty, 0, third)  # first goes to the global "empty" list
    assert k.slabs[first].where == "empty"
    kfree_obj(k, ty, first)
    ty.inuse += 1  # that object had been handed out before the test forced nfree to 0
    k.slabs[second].nfree = k.slabs[third].nfree = 0
    assert try_existing_slabs(k, ty, 0) == first  # found by malloc_mgt_poll_empty_locked
    assert k.slabs[first].where == "active"


def test_map_entry_cushion_at_boot():
    k = boot(small_scenario(), 0)
    assert k.gd_vme_avail[0] == -2 * MAP_RESERVE_COUNT
    assert k.gd_vme_base[0] - k.gd_vme_avail[0] == 265  # H on the BSP
