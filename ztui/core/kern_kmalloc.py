"""kmalloc_obj (sys/kern/kern_kmalloc.c): per-type slabs and the poller.

Note the kernel's inverted list names: ``full`` holds slabs whose objects
are all free, ``empty`` slabs with no free object.  A kfree_obj touches no
list, so an object freed into a slab on ``empty`` is found only by a poll.
"""

from __future__ import annotations

from .frames import CONT, DONE, call, emit, kernel_function, ret
from .kern_synch import tsleep
from .state import Kernel, KmallocObjFrame, KmallocType, PollerFrame, Slab, SlabAllocFrame, Thread
from .vm_page import vm_page_free_toq

KMALLOC_SLAB_SIZE = 128 * 1024
KMALLOC_SLAB_PAGES = KMALLOC_SLAB_SIZE // 4096
SLAB_HEADER = 352  # offsetof(struct kmalloc_slab, fobjs[0]) on x86_64
CACHELINE = 64
KMALLOC_MAXFREEMAGS = 4
KZONE_BRETIRE = 4
KMGD_MAXFREESLABS = 128
POLL_EMPTY = 16
TYPE_NAMES = ("SWAPMETA", "MAP ENTRY")

# kmem_slab_alloc's answers to _kmalloc_obj (kern_slaballoc.py)
SLAB_NULL, SLAB_ALLOCATED, SLAB_RESERVED = 0, 1, 2

M_WAITOK = 0x0002
M_USE_RESERVE = 0x0200
M_NULLOK = 0x0400
M_USE_INTERRUPT_RESERVE = 0x1000


def cacheline_align(n: int) -> int:
    return (n + CACHELINE - 1) & ~(CACHELINE - 1)


def malloc_mgt_init_count(objsize: int) -> int:
    """malloc_mgt_init(): objects per 128 KiB slab after ec445c86a5."""
    count = (KMALLOC_SLAB_SIZE - SLAB_HEADER) // (objsize + 8)
    offset = cacheline_align(SLAB_HEADER + 8 * count)
    while offset + objsize * count > KMALLOC_SLAB_SIZE:
        count -= 1
    return count


def new_slab(k: Kernel, ty: KmallocType, cpu: int) -> int:
    """Format a slab (its 32 pages are already counted in slab_pages)."""
    sid = k.next_sid
    k.next_sid += 1
    k.slabs[sid] = Slab(sid=sid, ncount=ty.ncount, nfree=ty.ncount, where="active", cpu=cpu)
    return sid


def rotate_in(k: Kernel, ty: KmallocType, cpu: int, sid: int) -> None:
    """Make ``sid`` active; active becomes alternate; the old alternate goes to ``empty``."""
    old_alt = ty.alternate[cpu]
    if old_alt >= 0:
        k.slabs[old_alt].where = "empty"
        ty.empty.append(old_alt)
    ty.alternate[cpu] = ty.active[cpu]
    if ty.active[cpu] >= 0:
        k.slabs[ty.active[cpu]].where = "alternate"
    ty.active[cpu] = sid
    k.slabs[sid].where = "active"


def take(k: Kernel, ty: KmallocType, sid: int) -> int:
    k.slabs[sid].nfree -= 1
    ty.inuse += 1
    return sid


def malloc_mgt_poll_empty_locked(k: Kernel, ty: KmallocType, count: int) -> None:
    """Move slabs on ``empty`` that frees have refilled to ``partial`` or ``full``."""
    keep = []
    for i, sid in enumerate(ty.empty):
        s = k.slabs[sid]
        if i >= count or s.nfree == 0:
            keep.append(sid)
        elif s.nfree == s.ncount:
            s.where, s.full_since = "full", k.tick
            ty.full.append(sid)
        else:
            s.where = "partial"
            ty.partial.append(sid)
    ty.empty = keep


def try_existing_slabs(k: Kernel, ty: KmallocType, cpu: int) -> int:
    """_kmalloc_obj steps 3-5: active, alternate, global lists, poll of ``empty``."""
    act = ty.active[cpu]
    if act >= 0 and k.slabs[act].nfree:
        return take(k, ty, act)
    alt = ty.alternate[cpu]
    if alt >= 0 and k.slabs[alt].nfree:
        ty.active[cpu], ty.alternate[cpu] = alt, act
        k.slabs[alt].where = "active"
        if act >= 0:
            k.slabs[act].where = "alternate"
        return take(k, ty, alt)
    for attempt in range(2):
        src = ty.partial if ty.partial else ty.full
        if src:
            sid = src.pop(0)
            rotate_in(k, ty, cpu, sid)
            return take(k, ty, sid)
        if attempt == 0:
            malloc_mgt_poll_empty_locked(k, ty, POLL_EMPTY)
    return -1


