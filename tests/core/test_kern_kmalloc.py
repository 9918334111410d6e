"""kmalloc_obj, kmem_slab_alloc, the poller and the mitigations' mechanisms
(sys/kern/kern_kmalloc.c, kern_slaballoc.c at 577b958f5e)."""

import pytest

from ztui.core.boot import boot
from ztui.core.kern_kmalloc import (
    KMALLOC_MAXFREEMAGS,
    KMALLOC_SLAB_PAGES,
    M_NULLOK,
    M_USE_INTERRUPT_RESERVE,
    M_USE_RESERVE,
    M_WAITOK,
    kfree_obj,
    kmalloc_poller_thread,
    kmem_slab_free,
    malloc_mgt_init_count,
    malloc_mgt_poll,
    new_slab,
    rotate_in,
    take_reserve,
    try_existing_slabs,
)
from ztui.core.kern_slaballoc import slab_page_class
from ztui.core.simulator import Simulator
from ztui.core.state import PollerFrame
from ztui.core.vm_map import MAP_RESERVE_COUNT
from ztui.core.vm_page import VM_ALLOC_INTERRUPT, VM_ALLOC_NORMAL, VM_ALLOC_SYSTEM
from ztui.scenario.model import KmallocObj, Size

from .helpers import k_free_above_imin, pagedaemon_in_kmalloc_obj, small_scenario, steps, with_allocators


@pytest.mark.parametrize(
    "objsize,count",
    [(64, 1815), (128, 961), (192, 653), (256, 495), (320, 398), (384, 333), (512, 251), (1024, 126), (4096, 31)],
)
def test_objects_per_slab_follow_malloc_mgt_init(objsize, count):
    """malloc_mgt_init (kern_kmalloc.c:272) after ec445c86a5: (128K - 352) / (objsize + 8), then aligned."""
    assert malloc_mgt_init_count(objsize) == count


def test_kfree_into_a_slab_on_the_empty_list_is_seen_only_after_a_poll():
    """_kfree_obj touches no list (928-960); _kmalloc_obj's malloc_mgt_poll_empty_locked finds the object."""
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
    ty.inuse += 1  # one object of it was handed out
    kfree_obj(k, ty, first)
    k.slabs[second].nfree = k.slabs[third].nfree = 0
    assert try_existing_slabs(k, ty, 0) == first
    assert k.slabs[first].where == "active"


@pytest.mark.parametrize(
    "flags,req",
    [
        (M_WAITOK, VM_ALLOC_NORMAL),  # what _kmalloc_obj always passes
        (M_WAITOK | M_USE_RESERVE | M_USE_INTERRUPT_RESERVE | M_NULLOK, VM_ALLOC_NORMAL | VM_ALLOC_SYSTEM | VM_ALLOC_INTERRUPT),
        (0x0001 | M_NULLOK | M_USE_RESERVE, VM_ALLOC_SYSTEM),  # M_NOWAIT: no NORMAL
    ],
)
def test_kmem_slab_alloc_page_class(flags, req):
    """kmem_slab_alloc's M_* -> VM_ALLOC_* mapping, not preempted (kern_slaballoc.c:1719-1746)."""
    assert slab_page_class(flags) == req


def test_m_waitok_holds_the_pages_it_got_and_waits_for_the_rest():
    """kmem_slab_alloc (1748-1760): on NULL with M_WAITOK, vm_wait and retry the same page; pages kept."""
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(10))
    steps(k, pd, 40)
    slab = pd.frames[-1]
    assert slab.fn == "kmem_slab_alloc" and slab.held == 10
    assert pd.wmesg == "VMWait" and pd.wchan == "vm_pageout_pages_needed"
    assert k.free == k.th.v_interrupt_free_min


def test_no_hold_and_wait_gives_the_pages_back_and_returns_null():
    """Mitigation no-hold-and-wait: the held pages go back to PQ_FREE and kmalloc_obj returns NULL."""
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(10), mitigations=("no-hold-and-wait",))
    free_before, wired_before = k.free, k.wired
    steps(k, pd, 40)
    assert len(pd.frames) == 1 and pd.rv == -1, "kmalloc_obj returned NULL"
    assert k.free == free_before, "every page it took was given back"
    assert k.wired == wired_before, "and unwired"
    # boot's avail -8 was refilled to 4 and reserved; vm_map_delete gives the slab's entry back with the other 3
    assert k.gd_vme_avail[pd.cpu] == MAP_RESERVE_COUNT
    assert any("gave back 10 pages" in text for _, _, _, text in k.log)


def test_pass_reserve_flags_reach_vm_page_alloc_as_interrupt_class():
    """Mitigation pass-reserve-flags: M_INTWAIT reaches kmem_slab_alloc, so the slab may take free to 0."""
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=12, mitigations=("pass-reserve-flags",))
    assert 12 < k.th.v_interrupt_free_min, "NORMAL|SYSTEM alone could not take a page here"
    steps(k, pd, 100)
    slab = pd.frames[-1]
    assert slab.fn == "kmem_slab_alloc" and slab.flags & M_USE_INTERRUPT_RESERVE
    assert (slab.held, k.free) == (12, 0), "VM_ALLOC_INTERRUPT took free to zero"


