"""Time travel: back, forward and goto land on the states a plain run passes through."""

import itertools
import subprocess
import sys

import attrs
import pytest
from search_data import KMALLOC

from ztui.core.simulator import Simulator
from ztui.core.timeline import Timeline
from ztui.scenario.model import Scheduler

RANDOM = attrs.evolve(KMALLOC, run=attrs.evolve(KMALLOC.run, scheduler=Scheduler.RANDOM))


def fresh(scenario=KMALLOC) -> Simulator:
    return Simulator.from_scenario(scenario, seed=11, log=False)


def plain_states(scenario=KMALLOC, steps: int = 2500) -> dict[int, str]:
    """step count -> state hash of each state of a plain run, page by page (no batches)."""
    sim = fresh(scenario)
    states = {0: sim.state_hash()}
    while sim.verdict is None and sim.step_count < steps:
        sim.run(max_steps=1)
        states[sim.step_count] = sim.state_hash()
    return states


@pytest.fixture(scope="module", params=[KMALLOC, RANDOM], ids=["round-robin", "random"])
def scenario_and_states(request):
    return request.param, plain_states(request.param)


def test_goto_equals_a_fresh_run_to_that_step(scenario_and_states):
    scenario, states = scenario_and_states
    timeline = Timeline(fresh(scenario), interval=64, capacity=4)
    timeline.run(max_steps=2500)
    for target in (2400, 0, 1, 63, 64, 65, 700, 1999, 1000, 2500):
        timeline.goto(target)
        reference = fresh(scenario)
        reference.run(max_steps=target)
        assert timeline.step_count == reference.step_count
        assert timeline.sim.state_hash() == reference.state_hash() == states[reference.step_count]


def test_back_goes_back_exactly(scenario_and_states):
    scenario, states = scenario_and_states
    timeline = Timeline(fresh(scenario), interval=128)
    timeline.run(max_steps=2000)
    for n in (1, 1, 7, 300, 1):
        here = timeline.step_count
        timeline.back(n)
        assert timeline.step_count == here - n
        assert timeline.sim.state_hash() == states[here - n]


def forcible(sim: Simulator) -> tuple[int, int]:
    """The first (step, thread) where a thread other than the scheduler's pick can run."""
    while sim.verdict is None:
        for tid in sim.runnable():
            if tid != sim.next_tid():
                return sim.step_count, tid
        sim.step()
    raise AssertionError("no such step")


def test_a_forced_step_is_exactly_one_step_and_back_undoes_it():
    at, tid = forcible(fresh())
    timeline = Timeline(fresh(), interval=64)
    timeline.goto(at)
    before = timeline.sim.state_hash()
    timeline.step(tid)
    assert timeline.step_count == at + 1
    timeline.back(1)
    assert (timeline.step_count, timeline.sim.state_hash()) == (at, before)


def test_back_then_forward_equals_forward_only():
    forward_only = fresh()
    recorded = Timeline(fresh(), interval=100)
    for i in range(400):  # force the last runnable thread now and then, like a user would
        runnable = forward_only.runnable()
        choice = runnable[-1] if i % 3 == 0 and len(runnable) > 1 else None
        forward_only.step(choice, exact=True)
        recorded.step(choice)
    end, end_hash = forward_only.step_count, forward_only.state_hash()
    assert recorded.forced  # some choices differed from the scheduler's
    assert (recorded.step_count, recorded.sim.state_hash()) == (end, end_hash)
    recorded.back(end // 2)
    assert recorded.step_count < end
    recorded.forward(end - recorded.step_count)
    assert (recorded.step_count, recorded.sim.state_hash()) == (end, end_hash)
    recorded.goto(0)
    while recorded.step_count < end:
        recorded.step()  # step() follows the recorded future, forced choices included
    assert recorded.sim.state_hash() == end_hash


def test_forcing_another_thread_drops_the_old_future():
    at, other = forcible(fresh())
    timeline = Timeline(fresh(), interval=50)
    timeline.run(max_steps=at + 1000)
    timeline.goto(at)
    timeline.step(other)
    assert timeline.forced == {at: other}
    assert max(timeline.checkpoint_steps) <= at
    timeline.back(1)
    timeline.step()  # now replays the new choice
    assert timeline.forced == {at: other}


def test_forcing_the_schedulers_pick_is_the_schedulers_step():
    a, b = Timeline(fresh(RANDOM)), fresh(RANDOM)
    for _ in range(300):
        pick = b.next_tid()
        a.step(pick)
        b.step(exact=True)
    assert a.forced == {}
    assert a.sim.state_hash() == b.state_hash()


def test_a_thread_that_cannot_run_is_refused_and_keeps_the_future():
    timeline = Timeline(fresh(), interval=50)
    timeline.run(max_steps=600)
    timeline.goto(500)
    sleeping = next(t.tid for t in timeline.sim.snapshot(events=0).threads if not t.runnable)
    checkpoints = timeline.checkpoint_steps
    with pytest.raises(ValueError):
        timeline.step(sleeping)
    assert timeline.checkpoint_steps == checkpoints


def test_checkpoints_stay_bounded_and_spread():
    timeline = Timeline(fresh(), interval=16, capacity=8)
    timeline.run(max_steps=5000)
    steps = timeline.checkpoint_steps
    assert 2 <= len(steps) <= 8
    assert steps[0] == 0 and list(steps) == sorted(steps)
    assert timeline.interval > 16
    gaps = [b - a for a, b in itertools.pairwise(steps)]
    assert max(gaps) < 2 * timeline.interval


def test_the_timeline_stops_at_the_verdict_and_goes_back_from_it():
    timeline = Timeline(fresh(), interval=256)
    verdict = timeline.run()
    assert verdict is not None and timeline.verdict is verdict
    end = timeline.step_count
    assert timeline.step() is False
    timeline.back(10)
    assert timeline.verdict is None
    timeline.forward(10**9)
    assert timeline.step_count == end and timeline.verdict.kind == verdict.kind


def test_the_timeline_and_the_search_do_not_import_textual():
    code = (
        "import sys\n"
        "import ztui.core.timeline, ztui.trace, ztui.explore.exhaustive, ztui.explore.seeds, ztui.explore.sweep\n"
        "import ztui.search_cli, ztui.search_bench\n"
        "print(','.join(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
