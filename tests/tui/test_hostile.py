"""Hostile input to the TUI (issue 10, classes 1 and 8): text from files is never markup and never
reaches the terminal raw; keys typed fast never crash it; a huge bad keymap is reported capped."""

from __future__ import annotations

import random

import pytest
from textual import events
from textual.keys import _character_to_key
from tui_support import SIZE, make_app, noted_app, pilot_test, settled, until

from ztui.core.simulator import Simulator
from ztui.scenario.load import load_scenario
from ztui.trace import TraceRecorder
from ztui.tui.app import ZtuiApp
from ztui.tui.commands import ZtuiCommands
from ztui.tui.keymap import load_keymap
from ztui.tui.safe import capped, visible
from ztui.tui.screens.help import HelpScreen
from ztui.tui.screens.prompts import FilterScreen, PickerScreen

ESC = "\x1b"
# Markup that Rich or Textual would choke on, and control sequences a terminal would obey.
HOSTILE_NAMES = ("[/]", "[/bold]x", "[b]bold[/b]", "\x1b]0;pwned\x07", "\x1b[2J\x1b[31mred", "rtl\u202eevil", "tab\there")


def evil_scenario(tmp_path, names=("[/]", "\x1b[31m[/bold]", "\x1b]8;;file:///etc/passwd\x07link")):
    path = tmp_path / "evil.toml"
    processes = "".join(
        f'[[process]]\nname = "{toml_escape(name)}"\nphases = [{{op = "alloc", pages = "2m"}}, {{op = "exit"}}]\n'
        for name in names)
    path.write_text(f'name = "{toml_escape("[/]scenario" + ESC + "[2J")}"\n'
                    f'description = "{toml_escape("[/bold]" + ESC + "]0;title" + chr(7))}"\n'
                    '[machine]\nphysmem = "8m"\nswap = "8m"\n[allocators]\nswapmeta = "kmalloc_obj"\n' + processes)
    return path


def toml_escape(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or c in '"\\' or 0x7f <= ord(c) < 0xa0 else c for c in text)


def screen_text(app) -> str:
    """Everything the panes, the status bar and the footer draw now."""
    out = []
    for widget in [*app.query(".pane"), app.query_one("#keybar")]:
        out += [widget.render_line(y).text for y in range(widget.size.height)]
    out.append(app.query_one("#status").render().plain)
    return "\n".join(out)


