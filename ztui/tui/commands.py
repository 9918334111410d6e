"""The command palette: every control, plus scenarios, themes, event filters and threads to run."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Callable, Iterator

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ztui.tui.controls import CONTROLS

if TYPE_CHECKING:
    from ztui.tui.app import ZtuiApp


class ZtuiCommands(Provider):
    @property
    def ztui(self) -> ZtuiApp:
        return self.app  # type: ignore[return-value]

    async def startup(self) -> None:
        # Listing scenarios reads every file: once per opening of the palette, not per key typed.
        self.scenarios = self.ztui.scenario_entries()

    def commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        """(title, callback, help) for everything the palette offers right now."""
        app = self.ztui
        for control in CONTROLS:
            yield control.label, partial(app.run_action, control.action), control.help
        for entry in self.scenarios:
            yield f"Open scenario: {entry.name}", partial(app.open_scenario, entry.path), \
                entry.description or str(entry.path)
        for name in app.ztui_theme_names:
            yield f"Theme: {name}", partial(setattr, app, "theme", name), "Switch to this theme."
        snapshot = app.snapshot
        if snapshot is not None:
            for thread in snapshot.threads:
                yield f"Filter events: thread {thread.name}", partial(app.filter_events, thread=thread.name), \
                    "Show only this thread's events."
                if thread.runnable:
                    yield f"Schedule: run {thread.name}", partial(app.schedule, thread.tid), \
                        "You are the scheduler: this thread takes the next step."
            for subsystem in sorted({e.subsystem for e in snapshot.events}):
                yield f"Filter events: subsystem {subsystem}", partial(app.filter_events, subsystem=subsystem), \
                    "Show only this subsystem's events."
            yield "Filter events: clear", app.filter_events, "Show every event."

    async def discover(self) -> Hits:
        for title, callback, help_text in self.commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self.commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
