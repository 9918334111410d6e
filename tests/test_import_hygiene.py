"""What each headless command imports: the core never Textual; no command what its output does not need.

Each command runs in a fresh interpreter (as `ztui ...` does) and reports
the modules it ended with, so that a top-level import added anywhere on
its path shows here.
"""

import subprocess
import sys

import click
import pytest

from ztui.cli import COMMANDS, LazyGroup, main

# The families a command may leave out, by their top-level names.
TEXTUAL = ("textual",)
RICH = ("rich",)
CATTRS = ("cattrs",)
SEARCH = ("ztui.explore", "ztui.robust", "ztui.robust_cli", "ztui.search_cli", "ztui.trace", "ztui.report")
HEAVY = TEXTUAL + RICH + CATTRS + SEARCH

RUN_AND_LIST = (
    "import runpy, sys\n"
    "sys.argv = ['ztui', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('ztui', run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)))\n"
)


def modules_after(*args: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    return set(out.stderr.rpartition("MODULES ")[2].split())


def loaded(modules: set[str], families: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in families))


def test_core_does_not_import_textual():
    code = (
        "import sys\n"
        "import ztui.core.simulator, ztui.scenario.load, ztui.cli\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_simulator_process_imports_no_ui():
    """The TUI's simulator process (ztui.tui.simserver) starts without Textual or Rich: it draws nothing."""
    code = (
        "import sys\n"
        "import ztui.tui.simserver\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize(
    "args, needed",
    [
        (["--help"], ()),
        (["vmstats", "--physmem", "2g"], ()),
        (["vmstats", "--pages", "524288", "--json"], ()),
        (["check", "teach-swapmeta-zalloc"], CATTRS),  # the loader structures the TOML with cattrs
        (["run", "teach-swapmeta-zalloc", "--max-steps", "1000", "--json"], CATTRS),
    ],
)
def test_headless_commands_import_only_what_their_output_needs(args, needed):
    modules = modules_after(*args)
    assert "ztui.cli" in modules  # the command did run
    assert loaded(modules, tuple(f for f in HEAVY if f not in needed)) == []
    assert all(loaded(modules, (family,)) for family in needed)


def test_the_human_report_does_load_rich():
    """The other side of the test above: the family checks do see Rich when a command draws with it."""
    modules = modules_after("run", "teach-swapmeta-zalloc", "--max-steps", "1000", "--quiet")
    assert loaded(modules, RICH) and loaded(modules, ("ztui.report",))


def test_help_lists_each_command_as_click_would_from_the_command_itself():
    commands = {name: main.get_command(None, name) for name in COMMANDS}
    for name, command in commands.items():
        assert command.get_short_help_str(10_000) == COMMANDS[name][2], name

    def listing(group: click.Group) -> str:
        ctx = click.Context(group, info_name="ztui")
        formatter = ctx.make_formatter()
        group.format_commands(ctx, formatter)
        return formatter.getvalue()

    assert listing(main) == listing(click.Group("ztui", commands=commands))
    assert isinstance(main, LazyGroup)
