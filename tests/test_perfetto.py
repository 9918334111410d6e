"""`ztui run --timeline`: the export is checked against the Trace Event Format, not by eye.

validate() below is a JSON-schema-like check written from the format's
definition (the "Trace Event Format" document that chrome://tracing and
Perfetto's JSON importer follow): the JSON Object Format's top-level keys,
the common event fields and their types, and each phase's own rules --
complete events ("X") need a non-negative "dur" and must nest on their
thread, counters ("C") carry numeric args, instants ("i"/"I") a scope of
g/p/t, metadata ("M") one of its five names with its one argument, and
duration events ("B"/"E") balance per thread.
"""

from __future__ import annotations

import json
from collections import defaultdict
from numbers import Real

import pytest
from click.testing import CliRunner

from ztui.cli import main
from ztui.core.simulator import Simulator
from ztui.perfetto import lane_name, trace_events
from ztui.scenario.bundled import SCENARIO_DIR
from ztui.scenario.load import load_scenario

TOP_LEVEL = {"traceEvents", "displayTimeUnit", "otherData", "stackFrames", "samples", "systemTraceEvents",
             "controllerTraceDataKey", "powerTraceAsString", "metadata"}
PHASES = set("BEXiIC") | set("bneSTpFstfPONDMVvRcl()")
METADATA_ARGS = {"process_name": ("name", str), "process_labels": ("labels", str), "thread_name": ("name", str),
                 "process_sort_index": ("sort_index", int), "thread_sort_index": ("sort_index", int)}


def validate(doc: object) -> list[str]:
    """Every way ``doc`` breaks the Trace Event Format (JSON Object Format); empty if it does not."""
    if not isinstance(doc, dict):
        return ["the document is not a JSON object"]
    problems = [f"unknown top-level key {key!r}" for key in doc if key not in TOP_LEVEL]
    events = doc.get("traceEvents")
    if not isinstance(events, list):
        return problems + ['"traceEvents" must be a list']
    if doc.get("displayTimeUnit", "ms") not in ("ms", "ns"):
        problems.append('"displayTimeUnit" must be "ms" or "ns"')
    if not isinstance(doc.get("otherData", {}), dict):
        problems.append('"otherData" must be an object')
    open_durations: dict[tuple, list[str]] = defaultdict(list)
    slices: dict[tuple, list[tuple[float, float, int]]] = defaultdict(list)
    for i, event in enumerate(events):
        where = f"event {i}"
        if not isinstance(event, dict):
            problems.append(f"{where}: not an object")
            continue
        ph = event.get("ph")
        if ph not in PHASES:
            problems.append(f"{where}: unknown phase {ph!r}")
            continue
        for key, kind in (("name", str), ("cat", str), ("args", dict), ("s", str), ("id", (str, int))):
            if key in event and not isinstance(event[key], kind):
                problems.append(f"{where}: {key!r} has the wrong type")
        for key in ("pid", "tid"):
            if key in event and (not isinstance(event[key], int) or isinstance(event[key], bool)):
                problems.append(f"{where}: {key!r} must be an integer")
        if "pid" not in event:
            problems.append(f"{where}: no pid")
        if ph != "M":
            if not isinstance(event.get("ts"), Real) or isinstance(event.get("ts"), bool) or event["ts"] < 0:
                problems.append(f"{where}: 'ts' must be a number >= 0 (microseconds)")
                continue
            if "tid" not in event and ph not in "C":
                problems.append(f"{where}: no tid")
            if not isinstance(event.get("name"), str):
                problems.append(f"{where}: no name")
        track = (event.get("pid"), event.get("tid"))
        if ph == "X":
            dur = event.get("dur")
            if not isinstance(dur, Real) or isinstance(dur, bool) or dur < 0:
                problems.append(f"{where}: a complete event needs 'dur' >= 0")
            else:
                slices[track].append((event["ts"], event["ts"] + dur, i))
        elif ph == "C":
            args = event.get("args")
            if not isinstance(args, dict) or not args or not all(
                    isinstance(v, Real) and not isinstance(v, bool) for v in args.values()):
                problems.append(f"{where}: a counter needs args of numbers")
        elif ph in "iI":
            if event.get("s", "t") not in ("g", "p", "t"):
                problems.append(f"{where}: an instant's scope 's' must be g, p or t")
        elif ph == "M":
            rule = METADATA_ARGS.get(event.get("name"))
            args = event.get("args")
            if rule is None:
                problems.append(f"{where}: unknown metadata {event.get('name')!r}")
            elif not isinstance(args, dict) or not isinstance(args.get(rule[0]), rule[1]):
                problems.append(f"{where}: {event['name']} needs args.{rule[0]} of type {rule[1].__name__}")
        elif ph == "B":
            open_durations[track].append(event.get("name"))
        elif ph == "E":
            if not open_durations[track]:
                problems.append(f"{where}: an end with no begin on its thread")
            else:
                open_durations[track].pop()
    problems += [f"thread {track}: {len(names)} begin events never end" for track, names in open_durations.items()
                 if names]
    for track, spans in slices.items():  # on one thread, complete events nest or follow each other
        stack: list[tuple[float, float, int]] = []
        for start, end, i in sorted(spans, key=lambda s: (s[0], -s[1])):
            while stack and stack[-1][1] <= start:
                stack.pop()
            if stack and end > stack[-1][1]:
                problems.append(f"thread {track}: event {i} overlaps event {stack[-1][2]} without nesting")
            stack.append((start, end, i))
    return problems