def test_reserved_slab_stands_in_once_and_is_counted_down():
    """Mitigation reserved-slab: when no slab can be had, the reserved one is installed instead."""
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(3), mitigations=("reserved-slab",))
    ty = k.ktypes["SWAPMETA"]
    assert ty.reserved_slab == 1
    steps(k, pd, 20)
    assert len(pd.frames) == 1 and pd.rv >= 0, "an object from the reserved slab"
    assert ty.reserved_slab == 0 and k.slabs[pd.rv].where == "active"
    assert k.free == k.th.v_interrupt_free_min + 3, "the three pages it had taken went back"


def test_pageout_reserve_pages_are_taken_only_by_the_pagers():
    """Mitigation pageout-reserve: vm_page_alloc falls back on the pool for the pagers alone."""
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(0), mitigations=("pageout-reserve",))
    assert k.pageout_reserve == 64
    steps(k, pd, 40)
    assert len(pd.frames) == 1 and pd.rv >= 0, "the slab was assembled from the reserve"
    assert k.pageout_reserve == 64 - 32


def test_nowait_reserve_gives_a_pager_an_object_without_waiting():
    """Mitigation nowait-reserve: kmem_slab_alloc(M_NOWAIT) fails and gives back; the pager takes a reserve object."""
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(3), mitigations=("nowait-reserve",))
    ty = k.ktypes["SWAPMETA"]
    reserve = k.slabs[ty.reserve]
    assert reserve.nfree == ty.ncount
    steps(k, pd, 20)
    assert len(pd.frames) == 1 and pd.rv == ty.reserve
    assert reserve.nfree == ty.ncount - 1 and k.free == k.th.v_interrupt_free_min + 3
    kfree_obj(k, ty, ty.reserve)
    assert reserve.nfree == ty.ncount, "a free refills the reserve"


def test_the_poller_polls_a_type_once_every_poll_types_wakeups():
    """kmalloc_poller_thread (kern_slaballoc.c:477-516): one malloc type per wakeup, over all of them."""
    scenario = with_allocators(small_scenario(), poll_types=5)
    k = boot(scenario, 0)
    ty = k.ktypes["SWAPMETA"]
    for _ in range(6):
        sid = new_slab(k, ty, 0)
        k.slabs[sid].where = "full"
        ty.full.append(sid)
    k.slab_pages += 6 * KMALLOC_SLAB_PAGES
    k.wired += 6 * KMALLOC_SLAB_PAGES
    k.tick = 1000
    poller = k.threads[2]
    retired = []
    for wakeup in range(10):
        if wakeup == 1:
            for _ in range(3):  # three more slabs come free just after the first poll
                sid = new_slab(k, ty, 0)
                k.slabs[sid].where = "full"
                ty.full.append(sid)
            k.slab_pages += 3 * KMALLOC_SLAB_PAGES
            k.wired += 3 * KMALLOC_SLAB_PAGES
        kmalloc_poller_thread(k, poller, PollerFrame(pc=1))
        retired.append(k.kmslab_free[0])
    # slot 0 is SWAPMETA (wakeups 1 and 6); slots 1-4 are other malloc types.  Four slabs are kept.
    assert retired == [2, 2, 2, 2, 2, 5, 5, 5, 5, 5]
    assert k.poll_rotor == 10


def test_the_poller_stays_on_a_type_while_it_retires_a_full_batch():
    """malloc_mgt_poll's donext (kern_kmalloc.c:600-606): four retired and more to go: the same type again."""
    k = boot(with_allocators(small_scenario(), poll_types=190), 0)
    ty = k.ktypes["SWAPMETA"]
    for _ in range(12):
        sid = new_slab(k, ty, 0)
        k.slabs[sid].where = "full"
        ty.full.append(sid)
    k.slab_pages += 12 * KMALLOC_SLAB_PAGES
    k.wired += 12 * KMALLOC_SLAB_PAGES
    k.tick = 1000
    poller = k.threads[2]
    kmalloc_poller_thread(k, poller, PollerFrame(pc=1))
    assert (len(ty.full), k.poll_rotor) == (8, 0)
    kmalloc_poller_thread(k, poller, PollerFrame(pc=1))
    assert (len(ty.full), k.poll_rotor) == (4, 1), "four kept (KMALLOC_MAXFREEMAGS): on to the next type"


def test_a_slab_is_retired_only_after_two_ticks_on_the_full_list():
    """exis_freeable() (exislock2.h:157-160): two pseudo_ticks, about two hardclocks."""
    k = boot(small_scenario(), 0)
    ty = k.ktypes["SWAPMETA"]
    for _ in range(5):
        sid = new_slab(k, ty, 0)
        k.slabs[sid].where, k.slabs[sid].full_since = "full", 100
        ty.full.append(sid)
    k.slab_pages += 5 * KMALLOC_SLAB_PAGES
    k.wired += 5 * KMALLOC_SLAB_PAGES
    poller = k.threads[2]
    k.tick = 101
    kmalloc_poller_thread(k, poller, PollerFrame(pc=1))
    assert len(ty.full) == 5
    k.tick, k.poll_rotor = 102, 0
    kmalloc_poller_thread(k, poller, PollerFrame(pc=1))
    assert len(ty.full) == 4


