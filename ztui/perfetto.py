"""`ztui run ... --timeline FILE.json`: a run as a Chrome / Perfetto trace (Trace Event Format, JSON).

Load the file in ui.perfetto.dev or chrome://tracing.  One process (the
machine), one thread per kernel thread, whose states are complete ("X")
slices: ran, runnable, asleep on a wmesg, in a kernel function.  Queue
sizes, free+cache and swap in use are counter ("C") tracks; the verdict is
a global instant ("i").  Times are simulated microseconds (busy steps
within a tick spread evenly over it, as the model advances its clock);
every slice carries the step it starts at.  The states come from the
simulator's step history (ztui.core.history), sampled at most once per
step call and thinned past its capacity, so slices are exact up to that
resolution.
"""

from __future__ import annotations

import json

from ztui import __version__
from ztui.core.history import HistoryView, LaneState
from ztui.core.simulator import Simulator

PID = 1
CAPACITY = 65536  # samples kept for an export: a 2 GiB run keeps every fourth step call or so


def lane_name(lane: LaneState) -> str:
    if lane.state == "Z":
        return "exited"
    if lane.state == "R":
        return f"{'run' if lane.running else 'runnable'} {lane.function}".strip()
    return f"sleep {lane.wmesg or 'user'} in {lane.function or '?'}"


def trace_events(sim: Simulator) -> dict:
    """The Trace Event Format document (JSON Object Format) for ``sim``'s recorded history."""
    view = sim.history_view()
    if view is None or not len(view):
        raise ValueError("the simulator recorded no history: call record_history() before running")
    snapshot = sim.snapshot(events=0)
    events: list[dict] = [
        {"ph": "M", "name": "process_name", "pid": PID, "tid": 0, "args": {"name": f"ztui {snapshot.scenario}"}},
    ]
    for tid, name in enumerate(view.threads):
        events.append({"ph": "M", "name": "thread_name", "pid": PID, "tid": tid, "args": {"name": name}})
        events.append({"ph": "M", "name": "thread_sort_index", "pid": PID, "tid": tid, "args": {"sort_index": tid}})
    end_us = max(view[-1].time_us, snapshot.tick * 1_000_000 // snapshot.hz)
    for tid in range(len(view.threads)):
        events += _slices(view, tid, end_us)
    events += _counters(view)
    verdict = snapshot.verdict
    if verdict is not None:
        events.append({"ph": "i", "s": "g", "name": f"{verdict.kind.upper()}: {verdict.headline}", "cat": "verdict",
                       "pid": PID, "tid": 0, "ts": verdict.tick * 1_000_000 // snapshot.hz,
                       "args": {"step": verdict.step, "explanation": list(verdict.explanation)}})
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {"ztui": __version__, "scenario": snapshot.scenario, "seed": snapshot.seed,
                      "steps": snapshot.step, "verdict": verdict.kind if verdict else None},
    }


def _slices(view: HistoryView, tid: int, end_us: int) -> list[dict]:
    """One complete event per stretch of samples in which the thread's state stays the same."""
    out = []
    start = None  # (code, time, step)
    for sample in view:
        code = sample.lanes[tid] if tid < len(sample.lanes) else None
        if start is not None and code == start[0]:
            continue
        if start is not None:
            out.append(_slice(view, tid, start, sample.time_us))
        start = (code, sample.time_us, sample.step)
    if start is not None:
        out.append(_slice(view, tid, start, end_us))
    return [event for event in out if event is not None]


def _slice(view: HistoryView, tid: int, start: tuple, end_us: int) -> dict | None:
    code, ts, step = start
    if code is None:
        return None
    lane = view.states[code]
    return {"ph": "X", "name": lane_name(lane), "cat": "state", "pid": PID, "tid": tid, "ts": ts,
            "dur": max(end_us - ts, 0), "args": {"step": step, "state": lane.state, "wmesg": lane.wmesg,
                                                 "function": lane.function}}


def _counters(view: HistoryView) -> list[dict]:
    """Counter samples, each only when its values change."""
    out: list[dict] = []
    last: dict = {}
    for sample in view:
        tracks = {
            "page queues": {"free": sample.free, "cache": sample.cache, "inactive": sample.inactive,
                            "active": sample.active},
            "free+cache": {"free+cache": sample.free_cache},
            "swap used": {"pages": sample.swap_used},
        }
        for name, args in tracks.items():
            if last.get(name) != args:
                out.append({"ph": "C", "name": name, "cat": "vm", "pid": PID, "tid": 0, "ts": sample.time_us,
                            "args": args})
                last[name] = args
    return out


def timeline_bytes(sim: Simulator) -> bytes:
    """The file `ztui run --timeline` writes (through ztui.output_files)."""
    return (json.dumps(trace_events(sim), separators=(",", ":")) + "\n").encode()
