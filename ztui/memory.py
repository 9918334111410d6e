"""Measuring memory: what an object graph holds (for budgets) and the process's RSS (for ztui bench).

marginal_size() walks gc.get_referents from an object and adds
sys.getsizeof of everything reached, once each, leaving out what another
object already reaches: what keeping one more copy (a clone of a
simulator) really costs, or, against a simulator's constants, what a
checkpoint holds.  Both are estimates: they see what the garbage
collector sees, and not the allocator's own overhead.
"""

from __future__ import annotations

import gc
import resource
import sys
import types

# Shared by every instance, and a way into everything (a module's globals): never walked.
_NOT_WALKED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)


def marginal_size(copy: object, original: object) -> int:
    """Bytes reachable from ``copy`` but not from ``original``: the cost of keeping ``copy`` too."""
    return _size_of_unseen(copy, _reachable_ids(original))


def _size_of_unseen(root: object, seen: set[int]) -> int:
    """Bytes of what ``root`` reaches outside ``seen`` (which it extends)."""
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, _NOT_WALKED):
            continue
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def clone_cost(sim) -> int:
    """What one more copy of a Simulator holds: its objects less what every copy shares.

    Shared: the scenario, the kernel's constant fields (ztui.core.copying.SHARED)
    and the step history, when one is recorded (clones share it: it is not
    state; it is left out by identity, not walked: 4096 samples were a fifth
    of a walk's time at 2 GiB).
    Not the marginal size against another simulator: what a fresh clone
    shares with its original (immutable page runs, events) the original
    soon replaces, and the copy keeps.
    """
    from ztui.core.copying import SHARED

    shared = _reachable_ids((sim.scenario, *(getattr(sim.k, name) for name in SHARED)))
    shared.add(id(sim.step_history))
    return _size_of_unseen(sim, shared)


def rss_bytes() -> int:
    """The process's resident set size now (Linux), or its peak where /proc is missing."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def peak_rss_bytes() -> int:
    """The process's peak resident set size (VmHWM: ru_maxrss would keep a forking parent's peak across exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _reachable_ids(root: object) -> set[int]:
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) not in seen:
            seen.add(id(obj))
            if not isinstance(obj, _NOT_WALKED):
                stack.extend(gc.get_referents(obj))
    return seen
