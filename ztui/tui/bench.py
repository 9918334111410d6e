"""`ztui bench --tui`: the TUI's speed while it fast-forwards, measured headless.

bench_tui() runs the real app without a terminal (Textual's headless
driver still lays out and renders every frame), fast-forwards a scenario
and, every ``probe_interval`` seconds, presses a key that moves the
Threads selection.  It reports:

* screen updates per second: frames the app rendered, and the CPU this
  process (the UI, its pipe's reader) spent per update;
* key-press-to-effect latency: from posting the key to the first frame
  rendered after the selection moved (median and worst);
* simulator steps per second while all this goes on, per second of wall
  time and per CPU second of the simulator's process (read from /proc:
  None elsewhere), which a busy neighbour on a shared machine does not
  lower.

recorded_run() is the same simulator's work without a UI (its baseline:
the TUI's timeline keeps checkpoints and a step history, which the
headless `ztui run` does not).  bench_tui_rounds() runs the TUI, the
headless simulator and recorded_run() in turn, once per round, and gives
the medians of each round's ratios: a machine whose speed drifts over a
minute moves both sides of a ratio alike.

When a run reaches its verdict the scenario is reopened and fast-forwarded
again at once, so short scenarios still fill the time.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path

import attrs

from ztui.bench import core_run, medians
from ztui.scenario.bundled import SCENARIO_DIR
from ztui.tui.app import ZtuiApp
from ztui.tui.panes.threads import ThreadsPane
from ztui.tui.session import Session
from ztui.tui.simclient import ProcessHost
from ztui.tui.simserver import collecting_rarely

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
    """The TUI's simulator without the UI: a Session's timeline (checkpoints, step history) to the
    verdict, with the simulator process's garbage collection."""
    session = Session.open(path or BENCH_SCENARIO, None)
    with collecting_rarely():
        started, cpu_started = time.perf_counter(), time.process_time()
        session.timeline.run()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    steps = session.sim.step_count
    return {"steps": steps, "wall_s": wall, "steps_per_s": steps / wall, "steps_per_cpu_s": steps / cpu}


def bench_tui_rounds(runs: int, seconds: float) -> dict:
    """``runs`` rounds of bench_tui(), headless core_run(log=True) and recorded_run(): medians of
    the TUI's figures and of each round's ratios (the TUI keeps the event log on, as headless does here)."""
    rounds = [(bench_tui(seconds), core_run(log=True), recorded_run()) for _ in range(runs)]
    return paired_figures(rounds)


def paired_figures(rounds: list[tuple[dict, dict, dict]]) -> dict:
    """bench_tui_rounds()'s figures from its rounds of (tui, headless, recorded)."""
    figures = medians([tui for tui, _, _ in rounds])
    figures["headless_steps_per_s"] = statistics.median(h["steps_per_s"] for _, h, _ in rounds)
    figures["recorded_steps_per_s"] = statistics.median(r["steps_per_s"] for _, _, r in rounds)
    figures["vs_headless"] = statistics.median(t["sim_steps_per_s"] / h["steps_per_s"] for t, h, _ in rounds)
    figures["vs_recorded"] = statistics.median(t["sim_steps_per_s"] / r["steps_per_s"] for t, _, r in rounds)
    per_cpu = [(t["sim_steps_per_cpu_s"], h, r) for t, h, r in rounds if t["sim_steps_per_cpu_s"] is not None]
    if per_cpu:
        figures["vs_headless_per_cpu_s"] = statistics.median(t / h["steps_per_cpu_s"] for t, h, _ in per_cpu)
        figures["vs_recorded_per_cpu_s"] = statistics.median(t / r["steps_per_cpu_s"] for t, _, r in per_cpu)
    return figures


def process_cpu_s(pid: int) -> float | None:
    """User plus system CPU seconds of process ``pid`` so far, from /proc; None without it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14 and 15


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
        pid = app.client.host.process.pid if app.client and isinstance(app.client.host, ProcessHost) else None
        cpu_before = None if pid is None else process_cpu_s(pid)
        started, ui_cpu_started = time.perf_counter(), time.process_time()
        app.restart_at_verdict = True
        app.action_fast_forward()
        while time.perf_counter() - started < seconds:
            await asyncio.sleep(probe_interval)
            if app.probe is None:
                app.probe = _Probe(time.perf_counter(), threads.selected_tid)
                app.simulate_key("down" if probes % 2 == 0 else "up")
                probes += 1
        elapsed, ui_cpu = time.perf_counter() - started, time.process_time() - ui_cpu_started
        cpu_after = None if pid is None else process_cpu_s(pid)
        frames = app.frames - frames_before
        app.restart_at_verdict = False
        app.stop()
        steps = app.steps_before_restarts + (app.snapshot.step if app.snapshot else 0)
        latencies = sorted(app.latencies)
    return {
        "scenario": path.stem,
        "seconds": round(elapsed, 2),
        "screen_updates_per_s": round(frames / elapsed, 1),
        "ui_cpu_ms_per_screen_update": round(ui_cpu / frames * 1000, 1) if frames else None,
        "key_latency_median_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "key_latency_max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "key_presses": probes,
        "key_presses_seen": len(latencies),
        "sim_steps_per_s": round(steps / elapsed),
        "sim_steps_per_cpu_s": (
            None if cpu_before is None or cpu_after is None or cpu_after <= cpu_before
            else round(steps / (cpu_after - cpu_before))
        ),
        "restarts": app.restarts,
    }
