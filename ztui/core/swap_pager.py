"""The swap pager: swap space, swblock metadata, async writes (sys/vm/swap_pager.c at 577b958f5e).

Simplifications: swap space is a count of free blocks (the blist never
fragments, so swp_pager_getswapspace's halving only matters when swap is
nearly full), and a chunk is not trimmed at a SWB_DMMAX stripe boundary
(1681-1690; one swap device, nothing to stripe across).  I/O completes on
a clock tick, so a latency below one tick takes one tick.
"""

from __future__ import annotations

from bisect import insort

from .frames import CONT, DONE, call, emit, kernel_function, ret
from .kern_kmalloc import kfree_obj
from .kern_synch import done_at, now, tsleep, wakeup
from .state import DISK, FlushFrame, IoReq, Kernel, KmallocObjFrame, MetaBuildFrame, Thread, VmObject
from .vm_object import ACTIVE, INACTIVE, queue_add, queue_insert, queue_take
from .vm_page import vm_paging_severe, vm_wait
from .vm_page_queues import BUSY, DIRTY, WINATCFLS
from .vm_pageout import kill_biggest
from .vm_zone import zalloc_interrupt, zfree

SWB_NPAGES = 16
MAX_PAGEOUT_CLUSTER = SWB_NPAGES  # swap_pager.c:125-126
MAXPHYS_PAGES = 128 * 1024 // 4096  # MAXPHYS / PAGE_SIZE (cpu/x86_64/include/param.h:123)
NSW_CLUSTER_MAX = min(MAXPHYS_PAGES, MAX_PAGEOUT_CLUSTER)  # swap_pager_swap_init (420): 16 pages a write
BLIST_MAX_ALLOC = 64
SWAPMETA = "SWAPMETA"
CHAN_PBUF = "nsw_wcount_async"
M_NULLOK_INTWAIT = 0x1602  # the 2021 experiment's M_NULLOK|M_INTWAIT


def object_channel(oid: int) -> str:
    """The wait channel of a page or an object whose pageout is in flight (vm_page_sleep_busy, vm_object_pip_wait)."""
    return f"pip:{oid}"


def swp_sizecheck(k: Kernel) -> None:
    """swp_sizecheck(): maintain swap_pager_almost_full / swap_pager_full."""
    if k.swap_free < k.nswap_lowat:
        if not k.swap_pager_almost_full:
            emit(k, None, "swap", "swap_pager: out of swap space")
            k.swap_pager_almost_full = 1
    else:
        k.swap_pager_full = 0
        if k.swap_free > k.nswap_hiwat:
            k.swap_pager_almost_full = 0


def swp_pager_getswapspace(k: Kernel, t: Thread, n: int) -> int:
    """swp_pager_getswapspace() with swap_pager_putpages' halving (1662-1670); 0 on failure."""
    while k.swap_free < n and n > 4:
        n //= 2
    if k.swap_free >= n:
        k.swap_free -= n
        swp_sizecheck(k)
        return n
    if not k.swap_pager_full:
        k.swap_full_events += 1
        emit(k, t, "swap", f"swap_pager_getswapspace: swap full allocating {n} pages")
    if not k.swap_pager_almost_full:
        k.swap_pager_almost_full = 1
    k.swap_pager_full = 2
    return 0


def swp_pager_freeswapspace(k: Kernel, n: int) -> None:
    k.swap_free += n
    swp_sizecheck(k)


def swap_page_free(k: Kernel, obj: VmObject, pindex: int) -> None:
    """swp_pager_meta_ctl(SWM_FREE): drop one page's swap block, and its swblock when empty."""
    blk = pindex >> 5
    mask = obj.swb.get(blk)
    bit = 1 << (pindex & 31)
    if mask is None or not mask & bit:
        return
    mask &= ~bit
    swp_pager_freeswapspace(k, 1)
    if mask:
        obj.swb[blk] = mask
    else:
        del obj.swb[blk]
        swblock_free(k, obj, blk)


def swp_pager_meta_free_all(k: Kernel, obj: VmObject) -> None:
    """swp_pager_meta_free_all(): on object termination."""
    for blk, mask in list(obj.swb.items()):
        swp_pager_freeswapspace(k, bin(mask).count("1"))
        del obj.swb[blk]
        swblock_free(k, obj, blk)


@kernel_function(FlushFrame)
def vm_pageout_flush(k: Kernel, t: Thread, f: FlushFrame) -> int:
    """vm_pageout_flush() (vm_pageout.c:471) -> swap_pager_putpages() (swap_pager.c:1588-1790).

    The cluster is written in chunks of nsw_cluster_max (16) pages: each
    takes swap space, then an async pbuf (at most 4 in flight), then
    swp_pager_meta_build for every page, then the write, which completes
    in swp_pager_async_iodone.
    """
    obj = k.objects[f.oid]
    if f.pc == 0:  # next chunk: swap space first
        if f.done == f.count:
            return ret(t, f.paged)
        want = min(BLIST_MAX_ALLOC, f.count - f.done, NSW_CLUSTER_MAX)
        n = swp_pager_getswapspace(k, t, want)
        if n == 0:
            pageout_failed(k, obj, f.start + f.done, want)
            f.done += want
            return CONT
        f.chunk, f.built, f.pc = n, 0, 1
    if f.pc == 1:  # getpbuf_kva(&nsw_wcount_async)
        if k.pbufs_free == 0:
            tsleep(k, t, CHAN_PBUF, "wswbuf2", 0, DISK)
            return DONE
        k.pbufs_free -= 1
        f.pc = 2
    if f.pc == 2:  # swp_pager_meta_build for every page of the chunk
        if f.built < f.chunk:
            f.pc = 3
            return call(t, MetaBuildFrame(oid=f.oid, pindex=f.start + f.done + f.built))
        f.pc = 4
    if f.pc == 3:
        f.built += 1
        f.pc = 2
        return CONT
    # f.pc == 4: vn_strategy; the write completes in swp_pager_async_iodone
    first = f.start + f.done
    insort(k.io, IoReq(now(k) + k.cfg.swap_write_units, f.oid, first, f.chunk), key=done_at)
    emit(k, t, "swap", f"swap_pager_putpages: pid {k.threads[obj.owner].pid} pages {first}-{first + f.chunk - 1} written async")
    f.done += f.chunk
    f.paged += f.chunk
    f.pc = 0
    return DONE


