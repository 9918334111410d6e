"""kmalloc_obj (sys/kern/kern_kmalloc.c): per-type slabs and the poller.

Note the kernel's inverted list names: ``full`` holds slabs whose objects
are all free, ``empty`` slabs with no free object.  A kfree_obj touches no
list, so an object freed into a slab on ``empty`` is found only by a poll.
"""

from __future__ import annotations

from .frames import DONE, call, emit, kernel_function, ret
from .kern_synch import made_progress, tsleep
from .state import Kernel, KmallocObjFrame, KmallocType, PollerFrame, Slab, SlabAllocFrame, Thread, ThreadKind
from .vm_page import vm_page_free_toq

KMALLOC_SLAB_SIZE = 128 * 1024
KMALLOC_SLAB_PAGES = KMALLOC_SLAB_SIZE // 4096
SLAB_HEADER = 352  # offsetof(struct kmalloc_slab, fobjs[0]) on x86_64
CACHELINE = 64
KMALLOC_MAXFREEMAGS = 4
KZONE_BRETIRE = 4
KMGD_MAXFREESLABS = 128
POLL_EMPTY = 16
TYPE_NAMES = ("SWAPMETA", "MAP ENTRY")  # the first entries of Config.ktype_names
SWAPMETA_TYPE, MAPENTRY_TYPE = 0, 1

# kmem_slab_alloc's answers to _kmalloc_obj (kern_slaballoc.py)
SLAB_NULL, SLAB_ALLOCATED, SLAB_RESERVED = 0, 1, 2

M_RNOWAIT = 0x0001
M_WAITOK = 0x0002
M_ZERO = 0x0100
M_USE_RESERVE = 0x0200
M_NULLOK = 0x0400
M_USE_INTERRUPT_RESERVE = 0x1000
M_NOWAIT = M_RNOWAIT | M_NULLOK | M_USE_RESERVE  # sys/malloc.h:84
M_INTWAIT = M_WAITOK | M_USE_RESERVE | M_USE_INTERRUPT_RESERVE


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


def slab_alloc_flags(k: Kernel, caller_flags: int) -> int:
    """The flags _kmalloc_obj passes to kmem_slab_alloc (kern_kmalloc.c:838-840): always M_WAITOK, the
    caller's own dropped, unless the pass-reserve-flags mitigation passes its reserve flags on."""
    if "pass-reserve-flags" in k.mitigations:
        return M_WAITOK | caller_flags & (M_USE_RESERVE | M_USE_INTERRUPT_RESERVE | M_NULLOK)
    return M_WAITOK


@kernel_function(KmallocObjFrame)
def kmalloc_obj(k: Kernel, t: Thread, f: KmallocObjFrame) -> int:
    """_kmalloc_obj() (kern_kmalloc.c:682-900): an object from this CPU's slabs, else a new slab.

    Returns the slab id, or -1 for NULL (only when kmem_slab_alloc gave up,
    see no-hold-and-wait and nowait-reserve).  The caller's flags are not
    passed to kmem_slab_alloc: it always gets M_WAITOK (reference §9.6),
    unless the pass-reserve-flags mitigation is on.
    """
    ty = k.ktypes[k.cfg.ktype_names[f.ktype]]
    cpu = t.cpu
    if f.pc == 0:
        sid = try_existing_slabs(k, ty, cpu)
        if sid >= 0:
            return ret(t, sid)
        if k.kmslab_free[cpu]:
            k.kmslab_free[cpu] -= 1
            ty.slabs_from_blank += 1
            emit(k, t, "kmalloc", f"kmalloc_obj({ty.name}): blank slab from gd_kmslab")
            return ret(t, install_new_slab(k, ty, cpu))
        flags = M_NOWAIT if ty.reserve >= 0 else slab_alloc_flags(k, f.flags)  # nowait-reserve: never wait
        f.pc = 1
        emit(k, t, "kmalloc", f"kmalloc_obj({ty.name}): no free object, kmem_slab_alloc(128K)")
        return call(t, SlabAllocFrame(flags=flags, ktype=f.ktype))
    if t.rv == SLAB_NULL:
        return ret(t, take_reserve(k, t, ty))
    if t.rv == SLAB_RESERVED:
        ty.reserved_slab -= 1
        emit(k, t, "kmalloc", f"kmalloc_obj({ty.name}): using the reserved slab")
    else:
        ty.slabs_allocated += 1
    return ret(t, install_new_slab(k, ty, cpu))


