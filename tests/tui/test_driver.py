"""The worker's loop, without Textual: jobs finish, pace, stop when cancelled, publish at a bounded rate."""

from __future__ import annotations

import threading
import time

from ztui.core.simulator import Simulator
from ztui.scenario.load import load_scenario
from ztui.tui.driver import Driver, FastForward, GoTo, PacedRun
from ztui.core.timeline import Timeline

from tui_support import DEFAULT, LONG


def driver_for(path, frame_s=1 / 30):
    timeline = Timeline(Simulator.from_scenario(load_scenario(path)))
    published = []
    return Driver(timeline, threading.Lock(), published.append, frame_s=frame_s), timeline, published


def test_fast_forward_runs_to_the_verdict_and_publishes_it():
    driver, timeline, published = driver_for(DEFAULT)
    assert driver.run(FastForward(), cancelled=lambda: False)
    assert timeline.sim.verdict is not None
    assert published[-1].verdict == timeline.sim.verdict


def test_publishing_is_bounded_by_the_frame_rate():
    driver, timeline, published = driver_for(LONG, frame_s=0.05)
    deadline = time.perf_counter() + 0.5
    assert not driver.run(FastForward(), cancelled=lambda: time.perf_counter() > deadline)
    assert 3 <= len(published) <= 12  # ~10 at 20 Hz over 0.5 s
    steps = [snapshot.step for snapshot in published]
    assert steps == sorted(steps) and steps[-1] > 1000


def test_paced_run_keeps_to_its_speed():
    driver, timeline, _ = driver_for(LONG)
    deadline = time.perf_counter() + 0.5
    driver.run(PacedRun(lambda: 1000), cancelled=lambda: time.perf_counter() > deadline)
    assert 350 <= timeline.step_count <= 700  # 500 expected; steps come in batches of up to a slice


def test_go_to_moves_backwards_and_forwards():
    driver, timeline, published = driver_for(DEFAULT)
    assert driver.run(GoTo(500), cancelled=lambda: False)
    assert timeline.step_count == 500 and published[-1].step == 500
    assert driver.run(GoTo(120), cancelled=lambda: False)
    assert timeline.step_count == 120
