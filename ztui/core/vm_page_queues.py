"""The page queues (struct vpgqueues, vm_page_queues[] in sys/vm/vm_page.c).

A queue holds runs of pages: consecutive pindexes of one VM object that
share their flags and their place in the queue.  A run's place is ``seq``,
the moment it was queued, so the queue's order is the order of
``(seq, oid, start)`` keys; splitting a run keeps its seq, which is how a
page keeps its position when its flags change in place (the kernel's
pages never move unless a TAILQ_INSERT_TAIL says so).

A scan's marker (the kernel's PG_MARKER page, vm_pageout.c:866-874) is a
position ``(seq, oid, pindex)``: the next page the scan looks at is the
first page at or after it in queue order, which may lie inside a run.
Runs are kept maximal (neighbouring pages with the same seq and flags are
one run), so a state does not depend on how its changes were batched.

Simplification: the kernel has PQ_L2_SIZE = 1024 colour sub-queues per
queue and scans them round-robin; here each queue is one list in LRU
order, and the per-sub-queue scan limits are summed (vm_pageout.py).
"""

from __future__ import annotations

import attrs
from sortedcontainers import SortedList

# Run flags (the vm_page.h PG_* bits ztui needs), with act_count above them.
DIRTY = 0x01  # m->dirty: must be laundered before it can be cached
WINATCFLS = 0x02  # PG_WINATCFLS: the dirty page has had its second chance
BUSY = 0x04  # soft-busied by a pageout in flight (PBUSY_SWAPINPROG)
REFERENCED = 0x08  # PG_REFERENCED: set when the page is faulted in
PMAP_REF = 0x10  # the pmap's accessed bit: the page was used since the last scan looked
ACT_SHIFT = 8  # m->act_count, 0..ACT_MAX
FLAG_MASK = (1 << ACT_SHIFT) - 1

ACT_DECLINE = 1
ACT_ADVANCE = 3
ACT_INIT = 5
ACT_MAX = 64

HEAD = (-1, -1, -1)  # a marker before every run


def act_count(flags: int) -> int:
    return flags >> ACT_SHIFT


def with_act(flags: int, act: int) -> int:
    return (flags & FLAG_MASK) | (min(act, ACT_MAX) << ACT_SHIFT)


def run_hash(oid: int, start: int, seq: int, count: int, flags: int) -> int:
    """One run's part of PageQueue.fp (a tuple of ints hashes alike in every process)."""
    return hash((oid, start, seq, count, flags))


def copy_sorted(src: SortedList) -> SortedList:
    """A copy of ``src`` from its sublists, which are sorted already: SortedList.copy() adds every
    value again (231 us for 9 k runs, 15 us this way; a checkpoint clone copies every queue).

    It sets what SortedList.__init__ and update() set (sortedcontainers 2.4); the positional
    index is left to be rebuilt on demand, as after any insertion.
    """
    out = SortedList()
    out._len, out._load = src._len, src._load
    out._lists = [sub.copy() for sub in src._lists]
    out._maxes = src._maxes.copy()
    return out


