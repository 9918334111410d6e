"""kmem_slab_alloc (sys/kern/kern_slaballoc.c): 32 wired pages for a slab.

Simplifications: the kernel_map lock, vm_map_findspace and
pmap_growkernel are not modelled (the kernel page tables are taken as
already grown), and td_preempted is never set (no thread here preempts
another inside kmalloc).
"""

from __future__ import annotations

from . import hazard
from .frames import DONE, call, emit, kernel_function, ret
from .kern_kmalloc import (
    KMALLOC_SLAB_PAGES,
    M_USE_INTERRUPT_RESERVE,
    M_USE_RESERVE,
    M_WAITOK,
    SLAB_ALLOCATED,
    SLAB_NULL,
    SLAB_RESERVED,
)
from .kern_synch import made_progress
from .state import Kernel, KmemAlloc3Frame, ReserveFrame, SlabAllocFrame, Thread
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


@kernel_function(SlabAllocFrame)
def kmem_slab_alloc(k: Kernel, t: Thread, f: SlabAllocFrame) -> int:
    """kmem_slab_alloc(128K, 128K, flags) (kern_slaballoc.c:1677-1790): map entry, then 32 pages, hold-and-wait.

    Returns SLAB_ALLOCATED with a slab's pages (counted in slab_pages),
    SLAB_RESERVED when the reserved-slab mitigation stands in, SLAB_NULL
    for NULL.
    """
    if f.pc == 0:
        f.pc = 1
        if "slab-kreserve" in k.mitigations:
            t.rv = vm_map_entry_kreserve(k, t.cpu, MAP_RESERVE_COUNT)
        else:
            return call(t, ReserveFrame(count=MAP_RESERVE_COUNT))
    if f.pc == 1:
        f.count = vm_map_entry_create(k, t.cpu, t.rv)  # vm_map_insert of the slab's kernel_map entry
        f.pc = 2
    req = slab_page_class(f.flags)
    if f.held < KMALLOC_SLAB_PAGES:
        hazard.sample(k, t, f, KMALLOC_SLAB_PAGES - f.held, req)
        if not vm_page_alloc(k, t, req):
            return page_shortage(k, t, f, req)
        f.held += 1
        k.wired += 1
        if f.flags & M_WAITOK and "no-hold-and-wait" not in k.mitigations:
            made_progress(k)  # a page it will keep: the slab grows, however slowly
        return DONE
    k.slab_pages += KMALLOC_SLAB_PAGES
    vm_map_entry_release(k, t.cpu, f.count)
    made_progress(k)
    hazard.end(k, t, f, slab_what(k, f), KMALLOC_SLAB_PAGES, req, "completed")
    emit(k, t, "kmalloc", f"kmem_slab_alloc: slab for {k.cfg.ktype_names[f.ktype]} complete (32 pages)")
    return ret(t, SLAB_ALLOCATED)


def page_shortage(k: Kernel, t: Thread, f: SlabAllocFrame, req: int) -> int:
    """vm_page_alloc said NULL for page f.held + 1: wait and retry it (M_WAITOK), give up (M_RNOWAIT),
    or a mitigation's way out (kern_slaballoc.c:1743-1790)."""
    ty = k.ktypes[k.cfg.ktype_names[f.ktype]]
    if not f.flags & M_WAITOK:
        hazard.end(k, t, f, slab_what(k, f), KMALLOC_SLAB_PAGES, req, "gave up (M_NOWAIT)")
        give_back(k, t, f)
        return ret(t, SLAB_NULL)
    cls = class_name(req | (VM_ALLOC_SYSTEM if t.systhread else 0))
    if "reserved-slab" in k.mitigations and ty.reserved_slab > 0:
        hazard.end(k, t, f, slab_what(k, f), KMALLOC_SLAB_PAGES, req, "the reserved slab stood in")
        give_back(k, t, f)
        return ret(t, SLAB_RESERVED)
    if "no-hold-and-wait" in k.mitigations:
        hazard.end(k, t, f, slab_what(k, f), KMALLOC_SLAB_PAGES, req, "gave up (no-hold-and-wait)")
        emit(k, t, "kmalloc", f"kmem_slab_alloc: page {f.held + 1}/32: vm_page_alloc {cls} failed; gave back {f.held} pages, NULL")
        give_back(k, t, f)
        return ret(t, SLAB_NULL)
    slept = vm_wait(k, t, 0)
    emit(
        k,
        t,
        "vm_page",
        f"kmem_slab_alloc page {f.held + 1}/32: vm_page_alloc {cls} failed, free+cache {k.free + k.cache}"
        f" (interrupt_free_min {k.th.v_interrupt_free_min}); " + ("vm_wait" if slept else "retry"),
    )
    return DONE


def slab_what(k: Kernel, f: SlabAllocFrame) -> str:
    return f"kmalloc_obj slab for {k.cfg.ktype_names[f.ktype]} (kmem_slab_alloc, 32 pages)"


def give_back(k: Kernel, t: Thread, f: SlabAllocFrame) -> None:
    """Free the pages held so far, drop the kernel_map entry and the reservation."""
    k.wired -= f.held
    vm_page_free_toq(k, f.held, source=False)
    f.held = 0
    vm_map_entry_release(k, t.cpu, f.count + 1)  # vm_map_delete returns the entry


def assembling_pages(t: Thread) -> int:
    """Pages held by the thread's unfinished slab or MAP ENTRY zone refills."""
    return sum(fr.held for fr in t.frames if isinstance(fr, (SlabAllocFrame, KmemAlloc3Frame)))
