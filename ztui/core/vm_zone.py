"""The zone allocator (sys/vm/vm_zone.c): zalloc, zget, zfree.

Simplification: a zone's per-CPU pools and its global pool are merged into
one free count (zone_burst only moves items between them); zfreemin is
kept back exactly as the kernel keeps it back.
"""

from __future__ import annotations

from . import hazard
from .frames import DONE, call, emit, kernel_function, ret
from .kern_synch import made_progress, tsleep, wakeup
from .state import DISK, Kernel, KmemAlloc3Frame, Thread, ZallocFrame, Zone
from .vm_page import VM_ALLOC_INTERRUPT, VM_ALLOC_NORMAL, VM_ALLOC_SYSTEM, vm_page_alloc_n

PAGE_SIZE = 4096
ZONE_MAXPGLOAD = 32
ZONE_ROUNDING = 32
MAPENTRY = "MAP ENTRY"


def zone_refill_items(z: Zone, npages: int) -> int:
    """Map ``npages`` more pages into the zone; returns the new whole items."""
    z.zpagecount += npages
    z.zbytes += npages * PAGE_SIZE
    new = z.zbytes // z.zsize - z.ztotal
    z.ztotal += new
    return new


def zalloc_interrupt(k: Kernel, t: Thread, z: Zone) -> bool:
    """zalloc() on a ZONE_INTERRUPT zone: never blocks; False means NULL."""
    if z.zfreecnt > z.zfreemin:
        z.zfreecnt -= 1
        z.inuse += 1
        return True
    return zget_interrupt(k, t, z)


def zget_interrupt(k: Kernel, t: Thread, z: Zone) -> bool:
    """zget() for ZONE_INTERRUPT: map up to 32 pages into the reserved KVA.

    Pages 0-3 use SYSTEM|INTERRUPT|NORMAL (may take the last free page), the
    rest NORMAL|SYSTEM; the first NULL ends the refill.  Without new pages
    the zfreemin stock is handed out.
    """
    want = min(ZONE_MAXPGLOAD, z.zpagemax - z.zpagecount) if z.zpagemax else ZONE_MAXPGLOAD
    first = min(4, want)
    got = vm_page_alloc_n(k, t, VM_ALLOC_SYSTEM | VM_ALLOC_NORMAL | VM_ALLOC_INTERRUPT, first)
    if got == first:
        got += vm_page_alloc_n(k, t, VM_ALLOC_SYSTEM | VM_ALLOC_NORMAL, want - first)
    hazard.zone_refill(k, t, got, want)
    if got:
        k.wired += got
        z.zfreecnt += zone_refill_items(z, got)
        made_progress(k)
        emit(k, t, "zalloc", f"zget({z.name}): mapped {got} pages, {z.zfreecnt} items free")
    if z.zfreecnt > 0:
        if not got:
            emit(k, t, "zalloc", f"zget({z.name}): no page; zfreemin stock {z.zfreecnt} -> {z.zfreecnt - 1}")
        z.zfreecnt -= 1
        z.inuse += 1
        return True
    emit(k, t, "zalloc", f"zalloc({z.name}): NULL, no page and the zfreemin stock is empty")
    return False


def zfree(z: Zone) -> None:
    """zfree(): the item goes back to the pool; memory never returns to the VM."""
    z.zfreecnt += 1
    z.inuse -= 1


@kernel_function(ZallocFrame)
def zalloc_special(k: Kernel, t: Thread, f: ZallocFrame) -> int:
    """zalloc(mapentzone): the ZONE_SPECIAL MAP ENTRY zone, whose refill blocks.

    zget takes zgetlk (LK_SLEEPFAIL: after sleeping, retry from the top),
    refills through kmem_alloc3(KM_KRESERVE), re-normalises this CPU's
    gd_vme_avail to 2 straight from the new page, and returns one item.
    """
    z = k.zones[MAPENTRY]
    if f.pc == 0:
        if z.zfreecnt > z.zfreemin:
            z.zfreecnt -= 1
            z.inuse += 1
            return ret(t, 1)
        if z.zgetlk >= 0 and z.zgetlk != t.tid:
            tsleep(k, t, "zgetlk", "zgetlk", 0, DISK)
            return DONE
        z.zgetlk = t.tid
        f.pc = 1
        return call(t, KmemAlloc3Frame(npages=ZONE_MAXPGLOAD))
    new = zone_refill_items(z, ZONE_MAXPGLOAD)
    cpu = t.cpu
    while k.gd_vme_avail[cpu] < 2 and new > 1:
        k.gd_vme_base[cpu] += 1
        k.gd_vme_avail[cpu] += 1
        new -= 1
    z.zfreecnt += new - 1
    z.inuse += 1
    z.zgetlk = -1
    wakeup(k, "zgetlk")
    emit(k, t, "zalloc", f"zget({z.name}): kmem_alloc3 refill, {z.zfreecnt} items free")
    return ret(t, 1)
