"""`ztui bench --cluster`: seed runs in one process, in a local pool and on a Dask LocalCluster.

The same seeds of the smallest teaching scenario go four ways in one run:
in this process, on a pool of two processes (``--jobs 2``), and on a
two-worker ``distributed.LocalCluster`` once as the seed ranges that
``explore --executor dask`` hands out (executors.seed_ranges) and once as
one seed per task.  The wall times say what a cluster's per-task cost
takes back, and how much handing out ranges returns.  Needs the dask extra.
"""

from __future__ import annotations

import statistics
import time

from ztui.explore.executors import CLUSTER_WIDTH, run_tasks, seed_ranges
from ztui.explore.runs import randomised
from ztui.search_bench import SMALLEST_TEACHING, bundled

SEEDS = 2000
WORKERS = 2


def bench_cluster(runs: int, seeds: int = SEEDS) -> dict[str, float | int]:
    """Median wall seconds of each way over ``runs`` interleaved runs, seeds/s and the ratios between them."""
    from distributed import Client, LocalCluster

    scenario = randomised(bundled(SMALLEST_TEACHING))
    seed_list = list(range(seeds))
    one_per_task = [[seed] for seed in seed_list]
    in_ranges = seed_ranges(seed_list, CLUSTER_WIDTH)
    walls: dict[str, list[float]] = {}

    def timed(way: str, tasks, **where) -> None:
        started = time.perf_counter()
        run_tasks([(scenario, chunk) for chunk in tasks], **where)
        walls.setdefault(way, []).append(time.perf_counter() - started)

    with LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            pool = client.get_executor()
            for _ in range(runs):
                timed("in one process", in_ranges, jobs=1)
                timed(f"local pool, {WORKERS} jobs", seed_ranges(seed_list, WORKERS), jobs=WORKERS)
                timed(f"dask, {len(in_ranges)} seed ranges", in_ranges, executor=pool)
                timed("dask, one seed per task", one_per_task, executor=pool)
    median = {way: statistics.median(values) for way, values in walls.items()}
    figures: dict[str, float | int] = {"seeds": seeds, "dask workers": WORKERS}
    for way, seconds in median.items():
        figures[f"{way}: wall s"] = seconds
        figures[f"{way}: seeds/s"] = seeds / seconds
    ranges_s, single_s = median[f"dask, {len(in_ranges)} seed ranges"], median["dask, one seed per task"]
    figures["dask: seed ranges / one seed per task (speed-up)"] = single_s / ranges_s
    figures["dask task cost, ms (one seed per task minus one process, per seed)"] = (
        (single_s * WORKERS - median["in one process"]) / seeds * 1000
    )
    return figures
