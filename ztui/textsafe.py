"""Text that came from a file, made safe to show: never markup, never a control sequence.

Names, descriptions, keys and paths come from files a user may not have
written.  Shown raw, an ESC or a C1 control reaches the terminal (an OSC 8
hyperlink, a title change, a screen clear) or a pipe; shown through Rich or
Textual as a ``str``, ``[/]`` is read as markup and crashes.  So every such
string goes through visible() before it is printed, and into Rich or
Textual only as a ``rich.text.Text`` (as_text()), which is never parsed.

visible() writes each control or invisible formatting character as a hex
escape (``\\x1b``, ``\\u202e``, a newline ``\\x0a``): C0 and C1 controls, DEL,
the bidirectional overrides and other format characters, line and
paragraph separators, private-use and unassigned code points, and lone
surrogates (which cannot even be encoded).  Tabs and newlines are escaped
too, unless the caller keeps them for a block of text.  The TUI's
ztui.tui.safe builds its Rich and Textual forms on it.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

# Unicode categories that draw nothing or steer the terminal: controls, formats (bidi), surrogates,
# private use, unassigned, line and paragraph separators.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_KEPT_IN_BLOCKS = frozenset("\n\t")


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control or invisible formatting character written as its escape (``\\x1b``)."""
    if text.isprintable():  # the common case, checked in C
        return text
    kept = _KEPT_IN_BLOCKS if keep_newlines else frozenset()
    return "".join(
        _escape(char) if unicodedata.category(char) in _HIDDEN and char not in kept else char for char in text
    )


def as_text(text: str, style: str = "", *, keep_newlines: bool = False) -> Text:
    """A Rich Text of visible(text): safe anywhere Rich or Textual takes a renderable."""
    from rich.text import Text  # here, so that plain-text output never loads Rich

    return Text(visible(text, keep_newlines=keep_newlines), style=style)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
