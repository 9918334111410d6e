"""History: free+cache over simulated time, with the paging thresholds as lines."""

from __future__ import annotations

from rich.text import Text

from ztui.core.snapshot import Snapshot
from ztui.tui.panes.base import LinePane, Row
from ztui.tui.panes.draw import seconds
from ztui.tui.panes.queues import MARKERS, ThresholdScale, level_of

_LEVELS = " ▁▂▃▄▅▆▇█"
LABEL_WIDTH = 2


class HistoryPane(LinePane):
    TITLE = "free+cache history"
    RESOURCES = frozenset({"free+cache"})
    COMPONENT_CLASSES = LinePane.COMPONENT_CLASSES | {"pane--marker"}

    def content(self, snapshot: Snapshot) -> object:
        return snapshot.history, snapshot.hz  # the thresholds only change with the scenario, and so does history

    def rows(self, width: int) -> list[Row]:
        height = max(self.size.height, 1)
        with_axis = height >= 4
        chart_height = height - with_axis
        chart_width = max(width - LABEL_WIDTH, 1)
        scale = ThresholdScale(self.snapshot.vmstats)  # as the gauge in Page queues
        columns = self.columns(chart_width)
        lines_at = self.threshold_rows(scale, chart_height)
        styles = {name: self.style(name) for name in ("marker", "good", "warn", "bad")}
        levels = [level_of(value, self.snapshot.vmstats) if value is not None else "" for value in columns]
        rows = []
        for y in range(chart_height):
            level_from_bottom = chart_height - 1 - y
            on_line = level_from_bottom in lines_at
            text = Text()
            run, run_style = "", None  # consecutive cells with one style: one append, not one per cell
            for value, level in zip(columns, levels):
                char, style = self.cell(value, level, level_from_bottom, scale, chart_height, on_line)
                style = styles.get(style)
                if style is not run_style:
                    text.append(run, style=run_style)
                    run, run_style = "", style
                run += char
            text.append(run, style=run_style)
            text.append(f"{lines_at.get(level_from_bottom, ''):<{LABEL_WIDTH}}"[:LABEL_WIDTH], style=styles["marker"])
            rows.append(Row(text))
        if with_axis:
            rows.append(Row(self.axis(chart_width)))
        return rows

    def columns(self, width: int) -> list[int | None]:
        """The lowest free+cache in each column's slice of time (dips are what matter)."""
        history = self.snapshot.history
        if not history:
            return [None] * width
        start, end = history[0][0], max(history[-1][0], history[0][0] + 1)
        columns: list[int | None] = [None] * width
        for tick, value in history:
            column = min((tick - start) * width // (end - start), width - 1)
            low = columns[column]
            columns[column] = value if low is None else min(low, value)
        for i in range(1, width):
            if columns[i] is None:
                columns[i] = columns[i - 1]  # no sample in this slice: the level held
        return columns

    def threshold_rows(self, scale: ThresholdScale, chart_height: int) -> dict[int, str]:
        """Chart row (from the bottom) -> the letters of the thresholds drawn on it, highest first."""
        rows: dict[int, str] = {}
        for letter, name in reversed(MARKERS):
            row = min(int(scale(self.snapshot.vmstats.get(name, 0)) * chart_height), chart_height - 1)
            rows[row] = rows.get(row, "") + letter
        return rows

    @staticmethod
    def cell(value: int | None, level: str, row: int, scale: ThresholdScale, chart_height: int,
             on_line: bool) -> tuple[str, str]:
        """One chart cell: its character and the name of its style ("" for none)."""
        if value is None:
            return " ", ""
        fill = min(max(int(scale(value) * chart_height * 8) - row * 8, 0), 8)
        if fill == 0:
            return ("─", "marker") if on_line else (" ", "")
        return _LEVELS[fill], level

    def axis(self, width: int) -> Text:
        history, hz = self.snapshot.history, self.snapshot.hz
        if not history:
            return Text("no samples yet", style=self.style("dim"))
        left, right = seconds(history[0][0], hz), seconds(history[-1][0], hz)
        return Text(left + right.rjust(max(width - len(left), len(right) + 1)), style=self.style("dim"))
