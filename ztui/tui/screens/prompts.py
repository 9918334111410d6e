"""Modal screens that ask something: go to a step, filter the event log, pick a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ztui.tui.panes.events import EventFilter
from ztui.tui.session import ScenarioEntry

ALL = "(all)"


class GotoScreen(ModalScreen[int | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: int) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Go to step"
            box.border_subtitle = "enter goes, escape cancels"
            yield Label(f"Now at step {self.current}. Earlier steps are rebuilt from checkpoints.")
            yield Input(placeholder="step number", type="integer", id="goto-step")

    @on(Input.Submitted)
    def go(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(max(int(event.value), 0))

    def action_cancel(self) -> None:
        self.dismiss(None)


class FilterScreen(ModalScreen[EventFilter]):
    """Two lists, thread and subsystem; choosing in either applies at once, escape closes."""

    BINDINGS = [Binding("escape,slash", "close", "Close")]

    def __init__(
        self, current: EventFilter, threads: list[str], subsystems: list[str],
        on_change: Callable[[EventFilter], None],
    ) -> None:
        super().__init__()
        self.current = current
        self.on_change = on_change
        self.threads = threads
        self.subsystems = subsystems

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Filter events"
            box.border_subtitle = "enter chooses, tab switches list, escape closes"
            with Horizontal(id="filter-lists"):
                yield self._list("filter-thread", "thread", self.threads, self.current.thread)
                yield self._list("filter-subsystem", "subsystem", self.subsystems, self.current.subsystem)

    def _list(self, list_id: str, title: str, names: list[str], chosen: str | None) -> OptionList:
        options = OptionList(*[Option(name, id=name) for name in [ALL, *names]], id=list_id)
        options.border_title = title
        options.highlighted = ([ALL, *names].index(chosen) if chosen in names else 0)
        return options

    @on(OptionList.OptionSelected)
    def choose(self, event: OptionList.OptionSelected) -> None:
        value = None if event.option_id == ALL else event.option_id
        if event.option_list.id == "filter-thread":
            self.current = EventFilter(value, self.current.subsystem)
        else:
            self.current = EventFilter(self.current.thread, value)
        self.on_change(self.current)

    def action_close(self) -> None:
        self.dismiss(self.current)


class PickerScreen(ModalScreen[Path | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, entries: list[ScenarioEntry], current: Path | None) -> None:
        super().__init__()
        self.entries = entries
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Open a scenario"
            box.border_subtitle = "enter opens, escape cancels"
            options = OptionList(*[self._option(i, e) for i, e in enumerate(self.entries)], id="picker")
            if not self.entries:
                options.add_option(Option("no scenarios found", disabled=True))
            options.highlighted = next((i for i, e in enumerate(self.entries) if self._is_open(e)), 0)
            yield options

    def _is_open(self, entry: ScenarioEntry) -> bool:
        return self.current is not None and entry.path.resolve() == self.current.resolve()

    def _option(self, index: int, entry: ScenarioEntry) -> Option:
        text = Text(entry.name, style="bold")
        if self._is_open(entry):
            text.append("  (open)", style="italic")
        text.append("  bundled" if entry.bundled else f"  {entry.path}", style="dim")
        if entry.description:
            text.append(f"\n  {entry.description}")
        return Option(text, id=str(index))

    @on(OptionList.OptionSelected)
    def open(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.entries[int(event.option_id)].path)

    def action_cancel(self) -> None:
        self.dismiss(None)
