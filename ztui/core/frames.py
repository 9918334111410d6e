"""Kernel functions as resumable frames.

Each modelled kernel function that can block is a handler
``fn(k, t, f) -> int`` run on the thread's top Frame (state.py has one
Frame class per function, with its locals).  It returns CONT after pushing
a callee or returning to its caller (the step goes on), or DONE once the
step did a unit of work or the thread went to sleep.  A blocked frame
keeps its ``pc``, so the wakeup resumes it exactly where the kernel would
retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .state import Frame, Kernel, Thread

CONT = 0
DONE = 1

F = TypeVar("F", bound=Frame)
Handler = Callable[[Kernel, Thread, Any], int]  # called only with frames of its own class
HANDLERS: dict[type, Handler] = {}


def kernel_function(frame_class: type[F]) -> Callable[[Callable[[Kernel, Thread, F], int]], Callable[[Kernel, Thread, F], int]]:
    """Register the handler that runs frames of ``frame_class``."""

    def register(fn: Callable[[Kernel, Thread, F], int]) -> Callable[[Kernel, Thread, F], int]:
        HANDLERS[frame_class] = fn
        return fn

    return register


def call(t: Thread, frame: Frame) -> int:
    t.frames.append(frame)
    return CONT


def ret(t: Thread, value: int = 0) -> int:
    t.frames.pop()
    t.rv = value
    return CONT


def emit(k: Kernel, t: Thread | None, subsystem: str, text: str) -> None:
    if k.log is not None:
        k.log.append((k.step + 1, -1 if t is None else t.tid, subsystem, text))
