"""The swap pager: swap space, swblock metadata, async writes (sys/vm/swap_pager.c).

Simplifications: swap space is a free-block count (the blist never
fragments), a cluster is not trimmed at SWB_DMMAX stripes, and a finished
write puts its pages back at the inactive tail (in the kernel they stay at
their queue position, which the next scan reaches about as late).
"""

from __future__ import annotations

from .frames import CONT, DONE, call, emit, kernel_function, ret
from .kern_kmalloc import kfree_obj
from .kern_synch import tsleep, wakeup
from .state import DIRTY, DISK, WINATCFLS, Frame, IoReq, Kernel, Thread, VmObject
from .vm_object import INACTIVE, enqueue
from .vm_page import vm_wait
from .vm_zone import zalloc_interrupt, zfree

BLIST_MAX_ALLOC = 64
SWAPMETA = "SWAPMETA"
CHAN_PBUF = "nsw_wcount_async"
M_NULLOK_INTWAIT = 0x1602  # the 2021 experiment's M_NULLOK|M_INTWAIT


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
    """swp_pager_getswapspace() with swap_pager_putpages' halving; 0 on failure."""
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


@kernel_function("vm_pageout_flush")
def vm_pageout_flush(k: Kernel, t: Thread, f: Frame) -> int:
    """vm_pageout_flush() -> swap_pager_putpages() for one soft-busied cluster.

    Locals: a=oid, b=next pindex, c=pages left, d=chunk size, e=page in chunk.
    """
    obj = k.objects[f.a]
    if f.pc == 0:  # next chunk: swap space first
        if f.c == 0:
            return ret(t, 0)
        n = swp_pager_getswapspace(k, t, min(BLIST_MAX_ALLOC, f.c))
        if n == 0:
            fail_cluster(k, obj, f.b, f.c)
            return ret(t, 0)
        f.d, f.e, f.pc = n, 0, 1
    if f.pc == 1:  # getpbuf_kva(&nsw_wcount_async)
        if k.pbufs_free == 0:
            tsleep(k, t, CHAN_PBUF, "wswbuf2", 0, DISK)
            return DONE
        k.pbufs_free -= 1
        f.pc = 2
    if f.pc == 2:  # swp_pager_meta_build for every page of the chunk
        if f.e < f.d:
            f.pc = 3
            return call(t, "swp_pager_meta_build", f.a, f.b + f.e)
        f.pc = 4
    if f.pc == 3:
        f.e += 1
        f.pc = 2
        return CONT
    # f.pc == 4: vn_strategy; the write completes in swp_pager_async_iodone
    k.io.append(IoReq(k.tick + k.cfg.swap_write_ticks, f.a, f.b, f.d))
    emit(k, t, "swap", f"swap_pager_putpages: {obj.owner} pages {f.b}-{f.b + f.d - 1} written async")
    f.b += f.d
    f.c -= f.d
    f.pc = 0
    return DONE



def fail_cluster(k: Kernel, obj: VmObject, start: int, count: int) -> None:
    """VM_PAGER_FAIL: the pages stay dirty on the inactive queue for a later retry."""
    unbusy(k, obj, start, count)
    enqueue(k, obj.inactive, start, count, DIRTY | WINATCFLS)


def unbusy(k: Kernel, obj: VmObject, start: int, count: int) -> None:
    end = start + count
    kept = []
    for s, c in obj.busy:
        e = s + c
        if e <= start or s >= end:
            kept.append((s, c))
            continue
        if s < start:
            kept.append((s, start - s))
        if e > end:
            kept.append((end, e - end))
    obj.busy = kept
    wakeup(k, f"busy:{obj.oid}")


def swp_pager_async_iodone(k: Kernel, io: IoReq) -> None:
    """swp_pager_async_iodone(): the pages are clean and stay inactive; the pbuf is freed."""
    obj = k.objects.get(io.oid)
    if obj is not None:
        unbusy(k, obj, io.start, io.count)
        enqueue(k, getattr(obj, INACTIVE), io.start, io.count, 0)
    k.pbufs_free += 1
    wakeup(k, CHAN_PBUF)
    k.progress_tick = k.tick


@kernel_function("swp_pager_meta_build")
def swp_pager_meta_build(k: Kernel, t: Thread, f: Frame) -> int:
    """swp_pager_meta_build(): record a page's swap block, allocating its swblock.

    Locals: a=oid, b=pindex.  On a NULL allocation: vm_wait(0); goto retry.
    """
    obj = k.objects[f.a]
    blk = f.b >> 5
    bit = 1 << (f.b & 31)
    if f.pc == 0:
        mask = obj.swb.get(blk)
        if mask is not None:
            obj.swb[blk] = mask | bit
            return ret(t, 1)
        f.pc = 1
        return swblock_alloc_begin(k, t)
    # f.pc == 1: the allocator answered in t.rv (slab id, or -1 for NULL)
    if not swblock_alloc_end(k, t, obj, blk):
        f.pc = 0
        vm_wait(k, t, 0)
        return DONE
    obj.swb[blk] = bit
    return ret(t, 1)


# --- struct swblock allocation: zalloc(swap_zone) or kmalloc_obj(M_SWAP_SWBLOCK) ---


def swblock_alloc_begin(k: Kernel, t: Thread) -> int:
    """Start allocating a swblock; the answer arrives in t.rv (-1 = NULL)."""
    if k.swapmeta_kind == "zalloc":
        t.rv = 0 if zalloc_interrupt(k, t, k.zones[SWAPMETA]) else -1
        return CONT
    return call(t, "kmalloc_obj", 0, M_NULLOK_INTWAIT)


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
