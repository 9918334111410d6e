"""VM objects and their resident pages (sys/vm/vm_object.c, vm_page.c queues).

An object's resident pages sit on its own active/inactive/cache deques as
runs (start, count, flags, seq).  Taking "the oldest page of the global
queue" means taking the head run with the lowest seq across objects.
Simplification: the kernel's 1024 colour sub-queues are one queue here.
"""

from __future__ import annotations

from collections import deque

from .state import Kernel, VmObject

ACTIVE = "active"
INACTIVE = "inactive"
CACHE = "cache"


def new_object(k: Kernel, kind: str, owner: str) -> VmObject:
    obj = VmObject(oid=k.next_oid, kind=kind, owner=owner)
    k.objects[obj.oid] = obj
    k.next_oid += 1
    return obj


def enqueue(k: Kernel, q: deque, start: int, count: int, flags: int) -> None:
    """Append pages at the queue's tail, merging with a contiguous tail run."""
    if q:
        s, c, f, seq = q[-1]
        if f == flags and s + c == start:
            q[-1] = (s, c + count, f, seq)
            return
    q.append((start, count, flags, k.seq))
    k.seq += 1


def dequeue_head(q: deque, n: int) -> tuple[int, int, int]:
    """Take up to ``n`` pages from the head run: (start, count, flags)."""
    s, c, f, seq = q[0]
    if n >= c:
        q.popleft()
        return s, c, f
    q[0] = (s + n, c - n, f, seq)
    return s, n, f


def move_head(k: Kernel, obj: VmObject, src: str, dst: str, n: int, flags: int | None = None) -> int:
    """Move up to ``n`` pages from the head of one of obj's queues to the tail of another.

    The vmstats counter of each queue follows; ``flags`` replaces the pages'
    flags (None keeps them).  Returns how many pages moved.
    """
    s, n, fl = dequeue_head(getattr(obj, src), n)
    enqueue(k, getattr(obj, dst), s, n, fl if flags is None else flags)
    setattr(k, src, getattr(k, src) - n)
    setattr(k, dst, getattr(k, dst) + n)
    return n


def oldest(k: Kernel, qname: str, anon_only: bool = False) -> VmObject | None:
    """The object whose queue head is oldest, i.e. the global queue's head page."""
    best = None
    best_seq = 0
    for obj in k.objects.values():
        q = getattr(obj, qname)
        if q and (best is None or q[0][3] < best_seq) and not (anon_only and obj.kind != "anon"):
            best = obj
            best_seq = q[0][3]
    return best


def take_oldest_cache_page(k: Kernel) -> None:
    """Remove the oldest PQ_CACHE page from its object (the caller frees it)."""
    obj = oldest(k, CACHE)
    dequeue_head(obj.cache, 1)
    obj.resident -= 1


def remove_from_runs(q: deque, pindex: int) -> int:
    """Remove one page from whichever run holds it, splitting the run; its flags, or -1."""
    for i, (s, c, f, seq) in enumerate(q):
        if s <= pindex < s + c:
            pieces = []
            if pindex > s:
                pieces.append((s, pindex - s, f, seq))
            if pindex + 1 < s + c:
                pieces.append((pindex + 1, s + c - pindex - 1, f, seq))
            del q[i]
            for piece in reversed(pieces):
                q.insert(i, piece)
            return f
    return -1


def is_busy(obj: VmObject, pindex: int) -> bool:
    return any(s <= pindex < s + c for s, c in obj.busy)


def remove_resident_page(k: Kernel, obj: VmObject, pindex: int) -> tuple[str, int]:
    """Take a resident page out of its queue: (queue name, flags), or ("", -1) if not resident."""
    for qname in (CACHE, INACTIVE, ACTIVE):
        flags = remove_from_runs(getattr(obj, qname), pindex)
        if flags >= 0:
            obj.resident -= 1
            setattr(k, qname, getattr(k, qname) - 1)
            return qname, flags
    return "", -1


def queue_pages(q: deque) -> int:
    return sum(c for _, c, _, _ in q)