def take_reserve(k: Kernel, t: Thread, ty: KmallocType) -> int:
    """nowait-reserve: a pageout daemon takes an object from the type's reserve (M_USE_RESERVE); NULL otherwise."""
    if ty.reserve < 0 or t.kind not in (ThreadKind.PAGEDAEMON, ThreadKind.EMERGPAGER):
        return -1
    reserve = k.slabs[ty.reserve]
    if reserve.nfree == 0:
        return -1
    emit(k, t, "kmalloc", f"kmalloc_obj({ty.name}): no slab without waiting; an object from the pagers' reserve ({reserve.nfree - 1} left)")
    ty.reserve_taken += 1
    return take(k, ty, ty.reserve)


def install_new_slab(k: Kernel, ty: KmallocType, cpu: int) -> int:
    sid = new_slab(k, ty, cpu)
    rotate_in(k, ty, cpu, sid)
    made_progress(k)
    return take(k, ty, sid)


def kfree_obj(k: Kernel, ty: KmallocType, sid: int, n: int = 1) -> None:
    """_kfree_obj() (kern_kmalloc.c:928): objects return to their slab; no list changes, no memory returned."""
    k.slabs[sid].nfree += n
    ty.inuse -= n


def retire_candidates(k: Kernel, ty: KmallocType) -> list[int]:
    """malloc_mgt_poll's choice: up to 4 fully free, type-stable slabs beyond the 4 kept."""
    if len(ty.full) <= KMALLOC_MAXFREEMAGS:
        return []
    out = []
    for sid in ty.full[:POLL_EMPTY]:
        s = k.slabs[sid]
        # exis_freeable() (exislock2.h:157-160): two EXIS pseudo_ticks on the full list;
        # pseudo_ticks advance about once a hardclock (kern_clock.c:784-807)
        if s.nfree == s.ncount and k.tick - s.full_since >= 2:
            out.append(sid)
            if len(out) == KZONE_BRETIRE or len(ty.full) - len(out) <= KMALLOC_MAXFREEMAGS:
                break
    return out


@kernel_function(PollerFrame)
def kmalloc_poller_thread(k: Kernel, t: Thread, f: PollerFrame) -> int:
    """kmalloc_poller_thread() (kern_slaballoc.c:477-516): each wakeup, poll one malloc type.

    It walks every malloc type in turn (Config.poll_types of them; the
    modelled kmalloc_obj types are the first), staying on a type while
    malloc_mgt_poll retires a full batch (kern_kmalloc.c:600-606).
    Retired slabs refill the reserved slab (mitigation), then gd_kmslab's
    blank-slab cache; beyond KMGD_MAXFREESLABS they go to kmem_slab_free
    (which needs map entries itself, reference §9.8).
    """
    if f.pc == 0:
        tsleep(k, t, "sticks", "kmslp", k.hz + 1)  # hz / kzone_pollfreq + 1
        f.pc = 1
        return DONE
    f.pc = 0
    slot = k.poll_rotor % k.cfg.poll_types
    names = k.cfg.ktype_names
    ty = k.ktypes.get(names[slot]) if slot < len(names) else None
    if ty is None:
        k.poll_rotor += 1  # not a kmalloc_obj type, or not modelled: nothing to poll
        return DONE
    if malloc_mgt_poll(k, t, ty) < KZONE_BRETIRE or not retire_candidates(k, ty):
        k.poll_rotor += 1
    return DONE


