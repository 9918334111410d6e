"""The simulator's end of the pipe: it owns the Session; the UI holds only snapshots.

`ztui launch` runs this in its own process (main(), started by
ztui.tui.simclient's ProcessHost), so the simulator and the UI do not
share a GIL: on two cores a fast-forward runs as fast as headless while
the UI draws.  Tests may run the same loop in a thread instead.

The protocol is pickled tuples over a multiprocessing Connection.  The
UI sends requests; each is answered by one ``("reply", value, wire)``
(or ``("error", message)`` for a trace that cannot be followed), except
START and SPEED, which are not answered.  A started job streams
``("frame", generation, wire)`` at most ``frame_s`` apart and ends with
``("ended", generation, wire, JobEnd)``.  Any request but SPEED that
arrives while a job runs stops the job after its current slice (the
Driver's), then is served: so STOP returns once the simulator is still.

A wire is a Snapshot without its step history and its events, plus a
HistoryDelta (the samples the UI has not seen: a whole history is ~260 KB
pickled and ~30 ms to send) and an EventsDelta (the events it has not
seen: 200 events are ~19 KB and 0.45 ms a frame; a snapshot without them
is ~4 KB).

No Textual here: the process imports only the core, scenarios and traces.
"""

from __future__ import annotations

import gc
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from multiprocessing.connection import Connection

import attrs

from ztui.core.history import HistoryView, LaneState, Sample
from ztui.core.snapshot import EventView, Snapshot
from ztui.trace import TraceError
from ztui.tui.breakpoints import Watch, parse
from ztui.tui.driver import Driver, FastForward, GoTo, Job, PacedRun, RunThread
from ztui.tui.session import Session, TracePoint

OPEN, FOLLOW, STEP, BACK, PAST_VERDICT, FORCE, RUNNABLE, POINT = (
    "open", "follow", "step", "back", "past_verdict", "force", "runnable", "point")
START, SPEED, STOP, QUIT = "start", "speed", "stop", "quit"
# Job kinds for START, with the argument each takes.
FAST_FORWARD, RUN, THREAD, GOTO = "fast-forward", "run", "thread", "go to"  # -, steps/s, tid, step


@attrs.frozen
class HistoryDelta:
    """What a HistoryView adds to the last one sent; a reset starts a new list (thinned, rewound, new run)."""

    samples_reset: bool
    samples: tuple[tuple, ...]  # the new Samples' fields: plain tuples pickle 8x faster (0.4 ms for 2048, not 3.4)
    states_reset: bool
    states: tuple[LaneState, ...]
    threads: tuple[str, ...]
    every: int


@attrs.frozen
class JobEnd:
    """How a job ended: the breakpoint that fired, or why a thread run stopped (RunThread.reason)."""

    hit: str | None = None
    tid: int | None = None
    steps: int = 0
    reason: str = ""
    limit: int = 0


class HistoryFeed:
    """Server side: each view as the delta from the one sent before (keeps the lists it sent, by identity)."""

    def __init__(self) -> None:
        self._samples: list[Sample] | None = None
        self._sent = 0
        self._states: list[LaneState] | None = None
        self._states_sent = 0

    def delta(self, view: HistoryView) -> HistoryDelta:
        samples_reset = view.samples is not self._samples or view.count < self._sent
        if samples_reset:
            self._samples, self._sent = view.samples, 0
        states_reset = view.states is not self._states
        if states_reset:
            self._states, self._states_sent = view.states, 0
        new_samples = tuple(map(tuple, view.samples[self._sent:view.count]))
        new_states = tuple(view.states[self._states_sent:])
        self._sent, self._states_sent = view.count, self._states_sent + len(new_states)
        return HistoryDelta(samples_reset, new_samples, states_reset, new_states, view.threads, view.every)


@attrs.frozen
class EventsDelta:
    """A snapshot's events: the last ``kept`` of the events sent before, then ``new``."""

    kept: int
    new: tuple[EventView, ...]


class EventFeed:
    """Server side: each snapshot's events as the delta from the ones sent before.

    Events are immutable, and a simulator's log only appends events of its
    own run to the ones of the clone it began as.  So where the newest
    event sent (the same object) is in a new window, the window up to it
    is the one sent, up to it: only what follows is new.  Forwards that is
    every frame; after a jump back, only when the checkpoint holds the
    newest event sent (replayed steps log new objects), else the window is
    sent whole.
    """

    def __init__(self) -> None:
        self._sent: tuple[EventView, ...] = ()

    def delta(self, events: tuple[EventView, ...]) -> EventsDelta:
        sent, kept = self._sent, 0
        if sent:
            newest = sent[-1]
            for i in range(len(events) - 1, -1, -1):
                if events[i] is newest:
                    kept = i + 1 if i < len(sent) else 0
                    break
        self._sent = events
        return EventsDelta(kept, events[kept:])


Wire = tuple[Snapshot, HistoryDelta | None, EventsDelta]


class WireFeed:
    """What the UI holds of one session's step history and events: each snapshot as a Wire."""

    def __init__(self) -> None:
        self._history = HistoryFeed()
        self._events = EventFeed()

    def wire(self, snapshot: Snapshot) -> Wire:
        view = snapshot.step_history
        delta = None if view is None else self._history.delta(view)
        return attrs.evolve(snapshot, step_history=None, events=()), delta, self._events.delta(snapshot.events)


