"""Invariants of the machine state, checked by tests and by `ztui run --check`.

Each holds after every step; a broken one is a modelling bug, never a
property of the scenario.  check_invariants() lists the broken ones.
"""

from __future__ import annotations

from .intr import ZONE_CLUSTERS, ZONE_PAGES
from .kern_kmalloc import KMALLOC_SLAB_PAGES
from .kern_slaballoc import assembling_pages
from .state import FlushFrame, Kernel
from .vm_object import QUEUES
from .vm_page_queues import BUSY, PageQueue

NONNEGATIVE = (
    "free", "cache", "inactive", "active", "wired", "swap_free", "pbufs_free", "pageout_reserve",
    "nic_zones", "nic_clusters", "sockbuf_clusters", "swapin_pages", "bio_pages", "slab_pages",
)


class InvariantError(AssertionError):
    """The model broke one of its own invariants (a bug in ztui, not in the scenario)."""


def check_invariants(k: Kernel) -> list[str]:
    problems: list[str] = []
    for check in (pages, counters, queues, objects, wiring, swap, allocators, io, network, per_cpu):
        problems += check(k)
    return problems


def assert_invariants(k: Kernel) -> None:
    problems = check_invariants(k)
    if problems:
        raise InvariantError(f"step {k.step}: " + "; ".join(problems))


def pages(k: Kernel) -> list[str]:
    total = k.page_total()
    if total != k.th.v_page_count:
        return [f"page conservation: queues and wired hold {total} pages, v_page_count is {k.th.v_page_count}"]
    return []


def counters(k: Kernel) -> list[str]:
    return [f"{name} is negative ({getattr(k, name)})" for name in NONNEGATIVE if getattr(k, name) < 0]


def queue_problems(q: PageQueue) -> list[str]:
    """A queue's three indexes agree, its count is its pages, and its runs are maximal."""
    problems = []
    keys = {(oid, start) for _, oid, start in q.order}
    if keys != set(q.runs) or len(keys) != len(q.order):
        problems.append(f"{q.name}: order and runs disagree")
    starts = {(oid, s) for oid, ss in q.starts.items() for s in ss}
    if starts != set(q.runs):
        problems.append(f"{q.name}: starts and runs disagree")
    for (oid, start), (seq, count, _) in q.runs.items():
        if (seq, oid, start) not in q.order or count <= 0:
            problems.append(f"{q.name}: run {oid}:{start} has a bad key or count {count}")
    if sum(count for _, count, _ in q.runs.values()) != q.lcnt:
        problems.append(f"{q.name}: lcnt {q.lcnt} is not the pages of its runs")
    for oid, ss in q.starts.items():
        prev = None
        for s in ss:
            seq, count, flags = q.runs[oid, s]
            if prev is not None:
                pstart, pseq, pcount, pflags = prev
                if pstart + pcount > s:
                    problems.append(f"{q.name}: runs of object {oid} overlap at {s}")
                elif pstart + pcount == s and pseq == seq and pflags == flags:
                    problems.append(f"{q.name}: runs of object {oid} at {pstart} and {s} should be one")
            prev = (s, seq, count, flags)
    return problems


def queues(k: Kernel) -> list[str]:
    problems = []
    for name in QUEUES:
        q = k.queues[name]
        problems += queue_problems(q)
        if q.lcnt != getattr(k, name):
            problems.append(f"v_{name}_count {getattr(k, name)} != pages on PQ_{name.upper()} {q.lcnt}")
    for oid in k.queues["cache"].starts:
        for _, _, _, flags in k.queues["cache"].object_runs(oid):
            if flags & BUSY:
                problems.append(f"a busy page of object {oid} is on PQ_CACHE")
    return problems


def objects(k: Kernel) -> list[str]:
    problems = []
    queued: dict[int, int] = {}
    busy: dict[int, int] = {}
    for name in QUEUES:
        for (oid, _), (_, count, flags) in k.queues[name].runs.items():
            queued[oid] = queued.get(oid, 0) + count
            if flags & BUSY:
                busy[oid] = busy.get(oid, 0) + count
    for oid, obj in k.objects.items():
        if queued.get(oid, 0) != obj.resident:
            problems.append(f"object {oid}: resident {obj.resident} but {queued.get(oid, 0)} pages queued")
        if busy.get(oid, 0) != obj.pip:
            problems.append(f"object {oid}: paging_in_progress {obj.pip} but {busy.get(oid, 0)} busy pages")
    return problems


