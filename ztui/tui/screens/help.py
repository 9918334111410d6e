"""Help: every key (as the keymap has it now), the panes, and the gauge's letters."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ztui.tui.controls import CONTROLS
from ztui.tui.panes.lanes import CATEGORIES, LEGEND
from ztui.tui.panes.levels import MARKERS
from ztui.tui.safe import plain

PANE_KEYS = (
    ("tab / shift+tab", "Move between panes."),
    ("up / down, j / k", "Threads: select a thread (its call path shows when there is room)."),
    ("enter", "Threads: details of the selected thread."),
    ("click", "Chart, timeline, event log: go to that step. Drag to select text (it is copied)."),
    ("ctrl+p", "Command palette: every control, scenarios, themes, event filters."),
    ("escape", "Close a dialog, or leave a zoomed pane."),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, keys: dict[str, str], keymap_file: str) -> None:
        super().__init__()
        self.keys = keys  # control id -> key display, after the keymap
        self.keymap_file = keymap_file

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="help") as box:
            box.border_title = "ztui keys"
            box.border_subtitle = "escape closes"
            yield Static(self._controls())
            yield Static(self._markers())

    def _controls(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for control in CONTROLS:
            table.add_row(plain(self.keys.get(control.id, control.key)), Text(control.help))
        for keys, meaning in PANE_KEYS:
            table.add_row(Text(keys), Text(meaning))
        table.add_row(Text(""), plain(f"Keys can be changed in {self.keymap_file} (see ztui/tui/keymap.py).", "dim"))
        return table

    def _markers(self) -> Text:
        text = Text("\nLetters on the free+cache gauge (the chart names the lines in full). Both give each\n"
                    "band between two thresholds the same room, so the low ones stay apart (y: a linear chart):\n",
                    style="bold")
        for letter, name in MARKERS:
            text.append(f"  {letter}  {name}\n", style="")
        text.append("\nThe thread timeline:\n", style="bold")
        for category, meaning in LEGEND:
            text.append(f"  {CATEGORIES[category][0] * 2}  {meaning}\n", style="")
        return text

    def action_close(self) -> None:
        self.dismiss(None)
