"""Helpers for the TUI tests: all run the real Simulator on the bundled scenarios."""

from __future__ import annotations

import asyncio
import functools
import time
from pathlib import Path

from ztui.scenario.bundled import default_scenario_path
from ztui.tui.app import ZtuiApp
from ztui.tui.session import Session
from ztui.tui.simserver import STOP

DEFAULT = default_scenario_path()
# Runs for minutes without a verdict: for stopping runs and measuring rates.
LONG = Path(__file__).resolve().parent.parent / "data" / "tui-long-churn.toml"
SIZE = (100, 30)


def make_app(path=DEFAULT, **kwargs) -> ZtuiApp:
    # keymap={} keeps the tester's own ~/.config/ztui/keymap.toml out of the tests.
    kwargs.setdefault("keymap", {})
    # The simulator served from a thread: the same requests and pickling as its own process, paced by
    # the test's clock, and open to served().  test_simprocess.py runs the app on a real process.
    kwargs.setdefault("in_process", True)
    return ZtuiApp(path, **kwargs)


def served(app) -> Session:
    """The session the simulator serves: for a test to look inside (the app holds only snapshots)."""
    session = app.client.host.server.session
    assert session is not None, "no scenario is open"
    return session


def show_served(app) -> None:
    """After a test moved served(app) itself: ask for (STOP, a no-op when still) and show its snapshot."""
    app.client.call(STOP)
    app._show_current()


def noted_app(*args, **kwargs) -> ZtuiApp:
    """An app that also keeps its notifications in ``app.noted`` (where problems and results show)."""
    app = make_app(*args, **kwargs)
    app.noted = []
    original = app.notify

    def notify(message, **options):
        app.noted.append(message)
        return original(message, **options)

    app.notify = notify
    return app


async def settled(app, pilot) -> None:
    """Wait until the run the app started has ended and shows, and any worker (a save) is done.

    The simulator's runs are not Textual workers: they end with a message, which puts the app in
    "paused"; messages already posted (a click's go-to) are handled first.
    """
    await pilot.pause()
    await until(lambda: app.mode == "paused")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def to_verdict(app, pilot) -> None:
    """Fast-forward with the f key and wait until the verdict is on screen."""
    await pilot.press("f")
    await settled(app, pilot)
    await pilot.pause()


def pane_text(widget) -> str:
    """What a line-API pane shows right now, as plain text."""
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


class FakeClock:
    """Time that moves only when a test (or a fake sleep) moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def until(condition, timeout: float = 60.0) -> None:
    """Wait for ``condition()``: for a worker to catch up, never for a length of time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        await asyncio.sleep(0.01)


def pilot_test(test):
    """Run an async Pilot test with asyncio.run (the suite has no async pytest plugin)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run
