"""Shared by the hostile-input tests: running `ztui` as a user would, and what a clean refusal looks like."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

# Strings a hostile file puts in a name: Rich markup, OSC 8 hyperlink, OSC 0 title, screen clear, C1, bidi.
MARKUP = ["[/]", "[/bold]", "[bold red]x[/]", "[link=file:///etc/passwd]x"]
CONTROLS = ["\x1b]8;;file:///etc/passwd\x1b\\x\x1b]8;;\x1b\\", "\x1b]0;pwned\x07", "\x1b[2J", "\x9b2J", "\u202eevil"]
RAW_ESCAPES = ["\x1b]", "\x1b[2J", "\x9b", "\x07", "\u202e"]  # none may reach a terminal or a pipe

# The search tests' small machine: round-robin survives, running the process until it blocks livelocks.
SMALL = Path(__file__).parent / "data" / "search-kmalloc-obj.toml"


def toml_string(text: str) -> str:
    """A TOML basic string holding ``text`` exactly (controls as \\uXXXX escapes)."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif not char.isprintable():
            out.append(f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def small_scenario(tmp_path: Path, process: str = "hog", name: str | None = None, file: str = "s.toml") -> Path:
    """SMALL with its process called ``process`` and the scenario ``name`` (None: the file's name)."""
    text = SMALL.read_text().replace('name = "hog"', f"name = {toml_string(process)}")
    text = text.replace('name = "search-kmalloc-obj"\n', "" if name is None else f"name = {toml_string(name)}\n")
    path = tmp_path / file
    path.write_text(text)
    return path


def ztui(*args, cwd: Path | None = None, timeout: float = 120, **streams) -> subprocess.CompletedProcess:
    """`ztui ARGS` in a fresh process; stdout and stderr are pipes (bytes) unless ``streams`` says otherwise."""
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **streams}
    return subprocess.run([sys.executable, "-m", "ztui", *map(str, args)], cwd=cwd, timeout=timeout, **streams)


def ztui_on_a_terminal(*args, cwd: Path | None = None, timeout: float = 120) -> tuple[int, bytes]:
    """`ztui ARGS` with stdout and stderr on a pseudo-terminal: (exit code, everything it wrote)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "ztui", *map(str, args)], cwd=cwd, stdout=follower, stderr=follower, stdin=follower
    )
    os.close(follower)
    output = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], timeout)
        if not ready:
            process.kill()
            raise TimeoutError(f"ztui {args} wrote nothing for {timeout} s")
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    return process.wait(timeout=timeout), bytes(output)


def assert_refused(result: subprocess.CompletedProcess, *words: str, code: int = 2) -> str:
    """Exit ``code``, one line on stderr holding ``words``, no traceback; returns the line."""
    err = result.stderr.decode()
    assert result.returncode == code, (result.returncode, err, result.stdout[-500:])
    assert "Traceback" not in err and "Traceback" not in result.stdout.decode()
    assert err.count("\n") == 1, err
    for word in words:
        assert word in err, (word, err)
    return err


def assert_no_raw_escapes(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    for raw in RAW_ESCAPES:
        assert raw not in text, (raw, text[:2000])


def session_processes(session: int) -> list[int]:
    """Live processes of a session (by /proc): a command's workers share its session."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == session:
            pids.append(int(entry))
    return pids
