"""History: free+cache over simulated time, with the paging thresholds as lines."""

from __future__ import annotations

from rich.text import Text

from ztui.tui.panes.base import LinePane, Row
from ztui.tui.panes.draw import seconds
from ztui.tui.panes.queues import MARKERS, level_of

_LEVELS = " ▁▂▃▄▅▆▇█"
LABEL_WIDTH = 2


class HistoryPane(LinePane):
    TITLE = "free+cache history"
    RESOURCES = frozenset({"free+cache"})
    COMPONENT_CLASSES = LinePane.COMPONENT_CLASSES | {"pane--marker"}

    def rows(self, width: int) -> list[Row]:
        height = max(self.size.height, 1)
        with_axis = height >= 4
        chart_height = height - with_axis
        chart_width = max(width - LABEL_WIDTH, 1)
        vm = self.snapshot.vmstats
        # The same zoom as the gauge in Page queues: target2 at 80 % of the height.
        top = max(vm.get("v_paging_target2", 1) * 5 // 4, 1)
        columns = self.columns(chart_width)
        lines_at = self.threshold_rows(top, chart_height)
        rows = []
        for y in range(chart_height):
            level_from_bottom = chart_height - 1 - y
            text = Text()
            for value in columns:
                text.append(*self.cell(value, level_from_bottom, top, chart_height, level_from_bottom in lines_at))
            text.append(f"{lines_at.get(level_from_bottom, ''):<{LABEL_WIDTH}}"[:LABEL_WIDTH], style=self.style("marker"))
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

    def threshold_rows(self, top: int, chart_height: int) -> dict[int, str]:
        """Chart row (from the bottom) -> the letters of the thresholds drawn on it, highest first."""
        rows: dict[int, str] = {}
        for letter, name in reversed(MARKERS):
            row = min(self.snapshot.vmstats.get(name, 0) * chart_height // top, chart_height - 1)
            rows[row] = rows.get(row, "") + letter
        return rows

    def cell(self, value: int | None, row: int, top: int, chart_height: int, on_line: bool):
        if value is None:
            return (" ",)
        eighths = value * chart_height * 8 // top - row * 8
        fill = min(max(eighths, 0), 8)
        if fill == 0:
            return ("─", self.style("marker")) if on_line else (" ",)
        return (_LEVELS[fill], self.style(level_of(value, self.snapshot.vmstats)))

    def axis(self, width: int) -> Text:
        history, hz = self.snapshot.history, self.snapshot.hz
        if not history:
            return Text("no samples yet", style=self.style("dim"))
        left, right = seconds(history[0][0], hz), seconds(history[-1][0], hz)
        return Text(left + right.rjust(max(width - len(left), len(right) + 1)), style=self.style("dim"))
