"""Helpers for the TUI tests: all run the real Simulator on the bundled scenarios."""

from __future__ import annotations

from ztui.scenario.bundled import SCENARIO_DIR, default_scenario_path
from ztui.tui.app import ZtuiApp

DEFAULT = default_scenario_path()
LONG = SCENARIO_DIR / "swapmeta-kmalloc-obj-churn.toml"  # 2 GiB: runs for seconds, for interrupting
SIZE = (100, 30)


def make_app(path=DEFAULT, **kwargs) -> ZtuiApp:
    # keymap={} keeps the tester's own ~/.config/ztui/keymap.toml out of the tests.
    kwargs.setdefault("keymap", {})
    return ZtuiApp(path, **kwargs)


def pane_text(widget) -> str:
    """What a line-API pane shows right now, as plain text."""
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))
