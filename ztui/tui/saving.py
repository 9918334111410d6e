"""Saving from the TUI: the trace so far, the explanation as text, screenshots.  No Textual here.

Output names are built from a scenario's name only after sanitising it to
a safe file name (a name is file content: it never picks a directory), and
nothing that exists is overwritten unless the caller says the user agreed.
The rules and the atomic writing are ztui.output_files', as for the
command line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import attrs

from ztui.core.simulator import Simulator
from ztui.output_files import OutputError, check_output, safe_file_name, write_atomically
from ztui.trace import Trace, TraceError, TraceRecorder, write_trace
from ztui.tui.session import Opened, TracePoint


class SaveError(Exception):
    """The file cannot be written; the message is one line."""


def safe_name(name: str) -> str:
    """``name`` as a file name: letters, digits, dot, dash and underscore only, never hidden or empty."""
    return safe_file_name(name, fallback="ztui")


def default_path(scenario: str, step: int, suffix: str, directory: Path | None = None) -> Path:
    return (directory or Path.cwd()) / f"{safe_name(scenario)}-step{step}{suffix}"


def check_writable(path: Path, overwrite: bool) -> None:
    """Refuse what cannot or should not be written, before any work is done."""
    try:
        check_output(path, force=overwrite)
    except OutputError as error:
        raise SaveError(str(error)) from None


def session_trace(opened: Opened, point: TracePoint, breakpoints: tuple[str, ...] = (),
                  should_stop: Callable[[], bool] | None = None) -> Trace | None:
    """The trace of the session at ``point``: from step 0, with the threads the user forced.

    Every decision is one kernel step ("stepping": "exact"), so single
    steps and forced threads land exactly where the user made them.  The
    result's end hash is checked against the session's state.  None if
    ``should_stop()`` said to give up.
    """
    forced = point.forced
    fresh = Simulator.from_scenario(opened.scenario, point.seed, log=False)
    recorder = TraceRecorder(fresh, exact=True, source=opened.source_file)
    while fresh.step_count < point.step:
        if point.passed_verdict and fresh.verdict is not None and fresh.verdict.kind == "livelock":
            fresh.step_past_verdict()
        if fresh.verdict is not None or (should_stop is not None and fresh.step_count % 4096 == 0 and should_stop()):
            break
        recorder.step(forced.get(fresh.step_count))
    if should_stop is not None and fresh.step_count < point.step:
        return None
    trace = attrs.evolve(recorder.trace(), breakpoints=tuple(breakpoints), past_verdict=point.passed_verdict)
    if trace.end_hash != point.state_hash:
        raise SaveError(f"the replayed run reached another state at step {trace.end_step}; nothing was written")
    return trace


def save_trace(trace: Trace, path: Path, overwrite: bool = False) -> None:
    check_writable(path, overwrite)
    try:
        write_trace(trace, path, force=overwrite)
    except TraceError as error:
        raise SaveError(str(error)) from None


def save_text(lines: list[str], path: Path, overwrite: bool = False) -> None:
    check_writable(path, overwrite)
    try:
        write_atomically(path, ("\n".join(lines) + "\n").encode(), force=overwrite)
    except OutputError as error:
        raise SaveError(str(error)) from None


def screenshot_directory(preferred: Path | None) -> Path:
    """Where a screenshot goes: the usual folder (Downloads) if it exists, else the working directory."""
    if preferred is not None and preferred.is_dir() and os.access(preferred, os.W_OK):
        return preferred
    return Path.cwd()
