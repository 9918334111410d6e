"""`ztui bench --startup` (ztui/startup_bench.py): what it runs and how it sets figures beside baselines."""

import subprocess

from ztui import startup_bench
from ztui.bench import CORE_SCENARIO

QUICK = ("python -c pass", "ztui --help", "ztui vmstats --physmem 2g")


def test_the_quick_commands_it_times_succeed():
    for name in QUICK:
        subprocess.run(startup_bench.COMMANDS[name], stdout=subprocess.DEVNULL, check=True, timeout=120)


def test_medians_are_set_beside_their_baselines(monkeypatch):
    cpu = {
        "python -c pass": [0.05, 0.04, 0.06],
        "ztui --help": [0.10, 0.08, 0.09],
        "ztui vmstats --physmem 2g": [0.12, 0.12, 0.30],
        f"ztui run --json {CORE_SCENARIO}": [6.0, 5.0, 7.0],
        "SimPy 1 M events": [2.0, 3.0, 2.5],
    }
    by_argv = {tuple(startup_bench.COMMANDS[name]): iter(values) for name, values in cpu.items()}
    monkeypatch.setattr(startup_bench, "child_cpu_s", lambda argv: next(by_argv[tuple(argv)]))
    figures = startup_bench.bench_startup(3)
    assert figures["ztui --help: CPU s"] == 0.09
    assert figures["ztui --help / python -c pass"] == 0.09 / 0.05
    assert figures["ztui vmstats / python -c pass"] == 0.12 / 0.05
    assert figures[f"{CORE_SCENARIO} whole process / SimPy 1 M events"] == 6.0 / 2.5
