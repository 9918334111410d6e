"""Save and share: the trace so far (replayable, openable), the explanation as text, screenshots, copying."""

from __future__ import annotations

from pathlib import Path

from textual.geometry import Offset
from textual.selection import Selection
from tui_support import SIZE, make_app, pilot_test, served, settled, to_verdict

from ztui.trace import read_trace, replay
from ztui.tui import app as app_module
from ztui.tui.banner import VerdictBanner
from ztui.tui.panes.events import EventsPane
from ztui.tui.panes.threads import ThreadsPane
from ztui.tui.saving import SaveError, check_writable, default_path, safe_name
from ztui.tui.screens.prompts import SaveScreen


async def save_with_w(app, pilot, extra_enters: int = 0) -> Path:
    await pilot.press("w")
    assert isinstance(app.screen, SaveScreen)
    path = Path(app.screen.query_one("#save-path").value)
    await pilot.press("enter", *["enter"] * extra_enters)
    await settled(app, pilot)
    await pilot.pause()
    return path


async def session_with_choices(app, pilot) -> None:
    """Single steps, a thread the user forced, a run of one thread, a jump: what a trace must keep."""
    await pilot.press("space", "space", "space")
    while len(served(app).sim.runnable()) < 2:
        await pilot.press("space")
    other = next(t for t in app.snapshot.threads if t.runnable and not t.is_next)
    app.query_one(ThreadsPane).selected_tid = other.tid
    await pilot.press("s", "S")
    await settled(app, pilot)
    app.go_to(served(app).sim.step_count + 700)
    await settled(app, pilot)
    await pilot.pause()
    assert served(app).timeline.forced, "the session has no forced choice to save"


@pilot_test
async def test_w_saves_a_trace_that_replays_and_reopens_where_it_was(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await session_with_choices(app, pilot)
        app.add_breakpoint("free+cache < 100")
        step, digest = served(app).sim.step_count, served(app).sim.state_hash()
        path = await save_with_w(app, pilot)
    assert path.parent == tmp_path and path.name == f"teach-swapmeta-kmalloc-obj-step{step}.trace.gz"
    trace = read_trace(path)
    assert trace.exact and trace.end_step == step and trace.end_hash == digest
    assert trace.breakpoints == ("free+cache < 100",)
    assert replay(trace).ok  # what `ztui replay` checks
    reopened = make_app(trace=trace)  # what `ztui launch --trace` does
    async with reopened.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert served(reopened).sim.step_count == step and served(reopened).sim.state_hash() == digest
        assert [bp.text for bp in reopened.breakpoints] == ["free+cache < 100"]
        await pilot.press("b")  # and it can be walked back
        assert served(reopened).sim.step_count == step - 1


@pilot_test
async def test_a_trace_saved_past_a_livelock_replays_past_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await to_verdict(app, pilot)
        verdict = app.snapshot.verdict
        await pilot.press("space", "space", "space")
        assert app.snapshot.verdict is None and app.snapshot.passed_verdict == verdict
        step, digest = served(app).sim.step_count, served(app).sim.state_hash()
        path = await save_with_w(app, pilot)
    trace = read_trace(path)
    assert trace.past_verdict and trace.end_step == step == verdict.step + 3
    assert replay(trace).ok
    reopened = make_app(trace=trace)
    async with reopened.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert served(reopened).sim.state_hash() == digest


@pilot_test
async def test_saving_over_a_file_asks_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        target = default_path(app.snapshot.scenario, app.snapshot.step, ".trace.gz")
        target.write_bytes(b"mine")
        await pilot.press("w", "enter")
        assert isinstance(app.screen, SaveScreen) and "exists" in str(app.screen.query_one("#save-note").render())
        await pilot.press("escape")
        await settled(app, pilot)
        assert target.read_bytes() == b"mine"
        await save_with_w(app, pilot, extra_enters=1)  # enter, then enter again to overwrite
    assert read_trace(target).end_step == 1


def test_output_names_are_safe_and_paths_are_checked_before_any_work(tmp_path):
    assert safe_name("../../etc/passwd") == "etc-passwd"
    assert safe_name("[/]\x1b]0;x\x07") == "0-x"
    assert safe_name("...") == "ztui"
    assert default_path("../x", 7, ".trace.gz", tmp_path) == tmp_path / "x-step7.trace.gz"
    (tmp_path / "there").write_text("mine")
    for path, complaint in ((tmp_path / "there", "exists"), (tmp_path, "is a directory"),
                            (tmp_path / "no" / "dir" / "t.gz", "is not a directory")):
        try:
            check_writable(path, overwrite=False)
        except SaveError as error:
            assert complaint in str(error)
        else:
            raise AssertionError(f"{path} was accepted")


@pilot_test
async def test_E_exports_the_explanation_as_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await to_verdict(app, pilot)
        await pilot.press("E")
        assert isinstance(app.screen, SaveScreen)
        await pilot.press("enter")
        await pilot.pause()
    [path] = tmp_path.glob("*-explain.txt")
    text = path.read_text()
    assert "free+cache is 16 pages" in text and "Verdict LIVELOCK" in text and "kmem_slab_alloc" in text


@pilot_test
async def test_a_screenshot_goes_to_the_working_directory_when_downloads_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(app_module, "user_downloads_path", lambda: tmp_path / "no-such-Downloads")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.deliver_screenshot()  # what the palette's "Screenshot" runs
        await pilot.pause()
        await settled(app, pilot)
        await pilot.pause()
    shots = list(tmp_path.glob("*.svg"))
    assert len(shots) == 1 and "teach-swapmeta-kmalloc-obj" in shots[0].read_text()


@pilot_test
async def test_selecting_text_copies_the_lines_not_widget_names():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_verdict(app, pilot)
        events = app.query_one(EventsPane)
        app.screen.selections = {events: Selection(Offset(0, 0), None)}
        copied = app.screen.get_selected_text()
        assert "made no progress" in copied and "EventsPane" not in copied
        banner_text = app.query_one("#banner-text")
        app.screen.selections = {banner_text: Selection(None, None)}
        copied = app.screen.get_selected_text()
        assert "LIVELOCK" in copied and "kmem_slab_alloc" in copied
        chart = app.query_one("#chart")
        app.screen.selections = {chart: Selection(None, None)}
        assert "v_interrupt_free_min" in app.screen.get_selected_text()
        assert app.query_one(VerdictBanner).display
