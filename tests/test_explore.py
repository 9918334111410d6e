"""Exploration: seeds in parallel, exhaustive search, sweeps, and their commands."""

import sys
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from search_data import DATA, KMALLOC, ZALLOC

from ztui.cli import main
from ztui.core.simulator import Simulator
from ztui.explore.executors import ParamError, make_executor
from ztui.explore.exhaustive import _choices, explore_exhaustive
from ztui.explore.schedule_text import describe_schedule
from ztui.explore.seeds import explore_seeds
from ztui.explore.sweep import override, parse_param, sweep
from ztui.scenario.load import load_scenario
from ztui.scenario.model import (
    AllocatorKind,
    MiB,
    Mitigation,
    Phase,
    PhaseOp,
    Process,
    Scheduler,
    Size,
)
from ztui.trace import CLOCK, read_trace, replay

# The shortest schedule (in Simulator.step calls, no preemptions) to the
# livelock in search-kmalloc-obj: the process faults until it blocks, then
# the pageout daemon takes 24 of the 32 pages of a SWAPMETA slab and waits
# for the rest; found by this search, checked by hand in its printout, and
# shown to be the shortest by test_no_shorter_schedule_reaches_it.
SHORTEST_LIVELOCK = 345


@pytest.fixture(scope="module")
def livelock_search():
    return explore_exhaustive(KMALLOC, 5000)


def test_the_search_finds_the_livelock_round_robin_reaches_and_its_shortest_schedule(livelock_search):
    """On 2 MiB the slab (32 pages) is wider than v_free_severe - v_interrupt_free_min (18): every schedule wedges."""
    assert Simulator.from_scenario(KMALLOC, log=False).run().kind == "livelock"
    assert livelock_search.verdict == "livelock"
    assert len(livelock_search.schedule) == SHORTEST_LIVELOCK


def test_the_schedule_found_replays_to_the_livelock(livelock_search, tmp_path):
    sim = Simulator.from_scenario(KMALLOC, log=False)
    for decision in livelock_search.schedule:
        assert sim.verdict is None
        sim.step(None if decision == CLOCK else decision)
    assert sim.verdict.kind == "livelock"
    trace = livelock_search.trace()
    assert trace.verdict == "livelock" and trace.decision_count == SHORTEST_LIVELOCK
    assert replay(trace).ok


def test_no_shorter_schedule_reaches_it(livelock_search):
    shorter = explore_exhaustive(KMALLOC, SHORTEST_LIVELOCK - 1)
    assert shorter.verdict is None and shorter.depth_cut and not shorter.exhausted


def test_a_search_from_a_state_mid_run_finds_the_rest_of_the_schedule_and_leaves_the_state_alone(livelock_search):
    """Rooted at the state after the shortest schedule's first 100 steps, the rest of it is the shortest way on."""
    root = Simulator.from_scenario(KMALLOC, log=False)
    for decision in livelock_search.schedule[:100]:
        root.step(None if decision == CLOCK else decision)
    before = root.state_hash(), root.step_count
    rest = explore_exhaustive(KMALLOC, 5000, root=root)
    assert rest.verdict == "livelock"
    assert len(rest.schedule) == SHORTEST_LIVELOCK - 100
    assert (root.state_hash(), root.step_count) == before


def test_the_zalloc_twin_is_free_of_it_up_to_a_depth():
    result = explore_exhaustive(ZALLOC, SHORTEST_LIVELOCK + 200)
    assert result.verdict is None and result.depth_cut and not result.capped
    assert f"no deadlock, livelock or recursion within {SHORTEST_LIVELOCK + 200} steps" in result.summary()


