"""Whatever a scenario file holds, loading it gives a runnable Scenario or one-line problems, never an exception."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ztui.core.simulator import Simulator
from ztui.scenario.load import check_scenario, load_scenario

SECTIONS = {
    "machine": ["physmem", "swap", "ncpus", "hz", "dma_reserved", "kernel_wired", "steps_per_tick"],
    "vm": ["v_free_min", "v_free_reserved", "v_paging_start", "v_paging_target2"],
    "allocators": ["swapmeta", "mapentry", "mitigations", "kmslab_cache", "mapent_boot"],
    "io": ["swap_write_latency", "swap_read_latency"],
    "interrupt": ["rate", "hold", "consumer"],
    "run": ["seed", "scheduler", "max_steps", "max_time", "quantum", "livelock_window"],
    "expect": ["verdict", "events"],
}
PLAUSIBLE = ["8m", "2g", "0", "-4k", "4096 pages", "30s", "10 ticks", "80m/s", "kmalloc_obj", "zalloc",
             "round-robin", "livelock", "oom-kill", "pageout-reserve", "", "hog", "1e9", "m"]

scalars = st.one_of(
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(PLAUSIBLE),
    st.text(max_size=12),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3))


def toml_value(v) -> str:
    """TOML for ints, floats, bools, strings and arrays of them (JSON spells those the same way)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v) if "e" in repr(v) or "." in repr(v) else repr(v) + ".0"
    return json.dumps(v)


@st.composite
def scenario_texts(draw) -> str:
    lines = []
    for section in draw(st.lists(st.sampled_from(sorted(SECTIONS)), unique=True, max_size=5)):
        lines.append(f"[{section}]")
        for key in draw(st.lists(st.sampled_from(SECTIONS[section] + ["bogus"]), unique=True, max_size=4)):
            lines.append(f"{key} = {toml_value(draw(values))}")
    for _ in range(draw(st.integers(0, 2))):
        phases = draw(st.lists(st.fixed_dictionaries({"op": st.sampled_from(["alloc", "churn", "touch", "exit", "nap"]),
                                                      "pages": values}), max_size=3))
        body = ", ".join("{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in p.items()) + "}" for p in phases)
        lines += ["[[process]]", f"name = {toml_value(draw(scalars))}", f"phases = [{body}]"]
    return "\n".join(lines) + "\n"


def assert_problems_or_nothing(problems, path) -> None:
    assert isinstance(problems, list)
    for problem in problems:
        assert problem.startswith(f"{path}: ") and "\n" not in problem and "Traceback" not in problem


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario_texts())
def test_any_mix_of_keys_and_values_gives_problems_not_exceptions(tmp_path, text):
    path = tmp_path / "fuzz.toml"
    path.write_text(text)
    problems = check_scenario(path)
    assert_problems_or_nothing(problems, path)
    if not problems:  # what the loader accepts, the simulator can run
        Simulator.from_scenario(load_scenario(path), log=False).run(max_steps=2000)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_any_bytes_give_problems_not_exceptions(tmp_path, data):
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    assert_problems_or_nothing(check_scenario(path), path)
