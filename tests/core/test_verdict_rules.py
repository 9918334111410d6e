"""The verdict rules of ztui/core/verdict.py, on states built to sit on each side of them."""

import attrs

from ztui.core.simulator import Simulator
from ztui.core.verdict import check_stuck
from ztui.scenario.bundled import resolve_scenario
from ztui.scenario.load import load_scenario


def at_livelock() -> Simulator:
    sim = Simulator.from_scenario(load_scenario(resolve_scenario("teach-swapmeta-kmalloc-obj")), log=False)
    sim.run()
    assert sim.verdict.kind == "livelock"
    return sim


def test_livelock_needs_the_whole_window_without_progress():
    k = at_livelock().k
    k.verdict = ""
    assert check_stuck(k) == "livelock"
    k.progress_tick = k.tick - k.cfg.livelock_ticks + 1
    assert check_stuck(k) == ""


def test_deadlock_when_every_thread_with_work_sleeps_without_a_timeout():
    k = at_livelock().k
    k.verdict = ""
    k.progress_tick = k.tick  # no livelock yet
    for t in k.threads:
        if t.kind in ("pagedaemon", "emergpager", "proc"):
            t.state, t.wake_tick = "S", -1  # as if vm_wait had no timeout
    assert check_stuck(k) == "deadlock"
    k.threads[0].wake_tick = k.tick + 100  # one timed sleeper with work: not a deadlock
    assert check_stuck(k) == ""


def test_voluntary_sleep_is_not_stuck():
    k = at_livelock().k
    k.verdict = ""
    for t in k.threads:
        if t.kind == "proc":
            t.state, t.wchan, t.wmesg = "S", "", "nanslp"
    assert check_stuck(k) == ""


def test_a_finished_workload_ends_ok_and_says_so():
    sim = Simulator.from_scenario(load_scenario(resolve_scenario("teach-swapmeta-zalloc")))
    verdict = sim.run()
    assert verdict.kind == "ok" and "finished" in verdict.headline
    assert all(t.finished for t in sim.k.threads if t.kind == "proc")


def test_a_step_limit_ends_ok_at_exactly_that_step():
    scenario = load_scenario(resolve_scenario("teach-swapmeta-kmalloc-obj"))
    sim = Simulator.from_scenario(attrs.evolve(scenario, run=attrs.evolve(scenario.run, max_steps=777)))
    verdict = sim.run()
    assert (verdict.kind, sim.step_count) == ("ok", 777)
    assert "limit" in verdict.headline
