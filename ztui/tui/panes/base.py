"""The base of the fixed-size panes: drawn with Textual's line API from a Snapshot.

A pane builds its content as a list of Rows, each with a rank: when the pane
is shorter than its content, the rows with the highest rank are dropped
first, so a pane stays readable at 80x24 and shows more when it has room.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import attrs
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from ztui.core.snapshot import Snapshot, VerdictView
from ztui.tui.safe import visible


@attrs.frozen
class Chain:
    """The threads and resources a verdict names, to highlight them in the panes."""

    threads: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()

    @classmethod
    def of(cls, verdict: VerdictView | None) -> Chain:
        if verdict is None:
            return cls()
        return cls(frozenset(verdict.threads), frozenset(verdict.resources))


@attrs.frozen
class Row:
    text: Text
    rank: int = 0  # 0 is kept longest; higher ranks go first when space is short


# Component classes every pane styles its text with (see app.tcss, ".pane > .pane--dim").
PANE_COMPONENTS = frozenset({
    "pane--dim", "pane--label", "pane--chain", "pane--good", "pane--warn", "pane--bad", "pane--next",
})


if TYPE_CHECKING:
    _Widget = Widget  # what every pane mixes this into
else:
    _Widget = object


class SnapshotPane(_Widget):
    """Mixed into every pane widget: the current snapshot, the verdict chain, styles.

    A mixin rather than a Widget subclass because the event log is a
    ScrollView while the other panes are plain widgets.
    """

    TITLE: ClassVar[str] = ""
    # Names from VerdictView.resources that this pane shows.
    RESOURCES: ClassVar[frozenset[str]] = frozenset()
    snapshot: Snapshot | None = None
    chain: Chain = Chain()
    _shown: tuple | None = None  # what the pane last drew, from content()
    _base_style: Style | None = None

    def show(self, snapshot: Snapshot | None, chain: Chain) -> None:
        self.snapshot = snapshot
        self.chain = chain
        self.set_class(bool(self.chain_resources()), "-in-chain")
        # Redrawing is most of a frame's cost: skip the panes whose part of the snapshot is unchanged.
        shown = (self.content(snapshot) if snapshot is not None else None, chain)
        if shown != self._shown:
            self._shown = shown
            self.changed()

    @property
    def drawn(self) -> Snapshot:
        """The snapshot being drawn: rows() runs only once show() has given one."""
        assert self.snapshot is not None
        return self.snapshot

    def content(self, snapshot: Snapshot) -> object:
        """The part of the snapshot this pane draws (compared with ==)."""
        return snapshot

    def chain_resources(self) -> frozenset[str]:
        return self.chain.resources & self.RESOURCES

    def changed(self) -> None:
        """The content changed: redraw."""
        self.refresh()

    def style(self, name: str) -> Style:
        """A component class's style; cached, as looking one up walks the CSS (thousands a frame)."""
        cache = self.__dict__.setdefault("_style_cache", {})
        style = cache.get(name)
        if style is None:
            style = cache[name] = self.get_component_rich_style(f"pane--{name}", partial=True)
        return style

    @property
    def base_style(self) -> Style:
        """The pane's own colours, under every line; cached, as Widget.rich_style walks the DOM."""
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def notify_style_update(self) -> None:
        super().notify_style_update()  # a theme or class change: styles and drawn lines are stale
        self._base_style = None
        self.__dict__.pop("_style_cache", None)
        self.changed()

    def to_strip(self, text: Text, width: int) -> Strip:
        """One line; names in it came from files, so no control character reaches the terminal."""
        text.no_wrap = True
        segments = [seg if seg.text.isprintable() else Segment(visible(seg.text), seg.style, seg.control)
                    for seg in text.render(self.app.console)]
        return Strip(segments).crop_extend(0, width, None).apply_style(self.base_style)


class LinePane(SnapshotPane, Widget, can_focus=True):
    """A pane whose rows fit its height: rows() says what to show, by rank."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(PANE_COMPONENTS)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="pane")
        self.border_title = self.TITLE
        self._strips: list[Strip] | None = None
        self._texts: list[Text] = []
        self._strips_size = (0, 0)

    def rows(self, width: int) -> list[Row]:
        raise NotImplementedError

    def empty_rows(self) -> list[Row]:
        return [Row(Text("no scenario loaded", style=self.style("dim")))]

    def changed(self) -> None:
        """Redraw the rows that differ from the ones drawn: while the 2 GiB churn streams frames,
        37-72 % of a pane's rows stay as they were, and Textual renders and composes only dirty lines."""
        drawn, strips, size = self._texts, self._strips, self._strips_size
        if strips is None or size != tuple(self.size) or not self.is_mounted:
            self._strips = None
            self.refresh()
            return
        texts = self._fitted_texts(*size)
        if len(texts) != len(drawn):
            self._draw(texts, size)
            self.refresh()
            return
        width = size[0]
        strips = list(strips)
        for y, (before, now) in enumerate(zip(drawn, texts)):
            if before != now:
                strips[y] = self._strip(now, width, y)
                self.refresh(Region(0, y, width, 1))
        self._texts, self._strips = texts, strips

    def notify_style_update(self) -> None:
        self._strips = None  # the pane's base style is under every strip: none can be kept
        super().notify_style_update()

    def _fitted_texts(self, width: int, height: int) -> list[Text]:
        rows = self.rows(width) if self.snapshot is not None else self.empty_rows()
        return [row.text for row in fit_rows(wrap_rows(rows, width, self.app.console), height)]

    def _draw(self, texts: list[Text], size: tuple[int, int]) -> None:
        self._texts, self._strips_size = texts, size
        self._strips = [self._strip(text, size[0], y) for y, text in enumerate(texts)]

    def _strip(self, text: Text, width: int, y: int) -> Strip:
        return self.to_strip(text.copy(), width).apply_offsets(0, y)

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        if self._strips is None or self._strips_size != (width, height):
            self._draw(self._fitted_texts(width, height), (width, height))
        assert self._strips is not None
        if y >= len(self._strips):
            return Strip.blank(width, self.base_style)
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(y)) is not None:
            text = self._texts[y].copy()
            start, end = span
            text.stylize(self.screen.get_component_rich_style("screen--selection"), start,
                         len(text) if end == -1 else end)
            return self.to_strip(text, width).apply_offsets(0, y)
        return self._strips[y]

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text as shown, not the widget's name."""
        return selection.extract("\n".join(text.plain for text in self._texts)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()


def wrap_rows(rows: list[Row], width: int, console) -> list[Row]:
    """Rows wider than the pane go on over more lines (indented), rather than being cut at a kernel fact."""
    out = []
    for row in rows:
        if row.text.cell_len <= width or width < 8:
            out.append(row)
            continue
        text = row.text.copy()
        text.no_wrap = False
        first, *rest = text.wrap(console, width - 2)
        out.append(Row(first, row.rank))
        out += [Row(Text("  ") + line, row.rank) for line in rest]
    return out


def fit_rows(rows: list[Row], height: int) -> list[Row]:
    """Keep the ``height`` lowest-ranked rows, in their order."""
    if len(rows) <= height:
        return rows
    by_rank = sorted(range(len(rows)), key=lambda i: (rows[i].rank, i))
    kept = sorted(by_rank[:max(height, 0)])
    return [rows[i] for i in kept]
