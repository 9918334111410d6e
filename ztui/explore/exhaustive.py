"""Exhaustive search: breadth-first over the scheduler's choices, for the shortest way to a bad verdict.

The search holds a simulator per state on its frontier and a fingerprint
per state it has seen.  Both grow without end on a large state space
(with ``--max-preemptions all`` a small machine grows by some 8 MB a
second), so the search has a memory budget, 1 GiB by default: its
estimate is the frontier times the measured cost of one state
(ztui.memory.clone_cost of the first) plus SEEN_ENTRY_BYTES per state
seen, times ALLOCATOR_OVERHEAD.  At the budget it stops and says so, like
--max-states, rather than spill to disk:
a spilled frontier would have to be pickled state by state (a thousand
times slower than the search itself), and a breadth-first search that has
filled its budget is usually far from its end anyway.  ``--max-memory``
raises the budget.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import attrs

from ztui.core.simulator import Simulator
from ztui.explore.runs import BAD_VERDICTS
from ztui.explore.seeds import SEARCH_TRACE_HASH_EVERY
from ztui.memory import clone_cost
from ztui.scenario.model import GiB, MiB, Scenario
from ztui.scenario.units import format_size
from ztui.trace import CLOCK, Trace, trace_of_schedule

DEFAULT_MAX_MEMORY = 1 * GiB
# A seen-set entry (a dict slot and its 64-bit key) and its parents entry (a
# tuple of two ints): fitted from the RSS growth per distinct state beyond
# the frontier's, rounded up.
SEEN_ENTRY_BYTES = 250
# What the allocator holds beyond the objects, and states that grow as the
# search goes deeper: 1.1 keeps the RSS growth within the budget (ztui bench
# --memory measures it).
ALLOCATOR_OVERHEAD = 1.1


@attrs.frozen
class SearchProgress:
    generated: int
    distinct: int
    queued: int
    depth: int
    seconds: float
    memory: int = 0  # estimated bytes held by the frontier and the seen set

    @property
    def rate(self) -> float:
        return self.distinct / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (
            f"{self.generated:,} states generated, {self.distinct:,} distinct, {self.queued:,} on queue,"
            f" depth {self.depth}, {self.rate:,.0f} states/s, about {self.memory / MiB:,.0f} MiB held"
        )


@attrs.frozen
class SearchResult:
    scenario: Scenario
    seed: int
    max_depth: int
    max_preemptions: int | None
    verdict: str | None  # the bad verdict found, None if none
    schedule: tuple[int, ...]  # decisions reaching it (tid, or CLOCK)
    progress: SearchProgress  # the counts at the end
    depth_cut: bool  # states at max_depth were left unexpanded
    capped: bool  # stopped at max_states
    max_memory: int | None = None
    out_of_memory: bool = False  # stopped at max_memory

    @property
    def exhausted(self) -> bool:
        """Every state reachable within the preemption bound was explored: a proof for this configuration."""
        return self.verdict is None and not self.depth_cut and not self.capped and not self.out_of_memory

    def bounds(self) -> str:
        preemptions = "any number of" if self.max_preemptions is None else f"at most {self.max_preemptions}"
        return f"{preemptions} preemptions"

    def summary(self) -> str:
        p = self.progress
        counts = f"{p.distinct:,} distinct states, {p.generated:,} generated, {p.seconds:.1f} s"
        if self.verdict is not None:
            return f"{self.verdict} reached in {len(self.schedule)} steps (the shortest schedule; {self.bounds()}); {counts}"
        if self.out_of_memory:
            return (
                f"stopped at the memory budget of {format_size(self.max_memory or 0)} ({p.queued:,} states queued,"
                f" {p.distinct:,} seen), depth {p.depth}: no verdict so far ({self.bounds()});"
                f" raise it with --max-memory; {counts}"
            )
        if self.capped:
            return f"stopped at {p.distinct:,} states, depth {p.depth}: no verdict so far ({self.bounds()}); {counts}"
        if self.depth_cut:
            return f"no deadlock, livelock or recursion within {self.max_depth} steps ({self.bounds()}); {counts}"
        return (
            f"no deadlock, livelock or recursion is reachable: all {p.distinct:,} states explored"
            f" ({self.bounds()}, deepest {p.depth} steps); {counts}"
        )

    def collision_odds(self) -> float:
        """TLC's optimistic estimate that two distinct states shared a 64-bit fingerprint."""
        return self.progress.distinct * self.progress.generated / 2.0**64

    def trace(self) -> Trace:
        return trace_of_schedule(self.scenario, self.seed, self.schedule, hash_every=SEARCH_TRACE_HASH_EVERY)


