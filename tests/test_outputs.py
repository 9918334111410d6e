"""Issue 10, class 5: outputs are checked before the run, never clobbered without --force, never outside their folder."""

import errno
import os

import pytest
from hostile import assert_refused, small_scenario, ztui

from ztui.output_files import OutputError, check_output, safe_file_name, write_atomically
from ztui.trace import read_trace


@pytest.fixture
def scenario(tmp_path):
    return small_scenario(tmp_path)


def test_a_trace_over_its_own_scenario_is_refused_even_with_force(tmp_path, scenario):
    before = scenario.read_bytes()
    for extra in ([], ["--force"]):
        assert_refused(ztui("run", scenario, "--trace", scenario, *extra), "an input of this command")
        assert scenario.read_bytes() == before
    link = tmp_path / "alias.trace"
    link.symlink_to(scenario)
    assert_refused(ztui("run", scenario, "--trace", link, "--force"), "an input of this command")
    assert scenario.read_bytes() == before


def test_an_existing_trace_is_replaced_only_with_force(tmp_path, scenario):
    trace = tmp_path / "t.trace"
    trace.write_bytes(b"mine")
    result = ztui("run", scenario, "--trace", trace)
    assert_refused(result, "t.trace: exists; give --force to replace it")
    assert result.stdout == b""  # refused before the run: no report
    assert trace.read_bytes() == b"mine"
    assert ztui("run", scenario, "--trace", trace, "--force", "--quiet").returncode == 0
    assert read_trace(trace).end_step > 0


def test_a_symlink_is_never_written_through(tmp_path, scenario):
    target = tmp_path / "precious"
    target.write_bytes(b"keep")
    link = tmp_path / "link.trace"
    link.symlink_to(target)
    for extra in ([], ["--force"]):
        assert_refused(ztui("run", scenario, "--trace", link, *extra), "symbolic link")
    assert target.read_bytes() == b"keep" and link.is_symlink()


@pytest.mark.parametrize(
    "output, words",
    [
        ("/no/such/dir/t.trace", "/no/such/dir: is not a directory (there is no such directory)"),
        ("/dev/full", "device or special file"),
        (".", "is a directory"),
    ],
)
def test_a_bad_output_path_is_found_before_the_run(tmp_path, scenario, output, words):
    for extra in ([], ["--force"]):
        result = ztui("run", scenario, "--trace", output, *extra, cwd=tmp_path)
        assert_refused(result, words)
        assert result.stdout == b""


def test_an_unwritable_directory_is_refused(tmp_path, monkeypatch):
    # What os.access says of a read-only directory (root may write anywhere, so it is faked here).
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(OutputError, match="cannot write in this directory"):
        check_output(tmp_path / "t.trace")


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/absolute", "..", ".hidden", "a/b\\c:d*e", ""])
def test_trace_names_from_a_scenario_name_stay_inside_the_folder(tmp_path, name):
    work = tmp_path / "work"
    work.mkdir()
    scenario = small_scenario(work, name=name)
    traces = work / "traces"
    before = {p for p in tmp_path.rglob("*")}
    result = ztui("explore", scenario, "--seeds", "6", "--traces", traces, cwd=work)
    if name == "":
        assert result.returncode == 2  # an empty name is refused by the loader
        return
    assert result.returncode in (0, 1), result.stderr.decode()
    made = {p for p in tmp_path.rglob("*")} - before
    assert made and all(p == traces or p.parent == traces for p in made), made
    assert all(not p.name.startswith(".") and p.name.endswith(".trace.gz") for p in traces.iterdir())


def test_explore_refuses_to_overwrite_its_traces_before_the_runs(tmp_path, scenario):
    traces = tmp_path / "traces"
    assert ztui("explore", scenario, "--seeds", "6", "--traces", traces).returncode in (0, 1)
    written = {p.name: p.read_bytes() for p in traces.iterdir()}
    result = ztui("explore", scenario, "--seeds", "6", "--traces", traces)
    assert_refused(result, "exists; give --force to replace it")
    assert result.stdout == b""  # nothing ran
    assert {p.name: p.read_bytes() for p in traces.iterdir()} == written
    other_seeds = ztui("explore", scenario, "--seeds", "3", "--first-seed", "100", "--traces", traces)
    assert other_seeds.returncode in (0, 1)  # other seeds, other names
    assert ztui("explore", scenario, "--seeds", "6", "--traces", traces, "--force").returncode in (0, 1)


def test_explore_exhaustive_checks_its_default_trace_names_first(tmp_path, scenario):
    taken = tmp_path / f"{safe_file_name(scenario.stem)}-livelock.trace.gz"
    taken.write_bytes(b"mine")
    result = ztui("explore", scenario, "--exhaustive", cwd=tmp_path)
    assert_refused(result, "exists; give --force")
    assert taken.read_bytes() == b"mine"


@pytest.mark.parametrize("args", [["run", "{s}"], ["run", "{s}", "--json"], ["check", "{s}"], ["list"]])
def test_stdout_on_a_full_device_is_one_line_and_exit_2(tmp_path, scenario, args):
    with open("/dev/full", "w") as full:
        result = ztui(*(a.format(s=scenario) for a in args), stdout=full)
    assert result.returncode == 2
    assert result.stderr.decode() == "ztui: cannot write to standard output: No space left on device\n"


def test_a_closed_pipe_ends_quietly(tmp_path):
    import subprocess
    import sys

    shell = f"{sys.executable} -m ztui list | head -1"
    out = subprocess.run(shell, shell=True, capture_output=True, text=True, timeout=60)
    assert out.stdout.count("\n") == 1 and "Traceback" not in out.stderr


# --- write_atomically: the old state or nothing --------------------------------------


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "out.trace"
    path.write_bytes(b"old")

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OutputError, match="out.trace: cannot write: No space left on device"):
        write_atomically(path, b"new", force=True)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.trace"]


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "out.trace"
    path.write_bytes(b"old")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, b"new", force=True)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.trace"]


def test_a_file_that_appears_during_the_run_is_not_replaced(tmp_path):
    path = tmp_path / "out.trace"
    check_output(path)
    path.write_bytes(b"theirs")  # made by someone else meanwhile
    with pytest.raises(OutputError, match="appeared during the run"):
        write_atomically(path, b"ours")
    assert path.read_bytes() == b"theirs" and os.listdir(tmp_path) == ["out.trace"]


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    path = tmp_path / "out.trace"
    write_atomically(path, b"x")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("name", ["../../x", "/etc/passwd", "a b", "..", "\x1b[2J", "ü"])
def test_safe_file_name_is_a_plain_name(name):
    safe = safe_file_name(name)
    assert "/" not in safe and not safe.startswith(".") and safe
    assert all(c.isascii() and (c.isalnum() or c in "._+-") for c in safe)
