"""`ztui launch`: the TUI (Textual is imported only here, once the arguments are good)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ztui.cli_common import load_or_exit


@click.command()  # the TUI looks after its terminal and signals itself
@click.argument("scenario", required=False, metavar="[SCENARIO]")
@click.option("--seed", type=int, help="PRNG seed; overrides [run] seed.")
@click.option("--theme", metavar="NAME", help="A TUI theme, e.g. ztui-dark, ztui-light, ztui-amber.")
@click.option(
    "--trace",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Open a trace (from `ztui run --trace` or `ztui explore`) at its last step.",
)
def launch(scenario: str | None, seed: int | None, theme: str | None, trace: Path | None) -> None:
    """Open a scenario in the TUI and step through it.

    Without SCENARIO, opens the bundled teaching scenario
    teach-swapmeta-kmalloc-obj.  SCENARIO is a path or a bundled name.

    \b
    Examples:
      ztui launch
      ztui launch mapentry-kmalloc-obj --seed 3
      ztui launch my-test.toml --theme ztui-light
      ztui launch --trace livelock.trace.gz
    """
    # Report bad input here, before the TUI takes over the screen.
    path = load_or_exit(scenario)[0] if scenario is not None else None
    from ztui.tui.app import run_app

    sys.exit(run_app(path, seed, theme, trace))


