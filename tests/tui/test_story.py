"""The TUI tells the story at a glance (issue 11): the chart, the thread timeline, rates, the layout,
and the controls that go with them, on the real simulator."""

from __future__ import annotations

import pytest
from tui_support import DEFAULT, SIZE, make_app, noted_app, pane_text, pilot_test, served, settled, show_served, to_verdict, until

from ztui.scenario.bundled import SCENARIO_DIR
from ztui.tui.panes.chart import ChartPane
from ztui.tui.panes.events import EventsPane
from ztui.tui.panes.lanes import CATEGORIES, LanesPane
from ztui.tui.panes.plot import left_margin, plot_width, thread_names
from ztui.tui.panes.queues import QueuesPane
from ztui.tui.screens.prompts import BreakpointScreen
from ztui.tui.statusbar import StatusBar

STORM = SCENARIO_DIR / "swapmeta-kmalloc-obj-storm.toml"


def status(app) -> str:
    return app.query_one(StatusBar).render().plain


def braille_columns(pane, row: int) -> list[int]:
    """Plot columns of ``row`` that hold dots of the line (not just a threshold's sparse dots)."""
    left = left_margin(pane.size.width, thread_names(pane.snapshot))
    line = pane.render_line(row).text[left:left + plot_width(pane.size.width, thread_names(pane.snapshot))]
    return [i for i, ch in enumerate(line) if 0x2800 < ord(ch) <= 0x28FF]


async def go(app, pilot, step: int) -> None:
    app.go_to(step)
    await settled(app, pilot)
    await pilot.pause()


@pilot_test
async def test_the_chart_and_the_gauge_agree_during_the_fall():
    """Issue 11, finding 1: at step 1885 the gauge is red while the old chart was solid green."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await go(app, pilot, 1885)
        chart = app.query_one(ChartPane)
        vm, queues = app.snapshot.vmstats, app.snapshot.queues
        assert queues["free"] + queues["cache"] <= vm["v_free_min"]  # red on the gauge
        bad = chart.style("bad").color
        last_colour = None
        for y in range(chart.size.height - 1):
            for segment in chart.render_line(y):
                if any(0x2800 < ord(c) <= 0x28FF for c in segment.text) and segment.style.color in (
                        bad, chart.style("good").color, chart.style("warn").color):
                    last_colour = segment.style.color
        text = pane_text(chart)
        assert "v_free_severe" in text and "v_interrupt_free_min" in text  # labelled lines, severe included
        assert "37" in text and "16" in text  # numbered y axis: the thresholds' values
        assert "steps" in text.splitlines()[-1]
        assert bad in {seg.style.color for y in range(chart.size.height) for seg in chart.render_line(y) if seg.style}
        assert last_colour is not None


@pilot_test
async def test_zero_is_drawn_as_zero():
    app = make_app(STORM)
    async with app.run_test(size=(120, 40)) as pilot:
        served(app).timeline.run()  # to the livelock: free+cache 0 for its last 30 s
        show_served(app)
        await pilot.pause()
        assert app.snapshot.queues["free"] + app.snapshot.queues["cache"] == 0
        chart = app.query_one(ChartPane)
        bottom = chart.size.height - 2  # the last plot row, above the axis
        assert "0┤" in chart.render_line(bottom).text
        cells = braille_columns(chart, bottom)
        assert len(cells) > 5 and cells[-1] >= plot_width(chart.size.width, thread_names(app.snapshot)) - 2


@pilot_test
async def test_x_toggles_steps_and_time_and_time_spreads_the_fall():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await go(app, pilot, 2000)
        chart = app.query_one(ChartPane)
        await pilot.press("x")
        assert "over time" in str(chart.border_title) and "time" in pane_text(chart).splitlines()[-1]
        assert "over time" in str(app.query_one(LanesPane).border_title)
        # The fall happens within the first simulated tick: busy steps spread over it, not one column.
        columns = set()
        for y in range(chart.size.height - 1):
            columns.update(braille_columns(chart, y))
        assert len(columns) > 10
        await pilot.press("y")
        assert "y: linear" in str(chart.border_title)
        await pilot.press("x", "y")
        assert "over steps" in str(chart.border_title) and "y: thresholds" in str(chart.border_title)


@pilot_test
async def test_going_back_keeps_the_future_on_the_chart_and_marks_the_step():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_verdict(app, pilot)
        await go(app, pilot, 1000)
        chart = app.query_one(ChartPane)
        left = left_margin(chart.size.width, thread_names(app.snapshot))
        cursor = chart.style("cursor").bgcolor
        marked = {i for y in range(chart.size.height - 1) for i, seg in enumerate(_cells(chart, y, left))
                  if seg.style and seg.style.bgcolor == cursor}
        data = set()
        for y in range(chart.size.height - 1):
            data.update(braille_columns(chart, y))
        assert len(marked) == 1 and max(data) > next(iter(marked)) + 5  # the recorded future, right of the mark


def _cells(pane, y: int, left: int):
    """The segments of a line split into single cells, from the plot's first column."""
    out = []
    for segment in pane.render_line(y):
        out += [type(segment)(ch, segment.style) for ch in segment.text]
    return out[left:]


