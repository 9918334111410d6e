"""Every control, through its default key, on the real simulator (paused before each key press)."""

from __future__ import annotations

import attrs
import pytest
from textual.command import Hit
from tui_support import DEFAULT, LONG, SIZE, FakeClock, make_app, pilot_test, served, settled, to_verdict, until

import ztui.tui.app as app_module
from ztui.core.simulator import Simulator
from ztui.scenario.bundled import SCENARIO_DIR
from ztui.scenario.load import load_scenario
from ztui.trace import TraceRecorder
from ztui.tui.commands import ZtuiCommands
from ztui.tui.panes.events import EventsPane
from ztui.tui.panes.threads import ThreadsPane
from ztui.tui.screens.help import HelpScreen
from ztui.tui.screens.prompts import FilterScreen, GotoScreen, PickerScreen
from ztui.tui.screens.text import ProblemsScreen, TextScreen
from ztui.tui.statusbar import StatusBar


def headless(path=DEFAULT) -> Simulator:
    return Simulator.from_scenario(load_scenario(path))


def status(app) -> str:
    return app.query_one(StatusBar).render().plain


@pilot_test
async def test_space_steps_like_the_simulator_does():
    app, twin = make_app(), headless()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "space")
        for _ in range(3):
            twin.step()
        assert served(app).sim.state_hash() == twin.state_hash()
        assert f"step {twin.step_count}" in status(app)


@pilot_test
async def test_s_runs_the_selected_thread_and_refuses_a_blocked_one():
    app, twin = make_app(), headless()
    async with app.run_test(size=SIZE) as pilot:
        while len(served(app).sim.runnable()) < 2:
            await pilot.press("space")
            twin.step()
        chosen = next(t for t in app.snapshot.threads if t.runnable and not t.is_next)
        app.query_one(ThreadsPane).selected_tid = chosen.tid
        await pilot.press("s")
        twin.step(chosen.tid)
        assert served(app).sim.state_hash() == twin.state_hash()

        blocked = next(t for t in app.snapshot.threads if not t.runnable)
        app.query_one(ThreadsPane).selected_tid = blocked.tid
        before = served(app).sim.step_count
        await pilot.press("s")
        assert served(app).sim.step_count == before


@pilot_test
async def test_r_runs_at_the_set_speed_and_pauses():
    clock = FakeClock()  # the app paces runs by it: the test moves time, the machine's speed does not matter
    app = make_app(LONG, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        assert app.mode == "run" and "run" in status(app)
        for eighths in range(1, 6):  # 100 steps a second: after k/8 s, int(12.5 k) steps are due
            clock.advance(1 / 8)
            due = int(12.5 * eighths)
            await until(lambda due=due: served(app).sim.step_count == due)
        await pilot.press("r")
        assert app.mode == "paused"
        assert served(app).sim.step_count == 62
        clock.advance(10)
        await pilot.pause()
        assert served(app).sim.step_count == 62  # paused: time passing runs nothing


@pilot_test
async def test_plus_and_minus_change_the_speed():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("plus")
        assert "speed 200/s" in status(app)
        await pilot.press("minus", "minus")
        assert "speed 50/s" in status(app)


@pilot_test
async def test_f_fast_forwards_to_the_verdict():
    app, twin = make_app(), headless()
    async with app.run_test(size=SIZE) as pilot:
        await to_verdict(app, pilot)
        twin.run()
        assert app.mode == "paused"
        assert app.snapshot.verdict == twin.verdict
        assert twin.verdict.kind.upper() in status(app)


@pilot_test
async def test_f_again_interrupts_the_fast_forward():
    app = make_app(LONG)
    async with app.run_test(size=SIZE) as pilot:
        app.action_fast_forward()  # not pilot.press: it waits for an idle CPU, which a run never gives
        await until(lambda: app.snapshot is not None and app.snapshot.step > 0)
        assert "fast-forward" in status(app)
        app.action_fast_forward()
        await pilot.pause()
        assert app.mode == "paused" and app.snapshot.verdict is None
        assert app.snapshot.step == served(app).sim.step_count > 0


@pilot_test
async def test_b_steps_back_to_the_exact_earlier_state():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space")
        step, digest = served(app).sim.step_count, served(app).sim.state_hash()
        await pilot.press("space", "b")
        assert (served(app).sim.step_count, served(app).sim.state_hash()) == (step, digest)
        assert f"step {step}" in status(app)


@pilot_test
async def test_g_goes_to_a_step_forwards_and_backwards():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for target in (1000, 200):
            await pilot.press("g")
            assert isinstance(app.screen, GotoScreen)
            await pilot.press(*str(target), "enter")
            await settled(app, pilot)
            await pilot.pause()
            assert app.snapshot.step == target


@pilot_test
async def test_e_explains_the_wait_for_chain():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await to_verdict(app, pilot)
        await pilot.press("e")
        assert isinstance(app.screen, TextScreen)
        text = str(app.screen.body)
        assert "free+cache is 16 pages" in text and "pagedaemon" in text
        assert "kmem_slab_alloc" in text
        assert "How close:\nWhy it wedged: " in text and "is in kmalloc_obj slab for SWAPMETA" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, TextScreen)


@pilot_test
async def test_slash_filters_the_event_log():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await to_verdict(app, pilot)
        await pilot.press("slash")
        assert isinstance(app.screen, FilterScreen)
        await pilot.press("tab", "down", "enter")  # past the search box, the first thread after "(all)"
        first = app.snapshot.threads[0].name
        events = app.query_one(EventsPane)
        assert events.filter.thread == first
        assert events._lines and all(line.event.thread == first for line in events._lines)
        await pilot.press("escape")
        assert first in events.border_title