def wiring(k: Kernel) -> list[str]:
    held = sum(assembling_pages(t) for t in k.threads)
    zone_pages = sum(z.zpagecount for z in k.zones.values())
    expected = (
        k.kernel_wired + k.slab_pages + zone_pages + k.nic_zones * ZONE_PAGES + k.swapin_pages + k.bio_pages + held
    )
    if k.wired != expected:
        return [f"v_wire_count {k.wired} != kernel {k.kernel_wired} + slabs {k.slab_pages} + zones {zone_pages}"
                f" + em0 {k.nic_zones * ZONE_PAGES} + swap-in {k.swapin_pages} + buffers {k.bio_pages} + refills {held}"]
    return []


def swap(k: Kernel) -> list[str]:
    swapped = sum(bin(m).count("1") for obj in k.objects.values() for m in obj.swb.values())
    # putpages takes a chunk's swap blocks first, then records them page by page
    unrecorded = sum(f.chunk - f.built for t in k.threads for f in t.frames if isinstance(f, FlushFrame) and 1 <= f.pc <= 3)
    used = k.swap_total - k.swap_free
    if used != swapped + unrecorded:
        return [f"swap blocks in use {used} != swblock slots {swapped} + blocks not yet recorded {unrecorded}"]
    return []


def allocators(k: Kernel) -> list[str]:
    problems = []
    nswb = sum(len(obj.swb) for obj in k.objects.values())
    if k.swapmeta_kind == "zalloc":
        if k.zones["SWAPMETA"].inuse != nswb:
            problems.append(f"SWAPMETA zone hands out {k.zones['SWAPMETA'].inuse} items for {nswb} swblocks")
    elif k.ktypes["SWAPMETA"].inuse != nswb:
        problems.append(f"SWAPMETA kmalloc_obj has {k.ktypes['SWAPMETA'].inuse} objects in use for {nswb} swblocks")
    used = sum(s.ncount - s.nfree for s in k.slabs.values())
    inuse = sum(ty.inuse for ty in k.ktypes.values())
    if used != inuse:
        problems.append(f"slabs hand out {used} objects, the kmalloc_obj types count {inuse}")
    for s in k.slabs.values():
        if not 0 <= s.nfree <= s.ncount:
            problems.append(f"slab {s.sid} has {s.nfree} of {s.ncount} objects free")
    blanks = sum(k.kmslab_free) + sum(ty.reserved_slab for ty in k.ktypes.values())
    if k.slab_pages != KMALLOC_SLAB_PAGES * (len(k.slabs) + blanks):
        problems.append(f"slab pages {k.slab_pages} != 32 x ({len(k.slabs)} slabs + {blanks} blank or reserved)")
    for ty in k.ktypes.values():
        live = sum(n for _, _, n in ty.live)
        if ty.name not in ("SWAPMETA", "MAP ENTRY") and live != ty.inuse:
            problems.append(f"{ty.name}: {ty.inuse} objects in use, {live} alive")
    return problems


def io(k: Kernel) -> list[str]:
    problems = []
    holding = sum(1 for t in k.threads for f in t.frames if isinstance(f, FlushFrame) and f.pc in (2, 3, 4))
    if 4 - k.pbufs_free != len(k.io) + holding:
        problems.append(f"pbufs: {4 - k.pbufs_free} taken, {len(k.io)} writes in flight and {holding} being built")
    busy = sum(obj.pip for obj in k.objects.values())
    pending = sum(io.count for io in k.io) + sum(
        f.count - f.done for t in k.threads for f in t.frames if isinstance(f, FlushFrame)
    )
    if busy != pending:
        problems.append(f"{busy} pages are soft-busied, {pending} are in pageouts")
    return problems


def network(k: Kernel) -> list[str]:
    problems = []
    if k.sockbuf_clusters != sum(n for _, n in k.sockbuf):
        problems.append("socket buffer count disagrees with its contents")
    if k.nic_clusters > k.nic_zones * ZONE_CLUSTERS:
        problems.append(f"{k.nic_clusters} mbuf clusters in use in {k.nic_zones} zones")
    if k.cfg.intr_rate and k.nic_clusters != k.cfg.intr_ring + k.sockbuf_clusters:
        problems.append(f"{k.nic_clusters} clusters in use != ring {k.cfg.intr_ring} + socket {k.sockbuf_clusters}")
    return problems


def per_cpu(k: Kernel) -> list[str]:
    if k.ncpus == 1:
        return []
    problems = []
    for name, true, copies, adj in (("free", k.free, k.gd_free, k.gd_adj_free), ("cache", k.cache, k.gd_cache, k.gd_adj_cache)):
        if len(copies) != k.ncpus or len(adj) != k.ncpus:
            problems.append(f"per-CPU {name} counts are missing")
        elif true - sum(adj) < 0:
            problems.append(f"global v_{name}_count would be negative")
    return problems
