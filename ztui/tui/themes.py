"""Theme files (TOML) to Textual Themes; the format is described in ztui/themes/README.md.

A theme file is read through ztui.input_files (a regular file of at most
64 KiB); its problems are capped (the first few, then how many more).
"""

from __future__ import annotations

from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

from ztui.input_files import THEME, InputError, capped_problems, parse_toml, read_text

BUNDLED_THEMES = Path(__file__).resolve().parent.parent / "themes"
DEFAULT_THEME = "ztui-dark"

COLOR_FIELDS = (
    "primary", "secondary", "accent", "warning", "error", "success",
    "foreground", "background", "surface", "panel", "boost",
)
TOP_LEVEL = {"name", "dark", "colors", "variables"}
NAME_MAX = 64
PROBLEMS_SHOWN = 5  # in the one line a broken theme gets

# ztui's own theme variables and the values a theme that omits them gets.
VARIABLE_DEFAULTS = {
    "ztui-free": "#4ec27a",
    "ztui-cache": "#3fa7c4",
    "ztui-inactive": "#c7a13f",
    "ztui-active": "#c9683b",
    "ztui-wired": "#8a7fbf",
    "ztui-marker": "#9a9a9a",
    "ztui-chain": "#ff5f5f",
    "ztui-dim": "#9aa4ae",
}


class ThemeFileError(Exception):
    pass


def load_theme(path: Path) -> Theme:
    try:
        data = parse_toml(read_text(path, THEME))
    except InputError as error:
        raise ThemeFileError(f"{path.name}: {error}") from None
    problems = []
    unknown = set(data) - TOP_LEVEL
    if unknown:
        listed = ", ".join(key[:40] for key in sorted(unknown)[:5])
        problems.append(f"unknown keys {listed} (allowed: {', '.join(sorted(TOP_LEVEL))})")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        problems.append("name: a non-empty string is required")
    elif len(name) > NAME_MAX or not name.isprintable():
        problems.append(f"name: at most {NAME_MAX} printable characters")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        problems.append("dark: must be true or false")
    colors = _table(data, "colors", problems)
    for key in sorted(set(colors) - set(COLOR_FIELDS)):
        problems.append(f"colors.{key[:40]}: unknown (allowed: {', '.join(COLOR_FIELDS)})")
    if "primary" not in colors:
        problems.append("colors.primary: required")
    variables = _table(data, "variables", problems)
    for table, values in (("colors", colors), ("variables", variables)):
        for key, value in values.items():
            if not isinstance(value, str):
                problems.append(f"{table}.{key[:40]}: must be a string")
            elif table == "colors" or key in VARIABLE_DEFAULTS:
                _check_color(f"{table}.{key[:40]}", value, problems)
    if problems:
        raise ThemeFileError(f"{path.name}: " + "; ".join(capped_problems(problems, PROBLEMS_SHOWN)))
    assert isinstance(name, str)  # else a problem was raised above
    return Theme(name=name, dark=dark, variables=dict(variables),
                 **{k: v for k, v in colors.items() if k in COLOR_FIELDS})


def load_themes(directories: list[Path]) -> tuple[list[Theme], list[str]]:
    """Every *.toml theme in ``directories`` (each file once); problems are returned, not raised."""
    themes, problems, seen = [], [], set()
    for directory in directories:
        for path in sorted(directory.glob("*.toml")) if directory.is_dir() else ():
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            try:
                themes.append(load_theme(path))
            except ThemeFileError as error:
                problems.append(str(error))
    return themes, problems


def _table(data: dict, key: str, problems: list[str]) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        problems.append(f"{key}: must be a table")
        return {}
    return value


def _check_color(where: str, value: str, problems: list[str]) -> None:
    try:
        Color.parse(value)
    except ColorParseError:
        problems.append(f"{where}: {value[:40]!r} is not a color")
