"""`ztui run`: a scenario headless to its verdict, then the report (Rich) or one JSON object (no Rich).

Rich is imported only for what it draws: the progress bar on a terminal
and the human report.  `--json` without a terminal never loads it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import attrs
import click

from ztui.cli_common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_UNEXPECTED,
    GuardedCommand,
    console,
    echo_lines,
    load_or_exit,
    stderr_is_terminal,
)
from ztui.core.simulator import EVENT_LOG_MAX, Simulator
from ztui.output_files import OutputError, OutputExists, check_output, write_atomically
from ztui.report_json import expectation_met, report_json
from ztui.scenario.errors import InvalidValue
from ztui.scenario.model import Scenario
from ztui.scenario.units import parse_duration
from ztui.textsafe import visible

# Steps between progress-bar updates: small enough to redraw a few times a second.
PROGRESS_CHUNK = 200_000
DEFAULT_JSON_EVENTS = 200  # `ztui run --json`: the last events included, unless --events says otherwise


@click.command(cls=GuardedCommand)
@click.argument("scenario", metavar="SCENARIO")
@click.option("--seed", type=int, help="PRNG seed; overrides [run] seed.")
@click.option("--max-steps", type=click.IntRange(min=1), help="Stop after N steps; overrides [run].")
@click.option("--max-time", metavar="DURATION", help='Stop at this simulated time, e.g. "30s"; overrides [run].')
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the report.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; one summary line instead of the report.")
@click.option(
    "--trace",
    type=click.Path(path_type=Path),
    help="Also write a replayable trace (see `ztui replay`); .gz compresses it.",
)
@click.option(
    "--timeline",
    type=click.Path(path_type=Path),
    help="Also write the run as a Chrome/Perfetto trace (Trace Event Format JSON; open it in ui.perfetto.dev).",
)
@click.option("--force", is_flag=True, help="Replace the --trace or --timeline file if it exists.")
@click.option(
    "--events", "event_count", default=DEFAULT_JSON_EVENTS, show_default=True,
    type=click.IntRange(0, EVENT_LOG_MAX),
    help=f"--json: how many of the last events to include (the simulator keeps the last {EVENT_LOG_MAX:,}).",
)
def run(
    scenario: str,
    seed: int | None,
    max_steps: int | None,
    max_time: str | None,
    as_json: bool,
    quiet: bool,
    trace: Path | None,
    timeline: Path | None,
    force: bool,
    event_count: int,
) -> None:
    """Run a scenario headless until its verdict and report why it ended.

    The report gives the verdict (ok, deadlock, livelock, recursion, or limit
    when the run stopped at its limits first), the step and simulated time,
    the chain of waits that explains it, how close the pagers came to
    wedging (the closest approaches and the lowest free+cache), the
    thresholds, the final counters, the allocators and the threads.
    SCENARIO is a path or the name of a bundled scenario.

    \b
    The progress bar (on a terminal) measures the workload: the phases and
    pages the processes have done.  A run that ends in a livelock stops short.

    An existing --trace or --timeline file is replaced only with --force;
    both are written when the run ends (not at all if it is interrupted).

    \b
    Exit codes: 0 the verdict is the one [expect] names (or none is named),
                1 it is not, 2 bad input, 130/143 interrupted/terminated.
    \b
    Examples:
      ztui run scenarios/swapmeta-kmalloc-obj-churn.toml
      ztui run swapmeta-zalloc-storm --json | jq .verdict
      ztui run swapmeta-zalloc-storm --json --events 5000 | jq '.events | length'
      ztui run my-test.toml --seed 7 --max-time 30s
      ztui run teach-swapmeta-kmalloc-obj --trace livelock.trace.gz
      ztui run teach-swapmeta-kmalloc-obj --timeline livelock.json    (then open it in ui.perfetto.dev)
    """
    path, loaded = load_or_exit(scenario)
    loaded = _with_limits(loaded, seed, max_steps, max_time)
    _check_run_outputs_or_exit(trace, timeline, force, source=path)
    sim = Simulator.from_scenario(loaded, seed=loaded.run.seed)
    if timeline is not None:
        from ztui.perfetto import CAPACITY

        sim.record_history(CAPACITY)
    progress = not quiet and stderr_is_terminal()
    _run_to_verdict(sim, loaded, progress=progress, trace=trace, source=path, force=force)
    if timeline is not None:
        from ztui.perfetto import timeline_bytes

        _write_or_exit(timeline, timeline_bytes(sim), force)
    snap = sim.snapshot(events=event_count)
    if as_json:
        click.echo(json.dumps(report_json(snap, loaded), indent=2))
    else:
        from ztui.report import print_report, summary_line

        if quiet:
            console().print(summary_line(snap, loaded))
        else:
            print_report(snap, loaded, console())
    sys.exit(EXIT_OK if expectation_met(snap, loaded) else EXIT_UNEXPECTED)


def _with_limits(
    scenario: Scenario, seed: int | None, max_steps: int | None, max_time: str | None
) -> Scenario:
    """The scenario with the command line's --seed, --max-steps and --max-time applied."""
    changes: dict[str, Any] = {}
    if seed is not None:
        changes["seed"] = seed
    if max_steps is not None:
        changes["max_steps"] = max_steps
    if max_time is not None:
        try:
            changes["max_time"] = parse_duration(max_time, scenario.machine.hz)
        except InvalidValue as exc:
            raise click.BadParameter(f"{max_time!r}: {exc}", param_hint="--max-time") from None
    return attrs.evolve(scenario, run=attrs.evolve(scenario.run, **changes))