@attrs.define(slots=True, eq=False)
class PageQueue:
    """One of PQ_ACTIVE, PQ_INACTIVE, PQ_CACHE.

    ``order``: run keys (seq, oid, start) in queue order; ``runs``:
    (oid, start) -> (seq, count, flags); ``starts``: oid -> its run starts,
    sorted, to find the run that holds a page; ``lcnt``: pages queued;
    ``fp``: once keep_fp() is called (the search does), the sum of
    run_hash() over the runs, kept as they change, so that a queue of
    thousands of runs is fingerprinted in O(1) (copying.fingerprint;
    encode() stays the exact, ordered encoding); None, and no cost, else.
    """

    name: str
    order: SortedList = attrs.Factory(SortedList)
    runs: dict = attrs.Factory(dict)
    starts: dict = attrs.Factory(dict)
    lcnt: int = 0
    fp: int | None = None

    def copy(self) -> PageQueue:
        return PageQueue(
            self.name,
            copy_sorted(self.order),
            self.runs.copy(),
            {oid: copy_sorted(s) for oid, s in self.starts.items()},
            self.lcnt,
            self.fp,
        )

    def keep_fp(self) -> None:
        self.fp = sum(run_hash(oid, start, *run) for (oid, start), run in self.runs.items())

    def encode(self) -> tuple:
        runs = self.runs
        return self.lcnt, tuple((key, runs[key[1], key[2]]) for key in self.order)

    def __eq__(self, other) -> bool:
        return isinstance(other, PageQueue) and self.encode() == other.encode()

    # --- reading ---------------------------------------------------------

    def first_at(self, marker: tuple[int, int, int]) -> tuple[int, int, int, int, int] | None:
        """The pages from ``marker`` to the end of their run: (seq, oid, start, count, flags)."""
        order = self.order
        i = order.bisect_right(marker) - 1
        if i >= 0:
            seq, oid, start = order[i]
            _, count, flags = self.runs[oid, start]
            if seq == marker[0] and oid == marker[1] and marker[2] < start + count:
                return seq, oid, marker[2], start + count - marker[2], flags
        if i + 1 == len(order):
            return None
        seq, oid, start = order[i + 1]
        _, count, flags = self.runs[oid, start]
        return seq, oid, start, count, flags

    def head(self) -> tuple[int, int, int, int, int] | None:
        return self.first_at(HEAD)

    def find(self, oid: int, pindex: int) -> tuple[int, int, int, int] | None:
        """The run holding page ``pindex`` of object ``oid``: (start, seq, count, flags)."""
        starts = self.starts.get(oid)
        if not starts:
            return None
        i = starts.bisect_right(pindex) - 1
        if i < 0:
            return None
        start = starts[i]
        seq, count, flags = self.runs[oid, start]
        if pindex >= start + count:
            return None
        return start, seq, count, flags

    def pieces(self, oid: int, start: int, count: int) -> list[tuple[int, int, int]]:
        """The pages of [start, start+count) of ``oid`` on this queue, by pindex: (start, count, flags)."""
        starts = self.starts.get(oid)
        if not starts:
            return []
        end = start + count
        found = []
        for s in starts.islice(max(starts.bisect_right(start) - 1, 0)):
            if s >= end:
                break
            _, n, flags = self.runs[oid, s]
            lo, hi = max(s, start), min(s + n, end)
            if lo < hi:
                found.append((lo, hi - lo, flags))
        return found

    def object_runs(self, oid: int) -> list[tuple[int, int, int, int]]:
        """Every run of ``oid``, by pindex: (start, seq, count, flags)."""
        runs = self.runs
        return [(s, *runs[oid, s]) for s in self.starts.get(oid, ())]

    def tail_seq(self) -> int:
        return self.order[-1][0] if self.order else -1

    # --- changing ----------------------------------------------------------

    def _add(self, oid: int, start: int, seq: int, count: int, flags: int) -> None:
        self.order.add((seq, oid, start))
        self.runs[oid, start] = (seq, count, flags)
        if self.fp is not None:
            self.fp += hash((oid, start, seq, count, flags))  # run_hash(), inline: every queue change pays it
        starts = self.starts.get(oid)
        if starts is None:
            starts = self.starts[oid] = SortedList()
        starts.add(start)

    def _drop(self, oid: int, start: int) -> tuple[int, int, int]:
        seq, count, flags = self.runs.pop((oid, start))
        if self.fp is not None:
            self.fp -= hash((oid, start, seq, count, flags))
        self.order.remove((seq, oid, start))
        starts = self.starts[oid]
        starts.remove(start)
        if not starts:
            del self.starts[oid]
        return seq, count, flags

    def append(self, seq: int, oid: int, start: int, count: int, flags: int) -> bool:
        """TAILQ_INSERT_TAIL of ``count`` pages with a new ``seq``.

        Returns True if they joined the tail run (same object, contiguous,
        same flags), so the caller's seq was not used.
        """
        self.lcnt += count
        if self.order:
            tseq, toid, tstart = self.order[-1]
            _, tcount, tflags = self.runs[toid, tstart]
            if toid == oid and tstart + tcount == start and tflags == flags:
                self._resize(oid, tstart, tcount + count, flags)
                return True
        self._add(oid, start, seq, count, flags)
        return False

    def insert(self, seq: int, oid: int, start: int, count: int, flags: int) -> None:
        """Put pages back at the place ``seq`` (their old position), joining their neighbours."""
        self.lcnt += count
        prev = self.find(oid, start - 1)
        if prev is not None and prev[1] == seq and prev[3] == flags:
            start, count = prev[0], prev[2] + count
            self._drop(oid, start)
        nxt = self.runs.get((oid, start + count))
        if nxt is not None and nxt[0] == seq and nxt[2] == flags:
            self._drop(oid, start + count)
            count += nxt[1]
        self._add(oid, start, seq, count, flags)

    def take(self, oid: int, start: int, count: int) -> list[tuple[int, int, int, int]]:
        """Remove pages [start, start+count) of ``oid``: the (start, seq, count, flags) pieces taken.

        Pages of the range that are not on this queue are skipped.
        """
        taken = []
        end = start + count
        p = start
        while p < end:
            run = self.find(oid, p)
            if run is None:
                nxt = self._next_start(oid, p)
                if nxt is None or nxt >= end:
                    break
                p = nxt
                continue
            rstart, seq, rcount, flags = run
            self._drop(oid, rstart)
            rend = rstart + rcount
            if rstart < p:
                self._add(oid, rstart, seq, p - rstart, flags)
            stop = min(rend, end)
            if stop < rend:
                self._add(oid, stop, seq, rend - stop, flags)
            taken.append((p, seq, stop - p, flags))
            self.lcnt -= stop - p
            p = stop
        return taken

    def _next_start(self, oid: int, p: int) -> int | None:
        starts = self.starts.get(oid)
        if not starts:
            return None
        i = starts.bisect_right(p)
        return starts[i] if i < len(starts) else None

    def set_flags(self, oid: int, start: int, count: int, flags: int) -> None:
        """Change the flags of pages [start, start+count) in place (their seq is kept)."""
        run = self.find(oid, start)
        if run is not None and start + count <= run[0] + run[2]:
            self._set_flags_within(oid, start, count, flags, run)
            return
        for s, seq, n, _ in self.take(oid, start, count):  # pieces of several runs, or pages off the queue
            self.insert(seq, oid, s, n, flags)

    def _set_flags_within(self, oid: int, start: int, count: int, flags: int, run: tuple[int, int, int, int]) -> None:
        """set_flags() on pages that lie in one run: only the keys of the pieces it leaves change.

        The run [rstart, rend) becomes a left piece with the old flags, the
        changed pages, and a right piece with the old flags; the changed
        pages join a neighbouring run of the same seq and flags where they
        reach the run's edge, so runs stay maximal.
        """
        rstart, seq, rcount, old = run
        if flags == old:
            return
        end, rend = start + count, rstart + rcount
        hi = end
        if end < rend:
            self._add(oid, end, seq, rend - end, old)
        else:
            nxt = self.runs.get((oid, rend))
            if nxt is not None and nxt[0] == seq and nxt[2] == flags:
                hi = rend + self._drop(oid, rend)[1]
        if start > rstart:
            self._resize(oid, rstart, start - rstart, old)
            self._add(oid, start, seq, hi - start, flags)
            return
        prev = self.find(oid, start - 1)
        if prev is not None and prev[1] == seq and prev[3] == flags:
            self._drop(oid, rstart)
            self._resize(oid, prev[0], hi - prev[0], flags)
        else:
            self._resize(oid, rstart, hi - rstart, flags)

    def _resize(self, oid: int, start: int, count: int, flags: int) -> None:
        """Give the run at ``start`` a new length and flags; its key and seq stay."""
        seq, old_count, old_flags = self.runs[oid, start]
        self.runs[oid, start] = (seq, count, flags)
        if self.fp is not None:
            self.fp += hash((oid, start, seq, count, flags)) - hash((oid, start, seq, old_count, old_flags))

    def drop_object(self, oid: int) -> int:
        """Remove every page of ``oid``; how many there were."""
        n = 0
        for start in list(self.starts.get(oid, ())):
            n += self._drop(oid, start)[1]
        self.lcnt -= n
        return n