@pilot_test
async def test_z_zooms_the_focused_pane():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        threads = app.query_one(ThreadsPane)
        await pilot.press("z")
        assert app.screen.maximized is threads
        await pilot.press("z")
        assert app.screen.maximized is None


@pilot_test
async def test_o_picks_another_scenario():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        names = [entry.name for entry in picker.entries]
        assert "teach-swapmeta-zalloc" in names
        moves = names.index("teach-swapmeta-zalloc") - names.index("teach-swapmeta-kmalloc-obj")  # from the open one
        await pilot.press(*["down" if moves > 0 else "up"] * abs(moves), "enter")
        await pilot.pause()
        assert app.snapshot.scenario == "teach-swapmeta-zalloc"


@pilot_test
async def test_ctrl_r_reloads_from_step_zero():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "ctrl+r")
        assert served(app).sim.step_count == 0 and "step 0" in status(app)


@pilot_test
async def test_t_cycles_the_ztui_themes():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "ztui-dark"
        seen = []
        for _ in app.ztui_theme_names:
            await pilot.press("t")
            seen.append(app.theme)
        assert sorted(seen) == sorted(app.ztui_theme_names) and seen[-1] == "ztui-dark"


@pilot_test
async def test_question_mark_shows_every_key():
    app = make_app(keymap={"step": "n"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.keys["step"] == "n"  # as the keymap has it
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@pilot_test
async def test_q_quits():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
    assert app.return_code == 0


@pilot_test
async def test_quitting_while_fast_forwarding_stops_the_worker():
    app = make_app(LONG)
    async with app.run_test(size=SIZE):
        app.action_fast_forward()
        await until(lambda: app.snapshot.step > 0)
        await app.action_quit()  # what q does; pilot.press would wait for an idle CPU first
    assert app.return_code == 0
    assert not [worker for worker in app.workers if worker.group == "sim" and worker.is_running]


@pilot_test
async def test_a_keymap_rebinds_a_control():
    app = make_app(keymap={"step": "n"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        assert served(app).sim.step_count == 0
        await pilot.press("n")
        assert served(app).sim.step_count > 0


@pilot_test
async def test_the_palette_offers_controls_and_scenarios():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        provider = ZtuiCommands(app.screen)
        await provider.startup()
        hits = [hit async for hit in provider.search("fast-fwd")]
        assert hits and isinstance(hits[0], Hit)
        await hits[0].command()
        await settled(app, pilot)
        await pilot.pause()
        assert app.snapshot.verdict is not None
        titles = [hit.text async for hit in provider.discover()]
        assert "Open scenario: teach-swapmeta-zalloc" in titles
        assert "Theme: ztui-light" in titles


@pilot_test
async def test_a_scenario_with_errors_is_shown_not_fatal(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('[machine]\nphysmem = "lots"\n[[process]]\nname = "hog"\nphases = [{op = "alocate"}]\n')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        assert not app.open_scenario(broken)
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)
        body = str(app.screen.body)
        assert "physmem" in body and "alocate" in body
        await pilot.press("escape")
        assert app.snapshot.scenario == "teach-swapmeta-kmalloc-obj"  # the run is still there


@pilot_test
async def test_starting_with_a_broken_scenario_shows_its_problems(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[machine]\nphysmen = '8m'\n")
    app = make_app(broken)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen) and "physmen" in str(app.screen.body)
        await pilot.press("escape", "space")  # no scenario: keys do nothing, and nothing breaks
        assert app.session is None and "no scenario" in status(app)


@pilot_test
async def test_a_trace_opens_at_its_verdict_and_steps_back_exactly(tmp_path):
    scenario = load_scenario(DEFAULT)
    recorder = TraceRecorder(Simulator.from_scenario(scenario))
    recorder.run()
    trace = recorder.trace()
    app = make_app(trace=trace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.snapshot.step == trace.end_step and app.snapshot.verdict is not None
        assert served(app).sim.state_hash() == trace.end_hash
        await pilot.press("b")
        await settled(app, pilot)
        await pilot.pause()
        fresh = Simulator.from_scenario(scenario)
        fresh.run(max_steps=trace.end_step - 1)
        assert served(app).sim.state_hash() == fresh.state_hash()


@pilot_test
async def test_ctrl_r_on_a_trace_starts_its_own_scenario_and_opens_no_file(tmp_path, monkeypatch):
    recorder = TraceRecorder(Simulator.from_scenario(load_scenario(DEFAULT)))
    recorder.run(max_steps=50)
    trace = attrs.evolve(recorder.trace(), source_name=str(tmp_path / "gone.toml"))
    app = make_app(trace=trace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        monkeypatch.setattr(app_module, "load_scenario", lambda path: pytest.fail(f"read {path}"))
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.snapshot.step == 0 and served(app).scenario == trace.scenario


def test_every_bundled_scenario_is_offered():
    app = make_app()
    paths = {entry.path for entry in app.scenario_entries()}
    assert set(SCENARIO_DIR.glob("*.toml")) <= paths


@pilot_test
async def test_the_banner_says_how_close_and_the_palette_goes_there():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_verdict(app, pilot)
        verdict = app.snapshot.verdict
        closest, low = verdict.closest, verdict.low_water
        assert closest is not None and low is not None
        banner = app.query_one("#banner").text().plain
        assert f"How close: closest: {closest.thread} in {closest.allocation}" in banner
        assert f"{closest.lowest_margin} pages to spare (step {closest.step})" in banner
        assert f"How close: lowest free+cache: {low.pages} at" in banner
        provider = ZtuiCommands(app.screen)
        await provider.startup()
        hits = [hit async for hit in provider.search("go to closest")]
        assert hits and hits[0].text == f"Go to closest (step {closest.step})"
        hits[0].command()
        await settled(app, pilot)
        await pilot.pause()
        assert app.snapshot.step == closest.step
