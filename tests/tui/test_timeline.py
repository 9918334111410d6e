"""Time travel: checkpoints plus deterministic replay give back the exact earlier state."""

from __future__ import annotations

from ztui.core.simulator import Simulator
from ztui.scenario.load import load_scenario
from ztui.tui.timeline import Timeline

from tui_support import DEFAULT


def fresh_sim() -> Simulator:
    return Simulator.from_scenario(load_scenario(DEFAULT))


def test_step_back_restores_the_exact_previous_state():
    timeline = Timeline(fresh_sim(), replay_budget_s=0.001)
    seen = []
    for _ in range(40):  # single kernel steps
        timeline.step()
        seen.append((timeline.step_count, timeline.sim.state_hash()))
    for _ in range(5):
        timeline.step_back()
    here = timeline.step_count
    assert here == seen[-1][0] - 5
    twin = fresh_sim()
    twin.run(max_steps=here)
    assert timeline.sim.state_hash() == twin.state_hash()
    timeline.go_to(seen[-3][0])
    assert (timeline.step_count, timeline.sim.state_hash()) == seen[-3]


def test_go_to_replays_the_users_scheduling_choices():
    timeline = Timeline(fresh_sim(), replay_budget_s=1.0)  # only the start is a checkpoint
    while len(timeline.sim.runnable()) < 2:
        timeline.step()
    chosen = next(t for t in timeline.sim.runnable() if t != timeline.sim.next_tid())
    timeline.step(chosen)
    timeline.advance(30)
    target, expected = timeline.step_count, timeline.sim.state_hash()
    timeline.go_to(5)
    assert timeline.step_count == 5
    timeline.go_to(target)
    assert timeline.sim.state_hash() == expected

    scheduler_only = fresh_sim()
    scheduler_only.run(max_steps=target)
    assert scheduler_only.state_hash() != expected, "the choice made no difference: a weak test"


def test_going_back_keeps_the_future_until_the_user_forces_another_thread():
    timeline = Timeline(fresh_sim(), replay_budget_s=0.0)
    for _ in range(3):
        timeline.step()
    here = timeline.step_count
    forced = next(t for t in timeline.sim.runnable() if t != timeline.sim.next_tid())
    timeline.step(forced)
    timeline.advance(20)
    end, end_hash = timeline.step_count, timeline.sim.state_hash()

    timeline.go_to(here)
    timeline.advance(end - here)  # forward again: the recorded choice is followed
    assert (timeline.step_count, timeline.sim.state_hash()) == (end, end_hash)

    timeline.go_to(here)
    other = next(t for t in timeline.sim.runnable() if t != forced)
    timeline.step(other)  # a different choice: the old future is gone
    assert all(step <= here for step in timeline.checkpoint_steps)
    twin = fresh_sim()
    for _ in range(3):
        twin.step(exact=True)
    twin.step(other, exact=True)
    assert timeline.sim.state_hash() == twin.state_hash()

def test_checkpoints_stay_bounded_and_keep_the_start():
    ticks = iter(range(10**9))
    # Each clock reading is a second later: every step "costs" 1 s, so checkpoints come often.
    timeline = Timeline(fresh_sim(), replay_budget_s=0.0, capacity=4, clock=lambda: float(next(ticks)))
    for _ in range(200):
        timeline.step()
    steps = timeline.checkpoint_steps
    assert len(steps) <= 4
    assert steps[0] == 0 and steps[-1] > steps[-2] > 0
    assert list(steps) == sorted(steps)
    target = steps[1] + 1
    timeline.go_to(target)
    assert timeline.step_count == target
