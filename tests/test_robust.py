"""`ztui robust`: each quantity moved alone, the interval where the verdict holds."""

import json

from click.testing import CliRunner

from ztui.cli import main
from ztui.robust import Variant, chosen_fields, holding, numeric_fields, replace, robust, scaled, written
from ztui.scenario.bundled import resolve_scenario
from ztui.scenario.load import load_scenario
from ztui.scenario.model import PageAmount, Size


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


def test_only_moves_the_quantities_its_globs_match():
    """Brackets and dots in keys are literal; `*` is the one wildcard."""
    scenario = load_scenario(resolve_scenario("swapmeta-kmalloc-obj-storm"))
    keys = [key for _, key, _ in chosen_fields(scenario, ("process[p1].*", "machine.swap"))]
    assert keys == ["machine.swap", "process[p1].phases[0].pages", "process[p1].phases[1].pages"]
    assert [key for _, key, _ in chosen_fields(scenario, ())] == [key for _, key, _ in numeric_fields(scenario)]


def test_a_glob_that_matches_nothing_is_one_line_and_exit_2():
    result = CliRunner().invoke(main, ["robust", "teach-swapmeta-kmalloc-obj", "--only", "process[nobody].*"])
    assert result.exit_code == 2
    assert result.output.strip() == "--only 'process[nobody].*': matches no quantity of teach-swapmeta-kmalloc-obj (--list shows them)"


def test_list_prints_each_quantity_as_a_file_writes_it_and_runs_nothing():
    result = CliRunner().invoke(main, ["robust", "teach-swapmeta-kmalloc-obj", "--list"])
    assert result.exit_code == 0
    assert "machine.physmem = 8m" in result.output.splitlines()


def test_an_object_size_scales_in_bytes_and_a_memory_size_in_whole_pages():
    """Rounding the seed's 160-byte namecache entry to whole pages made a 4 KiB object and a false livelock."""
    assert scaled(Size(160), 0.75) == 120 and written(Size(120)) == "120 bytes"
    assert scaled(Size(6 * 4096), 1.1) == 7 * 4096 and written(Size(7 * 4096)) == "7 pages"
    assert scaled(PageAmount(64 << 20), 1.25) == 80 << 20 and written(PageAmount(80 << 20)) == "80m"
