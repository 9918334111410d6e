"""Issue 10, class 9: the timeline and the exhaustive search stay within a memory budget, and say what happens there."""

import gc

import attrs
from click.testing import CliRunner
from search_data import DATA, KMALLOC

import ztui.core.timeline as timeline_module
from ztui.cli import main
from ztui.core.simulator import Simulator
from ztui.core.timeline import CHECKPOINT_SHARE, FORCED_CHOICE_BYTES, Timeline
from ztui.explore.exhaustive import explore_exhaustive
from ztui.memory import clone_cost, marginal_size
from ztui.scenario.model import Scheduler

RANDOM = attrs.evolve(KMALLOC, run=attrs.evolve(KMALLOC.run, scheduler=Scheduler.RANDOM))


def fresh(scenario=KMALLOC) -> Simulator:
    return Simulator.from_scenario(scenario, seed=11)


def reference_hash(scenario, steps: int) -> str:
    sim = Simulator.from_scenario(scenario, seed=11)
    sim.run(max_steps=steps)
    return sim.state_hash()


def test_marginal_size_counts_what_a_copy_does_not_share():
    sim = fresh()
    twin = sim.clone()
    assert 0 < marginal_size(twin, sim) < marginal_size(twin, ())  # less than with nothing shared
    assert marginal_size(sim, sim) == 0
    # A copy's cost counts what it shares with its original for now, not the constants all copies share.
    assert marginal_size(twin, sim) < clone_cost(twin) < marginal_size(twin, ())


def test_a_clone_does_not_pay_for_the_step_history_every_clone_shares():
    plain, recording = fresh(), fresh()
    history = recording.record_history()
    plain.run(max_steps=20_000)
    recording.run(max_steps=20_000)
    assert len(history.samples) > 300 and marginal_size(history, ()) > clone_cost(plain) // 10
    assert clone_cost(recording) < clone_cost(plain) * 1.05


def test_a_dropped_clone_of_a_recording_simulator_is_freed_at_once():
    """A thinned checkpoint must go by reference counting: the simulator process collects cycles
    rarely (simserver.GC_THRESHOLDS), so a clone in a reference cycle would outlive the budget."""
    sim = fresh()
    sim.record_history()
    sim.run(max_steps=2000)
    gc.collect()
    gc.disable()
    try:
        sim.clone()
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_checkpoints_stay_within_their_share_of_the_budget_and_jumps_stay_exact():
    budget = 400_000
    timeline = Timeline(fresh(), interval=16, capacity=1000, memory_budget=budget)
    timeline.run(max_steps=3000)
    assert 2 < len(timeline.checkpoint_steps) < 1000  # the budget, not the capacity, thinned them
    assert timeline.memory_estimate <= budget * CHECKPOINT_SHARE
    for target in (2999, 1, 1500, 17):
        timeline.goto(target)
        assert timeline.sim.state_hash() == reference_hash(KMALLOC, target)


def test_checkpoint_costs_follow_the_page_runs_between_rare_measures(monkeypatch):
    """Timeline._cost: a measure when the step count grows eightfold or the runs halve or double, else a scaling."""
    world = {"runs": 100, "measures": 0}

    def measure(clone) -> int:
        world["measures"] += 1
        return 400 * world["runs"]  # the true cost: 400 bytes a run

    monkeypatch.setattr(timeline_module, "clone_cost", measure)
    monkeypatch.setattr(timeline_module, "page_runs", lambda sim: world["runs"])
    timeline = Timeline(fresh(), interval=16, capacity=100_000, memory_budget=1 << 40)
    timeline.run(max_steps=4096)
    # Once each time the step count grows eightfold (0, 16, 128, 1024): not once per checkpoint (257 of them).
    assert world["measures"] == 4

    def next_checkpoint() -> timeline_module.Checkpoint:
        before = len(timeline.checkpoint_steps)
        while len(timeline.checkpoint_steps) == before:
            timeline.step()
        return timeline._checkpoints[-1]

    world["runs"] = 150  # within twice the calibration: scaled, not measured
    measures = world["measures"]
    assert next_checkpoint().bytes == 400 * 100 * 151 // 101 and world["measures"] == measures
    world["runs"] = 1000  # the queues fragment: measured again at once
    assert next_checkpoint().bytes == 400 * 1000 and world["measures"] == measures + 1
    world["runs"] = 400  # and again when they shrink to below half
    assert next_checkpoint().bytes == 400 * 400 and world["measures"] == measures + 2
    assert timeline.memory_estimate == sum(c.bytes for c in timeline._checkpoints)


def test_checkpoints_keep_only_the_events_a_snapshot_shows():
    timeline = Timeline(fresh(), interval=64)
    timeline.run(max_steps=3000)
    end = timeline.sim.snapshot().events
    timeline.goto(100)
    timeline.goto(3000)  # replayed from a checkpoint
    assert timeline.sim.snapshot().events == end


def forced_run(budget: int, choices: int) -> Timeline:
    """A timeline where the caller forces the second runnable thread at every step it can."""
    timeline = Timeline(Simulator.from_scenario(RANDOM, seed=3, log=False), interval=32, memory_budget=budget)
    forced = 0
    while forced < choices and timeline.verdict is None:
        runnable = timeline.sim.runnable()
        if len(runnable) > 1 and runnable[-1] != timeline.sim.next_tid():
            timeline.step(runnable[-1])
            forced += 1
        else:
            timeline.step()
    return timeline


def test_at_the_forced_choices_budget_the_oldest_half_is_forgotten():
    budget = 8 * FORCED_CHOICE_BYTES * 4  # room for 8 forced choices
    timeline = forced_run(budget, 100)
    assert timeline.verdict is not None  # the run forced what it could before its verdict (more than 8)
    assert len(timeline.forced) * FORCED_CHOICE_BYTES <= budget * (1 - CHECKPOINT_SHARE)
    assert timeline.origin > 0 and min(timeline.forced) >= timeline.origin
    end, end_hash = timeline.step_count, timeline.sim.state_hash()
    timeline.goto(0)
    assert timeline.step_count == timeline.origin  # going back stops at the new origin
    timeline.goto(end)
    assert timeline.sim.state_hash() == end_hash  # and the forced path after it is intact


def test_a_search_stops_at_its_memory_budget_and_says_how_to_raise_it():
    result = explore_exhaustive(KMALLOC, 10**9, max_preemptions=None, max_memory=2_000_000)
    assert result.out_of_memory and not result.exhausted and result.verdict is None
    assert result.progress.memory >= 2_000_000
    assert "memory budget of 2000000 bytes" in result.summary() and "--max-memory" in result.summary()
    more = result.progress.distinct + 1000
    unbounded = explore_exhaustive(KMALLOC, 10**9, max_preemptions=None, max_memory=None, max_states=more)
    assert not unbounded.out_of_memory


def test_explore_takes_max_memory():
    scenario = str(DATA / "search-kmalloc-obj.toml")
    args = ["explore", scenario, "--exhaustive", "--max-preemptions", "all", "--max-memory", "2m"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "stopped at the memory budget of 2m" in result.output
    bad = CliRunner().invoke(main, ["explore", "x", "--exhaustive", "--max-memory", "lots"])
    assert bad.exit_code == 2 and "--max-memory" in bad.output
