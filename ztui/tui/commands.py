"""The command palette: every control, plus scenarios, themes, event filters, threads, breakpoints.

Titles and help can hold names from files (scenarios, themes, threads), so
they go to the palette as Content, never as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from ztui.tui.banner import approaches
from ztui.tui.breakpoints import SLAB_FUNCTION, SLAB_STARTS
from ztui.tui.controls import CONTROLS
from ztui.tui.panes.levels import MARKERS
from ztui.tui.safe import content, visible

if TYPE_CHECKING:
    from ztui.tui.app import ZtuiApp

MATCH_STYLE = "bold underline"


class ZtuiCommandPalette(CommandPalette):
    def _action_command_list(self, action: str) -> None:
        # Textual 8.2.8's OptionList pages (PageUp/PageDown) by its laid-out lines; typed fast,
        # before the list's first layout there are none and it raises KeyError: wait for it.
        if not self.query_one(CommandList).scrollable_content_region:
            return
        super()._action_command_list(action)


class ZtuiCommands(Provider):
    @property
    def ztui(self) -> ZtuiApp:
        return self.app  # type: ignore[return-value]

    async def startup(self) -> None:
        # Listing scenarios reads every file: once per opening of the palette, not per key typed.
        self.scenarios = self.ztui.scenario_entries()

    def commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        """(title, callback, help) for everything the palette offers right now; titles are plain text."""
        app = self.ztui
        for control in CONTROLS:
            yield control.label, partial(app.run_action, control.action), control.help
        for entry in self.scenarios:
            yield f"Open scenario: {entry.name}", partial(app.open_scenario, entry.path), \
                entry.description or str(entry.path)
        for name in app.ztui_theme_names:
            yield f"Theme: {name}", partial(setattr, app, "theme", name), "Switch to this theme."
        snapshot = app.snapshot
        if snapshot is None:
            return
        verdict = snapshot.verdict or snapshot.passed_verdict
        if verdict is not None:
            for line, step in approaches(verdict, snapshot.hz):
                yield f"Go to {line.split(':')[0]} (step {step})", partial(app.go_to, step), visible(line)
        for thread in snapshot.threads:
            yield f"Filter events: thread {thread.name}", partial(app.filter_events, thread=thread.name), \
                "Show only this thread's events."
            if thread.runnable:
                yield f"Schedule: run {thread.name}", partial(app.schedule, thread.tid), \
                    "You are the scheduler: this thread takes the next step."
            yield f"Breakpoint: {thread.name} enters {SLAB_FUNCTION}", \
                partial(app.add_breakpoint, f"{thread.name} in {SLAB_FUNCTION}"), \
                "Run or fast-forward until this thread starts to assemble a slab."
        for subsystem in sorted({e.subsystem for e in snapshot.events}):
            yield f"Filter events: subsystem {subsystem}", partial(app.filter_events, subsystem=subsystem), \
                "Show only this subsystem's events."
        yield "Filter events: clear", app.filter_events, "Show every event."
        for _, name in MARKERS:
            yield f"Breakpoint: free+cache below {name}", partial(app.add_breakpoint, f"free+cache < {name}"), \
                f"Run or fast-forward until free+cache falls below {name} ({snapshot.vmstats.get(name, 0)})."
        yield f"Breakpoint: {SLAB_STARTS}", partial(app.add_breakpoint, SLAB_STARTS), \
            "Run or fast-forward until a kmalloc_obj slab starts to be assembled."
        yield "Breakpoint: margin < 100", partial(app.add_breakpoint, "margin < 100"), \
            "Run or fast-forward until a pager's allocation has fewer than 100 pages to spare."
        yield "Breakpoints: clear", app.clear_breakpoints, "Remove every breakpoint."

    async def discover(self) -> Hits:
        for title, callback, help_text in self.commands():
            yield DiscoveryHit(content(title), callback, text=visible(title), help=content(help_text))  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self.commands():
            title = visible(title)
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, highlight(matcher, title), callback, text=title, help=content(help_text))  # type: ignore[arg-type]


def highlight(matcher, title: str) -> Content:
    """The title with the matched letters marked; Textual's Matcher.highlight would read it as markup."""
    text = Content(title)
    _, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        if not title[offset].isspace():
            text = text.stylize(MATCH_STYLE, offset, offset + 1)
    return text
