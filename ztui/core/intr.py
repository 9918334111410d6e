"""An interrupt-level page consumer: network receive buffers.

The em0 interrupt thread takes pages with VM_ALLOC_SYSTEM|VM_ALLOC_INTERRUPT
(kmalloc M_INTNOWAIT's class), which may drain PQ_FREE to zero; a packet
that gets no page is dropped.  netisr frees each buffer after the hold
time (a callout here).  Simplification: one page per receive buffer,
straight from vm_page_alloc.
"""

from __future__ import annotations

from .frames import DONE, emit, kernel_function
from .kern_synch import tsleep
from .state import Frame, Kernel, Thread
from .vm_page import (
    VM_ALLOC_INTERRUPT,
    VM_ALLOC_SYSTEM,
    vm_page_alloc,
    vm_page_free_toq,
)


@kernel_function("ithread")
def ithread(k: Kernel, t: Thread, f: Frame) -> int:
    """One tick's worth of receive interrupts, then wait for the next.

    Locals: a=packets dropped in the current streak.
    """
    want = k.cfg.intr_rate * (k.tick + 1) // k.hz - t.done
    got = 0
    while got < want and vm_page_alloc(k, t, VM_ALLOC_SYSTEM | VM_ALLOC_INTERRUPT):
        got += 1
    t.done += want
    if got:
        k.wired += got
        k.intr_pages += got
        k.intr_held.append((k.tick + k.cfg.intr_hold_ticks, got))
    dropped = want - got
    if dropped:
        k.intr_dropped += dropped
        if f.a == 0:
            emit(k, t, "intr", f"em0: vm_page_alloc SYSTEM|INTERRUPT failed, free {k.free}: dropping packets")
        f.a += dropped
    else:
        f.a = 0
    tsleep(k, t, "", "iwait", 1)
    return DONE


def consumer_stalled(k: Kernel) -> bool:
    tid = k.cfg.intr_consumer
    return tid >= 0 and k.threads[tid].wmesg in ("pfault", "vmwait")


def netisr_release(k: Kernel) -> None:
    """Callout: receive buffers whose hold time is over go back to PQ_FREE.

    A buffer waits in its socket until the consuming process reads it; a
    process asleep in the fault path reads nothing.
    """
    if consumer_stalled(k):
        return
    held = k.intr_held
    now = k.tick
    n = 0
    while held and held[0][0] <= now:
        n += held.popleft()[1]
    if n:
        k.wired -= n
        k.intr_pages -= n
        vm_page_free_toq(k, n)
