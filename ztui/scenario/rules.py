"""Rules across fields: what no single field's type expresses.

They run on what structured or was salvaged (ztui.scenario.structure), on
a scenario file's values and on a trace's embedded scenario alike, and a
rule is silenced only when it depends on a value that already has a
problem.  boot_problems() runs last, on a scenario with no other problem:
it boots the machine (ztui.core.boot) and refuses one that boot leaves
without enough free pages to run.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import attrs

from ztui.core.boot import boot
from ztui.core.views import vmstats_dict
from ztui.core.vmstats import PAGE_SIZE, compute_thresholds, ordering_problems
from ztui.scenario.messages import KeyPath, Problem, bad, did_you_mean, missing, one_of, quoted
from ztui.scenario.model import (
    Allocators,
    Expect,
    GiB,
    Interrupt,
    Machine,
    MiB,
    Phase,
    PhaseOp,
    Process,
    Run,
    Scenario,
    Vm,
)
from ztui.scenario.structure import HZ_MAX, HZ_MIN
from ztui.scenario.units import TiB, format_size

PHYSMEM_MIN = 1 * MiB
PHYSMEM_MAX = 1 * TiB
SWAP_MAX = 256 * GiB
NCPUS_MIN, NCPUS_MAX = 1, 64
NICE_MIN, NICE_MAX = -20, 20  # PRIO_MIN, PRIO_MAX
# Every process is a thread the scheduler scans at each step and a row in
# every view: beyond this a run crawls and says nothing more.
PROCESSES_MAX = 1024
NAME_MAX = 64  # characters in a scenario's or a process's name
KNOWN_EVENTS = ("oom-kill", "swap-full", "packets-dropped")
EM_MIN_RXD, EM_MAX_RXD = 256, 4096  # if_em.h: the RX descriptors hw.em.rxd allows
KMALLOC_OBJ_MAX = 128 * 1024 - 352 - 8  # one object after the slab header (malloc_mgt_init)
# Phases that take `pages` (required for the first four), `rate` and `time`.
NEEDS_PAGES = (PhaseOp.ALLOC, PhaseOp.READ, PhaseOp.FREE, PhaseOp.TOUCH)
TAKES_PAGES = (*NEEDS_PAGES, PhaseOp.CHURN)
TAKES_RATE = TAKES_PAGES
TAKES_TIME = (PhaseOp.SLEEP,)


def overlaps(where: KeyPath, failed: set[KeyPath]) -> bool:
    """Whether a rule's verdict at ``where`` rests on a value that failed."""
    return any(where[: len(bad_)] == bad_ or bad_[: len(where)] == where for bad_ in failed)


T = TypeVar("T")


def rule_problems(sections: dict, failed: set[KeyPath]) -> list[Problem]:
    """Rules no single field's type expresses, on what structured or was salvaged."""
    parts: dict[str, Any] = {field.name: sections.get(field.name, field.default) for field in attrs.fields(Scenario)}
    machine_problems = _machine_problems(parts["machine"])
    problems = list(machine_problems)
    # The thresholds derive from physmem: judge them on a sound machine only.
    if not machine_problems and not overlaps(("machine",), failed):
        problems += _threshold_problems(parts["machine"], parts["vm"])
    problems += _allocator_problems(parts["allocators"])
    problems += _processes_problems(parts["process"])
    # The consumer and the kmalloc_obj owners name processes: judge them once every name is known.
    if not overlaps(("process",), failed):
        problems += _consumer_problems(parts["interrupt"], parts["process"])
        problems += _kmalloc_obj_problems(parts["allocators"], parts["process"])
    problems += _interrupt_problems(parts["interrupt"])
    problems += _run_problems(parts["run"])
    problems += _expect_problems(parts["expect"])
    if "name" in sections:
        problems += _name_problems(("name",), parts["name"], "leave name out to use the file name")
    return problems


