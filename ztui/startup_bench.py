"""`ztui bench --startup`: whole commands as a user runs them, each in a fresh process.

Each command's CPU seconds (user + system, resource.getrusage of the
children) include the interpreter's start, the imports and the work; the
medians are set beside two baselines run the same way in the same run: a
bare ``python -c pass`` for the commands that only start up (``ztui
--help``, ``ztui vmstats``), and SimPy's 1 M events (ztui.simpy_baseline)
for the 2 GiB churn scenario run to its verdict (``ztui run --json``).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys

from ztui.bench import CORE_SCENARIO

SIMPY_EVENTS = 1_000_000
ZTUI = [sys.executable, "-m", "ztui"]
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "ztui --help": [*ZTUI, "--help"],
    "ztui vmstats --physmem 2g": [*ZTUI, "vmstats", "--physmem", "2g"],
    f"ztui run --json {CORE_SCENARIO}": [*ZTUI, "run", "--json", CORE_SCENARIO],
    "SimPy 1 M events": [sys.executable, "-m", "ztui.simpy_baseline", str(SIMPY_EVENTS)],
}


def child_cpu_s(argv: list[str]) -> float:
    """CPU seconds of one whole child process running ``argv`` (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_startup(runs: int) -> dict[str, float]:
    """Median CPU seconds of each command, interleaved run by run, and the ratios to their baselines."""
    cpus: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, argv in COMMANDS.items():
            cpus[name].append(child_cpu_s(argv))
    median = {name: statistics.median(values) for name, values in cpus.items()}
    figures = {f"{name}: CPU s": value for name, value in median.items()}
    bare, churn = median["python -c pass"], median[f"ztui run --json {CORE_SCENARIO}"]
    figures["ztui --help / python -c pass"] = median["ztui --help"] / bare
    figures["ztui vmstats / python -c pass"] = median["ztui vmstats --physmem 2g"] / bare
    figures[f"{CORE_SCENARIO} whole process / SimPy 1 M events"] = churn / median["SimPy 1 M events"]
    return figures
