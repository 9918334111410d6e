"""The simulator in its own process: the protocol, the history deltas, the process's life and death."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tui_support import DEFAULT, LONG, SIZE, FakeClock, make_app, pilot_test, to_verdict, until

from ztui.core.simulator import Simulator
from ztui.core.snapshot import EventView
from ztui.scenario.load import load_scenario
from ztui.tui.simclient import EventMirror, HistoryMirror, ProcessHost, SimClient, SimulatorLost, ThreadHost
from ztui.tui.simserver import FAST_FORWARD, OPEN, POINT, RUN, STEP, STOP, EventFeed, HistoryFeed

REPO = Path(__file__).resolve().parents[2]


def client(host) -> tuple[SimClient, list, list]:
    frames: list = []
    ends: list = []
    return SimClient(host, lambda g, s: frames.append((g, s)), lambda g, s, e: ends.append((g, s, e)),
                     lambda lost: None), frames, ends


def open_default(sim_client: SimClient, path: Path = DEFAULT) -> None:
    sim_client.call(OPEN, load_scenario(path), None, path)


def headless(path: Path, steps: int) -> Simulator:
    sim = Simulator.from_scenario(load_scenario(path))
    sim.run(max_steps=steps)
    return sim


def test_history_deltas_rebuild_every_view_and_never_change_one_shown():
    """Through thinning (capacity 16 doubles ``every``) and a rewind (a forced thread), each mirrored view
    holds the recorder's samples; a view already handed out keeps its own."""
    sim = Simulator.from_scenario(load_scenario(DEFAULT))
    history = sim.record_history(capacity=16)
    feed, mirror = HistoryFeed(), HistoryMirror()
    shown = []
    for round_ in range(40):
        sim.run(max_steps=97)
        if round_ == 25:
            history.rewind(sim.step_count - 300)
        view = sim.history_view()
        delta = feed.delta(view)
        mirrored = mirror.view(delta)
        assert list(mirrored) == list(view) and mirrored.every == view.every
        assert mirrored.states == view.states and mirrored.threads == view.threads
        shown.append((mirrored, list(mirrored)))
    assert history.every > 1, "the history never thinned"
    for mirrored, samples in shown:
        assert list(mirrored) == samples


def test_a_delta_carries_only_what_is_new():
    sim = Simulator.from_scenario(load_scenario(DEFAULT))
    sim.record_history()
    feed = HistoryFeed()
    sim.run(max_steps=200)
    first = feed.delta(sim.history_view())
    sim.run(max_steps=50)
    view = sim.history_view()
    second = feed.delta(view)
    assert first.samples_reset and first.states_reset
    assert not second.samples_reset and not second.states_reset
    assert len(first.samples) + len(second.samples) == len(view)
    assert 0 < len(second.samples) < len(first.samples)


def events(first: int, last: int) -> list[EventView]:
    return [EventView(step, step, "pagedaemon", "pageout", f"event {step}") for step in range(first, last)]


def test_event_deltas_rebuild_every_window_forwards_and_after_jumps_back():
    """Windows of up to 4 over a log: growing and sliding forwards, a replay from a checkpoint that
    holds the newest event sent (its new objects follow it), and windows that must be sent whole."""
    run = events(0, 10)
    replay = run[:5] + events(5, 9)  # from a checkpoint after step 4: steps 5-8 logged again, as new objects
    windows = [
        (tuple(run[0:2]), 0),  # the first: all new
        (tuple(run[0:4]), 2),  # forwards: two more
        (tuple(run[1:5]), 3),  # forwards: one more, the oldest dropped
        (tuple(replay[2:6]), 3),  # the replay: after what the checkpoint shares, one new object
        (tuple(run[6:10]), 0),  # the newest sent is not in the window (the run the replay left)
        (tuple(events(0, 3)), 0),  # a new run shares no object
        (tuple(run[1:3]), 0),
        (tuple(run[0:6]), 0),  # a window reaching further back than the one sent: sent whole
    ]
    feed, mirror = EventFeed(), EventMirror()
    for window, kept in windows:
        delta = feed.delta(window)
        assert delta.kept == kept and mirror.events(delta) == window


