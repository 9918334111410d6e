"""SVG snapshots of the main states at 100x30 (update with --snapshot-update after a deliberate change).

Stable by construction: the app is paused in each (no measured rates in
the status bar), no clock is shown, and no input with a blinking cursor
has focus.
"""

from __future__ import annotations

from tui_support import SIZE, make_app


def test_start(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE)


def test_mid_run_after_single_steps(snap_compare):
    async def forty_steps(pilot):
        for _ in range(40):
            pilot.app.action_step()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=forty_steps)


def test_verdict_banner(snap_compare):
    async def to_the_verdict(pilot):
        pilot.app.action_fast_forward()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=to_the_verdict)


def test_help(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, press=["question_mark"])
