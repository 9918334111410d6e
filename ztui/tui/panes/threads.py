"""Threads: a row per kernel thread, the next one to run marked, one selected for details."""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message

from ztui.core.snapshot import Snapshot, ThreadView
from ztui.tui.panes.base import LinePane, Row
from ztui.tui.panes.draw import fit, seconds

NEXT_MARK = "▶"


class ThreadsPane(LinePane):
    TITLE = "Threads"
    COMPONENT_CLASSES = LinePane.COMPONENT_CLASSES | {"pane--cursor", "pane--header"}
    BINDINGS = [
        Binding("up,k", "move(-1)", "Previous thread", show=False),
        Binding("down,j", "move(1)", "Next thread", show=False),
        Binding("enter", "details", "Thread details", show=False),
    ]

    class DetailsRequested(Message):
        def __init__(self, thread: ThreadView) -> None:
            super().__init__()
            self.thread = thread

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.selected_tid: int | None = None
        self._first_row_shown = 0

    def content(self, snapshot: Snapshot) -> object:
        return snapshot.threads, snapshot.hz

    @property
    def selected(self) -> ThreadView | None:
        threads = self.snapshot.threads if self.snapshot else ()
        return next((t for t in threads if t.tid == self.selected_tid), threads[0] if threads else None)

    def action_move(self, delta: int) -> None:
        threads = self.snapshot.threads if self.snapshot else ()
        if not threads:
            return
        current = self.selected
        index = threads.index(current) if current in threads else 0
        self.selected_tid = threads[min(max(index + delta, 0), len(threads) - 1)].tid
        self.changed()

    def action_details(self) -> None:
        if self.selected is not None:
            self.post_message(self.DetailsRequested(self.selected))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        threads = self.snapshot.threads if self.snapshot else ()
        if offset is None or offset.y == 0:  # outside, or the header row
            return
        index = self._first_row_shown + offset.y - 1
        if index < len(threads):
            self.selected_tid = threads[index].tid
            self.changed()

    def rows(self, width: int) -> list[Row]:
        threads = self.drawn.threads
        selected = self.selected
        columns = Columns(width, self.drawn.hz, max((len(t.name) for t in threads), default=10))
        rows = [Row(Text(columns.header(), style=self.style("header")), 0)]
        height = self.size.height
        room_for_threads = max(height - 1, 1)
        # Scroll only as far as needed to keep the selected thread in view.
        index = threads.index(selected) if selected in threads else 0
        first = self._first_row_shown
        if index < first:
            first = index
        elif index >= first + room_for_threads:
            first = index - room_for_threads + 1
        first = max(0, min(first, len(threads) - room_for_threads))
        self._first_row_shown = first
        for thread in threads[first:first + room_for_threads]:
            rows.append(Row(self.thread_text(thread, columns, thread is selected), 0))
        if selected is not None and len(rows) < height:
            rows += [Row(text, 1) for text in self.detail_texts(selected, width)]
        return rows

    def thread_text(self, thread: ThreadView, columns: Columns, is_selected: bool) -> Text:
        text = Text(columns.row(thread))
        if thread.name in self.chain.threads:
            text.stylize(self.style("chain"))
        elif thread.is_next:
            text.stylize(self.style("next"))
        elif not thread.runnable:
            text.stylize(self.style("dim"))
        if is_selected:
            text.stylize(self.style("cursor"))
        return text

    def detail_texts(self, thread: ThreadView, width: int) -> list[Text]:
        path = " › ".join(thread.callpath) or thread.function
        lines = [Text(fit(f"{thread.name} (tid {thread.tid}, nice {thread.nice})", width), style=self.style("label"))]
        for line in textwrap.wrap(path, width - 2) or [""]:
            lines.append(Text("  " + line))
        reason = thread.blocked_reason or "runnable"
        for line in textwrap.wrap(reason, width - 2):
            lines.append(Text("  " + line, style=self.style("warn" if thread.blocked_reason else "good")))
        return lines


class Columns:
    """The table's columns for a given width: the essential ones first, the rest as room allows."""

    def __init__(self, width: int, hz: int, longest_name: int = 10) -> None:
        self.hz = hz
        # Names in full when there is room (kmalloc_poller is 14), else cut to 10.
        self.name = min(max(longest_name, 10), 20) + 1 if width >= 70 else 11
        self.wmesg = 7
        fixed = 2 + self.name + 2 + self.wmesg  # mark, name, state, wmesg
        spare = max(width - fixed, 10)
        self.slept = 8 if spare >= 34 else 0
        self.wchan = 26 if spare >= 34 + 8 + 26 + 8 else 0
        self.tid = 4 if spare >= 34 + 8 + 26 + 8 + 4 else 0
        self.doing = spare - self.slept - self.wchan - self.tid

    def header(self) -> str:
        text = "  " + f"{'NAME':<{self.name}}S {'WMESG':<{self.wmesg}}"
        text += f"{'FUNCTION':<{self.doing}}"
        if self.slept:
            text += f"{'SLEPT':>{self.slept - 1}} "
        if self.wchan:
            text += f"{'WCHAN':<{self.wchan}}"
        if self.tid:
            text += f"{'TID':>{self.tid}}"
        return text

    def row(self, thread: ThreadView) -> str:
        doing = thread.function + (f" {thread.progress}" if thread.progress else "")
        text = (NEXT_MARK if thread.is_next else " ") + " "
        text += f"{fit(thread.name, self.name - 1):<{self.name}}{thread.state:<2}"
        text += f"{fit(thread.wmesg, self.wmesg - 1):<{self.wmesg}}"
        text += f"{fit(doing, self.doing - 1):<{self.doing}}"
        if self.slept:
            slept = seconds(thread.slept_ticks, self.hz) if thread.slept_ticks else ""
            text += f"{slept:>{self.slept - 1}} "
        if self.wchan:
            text += f"{fit(thread.wchan, self.wchan - 1):<{self.wchan}}"
        if self.tid:
            text += f"{thread.tid:>{self.tid}}"
        return text