@pytest.mark.parametrize("name, shown", [
    ("[/]", "[/]"),
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
    ("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),
    ("rtl\u202eevil", "rtl\\u202eevil"),
    ("tab\there\r\n", "tab\\x09here\\x0d\\x0a"),
    ("\x9b31m", "\\x9b31m"),  # a C1 control: CSI in one byte
    ("caf\u00e9 \u2014 ok", "caf\u00e9 \u2014 ok"),
])
def test_visible_shows_every_control_character_and_keeps_the_rest(name, shown):
    assert visible(name) == shown
    assert visible(shown) == shown  # safe text stays as it is


def test_capped_problems_say_how_many_more():
    problems = [f"keymap.toml: unknown control 'x{i}'" for i in range(3000)]
    text = capped(problems, first=5)
    assert text.splitlines()[:5] == problems[:5] and text.splitlines()[-1] == "... and 2995 more"
    assert capped(problems[:3]) == "\n".join(problems[:3])


@pilot_test
async def test_names_with_markup_and_escapes_are_shown_as_text(tmp_path):
    app = make_app(evil_scenario(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.session is not None, "the scenario did not open"
        threads = app.query_one("#threads")
        threads.focus()
        for _ in range(4):  # select the hostile process, and be its scheduler: the s key
            await pilot.press("down")
            await pilot.press("s")
        await pilot.press("S")
        await until(lambda: app.mode == "paused")
        app.action_fast_forward()
        await settled(app, pilot)
        await pilot.pause()
        text = screen_text(app)
        assert ESC not in text and "\x07" not in text
        assert "[/]" in text and "\\x1b[31m[/bold]" in text  # shown as written, escapes visible
        # Every screen that shows names: help, explain, thread details, the filter dialog, the picker.
        for key in ("question_mark", "e", "enter", "slash"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is not app.screen_stack[0]
            await pilot.press("escape")
        app.push_screen(PickerScreen(app.scenario_entries() + [], app.scenario_path))
        await pilot.press("escape")
        provider = ZtuiCommands(app.screen)
        await provider.startup()
        titles = [str(hit.prompt) async for hit in provider.discover()]
        assert any("[/]" in title for title in titles)
        hits = [hit async for hit in provider.search("[/]")]
        assert hits


@pilot_test
async def test_a_trace_of_a_hostile_scenario_opens(tmp_path):
    scenario = load_scenario(evil_scenario(tmp_path))
    recorder = TraceRecorder(Simulator.from_scenario(scenario))
    recorder.run(max_steps=500)
    app = make_app(trace=recorder.trace())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.snapshot.step == recorder.trace().end_step
        assert ESC not in screen_text(app)


def post_keys(app: ZtuiApp, keys: list[str]) -> None:
    """Keys as a fast typist sends them: all queued at once, none waiting for the last to be handled."""
    for key in keys:
        char = key if len(key) == 1 else None
        app.post_message(events.Key(_character_to_key(key) if char else key, char))


@pytest.mark.parametrize("keys", [
    ["ctrl+p", "x", "pageup"],  # KeyError: the palette's list paged before its first layout
    ["ctrl+p", "x", "pagedown", "pageup", "pageup"],
    ["o", "enter", "enter"],  # ScreenStackError: the picker answered twice
    ["o", "enter", "enter", "enter", "escape"],
    ["g", "1", "0", "enter", "enter"],
    ["slash", "enter", "enter", "escape", "escape"],
    ["w", "enter", "escape", "enter"],
])
@pilot_test
async def test_keys_typed_fast_do_not_crash(keys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # w saves a trace here
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        post_keys(app, keys)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app._exception is None
    assert app.return_code in (None, 0)


@pilot_test
async def test_random_fast_key_runs_do_not_crash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    keys = ["ctrl+p", "o", "g", "slash", "question_mark", "e", "B", "w", "E", "v", "x", "y", "z", "b", "space",
            "s", "enter", "escape", "tab", "pageup", "pagedown", "down", "up", "1", "a"]
    rng = random.Random(20260610)
    for _ in range(6):
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            post_keys(app, [rng.choice(keys) for _ in range(12)])
            await pilot.pause()
            await app.workers.wait_for_complete()
            app.stop()
            await pilot.pause()
        assert app._exception is None


@pilot_test
async def test_a_keymap_with_thousands_of_bad_entries_is_reported_once_capped(tmp_path, monkeypatch):
    path = tmp_path / "keymap.toml"
    path.write_text("[keys]\n" + "".join(f'bad{i} = "x"\n' for i in range(3000)) + 'step = "[/]"\n')
    monkeypatch.setenv("ZTUI_KEYMAP", str(path))
    _, problems = load_keymap(path)
    assert len(problems) == 3000
    app = noted_app(keymap=None)  # keymap None: it reads $ZTUI_KEYMAP
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.keys["step"] == "[/]"  # a key name that is markup is shown as it is
        assert "[/]" in app.query_one("#keybar").render_line(0).text
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
    reports = [n for n in app.noted if "bad0" in n]
    assert len(reports) == 1 and reports[0].splitlines()[-1] == "... and 2995 more"


@pilot_test
async def test_theme_files_with_markup_names_and_colours_are_reported_as_text(tmp_path, monkeypatch):
    (tmp_path / "themes").mkdir()
    (tmp_path / "themes" / "a.toml").write_text('name = "[b]x[/]"\n[colors]\nprimary = "#336699"\n')
    (tmp_path / "themes" / "b.toml").write_text('name = "y"\n[colors]\nprimary = "[/]\\u001b[2J"\n')
    monkeypatch.chdir(tmp_path)
    app = noted_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "[b]x[/]" in app.ztui_theme_names
        app.theme = "[b]x[/]"
        await pilot.pause()
        provider = ZtuiCommands(app.screen)
        await provider.startup()
        assert [hit async for hit in provider.search("Theme: [b]")]
    assert any("b.toml" in n and "\\x1b" in n and ESC not in n for n in app.noted)


def test_filter_screen_lists_hostile_names_by_position():
    screen = FilterScreen.__new__(FilterScreen)  # the option ids are positions, never the names
    options = FilterScreen._list(screen, "filter-thread", "thread", list(HOSTILE_NAMES), None)
    assert [option.id for option in options.options] == [str(i) for i in range(len(HOSTILE_NAMES) + 1)]
