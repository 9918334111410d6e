"""Every pane shows what the snapshot says, on the default scenario; the verdict is highlighted."""

from __future__ import annotations

from tui_support import SIZE, make_app, pane_text, pilot_test, settled

from ztui.tui.banner import VerdictBanner
from ztui.tui.panes.base import LinePane
from ztui.tui.panes.chart import ChartPane
from ztui.tui.panes.events import EventsPane
from ztui.tui.panes.mapentry import MapEntryPane
from ztui.tui.panes.queues import QueuesPane
from ztui.tui.panes.slabs import SlabsPane
from ztui.tui.panes.threads import NEXT_MARK, ThreadsPane
from ztui.tui.statusbar import StatusBar


async def run_to_verdict(app, pilot):
    app.action_fast_forward()
    await settled(app, pilot)
    await pilot.pause()


@pilot_test
async def test_panes_show_the_starting_state():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        snap = app.snapshot
        queues = pane_text(app.query_one(QueuesPane))
        assert "free+cache" in queues and str(snap.queues["free"]) in queues
        assert "pagedaemon IDLE" in queues and "swap" in queues
        threads = pane_text(app.query_one(ThreadsPane))
        for thread in snap.threads:
            assert thread.name[:10] in threads
        next_thread = next(t for t in snap.threads if t.is_next)
        assert any(line.startswith(NEXT_MARK) and next_thread.name[:10] in line for line in threads.splitlines())
        assert "gd_kmslab" in pane_text(app.query_one(SlabsPane))
        assert app.query_one(SlabsPane).border_title.endswith("kmalloc_obj")
        assert "gd_vme_avail" in pane_text(app.query_one(MapEntryPane))
        assert not app.query_one(VerdictBanner).display
        status = app.query_one(StatusBar).render().plain
        assert "teach-swapmeta-kmalloc-obj" in status and "step 0" in status and "paused" in status


@pilot_test
async def test_events_and_history_follow_the_steps():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(40):
            app.action_step()
        await pilot.pause()
        events = pane_text(app.query_one(EventsPane))
        assert "hog: phase 1: alloc" in events
        newest = app.snapshot.events[-1]
        assert str(newest.step) in events.splitlines()[-1] or newest.text[:30] in events
        chart = pane_text(app.query_one(ChartPane))
        assert any(0x2800 < ord(ch) <= 0x28FF for ch in chart)  # the braille line


@pilot_test
async def test_threads_selection_shows_call_path_and_details():
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        threads = app.query_one(ThreadsPane)
        threads.focus()
        await pilot.press("down", "down")
        selected = threads.selected
        assert selected.tid == app.snapshot.threads[2].tid
        text = pane_text(threads)
        assert selected.callpath[0] in text  # the call path under the table
        await pilot.press("enter")
        assert selected.name in str(app.screen.query_one(".dialog").border_title)
        await pilot.press("escape")
        # A click selects too: the title line, the header, then the fourth thread.
        await pilot.click(ThreadsPane, offset=(4, 1 + 1 + 3))
        assert threads.selected.tid == app.snapshot.threads[3].tid


@pilot_test
async def test_verdict_banner_explains_and_highlights_the_chain():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await run_to_verdict(app, pilot)
        verdict = app.snapshot.verdict
        banner = app.query_one(VerdictBanner)
        assert banner.display
        rendered = banner.text().plain
        assert verdict.kind.upper() in rendered and verdict.headline[:40] in rendered
        assert "e explains" in rendered
        assert app.query_one(QueuesPane).has_class("-in-chain")  # free+cache
        assert app.query_one(SlabsPane).has_class("-in-chain")  # SWAPMETA
        assert not app.query_one(MapEntryPane).has_class("-in-chain")
        threads = app.query_one(ThreadsPane)
        chain_style = threads.style("chain")
        row = next(y for y in range(threads.size.height) if "pagedaemon" in threads.render_line(y).text)
        assert any(seg.style and seg.style.color == chain_style.color for seg in threads.render_line(row))
        assert "LIVELOCK" in app.query_one(StatusBar).render().plain or verdict.kind.upper() in app.query_one(StatusBar).render().plain


@pilot_test
async def test_narrow_terminal_keeps_the_essentials():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await run_to_verdict(app, pilot)
        queues = pane_text(app.query_one(QueuesPane))
        assert "free+cache" in queues and "pagedaemon" in queues
        assert "pagedaemon" in pane_text(app.query_one(ThreadsPane))
        assert "pagedaemon kmem_slab_alloc" in pane_text(app.query_one(SlabsPane))


def screen_cells(app) -> list[list[tuple]]:
    """What the screen shows, with styles: each line's segments as (text, style)."""
    return [[(segment.text, segment.style) for segment in strip] for strip in app.screen._compositor.render_strips()]


async def redrawn_in_full(app, pilot) -> list[list[tuple]]:
    for pane in app.query(".pane"):
        if isinstance(pane, LinePane):
            pane._strips = None  # drawn again from the snapshot, not from the strips kept
        pane._styles_cache.clear()
        pane.refresh()
    await pilot.pause()
    return screen_cells(app)


@pilot_test
async def test_a_step_redraws_just_the_rows_that_changed_and_leaves_none_stale():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        queues = app.query_one(QueuesPane)
        refreshed: list = []
        refresh = queues.refresh

        def noting(*regions, **kwargs):
            refreshed.extend(region.y for region in regions) if regions else refreshed.append("all")
            return refresh(*regions, **kwargs)

        queues.refresh = noting
        changed: list[int] = []
        for _ in range(200):  # until a step changes some of the pane's rows
            refreshed.clear()
            before = list(queues._texts)
            app.action_step()
            await pilot.pause()
            changed = [y for y, (was, now) in enumerate(zip(before, queues._texts)) if was != now]
            if changed:
                break
        assert changed and len(changed) < len(queues._texts), "no step changed only some rows"
        assert sorted(refreshed) == changed

        for _ in range(300):
            app.action_step()
        await pilot.pause()
        shown = screen_cells(app)
        assert await redrawn_in_full(app, pilot) == shown  # no line the steps skipped was stale

        app.theme = "ztui-light"  # new colours under every row, though no row's text changed
        await pilot.pause()
        shown = screen_cells(app)
        assert await redrawn_in_full(app, pilot) == shown
