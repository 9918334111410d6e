"""Traces: record, write, read, replay; damaged files give a one-line TraceError."""

import gzip
import hashlib
import json
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from search_data import DATA, KMALLOC

from ztui.cli import main
from ztui.core.simulator import Simulator
from ztui.scenario.model import Scheduler
from ztui.trace import (
    CLOCK,
    TraceError,
    TraceRecorder,
    read_trace,
    record,
    replay,
    timeline_from_trace,
    trace_of_schedule,
    write_trace,
)


def scheduled(scheduler: Scheduler):
    return attrs.evolve(KMALLOC, run=attrs.evolve(KMALLOC.run, scheduler=scheduler))


def recorded_with_choices(scheduler: Scheduler, hash_every: int = 50):
    """A run where the caller forces threads now and then, as in the TUI's "you are the scheduler"."""
    sim = Simulator.from_scenario(scheduled(scheduler), seed=3, log=False)
    recorder = TraceRecorder(sim, hash_every=hash_every)
    overridden = 0
    for _ in range(200):
        runnable = sim.runnable()
        choice = runnable[-1] if len(runnable) > 1 else None
        overridden += choice is not None and choice != sim.next_tid()
        recorder.step(choice)
    assert overridden > 0  # the trace holds choices the scheduler would not have made
    recorder.run()
    return recorder.trace(), sim


@pytest.fixture(scope="module")
def rr_trace():
    return recorded_with_choices(Scheduler.ROUND_ROBIN)[0]


@pytest.mark.parametrize("scheduler", [Scheduler.ROUND_ROBIN, Scheduler.RANDOM])
@pytest.mark.parametrize("name", ["run.trace", "run.trace.gz"])
def test_round_trip_replays_with_the_same_hashes(tmp_path, scheduler, name):
    trace, sim = recorded_with_choices(scheduler)
    assert trace.verdict == sim.verdict.kind
    assert trace.end_hash == sim.state_hash()
    assert len(trace.hashes) == trace.decision_count // 50 > 0
    write_trace(trace, tmp_path / name)
    assert read_trace(tmp_path / name) == trace
    result = replay(read_trace(tmp_path / name))
    assert result.ok, result.divergence
    assert (result.decisions, result.step, result.verdict) == (
        trace.decision_count,
        trace.end_step,
        trace.verdict,
    )
    assert result.hashes_checked == len(trace.hashes) + 1  # and the end


def test_gz_is_compressed_and_plain_is_json(tmp_path, rr_trace):
    write_trace(rr_trace, tmp_path / "a.trace.gz")
    write_trace(rr_trace, tmp_path / "a.trace")
    doc = json.loads((tmp_path / "a.trace").read_text())
    assert json.loads(gzip.decompress((tmp_path / "a.trace.gz").read_bytes())) == doc
    assert (doc["format"], doc["version"], doc["seed"]) == ("ztui-trace", 1, 3)
    assert sum(n for _, n in doc["schedule"]) == doc["decisions"]


def test_the_schedule_is_run_length_encoded_with_clock_advances(rr_trace):
    decisions = list(rr_trace.decisions())
    assert len(decisions) == rr_trace.decision_count
    assert len(rr_trace.schedule) < len(decisions)
    assert CLOCK in decisions
    assert all(a[0] != b[0] for a, b in zip(rr_trace.schedule, rr_trace.schedule[1:]))


def test_a_trace_of_a_schedule_replays_it(rr_trace):
    again = trace_of_schedule(rr_trace.scenario, rr_trace.seed, list(rr_trace.decisions()), hash_every=50)
    assert again == rr_trace


def test_a_changed_decision_is_reported_at_its_step(rr_trace):
    runs = list(rr_trace.schedule)
    index = next(i for i, (d, _) in enumerate(runs) if d == CLOCK and i > 5)
    runs[index] = (0, runs[index][1])  # run the pagedaemon where the clock had to advance
    at = sum(n for _, n in runs[:index]) + 1
    result = replay(attrs.evolve(rr_trace, schedule=tuple(runs)))
    assert not result.ok
    assert result.divergence.startswith(f"decision {at} ")
    assert "cannot run now" in result.divergence
    assert result.decisions == at - 1


def test_a_different_machine_is_caught_by_the_hashes(rr_trace):
    other = attrs.evolve(rr_trace.scenario, machine=attrs.evolve(rr_trace.scenario.machine, swap=4 << 20))
    result = replay(attrs.evolve(rr_trace, scenario=other))
    assert not result.ok
    assert "differs from the recording" in result.divergence or "cannot run now" in result.divergence


