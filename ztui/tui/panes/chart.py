"""The chart: free+cache (and free) over steps or simulated time, with every threshold as a labelled line.

A braille line drawn with the line API (2x4 dots a cell): each column
takes the colour the gauge would give its value, so chart and gauge never
disagree.  The y axis either gives each band between two thresholds the
same room (as the gauge does: the low thresholds the deadlock turns on stay
apart) or is linear from zero, zoomed to the thresholds once the values
live there.  The current step is a marked column; a click goes to a step.
"""

from __future__ import annotations

from bisect import bisect_right

from rich.style import Style
from rich.text import Text

from ztui.core.history import HistoryView
from ztui.core.snapshot import Snapshot
from ztui.tui.panes.base import LinePane, Row
from ztui.tui.panes.draw import fit
from ztui.tui.panes.levels import MARKERS, ThresholdScale, level_of
from ztui.tui.panes.plot import (
    STEPS,
    TIME,
    BrailleCanvas,
    ClickToStep,
    XAxis,
    count,
    frame,
    left_margin,
    nice_ticks,
    right_margin,
    sample_at,
)

THRESHOLDS, LINEAR = "thresholds", "linear"
ZOOM_ABOVE_TOP = 5 / 4  # the linear scale's zoomed range: to this far above v_paging_target2


