"""visible() / as_text(): file text is shown as text, with every control character escaped."""

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table

from ztui.textsafe import as_text, visible


def test_printable_text_is_unchanged():
    assert visible("hog [/bold] ünï 🎉") == "hog [/bold] ünï 🎉"


def test_controls_are_written_as_escapes():
    assert visible("a\x1b]0;pwned\x07b") == "a\\x1b]0;pwned\\x07b"  # OSC 0 title change
    assert visible("\x9b2J") == "\\x9b2J"  # C1 CSI: clear screen
    assert visible("\u202eevil") == "\\u202eevil"  # bidi override
    assert visible("\ud800") == "\\ud800"  # lone surrogate: cannot even be encoded
    assert visible("a\nb\tc\r") == "a\\x0ab\\x09c\\x0d"
    assert visible("no\u00a0break") == "no\u00a0break"  # a space that draws as one stays


def test_blocks_may_keep_newlines_and_tabs_only():
    assert visible("a\nb\tc\x1b", keep_newlines=True) == "a\nb\tc\\x1b"


@settings(max_examples=200)
@given(st.text())
def test_nothing_that_steers_the_terminal_survives(text):
    shown = visible(text)
    assert all(unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for char in shown)
    shown.encode("utf-8")  # no lone surrogate left
    assert visible(shown) == shown  # escaping twice changes nothing


def test_as_text_is_never_read_as_markup():
    console = Console(file=None, record=True, width=80, color_system=None)
    table = Table()
    table.add_column(as_text("[/]"))
    table.add_row(as_text("[/bold]\x1b[2J"))
    console.print(table)  # a str "[/]" here would raise MarkupError
    out = console.export_text()
    assert "[/]" in out and "[/bold]\\x1b[2J" in out and "\x1b" not in out