def malloc_mgt_poll(k: Kernel, t: Thread, ty: KmallocType) -> int:
    """malloc_mgt_poll(): refresh ``empty``, retire up to kzone_bretire free slabs; how many it retired."""
    malloc_mgt_poll_empty_locked(k, ty, POLL_EMPTY)
    retired = retire_candidates(k, ty)
    for sid in retired:
        ty.full.remove(sid)
        del k.slabs[sid]
        if "reserved-slab" in k.mitigations and ty.reserved_slab < 1:
            ty.reserved_slab += 1
        elif k.kmslab_free[0] < KMGD_MAXFREESLABS:
            k.kmslab_free[0] += 1
        else:
            kmem_slab_free(k)
        emit(k, t, "kmalloc", f"malloc_mgt_poll({ty.name}): retired a free slab")
    return len(retired)


# --- a workload's own kmalloc_obj types (Config.kobjs) ---------------------------


def kobj_owner(k: Kernel, t: Thread) -> bool:
    """Does the workload give this process kmalloc_obj objects to allocate (kern_proc.user asks at every step)?"""
    return any(cfg.owner == t.tid for cfg in k.cfg.kobjs)


def kobj_due(k: Kernel, t: Thread) -> int:
    """The index of a type whose objects the process owes, or -1."""
    for i, cfg in enumerate(k.cfg.kobjs):
        if cfg.owner == t.tid and k.ktypes[k.cfg.ktype_names[cfg.ktype]].allocated < cfg.rate * (k.tick + 1) // k.hz:
            return i
    return -1


def kobj_allocate_from_slabs(k: Kernel, t: Thread, i: int) -> bool:
    """Take the objects owed from slabs that have them; False if a new slab is needed."""
    cfg = k.cfg.kobjs[i]
    ty = k.ktypes[k.cfg.ktype_names[cfg.ktype]]
    owed = cfg.rate * (k.tick + 1) // k.hz - ty.allocated
    while owed:
        sid = try_existing_slabs(k, ty, t.cpu)
        if sid < 0:
            return False
        s = k.slabs[sid]
        n = min(owed, s.nfree + 1)  # try_existing_slabs took one already
        s.nfree -= n - 1
        ty.inuse += n - 1
        kobj_record(k, i, sid, n)
        owed -= n
    return True


def kobj_record(k: Kernel, i: int, sid: int, n: int) -> None:
    cfg = k.cfg.kobjs[i]
    ty = k.ktypes[k.cfg.ktype_names[cfg.ktype]]
    ty.allocated += n
    ty.live.append((k.tick + cfg.lifetime if cfg.lifetime >= 0 else -1, sid, n))


def kobj_expire(k: Kernel) -> None:
    """Objects whose lifetime is over are freed (vnlru, cache_cleanneg and the like)."""
    for cfg in k.cfg.kobjs:
        if cfg.lifetime < 0:
            continue
        ty = k.ktypes[k.cfg.ktype_names[cfg.ktype]]
        live = ty.live
        while live and live[0][0] <= k.tick:
            _, sid, n = live.popleft()
            kfree_obj(k, ty, sid, n)


def kobj_owner_exit(k: Kernel, t: Thread) -> None:
    """The owner's exit frees every object it still holds."""
    for cfg in k.cfg.kobjs:
        if cfg.owner == t.tid:
            ty = k.ktypes[k.cfg.ktype_names[cfg.ktype]]
            while ty.live:
                _, sid, n = ty.live.popleft()
                kfree_obj(k, ty, sid, n)


def next_kobj_expiry(k: Kernel) -> int:
    """The earliest tick an object's lifetime ends; -1 if none."""
    ends = []
    for cfg in k.cfg.kobjs:
        live = k.ktypes[k.cfg.ktype_names[cfg.ktype]].live
        if cfg.lifetime >= 0 and live:
            ends.append(live[0][0])
    return min(ends, default=-1)


def kmem_slab_free(k: Kernel) -> None:
    """kmem_slab_free(): 32 pages back to PQ_FREE.

    Simplification: the vm_map_remove's own map-entry reservation is not
    modelled, since gd_kmslab holds 128 slabs per CPU first.
    """
    k.slab_pages -= KMALLOC_SLAB_PAGES
    k.wired -= KMALLOC_SLAB_PAGES
    vm_page_free_toq(k, KMALLOC_SLAB_PAGES)
