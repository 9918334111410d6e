"""What every `ztui` command shares: exit codes, loading a scenario argument, safe output, signals.

GuardedCommand is the class of every command but `launch` (the TUI
handles its own terminal and signals):

* Ctrl-C (SIGINT) and SIGTERM stop the command at once: SIGTERM is raised
  as Terminated, a KeyboardInterrupt, so that every ``with`` block and
  ``finally`` on the way out runs (a progress bar gives the cursor back, a
  pool of workers is terminated, a temporary file is removed); then the
  cursor is shown (in case the signal came while a bar was starting), one
  line, and exit 130 (SIGINT) or 143 (SIGTERM).
* When standard output cannot be written (``> /dev/full``), one line on
  stderr and exit 2, not a traceback; a closed pipe (``| head``) exits
  quietly, as click does.

Text from files reaches the terminal only through echo_lines() or a
Console from console(): escaped (ztui.textsafe), never read as markup.

Rich and the scenario loader (cattrs) are imported only when a command
uses them, so that `ztui --help` and `ztui vmstats` start fast.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ztui.scenario.errors import InvalidValue
from ztui.scenario.units import parse_size
from ztui.textsafe import as_text, visible

if TYPE_CHECKING:
    from rich.console import Console

    from ztui.scenario.model import Scenario

EXIT_OK, EXIT_UNEXPECTED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_SIGINT, EXIT_SIGTERM = 128 + signal.SIGINT, 128 + signal.SIGTERM
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


class SizeParam(click.ParamType):
    name = "SIZE"

    def convert(self, value, param, ctx):
        try:
            return parse_size(value)
        except InvalidValue as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread as Ctrl-C raises KeyboardInterrupt."""


class GuardedCommand(click.Command):
    """A command that stops cleanly on SIGINT and SIGTERM and on an unwritable stdout (see above)."""

    def invoke(self, ctx: click.Context):
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
        try:
            try:
                return super().invoke(ctx)
            finally:
                sys.stdout.flush()  # a full disk shows here, not in the interpreter's exit
        except KeyboardInterrupt as exc:
            _quiet_signals()
            _show_cursor()
            terminated = isinstance(exc, Terminated)
            click.echo(f"ztui: {'terminated' if terminated else 'interrupted'}", err=True)
            sys.exit(EXIT_SIGTERM if terminated else EXIT_SIGINT)
        except OSError as exc:
            # Files ztui reads and writes report their own errors (InputError, OutputError), so a
            # full disk or an I/O error that gets here is the terminal's, or stdout's redirection.
            if exc.errno == errno.EPIPE or (exc.errno not in _OUTPUT_ERRNOS and not _stdout_broken()):
                raise  # click ends a closed pipe quietly; anything else is a bug to see
            _discard_stdout()
            click.echo(f"ztui: cannot write to standard output: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        finally:
            signal.signal(signal.SIGTERM, previous)


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def _quiet_signals() -> None:
    """While exiting, a second signal ends the process at once (with the same meaning) instead of raising."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _show_cursor() -> None:
    """A progress bar hides the cursor; a signal in the middle of starting one can skip its cleanup."""
    for stderr in (True, False):
        if _may_be_terminal(sys.stderr if stderr else sys.stdout):
            terminal = console(stderr=stderr)
            if terminal.is_terminal:
                terminal.show_cursor(True)


def _stdout_broken() -> bool:
    try:
        sys.stdout.flush()
    except OSError:
        return True
    return False


def _discard_stdout() -> None:
    """Point stdout at /dev/null so that what is still buffered cannot fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test's capture)
        pass


def console(stderr: bool = False) -> Console:
    """A Rich Console that never reads a str as markup or emoji codes (pass file text as Text anyway)."""
    from rich.console import Console

    return Console(stderr=stderr, markup=False, emoji=False, highlight=False)


def stderr_is_terminal() -> bool:
    """Whether a progress bar would draw on stderr, as Rich decides; Rich is loaded only if it might."""
    return _may_be_terminal(sys.stderr) and console(stderr=True).is_terminal


def _may_be_terminal(stream) -> bool:
    """False only when Rich would surely say the stream is no terminal: not a tty, and no variable forcing one."""
    if os.environ.get("TTY_COMPATIBLE") == "1" or os.environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


@contextmanager
def progress_bar(description: str, total: int, counts: bool = False) -> Iterator:
    """A Rich progress bar on stderr when it is a terminal; yields ``advance(done, counts=None)``."""
    if not stderr_is_terminal():
        yield lambda done, verdicts=None: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    if counts:
        columns.append(TextColumn("{task.fields[verdicts]}", markup=False))
    with Progress(*columns, console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total, verdicts="")

        def advance(done: int, verdicts: Mapping[str, int] | None = None) -> None:
            text = "  ".join(f"{v} {n}" for v, n in sorted(verdicts.items())) if verdicts else ""
            bar.update(task, completed=done, verdicts=text)

        yield advance


def print_titled(out: Console, title: str, table) -> None:
    """A table under its title: a title with file text in it is a line of its own, never wrapped inside the table."""
    out.print(as_text(title, "italic"), soft_wrap=True)
    out.print(table)


def echo_lines(lines: Iterable[str], err: bool = False) -> None:
    """Each line, with every control character escaped (ztui.textsafe.visible)."""
    for line in lines:
        click.echo(visible(line), err=err)


def load_or_exit(arg: str) -> tuple[Path, Scenario]:
    """The scenario a path or bundled name refers to; on a problem, say so and exit 2."""
    from ztui.input_files import capped_problems
    from ztui.scenario.bundled import resolve_scenario
    from ztui.scenario.errors import ScenarioError
    from ztui.scenario.load import load_scenario

    try:
        path = resolve_scenario(arg)
        return path, load_scenario(path)
    except ScenarioError as exc:
        echo_lines(capped_problems(exc.problems), err=True)
        sys.exit(EXIT_BAD_INPUT)
