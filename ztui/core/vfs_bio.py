"""The buffer cache's page allocation and release (sys/kern/vfs_bio.c at 577b958f5e).

A ``read`` phase reads its file through the buffer cache, one 64 KiB
buffer (HAMMER2's HAMMER2_PBUFSIZE) at a time: allocbuf() brings each page
in with bio_page_alloc() (4263-4336), the read runs, and b[q]relse() gives
the pages back to the VM (1798-1840): to PQ_CACHE when vm_paging_min(),
else to PQ_INACTIVE.  Unlike a page fault, nothing here stops at
vm_paging_severe(): the NORMAL|SYSTEM retry lets a user's read take
free+cache down to v_interrupt_free_min.

Simplification: a clean buffer is released as soon as its read is done;
the kernel keeps up to hibufspace of clean buffers wired and lets them go
when buffers are reused (getnewbuf), which the scenario's kernel_wired
stands for.
"""

from __future__ import annotations

from .state import Kernel, Thread
from .vm_object import CACHE, INACTIVE, queue_add
from .vm_page import (
    VM_ALLOC_INTERRUPT,
    VM_ALLOC_NORMAL,
    VM_ALLOC_SYSTEM,
    vm_page_alloc,
    vm_page_free_wakeup,
    vm_paging_min,
    vm_wait,
)

BUF_PAGES = 16  # 64 KiB buffers

# bio_page_alloc's three tries, as the pcs of the reading frame
TRY_NORMAL, TRY_SYSTEM, TRY_LAST = 0, 1, 2


def bio_page_alloc(k: Kernel, t: Thread, attempt: int, deficit: int) -> tuple[bool, int]:
    """One try of bio_page_alloc(): (got a page?, the try to make next).

    NORMAL first, then NORMAL|SYSTEM (NORMAL|SYSTEM|INTERRUPT for a
    TDF_SYSTHREAD); if both fail, vm_wait(hz/20+1) and one more try; if that
    fails too, vm_wait(hz/2+1) and NULL, after which allocbuf() starts over.
    """
    system = VM_ALLOC_SYSTEM | (VM_ALLOC_INTERRUPT if t.systhread else 0)
    if attempt == TRY_NORMAL:
        if vm_page_alloc(k, t, VM_ALLOC_NORMAL):
            return True, TRY_NORMAL
        k.vm_pageout_deficit += deficit
        attempt = TRY_SYSTEM
    if attempt == TRY_SYSTEM:
        if vm_page_alloc(k, t, VM_ALLOC_NORMAL | system):
            return True, TRY_NORMAL
        vm_wait(k, t, k.hz // 20 + 1)
        return False, TRY_LAST
    if vm_page_alloc(k, t, VM_ALLOC_NORMAL | system):
        return True, TRY_NORMAL
    vm_wait(k, t, (k.hz // 20 if t.systhread else k.hz // 2) + 1)
    return False, TRY_NORMAL


def brelse_pages(k: Kernel, oid: int, start: int, n: int) -> str:
    """b[q]relse() of a clean buffer: its pages are unwired to PQ_CACHE under low memory, else PQ_INACTIVE."""
    k.wired -= n
    k.bio_pages -= n
    if vm_paging_min(k):
        queue_add(k, CACHE, oid, start, n, 0)
        vm_page_free_wakeup(k)
        return CACHE
    queue_add(k, INACTIVE, oid, start, n, 0)
    return INACTIVE
