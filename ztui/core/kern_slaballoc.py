"""kmem_slab_alloc (sys/kern/kern_slaballoc.c): 32 wired pages for a slab.

Simplifications: the kernel_map lock, vm_map_findspace and
pmap_growkernel are not modelled (the kernel page tables are taken as
already grown), and td_preempted is never set (no thread here preempts
another inside kmalloc).
"""

from __future__ import annotations

from .frames import DONE, call, emit, kernel_function, ret
from .kern_kmalloc import (
    KMALLOC_SLAB_PAGES,
    M_USE_INTERRUPT_RESERVE,
    M_USE_RESERVE,
    M_WAITOK,
    TYPE_NAMES,
)
from .state import Frame, Kernel, Thread
from .vm_map import (
    MAP_RESERVE_COUNT,
    vm_map_entry_create,
    vm_map_entry_kreserve,
    vm_map_entry_release,
)
from .vm_page import (
    VM_ALLOC_INTERRUPT,
    VM_ALLOC_NORMAL,
    VM_ALLOC_SYSTEM,
    class_name,
    vm_page_alloc,
    vm_page_free_toq,
    vm_wait,
)


def slab_page_class(flags: int) -> int:
    """kmem_slab_alloc's M_* -> VM_ALLOC_* mapping (not preempted)."""
    req = 0
    if flags & M_USE_RESERVE:
        req |= VM_ALLOC_SYSTEM
    if flags & M_USE_INTERRUPT_RESERVE:
        req |= VM_ALLOC_INTERRUPT
    if flags & M_WAITOK:
        req |= VM_ALLOC_NORMAL
    return req


@kernel_function("kmem_slab_alloc")
def kmem_slab_alloc(k: Kernel, t: Thread, f: Frame) -> int:
    """kmem_slab_alloc(128K, 128K, flags): map entry, then 32 pages, hold-and-wait.

    Locals: a=M_* flags, b=type index, c=pages held, d=map-entry reservation.
    Returns 1 with a slab's pages (counted in slab_pages), 2 when the
    reserved-slab mitigation stands in, 0 for NULL.
    """
    if f.pc == 0:
        f.pc = 1
        if "slab-kreserve" in k.mitigations:
            t.rv = vm_map_entry_kreserve(k, t.cpu, MAP_RESERVE_COUNT)
        else:
            return call(t, "vm_map_entry_reserve", MAP_RESERVE_COUNT)
    if f.pc == 1:
        f.d = vm_map_entry_create(k, t.cpu, t.rv)  # vm_map_insert of the slab's kernel_map entry
        f.pc = 2
    req = slab_page_class(f.a)
    while f.c < KMALLOC_SLAB_PAGES:
        if not vm_page_alloc(k, t, req):
            return page_shortage(k, t, f, req)
        f.c += 1
        k.wired += 1
        return DONE
    k.slab_pages += KMALLOC_SLAB_PAGES
    vm_map_entry_release(k, t.cpu, f.d)
    k.progress_tick = k.tick
    emit(k, t, "kmalloc", f"kmem_slab_alloc: slab for {TYPE_NAMES[f.b]} complete (32 pages)")
    return ret(t, 1)


def page_shortage(k: Kernel, t: Thread, f: Frame, req: int) -> int:
    """vm_page_alloc said NULL for page f.c: wait and retry it, or a mitigation's way out."""
    ty = k.ktypes[TYPE_NAMES[f.b]]
    cls = class_name(req | (VM_ALLOC_SYSTEM if t.systhread else 0))
    if "reserved-slab" in k.mitigations and ty.reserved_slab > 0:
        give_back(k, t, f)
        return ret(t, 2)
    if "no-hold-and-wait" in k.mitigations:
        give_back(k, t, f)
        emit(k, t, "kmalloc", f"kmem_slab_alloc: page {f.c + 1}/32: vm_page_alloc {cls} failed; gave back the pages, NULL")
        return ret(t, 0)
    slept = vm_wait(k, t, 0)
    emit(
        k,
        t,
        "vm_page",
        f"kmem_slab_alloc page {f.c + 1}/32: vm_page_alloc {cls} failed, free+cache {k.free + k.cache}"
        f" (interrupt_free_min {k.th.v_interrupt_free_min}); " + ("vm_wait" if slept else "retry"),
    )
    return DONE


def give_back(k: Kernel, t: Thread, f: Frame) -> None:
    """Free the pages held so far, drop the kernel_map entry and the reservation."""
    k.wired -= f.c
    vm_page_free_toq(k, f.c)
    f.c = 0
    vm_map_entry_release(k, t.cpu, f.d + 1)  # vm_map_delete returns the entry


def assembling_pages(t: Thread) -> int:
    return sum(fr.c for fr in t.frames if fr.fn in ("kmem_slab_alloc", "kmem_alloc3"))
