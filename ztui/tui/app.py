"""`ztui launch`: the Textual app that steps the simulator and shows it as panes.

Processes: the simulator runs in its own process (ztui.tui.simserver,
reached through ztui.tui.simclient), so it does not share a GIL with the
UI.  This process holds only snapshots.  While paused, a key handler
sends a request and waits for the reply (a single step is microseconds).
While running, the server streams snapshots at most FRAME_RATE a second;
any control first stops the run (stop()), which returns once the
simulator is still.  Saving a trace asks where the run stands and replays
it on a fresh simulator in a worker thread here.

Text from files (scenario, process and thread names, paths, keymap and
theme entries) goes through ztui.tui.safe: never markup, controls visible.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from platformdirs import user_downloads_path
from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import CommandPalette
from textual.containers import Grid
from textual.message import Message
from textual.worker import get_current_worker

from ztui.core.snapshot import Snapshot
from ztui.scenario.bundled import default_scenario_path
from ztui.scenario.errors import ScenarioError
from ztui.scenario.load import load_scenario
from ztui.trace import Trace, TraceError, read_trace
from ztui.tui import controls
from ztui.tui.banner import VerdictBanner
from ztui.tui.breakpoints import Breakpoint, BreakpointError, parse
from ztui.tui.commands import ZtuiCommandPalette, ZtuiCommands
from ztui.tui.explain import explain
from ztui.tui.keybar import KeyBar
from ztui.tui.keymap import keymap_path, load_keymap
from ztui.tui.panes.base import Chain, SnapshotPane
from ztui.tui.panes.chart import LINEAR, THRESHOLDS, ChartPane
from ztui.tui.panes.draw import seconds
from ztui.tui.panes.events import EventFilter, EventsPane
from ztui.tui.panes.lanes import LanesPane
from ztui.tui.panes.mapentry import MapEntryPane
from ztui.tui.panes.plot import STEPS, TIME, GoToStep
from ztui.tui.panes.queues import QueuesPane
from ztui.tui.panes.slabs import SlabsPane
from ztui.tui.panes.threads import ThreadsPane
from ztui.tui.safe import capped, visible
from ztui.tui.saving import (
    SaveError,
    default_path,
    save_text,
    save_trace,
    screenshot_directory,
    session_trace,
)
from ztui.tui.screens.help import HelpScreen
from ztui.tui.screens.prompts import BreakpointScreen, FilterScreen, GotoScreen, PickerScreen, SaveScreen
from ztui.tui.screens.text import ProblemsScreen, TextScreen, thread_details
from ztui.tui.session import Opened, ScenarioEntry, TracePoint, available_scenarios
from ztui.tui.simclient import Host, ProcessHost, SimClient, SimulatorLost, ThreadHost
from ztui.tui.simserver import (
    BACK,
    FAST_FORWARD,
    FOLLOW,
    FORCE,
    GOTO,
    OPEN,
    PAST_VERDICT,
    POINT,
    RUN,
    RUNNABLE,
    STEP,
    STOP,
    THREAD,
    JobEnd,
)
from ztui.tui.statusbar import Status, StatusBar
from ztui.tui.themes import (
    BUNDLED_THEMES,
    DEFAULT_THEME,
    VARIABLE_DEFAULTS,
    load_themes,
)

# Run speeds in steps per second; the last one is "as fast as it goes".
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, float("inf"))
DEFAULT_SPEED = 100
FRAME_RATE = 30  # snapshots applied per second while running; the issue asks for at least 20
# A thread holds the GIL for up to this long before the UI thread may take it: the simulator
# when it is served from a thread (ThreadHost), the pipe's reader as it unpickles a frame.
# Python's default, 5 ms, costs every message and timer the UI waits on that much: measured
# with `ztui bench --tui` when the simulator shared this process, 1 ms took frames from 18 to
# 33 a second and key latency from 47 to 11 ms.
GIL_SWITCH_INTERVAL_S = 0.001
# Below this many rows the verdict banner starts as one line (v expands it).
BANNER_FULL_ROWS = 30
EXIT_SIGTERM = 143  # 128 + SIGTERM, as a shell reports it


class SnapshotReady(Message):
    """The simulator sent a new snapshot; it is in the mailbox."""


class RunEnded(Message):
    def __init__(self, generation: int, snapshot: Snapshot, end: JobEnd) -> None:
        super().__init__()
        self.generation = generation
        self.snapshot = snapshot
        self.end = end


class SimulatorGone(Message):
    def __init__(self, lost: SimulatorLost) -> None:
        super().__init__()
        self.lost = lost


class ZtuiApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "ztui"
    BINDINGS = controls.bindings()  # type: ignore[assignment]  # list is invariant; App declares a wider item type
    COMMANDS = App.COMMANDS | {ZtuiCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide"), (200, "-huge")]

    def __init__(
        self,
        scenario_path: Path | None = None,
        seed: int | None = None,
        theme: str | None = None,
        keymap: dict[str, str] | None = None,
        trace: Trace | None = None,
        clock: Callable[[], float] = time.perf_counter,
        in_process: bool = False,
    ) -> None:
        """``keymap`` None reads the user's keymap file (see ztui.tui.keymap).

        ``in_process`` serves the simulator from a thread of this process
        (ThreadHost), paced by ``clock``; otherwise it has its own process,
        on the machine's clock.
        """
        super().__init__()
        self.trace = trace
        self.scenario_path = scenario_path
        self.seed = seed
        self.requested_theme = theme
        self.keymap_overrides = keymap
        self.clock = clock
        self.in_process = in_process
        self.client: SimClient | None = None
        self.session: Opened | None = None
        self.snapshot: Snapshot | None = None
        self.mode = "paused"
        self.speed: float = DEFAULT_SPEED
        self.event_filter = EventFilter()
        self.ztui_theme_names: list[str] = []
        self.breakpoints: list[Breakpoint] = []
        self.x_mode = STEPS
        self.y_mode = THRESHOLDS
        self.banner_expanded: bool | None = None  # None: as the terminal's height suggests
        # Bumped whenever the UI takes the simulator back, so late messages from a stopped run are ignored.
        self._generation = 0
        self._mailbox: tuple[int, Snapshot] | None = None
        self._posted = False
        self._arrivals: deque[tuple[float, int]] = deque(maxlen=FRAME_RATE)  # (wall time, step), for steps/s
        self.keys: dict[str, str] = {}  # control id -> its key as shown, once the keymap is applied

    # -- building -----------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield VerdictBanner(id="banner")
        with Grid(id="panes"):
            # Grid order: the chart over the timeline (their x axes line up), allocators beside them.
            yield QueuesPane(id="queues")
            yield ThreadsPane(id="threads")
            yield ChartPane(id="chart")
            yield SlabsPane(id="slabs")
            yield LanesPane(id="lanes")
            yield MapEntryPane(id="mapentry")
            yield EventsPane(id="events")
        yield KeyBar(id="keybar")

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return VARIABLE_DEFAULTS

    def on_mount(self) -> None:
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        self._handle_sigterm()
        self._install_themes()
        self._install_keymap()
        self.query_one(ThreadsPane).focus()
        # ProcessHost passes a socket to its child and detaches it from the terminal: POSIX only.
        host: Host = ThreadHost(self.clock) if self.in_process or os.name != "posix" else ProcessHost()
        self.client = SimClient(host, self._deliver, self._ended, self._lost)
        if self.trace is not None:
            self.open_trace(self.trace)
        else:
            self.open_scenario(self.scenario_path or default_scenario_path())

    def _handle_sigterm(self) -> None:
        """SIGTERM quits as q does, so Textual restores the terminal (alternate screen, mouse, cursor)."""
        if threading.current_thread() is threading.main_thread():
            try:
                asyncio.get_running_loop().add_signal_handler(
                    signal.SIGTERM, lambda: self.exit(return_code=EXIT_SIGTERM))
            except (NotImplementedError, RuntimeError):  # no signals here (not Unix)
                pass

    def say(self, message: str, **options) -> None:
        """A notification whose text may come from a file: never markup, controls visible."""
        self.notify("\n".join(visible(line) for line in message.split("\n")), markup=False, **options)

    def _install_themes(self) -> None:
        themes, problems = load_themes([BUNDLED_THEMES, Path.cwd() / "themes"])
        for theme in themes:
            self.register_theme(theme)
        self.ztui_theme_names = [theme.name for theme in themes]
        if problems:
            self.say(capped(problems), title="Theme file not loaded", severity="error", timeout=10)
        wanted = self.requested_theme or DEFAULT_THEME
        if wanted not in self.available_themes and f"ztui-{wanted}" in self.available_themes:
            wanted = f"ztui-{wanted}"  # --theme light
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.say(f"No theme {wanted!r}; themes: {', '.join(self.ztui_theme_names)}", severity="error", timeout=10)
            if DEFAULT_THEME in self.available_themes:
                self.theme = DEFAULT_THEME

    def _install_keymap(self) -> None:
        if self.keymap_overrides is None:
            self.keymap_overrides, problems = load_keymap(keymap_path())
            if problems:
                self.say(capped(problems), title="Keymap not fully applied", severity="error", timeout=10)
        self.set_keymap(self.keymap_overrides)
        self.keys = {
            c.id: self.get_key_display(Binding(self.keymap_overrides.get(c.id, c.key).split(",")[0], c.action))
            for c in controls.CONTROLS
        }
        self.query_one(KeyBar).set_keys(self.keys)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(ZtuiCommandPalette(id="--command-palette"))

    # -- scenario -----------------------------------------------------------

    def scenario_entries(self) -> list[ScenarioEntry]:
        return available_scenarios()

    def open_scenario(self, path: Path) -> bool:
        """Load ``path`` and start from step 0; a faulty file is shown, and the current run kept."""
        opened = self._load(path)
        if opened is None:
            return False
        self.scenario_path = path
        self._start_session(opened)
        return True

    def _load(self, path: Path) -> Opened | None:
        """``path`` read and checked here, where a problem can be shown; None if it has one."""
        try:
            return Opened(load_scenario(path), self.seed, path)
        except ScenarioError as error:
            self.push_screen(ProblemsScreen(path, error.problems))
        except OSError as error:
            self.push_screen(ProblemsScreen(path, [str(error)]))
        return None

    def open_trace(self, trace: Trace) -> None:
        """Open a trace at its last step, ready to step back through it, with its breakpoints."""
        self.stop()
        try:
            steps = self._sim().call(FOLLOW, trace)
        except TraceError as error:
            self.push_screen(ProblemsScreen(Path(trace.scenario.name), [str(error)]))
            return
        self.scenario_path = None
        self._opened(Opened(trace.scenario, trace.seed))
        self.breakpoints = []
        for text in trace.breakpoints:
            self.add_breakpoint(text, quiet=True)
        self.say(f"Trace of {trace.scenario.name}: step {steps:,}; b steps back")

    def _start_session(self, opened: Opened) -> None:
        self.stop()
        self._sim().call(OPEN, opened.scenario, opened.seed, opened.source_file)
        self._opened(opened)

    def _opened(self, opened: Opened) -> None:
        self.session = opened
        self._generation += 1
        self._show_current()

    def _sim(self) -> SimClient:
        assert self.client is not None, "the simulator starts when the app mounts"
        return self.client

    # -- running ------------------------------------------------------------

    def stop(self) -> None:
        """Pause: stop the run, and show where it stopped."""
        self._generation += 1  # what the stopped run still sends is ignored
        if self.mode != "paused":
            self._sim().call(STOP)  # returns once the simulator is still
            self._paused(self._sim().snapshot, None)

    def _paused(self, snapshot: Snapshot | None, end: JobEnd | None) -> None:
        self.mode = "paused"
        if snapshot is not None:
            self.show_snapshot(snapshot)
        if end is not None:
            self._report_job_end(end)

    def _report_job_end(self, end: JobEnd) -> None:
        if end.hit is not None and self.snapshot is not None:
            self.say(f"Breakpoint: {end.hit}, at step {self.snapshot.step:,}", timeout=5)
        if end.tid is not None and end.reason:
            name = self.snapshot.threads[end.tid].name if self.snapshot else f"tid {end.tid}"
            why = {"blocked": "it blocked", "done": "its unit of work is done", "verdict": "a verdict stands",
                   "limit": f"{end.limit:,} steps and it still runs"}[end.reason]
            self.say(f"{name} ran {end.steps:,} steps: {why}", timeout=5)

    def start(self, kind: str, argument=None) -> None:
        """Start a job of ``kind`` (ztui.tui.simserver's: it names the mode too) in the simulator."""
        if self.session is None:
            return
        self.stop()
        self.mode = kind
        self._arrivals.clear()
        breakpoints = tuple(bp.text for bp in self.breakpoints) if kind in (RUN, FAST_FORWARD) else ()
        self._sim().start(self._generation, kind, argument, breakpoints, 1 / FRAME_RATE)
        self._update_status()

    def _ended(self, generation: int, snapshot: Snapshot, end: JobEnd) -> None:
        """Reader thread: the job ended by itself (a verdict, a breakpoint, its target) or was stopped."""
        self.post_message(RunEnded(generation, snapshot, end))

    def _lost(self, lost: SimulatorLost) -> None:
        self.post_message(SimulatorGone(lost))

    def _deliver(self, generation: int, snapshot: Snapshot) -> None:
        """Reader thread: leave the newest snapshot; post at most one message until it is taken."""
        self._mailbox = (generation, snapshot)
        if not self._posted:
            self._posted = True
            self.post_message(SnapshotReady())

    def on_snapshot_ready(self, _: SnapshotReady) -> None:
        self._posted = False  # before reading the mailbox, so a newer snapshot gets its own message
        assert self._mailbox is not None, "posted after the mailbox is filled"
        generation, snapshot = self._mailbox
        if generation == self._generation:
            self._arrivals.append((time.perf_counter(), snapshot.step))
            self.show_snapshot(snapshot)

    def on_run_ended(self, message: RunEnded) -> None:
        if message.generation == self._generation:
            self._paused(message.snapshot, message.end)

    def on_simulator_gone(self, message: SimulatorGone) -> None:
        self.exit(return_code=1, message=message.lost.__rich__())  # the line a key handler's SimulatorLost prints

    # -- showing ------------------------------------------------------------

    def _show_current(self) -> None:
        """What the simulator's last reply showed."""
        snapshot = self._sim().snapshot
        if self.session is not None and snapshot is not None:
            self.show_snapshot(snapshot)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        chain = Chain.of(snapshot.verdict)
        with self.batch_update():
            for pane in self.query(".pane").results(SnapshotPane):
                pane.show(snapshot, chain)
            self._retitle_allocator_panes(snapshot)
            self._show_banner()
            self._update_status()

    def _show_banner(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        verdict = snapshot.verdict or snapshot.passed_verdict
        self.query_one(VerdictBanner).show(verdict, snapshot.hz, self._banner_hint(), self._banner_is_expanded(),
                                           passed=snapshot.verdict is None and verdict is not None,
                                           expand_key=self.keys.get("banner", "v"))

    def _banner_is_expanded(self) -> bool:
        if self.banner_expanded is not None:
            return self.banner_expanded
        return self.size.height >= BANNER_FULL_ROWS

    def on_resize(self) -> None:
        self._show_banner()

    def _retitle_allocator_panes(self, snapshot: Snapshot) -> None:
        """Which allocator backs each zone is the point of the experiment: keep it in the titles."""
        self.query_one(SlabsPane).border_title = f"{SlabsPane.TITLE}: {snapshot.swapmeta.kind}"
        self.query_one(MapEntryPane).border_title = f"{MapEntryPane.TITLE}: {snapshot.mapentry.zone.kind}"

    def _banner_hint(self) -> str:
        keys = self.keys
        hint = f"{keys['explain']} explains · {keys['back']} steps back · {keys['reload']} starts again"
        verdict = self.snapshot.verdict if self.snapshot else None
        if verdict is not None and verdict.kind == "livelock":
            hint += f" · {keys['step']} steps on past it"
        return hint

    def _update_status(self) -> None:
        snap = self.snapshot
        status = Status(
            scenario=snap.scenario if snap else "",
            seed=snap.seed if snap else None,
            step=snap.step if snap else 0,
            time=seconds(snap.tick, snap.hz) if snap else "",
            mode=self.mode,
            speed="max" if self.speed == float("inf") else f"{self.speed}/s",
            rate=self._measured_rate(),
            workload=snap.workload if snap else None,
            verdict=snap.verdict.kind if snap and snap.verdict else "",
            passed=snap.passed_verdict.kind if snap and snap.passed_verdict and not snap.verdict else "",
            breakpoints=tuple(bp.text for bp in self.breakpoints),
        )
        self.query_one(StatusBar).set_status(status)

    def _measured_rate(self) -> float:
        if self.mode == "paused" or len(self._arrivals) < 2:
            return 0.0
        (t0, s0), (t1, s1) = self._arrivals[0], self._arrivals[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    # -- controls (actions) ---------------------------------------------------

    def _pause_if_running(self) -> bool:
        """Controls that need the simulator pause a run; True if one was running."""
        if self.mode == "paused":
            return False
        self.stop()
        return True

    def _may_go_on(self) -> bool:
        """False (and why) if a verdict stands that nothing can follow; a livelock is stepped past."""
        assert self.snapshot is not None
        verdict = self.snapshot.verdict
        if verdict is None:
            return True
        if verdict.kind == "livelock":
            self._sim().call(PAST_VERDICT)
            self.snapshot = self._sim().snapshot
            self.say(f"Stepping on past the livelock at step {verdict.step:,}: the run goes on, still livelocked.")
            return True
        self.say(f"The run has ended ({verdict.kind}): nothing can run. {self._banner_hint()}.")
        return False

    def action_step(self) -> None:
        if self._pause_if_running() or self.session is None or not self._may_go_on():
            return
        self._sim().call(STEP)
        self._show_current()

    def action_schedule_selected(self) -> None:
        thread = self.query_one(ThreadsPane).selected
        if thread is not None:
            self.schedule(thread.tid)

    def _runnable_or_say(self, tid: int) -> bool:
        assert self.session is not None and self.snapshot is not None
        thread = next((t for t in self.snapshot.threads if t.tid == tid), None)
        if thread is None or tid not in self._sim().call(RUNNABLE):
            reason = thread.blocked_reason if thread and thread.blocked_reason else "it is not runnable"
            name = thread.name if thread else f"tid {tid}"
            self.say(f"{name} cannot run: {reason}", severity="warning")
            return False
        return True

    def _force(self) -> None:
        """The user picks a thread: another future from here, so the recorded history past here goes."""
        self._sim().call(FORCE)

    def schedule(self, tid: int) -> None:
        """You are the scheduler: thread ``tid`` takes the next step."""
        self._pause_if_running()
        if self.session is None or not self._may_go_on() or not self._runnable_or_say(tid):
            return
        self._force()
        self._sim().call(STEP, tid)
        self._show_current()

    def action_run_selected(self) -> None:
        """Scheduler mode: the selected thread runs until it blocks or finishes a unit of work."""
        self._pause_if_running()
        thread = self.query_one(ThreadsPane).selected
        if self.session is None or thread is None or not self._may_go_on() or not self._runnable_or_say(thread.tid):
            return
        self._force()
        self.start(THREAD, thread.tid)

    def action_toggle_run(self) -> None:
        if self.mode == "run":
            self.stop()
        elif self.session is not None and self._may_go_on():
            self.start(RUN, self.speed)

    def action_fast_forward(self) -> None:
        if self.mode == "fast-forward":
            self.stop()
        elif self.session is not None and self._may_go_on():
            self.start(FAST_FORWARD)

    def action_step_back(self) -> None:
        self._pause_if_running()
        if self.session is None or self.snapshot is None:
            return
        if self.snapshot.step == 0:
            self.say("Already at step 0.")
            return
        self._sim().call(BACK)
        self._show_current()

    def action_goto(self) -> None:
        self._pause_if_running()
        if self.session is not None and self.snapshot is not None:
            self.push_screen(GotoScreen(self.snapshot.step), self.go_to)

    def go_to(self, step: int | None) -> None:
        if step is not None and self.snapshot is not None and step != self.snapshot.step:
            self.start(GOTO, step)

    def on_go_to_step(self, message: GoToStep) -> None:
        self._pause_if_running()
        self.go_to(message.step)

    def action_speed(self, direction: int) -> None:
        index = min(max(SPEEDS.index(self.speed) + direction, 0), len(SPEEDS) - 1)
        self.speed = SPEEDS[index]
        if self.mode == RUN:
            self._sim().set_speed(self.speed)
        self._update_status()

    def action_explain(self) -> None:
        self._pause_if_running()
        if self.snapshot is not None:
            lines = [visible(line) for line in explain(self.snapshot)]
            self.push_screen(TextScreen("Why things wait, at this step", Text("\n".join(lines))))

    def action_toggle_banner(self) -> None:
        self.banner_expanded = not self._banner_is_expanded()
        self._show_banner()

    def action_toggle_x(self) -> None:
        self.x_mode = TIME if self.x_mode == STEPS else STEPS
        self.query_one(ChartPane).set_modes(self.x_mode, self.y_mode)
        self.query_one(LanesPane).set_mode(self.x_mode)

    def action_toggle_y(self) -> None:
        self.y_mode = LINEAR if self.y_mode == THRESHOLDS else THRESHOLDS
        self.query_one(ChartPane).set_modes(self.x_mode, self.y_mode)

    def action_filter_events(self) -> None:
        if self.snapshot is None:
            return
        threads = [t.name for t in self.snapshot.threads]
        subsystems = sorted({event.subsystem for _, event in self.query_one(EventsPane).log_.events})
        self.push_screen(FilterScreen(self.event_filter, threads, subsystems, self.apply_event_filter))

    def filter_events(self, thread: str | None = None, subsystem: str | None = None) -> None:
        self.apply_event_filter(EventFilter(thread, subsystem, self.event_filter.text))

    def apply_event_filter(self, event_filter: EventFilter) -> None:
        self.event_filter = event_filter
        self.query_one(EventsPane).set_filter(event_filter)

    def on_threads_pane_details_requested(self, message: ThreadsPane.DetailsRequested) -> None:
        hz = self.snapshot.hz if self.snapshot else 100
        self.push_screen(TextScreen(f"Thread {message.thread.name}", thread_details(message.thread, hz)))

    def action_zoom(self) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
        elif self.focused is not None:
            self.screen.maximize(self.focused)

    def action_pick_scenario(self) -> None:
        self._pause_if_running()
        self.push_screen(PickerScreen(self.scenario_entries(), self.scenario_path), self._open_picked)

    def _open_picked(self, path: Path | None) -> None:
        if path is not None:
            self.open_scenario(path)

    def action_reload(self) -> None:
        if self.session is None:
            if self.scenario_path is not None:
                self.open_scenario(self.scenario_path)
            return
        source = self.session.source_file  # a file is read again (and may now fail); a trace's scenario is kept
        opened = self.session if source is None else self._load(source)
        if opened is None:
            return
        self._start_session(opened)
        self.say(f"Reloaded {opened.scenario.name}: step 0")

    def action_next_theme(self) -> None:
        if not self.ztui_theme_names:
            return
        names = self.ztui_theme_names
        index = names.index(self.theme) + 1 if self.theme in names else 0
        self.theme = names[index % len(names)]
        self.say(f"Theme {self.theme}", timeout=2)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.keys, str(keymap_path())))

    # -- breakpoints ----------------------------------------------------------

    def action_breakpoint(self) -> None:
        self._pause_if_running()
        if self.snapshot is not None:
            self.push_screen(BreakpointScreen([bp.text for bp in self.breakpoints]), self._breakpoint_chosen)

    def _breakpoint_chosen(self, text: str | None) -> None:
        if text:
            self.add_breakpoint(text)

    def add_breakpoint(self, text: str, quiet: bool = False) -> bool:
        if self.snapshot is None:
            return False
        try:
            breakpoint_ = parse(text, tuple(t.name for t in self.snapshot.threads), self.snapshot.vmstats)
        except BreakpointError as error:
            self.say(str(error), title="Not a breakpoint", severity="error", timeout=10)
            return False
        if breakpoint_ not in self.breakpoints:
            self.breakpoints.append(breakpoint_)
        if not quiet:
            self.say(f"Breakpoint set: {breakpoint_.text}; r and f stop there")
        self._update_status()
        return True

    def clear_breakpoints(self) -> None:
        self.breakpoints = []
        self._update_status()
        self.say("Breakpoints cleared")

    # -- saving -----------------------------------------------------------------

    def _ask_path(self, title: str, suffix: str, then: Callable[[tuple[Path, bool] | None], None]) -> None:
        """Pause, and ask where to save (a safe name in the working directory by default)."""
        self._pause_if_running()
        if self.snapshot is not None:
            path = default_path(self.snapshot.scenario, self.snapshot.step, suffix)
            self.push_screen(SaveScreen(title, path), then)

    def action_save_trace(self) -> None:
        self._ask_path("Save the trace so far", ".trace.gz", self._save_trace_to)

    def _save_trace_to(self, choice: tuple[Path, bool] | None) -> None:
        if choice is not None and self.session is not None:
            point = self._sim().call(POINT)
            self.say(f"Saving the trace to {choice[0]} (replaying {point.step:,} steps)...")
            self._write_trace(self.session, point, tuple(bp.text for bp in self.breakpoints), *choice)

    @work(thread=True, group="save")
    def _write_trace(self, opened: Opened, point: TracePoint, breakpoints: tuple[str, ...], path: Path,
                     overwrite: bool) -> None:
        """Off the UI thread: the replay takes a while on long runs; it uses its own simulator."""
        worker = get_current_worker()
        try:
            trace = session_trace(opened, point, breakpoints, should_stop=lambda: worker.is_cancelled)
            if trace is not None:
                save_trace(trace, path, overwrite)
                self.call_from_thread(self.say, f"Saved {path}: replay it with `ztui replay`, "
                                                f"open it with `ztui launch --trace`")
        except SaveError as error:
            self.call_from_thread(self.say, f"Not saved: {error}", severity="error", timeout=10)

    def action_export_explanation(self) -> None:
        self._ask_path("Export the explanation as text", "-explain.txt", self._export_to)

    def _export_to(self, choice: tuple[Path, bool] | None) -> None:
        if choice is None or self.snapshot is None:
            return
        path, overwrite = choice
        try:
            save_text([visible(line) for line in explain(self.snapshot)], path, overwrite)
        except SaveError as error:
            self.say(f"Not saved: {error}", severity="error", timeout=10)
            return
        self.say(f"Saved {path}")

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """As Textual's, but into the working directory when the usual folder (Downloads) is missing."""
        if path is None:
            try:
                preferred = user_downloads_path()
            except OSError:
                preferred = None
            path = str(screenshot_directory(preferred))
        return super().deliver_screenshot(filename, path, time_format)

    def on_unmount(self) -> None:
        if self.client is not None:  # not stop(): the panes are gone, there is nothing to show
            self.client.close()
        sys.setswitchinterval(self._switch_interval)


def run_app(scenario_path: Path | None, seed: int | None, theme: str | None, trace: Path | None) -> int:
    """Entry point for `ztui launch`; returns the exit code (2: the trace cannot be read; 143: SIGTERM)."""
    loaded = None
    if trace is not None:
        try:
            loaded = read_trace(trace)
        except TraceError as error:
            print(f"ztui: {visible(str(error))}", file=sys.stderr)
            return 2
    app = ZtuiApp(scenario_path, seed=seed, theme=theme, trace=loaded)
    app.run()
    return app.return_code or 0
