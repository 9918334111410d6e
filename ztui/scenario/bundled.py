"""The scenarios shipped inside the package (ztui/scenarios/*.toml)."""

from __future__ import annotations

import difflib
from pathlib import Path

from ztui.scenario.errors import ScenarioError
from ztui.scenario.load import load_scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
DEFAULT_SCENARIO = "teach-swapmeta-kmalloc-obj"


def bundled_scenarios() -> list[tuple[str, Path, str]]:
    """(name, path, one-line description) for each bundled scenario, by name."""
    return [(path.stem, path, _summary(path)) for path in sorted(SCENARIO_DIR.glob("*.toml"))]


def default_scenario_path() -> Path:
    """The small teaching scenario `ztui launch` opens when given none."""
    return SCENARIO_DIR / f"{DEFAULT_SCENARIO}.toml"


def resolve_scenario(arg: str | Path) -> Path:
    """A scenario file's path from a path or a bundled scenario's name.

    An existing path wins over a bundled name; anything else raises a
    ScenarioError naming the bundled scenarios.
    """
    path = Path(arg)
    if path.exists():
        return path
    bundled = SCENARIO_DIR / f"{path.name.removesuffix('.toml')}.toml"
    if path.parent == Path(".") and bundled.is_file():
        return bundled
    names = [name for name, _, _ in bundled_scenarios()]
    close = difflib.get_close_matches(path.stem, names, n=1)
    hint = f'did you mean "{close[0]}"? ' if close else ""
    raise ScenarioError([f"{arg}: no such file or bundled scenario; {hint}see `ztui list`"])


def _summary(path: Path) -> str:
    try:
        description = load_scenario(path).description
    except ScenarioError:
        return "(has problems: run `ztui check` on it)"
    return description.splitlines()[0] if description else ""
