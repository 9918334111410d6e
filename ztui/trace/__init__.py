"""Traces: a run's scheduling decisions, enough to replay it exactly.

format.py is the file (and its documentation), record.py makes one,
replay.py re-runs one.  The names below are what the rest of ztui uses.
"""

from ztui.trace.format import CLOCK, Trace, TraceError, read_trace, write_trace
from ztui.trace.record import TraceRecorder, record, trace_of_schedule
from ztui.trace.replay import replay, timeline_from_trace

__all__ = [
    "CLOCK",
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