class DotScale:
    """Values to dot rows (0 at the bottom), straight between knots; values past the ends are clipped.

    ``ticks`` are the values the y axis numbers.
    """

    def __init__(self, knots: list[tuple[int, int]], ticks: list[int]) -> None:
        self.knots = knots
        self.ticks = ticks
        self._values = [v for v, _ in knots]

    def __call__(self, value: int) -> int:
        knots = self.knots
        i = bisect_right(self._values, value)
        if i == 0:
            return knots[0][1]
        if i == len(knots):
            return knots[-1][1]
        (v0, d0), (v1, d1) = knots[i - 1], knots[i]
        return d0 + round((d1 - d0) * (value - v0) / (v1 - v0))

    @classmethod
    def thresholds(cls, vm: dict, top: int, plot_rows: int) -> DotScale:
        """Equal room per band; when there are rows enough, every threshold on a row of its own."""
        values = ThresholdScale(vm, top).knots
        bands = len(values) - 1
        top_dot = plot_rows * 4 - 1
        if plot_rows > bands:
            dots = [0] + [round(i * (plot_rows - 1) / bands) * 4 + 1 for i in range(1, bands)] + [top_dot]
        else:
            dots = [round(i * top_dot / bands) for i in range(bands + 1)]
        return cls(list(zip(values, dots)), values)

    @classmethod
    def linear(cls, top: int, plot_rows: int) -> DotScale:
        top = max(top, 1)
        return cls([(0, 0), (top, plot_rows * 4 - 1)], nice_ticks(0, top, max(plot_rows // 3, 1)))


class ChartPane(ClickToStep, LinePane):
    TITLE = "free+cache"
    RESOURCES = frozenset({"free+cache"})
    COMPONENT_CLASSES = LinePane.COMPONENT_CLASSES | {"pane--marker", "pane--free", "pane--step", "pane--cursor"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.x_mode = STEPS
        self.y_mode = THRESHOLDS
        self._axis: XAxis | None = None
        self.border_title = self.title_for()

    def title_for(self) -> str:
        return f"{self.TITLE} over {self.x_mode} · y: {self.y_mode}"

    def content(self, snapshot: Snapshot) -> object:
        view = snapshot.step_history
        return (view.key if view else None), snapshot.step, self.x_mode, self.y_mode

    def set_modes(self, x_mode: str, y_mode: str) -> None:
        self.x_mode, self.y_mode = x_mode, y_mode
        self.border_title = self.title_for()
        self._shown = None
        self.changed()

    def scale_for(self, top: int, current: int, plot_rows: int) -> DotScale:
        """``top``: the largest free+cache drawn; ``current``: free+cache now (the linear scale zooms on it)."""
        vm = self.drawn.vmstats
        if self.y_mode == THRESHOLDS:
            return DotScale.thresholds(vm, top, plot_rows)
        highest = max(vm.get(name, 0) for _, name in MARKERS)
        zoomed = int(highest * ZOOM_ABOVE_TOP)
        return DotScale.linear(zoomed if current <= zoomed else top, plot_rows)

    def rows(self, width: int) -> list[Row]:
        snapshot = self.drawn
        framed = frame(self, width)
        if framed is None:
            return [Row(Text("no history recorded", style=self.style("dim")))]
        view, names, axis = framed
        cells = axis.cells
        height = max(self.size.height, 1)
        plot_rows = height - 1 if height >= 4 else height
        now = sample_at(view, snapshot.step) or view[0]
        free, free_cache = column_ranges(axis, view, cells * 2)
        y_of = self.scale_for(max(high for _, (_, _, high, _) in free_cache), now.free_cache, plot_rows)
        canvas = BrailleCanvas(cells, plot_rows)

        labels: dict[int, list[str]] = {}  # plot row -> threshold names drawn on it
        for _, name in MARKERS:
            y = y_of(self.drawn.vmstats.get(name, 0))
            for x in range(0, canvas.dots_wide, 4):
                canvas.dot(x, y, "marker", 0)
            labels.setdefault(plot_rows - 1 - y // 4, []).append(name)
        vm = snapshot.vmstats
        self._line(canvas, free, y_of, lambda _: "free", 1)
        self._line(canvas, free_cache, y_of, lambda v: level_of(v, vm), 2)
        marker_cell = axis.position(axis.current(view, snapshot.step))
        axis_labels = self._axis_numbers(y_of, plot_rows)
        rows = []
        margin, left = right_margin(width), left_margin(width, names)
        for row in range(plot_rows):
            text = Text(f"{axis_labels.get(row, ''):>{left - 1}}", style=self.style("dim"))
            text.append("┤" if row in axis_labels else "│", style=self.style("dim"))
            self._append_cells(text, canvas, row, marker_cell)
            text.append(" " + self._threshold_label(labels.get(row, []), margin - 1), style=self.style("marker"))
            rows.append(Row(text))
        if height >= 4:
            rows.append(Row(self._x_axis_row(axis, cells, left)))
        return rows

    def _line(self, canvas: BrailleCanvas, columns, y_of, style_of, layer: int) -> None:
        """One series: each dot column spans its samples' lowest to highest value (dips show), joined
        to the next; a column between two samples gets the value interpolated between them."""
        previous = None  # (x, last value, its y)
        for x, (first, low, high, last) in columns:
            if previous is not None:
                x0, v0, y0 = previous
                for xi in range(x0 + 1, x):  # columns without samples
                    vi = v0 + (first - v0) * (xi - x0) // (x - x0)
                    yi = y_of(vi)
                    canvas.vline(xi, y0, yi, style_of(vi), layer)
                    y0 = yi
                canvas.vline(x, y0, y_of(first), style_of(first), layer)
            canvas.vline(x, y_of(low), y_of(high), style_of(low), layer)
            previous = (x, last, y_of(last))

    def _axis_numbers(self, scale: DotScale, plot_rows: int) -> dict[int, str]:
        """Plot row -> the number on the y axis there: the scale's ticks, lowest kept on a clash."""
        numbers: dict[int, str] = {}
        for value in scale.ticks:  # thresholds in full: 1342 and 1349 are both 1.3k
            numbers.setdefault(plot_rows - 1 - scale(value) // 4, f"{value:,}" if value < 10_000_000 else count(value))
        return numbers

    def _append_cells(self, text: Text, canvas: BrailleCanvas, row: int, marker_cell: int) -> None:
        run, run_style = "", None
        style: Style | None
        cursor = self.style("cursor")
        cells = canvas.row(row)
        for column in range(canvas.w):
            char, style_name = cells[column]
            if column == marker_cell:
                style = (self.style(style_name) if style_name else self.style("step")) + cursor
                char = char if char != " " else "│"
            elif char == " " and (run_style is None or run_style.bgcolor is None):
                style = run_style  # a blank takes any colour: it joins the run (fewer spans to render)
            elif char == " ":
                style = None
            else:
                style = self.style(style_name)
            if style is not run_style:  # by identity, cheaper: styles come from one cache
                text.append(run, style=run_style)
                run, run_style = "", style
            run += char
        text.append(run, style=run_style)

    def _threshold_label(self, names: list[str], room: int) -> str:
        """The thresholds drawn on a row: in full if they fit, else the first and the others' letters."""
        if not names or room <= 0:
            return ""
        letters = {name: letter for letter, name in MARKERS}
        if room < 8:
            return "".join(letters[n] for n in names)[:room]
        full = "·".join(names)
        if len(full) <= room:
            return full
        return fit(f"{names[0]} +{''.join(letters[n] for n in names[1:])}", room)

    def _x_axis_row(self, axis: XAxis, cells: int, left: int) -> Text:
        line = [" "] * cells
        for cell, label in axis.labels():
            start = min(cell, cells - len(label))
            if start < 0 or any(c != " " for c in line[max(start - 1, 0):start + len(label) + 1]):
                continue
            line[start:start + len(label)] = label
        text = Text(f"{axis.mode:>{left - 1}} ", style=self.style("dim"))
        text.append("".join(line), style=self.style("dim"))
        return text


def column_ranges(axis: XAxis, view: HistoryView, dots: int) -> tuple[list, list]:
    """For free and for free+cache: (dot column, (first, lowest, highest, last)) per column with samples."""
    free: list[tuple[int, list[int]]] = []
    both: list[tuple[int, list[int]]] = []
    lo, span, by_time = axis.lo, axis.hi - axis.lo, axis.mode == TIME
    for sample in view:
        x = ((sample.time_us if by_time else sample.step) - lo) * dots // span
        x = 0 if x < 0 else dots - 1 if x >= dots else x
        f, fc = sample.free, sample.free + sample.cache
        if free and free[-1][0] == x:
            a, b = free[-1][1], both[-1][1]
            if f < a[1]:
                a[1] = f
            if f > a[2]:
                a[2] = f
            if fc < b[1]:
                b[1] = fc
            if fc > b[2]:
                b[2] = fc
            a[3], b[3] = f, fc
        else:
            free.append((x, [f, f, f, f]))
            both.append((x, [fc, fc, fc, fc]))
    return free, both
