"""Text that came from a file (names, paths, descriptions, keymap and theme entries) made safe to show.

Such text is data: it is never read as Rich or Textual markup, and its
control characters (ESC, BEL, CR, C1 controls, bidi overrides...) are shown
as visible escapes, so nothing in a scenario name can reach the terminal
as a control sequence.  The TUI's one place for this; the panes' last step
(SnapshotPane.to_strip) also passes every segment through visible(), which
is ztui.textsafe's, the command line's too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text

from ztui.input_files import capped_problems
from ztui.textsafe import visible

if TYPE_CHECKING:
    from textual.content import Content

__all__ = ["capped", "content", "plain", "visible"]


def plain(value: object, style: str | Style = "") -> Text:
    """A Text that shows ``value`` as it is: no markup, controls visible."""
    return Text(visible(str(value)), style=style)


def content(value: object) -> Content:
    """The same for Textual's Content (border titles, labels)."""
    from textual.content import Content  # here: the command line uses visible() without Textual

    return Content(visible(str(value)))


def capped(problems: list[str], first: int = 5) -> str:
    """Problems as lines: the first ``first`` of them, then how many more (a file may hold thousands)."""
    return "\n".join(visible(problem) for problem in capped_problems(problems, first))
