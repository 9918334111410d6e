#!/usr/bin/env python3
"""Mutation testing of ztui/core with hand-written mutants (standard library only).

Each mutant replaces one exact snippet of one core module with a bug of
the kind real ones take: an off-by-one at a threshold, a dropped wakeup, a
skipped counter update, a changed constant, a mitigation's mechanism
broken.  One at a time, in a private copy of the tree, the fast subset of
the suite runs against it (tests/core: unit tests first, then the property
and bundled-scenario tests; ``-x``, so a kill ends the run); a mutant that
fails a test or runs past the timeout is killed.  mutmut was not used: it
does not mutate decorated functions, and every kernel handler is one.

    python tools/mutate.py                 # every mutant; prints the score and the survivors
    python tools/mutate.py --only vm_map   # mutants whose name starts with vm_map
    python tools/mutate.py --check         # only check that every mutant still applies
    python tools/mutate.py --jobs 2        # two mutants at a time
    python tools/mutate.py --full          # with the 2 GiB seed scenario (slow) in the subset

A mutant whose snippet no longer occurs exactly once is reported stale
(the core changed under it) and is not counted.  Equivalent mutants (no
behaviour can tell them apart) carry their reason, and are listed, not run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLOW = ["tests/core/test_properties.py", "tests/core/test_bundled_scenarios.py"]
FAST = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "core").glob("test_*.py") if str(p.relative_to(ROOT)) not in SLOW)
# The 2 GiB seed scenario alone takes as long as the rest of the subset; --full runs it too.
SEED = "tests/core/test_bundled_scenarios.py::test_bundled_scenario_reaches_its_expected_verdict[seed-2g-chrome-buildkernel]"


@dataclass(frozen=True)
class Mutant:
    name: str  # module-kind, e.g. "vm_map-reserve-off-by-one"
    old: str
    new: str
    equivalent: str = ""  # why no test can tell it apart, if so

    @property
    def path(self) -> Path:
        return ROOT / "ztui" / "core" / f"{self.name.split(':')[0]}.py"


def m(name: str, old: str, new: str, equivalent: str = "") -> Mutant:
    return Mutant(name, old, new, equivalent)


MUTANTS = [
    # --- vm_map.py: the map-entry reserve ---
    m("vm_map:reserve-off-by-one", "if k.gd_vme_avail[cpu] >= f.count:", "if k.gd_vme_avail[cpu] > f.count:"),
    m("vm_map:reserve-not-taken", "        k.gd_vme_avail[cpu] -= f.count\n        return ret(t, f.count)",
      "        return ret(t, f.count)"),
    m("vm_map:arrival-base-skipped", "        k.gd_vme_base[cpu] += 1\n        k.gd_vme_avail[cpu] += 1\n        f.pc = 1",
      "        k.gd_vme_avail[cpu] += 1\n        f.pc = 1"),
    m("vm_map:recursion-depth", "RECURSION_REPORT_DEPTH = 3", "RECURSION_REPORT_DEPTH = 4"),
    m("vm_map:release-slop-off-by-one", "if k.gd_vme_avail[cpu] > MAP_RESERVE_SLOP:", "if k.gd_vme_avail[cpu] >= MAP_RESERVE_SLOP:"),
    m("vm_map:release-trim-not-freed", "        mapent_free(k, excess)\n", "\n"),
    m("vm_map:hysteresis", "MAP_RESERVE_HYST = MAP_RESERVE_SLOP - MAP_RESERVE_SLOP // 8", "MAP_RESERVE_HYST = MAP_RESERVE_SLOP - MAP_RESERVE_SLOP // 4"),
    m("vm_map:kreserve-not-counted", "    k.gd_vme_avail[cpu] -= count\n    return count", "    return count"),
    m("vm_map:create-base-kept", "    k.gd_vme_base[cpu] -= 1\n    if k.gd_vme_base[cpu] < 0:", "    if k.gd_vme_base[cpu] < 0:"),
    m("vm_map:dispose-reservation", "    return count + n", "    return count"),
    m("vm_map:mapent-free-inuse", "        z.zfreecnt += n\n        z.inuse -= n", "        z.zfreecnt += n"),
    # --- verdict.py: the rules ---
    m("verdict:window-off-by-one", "now - t.progress_tick >= window", "now - t.progress_tick > window"),
    m("verdict:floor-constant", "return k.cfg.longest_latency_ticks + 3 * k.hz", "return k.cfg.longest_latency_ticks + 2 * k.hz"),
    m("verdict:window-ignores-floor", "return max(k.cfg.livelock_ticks, floor_ticks(k))", "return k.cfg.livelock_ticks"),
    m("verdict:deadlock-ignores-sockbuf", "        and not k.sockbuf\n", "\n"),
    m("verdict:ok-while-pagers-busy", "and not k.reads and k.vm_pages_needed == 0", "and not k.reads"),
    m("verdict:pbuf-source-ignored", "    if wait == \"pbuf\":\n        return bool(k.io)", "    if wait == \"pbuf\":\n        return False"),
    m("verdict:freed-window-off-by-one", "if k.tick - u.freed_tick < window:", "if k.tick - u.freed_tick <= window:"),
    m("verdict:deadlock-any-timeout", "if all(t.state != RUN and t.wake_tick < 0 for t in stuck):",
      "if any(t.state != RUN and t.wake_tick < 0 for t in stuck):"),
    m("verdict:pdelay-not-in-pass", " or t.wmesg == \"pdelay\")", ")"),
    m("verdict:scanning-pager-io-ignored", "return t.kind in PAGERS and bool(k.io)", "return False"),
    m("verdict:own-io-biord", "OWN_IO = frozenset({\"swread\", \"biord\"})", "OWN_IO = frozenset({\"swread\"})"),
    m("verdict:zgetlk-holder", "return k.zones[\"MAP ENTRY\"].zgetlk not in cand", "return False"),
    # --- kern_kmalloc.py ---
    m("kern_kmalloc:kfree-inuse", "    k.slabs[sid].nfree += n\n    ty.inuse -= n", "    k.slabs[sid].nfree += n"),
    m("kern_kmalloc:reserved-slab-not-used-up", "        ty.reserved_slab -= 1\n", "\n"),
    m("kern_kmalloc:take-inuse", "    k.slabs[sid].nfree -= 1\n    ty.inuse += 1", "    k.slabs[sid].nfree -= 1"),
    m("kern_kmalloc:blank-slab-not-counted", "            k.kmslab_free[cpu] -= 1\n", "\n"),
    m("kern_kmalloc:reserve-flags-dropped", "M_WAITOK | caller_flags & (M_USE_RESERVE | M_USE_INTERRUPT_RESERVE | M_NULLOK)",
      "M_WAITOK | caller_flags & M_NULLOK"),
    m("kern_kmalloc:nowait-reserve-waits", "flags = M_NOWAIT if ty.reserve >= 0 else", "flags = M_WAITOK if ty.reserve >= 0 else"),
    m("kern_kmalloc:reserve-last-object", "    if reserve.nfree == 0:\n        return -1", "    if reserve.nfree <= 1:\n        return -1"),
    m("kern_kmalloc:reserve-for-everyone", "if ty.reserve < 0 or t.kind not in (ThreadKind.PAGEDAEMON, ThreadKind.EMERGPAGER):",
      "if ty.reserve < 0:"),
    m("kern_kmalloc:exis-ticks", "k.tick - s.full_since >= 2", "k.tick - s.full_since >= 1"),
    m("kern_kmalloc:reserved-slab-refill-bound", "ty.reserved_slab < 1:", "ty.reserved_slab < 2:"),
    m("kern_kmalloc:slab-free-pages-lost", "    k.wired -= KMALLOC_SLAB_PAGES\n    vm_page_free_toq(k, KMALLOC_SLAB_PAGES)",
      "    k.wired -= KMALLOC_SLAB_PAGES"),
    m("kern_kmalloc:maxfreemags", "KMALLOC_MAXFREEMAGS = 4", "KMALLOC_MAXFREEMAGS = 3"),
    m("kern_kmalloc:full-before-partial", "src = ty.partial if ty.partial else ty.full", "src = ty.full if ty.full else ty.partial"),
    m("kern_kmalloc:kobj-inuse", "        s.nfree -= n - 1\n        ty.inuse += n - 1", "        s.nfree -= n - 1"),
    m("kern_kmalloc:slabs-allocated-not-counted", "    else:\n        ty.slabs_allocated += 1\n", "\n"),
    # --- kern_slaballoc.py ---
    m("kern_slaballoc:use-reserve-ignored", "    if flags & M_USE_RESERVE:\n        req |= VM_ALLOC_SYSTEM\n", "\n"),
    m("kern_slaballoc:interrupt-reserve-ignored", "    if flags & M_USE_INTERRUPT_RESERVE:\n        req |= VM_ALLOC_INTERRUPT\n", "\n"),
    m("kern_slaballoc:give-back-not-freed", "    vm_page_free_toq(k, f.held, source=False)\n", "\n"),
    m("kern_slaballoc:give-back-still-wired", "    k.wired -= f.held\n    vm_page_free_toq", "    vm_page_free_toq"),
    m("kern_slaballoc:slab-33-pages", "    if f.held < KMALLOC_SLAB_PAGES:\n        hazard.sample", "    if f.held <= KMALLOC_SLAB_PAGES:\n        hazard.sample"),
    m("kern_slaballoc:slab-pages-not-counted", "    k.slab_pages += KMALLOC_SLAB_PAGES\n", "\n"),
    m("kern_slaballoc:reserved-slab-unlimited", "and ty.reserved_slab > 0:", "and ty.reserved_slab >= 0:"),
    m("kern_slaballoc:kreserve-mitigation-off", "if \"slab-kreserve\" in k.mitigations:", "if \"slab-kreserve\" in ():"),
    m("kern_slaballoc:give-back-entry-kept", "vm_map_entry_release(k, t.cpu, f.count + 1)", "vm_map_entry_release(k, t.cpu, f.count)"),
    m("kern_slaballoc:nowait-waits", "    if not f.flags & M_WAITOK:\n        hazard.end", "    if False:\n        hazard.end"),
    # --- vm_page.py ---
    m("vm_page:severe-off-by-one", "return th.v_free_severe > f + c or", "return th.v_free_severe >= f + c or"),
    m("vm_page:min-off-by-one", "return th.v_free_min + n > f + c or", "return th.v_free_min + n >= f + c or"),
    m("vm_page:wait-off-by-one", "return th.v_paging_wait > f + c or", "return th.v_paging_wait >= f + c or"),
    m("vm_page:start-off-by-one", "return th.v_paging_start > f + c + adj or", "return th.v_paging_start >= f + c + adj or"),
    m("vm_page:target1-off-by-one", "return th.v_paging_target1 > f + c or", "return th.v_paging_target1 >= f + c or"),
    m("vm_page:target2-off-by-one", "return th.v_paging_target2 > f + c or", "return th.v_paging_target2 >= f + c or"),
    m("vm_page:nice-offset", "    return (nice + 20) * d // 40", "    return (nice + 20) * d // 20"),
    m("vm_page:alloc-reserved-off-by-one", "        f >= th.v_free_reserved\n", "        f > th.v_free_reserved\n"),
    m("vm_page:alloc-interrupt-last-page", "(req & VM_ALLOC_INTERRUPT != 0 and f > 0)", "(req & VM_ALLOC_INTERRUPT != 0 and f > 1)"),
    m("vm_page:alloc-system-ignores-cache", "(req & VM_ALLOC_SYSTEM != 0 and c == 0 and f > th.v_interrupt_free_min)",
      "(req & VM_ALLOC_SYSTEM != 0 and f > th.v_interrupt_free_min)"),
    m("vm_page:free-wakeup-dropped", "        k.vm_pages_waiting = 0\n        wakeup(k, CHAN_FREE_COUNT)", "        k.vm_pages_waiting = 0"),
    m("vm_page:pageout-wakeup-dropped", "        k.vm_pageout_pages_needed = 0\n        wakeup(k, CHAN_PAGEOUT_PAGES_NEEDED)",
      "        k.vm_pageout_pages_needed = 0"),
    m("vm_page:vm-wait-user-wakeup-dropped",
      "        if k.vm_pages_needed <= 1:\n            k.vm_pages_needed += 1\n            wakeup(k, CHAN_PAGES_NEEDED)\n        k.vm_pages_waiting += 1\n        tsleep",
      "        if k.vm_pages_needed <= 1:\n            k.vm_pages_needed += 1\n        k.vm_pages_waiting += 1\n        tsleep"),
    m("vm_page:vm-wait-not-counted", "        k.vm_pages_waiting += 1\n        tsleep(k, t, CHAN_FREE_COUNT, \"vmwait\", timo)",
      "        tsleep(k, t, CHAN_FREE_COUNT, \"vmwait\", timo)"),
    m("vm_page:pageout-reserve-not-taken", "            k.pageout_reserve -= 1  # mitigation", "            pass  # mitigation"),
    m("vm_page:reserve-refill-off-by-one", "and k.free >= k.th.v_free_min:", "and k.free > k.th.v_free_min:",
      equivalent="at free == v_free_min the refill is min(..., free - v_free_min) = 0 pages either way"),
    m("vm_page:hysteresis", "vm_page_free_hysteresis = 16", "vm_page_free_hysteresis = 0"),
    m("vm_page:pagedaemon-wakeup-off-by-one", "    if k.vm_pages_needed <= 1:\n        k.vm_pages_needed = 1",
      "    if k.vm_pages_needed < 1:\n        k.vm_pages_needed = 1"),
    m("vm_page:pfault-timeout", "\"pfault\", k.hz // 10 + 1)", "\"pfault\", k.hz // 10)"),
    m("vm_page:pager-vm-wait-timeout", "tsleep(k, t, CHAN_PAGEOUT_PAGES_NEEDED, \"VMWait\", timo)",
      "tsleep(k, t, CHAN_PAGEOUT_PAGES_NEEDED, \"VMWait\", 10 * timo)"),
    # --- vm_pageout.py ---
    m("vm_pageout:end-of-pass-wakeup-dropped",
      "            emit(k, t, \"pageout\", f\"{t.name}: free+cache {k.free + k.cache} reached v_paging_target2, idle\")\n        wakeup(k, CHAN_FREE_COUNT)",
      "            emit(k, t, \"pageout\", f\"{t.name}: free+cache {k.free + k.cache} reached v_paging_target2, idle\")"),
    m("vm_pageout:start-branch-wakeup-dropped", "        if not vm_paging_wait(k):\n            wakeup(k, CHAN_FREE_COUNT)\n", "\n"),
    m("vm_pageout:oom-pass-threshold", "f.npass // MAXSCAN_DIVIDER > 1 and", "f.npass // MAXSCAN_DIVIDER > 0 and"),
    m("vm_pageout:oom-once-a-second", "if k.tick - k.last_kill_tick < k.hz:", "if k.tick - k.last_kill_tick < 2 * k.hz:"),
    m("vm_pageout:oom-not-counted", "        k.oom_kills += 1\n", "\n"),
    m("vm_pageout:emergency-stall", "or stalled < 2:", "or stalled < 3:"),
    m("vm_pageout:launder-not-doubled", "    if p:\n        n *= 2\n", "\n"),
    m("vm_pageout:scan-budget", "return min(n, -(-n // MAXSCAN_DIVIDER) + 1)", "return min(n, -(-n // MAXSCAN_DIVIDER))"),
    m("vm_pageout:cache-scan-min", "VM_CACHE_SCAN_MIN = 16", "VM_CACHE_SCAN_MIN = 8"),
    m("vm_pageout:cache-wakeup-dropped", "        queue_add(k, CACHE_Q, oid, s, m, flags & ~(WINATCFLS | PMAP_REF | REFERENCED))\n    vm_page_free_wakeup(k)",
      "        queue_add(k, CACHE_Q, oid, s, m, flags & ~(WINATCFLS | PMAP_REF | REFERENCED))"),
    m("vm_pageout:second-chance-raw-pass", "elif not flags & WINATCFLS and f.npass // MAXSCAN_DIVIDER == 0:", "elif not flags & WINATCFLS and f.npass == 0:"),
    m("vm_pageout:launder-budget-unspent", "    f.launder -= min(count, max_launder(k, f.npass // MAXSCAN_DIVIDER))\n", "\n"),
    m("vm_pageout:npass-not-counted", "    if f.avail_shortage > 0:\n        f.npass += 1\n", "    if f.avail_shortage > 0:\n"),
    m("vm_pageout:emergency-launder", "        shortage = max(shortage, VM_EMERG_LAUNDER)\n", "\n"),
    m("vm_pageout:kill-leaves-sleeper", "        setrunnable(victim)  # SIGKILL", "        pass  # SIGKILL"),
    m("vm_pageout:pdelay-unwakeable", "tsleep(k, t, CHAN_PAGES_NEEDED, \"pdelay\", k.hz // 5)", "tsleep(k, t, \"\", \"pdelay\", k.hz // 5)"),
    m("vm_pageout:deficit-ignored", "    f.avail_shortage = short + k.vm_pageout_deficit\n", "    f.avail_shortage = short\n"),
    m("vm_pageout:emergpager-sleep", "k.hz if k.vm_pages_needed else 10 * k.hz", "10 * k.hz"),
    # --- swap_pager.py ---
    m("swap_pager:lowat-off-by-one", "    if k.swap_free < k.nswap_lowat:", "    if k.swap_free <= k.nswap_lowat:"),
    m("swap_pager:halving-floor", "while k.swap_free < n and n > 4:", "while k.swap_free < n and n > 1:"),
    m("swap_pager:swblock-not-freed", "        del obj.swb[blk]\n        swblock_free(k, obj, blk)\n\n\ndef swp_pager_meta_free_all",
      "        del obj.swb[blk]\n\n\ndef swp_pager_meta_free_all"),
    m("swap_pager:pbuf-not-taken", "        k.pbufs_free -= 1\n        f.pc = 2", "        f.pc = 2"),
    m("swap_pager:pbuf-wakeup-dropped", "    k.pbufs_free += 1\n    wakeup(k, CHAN_PBUF)", "    k.pbufs_free += 1"),
    m("swap_pager:pip-not-dropped", "    obj.pip -= count\n", "\n"),
    m("swap_pager:pip-wakeup-dropped", "    wakeup(k, object_channel(obj.oid))\n    return pieces", "    return pieces"),
    m("swap_pager:rewrite-leaks-block", "            if mask & bit:\n                swp_pager_freeswapspace(k, 1)\n", "\n"),
    m("swap_pager:zone-exhausted-no-kill", "    kill_biggest(k, t, \"swap blk zone exhausted\")\n", "\n"),
    m("swap_pager:cluster-size", "NSW_CLUSTER_MAX = min(MAXPHYS_PAGES, MAX_PAGEOUT_CLUSTER)", "NSW_CLUSTER_MAX = MAXPHYS_PAGES"),
    m("swap_pager:severe-deactivation-off", "            if qname == ACTIVE and severe:", "            if qname == ACTIVE and False:"),
    # --- vm_zone.py ---
    m("vm_zone:zfreemin-off-by-one", "    if z.zfreecnt > z.zfreemin:\n        z.zfreecnt -= 1\n        z.inuse += 1\n        return True",
      "    if z.zfreecnt >= z.zfreemin:\n        z.zfreecnt -= 1\n        z.inuse += 1\n        return True"),
    m("vm_zone:interrupt-pages", "    first = min(4, want)\n", "    first = min(3, want)\n"),
    m("vm_zone:ztotal-not-counted", "    z.ztotal += new\n", "\n"),
    m("vm_zone:refill-not-wired", "        k.wired += got\n", "\n"),
    m("vm_zone:zgetlk-wakeup-dropped", "    z.zgetlk = -1\n    wakeup(k, \"zgetlk\")", "    z.zgetlk = -1"),
    m("vm_zone:renormalise-avail", "while k.gd_vme_avail[cpu] < 2 and new > 1:", "while k.gd_vme_avail[cpu] < 1 and new > 1:"),
    m("vm_zone:zfree-inuse", "    z.zfreecnt += 1\n    z.inuse -= 1", "    z.zfreecnt += 1"),
    m("vm_zone:maxpgload", "ZONE_MAXPGLOAD = 32", "ZONE_MAXPGLOAD = 16"),
    # --- vm_kern.py ---
    m("vm_kern:krelease-dropped", "        vm_map_entry_krelease(k, t.cpu, count)\n", "\n"),
    m("vm_kern:page-not-wired", "            f.held += 1\n            k.wired += 1\n            return DONE", "            f.held += 1\n            return DONE"),
    m("vm_kern:one-page-more", "    if f.held < f.npages:", "    if f.held <= f.npages:"),
    # --- kern_synch.py ---
    m("kern_synch:wakeup-skips-disk", "if t.wchan == wchan and (t.state == SLEEP or t.state == DISK):", "if t.wchan == wchan and t.state == SLEEP:"),
    m("kern_synch:timeout-late", "if 0 <= t.wake_tick <= tick:", "if 0 <= t.wake_tick < tick:"),
    m("kern_synch:freed-tick-not-set", "t.progress_tick = t.freed_tick = k.tick", "t.progress_tick = k.tick"),
    m("kern_synch:round-robin-repeat", "if t.tid > k.rr_last:", "if t.tid >= k.rr_last:"),
    m("kern_synch:charge-steps", "    k.step += n - 1\n", "    k.step += n\n"),
    # --- vmstats.py ---
    m("vmstats:reserved-constant", "\"v_free_reserved\": v_free_min * 4 // 8 + 7,", "\"v_free_reserved\": v_free_min * 4 // 8 + 6,"),
    m("vmstats:target2-constant", "v_paging_target2=v_free_min * 5,", "v_paging_target2=v_free_min * 4 + 1,"),
    m("vmstats:pcpu-sync", "PCPU_SYNC = 1024", "PCPU_SYNC = 512"),
    m("vmstats:rollup-stale", "    k.gd_free[k.curcpu], k.gd_cache[k.curcpu] = k.free, k.cache\n", "\n"),
    # --- the batches: churn_pairs.py, munmap_runs.py, vm_page_queues.py ---
    m("churn_pairs:first-munmap-unchecked", "if first_free < m and free_toq_due(k, -gone[first_free]):", "if False:"),
    m("churn_pairs:low-water-at-last-pair", "first = bisect_left(gone, gone[m - 1], 0, m)", "first = m - 1"),
    m("churn_pairs:free-wakeup-unchecked", " or free_count_wake_due(k))", ")"),
    m("munmap_runs:pcpu-push-unchecked", "if k.ncpus > 1 and k.gd_adj_free[k.curcpu] + 1 < -PCPU_SYNC:", "if False:"),
    m("munmap_runs:stop-one-late", "return frees[n] if n < len(frees)", "return frees[n] + 1 if n < len(frees)"),
    m("munmap_runs:swap-past-the-cut", "[p for p in swapped if p < oldest + m]", "swapped"),
    m("vm_page_queues:set-flags-joins-any-prev", "prev[1] == seq and prev[3] == flags:\n            self._drop(oid, rstart)",
      "prev[1] == seq:\n            self._drop(oid, rstart)"),
    # --- intr.py, vfs_bio.py, vm_object.py, kern_proc.py ---
    m("intr:partial-zone-kept", "        vm_page_free_toq(k, got, source=False)\n        return False", "        return False"),
    m("intr:sockbuf-not-drained", "    k.sockbuf_clusters -= n\n", "\n"),
    m("vfs_bio:deficit-ignored", "        k.vm_pageout_deficit += deficit\n", "\n"),
    m("vfs_bio:cache-wakeup-dropped", "        queue_add(k, CACHE, oid, start, n, 0)\n        vm_page_free_wakeup(k)", "        queue_add(k, CACHE, oid, start, n, 0)"),
    m("vm_object:cache-resident", "        k.objects[oid].resident -= m\n", "\n"),
    m("kern_proc:fault-not-counted", "    obj.resident += n\n    t.done += n", "    t.done += n"),
    m("kern_proc:swapin-still-wired", "    k.wired -= 1\n    k.swapin_pages -= 1", "    k.swapin_pages -= 1"),
    m("kern_proc:exit-entries-kept", "    count = vm_map_entry_dispose(k, t.cpu, t.rv, t.map_entries)", "    count = t.rv"),
]


def apply(text: str, mutant: Mutant) -> str | None:
    """The module with the mutant in it; None if its snippet no longer occurs exactly once."""
    if text.count(mutant.old) != 1:
        return None
    return text.replace(mutant.old, mutant.new)


def copy_tree(dest: Path) -> None:
    for name in ("ztui", "tests"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis"))
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")


def run_subset(tree: Path, timeout: float, full: bool, tests: list[str] | None = None) -> tuple[str, str, float]:
    """('pass' | 'fail' | 'timeout', the first failing test, seconds) for the fast subset run in ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    # A hung test (a mutant that loops) fails after a minute; the slowest test of the subset takes 20 s.
    # Hypothesis draws the same examples for every mutant, from a fresh database: an example saved while
    # one mutant failed must not fail the next (it would, if the clean tree fails it too).
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-rf", "-p", "no:cacheprovider", "--timeout=60",
           "--hypothesis-seed=0", *(tests or FAST + SLOW)]
    shutil.rmtree(tree / ".hypothesis", ignore_errors=True)
    if not full:
        cmd += ["--deselect", SEED]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "timeout", "", time.monotonic() - t0
    except BaseException:  # Ctrl-C or SIGTERM: the run in its own session goes too
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    elapsed = time.monotonic() - t0
    if proc.returncode == 0:
        return "pass", "", elapsed
    failed = re.search(r"^(?:FAILED|ERROR) (\S+)", out, re.M)
    return "fail", failed.group(1) if failed else out.strip().splitlines()[-1], elapsed


