"""The verdict banner: what happened, in kernel terms, and what is in the chain."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widget import Widget

from ztui.core.snapshot import VerdictView
from ztui.tui.panes.draw import seconds


class VerdictBanner(Widget):
    COMPONENT_CLASSES = {"banner--kind", "banner--dim"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.verdict: VerdictView | None = None
        self.hz = 100
        self.hint = ""
        self.display = False

    def show(self, verdict: VerdictView | None, hz: int, hint: str) -> None:
        """``hint`` says which keys to press next, as the keymap has them."""
        if (verdict, hint) == (self.verdict, self.hint):
            return
        self.verdict, self.hz, self.hint = verdict, hz, hint
        self.display = verdict is not None
        for kind in ("ok", "deadlock", "livelock", "recursion"):
            self.set_class(verdict is not None and verdict.kind == kind, f"-{kind}")
        self.refresh(layout=True)

    def render(self) -> Group:
        """The kind and where to look next first: the banner is cut to fit small terminals."""
        v = self.verdict
        if v is None:
            return Group()
        dim = self.get_component_rich_style("banner--dim", partial=True)
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append(f" {v.kind.upper()} ", style=self.get_component_rich_style("banner--kind", partial=True))
        header.append(f" step {v.step}, t={seconds(v.tick, self.hz)}   ")
        header.append(self.hint, style=dim)
        chain = []
        if v.threads:
            chain.append("threads " + ", ".join(v.threads))
        if v.resources:
            chain.append("resources " + ", ".join(v.resources))
        lines = [header, Text(v.headline)]
        lines += [Text(f" {line}", no_wrap=True, overflow="ellipsis") for line in v.explanation]
        if chain:
            lines.append(Text("Highlighted: " + "; ".join(chain), style=dim, no_wrap=True, overflow="ellipsis"))
        return Group(*lines)
