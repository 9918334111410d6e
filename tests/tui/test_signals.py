"""SIGTERM to `ztui launch` in a real terminal (a pty): it exits 143 and leaves the terminal as it found it."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ALT_SCREEN_ON, ALT_SCREEN_OFF = b"\x1b[?1049h", b"\x1b[?1049l"
MOUSE_ON, MOUSE_OFF = b"\x1b[?1000h", b"\x1b[?1000l"
CURSOR_HIDDEN, CURSOR_SHOWN = b"\x1b[?25l", b"\x1b[?25h"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


def read_until(fd: int, wanted: bytes | None, timeout: float) -> bytes:
    """Bytes from the pty until ``wanted`` appears (or, for None, until the child closes it)."""
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child's side is closed
            return out
        if not chunk:
            return out
        out += chunk
        if wanted is not None and wanted in out:
            return out
    raise AssertionError(f"timed out waiting for {wanted!r}; got {out[-300:]!r}")


def marked(mark: str) -> list[int]:
    """Live (not zombie) processes whose environment holds ``mark``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if mark.encode() in (proc / "environ").read_bytes().split(b"\0") and \
                    (proc / "stat").read_text().rpartition(")")[2].split()[0] != "Z":
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return found


def test_sigterm_restores_the_terminal_and_exits_143(tmp_path):
    mark = f"ZTUI_TEST_MARK={tmp_path}"  # inherited by the simulator's process: how the test finds it
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "TERM": "xterm-256color", "ZTUI_TEST_MARK": str(tmp_path)}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: ztui in the pty
        os.chdir(REPO)
        os.execvpe(sys.executable, [sys.executable, "-m", "ztui", "launch"], env)
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        started = read_until(fd, b"pagedaemon", timeout=60)
        assert ALT_SCREEN_ON in started and MOUSE_ON in started and CURSOR_HIDDEN in started
        assert marked(mark), "the simulator's process is not running"
        os.kill(pid, signal.SIGTERM)
        tail = read_until(fd, None, timeout=30)
        _, status = os.waitpid(pid, 0)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 143
    assert not marked(mark), "the simulator's process outlived the app"
    assert MOUSE_OFF in tail and ALT_SCREEN_OFF in tail and CURSOR_SHOWN in tail
    assert tail.rfind(CURSOR_SHOWN) > tail.rfind(CURSOR_HIDDEN)
