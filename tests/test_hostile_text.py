"""Issue 10, class 1 and 8: text from a file is shown as text, its control characters escaped; problems are capped."""

import json

import pytest
from hostile import (
    CONTROLS,
    MARKUP,
    assert_no_raw_escapes,
    small_scenario,
    toml_string,
    ztui,
    ztui_on_a_terminal,
)

from ztui.input_files import PROBLEMS_SHOWN
from ztui.scenario.load import check_scenario
from ztui.textsafe import visible


@pytest.mark.parametrize("name", MARKUP)
def test_markup_in_names_is_shown_literally_by_run(tmp_path, name):
    path = small_scenario(tmp_path, process=name, name=name)
    for args in (["run", path], ["run", path, "--quiet"]):
        result = ztui(*args)
        assert result.returncode == 0, result.stderr.decode()
        assert b"Traceback" not in result.stderr
    report = ztui("run", path).stdout.decode()
    assert name in report  # the process's name, in the threads table and the chain, exactly as written


def test_markup_names_on_a_terminal_with_the_progress_bar(tmp_path):
    path = small_scenario(tmp_path, process="[/]", name="[/bold]")
    code, output = ztui_on_a_terminal("run", path)
    assert code == 0 and b"Traceback" not in output
    assert b"[/]" in output and b"[/bold]" in output


@pytest.mark.parametrize("name", MARKUP)
def test_markup_in_names_is_shown_literally_by_explore(tmp_path, name):
    path = small_scenario(tmp_path, process=name, name=name)
    seeds = ztui("explore", path, "--seeds", "4", "--traces", tmp_path / "traces")
    assert seeds.returncode in (0, 1) and b"Traceback" not in seeds.stderr, seeds.stderr.decode()
    assert name.encode() in seeds.stdout  # the table's title
    exhaustive = ztui("explore", path, "--exhaustive", "--max-depth", "5000", cwd=tmp_path)
    assert exhaustive.returncode in (0, 1) and b"Traceback" not in exhaustive.stderr, exhaustive.stderr.decode()
    assert f"thread {name}".encode() in exhaustive.stdout


@pytest.mark.parametrize("payload", CONTROLS)
def test_control_characters_in_names_are_shown_escaped_on_a_pipe_and_a_terminal(tmp_path, payload):
    path = small_scenario(tmp_path, process=payload, name=payload)
    shown = visible(payload).encode()
    for args in (["run", path], ["run", path, "--quiet"], ["check", path]):
        result = ztui(*args)
        out = result.stdout + result.stderr
        assert result.returncode == 0 and b"Traceback" not in out, out[-2000:]
        assert_no_raw_escapes(out)
    assert shown in ztui("run", path).stdout  # the thread's name, escaped
    code, output = ztui_on_a_terminal("run", path)
    assert code == 0 and shown in output
    assert_no_raw_escapes(output)
    exhaustive = ztui("explore", path, "--exhaustive", cwd=tmp_path)
    assert exhaustive.returncode == 1 and shown in exhaustive.stdout
    assert_no_raw_escapes(exhaustive.stdout + exhaustive.stderr)


@pytest.mark.parametrize("payload", CONTROLS)
def test_control_characters_in_keys_and_file_names_never_reach_the_terminal(tmp_path, payload):
    path = tmp_path / f"x{payload.replace('/', '_')}.toml"
    path.write_text(f"{toml_string(payload)} = 1\n" + small_scenario(tmp_path).read_text())
    result = ztui("check", path)
    assert result.returncode == 2
    assert b"unknown key" in result.stdout
    assert_no_raw_escapes(result.stdout + result.stderr)
    code, output = ztui_on_a_terminal("check", path)
    assert code == 2 and b"unknown key" in output
    assert_no_raw_escapes(output)


def test_a_trace_with_hostile_names_replays_without_escapes(tmp_path):
    # A trace passes the loader's rules, so only markup can be in its names; a divergence names threads.
    path = small_scenario(tmp_path, process="[/]\\")
    trace = tmp_path / "t.trace"
    assert ztui("run", path, "--trace", trace, "--quiet").returncode == 0
    doc = json.loads(trace.read_text())
    clock = next(i for i, (decision, _) in enumerate(doc["schedule"]) if decision == -1)
    doc["schedule"][clock][0] = 3  # the process runs where the clock had to advance
    trace.write_text(json.dumps(doc))
    result = ztui("replay", trace)
    assert result.returncode == 1 and result.stdout.startswith(b"DIVERGED: ")
    assert b"the trace runs thread 3 ([/]\\)" in result.stdout


def test_check_caps_its_problem_list_per_file(tmp_path):
    path = tmp_path / "many.toml"
    path.write_text("".join(f"bogus{i} = 1\n" for i in range(1000)) + small_scenario(tmp_path).read_text())
    assert len(check_scenario(path)) == 1000  # the loader keeps them all; the command shows a few
    result = ztui("check", path)
    lines = result.stdout.decode().splitlines()
    assert result.returncode == 2 and len(lines) == PROBLEMS_SHOWN + 1
    assert lines[-1] == f"... and {1000 - PROBLEMS_SHOWN} more"
    run = ztui("run", path)
    assert run.returncode == 2 and run.stderr.decode().count("\n") == PROBLEMS_SHOWN + 1


def test_a_theme_s_problems_are_capped_in_its_one_line(tmp_path):
    # (A keymap's are capped where the TUI shows them: tests/tui/test_hostile.py.)
    from ztui.tui.themes import PROBLEMS_SHOWN as THEME_PROBLEMS
    from ztui.tui.themes import ThemeFileError, load_theme

    theme = tmp_path / "theme.toml"
    theme.write_text('name = "t"\n[colors]\nprimary = "#123456"\n' + "".join(f"c{i} = 1\n" for i in range(500)))
    with pytest.raises(ThemeFileError) as error:
        load_theme(theme)
    message = str(error.value)
    assert message.count(";") == THEME_PROBLEMS and message.endswith(f"... and {1000 - THEME_PROBLEMS} more")  # two per key
