"""The `ztui` command line.

Exit codes: 0 success (for `run`: the verdict is the expected one, or no
verdict is expected), 1 the verdict is not the expected one, 2 bad input
(a problem in a scenario file or on the command line, or an output that
cannot be written), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
Bad input never gives a traceback.  Textual is imported only by `ztui launch`.

Each command's module is imported only when that command runs (or shows
its own --help): `ztui --help` lists the commands from COMMANDS alone.
"""

from __future__ import annotations

import importlib

import click

from ztui import __version__

# name: (module, attribute, the first sentence of its help, which `ztui --help` shortens as click would).
COMMANDS = {
    "bench": ("ztui.commands.bench", "bench", "Measure simulator throughput (and, with --tui, the TUI's)."),
    "check": ("ztui.commands.check", "check", "Validate scenario files without running them."),
    "explore": (
        "ztui.search_cli", "explore_command",
        "Look for deadlock, livelock and recursion: random schedules, or all of them.",
    ),
    "launch": ("ztui.commands.launch", "launch", "Open a scenario in the TUI and step through it."),
    "list": ("ztui.commands.check", "list_", "List the bundled scenarios, one line each: name and what it shows."),
    "replay": (
        "ztui.search_cli", "replay_command",
        "Re-run a trace and check every decision and every recorded state hash.",
    ),
    "robust": (
        "ztui.robust_cli", "robust_command",
        "Move every size, rate and latency of SCENARIO by ±25 % (one at a time) and report, per parameter,"
        " the range over which the verdict stays the scenario's.",
    ),
    "run": ("ztui.commands.run", "run", "Run a scenario headless until its verdict and report why it ended."),
    "sweep": (
        "ztui.search_cli", "sweep_command",
        "Run a scenario over a grid of parameter values and tabulate the verdicts.",
    ),
    "vmstats": ("ztui.commands.vmstats", "vmstats", "Print the paging thresholds the kernel computes at boot."),
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context | None, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing click would write from the commands themselves, from their first sentences."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, click.Command(name, help=summary).get_short_help_str(limit))
            for name, (_, _, summary) in sorted(COMMANDS.items())
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ztui")
def main() -> None:
    """Step through DragonFly BSD's VM under memory pressure and watch the
    SWAPMETA and MAP ENTRY deadlocks form.

    \b
    Examples:
      ztui launch                      open the default teaching scenario in the TUI
      ztui list                        the bundled scenarios
      ztui run swapmeta-kmalloc-obj-churn --json
      ztui check my-test.toml
      ztui vmstats --physmem 2g
    """
