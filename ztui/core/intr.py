"""Network receive: em(4)'s RX ring, mbuf clusters and the reader's socket buffer.

em_rxeof() hands each received packet up and refills its ring slot with
em_newbuf(M_NOWAIT) (if_em.c:3369, 3735-3738): m_getcl -> mclmeta_ctor ->
kmalloc(MCLBYTES, M_MBUFCL, M_NOWAIT) (uipc_mbuf.c:612-620).  When the
kmalloc zone has no free 2 KiB chunk, _kmalloc takes a new 128 KiB zone
from kmem_slab_alloc(ZoneSize, M_NOWAIT|M_ZERO): 32 pages of class
VM_ALLOC_SYSTEM (M_USE_RESERVE; no NORMAL without M_WAITOK), all or none
(kern_slaballoc.c:1719-1790).  If the refill fails the packet is dropped
and its mbuf stays in the ring (iqdrops), so the ring never grows.  A
delivered packet waits in the reader's socket buffer, bounded by its
limit (sb_max, 512 KiB); past it the packet is dropped and its cluster
freed.  The reader empties the buffer while it is not blocked in the
kernel.

Simplifications: one 2 KiB cluster per packet, no mbuf headers, and no
objcache magazines (they only cache clusters, so fewer zone refills).
Freed clusters stay in their zones: a kmalloc zone goes back to the VM only
when more than ZoneRelsThresh (32) are free (kern_slaballoc.c:904-918),
and the NIC never holds that many with the default ring and socket buffer
(512 + 256 clusters = 12 zones).
"""

from __future__ import annotations

from .frames import DONE, emit, kernel_function
from .kern_synch import tsleep
from .state import IthreadFrame, Kernel, Thread
from .vm_page import VM_ALLOC_SYSTEM, vm_page_alloc_n, vm_page_free_toq

MCLBYTES = 2048
ZONE_PAGES = 32  # ZoneSize 128 KiB
ZONE_CLUSTERS = ZONE_PAGES * 4096 // MCLBYTES
KERNEL_WAITS = frozenset({"pfault", "vmwait", "VMWait", "swread", "biord", "vmpfw", "vmopar", "objtrm1", "objtrm2", "zgetlk", "wswbuf2"})


def zone_alloc_nowait(k: Kernel, t: Thread) -> bool:
    """kmem_slab_alloc(128K, M_NOWAIT): 32 SYSTEM-class pages, or none (the partial ones are freed)."""
    got = vm_page_alloc_n(k, t, VM_ALLOC_SYSTEM, ZONE_PAGES)
    if got < ZONE_PAGES:
        vm_page_free_toq(k, got, source=False)
        return False
    k.wired += ZONE_PAGES
    k.nic_zones += 1
    return True


def reader_blocked(k: Kernel) -> bool:
    """The socket's reader is asleep in the kernel, so it reads nothing."""
    tid = k.cfg.intr_consumer
    return tid >= 0 and k.threads[tid].state != "R" and k.threads[tid].wmesg in KERNEL_WAITS


def socket_room(k: Kernel) -> int:
    """Clusters the reader's socket buffer may still take; none once the reader is gone."""
    tid = k.cfg.intr_consumer
    if tid >= 0 and k.threads[tid].finished:
        return 0
    return k.cfg.intr_sockbuf - k.sockbuf_clusters


@kernel_function(IthreadFrame)
def ithread(k: Kernel, t: Thread, f: IthreadFrame) -> int:
    """em_rxeof() for one tick's packets, then wait for the next interrupt."""
    want = k.cfg.intr_rate * (k.tick + 1) // k.hz - t.done
    t.done += want
    free_clusters = k.nic_zones * ZONE_CLUSTERS - k.nic_clusters
    keep = min(want, socket_room(k))
    short = keep + (1 if want > keep else 0) - free_clusters
    while short > 0 and zone_alloc_nowait(k, t):
        free_clusters += ZONE_CLUSTERS
        short -= ZONE_CLUSTERS
    kept = min(keep, free_clusters)
    passed = want - kept if kept == keep and free_clusters > kept else 0
    dropped = want - kept - passed
    if kept:
        k.nic_clusters += kept
        k.sockbuf_clusters += kept
        k.sockbuf.append((k.tick + k.cfg.intr_hold_ticks, kept))
    if dropped:
        k.intr_dropped += dropped
        if f.dropping == 0:
            emit(
                k, t, "intr",
                f"em0: kmalloc(MCLBYTES, M_NOWAIT) failed (a new zone needs 32 VM_ALLOC_SYSTEM pages; free {k.free},"
                f" cache {k.cache}): dropping packets",
            )
        f.dropping += dropped
    else:
        f.dropping = 0
    tsleep(k, t, "", "iwait", 1)
    return DONE


def soreceive(k: Kernel) -> None:
    """The reader takes its data: clusters whose wait is over go back to their zones.

    A reader asleep in the kernel reads nothing; one that exited closed its
    socket, which frees what was queued.
    """
    tid = k.cfg.intr_consumer
    gone = tid >= 0 and k.threads[tid].finished
    if not gone and reader_blocked(k):
        return
    sb = k.sockbuf
    n = 0
    while sb and (gone or sb[0][0] <= k.tick):
        n += sb.popleft()[1]
    k.sockbuf_clusters -= n
    k.nic_clusters -= n
