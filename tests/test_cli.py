"""The `ztui` command line: exit codes, messages, and no tracebacks."""

import json
import subprocess
import sys
import textwrap
import types

import attrs
import pytest
from click.testing import CliRunner

from ztui import __version__
from ztui.cli import main
from ztui.scenario import bundled

GOOD = """\
# A small machine for the tests.
[machine]
physmem = "4m"
swap = "4m"

[[process]]
name = "hog"
phases = [{op = "alloc", pages = "1m"}, {op = "exit"}]
"""

# For --pages 524288, from vm_pageout_free_page_calc() and vm_pageout_thread().
THRESHOLDS_2G = {
    "v_free_min": 2685,
    "v_free_reserved": 1349,
    "v_free_severe": 1342,
    "v_pageout_free_min": 678,
    "v_interrupt_free_min": 342,
    "v_free_target": 5370,
    "v_paging_wait": 5370,
    "v_paging_start": 8055,
    "v_paging_target1": 10740,
    "v_paging_target2": 13425,
}


def invoke(*args):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output == f"ztui, version {__version__}\n"


@pytest.mark.parametrize("command", [[], ["check"], ["list"], ["vmstats"], ["run"], ["launch"]])
def test_every_command_has_help_with_examples(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert "  ztui " in result.output


def test_importing_the_cli_does_not_import_textual():
    code = "import sys, ztui.cli; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# --- check ------------------------------------------------------------------------


def test_check_good_file(tmp_path):
    path = write(tmp_path, "good.toml", GOOD)
    result = invoke("check", str(path))
    assert result.exit_code == 0
    assert result.output == f"{path}: OK (physmem 4m, swap 4m, SWAPMETA zalloc, MAP ENTRY zalloc, 1 process)\n"


def test_check_says_which_vm_overrides_a_running_kernel_takes_by_sysctl(tmp_path):
    path = write(tmp_path, "tuned.toml", GOOD + "[vm]\nv_free_min = 80\nvm_max_launder = 64\nv_interrupt_free_min = 20\n")
    result = invoke("check", str(path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()[1:]
    assert lines == [
        "  [vm] v_free_min = 80: `sysctl vm.v_free_min=80` on a running kernel",
        "  [vm] v_interrupt_free_min = 20: a what-if; read-only (vm.stats.vm.v_interrupt_free_min, CTLFLAG_RD,"
        " vm_meter.c:418), so it needs a kernel change",
        "  [vm] vm_max_launder = 64: `sysctl vm.max_launder=64` on a running kernel",
    ]


def test_every_vm_override_is_classified():
    from ztui.scenario.model import Vm
    from ztui.scenario.sysctls import READ_WRITE, REBUILD

    assert set(attrs.fields_dict(Vm)) == set(READ_WRITE) | set(REBUILD) and not set(READ_WRITE) & set(REBUILD)


def test_check_reports_every_problem_in_every_file(tmp_path):
    good = write(tmp_path, "good.toml", GOOD)
    typo = write(tmp_path, "typo.toml", GOOD.replace("physmem", "physmen").replace('"alloc"', '"aloc"'))
    empty = write(tmp_path, "empty.toml", "")
    syntax = write(tmp_path, "syntax.toml", "[machine\n")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(256)))
    missing = tmp_path / "missing.toml"
    result = invoke("check", str(good), str(typo), str(empty), str(syntax), str(binary), str(missing), str(tmp_path))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{good}: OK")
    assert lines[1].startswith(f'{typo}: machine.physmen: unknown key (did you mean "physmem"?)')
    assert lines[2].startswith(f'{typo}: process[0].phases[0].op: found "aloc"; one of "alloc", "read"')
    assert lines[3].startswith(f"{empty}: empty file")
    assert lines[4].startswith(f"{syntax}: TOML syntax error: ")
    assert "(at line 1, column 9)" in lines[4]
    assert lines[5].startswith(f"{binary}: binary data")
    assert lines[6] == f"{missing}: no such file or bundled scenario; see `ztui list`"
    assert lines[7] == f"{tmp_path}: is a directory, not a scenario file"
    assert len(lines) == 8


def test_check_needs_a_file():
    result = invoke("check")
    assert result.exit_code == 2
    assert "Missing argument 'SCENARIO...'" in result.output


# --- list and bundled names ----------------------------------------------------------


@pytest.fixture
def scenario_dir(tmp_path, monkeypatch):
    directory = tmp_path / "scenarios"
    directory.mkdir()
    write(directory, "small-one.toml", GOOD)
    write(directory, "broken.toml", "[machine]\nncpus = 0\n")
    monkeypatch.setattr(bundled, "SCENARIO_DIR", directory)
    return directory


def test_list_gives_one_line_per_bundled_scenario(scenario_dir):
    result = invoke("list")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "broken     (has problems: run `ztui check` on it)",
        "small-one  A small machine for the tests.",
    ]


def test_bundled_name_works_as_a_scenario_argument(scenario_dir):
    result = invoke("check", "small-one")
    assert result.exit_code == 0
    assert result.output.startswith(f"{scenario_dir / 'small-one.toml'}: OK")


