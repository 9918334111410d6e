"""Fuzzing every input format: whatever a trace, a keymap, a theme or a gzip stream holds,
reading it gives the thing or one line of problem, never an exception, a hang or a huge allocation."""

import copy
import functools
import gzip
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_data import KMALLOC

from ztui.core.simulator import Simulator
from ztui.input_files import TRACE, InputError, read_bytes
from ztui.trace import TraceError, read_trace, record, replay
from ztui.trace.format import _digest, _to_document
from ztui.tui.keymap import load_keymap
from ztui.tui.themes import ThemeFileError, load_theme

FIXTURE = [HealthCheck.function_scoped_fixture]
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)

@functools.cache
def _document() -> dict:
    return _to_document(record(Simulator.from_scenario(KMALLOC, log=False), max_steps=300, hash_every=64))


def document() -> dict:
    """A real trace's JSON document, fresh for each edit."""
    return copy.deepcopy(_document())


def paths(doc, prefix=()):
    """Every key path in a JSON document."""
    yield prefix
    children = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, child in children:
        yield from paths(child, (*prefix, key))


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURE)
@given(st.data())
def test_any_edit_of_a_trace_reads_or_gives_one_line(tmp_path, data):
    doc = document()
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(list(paths(doc))[1:]))
        parent = doc
        for key in where[:-1]:
            parent = parent[key]
        parent[where[-1]] = data.draw(json_values)
    if data.draw(st.booleans()):  # recompute the checksum, as an attacker would
        if isinstance(doc.get("scenario"), dict):
            doc["scenario_sha256"] = _digest(doc["scenario"])
    path = tmp_path / "fuzz.trace"
    path.write_text(json.dumps(doc))
    try:
        trace = read_trace(path)
    except TraceError as error:
        assert "\n" not in str(error) and str(error).startswith(str(path))
        return
    replay(trace)  # what reads, replays (it may diverge, never raise)


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURE)
@given(st.binary(max_size=300), st.booleans())
def test_any_bytes_as_a_trace_give_one_line(tmp_path, data, compressed):
    path = tmp_path / "fuzz.trace"
    path.write_bytes(gzip.compress(data) if compressed else data)
    try:
        read_trace(path)
    except TraceError as error:
        assert "\n" not in str(error)


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURE)
@given(st.binary(max_size=300))
def test_any_gzip_like_bytes_are_read_or_refused(tmp_path, tail):
    path = tmp_path / "fuzz.gz"
    path.write_bytes(b"\x1f\x8b" + tail)
    try:
        assert len(read_bytes(path, TRACE)) <= TRACE.max_bytes
    except InputError as error:
        assert "\n" not in str(error)


toml_keys = st.sampled_from(["keys", "step", "run", "back", "name", "dark", "colors", "variables", "primary", "x"])
toml_scalars = st.one_of(
    st.integers(-5, 5), st.booleans(), st.text(max_size=10), st.sampled_from(["#123456", "red", "ctrl+x,y"])
)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


@st.composite
def config_texts(draw) -> str:
    lines = []
    for key in draw(st.lists(toml_keys, unique=True, max_size=3)):
        lines.append(f"{key} = {toml_value(draw(toml_scalars | st.lists(toml_scalars, max_size=2)))}")
    for table in draw(st.lists(st.sampled_from(["keys", "colors", "variables"]), unique=True, max_size=3)):
        lines.append(f"[{table}]")
        for key in draw(st.lists(toml_keys, unique=True, max_size=3)):
            lines.append(f"{key} = {toml_value(draw(toml_scalars))}")
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=FIXTURE)
@given(st.one_of(config_texts(), st.text(max_size=100)))
def test_any_keymap_or_theme_loads_or_gives_problems(tmp_path, text):
    path = tmp_path / "fuzz.toml"
    path.write_text(text)
    keymap, problems = load_keymap(path)
    assert isinstance(keymap, dict) and all("\n" not in problem for problem in problems)
    try:
        load_theme(path)
    except ThemeFileError as error:
        assert "\n" not in str(error)


def test_the_fuzzed_trace_base_is_a_real_trace(tmp_path):
    path = tmp_path / "base.trace"
    path.write_text(json.dumps(document()))
    assert replay(read_trace(path)).ok
