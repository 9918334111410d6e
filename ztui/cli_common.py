"""What every `ztui` command shares: exit codes and loading a scenario argument."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ztui.scenario.bundled import resolve_scenario
from ztui.scenario.errors import ScenarioError
from ztui.scenario.load import load_scenario
from ztui.scenario.model import Scenario

EXIT_OK, EXIT_UNEXPECTED, EXIT_BAD_INPUT = 0, 1, 2


def load_or_exit(arg: str) -> tuple[Path, Scenario]:
    """The scenario a path or bundled name refers to; on a problem, say so and exit 2."""
    try:
        path = resolve_scenario(arg)
        return path, load_scenario(path)
    except ScenarioError as exc:
        click.echo("\n".join(exc.problems), err=True)
        sys.exit(EXIT_BAD_INPUT)
