"""Preloaded into the worker processes of a local Dask cluster (executors.make_executor).

A terminal's Ctrl-C reaches the whole process group, the cluster's workers
too; the command handles it (it cancels the tasks and closes the
cluster), so a worker ignores it instead of printing its own traceback.
"""

import signal


def dask_setup(worker) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