def boot_problems(scenario: Scenario) -> list[Problem]:
    """Boot the machine and refuse it if boot leaves too few free pages.

    The rule: boot must leave v_free_count above v_free_min.  At or below
    it every allocation a process makes waits in vm_wait (vm_paging_min)
    before the workload has done anything, and below zero the counters are
    simply broken; either way the run would show the boot settings, not the
    allocator under test.  Booting (rather than redoing boot's arithmetic)
    counts everything boot takes: DMA and kernel wiring, the SWAPMETA
    zone's first refill, blank and reserved slabs, the pageout reserve, and
    whatever boot takes in later versions.
    """
    try:
        vmstats = vmstats_dict(boot(scenario, scenario.run.seed))
    except Exception as exc:  # noqa: BLE001  (user values reach the core here; any failure means unusable)
        return [bad(("machine",), "a machine the simulator cannot boot", f"{type(exc).__name__}: {exc}")]
    free, minimum = vmstats["v_free_count"], vmstats["v_free_min"]
    if free > minimum:
        return []
    found = (
        f"boot leaves {free:,} of {vmstats['v_page_count']:,} pages free (v_free_count;"
        f" {vmstats['v_wire_count']:,} wired, {vmstats['v_dma_pages']:,} of them DMA-reserved)"
    )
    allowed = (
        f"boot must leave more than v_free_min ({minimum:,}), or every allocation waits before the"
        " workload starts: lower dma_reserved, kernel_wired or [allocators] kmslab_cache, or add physmem"
    )
    return [bad(("machine",), found, allowed)]


def _present(items: tuple[T | None, ...]) -> list[tuple[int, T]]:
    """(index, item) for the items of a salvaged array that structured."""
    return [(index, item) for index, item in enumerate(items) if item is not None]


