"""The footer: every control's key, in order; when they do not all fit, it ends with "? more keys".

Drawn with the line API instead of Textual's Footer, which scrolls the
overflow out of sight.  A click on a key runs its control.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.strip import Strip
from textual.widget import Widget

from ztui.tui.controls import CONTROLS
from ztui.tui.safe import visible


class KeyBar(Widget):
    COMPONENT_CLASSES = {"keybar--key", "keybar--label"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys: dict[str, str] = {}  # control id -> its key as shown
        self._spans: list[tuple[int, int, str]] = []  # (start, end, action) of what is drawn

    def set_keys(self, keys: dict[str, str]) -> None:
        self.keys = {control_id: visible(key) for control_id, key in keys.items()}
        self.refresh()

    def entries(self) -> list[tuple[str, str, str]]:
        return [(self.keys.get(c.id, c.key), c.label, c.action) for c in CONTROLS]

    def line(self, width: int) -> tuple[Text, list[tuple[int, int, str]]]:
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        label_style = self.get_component_rich_style("keybar--label", partial=True)
        entries = self.entries()
        help_key = self.keys.get("help", "?")
        more = f" {help_key} more keys "
        text, spans = Text(no_wrap=True), []
        for i, (key, label, action) in enumerate(entries):
            piece = len(key) + len(label) + 3
            room = width - (0 if i == len(entries) - 1 else len(more))
            if text.cell_len + piece > room:
                spans.append((text.cell_len, text.cell_len + len(more), "help"))
                text.append(more, style=key_style)
                break
            spans.append((text.cell_len, text.cell_len + piece, action))
            text.append(f" {key} ", style=key_style)
            text.append(f"{label} ", style=label_style)
        return text, spans

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y:
            return Strip.blank(width, self.rich_style)
        text, self._spans = self.line(width)
        strip = Strip(list(text.render(self.app.console)), text.cell_len)
        return strip.crop_extend(0, width, self.rich_style).apply_style(self.rich_style)

    async def on_click(self, event: events.Click) -> None:
        x = event.x
        for start, end, action in self._spans:
            if start <= x < end:
                await self.app.run_action(action)
                return