@pilot_test
async def test_a_click_on_the_chart_or_the_timeline_goes_to_that_step():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_verdict(app, pilot)
        end = app.snapshot.step
        for pane_type in (ChartPane, LanesPane):
            pane = app.query_one(pane_type)
            left = left_margin(pane.size.width, thread_names(app.snapshot))
            await pilot.click(pane_type, offset=(left + 3, 2))
            await settled(app, pilot)
            await pilot.pause()
            cells = plot_width(pane.size.width, thread_names(app.snapshot))
            assert app.snapshot.step == end * 3 // cells  # the third column's first step
            await go(app, pilot, end)


@pilot_test
async def test_the_timeline_shows_the_wedge_as_lanes_going_flat():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_verdict(app, pilot)
        lanes = app.query_one(LanesPane)
        left = left_margin(lanes.size.width, thread_names(app.snapshot))
        width = plot_width(lanes.size.width, thread_names(app.snapshot))

        def plots() -> dict[str, str]:
            rows = pane_text(lanes).splitlines()
            names = ("pagedaemon", "emergpager", "hog", "builder")
            return {name: next(r for r in rows if r.startswith(name))[left:left + width] for name in names}

        for name, plot in plots().items():  # over steps: where they ran takes columns of its own
            if name != "emergpager":  # it only ever takes a few steps
                assert CATEGORIES["run"][0] in plot, f"{name} never ran: {plot!r}"
        await pilot.press("x")  # over time: the wedge's last 10 s take most of the lane
        await pilot.pause()
        for name, plot in plots().items():
            assert plot[-6:-1].count(CATEGORIES["memory"][0]) >= 4, f"{name} does not end flat: {plot!r}"
        assert "runnable" in pane_text(lanes) and "waits for memory" in pane_text(lanes)  # the legend


@pilot_test
async def test_rates_show_as_systat_does():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "per second" not in pane_text(app.query_one(QueuesPane))  # no time has passed
        await go(app, pilot, 1500)
        queues = app.query_one(QueuesPane)
        rates = queues.rates
        assert rates is not None and rates.faults > 0 and rates.seconds > 0
        assert "per second" in pane_text(queues) and "flt" in pane_text(queues)


@pilot_test
async def test_events_have_a_thread_column_a_search_and_a_click_goes_to_the_step():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_verdict(app, pilot)
        events = app.query_one(EventsPane)
        lines = [line.prefix + line.body for line in events._lines]
        assert any(" pagedaemon  kmem_slab_alloc" in line for line in lines)
        assert " pagedaemon  kmem_slab_alloc" in pane_text(events)
        await pilot.press("slash", *"VM_Page_Alloc", "enter")
        assert events.filter.text == "VM_Page_Alloc"  # in any case
        assert events._lines and all("vm_page_alloc" in line.event.text for line in events._lines)
        assert len(events._lines) < len(lines) and "VM_Page_Alloc" in str(events.border_title)
        clicked = events._lines[round(events.scroll_y)].event
        verdict_step = app.snapshot.step
        await pilot.click(EventsPane, offset=(2, 1))  # row 0 is the title line
        await settled(app, pilot)
        await pilot.pause()
        assert app.snapshot.step == clicked.step < verdict_step


@pilot_test
async def test_the_banner_collapses_at_80x24_and_v_expands_it():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_verdict(app, pilot)
        banner = app.query_one("#banner")
        assert banner.has_class("-collapsed") and banner.size.height == 1
        assert banner.text().plain.rstrip().endswith("v more")
        await pilot.press("v")
        await pilot.pause()
        assert not banner.has_class("-collapsed") and banner.size.height > 1
        await pilot.press("v")
        await pilot.pause()
        assert banner.size.height == 1


