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


def test_launch_step_fast_forward_and_read_the_verdict(tmp_path):
    tmux = Tmux(f"ztui-test-{os.getpid()}")
    # COLUMNS/LINES, when the test runner's environment has them, would override the pane's real size.
    command = f"env -u COLUMNS -u LINES {shlex.quote(sys.executable)} -m ztui launch"
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "ztui", "-x", "100", "-y", "30", "-c", str(REPO),
         "-e", f"XDG_CONFIG_HOME={tmp_path}", "-e", "TERM=xterm-256color", command)
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
