"""The per-CPU map-entry reserve (sys/vm/vm_map.c).

gd_vme_base counts the entries on this CPU's free list and gd_vme_avail
the ones not yet promised; base - avail - (outstanding reservations) is
the hidden cushion H that only vm_map_entry_kreserve may eat into
(reference §10.2).
"""

from __future__ import annotations

from .frames import DONE, call, emit, kernel_function, ret
from .kern_kmalloc import M_WAITOK, MAPENTRY_TYPE, TYPE_NAMES, kfree_obj
from .state import Kernel, KmallocObjFrame, ReserveFrame, Thread, Verdict, ZallocFrame

MAP_RESERVE_COUNT = 4
MAP_RESERVE_SLOP = 512
MAP_RESERVE_HYST = MAP_RESERVE_SLOP - MAP_RESERVE_SLOP // 8
RECURSION_REPORT_DEPTH = 3
MAPENTRY = TYPE_NAMES[MAPENTRY_TYPE]


@kernel_function(ReserveFrame)
def vm_map_entry_reserve(k: Kernel, t: Thread, f: ReserveFrame) -> int:
    """vm_map_entry_reserve(count) (vm_map.c:909-931): refill this CPU's cache until avail >= count.

    Each missing entry comes from zalloc(mapentzone), or from kmalloc_obj
    when MAP ENTRY is on kmalloc_obj: then kmem_slab_alloc calls back in
    here before anything was credited, and the nesting repeats without end.
    """
    cpu = t.cpu
    if f.pc == 0:
        f.pc = 1
    if f.pc == 2:  # an entry arrived
        k.gd_vme_base[cpu] += 1
        k.gd_vme_avail[cpu] += 1
        f.pc = 1
    if k.gd_vme_avail[cpu] >= f.count:
        k.gd_vme_avail[cpu] -= f.count
        return ret(t, f.count)
    f.pc = 2
    if k.mapentry_kind == "zalloc":
        return call(t, ZallocFrame())
    depth = reserve_nesting(t)
    if depth >= RECURSION_REPORT_DEPTH:
        k.verdict = Verdict.RECURSION
        emit(
            k,
            t,
            "vm_map",
            f"vm_map_entry_reserve: nested {depth} deep with gd_vme_avail {k.gd_vme_avail[cpu]} unchanged:"
            " unbounded recursion (the kernel would overflow its stack)",
        )
        return DONE
    return call(t, KmallocObjFrame(ktype=MAPENTRY_TYPE, flags=M_WAITOK))


def reserve_nesting(t: Thread) -> int:
    """How many vm_map_entry_reserve frames this thread has entered, with no entry credited."""
    return sum(1 for fr in t.frames if isinstance(fr, ReserveFrame))


def vm_map_entry_release(k: Kernel, cpu: int, count: int) -> None:
    """vm_map_entry_release(): credit avail; trim the cache past MAP_RESERVE_SLOP."""
    k.gd_vme_avail[cpu] += count
    if k.gd_vme_avail[cpu] > MAP_RESERVE_SLOP:
        excess = k.gd_vme_avail[cpu] - MAP_RESERVE_HYST
        k.gd_vme_avail[cpu] -= excess
        k.gd_vme_base[cpu] -= excess
        mapent_free(k, excess)


def vm_map_entry_kreserve(k: Kernel, cpu: int, count: int) -> int:
    """vm_map_entry_kreserve(): never refills; may drive avail negative into the cushion."""
    k.gd_vme_avail[cpu] -= count
    return count


def vm_map_entry_krelease(k: Kernel, cpu: int, count: int) -> None:
    k.gd_vme_avail[cpu] += count


def vm_map_entry_create(k: Kernel, cpu: int, count: int) -> int:
    """vm_map_entry_create(): pop one entry off gd_vme_base; returns the reservation left."""
    k.gd_vme_base[cpu] -= 1
    if k.gd_vme_base[cpu] < 0:
        emit(k, None, "vm_map", f"panic: vm_map_entry_create: cpu{cpu} gd_vme_base is empty")
    return count - 1


def vm_map_entry_dispose(k: Kernel, cpu: int, count: int, n: int = 1) -> int:
    """vm_map_entry_dispose(): entries go back on gd_vme_base; the reservation grows."""
    k.gd_vme_base[cpu] += n
    return count + n


def mapent_free(k: Kernel, n: int) -> None:
    """zfree(mapentzone) or kfree_obj of trimmed entries.

    Simplification for kmalloc_obj: entries are credited to CPU 0's active
    slab, since the model does not track which slab each entry came from.
    """
    if k.mapentry_kind == "zalloc":
        z = k.zones[MAPENTRY]
        z.zfreecnt += n
        z.inuse -= n
        return
    ty = k.ktypes[MAPENTRY]
    sid = ty.active[0]
    for _ in range(min(n, ty.inuse)):
        if sid < 0 or k.slabs[sid].nfree >= k.slabs[sid].ncount:
            break
        kfree_obj(k, ty, sid)
