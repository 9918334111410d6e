"""How a problem in a scenario is worded: where (a key path) and what was found; what is allowed."""

from __future__ import annotations

import difflib
import json

import attrs

KeyPath = tuple[str | int, ...]
Problem = tuple[KeyPath, str]  # where, and "what was found; what is allowed"

# A value or key quoted in a message is cut to this many characters: one line stays one line.
QUOTE_MAX = 60


def bad(where: KeyPath, found: str, allowed: str) -> Problem:
    return where, f"found {found}; {allowed}"


def missing(where: KeyPath, needed: str) -> Problem:
    return where, f"missing; {needed}"


def quoted(value: str | int | float) -> str:
    """A value as JSON, cut to QUOTE_MAX characters."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= QUOTE_MAX else text[: QUOTE_MAX - 1] + "…"


def one_of(choices: list[str]) -> str:
    return "one of " + ", ".join(json.dumps(choice) for choice in choices)


def did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word[:QUOTE_MAX], choices, n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def key_list(cls: type) -> str:
    return ", ".join(field.name for field in attrs.fields(cls))


def table_name(where: KeyPath) -> str:
    return f"[{render(where)}]" if where else "at the top level"


def render(where: KeyPath) -> str:
    """("process", 0, "phases") -> "process[0].phases"; a long key is cut."""
    text = ""
    for key in where:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            text += "." + (key if len(key) <= QUOTE_MAX else key[: QUOTE_MAX - 1] + "…")
    return text.removeprefix(".")
