"""The verdict banner: what happened, in kernel terms, and what is in the chain.

Expanded, it wraps every line (nothing is cut; it scrolls when taller than
its room); collapsed, it is one line (small terminals start so, v
toggles).  Its text can be selected and copied.  Its last lines say how
close the run came (approaches(): the hazard report's closest pager
allocation and lowest free+cache), with the step the palette goes to.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ztui.core.snapshot import VerdictView
from ztui.tui.panes.draw import fit, seconds
from ztui.tui.safe import visible


def approaches(verdict: VerdictView, hz: int) -> list[tuple[str, int]]:
    """(one line, step to go to) for how close the run came: its closest pager allocation, its lowest free+cache."""
    out = []
    closest = verdict.closest
    if closest is not None:
        out.append((
            f"closest: {closest.thread} in {closest.allocation} at {seconds(closest.tick, hz)},"
            f" {closest.lowest_margin} pages to spare",
            closest.step,
        ))
    low = verdict.low_water
    if low is not None:
        during = f", while {low.during.thread} was in {low.during.allocation}" if low.during else ", no pager allocating"
        out.append((f"lowest free+cache: {low.pages} at {seconds(low.tick, hz)}{during}", low.step))
    return out


class VerdictBanner(VerticalScroll, can_focus=False):
    COMPONENT_CLASSES = {"banner--kind", "banner--dim"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.verdict: VerdictView | None = None
        self.hz = 100
        self.hint = ""
        self.expanded = True
        self.passed = False
        self.expand_key = "v"
        self.display = False

    def compose(self) -> ComposeResult:
        yield Static(id="banner-text")

    def show(self, verdict: VerdictView | None, hz: int, hint: str, expanded: bool, passed: bool = False,
             expand_key: str = "v") -> None:
        """``hint`` says which keys to press next, as the keymap has them; ``passed``: the run stepped on past it."""
        if (verdict, hint, expanded, passed) == (self.verdict, self.hint, self.expanded, self.passed):
            return
        self.verdict, self.hz, self.hint, self.expanded, self.passed = verdict, hz, hint, expanded, passed
        self.expand_key = expand_key
        self.display = verdict is not None
        for kind in ("ok", "limit", "deadlock", "livelock", "recursion"):
            self.set_class(verdict is not None and verdict.kind == kind, f"-{kind}")
        self.set_class(not expanded, "-collapsed")
        if verdict is not None and self.is_mounted:
            self.query_one("#banner-text", Static).update(self.text())

    def on_mount(self) -> None:
        if self.verdict is not None:
            self.query_one("#banner-text", Static).update(self.text())

    def on_resize(self) -> None:
        if self.verdict is not None and not self.expanded:  # the one line is fitted to the width
            self.query_one("#banner-text", Static).update(self.text())

    def text(self) -> Text:
        v = self.verdict
        assert v is not None, "the banner shows text only for a verdict"
        dim = self.get_component_rich_style("banner--dim", partial=True)
        text = Text()
        text.append(f" {v.kind.upper()} ", style=self.get_component_rich_style("banner--kind", partial=True))
        text.append(f" {'passed at ' if self.passed else ''}step {v.step}, t={seconds(v.tick, self.hz)}  ")
        if not self.expanded:  # one line, the key that expands it kept at the end
            more = f"  {self.expand_key} more"
            room = max(self.size.width - text.cell_len - len(more), 0)
            text.append(fit(visible(v.headline), room))
            text.append(more, style=dim)
            return text
        text.append(visible(self.hint), style=dim)
        text.append("\n" + visible(v.headline))
        if self.passed:
            text.append("\nThe run steps on past it: what follows is the livelock going on.", style=dim)
        for line in v.explanation:
            text.append("\n " + visible(line))
        chain = []
        if v.threads:
            chain.append("threads " + ", ".join(visible(t) for t in v.threads))
        if v.resources:
            chain.append("resources " + ", ".join(visible(r) for r in v.resources))
        if chain:
            text.append("\nHighlighted: " + "; ".join(chain), style=dim)
        for line, step in approaches(v, self.hz):
            text.append(f"\nHow close: {visible(line)} (step {step})")
        return text
