"""`ztui robust`: each quantity moved alone, the interval where the verdict holds."""

import json

from click.testing import CliRunner

from ztui.cli import main
from ztui.robust import Variant, holding, numeric_fields, replace, robust, scaled
from ztui.scenario.bundled import resolve_scenario
from ztui.scenario.load import load_scenario
from ztui.scenario.model import Size


def test_the_quantities_moved_are_the_machines_and_the_workloads():
    scenario = load_scenario(resolve_scenario("teach-swapmeta-kmalloc-obj"))
    keys = [key for _, key, _ in numeric_fields(scenario)]
    assert "machine.physmem" in keys and "process[hog].phases[1].pages" in keys
    assert not any(key.startswith(("run.", "expect.", "interrupt.")) for key in keys), "method, and an unused NIC"
    assert "machine.hz" not in keys and "machine.ncpus" not in keys


def test_sizes_scale_to_whole_pages_and_replace_reaches_nested_fields():
    assert scaled(Size(10 * 4096), 0.875) == 9 * 4096
    scenario = load_scenario(resolve_scenario("teach-swapmeta-kmalloc-obj"))
    path = next(p for p, key, _ in numeric_fields(scenario) if key == "process[builder].phases[0].pages")
    changed = replace(scenario, path, Size(4096))
    assert changed.process[1].phases[0].pages == 4096 and scenario.process[1].phases[0].pages != 4096


def test_holding_is_the_interval_around_one_where_the_verdict_stays():
    variants = [Variant(f, "", v) for f, v in ((0.75, "ok"), (0.875, "livelock"), (1.125, "livelock"), (1.25, "livelock"))]
    assert holding(variants, "livelock") == (0.875, 1.25)
    variants[2] = Variant(1.125, "", "ok")
    assert holding(variants, "livelock") == (0.875, 1.0), "stops at the first change going out"


def test_robust_reports_a_fragile_parameter():
    scenario = load_scenario(resolve_scenario("teach-swapmeta-kmalloc-obj"))
    result = robust(scenario, factors=(0.5, 2.0))
    assert result.verdict == "livelock"
    physmem = next(p for p in result.parameters if p.key == "machine.physmem")
    assert physmem.variants[1].value == "16m" and physmem.variants[1].verdict != "livelock"
    assert not physmem.robust()


def test_the_command_prints_json_and_exits_1_when_something_moves_the_verdict():
    result = CliRunner().invoke(main, ["robust", "teach-swapmeta-kmalloc-obj", "--factors", "0.5,2", "--jobs", "1", "--json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.output)
    assert doc["verdict"] == "livelock" and doc["parameters"][0]["key"] == "machine.physmem"


def test_bad_factors_are_one_line_and_exit_2():
    result = CliRunner().invoke(main, ["robust", "teach-swapmeta-kmalloc-obj", "--factors", "1,x"])
    assert result.exit_code == 2 and "Traceback" not in result.output
