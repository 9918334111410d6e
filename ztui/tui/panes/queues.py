"""Page queues: a bar per queue, the free+cache gauge with the paging thresholds, pagedaemon and swap."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from ztui.core.snapshot import Snapshot
from ztui.core.vmstats import THRESHOLD_NAMES
from ztui.tui.panes.base import LinePane, Row
from ztui.tui.panes.draw import bar, ratio, size_of
from ztui.tui.panes.levels import MARKERS, ThresholdScale, level_of
from ztui.tui.panes.plot import count
from ztui.tui.rates import Rates, rates_at

QUEUES = ("free", "cache", "inactive", "active", "wired")

LABEL_WIDTH = 11  # "free+cache "


class QueuesPane(LinePane):
    TITLE = "Page queues"
    rates: Rates | None = None
    RESOURCES = frozenset({"free+cache", "free", "cache", "swap", "pbuf", *THRESHOLD_NAMES})
    COMPONENT_CLASSES = LinePane.COMPONENT_CLASSES | {f"pane--{q}" for q in QUEUES} | {"pane--marker"}

    def content(self, snapshot: Snapshot) -> object:
        self.rates = rates_at(snapshot.step_history, snapshot.step)
        return snapshot.queues, snapshot.vmstats, snapshot.pagedaemon, snapshot.swap, self.rates

    def rows(self, width: int) -> list[Row]:
        snap = self.drawn
        show_size = width >= 52
        number_width = 7 + (7 if show_size else 0)
        bar_width = max(width - LABEL_WIDTH - number_width - 1, 4)
        total = max(sum(snap.queues.values()), 1)
        rows = []
        for rank, queue in zip((2, 2, 3, 3, 3), QUEUES):
            count = snap.queues.get(queue, 0)
            text = Text(f"{queue:<{LABEL_WIDTH}}", style=self.label_style(queue))
            text.append(bar(ratio(count, total), bar_width), style=self.style(queue))
            text.append(self.count_text(count, show_size, number_width))
            rows.append(Row(text, rank))
        rows.append(self.gauge_row(bar_width, show_size, number_width))
        rows.append(Row(self.pagedaemon_text(), 1))
        rows.append(Row(self.swap_text(width), 1))
        if self.rates is not None:
            rows.append(Row(self.rates_text(self.rates), 3))
        rows += [Row(text, 4) for text in self.legend(width)]
        return rows

    def label_style(self, name: str):
        return self.style("chain") if name in self.chain.resources else self.style("label")

    def count_text(self, count: int, show_size: bool, width: int) -> str:
        number = f"{count:>7}"
        if show_size:
            number += f" {size_of(count):>6}"
        return " " + number.rjust(width)

    def gauge_row(self, width: int, show_size: bool, number_width: int) -> Row:
        """free+cache against the thresholds, each a letter drawn at its level (see MARKERS)."""
        vm = self.drawn.vmstats
        free_cache = self.drawn.queues.get("free", 0) + self.drawn.queues.get("cache", 0)
        scale = ThresholdScale(vm)
        fill = self.style(level_of(free_cache, vm))
        cells = list(bar(scale(free_cache), width))
        cells_filled = len("".join(cells).rstrip())
        marks: dict[int, str] = {}
        for letter, name in MARKERS:
            column = min(int(scale(vm.get(name, 0)) * width), width - 1)
            while column in marks and column < width - 1:
                column += 1  # keep close thresholds apart
            marks[column] = name
            cells[column] = letter
        text = Text("free+cache ", style=self.label_style("free+cache"))
        for column, cell in enumerate(cells):
            mark = marks.get(column)
            if mark is None:
                text.append(cell if cell != " " else "·", style=fill if cell != " " else self.style("dim"))
            else:
                marker = self.style("chain") if mark in self.chain.resources else self.style("marker")
                if cells_filled > column:  # a letter inside the bar: dark on the bar's colour
                    marker = Style(color=self.base_style.bgcolor, bgcolor=marker.color if mark in self.chain.resources
                                   else fill.color, bold=True)
                text.append(cell, style=marker)
        text.append(self.count_text(free_cache, show_size, number_width))
        return Row(text, 0)

    def pagedaemon_text(self) -> Text:
        daemon = self.drawn.pagedaemon
        state = daemon.get("state", "?")
        text = Text("pagedaemon ", style=self.label_style("pagedaemon"))
        text.append(f"{state:<8}", style=self.style("good" if state == "IDLE" else "warn"))
        text.append(f" deficit {daemon.get('vm_pageout_deficit', 0)}")
        if daemon.get("vm_pages_needed"):
            text.append(" vm_pages_needed", style=self.style("warn"))
        return text

    def swap_text(self, width: int) -> Text:
        swap = self.drawn.swap
        used, total = swap.get("used", 0), swap.get("total", 0)
        chain = {"swap", "pbuf"} & self.chain.resources
        text = Text("swap       ", style=self.style("chain") if chain else self.style("label"))
        text.append(f"{size_of(used)}/{size_of(total)} {ratio(used, total):.0%}")
        if swap.get("full"):
            text.append(" FULL", style=self.style("bad"))
        elif swap.get("almost_full"):
            text.append(" almost full", style=self.style("warn"))
        if width >= 60:
            text.append(f"  writes {swap.get('writes_in_flight', 0)} pbufs {swap.get('pbufs_free', 0)}",
                        style=self.style("dim"))
        return text

    def rates_text(self, rates: Rates) -> Text:
        """systat -vm style: per simulated second over the last one."""
        text = Text("per second ", style=self.style("label"))
        for label, value, signed in (("flt", rates.faults, False), ("free", rates.free, True),
                                     ("cache", rates.cache, True), ("swpout", rates.swapout, False)):
            text.append(f"{label} ", style=self.style("dim"))
            text.append(f"{'+' if signed and value > 0 else ''}{count(value)}  ")
        text.append("slabs ", style=self.style("dim"))
        text.append(f"{rates.slabs:.2g}")
        return text

    def legend(self, width: int) -> list[Text]:
        """The markers spelled out, packed into as few lines as the width allows."""
        lines: list[Text] = []
        line = Text()
        for letter, name in MARKERS:
            entry = f"{letter} {name} {self.drawn.vmstats.get(name, 0)}"
            if line.cell_len and line.cell_len + 2 + len(entry) > width:
                lines.append(line)
                line = Text()
            if line.cell_len:
                line.append("  ")
            line.append(entry, style=self.style("chain") if name in self.chain.resources else self.style("dim"))
        lines.append(line)
        return lines
