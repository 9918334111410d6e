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
    label: str  # short, for the footer (in this order; what does not fit is behind "? more keys")
    help: str  # one sentence, for the help screen and the command palette


CONTROLS: tuple[Control, ...] = (
    Control("step", "space", "step", "Step",
            "Run one kernel step; the scheduler picks the thread. After a livelock, steps on past it."),
    Control("schedule", "s", "schedule_selected", "Run thread",
            "You are the scheduler: the thread selected in Threads takes the next step."),
    Control("run_thread", "S", "run_selected", "Until blocks",
            "Run the selected thread until it blocks or finishes a unit of work (its kernel call returns "
            "or its phase ends)."),
    Control("run", "r", "toggle_run", "Run/Pause",
            "Run at the current speed, or pause; stops at a breakpoint."),
    Control("fast_forward", "f", "fast_forward", "Fast-fwd",
            "Run flat out to the verdict (or a breakpoint), with progress. Press again to stop."),
    Control("back", "b", "step_back", "Back",
            "Step back one kernel step (restores a checkpoint and replays)."),
    Control("goto", "g", "goto", "Go to",
            "Go to step N, backwards or forwards (a click on the chart or the timeline does too)."),
    Control("explain", "e", "explain", "Explain",
            "Explain the wait-for chain at this step."),
    Control("banner", "v", "toggle_banner", "Verdict",
            "Expand or collapse the verdict banner."),
    Control("save", "w", "save_trace", "Save trace",
            "Save the trace so far (replay it with `ztui replay`, open it with `ztui launch --trace`)."),
    Control("breakpoint", "B", "breakpoint", "Breakpoint",
            "Add a breakpoint: free+cache < N, THREAD in FUNCTION, THREAD on WMESG, slab starts."),
    Control("filter", "slash", "filter_events", "Filter",
            "Filter the event log by text, thread and subsystem."),
    Control("x_axis", "x", "toggle_x", "Steps/time",
            "Chart and timeline over steps or over simulated time."),
    Control("y_scale", "y", "toggle_y", "Y scale",
            "Chart: equal room per threshold band, or linear from zero (zoomed to the thresholds)."),
    Control("zoom", "z", "zoom", "Zoom",
            "Show the focused pane on its own; again to go back."),
    Control("open", "o", "pick_scenario", "Open",
            "Pick a scenario: the bundled ones and ./scenarios/*.toml."),
    Control("reload", "ctrl+r", "reload", "Reload",
            "Reload the scenario file from disk and start again."),
    Control("theme", "t", "next_theme", "Theme",
            "Switch to the next ztui theme."),
    Control("faster", "plus,equals_sign", "speed(1)", "Faster",
            "Run faster (steps per second)."),
    Control("slower", "minus", "speed(-1)", "Slower",
            "Run slower (steps per second)."),
    Control("export", "E", "export_explanation", "Export text",
            "Save the explanation at this step as a text file."),
    Control("help", "question_mark", "help", "Help",
            "Show every key."),
    Control("quit", "q", "quit", "Quit",
            "Quit ztui."),
)


def bindings() -> list[Binding]:
    return [
        Binding(c.key, c.action, c.label, id=c.id, tooltip=c.help)
        for c in CONTROLS
    ]