def test_a_run_in_the_process_stops_where_headless_stepping_gives_the_same_state():
    sim_client, frames, ends = client(ProcessHost())
    try:
        open_default(sim_client, LONG)
        sim_client.start(1, FAST_FORWARD, None, (), 1 / 30)
        deadline = time.monotonic() + 60
        while len(frames) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert frames, "no frame came"
        sim_client.call(STOP)
        assert len(ends) == 1 and ends[0][0] == 1, "the stopped job did not say it ended"
        point = sim_client.call(POINT)
        assert point.step == sim_client.snapshot.step > 0
        assert point.state_hash == headless(LONG, point.step).state_hash()
        sim_client.call(STEP)
        assert sim_client.snapshot.step == point.step + 1
    finally:
        sim_client.close()
    assert sim_client.host.process.returncode == 0


def test_a_speed_change_reaches_a_paced_run_without_stopping_it():
    clock = FakeClock()  # never moves: the run takes no step, and ends only when stopped
    host = ThreadHost(clock)
    sim_client, _, ends = client(host)
    try:
        open_default(sim_client)
        sim_client.start(1, RUN, 100, (), 1 / 30)
        sim_client.set_speed(200)
        deadline = time.monotonic() + 30
        while host.server.speed != 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert host.server.speed == 200 and not ends
        sim_client.call(STOP)
        assert len(ends) == 1
    finally:
        sim_client.close()


def test_a_bug_in_the_simulator_is_reported_not_a_hang():
    sim_client, _, _ = client(ProcessHost())
    try:
        open_default(sim_client)
        with pytest.raises(SimulatorLost) as crash:
            sim_client.call("no-such-request")
        # Raised in a key handler, Textual ends the app printing __rich__: one line, no traceback.
        assert crash.value.__rich__().plain == "ztui: the simulator failed: ValueError: no such request: 'no-such-request'"
        with pytest.raises(SimulatorLost):
            sim_client.call(STEP)  # the process is gone: an error, at once
    finally:
        sim_client.close()
    assert sim_client.host.process.returncode not in (None, 0)


def test_the_process_ends_when_the_ui_is_killed(tmp_path):
    """SIGKILL to the UI: the server sees its pipe close and exits (it is in its own session, so nothing
    else would tell it)."""
    program = textwrap.dedent("""
        import sys, time
        from ztui.tui.simclient import ProcessHost, SimClient
        host = ProcessHost()
        SimClient(host, print, print, print)
        print(host.process.pid, flush=True)
        time.sleep(600)
    """)
    ui = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True, cwd=REPO)
    server_pid = int(ui.stdout.readline())
    os.kill(ui.pid, signal.SIGKILL)
    ui.wait()
    ui.stdout.close()
    deadline = time.monotonic() + 30
    while alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(server_pid)


def alive(pid: int) -> bool:
    """Not a zombie either: the server's parent is gone, so init reaps it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pilot_test
async def test_the_app_on_a_real_process_reaches_the_verdict_headless_stepping_gives():
    app = make_app(in_process=False)
    async with app.run_test(size=SIZE) as pilot:
        await to_verdict(app, pilot)
        await until(lambda: app.mode == "paused")
        verdict = app.snapshot.verdict
        assert verdict is not None
        sim = Simulator.from_scenario(load_scenario(DEFAULT))
        sim.run()
        assert (verdict.kind, verdict.step) == (sim.verdict.kind, sim.verdict.step)
        assert app.client.call(POINT).state_hash == sim.state_hash()
        process = app.client.host.process
    assert process.returncode == 0, "quitting did not end the simulator's process"


@pilot_test
async def test_a_lost_simulator_ends_the_app_with_a_message():
    app = make_app(in_process=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        os.kill(app.client.host.process.pid, signal.SIGKILL)
        await until(lambda: app.return_code is not None)
    assert app.return_code == 1




@pilot_test
async def test_without_posix_the_simulator_is_served_from_a_thread(monkeypatch):
    import types

    import ztui.tui.app as app_module

    monkeypatch.setattr(app_module, "os", types.SimpleNamespace(name="nt"))
    app = make_app(in_process=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.client.host, ThreadHost) and app.snapshot.step == 0
