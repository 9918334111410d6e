"""The controls: one table that gives the key bindings, the help screen and the palette.

Each control's ``id`` is its Binding id, the name a keymap uses to rebind it
(see ztui.tui.keymap).
"""

from __future__ import annotations

import attrs
from textual.binding import Binding


@attrs.frozen
class Control:
    id: str
    key: str  # default key(s), Textual key names, comma-separated
    action: str
    label: str  # short, for the footer (in this order; it scrolls when narrow)
    help: str  # one sentence, for the help screen and the command palette


CONTROLS: tuple[Control, ...] = (
    Control("step", "space", "step", "Step",
            "Run one event; the scheduler picks the thread. Pauses first if running."),
    Control("run", "r", "toggle_run", "Run/Pause",
            "Run at the current speed, or pause."),
    Control("fast_forward", "f", "fast_forward", "Fast-fwd",
            "Run flat out to the verdict, with progress. Press again to stop."),
    Control("back", "b", "step_back", "Back",
            "Step back one event (restores a checkpoint and replays)."),
    Control("explain", "e", "explain", "Explain",
            "Explain the wait-for chain at this step."),
    Control("help", "question_mark", "help", "Help",
            "Show every key."),
    Control("quit", "q", "quit", "Quit",
            "Quit ztui."),
    Control("schedule", "s", "schedule_selected", "Run thread",
            "You are the scheduler: the thread selected in Threads takes the next step."),
    Control("goto", "g", "goto", "Go to",
            "Go to step N, backwards or forwards."),
    Control("faster", "plus,equals_sign", "speed(1)", "Faster",
            "Run faster (steps per second)."),
    Control("slower", "minus", "speed(-1)", "Slower",
            "Run slower (steps per second)."),
    Control("filter", "slash", "filter_events", "Filter",
            "Filter the event log by thread and by subsystem."),
    Control("zoom", "z", "zoom", "Zoom",
            "Show the focused pane on its own; again to go back."),
    Control("open", "o", "pick_scenario", "Open",
            "Pick a scenario: the bundled ones and ./scenarios/*.toml."),
    Control("reload", "ctrl+r", "reload", "Reload",
            "Reload the scenario file from disk and start again."),
    Control("theme", "t", "next_theme", "Theme",
            "Switch to the next ztui theme."),
)


def bindings() -> list[Binding]:
    return [
        Binding(c.key, c.action, c.label, id=c.id, tooltip=c.help)
        for c in CONTROLS
    ]
