"""Saving from the TUI: the trace so far, the explanation as text, screenshots.  No Textual here.

Output names are built from a scenario's name only after sanitising it to
a safe file name (a name is file content: it never picks a directory), and
nothing that exists is overwritten unless the caller says the user agreed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

import attrs

from ztui.core.simulator import Simulator
from ztui.trace import Trace, TraceRecorder, write_trace
from ztui.tui.session import Session

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 80


class SaveError(Exception):
    """The file cannot be written; the message is one line."""


def safe_name(name: str) -> str:
    """``name`` as a file name: letters, digits, dot, dash and underscore only, never hidden or empty."""
    cleaned = _UNSAFE.sub("-", name).strip(".-")[:MAX_NAME]
    return cleaned or "ztui"


def default_path(scenario: str, step: int, suffix: str, directory: Path | None = None) -> Path:
    return (directory or Path.cwd()) / f"{safe_name(scenario)}-step{step}{suffix}"


def check_writable(path: Path, overwrite: bool) -> None:
    """Refuse what cannot or should not be written, before any work is done."""
    if path.is_dir():
        raise SaveError(f"{path} is a directory")
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise SaveError(f"{path} exists")
    parent = path.parent
    if not parent.is_dir():
        raise SaveError(f"{parent} is not a directory")
    if not os.access(parent, os.W_OK):
        raise SaveError(f"{parent} is not writable")


def session_trace(session: Session, breakpoints: tuple[str, ...] = (),
                  should_stop: Callable[[], bool] | None = None) -> Trace | None:
    """The trace of what ``session`` shows now: from step 0, with the threads the user forced.

    Every decision is one kernel step ("stepping": "exact"), so single
    steps and forced threads land exactly where the user made them.  The
    result's end hash is checked against the session's state.  None if
    ``should_stop()`` said to give up.
    """
    timeline, sim_now = session.timeline, session.sim
    forced = timeline.forced
    fresh = Simulator.from_scenario(session.scenario, sim_now.seed, log=False)
    recorder = TraceRecorder(fresh, exact=True, source=session.source_file)
    passed = sim_now.passed_verdict is not None
    target = sim_now.step_count
    while fresh.step_count < target:
        if passed and fresh.verdict is not None and fresh.verdict.kind == "livelock":
            fresh.step_past_verdict()
        if fresh.verdict is not None or (should_stop is not None and fresh.step_count % 4096 == 0 and should_stop()):
            break
        recorder.step(forced.get(fresh.step_count))
    if should_stop is not None and fresh.step_count < target:
        return None
    trace = attrs.evolve(recorder.trace(), breakpoints=tuple(breakpoints), past_verdict=passed)
    if trace.end_hash != sim_now.state_hash():
        raise SaveError(f"the replayed run reached another state at step {trace.end_step}; nothing was written")
    return trace


def save_trace(trace: Trace, path: Path, overwrite: bool = False) -> None:
    check_writable(path, overwrite)
    try:
        write_trace(trace, path)
    except OSError as error:
        raise SaveError(f"{path}: {error.strerror or error}") from None


def save_text(lines: list[str], path: Path, overwrite: bool = False) -> None:
    check_writable(path, overwrite)
    try:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as error:
        raise SaveError(f"{path}: {error.strerror or error}") from None


def screenshot_directory(preferred: Path | None) -> Path:
    """Where a screenshot goes: the usual folder (Downloads) if it exists, else the working directory."""
    if preferred is not None and preferred.is_dir() and os.access(preferred, os.W_OK):
        return preferred
    return Path.cwd()
