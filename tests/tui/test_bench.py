"""`ztui bench --tui` (ztui/tui/bench.py): how its rounds become figures, and where its CPU seconds come from."""

import gc
import os
import sys
import time

import pytest

from ztui.tui.bench import paired_figures, process_cpu_s
from ztui.tui.simserver import GC_THRESHOLDS, collecting_rarely


def tui(steps_per_s: int, per_cpu_s: int | None, latency: float | None = 40.0) -> dict:
    return {"scenario": "churn", "sim_steps_per_s": steps_per_s, "sim_steps_per_cpu_s": per_cpu_s,
            "key_latency_median_ms": latency, "restarts": 2}


def run(steps_per_s: float, per_cpu_s: float) -> dict:
    return {"steps_per_s": steps_per_s, "steps_per_cpu_s": per_cpu_s}


def test_ratios_are_the_medians_of_each_rounds_ratio_not_ratios_of_medians():
    rounds = [
        (tui(100, 90), run(200, 100), run(100, 90)),
        (tui(300, 80), run(300, 100), run(600, 160)),
        (tui(200, 70), run(1000, 100), run(250, 100)),
    ]
    figures = paired_figures(rounds)
    assert figures["vs_headless"] == 0.5  # rounds: 0.5, 1.0, 0.2 (the medians' ratio would be 200/300)
    assert figures["vs_recorded"] == 0.8  # 1.0, 0.5, 0.8
    assert figures["vs_headless_per_cpu_s"] == 0.8  # 0.9, 0.8, 0.7
    assert figures["vs_recorded_per_cpu_s"] == 0.7  # 1.0, 0.5, 0.7
    assert figures["sim_steps_per_s"] == 200 and isinstance(figures["sim_steps_per_s"], int)
    assert figures["headless_steps_per_s"] == 300 and figures["scenario"] == "churn"


def test_a_round_without_a_cpu_figure_or_a_latency_is_left_out_of_those_medians():
    rounds = [
        (tui(100, None, latency=None), run(200, 100), run(100, 100)),
        (tui(100, 60, latency=30.0), run(200, 100), run(100, 100)),
    ]
    figures = paired_figures(rounds)
    assert figures["vs_headless_per_cpu_s"] == 0.6 and figures["key_latency_median_ms"] == 30.0
    no_cpu = paired_figures(rounds[:1])
    assert "vs_headless_per_cpu_s" not in no_cpu and no_cpu["key_latency_median_ms"] is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/PID/stat is Linux's")
def test_a_process_cpu_seconds_follow_its_work():
    before, ours_before = process_cpu_s(os.getpid()), time.process_time()
    while time.process_time() - ours_before < 0.3:
        pass
    spent = process_cpu_s(os.getpid()) - before
    assert 0.25 <= spent <= 0.4  # in clock ticks (10 ms)
    assert process_cpu_s(2**22 + 12345) is None  # beyond pid_max: no such process


def test_the_simulator_process_collects_garbage_rarely_and_gives_the_thresholds_back():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collecting_rarely():
        assert gc.get_threshold() == GC_THRESHOLDS != before
        raise RuntimeError
    assert gc.get_threshold() == before


def test_a_short_tui_bench_measures_frames_keys_and_the_simulator():
    from ztui.scenario.bundled import SCENARIO_DIR
    from ztui.tui.bench import bench_tui

    figures = bench_tui(1.0, SCENARIO_DIR / "teach-swapmeta-kmalloc-obj.toml")
    assert figures["scenario"] == "teach-swapmeta-kmalloc-obj" and figures["seconds"] >= 1.0
    assert figures["screen_updates_per_s"] > 0 and figures["ui_cpu_ms_per_screen_update"] > 0
    assert figures["sim_steps_per_s"] > 0
    assert figures["key_presses"] >= 1