def test_another_kmalloc_obj_type_drains_the_blank_slabs_swapmeta_would_use():
    """gd_kmslab is shared by every kmalloc_obj type (kern_kmalloc.c:251-270): a workload type takes its blank slabs."""
    scenario = with_allocators(
        small_scenario(kmslab_cache=2, procs=(("make", (("alloc", 1), ("exit", 0))),)),
        kmalloc_obj=(KmallocObj(name="vnode", size=Size(640), owner="make", rate=40000),),
    )
    sim = Simulator.from_scenario(scenario, check_every=1)
    sim.run(max_steps=2000)
    vnode = sim.k.ktypes["vnode"]
    assert vnode.allocated > 0 and sim.k.kmslab_free[0] < 2
    assert vnode.inuse == sum(n for _, _, n in vnode.live)


# --- the mechanisms at their boundaries ------------------------------------------


def test_the_nowait_reserve_hands_out_its_last_object_to_pagers_only():
    """take_reserve: M_USE_RESERVE is the pagers'; the reserve gives until its slab has no free object left."""
    k = boot(small_scenario(mitigations=("nowait-reserve",)), 0)
    ty = k.ktypes["SWAPMETA"]
    pd, user = k.threads[0], k.threads[-1]
    reserve = k.slabs[ty.reserve]
    reserve.nfree = 1
    assert take_reserve(k, user, ty) == -1, "a process never takes from the pagers' reserve"
    assert take_reserve(k, pd, ty) == ty.reserve and reserve.nfree == 0 and ty.reserve_taken == 1
    assert take_reserve(k, pd, ty) == -1


def test_a_retired_slab_refills_the_reserved_slab_once_then_gd_kmslab():
    """malloc_mgt_poll with reserved-slab: the first retired slab becomes the reserved one (at most one), the next is a blank slab."""
    k = boot(small_scenario(mitigations=("reserved-slab",)), 0)
    ty = k.ktypes["SWAPMETA"]
    ty.reserved_slab = 0
    for _ in range(KMALLOC_MAXFREEMAGS + 2):
        sid = new_slab(k, ty, 0)
        k.slabs[sid].where, k.slabs[sid].full_since = "full", 0
        ty.full.append(sid)
    k.tick = 10
    assert malloc_mgt_poll(k, k.threads[2], ty) == 2
    assert (ty.reserved_slab, k.kmslab_free[0]) == (1, 1)


def test_kmem_slab_free_returns_the_slabs_32_pages_to_pq_free():
    k = boot(small_scenario(), 0)
    k.slab_pages += KMALLOC_SLAB_PAGES
    k.wired += KMALLOC_SLAB_PAGES
    k.free -= KMALLOC_SLAB_PAGES
    free, wired = k.free, k.wired
    kmem_slab_free(k)
    assert (k.free, k.wired, k.slab_pages) == (free + KMALLOC_SLAB_PAGES, wired - KMALLOC_SLAB_PAGES, 0)


def test_a_partly_used_slab_is_taken_before_a_wholly_free_one():
    """_kmalloc_obj (kern_kmalloc.c:790-830): the global partial list first, the full (all free) list after."""
    k = boot(small_scenario(), 0)
    ty = k.ktypes["SWAPMETA"]
    full, partial = new_slab(k, ty, 0), new_slab(k, ty, 0)
    k.slabs[partial].nfree -= 1
    k.slabs[full].where, k.slabs[partial].where = "full", "partial"
    ty.full.append(full)
    ty.partial.append(partial)
    assert try_existing_slabs(k, ty, 0) == partial


def test_a_slab_from_kmem_slab_alloc_is_counted_and_wired():
    """kmalloc_obj after kmem_slab_alloc: slabs_allocated counts it, its 32 pages are wired slab pages."""
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=1000)  # 8 MiB: well above v_free_reserved
    ty = k.ktypes["SWAPMETA"]
    wired, slab_pages = k.wired, k.slab_pages
    steps(k, pd, 100)
    assert len(pd.frames) == 1 and pd.rv >= 0
    assert (ty.slabs_allocated, k.slab_pages - slab_pages, k.wired - wired) == (1, 32, 32)


def test_without_a_reserved_slab_left_the_mitigation_waits_like_the_kernel():
    """reserved-slab stands in only while one is left: with none, kmem_slab_alloc holds its pages and waits."""
    sim, k, pd = pagedaemon_in_kmalloc_obj(free=k_free_above_imin(3), mitigations=("reserved-slab",))
    ty = k.ktypes["SWAPMETA"]
    ty.reserved_slab = 0
    steps(k, pd, 20)
    assert pd.frames[-1].fn == "kmem_slab_alloc" and pd.wmesg == "VMWait"
    assert ty.reserved_slab == 0
