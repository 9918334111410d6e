"""`ztui bench --scale`: the 2 GiB churn workload at larger sizes, each in a fresh process.

scaled() multiplies every amount of memory in a scenario (physmem, swap,
each phase's pages) by one factor and leaves rates and times alone, so the
machine does the same work per page at every size.  Each size runs as
`ztui run --json` in its own process (the whole process is what a user
waits for), timed by the children's CPU seconds (resource.getrusage).
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import attrs

from ztui.scenario.model import GiB, PageAmount, Scenario, Size

SCALE_SCENARIO = "swapmeta-kmalloc-obj-churn"
SCALE_SIZES_GIB = (2, 8, 32, 64)
LARGE_GIB = 256  # measured too when the 64 GiB run takes at most LARGE_BUDGET_S CPU seconds ...
LARGE_BUDGET_S = 15.0  # ... as 256 GiB costs some 4x that: a minute


def scaled(scenario: Scenario, physmem: int) -> Scenario:
    """``scenario`` with physmem set to ``physmem`` and swap and every phase's pages scaled alike."""
    base = scenario.machine.physmem

    def scale(amount: int) -> int:
        return amount * physmem // base

    machine = attrs.evolve(scenario.machine, physmem=Size(physmem), swap=Size(scale(scenario.machine.swap)))
    processes = tuple(
        attrs.evolve(
            process,
            phases=tuple(
                phase if phase.pages is None else attrs.evolve(phase, pages=PageAmount(scale(phase.pages)))
                for phase in process.phases
            ),
        )
        for process in scenario.process
    )
    return attrs.evolve(scenario, name=f"{scenario.name}-{physmem // GiB}g", machine=machine, process=processes)
