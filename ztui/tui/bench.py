"""`ztui bench --tui`: the TUI's speed while it fast-forwards, measured headless.

bench_tui() runs the real app without a terminal (Textual's headless
driver still lays out and renders every frame), fast-forwards a scenario
and, every ``probe_interval`` seconds, presses a key that moves the
Threads selection.  It reports:

* screen updates per second: frames the app rendered;
* key-press-to-effect latency: from posting the key to the first frame
  rendered after the selection moved (median and worst);
* simulator steps per second while all this goes on.

recorded_run() is the same simulator's work without a UI (its baseline:
the TUI's timeline keeps checkpoints and a step history, which the
headless `ztui run` does not).

When a run reaches its verdict the scenario is reopened and fast-forwarded
again at once, so short scenarios still fill the time.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import attrs

from ztui.scenario.bundled import SCENARIO_DIR
from ztui.tui.app import ZtuiApp
from ztui.tui.panes.threads import ThreadsPane
from ztui.tui.session import Session

# The 2 GiB scenario: the heaviest snapshots and the most steps per second.
BENCH_SCENARIO = SCENARIO_DIR / "swapmeta-kmalloc-obj-churn.toml"
SIZE = (120, 40)


@attrs.define
class _Probe:
    pressed_at: float
    selected_before: int | None


class _MeasuredApp(ZtuiApp):
    """ZtuiApp that notes each rendered frame and when a probed key press first shows."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, keymap={})
        self.frames = 0
        self.probe: _Probe | None = None
        self.latencies: list[float] = []
        self.restart_at_verdict = False
        self.steps_before_restarts = 0
        self.restarts = 0

    def _paused(self, snapshot, end) -> None:
        super()._paused(snapshot, end)
        if self.restart_at_verdict and self.snapshot is not None and self.snapshot.verdict is not None:
            self.steps_before_restarts += self.snapshot.step
            self.restarts += 1
            assert self.scenario_path is not None, "the bench opens a scenario file"
            self.open_scenario(self.scenario_path)
            self.action_fast_forward()

    def _display(self, screen, renderable) -> None:  # Textual's hook for every rendered frame
        super()._display(screen, renderable)
        if renderable is None or self._batch_count:
            return
        self.frames += 1
        probe = self.probe
        if probe is not None and self.query_one(ThreadsPane).selected_tid != probe.selected_before:
            self.latencies.append(time.perf_counter() - probe.pressed_at)
            self.probe = None


def recorded_run(path: Path | None = None) -> dict:
    """The TUI's simulator without the UI: a Session's timeline (checkpoints, step history) to the verdict."""
    session = Session.open(path or BENCH_SCENARIO, None)
    started = time.perf_counter()
    session.timeline.run()
    wall = time.perf_counter() - started
    return {"steps": session.sim.step_count, "wall_s": wall, "steps_per_s": session.sim.step_count / wall}


def bench_tui(seconds: float = 5.0, scenario_path: Path | None = None, probe_interval: float = 0.1) -> dict:
    """Fast-forward in the headless TUI for ``seconds``; figures as a dict (see the module doc)."""
    return asyncio.run(_bench(seconds, scenario_path or BENCH_SCENARIO, probe_interval))


async def _bench(seconds: float, path: Path, probe_interval: float) -> dict:
    app = _MeasuredApp(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        threads = app.query_one(ThreadsPane)
        threads.focus()
        frames_before = app.frames
        probes = 0
        started = time.perf_counter()
        app.restart_at_verdict = True
        app.action_fast_forward()
        while time.perf_counter() - started < seconds:
            await asyncio.sleep(probe_interval)
            if app.probe is None:
                app.probe = _Probe(time.perf_counter(), threads.selected_tid)
                app.simulate_key("down" if probes % 2 == 0 else "up")
                probes += 1
        elapsed = time.perf_counter() - started
        frames = app.frames - frames_before
        app.restart_at_verdict = False
        app.stop()
        steps = app.steps_before_restarts + (app.snapshot.step if app.snapshot else 0)
        latencies = sorted(app.latencies)
    return {
        "scenario": path.stem,
        "seconds": round(elapsed, 2),
        "screen_updates_per_s": round(frames / elapsed, 1),
        "key_latency_median_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "key_latency_max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "key_presses": probes,
        "key_presses_seen": len(latencies),
        "sim_steps_per_s": round(steps / elapsed),
        "restarts": app.restarts,
    }
