"""Modal screens that show read-only text: explanations, thread details, scenario problems."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ztui.core.snapshot import ThreadView
from ztui.tui.panes.draw import seconds
from ztui.tui.safe import content, plain


class TextScreen(ModalScreen[None]):
    """A titled box of text over the panes; escape (or q) closes it."""

    BINDINGS = [Binding("escape,q", "close", "Close")]

    def __init__(self, title: str, body: Text) -> None:
        """``body`` is Text, not a str: kernel messages are not markup."""
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as box:
            box.border_title = content(self.title_text)
            box.border_subtitle = "escape closes"
            yield Static(self.body, classes="dialog-body")

    def action_close(self) -> None:
        self.dismiss(None)


def thread_details(thread: ThreadView, hz: int) -> Text:
    text = Text()
    rows = [
        ("state", f"{thread.state}" + (" (runnable)" if thread.runnable else "")),
        ("wmesg / wchan", f"{thread.wmesg or '-'} / {thread.wchan or '-'}"),
        ("in", thread.function + (f", {thread.progress}" if thread.progress else "")),
        ("slept", seconds(thread.slept_ticks, hz) if thread.slept_ticks else "-"),
        ("nice", str(thread.nice)),
    ]
    for label, value in rows:
        text.append(f"{label:<14}", style="bold")
        text.append_text(plain(value))
        text.append("\n")
    text.append("\ncall path\n", style="bold")
    for depth, function in enumerate(thread.callpath):
        text.append_text(plain(f"{'  ' * depth}{function}"))
        text.append("\n")
    text.append("\nwhy it cannot run\n", style="bold")
    text.append_text(plain(thread.blocked_reason or "it can: it is runnable"))
    return text


class ProblemsScreen(TextScreen):
    """A scenario file that does not load: the same messages as `ztui check`."""

    BINDINGS = [Binding("o", "pick", "Open another scenario")]

    def __init__(self, path: Path, problems: list[str]) -> None:
        body = Text()
        for problem in problems:
            body.append("• ", style="bold")
            body.append_text(plain(problem))
            body.append("\n")
        body.append("\nFix the file and reload, or press o to open another scenario.", style="italic")
        super().__init__(f"{path} has errors", body)

    async def action_pick(self) -> None:
        self.dismiss(None)
        await self.app.run_action("pick_scenario")
