"""`ztui replay`, `ztui explore` and `ztui sweep`: traces and the search for deadlocks.

ztui.cli imports this module only to run one of them.  Bad input exits 2
with one line per problem, never a traceback; a progress bar or line goes
to stderr when it is a terminal.
Every output path is checked before the search starts (ztui.output_files):
an existing trace is replaced only with --force, and a trace's file name
comes from the scenario's name only through safe_file_name().
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path
from typing import NoReturn

import click
from rich.table import Table
from rich.text import Text

from ztui.cli_common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    GuardedCommand,
    SizeParam,
    console,
    echo_lines,
    load_or_exit,
    print_titled,
    progress_bar,
)
from ztui.explore.exhaustive import DEFAULT_MAX_MEMORY
from ztui.explore.runs import BAD_VERDICTS, VERDICTS, shown_verdicts
from ztui.output_files import OutputError, OutputExists, check_directory, check_output, safe_file_name
from ztui.report import VERDICT_STYLES as VERDICT_STYLE
from ztui.scenario.model import Scenario
from ztui.scenario.units import format_size
from ztui.textsafe import as_text, visible
from ztui.trace import TraceError, read_trace, replay, write_trace

EXIT_FOUND = 1  # a deadlock, livelock or recursion was found


# --- replay ------------------------------------------------------------------


@click.command("replay", cls=GuardedCommand)
@click.argument("file", type=click.Path(path_type=Path))
def replay_command(file: Path) -> None:
    """Re-run a trace and check every decision and every recorded state hash.

    A trace (from `ztui run --trace`, `ztui explore` or the TUI) holds the
    scenario, the seed, each scheduling decision and a state hash every K
    decisions.  Prints one line: OK, or where the replay first left the
    recording.

    \b
    Exit codes: 0 the replay matches, 1 it diverges, 2 the file cannot be used,
                130/143 interrupted/terminated.
    \b
    Examples:
      ztui replay livelock.trace.gz
      ztui run teach-swapmeta-kmalloc-obj --trace run.trace && ztui replay run.trace
    """
    trace = _read_trace_or_exit(file)
    total = trace.decision_count
    with progress_bar(f"replaying {visible(file.name)}", total) as advance:
        result = replay(trace, progress=lambda done, _: advance(done))
    where = f"{result.decisions:,} decisions, step {result.step:,}, {result.tick / trace.scenario.machine.hz:.2f} s simulated"
    if result.ok:
        verdict = result.verdict or "none (stopped before a verdict)"
        click.echo(f"OK: {where}, verdict {verdict}; {result.hashes_checked} state hashes match")
        sys.exit(EXIT_OK)
    echo_lines([f"DIVERGED: {result.divergence}"])
    sys.exit(EXIT_FOUND)


# --- explore -------------------------------------------------------------------


class PreemptionBound(click.ParamType):
    name = "N|all"

    def convert(self, value, param, ctx):
        if value is None or isinstance(value, int):
            return value
        if str(value).lower() == "all":
            return None
        if str(value).isdigit():
            return int(value)
        self.fail(f"{value!r}: expected a number of preemptions (0, 1, 2, ...) or 'all'", param, ctx)


def executor_options(command):
    """--executor and --address: where the runs go (ztui.explore.executors.make_executor)."""
    command = click.option(
        "--address", help="The Dask scheduler or Ray cluster address; default: start a local one."
    )(command)
    return click.option(
        "--executor",
        type=click.Choice(["local", "dask", "ray"]),
        default="local",
        show_default=True,
        help="Where the runs go: local processes, or a Dask or Ray cluster (pip install 'ztui[dask]' / 'ztui[ray]').",
    )(command)


@click.command("explore", cls=GuardedCommand)
@click.argument("scenario", metavar="SCENARIO")
@click.option("--seeds", type=click.IntRange(min=1), help="Run N random schedules, seeds FIRST..FIRST+N-1.")
@click.option(
    "--first-seed", type=click.IntRange(min=0), default=0, show_default=True, help="The first seed."
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes to run seeds in.",
)
@click.option(
    "--traces",
    "trace_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory for the traces of the first seed of each verdict.",
)
@click.option(
    "--exhaustive", is_flag=True, help="Search every schedule breadth-first instead of sampling seeds."
)
@click.option(
    "--max-depth",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="Steps per schedule (exhaustive).",
)
@click.option(
    "--max-preemptions",
    type=PreemptionBound(),
    default="0",
    show_default=True,
    help="Switches away from a thread that could go on running (exhaustive); 'all' for every interleaving.",
)
@click.option(
    "--max-states",
    type=click.IntRange(min=1),
    default=1_000_000,
    show_default=True,
    help="Stop after this many distinct states (exhaustive).",
)
@click.option(
    "--max-memory",
    type=SizeParam(),
    default=format_size(DEFAULT_MAX_MEMORY),
    show_default=True,
    help="Stop when the search's states are estimated to hold this much memory (exhaustive), e.g. 4g.",
)
@click.option(
    "--livelock-window",
    metavar="DURATION",
    help='Override [run] livelock_window, e.g. "2s": shorter windows make livelock reachable sooner.',
)
@click.option(
    "--trace",
    "trace_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to save the schedule found (exhaustive); default SCENARIO-VERDICT.trace.gz.",
)
@click.option("--force", is_flag=True, help="Replace trace files that exist.")
@executor_options
def explore_command(
    scenario: str,
    seeds: int | None,
    first_seed: int,
    jobs: int,
    trace_dir: Path,
    exhaustive: bool,
    max_depth: int,
    max_preemptions: int | None,
    max_states: int,
    max_memory: int,
    livelock_window: str | None,
    trace_file: Path | None,
    force: bool,
    executor: str,
    address: str | None,
) -> None:
    """Look for deadlock, livelock and recursion: random schedules, or all of them.

    With --seeds N, runs the scenario once per seed under the seeded-random
    scheduler, in parallel; prints the verdicts per seed range and the first
    seed reaching each verdict, and saves a trace of each (replay it with
    `ztui replay`, step through it with `ztui launch --trace`).

    With --exhaustive, searches the scheduler's choices breadth-first,
    merging states met before, for the shortest schedule to deadlock,
    livelock or recursion.  It prints that schedule TLC-style (each step
    shows only what changed) and saves its trace.  If the search runs out of
    states first, no such verdict is reachable: a proof for this scenario,
    within the preemption bound.  A thread hands the CPU over for free when
    it blocks, exits or a clock tick comes (DragonFly's LWKT switches kernel
    threads only then); --max-preemptions counts the other switches.
    Livelock needs [run] livelock_window of simulated time without progress:
    for small machines, --livelock-window 2s finds it sooner.  The search
    stops at --max-states or when its states would hold --max-memory, and
    says so.

    Trace files that exist are replaced only with --force; every output
    path is checked before the search starts.

    \b
    Exit codes: 0 nothing bad found, 1 a deadlock, livelock or recursion was found, 2 bad input,
                130/143 interrupted/terminated.
    \b
    Examples:
      ztui explore teach-swapmeta-kmalloc-obj --seeds 10000 --jobs 2
      ztui explore teach-swapmeta-kmalloc-obj --seeds 100000 --executor dask --address tcp://scheduler:8786
      ztui explore teach-swapmeta-kmalloc-obj --exhaustive --max-depth 5000
      ztui explore teach-swapmeta-zalloc --exhaustive --max-preemptions 1 --livelock-window 2s
    """
    if (seeds is None) == (not exhaustive):
        raise click.UsageError("give either --seeds N or --exhaustive")
    path, loaded = load_or_exit(scenario)
    if livelock_window is not None:
        loaded = _with_param(loaded, "run.livelock_window", livelock_window, "--livelock-window")
    if exhaustive:
        outputs = [trace_file] if trace_file else [_exhaustive_trace_name(loaded, v) for v in BAD_VERDICTS]
        _check_outputs_or_exit(outputs, force, inputs=[path])
        _explore_exhaustive(loaded, max_depth, max_preemptions, max_states, max_memory, trace_file, force)
    else:
        assert seeds is not None  # checked above: --seeds or --exhaustive
        seed_range = range(first_seed, first_seed + seeds)
        _check_seed_traces_or_exit(trace_dir, loaded, seed_range, force, inputs=[path])
        _explore_seeds(loaded, seed_range, jobs, trace_dir, force, executor, address)


def _seed_trace_name(scenario: Scenario, verdict: str, seed: int) -> str:
    return f"{safe_file_name(scenario.name)}-{verdict}-seed{seed}.trace.gz"


def _exhaustive_trace_name(scenario: Scenario, verdict: str) -> Path:
    return Path(f"{safe_file_name(scenario.name)}-{verdict}.trace.gz")


def _check_seed_traces_or_exit(
    trace_dir: Path, scenario: Scenario, seeds: range, force: bool, inputs: list[Path]
) -> None:
    """Before the runs: the directory can take the traces, and none of the names they may get is taken.

    Which seeds will reach which verdict is not known yet, so every file
    this exploration could write counts (one listing of the directory).
    """
    try:
        if not trace_dir.exists():
            check_directory(trace_dir.parent)  # it is made when the traces are written
            return
        check_directory(trace_dir)
        pattern = re.compile(re.escape(safe_file_name(scenario.name)) + r"-(\w+)-seed(\d+)\.trace\.gz")
        for name in sorted(os.listdir(trace_dir)):
            match = pattern.fullmatch(name)
            if match and match[1] in VERDICTS and int(match[2]) in seeds:
                check_output(trace_dir / name, force=force, inputs=inputs)
    except OutputError as exc:
        _output_problem(exc)


def _check_outputs_or_exit(paths: list[Path], force: bool, inputs: list[Path]) -> None:
    try:
        for output in paths:
            check_output(output, force=force, inputs=inputs)
    except OutputError as exc:
        _output_problem(exc)


def _output_problem(exc: OutputError) -> None:
    _bad_input(f"{exc}; give --force to replace it" if isinstance(exc, OutputExists) else str(exc))


def _write_trace_or_exit(trace, path: Path, force: bool) -> None:
    try:
        write_trace(trace, path, force=force)
    except TraceError as exc:
        _bad_input(str(exc))


def _explore_seeds(
    scenario: Scenario, seeds: range, jobs: int, trace_dir: Path, force: bool, executor: str, address: str | None
) -> None:
    from ztui.explore.executors import ParamError, make_executor
    from ztui.explore.seeds import SEED_RANGES, explore_seeds

    try:
        pool = make_executor(executor, address)
    except ParamError as exc:
        _bad_input(str(exc))
    with progress_bar(f"{visible(scenario.name)}: {len(seeds):,} seeds", len(seeds), counts=True) as advance:
        result = explore_seeds(
            scenario, seeds, jobs, executor=pool, on_progress=lambda done, _, counts: advance(done, counts)
        )
    out = console()
    table = Table()
    table.add_column("seeds", justify="right")
    totals = result.counts()
    shown = shown_verdicts(totals)
    for verdict in shown:
        table.add_column(verdict, justify="right", style=VERDICT_STYLE[verdict])
    for first, last, counts in result.ranges(SEED_RANGES):
        table.add_row(f"{first}-{last}", *(str(counts[v]) for v in shown))
    table.add_row("all", *(str(totals[v]) for v in shown), style="bold")
    where = f"on {executor}" if pool is not None else f"{jobs} job{'s' if jobs > 1 else ''}"
    print_titled(out, f"{scenario.name}: verdicts by seed ({result.seconds:.1f} s, {where})", table)
    trace_dir.mkdir(exist_ok=True)
    for verdict, seed in sorted(result.first_seeds().items(), key=lambda item: item[1]):
        trace = result.traces[verdict]
        file = trace_dir / _seed_trace_name(scenario, verdict, seed)
        _write_trace_or_exit(trace, file, force)
        line = Text("first ")
        line.append(verdict, style=VERDICT_STYLE[verdict])
        line.append_text(
            as_text(
                f": seed {seed}, step {trace.end_step:,},"
                f" {trace.end_tick / scenario.machine.hz:.2f} s simulated; trace {file}"
            )
        )
        out.print(line)
    sys.exit(EXIT_FOUND if any(totals[v] for v in BAD_VERDICTS) else EXIT_OK)


def _explore_exhaustive(
    scenario: Scenario,
    max_depth: int,
    max_preemptions: int | None,
    max_states: int | None,
    max_memory: int | None,
    trace_file: Path | None,
    force: bool,
) -> None:
    from ztui.explore.exhaustive import explore_exhaustive
    from ztui.explore.schedule_text import describe_schedule

    err = console(stderr=True)
    def search(on_progress=None):
        return explore_exhaustive(
            scenario, max_depth, max_preemptions=max_preemptions, max_states=max_states, max_memory=max_memory,
            on_progress=on_progress,
        )

    if err.is_terminal:
        with err.status(Text("searching...")) as status:
            result = search(lambda p: status.update(Text(p.line())))
    else:
        result = search()
    if result.verdict is not None:
        echo_lines(describe_schedule(scenario, result.seed, result.schedule))
        file = trace_file or _exhaustive_trace_name(scenario, result.verdict)
        _write_trace_or_exit(result.trace(), file, force)
        echo_lines([f"trace: {file}"])
    click.echo(result.progress.line())
    click.echo(f"{result.summary()}; fingerprint collision probability {result.collision_odds():.1g}")
    sys.exit(EXIT_FOUND if result.verdict is not None else EXIT_OK)


# --- sweep -------------------------------------------------------------------------


@click.command("sweep", cls=GuardedCommand)
@click.argument("scenario", metavar="SCENARIO")
@click.option(
    "--param",
    "params",
    multiple=True,
    required=True,
    metavar="KEY=V1,V2,...",
    help="A scenario key and the values to try, e.g. machine.swap=64m,128m; repeat for a grid.",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Runs per grid point; above 1, seeds 0..N-1 under the random scheduler.",
)
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True, help="Local processes."
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@executor_options
def sweep_command(
    scenario: str,
    params: tuple[str, ...],
    seeds: int,
    jobs: int,
    fmt: str,
    executor: str,
    address: str | None,
) -> None:
    """Run a scenario over a grid of parameter values and tabulate the verdicts.

    Each --param names a key of the scenario's tables ([machine], [vm],
    [allocators], [io], [interrupt], [run]) and the values to try, written
    as in a scenario file (sizes "64m", durations "2s", rates "1m/s",
    allocator names, mitigations joined with "+", "none").  Every
    combination runs; the table format ends with a heatmap of verdicts
    over the first two keys.

    \b
    Examples:
      ztui sweep teach-swapmeta-kmalloc-obj --param machine.swap=4m,8m,16m --param machine.physmem=8m,16m
      ztui sweep teach-swapmeta-kmalloc-obj --param allocators.mitigations=none,pass-reserve-flags,reserved-slab --seeds 20 -j 2
      ztui sweep my.toml --param io.swap_write_latency=1ms,10ms,100ms --format csv > out.csv
      ztui sweep my.toml --param machine.swap=1g,2g --executor dask --address tcp://scheduler:8786
    """
    from ztui.explore.executors import ParamError, make_executor
    from ztui.explore.sweep import parse_param, sweep

    _, loaded = load_or_exit(scenario)
    try:
        grid = [parse_param(text) for text in params]
        pool = make_executor(executor, address)
        with progress_bar(f"{loaded.name}: sweep", _grid_size(grid) * seeds, counts=True) as advance:
            result = sweep(
                loaded,
                grid,
                seeds,
                jobs=jobs,
                executor=pool,
                on_progress=lambda done, _, counts: advance(done, counts),
            )
    except ParamError as exc:
        _bad_input(str(exc))
    if fmt == "csv":
        click.echo(_csv(result.rows()), nl=False)
    elif fmt == "json":
        click.echo(json.dumps({"keys": list(result.keys), "runs": result.rows()}, indent=2))
    else:
        out = console()
        print_titled(out, f"{loaded.name}: sweep ({result.seconds:.1f} s)", _sweep_table(result, loaded.machine.hz))
        for title, heatmap in _heatmaps(result):
            print_titled(out, title, heatmap)


def _grid_size(grid: list[tuple[str, tuple[str, ...]]]) -> int:
    size = 1
    for _, values in grid:
        size *= len(values)
    return size


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else [])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _sweep_table(result, hz: int) -> Table:
    table = Table()
    for key in result.keys:
        table.add_column(as_text(key))
    table.add_column("runs", justify="right")
    shown = shown_verdicts(sum((point.counts() for point in result.points), Counter()))
    for verdict in shown:
        table.add_column(verdict, justify="right", style=VERDICT_STYLE[verdict])
    table.add_column("median time", justify="right")
    for point in result.points:
        counts = point.counts()
        times = sorted(run.tick / hz for run in point.runs)
        table.add_row(
            *(as_text(value) for _, value in point.values),
            str(len(point.runs)),
            *(str(counts[v]) for v in shown),
            f"{times[len(times) // 2]:.2f} s",
        )
    return table


def _heatmaps(result) -> list[tuple[str, Table]]:
    """Verdicts over the first two keys (rows x columns), one map per value of the other keys."""
    keys = result.keys
    row_key, col_key = keys[0], keys[1] if len(keys) > 1 else None
    groups: dict[tuple, dict[tuple[str, str], Counter]] = {}
    rows: dict[str, None] = {}
    cols: dict[str, None] = {}
    for point in result.points:
        values = dict(point.values)
        rest = tuple((k, values[k]) for k in keys[2:])
        row, col = values[row_key], values[col_key] if col_key else ""
        rows.setdefault(row)
        cols.setdefault(col)
        groups.setdefault(rest, {})[(row, col)] = point.counts()
    maps = []
    for rest, cells in groups.items():
        title = "verdicts" + (": " + ", ".join(f"{k}={v}" for k, v in rest) if rest else "")
        table = Table(show_lines=True)
        table.add_column(as_text(f"{row_key} \\ {col_key}" if col_key else row_key))
        for col in cols:
            table.add_column(as_text(col or "verdict"), justify="center")
        for row in rows:
            table.add_row(as_text(row), *(_cell(cells.get((row, col))) for col in cols))
        maps.append((title, table))
    return maps


def _cell(counts: Counter | None) -> Text:
    if not counts:
        return Text("")
    verdict, n = counts.most_common(1)[0]
    total = sum(counts.values())
    label = verdict if n == total else f"{verdict} {n}/{total}"
    return Text(f" {label} ", style=f"reverse {VERDICT_STYLE[verdict]}")


# --- shared ------------------------------------------------------------------------


def _read_trace_or_exit(file: Path):
    try:
        return read_trace(file)
    except TraceError as exc:
        _bad_input(str(exc))


def _with_param(scenario: Scenario, key: str, value: str, option: str) -> Scenario:
    from ztui.explore.executors import ParamError
    from ztui.explore.sweep import override

    try:
        return override(scenario, key, value)
    except ParamError as exc:
        _bad_input(f"{option}: {exc}")


def _bad_input(message: str) -> NoReturn:
    echo_lines([f"ztui: {message}"], err=True)
    sys.exit(EXIT_BAD_INPUT)
