"""SVG snapshots of the main states at 80x24, 120x40 and 200x60 (update with --snapshot-update after a
deliberate change; the lead regenerates them when the core changes).

Stable by construction: every state is reached by stepping the timeline on
the UI thread to a fixed step (no worker, no clock), the app is paused (no
measured rates in the status bar), and no input with a blinking cursor has focus.
"""

from __future__ import annotations

import pytest
from tui_support import SIZE, make_app, served, show_served

from ztui.scenario.bundled import SCENARIO_DIR

SIZES = {"80x24": (80, 24), "120x40": (120, 40), "200x60": (200, 60)}
MID_FALL = 1885  # teach-swapmeta-kmalloc-obj: free+cache 28, below v_free_min, the slab being assembled


def at(step: int | None):
    """A run_before that puts the app at ``step`` (None: the verdict), synchronously."""

    async def run_before(pilot):
        timeline = served(pilot.app).timeline
        if step is None:
            timeline.run()
        else:
            timeline.goto(step)
        show_served(pilot.app)
        await pilot.pause()

    return run_before


STATES = {
    "start": (None, None),
    "mid-fall": (None, at(MID_FALL)),
    "verdict": (None, at(None)),
    "ok": (SCENARIO_DIR / "teach-swapmeta-zalloc.toml", at(None)),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("state", STATES)
def test_state(snap_compare, state, size):
    path, run_before = STATES[state]
    app = make_app(path) if path else make_app()
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


def test_help(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, press=["question_mark"])