def _machine_problems(machine: Machine) -> list[Problem]:
    problems = []
    physmem, swap = format_size(machine.physmem), format_size(machine.swap)
    if machine.physmem < PHYSMEM_MIN:
        problems.append(bad(("machine", "physmem"), physmem, f"must be at least {format_size(PHYSMEM_MIN)}"))
    elif machine.physmem > PHYSMEM_MAX:
        limit = f"the model holds at most {format_size(PHYSMEM_MAX)}"
        problems.append(bad(("machine", "physmem"), physmem, limit))
    if machine.swap == 0:
        problems.append(bad(("machine", "swap"), "0", "must be more than zero"))
    elif machine.swap > SWAP_MAX:
        problems.append(bad(("machine", "swap"), swap, f"the model holds at most {format_size(SWAP_MAX)}"))
    problems += _in_range(("machine", "ncpus"), machine.ncpus, NCPUS_MIN, NCPUS_MAX)
    problems += _in_range(("machine", "hz"), machine.hz, HZ_MIN, HZ_MAX)
    problems += _in_range(("machine", "steps_per_tick"), machine.steps_per_tick, 1, None)
    # The defaults documented on Machine: vm_dma_reserved and a rough kernel size.
    dma = machine.dma_reserved if machine.dma_reserved is not None else min(128 * MiB, machine.physmem // 16)
    wired = machine.kernel_wired if machine.kernel_wired is not None else machine.physmem // 16
    if not problems and dma + wired >= machine.physmem:
        found = f"dma_reserved {format_size(dma)} + kernel_wired {format_size(wired)}"
        allowed = f"must be less than physmem {physmem}, or no page is ever free"
        problems.append(bad(("machine",), found, allowed))
    return problems


def _threshold_problems(machine: Machine, vm: Vm) -> list[Problem]:
    overrides = vm.overrides()
    problems = [
        bad(("vm", name), str(value), "a page count cannot be negative")
        for name, value in overrides.items()
        if value < 0
    ]
    if problems:
        return problems
    thresholds = compute_thresholds(machine.physmem // PAGE_SIZE, overrides=overrides)
    # With no overrides the order can only break because physmem is tiny.
    where = ("vm",) if overrides else ("machine", "physmem")
    return [(where, f"threshold order broken: {text}") for text in ordering_problems(thresholds)]


def _allocator_problems(allocators: Allocators) -> list[Problem]:
    problems = _in_range(("allocators", "kmslab_cache"), allocators.kmslab_cache, 0, None)
    problems += _in_range(("allocators", "mapent_boot"), allocators.mapent_boot, 0, None)
    seen = set()
    for index, mitigation in _present(allocators.mitigations):
        if mitigation in seen:
            where = ("allocators", "mitigations", index)
            problems.append(bad(where, f'"{mitigation.value}" again', "list each mitigation once"))
        seen.add(mitigation)
    return problems


def _processes_problems(processes: tuple[Process, ...]) -> list[Problem]:
    if len(processes) > PROCESSES_MAX:
        return [bad(("process",), f"{len(processes):,} processes", f"at most {PROCESSES_MAX:,}")]
    problems = []
    for index, process in _present(processes):
        problems += _process_problems(("process", index), process)
    return problems


def _process_problems(where: KeyPath, process: Process) -> list[Problem]:
    problems = []
    if not process.name:
        problems.append(bad((*where, "name"), '""', "a name needs at least one character"))
    problems += _name_problems((*where, "name"), process.name)
    problems += _in_range((*where, "nice"), process.nice, NICE_MIN, NICE_MAX)
    if process.region is not None and (process.region == 0 or process.region % PAGE_SIZE):
        problems.append(bad((*where, "region"), format_size(process.region), "whole pages of 4k, more than zero"))
    if process.working_set % PAGE_SIZE:
        problems.append(bad((*where, "working_set"), format_size(process.working_set), "whole pages of 4k"))
    if not process.phases:
        example = 'phases = [{op = "alloc", pages = "6m"}]'
        problems.append(missing((*where, "phases"), f"a process needs at least one phase, e.g. {example}"))
    exited = False
    for index, phase in _present(process.phases):
        at = (*where, "phases", index)
        if exited:
            found = f'"{phase.op.value}" after "exit"'
            problems.append(bad((*at, "op"), found, '"exit" must be the last phase'))
        problems += _phase_problems(at, phase)
        exited = exited or phase.op is PhaseOp.EXIT
    return problems


def _name_problems(where: KeyPath, name: str, empty_hint: str | None = None) -> list[Problem]:
    """A name is shown in every view: bounded.  (Control characters are allowed: they are shown escaped.)"""
    if name == "" and empty_hint is not None:
        return [bad(where, '""', empty_hint)]
    if len(name) > NAME_MAX:
        return [bad(where, f"a name of {len(name):,} characters", f"at most {NAME_MAX}")]
    return []


def _phase_problems(where: KeyPath, phase: Phase) -> list[Problem]:
    op = phase.op.value
    problems = []
    if phase.pages is None and phase.op in NEEDS_PAGES:
        problems.append(missing((*where, "pages"), f'"{op}" needs pages, e.g. pages = "6m"'))
    problems += _unused((*where, "pages"), phase.pages, phase.op, TAKES_PAGES)
    problems += _unused((*where, "rate"), phase.rate, phase.op, TAKES_RATE)
    problems += _unused((*where, "time"), phase.time, phase.op, TAKES_TIME)
    if phase.op is PhaseOp.SLEEP and phase.time is None:
        problems.append(missing((*where, "time"), '"sleep" needs time, e.g. time = "2s"'))
    if phase.pages is not None and phase.op in TAKES_PAGES:
        if phase.pages == 0:
            problems.append(bad((*where, "pages"), "0", "must be more than zero"))
        elif phase.pages % PAGE_SIZE:
            allowed = "must be whole pages of 4k (a bare integer counts pages, e.g. pages = 1536)"
            problems.append(bad((*where, "pages"), f"{phase.pages} bytes", allowed))
    if phase.rate == 0 and phase.op in TAKES_RATE:
        hint = "leave rate out to go as fast as the process can fault"
        problems.append(bad((*where, "rate"), "0", f"must be more than zero; {hint}"))
    if phase.time == 0 and phase.op in TAKES_TIME:
        problems.append(bad((*where, "time"), "0", "must be more than zero"))
    return problems


def _unused(where: KeyPath, value, op: PhaseOp, takers: tuple[PhaseOp, ...]) -> list[Problem]:
    if value is None or op in takers:
        return []
    names = ", ".join(f'"{taker.value}"' for taker in takers)
    return [bad(where, f'{where[-1]} on "{op.value}"', f"only {names} take {where[-1]}")]


def _consumer_problems(interrupt: Interrupt, processes: tuple[Process, ...]) -> list[Problem]:
    names = [process.name for process in processes]
    if interrupt.consumer is None or interrupt.consumer in names:
        return []
    quoted_names = ", ".join(json.dumps(name) for name in names[:10]) + (", …" if len(names) > 10 else "")
    allowed = f"the name of a [[process]]: {quoted_names}" if names else "there is no [[process]] to name"
    found = quoted(interrupt.consumer) + did_you_mean(interrupt.consumer, names)
    return [bad(("interrupt", "consumer"), found, allowed)]


def _kmalloc_obj_problems(allocators: Allocators, processes: tuple[Process, ...]) -> list[Problem]:
    """Each workload kmalloc_obj type: a new name, a size that fits a slab, a positive rate, an owner that exists."""
    names = [process.name for process in processes]
    problems: list[Problem] = []
    seen = {"SWAPMETA", "MAP ENTRY"}
    for index, obj in _present(allocators.kmalloc_obj):
        at = ("allocators", "kmalloc_obj", index)
        if not obj.name or obj.name in seen:
            allowed = "a name of its own, not SWAPMETA, MAP ENTRY or one already used"
            problems.append(bad((*at, "name"), quoted(obj.name), allowed))
        else:
            problems += _name_problems((*at, "name"), obj.name)
        seen.add(obj.name)
        if not 1 <= obj.size <= KMALLOC_OBJ_MAX:
            allowed = f"1 byte to {format_size(KMALLOC_OBJ_MAX)}, so a 128k slab holds one"
            problems.append(bad((*at, "size"), format_size(obj.size), allowed))
        problems += _in_range((*at, "rate"), obj.rate, 1, None)
        if obj.lifetime == 0:
            allowed = "more than zero; leave it out to keep them until the owner exits"
            problems.append(bad((*at, "lifetime"), "0", allowed))
        if obj.owner not in names:
            found = quoted(obj.owner) + did_you_mean(obj.owner, names)
            problems.append(bad((*at, "owner"), found, "the name of a [[process]]"))
    return problems


def _interrupt_problems(interrupt: Interrupt) -> list[Problem]:
    problems = _in_range(("interrupt", "ring"), interrupt.ring, EM_MIN_RXD, EM_MAX_RXD)
    if interrupt.sockbuf < 2048:
        problems.append(bad(("interrupt", "sockbuf"), format_size(interrupt.sockbuf), "at least one 2k mbuf cluster"))
    return problems


def _run_problems(run: Run) -> list[Problem]:
    problems = _in_range(("run", "max_steps"), run.max_steps, 1, None)
    problems += _in_range(("run", "quantum"), run.quantum, 1, None)
    for name in ("max_time", "livelock_window"):
        if getattr(run, name) == 0:
            problems.append(bad(("run", name), "0", "must be more than zero"))
    return problems


def _expect_problems(expect: Expect) -> list[Problem]:
    known = list(KNOWN_EVENTS)
    return [
        bad(("expect", "events", index), quoted(event), one_of(known) + did_you_mean(event, known))
        for index, event in _present(expect.events)
        if event not in KNOWN_EVENTS
    ]


def _in_range(where: KeyPath, value: int, low: int, high: int | None) -> list[Problem]:
    if value < low:
        allowed = f"must be at least {low}" if high is None else f"allowed: {low} to {high}"
    elif high is not None and value > high:
        allowed = f"allowed: {low} to {high}"
    else:
        return []
    return [bad(where, str(value), allowed)]