@pytest.mark.parametrize("scenario", [DEFAULT, STORM])
@pilot_test
async def test_nothing_is_cut_with_an_ellipsis_at_120x40(scenario):
    app = make_app(scenario)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        start = {pane.id: pane_text(pane) for pane in app.query(".pane")}
        served(app).timeline.run()
        show_served(app)
        await pilot.pause()
        end = {pane.id: pane_text(pane) for pane in app.query(".pane")}
        banner_lines = app.query_one("#banner-text").render_lines(app.query_one("#banner-text").region)
        assert not app.query_one("#banner").has_class("-collapsed")
    for when in (start, end):
        for pane, text in when.items():
            cut = [line for line in text.splitlines() if "…" in line]
            assert not cut, f"{pane}: {cut}"
    assert not [strip.text for strip in banner_lines if strip.text.rstrip().endswith("…")]


@pytest.mark.parametrize("width, complete", [(80, False), (320, True)])
@pilot_test
async def test_the_footer_shows_every_key_or_a_more_marker(width, complete):
    app = make_app()
    async with app.run_test(size=(width, 30)) as pilot:
        await pilot.pause()
        footer = app.query_one("#keybar").render_line(0).text
        assert footer.startswith(" space Step")
        assert ("more keys" not in footer) == complete
        if complete:
            assert "Export text" in footer and "Quit" in footer
        else:
            assert footer.rstrip().endswith("? more keys")


@pilot_test
async def test_progress_is_against_the_workload():
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        assert "workload 0%" in status(app)
        await go(app, pilot, 1000)
        workload = app.snapshot.workload
        assert 0 < workload.pages_done < workload.pages_total
        assert f"workload {workload.fraction:.0%}" in status(app)
        app.mode = "fast-forward"
        app._update_status()
        assert f"pages {workload.pages_done:,}/{workload.pages_total:,}" in status(app)


@pilot_test
async def test_B_sets_a_breakpoint_that_f_stops_at():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("B")
        assert isinstance(app.screen, BreakpointScreen)
        await pilot.press(*"free+cache < 100", "enter")
        assert "● free+cache < 100" in status(app)
        await to_verdict(app, pilot)
        queues = app.snapshot.queues
        assert app.snapshot.verdict is None and queues["free"] + queues["cache"] < 100
        here = app.snapshot.step
        await pilot.press("b")
        assert app.snapshot.queues["free"] + app.snapshot.queues["cache"] >= 100
        await pilot.press("space", "f")  # on from the breakpoint: it holds already, so f runs to the verdict
        await settled(app, pilot)
        await pilot.pause()
        assert app.snapshot.verdict is not None and app.snapshot.step > here


@pilot_test
async def test_a_bad_breakpoint_is_reported_and_not_set():
    app = noted_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not app.add_breakpoint("nobody in kmem_slab_alloc")
        assert not app.add_breakpoint("free+cache < lots")
        assert app.breakpoints == [] and "●" not in status(app)
    assert any("no thread 'nobody'" in n for n in app.noted) and any("'lots'" in n for n in app.noted)


@pilot_test
async def test_S_runs_the_selected_thread_until_it_blocks():
    app = noted_app()
    async with app.run_test(size=SIZE) as pilot:
        await go(app, pilot, 1600)
        threads = app.query_one("#threads")
        threads.selected_tid = next(t.tid for t in app.snapshot.threads if t.name == "hog")
        await pilot.press("S")
        await until(lambda: app.mode == "paused")
        await pilot.pause()
        hog = next(t for t in app.snapshot.threads if t.name == "hog")
        assert app.snapshot.step > 1600
        assert any(n.startswith("hog ran ") for n in app.noted)
        assert not hog.runnable or any("unit of work is done" in n for n in app.noted)


@pilot_test
async def test_space_steps_past_a_livelock_but_not_past_an_ok():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await to_verdict(app, pilot)
        at = app.snapshot.step
        await pilot.press("space")
        assert app.snapshot.step == at + 1 and app.snapshot.passed_verdict.kind == "livelock"
        assert "past livelock" in status(app)
        assert app.query_one("#banner").display and "passed at" in app.query_one("#banner").text().plain
    app = make_app(SCENARIO_DIR / "teach-swapmeta-zalloc.toml")
    async with app.run_test(size=SIZE) as pilot:
        await to_verdict(app, pilot)
        at = app.snapshot.step
        await pilot.press("space")
        assert app.snapshot.step == at and app.snapshot.verdict.kind == "ok"
