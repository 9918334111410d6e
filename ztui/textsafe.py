"""Text that came from a file, made safe to show: never markup, never a control sequence.

Names, descriptions, keys and paths come from files a user may not have
written.  Shown raw, an ESC or a C1 control reaches the terminal (an OSC 8
hyperlink, a title change, a screen clear) or a pipe; shown through Rich or
Textual as a ``str``, ``[/]`` is read as markup and crashes.  So every such
string goes through visible() before it is printed, and into Rich or
Textual only as a ``rich.text.Text`` (as_text()), which is never parsed.

visible() writes each character that is not printable as the escape Python
would use for it (``\\x1b``, ``\\u202e``, ``\\n``): C0 and C1 controls, DEL, the
bidirectional overrides and other format characters, line and paragraph
separators and lone surrogates (which cannot even be encoded).  Tabs and
newlines are escaped too, unless the caller keeps them for a block of text.
"""

from __future__ import annotations

from rich.text import Text

_KEPT_IN_BLOCKS = frozenset("\n\t")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every non-printable character written as its escape (``\\x1b``)."""
    if text.isprintable():  # the common case, checked in C
        return text
    kept = _KEPT_IN_BLOCKS if keep_newlines else frozenset()
    return "".join(char if char.isprintable() or char in kept else _escape(char) for char in text)


def as_text(text: str, style: str = "", *, keep_newlines: bool = False) -> Text:
    """A Rich Text of visible(text): safe anywhere Rich or Textual takes a renderable."""
    return Text(visible(text, keep_newlines=keep_newlines), style=style)


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