def test_misspelt_bundled_name_suggests_the_nearest(scenario_dir):
    result = invoke("check", "smal-one")
    assert result.exit_code == 2
    assert result.output == 'smal-one: no such file or bundled scenario; did you mean "small-one"? see `ztui list`\n'


def test_default_scenario_is_the_teaching_one():
    path = bundled.default_scenario_path()
    assert path.name == "teach-swapmeta-kmalloc-obj.toml"
    assert path.parent == bundled.SCENARIO_DIR


# --- vmstats -------------------------------------------------------------------------------


def test_vmstats_json_for_2g_matches_the_kernel():
    result = invoke("vmstats", "--pages", "524288", "--json")
    assert result.exit_code == 0
    values = json.loads(result.output)
    assert {name: values[name] for name in THRESHOLDS_2G} == THRESHOLDS_2G
    assert values["v_page_count"] == 524288


def test_vmstats_prints_like_sysctl():
    result = invoke("vmstats", "--physmem", "2g")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    for name, value in THRESHOLDS_2G.items():
        prefix = "vm.stats.vm" if name == "v_interrupt_free_min" else "vm"
        assert f"{prefix}.{name}: {value}" in lines
    assert "vm.stats.vm.v_page_count: 524288" in lines


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give exactly one of --pages and --physmem"),
        (["--pages", "1", "--physmem", "2g"], "give exactly one of --pages and --physmem"),
        (["--pages", "0"], "Invalid value for '--pages'"),
        (["--physmem", "2 gigs"], "'2 gigs': expected a size: \"2g\", \"512m\""),
        (["--physmem", "-2g"], "a size cannot be negative"),
        (["--physmem", "100"], "100 bytes is less than one page"),
    ],
)
def test_vmstats_bad_input(args, message):
    result = invoke("vmstats", *args)
    assert result.exit_code == 2
    assert message in result.output


# --- launch ---------------------------------------------------------------------------------


@pytest.fixture
def fake_app(monkeypatch):
    """Stands in for ztui.tui.app and records how it was called."""
    calls = []
    module = types.ModuleType("ztui.tui.app")
    module.run_app = lambda *args: calls.append(args) or 0
    monkeypatch.setitem(sys.modules, "ztui.tui.app", module)
    return calls


def test_launch_passes_the_scenario_to_the_app(tmp_path, fake_app):
    path = write(tmp_path, "good.toml", GOOD)
    trace = tmp_path / "in.trace"
    trace.write_text("{}")  # the app reads it; the CLI only checks it exists
    result = invoke("launch", str(path), "--seed", "3", "--theme", "ztui-light", "--trace", str(trace))
    assert result.exit_code == 0
    assert fake_app == [(path, 3, "ztui-light", trace)]


def test_launch_refuses_a_missing_trace(tmp_path, fake_app):
    result = invoke("launch", "--trace", str(tmp_path / "none.trace"))
    assert result.exit_code == 2 and "does not exist" in result.output
    assert fake_app == []


def test_launch_without_a_scenario_leaves_the_choice_to_the_app(fake_app):
    assert invoke("launch").exit_code == 0
    assert fake_app == [(None, None, None, None)]


def test_launch_refuses_a_bad_scenario_before_starting_the_app(tmp_path, fake_app):
    path = write(tmp_path, "bad.toml", GOOD.replace('"4m"', '"4x"', 1))
    result = invoke("launch", str(path))
    assert result.exit_code == 2
    assert result.output.startswith(f'{path}: machine.physmem: found "4x"; expected a size')
    assert fake_app == []


# --- run --------------------------------------------------------------------------------------

# The teaching case, inline: two processes fill 8 MiB while SWAPMETA is on
# kmalloc_obj; the pagedaemon ends up holding part of a 32-page slab.
WEDGED = """\
[machine]
physmem = "8m"
swap = "8m"

[allocators]
swapmeta = "kmalloc_obj"

[[process]]
name = "hog"
phases = [{op = "alloc", pages = "5m"}, {op = "churn", pages = "4m"}, {op = "exit"}]

[[process]]
name = "builder"
phases = [{op = "alloc", pages = "4m"}, {op = "exit"}]

[run]
livelock_window = "10s"
"""


def test_run_json_is_one_object_with_the_documented_keys(tmp_path):
    path = write(tmp_path, "wedged.toml", WEDGED + '[expect]\nverdict = "livelock"\n')
    result = invoke("run", str(path), "--json")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["verdict"] == "livelock"
    assert report["scenario"] == "wedged"
    assert report["seed"] == 0
    assert report["expect"] == {"verdict": "livelock", "events": [], "met": True}
    assert report["step"] > 0
    assert report["sim_time_s"] == report["tick"] / 100
    assert report["explanation"] and all(isinstance(line, str) for line in report["explanation"])
    assert report["vmstats"]["v_free_min"] == 74  # 8 MiB: 2048 pages
    assert report["vmstats"]["v_free_count"] >= 0
    assert report["allocators"]["SWAPMETA"]["kind"] == "kmalloc_obj"
    assert report["allocators"]["SWAPMETA"]["geometry"]["objects_per_slab"] == 398
    assert report["allocators"]["MAP ENTRY"]["kind"] == "zalloc"
    names = [thread["name"] for thread in report["threads"]]
    assert {"pagedaemon", "hog", "builder"} <= set(names)
    assert set(report["threads"][0]) >= {"name", "state", "wchan", "wmesg", "function"}
    assert report["events"][-1]["subsystem"] == "verdict"


