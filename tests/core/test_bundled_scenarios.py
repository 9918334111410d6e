"""Every bundled scenario ends with the verdict its author expects.

The verdicts come from the model's mechanics: nothing in the core knows
any scenario by name.
"""

from pathlib import Path

import pytest

from ztui.core.simulator import Simulator
from ztui.report_json import expectation_met
from ztui.scenario.load import load_scenario

SCENARIOS = sorted((Path(__file__).parents[2] / "ztui" / "scenarios").glob("*.toml"))


def test_the_bundle_has_the_scenarios_the_issues_ask_for():
    names = {p.stem for p in SCENARIOS}
    assert {
        "seed-2g-chrome-buildkernel",
        "swapmeta-kmalloc-obj-churn",
        "swapmeta-kmalloc-obj-storm",
        "swapmeta-zalloc-storm",
        "mapentry-kmalloc-obj",
        "teach-swapmeta-kmalloc-obj",
        "teach-swapmeta-zalloc",
    } <= names
    mitigated = {load_scenario(p).allocators.mitigations for p in SCENARIOS if p.stem.startswith("swapmeta-kmalloc-obj-")}
    assert len(mitigated - {()}) >= 3, "at least three mitigations, each on its own scenario"


# Each mitigation's mechanism, seen acting in the run (not only the verdict it leads to).
MECHANISM = {
    "pass-reserve-flags": lambda snap: any("INTERRUPT" in h.page_class for h in snap.verdict.hazards),
    "no-hold-and-wait": lambda snap: any(h.outcome == "gave up (no-hold-and-wait)" for h in snap.verdict.hazards),
    "reserved-slab": lambda snap: any(h.outcome == "the reserved slab stood in" for h in snap.verdict.hazards),
    "pageout-reserve": lambda snap: snap.pagedaemon["pageout_reserve_taken"] > 0,
    "nowait-reserve": lambda snap: snap.swapmeta.state["reserve_taken"] > 0,
    "slab-kreserve": lambda snap: snap.verdict.kind != "recursion",  # mapentry-kmalloc-obj's recursion, broken
}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_bundled_scenario_reaches_its_expected_verdict(path):
    scenario = load_scenario(path)
    assert scenario.expect.verdict is not None, "every bundled scenario states what it expects"
    assert Path(path).read_text().startswith("#"), "every bundled scenario opens with a comment block"
    sim = Simulator.from_scenario(scenario, log=bool(scenario.allocators.mitigations))  # hazards for MECHANISM
    verdict = sim.run()
    assert verdict.kind == scenario.expect.verdict.value, verdict.headline
    snap = sim.snapshot(events=0)
    assert expectation_met(snap, scenario), f"expected events {scenario.expect.events}"
    for mitigation in scenario.allocators.mitigations:
        assert MECHANISM[mitigation.value](snap), f"{mitigation.value} never acted"


def test_teaching_scenarios_reach_their_verdict_within_a_blink_of_the_tuis_run():
    """Teaching scenarios are small: 50,000 steps is well under a second of the TUI's run, no fast-forward needed."""
    for path in SCENARIOS:
        if path.stem.startswith("teach-"):
            sim = Simulator.from_scenario(load_scenario(path), log=False)
            sim.run()
            assert sim.step_count < 50_000, (path.stem, sim.step_count)
