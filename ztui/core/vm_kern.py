"""kmem_alloc3 (sys/vm/vm_kern.c): the MAP ENTRY zone's refill path."""

from __future__ import annotations

from . import hazard
from .frames import DONE, emit, kernel_function, ret
from .kern_synch import made_progress
from .state import Kernel, KmemAlloc3Frame, Thread
from .vm_map import (
    MAP_RESERVE_COUNT,
    vm_map_entry_create,
    vm_map_entry_krelease,
    vm_map_entry_kreserve,
)
from .vm_page import (
    VM_ALLOC_NORMAL,
    VM_ALLOC_SYSTEM,
    class_name,
    vm_page_alloc,
    vm_wait,
)


@kernel_function(KmemAlloc3Frame)
def kmem_alloc3(k: Kernel, t: Thread, f: KmemAlloc3Frame) -> int:
    """kmem_alloc3(kernel_map, size, KM_KRESERVE) (vm_kern.c:207-295).

    The map entry comes from
    vm_map_entry_kreserve (no refill, eats the cushion), which is what
    breaks the MAP ENTRY recursion.  Pages come from
    vm_page_grab(NORMAL|RETRY), which blocks in vm_wait until it gets one.
    """
    if f.pc == 0:
        count = vm_map_entry_kreserve(k, t.cpu, MAP_RESERVE_COUNT)
        count = vm_map_entry_create(k, t.cpu, count)
        vm_map_entry_krelease(k, t.cpu, count)
        f.pc = 1
    if f.held < f.npages:
        hazard.sample(k, t, f, f.npages - f.held, VM_ALLOC_NORMAL)
        if vm_page_alloc(k, t, VM_ALLOC_NORMAL):
            f.held += 1
            k.wired += 1
            return DONE
        slept = vm_wait(k, t, 0)
        cls = class_name(VM_ALLOC_NORMAL | (VM_ALLOC_SYSTEM if t.systhread else 0))
        emit(
            k,
            t,
            "vm_page",
            f"kmem_alloc3 page {f.held + 1}/{f.npages}: vm_page_grab {cls} failed, free+cache {k.free + k.cache}; "
            + ("vm_wait" if slept else "retry"),
        )
        return DONE
    made_progress(k)
    hazard.end(k, t, f, f"MAP ENTRY zone refill (kmem_alloc3, {f.npages} pages)", f.npages, VM_ALLOC_NORMAL, "completed")
    return ret(t, 1)