def check_imports_from(tree: Path) -> None:
    """The subprocess must import ztui from the copy, not from the editable install."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    where = subprocess.run([sys.executable, "-c", "import ztui; print(ztui.__file__)"], cwd=tree, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    if not where.startswith(str(tree)):
        sys.exit(f"mutate: ztui is imported from {where}, not from the copy in {tree}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="comma-separated name prefixes (module or module:kind)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=0, help="seconds per mutant (default: 3 x the clean run, at least 120)")
    ap.add_argument("--check", action="store_true", help="only check that every mutant applies")
    ap.add_argument("--all", action="store_true", help="run the equivalent mutants too")
    ap.add_argument("--full", action="store_true", help="also run the 2 GiB seed scenario on each mutant")
    ap.add_argument("--tests", nargs="+", help="run these tests instead of the subset (to try a new test on its mutants)")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up as Ctrl-C does
    prefixes = [p for p in args.only.split(",") if p]
    chosen = [mu for mu in MUTANTS if not prefixes or any(mu.name.startswith(p) for p in prefixes)]
    stale = [mu for mu in chosen if apply(mu.path.read_text(), mu) is None]
    for mu in stale:
        print(f"stale     {mu.name}: its snippet does not occur exactly once in {mu.path.relative_to(ROOT)}")
    if args.check:
        print(f"{len(chosen) - len(stale)} of {len(chosen)} mutants apply")
        return 1 if stale else 0
    equivalent = [mu for mu in chosen if mu.equivalent and not args.all and mu not in stale]
    todo = [mu for mu in chosen if mu not in stale and mu not in equivalent]

    with tempfile.TemporaryDirectory(prefix="ztui-mutate.") as scratch:
        trees = [Path(scratch) / f"w{i}" for i in range(max(1, args.jobs))]
        for tree in trees:
            copy_tree(tree)
        check_imports_from(trees[0])
        status, failed, clean = run_subset(trees[0], 3600, args.full, args.tests)
        if status != "pass":
            sys.exit(f"mutate: the unmutated tree fails ({failed}); fix that first")
        timeout = args.timeout or max(120.0, 3 * clean)
        print(f"clean run {clean:.0f} s; {len(todo)} mutants, timeout {timeout:.0f} s each", flush=True)
        free = list(trees)
        results: dict[str, tuple[str, str, float]] = {}

        def run_one(mu: Mutant) -> None:
            tree = free.pop()
            target = tree / mu.path.relative_to(ROOT)
            original = target.read_text()
            try:
                mutated = apply(original, mu)
                assert mutated is not None
                target.write_text(mutated)
                results[mu.name] = outcome = run_subset(tree, timeout, args.full, args.tests)
            finally:
                target.write_text(original)
                free.append(tree)
            status, test, seconds = outcome
            label = {"fail": "killed", "timeout": "killed (timeout)", "pass": "SURVIVED"}[status]
            print(f"{label:<17} {mu.name:<48} {seconds:5.0f} s  {test}", flush=True)

        if len(trees) == 1:
            for mu in todo:  # in the main thread, where Ctrl-C and SIGTERM arrive
                run_one(mu)
        else:
            with ThreadPoolExecutor(max_workers=len(trees)) as pool:
                list(pool.map(run_one, todo))

    survivors = [mu for mu in todo if results[mu.name][0] == "pass"]
    killed = len(todo) - len(survivors)
    print(f"\nmutation score: {killed} of {len(todo)} killed ({100 * killed / max(1, len(todo)):.0f} %)"
          f"; {len(equivalent)} equivalent not run, {len(stale)} stale")
    for mu in survivors:
        print(f"  survived: {mu.name}")
    for mu in equivalent:
        print(f"  equivalent: {mu.name}: {mu.equivalent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
