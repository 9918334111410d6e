"""Traces: a run's scheduling decisions, enough to replay it exactly.

format.py is the file (and its documentation), record.py makes one,
replay.py re-runs one.  The names below are the package's public API.
"""

from ztui.trace.format import CLOCK, Trace, TraceError, read_trace, write_trace
from ztui.trace.record import DEFAULT_HASH_EVERY, TraceRecorder, record, trace_of_schedule
from ztui.trace.replay import ReplayResult, replay, timeline_from_trace

__all__ = [
    "CLOCK",
    "DEFAULT_HASH_EVERY",
    "ReplayResult",
    "Trace",
    "TraceError",
    "TraceRecorder",
    "read_trace",
    "record",
    "replay",
    "timeline_from_trace",
    "trace_of_schedule",
    "write_trace",
]