def test_a_wrong_end_is_reported(rr_trace):
    result = replay(attrs.evolve(rr_trace, end_hash="0" * 32))
    assert not result.ok and result.divergence.startswith("end of the trace")


def test_a_recorded_source_is_named_and_timeline_from_trace_walks_it(tmp_path):
    sim = Simulator.from_scenario(KMALLOC)
    source = DATA / "search-kmalloc-obj.toml"
    write_trace(record(sim, source=source), tmp_path / "r.trace")
    trace = read_trace(tmp_path / "r.trace")
    assert trace.verdict == sim.verdict.kind and trace.end_step == sim.step_count
    assert trace.source_name == str(source)
    assert trace.source_sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert replay(trace).ok
    timeline = timeline_from_trace(trace, interval=512)
    assert timeline.step_count == trace.end_step
    assert timeline.sim.state_hash() == trace.end_hash
    timeline.back(100)
    assert timeline.step_count <= trace.end_step - 100


def test_record_refuses_a_simulator_that_already_ran():
    sim = Simulator.from_scenario(KMALLOC, log=False)
    sim.step()
    with pytest.raises(ValueError):
        record(sim)


# --- damaged files ---------------------------------------------------------------


def resign(doc: dict, _=None) -> None:
    """Recompute the scenario's checksum after an edit, as a careless tool would."""
    doc["scenario_sha256"] = hashlib.sha256(
        json.dumps(doc["scenario"], sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def damaged(tmp_path: Path, trace, edit) -> Path:
    path = tmp_path / "bad.trace"
    write_trace(trace, path)
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda d: d.update(version=2), "version 2"),
        (lambda d: d.update(format="other"), "not a ztui trace"),
        (lambda d: d["scenario"]["machine"].update(physmem=1 << 30), "checksum"),
        (lambda d: d.pop("seed"), '"seed" is missing'),
        (lambda d: d.update(decisions=d["decisions"] + 1), "truncated or corrupt"),
        (lambda d: d["schedule"].append([2, 0]), '"schedule" entry'),
        (lambda d: d["hashes"].pop(), '"hashes"'),
        (lambda d: d.update(hash_every=True), '"hash_every"'),
        (lambda d: resign(d, d["scenario"]["machine"].update(physmem="lots")), 'machine.physmem: found "lots"'),
        (lambda d: resign(d, d["scenario"].update(name=3)), "name: found 3; expected a string"),
    ],
)
def test_damaged_documents_give_a_one_line_error(tmp_path, rr_trace, edit, words):
    path = damaged(tmp_path, rr_trace, edit)
    with pytest.raises(TraceError) as info:
        read_trace(path)
    message = str(info.value)
    assert words in message and message.startswith(str(path)) and "\n" not in message


@pytest.mark.parametrize("name", ["cut.trace", "cut.trace.gz"])
def test_truncated_files_give_a_one_line_error(tmp_path, rr_trace, name):
    path = tmp_path / name
    write_trace(rr_trace, path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(TraceError, match="truncated") as info:
        read_trace(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "content, words",
    [(b"\xff\xfe", "not UTF-8"), (b"\x00\xff", "binary data"), (b"hello", "not a ztui trace"), (b'{"format": ', "truncated")],
)
def test_other_files_give_a_one_line_error(tmp_path, content, words):
    path = tmp_path / "x.trace"
    path.write_bytes(content)
    with pytest.raises(TraceError, match=words):
        read_trace(path)


def test_a_missing_file_gives_a_one_line_error(tmp_path):
    with pytest.raises(TraceError, match="no such file"):
        read_trace(tmp_path / "nope.trace")


# --- `ztui replay` ------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli():
    return main  # the real `ztui` group, with the search commands registered


def test_replay_command_exit_codes(tmp_path, cli, rr_trace):
    good = tmp_path / "good.trace.gz"
    write_trace(rr_trace, good)
    result = CliRunner().invoke(cli, ["replay", str(good)])
    assert result.exit_code == 0 and result.output.startswith("OK: ")

    bad_hash = tmp_path / "diverges.trace"
    write_trace(attrs.evolve(rr_trace, end_hash="0" * 32), bad_hash)
    result = CliRunner().invoke(cli, ["replay", str(bad_hash)])
    assert result.exit_code == 1 and result.output.startswith("DIVERGED: end of the trace")

    damaged_file = damaged(tmp_path, rr_trace, lambda d: d.update(version=9))
    result = CliRunner().invoke(cli, ["replay", str(damaged_file)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
