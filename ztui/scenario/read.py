"""Reading a scenario file: bytes -> TOML text -> a plain dict, through ztui.input_files.

Nothing else is read and nothing is evaluated.  A file that cannot be read
as TOML at all is one problem (Unusable); what the dict holds is judged by
ztui.scenario.structure and ztui.scenario.rules.
"""

from __future__ import annotations

from pathlib import Path

from ztui.input_files import SCENARIO, InputError, parse_toml, read_text


class Unusable(Exception):
    """The file as a whole cannot be read as TOML; the message is one line."""


def read_toml(path: Path) -> tuple[str, dict]:
    """The file's text and its TOML table; raises Unusable."""
    try:
        text = read_text(path, SCENARIO)
        if not text.strip():
            raise Unusable("empty file; a scenario needs at least one [[process]] (see docs/scenarios.md)")
        raw = parse_toml(text)
    except InputError as exc:
        raise Unusable(str(exc)) from None
    if not raw:
        raise Unusable("no settings, only comments; a scenario needs at least one [[process]]")
    return text, raw


def leading_comment(text: str) -> str:
    """The comment block that opens the file, without the '#' marks."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.removeprefix("#").removeprefix(" ").rstrip())
    return "\n".join(lines).strip()


def description_line(path: Path) -> str:
    """The first line of a file's description without a full load (a picker lists broken files too).

    "" when there is none; a note when the file cannot be read.
    """
    try:
        text, raw = read_toml(path)
    except Unusable:
        return "(cannot be read; open it to see why)"
    description = raw.get("description", leading_comment(text))
    if not isinstance(description, str) or not description.strip():
        return ""
    return description.strip().splitlines()[0]
