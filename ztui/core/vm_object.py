"""VM objects and their resident pages on the page queues (sys/vm/vm_object.c, vm_page.c).

A process's anonymous memory is one VmObject; with ``region`` > 0 it
stands for many VM objects, one per mapping of ``region`` pages, as a
browser's many mmap()s are.  Each mapping starts at a pindex that is a
multiple of BLIST_MAX_ALLOC (64) and is followed by a gap, so, exactly as
with separate objects, no swblock (32 pages) and no pageout cluster (an
aligned 64-page block) ever spans two mappings, while the model keeps a
single object to look things up in.
"""

from __future__ import annotations

from .state import Kernel, VmObject
from .vm_page_queues import PageQueue
from .vmstats import vmstats_cache_add

ACTIVE = "active"
INACTIVE = "inactive"
CACHE = "cache"
QUEUES = (ACTIVE, INACTIVE, CACHE)
BLIST_MAX_ALLOC = 64


def new_object(k: Kernel, kind: str, owner: int, region: int = 0) -> VmObject:
    obj = VmObject(oid=k.next_oid, kind=kind, owner=owner, region=region)
    k.objects[obj.oid] = obj
    k.next_oid += 1
    return obj


def region_stride(region: int) -> int:
    """Pindexes between the starts of two mappings: room for ``region`` pages and a gap."""
    return (region // BLIST_MAX_ALLOC + 1) * BLIST_MAX_ALLOC


def pindex_of(obj: VmObject, i: int) -> int:
    """The pindex of the object's ``i``-th page (in fault order)."""
    r = obj.region
    if not r:
        return i
    return i // r * region_stride(r) + i % r


def pages_to_region_end(obj: VmObject, i: int) -> int:
    """Pages from the ``i``-th to the end of its mapping (contiguous pindexes)."""
    r = obj.region
    return r - i % r if r else 1 << 40


def index_of(obj: VmObject, pindex: int) -> int:
    """The inverse of pindex_of, for a pindex inside a mapping."""
    r = obj.region
    if not r:
        return pindex
    stride = region_stride(r)
    return pindex // stride * r + pindex % stride


def count_pages(k: Kernel, qname: str, n: int) -> None:
    """The vmstats counter of a queue follows it; v_cache_count per CPU (vmstats.py)."""
    if qname == CACHE:
        vmstats_cache_add(k, n)
    elif qname == ACTIVE:
        k.active += n
    else:
        k.inactive += n


def queue_add(k: Kernel, qname: str, oid: int, start: int, count: int, flags: int) -> None:
    """Put pages at the tail of a queue (TAILQ_INSERT_TAIL), counting them in vmstats."""
    if not k.queues[qname].append(k.seq, oid, start, count, flags):
        k.seq += 1
    count_pages(k, qname, count)


def queue_insert(k: Kernel, qname: str, seq: int, oid: int, start: int, count: int, flags: int) -> None:
    """Put pages back on a queue at their old place."""
    k.queues[qname].insert(seq, oid, start, count, flags)
    count_pages(k, qname, count)


def queue_take(k: Kernel, qname: str, oid: int, start: int, count: int) -> list[tuple[int, int, int, int]]:
    """Take pages [start, start+count) of ``oid`` off a queue: (start, seq, count, flags) pieces."""
    pieces = k.queues[qname].take(oid, start, count)
    count_pages(k, qname, -sum(p[2] for p in pieces))
    return pieces


def queue_set_flags(k: Kernel, qname: str, oid: int, start: int, count: int, flags: int) -> None:
    k.queues[qname].set_flags(oid, start, count, flags)


def find_page(k: Kernel, oid: int, pindex: int) -> tuple[str, tuple[int, int, int, int]] | None:
    """Which queue holds the page, and its run (start, seq, count, flags); None if not queued."""
    for qname in QUEUES:
        run = k.queues[qname].find(oid, pindex)
        if run is not None:
            return qname, run
    return None


def oldest_cache_page(q: PageQueue) -> tuple[int, int]:
    """The head page of PQ_CACHE: (oid, pindex)."""
    head = q.head()
    assert head is not None, "PQ_CACHE is empty"
    _, oid, start, _, _ = head
    return oid, start


def take_cache_pages(k: Kernel, n: int) -> None:
    """Remove ``n`` pages from the head of PQ_CACHE (their objects lose them); the caller frees them."""
    q = k.queues[CACHE]
    while n:
        head = q.head()
        assert head is not None, "PQ_CACHE holds fewer than n pages"
        _, oid, start, count, _ = head
        m = min(n, count)
        queue_take(k, CACHE, oid, start, m)
        k.objects[oid].resident -= m
        n -= m


def drop_object_pages(k: Kernel, obj: VmObject) -> int:
    """Every queued page of ``obj`` leaves its queue (object termination); how many."""
    freed = 0
    for qname in QUEUES:
        n = k.queues[qname].drop_object(obj.oid)
        count_pages(k, qname, -n)
        freed += n
    obj.resident -= freed
    return freed