@pytest.mark.parametrize("doc, complaint", [
    ([], "not a JSON object"),
    ({"events": []}, "unknown top-level key"),
    ({"traceEvents": [{"ph": "X", "name": "a", "pid": 1, "tid": 1, "ts": 0}]}, "needs 'dur'"),
    ({"traceEvents": [{"ph": "X", "name": "a", "pid": 1, "tid": 1, "ts": -1, "dur": 1}]}, "'ts' must be"),
    ({"traceEvents": [{"ph": "C", "name": "c", "pid": 1, "ts": 0, "args": {"v": "high"}}]}, "args of numbers"),
    ({"traceEvents": [{"ph": "i", "name": "i", "pid": 1, "tid": 1, "ts": 0, "s": "x"}]}, "scope"),
    ({"traceEvents": [{"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "args": {}}]}, "args.name"),
    ({"traceEvents": [{"ph": "M", "name": "colour", "pid": 1, "tid": 1, "args": {}}]}, "unknown metadata"),
    ({"traceEvents": [{"ph": "B", "name": "b", "pid": 1, "tid": 1, "ts": 0}]}, "never end"),
    ({"traceEvents": [{"ph": "E", "pid": 1, "tid": 1, "ts": 0, "name": "e"}]}, "no begin"),
    ({"traceEvents": [{"ph": "Q", "pid": 1}]}, "unknown phase"),
    ({"traceEvents": [{"ph": "X", "name": "a", "pid": 1, "tid": 1, "ts": 0, "dur": 10},
                      {"ph": "X", "name": "b", "pid": 1, "tid": 1, "ts": 5, "dur": 10}]}, "without nesting"),
    ({"traceEvents": [], "displayTimeUnit": "s"}, "displayTimeUnit"),
])
def test_the_validator_catches_what_the_format_forbids(doc, complaint):
    assert any(complaint in problem for problem in validate(doc)), validate(doc)


def test_the_validator_accepts_the_format_s_own_example_shapes():
    doc = {"traceEvents": [
        {"ph": "M", "name": "process_name", "pid": 1, "tid": 0, "args": {"name": "p"}},
        {"ph": "X", "name": "outer", "pid": 1, "tid": 2, "ts": 0, "dur": 10},
        {"ph": "X", "name": "inner", "pid": 1, "tid": 2, "ts": 2, "dur": 3},
        {"ph": "B", "name": "b", "pid": 1, "tid": 3, "ts": 1}, {"ph": "E", "name": "b", "pid": 1, "tid": 3, "ts": 4},
        {"ph": "C", "name": "ctr", "pid": 1, "ts": 5, "args": {"cats": 0, "dogs": 7.5}},
        {"ph": "i", "name": "now", "pid": 1, "tid": 0, "ts": 6, "s": "g"},
    ], "displayTimeUnit": "ns", "otherData": {"version": "x"}}
    assert validate(doc) == []


def recorded(name: str) -> Simulator:
    sim = Simulator.from_scenario(load_scenario(SCENARIO_DIR / f"{name}.toml"))
    sim.record_history(65536)
    sim.run()
    return sim


@pytest.mark.parametrize("name", ["teach-swapmeta-kmalloc-obj", "teach-swapmeta-zalloc", "mapentry-kmalloc-obj"])
def test_the_export_follows_the_format_and_tells_the_story(name):
    sim = recorded(name)
    doc = json.loads(json.dumps(trace_events(sim)))
    assert validate(doc) == []
    events = doc["traceEvents"]
    threads = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert list(threads.values()) == [t.name for t in sim.snapshot(events=0).threads]
    slices = [e for e in events if e["ph"] == "X"]
    assert {e["tid"] for e in slices} == set(threads)
    counters = {e["name"] for e in events if e["ph"] == "C"}
    assert {"page queues", "free+cache", "swap used"} <= counters
    verdict = [e for e in events if e["ph"] == "i"]
    assert len(verdict) == 1 and verdict[0]["name"].startswith(sim.verdict.kind.upper())
    for tid in threads:  # each thread's slices tile its timeline, in order
        mine = sorted((e for e in slices if e["tid"] == tid), key=lambda e: e["ts"])
        assert all(a["ts"] + a["dur"] == b["ts"] for a, b in zip(mine, mine[1:]))
    if sim.verdict.kind == "livelock":  # the wedge: the pagers end asleep waiting for memory
        last = max((e for e in slices if threads[e["tid"]] == "emergpager"), key=lambda e: e["ts"])
        assert last["args"]["state"] != "R" or "kmem_slab_alloc" in last["name"]
        values = [e["args"]["free+cache"] for e in events if e["ph"] == "C" and e["name"] == "free+cache"]
        assert values[0] == 1792 and values[-1] == sim.snapshot(events=0).queues["free"]


def test_a_state_names_what_the_thread_does():
    from ztui.core.history import LaneState

    assert lane_name(LaneState("R", True, "", "vm_fault")) == "run vm_fault"
    assert lane_name(LaneState("R", False, "", "vm_fault")) == "runnable vm_fault"
    assert lane_name(LaneState("S", False, "vmwait", "kmem_slab_alloc")) == "sleep vmwait in kmem_slab_alloc"
    assert lane_name(LaneState("Z", False, "", "")) == "exited"


def test_run_timeline_writes_a_valid_file_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "run.json"
    runner = CliRunner()
    result = runner.invoke(main, ["run", "teach-swapmeta-kmalloc-obj", "--quiet", "--timeline", str(out)])
    assert result.exit_code == 0, result.output
    assert validate(json.loads(out.read_text())) == []
    before = out.read_bytes()
    again = runner.invoke(main, ["run", "teach-swapmeta-kmalloc-obj", "--quiet", "--timeline", str(out)])
    assert again.exit_code == 2 and "exists" in again.output and "Traceback" not in again.output
    assert out.read_bytes() == before
    missing = runner.invoke(main, ["run", "teach-swapmeta-kmalloc-obj", "--timeline", str(tmp_path / "no" / "x.json")])
    assert missing.exit_code == 2 and "is not a directory" in missing.output
    assert not (tmp_path / "no").exists()
