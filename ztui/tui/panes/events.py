"""Event log: one kernel-style line per event with its step and thread; filterable, searchable, bounded.

It follows the newest event until scrolled up.  A click on a line goes to
that event's step; dragging selects text, and the selection copies the
lines as shown.
"""

from __future__ import annotations

import textwrap
from collections import deque

import attrs
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from ztui.core.snapshot import EventView, Snapshot
from ztui.tui.panes.base import PANE_COMPONENTS, Chain, SnapshotPane
from ztui.tui.panes.draw import fit
from ztui.tui.panes.plot import GoToStep
from ztui.tui.safe import visible

MAX_EVENTS = 2000
STEP_WIDTH = 8  # "  123456 " before each line
THREAD_WIDTH = 12  # "pagedaemon  ": the two pagers' lines differ by little else
MIN_BODY = 24  # below this the thread column gives way to the text


@attrs.frozen
class EventFilter:
    thread: str | None = None
    subsystem: str | None = None
    text: str | None = None  # a search: lines containing it, in any case

    def accepts(self, event: EventView) -> bool:
        return (
            (self.thread is None or event.thread == self.thread)
            and (self.subsystem is None or event.subsystem == self.subsystem)
            and (not self.text or self.text.casefold() in event.text.casefold())
        )

    def describe(self) -> str:
        parts = [f"thread {self.thread}" if self.thread else "", f"subsystem {self.subsystem}" if self.subsystem else "",
                 f"text {self.text!r}" if self.text else ""]
        return ", ".join(p for p in parts if p)


@attrs.frozen
class _Line:
    seq: int  # the event's position in the log, to drop its lines when it ages out
    prefix: str
    body: str
    event: EventView


class EventLog:
    """The events seen so far, merged from the overlapping windows snapshots carry."""

    def __init__(self, maxlen: int = MAX_EVENTS) -> None:
        self.events: deque[tuple[int, EventView]] = deque(maxlen=maxlen)
        self._next_seq = 0
        self._step = -1

    def merge(self, snapshot: Snapshot) -> list[tuple[int, EventView]]:
        """Take in a snapshot's events; returns the new ones. Going back in time starts afresh."""
        if snapshot.step < self._step:
            self.events.clear()
        self._step = snapshot.step
        incoming = snapshot.events
        if self.events:
            last = self.events[-1][1]
            for i in range(len(incoming) - 1, -1, -1):
                if incoming[i] == last:
                    incoming = incoming[i + 1:]
                    break
            else:
                incoming = tuple(e for e in incoming if e.step > last.step)
        added = []
        for event in incoming:
            added.append((self._next_seq, event))
            self._next_seq += 1
        self.events.extend(added)
        return added

    @property
    def first_seq(self) -> int:
        return self.events[0][0] if self.events else self._next_seq


class EventsPane(SnapshotPane, ScrollView, can_focus=True):
    TITLE = "Events"
    COMPONENT_CLASSES = set(PANE_COMPONENTS) | {"pane--step"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="pane")
        self.border_title = self.TITLE
        self.log_ = EventLog()
        self.filter = EventFilter()
        self._lines: list[_Line] = []
        self._wrap_width = 0
        self._follow = True  # keep the newest event in view until the user scrolls up

    def show(self, snapshot: Snapshot | None, chain: Chain) -> None:
        if snapshot is None:
            self.log_ = EventLog()
            self._lines = []
        else:
            before = len(self.log_.events)
            added = self.log_.merge(snapshot)
            if len(self.log_.events) < before + len(added):  # reset or aged out
                self._drop_aged()
            if self._wrap_width:
                self._lines += self._wrap([(s, e) for s, e in added if self.filter.accepts(e)])
            self._sync_size()
        super().show(snapshot, chain)

    def content(self, snapshot: Snapshot) -> object:
        return snapshot.events

    def set_filter(self, event_filter: EventFilter) -> None:
        self.filter = event_filter
        described = event_filter.describe()
        self.border_title = Text(visible(f"{self.TITLE}: only {described}") if described else self.TITLE)
        self._rewrap()
        self._follow = True
        self._sync_size()
        self.refresh()

    def on_resize(self) -> None:
        if self._text_width() != self._wrap_width:
            self._rewrap()
        self._sync_size()  # a shorter pane (the verdict banner appeared) must still end at the newest

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._follow = new_value >= self.max_scroll_y

    def _text_width(self) -> int:
        return self.size.width - 1  # the vertical scrollbar's column stays free

    def _drop_aged(self) -> None:
        first = self.log_.first_seq
        if self._lines and self._lines[0].seq < first:
            self._lines = [line for line in self._lines if line.seq >= first]
        if not self.log_.events:
            self._lines = []

    def _rewrap(self) -> None:
        self._wrap_width = self._text_width()
        self._lines = self._wrap([(s, e) for s, e in self.log_.events if self.filter.accepts(e)])

    def _wrap(self, events: list[tuple[int, EventView]]) -> list[_Line]:
        thread_width = THREAD_WIDTH if self._wrap_width - STEP_WIDTH - THREAD_WIDTH >= MIN_BODY else 0
        indent = STEP_WIDTH + thread_width
        body_width = max(self._wrap_width - indent, 10)
        lines = []
        for seq, event in events:
            text = visible(event.text)
            for i, body in enumerate(textwrap.wrap(text, body_width, subsequent_indent="  ") or [""]):
                if i == 0:
                    thread = f"{fit(visible(event.thread) or '-', thread_width - 1):<{thread_width}}" if thread_width else ""
                    prefix = f"{event.step:>{STEP_WIDTH - 1}} {thread}"
                else:
                    prefix = " " * indent
                lines.append(_Line(seq, prefix, body, event))
        return lines

    def _sync_size(self) -> None:
        self.virtual_size = Size(self._wrap_width, len(self._lines))
        if self._follow:
            # force: the scrollbars are only re-evaluated at the next layout...
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
            self.call_after_refresh(self._after_layout)

    def _after_layout(self) -> None:
        """...which may change the height, and show a scrollbar that missed the scroll."""
        if self._follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = y + round(self.scroll_y)
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, self.base_style)
        line = self._lines[index]
        text = Text(line.prefix, style=self.style("step"))
        if line.event.subsystem == "verdict":
            style = self.style("bad")
        elif line.event.thread in self.chain.threads:
            style = self.style("chain")
        else:
            style = None
        text.append(line.body, style=style)
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(index)) is not None:
            start, end = span
            text.stylize(self.screen.get_component_rich_style("screen--selection"), start,
                         len(text) if end == -1 else end)
        return self.to_strip(text, width).apply_offsets(0, index)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected lines as shown (step, thread, text), not the widget's name."""
        return selection.extract("\n".join(line.prefix + line.body for line in self._lines)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        """A click (not a drag) on a line goes to its event's step."""
        offset = event.get_content_offset(self)
        if offset is None or self.screen.get_selected_text():
            return
        index = offset.y + round(self.scroll_y)
        if 0 <= index < len(self._lines):
            self.post_message(GoToStep(self._lines[index].event.step))
