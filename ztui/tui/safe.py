"""Text that came from a file (names, paths, descriptions, keymap and theme entries) made safe to show.

Such text is data: it is never read as Rich or Textual markup, and its
control characters (ESC, BEL, CR, C1 controls, bidi overrides...) are shown
as visible escapes, so nothing in a scenario name can reach the terminal
as a control sequence.  The TUI's one place for this; the panes' last step
(SnapshotPane.to_strip) also passes every segment through visible().
visible() needs no Textual, so the command line uses it too.
"""

from __future__ import annotations

import unicodedata

from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:
    from textual.content import Content

# Unicode categories that draw nothing or steer the terminal: controls, formats (bidi), separators.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def visible(value: str) -> str:
    """``value`` with every control or invisible formatting character shown as an escape (``\\x1b``)."""
    if value.isprintable():
        return value
    return "".join(_escape(ch) if unicodedata.category(ch) in _HIDDEN else ch for ch in value)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def plain(value: object, style: str | Style = "") -> Text:
    """A Text that shows ``value`` as it is: no markup, controls visible."""
    return Text(visible(str(value)), style=style)


def content(value: object) -> Content:
    """The same for Textual's Content (border titles, labels)."""
    from textual.content import Content  # here: the command line uses visible() without Textual

    return Content(visible(str(value)))


def capped(problems: list[str], first: int = 5) -> str:
    """Problems as lines: the first ``first`` of them, then how many more (a file may hold thousands)."""
    shown = [visible(p) for p in problems[:first]]
    if len(problems) > first:
        shown.append(f"... and {len(problems) - first} more")
    return "\n".join(shown)
