"""What the chart and the thread timeline share: the x axis over a history, margins, a braille canvas.

Both panes lay out as  | left margin | plot | right margin |  with the same
widths for the same pane width, and map x the same way, so stacked one over
the other their columns line up (as a Perfetto or KernelShark view does).
"""

from __future__ import annotations

from bisect import bisect_right

import attrs
from textual import events
from textual.message import Message

from ztui.core.history import HistoryView, Sample
from ztui.tui.panes.base import SnapshotPane

STEPS, TIME = "steps", "time"


def left_margin(width: int, names: tuple[str, ...] = ()) -> int:
    """Room for thread names (timeline) and y-axis numbers (chart): names in full (up to 15) when wide.

    Both panes pass the snapshot's thread names, so at one width they agree.
    """
    if width < 70:
        return 12
    return min(max(max(map(len, names), default=0) + 1, 12), 16)


def right_margin(width: int) -> int:
    """Room for threshold names (chart) and current states (timeline), when the pane is wide enough."""
    if width < 48:
        return 2
    return min(24, max(width // 4, 22 if width >= 64 else 0))


def plot_width(width: int, names: tuple[str, ...] = ()) -> int:
    return max(width - left_margin(width, names) - right_margin(width), 4)


@attrs.frozen
class XAxis:
    """x positions over a history: by step (default) or by simulated time."""

    mode: str
    lo: int
    hi: int  # > lo
    cells: int

    @classmethod
    def over(cls, view: HistoryView, current_step: int, mode: str, cells: int) -> XAxis:
        first, last = view[0], view[-1]
        if mode == TIME:
            now = _time_at(view, current_step)
            lo, hi = first.time_us, max(last.time_us, now)
        else:
            lo, hi = first.step, max(last.step, current_step)
        return cls(mode, lo, max(hi, lo + 1), max(cells, 1))

    def key(self, sample: Sample) -> int:
        return sample.time_us if self.mode == TIME else sample.step

    def position(self, value: int, resolution: int = 1) -> int:
        """The column (of ``cells * resolution``) that holds ``value``."""
        n = self.cells * resolution
        return min(max((value - self.lo) * n // (self.hi - self.lo), 0), n - 1)

    def value_at(self, column: int, resolution: int = 1) -> int:
        """The first value a column stands for (what a click on it means)."""
        n = self.cells * resolution
        return self.lo + (self.hi - self.lo) * column // n

    def current(self, view: HistoryView, step: int) -> int:
        return _time_at(view, step) if self.mode == TIME else step

    def labels(self) -> list[tuple[int, str]]:
        """(cell, text) tick labels for the axis row: both ends and nice values between."""
        ticks = nice_ticks(self.lo, self.hi, max(self.cells // 12, 1))
        return [(self.position(v), self.format(v)) for v in ticks]

    def format(self, value: int) -> str:
        if self.mode == TIME:
            return f"{value / 1e6:.3g}s" if value else "0s"
        return count(value)


def thread_names(snapshot) -> tuple[str, ...]:
    return tuple(t.name for t in snapshot.threads)


def sample_at(view: HistoryView, step: int) -> Sample | None:
    """The last sample at or before ``step``."""
    i = bisect_right(view, step, key=_step_of)
    return view[i - 1] if i else None


def _step_of(sample: Sample) -> int:
    return sample.step


def _time_at(view: HistoryView, step: int) -> int:
    sample = sample_at(view, step)
    return sample.time_us if sample is not None else view[0].time_us


def count(value: float) -> str:
    """A compact count: 950, 1.2k, 34k, 1.5M."""
    value = int(value)
    if abs(value) < 1000:
        return str(value)
    for unit, size in (("M", 1_000_000), ("k", 1000)):
        if abs(value) >= size:
            scaled = value / size
            return f"{scaled:.1f}{unit}" if abs(scaled) < 10 else f"{scaled:.0f}{unit}"
    return str(value)


def nice_ticks(lo: float, hi: float, n: int) -> list[int]:
    """About ``n`` round values (1, 2, 5 times a power of ten) from ``lo`` to ``hi``, ends included."""
    span = hi - lo
    if span <= 0 or n < 1:
        return [int(lo)]
    raw = span / n
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), 10 * magnitude)
    first = -(-int(lo) // step) * step
    inner = [v for v in range(first, int(hi), step) if v > lo]
    ends = [int(lo), *inner, int(hi)]
    # Drop inner ticks crowding an end.
    return [v for i, v in enumerate(ends) if i in (0, len(ends) - 1) or (v - lo > step / 2 and hi - v > step / 2)]


# Braille: a cell is 2 dots wide and 4 tall; bit for (column, row-from-top).
_DOT = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
# _SPAN[side][low][high]: the bits of the dots ``low..high`` (from the cell's bottom) in one column.
_SPAN = tuple(tuple(tuple(sum(_DOT[side][3 - y] for y in range(low, high + 1)) for high in range(4))
                    for low in range(4)) for side in range(2))


class BrailleCanvas:
    """Dots on a grid of braille cells, y up from the bottom; each cell takes the colour of its top layer."""

    def __init__(self, cells_wide: int, cells_high: int) -> None:
        self.w, self.h = cells_wide, cells_high
        self.bits = [[0] * cells_wide for _ in range(cells_high)]
        self.layer = [[-1] * cells_wide for _ in range(cells_high)]
        self.style = [[""] * cells_wide for _ in range(cells_high)]

    @property
    def dots_wide(self) -> int:
        return self.w * 2

    def dot(self, x: int, y: int, style: str, layer: int = 0) -> None:
        if not (0 <= x < self.w * 2 and 0 <= y < self.h * 4):
            return
        row = self.h - 1 - y // 4
        cell = x // 2
        self.bits[row][cell] |= _DOT[x % 2][3 - y % 4]
        if layer >= self.layer[row][cell]:
            self.layer[row][cell] = layer
            self.style[row][cell] = style

    def vline(self, x: int, y0: int, y1: int, style: str, layer: int = 0) -> None:
        """Dots ``y0..y1`` in column ``x``, a cell at a time."""
        if not 0 <= x < self.w * 2:
            return
        low, high = max(min(y0, y1), 0), min(max(y0, y1), self.h * 4 - 1)
        cell, span = x // 2, _SPAN[x % 2]
        for band in range(low // 4, high // 4 + 1):
            row = self.h - 1 - band
            self.bits[row][cell] |= span[max(low - band * 4, 0)][min(high - band * 4, 3)]
            if layer >= self.layer[row][cell]:
                self.layer[row][cell] = layer
                self.style[row][cell] = style

    def row(self, row: int) -> list[tuple[str, str]]:
        """(character, style name) of each cell of a row; a blank cell is a space with no style."""
        return [(chr(0x2800 + bits), style) if bits else (" ", "") for bits, style in zip(self.bits[row], self.style[row])]


def frame(pane, width: int) -> tuple[HistoryView, tuple[str, ...], XAxis] | None:
    """What a plot pane draws over: its snapshot's history, the thread names and the x axis (None: no history).

    Both panes call it, so their axes agree; it leaves the axis on the pane for ClickToStep.
    """
    snapshot = pane.snapshot
    view = snapshot.step_history
    if view is None or not len(view):
        pane._axis = None
        return None
    names = thread_names(snapshot)
    pane._axis = XAxis.over(view, snapshot.step, pane.x_mode, plot_width(width, names))
    return view, names, pane._axis


class GoToStep(Message):
    """A click on the chart or the timeline: go to this step."""

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step


class ClickToStep(SnapshotPane):
    """Mixed into a plot pane whose ``_axis`` is its last drawn XAxis: a click in the plot goes to that step."""

    _axis: XAxis | None = None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or self._axis is None or self.snapshot is None or self.snapshot.step_history is None:
            return
        column = offset.x - left_margin(self.size.width, thread_names(self.snapshot))
        if 0 <= column < self._axis.cells:
            self.post_message(GoToStep(step_for(self._axis, self.snapshot.step_history, column)))


def step_for(axis: XAxis, view: HistoryView, column: int) -> int:
    """The step a click on ``column`` means: the column's first step, or its first sample's in time."""
    value = axis.value_at(column)
    if axis.mode != TIME:
        return value
    return next((s.step for s in view if s.time_us >= value), view[-1].step)
