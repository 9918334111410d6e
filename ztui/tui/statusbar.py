"""The status bar: scenario, step, simulated time, run mode, workload progress, breakpoints, verdict."""

from __future__ import annotations

import attrs
from rich.text import Text
from textual.widget import Widget

from ztui.core.snapshot import WorkloadView
from ztui.tui.safe import visible


@attrs.frozen
class Status:
    scenario: str = ""
    seed: int | None = None
    step: int = 0
    time: str = ""
    mode: str = "paused"  # paused, run, fast-forward, go to, thread
    speed: str = ""  # the run speed setting, e.g. "100/s"
    rate: float = 0.0  # measured steps per wall-clock second while running
    workload: WorkloadView | None = None  # how much of the processes' work is done
    verdict: str = ""
    passed: str = ""  # a verdict the run stepped on past
    breakpoints: tuple[str, ...] = ()


MODE_MARK = {"paused": "⏸", "run": "▶", "fast-forward": "⏩", "go to": "↷", "thread": "↦"}


class StatusBar(Widget):
    COMPONENT_CLASSES = {"status--key", "status--verdict", "status--ok", "status--limit"}

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
        text.append(f" {visible(s.scenario) or 'no scenario'}", style=key)
        text.append("  step ")
        text.append(str(s.step), style=key)
        text.append(f"  t={s.time}")
        if s.verdict:
            badge = {"ok": "status--ok", "limit": "status--limit"}.get(s.verdict, "status--verdict")
            text.append("  ")
            text.append(f" {s.verdict.upper()} ", style=self.get_component_rich_style(badge, partial=True))
        elif s.passed:
            text.append(f"  past {s.passed}")
        text.append(f"  {MODE_MARK.get(s.mode, '')} {s.mode}")
        if s.workload is not None and s.workload.phases_total:
            w = s.workload
            text.append(f"  workload {w.fraction:.0%}")
            if s.mode != "paused":
                text.append(f" (phases {w.phases_done}/{w.phases_total}, pages {w.pages_done:,}/{w.pages_total:,})")
        if s.mode != "paused" and s.rate:
            text.append(f"  {_rate(s.rate)} st/s")
        if s.breakpoints:
            more = f" +{len(s.breakpoints) - 1}" if len(s.breakpoints) > 1 else ""
            text.append(f"  ● {visible(s.breakpoints[0])}{more}", style=key)
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
