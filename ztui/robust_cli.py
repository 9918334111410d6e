"""`ztui robust SCENARIO`: does the verdict hold when the scenario's numbers move?"""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table
from rich.text import Text

from ztui.cli_common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_UNEXPECTED,
    GuardedCommand,
    console,
    echo_lines,
    load_or_exit,
    print_titled,
    progress_bar,
)
from ztui.explore.executors import run_tasks
from ztui.robust import FACTORS, RobustResult, chosen_fields, numeric_fields, robust, written
from ztui.scenario.load import scenario_problems
from ztui.textsafe import as_text


def parse_factors(text: str) -> tuple[float, ...]:
    try:
        factors = tuple(sorted(float(part) for part in text.split(",")))
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected factors such as 0.75,0.9,1.1,1.25") from None
    if not factors or any(f <= 0 or f == 1 for f in factors):
        raise click.BadParameter(f"{text!r}: factors must be positive and not 1")
    return factors


@click.command("robust", cls=GuardedCommand)
@click.argument("scenario", metavar="SCENARIO")
@click.option(
    "--factors",
    default=",".join(str(f) for f in FACTORS),
    show_default=True,
    help="Scale each quantity by these factors, one at a time.",
)
@click.option(
    "--only",
    multiple=True,
    metavar="GLOB",
    help="Move only the quantities whose key matches (`*` is the only wildcard); repeat for more.",
)
@click.option("--list", "list_keys", is_flag=True, help="List the quantities and their values, and run nothing.")
@click.option("--jobs", "-j", default=2, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
def robust_command(scenario: str, factors: str, only: tuple[str, ...], list_keys: bool, jobs: int, as_json: bool) -> None:
    """Move every size, rate and latency of SCENARIO by ±25 % (one at a time) and report,
    per parameter, the range over which the verdict stays the scenario's.

    Each variant runs to its verdict: a scenario with many phases has many
    quantities (--list shows them), and --only picks some.

    Exit 0 when the verdict holds over every range, 1 when some change moves it.

    \b
    Examples:
      ztui robust swapmeta-kmalloc-obj-storm
      ztui robust seed-2g-chrome-buildkernel --list
      ztui robust seed-2g-chrome-buildkernel --only 'machine.*' --only 'process[chrome-0].*' --factors 0.75,1.25
      ztui robust my-test.toml --factors 0.5,0.9,1.1,2 --jobs 4
    """
    try:
        chosen = parse_factors(factors)
    except click.BadParameter as exc:
        click.echo(f"--factors: {exc.message}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    _, loaded = load_or_exit(scenario)
    if list_keys:
        echo_lines(f"{key} = {written(value)}" for _, key, value in numeric_fields(loaded))
        sys.exit(EXIT_OK)
    unmatched = [glob for glob in only if not chosen_fields(loaded, (glob,))]
    if unmatched:
        echo_lines([f"--only {glob!r}: matches no quantity of {loaded.name} (--list shows them)" for glob in unmatched], err=True)
        sys.exit(EXIT_BAD_INPUT)

    def runner(batch):
        with progress_bar(f"{loaded.name}: robust", len(batch)) as advance:
            done = 0

            def counted(_index, _runs):
                nonlocal done
                done += 1
                advance(done)

            return [r[0].verdict for r in run_tasks([(s, [None]) for s in batch], jobs=jobs, on_task=counted)]

    result = robust(loaded, chosen, runner, scenario_problems, only)
    if as_json:
        click.echo(json.dumps(to_json(loaded.name, result), indent=2))
    else:
        print_titled(console(), f"{loaded.name}: verdict {result.verdict}; each quantity moved alone", table(result))
    sys.exit(EXIT_OK if all(p.robust() for p in result.parameters) else EXIT_UNEXPECTED)


def to_json(name: str, result: RobustResult) -> dict:
    return {
        "scenario": name,
        "verdict": result.verdict,
        "parameters": [
            {
                "key": p.key,
                "value": p.value,
                "holds": {"from": p.holds[0], "to": p.holds[1]},
                "variants": [{"factor": v.factor, "value": v.value, "verdict": v.verdict} for v in p.variants],
            }
            for p in result.parameters
        ],
    }


def table(result: RobustResult) -> Table:
    out = Table()
    out.add_column("parameter", overflow="fold")
    out.add_column("value", justify="right")
    out.add_column("holds", justify="right")
    out.add_column("where it changes")
    for p in result.parameters:
        low, high = p.holds
        holds = Text(f"x{low:g} .. x{high:g}", style="green" if p.robust() else "yellow")
        changes = "; ".join(f"x{v.factor:g} ({v.value}): {v.verdict}" for v in p.variants if v.verdict != result.verdict)
        out.add_row(as_text(p.key), as_text(p.value), holds, as_text(changes or "-"))
    return out
