"""The UI's end of the pipe to ztui.tui.simserver: requests, and the frames a job streams back.

SimClient starts the server in its own process (ProcessHost, what
`ztui launch` uses) or in a thread of this one (ThreadHost: the same
protocol and pickling, for tests that move a fake clock or look inside
the simulator).  A reader thread receives everything the server sends,
rebuilds each snapshot's step history and events from their deltas
(HistoryMirror, EventMirror),
hands replies to the waiting request and frames and job ends to the
callbacks, which must be thread-safe (the app posts a message).

The server process has no terminal: its standard streams are /dev/null
and it runs in its own session, so no terminal signal reaches it.  It
ends when told to (close()), or when this process's end of the pipe
closes, however this process ended.  close() waits for it, and kills it
if it does not go within CLOSE_TIMEOUT_S.
"""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from ztui.core.history import HistoryView, LaneState, Sample
from ztui.core.snapshot import EventView, Snapshot
from ztui.textsafe import visible
from ztui.trace import TraceError
from ztui.tui.simserver import QUIT, SPEED, START, EventsDelta, HistoryDelta, JobEnd, SimServer, Wire

if TYPE_CHECKING:
    from rich.text import Text

CLOSE_TIMEOUT_S = 2.0
SERVER_MAIN = "import sys; from ztui.tui.simserver import main; main(sys.argv[1:])"


class SimulatorLost(RuntimeError):
    """The server crashed (the message ends with its exception) or its process went away.

    Raised in a key handler, Textual ends the app and prints __rich__, one line, not a traceback.
    """

    def __rich__(self) -> Text:
        from rich.text import Text

        return Text(f"ztui: {visible(str(self))}")


class HistoryMirror:
    """The UI's copy of the step history; append-only lists, so a view already shown never changes."""

    def __init__(self) -> None:
        self._samples: list[Sample] = []
        self._states: list[LaneState] = []

    def view(self, delta: HistoryDelta) -> HistoryView:
        if delta.samples_reset:
            self._samples = []
        if delta.states_reset:
            self._states = []
        self._samples.extend(map(Sample._make, delta.samples))
        self._states.extend(delta.states)
        return HistoryView(self._samples, len(self._samples), self._states, delta.threads, delta.every)


class EventMirror:
    """The UI's copy of the events the server sent last; each snapshot's events from their delta."""

    def __init__(self) -> None:
        self._events: tuple[EventView, ...] = ()

    def events(self, delta: EventsDelta) -> tuple[EventView, ...]:
        kept = self._events[len(self._events) - delta.kept:] if delta.kept else ()
        self._events = kept + delta.new
        return self._events


class Host(Protocol):
    conn: Connection

    def close(self) -> None:
        """Wait for the server to end (it was told to, or its pipe closed)."""


class ProcessHost:
    """ztui.tui.simserver.main on one end of a socket pair, in a fresh interpreter.

    Not ``-m``: run as __main__ its classes would pickle as __main__'s, which this end cannot load.
    """

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        with ours, theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SERVER_MAIN, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)
            self.conn = Connection(ours.detach())

    def close(self) -> None:
        try:
            self.process.wait(CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ThreadHost:
    """The server in a daemon thread of this process, paced by ``clock``; ``server`` is there to inspect."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.conn, theirs = Pipe()
        self.server = SimServer(theirs, clock)
        self._thread = threading.Thread(target=self._serve, name="ztui-simserver", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self.server.serve()
        finally:
            self.server.conn.close()

    def close(self) -> None:
        self._thread.join(CLOSE_TIMEOUT_S)


class SimClient:
    def __init__(
        self,
        host: Host,
        on_frame: Callable[[int, Snapshot], None],
        on_ended: Callable[[int, Snapshot, JobEnd], None],
        on_lost: Callable[[SimulatorLost], None],
    ) -> None:
        self.host = host
        self.snapshot: Snapshot | None = None  # as of the last reply
        self._conn = host.conn
        self._on_frame, self._on_ended, self._on_lost = on_frame, on_ended, on_lost
        self._mirror = HistoryMirror()
        self._event_mirror = EventMirror()
        self._replies: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._calls = threading.Lock()
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="ztui-simclient", daemon=True)
        self._reader.start()

    def call(self, *request) -> Any:
        """Send ``request`` and wait for its reply; raises TraceError, or SimulatorLost."""
        with self._calls:
            self._send(request)
            answer = self._replies.get()
        if isinstance(answer, Exception):
            raise answer
        value, snapshot = answer
        if snapshot is not None:
            self.snapshot = snapshot
        return value

    def start(self, generation: int, kind: str, argument, breakpoints: tuple[str, ...], frame_s: float) -> None:
        """Start a job (unanswered: it streams frames, then one job end, tagged ``generation``)."""
        with self._calls:
            self._send((START, generation, kind, argument, breakpoints, frame_s))

    def set_speed(self, steps_per_s: float) -> None:
        with self._calls:
            self._send((SPEED, steps_per_s))

    def close(self) -> None:
        """Tell the server to quit, and wait for it (and for this end's reader) to end."""
        if self._closed:
            return
        self._closed = True
        try:
            with self._calls:
                self._conn.send((QUIT,))
        except OSError:
            pass  # already gone
        self.host.close()
        self._reader.join(CLOSE_TIMEOUT_S)
        self._conn.close()

    def _send(self, message: tuple) -> None:
        try:
            self._conn.send(message)
        except OSError as error:
            raise SimulatorLost(f"the simulator process is gone ({error})") from None

    def _read(self) -> None:
        try:
            while True:
                self._dispatch(self._conn.recv())
        except (EOFError, OSError):
            lost = SimulatorLost("the simulator process ended")
        except SimulatorLost as crash:
            lost = crash
        except Exception as error:  # a message this end cannot read: a bug, but never a hang
            lost = SimulatorLost(f"unreadable message from the simulator: {error!r}")
        self._replies.put(lost)
        if not self._closed:
            self._on_lost(lost)

    def _dispatch(self, message: tuple) -> None:
        kind = message[0]
        if kind == "frame":
            self._on_frame(message[1], self._unwire(message[2]))
        elif kind == "ended":
            self._on_ended(message[1], self._unwire(message[2]), message[3])
        elif kind == "reply":
            value, wired = message[1], message[2]
            self._replies.put((value, None if wired is None else self._unwire(wired)))
        elif kind == "error":
            self._replies.put(TraceError(message[1]))
        elif kind == "crash":  # a bug: its exception, the traceback's last line, is what a report needs
            raise SimulatorLost(f"the simulator failed: {message[1].strip().splitlines()[-1]}")

    def _unwire(self, wired: Wire) -> Snapshot:
        snapshot, delta, events = wired
        history = None if delta is None else self._mirror.view(delta)
        return attrs.evolve(snapshot, step_history=history, events=self._event_mirror.events(events))