def unbusy_pages(k: Kernel, obj: VmObject, start: int, count: int, clean: bool) -> list[tuple[str, int, int, int]]:
    """End the soft-busy of pages [start, start+count) where they lie: (queue, start, count, flags) of each piece."""
    pieces = []
    for qname in (INACTIVE, ACTIVE):
        for s, seq, n, flags in queue_take(k, qname, obj.oid, start, count):
            flags &= ~BUSY
            if clean:
                flags &= ~DIRTY
            queue_insert(k, qname, seq, obj.oid, s, n, flags)
            pieces.append((qname, s, n, flags))
    obj.pip -= count
    wakeup(k, object_channel(obj.oid))
    return pieces


def pageout_failed(k: Kernel, obj: VmObject, start: int, count: int) -> None:
    """VM_PAGER_FAIL (no swap): the pages stay dirty where they are, for a later pass (vm_pageout.c:566-578)."""
    unbusy_pages(k, obj, start, count, clean=False)


def swp_pager_async_iodone(k: Kernel, io: IoReq) -> None:
    """swp_pager_async_iodone() after a write (swap_pager.c:2057-2077).

    Each page is cleaned in place, so the next scan, which starts at the
    head, caches it first; under vm_paging_severe() an active page of the
    cluster is deactivated (to the inactive tail; an inactive page stays
    put, vm_page.c:3364-3372).  The pbuf is freed.
    """
    obj = k.objects.get(io.oid)
    if obj is not None:
        severe = vm_paging_severe(k)
        for qname, s, n, flags in unbusy_pages(k, obj, io.start, io.count, clean=True):
            if qname == ACTIVE and severe:
                queue_take(k, ACTIVE, obj.oid, s, n)
                queue_add(k, INACTIVE, obj.oid, s, n, flags & ~WINATCFLS)
    k.pbufs_free += 1
    wakeup(k, CHAN_PBUF)


@kernel_function(MetaBuildFrame)
def swp_pager_meta_build(k: Kernel, t: Thread, f: MetaBuildFrame) -> int:
    """swp_pager_meta_build() (2335-2400): record a page's swap block, allocating its swblock.

    On a NULL allocation: vm_wait(0); goto retry.  A block already recorded
    for the page is freed first (2378-2391).
    """
    obj = k.objects[f.oid]
    blk = f.pindex >> 5
    bit = 1 << (f.pindex & 31)
    if f.pc == 0:
        mask = obj.swb.get(blk)
        if mask is not None:
            if mask & bit:
                swp_pager_freeswapspace(k, 1)
            obj.swb[blk] = mask | bit
            return ret(t, 1)
        f.pc = 1
        return swblock_alloc_begin(k, t)
    # f.pc == 1: the allocator answered in t.rv (slab id, or -1 for NULL)
    if not swblock_alloc_end(k, t, obj, blk):
        f.pc = 0
        if "nowait-reserve" in k.mitigations and k.swapmeta_kind == "kmalloc_obj":
            swap_zone_exhausted(k, t)
        else:
            vm_wait(k, t, 0)
        return DONE
    obj.swb[blk] = bit
    return ret(t, 1)


def swap_zone_exhausted(k: Kernel, t: Thread) -> None:
    """nowait-reserve, as FreeBSD's swp_pager_meta_build does it: no slab and the reserve is spent,
    so kill the biggest process (vm_pageout_oom(VM_OOM_SWAPZ)) and pause("swzonxb", 10)."""
    emit(k, t, "swap", "swap blk zone exhausted, increase kern.maxswzone")
    kill_biggest(k, t, "swap blk zone exhausted")
    tsleep(k, t, "", "swzonxb", 10)


# --- struct swblock allocation: zalloc(swap_zone) or kmalloc_obj(M_SWAP_SWBLOCK) ---


def swblock_alloc_begin(k: Kernel, t: Thread) -> int:
    """Start allocating a swblock; the answer arrives in t.rv (-1 = NULL)."""
    if k.swapmeta_kind == "zalloc":
        t.rv = 0 if zalloc_interrupt(k, t, k.zones[SWAPMETA]) else -1
        return CONT
    return call(t, KmallocObjFrame(ktype=0, flags=M_NULLOK_INTWAIT))


def swblock_alloc_end(k: Kernel, t: Thread, obj: VmObject, blk: int) -> bool:
    if t.rv < 0:
        return False
    if k.swapmeta_kind == "kmalloc_obj":
        obj.swb_slab[blk] = t.rv
    return True


def swblock_free(k: Kernel, obj: VmObject, blk: int) -> None:
    if k.swapmeta_kind == "zalloc":
        zfree(k.zones[SWAPMETA])
    else:
        kfree_obj(k, k.ktypes[SWAPMETA], obj.swb_slab.pop(blk))
