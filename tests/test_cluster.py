"""Runs on a real Dask cluster (distributed.LocalCluster, two worker processes) give what local runs give."""

import json
import subprocess
import sys

import pytest
from distributed import Client, LocalCluster

from ztui.explore.executors import MAX_CHUNK, TASKS_PER_WORKER, seed_ranges
from ztui.explore.seeds import explore_seeds
from ztui.explore.sweep import parse_param, sweep
from ztui.scenario.bundled import resolve_scenario
from ztui.scenario.load import load_scenario

SCENARIO = "teach-swapmeta-kmalloc-obj"  # livelocks under some seeds, survives under others


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            yield client


def teaching():
    return load_scenario(resolve_scenario(SCENARIO))


def test_seeds_on_the_cluster_give_the_local_runs(client):
    on_cluster = explore_seeds(teaching(), range(60), executor=client.get_executor())
    local = explore_seeds(teaching(), range(60))
    assert on_cluster.runs == local.runs
    assert set(local.counts()) == {"livelock", "ok"}  # both outcomes, so the order of seeds matters
    assert on_cluster.first_seeds() == local.first_seeds()


def test_a_sweep_on_the_cluster_gives_the_local_table(client):
    grid = [parse_param("machine.swap=4m,8m"), parse_param("allocators.swapmeta=zalloc,kmalloc_obj")]
    on_cluster = sweep(teaching(), grid, 6, executor=client.get_executor())
    local = sweep(teaching(), grid, 6)
    assert on_cluster.rows() == local.rows()
    assert len(local.rows()) == 4 * 6


def test_the_command_line_sends_its_runs_to_a_running_scheduler(client):
    argv = [sys.executable, "-m", "ztui", "sweep", SCENARIO, "--param", "machine.swap=4m,8m", "--seeds", "4"]
    argv += ["--format", "json"]
    address = client.scheduler.address
    remote = subprocess.run([*argv, "--executor", "dask", "--address", address], capture_output=True, text=True)
    local = subprocess.run(argv, capture_output=True, text=True)
    assert remote.returncode == local.returncode == 0, remote.stderr
    assert json.loads(remote.stdout) == json.loads(local.stdout)


@pytest.mark.parametrize("count, workers", [(1, 2), (10, 2), (2000, 2), (100_000, 16), (7, 1)])
def test_seed_ranges_cover_the_seeds_in_order_with_about_eight_per_worker(count, workers):
    seeds = list(range(count))
    ranges = seed_ranges(seeds, workers)
    assert [s for r in ranges for s in r] == seeds
    assert max(len(r) for r in ranges) <= MAX_CHUNK
    assert len(ranges) == min(count, workers * TASKS_PER_WORKER) or len(ranges[0]) == MAX_CHUNK


def test_bench_cluster_times_the_four_ways_on_the_same_seeds():
    from ztui.cluster_bench import bench_cluster

    figures = bench_cluster(1, seeds=12)
    ways = [key.removesuffix(": wall s") for key in figures if key.endswith(": wall s")]
    assert ways == ["in one process", "local pool, 2 jobs", "dask, 12 seed ranges", "dask, one seed per task"]
    for way in ways:
        assert figures[f"{way}: seeds/s"] == pytest.approx(12 / figures[f"{way}: wall s"])
    speed_up = figures["dask: seed ranges / one seed per task (speed-up)"]
    assert speed_up == pytest.approx(figures["dask, one seed per task: wall s"] / figures["dask, 12 seed ranges: wall s"])


def test_an_address_where_no_scheduler_answers_is_one_line_not_a_traceback(monkeypatch):
    from ztui.explore import executors

    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 1)
    with pytest.raises(executors.ParamError, match=r"--address tcp://127\.0\.0\.1:1: no Dask scheduler answered"):
        executors.make_executor("dask", "tcp://127.0.0.1:1")


def test_ctrl_c_stops_a_run_on_a_local_cluster_and_reaps_its_workers(tmp_path):
    import os
    import signal
    import time

    from hostile import session_processes

    argv = [sys.executable, "-m", "ztui", "explore", SCENARIO, "--seeds", "20000", "--executor", "dask"]
    process = subprocess.Popen([*argv, "--traces", tmp_path], start_new_session=True, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(session_processes(process.pid)) < 3:  # the command and the cluster's worker processes
        assert process.poll() is None and time.monotonic() < deadline, "the local cluster never started"
        time.sleep(0.1)
    time.sleep(1)  # tasks are running
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert err.decode().splitlines()[-1] == "ztui: interrupted", "no worker's log after it"
    deadline = time.monotonic() + 10
    while session_processes(process.pid):
        assert time.monotonic() < deadline, "a worker outlived the command"
        time.sleep(0.1)
    assert list(tmp_path.iterdir()) == []


def test_explore_sends_its_seeds_to_a_running_scheduler_and_says_so(client, tmp_path):
    argv = [sys.executable, "-m", "ztui", "explore", SCENARIO, "--seeds", "30"]
    remote = subprocess.run(
        [*argv, "--executor", "dask", "--address", client.scheduler.address, "--traces", tmp_path / "remote"],
        capture_output=True, text=True,
    )
    local = subprocess.run([*argv, "--traces", tmp_path / "local"], capture_output=True, text=True)
    assert remote.returncode == local.returncode == 1, remote.stderr  # a livelock was found
    assert "on dask)" in remote.stdout and "1 job)" in local.stdout
    def totals(out):
        return [line for line in out.splitlines() if line.startswith("│") and " all " in line]

    assert totals(remote.stdout) == totals(local.stdout) != []
    assert sorted(p.name for p in (tmp_path / "remote").iterdir()) == sorted(p.name for p in (tmp_path / "local").iterdir())


def test_bench_cluster_without_the_dask_extra_says_so_in_one_line(monkeypatch):
    from click.testing import CliRunner

    from ztui.commands.bench import bench

    monkeypatch.setitem(sys.modules, "distributed", None)  # the extra is absent: import raises
    monkeypatch.setattr("ztui.bench.bench_core", lambda runs: {})
    result = CliRunner().invoke(bench, ["--cluster", "--runs", "1"])
    assert result.exit_code == 2
    assert "--cluster needs the dask extra: pip install 'ztui[dask]'" in result.output
