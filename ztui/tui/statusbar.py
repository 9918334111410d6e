"""The status bar: scenario, seed, step, simulated time, run mode and speed, verdict."""

from __future__ import annotations

import attrs
from rich.text import Text
from textual.widget import Widget


@attrs.frozen
class Status:
    scenario: str = ""
    seed: int | None = None
    step: int = 0
    time: str = ""
    mode: str = "paused"  # paused, run, fast-forward, go to
    speed: str = ""  # the run speed setting, e.g. "100/s"
    rate: float = 0.0  # measured steps per wall-clock second while running
    progress: float | None = None  # fast-forward: the share of the scenario's limits used
    verdict: str = ""


MODE_MARK = {"paused": "⏸", "run": "▶", "fast-forward": "⏩", "go to": "↷"}


class StatusBar(Widget):
    COMPONENT_CLASSES = {"status--key", "status--verdict"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.status = Status()

    def set_status(self, status: Status) -> None:
        if status != self.status:
            self.status = status
            self.refresh()

    def render(self) -> Text:
        """Most important first: a narrow terminal cuts the end of the line."""
        s = self.status
        key = self.get_component_rich_style("status--key", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {s.scenario or 'no scenario'}", style=key)
        text.append("  step ")
        text.append(str(s.step), style=key)
        text.append(f"  t={s.time}")
        if s.verdict:
            text.append("  ")
            text.append(f" {s.verdict.upper()} ", style=self.get_component_rich_style("status--verdict", partial=True))
        text.append(f"  {MODE_MARK.get(s.mode, '')} {s.mode}")
        if s.mode == "fast-forward" and s.progress is not None:
            text.append(f" {s.progress:.0%} of limits")
        if s.mode != "paused" and s.rate:
            text.append(f" {_rate(s.rate)} st/s")
        if s.mode in ("paused", "run"):  # the speed the run key uses; meaningless flat out
            text.append(f"  speed {s.speed}")
        if s.seed is not None:
            text.append(f"  seed {s.seed}")
        return text


def _rate(rate: float) -> str:
    if rate >= 1e6:
        return f"{rate / 1e6:.1f}M"
    if rate >= 1e3:
        return f"{rate / 1e3:.1f}k"
    return f"{rate:.0f}"
