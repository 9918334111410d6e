"""`ztui bench`: throughput figures beside their same-run baselines (ztui.bench)."""

from __future__ import annotations

import json

import click

from ztui.cli_common import GuardedCommand, console


@click.command(cls=GuardedCommand)
@click.option("--runs", default=3, show_default=True, type=click.IntRange(1, 20), help="Repetitions; medians are printed.")
@click.option("--tui", "with_tui", is_flag=True, help="Also drive the TUI headless and measure it.")
@click.option("--seconds", default=5.0, show_default=True, type=click.FloatRange(1, 120), help="Length of each TUI run.")
@click.option("--search", "with_search", is_flag=True, help="Also measure exhaustive search, seed exploration and time travel.")
@click.option("--memory", "with_memory", is_flag=True, help="Also measure resident memory of long runs (minutes per run).")
@click.option(
    "--scale", "with_scale", is_flag=True,
    help="Also run the churn workload at 2, 8, 32 and 64 GiB (and 256 GiB if it ends within two minutes).",
)
@click.option(
    "--startup", "with_startup", is_flag=True,
    help="Also time whole commands in fresh processes: --help, vmstats and the churn run, beside python and SimPy.",
)
@click.option(
    "--cluster", "with_cluster", is_flag=True,
    help="Also run 2,000 seeds in one process, on 2 jobs and on a 2-worker Dask LocalCluster (needs ztui[dask]).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def bench(
    runs: int,
    with_tui: bool,
    seconds: float,
    with_search: bool,
    with_memory: bool,
    with_scale: bool,
    with_startup: bool,
    with_cluster: bool,
    as_json: bool,
) -> None:
    """Measure simulator throughput (and, with --tui, the TUI's).

    The core figures are simulated kernel steps per second and the wall
    time to the verdict on the 2 GiB swapmeta-kmalloc-obj-churn scenario,
    beside a plain SimPy model (one Container, get/put/timeout) timed in
    the same run.  With --tui: screen updates per second, key-press-to-
    screen latency, and simulator steps per second while the TUI draws
    (per wall second and per CPU second of its process), each round
    beside a headless run with the event log on and the TUI's own
    timeline (checkpoints, step history) run headless: medians of the
    rounds' ratios.  With --search:
    distinct states per second of the exhaustive search on the smallest
    teaching scenario (beside SimPy's events per second) and from a 2 GiB
    state mid-run, the wall time of a 10,000-seed exploration with 2 jobs,
    and time-travel latency and checkpoint memory at step 1,000,000.
    With --memory, each in a fresh process: the RSS of a Timeline after
    40 million steps of a churning machine beside a bare Simulator's, and
    the RSS of an exhaustive search (every interleaving) when it stops at
    its default memory budget; about five minutes per run.  With --scale,
    each in a fresh process: the CPU seconds of the churn scenario scaled
    to 2, 8, 32 and 64 GiB (memory, swap and every phase's pages alike) and
    each one's ratio to 2 GiB, and 256 GiB when one run of it ends within
    two minutes; a few minutes per run.  With --startup, each in a fresh
    process: the CPU seconds of `ztui --help` and `ztui vmstats` beside a
    bare `python -c pass`, and of `ztui run --json` on the churn scenario
    beside SimPy's 1 M events; under a minute per run.  With --cluster:
    the wall time of 2,000 seeds of the smallest teaching scenario in one
    process, on 2 jobs, and on a two-worker Dask LocalCluster as seed
    ranges and as one seed per task; half a minute per run.

    \b
    Examples:
      ztui bench
      ztui bench --runs 5 --json
      ztui bench --tui --seconds 10
      ztui bench --search
      ztui bench --memory --runs 1
      ztui bench --scale --runs 1
      ztui bench --startup --runs 5
      ztui bench --cluster --runs 3
    """
    from ztui.bench import bench_core, print_bench

    figures = bench_core(runs)
    if with_tui:
        from ztui.tui.bench import bench_tui_rounds

        figures["tui"] = bench_tui_rounds(runs, seconds)
    if with_search:
        from ztui.search_bench import (
            bench_exhaustive,
            bench_exhaustive_gib,
            bench_explore_seeds,
            bench_timeline,
        )

        figures["exhaustive"] = bench_exhaustive()
        figures["exhaustive"]["states/s / SimPy events/s"] = (
            figures["exhaustive"]["distinct_states_per_s"] / figures["simpy"]["events_per_s"]
        )
        figures["exhaustive_gib"] = bench_exhaustive_gib()
        figures["explore_seeds"] = bench_explore_seeds()
        figures["timeline"] = bench_timeline()
    if with_memory:
        from ztui.memory_bench import bench_memory

        figures["memory"] = bench_memory(runs)
    if with_scale:
        from ztui.bench_scale import bench_scale

        figures["scale"] = bench_scale(runs)
    if with_startup:
        from ztui.startup_bench import bench_startup

        figures["startup"] = bench_startup(runs)
    if with_cluster:
        figures["cluster"] = _bench_cluster(runs)
    if as_json:
        click.echo(json.dumps(figures, indent=2))
    else:
        print_bench(figures, console())




def _bench_cluster(runs: int) -> dict[str, float | int]:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise click.UsageError("--cluster needs the dask extra: pip install 'ztui[dask]'") from None
    from ztui.cluster_bench import bench_cluster

    return bench_cluster(runs)