@pytest.mark.parametrize("scenario, args, count", [
    ("teach-swapmeta-zalloc", ["--events", "5"], 5),
    ("teach-swapmeta-zalloc", ["--events", "0"], 0),
    ("swapmeta-kmalloc-obj-churn", [], 200),  # the documented default
    ("swapmeta-kmalloc-obj-churn", ["--events", "5000"], None),  # every event the run logged
])
def test_run_json_events_are_capped_as_documented_and_settable(scenario, args, count):
    from ztui.core.simulator import Simulator
    from ztui.scenario.load import load_scenario

    result = invoke("run", scenario, "--json", *args)
    assert result.exit_code == 0
    events = json.loads(result.output)["events"]
    if count is None:
        sim = Simulator.from_scenario(load_scenario(bundled.SCENARIO_DIR / f"{scenario}.toml"))
        sim.run()
        count = len(sim.events)
        assert 200 < count < 5000
    assert len(events) == count


def test_run_json_events_beyond_the_simulator_log_are_refused():
    result = invoke("run", "teach-swapmeta-zalloc", "--json", "--events", "5001")
    assert result.exit_code == 2 and "--events" in result.output


def test_run_progress_measures_the_workload(tmp_path, monkeypatch):
    """The bar stands at the share of the workload done; a livelock leaves it short of the end."""
    from rich.console import Console

    from ztui.commands import run as cli
    from ztui.core.simulator import Simulator
    from ztui.core.views import workload_view
    from ztui.scenario.load import load_scenario

    bar = tmp_path / "bar.txt"
    monkeypatch.setattr(cli, "console", lambda stderr=False: Console(file=bar.open("w"), force_terminal=True, width=200))
    monkeypatch.setattr(cli, "PROGRESS_CHUNK", 500)
    shown = []
    work_done = cli._work_done
    monkeypatch.setattr(cli, "_work_done", lambda sim: shown.append(work_done(sim)) or shown[-1])
    scenario = load_scenario(bundled.SCENARIO_DIR / "teach-swapmeta-kmalloc-obj.toml")
    sim = Simulator.from_scenario(scenario)
    cli._advance_to_verdict(sim, scenario, True, lambda n: sim.run(max_steps=n))
    end = workload_view(sim.k)
    assert sim.verdict.kind == "livelock" and 0 < end.fraction < 1
    assert len(shown) == -(-sim.step_count // 500)  # one update per chunk
    assert shown[-1] == f"phases {end.phases_done}/{end.phases_total}, pages {end.pages_done:,}/{end.pages_total:,}"
    assert "% of the workload" in bar.read_text()


def test_run_exits_1_when_the_verdict_is_not_the_expected_one(tmp_path):
    path = write(tmp_path, "wedged.toml", WEDGED + '[expect]\nverdict = "ok"\n')
    result = invoke("run", str(path), "--quiet")
    assert result.exit_code == 1
    assert result.output.startswith("LIVELOCK  step ")
    assert result.output.rstrip().endswith("expected ok")


def test_run_without_expect_exits_0_and_explains(tmp_path):
    result = invoke("run", str(write(tmp_path, "wedged.toml", WEDGED)))
    assert result.exit_code == 0
    assert "LIVELOCK" in result.output
    assert "Why:" in result.output
    assert "kmem_slab_alloc" in result.output
    assert "v_interrupt_free_min" in result.output  # the thresholds table


def test_run_limits_and_seed_from_the_command_line(tmp_path):
    path = write(tmp_path, "wedged.toml", WEDGED + '[expect]\nverdict = "livelock"\n')
    result = invoke("run", str(path), "--json", "--max-steps", "100", "--seed", "9")
    assert result.exit_code == 1  # stopped before the livelock could form
    report = json.loads(result.output)
    assert report["verdict"] == "limit" and report["headline"].startswith("limit: the run stopped at its limit")
    assert 100 <= report["step"] < 1000
    assert report["seed"] == 9


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-time", "5x"], "Invalid value for --max-time: '5x': expected a duration"),
        (["--max-steps", "0"], "Invalid value for '--max-steps'"),
        (["--seed", "x"], "Invalid value for '--seed'"),
    ],
)
def test_run_bad_options(tmp_path, args, message):
    result = invoke("run", str(write(tmp_path, "wedged.toml", WEDGED)), *args)
    assert result.exit_code == 2
    assert message in result.output


def test_run_bad_scenario(tmp_path):
    path = write(tmp_path, "bad.toml", WEDGED.replace('"kmalloc_obj"', '"slab"'))
    result = invoke("run", str(path))
    assert result.exit_code == 2
    assert result.output == f'{path}: allocators.swapmeta: found "slab"; one of "zalloc", "kmalloc_obj"\n'
