"""Every bundled theme is readable (WCAG AA), OK is never shown in red, and nothing alarms at step 0.

Contrast is computed from the colours Textual resolves for each theme (as
drawn: a component style merged with its widget's background), with the
WCAG 2 relative-luminance formula.
"""

from __future__ import annotations

import pytest
from rich.style import Style
from textual.color import Color
from tui_support import make_app, pilot_test, settled

from ztui.scenario.bundled import SCENARIO_DIR
from ztui.tui.banner import VerdictBanner
from ztui.tui.panes.lanes import CATEGORIES
from ztui.tui.screens.help import HelpScreen
from ztui.tui.statusbar import StatusBar
from ztui.tui.themes import BUNDLED_THEMES, load_themes

AA = 4.5
THEMES = sorted(theme.name for theme in load_themes([BUNDLED_THEMES])[0])
STYLED = ("pane--", "status--", "banner--", "keybar--")


def luminance(color: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = color.rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: Color, b: Color) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_formula_matches_wcag_reference_values():
    assert contrast(Color(0, 0, 0), Color(255, 255, 255)) == pytest.approx(21.0)
    assert contrast(Color(119, 119, 119), Color(255, 255, 255)) == pytest.approx(4.48, abs=0.01)  # #777: fails AA
    assert contrast(Color(118, 118, 118), Color(255, 255, 255)) == pytest.approx(4.54, abs=0.01)  # #767676: passes


def colors_of(style: Style) -> tuple[Color, Color] | None:
    if style.color is None or style.bgcolor is None:
        return None
    fg, bg = Color.from_rich_color(style.color), Color.from_rich_color(style.bgcolor)
    return (bg, fg) if style.reverse else (fg, bg)


def low_contrast(app) -> list[str]:
    """Every text style on the screen (and on a cursor row) whose contrast is below AA."""
    found = []
    for widget in app.screen.query("*"):
        base = colors_of(widget.rich_style)
        if base is not None and contrast(*base) < AA:
            found.append(f"{widget!r} text: {contrast(*base):.2f}")
        classes = sorted(c for c in getattr(widget, "COMPONENT_CLASSES", ()) if c.startswith(STYLED))
        backgrounds = [widget.rich_style.bgcolor]
        if "pane--cursor" in classes:
            backgrounds.append(widget.get_component_rich_style("pane--cursor", partial=False).bgcolor)
        for name in classes:
            style = widget.get_component_rich_style(name, partial=False)
            for bgcolor in backgrounds:
                pair = colors_of(style + Style(bgcolor=bgcolor) if not style.reverse else style)
                if pair is not None and contrast(*pair) < AA:
                    found.append(f"{widget.id} {name}: {contrast(*pair):.2f} ({pair[0].hex} on {pair[1].hex})")
    return found


@pytest.mark.parametrize("theme", THEMES)
@pilot_test
async def test_every_text_style_meets_wcag_aa(theme):
    app = make_app(theme=theme)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.theme == theme
        at_start = low_contrast(app)
        app.action_fast_forward()  # the verdict: banner, chain colours, lanes and chart filled in
        await settled(app, pilot)
        await pilot.pause()
        assert app.query_one(VerdictBanner).display
        at_verdict = low_contrast(app)
        app.push_screen(HelpScreen(app.keys, "keymap.toml"))
        await pilot.pause()
        in_dialog = low_contrast(app)
    assert at_start == [] and at_verdict == [] and in_dialog == []


@pytest.mark.parametrize("theme", THEMES)
@pilot_test
async def test_ok_is_never_shown_in_the_alarm_colour(theme):
    app = make_app(SCENARIO_DIR / "teach-swapmeta-zalloc.toml", theme=theme)
    async with app.run_test(size=(120, 40)) as pilot:
        app.action_fast_forward()
        await settled(app, pilot)
        await pilot.pause()
        assert app.snapshot.verdict.kind == "ok"
        status = app.query_one(StatusBar)
        badge = status.get_component_rich_style("status--ok", partial=True).color
        alarm = {status.get_component_rich_style("status--verdict", partial=True).color,
                 app.query_one("#queues").style("bad").color, app.query_one("#queues").style("chain").color}
        assert badge == app.query_one("#queues").style("good").color and badge not in alarm
        banner = app.query_one(VerdictBanner)
        assert banner.has_class("-ok")
        assert banner.get_component_rich_style("banner--kind", partial=True).color == badge


def red_cells(app) -> list[str]:
    """Text drawn in the alarm colours (error, the verdict chain) anywhere in the panes.

    The timeline's legend shows the colour of a memory wait on purpose: it is left out.
    """
    probe = app.query_one("#queues")
    alarm = {probe.style("bad").color, probe.style("chain").color}
    legend = {glyph * 2 for glyph, _ in CATEGORIES.values()}
    found = []
    for pane in app.query(".pane"):
        for y in range(pane.size.height):
            for segment in pane.render_line(y):
                if segment.text in legend:
                    continue
                if segment.text.strip() and segment.style is not None and segment.style.color in alarm:
                    found.append(f"{pane.id}: {segment.text.strip()!r}")
    return found


@pytest.mark.parametrize("scenario", sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
@pilot_test
async def test_nothing_alarms_at_step_zero(scenario):
    app = make_app(SCENARIO_DIR / f"{scenario}.toml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.snapshot.step == 0
        assert red_cells(app) == []
        assert not app.query(".pane.-in-chain")


@pilot_test
async def test_the_alarm_probe_sees_red_at_a_verdict():
    """The step-0 test above would pass if red_cells() saw nothing: at a livelock it must see the chain."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.action_fast_forward()
        await settled(app, pilot)
        await pilot.pause()
        assert any("pagedaemon" in cell for cell in red_cells(app))
