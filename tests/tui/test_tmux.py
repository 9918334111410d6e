"""`ztui launch` in a real terminal: tmux runs it, we type, and read the screen a user would see."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tui_support import DEFAULT

from ztui.scenario.load import load_scenario

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed; this test needs a real terminal")


class Tmux:
    """A private tmux server (its own socket), so a user's tmux and its environment stay out of it."""

    def __init__(self, name: str) -> None:
        self.base = ["tmux", "-L", name]

    def __call__(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], check=True, capture_output=True, text=True).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "ztui")

    def session_ends(self, timeout: float = 10.0) -> bool:
        """True once the session is gone (the app exited, and with it the pane)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if subprocess.run([*self.base, "has-session", "-t", "ztui"], capture_output=True).returncode:
                return True
            time.sleep(0.2)
        return False

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen()}")


def start(tmux: Tmux, tmp_path, columns: int, rows: int) -> None:
    # COLUMNS/LINES, when the test runner's environment has them, would override the pane's real size.
    command = f"env -u COLUMNS -u LINES {shlex.quote(sys.executable)} -m ztui launch"
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "ztui", "-x", str(columns), "-y", str(rows), "-c", str(REPO),
         "-e", f"XDG_CONFIG_HOME={tmp_path}", "-e", "TERM=xterm-256color", command)


def banner_lines(screen: str) -> list[str]:
    """The verdict banner's lines: under the status line, down to the first pane's title line."""
    lines = screen.splitlines()[1:]
    end = next(i for i, line in enumerate(lines) if "Page queues" in line)
    return lines[:end]


def test_launch_step_fast_forward_and_read_the_verdict(tmp_path):
    tmux = Tmux(f"ztui-test-{os.getpid()}")
    start(tmux, tmp_path, 100, 30)
    try:
        screen = tmux.wait_for("pagedaemon")
        assert "step 0 " in screen
        assert max(len(line) for line in screen.splitlines()) == 100, "the app did not get the whole terminal"
        for _ in range(3):
            tmux("send-keys", "-t", "ztui", "Space")
        tmux.wait_for("step 3 ")
        tmux("send-keys", "-t", "ztui", "f")
        verdict = load_scenario(DEFAULT).expect.verdict.value.upper()
        tmux.wait_for(verdict)
        screen = tmux.wait_for("kmem_slab_alloc")  # the pagedaemon's wait (the frame may arrive in parts)
        assert verdict in screen and "explains" in screen  # the banner says which key explains it
        tmux("send-keys", "-t", "ztui", "q")
        assert tmux.session_ends(), "q did not quit"
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True)


@pytest.mark.parametrize("columns, rows", [(120, 40), (80, 24)])
def test_the_verdict_banner_is_not_cut(tmp_path, columns, rows):
    """At 120 columns every banner line ends in full (it wraps); at 80x24 it is one line that says v expands it."""
    tmux = Tmux(f"ztui-test-{os.getpid()}-{columns}")
    start(tmux, tmp_path, columns, rows)
    try:
        tmux.wait_for("pagedaemon")
        tmux("send-keys", "-t", "ztui", "f")
        tmux.wait_for("LIVELOCK")
        screen = tmux.wait_for("v more" if rows < 30 else "hold-and-wait")
        banner = banner_lines(screen)
        assert banner and "LIVELOCK" in banner[0]
        assert not [line for line in banner if line.rstrip().endswith("…")], "\n".join(banner)
        if rows < 30:
            assert len(banner) == 1 and banner[0].rstrip().endswith("v more")
            tmux("send-keys", "-t", "ztui", "v")
            assert len(banner_lines(tmux.wait_for("made no progress"))) > 1
        else:
            assert len(banner) > 3 and any("hold-and-wait" in line for line in banner)
        tmux("send-keys", "-t", "ztui", "q")
        assert tmux.session_ends(), "q did not quit"
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True)