def _check_run_outputs_or_exit(trace: Path | None, timeline: Path | None, force: bool, source: Path) -> None:
    """Before the run: each output can be written, is not the scenario, and they are not one file."""
    outputs = [output for output in (trace, timeline) if output is not None]
    if trace is not None and timeline is not None and trace.resolve() == timeline.resolve():
        _output_problem(f"{timeline}: is also the --trace file; choose another")
    try:
        for output in outputs:
            check_output(output, force=force, inputs=[source])
    except OutputExists as exc:
        _output_problem(f"{exc}; give --force to replace it")
    except OutputError as exc:
        _output_problem(str(exc))


def _write_or_exit(path: Path, data: bytes, force: bool) -> None:
    try:
        write_atomically(path, data, force=force)
    except OutputError as exc:
        _output_problem(str(exc))


def _output_problem(message: str) -> None:
    echo_lines([f"ztui: {message}"], err=True)
    sys.exit(EXIT_BAD_INPUT)


def _run_to_verdict(
    sim, scenario: Scenario, progress: bool, trace: Path | None, source: Path, force: bool
) -> None:
    """Run to the verdict, recording a trace if asked, with a progress bar if asked."""
    if trace is not None:
        from ztui.trace import TraceError, TraceRecorder, write_trace

        try:
            recorder = TraceRecorder(sim, source=source)
            _advance_to_verdict(sim, scenario, progress, recorder.run)
            write_trace(recorder.trace(), trace, force=force)
        except TraceError as exc:
            _output_problem(str(exc))
    else:
        _advance_to_verdict(sim, scenario, progress, lambda n: sim.run(max_steps=n))


def _advance_to_verdict(sim, scenario: Scenario, progress: bool, advance) -> None:
    if not progress:
        while sim.verdict is None:
            advance(PROGRESS_CHUNK)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ztui.core.views import workload_view

    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}% of the workload: {task.fields[work]}"),
        TextColumn("t={task.fields[t]:.1f}s simulated, step {task.fields[step]:,}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(visible(scenario.name), total=1.0, work="", t=0.0, step=0)
        while sim.verdict is None:
            advance(PROGRESS_CHUNK)
            bar.update(task, completed=workload_view(sim.k).fraction, work=_work_done(sim),
                       t=sim.tick / sim.hz, step=sim.step_count)


def _work_done(sim) -> str:
    from ztui.core.views import workload_view

    w = workload_view(sim.k)
    return f"phases {w.phases_done}/{w.phases_total}, pages {w.pages_done:,}/{w.pages_total:,}"


