"""The `ztui` command line.

Exit codes: 0 success (for `run`: the verdict is the expected one, or no
verdict is expected), 1 the verdict is not the expected one, 2 bad input
(a problem in a scenario file or on the command line, or an output that
cannot be written), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
Bad input never gives a traceback.  Textual is imported only by `ztui launch`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import attrs
import click

from ztui import __version__
from ztui.cli_common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_UNEXPECTED,
    GuardedCommand,
    SizeParam,
    console,
    echo_lines,
    load_or_exit,
)
from ztui.core.simulator import EVENT_LOG_MAX
from ztui.core.vmstats import PAGE_SIZE, THRESHOLD_NAMES, compute_thresholds
from ztui.input_files import capped_problems
from ztui.output_files import OutputError, OutputExists, check_output, write_atomically
from ztui.robust_cli import robust_command
from ztui.scenario.bundled import bundled_scenarios, resolve_scenario
from ztui.scenario.errors import InvalidValue, ScenarioError
from ztui.scenario.load import load_scenario
from ztui.scenario.model import Scenario
from ztui.scenario.sysctls import override_notes
from ztui.scenario.units import format_size, parse_duration
from ztui.search_cli import register as register_search_commands
from ztui.textsafe import visible

# Steps between progress-bar updates: small enough to redraw a few times a second.
PROGRESS_CHUNK = 200_000
DEFAULT_JSON_EVENTS = 200  # `ztui run --json`: the last events included, unless --events says otherwise
# `sysctl vm` puts v_interrupt_free_min (read-only) under vm.stats.vm.
STATS_NAMES = ("v_page_count", "v_interrupt_free_min")


class ZtuiGroup(click.Group):
    command_class = GuardedCommand


@click.group(cls=ZtuiGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ztui")
def main() -> None:
    """Step through DragonFly BSD's VM under memory pressure and watch the
    SWAPMETA and MAP ENTRY deadlocks form.

    \b
    Examples:
      ztui launch                      open the default teaching scenario in the TUI
      ztui list                        the bundled scenarios
      ztui run swapmeta-kmalloc-obj-churn --json
      ztui check my-test.toml
      ztui vmstats --physmem 2g
    """


@main.command()
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


@main.command(name="list")
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


@main.command()
@click.option("--pages", type=click.IntRange(min=1), help="v_page_count, in 4 KiB pages.")
@click.option("--physmem", type=SizeParam(), help='Physical memory, e.g. "2g"; v_page_count = physmem/4096.')
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object keyed by kernel names.")
def vmstats(pages: int | None, physmem: int | None, as_json: bool) -> None:
    """Print the paging thresholds the kernel computes at boot.

    The values are vm_pageout_free_page_calc()'s and vm_pageout_thread()'s
    for the given v_page_count, printed the way `sysctl vm` shows them.
    Give exactly one of --pages and --physmem.

    \b
    Examples:
      ztui vmstats --pages 524288
      ztui vmstats --physmem 2g --json
    """
    if (pages is None) == (physmem is None):
        raise click.UsageError("give exactly one of --pages and --physmem")
    if pages is not None:
        page_count = pages
    else:
        assert physmem is not None
        page_count = physmem // PAGE_SIZE
    if page_count < 1:
        raise click.BadParameter(f"{format_size(physmem or 0)} is less than one page", param_hint="--physmem")
    values = compute_thresholds(page_count).as_dict()
    if as_json:
        click.echo(json.dumps(values, indent=2))
        return
    for name in ("v_page_count", *THRESHOLD_NAMES):
        prefix = "vm.stats.vm" if name in STATS_NAMES else "vm"
        click.echo(f"{prefix}.{name}: {values[name]}")
    click.echo(f"vm.max_launder: {values['vm_max_launder']}")


@main.command()
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
    from ztui.core.simulator import Simulator
    from ztui.report import expectation_met, print_report, report_json, summary_line

    path, loaded = load_or_exit(scenario)
    loaded = _with_limits(loaded, seed, max_steps, max_time)
    _check_run_outputs_or_exit(trace, timeline, force, source=path)
    sim = Simulator.from_scenario(loaded, seed=loaded.run.seed)
    if timeline is not None:
        from ztui.perfetto import CAPACITY

        sim.record_history(CAPACITY)
    progress = console(stderr=True).is_terminal and not quiet
    _run_to_verdict(sim, loaded, progress=progress, trace=trace, source=path, force=force)
    if timeline is not None:
        from ztui.perfetto import timeline_bytes

        _write_or_exit(timeline, timeline_bytes(sim), force)
    snap = sim.snapshot(events=event_count)
    if as_json:
        click.echo(json.dumps(report_json(snap, loaded), indent=2))
    elif quiet:
        console().print(summary_line(snap, loaded))
    else:
        print_report(snap, loaded, console())
    sys.exit(EXIT_OK if expectation_met(snap, loaded) else EXIT_UNEXPECTED)


@main.command(cls=click.Command)  # the TUI looks after its terminal and signals itself
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


@main.command()
@click.option("--runs", default=3, show_default=True, type=click.IntRange(1, 20), help="Repetitions; medians are printed.")
@click.option("--tui", "with_tui", is_flag=True, help="Also drive the TUI headless and measure it.")
@click.option("--seconds", default=5.0, show_default=True, type=click.FloatRange(1, 120), help="Length of the TUI run.")
@click.option("--search", "with_search", is_flag=True, help="Also measure exhaustive search, seed exploration and time travel.")
@click.option("--memory", "with_memory", is_flag=True, help="Also measure resident memory of long runs (minutes per run).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def bench(
    runs: int, with_tui: bool, seconds: float, with_search: bool, with_memory: bool, as_json: bool
) -> None:
    """Measure simulator throughput (and, with --tui, the TUI's).

    The core figures are simulated kernel steps per second and the wall
    time to the verdict on the 2 GiB swapmeta-kmalloc-obj-churn scenario,
    beside a plain SimPy model (one Container, get/put/timeout) timed in
    the same run.  With --tui: screen updates per second, key-press-to-
    screen latency, and simulator steps per second while the TUI draws,
    compared with the headless figure of the same run.  With --search:
    distinct states per second of the exhaustive search on the smallest
    teaching scenario, the wall time of a 10,000-seed exploration with 2
    jobs, and time-travel latency and checkpoint memory at step 1,000,000.
    With --memory, each in a fresh process: the RSS of a Timeline after
    40 million steps of a churning machine beside a bare Simulator's, and
    the RSS of an exhaustive search (every interleaving) when it stops at
    its default memory budget; about five minutes per run.

    \b
    Examples:
      ztui bench
      ztui bench --runs 5 --json
      ztui bench --tui --seconds 10
      ztui bench --search
      ztui bench --memory --runs 1
    """
    from ztui.bench import bench_core, print_bench

    figures = bench_core(runs)
    if with_tui:
        from ztui.tui.bench import bench_tui

        figures["tui"] = bench_tui(seconds)
        # The TUI keeps the event log on; compare with headless doing the same work.
        figures["tui"]["vs_headless"] = figures["tui"]["sim_steps_per_s"] / figures["ztui_logged"]["steps_per_s"]
    if with_search:
        from ztui.search_bench import (
            bench_exhaustive,
            bench_explore_seeds,
            bench_timeline,
        )

        figures["exhaustive"] = bench_exhaustive()
        figures["explore_seeds"] = bench_explore_seeds()
        figures["timeline"] = bench_timeline()
    if with_memory:
        from ztui.memory_bench import bench_memory

        figures["memory"] = bench_memory(runs)
    if as_json:
        click.echo(json.dumps(figures, indent=2))
    else:
        print_bench(figures, console())


register_search_commands(main)
main.add_command(robust_command)
