"""Small scenarios built in Python for core tests."""

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
) -> Scenario:
    """procs: (name, ((op, MiB), ...)); MiB is ignored for exit."""
    return Scenario(
        name="test",
        machine=Machine(physmem=Size(physmem_mib * MiB), swap=Size(swap_mib * MiB), ncpus=ncpus),
        allocators=Allocators(
            swapmeta=AllocatorKind(swapmeta),
            mapentry=AllocatorKind(mapentry),
            mitigations=tuple(Mitigation(m) for m in mitigations),
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