def explore_exhaustive(
    scenario: Scenario,
    max_depth: int,
    *,
    max_preemptions: int | None = 0,
    max_states: int | None = None,
    max_memory: int | None = DEFAULT_MAX_MEMORY,
    seed: int | None = None,
    on_progress: Callable[[SearchProgress], None] | None = None,
    progress_every: float = 1.0,
    root: Simulator | None = None,
) -> SearchResult:
    """Breadth-first search over the scheduler's choices for the shortest way to a bad verdict.

    A step is one Simulator.step(tid), or a clock advance when no thread
    may run.  ``max_preemptions`` bounds the switches away from a thread
    that could have gone on running (CHESS's preemption bounding; the end
    of a time slice is such a switch); a thread that blocks or exits, or a
    clock tick, hands the CPU over for free, as DragonFly's LWKT does.
    None explores every interleaving.  ``max_memory`` (bytes, None: no
    limit) is the budget of the module's docstring.

    States are deduplicated by a 64-bit fingerprint (see _fingerprint); a
    state met again with fewer preemptions used is explored again.
    ``root`` (a state of ``scenario``'s run, which the search leaves alone)
    starts the search there instead of at boot; the schedule found is then
    relative to it.
    """
    bounded = max_preemptions is not None
    root = Simulator.from_scenario(scenario, seed, log=False) if root is None else root.clone()
    root.keep_fingerprints()
    state_bytes = clone_cost(root)
    seen: dict[int, int] = {_fingerprint(root, None): 0}  # fingerprint -> fewest preemptions used
    parents: list[tuple[int, int]] = [(-1, CLOCK)]  # node -> (parent node, decision)
    queue: deque = deque([(root, 0, 0, None, 0)])  # (sim, node, depth, running tid, preemptions used)
    generated = 0
    depth = 0
    depth_cut = capped = out_of_memory = False
    started = last_report = time.perf_counter()

    def memory() -> int:
        return int((len(queue) * state_bytes + len(seen) * SEEN_ENTRY_BYTES) * ALLOCATOR_OVERHEAD)

    def progress() -> SearchProgress:
        return SearchProgress(generated, len(seen), len(queue), depth, time.perf_counter() - started, memory())

    def result(verdict: str | None = None, node: int = 0) -> SearchResult:
        schedule = []
        while node > 0:
            node, decision = parents[node]
            schedule.append(decision)
        return SearchResult(
            root.scenario,
            root.seed,
            max_depth,
            max_preemptions,
            verdict,
            tuple(reversed(schedule)),
            progress(),
            depth_cut,
            capped,
            max_memory,
            out_of_memory,
        )

    while queue:
        sim, node, depth, running, used = queue.popleft()
        if depth >= max_depth:
            depth_cut = True
            continue
        choices = _choices(sim.runnable(), running, used, max_preemptions)
        for i, (decision, cost) in enumerate(choices):
            child = sim if i == len(choices) - 1 else sim.clone()  # the last child may reuse the parent
            child.step(None if decision == CLOCK else decision)
            generated += 1
            now_running = decision if bounded and decision != CLOCK else None
            fingerprint = _fingerprint(child, now_running)
            best = seen.get(fingerprint)
            if best is not None and best <= cost:
                continue
            seen[fingerprint] = cost
            parents.append((node, decision))
            verdict = child.verdict
            if verdict is None:
                queue.append((child, len(parents) - 1, depth + 1, now_running, cost))
            elif verdict.kind in BAD_VERDICTS:
                depth += 1
                return result(verdict.kind, len(parents) - 1)
        if max_states is not None and len(seen) >= max_states:
            capped = True
            break
        if max_memory is not None and memory() >= max_memory:
            out_of_memory = True
            break
        if on_progress is not None and time.perf_counter() - last_report >= progress_every:
            last_report = time.perf_counter()
            on_progress(progress())
    return result()


def _choices(
    runnable: tuple[int, ...], running: int | None, used: int, max_preemptions: int | None
) -> list[tuple[int, int]]:
    """(decision, preemptions used after it) for each choice the bound allows; the running thread first."""
    if not runnable:
        return [(CLOCK, used)]
    if max_preemptions is None or running is None or running not in runnable:
        return [(tid, used) for tid in runnable]
    out = [(running, used)]
    if used < max_preemptions:
        out.extend((tid, used + 1) for tid in runnable if tid != running)
    return out


def _fingerprint(sim: Simulator, running: int | None) -> int:
    """A 64-bit fingerprint of the search state: the machine state and, under a bound, the running thread.

    Under step(tid) the scheduler's own state is dead: leaving it out lets
    interleavings that reach the same machine state meet.
    """
    return hash((sim.state_key(scheduler=False), running))
