"""A schedule's states, TLC-style: the first in full, then only what each step changed."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ztui.core.simulator import Simulator
from ztui.scenario.model import Scenario
from ztui.trace import CLOCK


def describe_schedule(scenario: Scenario, seed: int, schedule: Sequence[int]) -> list[str]:
    """The schedule's states, TLC-style: the first in full, then only what each step changed.

    Consecutive steps of the same thread are shown as one.
    """
    sim = Simulator.from_scenario(scenario, seed)
    names = [t.name for t in sim.snapshot(events=0).threads]
    facts = _facts(sim)
    lines = ["State 1: <initial> (step 0, tick 0)", *(f"  {name} = {value}" for name, value in facts.items())]
    state = 1
    for decision, group in itertools.groupby(schedule):
        count = len(list(group))
        first_step = sim.step_count + 1
        for _ in range(count):
            sim.step(None if decision == CLOCK else decision)
        state += 1
        who = "clock advance" if decision == CLOCK else names[decision] + (f" x{count}" if count > 1 else "")
        span = (
            f"step {sim.step_count}"
            if sim.step_count == first_step
            else f"steps {first_step}-{sim.step_count}"
        )
        lines.append(f"State {state}: {who} ({span}, tick {sim.tick})")
        now = _facts(sim)
        lines.extend(
            f"  {name} = {value}   (was {facts.get(name, '-')})"
            for name, value in now.items()
            if facts.get(name) != value
        )
        lines.extend(
            f"  event: {e.thread or 'clock'}: {e.text}"
            for e in sim.events
            if e.step >= first_step and e.subsystem != "verdict"
        )
        facts = now
    if sim.verdict is not None:
        lines.append(f"Verdict: {sim.verdict.headline}")
        lines.extend(f"  {line}" for line in sim.verdict.explanation)
    return lines


def _facts(sim: Simulator) -> dict[str, str]:
    """The state as name -> value, in the kernel's names, for diffing."""
    snap = sim.snapshot(events=0)
    facts = {f"vmstats.{name}": str(value) for name, value in snap.queues.items()}
    facts.update((f"swap.{name}", str(value)) for name, value in snap.swap.items())
    facts.update((f"pagedaemon.{name}", str(value)) for name, value in snap.pagedaemon.items())
    for allocator in (snap.swapmeta, snap.mapentry.zone):
        prefix = f"{allocator.zone} ({allocator.kind})"
        facts[f"{prefix}.in_use"] = str(allocator.in_use)
        facts.update(
            (f"{prefix}.{name}", str(value) if value != "" else "-")
            for name, value in allocator.state.items()
        )
        for a in allocator.assembling:
            facts[f"{prefix}.{a.function}[{a.thread}]"] = f"{a.pages_held}/{a.pages_needed} pages"
    for cpu in snap.mapentry.cpus:
        facts[f"gd_vme_avail[cpu{cpu.cpu}]"] = str(cpu.gd_vme_avail)
    for t in snap.threads:
        where = " ".join(x for x in (t.function, t.progress) if x)
        waiting = f" on {t.wchan} ({t.wmesg})" if t.wchan or t.wmesg else ""
        facts[f"thread {t.name}"] = f"{t.state}{waiting} in {where}"
    return facts
