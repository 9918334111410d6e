"""Small scenarios and hand-built kernel states for core tests."""

import attrs

from ztui.core.boot import boot
from ztui.core.simulator import Simulator, run_thread
from ztui.core.state import Kernel, KmallocObjFrame
from ztui.core.vm_object import queue_add
from ztui.core.vmstats import compute_thresholds
from ztui.scenario.model import (
    AllocatorKind,
    Allocators,
    Interrupt,
    Machine,
    Mitigation,
    Phase,
    PhaseOp,
    Process,
    Rate,
    Run,
    Scenario,
    Scheduler,
    Size,
)

MiB = 1 << 20
TWO_GIB_PAGES = 524288


def small_scenario(
    physmem_mib: int = 8,
    swap_mib: int = 8,
    swapmeta: str = "kmalloc_obj",
    mapentry: str = "zalloc",
    mitigations: tuple[str, ...] = (),
    procs: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (("hog", (("alloc", 6), ("exit", 0))),),
    intr_pages_per_s: int = 0,
    quantum: int = 64,
    scheduler: str = "round-robin",
    ncpus: int = 1,
    kmslab_cache: int = 0,
) -> Scenario:
    """procs: (name, ((op, MiB), ...)); MiB is ignored for exit."""
    return Scenario(
        name="test",
        machine=Machine(physmem=Size(physmem_mib * MiB), swap=Size(swap_mib * MiB), ncpus=ncpus),
        allocators=Allocators(
            swapmeta=AllocatorKind(swapmeta),
            mapentry=AllocatorKind(mapentry),
            mitigations=tuple(Mitigation(m) for m in mitigations),
            kmslab_cache=kmslab_cache,
        ),
        interrupt=Interrupt(rate=Rate(intr_pages_per_s * 4096)),
        process=tuple(
            Process(
                name,
                phases=tuple(
                    Phase(PhaseOp(op), pages=None if op in ("exit", "churn") and not mib else Size(mib * MiB))
                    for op, mib in phases
                ),
            )
            for name, phases in procs
        ),
        run=Run(quantum=quantum, scheduler=Scheduler(scheduler)),
    )


def with_allocators(scenario: Scenario, **changes) -> Scenario:
    return attrs.evolve(scenario, allocators=attrs.evolve(scenario.allocators, **changes))


def two_gib_kernel(free: int, cache: int = 0, **scenario_args) -> Kernel:
    """A small machine's state with 2 GiB thresholds, ``free`` free pages and ``cache`` clean cached file pages.

    The counts are set by hand (page conservation does not hold): for unit
    tests of one function at a threshold.
    """
    k = boot(small_scenario(swapmeta=scenario_args.pop("swapmeta", "zalloc"), **scenario_args), 0)
    k.th = compute_thresholds(TWO_GIB_PAGES)
    vnode = k.objects[k.threads[-1].vnode]
    k.free = 0
    if cache:
        queue_add(k, "cache", vnode.oid, 0, cache, 0)
        vnode.resident = cache
    k.free = free
    return k


def put_pages(k: Kernel, qname: str, oid: int, start: int, count: int, flags: int) -> None:
    """Fault ``count`` pages of object ``oid`` onto a queue, taking them from PQ_FREE (conservation holds)."""
    obj = k.objects[oid]
    queue_add(k, qname, oid, start, count, flags)
    obj.resident += count
    obj.hi = max(obj.hi, start + count)
    k.free -= count


def queue_pages(k: Kernel, qname: str) -> list[tuple[int, int, int]]:
    """The queue's pages in queue order: (oid, pindex, flags)."""
    q = k.queues[qname]
    out = []
    for _, oid, start in q.order:
        _, count, flags = q.runs[oid, start]
        out += [(oid, p, flags) for p in range(start, start + count)]
    return out


def pagedaemon_in_kmalloc_obj(free: int, **kw):
    """A pagedaemon about to allocate a swblock on a machine with ``free`` free pages and no cache."""
    sim = Simulator.from_scenario(small_scenario(**kw), log=True)
    k = sim.k
    k.wired += k.free - free  # keep page conservation: the rest is wired elsewhere
    k.kernel_wired += k.free - free
    k.free = free
    pd = k.threads[0]
    pd.frames.append(KmallocObjFrame(ktype=0, flags=0x1602))
    return sim, k, pd


def steps(k, t, n):
    for _ in range(n):
        if len(t.frames) == 1 or t.state != "R":
            return
        run_thread(k, t)


def k_free_above_imin(n: int) -> int:
    """Free pages that leave exactly ``n`` NORMAL|SYSTEM allocations on the 8 MiB test machine."""
    return boot(small_scenario(), 0).th.v_interrupt_free_min + n


def assert_batches_step_like_single_steps(scenario: Scenario, check_every: int) -> None:
    """Run ``scenario`` as it batches and one kernel step at a time: every ``check_every`` steps the
    two hold the same state (and low-water mark, observer data the hash leaves out); same verdict and events."""
    batched = Simulator.from_scenario(scenario)
    single = Simulator.from_scenario(scenario)
    while batched.verdict is None:
        batched.run(max_steps=check_every)
        while single.step_count < batched.step_count and single.verdict is None:
            single.run(max_steps=1)
        assert single.step_count == batched.step_count
        assert single.state_hash() == batched.state_hash(), f"at step {batched.step_count}"
        assert single.k.lowwater == batched.k.lowwater
    assert single.verdict == batched.verdict
    assert list(single.events) == list(batched.events)
