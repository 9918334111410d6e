"""Modal screens that ask something: go to a step, filter the event log, pick a scenario, a file, a breakpoint.

Each answers once: keys typed fast (enter enter) can select twice before the
screen is gone, and a second dismiss would pop the screen under it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ztui.tui.breakpoints import SLAB_STARTS
from ztui.tui.panes.events import EventFilter
from ztui.tui.safe import content, plain
from ztui.tui.session import ScenarioEntry

ALL = "(all)"
T = TypeVar("T")


class Prompt(ModalScreen[T]):
    """A modal screen that gives one answer, however fast the keys come."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    _answered = False

    def answer(self, value: T | None) -> None:
        if not self._answered:
            self._answered = True
            self.dismiss(value)

    def action_cancel(self) -> None:
        self.answer(None)


class GotoScreen(Prompt[int]):
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
            self.answer(max(int(event.value), 0))


class FilterScreen(Prompt[EventFilter]):
    """Text to search for, then two lists, thread and subsystem; every choice applies at once."""

    BINDINGS = [Binding("escape", "close", "Close")]

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
            box.border_subtitle = "type to search, tab to the lists, enter chooses, escape closes"
            yield Input(self.current.text or "", placeholder="search the event text (any case)", id="filter-text")
            with Horizontal(id="filter-lists"):
                yield self._list("filter-thread", "thread", self.threads, self.current.thread)
                yield self._list("filter-subsystem", "subsystem", self.subsystems, self.current.subsystem)

    def _list(self, list_id: str, title: str, names: list[str], chosen: str | None) -> OptionList:
        options = OptionList(*[Option(plain(name), id=f"{i}") for i, name in enumerate([ALL, *names])], id=list_id)
        options.border_title = title
        options.highlighted = ([ALL, *names].index(chosen) if chosen in names else 0)
        return options

    @on(Input.Changed, "#filter-text")
    def search(self, event: Input.Changed) -> None:
        self.current = EventFilter(self.current.thread, self.current.subsystem, event.value or None)
        self.on_change(self.current)

    @on(Input.Submitted, "#filter-text")
    def searched(self) -> None:
        self.action_close()

    @on(OptionList.OptionSelected)
    def choose(self, event: OptionList.OptionSelected) -> None:
        index = int(event.option_id or 0)  # every option is given an id
        if event.option_list.id == "filter-thread":
            value = self.threads[index - 1] if index else None
            self.current = EventFilter(value, self.current.subsystem, self.current.text)
        else:
            value = self.subsystems[index - 1] if index else None
            self.current = EventFilter(self.current.thread, value, self.current.text)
        self.on_change(self.current)

    def action_close(self) -> None:
        self.answer(self.current)


class PickerScreen(Prompt[Path]):
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
        text = plain(entry.name, "bold")
        if self._is_open(entry):
            text.append("  (open)", style="italic")
        text.append_text(plain("  bundled" if entry.bundled else f"  {entry.path}", "dim"))
        if entry.description:
            text.append("\n  ")
            text.append_text(plain(entry.description))
        return Option(text, id=str(index))

    @on(OptionList.OptionSelected)
    def open(self, event: OptionList.OptionSelected) -> None:
        self.answer(self.entries[int(event.option_id or 0)].path)  # every option is given an id


class SaveScreen(Prompt[tuple[Path, bool]]):
    """Ask for a file name; an existing file is overwritten only after a second enter."""

    def __init__(self, title: str, default: Path) -> None:
        super().__init__()
        self.title_text = title
        self.default = default
        self._confirmed_for: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text
            box.border_subtitle = "enter saves, escape cancels"
            yield Input(str(self.default), id="save-path")
            yield Label("", id="save-note")

    @on(Input.Submitted)
    def save(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            return
        path = Path(event.value.strip()).expanduser()
        if (path.exists() or path.is_symlink()) and self._confirmed_for != path:
            self._confirmed_for = path
            self.query_one("#save-note", Label).update(
                content(f"{path} exists: enter again to overwrite it, or change the name."))
            return
        self.answer((path, self._confirmed_for == path))


class BreakpointScreen(Prompt[str]):
    def __init__(self, current: list[str]) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Add a breakpoint"
            box.border_subtitle = "enter adds, escape cancels; r and f stop where it starts to hold"
            yield Input(placeholder="free+cache < v_free_min", id="breakpoint-text")
            examples = Text("For example:\n", style="bold")
            for example in ("free+cache < 100", "free+cache < v_interrupt_free_min", "pagedaemon in kmem_slab_alloc",
                            "any on vmwait", SLAB_STARTS):
                examples.append(f"  {example}\n", style="")
            if self.current:
                examples.append("Set now:\n", style="bold")
                for text in self.current:
                    examples.append_text(plain(f"  {text}"))
                    examples.append("\n")
            yield Label(examples)

    @on(Input.Submitted)
    def add(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.answer(event.value.strip())