@pytest.mark.parametrize("preemptions", [0, 1, None])
def test_an_exhausted_space_is_a_proof(preemptions):
    small = attrs.evolve(
        ZALLOC,
        process=(Process("tiny", phases=(Phase(PhaseOp.ALLOC, pages=Size(MiB // 4)), Phase(PhaseOp.EXIT))),),
    )
    result = explore_exhaustive(small, 1000, max_preemptions=preemptions)
    assert result.exhausted and result.verdict is None
    assert "is reachable: all" in result.summary()


def test_the_state_cap_stops_the_search():
    result = explore_exhaustive(ZALLOC, 10**6, max_states=500)
    assert result.capped and not result.exhausted and result.progress.distinct >= 500


def test_preemption_bound_choices():
    assert _choices((), 2, 0, 0) == [(CLOCK, 0)]
    assert _choices((0, 2, 3), 2, 0, 0) == [(2, 0)]  # only the running thread, for free
    assert _choices((0, 2, 3), 2, 0, 1) == [(2, 0), (0, 1), (3, 1)]
    assert _choices((0, 3), 2, 1, 1) == [(0, 1), (3, 1)]  # 2 blocked: a free switch
    assert _choices((0, 2), None, 0, 0) == [(0, 0), (2, 0)]  # after a clock tick: free
    assert _choices((0, 2), 2, 5, None) == [(0, 5), (2, 5)]  # unbounded: switches are not counted


def test_describe_schedule_shows_what_changed(livelock_search):
    lines = describe_schedule(KMALLOC, livelock_search.seed, livelock_search.schedule)
    assert lines[0] == "State 1: <initial> (step 0, tick 0)"
    assert any("vmstats.free = " in line and "(was" in line for line in lines)
    assert any("kmem_slab_alloc[pagedaemon]" in line for line in lines)
    assert lines[-1].strip() and any(line.startswith("Verdict: livelock") for line in lines)
    states = [line for line in lines if line.startswith("State ")]
    assert len(states) < SHORTEST_LIVELOCK  # runs of one thread are grouped


# --- seeds -------------------------------------------------------------------------


def test_seeds_give_the_same_results_with_one_or_two_jobs():
    one = explore_seeds(KMALLOC, range(16), jobs=1)
    two = explore_seeds(KMALLOC, range(16), jobs=2)
    assert one.runs == two.runs
    assert [r.seed for r in one.runs] == list(range(16))
    assert one.scenario.run.scheduler is Scheduler.RANDOM


def test_first_seeds_ranges_and_traces():
    teaching = load_scenario(
        Path(__file__).parents[1] / "ztui" / "scenarios" / "teach-swapmeta-kmalloc-obj.toml"
    )
    result = explore_seeds(teaching, range(10, 30))
    counts = result.counts()
    assert sum(counts.values()) == 20 and counts["livelock"] > 0
    first = result.first_seeds()
    assert first["livelock"] == min(r.seed for r in result.runs if r.verdict == "livelock")
    ranges = result.ranges(4)
    assert [(a, b) for a, b, _ in ranges] == [(10, 14), (15, 19), (20, 24), (25, 29)]
    assert sum((c for _, _, c in ranges), start=type(counts)()) == counts
    for verdict, trace in result.traces.items():
        assert trace.seed == first[verdict] and trace.verdict == verdict
        assert replay(trace).ok


# --- sweeps ------------------------------------------------------------------------


def test_sweep_with_two_jobs_equals_one():
    params = [parse_param("machine.swap=1m,2m"), parse_param("allocators.swapmeta=zalloc,kmalloc_obj")]
    one = sweep(KMALLOC, params, seeds=3, jobs=1)
    two = sweep(KMALLOC, params, seeds=3, jobs=2)
    assert one.points == two.points
    assert len(one.points) == 4 and all(len(p.runs) == 3 for p in one.points)
    assert one.rows()[0].keys() == {"machine.swap", "allocators.swapmeta", "seed", "verdict", "step", "tick"}


def test_override_parses_by_the_fields_type():
    assert override(KMALLOC, "machine.swap", "64m").machine.swap == 64 * MiB
    assert override(KMALLOC, "run.livelock_window", "500ms").run.livelock_window == 500_000
    assert override(KMALLOC, "machine.kernel_wired", "none").machine.kernel_wired is None
    assert override(KMALLOC, "allocators.swapmeta", "zalloc").allocators.swapmeta is AllocatorKind.ZALLOC
    both = override(
        KMALLOC, "allocators.mitigations", "reserved-slab+pass-reserve-flags"
    ).allocators.mitigations
    assert both == (Mitigation.RESERVED_SLAB, Mitigation.PASS_RESERVE_FLAGS)
    assert override(KMALLOC, "machine.ncpus", "2").machine.ncpus == 2


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("machine.swapp", "1m", "no such key in [machine]"),
        ("machin.swap", "1m", "not a scenario key"),
        ("process.name", "x", "not a scenario key"),
        ("machine.swap", "lots", "expected a size"),
        ("allocators.swapmeta", "slab", "expected one of zalloc, kmalloc_obj"),
    ],
)
def test_override_rejects_bad_keys_and_values(key, value, words):
    with pytest.raises(ParamError, match=words.replace("[", r"\[").replace("]", r"\]")):
        override(KMALLOC, key, value)


@pytest.mark.parametrize("text", ["machine.swap", "=1m", "machine.swap=1m,,2m"])
def test_parse_param_rejects_malformed(text):
    with pytest.raises(ParamError):
        parse_param(text)


@pytest.mark.parametrize("kind, module", [("dask", "distributed"), ("ray", "ray")])
def test_missing_extras_are_named(kind, module, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # the extra is absent, installed or not: import raises
    with pytest.raises(ParamError, match=f"pip install 'ztui\\[{kind}\\]'"):
        make_executor(kind)


# --- commands ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli():
    return main  # the real `ztui` group, with the search commands registered


def test_explore_exhaustive_command(cli, tmp_path):
    trace_file = tmp_path / "found.trace.gz"
    result = CliRunner().invoke(
        cli, ["explore", str(DATA / "search-kmalloc-obj.toml"), "--exhaustive", "--trace", str(trace_file)]
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith("State 1: <initial>")
    assert f"livelock reached in {SHORTEST_LIVELOCK} steps" in result.output
    assert read_trace(trace_file).verdict == "livelock"

    result = CliRunner().invoke(
        cli, ["explore", str(DATA / "search-zalloc.toml"), "--exhaustive", "--max-depth", "300"]
    )
    assert result.exit_code == 0 and "no deadlock, livelock or recursion within 300 steps" in result.output


def test_explore_seeds_command(cli, tmp_path):
    result = CliRunner().invoke(
        cli, ["explore", "teach-swapmeta-kmalloc-obj", "--seeds", "12", "--traces", str(tmp_path)]
    )
    assert result.exit_code == 1, result.output  # some seed livelocks
    assert "first livelock: seed" in result.output
    assert any(p.name.endswith(".trace.gz") and "-livelock-seed" in p.name for p in tmp_path.iterdir())


def test_sweep_command_formats(cli):
    args = ["sweep", str(DATA / "search-kmalloc-obj.toml"), "--param", "machine.swap=1m,2m"]
    csv_out = CliRunner().invoke(cli, [*args, "--format", "csv"])
    assert csv_out.exit_code == 0 and csv_out.output.splitlines()[0] == "machine.swap,seed,verdict,step,tick"
    json_out = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert json_out.exit_code == 0 and '"keys": [' in json_out.output
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0 and "verdicts" in table.output


@pytest.mark.parametrize(
    "args",
    [
        ["sweep", str(DATA / "search-kmalloc-obj.toml"), "--param", "machine.swap=1x"],
        ["sweep", str(DATA / "search-kmalloc-obj.toml"), "--param", "nope"],
        ["explore", str(DATA / "search-kmalloc-obj.toml"), "--exhaustive", "--livelock-window", "soon"],
        ["explore", "no-such-scenario", "--seeds", "3"],
        ["explore", str(DATA / "search-kmalloc-obj.toml"), "--exhaustive", "--max-preemptions", "few"],
        ["explore", str(DATA / "search-kmalloc-obj.toml")],
    ],
)
def test_bad_input_exits_2_without_a_traceback(cli, args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output and not isinstance(
        result.exception, (ValueError, TypeError, KeyError)
    )


def test_a_sweep_refuses_a_grid_point_that_ztui_check_would_refuse():
    with pytest.raises(ParamError, match=r"machine\.physmem=512k: machine\.physmem: found 512k"):
        sweep(KMALLOC, [("machine.physmem", ("8m", "512k"))], seeds=1)


def test_tables_show_ok_and_only_the_verdicts_that_occur():
    from collections import Counter

    from ztui.explore.runs import shown_verdicts

    assert shown_verdicts(Counter()) == ("ok",)
    assert shown_verdicts(Counter({"limit": 1, "livelock": 2})) == ("ok", "livelock", "limit")