class SimServer:
    def __init__(self, conn: Connection, clock: Callable[[], float] = time.perf_counter) -> None:
        self.conn = conn
        self.clock = clock
        self.session: Session | None = None
        self.speed = 1.0
        self._feed = WireFeed()
        self._pending: tuple | None = None

    def serve(self) -> None:
        """Answer requests until QUIT or the UI's end of the pipe closes."""
        try:
            while True:
                request, self._pending = self._pending or self.conn.recv(), None
                if request[0] == QUIT:
                    return
                self._serve_one(request)
        except (EOFError, OSError):  # the UI went away: nothing is left to answer
            return
        except BaseException:  # a bug: say what it was, then stop serving
            self._send(("crash", traceback.format_exc()))
            raise

    def _serve_one(self, request: tuple) -> None:
        kind, *args = request
        if kind == START:
            self._run_job(*args)
        elif kind == SPEED:
            self.speed = args[0]
        elif kind in (OPEN, FOLLOW):
            self._open(kind, *args)
        else:
            value = self._answer(kind, *args)
            self._reply(value)

    def _open(self, kind: str, *args) -> None:
        self._feed = WireFeed()
        try:
            self.session = Session.start(*args) if kind == OPEN else Session.from_trace(*args)
        except TraceError as error:
            self._send(("error", str(error)))
            return
        self._reply(self.session.sim.step_count)

    def _answer(self, kind: str, *args):
        session = self._session()
        sim, timeline = session.sim, session.timeline
        if kind == STEP:
            timeline.step(*args)
        elif kind == BACK:
            timeline.back(1)
        elif kind == PAST_VERDICT:
            sim.step_past_verdict()
        elif kind == FORCE:  # another future from here: the recorded history past here goes
            if sim.step_history is not None:
                sim.step_history.rewind(sim.step_count)
        elif kind == RUNNABLE:
            return tuple(sim.runnable())
        elif kind == POINT:
            return TracePoint.of(session)
        elif kind != STOP:
            raise ValueError(f"no such request: {kind!r}")
        return None

    def _session(self) -> Session:
        if self.session is None:
            raise RuntimeError("no scenario is open")
        return self.session

    def _run_job(self, generation: int, kind: str, argument, breakpoints: tuple[str, ...], frame_s: float) -> None:
        session = self._session()
        if kind == RUN:
            self.speed = argument
        job = self._job(kind, argument, breakpoints)
        driver = Driver(session.timeline, partial(self._frame, generation), frame_s=frame_s, clock=self.clock)
        driver.run(job, self._interrupted)
        self._send(("ended", generation, self._feed.wire(session.sim.snapshot()), self._job_end(job)))

    def _job(self, kind: str, argument, breakpoints: tuple[str, ...]) -> Job:
        if kind == THREAD:
            return RunThread(argument)
        if kind == GOTO:
            return GoTo(argument)
        watch = self._watch(breakpoints)
        if kind == FAST_FORWARD:
            return FastForward(watch)
        if kind == RUN:
            return PacedRun(lambda: self.speed, clock=self.clock, watch=watch)
        raise ValueError(f"no such job: {kind!r}")

    def _watch(self, texts: tuple[str, ...]) -> Watch | None:
        """The UI parsed these already; parsing again here gives the conditions (functions do not pickle)."""
        if not texts:
            return None
        sim = self._session().sim
        snapshot = sim.snapshot()
        names = tuple(t.name for t in snapshot.threads)
        return Watch(tuple(parse(text, names, snapshot.vmstats) for text in texts), sim.k)

    @staticmethod
    def _job_end(job: Job) -> JobEnd:
        if isinstance(job, RunThread):
            return JobEnd(None, job.tid, job.steps, job.reason, job.limit)
        hit = getattr(job, "hit", None)  # a Watched job's breakpoint
        return JobEnd(hit.text if hit is not None else None)

    def _interrupted(self) -> bool:
        """The Driver's ``cancelled``: a request other than SPEED waits, and stops the job."""
        while self._pending is None and self.conn.poll():
            request = self.conn.recv()
            if request[0] == SPEED:
                self.speed = request[1]
            else:
                self._pending = request
        return self._pending is not None

    def _frame(self, generation: int, snapshot: Snapshot) -> None:
        self._send(("frame", generation, self._feed.wire(snapshot)))

    def _reply(self, value) -> None:
        snapshot = self.session.sim.snapshot() if self.session is not None else None
        self._send(("reply", value, None if snapshot is None else self._feed.wire(snapshot)))

    def _send(self, message: tuple) -> None:
        self.conn.send(message)


# The youngest generation is collected every 100 k new containers, not CPython's 700: this
# process keeps making long-lived ones (checkpoint clones, history samples), which the
# collector only scans to promote.  Measured on the 2 GiB churn under a Timeline with history
# (gc.callbacks, CPU): 205 collections and 0.19 s of 4.1 s at 700; 0.035 s at 100 k.
GC_THRESHOLDS = (100_000, 10, 10)


@contextmanager
def collecting_rarely() -> Iterator[None]:
    """The simulator process's garbage-collector thresholds (GC_THRESHOLDS) for the duration."""
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def main(argv: list[str]) -> None:
    """The process's entry: serve on the inherited socket ``argv[0]`` until told to quit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the UI decides when to stop; it quits this process
    conn = Connection(int(argv[0]))
    try:
        with collecting_rarely():
            SimServer(conn).serve()
    finally:
        conn.close()
