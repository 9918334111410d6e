"""Where the runs go: this process, a pool of local processes, or a Dask or Ray cluster.

The local pool is a multiprocessing.Pool, not a ProcessPoolExecutor: on
Ctrl-C or SIGTERM it is terminated at once (its workers get SIGTERM and
are reaped) instead of waiting for the tasks in flight.  Its workers
ignore SIGINT (the parent decides; a terminal's Ctrl-C reaches the whole
process group) and, on Linux, are killed if the parent dies.  The two
signals are held while the pool forks (see _signals_held).
"""

from __future__ import annotations

import ctypes
import math
import multiprocessing
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, as_completed
from contextlib import contextmanager

from ztui.explore.runs import SeedRun, run_seeds
from ztui.scenario.model import Scenario
from ztui.textsafe import visible

Task = tuple[Scenario, Sequence[int | None]]
Progress = Callable[[int, int, Counter], None]  # (runs done, runs in all, verdicts so far)
PR_SET_PDEATHSIG = 1
INTERRUPTS = {signal.SIGINT, signal.SIGTERM}
CONNECT_TIMEOUT = 10  # seconds to wait for a cluster at --address before saying it did not answer


# Seeds per task: big enough to amortise a task's cost (pickling, a cluster's scheduling: a Dask task
# costs milliseconds), small enough for a live progress bar.
MAX_CHUNK = 250
TASKS_PER_WORKER = 8  # enough for the workers to stay busy while the slowest ranges finish
CLUSTER_WIDTH = 16  # workers assumed behind an executor when sizing its seed ranges


def seed_ranges(seeds: Sequence[int | None], workers: int) -> list[Sequence[int | None]]:
    """``seeds`` cut into consecutive ranges, each one task: about TASKS_PER_WORKER per worker, at most MAX_CHUNK."""
    size = max(1, min(MAX_CHUNK, math.ceil(len(seeds) / (max(workers, 1) * TASKS_PER_WORKER))))
    return [seeds[i : i + size] for i in range(0, len(seeds), size)]


class ParamError(ValueError):
    """A --param (or --executor) that cannot be used; the message is one line."""


def run_tasks(
    tasks: Sequence[Task],
    *,
    jobs: int = 1,
    executor: Executor | None = None,
    on_task: Callable[[int, list[SeedRun]], None] | None = None,
) -> list[list[SeedRun]]:
    """run_seeds() on every (scenario, seeds) task, in order of the tasks.

    In this process when ``jobs`` is 1 and no executor is given; else on
    ``executor`` or a pool of ``jobs`` processes.  ``on_task(index, runs)``
    is called as each task completes.
    """
    results: list[list[SeedRun] | None] = [None] * len(tasks)

    def done(index: int, runs: list[SeedRun]) -> None:
        results[index] = runs
        if on_task is not None:
            on_task(index, runs)

    if executor is not None:
        futures = {
            executor.submit(run_seeds, scenario, tuple(seeds)): index for index, (scenario, seeds) in enumerate(tasks)
        }
        try:
            for future in as_completed(futures):
                done(futures[future], future.result())
        finally:
            for future in futures:
                future.cancel()
    elif jobs <= 1:
        for index, (scenario, seeds) in enumerate(tasks):
            done(index, run_seeds(scenario, seeds))
    else:
        work = [(index, scenario, tuple(seeds)) for index, (scenario, seeds) in enumerate(tasks)]
        pool = None
        try:
            with _signals_held():
                forked = multiprocessing.get_start_method() == "fork"
                pool = multiprocessing.Pool(jobs, initializer=_worker_init, initargs=(os.getpid(), forked))
            for index, runs in pool.imap_unordered(_run_task, work):
                done(index, runs)
        finally:  # normally or by an exception (KeyboardInterrupt): the workers are killed and reaped
            if pool is not None:
                pool.terminate()
    assert all(runs is not None for runs in results), "every task reported"
    return results  # type: ignore[return-value]


@contextmanager
def _signals_held():
    """SIGINT and SIGTERM wait until the pool exists.

    Arriving while the pool forks, the handler's KeyboardInterrupt would be
    raised inside an at-fork hook, where Python ignores exceptions: the
    interrupt would be lost and the run go on to the end.
    """
    held = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _run_task(task: tuple[int, Scenario, tuple[int | None, ...]]) -> tuple[int, list[SeedRun]]:
    index, scenario, seeds = task
    return index, run_seeds(scenario, seeds)


def _worker_init(parent: int, forked: bool) -> None:
    """A worker leaves signals to its parent, and dies with it.

    A forked worker inherits its parent's end of the task pipe, so it would
    never see the pipe close: on Linux it asks to be killed with its parent,
    and exits at once if the parent died before it could ask (it was forked
    as the parent's child, so another parent means that one is gone).
    (Under forkserver or spawn the worker is not the command's child; its
    pipes close when the command dies, and it exits then.)
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's "raise Terminated"
    signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)  # held while the pool forked it
    if forked and sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)


class Tally:
    """Counts verdicts as task results come in and reports progress (an ``on_task`` callback)."""

    def __init__(self, total: int, on_progress: Progress | None) -> None:
        self.total = total
        self.on_progress = on_progress
        self.finished = 0
        self.counts: Counter = Counter()

    def __call__(self, _: int, runs: list[SeedRun]) -> None:
        self.finished += len(runs)
        self.counts.update(run.verdict for run in runs)
        if self.on_progress is not None:
            self.on_progress(self.finished, self.total, self.counts)


def make_executor(kind: str, address: str | None = None) -> Executor | None:
    """The executor `ztui sweep --executor` names; None for local (processes if --jobs > 1).

    Dask and Ray are optional extras, imported only here.  Their workers
    must have ztui installed.
    """
    if kind == "local":
        return None
    if kind == "dask":
        # Before distributed reads its config, here and in the workers a local cluster spawns: their
        # shutdown notes (tasks cancelled by Ctrl-C) are not the user's business; a user's own setting stays.
        os.environ.setdefault("DASK_DISTRIBUTED__LOGGING__DISTRIBUTED", "error")
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ParamError("--executor dask needs the dask extra: pip install 'ztui[dask]'") from None
        try:
            if address is None:
                return Client(LocalCluster(preload=["ztui.explore.dask_worker"])).get_executor()
            return Client(address, timeout=CONNECT_TIMEOUT).get_executor()
        except OSError as exc:  # distributed's timeouts and refusals are OSErrors
            raise ParamError(f"{_where(address)}: no Dask scheduler answered ({type(exc).__name__})") from None
    if kind == "ray":
        try:
            import ray
        except ImportError:
            raise ParamError("--executor ray needs the ray extra: pip install 'ztui[ray]'") from None
        try:
            ray.init(address=address, ignore_reinit_error=True)
        except OSError as exc:  # ConnectionError included
            raise ParamError(f"{_where(address)}: no Ray cluster answered ({type(exc).__name__})") from None
        return RayExecutor()
    raise ParamError(f"unknown executor {kind!r}; expected local, dask or ray")


def _where(address: str | None) -> str:
    return f"--address {visible(address)}" if address else "a local cluster"


class RayExecutor(Executor):
    """concurrent.futures on Ray tasks: Ray ships no Executor, but an ObjectRef gives a Future."""

    def __init__(self) -> None:
        import ray

        self._ray = ray
        self._remote: dict[Callable, object] = {}

    def submit(self, fn, /, *args, **kwargs):
        remote = self._remote.get(fn)
        if remote is None:
            remote = self._remote[fn] = self._ray.remote(fn)
        return remote.remote(*args, **kwargs).future()
