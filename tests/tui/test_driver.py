"""The worker's loop, without Textual: jobs finish, pace, stop when cancelled, publish at a bounded rate.

Time is a FakeClock that moves only when the loop sleeps or a job says so,
so nothing here depends on how fast the machine is.
"""

from __future__ import annotations

from tui_support import DEFAULT, LONG, FakeClock

from ztui.core.simulator import Simulator
from ztui.core.timeline import Timeline
from ztui.scenario.load import load_scenario
from ztui.tui.breakpoints import Watch, parse
from ztui.tui.driver import Driver, FastForward, GoTo, PacedRun, RunThread


def driver_for(path, clock=None, frame_s=1 / 32):
    """Times are binary fractions (1/64 s...) so that the fake clock adds them up exactly."""
    timeline = Timeline(Simulator.from_scenario(load_scenario(path)))
    published = []
    clock = clock or FakeClock()
    driver = Driver(timeline, published.append, frame_s=frame_s, slice_s=1 / 256, clock=clock, sleep=clock.advance)
    return driver, timeline, published


class Ticking(FastForward):
    """A fast-forward whose every slice takes 1/64 s of the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.slices = 0

    def advance(self, timeline, max_steps):
        self.clock.advance(1 / 64)
        self.slices += 1
        return super().advance(timeline, max_steps)


def test_fast_forward_runs_to_the_verdict_and_publishes_it():
    driver, timeline, published = driver_for(DEFAULT)
    assert driver.run(FastForward(), cancelled=lambda: False)
    assert timeline.sim.verdict is not None
    assert published[-1].verdict == timeline.sim.verdict


def test_publishing_is_bounded_by_the_frame_rate():
    clock = FakeClock()
    driver, timeline, published = driver_for(LONG, clock, frame_s=1 / 16)
    job = Ticking(clock)
    assert not driver.run(job, cancelled=lambda: job.slices >= 100)
    assert len(published) == 25  # a frame per 1/16 s; 100 slices of 1/64 s each
    steps = [snapshot.step for snapshot in published]
    assert steps == sorted(steps) and steps[-1] > 0


def test_paced_run_keeps_to_its_speed():
    clock = FakeClock()
    driver, timeline, _ = driver_for(LONG, clock)
    driver.run(PacedRun(lambda: 1024, clock=clock), cancelled=lambda: clock.now > 0.5)
    assert timeline.step_count == 512  # 1024 steps a second for half a second, exactly


def test_paced_run_never_banks_a_stall():
    clock = FakeClock()
    driver, timeline, _ = driver_for(LONG, clock)
    job = PacedRun(lambda: 100, clock=clock)
    clock.advance(10.0)  # the worker was held up for ten seconds...
    job.steps_due(clock())
    assert job.steps_due(clock()) == 20  # ...it catches up a fifth of a second, not 1000 steps


def test_go_to_moves_backwards_and_forwards():
    driver, timeline, published = driver_for(DEFAULT)
    assert driver.run(GoTo(500), cancelled=lambda: False)
    assert timeline.step_count == 500 and published[-1].step == 500
    assert driver.run(GoTo(120), cancelled=lambda: False)
    assert timeline.step_count == 120


def test_fast_forward_stops_on_the_step_a_breakpoint_starts_to_hold():
    driver, timeline, published = driver_for(DEFAULT)
    vm = timeline.sim.snapshot().vmstats
    job = FastForward(Watch((parse("free+cache < v_free_min", vmstats=vm),), timeline.sim.k))
    assert driver.run(job, cancelled=lambda: False)
    assert job.hit is not None and timeline.sim.verdict is None
    here = timeline.sim.snapshot()
    assert here.queues["free"] + here.queues["cache"] < vm["v_free_min"]
    timeline.back(1)
    before = timeline.sim.snapshot()
    assert before.queues["free"] + before.queues["cache"] >= vm["v_free_min"]
    assert published[-1].step == here.step


def test_a_breakpoint_that_already_holds_waits_for_the_next_time():
    driver, timeline, _ = driver_for(DEFAULT)
    names = tuple(t.name for t in timeline.sim.snapshot().threads)
    watch = Watch((parse("any in vm_pageout_thread", names),), timeline.sim.k)  # always on a pager's stack
    assert not driver.run(FastForward(watch), cancelled=lambda: timeline.step_count >= 2000)
    assert timeline.step_count >= 2000  # it never fired


def test_run_thread_runs_only_that_thread_until_it_blocks():
    driver, timeline, _ = driver_for(DEFAULT)
    timeline.run(max_steps=1600)  # the processes are faulting; the pagedaemon is about to be woken
    twin = timeline.sim.clone()
    hog = next(t.tid for t in timeline.sim.snapshot().threads if t.name == "hog")
    job = RunThread(hog)
    assert driver.run(job, cancelled=lambda: False)
    assert job.reason in ("blocked", "done") and job.steps > 0
    for _ in range(job.steps):  # the same steps, each forced to hog (the clock when it must)
        twin.step(hog if hog in twin.runnable() else None, exact=True)
    assert twin.step_count == timeline.step_count and twin.state_hash() == timeline.sim.state_hash()
    if job.reason == "blocked":
        assert hog not in timeline.sim.runnable()


def test_fast_forward_stops_where_a_pagers_allocation_comes_within_a_margin():
    """margin < N: the hazard report's margin (core/hazard.open_margin), checked after every step."""
    from ztui.core.hazard import open_margin

    driver, timeline, _ = driver_for(DEFAULT)
    job = FastForward(Watch((parse("margin < 5"),), timeline.sim.k))
    assert driver.run(job, cancelled=lambda: False)
    assert job.hit is not None and open_margin(timeline.sim.k) < 5
    timeline.back(1)
    before = open_margin(timeline.sim.k)
    assert before is None or before >= 5
