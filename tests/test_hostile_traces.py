"""Issue 10, class 3: a trace's scenario passes exactly ztui check's rules, and a trace names no file ztui reads."""

import hashlib
import json
import os

import pytest
from hostile import assert_refused, small_scenario, ztui

from ztui.scenario.load import check_scenario
from ztui.trace import TraceError, read_trace


def resign(doc: dict) -> None:
    """Recompute the scenario's checksum after an edit: anyone can."""
    canonical = json.dumps(doc["scenario"], sort_keys=True, separators=(",", ":"))
    doc["scenario_sha256"] = hashlib.sha256(canonical.encode()).hexdigest()


@pytest.fixture
def recorded(tmp_path):
    path = tmp_path / "good.trace"
    assert ztui("run", small_scenario(tmp_path), "--trace", path, "--quiet").returncode == 0
    return json.loads(path.read_text())


def edited(tmp_path, doc: dict, edit) -> os.PathLike:
    doc = json.loads(json.dumps(doc))
    edit(doc["scenario"])
    resign(doc)
    path = tmp_path / "edited.trace"
    path.write_text(json.dumps(doc))
    return path


# (edit of the embedded scenario, the same value in a scenario file, the problem both must report)
SAME_RULE = [
    (lambda s: s["machine"].update(hz=0), "[machine]\nhz = 0", "machine.hz: found 0; allowed: 10 to 1000"),
    (lambda s: s["machine"].update(ncpus=0), "[machine]\nncpus = 0", "machine.ncpus: found 0; allowed: 1 to 64"),
    (
        lambda s: s["machine"].update(ncpus=10**8),
        "[machine]\nncpus = 100000000",
        "machine.ncpus: found 100000000; allowed: 1 to 64",
    ),
    (lambda s: s["run"].update(quantum=0), "[run]\nquantum = 0", "run.quantum: found 0; must be at least 1"),
    (
        lambda s: s["allocators"].update(kmslab_cache=10**9),
        "[allocators]\nkmslab_cache = 1000000000",
        "machine: found boot leaves",
    ),
    (lambda s: s["process"][0].update(name="x" * 65), None, "process[0].name: found a name of 65 characters; at most 64"),
    (
        lambda s: s["process"].extend([s["process"][0]] * 1100),
        None,
        "process: found 1,101 processes; at most 1,024",
    ),
]


@pytest.mark.parametrize("edit, toml, problem", SAME_RULE)
def test_an_edited_scenario_is_refused_with_check_s_own_message(tmp_path, recorded, edit, toml, problem):
    path = edited(tmp_path, recorded, edit)
    assert_refused(ztui("replay", path), f"the embedded scenario: {problem}")
    if toml is not None:  # the same value in a file: ztui check says the same words
        file = tmp_path / "same.toml"
        file.write_text(toml + "\n" + _processes())
        assert any(problem in line for line in check_scenario(file)), check_scenario(file)


def _processes() -> str:
    return '[[process]]\nname = "hog"\nphases = [{op = "alloc", pages = "1m"}]\n'


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda s: s["machine"].update(physmem=-4096), "machine.physmem: found -4096; expected a whole number of bytes"),
        (
            lambda s: s["io"].update(swap_write_latency=-1),
            "io.swap_write_latency: found -1; expected a whole number of microseconds",
        ),
        (lambda s: s["machine"].update(physmem="2g"), 'machine.physmem: found "2g"'),
        (lambda s: s["machine"].pop("physmem"), "a field is missing"),
        (lambda s: s.update(extra=1), "extra: unknown key"),
        (lambda s: s["machine"].update(hz=True), "machine.hz: found true; expected an integer"),
    ],
)
def test_the_base_units_and_the_exact_fields_are_enforced(tmp_path, recorded, edit, words):
    assert_refused(ztui("replay", edited(tmp_path, recorded, edit)), words)


def test_an_unedited_trace_still_reads(tmp_path, recorded):
    path = edited(tmp_path, recorded, lambda s: None)
    assert ztui("replay", path).returncode == 0


def test_source_path_is_shown_never_opened(tmp_path, recorded):
    # A FIFO: anything that opened it for reading would block, and the child's timeout would fail the test.
    fifo = tmp_path / "named.toml"
    os.mkfifo(fifo)
    doc = dict(recorded, source={"path": str(fifo), "sha256": "ab"})
    path = tmp_path / "named.trace"
    path.write_text(json.dumps(doc))
    assert ztui("replay", path, timeout=60).returncode == 0
    trace = read_trace(path)
    assert trace.source_name == str(fifo)
    assert not hasattr(trace, "source_path")  # the API offers no path to open


def test_a_trace_session_does_not_reload_the_file_it_names(tmp_path, recorded):
    from ztui.tui.session import Session

    doc = dict(recorded, source={"path": "/etc/shadow", "sha256": None})
    path = tmp_path / "shadow.trace"
    path.write_text(json.dumps(doc))
    session = Session.from_trace(read_trace(path))
    assert session.source_file is None  # ctrl+r starts the embedded scenario again (the TUI's test_controls)


@pytest.mark.parametrize("number", ["1" * 5000, "-" + "9" * 5000])
def test_a_number_of_thousands_of_digits_is_one_problem(tmp_path, recorded, number):
    path = tmp_path / "long.trace"
    path.write_text(json.dumps(recorded).replace('"seed": 0', f'"seed": {number}'))
    with pytest.raises(TraceError, match="a number too long"):
        read_trace(path)
