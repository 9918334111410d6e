"""`ztui check` and `ztui list`: scenario files validated, bundled scenarios listed."""

from __future__ import annotations

import sys

import click

from ztui.cli_common import EXIT_BAD_INPUT, EXIT_OK, GuardedCommand, echo_lines
from ztui.input_files import capped_problems
from ztui.scenario.bundled import bundled_scenarios, resolve_scenario
from ztui.scenario.errors import ScenarioError
from ztui.scenario.load import load_scenario
from ztui.scenario.model import Scenario
from ztui.scenario.sysctls import override_notes
from ztui.scenario.units import format_size


@click.command(cls=GuardedCommand)
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIO...")
def check(scenarios: tuple[str, ...]) -> None:
    """Validate scenario files without running them.

    Prints every problem in every file, one line each
    (FILE: key.path: what was found; what is allowed), or one OK line per
    good file, followed by a line per [vm] override saying whether a
    running kernel takes it by sysctl or it needs a kernel change.  Exits 2
    if any file has a problem.  A SCENARIO is a path or the name of a
    bundled scenario.

    \b
    Examples:
      ztui check scenarios/*.toml
      ztui check my-test.toml seed-2g-chrome-buildkernel
    """
    bad = False
    for arg in scenarios:
        try:
            path = resolve_scenario(arg)
            scenario = load_scenario(path)
        except ScenarioError as exc:
            bad = True
            echo_lines(capped_problems(exc.problems))
        else:
            echo_lines([f"{path}: OK ({_describe(scenario)})", *(f"  {note}" for note in override_notes(scenario.vm))])
    sys.exit(EXIT_BAD_INPUT if bad else EXIT_OK)


@click.command(name="list", cls=GuardedCommand)
def list_() -> None:
    """List the bundled scenarios, one line each: name and what it shows.

    \b
    Examples:
      ztui list
      ztui run teach-swapmeta-kmalloc-obj    (a listed name works wherever a SCENARIO does)
    """
    scenarios = bundled_scenarios()
    width = max((len(name) for name, _, _ in scenarios), default=0)
    echo_lines(f"{name:<{width}}  {summary}" for name, _, summary in scenarios)



def _describe(scenario: Scenario) -> str:
    machine, allocators = scenario.machine, scenario.allocators
    parts = [
        f"physmem {format_size(machine.physmem)}",
        f"swap {format_size(machine.swap)}",
        f"SWAPMETA {allocators.swapmeta.value}",
        f"MAP ENTRY {allocators.mapentry.value}",
        *(mitigation.value for mitigation in allocators.mitigations),
        f"{len(scenario.process)} process{'es' if len(scenario.process) != 1 else ''}",
    ]
    return ", ".join(parts)


