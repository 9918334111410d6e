"""The buffer cache's page allocation and release (sys/kern/vfs_bio.c:4263-4336, 1798-1840 at 577b958f5e)."""

import pytest

from ztui.core import vm_page as V
from ztui.core.simulator import Simulator
from ztui.core.vfs_bio import TRY_LAST, TRY_NORMAL, TRY_SYSTEM, bio_page_alloc, brelse_pages

from .helpers import queue_pages, small_scenario, two_gib_kernel


@pytest.mark.parametrize(
    "free,cache,got,next_try",
    [
        (1349, 0, True, TRY_NORMAL),  # NORMAL succeeds at v_free_reserved
        (343, 0, True, TRY_NORMAL),  # NORMAL fails, NORMAL|SYSTEM succeeds above v_interrupt_free_min
        (342, 0, False, TRY_LAST),  # both fail: vm_wait(hz/20+1), then the last try
    ],
)
def test_bio_page_alloc_retries_with_the_system_reserve(free, cache, got, next_try):
    """bio_page_alloc: NORMAL, then NORMAL|SYSTEM for a user thread: a read goes below v_free_severe."""
    k = two_gib_kernel(free, cache)
    reader = k.threads[-1]
    assert bio_page_alloc(k, reader, TRY_NORMAL, 16) == (got, next_try)
    if not got:
        assert reader.wmesg == "vmwait" and reader.wake_tick - k.tick == k.hz // 20 + 1
        # each failed vm_page_alloc counts one; bio_page_alloc adds the buffer's missing pages
        assert k.vm_pageout_deficit == 1 + 16 + 1


def test_after_the_last_try_fails_the_reader_waits_half_a_second():
    k = two_gib_kernel(100)
    reader = k.threads[-1]
    assert bio_page_alloc(k, reader, TRY_LAST, 16) == (False, TRY_NORMAL)
    assert reader.wake_tick - k.tick == k.hz // 2 + 1


def test_a_systhread_reading_may_take_free_pages_to_zero():
    """bio_page_alloc: a TDF_SYSTHREAD gets NORMAL|SYSTEM|INTERRUPT on the second try."""
    k = two_gib_kernel(1)
    pagedaemon = k.threads[0]
    assert bio_page_alloc(k, pagedaemon, TRY_SYSTEM, 1) == (True, TRY_NORMAL)
    assert k.free == 0


@pytest.mark.parametrize("free,queue", [(2684, "cache"), (2685 + 16, "inactive")])
def test_a_released_buffers_pages_go_to_the_cache_under_vm_paging_min(free, queue):
    """b[q]relse (1798-1840): vm_paging_min() -> vm_page_try_to_cache, else they stay on their queue."""
    k = two_gib_kernel(free)
    vnode = k.threads[-1].vnode
    k.wired += 16
    k.bio_pages += 16
    brelse_pages(k, vnode, 0, 16)
    assert len(queue_pages(k, queue)) == 16
    assert k.bio_pages == 0


def test_a_read_goes_on_while_faults_wait_for_severe_to_pass():
    """Faults stop at vm_paging_severe() (vm_fault.c:1738); the buffer cache's NORMAL|SYSTEM does not."""
    scenario = small_scenario(
        physmem_mib=16, swap_mib=16, swapmeta="zalloc",
        procs=(("hog", (("alloc", 20), ("exit", 0))), ("make", (("read", 8), ("exit", 0)))),
    )
    sim = Simulator.from_scenario(scenario, check_every=1)
    k = sim.k
    hog, make = k.threads[-2], k.threads[-1]
    read_while_severe = 0
    while sim.step() and sim.step_count < 300_000:
        held = make.frames[0].npages if make.frames else 0
        if hog.wmesg == "pfault" and k.free < k.th.v_free_reserved and make.state == "R":
            before = held
            sim.step(tid=make.tid) if make.tid in sim.runnable() else None
            if make.frames and make.frames[0].npages > before:
                read_while_severe += 1
    assert read_while_severe, "the reader never got a page while faults were held at severe"


def test_a_buffer_released_to_the_cache_wakes_a_waiting_pager():
    """brelse under low memory puts the pages on PQ_CACHE and runs vm_page_free_wakeup: the pagers' VMWait ends
    once free+cache reaches v_pageout_free_min (678 at 2 GiB)."""
    k = two_gib_kernel(600)
    pd = k.threads[0]
    assert V.vm_wait(k, pd, 0)
    vnode = k.objects[k.threads[-1].vnode]
    k.wired += 78
    k.bio_pages += 78
    assert brelse_pages(k, vnode.oid, 0, 78) == "cache"
    assert pd.state == "R" and not pd.timed_out
