"""Theme files and keymaps: good ones load, broken ones are reported, never fatal."""

from __future__ import annotations

import pytest
from tui_support import SIZE, make_app, noted_app, pilot_test

from ztui.tui.keymap import load_keymap
from ztui.tui.themes import BUNDLED_THEMES, ThemeFileError, load_theme, load_themes


def test_the_bundled_themes_load():
    themes, problems = load_themes([BUNDLED_THEMES])
    assert problems == []
    names = {theme.name for theme in themes}
    assert {"ztui-dark", "ztui-light"} <= names and len(names) >= 2
    light = next(theme for theme in themes if theme.name == "ztui-light")
    assert light.dark is False and light.variables["ztui-chain"].startswith("#")


@pytest.mark.parametrize("text, complaint", [
    ('name = "x"\n[colors]\nprimary = "not a colour"\n', "colors.primary: 'not a colour' is not a color"),
    ('name = "x"\n[colors]\nsecondary = "#123456"\n', "colors.primary: required"),
    ('name = "x"\ncolours = {}\n[colors]\nprimary = "#123456"\n', "unknown keys colours"),
    ('[colors]\nprimary = "#123456"\n', "name: a non-empty string is required"),
    ('name = "x"\n[colors]\nprimary = "#123456"\n[variables]\nztui-free = "greenish"\n', "variables.ztui-free"),
    ('name = "x\n', "x.toml: "),
])
def test_a_broken_theme_file_says_what_is_wrong(tmp_path, text, complaint):
    path = tmp_path / "x.toml"
    path.write_text(text)
    with pytest.raises(ThemeFileError) as error:
        load_theme(path)
    assert complaint in str(error.value)


@pilot_test
async def test_a_broken_theme_in_the_working_directory_is_reported_not_fatal(tmp_path, monkeypatch):
    (tmp_path / "themes").mkdir()
    (tmp_path / "themes" / "mine.toml").write_text('name = "mine"\n[colors]\nprimary = "purplish"\n')
    (tmp_path / "themes" / "good.toml").write_text('name = "good"\ndark = false\n[colors]\nprimary = "#336699"\n')
    monkeypatch.chdir(tmp_path)
    app = noted_app(theme="good")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "good"
        assert any("mine.toml" in note and "purplish" in note for note in app.noted)
        assert "good" in app.ztui_theme_names and "mine" not in app.ztui_theme_names


@pilot_test
async def test_theme_option_takes_a_short_name_and_reports_an_unknown_one():
    app = make_app(theme="light")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "ztui-light"
    app = noted_app(theme="nope")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "ztui-dark"
        assert any("nope" in note for note in app.noted)


def test_keymap_file_rebinds_by_control_id(tmp_path):
    path = tmp_path / "keymap.toml"
    path.write_text('[keys]\nstep = "n"\nfast_forward = "F,ctrl+f"\n')
    assert load_keymap(path) == ({"step": "n", "fast_forward": "F,ctrl+f"}, [])


def test_keymap_file_problems_are_listed(tmp_path):
    path = tmp_path / "keymap.toml"
    path.write_text('[keys]\nstpe = "n"\nrun = 3\nback = "B"\n')
    keymap, problems = load_keymap(path)
    assert keymap == {"back": "B"}
    assert any("unknown control 'stpe'" in p for p in problems)
    assert any("keys.run must be a string" in p for p in problems)
    assert load_keymap(tmp_path / "missing.toml") == ({}, [])