@kernel_function(KmallocObjFrame)
def kmalloc_obj(k: Kernel, t: Thread, f: KmallocObjFrame) -> int:
    """_kmalloc_obj() (kern_kmalloc.c:682-900): an object from this CPU's slabs, else a new slab.

    Returns the slab id, or -1 for NULL (only when kmem_slab_alloc gave up,
    see no-hold-and-wait).
    The caller's flags are not passed to kmem_slab_alloc: it always gets
    M_WAITOK (reference §9.6), unless the pass-reserve-flags mitigation is on.
    """
    ty = k.ktypes[TYPE_NAMES[f.ktype]]
    cpu = t.cpu
    if f.pc == 0:
        sid = try_existing_slabs(k, ty, cpu)
        if sid >= 0:
            return ret(t, sid)
        if k.kmslab_free[cpu]:
            k.kmslab_free[cpu] -= 1
            emit(k, t, "kmalloc", f"kmalloc_obj({ty.name}): blank slab from gd_kmslab")
            return ret(t, install_new_slab(k, ty, cpu))
        flags = M_WAITOK
        if "pass-reserve-flags" in k.mitigations:
            flags |= f.flags & (M_USE_RESERVE | M_USE_INTERRUPT_RESERVE | M_NULLOK)
        f.pc = 1
        emit(k, t, "kmalloc", f"kmalloc_obj({ty.name}): no free object, kmem_slab_alloc(128K)")
        return call(t, SlabAllocFrame(flags=flags, ktype=f.ktype))
    if t.rv == SLAB_NULL:
        return ret(t, -1)
    if t.rv == SLAB_RESERVED:
        ty.reserved_slab -= 1
        emit(k, t, "kmalloc", f"kmalloc_obj({ty.name}): using the reserved slab")
    return ret(t, install_new_slab(k, ty, cpu))


def install_new_slab(k: Kernel, ty: KmallocType, cpu: int) -> int:
    sid = new_slab(k, ty, cpu)
    rotate_in(k, ty, cpu, sid)
    k.progress_tick = k.tick
    return take(k, ty, sid)


def kfree_obj(k: Kernel, ty: KmallocType, sid: int) -> None:
    """_kfree_obj(): the object returns to its slab; no list changes, no memory returned."""
    k.slabs[sid].nfree += 1
    ty.inuse -= 1


def retire_candidates(k: Kernel, ty: KmallocType) -> list[int]:
    """malloc_mgt_poll's choice: up to 4 fully free, type-stable slabs beyond the 4 kept."""
    if len(ty.full) <= KMALLOC_MAXFREEMAGS:
        return []
    out = []
    for sid in ty.full[:POLL_EMPTY]:
        s = k.slabs[sid]
        # exis_freeable(): about 2 s on the full list (the kernel's 2 pseudo-ticks)
        if s.nfree == s.ncount and k.tick - s.full_since >= 2 * k.hz:
            out.append(sid)
            if len(out) == KZONE_BRETIRE or len(ty.full) - len(out) <= KMALLOC_MAXFREEMAGS:
                break
    return out


@kernel_function(PollerFrame)
def kmalloc_poller_thread(k: Kernel, t: Thread, f: PollerFrame) -> int:
    """kmalloc_poller_thread(): once a second, poll one kmalloc_obj type.

    Retired slabs refill the reserved slab (mitigation), then gd_kmslab's
    blank-slab cache; beyond KMGD_MAXFREESLABS they would go to
    kmem_slab_free (which needs map entries itself, reference §9.8).
    """
    if f.pc == 0:
        tsleep(k, t, "sticks", "kmslp", k.hz + 1)
        f.pc = 1
        return DONE
    f.pc = 0
    names = [n for n in TYPE_NAMES if n in k.ktypes]
    if not names:
        return CONT
    ty = k.ktypes[names[k.poll_rotor % len(names)]]
    k.poll_rotor += 1
    malloc_mgt_poll_empty_locked(k, ty, POLL_EMPTY)
    for sid in retire_candidates(k, ty):
        ty.full.remove(sid)
        del k.slabs[sid]
        if "reserved-slab" in k.mitigations and ty.reserved_slab < 1:
            ty.reserved_slab += 1
        elif k.kmslab_free[0] < KMGD_MAXFREESLABS:
            k.kmslab_free[0] += 1
        else:
            kmem_slab_free(k)
        emit(k, t, "kmalloc", f"malloc_mgt_poll({ty.name}): retired a free slab")
    return DONE


def kmem_slab_free(k: Kernel) -> None:
    """kmem_slab_free(): 32 pages back to PQ_FREE.

    Simplification: the vm_map_remove's own map-entry reservation is not
    modelled, since gd_kmslab holds 128 slabs per CPU first.
    """
    k.slab_pages -= KMALLOC_SLAB_PAGES
    k.wired -= KMALLOC_SLAB_PAGES
    vm_page_free_toq(k, KMALLOC_SLAB_PAGES)
