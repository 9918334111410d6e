"""The thread timeline: one lane per thread, coloured by what it was doing, over steps or time.

As Perfetto and KernelShark draw a scheduler trace: a block where the
thread ran, a low bar where it was runnable but waiting for the CPU, and a
flat line where it slept, red when it slept waiting for memory (vm_wait,
vm_wait_pfault).  A wedge shows as lanes going flat.  Each cell shows what
the thread did most in its stretch of samples.  A click goes to that step.
"""

from __future__ import annotations

from rich.text import Text

from ztui.core.history import HistoryView, LaneState
from ztui.core.snapshot import Snapshot, ThreadView
from ztui.tui.panes.base import LinePane, Row
from ztui.tui.panes.draw import fit
from ztui.tui.panes.plot import STEPS, TIME, ClickToStep, XAxis, frame, left_margin, right_margin, thread_names

MEMORY_WAITS = frozenset({"vmwait", "VMWait", "pfault"})
IO_WAITS = frozenset({"biord", "swread", "vmpfw", "vmopar", "objtrm1", "objtrm2", "wswbuf2", "zgetlk"})
# Lane categories: glyph and style, most telling first (a tie in a cell goes to the earlier one).
CATEGORIES = {
    "run": ("█", "lane-run"),
    "ready": ("▄", "lane-ready"),
    "memory": ("━", "lane-memory"),
    "io": ("▂", "lane-io"),
    "asleep": ("─", "lane-asleep"),
    "exited": (" ", ""),
}
LEGEND = (("run", "ran"), ("ready", "runnable"), ("memory", "waits for memory"), ("io", "I/O or a lock"),
          ("asleep", "asleep"))


def category(lane: LaneState) -> str:
    if lane.state == "Z":
        return "exited"
    if lane.state == "R":
        return "run" if lane.running else "ready"
    if lane.wmesg in MEMORY_WAITS:
        return "memory"
    if lane.wmesg in IO_WAITS or lane.state == "D":
        return "io"
    return "asleep"


class LanesPane(ClickToStep, LinePane):
    TITLE = "Thread timeline"
    COMPONENT_CLASSES = LinePane.COMPONENT_CLASSES | {
        "pane--step", "pane--cursor", *(f"pane--{style}" for _, style in CATEGORIES.values() if style)
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.x_mode = STEPS
        self._axis: XAxis | None = None

    def content(self, snapshot: Snapshot) -> object:
        view = snapshot.step_history
        return (view.key if view else None), snapshot.step, snapshot.threads, self.x_mode

    def set_mode(self, x_mode: str) -> None:
        self.x_mode = x_mode
        self.border_title = f"{self.TITLE} over {x_mode}"
        self._shown = None
        self.changed()

    def rows(self, width: int) -> list[Row]:
        snapshot = self.drawn
        framed = frame(self, width)
        if framed is None:
            return [Row(Text("no history recorded", style=self.style("dim")))]
        view, names, axis = framed
        lanes = lane_kinds(view, axis, len(snapshot.threads))
        marker = axis.position(axis.current(view, snapshot.step))
        margin = right_margin(width)
        rows = []
        for thread in snapshot.threads:
            rank = 0 if thread.name in self.chain.threads or thread.tid < 2 else 1
            rows.append(Row(self.lane_text(thread, lanes[thread.tid], marker, margin, left_margin(width, names)), rank))
        rows.append(Row(self.legend(width), 3))
        return rows

    def lane_text(self, thread: ThreadView, kinds: list[str], marker: int, margin: int, left: int) -> Text:
        in_chain = thread.name in self.chain.threads
        text = Text(f"{fit(thread.name, left - 1):<{left}}", style=self.style("chain" if in_chain else "label"))
        run, run_style = "", None
        for column, kind in enumerate(kinds):
            glyph, style_name = CATEGORIES[kind]
            style = self.style(style_name) if style_name else None
            if column == marker:
                glyph = glyph if glyph != " " else "│"
                style = (style or self.style("step")) + self.style("cursor")
            if style is not run_style:  # by identity, cheaper: styles come from one cache
                text.append(run, style=run_style)
                run, run_style = "", style
            run += glyph
        text.append(run, style=run_style)
        if margin >= 6:  # where it is now; its wmesg too when there is room
            now = f"{thread.function} {thread.wmesg}".strip()
            text.append(" " + fit(now if len(now) < margin else thread.function, margin - 1), style=self.style("dim"))
        return text

    def legend(self, width: int) -> Text:
        text = Text(" " * left_margin(width, thread_names(self.drawn)))
        for name, meaning in LEGEND:
            glyph, style = CATEGORIES[name]
            if text.cell_len + len(meaning) + 4 > width:
                break
            text.append(glyph * 2, style=self.style(style))
            text.append(f" {meaning}  ", style=self.style("dim"))
        return text


def lane_kinds(view: HistoryView, axis: XAxis, threads: int) -> list[list[str]]:
    """Per thread, per column: the category it spent most samples in (ties to the more telling one).

    A column without samples holds the one before; past the last sample nothing is known yet.
    """
    order = list(CATEGORIES)
    kind_of = [order.index(category(state)) for state in view.states]
    per_column: list[dict[tuple, int]] = [{} for _ in range(axis.cells)]
    lo, span, cells, by_time = axis.lo, axis.hi - axis.lo, axis.cells, axis.mode == TIME
    for sample in view:  # samples in a column mostly repeat a few lane tuples: count those
        column = ((sample.time_us if by_time else sample.step) - lo) * cells // span
        tally = per_column[0 if column < 0 else cells - 1 if column >= cells else column]
        tally[sample.lanes] = tally.get(sample.lanes, 0) + 1
    last_known = max((i for i, tally in enumerate(per_column) if tally), default=-1)
    exited = len(order) - 1
    lanes: list[list[str]] = [[] for _ in range(threads)]
    last = [exited] * threads
    for column, tally in enumerate(per_column):
        if tally:
            counts = [[0] * len(order) for _ in range(threads)]
            for codes, n in tally.items():
                for tid, code in enumerate(codes[:threads]):
                    counts[tid][kind_of[code]] += n
            last = [c.index(max(c)) for c in counts]  # the first of the most: ties go to the more telling
        elif column > last_known:
            last = [exited] * threads
        for tid in range(threads):
            lanes[tid].append(order[last[tid]])
    return lanes
